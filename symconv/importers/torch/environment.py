"""PyTorch is an optional extra: imported when an importer or builder is first used, never at import time."""

from __future__ import annotations

from typing import Any

from symconv.errors import SpecError

INSTALL_HINT = "PyTorch is not installed: from the symconv checkout, pip install torch==2.13.0 && pip install -e '.[torch]'"


def torch_module() -> Any:
    """The ``torch`` module, or a clear error naming how to install it."""
    try:
        import torch
    except ImportError:
        raise SpecError(INSTALL_HINT) from None
    return torch
