"""PyTorch out: the ``nn.Module`` that runs a network at concrete values, for comparisons with PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, singledispatch
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


@singledispatch
def module_for(layer: L.Layer, x: tuple[int, ...], nn: Any) -> Any:
    """The ``nn.Module`` that runs ``layer`` on an input of shape ``x``; None for a function of its inputs.

    One rule per layer class (``@module_for.register``); the most specific class's rule applies.
    """
    if type(layer) in functions():
        return None
    raise SpecError(f"no PyTorch module for {layer.kind}")


def _build(layer: L.Layer, shapes: list[tuple[int, ...]]) -> Any:
    module = module_for(layer, shapes[0], torch_module().nn)
    if module is not None and layer.fixed:  # constant weights: buffers, not parameters
        for name, parameter in list(module.named_parameters(recurse=False)):
            delattr(module, name)
            module.register_buffer(name, parameter.detach())
    if module is not None and not layer.trainable:
        module.requires_grad_(False)
    return module


@module_for.register
def _(layer: L.SharedKernelConv2d, x: tuple[int, ...], nn: Any) -> Any:
    raise SpecError("shared_kernel_conv2d has no PyTorch module (no framework implements that reading)")


@module_for.register
def _(layer: L.DepthwiseConv2d, x: tuple[int, ...], nn: Any) -> Any:
    return module_for(layer.as_conv(tuple(sp.Integer(s) for s in x)), x, nn)


@module_for.register
def _(layer: L.SeparableConv2d, x: tuple[int, ...], nn: Any) -> Any:
    depthwise, pointwise = layer.parts(tuple(sp.Integer(s) for s in x))
    middle = depthwise.output_shape(tuple(sp.Integer(s) for s in x))
    return nn.Sequential(module_for(depthwise, x, nn), module_for(pointwise, _ints(middle), nn))


@module_for.register
def _(layer: ConvNd, x: tuple[int, ...], nn: Any) -> Any:
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


@module_for.register
def _(layer: ConvTransposeNd, x: tuple[int, ...], nn: Any) -> Any:
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


@module_for.register
def _(layer: MaxPoolNd, x: tuple[int, ...], nn: Any) -> Any:
    cls = getattr(nn, f"MaxPool{layer.spatial_dims}d")
    return cls(
        _ints(layer.kernel_size),
        _ints(layer.stride),
        _ints(layer.padding),
        _ints(layer.dilation),
        ceil_mode=layer.ceil_mode,
    )


@module_for.register
def _(layer: AvgPoolNd, x: tuple[int, ...], nn: Any) -> Any:
    cls = getattr(nn, f"AvgPool{layer.spatial_dims}d")
    return cls(
        _ints(layer.kernel_size),
        _ints(layer.stride),
        _ints(layer.padding),
        layer.ceil_mode,
        layer.count_include_pad,
        *([] if layer.spatial_dims == 1 else [layer.divisor_override]),
    )


@module_for.register
def _(layer: AdaptivePoolNd, x: tuple[int, ...], nn: Any) -> Any:
    cls = getattr(nn, f"Adaptive{'Avg' if layer.mode == 'avg' else 'Max'}Pool{layer.spatial_dims}d")
    return cls(tuple(None if s is None else _integer(s) for s in layer.output_size))


@module_for.register
def _(layer: BatchNormNd, x: tuple[int, ...], nn: Any) -> Any:
    return getattr(nn, f"BatchNorm{len(x) - 1 if len(x) > 2 else 1}d")(
        x[0], float(layer.eps), affine=layer.affine
    )


@module_for.register
def _(layer: L.Linear, x: tuple[int, ...], nn: Any) -> Any:
    return nn.Linear(x[-1], _integer(layer.out_features), layer.bias)


@module_for.register
def _(layer: L.Flatten, x: tuple[int, ...], nn: Any) -> Any:
    return nn.Flatten(layer.start_dim, layer.end_dim)


@module_for.register
def _(layer: L.Softmax, x: tuple[int, ...], nn: Any) -> Any:
    return nn.Softmax(dim=1)


_ACTIVATIONS = {
    L.ReLU: "ReLU",
    L.ReLU6: "ReLU6",
    L.GELU: "GELU",
    L.SiLU: "SiLU",
    L.Sigmoid: "Sigmoid",
    L.Tanh: "Tanh",
    L.Hardswish: "Hardswish",
    L.Hardsigmoid: "Hardsigmoid",
    L.Identity: "Identity",
    L.Dropout: "Dropout",
    L.Dropout2d: "Dropout2d",
}
"""Elementwise layers without arguments -> the name of their ``nn`` module."""


@module_for.register
def _(layer: Elementwise, x: tuple[int, ...], nn: Any) -> Any:
    if type(layer) in _ACTIVATIONS:
        return getattr(nn, _ACTIVATIONS[type(layer)])()
    return module_for.dispatch(L.Layer)(layer, x, nn)


@module_for.register
def _(layer: L.LeakyReLU, x: tuple[int, ...], nn: Any) -> Any:
    return nn.LeakyReLU(float(layer.negative_slope))


@module_for.register
def _(layer: L.ELU, x: tuple[int, ...], nn: Any) -> Any:
    return nn.ELU(float(layer.alpha))


@module_for.register
def _(layer: L.LayerNorm, x: tuple[int, ...], nn: Any) -> Any:
    return nn.LayerNorm(
        _ints(layer.normalized_shape), float(layer.eps), layer.elementwise_affine, bias=layer.bias
    )


@module_for.register
def _(layer: L.GroupNorm, x: tuple[int, ...], nn: Any) -> Any:
    return nn.GroupNorm(_integer(layer.num_groups), x[0], float(layer.eps), layer.affine)


@module_for.register
def _(layer: L.LocalResponseNorm, x: tuple[int, ...], nn: Any) -> Any:
    return nn.LocalResponseNorm(_integer(layer.size), float(layer.alpha), float(layer.beta), float(layer.k))


@module_for.register
def _(layer: L.MultiheadAttention, x: tuple[int, ...], nn: Any) -> Any:
    kdim, vdim = layer.widths()
    return nn.MultiheadAttention(
        _integer(layer.embed_dim),
        _integer(layer.num_heads),
        bias=layer.bias,
        batch_first=True,
        kdim=_integer(kdim),
        vdim=_integer(vdim),
    )


@module_for.register
def _(layer: L.Parameter, x: tuple[int, ...], nn: Any) -> Any:
    holder = nn.Module()
    holder.weight = nn.Parameter(
        torch_module().randn((1, *_ints(layer.shape))), requires_grad=layer.learnable
    )
    return holder


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
        L.VectorNorm: lambda layer, args: torch.linalg.vector_norm(
            args[0], layer.ord, dim=list(layer.dim), keepdim=layer.keepdim
        ),
        L.Pad: lambda layer, args: F.pad(
            args[0],
            _ints(layer.pad),
            mode=layer.mode,
            value=layer.value if layer.mode == "constant" else None,
        ),
        L.Roll: lambda layer, args: torch.roll(args[0], layer.shifts, layer.dims),
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
