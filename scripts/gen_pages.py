"""Generate the documentation pages from symconv itself (run by mkdocs-gen-files at build time).

Every formula, number and table on the site comes from symconv's output at
build time; prose lives here beside the calls that produce what it describes.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from pathlib import Path

import mkdocs_gen_files
import numpy as np
import sympy as sp

from symconv import Network, symbols, zoo
from symconv import layers as L
from symconv.check import check_network
from symconv.cli import build_parser
from symconv.cli import main as symconv
from symconv.conventions import compare
from symconv.explain import WRITTEN, explain
from symconv.notation import to_latex
from symconv.numeric import run
from symconv.prove import prove
from symconv.render.markdown import render_report
from symconv.render.reasoning import derivations_markdown, proof_markdown
from symconv.render.scaling import scaling_markdown
from symconv.scaling import scale
from symconv.spec import load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


def write(path: str, text: str) -> None:
    with mkdocs_gen_files.open(path, "w") as page:
        page.write(text.strip() + "\n")


def cli(*args: str) -> str:
    """What ``symconv ARGS`` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = symconv(list(args))
    if status not in (0, 1):
        raise RuntimeError(f"symconv {' '.join(args)} exited with {status}")
    return out.getvalue().rstrip()


def block(text: str, language: str = "text") -> str:
    return f"```{language}\n{text}\n```"


def m(expr: object) -> str:
    """Inline math."""
    return f"${to_latex(expr)}$"


def number(value: object) -> str:
    return f"{int(value):,}"


def checked(network: Network, **values: object) -> str:
    """One sentence with the NumPy backend's verdict."""
    result = check_network(network, network.report.resolve(values), samples=3 if not values else 1, seed=0)
    if not result.ok:
        raise RuntimeError(f"the backend disagrees on {network.name}")
    samples = "; ".join(", ".join(f"{s} = {v}" for s, v in a) or "as given" for a in result.assignments)
    return (
        f"Checked by the NumPy backend: all {len(result.checks)} comparisons of formula and measurement agree "
        f"(at {samples})."
    )


def reproduce(*commands: str) -> str:
    return "Reproduce with:\n\n" + block("\n".join(commands), "sh")


# --- Home -------------------------------------------------------------------------------------------------
def home() -> None:
    net = load(EXAMPLES / "two_convolutions.yaml")
    n, m_, k1, k2 = symbols("n m k1 k2")
    at = net.at(k1=40, k2=8, n=28, m=28)
    write(
        "index.md",
        f"""
# symconv

symconv derives, proves and checks the arithmetic of convolutional networks. Describe a network with
symbolic sizes and it gives every layer's output shape, parameters, multiply-accumulates (MACs),
activations and receptive field **in closed form and exactly** — floors stay floors — explains each
formula step by step with its source, proves claims about sizes, and checks every formula against a
NumPy backend that really runs the layers and counts what it did.

## A live result

An {m(n)} × {m(m_)} greyscale image through a 3 × 3 convolution with {m(k1)} filters (padding 1), then a
5 × 5 convolution with {m(k2)} filters (padding 2):

$$\\text{{output}} = {to_latex(net.output_shape[0])} \\times {to_latex(n)} \\times {to_latex(m_)}, \\qquad
\\text{{params}} = {to_latex(net.params)}, \\qquad \\text{{MACs}} = {to_latex(net.macs)}$$

{render_report(net.report)}

At {m(k1)} = 40, {m(k2)} = 8 and a 28 × 28 image that is {number(at.params)} parameters and
{number(at.macs)} MACs. {checked(net)}

## What it answers

| command | answers |
|---|---|
| `symconv derive` | shapes, parameters, MACs, FLOPs, activations, receptive fields, in closed form |
| `symconv check` | every formula against the NumPy backend's measurement |
| `symconv explain` | each formula derived from its general rule, with sources and checks |
| `symconv prove` | claims about sizes, for all positive integers, or the smallest counterexample |
| `symconv scale` | why widening chained convolutions makes the cost quadratic |
| `symconv exercise` | generated exercises with checked, worked solutions |
| `symconv zoo` | classic networks ({len(zoo.names())} of them) in closed form |

See [Getting started](getting-started.md), the [questions answered](questions/filter-depth.md), or
[why the cost is quadratic](quadratic.md).
""",
    )


