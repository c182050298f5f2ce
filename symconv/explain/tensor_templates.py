"""The general formulas of the tensor layers: arithmetic, moving and cutting axes, norms, attention.

Shapes are derived axis by axis: ``out_i`` is the size of the output's axis
``i`` (channels first, batch implicit), written in the input's sizes
``a_0, a_1, ...`` (and ``b_j`` for a second input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from symconv.explain.steps import CONVENTION, RESNET, Template, _nothing, _same_shape, textbook
from symconv.explain.templates import templates
from symconv.layers.attention import MatMul, MultiheadAttention, ScaledDotProductAttention
from symconv.layers.base import batchless_axis
from symconv.layers.merge import Add, ElementwiseArithmetic
from symconv.layers.norm import GroupNorm, LayerNorm, LocalResponseNorm
from symconv.layers.resample import PixelShuffle, Upsample
from symconv.layers.tensor import (
    AttentionBias,
    Narrow,
    Pad,
    Parameter,
    Permute,
    Reduction,
    RelativePositionBias,
    RepeatInterleave,
    Reshape,
    Roll,
    Select,
    VectorNorm,
)

TORCH_BROADCAST = "PyTorch documentation, Broadcasting semantics"
TORCH_TENSOR = (
    "PyTorch documentation, torch.permute / torch.reshape / torch.narrow / torch.select / torch.mean"
)
TORCH_LAYER_NORM = "PyTorch documentation, torch.nn.LayerNorm (weight and bias of normalized_shape)"
TORCH_GROUP_NORM = "PyTorch documentation, torch.nn.GroupNorm (weight and bias per channel)"
VASWANI = "Vaswani et al. (2017), Attention Is All You Need, section 3.2"
TORCH_MHA = "PyTorch documentation, torch.nn.MultiheadAttention"
TORCH_UPSAMPLE = "PyTorch documentation, torch.nn.Upsample / torch.nn.functional.interpolate"
SHI = "Shi et al. (2016), Real-Time Single Image and Video Super-Resolution, eq. (4); torch.nn.PixelShuffle"
SWIN = "Liu et al. (2021), Swin Transformer, section 3.2 (relative position bias)"
TORCH_REPEAT = "PyTorch documentation, torch.repeat_interleave"
LEVIT = "Graham et al. (2021), LeViT, section 4.2 (attention bias)"


def a(i: int) -> sp.Symbol:
    return textbook(f"a_{i}")


def axis_templates(x: tuple, entries: list[sp.Expr], rule: str, source: str | None) -> list[Template]:
    """One template per output axis, ``entries`` written in the input's sizes ``a_i``."""
    binds = {a(i): size for i, size in enumerate(x)}
    return [
        Template(textbook(f"out_{i}"), entry, {s: v for s, v in binds.items() if entry.has(s)}, rule, source)
        for i, entry in enumerate(entries)
    ]


def one_axis_templates(
    layer: Any, x: tuple, entry: Callable[[sp.Expr], sp.Expr], binds: dict, rule: str, source: str
) -> list[Template]:
    """Every axis of ``x`` kept but the layer's ``dim``, which becomes ``entry`` of its size ``a_axis``, with
    the layer's arguments bound by ``binds``, by ``rule`` (which may name ``{axis}``)."""
    axis = batchless_axis(layer, layer.dim, len(x))
    found = [
        Template(textbook(f"out_{i}"), a(i), {a(i): size}, f"axis {i} is kept", source)
        for i, size in enumerate(x)
    ]
    found[axis] = Template(textbook(f"out_{axis}"), entry(a(axis)), binds, rule.format(axis=axis), source)
    return found


@templates.register
def _(layer: ElementwiseArithmetic, inputs, quantity):
    if quantity != "shape":
        return [_nothing(quantity, f"an elementwise {layer.kind} learns nothing and multiplies no weights")]
    if len(inputs) == 1:
        return [_same_shape()]
    b = [textbook(f"b_{i}") for i in range(len(inputs[1]))]
    templates_ = []
    for i, (left, right) in enumerate(zip(inputs[0], inputs[1], strict=True)):
        general = sp.Max(a(i), b[i])
        templates_.append(
            Template(
                textbook(f"out_{i}"),
                general,
                {a(i): left, b[i]: right},
                "equal sizes, or a size 1 broadcast to the other",
                RESNET if isinstance(layer, Add) else TORCH_BROADCAST,
            )
        )
    return templates_ if len(inputs) == 2 else [_same_shape(TORCH_BROADCAST)]


