"""Convolutions: conv1d/2d/3d, their transposes, and Keras's depthwise and separable forms.

Sources cited by the rules:

* PyTorch, ``torch.nn.Conv2d`` documentation: output size
  ``floor((n + 2P - d(K - 1) - 1)/S) + 1``, weight shape
  ``(C_out, C_in/groups, K...)``.
* PyTorch, ``torch.nn.ConvTranspose2d`` documentation: output size
  ``(n - 1)S - 2P + d(K - 1) + output_padding + 1``.
* TensorFlow, "Convolution and pooling padding" notes (``tf.nn.convolution``):
  ``padding="same"`` gives ``ceil(n/S)`` for any stride.
* Howard et al. 2017, "MobileNets", section 3.1: cost of a depthwise separable
  convolution ``D_K^2 M D_F^2 + M N D_F^2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from symconv.errors import SpecError
from symconv.layers.base import (
    ONE,
    ZERO,
    Layer,
    Receptive,
    Requirement,
    Shape,
    axis_name,
    choice_arg,
    flag_arg,
    product,
    size_arg,
    sizes_arg,
    spatial_receptive,
)
from symconv.sizes import at_least, ceil_divide, floor_divide, integer_valued, relation

PADDING_WORDS = ("same", "valid")


def _channels_divisible(channels: sp.Expr, groups: sp.Expr, what: str) -> list[Requirement]:
    """``channels`` divisible by ``groups``: no condition at all where that holds by arithmetic alone."""
    if groups == 1 or (channels.is_Integer and groups.is_Integer and channels % groups == 0):
        return []
    return [
        Requirement(
            relation(sp.Eq, sp.Mod(channels, groups), 0),
            lambda: f"{what} ({channels}) must be divisible by groups ({groups})",
            "groups",
        )
    ]


def _fits_every_size(padding: sp.Expr, extent: sp.Expr) -> bool:
    """A kernel of ``extent`` fits every input of size at least 1 padded by ``padding`` on each side."""
    return padding.is_Integer and extent.is_Integer and 2 * int(padding) + 1 >= int(extent)


@dataclass(frozen=True)
class ConvNd(Layer):
    """A PyTorch convolution ``Conv{1,2,3}d`` with PyTorch's keyword names."""

    out_channels: sp.Expr = size_arg()
    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    stride: tuple[sp.Expr, ...] = sizes_arg(1)
    padding: tuple[sp.Expr, ...] | str = sizes_arg(0, minimum=0)
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)
    groups: sp.Expr = size_arg(1)
    bias: bool = flag_arg(True)
    padding_mode: str = choice_arg("zeros", "zeros", "reflect", "replicate", "circular")
    in_channels: sp.Expr | None = size_arg(None)

    def __post_init__(self) -> None:
        if isinstance(self.padding, str):
            if self.padding not in PADDING_WORDS:
                raise SpecError(
                    f"padding: expected an integer, a list, 'same' or 'valid', got {self.padding!r}",
                    self.where,
                )
            if self.padding == "valid":
                object.__setattr__(self, "padding", 0)
        super().__post_init__()

    @property
    def same(self) -> bool:
        return self.padding == "same"

    def effective_kernel(self) -> tuple[sp.Expr, ...]:
        """``d(K - 1) + 1`` per axis: the extent a dilated kernel covers."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True))

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, self.spatial_dims + 1)
        channels = x[0]
        found = [
            *_channels_divisible(channels, self.groups, "input channels"),
            *_channels_divisible(self.out_channels, self.groups, "out_channels"),
        ]
        if self.in_channels is not None and self.in_channels != channels:
            found.append(
                Requirement(
                    relation(sp.Eq, self.in_channels, channels),
                    lambda: f"in_channels is {self.in_channels} but the input has {channels} channels",
                    "in_channels",
                )
            )
        if not self.same:
            for axis, (n, p, extent) in enumerate(
                zip(x[1:], self.padding, self.effective_kernel(), strict=True)
            ):
                found.append(
                    Requirement(
                        # where 2P + 1 >= the extent, every input size fits: n >= 1 is the whole condition
                        at_least(n, ONE) if _fits_every_size(p, extent) else at_least(n + 2 * p, extent),
                        lambda n=n, p=p, extent=extent, axis=axis: (
                            f"kernel extent {extent} must fit in the padded input {n + 2 * p} "
                            f"along the {axis_name(axis, self.spatial_dims)}"
                        ),
                        "kernel_size",
                    )
                )
                if self.padding_mode == "reflect":
                    found.append(
                        Requirement(
                            relation(sp.Lt, p, n),
                            lambda p=p, n=n: f"reflect padding {p} must be smaller than the input {n}",
                            "padding",
                        )
                    )
        return tuple(found)

    def output_size(self, n: sp.Expr, axis: int) -> sp.Expr:
        """Output length along one spatial axis."""
        k, s, d = self.kernel_size[axis], self.stride[axis], self.dilation[axis]
        if self.same:
            return ceil_divide(n, 0, s)
        p = self.padding[axis]
        if p.is_Integer and k.is_Integer and d.is_Integer:  # the offset in machine integers
            offset = sp.Integer(2 * int(p) - int(d) * (int(k) - 1))
        else:
            offset = 2 * p - d * (k - 1)
        if s == 1 and integer_valued(n):  # floor((n + c)/1) + 1 = n + c + 1 for an integer size
            return n + offset
        return floor_divide(n, offset - 1, s) + 1

    def output_shape(self, x: Shape) -> Shape:
        known = self.__dict__.setdefault(
            "_outputs", {}
        )  # the report and the MACs ask again for the same input
        if x not in known:
            known[x] = (self.out_channels, *(self.output_size(n, i) for i, n in enumerate(x[1:])))
        return known[x]

    def params(self, x: Shape) -> sp.Expr:
        numbers = (self.out_channels, x[0], self.groups, *self.kernel_size)
        if all(v.is_Integer for v in numbers):  # the usual case, in machine integers
            out, channels, groups, *kernel = map(int, numbers)
            return sp.Integer(out * (channels // groups) * math.prod(kernel) + (out if self.bias else 0))
        weights = self.out_channels * (x[0] / self.groups) * product(self.kernel_size)
        return weights + (self.out_channels if self.bias else ZERO)

    def macs(self, x: Shape) -> sp.Expr:
        out = self.output_shape(x)
        per_output = (x[0] / self.groups) * product(
            self.kernel_size
        )  # numbers multiply first, then the sizes
        return sp.Mul(per_output * out[0], *out[1:])

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return spatial_receptive(previous, self.kernel_size, self.stride, self.dilation)

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        shapes = {"weight": (self.out_channels, x[0] / self.groups, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes


@dataclass(frozen=True)
class Conv1d(ConvNd):
    kind: ClassVar[str] = "conv1d"
    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True)
class Conv2d(ConvNd):
    kind: ClassVar[str] = "conv2d"
    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True)
class Conv3d(ConvNd):
    kind: ClassVar[str] = "conv3d"
    spatial_dims: ClassVar[int] = 3


@dataclass(frozen=True)
class ConvTransposeNd(Layer):
    """A PyTorch transposed convolution ``ConvTranspose{1,2,3}d``.

    MACs follow the input-position (scatter) convention of
    ``torch.utils.flop_counter``: every input element is multiplied by every
    tap of the ``C_out/groups`` kernels it reaches.
    """

    out_channels: sp.Expr = size_arg()
    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    stride: tuple[sp.Expr, ...] = sizes_arg(1)
    padding: tuple[sp.Expr, ...] = sizes_arg(0, minimum=0)
    output_padding: tuple[sp.Expr, ...] = sizes_arg(0, minimum=0)
    groups: sp.Expr = size_arg(1)
    bias: bool = flag_arg(True)
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)
    in_channels: sp.Expr | None = size_arg(None)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, self.spatial_dims + 1)
        found = [
            *_channels_divisible(x[0], self.groups, "input channels"),
            *_channels_divisible(self.out_channels, self.groups, "out_channels"),
        ]
        if self.in_channels is not None:
            found.append(
                Requirement(
                    relation(sp.Eq, self.in_channels, x[0]),
                    lambda: f"in_channels is {self.in_channels} but the input has {x[0]} channels",
                    "in_channels",
                )
            )
        for axis, (op, s, d) in enumerate(zip(self.output_padding, self.stride, self.dilation, strict=True)):
            found.append(
                Requirement(
                    sp.Or(sp.Lt(op, s), sp.Lt(op, d)),
                    lambda op=op, s=s, d=d, axis=axis: (
                        f"output_padding {op} must be smaller than either stride {s} or dilation {d} (axis {axis})"
                    ),
                    "output_padding",
                )
            )
        for axis, n in enumerate(x[1:]):
            found.append(
                Requirement(
                    at_least(self.output_size(n, axis), 1),
                    lambda axis=axis: (
                        f"padding {self.padding[axis]} must leave an output along the {axis_name(axis, self.spatial_dims)}"
                    ),
                    "padding",
                )
            )
        return tuple(found)

    def output_size(self, n: sp.Expr, axis: int) -> sp.Expr:
        k, s, p = self.kernel_size[axis], self.stride[axis], self.padding[axis]
        d, op = self.dilation[axis], self.output_padding[axis]
        return sp.expand((n - 1) * s - 2 * p + d * (k - 1) + op + 1)

    def output_shape(self, x: Shape) -> Shape:
        return (self.out_channels, *(self.output_size(n, i) for i, n in enumerate(x[1:])))

    def params(self, x: Shape) -> sp.Expr:
        weights = x[0] * (self.out_channels / self.groups) * product(self.kernel_size)
        return weights + (self.out_channels if self.bias else ZERO)

    def macs(self, x: Shape) -> sp.Expr:
        return product(x) * (self.out_channels / self.groups) * product(self.kernel_size)

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return None

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        shapes = {"weight": (x[0], self.out_channels / self.groups, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes


@dataclass(frozen=True)
class ConvTranspose1d(ConvTransposeNd):
    kind: ClassVar[str] = "conv_transpose1d"
    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True)
class ConvTranspose2d(ConvTransposeNd):
    kind: ClassVar[str] = "conv_transpose2d"
    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True)
class ConvTranspose3d(ConvTransposeNd):
    kind: ClassVar[str] = "conv_transpose3d"
    spatial_dims: ClassVar[int] = 3


@dataclass(frozen=True)
class DepthwiseConv2d(Layer):
    """Keras ``DepthwiseConv2D``: ``depth_multiplier`` filters per input channel.

    The same layer as ``Conv2d(C*depth_multiplier, groups=C)`` in PyTorch.
    """

    kind: ClassVar[str] = "depthwise_conv2d"
    spatial_dims: ClassVar[int] = 2
    aliases: ClassVar[dict[str, str]] = {"use_bias": "bias", "strides": "stride", "dilation_rate": "dilation"}
    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    depth_multiplier: sp.Expr = size_arg(1)
    stride: tuple[sp.Expr, ...] = sizes_arg(1)
    padding: tuple[sp.Expr, ...] | str = sizes_arg(0, minimum=0)
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)
    bias: bool = flag_arg(True)

    def as_conv(self, x: Shape) -> Conv2d:
        """The equivalent grouped PyTorch convolution for an input of ``x[0]`` channels."""
        return Conv2d(
            x[0] * self.depth_multiplier,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            x[0],
            self.bias,
            where=self.where,
        )

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, 3)
        return self.as_conv(x).requirements(x)

    def output_shape(self, x: Shape) -> Shape:
        return self.as_conv(x).output_shape(x)

    def params(self, x: Shape) -> sp.Expr:
        return self.as_conv(x).params(x)

    def macs(self, x: Shape) -> sp.Expr:
        return self.as_conv(x).macs(x)

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return spatial_receptive(previous, self.kernel_size, self.stride, self.dilation)

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        return self.as_conv(x).weight_shapes(x)


@dataclass(frozen=True)
class SeparableConv2d(Layer):
    """Keras ``SeparableConv2D``: a depthwise convolution (no bias) then a 1x1 convolution."""

    kind: ClassVar[str] = "separable_conv2d"
    spatial_dims: ClassVar[int] = 2
    aliases: ClassVar[dict[str, str]] = {
        "use_bias": "bias",
        "filters": "out_channels",
        "strides": "stride",
        "dilation_rate": "dilation",
    }
    out_channels: sp.Expr = size_arg()
    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    depth_multiplier: sp.Expr = size_arg(1)
    stride: tuple[sp.Expr, ...] = sizes_arg(1)
    padding: tuple[sp.Expr, ...] | str = sizes_arg(0, minimum=0)
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)
    bias: bool = flag_arg(True)

    def parts(self, x: Shape) -> tuple[Conv2d, Conv2d]:
        """The depthwise and the pointwise convolution this layer is made of."""
        depthwise = Conv2d(
            x[0] * self.depth_multiplier,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            x[0],
            False,
            where=self.where,
        )
        pointwise = Conv2d(self.out_channels, 1, bias=self.bias, where=self.where)
        return depthwise, pointwise

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        self.expect_rank(x, 3)
        return self.parts(x)[0].requirements(x)

    def output_shape(self, x: Shape) -> Shape:
        depthwise, pointwise = self.parts(x)
        return pointwise.output_shape(depthwise.output_shape(x))

    def params(self, x: Shape) -> sp.Expr:
        depthwise, pointwise = self.parts(x)
        return depthwise.params(x) + pointwise.params(depthwise.output_shape(x))

    def macs(self, x: Shape) -> sp.Expr:
        depthwise, pointwise = self.parts(x)
        return depthwise.macs(x) + pointwise.macs(depthwise.output_shape(x))

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return spatial_receptive(previous, self.kernel_size, self.stride, self.dilation)

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        depthwise, pointwise = self.parts(x)
        shapes = {
            "depthwise_weight": depthwise.weight_shapes(x)["weight"],
            "pointwise_weight": pointwise.weight_shapes(depthwise.output_shape(x))["weight"],
        }
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes


@dataclass(frozen=True)
class SharedKernelConv2d(Layer):
    """One 2-D kernel per filter, shared by every input channel ("type 2.1" of the seed question).

    Each output map is ``w * x_1 + ... + w * x_C`` with the same ``K x K``
    kernel ``w`` for all ``C`` input maps. No framework implements this
    reading: it is here so that its parameters and cost can be compared with
    the standard convolution (``conv2d``), which learns a ``C x K x K``
    kernel per filter.
    """

    kind: ClassVar[str] = "shared_kernel_conv2d"
    spatial_dims: ClassVar[int] = 2
    out_channels: sp.Expr = size_arg()
    kernel_size: tuple[sp.Expr, ...] = sizes_arg()
    stride: tuple[sp.Expr, ...] = sizes_arg(1)
    padding: tuple[sp.Expr, ...] | str = sizes_arg(0, minimum=0)
    dilation: tuple[sp.Expr, ...] = sizes_arg(1)
    bias: bool = flag_arg(True)

    def as_conv(self) -> Conv2d:
        """The standard convolution with the same geometry (its weights would be tied across channels)."""
        return Conv2d(
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            bias=self.bias,
            where=self.where,
        )

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        return self.as_conv().requirements(x)

    def output_shape(self, x: Shape) -> Shape:
        return self.as_conv().output_shape(x)

    def params(self, x: Shape) -> sp.Expr:
        return self.out_channels * product(self.kernel_size) + (self.out_channels if self.bias else ZERO)

    def macs(self, x: Shape) -> sp.Expr:
        return self.as_conv().macs(x)

    def receptive(self, previous: Receptive | None) -> Receptive | None:
        return spatial_receptive(previous, self.kernel_size, self.stride, self.dilation)

    def weight_shapes(self, x: Shape) -> dict[str, Shape]:
        shapes = {"weight": (self.out_channels, ONE, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes


__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvNd",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "ConvTransposeNd",
    "DepthwiseConv2d",
    "SeparableConv2d",
]