# --- Getting started --------------------------------------------------------------------------------------
def getting_started() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme, flags=re.S)
    spec = (EXAMPLES / "two_convolutions.yaml").read_text().strip()
    write(
        "getting-started.md",
        f"""
# Getting started

Install and run the main job on a bundled example:

{block(commands[0], "sh")}

Install the test dependencies and run the whole test suite:

{block(commands[1], "sh")}

## A first spec

`examples/two_convolutions.yaml`:

{block(spec, "yaml")}

Sizes are integers or expressions (`n`, `2*n + 1`, `floor(n/2)`) read by symconv's own parser; nothing
in a spec is ever evaluated as code.

## derive

{block("$ symconv derive examples/two_convolutions.yaml" + chr(10) + cli("derive", str(EXAMPLES / "two_convolutions.yaml")))}

`--at k1=40,k2=8,n=28,m=28` evaluates at values; `--format json|markdown|latex` changes the output.

## check

{block("$ symconv check examples/two_convolutions.yaml --samples 2" + chr(10) + cli("check", str(EXAMPLES / "two_convolutions.yaml"), "--samples", "2"))}

## explain

`symconv explain examples/two_convolutions.yaml --layer conv2d_2 --quantity params --format markdown`:

{cli("explain", str(EXAMPLES / "two_convolutions.yaml"), "--layer", "conv2d_2", "--quantity", "params", "--format", "markdown")}
""",
    )


# --- Conventions ------------------------------------------------------------------------------------------
def conventions() -> None:
    keras = load(EXAMPLES / "keras_mnist.yaml")
    rows = []
    for row in keras.layers:
        shape = row.output_shape
        channels_last = (*shape[1:], shape[0]) if len(shape) > 1 else shape
        rows.append(
            f"| `{row.name}` | ({', '.join(map(str, shape))}) | (None, {', '.join(map(str, channels_last))}) "
            f"| {number(row.params)} |"
        )
    n, S = symbols("n S")
    same = Network((1, n), [L.Conv1d(1, 3, stride=S, padding="same")]).output_shape[1]
    pool_floor = Network((1, n), [L.MaxPool1d(3, stride=2)]).output_shape[1]
    pool_ceil = Network((1, n), [L.MaxPool1d(3, stride=2, ceil_mode=True)]).output_shape[1]
    example = Network(
        (3, 32, 32),
        [
            L.Conv2d(8, 3, stride=2, padding=1),
            L.BatchNorm2d(),
            L.ReLU(),
            L.Conv2d(16, 3, stride=2, padding=1, bias=False),
            L.AdaptiveAvgPool2d(1),
            L.Flatten(),
            L.Linear(10),
        ],
        name="worked example",
    )
    report = example.report
    comparison = compare(example)
    totals = "\n".join(f"| {name} | {number(total)} |" for name, total in comparison.totals)
    differences = "\n".join(
        f"| {name} | " + ("; ".join(f"+ {number(term)} ({label})" for label, term in terms) or "—") + " |"
        for name, terms in comparison.differences
    )
    write(
        "conventions.md",
        f"""
# Conventions

## Shapes

symconv is channels first, like PyTorch: an input is `[C, H, W]` and the batch axis is implicit. Keras
prints channels last. The seed's Keras example, both ways:

| layer | symconv (C, H, W) | Keras (None, H, W, C) | params |
|---|---|---|---|
{chr(10).join(rows)}

## Padding

* an integer or one per axis, as in PyTorch: ${WRITTEN["conv"][1]}$;
* `valid` is padding 0;
* `same` keeps the size for stride 1 and follows TensorFlow for larger strides: ${WRITTEN["same"][1]}$; for a
  1-D convolution with kernel 3 and stride {m(S)} symconv derives {m(same)}.

## ceil_mode

Pooling rounds down by default; with `ceil_mode` PyTorch rounds up and drops a last window that would
start in the right padding. For a 3-wide window with stride 2: {m(pool_floor)} without, {m(pool_ceil)} with
`ceil_mode` (${WRITTEN["ceil"][1]}$ in general).

## What is counted

| quantity | counts | matches |
|---|---|---|
| params | weights, biases, BatchNorm γ and β; running statistics are buffers | `sum(p.numel() for p in module.parameters())` |
| MACs | multiply-accumulates of convolution and linear weights, padding taps included | torchvision's published GFLOPS, `FlopCounterMode` / 2 |
| FLOPs | 2 · MACs | `torch.utils.flop_counter.FlopCounterMode` |

Bias additions, BatchNorm, activations and pooling are **not** MACs: they are elementwise work, reported
apart. Other tools fold some of them in. A worked example:

{render_report(report)}

Each tool's number for it, derived by `symconv compare-conventions` (the tests run the tools themselves
and compare, exactly):

| convention | count |
|---|---|
{totals}

| convention | how it differs from MACs |
|---|---|
{differences}

The rules, read off each tool's counting code: torchinfo counts a convolution's weight *and bias* sizes
times its output positions, and any other module with parameters by its parameter count; fvcore counts
BatchNorm at 2 per element and `adaptive_avg_pool2d` at 1 per input element (and nothing for a
convolution with `padding="same"`, whose ATen op it has no handle for); ptflops adds bias additions,
BatchNorm, every pooling at 2 per input element and some activations once or twice per element;
`FlopCounterMode` counts 2 per multiply-accumulate and ignores bias.

Transposed convolutions are counted per input position (every input element times every tap of the
`C_out/groups` kernels it reaches), as `FlopCounterMode` does.
""",
    )


