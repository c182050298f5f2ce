"""Reference pages: conventions, the layer catalogue, the command line and the Python API."""

from __future__ import annotations

from symconv import Network, symbols, zoo
from symconv import layers as L
from symconv.cli import build_parser
from symconv.conventions import compare
from symconv.explain import WRITTEN, explain
from symconv.render.markdown import render_report
from symconv.render.reasoning import derivations_markdown
from symconv.spec import load

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


from scripts.pages.common import EXAMPLES, ROOT, block, checked, cli, m, number, write


# --- Conventions ------------------------------------------------------------------------------------------
def conventions() -> None:
    vit_totals = dict(compare(zoo.build("vit_b_16"), {"H": 224, "W": 224}).totals)
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
prints channels last. The Keras MNIST example (`examples/keras_mnist.yaml`), both ways:

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

## A counter that drops work

`FlopCounterMode` run on an eval-mode model on CPU, as most people run it, does not see attention:
`nn.MultiheadAttention` takes its fused fast path and `scaled_dot_product_attention` its CPU flash kernel,
single operators the counter has no formula for. symconv's `flopcounter-eval` convention says what it then
prints. For ViT-B/16 at 224 × 224:

| convention | FLOPs |
|---|---:|
| `flopcounter` (attention on its counted path) | {number(vit_totals["flopcounter"])} |
| `flopcounter-eval` (what the counter prints in eval mode) | {number(vit_totals["flopcounter-eval"])} |
| missing | {number(vit_totals["flopcounter"] - vit_totals["flopcounter-eval"])} |

That is {float(vit_totals["flopcounter-eval"]) / 2e9:.2f} G MACs of the
{float(vit_totals["flopcounter"]) / 2e9:.2f} G torchvision publishes: every attention layer counted as
nothing. Counting a reference needs `torch.backends.mha.set_fastpath_enabled(False)` and
`torch.nn.attention.sdpa_kernel(SDPBackend.MATH)`; the test suite runs both ways and matches each figure.

{block("symconv compare-conventions zoo:vit_b_16 --at H=224,W=224", "sh")}
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
            "One kernel shared by all input maps (the question's reading 2.1)",
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
        (
            "vector_norm",
            "Vector norm over axes (ConvNeXt V2's global response normalisation)",
            L.VectorNorm([2, 3], keepdim=True),
            L.VectorNorm([2, 3], keepdim=True, ord=1),
        ),
        (
            "roll",
            "Cyclic shift along axes (Swin's shifted windows)",
            L.Roll([3, 3], [2, 3]),
            L.Roll([1, -2], [2, 3]),
        ),
        (
            "repeat_interleave",
            "Each entry of an axis repeated (GC ViT's global query, one copy per window)",
            L.RepeatInterleave(symbols("r"), 1),
            L.RepeatInterleave(2, 2),
        ),
        (
            "pad",
            "Padding (zeros, a constant, reflect, replicate, circular)",
            L.Pad([P, P, P, P]),
            L.Pad([1, 1, 0, 2], mode="reflect"),
        ),
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


CLI_EXAMPLES = {
    "derive": [
        (
            "Two chained convolutions, the table fitted to 100 columns:",
            "derive examples/two_convolutions.yaml --width 100",
        ),
        (
            "A torchvision ResNet one row per stage, at one input size:",
            "derive zoo:resnet18 --depth 1 --at H=224,W=224 --width 100",
        ),
        (
            "A fragment for a two-column paper (`--wide` for `table*`):",
            "derive examples/two_convolutions.yaml --format latex --caption 'Two convolutions' --label tab:two",
        ),
    ],
    "check": [("Three random sizes, every layer measured:", "check examples/two_convolutions.yaml")],
    "explain": [
        (
            "The second layer's parameters of the Keras example:",
            "explain examples/keras_mnist.yaml --layer conv2d_2 --quantity params",
        ),
    ],
    "prove": [("Type 2.2 never has fewer parameters than type 2.1:", "prove '25*k1*k2 + k2 >= 26*k2'")],
    "scale": [
        (
            "Two chained convolutions widened together:",
            "scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha",
        ),
    ],
    "exercise": [("The same seed gives the same exercise:", "exercise filter-depth --seed 1")],
    "zoo": [],
    "compare-conventions": [
        (
            "What torchinfo, fvcore, ptflops and FlopCounterMode print for two convolutions:",
            "compare-conventions examples/two_convolutions.yaml",
        ),
    ],
    "diff": [
        (
            "ResNet-18 against ResNet-34 at 224 × 224:",
            "diff zoo:resnet18 zoo:resnet34 --at H=224,W=224 --width 100",
        )
    ],
    "domain": [("Five stride-2 convolutions:", "domain examples/five_strided.yaml")],
    "solve": [
        (
            "The most filters in the first layer under a parameter budget:",
            "solve examples/two_convolutions.yaml --maximize k1 --subject-to 'params <= 10000' --at k2=64,n=28,m=28",
        ),
    ],
    "memory": [
        ("At batch 32:", "memory examples/two_convolutions.yaml --batch 32 --at k1=32,k2=64,n=28,m=28")
    ],
    "roofline": [
        (
            "Each layer on a device of 312 TFLOP/s and 2 TB/s:",
            "roofline examples/two_convolutions.yaml --at k1=32,k2=64,n=28,m=28 --batch 1 --peak 312T --bandwidth 2T --width 100",
        ),
    ],
    "import": [],
    "export": [],
}
"""Per command: a sentence and the arguments of an example, run when the page is written."""
CLI_WRITTEN = {
    "zoo": "symconv zoo lists the built-in networks; `zoo:resnet50` then names one wherever a SPEC is read.",
    "import": (
        "`symconv import model.onnx -o model.yaml` writes an ONNX file as a spec file that `symconv derive` "
        "reads back (with the `onnx` extra)."
    ),
    "export": (
        "`symconv export examples/two_convolutions.yaml --at k1=32,k2=64 -o two.onnx` writes an ONNX model "
        "whose height and width stay symbolic (with the `onnx` extra)."
    ),
}
EXAMPLE_LINES = 40


def _example(arguments: str) -> str:
    import contextlib
    import shlex

    with contextlib.chdir(ROOT):
        output = cli(*shlex.split(arguments)).splitlines()
    if len(output) > EXAMPLE_LINES:
        output = output[: EXAMPLE_LINES - 1] + [f"... ({len(output) - EXAMPLE_LINES + 1} more lines)"]
    return block(f"$ symconv {arguments}\n" + "\n".join(output))


def cli_page() -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    parts = [
        "# Command line",
        "",
        "Exit status: 0 success, 1 a check or claim failed, 2 bad input (a message naming "
        "the file, line and field; never a traceback). SPEC is a path, `-` for standard input, or `zoo:NAME`.",
        "Every example below is run when this page is written; its output is what symconv printed.",
        "",
    ]
    summary = {choice.dest: choice.help for choice in action._choices_actions}
    for name, sub in action.choices.items():
        parts += [f"## symconv {name}", "", f"{summary[name][0].upper()}{summary[name][1:]}.", ""]
        if name in CLI_WRITTEN:
            parts += [CLI_WRITTEN[name], ""]
        for sentence, arguments in CLI_EXAMPLES.get(name, []):
            parts += [sentence, "", _example(arguments), ""]
        help_text = sub.format_help().rstrip().replace("\n", "\n    ")
        parts += ['??? note "All options"', "", "    ```text", f"    {help_text}", "    ```", ""]
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

::: symconv.roofline.roofline

::: symconv.attention_growth.attention_growth
""",
    )
