"""Nodes with several inputs: residual addition and channel concatenation.

Sources: He et al. 2015, "Deep Residual Learning", eq. (1) (``y = F(x) + x``,
the dimensions of ``x`` and ``F`` must be equal); Szegedy et al. 2014,
"Going Deeper with Convolutions", section 5 (filter concatenation of the
Inception branches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from symconv.errors import ShapeError
from symconv.layers.base import Layer, Receptive, Requirement, Shape


def merge_receptive(fields: tuple[Receptive | None, ...]) -> Receptive | None:
    """The largest receptive field among the inputs, when all inputs move with the same jump."""
    if any(f is None for f in fields):
        return None
    jumps = fields[0].jump
    for other in fields[1:]:
        if any(sp.expand(a - b) != 0 for a, b in zip(jumps, other.jump, strict=True)):
            return None
    sizes = tuple(sp.Max(*column) for column in zip(*(f.size for f in fields), strict=True))
    return Receptive(sizes, jumps)


def _same_rank(layer: Layer, inputs: tuple[Shape, ...]) -> None:
    ranks = {len(x) for x in inputs}
    if len(ranks) != 1:
        shapes = "; ".join("(" + ", ".join(map(str, x)) + ")" for x in inputs)
        raise ShapeError(f"{layer.kind}: inputs of different ranks: {shapes}", layer.where)


@dataclass(frozen=True)
class Add(Layer):
    """Elementwise sum of two or more tensors of equal shape."""

    kind: ClassVar[str] = "add"
    arity: ClassVar[int] = -1

    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        _same_rank(self, inputs)
        first = inputs[0]
        return tuple(
            Requirement(
                sp.Eq(a, b),
                f"the sides of the addition differ on axis {axis}: {a} versus {b}",
                "shortcut",
            )
            for other in inputs[1:]
            for axis, (a, b) in enumerate(zip(first, other, strict=True))
        )

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return merge_receptive(fields)


@dataclass(frozen=True)
class ChannelConcat(Layer):
    """Concatenation along the channel axis (PyTorch ``torch.cat(dim=1)``)."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[int] = -1

    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        _same_rank(self, inputs)
        first = inputs[0]
        return tuple(
            Requirement(
                sp.Eq(a, b),
                f"branch {index} differs from branch 0 on spatial axis {axis}: {b} versus {a}",
                "branches",
            )
            for index, other in enumerate(inputs[1:], start=1)
            for axis, (a, b) in enumerate(zip(first[1:], other[1:], strict=True))
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        return (sp.Add(*(x[0] for x in inputs)), *inputs[0][1:])

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return merge_receptive(fields)