@templates.register
def _(layer: Parameter, inputs, quantity):
    if quantity == "shape":
        return axis_templates(
            (), list(layer.shape), "the tensor's own shape", "PyTorch documentation, torch.nn.Parameter"
        )
    if quantity == "params":
        sizes = [textbook(f"s_{i}") for i in range(len(layer.shape))]
        return [
            Template(
                textbook("params"),
                sp.Mul(*sizes) if layer.learnable else sp.Integer(0),
                dict(zip(sizes, layer.shape, strict=True)) if layer.learnable else {},
                "one parameter per element" if layer.learnable else "a buffer holds no parameters",
                "PyTorch documentation, torch.nn.Parameter",
            )
        ]
    return [_nothing(quantity, "a tensor read as data multiplies nothing")]


@templates.register
def _(layer: Permute, inputs, quantity):
    if quantity == "shape":
        order = layer.order(inputs[0])
        return axis_templates(
            inputs[0], [a(i) for i in order], f"axes in the order {list(layer.dims)}", TORCH_TENSOR
        )
    return [_nothing(quantity, "a permutation only re-indexes")]


@templates.register
def _(layer: Reshape, inputs, quantity):
    if quantity == "shape":
        x = inputs[0]
        whole = sp.Mul(*(a(i) for i in range(len(x))))
        known = sp.Mul(*(s for s in layer.shape if s != -1))
        entries = [whole / known if s == -1 else s for s in layer.shape]
        return axis_templates(
            x, entries, "the target shape; -1 is the element count over the other sizes", TORCH_TENSOR
        )
    return [_nothing(quantity, "a reshape only re-indexes")]


@templates.register
def _(layer: Narrow, inputs, quantity):
    if quantity == "shape":
        length, step = textbook("l"), textbook("t")
        return one_axis_templates(
            layer,
            inputs[0],
            lambda size: sp.floor((length - 1) / step) + 1,
            {length: layer.length, step: layer.step},
            "every t-th of l entries of axis {axis}",
            TORCH_TENSOR,
        )
    return [_nothing(quantity, "a slice only re-indexes")]


@templates.register
def _(layer: Select, inputs, quantity):
    if quantity == "shape":
        x = inputs[0]
        axis = batchless_axis(layer, layer.dim, len(x))
        kept = [a(i) for i in range(len(x)) if i != axis]
        return axis_templates(x, kept, f"axis {axis} removed", TORCH_TENSOR)
    return [_nothing(quantity, "selecting an entry only re-indexes")]


@templates.register
def _(layer: Reduction, inputs, quantity):
    if quantity == "shape":
        x = inputs[0]
        axes = layer.axes(x)
        if layer.keepdim:
            entries = [sp.Integer(1) if i in axes else a(i) for i in range(len(x))]
        else:
            entries = [a(i) for i in range(len(x)) if i not in axes]
        source = (
            "PyTorch documentation, torch.linalg.vector_norm"
            if isinstance(layer, VectorNorm)
            else "PyTorch documentation, torch.mean / torch.sum (keepdim)"
        )
        return axis_templates(x, entries, f"a {layer.kind} over axes {sorted(axes)}", source)
    if isinstance(layer, VectorNorm):
        return [
            _nothing(quantity, "a norm raises activations to a power and adds them; it multiplies no weights")
        ]
    return [_nothing(quantity, f"a {layer.kind} adds; it multiplies no weights")]


@templates.register
def _(layer: LayerNorm, inputs, quantity):
    if quantity == "shape":
        return [_same_shape()]
    if quantity == "params":
        sizes = [textbook(f"s_{i}") for i in range(len(layer.normalized_shape))]
        count = (2 if layer.bias else 1) if layer.elementwise_affine else 0
        return [
            Template(
                textbook("params"),
                count * sp.Mul(*sizes),
                dict(zip(sizes, layer.normalized_shape, strict=True)) if count else {},
                "a weight (and a bias) of normalized_shape" if count else "no affine parameters",
                TORCH_LAYER_NORM,
            )
        ]
    return [_nothing(quantity, "normalisation is elementwise work, not MACs")]


