"""ONNX in: interpret a model's graph value by value, one rule per operator.

Every ONNX value becomes a tensor symconv follows (a node and its symbolic
batchless shape), a constant (an initializer, a ``Constant`` node, or a copy of
one through ``Identity``), or a shape (the output of ``Shape``: a list of sizes,
the batch size being :data:`~symconv.importers.torch.trace.BATCH`). Shape
subgraphs (``Shape → Gather → Unsqueeze → Concat → Reshape``, as the
TorchScript exporter writes for ``x.view(b, g, c // g, h, w)``) are evaluated
symbolically. The tensor operations share their rules with the PyTorch
importer. Operator semantics: onnx.ai/onnx/operators.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError
from symconv.importers.torch import rules as R
from symconv.importers.torch.trace import BATCH, DataValue, TensorValue, Tracer

STATIC_BATCH = " static batch"  # an attribute name no ONNX operator has: the input's fixed batch size


@dataclass(frozen=True)
class Constant(DataValue):
    """An ONNX constant: an initializer (a learnable weight) or a value the graph computes from constants."""

    weight: bool = False

    @property
    def learnable(self) -> bool:
        return self.weight

    def scalar(self) -> float | int | None:
        """The value of a one-element constant that is not a weight, else None."""
        if self.weight and self.tensor.ndim > 0 or self.tensor.size != 1:
            return None
        value = self.tensor.reshape(()).item()
        return int(value) if float(value).is_integer() and self.tensor.dtype.kind in "iu" else value


Rule = Callable[..., list[Any]]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    """Register a rule for operators; the table is complete once this module is imported."""

    def register(function: Rule) -> Rule:
        for op in ops:
            RULES[op] = function
        return function

    return register


def ints(value: Any) -> list[int]:
    if isinstance(value, Constant):
        return [int(v) for v in np.asarray(value.tensor).reshape(-1)]
    return [int(v) for v in value]


def sizes_of(value: Any) -> list[Any]:
    """A shape operand as a list of sizes (from ``Shape`` arithmetic or a constant)."""
    if isinstance(value, Constant):
        return [sp.Integer(int(v)) for v in np.asarray(value.tensor).reshape(-1)]
    if isinstance(value, list):
        return value
    if isinstance(value, (int, sp.Basic)):
        return [sp.sympify(value)]
    raise SpecError(f"expected a shape, got {type(value).__name__}")


def weight(value: Any, what: str) -> Any:
    if not isinstance(value, Constant):
        raise SpecError(f"its {what} is not a constant (an initializer)")
    return value


def pads(attrs: dict, dims: int) -> list[int]:
    found = list(attrs.get("pads", [0] * (2 * dims)))
    if found[:dims] != found[dims:]:
        raise SpecError(f"asymmetric pads {found} are not supported")
    return found[:dims]


# --- layers with weights ---------------------------------------------------------------------------------
@rule("Conv", "ConvTranspose")
def conv(t: Tracer, name: str, op: str, attrs: dict, x: Any, w: Any, b: Any = None) -> list[Any]:
    w = weight(w, "weight")
    shape = w.tensor.shape
    dims = len(shape) - 2
    if not 1 <= dims <= 3:
        raise SpecError(f"the weight has rank {len(shape)}; a {op} weight has rank 3, 4 or 5")
    kernel = list(attrs.get("kernel_shape", shape[2:]))
    stride, dilation = list(attrs.get("strides", [1] * dims)), list(attrs.get("dilations", [1] * dims))
    groups = int(attrs.get("group", 1))
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    tensors = [w.tensor, None if b is None else weight(b, "bias").tensor]
    if op == "ConvTranspose":
        if auto not in ("NOTSET", "VALID"):
            raise SpecError(f"auto_pad {auto} is not supported")
        layer = getattr(L, f"ConvTranspose{dims}d")(
            int(shape[1]) * groups,
            kernel,
            stride=stride,
            padding=pads(attrs, dims),
            output_padding=list(attrs.get("output_padding", [0] * dims)),
            groups=groups,
            bias=b is not None,
            dilation=dilation,
            in_channels=int(shape[0]),
        )
        return [t.emit(name, layer, [R.tensor(x, name)], tensors)]
    if auto == "SAME_UPPER":
        padding: Any = "same"
    elif auto in ("NOTSET", "VALID"):
        padding = pads(attrs, dims) if auto == "NOTSET" else 0
    else:
        raise SpecError(f"auto_pad {auto} is not supported (SAME_UPPER, VALID and explicit pads are)")
    layer = getattr(L, f"Conv{dims}d")(
        int(shape[0]),
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=b is not None,
        in_channels=int(shape[1]) * groups,
    )
    return [t.emit(name, layer, [R.tensor(x, name)], tensors)]


@rule("Gemm")
def gemm(t: Tracer, name: str, op: str, attrs: dict, x: Any, w: Any, b: Any = None) -> list[Any]:
    w = weight(w, "weight")
    if attrs.get("transA", 0) or float(attrs.get("alpha", 1.0)) != 1.0:
        raise SpecError("only x @ W^T + b is supported")
    out_features, in_features = w.tensor.shape if attrs.get("transB", 0) else w.tensor.shape[::-1]
    layer = L.Linear(int(out_features), bias=b is not None, in_features=int(in_features))
    return [t.emit(name, layer, [R.tensor(x, name)], [w.tensor, None if b is None else b.tensor])]


@rule("MatMul")
def matmul(t: Tracer, name: str, op: str, attrs: dict, a: Any, b: Any) -> list[Any]:
    if isinstance(b, Constant) and b.tensor.ndim == 2:  # x @ W: a linear layer without bias
        layer = L.Linear(int(b.tensor.shape[1]), bias=False, in_features=int(b.tensor.shape[0]))
        return [t.emit(name, layer, [R.tensor(a, name)], [b.tensor])]
    return [R.matmul(t, name, a, b)]


@rule("BatchNormalization")
def batch_norm(
    t: Tracer, name: str, op: str, attrs: dict, x: Any, scale: Any, bias: Any, *stats: Any
) -> list[Any]:
    x = R.tensor(x, name)
    cls = {2: L.BatchNorm1d, 3: L.BatchNorm1d, 4: L.BatchNorm2d, 5: L.BatchNorm3d}[x.rank]
    layer = cls(
        num_features=int(weight(scale, "scale").tensor.shape[0]),
        eps=float(f"{attrs.get('epsilon', 1e-5):.6g}"),
    )
    return [t.emit(name, layer, [x], [scale.tensor, weight(bias, "bias").tensor])]


@rule("LayerNormalization")
def layer_norm(t: Tracer, name: str, op: str, attrs: dict, x: Any, scale: Any, bias: Any = None) -> list[Any]:
    x = R.tensor(x, name)
    axis = int(attrs.get("axis", -1)) % x.rank
    layer = L.LayerNorm(
        list(x.torch_shape()[axis:]), eps=float(f"{attrs.get('epsilon', 1e-5):.6g}"), bias=bias is not None
    )
    return [t.emit(name, layer, [x], [weight(scale, "scale").tensor, None if bias is None else bias.tensor])]


# --- pooling, activations, merges ---------------------------------------------------------------------------
@rule("MaxPool", "AveragePool")
def pool(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    x = R.tensor(x, name)
    dims = x.rank - 2
    args: dict[str, Any] = {
        "kernel_size": list(attrs["kernel_shape"]),
        "stride": list(attrs.get("strides", [1] * dims)),
        "padding": pads(attrs, dims),
        "ceil_mode": bool(attrs.get("ceil_mode", 0)),
    }
    if op == "MaxPool":
        args["dilation"] = list(attrs.get("dilations", [1] * dims))
        return [t.emit(name, getattr(L, f"MaxPool{dims}d")(**args), [x])]
    args["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
    return [t.emit(name, getattr(L, f"AvgPool{dims}d")(**args), [x])]


@rule("GlobalAveragePool", "GlobalMaxPool")
def global_pool(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    x = R.tensor(x, name)
    cls = getattr(L, f"Adaptive{'Avg' if op == 'GlobalAveragePool' else 'Max'}Pool{x.rank - 2}d")
    return [t.emit(name, cls(1), [x])]


SIMPLE = {
    "Relu": L.ReLU,
    "Sigmoid": L.Sigmoid,
    "Tanh": L.Tanh,
    "HardSwish": L.Hardswish,
    "HardSigmoid": L.Hardsigmoid,
    "Dropout": L.Dropout,
    "Gelu": L.GELU,
}


@rule(*SIMPLE)
def simple(t: Tracer, name: str, op: str, attrs: dict, x: Any, *rest: Any) -> list[Any]:
    return [t.emit(name, SIMPLE[op](), [R.tensor(x, name)])]


@rule("LeakyRelu", "Elu")
def slope(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    if op == "Elu":
        return [t.emit(name, L.ELU(alpha=float(attrs.get("alpha", 1.0))), [R.tensor(x, name)])]
    return [t.emit(name, L.LeakyReLU(negative_slope=float(attrs.get("alpha", 0.01))), [R.tensor(x, name)])]


@rule("Clip")
def clip(t: Tracer, name: str, op: str, attrs: dict, x: Any, low: Any = None, high: Any = None) -> list[Any]:
    bounds = [attrs.get("min"), attrs.get("max")]
    for i, bound in enumerate((low, high)):
        if isinstance(bound, Constant):
            bounds[i] = float(bound.tensor.reshape(()).item())
    if bounds == [0.0, 6.0]:
        return [t.emit(name, L.ReLU6(), [R.tensor(x, name)])]
    if bounds[0] == 0.0 and (bounds[1] is None or math.isinf(bounds[1])):
        return [t.emit(name, L.ReLU(), [R.tensor(x, name)])]
    raise SpecError(f"only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) are supported, got bounds {bounds}")


@rule("Softmax")
def softmax(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    return [R.softmax_function(t, name, x, int(attrs.get("axis", -1)))]


@rule("Identity", "Cast")
def identity(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    return [x]


ARITHMETIC = {"Add": L.Add, "Sub": L.Sub, "Mul": L.Mul, "Div": L.Div}


def _scalar_or_value(value: Any) -> Any:
    """A one-element constant as its number (an exporter's scalar operand); anything else as it is."""
    scalar = value.scalar() if isinstance(value, Constant) else None
    return value if scalar is None else scalar


@rule(*ARITHMETIC)
def arithmetic(t: Tracer, name: str, op: str, attrs: dict, a: Any, b: Any) -> list[Any]:
    if isinstance(a, list) or isinstance(b, list):  # shape arithmetic, elementwise
        left, right = sizes_of(a), sizes_of(b)
        function = {
            "Add": sp.Add,
            "Sub": lambda p, q: p - q,
            "Mul": sp.Mul,
            "Div": lambda p, q: sp.floor(p / q),
        }[op]
        if len(left) == 1:
            left = left * len(right)
        if len(right) == 1:
            right = right * len(left)
        return [[function(p, q) for p, q in zip(left, right, strict=True)]]
    a, b = (_scalar_or_value(v) for v in (a, b))
    if op == "Div" and isinstance(a, (int, sp.Basic)) and isinstance(b, (int, sp.Basic)):
        return [sp.floor(sp.sympify(a) / b)]  # integer Div of sizes truncates, and sizes are positive
    return [R.arithmetic(ARITHMETIC[op])(t, name, a, b)]


@rule("Concat")
def concat(t: Tracer, name: str, op: str, attrs: dict, *values: Any) -> list[Any]:
    if any(isinstance(v, list) for v in values) or all(isinstance(v, Constant) for v in values):
        return [[s for v in values for s in sizes_of(v)]]
    return [R.cat(t, name, list(values), int(attrs.get("axis", 0)))]


# --- shapes ------------------------------------------------------------------------------------------
@rule("Shape")
def shape(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    """The shape, or its axes ``start`` to ``end`` (opset 15; negative counts from the end, as in Python)."""
    full = list(R.tensor(x, name).torch_shape())
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    return [full[start : None if end is None else int(end)]]


@rule("Gather")
def gather(t: Tracer, name: str, op: str, attrs: dict, data: Any, index: Any) -> list[Any]:
    indices = ints(index)
    scalar = isinstance(index, Constant) and index.tensor.ndim == 0
    if isinstance(data, list):
        picked = [data[i] for i in indices]
        return [picked[0] if scalar else picked]
    if scalar and isinstance(data, TensorValue):
        return [t.emit(name, L.Select(dim=int(attrs.get("axis", 0)), index=indices[0]), [data])]
    raise SpecError("Gather is supported on shapes and for one index of a tensor")


@rule("Unsqueeze", "Squeeze")
def unsqueeze(t: Tracer, name: str, op: str, attrs: dict, x: Any, axes: Any = None) -> list[Any]:
    axes = ints(axes) if axes is not None else list(attrs.get("axes", []))
    if not isinstance(x, TensorValue):
        return [sizes_of(x)] if op == "Unsqueeze" else [sizes_of(x)[0]]
    if op == "Squeeze":
        return [R.squeeze(t, name, x, axes or None)]
    for axis in sorted(axes):
        x = R.unsqueeze(t, name, x, axis)
    return [x]


RESIZE_MODES = {"nearest": "nearest", "linear": "bilinear"}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@rule("Resize", "Upsample")
def resize(t: Tracer, name: str, op: str, attrs: dict, x: Any, *operands: Any) -> list[Any]:
    """``Resize(X, roi, scales, sizes)`` (``Upsample(X, scales)`` before opset 10): to ``sizes``, or by ``scales``.

    The output is ``sizes`` or ``floor(n · scale)`` per axis (ONNX operator
    documentation, Resize); the batch and channel scales must be 1.
    """
    x = R.tensor(x, name)
    mode = _text(attrs.get("mode", b"nearest"))
    if mode not in RESIZE_MODES:
        raise SpecError(f"interpolation mode {mode!r} is not supported (nearest and linear are)")
    transform = _text(attrs.get("coordinate_transformation_mode", b"half_pixel"))
    if transform == "tf_crop_and_resize":
        raise SpecError("coordinate_transformation_mode 'tf_crop_and_resize' (a crop) is not supported")
    if mode == "linear" and x.rank != 4:
        raise SpecError(f"linear interpolation of a rank-{x.rank} tensor is not supported (2-D images are)")
    if op == "Upsample" or len(operands) == 1:  # Upsample, and Resize of opset 10: (X, scales)
        scales, sizes = operands[0], None
    else:  # (X, roi, scales, sizes), the optional ones empty
        scales, sizes = (list(operands) + [None, None])[1:3]
    common = {"mode": RESIZE_MODES[mode], "align_corners": transform == "align_corners"}
    if sizes is not None:
        target = sizes_of(sizes)
        if len(target) != x.rank:
            raise SpecError(f"sizes has {len(target)} entries for a rank-{x.rank} input")
        spatial = [R.plain(s, f"{name}: sizes") for s in target[2:]]
        return [t.emit(name, L.Upsample(size=spatial, **common), [x])]
    if not isinstance(scales, Constant) or scales.tensor.size == 0:
        raise SpecError("it needs constant scales or sizes")
    factors = [float(v) for v in np.asarray(scales.tensor).reshape(-1)]
    if len(factors) != x.rank or factors[:2] != [1.0, 1.0]:
        raise SpecError(f"scales {factors} must be 1 for the batch and channel axes, one per axis")
    return [t.emit(name, L.Upsample(scale_factor=factors[2:], **common), [x])]


@rule("Reshape")
def reshape(t: Tracer, name: str, op: str, attrs: dict, x: Any, target: Any) -> list[Any]:
    if isinstance(x, (list, int, sp.Basic)):  # a shape computed by the graph, reshaped to a list
        return [sizes_of(x)]
    x = R.tensor(x, name)
    sizes = sizes_of(target)
    if not attrs.get("allowzero", 0):  # 0 copies the input's size
        sizes = [x.torch_shape()[i] if s == 0 else s for i, s in enumerate(sizes)]
    if STATIC_BATCH in attrs and sizes and sizes[0] == attrs[STATIC_BATCH]:
        sizes[0] = BATCH  # the exporter wrote the fixed batch size as a number
    return [R.reshape(t, name, x, *sizes)]


@rule("Flatten")
def flatten(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    return [R.flatten(t, name, x, int(attrs.get("axis", 1)), -1)]


@rule("Transpose")
def transpose(t: Tracer, name: str, op: str, attrs: dict, x: Any) -> list[Any]:
    x = R.tensor(x, name)
    return [R.permute(t, name, x, list(attrs.get("perm", range(x.rank)[::-1])))]


@rule("ReduceMean")
def reduce_mean(t: Tracer, name: str, op: str, attrs: dict, x: Any, axes: Any = None) -> list[Any]:
    axes = ints(axes) if axes is not None else list(attrs["axes"])
    return [R.reduction(L.Mean)(t, name, x, axes, bool(attrs.get("keepdims", 1)))]


@rule("Slice")
def slice_(
    t: Tracer,
    name: str,
    op: str,
    attrs: dict,
    x: Any,
    starts: Any,
    ends: Any,
    axes: Any = None,
    steps: Any = None,
) -> list[Any]:
    starts, ends = [sizes_of(v) for v in (starts, ends)]
    axes = ints(axes) if axes is not None else list(range(len(starts)))
    steps = ints(steps) if steps is not None else [1] * len(starts)
    if isinstance(x, list):
        (start,), (end,), (step,) = starts, ends, steps
        return [x[int(start) : int(min(end, len(x))) : step]]
    x = R.tensor(x, name)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        size = x.torch_shape()[axis % x.rank]
        end = size if end.is_Integer and int(end) >= 2**62 else end
        start = size + start if start.is_Integer and start < 0 else start
        end = size + end if end.is_Integer and end < 0 else end
        if step != 1 and step < 1:
            raise SpecError("a negative Slice step is not supported")
        x = t.emit(name, L.Narrow(axis % x.rank, start, sp.Min(end, size) - start, step=step), [x])
    return [x]


@rule("Split")
def split(
    t: Tracer, name: str, op: str, attrs: dict, x: Any, pieces: Any = None, *, outputs: int = 1
) -> list[Any]:
    x = R.tensor(x, name)
    axis = int(attrs.get("axis", 0))
    if pieces is None and "split" in attrs:
        pieces = list(attrs["split"])
    elif pieces is None:
        size = x.torch_shape()[axis % x.rank]
        pieces = [size / outputs] * outputs
    else:
        pieces = ints(pieces)
    return list(R.split_axis(t, name, x, pieces, axis))


PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@rule("Pad")
def pad(
    t: Tracer,
    name: str,
    op: str,
    attrs: dict,
    x: Any,
    amounts: Any = None,
    value: Any = None,
    axes: Any = None,
) -> list[Any]:
    """ONNX's pads, every axis's start then every axis's end (or the attribute, before opset 11), as
    PyTorch's (before, after) pairs from the last axis backwards."""
    x = R.tensor(x, name)
    mode = _text(attrs.get("mode", "constant"))
    if mode not in PAD_MODES:
        raise SpecError(f"the pad mode {mode!r} is not supported")
    amounts = ints(amounts) if amounts is not None else list(attrs["pads"])
    axes = [a % x.rank for a in ints(axes)] if axes is not None else list(range(x.rank))
    if len(amounts) != 2 * len(axes):
        raise SpecError(f"{len(amounts)} pads for {len(axes)} axes")
    if any(a < 0 for a in amounts):
        raise SpecError(f"negative pads {amounts} (a crop) are not supported")
    before, after = [0] * x.rank, [0] * x.rank
    for axis, start, end in zip(axes, amounts[: len(axes)], amounts[len(axes) :], strict=True):
        before[axis], after[axis] = start, end
    if before[0] or after[0]:
        raise SpecError("padding the batch axis is not supported")
    padded = [axis for axis in range(1, x.rank) if before[axis] or after[axis]]
    if not padded:
        return [x]
    pairs = [n for axis in range(x.rank - 1, min(padded) - 1, -1) for n in (before[axis], after[axis])]
    fill = attrs.get("value", 0.0) if value is None else value.scalar()
    if fill is None:
        raise SpecError("the pad value is not a single number")
    options = {"mode": PAD_MODES[mode]} | ({"value": fill} if mode == "constant" and fill != 0 else {})
    return [t.emit(name, L.Pad(pairs, **options), [x])]
