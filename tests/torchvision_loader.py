"""Import torchvision's model builders beside the CPU build of PyTorch.

The torchvision 0.28 wheel on the package index is built against a CUDA
PyTorch; beside the CPU build its import fails on two operators its C++
extension would have defined (``torchvision::nms``, ``torchvision::qnms``).
Their schemas are enough for ``torchvision.models``, which is pure Python; they
are defined only when the plain import fails.
"""

from __future__ import annotations

import sys
from types import ModuleType

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = []  # the Library object must outlive the import, or its definitions are dropped


def load_torchvision() -> ModuleType | None:
    """``torchvision``, or None where it (or PyTorch) is not installed."""
    try:
        import torch
    except ImportError:
        return None
    try:
        import torchvision
    except ImportError:
        return None
    except RuntimeError as error:
        if "torchvision::nms" not in str(error) and "torchvision::qnms" not in str(error):
            raise
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            library.define(schema)
        _library.append(library)
        import torchvision
    return torchvision