@templates.register
def _(layer: GroupNorm, inputs, quantity):
    if quantity == "shape":
        return [_same_shape()]
    if quantity == "params":
        C = textbook("C")
        return [
            Template(
                textbook("params"),
                2 * C if layer.affine else sp.Integer(0),
                {C: inputs[0][0]} if layer.affine else {},
                "weight and bias per channel" if layer.affine else "no affine parameters",
                TORCH_GROUP_NORM,
            )
        ]
    return [_nothing(quantity, "normalisation is elementwise work, not MACs")]


@templates.register
def _(layer: LocalResponseNorm, inputs, quantity):
    if quantity == "shape":
        return [_same_shape()]
    return [_nothing(quantity, "local response normalisation has no weights")]


@templates.register
def _(layer: MatMul, inputs, quantity):
    x, y = inputs
    n, k, m_ = textbook("n"), textbook("k"), textbook("m")
    batch = textbook("B")
    binds = {n: x[-2], k: x[-1], m_: y[-1], batch: sp.Mul(*layer.output_shape(x, y)[:-2])}
    if quantity == "shape":
        lead = [a(i) for i in range(len(x) - 2)]
        entries = [*lead, n, m_]
        return [
            Template(
                textbook(f"out_{i}"),
                e,
                {**{a(j): x[j] for j in range(len(x) - 2)}, **binds},
                "(n x k)(k x m) = n x m",
                "PyTorch documentation, torch.matmul",
            )
            for i, e in enumerate(entries)
        ]
    if quantity == "params":
        return [_nothing(quantity, "a product of activations learns nothing")]
    return [
        Template(
            textbook("MACs"),
            batch * n * k * m_,
            binds,
            "k multiply-adds per output entry, B matrix pairs",
            "PyTorch documentation, torch.matmul",
        )
    ]


@templates.register
def _(layer: ScaledDotProductAttention, inputs, quantity):
    q, k, v = inputs
    L_, S_, E, Ev, batch = textbook("L"), textbook("S"), textbook("E"), textbook("E_v"), textbook("B")
    out = layer.output_shape(q, k, v)
    binds = {L_: q[-2], S_: k[-2], E: q[-1], Ev: v[-1], batch: sp.Mul(*out[:-2])}
    if quantity == "shape":
        entries = [*(a(i) for i in range(len(q) - 2)), L_, Ev]
        lead = {a(i): q[i] for i in range(len(q) - 2)}
        return [
            Template(textbook(f"out_{i}"), e, {**lead, **binds}, "one output row per query", VASWANI)
            for i, e in enumerate(entries)
        ]
    if quantity == "params":
        return [
            _nothing(quantity, "attention itself learns nothing; its projections are layers of their own")
        ]
    return [
        Template(
            textbook("MACs"), batch * L_ * S_ * (E + Ev), binds, "Q Kᵀ (L·S·E) and A V (L·S·E_v)", VASWANI
        )
    ]


@templates.register
def _(layer: MultiheadAttention, inputs, quantity):
    q, k, v = inputs if len(inputs) == 3 else inputs * 3
    L_, S_, E = textbook("L"), textbook("S"), textbook("E")
    kdim, vdim = layer.widths()
    Ek, Ev = textbook("E_k"), textbook("E_v")
    binds = {L_: q[0], S_: k[0], E: layer.embed_dim, Ek: kdim, Ev: vdim}
    if quantity == "shape":
        return [
            Template(textbook("out_0"), L_, binds, "one output per query", TORCH_MHA),
            Template(textbook("out_1"), E, binds, "embed_dim features", TORCH_MHA),
        ]
    if quantity == "params":
        bias = 4 * E if layer.bias else 0
        return [
            Template(
                textbook("params"),
                E * (E + Ek + Ev) + E * E + bias,
                binds,
                "W^Q, W^K, W^V, W^O and their biases",
                TORCH_MHA,
            )
        ]
    general = L_ * E * E + S_ * Ek * E + S_ * Ev * E + L_ * E * E + 2 * L_ * S_ * E
    return [
        Template(
            textbook("MACs"),
            general,
            binds,
            "the four projections, then Q Kᵀ and A V over all heads",
            f"{VASWANI}; {CONVENTION}",
        )
    ]


