"""Arithmetic intensity and the roofline, per layer and per network, in closed form.

The model (Williams, Waterman & Patterson 2009, "Roofline: an insightful visual
performance model for multicore architectures", CACM 52(4)):

- a layer performs ``F`` floating-point operations and moves ``Q`` bytes between
  memory and the processor; its arithmetic intensity is ``I = F / Q``;
- a device of peak ``P`` operations per second and memory bandwidth ``beta``
  bytes per second attains ``min(P, I * beta)``; a layer is memory-bound while
  ``I < P / beta`` (the ridge point).

Simplifications, stated in every output: no cache reuse (each layer reads its
inputs and weights from memory and writes its output once), no fusion (every
layer is its own kernel), parameters only (BatchNorm's running statistics and
other buffers are not counted), and the batch ``B`` as a symbol unless given.

Operations: 2 per multiply-accumulate of a weighted layer (symconv's MACs),
plus what layers without weights compute: 1 per output element for an
activation or an elementwise sum, product or quotient, 2 for inference
BatchNorm (a scale and a shift), ``prod(K) - 1`` comparisons or additions per
output of a pooling window (``prod(K)`` for an average, whose division counts),
and nothing for shape operations (reshape, permute, flatten, dropout at
inference).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import singledispatch

import sympy as sp

from symconv.errors import SpecError
from symconv.layers import Layer
from symconv.layers.base import product
from symconv.layers.elementwise import Dropout, Elementwise, Identity
from symconv.layers.merge import ChannelConcat, ElementwiseArithmetic
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, PoolNd
from symconv.layers.tensor import ShapeOnly
from symconv.network import Network
from symconv.queries import DTYPE_BYTES
from symconv.report import LayerRow, tidy
from symconv.sizes import is_true, parse_size

PEAK = sp.Symbol("P", positive=True)
"""The device's peak, in operations per second."""
BANDWIDTH = sp.Symbol("beta", positive=True)
"""The device's memory bandwidth, in bytes per second."""

SIMPLIFICATIONS = (
    "no cache reuse: every layer reads its inputs and weights from memory and writes its output once",
    "no fusion: every layer is its own kernel, a view such as flatten or reshape included (a read and a write)",
    "weights are the learnable parameters (buffers such as BatchNorm's running statistics are not counted)",
)


@singledispatch
def operations(layer: Layer, row: LayerRow) -> sp.Expr:
    """Operations of one batch element beyond the multiply-accumulates (which count 2 each)."""
    return sp.Integer(0)


@operations.register
def _(layer: Elementwise, row: LayerRow) -> sp.Expr:
    if isinstance(layer, (Dropout, Identity)):
        return sp.Integer(0)  # the identity at inference
    return product(row.output_shape)


@operations.register
def _(layer: ElementwiseArithmetic, row: LayerRow) -> sp.Expr:
    return product(row.output_shape) * (len(row.input_shapes) - 1)


@operations.register
def _(layer: BatchNormNd, row: LayerRow) -> sp.Expr:
    return 2 * product(row.output_shape)


@operations.register
def _(layer: PoolNd, row: LayerRow) -> sp.Expr:
    window = product(layer.kernel_size)
    return product(row.output_shape) * (window if isinstance(layer, AvgPoolNd) else window - 1)


@operations.register
def _(layer: AdaptivePoolNd, row: LayerRow) -> sp.Expr:
    return product(row.input_shapes[0])  # every input element is read into exactly one window


@operations.register
def _(layer: ShapeOnly, row: LayerRow) -> sp.Expr:
    return sp.Integer(0)


@operations.register
def _(layer: ChannelConcat, row: LayerRow) -> sp.Expr:
    return sp.Integer(0)


@dataclass(frozen=True)
class LayerRoofline:
    """One layer on the roofline: its operations, bytes and intensity, and where it turns compute-bound."""

    name: str
    kind: str
    flops: sp.Expr
    weight_bytes: sp.Expr
    input_bytes: sp.Expr
    output_bytes: sp.Expr
    intensity: sp.Expr
    bound: str  # "memory", "compute", or "depends" (on the sizes or the device)
    compute_bound_batch: sp.Expr | None  # the least batch from which it is compute-bound; None: no such batch
    batch_matters: bool = True  # False without weights: the intensity is the same at every batch

    @property
    def bytes(self) -> sp.Expr:
        return tidy(self.weight_bytes + self.input_bytes + self.output_bytes)


@dataclass(frozen=True)
class Roofline:
    """The roofline of a network: per layer, and the whole forward pass."""

    name: str | None
    batch: sp.Expr
    dtype: str
    dtype_bytes: int
    peak: sp.Expr
    bandwidth: sp.Expr
    ridge: sp.Expr
    layers: tuple[LayerRoofline, ...]
    flops: sp.Expr
    bytes: sp.Expr
    intensity: sp.Expr
    attainable: sp.Expr
    bound: str
    values: tuple[tuple[str, object], ...]
    simplifications: tuple[str, ...] = SIMPLIFICATIONS

    @property
    def memory_bound(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.layers if row.bound == "memory")


