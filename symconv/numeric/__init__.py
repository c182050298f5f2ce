"""The NumPy reference backend: run every layer for real and measure what it did.

:func:`run` executes a network at concrete values of its symbols: it builds
each layer with its arguments evaluated, allocates the weights the layer
declares, runs the forward pass and records, per node, the output shape, the
number of parameters allocated and the multiply-accumulates counted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import singledispatch

import numpy as np
import sympy as sp

from symconv.errors import ShapeError, SpecError
from symconv.layers import (
    Add,
    ChannelConcat,
    DepthwiseConv2d,
    Flatten,
    Layer,
    Linear,
    SeparableConv2d,
    SharedKernelConv2d,
)
from symconv.layers.attention import MatMul, MultiheadAttention, ScaledDotProductAttention
from symconv.layers.base import batchless_axis
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import (
    ELU,
    GELU,
    Elementwise,
    Hardsigmoid,
    Hardswish,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from symconv.layers.merge import Div, ElementwiseArithmetic, Mul, Sub
from symconv.layers.norm import BatchNormNd, GroupNorm, InstanceNormNd, LayerNorm, LocalResponseNorm
from symconv.layers.pool import AdaptivePoolNd, PoolNd
from symconv.layers.resample import PixelShuffle, Upsample
from symconv.layers.tensor import (
    AttentionBias,
    Mean,
    Narrow,
    Pad,
    Parameter,
    Permute,
    RelativePositionBias,
    RepeatInterleave,
    Reshape,
    Roll,
    Select,
    Sum,
    VectorNorm,
)
from symconv.network import Network
from symconv.numeric.attention import attention, batched_matmul, multihead_attention, softmax
from symconv.numeric.conv import CHUNK_ELEMENTS, conv_forward, conv_transpose_forward
from symconv.numeric.counting import MacCounter
from symconv.numeric.pool import adaptive_pool_forward, pool_forward
from symconv.report import Report


@dataclass(frozen=True)
class Measurement:
    """What running one node measured."""

    name: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


@dataclass(frozen=True)
class Run:
    """A whole forward pass: measurements per node, and the arrays (for comparisons)."""

    measurements: tuple[Measurement, ...]
    outputs: tuple[np.ndarray, ...]
    weights: tuple[dict[str, np.ndarray], ...]


def _integer(value: sp.Expr, name: str, layer: Layer) -> int:
    value = sp.sympify(value)
    if not value.is_Integer:
        raise ShapeError(f"{layer.kind}: {name} = {value} is not an integer at these values", layer.where)
    return int(value)


def concrete(layer: Layer, values: dict[sp.Symbol, sp.Expr]) -> Layer:
    """The layer with every size argument evaluated to an integer."""
    changes = {}
    for f in dataclasses.fields(layer):
        kind = f.metadata.get("kind")
        value = getattr(layer, f.name)
        if (
            kind in ("size", "sizes", "optional_sizes", "shape")
            and value is not None
            and not isinstance(value, str)
        ):
            if isinstance(value, tuple):
                changes[f.name] = tuple(
                    None if v is None else sp.Integer(_integer(v.xreplace(values), f.name, layer))
                    for v in value
                )
            else:
                changes[f.name] = sp.Integer(_integer(value.xreplace(values), f.name, layer))
    return dataclasses.replace(layer, **changes)


@singledispatch
def forward(
    layer: Layer, inputs: list[np.ndarray], weights: dict[str, np.ndarray], counter: MacCounter
) -> np.ndarray:
    raise TypeError(f"the NumPy backend has no forward pass for {type(layer).__name__} ({layer.kind})")


@forward.register
def _(layer: ConvNd, inputs, weights, counter):
    return conv_forward(layer, inputs[0], weights["weight"], weights.get("bias"), counter)


@forward.register
def _(layer: ConvTransposeNd, inputs, weights, counter):
    return conv_transpose_forward(layer, inputs[0], weights["weight"], weights.get("bias"), counter)


@forward.register
def _(layer: DepthwiseConv2d, inputs, weights, counter):
    shape = tuple(sp.Integer(s) for s in inputs[0].shape)
    return forward(layer.as_conv(shape), inputs, weights, counter)


@forward.register
def _(layer: SeparableConv2d, inputs, weights, counter):
    shape = tuple(sp.Integer(s) for s in inputs[0].shape)
    depthwise, pointwise = layer.parts(shape)
    middle = conv_forward(depthwise, inputs[0], weights["depthwise_weight"], None, counter)
    return conv_forward(pointwise, middle, weights["pointwise_weight"], weights.get("bias"), counter)


@forward.register
def _(layer: SharedKernelConv2d, inputs, weights, counter):
    x = inputs[0]
    tied = np.broadcast_to(
        weights["weight"], (weights["weight"].shape[0], x.shape[0], *weights["weight"].shape[2:])
    )
    return conv_forward(layer.as_conv(), x, np.ascontiguousarray(tied), weights.get("bias"), counter)


@forward.register
def _(layer: PoolNd, inputs, weights, counter):
    return pool_forward(layer, inputs[0])


@forward.register
def _(layer: AdaptivePoolNd, inputs, weights, counter):
    return adaptive_pool_forward(layer, inputs[0])


@forward.register
def _(layer: BatchNormNd, inputs, weights, counter):
    x = inputs[0]
    # evaluation mode with running statistics (buffers, not parameters): mean 0, variance 1
    scale = 1.0 / np.sqrt(1.0 + float(layer.eps))
    return _per_channel(x, x * scale, weights) if layer.affine else x * scale


@forward.register
def _(layer: Linear, inputs, weights, counter):
    x = inputs[0]
    flat = x.reshape(-1, x.shape[-1])
    if counter.enumerating:
        w = weights["weight"].tolist()
        rows = flat.tolist()
        result = np.array([[counter.dot(list(zip(row, w_out, strict=True))) for w_out in w] for row in rows])
    else:
        result = counter.matmul(flat, weights["weight"].T)
    if "bias" in weights:
        result = result + weights["bias"]
    return result.reshape(*x.shape[:-1], -1)


@forward.register
def _(layer: Flatten, inputs, weights, counter):
    x = inputs[0]
    first, last = layer.axes(tuple(x.shape))
    return x.reshape(*x.shape[:first], -1, *x.shape[last:])


ARITHMETIC = {Add: np.add, Sub: np.subtract, Mul: np.multiply, Div: np.divide}


@forward.register
def _(layer: ElementwiseArithmetic, inputs, weights, counter):
    operation = ARITHMETIC[type(layer)]
    if layer.scalar is not None:
        return operation(inputs[0], float(layer.scalar))
    result = inputs[0]
    for other in inputs[1:]:
        result = operation(result, other)
    return np.array(result, copy=True)


@forward.register
def _(layer: Parameter, inputs, weights, counter):
    # a buffer holds no parameters; ones stand for its values
    return weights["weight"].copy() if layer.learnable else np.ones(tuple(int(s) for s in layer.shape))


@forward.register
def _(layer: Permute, inputs, weights, counter):
    return np.ascontiguousarray(np.transpose(inputs[0], layer.order(tuple(inputs[0].shape))))


@forward.register
def _(layer: Reshape, inputs, weights, counter):
    target = layer.target(tuple(sp.Integer(s) for s in inputs[0].shape))
    return inputs[0].reshape(tuple(int(s) for s in target))


@forward.register
def _(layer: Narrow, inputs, weights, counter):
    x = inputs[0]
    axis = batchless_axis(layer, layer.dim, x.ndim)
    start = int(layer.start)
    return np.take(x, range(start, start + int(layer.length), int(layer.step)), axis=axis)


@forward.register
def _(layer: Pad, inputs, weights, counter):
    x = inputs[0]
    widths = [(0, 0)] * x.ndim
    for axis, before, after in layer.pairs(tuple(sp.Integer(s) for s in x.shape)):
        widths[axis] = (int(before), int(after))
    if layer.mode == "constant":
        return np.pad(x, widths, constant_values=layer.value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[layer.mode])


def relative_position_index(window: tuple[int, int]) -> np.ndarray:
    """Row of the bias table for every pair of tokens of a window (Liu et al. 2021, section 3.2)."""
    h, w = window
    rows, columns = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    tokens = np.stack([rows.ravel(), columns.ravel()])  # 2 x N
    offsets = tokens[:, :, None] - tokens[:, None, :]  # 2 x N x N, from -(size - 1) to size - 1
    return (offsets[0] + h - 1) * (2 * w - 1) + (offsets[1] + w - 1)


@forward.register
def _(layer: RelativePositionBias, inputs, weights, counter):
    index = relative_position_index(tuple(int(s) for s in layer.window_size))
    return np.transpose(inputs[0][index], (2, 0, 1))


def attention_bias_index(resolution: tuple[int, int], stride: int = 1) -> np.ndarray:
    """Column of LeViT's bias table for every query (every ``stride``-th row and column) and key of a map
    (Graham et al. 2021, section 4.2)."""
    h, w = resolution

    def grid(step: int) -> np.ndarray:
        rows, columns = np.meshgrid(np.arange(0, h, step), np.arange(0, w, step), indexing="ij")
        return np.stack([rows.ravel(), columns.ravel()])  # 2 x positions

    offsets = np.abs(grid(stride)[:, :, None] - grid(1)[:, None, :])  # 2 x N_q x N
    return offsets[0] * w + offsets[1]


@forward.register
def _(layer: AttentionBias, inputs, weights, counter):
    index = attention_bias_index(tuple(int(s) for s in layer.resolution), int(layer.stride))
    return inputs[0][:, index]


@forward.register
def _(layer: Select, inputs, weights, counter):
    x = inputs[0]
    return np.take(x, int(layer.index), axis=batchless_axis(layer, layer.dim, x.ndim))


@forward.register
def _(layer: Mean, inputs, weights, counter):
    x = inputs[0]
    return x.mean(axis=tuple(sorted(layer.axes(tuple(x.shape)))), keepdims=layer.keepdim)


@forward.register
def _(layer: Sum, inputs, weights, counter):
    x = inputs[0]
    return x.sum(axis=tuple(sorted(layer.axes(tuple(x.shape)))), keepdims=layer.keepdim)


@forward.register
def _(layer: RepeatInterleave, inputs, weights, counter):
    x = inputs[0]
    return np.repeat(x, int(layer.repeats), axis=batchless_axis(layer, layer.dim, x.ndim))


@forward.register
def _(layer: Roll, inputs, weights, counter):
    x = inputs[0]
    return np.roll(x, layer.shifts, axis=tuple(batchless_axis(layer, d, x.ndim) for d in layer.dims))


@forward.register
def _(layer: VectorNorm, inputs, weights, counter):
    x = inputs[0]
    axes = tuple(sorted(layer.axes(tuple(x.shape))))
    if layer.ord == float("inf"):
        return np.abs(x).max(axis=axes, keepdims=layer.keepdim)
    return (np.abs(x) ** layer.ord).sum(axis=axes, keepdims=layer.keepdim) ** (1 / layer.ord)


def _normalise(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (the biased variance, as PyTorch's norms use)."""
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _per_channel(x: np.ndarray, normal: np.ndarray, weights: dict[str, np.ndarray]) -> np.ndarray:
    shape = (-1, *([1] * (x.ndim - 1)))
    return normal * weights["weight"].reshape(shape) + weights["bias"].reshape(shape)