@templates.register
def _(layer: Pad, inputs, quantity):
    if quantity == "shape":
        x = inputs[0]
        entries = [a(i) for i in range(len(x))]
        for axis, before, after in layer.pairs(x):
            entries[axis] = a(axis) + before + after
        return axis_templates(
            x,
            entries,
            "each padded axis grows by its two pads",
            "PyTorch documentation, torch.nn.functional.pad",
        )
    return [_nothing(quantity, "padding fills or copies values only")]


@templates.register
def _(layer: RepeatInterleave, inputs, quantity):
    if quantity == "shape":
        repeats = textbook("r")
        x = inputs[0]
        axis = batchless_axis(layer, layer.dim, len(x))
        return one_axis_templates(
            layer,
            x,
            lambda size: size * repeats,
            {a(axis): x[axis], repeats: layer.repeats},
            "each entry of axis {axis} r times",
            TORCH_REPEAT,
        )
    return [_nothing(quantity, "repeating entries copies values")]


@templates.register
def _(layer: Roll, inputs, quantity):
    if quantity == "shape":
        x = inputs[0]
        return axis_templates(
            x,
            [a(i) for i in range(len(x))],
            "a cyclic shift keeps every axis",
            "PyTorch documentation, torch.roll",
        )
    return [_nothing(quantity, "a cyclic shift moves values only")]


@templates.register
def _(layer: RelativePositionBias, inputs, quantity):
    if quantity == "shape":
        heads, tokens = textbook("h"), textbook("N")
        binds = {heads: inputs[0][1], tokens: layer.window_size[0] * layer.window_size[1]}
        return [
            Template(textbook(f"out_{i}"), e, binds, "one bias per head and pair of tokens", SWIN)
            for i, e in enumerate((heads, tokens, tokens))
        ]
    return [_nothing(quantity, "gathering rows of the table moves values; the table is its own parameter")]


@templates.register
def _(layer: AttentionBias, inputs, quantity):
    if quantity == "shape":
        heads, queries, tokens = textbook("h"), textbook("N_q"), textbook("N")
        binds = {
            heads: inputs[0][0],
            queries: layer.queries(),
            tokens: layer.resolution[0] * layer.resolution[1],
        }
        return [
            Template(textbook(f"out_{i}"), e, binds, "one bias per head, query and key position", LEVIT)
            for i, e in enumerate((heads, queries, tokens))
        ]
    return [_nothing(quantity, "gathering columns of the table moves values; the table is its own parameter")]


@templates.register
def _(layer: Upsample, inputs, quantity):
    if quantity != "shape":
        return [_nothing(quantity, "interpolation weighs neighbours by position; it has no weights to learn")]
    x = inputs[0]
    if layer.size is not None:
        entries = [a(0), *layer.size]
        return axis_templates(x, entries, "the requested size", TORCH_UPSAMPLE)
    factor = textbook("s")
    found = axis_templates(x, [a(0)], "channels unchanged", TORCH_UPSAMPLE)
    for axis, f in enumerate(layer.factors(len(x) - 1), start=1):
        found.append(
            Template(
                textbook(f"out_{axis}"),
                sp.floor(a(axis) * factor),
                {a(axis): x[axis], factor: f},
                "floor(n s) per spatial axis",
                TORCH_UPSAMPLE,
            )
        )
    return found


@templates.register
def _(layer: PixelShuffle, inputs, quantity):
    if quantity != "shape":
        return [_nothing(quantity, "a pixel shuffle only re-indexes")]
    r = textbook("r")
    x = inputs[0]
    binds = {a(i): s for i, s in enumerate(x)} | {r: layer.upscale_factor}
    entries = (a(0) / r**2, a(1) * r, a(2) * r)
    return [
        Template(textbook(f"out_{i}"), e, binds, "C r² channels become an r x r block of pixels", SHI)
        for i, e in enumerate(entries)
    ]
