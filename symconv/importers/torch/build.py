"""PyTorch out: the ``nn.Module`` that runs a network at concrete values, for comparisons with PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
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
    if isinstance(layer, L.LayerNorm):
        return nn.LayerNorm(
            _ints(layer.normalized_shape), float(layer.eps), layer.elementwise_affine, bias=layer.bias
        )
    if isinstance(layer, L.GroupNorm):
        return nn.GroupNorm(_integer(layer.num_groups), x[0], float(layer.eps), layer.affine)
    if isinstance(layer, L.LocalResponseNorm):
        return nn.LocalResponseNorm(
            _integer(layer.size), float(layer.alpha), float(layer.beta), float(layer.k)
        )
    if isinstance(layer, L.MultiheadAttention):
        kdim, vdim = layer.widths()
        return nn.MultiheadAttention(
            _integer(layer.embed_dim),
            _integer(layer.num_heads),
            bias=layer.bias,
            batch_first=True,
            kdim=_integer(kdim),
            vdim=_integer(vdim),
        )
    if isinstance(layer, L.Parameter):
        holder = nn.Module()
        shape = (1, *_ints(layer.shape))
        holder.weight = nn.Parameter(torch.randn(shape), requires_grad=layer.learnable)
        return holder
    if type(layer) in functions():
        return None
    raise SpecError(f"no PyTorch module for {layer.kind}")


def _arithmetic(operation: Any) -> Any:
    def run(layer: Any, args: list) -> Any:
        if layer.scalar is not None:
            return operation(args[0], layer.scalar)
        result = args[0]
        for other in args[1:]:
            result = operation(result, other)
        return result

    return run


def _reshape(layer: L.Reshape, args: list) -> Any:
    x = args[0]
    return x.reshape(x.shape[0], *(-1 if s == -1 else int(s) for s in layer.shape))


@cache
def functions() -> dict[type, Any]:
    """The layers that run as functions of their inputs (no module of their own)."""
    import operator

    torch = torch_module()
    F = torch.nn.functional
    return {
        L.Add: _arithmetic(operator.add),
        L.Sub: _arithmetic(operator.sub),
        L.Mul: _arithmetic(operator.mul),
        L.Div: _arithmetic(operator.truediv),
        L.ChannelConcat: lambda layer, args: torch.cat(args, dim=layer.dim),
        L.Permute: lambda layer, args: args[0].permute(*layer.dims),
        L.Reshape: _reshape,
        L.Narrow: lambda layer, args: args[0].narrow(layer.dim, int(layer.start), int(layer.length)),
        L.Select: lambda layer, args: args[0].select(layer.dim, int(layer.index)),
        L.Mean: lambda layer, args: args[0].mean(list(layer.dim), keepdim=layer.keepdim),
        L.Sum: lambda layer, args: args[0].sum(list(layer.dim), keepdim=layer.keepdim),
        L.MatMul: lambda layer, args: args[0] @ args[1],
        L.ScaledDotProductAttention: lambda layer, args: F.scaled_dot_product_attention(
            *args, is_causal=layer.is_causal, scale=layer.scale
        ),
    }


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
            keys = {node.name: f"n{index}" for index, node in enumerate(network.graph)}
            for index, node in enumerate(network.graph):
                key = f"n{index}"
                if node.shares is not None:  # the same module, called again
                    self.steps[key] = self.steps[keys[node.shares]]
                    self.plan.append((key, node.layer, node.inputs))
                    continue
                module = _build(node.layer, [shapes[i] for i in node.inputs])
                if module is not None:
                    self.steps[key] = module
                self.plan.append((key, node.layer, node.inputs))

        def forward(self, x):
            values = {-1: x}
            for index, (key, layer, inputs) in enumerate(self.plan):
                args = [values[i] for i in inputs]
                if isinstance(layer, L.Parameter):
                    weight = self.steps[key].weight
                    result = weight.expand(x.shape[0], *weight.shape[1:])
                elif isinstance(layer, L.MultiheadAttention):
                    q, k, v = args if len(args) == 3 else args * 3
                    result = self.steps[key](q, k, v, need_weights=False)[0]
                elif key not in self.steps:
                    result = functions()[type(layer)](layer, args)
                else:
                    result = self.steps[key](args[0])
                values[index] = result
            return values[len(self.plan) - 1]

    return Graph()
