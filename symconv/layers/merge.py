"""Nodes with several inputs: elementwise arithmetic (residual addition, gating) and concatenation.

Sources: He et al. 2015, "Deep Residual Learning", eq. (1) (``y = F(x) + x``,
the dimensions of ``x`` and ``F`` must be equal); Szegedy et al. 2014,
"Going Deeper with Convolutions", section 5 (filter concatenation of the
Inception branches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import ShapeError
from symconv.layers.base import Layer, Receptive, Requirement, Shape, batchless_axis, int_arg, number_arg
from symconv.sizes import relation


def merge_receptive(fields: tuple[Receptive | None, ...]) -> Receptive | None:
    """The largest receptive field among the inputs, when all inputs move with the same jump."""
    if any(f is None for f in fields):
        return None
    jumps = fields[0].jump
    for other in fields[1:]:
        if any(a != b and sp.expand(a - b) != 0 for a, b in zip(jumps, other.jump, strict=True)):
            return None
    sizes = tuple(_largest(column) for column in zip(*(f.size for f in fields), strict=True))
    return Receptive(sizes, jumps)


def _largest(values: tuple[sp.Expr, ...]) -> sp.Expr:
    """``Max`` of the values; numbers compared directly (a dense block concatenates dozens of them)."""
    values = tuple(dict.fromkeys(sp.sympify(v) for v in values))
    if all(v.is_Integer for v in values):
        return max(values)
    return sp.Max(*values)


def _same_rank(layer: Layer, inputs: tuple[Shape, ...]) -> None:
    ranks = {len(x) for x in inputs}
    if len(ranks) != 1:
        shapes = "; ".join("(" + ", ".join(map(str, x)) + ")" for x in inputs)
        raise ShapeError(f"{layer.kind}: inputs of different ranks: {shapes}", layer.where)


def broadcast(
    layer: ElementwiseArithmetic, inputs: tuple[Shape, ...]
) -> tuple[Shape, tuple[Requirement, ...]]:
    """PyTorch's broadcasting of batched tensors of equal rank: per axis equal sizes, or one side 1."""
    _same_rank(layer, inputs)
    shape = list(inputs[0])
    requirements = []
    for other in inputs[1:]:
        for axis, (a, b) in enumerate(zip(shape, other, strict=True)):
            if a == b or b == 1:
                continue
            if a == 1:
                shape[axis] = b
                continue
            if sp.expand(a - b) == 0:
                continue
            requirements.append(
                Requirement(
                    relation(sp.Eq, a, b),
                    lambda axis=axis, a=a, b=b: f"{layer.mismatch} on axis {axis}: {a} versus {b}",
                    layer.mismatch_field,
                )
            )
    return tuple(shape), tuple(requirements)


@dataclass(frozen=True)
class ElementwiseArithmetic(Layer):
    """Elementwise arithmetic of tensors that broadcast (PyTorch's rules), or of one tensor and ``scalar``.

    No parameters and no multiply-accumulates: symconv's convention counts only the
    products of convolution, linear and attention weights as MACs.
    """

    arity: ClassVar[int] = -1
    mismatch: ClassVar[str] = "the inputs do not broadcast"
    mismatch_field: ClassVar[str] = "inputs"
    scalar: Any = number_arg(None)

    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        if len(inputs) < 2 and self.scalar is None:
            raise ShapeError(f"{self.kind} needs two inputs, or one input and a scalar", self.where)
        if len(inputs) > 1 and self.scalar is not None:
            raise ShapeError(f"{self.kind} takes a scalar only with a single input", self.where)
        return broadcast(self, inputs)[1]

    def output_shape(self, *inputs: Shape) -> Shape:
        return broadcast(self, inputs)[0]

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return merge_receptive(fields)


@dataclass(frozen=True)
class Add(ElementwiseArithmetic):
    """Elementwise sum (a residual connection when the shapes are equal)."""

    kind: ClassVar[str] = "add"
    mismatch: ClassVar[str] = "the sides of the addition differ"
    mismatch_field: ClassVar[str] = "shortcut"


@dataclass(frozen=True)
class Sub(ElementwiseArithmetic):
    """Elementwise difference, the first input minus the others (or minus ``scalar``)."""

    kind: ClassVar[str] = "sub"


@dataclass(frozen=True)
class Mul(ElementwiseArithmetic):
    """Elementwise product (squeeze-and-excitation's channel gates, layer scale, gating)."""

    kind: ClassVar[str] = "mul"


@dataclass(frozen=True)
class Div(ElementwiseArithmetic):
    """Elementwise quotient, the first input divided by the others (or by ``scalar``)."""

    kind: ClassVar[str] = "div"


@dataclass(frozen=True)
class ChannelConcat(Layer):
    """Concatenation along ``dim`` (PyTorch ``torch.cat``; ``dim=1``, the channels, by default)."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[int] = -1
    dim: int = int_arg(1)

    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        _same_rank(self, inputs)
        first = inputs[0]
        axis = batchless_axis(self, self.dim, len(first))
        return tuple(
            Requirement(
                relation(sp.Eq, a, b),
                lambda index=index, position=position, a=a, b=b: (
                    f"branch {index} differs from branch 0 on axis {position}: {b} versus {a}"
                ),
                "branches",
            )
            for index, other in enumerate(inputs[1:], start=1)
            for position, (a, b) in enumerate(zip(first, other, strict=True))
            if position != axis and a != b  # equal expressions need no condition (and no message)
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        axis = batchless_axis(self, self.dim, len(inputs[0]))
        first = inputs[0]
        return (*first[:axis], sp.Add(*(x[axis] for x in inputs)), *first[axis + 1 :])

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return merge_receptive(fields)