# --- Layer catalogue --------------------------------------------------------------------------------------
def layer_catalogue() -> None:
    C, n, m_, Co = symbols("C n m C_out")
    K, S, P, d, g = symbols("K S P d g")
    entries = [
        (
            "conv2d",
            "Convolution (PyTorch `Conv1d/2d/3d`)",
            L.Conv2d(Co, K, stride=S, padding=P, dilation=d, groups=g),
            L.Conv2d(8, 3, stride=2, padding=1),
        ),
        (
            "conv_transpose2d",
            "Transposed convolution",
            L.ConvTranspose2d(Co, K, stride=S, padding=P),
            L.ConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1),
        ),
        (
            "depthwise_conv2d",
            "Depthwise convolution (Keras `DepthwiseConv2D`)",
            L.DepthwiseConv2d(K, depth_multiplier=2),
            L.DepthwiseConv2d(3, depth_multiplier=2, padding=1),
        ),
        (
            "separable_conv2d",
            "Depthwise separable convolution (Keras `SeparableConv2D`)",
            L.SeparableConv2d(Co, K),
            L.SeparableConv2d(8, 3, padding=1),
        ),
        (
            "shared_kernel_conv2d",
            "One kernel shared by all input maps (the seed's type 2.1)",
            L.SharedKernelConv2d(Co, K),
            L.SharedKernelConv2d(4, 3, padding=1),
        ),
        (
            "maxpool2d",
            "Max pooling",
            L.MaxPool2d(K, stride=S, padding=0),
            L.MaxPool2d(3, stride=2, ceil_mode=True),
        ),
        ("avgpool2d", "Average pooling", L.AvgPool2d(K, stride=S), L.AvgPool2d(2)),
        ("adaptive_avgpool2d", "Adaptive average pooling", L.AdaptiveAvgPool2d(1), L.AdaptiveAvgPool2d(2)),
        ("batchnorm2d", "Batch normalisation", L.BatchNorm2d(), L.BatchNorm2d()),
        ("relu", "Activations (relu, relu6, gelu, silu, sigmoid, tanh, ...) and dropout", L.ReLU(), L.ReLU()),
        ("layernorm", "Layer normalisation over the last axis", L.LayerNorm([m_]), L.LayerNorm([8])),
        ("groupnorm", "Group normalisation", L.GroupNorm(g), L.GroupNorm(3)),
        ("mean", "Mean over axes (global average pooling)", L.Mean([2, 3]), L.Mean([2, 3], keepdim=True)),
        ("permute", "Permutation of axes (channels last)", L.Permute([0, 2, 3, 1]), L.Permute([0, 2, 3, 1])),
        ("reshape", "Reshape (the batch axis kept)", L.Reshape([C, n * m_]), L.Reshape([3, -1])),
        (
            "narrow",
            "A slice of an axis (chunk, split, strided slices)",
            L.Narrow(1, 0, symbols("l")),
            L.Narrow(3, 0, 8, step=2),
        ),
        ("pad", "Zero padding", L.Pad([P, P, P, P]), L.Pad([1, 1, 0, 2])),
        (
            "mul",
            "Elementwise arithmetic (add, sub, mul, div) with a scalar or a broadcast tensor",
            L.Mul(scalar=2),
            L.Mul(scalar=0.5),
        ),
    ]
    parts = [
        "# Layer catalogue",
        "",
        "Every formula on this page is derived by symconv from the layer's rule, for symbolic arguments; "
        "each section ends with a numeric example checked by the NumPy backend.",
    ]
    for kind, title, symbolic, concrete in entries:
        net = Network((C, n, m_), [symbolic], name=kind)
        parts += [f"## {title}", "", f"Spec name: `{kind}`.", ""]
        parts.append(derivations_markdown(explain(net, net.graph[0].name)))
        row = net.layers[0]
        if row.receptive_field is not None:
            parts.append(
                f"Receptive field {m(row.receptive_field)} and jump {m(row.jump)} for an input with "
                "receptive field 1 and jump 1.\n"
            )
        if net.assumptions:
            parts.append("Valid when " + ", ".join(m(a.condition) for a in net.assumptions) + ".\n")
        example = Network((3, 9, 8), [concrete], name=f"{kind} example")
        parts += [
            "**Numeric example** on a 3 × 9 × 8 input:",
            "",
            render_report(example.report),
            checked(example),
            "",
        ]
    T, E, h = symbols("T E h")
    attention = Network((T, E), [L.MultiheadAttention(E, h)], name="multihead_attention")
    parts += [
        "## Multi-head self-attention",
        "",
        "Spec name: `multihead_attention` (and `scaled_dot_product_attention`, `matmul` for the products "
        "written out). Over T tokens of width E the products grow as T², the projections as T:",
        "",
        derivations_markdown(explain(attention, attention.graph[0].name)),
        render_report(Network((6, 8), [L.MultiheadAttention(8, 2)], name="attention example").report),
    ]
    linear = Network((symbols("f"),), [L.Linear(symbols("o"))], name="linear")
    parts += [
        "## Linear and flatten",
        "",
        derivations_markdown(explain(linear)),
        render_report(Network((2, 3, 4), [L.Flatten(), L.Linear(5)]).report),
    ]
    write("layers.md", "\n".join(parts))


