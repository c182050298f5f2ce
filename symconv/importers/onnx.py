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

import math
from functools import singledispatch
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError, SymconvError, Where
from symconv.importers.torch.trace import TensorValue, Tracer, reachable
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Elementwise
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


INTEGER_ATTRIBUTES = frozenset(
    {
        "kernel_shape", "strides", "pads", "dilations", "group", "output_padding", "output_shape",
        "ceil_mode", "count_include_pad", "axis", "axes", "keepdims", "perm", "transA", "transB",
        "blocksize", "storage_order", "allowzero", "noop_with_empty_axes",
    }
)  # fmt: skip
"""Attributes that ONNX types as ints: a file that gives them as strings or floats is refused by name."""


def _attributes(node: Any) -> dict[str, Any]:
    onnx = _onnx()
    found = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    for name, value in found.items():
        if name in INTEGER_ATTRIBUTES:
            values = value if isinstance(value, (list, tuple)) else [value]
            if not all(type(v) is int for v in values):
                raise SpecError(f"the attribute {name!r} must be integers, got {value!r}")
    return found


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


FOLDED = frozenset(
    {
        "Cast", "Concat", "ConstantOfShape", "Gather", "Identity", "Reshape", "Slice", "Squeeze", "Transpose",
        "Unsqueeze", "Add", "Sub", "Mul", "Div", "Neg", "Equal", "Where", "Not",
    }
)  # fmt: skip
"""Operators evaluated on constants as the graph is read (the TorchScript exporter computes ``Pad``'s pads
with a subgraph of them); each output is no larger than its inputs, except ConstantOfShape's, bounded below."""
FOLDED_ENTRIES = 1 << 16


def _folded(onnx: Any, node: Any, args: list[Any], opset: int) -> list[np.ndarray] | None:
    """The outputs of ``node`` evaluated by onnx's reference evaluator, when it is in :data:`FOLDED` and reads
    only constants that are not learnable weights (integer initializers are shapes, not weights); else None."""
    from symconv.importers.onnx_rules import Constant

    present = [a for a in args if a is not None]
    if node.op_type not in FOLDED or not present or len(present) != len([i for i in node.input if i]):
        return None
    if not all(isinstance(a, Constant) and (not a.weight or a.tensor.dtype.kind in "biu") for a in present):
        return None
    if (
        node.op_type == "ConstantOfShape"
        and math.prod(int(v) for v in present[0].tensor.reshape(-1)) > FOLDED_ENTRIES
    ):
        raise SpecError(f"ConstantOfShape of shape {present[0].tensor.tolist()} is too large to evaluate")
    from onnx.reference import ReferenceEvaluator

    feeds = {i: np.asarray(a.tensor) for i, a in zip(node.input, args, strict=True) if i}
    try:
        return list(ReferenceEvaluator(node, opsets={"": opset}).run(None, feeds))
    except Exception as error:  # the reference evaluator raises what numpy raises for inputs it cannot take
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(f"its constant inputs cannot be evaluated ({first[:200]})") from None


def _dimension(dim: Any, file: str) -> sp.Expr:
    if dim.HasField("dim_value"):
        return sp.Integer(dim.dim_value)
    if dim.HasField("dim_param"):
        return parse_size(dim.dim_param, where=Where(file, field="input dim_param"))
    raise SpecError("an input dimension has neither a value nor a name", Where(file))


