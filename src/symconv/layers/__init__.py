"""Layer kinds, one module per family, and the one table that names them.

``KINDS`` maps the spec's lower-case names (PyTorch's) to layer classes; adding
a kind means writing its class and adding one line here.
"""

from __future__ import annotations

from symconv.layers.base import Layer, Receptive, Requirement, Shape
from symconv.layers.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    SeparableConv2d,
)
from symconv.layers.elementwise import (
    ELU,
    GELU,
    Dropout,
    Dropout2d,
    Hardsigmoid,
    Hardswish,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from symconv.layers.linear import Flatten, Linear
from symconv.layers.merge import Add, ChannelConcat
from symconv.layers.norm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from symconv.layers.pool import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)

KINDS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
        DepthwiseConv2d, SeparableConv2d,
        MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
        AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
        AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
        BatchNorm1d, BatchNorm2d, BatchNorm3d, Linear, Flatten,
        ReLU, ReLU6, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Hardswish, Hardsigmoid,
        Softmax, Identity, Dropout, Dropout2d,
    )
}
"""Spec name -> layer class, for every leaf layer a spec may name."""

__all__ = [
    "KINDS", "ELU", "GELU", "Add", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "ChannelConcat", "Conv1d", "Conv2d",
    "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "DepthwiseConv2d",
    "Dropout", "Dropout2d", "Flatten", "Hardsigmoid", "Hardswish", "Identity", "Layer",
    "LeakyReLU", "Linear", "MaxPool1d", "MaxPool2d", "MaxPool3d", "Receptive", "ReLU", "ReLU6",
    "Requirement", "SeparableConv2d", "Shape", "Sigmoid", "SiLU", "Softmax", "Tanh",
]
