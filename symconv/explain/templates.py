"""The general formula of each classic layer (convolution, pooling, normalisation, linear, merges), by dispatch.

A template names the quantity, writes the documentation's formula in
textbook symbols and binds them to the layer's values; the derivation
machinery (:mod:`symconv.explain.derivation`) substitutes and verifies.
"""

from __future__ import annotations

from functools import singledispatch

import sympy as sp

from symconv.errors import SpecError
from symconv.explain.steps import (
    AXES,
    DUMOULIN,
    DUMOULIN_TRANSPOSE,
    INCEPTION,
    KERAS_SEPARABLE,
    MOBILENET,
    TF_SAME,
    TORCH_BN,
    TORCH_CONV,
    TORCH_LINEAR,
    TORCH_POOL,
    TORCH_TRANSPOSE,
    C_in,
    C_out,
    K,
    P,
    S,
    Template,
    _nothing,
    _same_shape,
    d,
    g,
    n_in,
    op,
    textbook,
)
from symconv.layers import (
    ChannelConcat,
    DepthwiseConv2d,
    Flatten,
    Layer,
    Linear,
    SeparableConv2d,
    SharedKernelConv2d,
)
from symconv.layers.base import batchless_axis
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Elementwise
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, PoolNd
from symconv.notation import to_latex, to_text

WRITTEN = {
    "conv": (
        "floor((n + 2*P - d*(K - 1) - 1)/S) + 1",
        r"\left\lfloor \frac{n + 2P - d(K - 1) - 1}{S} \right\rfloor + 1",
    ),
    "same": ("ceiling(n/S)", r"\left\lceil \frac{n}{S} \right\rceil"),
    "transpose": (
        "(n - 1)*S - 2*P + d*(K - 1) + p_out + 1",
        r"(n - 1)S - 2P + d(K - 1) + p_{\mathrm{out}} + 1",
    ),
    "ceil": (
        "floor((n + P - 1 + min(0, P + S - d*(K - 1) - 1))/S) + 1",
        r"\left\lfloor \frac{n + P - 1 + \min(0,\ P + S - d(K - 1) - 1)}{S} \right\rfloor + 1",
    ),
}


def _axis_templates(
    layer: Layer, x, general, extra_bindings, rule: str, source: str, written: str | None = None
) -> list[Template]:
    names = AXES[len(x) - 1]
    found = []
    for axis, size in enumerate(x[1:]):
        axis_input = textbook(f"{names[axis]}_in")
        bindings = {axis_input: size, **{symbol: values[axis] for symbol, values in extra_bindings.items()}}
        shown = None
        if written:
            text, latex = WRITTEN[written]
            shown = (
                text.replace("n", f"{names[axis]}_in", 1),
                latex.replace("n", names[axis] + r"_{\mathrm{in}}", 1),
            )
        found.append(
            Template(
                textbook(f"{names[axis]}_out"),
                general.xreplace({n_in: axis_input}),
                bindings,
                rule,
                source,
                shown,
            )
        )
    return found


def written_product(*factors: sp.Expr, plus: sp.Expr | None = None) -> tuple[str, str]:
    """A product in the order a textbook writes it (``C_out H_out W_out (C_in/g) K_H K_W``), as text and LaTeX."""

    def text(f: sp.Expr) -> str:
        shown = to_text(f)
        return (
            f"({shown})"
            if f.is_Mul and any(e.is_negative for _, e in (b.as_base_exp() for b in f.args))
            else shown
        )

    written = ("*".join(map(text, factors)), " ".join(map(to_latex, factors)))
    if plus is None:
        return written
    return (f"{written[0]} + {to_text(plus)}", f"{written[1]} + {to_latex(plus)}")


@singledispatch
def templates(layer: Layer, inputs: tuple, quantity: str) -> list[Template]:
    raise SpecError(f"no derivation is written for {layer.kind} ({quantity})")


