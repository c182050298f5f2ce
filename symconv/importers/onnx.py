"""ONNX in and out.

:func:`import_onnx` reads a model's graph: every node becomes a layer (weights'
shapes come from the initializers), each ``dim_param`` of the input becomes a
symbol (a ``dim_param`` such as ``2*n`` is read as a size expression). Nodes
symconv does not know are reported by name and op type, never dropped.
:func:`export_onnx` writes a network with concrete channel counts; spatial
sizes may stay symbolic (``dim_param``). onnx is an optional extra, imported
lazily. Operator semantics: onnx.ai/onnx/operators (Conv, ConvTranspose,
MaxPool, AveragePool, BatchNormalization, Gemm, Flatten, Concat, Add).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError, SymconvError, Where
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, MaxPoolNd
from symconv.network import Network, Node
from symconv.numeric import concrete
from symconv.render.expressions import to_text
from symconv.sizes import parse_size

OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError:  # an optional extra
        raise SpecError("onnx is not installed: pip install 'symconv[onnx]'") from None
    return onnx


def _attributes(node: Any) -> dict[str, Any]:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads(attrs: dict, dims: int, where: str) -> list[int]:
    pads = list(attrs.get("pads", [0] * (2 * dims)))
    if pads[:dims] != pads[dims:]:
        raise SpecError(f"{where}: asymmetric pads {pads} are not supported")
    return pads[:dims]


def _conv(node: Any, attrs: dict, shapes: dict, name: str, transposed: bool) -> L.Layer:
    weight = shapes.get(node.input[1])
    if weight is None:
        raise SpecError(f"node {name!r} ({node.op_type}): its weight is not an initializer")
    dims = len(weight) - 2
    where = f"node {name!r} ({node.op_type})"
    kernel = list(attrs.get("kernel_shape", weight[2:]))
    stride, dilation = list(attrs.get("strides", [1] * dims)), list(attrs.get("dilations", [1] * dims))
    groups, bias = int(attrs.get("group", 1)), len(node.input) > 2 and node.input[2] != ""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if transposed:
        if auto not in ("NOTSET", "VALID"):
            raise SpecError(f"{where}: auto_pad {auto} is not supported")
        cls = {1: L.ConvTranspose1d, 2: L.ConvTranspose2d, 3: L.ConvTranspose3d}[dims]
        return cls(
            weight[1] * groups,
            kernel,
            stride=stride,
            padding=_pads(attrs, dims, where),
            output_padding=list(attrs.get("output_padding", [0] * dims)),
            groups=groups,
            bias=bias,
            dilation=dilation,
            in_channels=weight[0],
            name=name,
        )
    cls = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}[dims]
    if auto == "SAME_UPPER":
        padding: Any = "same"
    elif auto in ("NOTSET", "VALID"):
        padding = _pads(attrs, dims, where) if auto == "NOTSET" else 0
    else:
        raise SpecError(
            f"{where}: auto_pad {auto} is not supported (SAME_UPPER, VALID and explicit pads are)"
        )
    return cls(
        weight[0],
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        in_channels=weight[1] * groups,
        name=name,
    )


def _pool(node: Any, attrs: dict, name: str, rank: int) -> L.Layer:
    dims = rank - 1
    where = f"node {name!r} ({node.op_type})"
    kernel = list(attrs["kernel_shape"])
    args: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": list(attrs.get("strides", [1] * dims)),
        "padding": _pads(attrs, dims, where),
        "ceil_mode": bool(attrs.get("ceil_mode", 0)),
    }
    if node.op_type == "MaxPool":
        args["dilation"] = list(attrs.get("dilations", [1] * dims))
        return getattr(L, f"MaxPool{dims}d")(**args, name=name)
    args["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
    return getattr(L, f"AvgPool{dims}d")(**args, name=name)


def _layer(node: Any, shapes: dict, ranks: dict, name: str, clips: dict) -> tuple[L.Layer, list[str]]:
    """The layer for one ONNX node, and the names of the tensors it reads."""
    attrs = _attributes(node)
    op = node.op_type
    data = [node.input[0]]
    rank = ranks.get(node.input[0], 3)
    where = f"node {name!r} ({op})"
    if op in ("Conv", "ConvTranspose"):
        return _conv(node, attrs, shapes, name, op == "ConvTranspose"), data
    if op in ("MaxPool", "AveragePool"):
        return _pool(node, attrs, name, rank), data
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        cls = getattr(L, f"Adaptive{'Avg' if op == 'GlobalAveragePool' else 'Max'}Pool{rank - 1}d")
        return cls(1, name=name), data
    if op == "BatchNormalization":
        cls = {2: L.BatchNorm1d, 3: L.BatchNorm2d, 4: L.BatchNorm3d}.get(rank, L.BatchNorm1d)
        return cls(
            num_features=shapes[node.input[1]][0], eps=float(f"{attrs.get('epsilon', 1e-5):.6g}"), name=name
        ), data
    if op == "Gemm":
        weight = shapes.get(node.input[1])
        if weight is None or attrs.get("transA", 0):
            raise SpecError(f"{where}: only x @ W^T + b with W an initializer is supported")
        out_features, in_features = (
            (weight[0], weight[1]) if attrs.get("transB", 0) else (weight[1], weight[0])
        )
        bias = len(node.input) > 2 and node.input[2] != ""
        return L.Linear(out_features, bias=bias, in_features=in_features, name=name), data
    if op == "Flatten":
        axis = int(attrs.get("axis", 1))
        if axis < 1:
            raise SpecError(f"{where}: flattening the batch axis is not supported")
        return L.Flatten(axis, name=name), data
    if op == "Add":
        if any(i in shapes for i in node.input):
            raise SpecError(f"{where}: adding a constant tensor is not supported")
        return L.Add(name=name), list(node.input)
    if op == "Concat":
        if int(attrs.get("axis", 0)) != 1:
            raise SpecError(f"{where}: only concatenation along channels (axis=1) is supported")
        return L.ChannelConcat(name=name), list(node.input)
    if op == "Clip":
        bounds = [clips.get(i) for i in node.input[1:3]]
        if len(bounds) != 2 or bounds != [0.0, 6.0]:
            raise SpecError(f"{where}: only Clip(0, 6) (ReLU6) is supported")
        return L.ReLU6(name=name), data
    simple = {
        "Relu": L.ReLU,
        "Sigmoid": L.Sigmoid,
        "Tanh": L.Tanh,
        "HardSwish": L.Hardswish,
        "Identity": L.Identity,
        "Dropout": L.Dropout,
    }
    if op in simple:
        return simple[op](name=name), data
    if op == "LeakyRelu":
        return L.LeakyReLU(negative_slope=float(attrs.get("alpha", 0.01)), name=name), data
    if op == "Elu":
        return L.ELU(alpha=float(attrs.get("alpha", 1.0)), name=name), data
    if op == "HardSigmoid":
        return L.Hardsigmoid(name=name), data
    if op == "Softmax":
        if int(attrs.get("axis", -1)) != 1:
            raise SpecError(f"{where}: only softmax over channels (axis=1) is supported")
        return L.Softmax(name=name), data
    raise SpecError(f"{where}: symconv has no rule for the ONNX operator {op}")


def _dimension(dim: Any, file: str) -> sp.Expr:
    if dim.HasField("dim_value"):
        return sp.Integer(dim.dim_value)
    if dim.HasField("dim_param"):
        return parse_size(dim.dim_param, where=Where(file, field="input dim_param"))
    raise SpecError("an input dimension has neither a value nor a name", Where(file))


def import_onnx(path: str | Path) -> Network:
    """A symbolic network from an ONNX file."""
    onnx = _onnx()
    file = str(path)
    try:
        model = onnx.load(file)
    except FileNotFoundError:
        raise SpecError("no such file", Where(file)) from None
    except Exception as error:  # onnx raises DecodeError and others for a file that is not a model
        raise SpecError(f"not an ONNX model: {error}", Where(file)) from None
    graph = model.graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    clips = {
        init.name: float(onnx.numpy_helper.to_array(init)) for init in graph.initializer if not init.dims
    }
    inputs = [i for i in graph.input if i.name not in shapes]
    if len(inputs) != 1:
        raise SpecError(f"expected one input tensor, found {len(inputs)}", Where(file))
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) < 2:
        raise SpecError("the input needs a batch axis and a channel axis", Where(file))
    input_shape = tuple(_dimension(d, file) for d in dims[1:])
    index_of = {inputs[0].name: -1}
    ranks = {inputs[0].name: len(input_shape)}
    nodes: list[Node] = []
    constants = {n.output[0] for n in graph.node if n.op_type == "Constant"}
    for position, node in enumerate(graph.node):
        if node.op_type == "Constant":
            continue
        name = node.name or f"{node.op_type.lower()}_{position}"
        try:
            layer, sources = _layer(node, shapes, ranks, name, clips)
        except SymconvError as error:
            error.where = error.where or Where(file)
            raise
        sources = [s for s in sources if s and s not in constants]
        missing = [s for s in sources if s not in index_of]
        if missing:
            raise SpecError(
                f"node {name!r} ({node.op_type}): reads {missing[0]!r}, which is not computed before it",
                Where(file),
            )
        nodes.append(Node(name, layer, tuple(index_of[s] for s in sources)))
        index_of[node.output[0]] = len(nodes) - 1
        ranks[node.output[0]] = 1 if node.op_type in ("Flatten", "Gemm") else ranks[sources[0]]
    outputs = [o.name for o in graph.output]
    if len(outputs) != 1 or index_of.get(outputs[0]) != len(nodes) - 1:
        raise SpecError("the graph's one output must be its last node", Where(file))
    return Network(input_shape, graph=nodes, name=graph.name or Path(file).stem)


def _integer(value: Any, what: str) -> int:
    value = sp.sympify(value)
    if not value.is_Integer:
        raise SpecError(f"{what} = {value}: ONNX weights need concrete sizes; give values with --at")
    return int(value)


def export_onnx(network: Network, path: str | Path, values: dict | None = None) -> None:
    """Write ``network`` as an ONNX model (weights are zeros: only their shapes matter here)."""
    onnx = _onnx()
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    report = network.report.at(values) if values else network.report
    resolved = network.report.resolve(values) if values else {}
    initializers, nodes = [], []
    names = {-1: "input"}

    def tensor(name: str, shape: tuple[int, ...]) -> str:
        initializers.append(numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name))
        return name

    for index, (node, row) in enumerate(zip(network.graph, report.rows, strict=True)):
        layer = node.layer
        if resolved:
            layer = concrete(layer, resolved)
        x = row.input_shapes[0]
        key = f"n{index}"
        output = f"{key}_out"
        sources = [names[i] for i in node.inputs]
        what = f"{node.name} ({layer.kind})"
        if isinstance(layer, L.DepthwiseConv2d):
            layer = layer.as_conv(x)
        if isinstance(layer, (ConvNd, ConvTransposeNd)):
            if isinstance(layer, ConvNd) and layer.padding_mode != "zeros":
                raise SpecError(f"{what}: padding_mode {layer.padding_mode} has no ONNX Conv attribute")
            weight = tuple(_integer(d, f"{what} weight") for d in layer.weight_shapes(x)["weight"])
            inputs = [sources[0], tensor(f"{key}_weight", weight)]
            if layer.bias:
                inputs.append(tensor(f"{key}_bias", (_integer(layer.out_channels, what),)))
            attrs: dict[str, Any] = {
                "kernel_shape": [_integer(k, what) for k in layer.kernel_size],
                "strides": [_integer(s, what) for s in layer.stride],
                "dilations": [_integer(d, what) for d in layer.dilation],
                "group": _integer(layer.groups, what),
            }
            if isinstance(layer, ConvNd) and layer.same:
                attrs["auto_pad"] = "SAME_UPPER"
            else:
                attrs["pads"] = [_integer(p, what) for p in layer.padding] * 2
            if isinstance(layer, ConvTransposeNd):
                attrs["output_padding"] = [_integer(p, what) for p in layer.output_padding]
            op = "Conv" if isinstance(layer, ConvNd) else "ConvTranspose"
            nodes.append(helper.make_node(op, inputs, [output], name=node.name, **attrs))
        elif isinstance(layer, (MaxPoolNd, AvgPoolNd)):
            attrs = {
                "kernel_shape": [_integer(k, what) for k in layer.kernel_size],
                "strides": [_integer(s, what) for s in layer.stride],
                "pads": [_integer(p, what) for p in layer.padding] * 2,
                "ceil_mode": int(layer.ceil_mode),
            }
            if isinstance(layer, MaxPoolNd):
                attrs["dilations"] = [_integer(d, what) for d in layer.dilation]
                nodes.append(helper.make_node("MaxPool", sources, [output], name=node.name, **attrs))
            else:
                if layer.divisor_override is not None:
                    raise SpecError(f"{what}: divisor_override has no ONNX attribute")
                attrs["count_include_pad"] = int(layer.count_include_pad)
                nodes.append(helper.make_node("AveragePool", sources, [output], name=node.name, **attrs))
        elif isinstance(layer, AdaptivePoolNd):
            if any(s is None or s != 1 for s in layer.output_size):
                raise SpecError(f"{what}: only global pooling (output size 1) has an ONNX operator")
            op = "GlobalAveragePool" if layer.mode == "avg" else "GlobalMaxPool"
            nodes.append(helper.make_node(op, sources, [output], name=node.name))
        elif isinstance(layer, BatchNormNd):
            if not layer.affine:
                raise SpecError(f"{what}: ONNX stores scale and bias as tensors; export an affine BatchNorm")
            channels = (_integer(x[0], what),)
            inputs = [
                sources[0],
                *(tensor(f"{key}_{part}", channels) for part in ("scale", "bias", "mean", "var")),
            ]
            nodes.append(
                helper.make_node(
                    "BatchNormalization", inputs, [output], name=node.name, epsilon=float(layer.eps)
                )
            )
        elif isinstance(layer, L.Linear):
            if len(x) != 1:
                raise SpecError(f"{what}: only a linear layer on flattened features has an ONNX Gemm here")
            shape = (_integer(layer.out_features, what), _integer(x[-1], what))
            inputs = [sources[0], tensor(f"{key}_weight", shape)]
            if layer.bias:
                inputs.append(tensor(f"{key}_bias", shape[:1]))
            nodes.append(helper.make_node("Gemm", inputs, [output], name=node.name, transB=1))
        elif isinstance(layer, L.Flatten):
            if layer.end_dim != -1:
                raise SpecError(f"{what}: ONNX Flatten always flattens to the last axis")
            nodes.append(helper.make_node("Flatten", sources, [output], name=node.name, axis=layer.start_dim))
        elif isinstance(layer, L.Add) and layer.scalar is None:
            nodes.append(helper.make_node("Add", sources, [output], name=node.name))
        elif isinstance(layer, L.ChannelConcat):
            nodes.append(helper.make_node("Concat", sources, [output], name=node.name, axis=layer.dim))
        elif isinstance(layer, L.ReLU6):
            low = helper.make_tensor(f"{key}_min", onnx.TensorProto.FLOAT, [], [0.0])
            high = helper.make_tensor(f"{key}_max", onnx.TensorProto.FLOAT, [], [6.0])
            initializers.extend([low, high])
            nodes.append(
                helper.make_node("Clip", [sources[0], f"{key}_min", f"{key}_max"], [output], name=node.name)
            )
        else:
            simple = {
                L.ReLU: ("Relu", {}),
                L.Sigmoid: ("Sigmoid", {}),
                L.Tanh: ("Tanh", {}),
                L.Hardswish: ("HardSwish", {}),
                L.Identity: ("Identity", {}),
                L.Dropout: ("Dropout", {}),
                L.Dropout2d: ("Dropout", {}),
                L.Softmax: ("Softmax", {"axis": 1}),
                L.Hardsigmoid: ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
            }
            if isinstance(layer, L.LeakyReLU):
                op, attrs = "LeakyRelu", {"alpha": float(layer.negative_slope)}
            elif isinstance(layer, L.ELU):
                op, attrs = "Elu", {"alpha": float(layer.alpha)}
            elif type(layer) in simple:
                op, attrs = simple[type(layer)]
            else:
                raise SpecError(f"{what}: no ONNX operator is mapped for {layer.kind}")
            nodes.append(helper.make_node(op, sources, [output], name=node.name, **attrs))
        names[index] = output

    def dims(shape: tuple) -> list:
        """Batch axis N, then integers or ``dim_param`` expressions."""
        return ["N", *(int(v) if sp.sympify(v).is_Integer else to_text(v) for v in shape)]

    graph = helper.make_graph(
        nodes,
        network.name or "symconv",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, dims(report.input_shape))],
        [
            helper.make_tensor_value_info(
                names[len(network.graph) - 1], onnx.TensorProto.FLOAT, dims(report.output_shape)
            )
        ],
        initializer=initializers,
    )
    model = helper.make_model(graph, producer_name="symconv", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
