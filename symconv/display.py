"""What the core offers its users and the layers above it provide.

A report, a derivation, a proof and a scaling table show themselves in a
notebook (``_repr_latex_``, ``_repr_markdown_``) and a network checks itself
(``net.check()``), but the code that renders and checks sits above the core
and the core never imports it. Each provider registers under a name when its
module is imported; ``import symconv`` imports them all.

>>> @provides("demo")
... def shout(text):
...     return text.upper()
>>> provided("demo")("quiet")
'QUIET'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_PROVIDERS: dict[str, Callable[..., Any]] = {}


def provides(name: str) -> Callable[[F], F]:
    """Register the decorated function as the provider of ``name``."""

    def register(function: F) -> F:
        _PROVIDERS[name] = function
        return function

    return register


def provided(name: str) -> Callable[..., Any]:
    """The function registered as ``name``."""
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise LookupError(
            f"nothing provides {name!r}: import symconv, which registers every provider"
        ) from None
