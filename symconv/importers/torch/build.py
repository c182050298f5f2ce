"""PyTorch out: the ``nn.Module`` that runs a network at concrete values, for comparisons with PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError
from symconv.importers.torch.environment import torch_module
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Elementwise
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, MaxPoolNd
from symconv.network import Network


def _integer(value: sp.Expr) -> int:
    value = sp.sympify(value)
    if not value.is_Integer:
        raise SpecError(
            f"{value} is not a number: give values for every symbol (to_torch(network, H=224, ...))"
        )
    return int(value)


def _ints(values: Sequence[sp.Expr]) -> tuple[int, ...]:
    return tuple(_integer(v) for v in values)


def _build(layer: L.Layer, shapes: list[tuple[int, ...]]) -> Any:
    torch = torch_module()
    nn = torch.nn
    x = shapes[0]
    if isinstance(layer, L.SharedKernelConv2d):
        raise SpecError("shared_kernel_conv2d has no PyTorch module (no framework implements that reading)")
    if isinstance(layer, L.DepthwiseConv2d):
        layer = layer.as_conv(tuple(sp.Integer(s) for s in x))
    if isinstance(layer, L.SeparableConv2d):
        depthwise, pointwise = layer.parts(tuple(sp.Integer(s) for s in x))
        middle = depthwise.output_shape(tuple(sp.Integer(s) for s in x))
        return nn.Sequential(_build(depthwise, [x]), _build(pointwise, [_ints(middle)]))
    if isinstance(layer, ConvNd):
        cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[layer.spatial_dims]
        padding = layer.padding if isinstance(layer.padding, str) else _ints(layer.padding)
        return cls(
            x[0],
            _integer(layer.out_channels),
            _ints(layer.kernel_size),
            _ints(layer.stride),
            padding,
            _ints(layer.dilation),
            _integer(layer.groups),
            layer.bias,
            layer.padding_mode,
        )
    if isinstance(layer, ConvTransposeNd):
        cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[layer.spatial_dims]
        return cls(
            x[0],
            _integer(layer.out_channels),
            _ints(layer.kernel_size),
            _ints(layer.stride),
            _ints(layer.padding),
            _ints(layer.output_padding),
            _integer(layer.groups),
            layer.bias,
            _ints(layer.dilation),
        )
    if isinstance(layer, MaxPoolNd):
        cls = getattr(nn, f"MaxPool{layer.spatial_dims}d")
        return cls(
            _ints(layer.kernel_size),
            _ints(layer.stride),
            _ints(layer.padding),
            _ints(layer.dilation),
            ceil_mode=layer.ceil_mode,
        )
    if isinstance(layer, AvgPoolNd):
        cls = getattr(nn, f"AvgPool{layer.spatial_dims}d")
        return cls(
            _ints(layer.kernel_size),
            _ints(layer.stride),
            _ints(layer.padding),
            layer.ceil_mode,
            layer.count_include_pad,
            *([] if layer.spatial_dims == 1 else [layer.divisor_override]),
        )
    if isinstance(layer, AdaptivePoolNd):
        cls = getattr(nn, f"Adaptive{'Avg' if layer.mode == 'avg' else 'Max'}Pool{layer.spatial_dims}d")
        return cls(tuple(None if s is None else _integer(s) for s in layer.output_size))
    if isinstance(layer, BatchNormNd):
        return getattr(nn, f"BatchNorm{len(x) - 1 if len(x) > 2 else 1}d")(
            x[0], float(layer.eps), affine=layer.affine
        )
    if isinstance(layer, L.Linear):
        return nn.Linear(x[-1], _integer(layer.out_features), layer.bias)
    if isinstance(layer, L.Flatten):
        return nn.Flatten(layer.start_dim, layer.end_dim)
    if isinstance(layer, L.Softmax):
        return nn.Softmax(dim=1)
    if isinstance(layer, Elementwise):
        simple = {
            L.ReLU: nn.ReLU,
            L.ReLU6: nn.ReLU6,
            L.GELU: nn.GELU,
            L.SiLU: nn.SiLU,
            L.Sigmoid: nn.Sigmoid,
            L.Tanh: nn.Tanh,
            L.Hardswish: nn.Hardswish,
            L.Hardsigmoid: nn.Hardsigmoid,
            L.Identity: nn.Identity,
            L.Dropout: nn.Dropout,
            L.Dropout2d: nn.Dropout2d,
        }
        if isinstance(layer, L.LeakyReLU):
            return nn.LeakyReLU(float(layer.negative_slope))
        if isinstance(layer, L.ELU):
            return nn.ELU(float(layer.alpha))
        return simple[type(layer)]()
    if isinstance(layer, (L.Add, L.ChannelConcat)):
        return None
    raise SpecError(f"no PyTorch module for {layer.kind}")


def to_torch(network: Network, **values: object) -> Any:
    """An ``nn.Module`` running ``network`` at the given values of its symbols."""
    torch = torch_module()
    report = network.report.at(values) if values else network.report
    shapes = {i: _ints(row.output_shape) for i, row in enumerate(report.rows)}
    shapes[-1] = _ints(report.input_shape)

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.steps = torch.nn.ModuleDict()
            self.plan = []
            for index, node in enumerate(network.graph):
                module = _build(node.layer, [shapes[i] for i in node.inputs])
                key = f"n{index}"
                if module is not None:
                    self.steps[key] = module
                self.plan.append((key, node.layer.kind, node.inputs))

        def forward(self, x):
            values = {-1: x}
            for index, (key, kind, inputs) in enumerate(self.plan):
                args = [values[i] for i in inputs]
                if kind == "add":
                    result = args[0]
                    for other in args[1:]:
                        result = result + other
                elif kind == "concat":
                    result = torch.cat(args, dim=1)
                else:
                    result = self.steps[key](args[0])
                values[index] = result
            return values[len(self.plan) - 1]

    return Graph()