def _bound(intensity: sp.Expr, ridge: sp.Expr, flops: sp.Expr) -> str:
    if flops == 0:
        return "memory"  # moves bytes and computes nothing
    below = is_true(sp.Lt(intensity, ridge))
    return {True: "memory", False: "compute"}.get(below, "depends")


def _compute_bound_batch(
    flops_one: sp.Expr, activation_elements: sp.Expr, weight_elements: sp.Expr, size: int, ridge: sp.Expr
) -> sp.Expr | None:
    """The least batch ``B`` with ``B f / (s (B a + w)) >= R``: ``B >= R s w / (f - R s a)`` when ``f > R s a``."""
    if flops_one == 0:
        return None
    margin = tidy(flops_one - ridge * size * activation_elements)
    if weight_elements == 0:
        return (
            None  # no weights: the batch does not change the intensity (``bound`` says which side it is on)
        )
    if is_true(sp.Le(margin, 0)):
        return None  # even an unbounded batch stays below the ridge: the activations alone cost too much
    return tidy(sp.ceiling(ridge * size * weight_elements / margin))


def roofline(
    network: Network,
    batch: int | str = "B",
    dtype: str = "float32",
    values: dict | None = None,
    peak: object = None,
    bandwidth: object = None,
) -> Roofline:
    """Operations, bytes moved and arithmetic intensity of every layer, and the attainable throughput.

    ``peak`` (operations per second) and ``bandwidth`` (bytes per second) are
    the symbols ``P`` and ``beta`` unless given; ``values`` fixes sizes (``H``,
    ``W``, channels) as ``Network.at`` does.
    """
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"--dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    batch = parse_size(batch) if isinstance(batch, str) else sp.Integer(batch)
    if is_true(sp.Ge(batch, 1)) is False:
        raise SpecError(f"--batch must be at least 1, got {batch}")
    peak = PEAK if peak is None else sp.nsimplify(peak)
    bandwidth = BANDWIDTH if bandwidth is None else sp.nsimplify(bandwidth)
    for name, value in (("peak", peak), ("bandwidth", bandwidth)):
        if is_true(sp.Gt(value, 0)) is not True:
            raise SpecError(f"--{name} must be a positive number, got {value}")
    size = DTYPE_BYTES[dtype]
    report = network.report.at(values) if values else network.report
    ridge = tidy(peak / bandwidth)
    rows = []
    for node, row in zip(network.graph, report.rows, strict=True):
        flops_one = tidy(2 * row.macs + operations(node.layer, row))
        inputs = tidy(sp.Add(*(product(shape) for shape in row.input_shapes)))
        outputs = tidy(product(row.output_shape))
        weights = row.params  # a parameter shared with an earlier node is counted there, and read there
        flops = tidy(batch * flops_one)
        moved = tidy(size * (batch * (inputs + outputs) + weights))
        intensity = tidy(flops / moved) if moved != 0 else sp.Integer(0)
        rows.append(
            LayerRoofline(
                row.name,
                row.kind,
                flops,
                tidy(size * weights),
                tidy(size * batch * inputs),
                tidy(size * batch * outputs),
                intensity,
                _bound(intensity, ridge, flops_one),
                _compute_bound_batch(flops_one, tidy(inputs + outputs), weights, size, ridge),
                weights != 0,
            )
        )
    flops = tidy(sp.Add(*(r.flops for r in rows)))
    moved = tidy(sp.Add(*(r.bytes for r in rows)))
    intensity = tidy(flops / moved)
    attainable = sp.Min(peak, intensity * bandwidth)
    return Roofline(
        network.name,
        batch,
        dtype,
        size,
        peak,
        bandwidth,
        ridge,
        tuple(rows),
        flops,
        moved,
        intensity,
        attainable,
        _bound(intensity, ridge, flops),
        tuple((str(k), v) for k, v in (values or {}).items()),
    )


def device_value(text: str, field: str) -> sp.Rational:
    """``312e12``, ``312T`` or ``2.0e12``: an exact positive number of operations or bytes per second."""
    suffixes = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
    scale = 1
    if text and text[-1] in suffixes:
        text, scale = text[:-1], suffixes[text[-1]]
    try:
        if len(text) > 40:
            raise ValueError
        exact = Fraction(text)
    except (TypeError, ValueError, ZeroDivisionError):
        raise SpecError(f"{field}: expected a number such as 312e12 or 312T, got {text!r}") from None
    value = sp.Rational(exact.numerator, exact.denominator) * scale
    if value <= 0:
        raise SpecError(f"{field}: must be positive, got {text!r}")
    return value


__all__ = [
    "BANDWIDTH",
    "PEAK",
    "SIMPLIFICATIONS",
    "LayerRoofline",
    "Roofline",
    "device_value",
    "operations",
    "roofline",
]
