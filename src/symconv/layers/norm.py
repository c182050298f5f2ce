"""Batch normalisation.

Source: PyTorch, ``torch.nn.BatchNorm2d`` documentation: with ``affine=True``
the learnable parameters are ``weight`` (gamma) and ``bias`` (beta), one per
channel; ``running_mean`` and ``running_var`` are buffers, not parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from symconv.layers.base import ZERO, Layer, Requirement, Shape, flag_arg, number_arg, size_arg


@dataclass(frozen=True)
class BatchNormNd(Layer):
    """Per-channel normalisation; ``2C`` parameters when affine."""

    num_features: sp.Expr | None = size_arg(None)
    eps: Any = number_arg(1e-5)
    momentum: Any = number_arg(0.1)
    affine: bool = flag_arg(True)
    track_running_stats: bool = flag_arg(True)
    ranks: ClassVar[tuple[int, ...]] = (3,)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        if len(x) not in self.ranks:
            self.expect_rank(x, self.ranks[-1])
        if self.num_features is None:
            return ()
        return (
            Requirement(
                sp.Eq(self.num_features, x[0]),
                f"num_features is {self.num_features} but the input has {x[0]} channels",
                "num_features",
            ),
        )

    def params(self, x: Shape) -> sp.Expr:
        return 2 * x[0] if self.affine else ZERO

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        return {"weight": (x[0],), "bias": (x[0],)} if self.affine else {}


@dataclass(frozen=True)
class BatchNorm1d(BatchNormNd):
    kind: ClassVar[str] = "batchnorm1d"
    ranks: ClassVar[tuple[int, ...]] = (1, 2)


@dataclass(frozen=True)
class BatchNorm2d(BatchNormNd):
    kind: ClassVar[str] = "batchnorm2d"
    ranks: ClassVar[tuple[int, ...]] = (3,)


@dataclass(frozen=True)
class BatchNorm3d(BatchNormNd):
    kind: ClassVar[str] = "batchnorm3d"
    ranks: ClassVar[tuple[int, ...]] = (4,)