# --- Questions --------------------------------------------------------------------------------------------
def torch_params(module_factory) -> int | None:
    return None if torch is None else sum(p.numel() for p in module_factory().parameters())


def question_filter_depth() -> None:
    net = load(EXAMPLES / "keras_mnist.yaml")
    second = net.graph[1].layer.weight_shapes(net.layers[0].output_shape)["weight"]
    proof = prove("3*3*40*8 + 8 == 2888")
    torch_count = torch_params(lambda: torch.nn.Conv2d(40, 8, 3))
    torch_line = (
        f"PyTorch agrees: `torch.nn.Conv2d(40, 8, 3)` has a weight of shape (8, 40, 3, 3) and "
        f"{number(torch_count)} parameters."
        if torch_count is not None
        else ""
    )
    write(
        "questions/filter-depth.md",
        f"""
# How deep is the second layer's filter?

A first layer of 40 filters of size 3 × 3 turns an image into 40 feature maps. Does a second layer of 3 × 3
filters then use filters of depth 40?

**Yes.** Every filter spans all the maps it reads: the 8 filters of the second layer are each
{second[2]} × {second[3]} × {second[1]}, stored as a weight of shape ({", ".join(map(str, second))}).

{render_report(net.report)}

These are the numbers of the Keras summary the question quotes: {", ".join(number(r.params) for r in net.layers)}
parameters, {number(net.params)} in total; symconv is channels first where Keras prints channels last.

## Derivation

{derivations_markdown(explain(net, "conv2d_2", "params"))}

## Evidence

{proof_markdown(proof)}

{checked(net)} {torch_line}

{reproduce("symconv derive examples/keras_mnist.yaml", "symconv explain examples/keras_mnist.yaml --layer conv2d_2 --quantity params")}
""",
    )


def question_three_readings() -> None:
    nets = [load(EXAMPLES / f"reading_type{t}.yaml") for t in ("1", "2_1", "2_2")]
    names = [
        "type 1: each filter on each map",
        "type 2.1: one kernel shared by all maps",
        "type 2.2: a kernel per filter spanning all maps",
    ]
    rows = [
        f"| {name} | {m(net.output_shape[0])} | {m(net.layers[1].params)} | {m(net.layers[1].macs)} |"
        for name, net in zip(names, nets, strict=True)
    ]
    values = {"k1": 4, "k2": 6, "n": 12, "m": 10}
    counts = [int(net.at(**values).layers[1].params) for net in nets]
    torch_count = torch_params(lambda: torch.nn.Conv2d(4, 6, 5, padding=2))
    torch_line = ""
    if torch_count is not None:
        matching = [name for name, c in zip(names, counts, strict=True) if c == torch_count]
        torch_line = (
            f"At {m(symbols('k1'))} = 4 and {m(symbols('k2'))} = 6, `torch.nn.Conv2d(4, 6, 5)` has "
            f"{torch_count} parameters; the readings give {', '.join(map(str, counts))}: only "
            f"**{matching[0]}** matches."
        )
    proof = prove("25*k1*k2 + k2 >= 26*k2")
    write(
        "questions/three-readings.md",
        f"""
# Which of the three readings of a convolution is right?

The question describes three ways a second layer of {m(symbols("k2"))} 5 × 5 filters could act on the
{m(symbols("k1"))} maps of a first layer. symconv models each one as a layer:

| reading | maps after layer 2 | parameters of layer 2 | MACs of layer 2 |
|---|---|---|---|
{chr(10).join(rows)}

**Type 2.2 is what PyTorch, Keras, AlexNet and GoogLeNet implement**: a filter of the second layer is a
5 × 5 × {m(symbols("k1"))} kernel, and the layer outputs {m(symbols("k2"))} maps. Type 1 exists as a
*depthwise* convolution (`groups` = {m(symbols("k1"))} in PyTorch, `DepthwiseConv2D` in Keras); type 2.1 is
implemented by no framework.

{torch_line}

## Derivation for type 2.2

{derivations_markdown(explain(nets[2], "conv2d_2", "params"))}

## Evidence

Type 2.2 never has fewer parameters than type 2.1:

{proof_markdown(proof)}

{checked(nets[2])}

{reproduce(*(f"symconv derive examples/reading_type{t}.yaml" for t in ("1", "2_1", "2_2")))}
""",
    )