def import_onnx(path: str | Path) -> Network:
    """A symbolic network from an ONNX file, interpreted node by node (the rules are in ``symconv.importers.onnx_rules``)."""
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
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
    for position, node in enumerate(graph.node):
        op = node.op_type
        name = node.name or f"{op.lower()}_{position}"
        where = f"node {name!r} ({op})"
        try:
            attrs = {**_attributes(node), **batch}
            if op == "Constant":
                values[node.output[0]] = Constant(name, _constant(onnx, attrs))
                continue
            missing = [i for i in node.input if i and i not in values]
            if missing and op in RULES:
                raise SpecError(f"reads {missing[0]!r}, which is not computed before it")
            args = [values.get(i) if i else None for i in node.input]
            folded = _folded(onnx, node, args, opset)
            if folded is not None:
                for output, value in zip(node.output, folded, strict=False):
                    values[output] = Constant(name, value)
                continue
            rule = RULES.get(op)
            if rule is None:
                raise SpecError(f"symconv has no rule for the ONNX operator {op}")
            if missing:
                raise SpecError(f"reads {missing[0]!r}, which is not computed before it")
            extra = {"outputs": len(node.output)} if op == "Split" else {}
            results = rule(tracer, name, op, attrs, *args, **extra)
        except SymconvError as error:
            raise SpecError(f"{where}: {error.message}", Where(file)) from None
        except KeyError as error:
            raise SpecError(f"{where}: the attribute {error.args[0]!r} is missing", Where(file)) from None
        except (TypeError, ValueError, IndexError, AttributeError) as error:
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
    helper = onnx.helper
    report = network.report.at(values) if values else network.report
    resolved = network.report.resolve(values) if values else {}
    initializers, nodes = [], []
    names = {-1: "input"}
    for index, (node, row) in enumerate(zip(network.graph, report.rows, strict=True)):
        layer = concrete(node.layer, resolved) if resolved else node.layer
        sources = [names[i] for i in node.inputs]
        emit = Emission(
            onnx, node.name, f"{node.name} ({layer.kind})", f"n{index}", sources, row.input_shapes[0]
        )
        onnx_nodes(layer, emit)
        nodes.extend(emit.nodes)
        initializers.extend(emit.initializers)
        names[index] = emit.output

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


class Emission:
    """The ONNX nodes and initializers written for one layer: its sources, output name and input shape."""

    def __init__(self, onnx: Any, name: str, what: str, key: str, sources: list[str], x: tuple) -> None:
        self.onnx, self.name, self.what, self.key, self.sources, self.x = onnx, name, what, key, sources, x
        self.output = f"{key}_out"
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def integer(self, value: Any, what: str | None = None) -> int:
        return _integer(value, what or self.what)

    def tensor(self, part: str, shape: tuple[int, ...]) -> str:
        """A zero weight named after the layer (only its shape matters here)."""
        name = f"{self.key}_{part}"
        self.initializers.append(self.onnx.numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name))
        return name

    def scalar(self, part: str, value: float) -> str:
        name = f"{self.key}_{part}"
        self.initializers.append(self.onnx.helper.make_tensor(name, self.onnx.TensorProto.FLOAT, [], [value]))
        return name

    def node(self, op: str, inputs: list[str] | None = None, **attrs: Any) -> None:
        inputs = self.sources if inputs is None else inputs
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [self.output], name=self.name, **attrs))


@singledispatch
def onnx_nodes(layer: L.Layer, emit: Emission) -> None:
    """Write ``layer`` as ONNX nodes: one rule per layer class (``@onnx_nodes.register``)."""
    raise SpecError(f"{emit.what}: no ONNX operator is mapped for {layer.kind}")


@onnx_nodes.register
def _(layer: L.DepthwiseConv2d, emit: Emission) -> None:
    onnx_nodes(layer.as_conv(emit.x), emit)


def _convolution(layer: ConvNd | ConvTransposeNd, emit: Emission) -> None:
    weight = tuple(emit.integer(d, f"{emit.what} weight") for d in layer.weight_shapes(emit.x)["weight"])
    inputs = [emit.sources[0], emit.tensor("weight", weight)]
    if layer.bias:
        inputs.append(emit.tensor("bias", (emit.integer(layer.out_channels),)))
    attrs: dict[str, Any] = {
        "kernel_shape": [emit.integer(k) for k in layer.kernel_size],
        "strides": [emit.integer(s) for s in layer.stride],
        "dilations": [emit.integer(d) for d in layer.dilation],
        "group": emit.integer(layer.groups),
    }
    if isinstance(layer, ConvNd) and layer.same:
        attrs["auto_pad"] = "SAME_UPPER"
    else:
        attrs["pads"] = [emit.integer(p) for p in layer.padding] * 2
    if isinstance(layer, ConvTransposeNd):
        attrs["output_padding"] = [emit.integer(p) for p in layer.output_padding]
    emit.node("Conv" if isinstance(layer, ConvNd) else "ConvTranspose", inputs, **attrs)


@onnx_nodes.register
def _(layer: ConvNd, emit: Emission) -> None:
    if layer.padding_mode != "zeros":
        raise SpecError(f"{emit.what}: padding_mode {layer.padding_mode} has no ONNX Conv attribute")
    _convolution(layer, emit)