@templates.register
def _(layer: ConvNd, inputs, quantity):
    x = inputs[0]
    taps = sp.Mul(*(textbook(f"K_{a}") for a in AXES[len(x) - 1]))
    kernel = {textbook(f"K_{a}"): k for a, k in zip(AXES[len(x) - 1], layer.kernel_size, strict=True)}
    if quantity == "shape":
        if layer.same:
            general = sp.ceiling(n_in / S)
            return _axis_templates(layer, x, general, {S: layer.stride}, "padding 'same'", TF_SAME, "same")
        general = sp.floor((n_in + 2 * P - d * (K - 1) - 1) / S) + 1
        binds = {K: layer.kernel_size, S: layer.stride, P: layer.padding, d: layer.dilation}
        return _axis_templates(
            layer, x, general, binds, "output size of a convolution", f"{TORCH_CONV}; {DUMOULIN}", "conv"
        )
    if quantity == "params":
        general = C_out * (C_in / g) * taps + (C_out if layer.bias else 0)
        rule = "one (C_in/g) x kernel filter per output channel" + (
            ", plus one bias each" if layer.bias else ""
        )
        return [
            Template(
                textbook("params"),
                general,
                {C_out: layer.out_channels, C_in: x[0], g: layer.groups, **kernel},
                rule,
                TORCH_CONV,
                written_product(C_out, C_in / g, *taps.args or (taps,), plus=C_out if layer.bias else None),
            )
        ]
    out = layer.output_shape(x)
    positions = sp.Mul(*(textbook(f"{a}_out") for a in AXES[len(x) - 1]))
    positions_binding = {textbook(f"{a}_out"): o for a, o in zip(AXES[len(x) - 1], out[1:], strict=True)}
    general = C_out * positions * (C_in / g) * taps
    return [
        Template(
            textbook("MACs"),
            general,
            {C_out: layer.out_channels, C_in: x[0], g: layer.groups, **kernel, **positions_binding},
            "every output element is a dot product over (C_in/g) x kernel taps",
            TORCH_CONV,
            written_product(C_out, *positions.args or (positions,), C_in / g, *taps.args or (taps,)),
        )
    ]


@templates.register
def _(layer: ConvTransposeNd, inputs, quantity):
    x = inputs[0]
    axes = AXES[len(x) - 1]
    taps = sp.Mul(*(textbook(f"K_{a}") for a in axes))
    kernel = {textbook(f"K_{a}"): k for a, k in zip(axes, layer.kernel_size, strict=True)}
    if quantity == "shape":
        general = (n_in - 1) * S - 2 * P + d * (K - 1) + op + 1
        binds = {
            K: layer.kernel_size,
            S: layer.stride,
            P: layer.padding,
            d: layer.dilation,
            op: layer.output_padding,
        }
        return _axis_templates(
            layer,
            x,
            general,
            binds,
            "output size of a transposed convolution",
            f"{TORCH_TRANSPOSE}; {DUMOULIN_TRANSPOSE}",
            "transpose",
        )
    if quantity == "params":
        general = C_in * (C_out / g) * taps + (C_out if layer.bias else 0)
        return [
            Template(
                textbook("params"),
                general,
                {C_out: layer.out_channels, C_in: x[0], g: layer.groups, **kernel},
                "weight of shape (C_in, C_out/g, kernel)",
                TORCH_TRANSPOSE,
            )
        ]
    positions = sp.Mul(*(textbook(f"{a}_in") for a in axes))
    binds = {textbook(f"{a}_in"): n for a, n in zip(axes, x[1:], strict=True)}
    return [
        Template(
            textbook("MACs"),
            C_in * positions * (C_out / g) * taps,
            {C_out: layer.out_channels, C_in: x[0], g: layer.groups, **kernel, **binds},
            "every input element is scattered through (C_out/g) x kernel taps",
            "torch.utils.flop_counter (transposed convolution)",
        )
    ]


@templates.register
def _(layer: DepthwiseConv2d, inputs, quantity):
    found = templates(layer.as_conv(inputs[0]), inputs, quantity)
    return [
        Template(
            t.left, t.general, t.bindings, f"{t.rule} (depthwise: g = C_in)", f"{t.source}; {KERAS_SEPARABLE}"
        )
        for t in found
    ]


@templates.register
def _(layer: SharedKernelConv2d, inputs, quantity):
    if quantity == "params":
        taps = textbook("K_H") * textbook("K_W")
        kernel = dict(zip((textbook("K_H"), textbook("K_W")), layer.kernel_size, strict=True))
        return [
            Template(
                textbook("params"),
                C_out * taps + (C_out if layer.bias else 0),
                {C_out: layer.out_channels, **kernel},
                "one K x K kernel per output map, shared by all input maps",
                "the seed question's type 2.1",
            )
        ]
    return templates(layer.as_conv(), inputs, quantity)


@templates.register
def _(layer: SeparableConv2d, inputs, quantity):
    x = inputs[0]
    depthwise, pointwise = layer.parts(x)
    M, N = textbook("M"), textbook("N")
    D_K, D_F = textbook("D_K"), textbook("D_F")
    if quantity == "shape":
        return templates(depthwise, inputs, "shape")
    out = depthwise.output_shape(x)
    binds = {M: x[0] * layer.depth_multiplier, N: layer.out_channels, C_in: x[0]}
    if quantity == "params":
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        general = D_K**2 * M + M * N + (N if layer.bias else 0)
        return [
            Template(
                textbook("params"),
                general,
                {**binds, D_K**2: kernel},
                "depthwise D_K x D_K filters for M maps, then N pointwise 1x1 filters over M maps",
                KERAS_SEPARABLE,
            )
        ]
    general = D_K**2 * M * D_F**2 + M * N * D_F**2
    return [
        Template(
            textbook("MACs"),
            general,
            {**binds, D_K**2: layer.kernel_size[0] * layer.kernel_size[1], D_F**2: out[1] * out[2]},
            "depthwise cost plus pointwise cost",
            MOBILENET,
        )
    ]