def question_one_by_one() -> None:
    reduced, direct = load(EXAMPLES / "one_by_one.yaml"), load(EXAMPLES / "direct_5x5.yaml")
    ratio = sp.nsimplify(direct.macs / reduced.macs)
    x = np.random.default_rng(1).standard_normal((192, 5, 5))
    measured = run(reduced, reduced.report.resolve({"n": 5}), "fast", inputs=x)
    w = measured.weights[0]
    by_hand = np.einsum("oc,chw->ohw", w["weight"][:, :, 0, 0], x) + w["bias"][:, None, None]
    agree = np.allclose(measured.outputs[0], by_hand)
    write(
        "questions/one-by-one.md",
        f"""
# What does a 1 × 1 convolution do?

It does not multiply a map by a constant: a 1 × 1 filter spans every input map, so each output value is
a learned linear combination of the input channels at that pixel, plus a bias. On the backend's output
for a 192-channel input, the 1 × 1 layer equals `W @ x + b` applied at every pixel: {"yes" if agree else "no"}.

Its use in GoogLeNet is to reduce the number of maps before an expensive convolution. The inception (3a)
5 × 5 branch reduces 192 maps to 16 before its 32 filters:

{render_report(reduced.report)}

Applied directly to the 192 maps, the same 5 × 5 layer costs

{render_report(direct.report)}

that is {m(ratio)} times more: {m(direct.macs)} against {m(reduced.macs)}.

## Derivation

{derivations_markdown(explain(reduced, "reduce_1x1"))}

## Evidence

The direct layer costs more than nine times as much, for every size:

{proof_markdown(prove(direct.macs, 9 * reduced.macs, ">"))}

{checked(reduced)}

{reproduce("symconv derive examples/one_by_one.yaml", "symconv derive examples/direct_5x5.yaml")}
""",
    )


def question_pooling() -> None:
    net = load(EXAMPLES / "pooling_per_map.yaml")
    values = net.report.resolve({"k1": 3, "n": 6, "m": 4})
    x = np.random.default_rng(0).standard_normal((3, 6, 4))
    before = run(net, values, "fast", inputs=x).outputs[0]
    x[1] += 100.0
    after = run(net, values, "fast", inputs=x).outputs[0]
    unchanged = [i for i in range(3) if np.array_equal(before[i], after[i])]
    write(
        "questions/pooling.md",
        f"""
# Is pooling done per feature map?

Yes. Pooling acts on each map separately: {m(symbols("k1"))} maps in, {m(symbols("k1"))} maps out, each
reduced on its own, and nothing is learned.

{render_report(net.report)}

## Evidence

The backend pools three 6 × 4 maps; adding 100 to map 1 only changes the output of map 1 — the outputs of
maps {", ".join(map(str, unchanged))} are unchanged.

{derivations_markdown(explain(net, "maxpool2d_1", "shape"))}

{checked(net)}

{reproduce("symconv derive examples/pooling_per_map.yaml", "symconv check examples/pooling_per_map.yaml")}
""",
    )


