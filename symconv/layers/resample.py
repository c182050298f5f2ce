"""Changing the resolution without weights: interpolation (``Upsample``) and ``PixelShuffle``.

Sources: PyTorch, ``torch.nn.Upsample`` / ``torch.nn.functional.interpolate``
(the output is ``size``, or ``floor(n · scale_factor)`` per spatial axis;
modes ``nearest`` and ``bilinear``); ``torch.nn.PixelShuffle`` (Shi et al.
2016, "Real-Time Single Image and Video Super-Resolution", eq. (4): ``(C·r², H,
W) → (C, H·r, W·r)``). Interpolation multiplies no weights: no MACs, as
``FlopCounterMode`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import ShapeError
from symconv.layers.base import (
    Layer,
    Receptive,
    Requirement,
    Shape,
    choice_arg,
    flag_arg,
    number_arg,
    shape_arg,
    size_arg,
)
from symconv.sizes import relation


@dataclass(frozen=True)
class Upsample(Layer):
    """Interpolation to ``size`` or by ``scale_factor`` over the spatial axes (channels first)."""

    kind: ClassVar[str] = "upsample"
    size: tuple[sp.Expr, ...] | None = shape_arg(None)
    scale_factor: Any = number_arg(None)
    mode: str = choice_arg("nearest", "nearest", "bilinear")
    align_corners: bool = flag_arg(False)

    def factors(self, spatial: int) -> tuple[sp.Rational, ...]:
        factor = self.scale_factor
        values = factor if isinstance(factor, (list, tuple)) else [factor] * spatial
        if len(values) != spatial:
            raise ShapeError(f"scale_factor has {len(values)} values for {spatial} spatial axes", self.where)
        return tuple(sp.Rational(Fraction(str(v))) for v in values)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        if (self.size is None) == (self.scale_factor is None):
            raise ShapeError("upsample needs exactly one of size and scale_factor", self.where)
        if self.size is not None and len(self.size) != len(x) - 1:
            raise ShapeError(f"size has {len(self.size)} values for {len(x) - 1} spatial axes", self.where)
        if self.mode == "bilinear" and len(x) != 3:
            self.expect_rank(x, 3)
        return ()

    def output_shape(self, x: Shape) -> Shape:
        if self.size is not None:
            return (x[0], *self.size)
        return (x[0], *(sp.floor(n * f) for n, f in zip(x[1:], self.factors(len(x) - 1), strict=True)))

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None


@dataclass(frozen=True)
class PixelShuffle(Layer):
    """``(C·r², H, W) → (C, H·r, W·r)``: channels rearranged into space."""

    kind: ClassVar[str] = "pixel_shuffle"
    upscale_factor: sp.Expr = size_arg()

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, 3)
        r2 = self.upscale_factor**2
        return (
            Requirement(
                relation(sp.Eq, sp.Mod(x[0], r2), 0),
                lambda: f"{x[0]} channels do not divide by {r2}",
                "upscale_factor",
            ),
        )

    def output_shape(self, x: Shape) -> Shape:
        r = self.upscale_factor
        return (x[0] / r**2, x[1] * r, x[2] * r)

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None
