"""Normalisation: batch, layer, group, instance and local response.

Source: PyTorch, ``torch.nn.BatchNorm2d`` documentation: with ``affine=True``
the learnable parameters are ``weight`` (gamma) and ``bias`` (beta), one per
channel; ``running_mean`` and ``running_var`` are buffers, not parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from symconv.layers.base import (
    ZERO,
    Layer,
    Requirement,
    Shape,
    flag_arg,
    number_arg,
    product,
    shape_arg,
    size_arg,
)
from symconv.sizes import relation


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
                relation(sp.Eq, self.num_features, x[0]),
                lambda: f"num_features is {self.num_features} but the input has {x[0]} channels",
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


@dataclass(frozen=True)
class LayerNorm(Layer):
    """``torch.nn.LayerNorm``: normalises over the last ``len(normalized_shape)`` axes.

    Source: PyTorch, ``torch.nn.LayerNorm``: with ``elementwise_affine`` a
    weight (and, with ``bias``, a bias) of shape ``normalized_shape``.
    Channels-last in ConvNeXt and transformers; torchvision's ``LayerNorm2d``
    permutes to channels-last around it.
    """

    kind: ClassVar[str] = "layernorm"
    normalized_shape: tuple[sp.Expr, ...] = shape_arg()
    eps: Any = number_arg(1e-5)
    elementwise_affine: bool = flag_arg(True)
    bias: bool = flag_arg(True)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        count = len(self.normalized_shape)
        if count > len(x):
            self.expect_rank(x, count)
        return tuple(
            Requirement(
                relation(sp.Eq, want, got),
                lambda i=i, want=want, got=got: (
                    f"normalized_shape ends in {want} but the input's axis {len(x) - count + i} is {got}"
                ),
                "normalized_shape",
            )
            for i, (want, got) in enumerate(zip(self.normalized_shape, x[len(x) - count :], strict=True))
        )

    def params(self, x: Shape) -> sp.Expr:
        if not self.elementwise_affine:
            return ZERO
        return product(self.normalized_shape) * (2 if self.bias else 1)

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        if not self.elementwise_affine:
            return {}
        shapes = {"weight": tuple(self.normalized_shape)}
        if self.bias:
            shapes["bias"] = tuple(self.normalized_shape)
        return shapes


@dataclass(frozen=True)
class GroupNorm(Layer):
    """``torch.nn.GroupNorm``: channels in ``num_groups`` groups; ``2C`` parameters when affine."""

    kind: ClassVar[str] = "groupnorm"
    num_groups: sp.Expr = size_arg()
    num_channels: sp.Expr | None = size_arg(None)
    eps: Any = number_arg(1e-5)
    affine: bool = flag_arg(True)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        found = [
            Requirement(
                relation(sp.Eq, sp.Mod(x[0], self.num_groups), 0),
                lambda: f"{x[0]} channels do not divide into {self.num_groups} groups",
                "num_groups",
            )
        ]
        found.append(
            Requirement(
                relation(sp.Gt, x[0] / self.num_groups * product(x[1:]), 1),
                "each group holds a single value, which PyTorch refuses to normalise",
                "num_groups",
            )
        )
        if self.num_channels is not None:
            found.append(
                Requirement(
                    relation(sp.Eq, self.num_channels, x[0]),
                    lambda: f"num_channels is {self.num_channels} but the input has {x[0]} channels",
                    "num_channels",
                )
            )
        return tuple(found)

    def params(self, x: Shape) -> sp.Expr:
        return 2 * x[0] if self.affine else ZERO

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        return {"weight": (x[0],), "bias": (x[0],)} if self.affine else {}


@dataclass(frozen=True)
class InstanceNormNd(BatchNormNd):
    """``torch.nn.InstanceNorm2d``: per sample and channel; not affine unless asked (PyTorch's default)."""

    affine: bool = flag_arg(False)
    track_running_stats: bool = flag_arg(False)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        single = Requirement(
            relation(sp.Gt, product(x[1:]), 1),
            "each channel holds a single value, which PyTorch refuses to normalise",
            "num_features",
        )
        return (*super().requirements(x), single)


@dataclass(frozen=True)
class InstanceNorm1d(InstanceNormNd):
    kind: ClassVar[str] = "instancenorm1d"
    ranks: ClassVar[tuple[int, ...]] = (2,)


@dataclass(frozen=True)
class InstanceNorm2d(InstanceNormNd):
    kind: ClassVar[str] = "instancenorm2d"
    ranks: ClassVar[tuple[int, ...]] = (3,)


@dataclass(frozen=True)
class InstanceNorm3d(InstanceNormNd):
    kind: ClassVar[str] = "instancenorm3d"
    ranks: ClassVar[tuple[int, ...]] = (4,)


@dataclass(frozen=True)
class LocalResponseNorm(Layer):
    """``torch.nn.LocalResponseNorm`` (AlexNet, section 3.3): across ``size`` neighbouring channels; no parameters."""

    kind: ClassVar[str] = "local_response_norm"
    size: sp.Expr = size_arg()
    alpha: Any = number_arg(1e-4)
    beta: Any = number_arg(0.75)
    k: Any = number_arg(1.0)