def question_conv3d() -> None:
    net = load(EXAMPLES / "conv3d_1337.yaml")
    small = Network((1, 13, 8, 9), [L.Conv3d(1, (3, 4, 5))], name="small 3-D convolution")
    one = run(small, {}, "enumerate", seed=3)
    other = run(small, {}, "fast", seed=3)
    same = np.allclose(one.outputs[0], other.outputs[0])
    write(
        "questions/conv3d.md",
        f"""
# How does a 3-D filter slide over 1337 maps?

Treat the 1337 maps of 42 × 314 as one volume of depth 1337 and slide a 3 × 4 × 5 filter along all three
axes: that is a 3-D convolution with one input and one output channel.

{render_report(net.report)}

Does the order of sliding matter? No: every output value is its own dot product of the filter with one
window, and no output depends on another. The backend computes a smaller case (13 maps of 8 × 9) twice —
visiting outputs one by one in order, and all at once as a matrix product — and the results agree:
{"yes" if same else "no"}.

## Derivation

{derivations_markdown(explain(net, "conv3d_1", "shape"))}

{checked(net)}

{reproduce("symconv derive examples/conv3d_1337.yaml")}
""",
    )


def question_quadratic() -> None:
    net = load(EXAMPLES / "two_convolutions.yaml")
    result = scale(net, ["k1", "k2"])
    write(
        "questions/quadratic.md",
        f"""
# Why is the cost quadratic when two chained convolutions widen?

Because the cost of a convolution is the product of its input width and its output width. In two chained
layers the second reads the first's {m(symbols("k1"))} maps with each of its {m(symbols("k2"))} filters, so
widening both by {m(result.factor)} multiplies its cost by {m(result.factor**2)}.

{scaling_markdown(result)}

## Derivation

{derivations_markdown(explain(net, "conv2d_2", "macs"))}

The tutorial [Why is it quadratic?](../quadratic.md) goes through the algebra and plots the measurement.

{reproduce("symconv scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha")}
""",
    )


# --- Tutorial ---------------------------------------------------------------------------------------------
def quadratic_tutorial() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    net = load(EXAMPLES / "two_convolutions.yaml")
    factors = (1, 2, 3, 4, 5, 6, 7, 8)
    result = scale(net, ["k1", "k2"], factors=factors)
    base = result.measured[0]
    times = []
    for item in result.measured:
        values = dict(item.values)
        start = time.perf_counter()
        for _ in range(3):
            run(net, values, "fast")
        times.append((time.perf_counter() - start) / 3)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    grid = np.linspace(1, 8, 100)
    left.plot(factors, [i.macs / base.macs for i in result.measured], "o", label="counted MACs / MACs at 1")
    left.plot(grid, grid**2, "-", label=r"$\alpha^2$")
    left.plot(grid, grid, ":", label=r"$\alpha$")
    left.set_xlabel(r"width factor $\alpha$")
    left.legend()
    right.plot(factors, [t / times[0] for t in times], "s", color="tab:red", label="NumPy time / time at 1")
    right.plot(grid, grid**2, "-", label=r"$\alpha^2$")
    right.set_xlabel(r"width factor $\alpha$")
    right.legend()
    figure.tight_layout()
    with mkdocs_gen_files.open("images/quadratic.png", "wb") as image:
        figure.savefig(image, format="png", dpi=110)
    plt.close(figure)
    alpha = result.factor
    second = result.layers[1]
    write(
        "quadratic.md",
        f"""
# Why is it quadratic?

GoogLeNet's paper remarks that if two convolutional layers are chained, any uniform increase of their
number of filters increases the computation quadratically. Here is why, derived and measured.

## The algebra

The cost of the second layer of the two-layer example is derived from PyTorch's formula:

{derivations_markdown(explain(net, "conv2d_2", "macs"))}

It is the product of the input width {m(symbols("k1"))} and the output width {m(symbols("k2"))}. Widen
both, {m(symbols("k1"))} → {m(alpha * symbols("k1"))} and {m(symbols("k2"))} → {m(alpha * symbols("k2"))}:

$$\\text{{MACs}}' = {to_latex(second.macs.after)} = {to_latex(second.macs.ratio)} \\cdot \\text{{MACs}}$$

The first layer reads one input map, so only its output width grows: its cost grows by {m(alpha)}. The total
grows by {m(result.total.macs.ratio)}: between {m(alpha)} and {m(alpha**2)}, approaching {m(alpha**2)}
as {m(symbols("k2"))} grows (degree {result.total.macs.degree} in {m(alpha)}).

## The measurement

The NumPy backend runs the network at factors {", ".join(map(str, factors))} (base sizes
{", ".join(f"{s} = {v}" for s, v in base.values)}), counts the multiply-adds it performs and times itself:

![Counted MACs and NumPy time against the width factor, with the alpha squared curve](images/quadratic.png)

{scaling_markdown(result)}

Counted MACs equal the formula at every factor; time follows the same curve up to the overheads of small
sizes.
""",
    )


