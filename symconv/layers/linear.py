"""Fully connected layers and flattening.

Sources cited by the rules: PyTorch, ``torch.nn.Linear`` documentation
(``y = x W^T + b`` on the last axis, ``W`` of shape ``(out, in)``) and
``torch.nn.Flatten`` (``start_dim=1`` counts the batch axis as 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from symconv.errors import ShapeError, SpecError
from symconv.layers.base import (
    ZERO,
    Layer,
    Receptive,
    Requirement,
    Shape,
    flag_arg,
    int_arg,
    product,
    size_arg,
)
from symconv.sizes import relation


@dataclass(frozen=True)
class Linear(Layer):
    """``torch.nn.Linear``: applied to the last axis of its input."""

    kind: ClassVar[str] = "linear"
    aliases: ClassVar[dict[str, str]] = {"units": "out_features", "use_bias": "bias"}
    out_features: sp.Expr = size_arg()
    bias: bool = flag_arg(True)
    in_features: sp.Expr | None = size_arg(None)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        if self.in_features is None:
            return ()
        return (
            Requirement(
                relation(sp.Eq, self.in_features, x[-1]),
                lambda: f"in_features is {self.in_features} but the input has {x[-1]} features",
                "in_features",
            ),
        )

    def output_shape(self, x: Shape) -> Shape:
        return (*x[:-1], self.out_features)

    def params(self, x: Shape) -> sp.Expr:
        return x[-1] * self.out_features + (self.out_features if self.bias else ZERO)

    def macs(self, x: Shape) -> sp.Expr:
        return product(x[:-1]) * x[-1] * self.out_features

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        shapes = {"weight": (self.out_features, x[-1])}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes


@dataclass(frozen=True)
class Flatten(Layer):
    """``torch.nn.Flatten``: axes ``start_dim..end_dim`` (batch axis = 0) become one."""

    kind: ClassVar[str] = "flatten"
    start_dim: int = int_arg(1)
    end_dim: int = int_arg(-1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if type(self.start_dim) is not int or self.start_dim < 1:
            raise SpecError(
                f"start_dim: expected an integer >= 1 (0 is the batch axis), got {self.start_dim!r}",
                self.where,
            )
        if type(self.end_dim) is not int or (self.end_dim != -1 and self.end_dim < self.start_dim):
            raise SpecError(
                f"end_dim: expected -1 or an integer >= start_dim, got {self.end_dim!r}", self.where
            )

    def axes(self, x: Shape) -> tuple[int, int]:
        """The batchless axes ``[first, last)`` that are merged."""
        first = self.start_dim - 1
        last = len(x) if self.end_dim == -1 else self.end_dim
        return first, last

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        first, last = self.axes(x)
        if last > len(x) or first >= len(x):
            raise ShapeError(
                f"flatten of axes {self.start_dim}..{self.end_dim} does not fit an input of rank {len(x)}",
                self.where,
            )
        return ()

    def output_shape(self, x: Shape) -> Shape:
        first, last = self.axes(x)
        return (*x[:first], product(x[first:last]), *x[last:])

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None
