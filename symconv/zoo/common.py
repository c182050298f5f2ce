"""Small builders shared by the zoo: convolution + BatchNorm + activation, in torchvision's naming."""

from __future__ import annotations

import sympy as sp

from symconv.layers import BatchNorm2d, Conv2d, Layer, ReLU, ReLU6
from symconv.network import Sequential
from symconv.sizes import symbols


def image_sizes() -> tuple[sp.Symbol, sp.Symbol]:
    """The symbolic input height and width of every zoo network."""
    return symbols("H W")


def conv_bn(
    out: object,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    groups: object = 1,
    activation: type[Layer] | None = ReLU,
    name: str | None = None,
    eps: float = 1e-5,
) -> Sequential:
    """torchvision's ``Conv2dNormActivation``/``BasicConv2d``: conv (no bias), BatchNorm, activation."""
    layers: list[Layer] = [
        Conv2d(out, kernel, stride=stride, padding=padding, groups=groups, bias=False, name="0"),
        BatchNorm2d(eps=eps, name="1"),
    ]
    if activation is not None:
        layers.append(activation(name="2"))
    return Sequential(tuple(layers), name)


__all__ = ["ReLU6", "conv_bn", "image_sizes"]