# --- Gallery, proofs, LaTeX, CLI, API ----------------------------------------------------------------------
def gallery() -> None:
    parts = [
        "# Gallery",
        "",
        "Classic networks from `symconv zoo`, with symbolic input height $H$ and width $W$. Use any of them as "
        "`zoo:NAME` wherever a spec goes (`symconv derive zoo:resnet50 --format latex`).",
        "",
        "| network | where it comes from | params | MACs at 224 × 224 |",
        "|---|---|---|---|",
    ]
    details = []
    for name in zoo.names():
        net = zoo.build(name)
        values = {"H": 224, "W": 224, **({"alpha": 1} if name == "mobilenet_v1" else {})}
        report = net.at(**values)
        parts.append(
            f"| `{name}` | {zoo.ENTRIES[name].source} | {number(report.params)} | {number(report.macs)} |"
        )
        details += [
            f"## {name}",
            "",
            zoo.ENTRIES[name].source + ".",
            "",
            f"Output {m(net.output_shape)}; parameters {m(net.params)}.",
            "",
            "MACs:",
            "",
            f"$${to_latex(net.macs)}$$",
            "",
        ]
    write("gallery.md", "\n".join(parts + [""] + details))


def proofs() -> None:
    claims = [
        ("floor(floor((n - 1)/2)/2) == floor((n - 1)/4)", "Two stride-2 layers compose into one floor."),
        (
            "(D_K**2*M*D_F**2 + M*N*D_F**2)/(D_K**2*M*N*D_F**2) == 1/N + 1/D_K**2",
            "MobileNets' cost ratio of a depthwise separable convolution to a standard one.",
        ),
        ("ceil(n/2) + floor(n/2) == n", "Halves round up and down to the whole."),
        ("n*m + 1 > n", "An inequality over positive integers."),
        ("2*floor(n/2) == n", "False: odd sizes lose a row."),
        ("ceil(n/S) == floor((n + S - 1)/S)", "True, but the divisor is symbolic: the engine says so."),
    ]
    parts = [
        "# Proofs",
        "",
        "`symconv prove` settles claims about sizes for all positive integers. It tries, in order: an "
        "identity (both sides over one denominator), the sign of a polynomial in positive integers, a case "
        "split on residues that turns every floor into a polynomial, and a search for the smallest "
        "counterexample. What none of these settles is reported as *unknown*, with the evidence gathered — "
        "never as a proof.",
        "",
    ]
    for claim, why in claims:
        parts += [
            f"## {why}",
            "",
            block(f'symconv prove "{claim}"', "sh"),
            "",
            proof_markdown(prove(claim)),
            "",
        ]
    write("proofs.md", "\n".join(parts))


def latex_page() -> None:
    k1, alpha, c_in = symbols("k1"), symbols("alpha"), sp.Symbol("C_in")
    from symconv.render.latex import math as latex_math

    write(
        "latex.md",
        f"""
# LaTeX for papers

`derive`, `explain`, `prove`, `scale` and `exercise` take `--format latex`: a fragment to `\\input` into a
paper (it needs `amsmath`, `booktabs`, `longtable` and `array`); `--standalone` makes a complete document
and `-o FILE` writes it atomically.

{block("symconv derive examples/two_convolutions.yaml --at k1=40,k2=8,n=28,m=28 --format latex --standalone -o table.tex" + chr(10) + "symconv scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha --format latex --standalone -o quadratic.tex", "sh")}

The table of the two chained convolutions as pdflatex sets it:

![The derive table in LaTeX](images/latex-table.png)

Why widening both layers makes the cost quadratic, with the counted MACs:

![The scale document](images/latex-quadratic.png)

Tables are `longtable`s with `booktabs` rules, so long networks break across pages; layers inside blocks
are grouped under the block's name, and spatial sizes that are formulas get short names defined under the
table. Floors keep their numerator over one fraction, and symbols print as textbooks write them: `k1` as
${latex_math(k1)}$, `alpha` as ${latex_math(alpha)}$, `C_in` as ${latex_math(c_in)}$.

In a notebook, networks, reports, derivations, proofs and scaling results display themselves rendered.
The figures above are made by `python scripts/latex_figures.py`.
""",
    )


