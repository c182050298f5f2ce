"""Layers that act on every element alone: activations and dropout.

They keep the shape, have no parameters and no multiply-accumulates
(activations are reported apart from MACs, as the Conventions page says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from symconv.layers.base import Layer, flag_arg, int_arg, number_arg


@dataclass(frozen=True)
class Elementwise(Layer):
    """Shape-preserving, parameter-free. ``inplace`` is accepted and changes nothing."""

    inplace: bool = flag_arg(False)


@dataclass(frozen=True)
class ReLU(Elementwise):
    kind: ClassVar[str] = "relu"


@dataclass(frozen=True)
class ReLU6(Elementwise):
    kind: ClassVar[str] = "relu6"


@dataclass(frozen=True)
class LeakyReLU(Elementwise):
    kind: ClassVar[str] = "leaky_relu"
    negative_slope: Any = number_arg(0.01)


@dataclass(frozen=True)
class ELU(Elementwise):
    kind: ClassVar[str] = "elu"
    alpha: Any = number_arg(1.0)


@dataclass(frozen=True)
class GELU(Elementwise):
    kind: ClassVar[str] = "gelu"


@dataclass(frozen=True)
class SiLU(Elementwise):
    kind: ClassVar[str] = "silu"


@dataclass(frozen=True)
class Sigmoid(Elementwise):
    kind: ClassVar[str] = "sigmoid"


@dataclass(frozen=True)
class Tanh(Elementwise):
    kind: ClassVar[str] = "tanh"


@dataclass(frozen=True)
class Hardswish(Elementwise):
    kind: ClassVar[str] = "hardswish"


@dataclass(frozen=True)
class Hardsigmoid(Elementwise):
    kind: ClassVar[str] = "hardsigmoid"


@dataclass(frozen=True)
class Softmax(Elementwise):
    """Softmax over ``dim`` (PyTorch's numbering, the batch axis 0: ``dim=1`` is the channels)."""

    kind: ClassVar[str] = "softmax"
    dim: int = int_arg(1)


@dataclass(frozen=True)
class Identity(Elementwise):
    kind: ClassVar[str] = "identity"


@dataclass(frozen=True)
class Dropout(Elementwise):
    """Dropout; the reference backend runs it in evaluation mode (the identity)."""

    kind: ClassVar[str] = "dropout"
    p: Any = number_arg(0.5)


@dataclass(frozen=True)
class Dropout2d(Dropout):
    kind: ClassVar[str] = "dropout2d"