@forward.register
def _(layer: LayerNorm, inputs, weights, counter):
    x = inputs[0]
    axes = tuple(range(x.ndim - len(layer.normalized_shape), x.ndim))
    normal = _normalise(x, axes, float(layer.eps))
    if "weight" in weights:
        normal = normal * weights["weight"]
    return normal + weights["bias"] if "bias" in weights else normal


@forward.register
def _(layer: InstanceNormNd, inputs, weights, counter):
    # statistics of each channel of this sample (no running statistics: PyTorch's default)
    x = inputs[0]
    axes = tuple(range(1, x.ndim))
    normal = _normalise(x, axes, float(layer.eps))
    if layer.affine:
        normal = _per_channel(x, normal, weights)
    return normal


@forward.register
def _(layer: GroupNorm, inputs, weights, counter):
    x = inputs[0]
    grouped = x.reshape(int(layer.num_groups), -1)
    normal = _normalise(grouped, (1,), float(layer.eps))
    normal = normal.reshape(x.shape)
    if layer.affine:
        normal = _per_channel(x, normal, weights)
    return normal


@forward.register
def _(layer: LocalResponseNorm, inputs, weights, counter):
    # torch.nn.LocalResponseNorm: b_c = a_c (k + alpha/n sum_{c'} a_{c'}^2)^(-beta), the window centred on c
    x = inputs[0]
    size = int(layer.size)
    squares = np.concatenate(
        [np.zeros((size // 2, *x.shape[1:])), x**2, np.zeros(((size - 1) // 2, *x.shape[1:]))]
    )
    window = np.stack([squares[c : c + size].sum(axis=0) for c in range(x.shape[0])])
    return x * (float(layer.k) + float(layer.alpha) / size * window) ** (-float(layer.beta))


def _source_index(out: int, size: int, factor: sp.Rational | None) -> np.ndarray:
    """PyTorch's nearest source index: floor(dst * in / out), or floor(dst / scale_factor) when one is given."""
    scale = Fraction(size, out) if factor is None else Fraction(1) / Fraction(int(factor.p), int(factor.q))
    return np.array([min(int(i * scale), size - 1) for i in range(out)])


def _bilinear_axis(out: int, size: int, factor: sp.Rational | None, align_corners: bool) -> tuple:
    """Source positions and weights of one axis (ATen's area_pixel_compute_source_index)."""
    if align_corners:
        scale = (size - 1) / (out - 1) if out > 1 else 0.0
        source = np.arange(out) * scale
    else:
        scale = size / out if factor is None else 1.0 / float(factor)
        source = np.maximum((np.arange(out) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    return low, high, source - low


@forward.register
def _(layer: Upsample, inputs, weights, counter):
    x = inputs[0]
    spatial = x.shape[1:]
    out = [int(s) for s in layer.output_shape(tuple(sp.Integer(s) for s in x.shape))[1:]]
    factors = layer.factors(len(spatial)) if layer.size is None else (None,) * len(spatial)
    if layer.mode == "nearest":
        for axis, (o, n, f) in enumerate(zip(out, spatial, factors, strict=True), start=1):
            x = np.take(x, _source_index(o, n, f), axis=axis)
        return x
    (lh, hh, wh), (lw, hw, ww) = (
        _bilinear_axis(o, n, f, layer.align_corners) for o, n, f in zip(out, spatial, factors, strict=True)
    )
    rows = x[:, lh, :] * (1 - wh)[None, :, None] + x[:, hh, :] * wh[None, :, None]
    return rows[:, :, lw] * (1 - ww)[None, None, :] + rows[:, :, hw] * ww[None, None, :]


@forward.register
def _(layer: PixelShuffle, inputs, weights, counter):
    x = inputs[0]
    r = int(layer.upscale_factor)
    c, h, w = x.shape
    return x.reshape(c // (r * r), r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(c // (r * r), h * r, w * r)


@forward.register
def _(layer: MatMul, inputs, weights, counter):
    return batched_matmul(inputs[0], inputs[1], counter)


@forward.register
def _(layer: ScaledDotProductAttention, inputs, weights, counter):
    return attention(*inputs, counter, causal=layer.is_causal)


@forward.register
def _(layer: MultiheadAttention, inputs, weights, counter):
    return multihead_attention(layer, inputs, weights, counter)


@forward.register
def _(layer: ChannelConcat, inputs, weights, counter):
    return np.concatenate(inputs, axis=batchless_axis(layer, layer.dim, inputs[0].ndim))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _erf(x: np.ndarray) -> np.ndarray:
    from math import erf

    return np.vectorize(erf)(x)


ACTIVATIONS = {
    ReLU: lambda layer, x: np.maximum(x, 0.0),
    ReLU6: lambda layer, x: np.clip(x, 0.0, 6.0),
    LeakyReLU: lambda layer, x: np.where(x >= 0, x, x * float(layer.negative_slope)),
    ELU: lambda layer, x: np.where(x > 0, x, float(layer.alpha) * np.expm1(np.minimum(x, 0))),
    GELU: lambda layer, x: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))),
    SiLU: lambda layer, x: x * _sigmoid(x),
    Sigmoid: lambda layer, x: _sigmoid(x),
    Tanh: lambda layer, x: np.tanh(x),
    Hardswish: lambda layer, x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    Hardsigmoid: lambda layer, x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    Softmax: lambda layer, x: softmax(x, batchless_axis(layer, layer.dim, x.ndim)),
}
"""Elementwise layers with a formula; the others (identity, dropout in evaluation mode) pass through."""


@forward.register
def _(layer: Elementwise, inputs, weights, counter):
    rule = ACTIVATIONS.get(type(layer))
    return inputs[0].copy() if rule is None else rule(layer, inputs[0])


MEMORY_BUDGET = 512 * 2**20
"""Bytes the NumPy witness may allocate for one run unless told otherwise (``check --memory-budget``)."""


def witness_bytes(
    network: Network, values: dict[sp.Symbol, sp.Expr], evaluated: Report | None = None
) -> tuple[int, str]:
    """An upper estimate of the bytes one run allocates at ``values``, and the layer that needs the most.

    Every output and weight is kept (float64, 8 bytes), plus the largest
    transient of one layer: a convolution's padded input and the windows it
    gathers for one slab of its product (at most :data:`CHUNK_ELEMENTS` beyond
    one slice), otherwise its input again. ``evaluated`` is the report at
    ``values`` when the caller has it already.
    """
    report = network.report.at(values) if evaluated is None else evaluated
    kept = math.prod(int(d) for d in report.input_shape)
    transient, widest = 0, network.graph[0].name
    for node, row in zip(network.graph, report.rows, strict=True):
        kept += math.prod(int(d) for d in row.output_shape) + int(row.params)
        inputs = max((math.prod(int(d) for d in shape) for shape in row.input_shapes), default=0)
        need = inputs
        layer = node.layer
        if isinstance(layer, (ConvNd, ConvTransposeNd)) and row.input_shapes:
            kernel = math.prod(int(sp.sympify(k).xreplace(values)) for k in layer.kernel_size)
            positions = math.prod(int(d) for d in row.output_shape[1:])
            gathered = positions * int(row.input_shapes[0][0]) * kernel
            padded = (
                isinstance(layer, ConvTransposeNd)
                or layer.same
                or any(sp.sympify(a).xreplace(values) != 0 for a in layer.padding)
            )
            slab = CHUNK_ELEMENTS + gathered // max(1, int(row.output_shape[1]))
            need = (2 if padded else 1) * inputs + min(gathered, slab)
        if need > transient:
            transient, widest = need, node.name
    return 8 * (kept + transient), widest


def run(
    network: Network,
    values: dict[sp.Symbol, sp.Expr],
    mode: str = "fast",
    seed: int = 0,
    inputs: np.ndarray | None = None,
    weights: list[dict[str, np.ndarray]] | None = None,
    memory_budget: int | None = MEMORY_BUDGET,
    evaluated: Report | None = None,
) -> Run:
    """Run ``network`` at ``values`` (every symbol given) and measure every node.

    ``inputs`` and ``weights`` may be given (e.g. to compare with PyTorch);
    otherwise they are drawn from a seeded normal distribution. A run whose
    estimated allocation (:func:`witness_bytes`) passes ``memory_budget`` is
    refused before anything is allocated (None: no budget).
    """
    if memory_budget is not None:
        needed, widest = witness_bytes(network, values, evaluated)
        if needed > memory_budget:
            at = ", ".join(f"{s} = {v}" for s, v in sorted(values.items(), key=lambda i: str(i[0])))
            raise SpecError(
                f"the NumPy backend would allocate about {needed / 2**20:,.0f} MiB{' at ' + at if at else ''} "
                f"(most for {widest}), more than its budget of {memory_budget / 2**20:,.0f} MiB; "
                "give smaller sizes with --at or a larger --memory-budget"
            )
    rng = np.random.default_rng(seed)
    input_shape = tuple(
        _integer(sp.sympify(d).xreplace(values), "input", Layer()) for d in network.input_shape
    )
    arrays: dict[int, np.ndarray] = {-1: rng.standard_normal(input_shape) if inputs is None else inputs}
    measurements, outputs, all_weights = [], [], []
    index_of = {node.name: index for index, node in enumerate(network.graph)}
    for index, node in enumerate(network.graph):
        layer = concrete(node.layer, values)
        args = [arrays[i] for i in node.inputs]
        shapes = tuple(tuple(sp.Integer(s) for s in a.shape) for a in args)
        if node.shares is not None:
            allocated = all_weights[index_of[node.shares]]
        elif weights is not None:
            allocated = weights[index]
        else:
            allocated = {
                name: rng.standard_normal(tuple(_integer(s, name, layer) for s in shape))
                for name, shape in layer.weight_shapes(*shapes).items()
            }
        counter = MacCounter(mode)
        result = forward(layer, args, allocated, counter)
        arrays[index] = result
        outputs.append(result)
        all_weights.append(allocated)
        measurements.append(
            Measurement(
                node.name,
                tuple(result.shape),
                # shared weights are counted once; fixed ones are buffers, not parameters
                0 if node.shares or node.layer.fixed else sum(int(a.size) for a in allocated.values()),
                counter.macs,
            )
        )
    return Run(tuple(measurements), tuple(outputs), tuple(all_weights))