def beyond_counters() -> None:
    from symconv.queries import diff, domain, memory, parse_budget, solve
    from symconv.training import backward, report_for_pass

    alexnet = zoo.build("alexnet")
    valid = domain(alexnet)
    resnet = domain(zoo.build("resnet50"))
    mobilenet = zoo.build("mobilenet_v1")
    solution = solve(mobilenet, "alpha", [parse_budget("macs <= 300e6")], {"H": 224, "W": 224})
    ratio = {
        d.quantity: d
        for d in diff(load(EXAMPLES / "standard_conv.yaml"), load(EXAMPLES / "separable_conv.yaml"))
    }
    keras = load(EXAMPLES / "keras_mnist.yaml")
    costs = backward(keras)
    training = report_for_pass(keras, "training")
    used = memory(zoo.build("resnet18"), 8, "float16", {"H": 224, "W": 224})
    resnet50 = zoo.build("resnet50")
    comparison = compare(resnet50, {"H": 224, "W": 224})
    rows = "\n".join(
        f"| `{c.name}` | {number(c.input_gradient)} | {number(c.weight_gradient)} |" for c in costs
    )
    tools = "\n".join(f"| {name} | {number(total)} |" for name, total in comparison.totals)
    write(
        "beyond.md",
        f"""
# Beyond counters

A counter gives one number for one input size. A closed form answers questions about all of them.

## Where is a network valid?

`symconv domain zoo:alexnet` collects every layer's condition and keeps the strongest:
{", ".join(m(c) for c in valid.conditions)}. The smallest valid input is therefore
{", ".join(f"{m(s)} = {v}" for s, v in valid.smallest)} — the `min_size` torchvision documents for AlexNet.

Where the floors vanish the formulas become polynomials. For ResNet-50, when {m(resnet.exact_when[0].condition)}:

$$\\text{{MACs}} = {to_latex(resnet.exact_when[0].macs)}$$

## Design queries

`symconv solve zoo:mobilenet_v1 --maximize alpha --subject-to "macs <= 300e6" --at H=224,W=224`: the
budget's exact bound is {m(solution.supremum)} ≈ {float(solution.supremum):.5f}; channel counts are integers
for multiples of 1/32, so the largest usable width multiplier is {m(solution.value)}, at
{number(solution.report.macs)} MACs and {number(solution.report.params)} parameters.

## Diffs

`symconv diff examples/standard_conv.yaml examples/separable_conv.yaml` derives MobileNets' cost ratio of a
depthwise separable convolution to a standard one, instead of quoting it:

$$\\frac{{\\text{{MACs}}_{{\\text{{separable}}}}}}{{\\text{{MACs}}_{{\\text{{standard}}}}}} = {to_latex(ratio["macs"].ratio)}
= {to_latex(ratio["macs"].ratio_expanded)}$$

## Training cost

`symconv derive examples/keras_mnist.yaml --pass training`: the backward pass computes, per layer, the
gradient with respect to the weights and, where the input needs one, with respect to the input — the first
convolution reads the image and computes none:

| layer | input-gradient MACs | weight-gradient MACs |
|---|---|---|
{rows}

A training step costs {number(training.macs)} MACs against {number(keras.macs)} for the forward pass.

## Memory

`symconv memory zoo:resnet18 --batch 8 --dtype float16 --at H=224,W=224`: parameters take
{number(used.parameter_bytes)} bytes; the peak of live activations during a forward pass is
{number(used.peak_bytes)} bytes (every layer's output is kept until its last reader has run).

## What the other tools print

`symconv compare-conventions zoo:resnet50 --at H=224,W=224`:

| convention | count |
|---|---|
{tools}
""",
    )


def cli_page() -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    parts = [
        "# Command line",
        "",
        "Exit status: 0 success, 1 a check or claim failed, 2 bad input (a message naming "
        "the file, line and field; never a traceback). SPEC is a path, `-` for standard input, or `zoo:NAME`.",
        "",
    ]
    for name, sub in action.choices.items():
        parts += [f"## symconv {name}", "", block(sub.format_help().rstrip()), ""]
    write("cli.md", "\n".join(parts))


def api_page() -> None:
    write(
        "api.md",
        """
# Python API

::: symconv.sizes.symbols

::: symconv.network.Network

::: symconv.report.Report

::: symconv.prove.prove

::: symconv.explain.explain

::: symconv.scaling.scale

::: symconv.check.check_network

::: symconv.zoo.build

::: symconv.importers.torch.from_torch

::: symconv.importers.onnx.import_onnx
""",
    )


for generate in (
    home,
    getting_started,
    conventions,
    layer_catalogue,
    question_filter_depth,
    question_three_readings,
    question_one_by_one,
    question_pooling,
    question_conv3d,
    question_quadratic,
    quadratic_tutorial,
    gallery,
    proofs,
    latex_page,
    beyond_counters,
    cli_page,
    api_page,
):
    generate()
