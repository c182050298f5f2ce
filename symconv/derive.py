"""Derivations: every formula as a chain of equalities, each step with its rule and source.

A derivation starts from the general formula of the layer's documentation,
written in textbook symbols (``n``, ``K``, ``S``, ``P``, ``d``, ``C_in``, ``C_out``,
``g``), substitutes the layer's values, and ends at the result symconv's rule
computes. Every step is verified when it is built: symbolically where the
algebra allows (expansion; the proof engine for floors) and numerically at
sample values in every case. A step that fails verification is an error, not
a footnote.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import singledispatch

import sympy as sp

from symconv.errors import SpecError
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
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Elementwise
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptivePoolNd, PoolNd
from symconv.network import Network
from symconv.render.expressions import to_text
from symconv.report import LayerRow

QUANTITIES = ("shape", "params", "macs")
NUMERIC_POINTS = 12

TORCH_CONV = "PyTorch documentation, torch.nn.Conv2d (shape and weight of Conv1d/2d/3d)"
DUMOULIN = "Dumoulin & Visin (2016), A guide to convolution arithmetic for deep learning, relationship 6"
TORCH_TRANSPOSE = "PyTorch documentation, torch.nn.ConvTranspose2d"
DUMOULIN_TRANSPOSE = "Dumoulin & Visin (2016), relationship 14"
TORCH_POOL = "PyTorch documentation, torch.nn.MaxPool2d / AvgPool2d; ATen pooling_output_shape (ceil_mode)"
TORCH_LINEAR = "PyTorch documentation, torch.nn.Linear"
TORCH_BN = "PyTorch documentation, torch.nn.BatchNorm2d (weight and bias are the learnable gamma and beta)"
TF_SAME = "TensorFlow documentation, tf.nn.convolution: padding 'SAME' gives ceil(n/S)"
MOBILENET = "Howard et al. (2017), MobileNets, section 3.1, eq. (5)"
KERAS_SEPARABLE = "Keras documentation, SeparableConv2D / DepthwiseConv2D"
CONCRETE = (
    "Graham, Knuth & Patashnik, Concrete Mathematics, eq. (3.11): floor((floor(x) + m)/n) = floor((x + m)/n)"
)
CONVENTION = "symconv conventions (design.md): MACs count convolution and linear weights only"
RESNET = "He et al. (2015), Deep Residual Learning, eq. (1)"
INCEPTION = "Szegedy et al. (2014), Going Deeper with Convolutions, section 5 (filter concatenation)"


def textbook(name: str) -> sp.Symbol:
    """A display symbol of the general formulas (no assumptions: it never meets user symbols)."""
    return sp.Symbol(name)


n_in = textbook("n")
K, S, P, d, op = textbook("K"), textbook("S"), textbook("P"), textbook("d"), textbook("p_out")
C_in, C_out, g = textbook("C_in"), textbook("C_out"), textbook("g")
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class Step:
    """``left = right``, justified by ``rule`` (from ``source``), verified as ``checked`` says."""

    left: sp.Expr
    right: sp.Expr
    rule: str
    source: str | None = None
    checked: str = ""
    written: tuple[str, str] | None = None  # the general formula as textbooks write it: (text, LaTeX)


@dataclass(frozen=True)
class Derivation:
    """How one quantity of one layer (or the network total) follows from its general formula."""

    layer: str
    kind: str
    quantity: str
    steps: tuple[Step, ...]

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].right

    def _repr_latex_(self) -> str:
        from symconv.render.latex import aligned

        return aligned(self)

    def _repr_markdown_(self) -> str:
        from symconv.render.reasoning import derivations_markdown

        return derivations_markdown([self])


@dataclass(frozen=True)
class Template:
    """A general formula, what to substitute into it, and where it comes from."""

    left: sp.Expr
    general: sp.Expr
    bindings: dict
    rule: str
    source: str
    written: tuple[str, str] | None = None


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
                textbook("features"),
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
def _(layer: Add, inputs, quantity):
    if quantity == "shape":
        return [_same_shape(RESNET)]
    return [_nothing(quantity, "an addition learns nothing and multiplies nothing")]


@templates.register
def _(layer: ChannelConcat, inputs, quantity):
    if quantity == "shape":
        channels = [textbook(f"C_{i}") for i in range(len(inputs))]
        return [
            Template(
                textbook("C_out"),
                sp.Add(*channels),
                dict(zip(channels, (x[0] for x in inputs), strict=True)),
                "concatenated branches stack their channels",
                INCEPTION,
            )
        ]
    return [_nothing(quantity, "concatenation only re-indexes")]


def _nothing(quantity: str, reason: str) -> Template:
    left = textbook("params" if quantity == "params" else "MACs")
    return Template(left, sp.Integer(0), {}, reason, CONVENTION if quantity == "macs" else None)


def _same_shape(source: str | None = None) -> Template:
    return Template(textbook("shape"), textbook("same"), {}, "the output has the input's shape", source)


def _sample(expressions: list[sp.Expr], rng: random.Random) -> list[dict]:
    symbols = sorted(set().union(*(sp.sympify(e).free_symbols for e in expressions)), key=lambda s: s.name)
    points = []
    for _ in range(NUMERIC_POINTS):
        points.append(
            {
                s: sp.Integer(rng.randint(1, 60)) if s.is_integer else sp.Rational(rng.randint(1, 8), 4)
                for s in symbols
            }
        )
    return points


def _verify(before: sp.Expr, after: sp.Expr, rng: random.Random) -> str:
    """Check ``before == after``: symbolically when possible, numerically always."""
    from symconv.prove import prove

    for point in _sample([before, after], rng):
        a, b = before.xreplace(point), after.xreplace(point)
        if a.is_number and b.is_number and a != b:
            raise AssertionError(f"derivation step fails at {point}: {a} != {b}")
    if sp.expand(before - after) == 0:
        return f"symbolic (expansion); numeric at {NUMERIC_POINTS} points"
    proof = prove(before, after)
    if proof.status == "proved":
        return f"symbolic ({proof.method}); numeric at {NUMERIC_POINTS} points"
    return f"numeric at {NUMERIC_POINTS} points (not proved symbolically)"


def layer_derivations(row: LayerRow, layer: Layer, quantity: str, seed: int = 0) -> list[Derivation]:
    """Derivations of one quantity of one layer (one per spatial axis for shapes)."""
    if quantity not in QUANTITIES:
        raise SpecError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
    rng = random.Random(seed)
    results = {"params": row.params, "macs": row.macs}
    found = []
    for index, template in enumerate(templates(layer, row.input_shapes, quantity)):
        if quantity == "shape":
            if template.general == textbook("same"):
                expected = row.output_shape
                steps = [
                    Step(
                        template.left,
                        sp.Tuple(*row.input_shapes[0]),
                        template.rule,
                        template.source,
                        "definition",
                    )
                ]
                found.append(Derivation(row.name, row.kind, quantity, tuple(steps)))
                continue
            expected = _shape_entry(row, template, index)
        else:
            expected = results[quantity]
        steps = [
            Step(
                template.left,
                template.general,
                template.rule,
                template.source,
                "definition",
                template.written,
            )
        ]
        substituted = sp.sympify(template.general.xreplace(template.bindings))
        # the general formula, filled in, must agree with symconv's own rule for the layer
        agreement = _verify(substituted, sp.sympify(expected), rng)
        if template.bindings:
            shown = ", ".join(f"{k} = {to_text(v)}" for k, v in template.bindings.items())
            same = substituted == sp.sympify(expected)
            steps.append(
                Step(
                    template.left,
                    substituted,
                    f"substitute {shown}",
                    None,
                    f"agrees with the layer's rule: {agreement}" if same else "",
                )
            )
        if substituted != sp.sympify(expected):
            composed = substituted.count(sp.floor) > sp.sympify(expected).count(sp.floor)
            steps.append(
                Step(
                    template.left,
                    expected,
                    "compose the floors into one" if composed else "simplify",
                    CONCRETE if composed else None,
                    agreement,
                )
            )
        found.append(Derivation(row.name, row.kind, quantity, tuple(steps)))
    return found


def _shape_entry(row: LayerRow, template: Template, index: int) -> sp.Expr:
    name = template.left.name
    if name in ("features_out", "features"):
        return (
            row.output_shape[-1]
            if name == "features_out"
            else row.output_shape[index if len(row.output_shape) > 1 else 0]
        )
    if name == "C_out":
        return row.output_shape[0]
    return row.output_shape[1 + index]


def total_derivation(network: Network, quantity: str) -> Derivation:
    """The network's total as the sum of its layers' values, simplified."""
    rows = network.report.rows
    values = [getattr(r, quantity) for r in rows]
    total = getattr(network.report, quantity)
    symbol = textbook("params" if quantity == "params" else "MACs")
    terms = [textbook(f"{quantity}_{i}") for i in range(1, len(rows) + 1)]
    steps = [
        Step(
            symbol,
            sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0],
            "the total is the sum over the layers",
            None,
            "definition",
        ),
        Step(
            symbol,
            sp.Add(*[v for v in values if v != 0], evaluate=False)
            if sum(v != 0 for v in values) > 1
            else sp.Add(*values),
            "substitute each layer's value (zeros dropped)",
            None,
            "definition",
        ),
    ]
    if steps[-1].right != total:
        steps.append(
            Step(symbol, total, "collect terms", None, _verify(sp.Add(*values), total, random.Random(0)))
        )
    return Derivation("total", "network", quantity, tuple(steps))


def explain(
    network: Network, layer: str | None = None, quantity: str | None = None
) -> tuple[Derivation, ...]:
    """Every derivation asked for: one layer or all, one quantity or all three, plus the totals."""
    quantities = (quantity,) if quantity else QUANTITIES
    for q in quantities:
        if q not in QUANTITIES:
            raise SpecError(f"--quantity must be one of {', '.join(QUANTITIES)}, got {q!r}")
    names = [node.name for node in network.graph]
    if layer is not None and layer not in names:
        raise SpecError(f"no layer named {layer!r}; layers: {', '.join(names)}")
    found: list[Derivation] = []
    for node, row in zip(network.graph, network.report.rows, strict=True):
        if layer is not None and node.name != layer:
            continue
        for q in quantities:
            found.extend(layer_derivations(row, node.layer, q))
    if layer is None:
        found.extend(total_derivation(network, q) for q in quantities if q != "shape")
    return tuple(found)


__all__ = ["Derivation", "Step", "explain", "layer_derivations", "total_derivation"]
