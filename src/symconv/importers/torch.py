"""PyTorch in and out: trace an ``nn.Module`` into a symbolic network, or build a module from one.

:func:`from_torch` traces the module with ``torch.fx`` and maps every node
(modules, functions, methods) to a symconv layer; the input shape may be
symbolic (``(3, "H", "W")``). A node symconv does not know is reported with
its name and op, never dropped. :func:`to_torch` builds the module that runs
a network at concrete values, for comparisons with PyTorch's own counters.
torch is imported lazily: it is an optional extra.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Elementwise
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, MaxPoolNd
from symconv.network import Network, Node


def _torch():
    try:
        import torch
    except ImportError:  # an optional extra
        raise SpecError("PyTorch is not installed: pip install 'symconv[torch]' (torch>=2.1)") from None
    return torch


def _tuple(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


def _module_layer(module: Any, name: str) -> L.Layer:
    torch = _torch()
    nn = torch.nn
    dims = {"1d": 1, "2d": 2, "3d": 3}
    kind = type(module).__name__
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        cls = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}[module.weight.dim() - 2]
        padding = module.padding if isinstance(module.padding, str) else _tuple(module.padding)
        return cls(
            module.out_channels,
            _tuple(module.kernel_size),
            stride=_tuple(module.stride),
            padding=padding,
            dilation=_tuple(module.dilation),
            groups=module.groups,
            bias=module.bias is not None,
            padding_mode=module.padding_mode,
            in_channels=module.in_channels,
            name=name,
        )
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        cls = {1: L.ConvTranspose1d, 2: L.ConvTranspose2d, 3: L.ConvTranspose3d}[module.weight.dim() - 2]
        return cls(
            module.out_channels,
            _tuple(module.kernel_size),
            stride=_tuple(module.stride),
            padding=_tuple(module.padding),
            output_padding=_tuple(module.output_padding),
            groups=module.groups,
            bias=module.bias is not None,
            dilation=_tuple(module.dilation),
            in_channels=module.in_channels,
            name=name,
        )
    for prefix, cls_name in (("MaxPool", "MaxPool"), ("AvgPool", "AvgPool")):
        if kind.startswith(prefix) and kind[-2:] in dims:
            cls = getattr(L, f"{cls_name}{kind[-2:]}")
            args = {
                "kernel_size": _tuple(module.kernel_size),
                "stride": _tuple(module.stride),
                "padding": _tuple(module.padding),
                "ceil_mode": module.ceil_mode,
            }
            if prefix == "MaxPool":
                args["dilation"] = _tuple(module.dilation)
                if module.return_indices:
                    raise SpecError(f"node {name!r} ({kind}): return_indices=True is not supported")
            else:
                args["count_include_pad"] = module.count_include_pad
                if module.divisor_override is not None:
                    args["divisor_override"] = module.divisor_override
            return cls(**args, name=name)
    for prefix, cls_name in (("AdaptiveAvgPool", "AdaptiveAvgPool"), ("AdaptiveMaxPool", "AdaptiveMaxPool")):
        if kind.startswith(prefix) and kind[-2:] in dims:
            if getattr(module, "return_indices", False):
                raise SpecError(f"node {name!r} ({kind}): return_indices=True is not supported")
            return getattr(L, f"{cls_name}{kind[-2:]}")(_tuple(module.output_size), name=name)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        cls = {"BatchNorm1d": L.BatchNorm1d, "BatchNorm2d": L.BatchNorm2d, "BatchNorm3d": L.BatchNorm3d}[kind]
        return cls(num_features=module.num_features, eps=module.eps, affine=module.affine, name=name)
    if isinstance(module, nn.Linear):
        return L.Linear(
            module.out_features, bias=module.bias is not None, in_features=module.in_features, name=name
        )
    if isinstance(module, nn.Flatten):
        return L.Flatten(module.start_dim, module.end_dim, name=name)
    simple = {
        nn.ReLU: L.ReLU,
        nn.ReLU6: L.ReLU6,
        nn.GELU: L.GELU,
        nn.SiLU: L.SiLU,
        nn.Sigmoid: L.Sigmoid,
        nn.Tanh: L.Tanh,
        nn.Hardswish: L.Hardswish,
        nn.Hardsigmoid: L.Hardsigmoid,
        nn.Identity: L.Identity,
    }
    for cls, layer in simple.items():
        if type(module) is cls:
            return layer(name=name)
    if isinstance(module, nn.LeakyReLU):
        return L.LeakyReLU(negative_slope=module.negative_slope, name=name)
    if isinstance(module, nn.ELU):
        return L.ELU(alpha=module.alpha, name=name)
    if isinstance(module, nn.Softmax):
        if module.dim != 1:
            raise SpecError(f"node {name!r} (Softmax): only softmax over channels (dim=1) is supported")
        return L.Softmax(name=name)
    if isinstance(module, (nn.Dropout, nn.Dropout2d)):
        return (L.Dropout if type(module) is nn.Dropout else L.Dropout2d)(p=module.p, name=name)
    raise SpecError(f"node {name!r} (call_module {kind}): symconv has no rule for {kind}")


def _function_layer(node: Any, name: str) -> tuple[L.Layer, list[Any]]:
    """A layer for a call_function/call_method node, and the fx nodes it reads."""
    torch = _torch()
    F = torch.nn.functional
    target, args, kwargs = node.target, list(node.args), dict(node.kwargs)
    label = getattr(target, "__name__", str(target))
    if target in (operator.add, torch.add) or (node.op == "call_method" and target == "add"):
        if len(args) != 2 or not all(hasattr(a, "op") for a in args) or kwargs:
            raise SpecError(f"node {name!r} ({node.op} {label}): only the sum of two tensors is supported")
        return L.Add(name=name), args
    if target is torch.cat:
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if dim != 1:
            raise SpecError(
                f"node {name!r} (torch.cat): only concatenation along channels (dim=1) is supported"
            )
        return L.ChannelConcat(name=name), list(tensors)
    if target is torch.flatten or (node.op == "call_method" and target == "flatten"):
        start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
        end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
        if start < 1:
            raise SpecError(
                f"node {name!r} (flatten): flattening the batch axis (start_dim=0) is not supported"
            )
        return L.Flatten(start, end, name=name), args[:1]
    unary = {
        F.relu: L.ReLU,
        torch.relu: L.ReLU,
        F.relu6: L.ReLU6,
        torch.sigmoid: L.Sigmoid,
        F.sigmoid: L.Sigmoid,
        torch.tanh: L.Tanh,
        F.gelu: L.GELU,
        F.silu: L.SiLU,
        F.hardswish: L.Hardswish,
    }
    if target in unary:
        return unary[target](name=name), args[:1]
    if node.op == "call_method" and target in ("relu", "sigmoid", "tanh"):
        return {"relu": L.ReLU, "sigmoid": L.Sigmoid, "tanh": L.Tanh}[target](name=name), args[:1]
    if target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
        size = args[1] if len(args) > 1 else kwargs["output_size"]
        cls = L.AdaptiveAvgPool2d if target is F.adaptive_avg_pool2d else L.AdaptiveMaxPool2d
        return cls(_tuple(size), name=name), args[:1]
    if target in (F.dropout, F.dropout2d):
        return L.Dropout(name=name), args[:1]
    raise SpecError(f"node {name!r} ({node.op} {label}): symconv has no rule for it")


def from_torch(module: Any, input_shape: Sequence[int | str], name: str | None = None) -> Network:
    """Trace ``module`` with torch.fx into a network whose input is ``input_shape`` (channels first, no batch).

    >>> import torch  # doctest: +SKIP
    >>> from_torch(torch.nn.Conv2d(3, 8, 3), (3, "H", "W")).output_shape  # doctest: +SKIP
    (8, H - 2, W - 2)
    """
    torch = _torch()
    try:
        traced = torch.fx.symbolic_trace(module)
    except Exception as error:  # fx raises many kinds for untraceable control flow
        raise SpecError(f"torch.fx cannot trace {type(module).__name__}: {error}") from None
    modules = dict(traced.named_modules())
    index_of: dict[Any, int] = {}
    nodes: list[Node] = []
    output = None
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            if index_of:
                raise SpecError(f"node {node.name!r}: only modules with one input are supported")
            index_of[node] = -1
            continue
        if node.op == "output":
            output = node.args[0]
            continue
        if node.op == "get_attr":
            raise SpecError(
                f"node {node.name!r} (get_attr {node.target}): tensors used as data are not supported"
            )
        if node.op == "call_module":
            layer, sources = _module_layer(modules[node.target], node.target), node.args[:1]
            extra = [a for a in node.args[1:]] + list(node.kwargs.values())
            if extra:
                raise SpecError(
                    f"node {node.name!r} (call_module {node.target}): extra arguments are not supported"
                )
        else:
            layer, sources = _function_layer(node, node.name)
        inputs = []
        for source in sources:
            if source not in index_of:
                raise SpecError(f"node {node.name!r}: its input {source!r} is not a tensor symconv follows")
            inputs.append(index_of[source])
        node_name = node.target if node.op == "call_module" else node.name
        nodes.append(Node(str(node_name), layer, tuple(inputs)))
        index_of[node] = len(nodes) - 1
    if output is None or output not in index_of or index_of[output] != len(nodes) - 1:
        raise SpecError("the module's output must be its last computed tensor")
    return Network(tuple(input_shape), graph=nodes, name=name or type(module).__name__)


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
    torch = _torch()
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
    torch = _torch()
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
