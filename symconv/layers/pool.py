"""Pooling: max and average pooling 1d/2d/3d, adaptive pooling.

Pooling acts on every channel separately, so it has no parameters and, by
symconv's counting convention (the Conventions page), no multiply-accumulates.

Sources cited by the rules:

* PyTorch, ``torch.nn.MaxPool2d`` / ``AvgPool2d`` documentation: output size
  ``floor((n + 2P - d(K - 1) - 1)/S) + 1``, ``ceil`` with ``ceil_mode``, and
  the rule that a last window starting in the right padding is dropped
  (``pooling_output_shape`` in ATen's ``Pool.h``).
* PyTorch, ``torch.nn.AdaptiveAvgPool2d`` documentation: the output size is
  the one requested; ``None`` keeps the input's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import SpecError
from symconv.layers.base import (
    Layer,
    Receptive,
    Requirement,
    Shape,
    as_size,
    axis_name,
    flag_arg,
    number_arg,
    sizes_arg,
    spatial_receptive,
)
from symconv.sizes import at_least, floor_divide, relation


def pool_output_size(n: sp.Expr, k: sp.Expr, s: sp.Expr, p: sp.Expr, d: sp.Expr, ceil_mode: bool) -> sp.Expr:
    """Output length of a pooling window along one axis, exactly as PyTorch computes it.

    With ``ceil_mode`` PyTorch takes ``ceil((n + 2P - d(K-1) - 1)/S) + 1`` windows
    and drops the last one when it starts at or after ``n + P``. The windows
    kept start at ``j*S`` with ``j*S <= n + 2P - d(K-1) - 1 + S - 1`` and
    ``j*S <= n + P - 1``; their count is the single floor below.
    """
    if not ceil_mode:
        return floor_divide(n, 2 * p - d * (k - 1) - 1, s) + 1
    late = p + s - d * (k - 1) - 1  # where the last window may start past the padded input
    return floor_divide(n, p - 1 + (min(late, 0) if late.is_Number else sp.Min(0, late)), s) + 1


@dataclass(frozen=True)
class PoolNd(Layer):
    """Shared rules of max and average pooling."""

    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    stride: tuple[sp.Expr, ...] | None = sizes_arg(None)
    padding: tuple[sp.Expr, ...] = sizes_arg(0, minimum=0)
    ceil_mode: bool = flag_arg(False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel_size)

    def dilations(self) -> tuple[sp.Expr, ...]:
        return (sp.Integer(1),) * self.spatial_dims

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, self.spatial_dims + 1)
        found = []
        for axis, (n, k, p) in enumerate(zip(x[1:], self.kernel_size, self.padding, strict=True)):
            found.append(
                Requirement(
                    relation(sp.Le, p, sp.floor(k / 2)),
                    lambda p=p, k=k, axis=axis: (
                        f"padding {p} must be at most half the kernel size {k} (axis {axis})"
                    ),
                    "padding",
                )
            )
            found.append(
                Requirement(
                    at_least(self.output_size(n, axis), 1),
                    lambda n=n, p=p, k=k, axis=axis: (
                        (
                            f"kernel {k} is longer than the padded input {n + 2 * p} plus stride - 1 = "
                            f"{self.stride[axis] - 1} (ceil_mode lets a window overhang the end by at most that)"
                            if self.ceil_mode
                            else f"kernel {k} must fit in the padded input {n + 2 * p}"
                        )
                        + f" along the {axis_name(axis, self.spatial_dims)}"
                    ),
                    "kernel_size",
                )
            )
        return tuple(found)

    def output_size(self, n: sp.Expr, axis: int) -> sp.Expr:
        return pool_output_size(
            n,
            self.kernel_size[axis],
            self.stride[axis],
            self.padding[axis],
            self.dilations()[axis],
            self.ceil_mode,
        )

    def output_shape(self, x: Shape) -> Shape:
        return (x[0], *(self.output_size(n, i) for i, n in enumerate(x[1:])))

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return spatial_receptive(previous, self.kernel_size, self.stride, self.dilations())


@dataclass(frozen=True)
class MaxPoolNd(PoolNd):
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)

    def dilations(self) -> tuple[sp.Expr, ...]:
        return self.dilation


@dataclass(frozen=True)
class AvgPoolNd(PoolNd):
    count_include_pad: bool = flag_arg(True)
    divisor_override: Any = number_arg(None)


@dataclass(frozen=True)
class MaxPool1d(MaxPoolNd):
    kind: ClassVar[str] = "maxpool1d"
    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True)
class MaxPool2d(MaxPoolNd):
    kind: ClassVar[str] = "maxpool2d"
    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True)
class MaxPool3d(MaxPoolNd):
    kind: ClassVar[str] = "maxpool3d"
    spatial_dims: ClassVar[int] = 3


@dataclass(frozen=True)
class AvgPool1d(AvgPoolNd):
    kind: ClassVar[str] = "avgpool1d"
    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True)
class AvgPool2d(AvgPoolNd):
    kind: ClassVar[str] = "avgpool2d"
    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True)
class AvgPool3d(AvgPoolNd):
    """3-D average pooling; PyTorch also requires the unpadded input to be at least the kernel."""

    kind: ClassVar[str] = "avgpool3d"
    spatial_dims: ClassVar[int] = 3

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        pooled = super().requirements(x)  # checks the rank first
        unpadded = tuple(
            Requirement(
                relation(sp.Ge, n, k),
                lambda n=n, k=k, axis=axis: (
                    f"input {n} must be at least the kernel {k} along the {axis_name(axis, self.spatial_dims)} "
                    "(PyTorch's avg_pool3d refuses this even with padding)"
                ),
                "kernel_size",
            )
            for axis, (n, k) in enumerate(zip(x[1:], self.kernel_size, strict=True))
        )
        return (*pooled, *unpadded)


@dataclass(frozen=True)
class AdaptivePoolNd(Layer):
    """Adaptive pooling to a requested output size (``None`` keeps an axis)."""

    output_size: tuple[sp.Expr | None, ...] = field(
        default=1, metadata={"kind": "optional_sizes", "minimum": 1}
    )
    mode: ClassVar[str] = "avg"

    def __post_init__(self) -> None:
        super().__post_init__()
        value = self.output_size
        values = list(value) if isinstance(value, (list, tuple)) else [value] * self.spatial_dims
        if len(values) != self.spatial_dims:
            raise SpecError(
                f"output_size: expected {self.spatial_dims} values, got {len(values)}", self.where
            )
        normal = tuple(None if v is None else as_size(v, "output_size") for v in values)
        object.__setattr__(self, "output_size", normal)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, self.spatial_dims + 1)
        return tuple(
            Requirement(
                relation(sp.Ge, size, 1),
                lambda size=size: f"output_size {size} must be positive",
                "output_size",
            )
            for size in self.output_size
            if size is not None
        )

    def output_shape(self, x: Shape) -> Shape:
        return (x[0], *(n if size is None else size for n, size in zip(x[1:], self.output_size, strict=True)))

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None


@dataclass(frozen=True)
class AdaptiveAvgPool1d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_avgpool1d"
    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True)
class AdaptiveAvgPool2d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_avgpool2d"
    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True)
class AdaptiveAvgPool3d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_avgpool3d"
    spatial_dims: ClassVar[int] = 3


@dataclass(frozen=True)
class AdaptiveMaxPool1d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_maxpool1d"
    spatial_dims: ClassVar[int] = 1
    mode: ClassVar[str] = "max"


@dataclass(frozen=True)
class AdaptiveMaxPool2d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_maxpool2d"
    spatial_dims: ClassVar[int] = 2
    mode: ClassVar[str] = "max"


@dataclass(frozen=True)
class AdaptiveMaxPool3d(AdaptivePoolNd):
    kind: ClassVar[str] = "adaptive_maxpool3d"
    spatial_dims: ClassVar[int] = 3
    mode: ClassVar[str] = "max"


__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
]
