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
from symconv.importers.torch.trace import TensorValue, Tracer, reachable
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, MaxPoolNd
from symconv.network import Network
from symconv.notation import to_text
from symconv.numeric import concrete
from symconv.sizes import parse_size

OPSET = 17
INSTALL_HINT = "onnx is not installed: from the symconv checkout, pip install -e '.[onnx]'"


def _onnx():
    try:
        import onnx
    except ImportError:  # an optional extra
        raise SpecError(INSTALL_HINT) from None
    return onnx


def _attributes(node: Any) -> dict[str, Any]:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _constant(onnx: Any, attrs: dict) -> np.ndarray:
    """The value of a Constant node, whichever attribute holds it."""
    if "value" in attrs:
        return onnx.numpy_helper.to_array(attrs["value"])
    for key, dtype in (
        ("value_int", np.int64),
        ("value_ints", np.int64),
        ("value_float", np.float32),
        ("value_floats", np.float32),
    ):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise SpecError("only a Constant with a tensor, integer or float value is supported")


def _dimension(dim: Any, file: str) -> sp.Expr:
    if dim.HasField("dim_value"):
        return sp.Integer(dim.dim_value)
    if dim.HasField("dim_param"):
        return parse_size(dim.dim_param, where=Where(file, field="input dim_param"))
    raise SpecError("an input dimension has neither a value nor a name", Where(file))


def import_onnx(path: str | Path) -> Network:
    """A symbolic network from an ONNX file, interpreted node by node (see :mod:`symconv.importers.onnx_rules`)."""
    onnx = _onnx()
    from symconv.importers.onnx_rules import RULES, STATIC_BATCH, Constant

    file = str(path)
    try:
        model = onnx.load(file)
    except FileNotFoundError:
        raise SpecError("no such file", Where(file)) from None
    except Exception as error:  # onnx raises DecodeError and others for a file that is not a model
        raise SpecError(f"not an ONNX model: {error}", Where(file)) from None
    graph = model.graph
    values: dict[str, Any] = {}
    for init in graph.initializer:
        values[init.name] = Constant(init.name, onnx.numpy_helper.to_array(init), weight=True)
    inputs = [i for i in graph.input if i.name not in values]
    if len(inputs) != 1:
        raise SpecError(f"expected one input tensor, found {len(inputs)}", Where(file))
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) < 2:
        raise SpecError("the input needs a batch axis and a channel axis", Where(file))
    input_shape = tuple(_dimension(d, file) for d in dims[1:])
    values[inputs[0].name] = TensorValue(-1, input_shape)
    batch = {STATIC_BATCH: sp.Integer(dims[0].dim_value)} if dims[0].HasField("dim_value") else {}
    tracer = Tracer(None, shared=False)
    for position, node in enumerate(graph.node):
        op = node.op_type
        name = node.name or f"{op.lower()}_{position}"
        where = f"node {name!r} ({op})"
        try:
            attrs = {**_attributes(node), **batch}
            if op == "Constant":
                values[node.output[0]] = Constant(name, _constant(onnx, attrs))
                continue
            rule = RULES.get(op)
            if rule is None:
                raise SpecError(f"symconv has no rule for the ONNX operator {op}")
            missing = [i for i in node.input if i and i not in values]
            if missing:
                raise SpecError(f"reads {missing[0]!r}, which is not computed before it")
            args = [values[i] if i else None for i in node.input]
            extra = {"outputs": len(node.output)} if op == "Split" else {}
            results = rule(tracer, name, op, attrs, *args, **extra)
        except SymconvError as error:
            raise SpecError(f"{where}: {error.message}", Where(file)) from None
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as error:
            raise SpecError(
                f"{where}: inputs or attributes symconv cannot read ({error})", Where(file)
            ) from None
        for output, value in zip(node.output, results, strict=False):
            values[output] = value
    if len(graph.output) != 1:
        raise SpecError(f"expected one output, found {len(graph.output)}", Where(file))
    output = values.get(graph.output[0].name)
    if not isinstance(output, TensorValue) or output.index < 0:
        raise SpecError("the graph's output is not a tensor computed from its input", Where(file))
    nodes = reachable(tracer.nodes, output.index)
    return Network(input_shape, graph=nodes, name=graph.name or Path(file).stem, guards=tracer.guards)


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