@templates.register
def _(layer: PoolNd, inputs, quantity):
    x = inputs[0]
    if quantity == "shape":
        dilation = layer.dilations()
        if layer.ceil_mode:
            general = sp.floor((n_in + P - 1 + sp.Min(0, P + S - d * (K - 1) - 1)) / S) + 1
            rule = "ceil_mode: ceil((n + 2P - d(K-1) - 1)/S) + 1 windows, minus a last one starting in the right padding"
        else:
            general = sp.floor((n_in + 2 * P - d * (K - 1) - 1) / S) + 1
            rule = "output size of a pooling window"
        binds = {K: layer.kernel_size, S: layer.stride, P: layer.padding, d: dilation}
        return _axis_templates(
            layer, x, general, binds, rule, f"{TORCH_POOL}; {DUMOULIN}", "ceil" if layer.ceil_mode else "conv"
        )
    return [
        _nothing(
            quantity,
            "pooling acts on each feature map separately and learns nothing"
            if quantity == "params"
            else "pooling takes maxima or means, no weights",
        )
    ]


@templates.register
def _(layer: AdaptivePoolNd, inputs, quantity):
    x = inputs[0]
    if quantity == "shape":
        names = AXES[len(x) - 1]
        return [
            Template(
                textbook(f"{names[a]}_out"),
                textbook("o"),
                {textbook("o"): size if size is not None else x[a + 1]},
                "adaptive pooling produces the requested size",
                "PyTorch documentation, torch.nn.AdaptiveAvgPool2d",
            )
            for a, size in enumerate(layer.output_size)
        ]
    return [_nothing(quantity, "pooling learns nothing and multiplies by no weight")]


@templates.register
def _(layer: BatchNormNd, inputs, quantity):
    if quantity == "params" and layer.affine:
        return [
            Template(
                textbook("params"),
                2 * C_in,
                {C_in: inputs[0][0]},
                "gamma and beta per channel; running mean and variance are buffers",
                TORCH_BN,
            )
        ]
    if quantity == "shape":
        return [_same_shape()]
    return [_nothing(quantity, "normalisation is elementwise: not a MAC by the convention")]


@templates.register
def _(layer: Linear, inputs, quantity):
    x = inputs[0]
    f_in, f_out = textbook("f_in"), textbook("f_out")
    binds = {f_in: x[-1], f_out: layer.out_features}
    if quantity == "shape":
        return [
            Template(
                textbook("features_out"),
                f_out,
                binds,
                "a linear layer maps the last axis to out_features",
                TORCH_LINEAR,
            )
        ]
    if quantity == "params":
        return [
            Template(
                textbook("params"),
                f_in * f_out + (f_out if layer.bias else 0),
                binds,
                "weight (out, in)" + (" and bias (out)" if layer.bias else ""),
                TORCH_LINEAR,
            )
        ]
    rows = textbook("rows")
    return [
        Template(
            textbook("MACs"),
            rows * f_in * f_out,
            {**binds, rows: sp.Mul(*x[:-1])},
            "one dot product of length f_in per output feature",
            TORCH_LINEAR,
        )
    ]


@templates.register
def _(layer: Flatten, inputs, quantity):
    if quantity == "shape":
        first, last = layer.axes(inputs[0])
        return [
            Template(
                textbook(f"out_{first}"),
                sp.Mul(*(textbook(f"a_{i}") for i in range(first, last))),
                {textbook(f"a_{i}"): inputs[0][i] for i in range(first, last)},
                "flatten multiplies the sizes of the merged axes",
                "PyTorch documentation, torch.nn.Flatten",
            )
        ]
    return [_nothing(quantity, "flattening only re-indexes")]


@templates.register
def _(layer: Elementwise, inputs, quantity):
    if quantity == "shape":
        return [_same_shape()]
    return [_nothing(quantity, f"{layer.kind} acts on each element alone, with no weights")]


@templates.register
def _(layer: ChannelConcat, inputs, quantity):
    if quantity == "shape":
        axis = batchless_axis(layer, layer.dim, len(inputs[0]))
        sizes = [textbook(f"a_{i}") for i in range(len(inputs))]
        return [
            Template(
                textbook(f"out_{axis}"),
                sp.Add(*sizes),
                dict(zip(sizes, (x[axis] for x in inputs), strict=True)),
                "concatenated branches stack their channels" if axis == 0 else "concatenation adds the sizes",
                INCEPTION if axis == 0 else "PyTorch documentation, torch.cat",
            )
        ]
    return [_nothing(quantity, "concatenation only re-indexes")]