@onnx_nodes.register
def _(layer: ConvTransposeNd, emit: Emission) -> None:
    _convolution(layer, emit)


def _pool_attributes(layer: MaxPoolNd | AvgPoolNd, emit: Emission) -> dict[str, Any]:
    return {
        "kernel_shape": [emit.integer(k) for k in layer.kernel_size],
        "strides": [emit.integer(s) for s in layer.stride],
        "pads": [emit.integer(p) for p in layer.padding] * 2,
        "ceil_mode": int(layer.ceil_mode),
    }


@onnx_nodes.register
def _(layer: MaxPoolNd, emit: Emission) -> None:
    emit.node("MaxPool", dilations=[emit.integer(d) for d in layer.dilation], **_pool_attributes(layer, emit))


@onnx_nodes.register
def _(layer: AvgPoolNd, emit: Emission) -> None:
    if layer.divisor_override is not None:
        raise SpecError(f"{emit.what}: divisor_override has no ONNX attribute")
    emit.node("AveragePool", count_include_pad=int(layer.count_include_pad), **_pool_attributes(layer, emit))


@onnx_nodes.register
def _(layer: AdaptivePoolNd, emit: Emission) -> None:
    if any(s is None or s != 1 for s in layer.output_size):
        raise SpecError(f"{emit.what}: only global pooling (output size 1) has an ONNX operator")
    emit.node("GlobalAveragePool" if layer.mode == "avg" else "GlobalMaxPool")


@onnx_nodes.register
def _(layer: BatchNormNd, emit: Emission) -> None:
    if not layer.affine:
        raise SpecError(f"{emit.what}: ONNX stores scale and bias as tensors; export an affine BatchNorm")
    channels = (emit.integer(emit.x[0]),)
    parts = [emit.tensor(part, channels) for part in ("scale", "bias", "mean", "var")]
    emit.node("BatchNormalization", [emit.sources[0], *parts], epsilon=float(layer.eps))


@onnx_nodes.register
def _(layer: L.Linear, emit: Emission) -> None:
    if len(emit.x) != 1:
        raise SpecError(f"{emit.what}: only a linear layer on flattened features has an ONNX Gemm here")
    shape = (emit.integer(layer.out_features), emit.integer(emit.x[-1]))
    inputs = [emit.sources[0], emit.tensor("weight", shape)]
    if layer.bias:
        inputs.append(emit.tensor("bias", shape[:1]))
    emit.node("Gemm", inputs, transB=1)


@onnx_nodes.register
def _(layer: L.Flatten, emit: Emission) -> None:
    if layer.end_dim != -1:
        raise SpecError(f"{emit.what}: ONNX Flatten always flattens to the last axis")
    emit.node("Flatten", axis=layer.start_dim)


@onnx_nodes.register
def _(layer: L.Add, emit: Emission) -> None:
    if layer.scalar is not None:
        raise SpecError(f"{emit.what}: no ONNX operator is mapped for add with a scalar")
    emit.node("Add")


@onnx_nodes.register
def _(layer: L.ChannelConcat, emit: Emission) -> None:
    emit.node("Concat", axis=layer.dim)


@onnx_nodes.register
def _(layer: L.ReLU6, emit: Emission) -> None:
    emit.node("Clip", [emit.sources[0], emit.scalar("min", 0.0), emit.scalar("max", 6.0)])


@onnx_nodes.register
def _(layer: L.LeakyReLU, emit: Emission) -> None:
    emit.node("LeakyRelu", alpha=float(layer.negative_slope))


@onnx_nodes.register
def _(layer: L.ELU, emit: Emission) -> None:
    emit.node("Elu", alpha=float(layer.alpha))


_ONE_OPERATOR: dict[type, tuple[str, dict[str, Any]]] = {
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
"""Layers written as one ONNX operator with fixed attributes."""


@onnx_nodes.register
def _(layer: Elementwise, emit: Emission) -> None:
    if type(layer) not in _ONE_OPERATOR:
        raise SpecError(f"{emit.what}: no ONNX operator is mapped for {layer.kind}")
    op, attrs = _ONE_OPERATOR[type(layer)]
    emit.node(op, **attrs)
