"""The questions the project grew from, each answered from symconv's output."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symconv import Network, symbols
from symconv import layers as L
from symconv.explain import explain
from symconv.numeric import run
from symconv.prove import prove
from symconv.render.markdown import render_report
from symconv.render.reasoning import derivations_markdown, proof_markdown
from symconv.scaling import scale
from symconv.spec import load
from symconv.zoo import build

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


from scripts.pages.common import EXAMPLES, checked, m, number, reproduce, torch, write


# --- Questions --------------------------------------------------------------------------------------------
def torch_params(module_factory) -> int | None:
    return None if torch is None else sum(p.numel() for p in module_factory().parameters())


PAPERS = {
    "alexnet": "[Krizhevsky, Sutskever & Hinton 2012](https://doi.org/10.1145/3065386)",
    "googlenet": "[Szegedy et al. 2015](https://arxiv.org/abs/1409.4842)",
    "nin": "[Lin, Chen & Yan 2014](https://arxiv.org/abs/1312.4400)",
    "maxout": "[Goodfellow et al. 2013](https://arxiv.org/abs/1302.4389)",
    "c3d": "[Tran et al. 2015](https://arxiv.org/abs/1412.0767)",
    "mobilenet": "[Howard et al. 2017](https://arxiv.org/abs/1704.04861)",
    "arithmetic": "[Dumoulin & Visin 2016](https://arxiv.org/abs/1603.07285)",
}
DOCS = {
    "conv2d": "[`torch.nn.Conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html)",
    "conv3d": "[`torch.nn.Conv3d`](https://pytorch.org/docs/stable/generated/torch.nn.Conv3d.html)",
    "keras_conv2d": "[`keras.layers.Conv2D`](https://keras.io/api/layers/convolution_layers/convolution2d/)",
    "keras_depthwise": (
        "[`keras.layers.DepthwiseConv2D`](https://keras.io/api/layers/convolution_layers/depthwise_convolution2d/)"
    ),
    "maxpool2d": "[`torch.nn.MaxPool2d`](https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html)",
    "maxpool3d": "[`torch.nn.MaxPool3d`](https://pytorch.org/docs/stable/generated/torch.nn.MaxPool3d.html)",
    "lrn": (
        "[`torch.nn.LocalResponseNorm`](https://pytorch.org/docs/stable/generated/torch.nn.LocalResponseNorm.html)"
    ),
    "keras_maxpool": "[`keras.layers.MaxPooling2D`](https://keras.io/api/layers/pooling_layers/max_pooling2d/)",
}


def changed_maps(network: Network, shape: tuple[int, ...], perturbed: int, seed: int = 0) -> list[int]:
    """The output maps that change when one input map is moved by 100, measured by the backend."""
    x = np.random.default_rng(seed).standard_normal(shape)
    before = run(network, {}, "fast", inputs=x).outputs[-1]
    x[perturbed] += 100.0
    after = run(network, {}, "fast", inputs=x).outputs[-1]
    return [i for i in range(before.shape[0]) if not np.array_equal(before[i], after[i])]


def question_filter_depth() -> None:
    net = load(EXAMPLES / "keras_mnist.yaml")
    second = net.graph[1].layer.weight_shapes(net.layers[0].output_shape)["weight"]
    k = symbols("k")
    general = Network((k, 26, 26), [L.Conv2d(8, 3)], name="second layer after k maps")
    probe = Network((40, 7, 7), [L.Conv2d(8, 3)], name="second layer on 40 maps")
    reached = changed_maps(probe, (40, 7, 7), perturbed=39)
    torch_count = torch_params(lambda: torch.nn.Conv2d(40, 8, 3))
    torch_line = (
        f"PyTorch agrees: `torch.nn.Conv2d(40, 8, 3)` holds a weight of shape (8, 40, 3, 3) and "
        f"{number(torch_count)} parameters."
        if torch_count is not None
        else ""
    )
    dense = net.layers[-1]
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
parameters, {number(net.params)} in total; symconv is channels first where Keras prints channels last. Each
comes from one rule, weights plus one bias per filter: 400 is 40 filters of $3 \\times 3 \\times 1$ plus
40 biases, {number(net.layers[1].params)} is 8 filters of $3 \\times 3 \\times 40$ plus 8, and
{number(dense.params)} is a {number(net.layers[2].output_shape[0])} × 10 matrix plus 10.

## Derivation

{derivations_markdown(explain(net, "conv2d_2", "params"))}

The depth is not a property of the second layer: it is whatever the first one outputs. After a first layer
of {m(k)} filters, the second layer's weight has shape
({", ".join(str(d) for d in general.graph[0].layer.weight_shapes((k, 26, 26))["weight"])}) and
{m(general.params)} parameters, for every {m(k)}.

## Evidence

**Measured.** The NumPy backend runs the second layer on 40 random 7 × 7 maps, then again with map 39 alone
moved by 100: output maps {", ".join(map(str, reached))} change, all {len(reached)} of them, so every filter
reads the last map too. A filter of depth 1 or 3 could not see it.

**PyTorch.** {DOCS["conv2d"]} documents its weight as of shape (out_channels, in_channels / groups, kernel
height, kernel width). {torch_line}

**Keras.** {DOCS["keras_conv2d"]} sizes its kernel from the input's last axis: the summary's
{number(net.layers[1].params)} is reached only with depth 40.

**The arithmetic in general.** {PAPERS["arithmetic"]}, section 1, describes each kernel of a 2-D convolution
as spanning all input feature maps.

{checked(net)}

{reproduce("symconv derive examples/keras_mnist.yaml", "symconv explain examples/keras_mnist.yaml --layer conv2d_2 --quantity params")}
""",
    )


def _inception_3a(reading: str) -> tuple[int, int]:
    """Output depth and weights of GoogLeNet's inception (3a) (Table 1 widths) under one reading of a convolution.

    ``1``: every filter on every map separately, with filters shared by all maps (maps multiply);
    ``2.1``: one kernel per filter shared by all maps; ``2.2``: a kernel per filter spanning all maps.
    """

    def conv(maps: int, filters: int, kernel: int) -> tuple[int, int]:
        if reading == "1":
            return maps * filters, kernel * kernel * filters
        if reading == "2.1":
            return filters, kernel * kernel * filters
        return filters, kernel * kernel * maps * filters

    depth, weights = 0, 0
    for chain in (
        [(64, 1)],
        [(96, 1), (128, 3)],
        [(16, 1), (32, 5)],
        [(32, 1)],
    ):  # the last after a 3x3 max-pool
        maps = 192
        for filters, kernel in chain:
            maps, w = conv(maps, filters, kernel)
            weights += w
        depth += maps
    return depth, weights


def question_three_readings() -> None:
    readings = [
        ("1_shared", "type 1: the same filters on each map", "1"),
        ("1", "type 1, a filter per map (depthwise)", None),
        ("2_1", "type 2.1: one kernel shared by all maps", "2.1"),
        ("2_2", "type 2.2: a kernel per filter spanning all maps", "2.2"),
    ]
    nets = [load(EXAMPLES / f"reading_type{t}.yaml") for t, _, _ in readings]
    k1, k2 = symbols("k1 k2")
    asked = {"1_shared": 9 * k1 + 25 * k2, "1": None, "2_1": 9 * k1 + 25 * k2, "2_2": 9 * k1 + 25 * k1 * k2}
    rows = []
    for (key, name, _), net in zip(readings, nets, strict=True):
        second = net.layers[-1]
        question = asked[key]
        rows.append(
            f"| {name} | {m(sp.Mul(*net.output_shape[:-2]))} | {m(second.params)} | {m(net.params)} | "
            f"{m(question) if question is not None else 'not counted'} | {m(second.macs)} |"
        )
    values = {"k1": 4, "k2": 6, "n": 12, "m": 10}
    counts = [int(net.at(**values).layers[-1].params) for net in nets]
    torch_count = torch_params(lambda: torch.nn.Conv2d(4, 6, 5, padding=2))
    torch_line = ""
    if torch_count is not None:
        matching = [name for (_, name, _), c in zip(readings, counts, strict=True) if c == torch_count]
        torch_line = (
            f"At {m(k1)} = 4 and {m(k2)} = 6, `torch.nn.Conv2d(4, 6, 5)` has {torch_count} parameters; the "
            f"readings' second layers have {', '.join(map(str, counts))}: only **{matching[0]}** matches."
        )
    extra = [
        sp.expand(net.params - asked[key])
        for (key, _, _), net in zip(readings, nets, strict=True)
        if asked[key]
    ]
    assert len(set(extra)) == 1, extra  # the same biases under every reading
    alexnet = L.Conv2d(256, 5, padding=2, groups=2)
    alexnet_net = Network((96, 27, 27), [alexnet], name="AlexNet's second layer")
    alexnet_weight = alexnet.weight_shapes((96, 27, 27))["weight"]
    table = {reading: _inception_3a(reading) for _, _, reading in readings if reading}
    paper = build("googlenet_paper")
    block3a = [r for r in paper.report.layers if r.name.startswith("inception3a") and r.kind == "conv2d"]
    weights_3a = sum(
        int(r.params) - int(r.output_shape[0]) for r in block3a
    )  # each layer: weights + one bias per map
    depth_3a = paper.report.layers[
        [r.name for r in paper.report.layers].index("inception3a.concat")
    ].output_shape[0]
    assert (depth_3a, weights_3a) == table["2.2"], (depth_3a, weights_3a)
    macs_3a = weights_3a * 28 * 28
    inception_rows = "\n".join(
        f"| type {reading} | {number(depth)} | {number(weights)} |"
        for reading, (depth, weights) in table.items()
    )
    write(
        "questions/three-readings.md",
        f"""
# Which of the three readings of a convolution is right?

The question describes three ways a second layer of {m(k2)} 5 × 5 filters could act on the {m(k1)} maps of a
first layer. symconv models each one as a layer, and type 1 twice: as the question counts it (the same
{m(k2)} filters slid over every map, a 3-D convolution one map deep) and as frameworks offer it (a filter per
map, a depthwise convolution):

| reading | maps after layer 2 | parameters of layer 2 | parameters in all | the question's count (weights) | MACs of layer 2 |
|---|---|---|---|---|---|
{chr(10).join(rows)}

**Type 2.2 is what PyTorch, Keras, AlexNet and GoogLeNet implement**: a filter of the second layer is a
5 × 5 × {m(k1)} kernel, and the layer outputs {m(k2)} maps. Type 1 with a filter per map exists as a
*depthwise* convolution (`groups` = {m(k1)} in PyTorch, {DOCS["keras_depthwise"]} in Keras, the first half of
MobileNet's separable convolution, {PAPERS["mobilenet"]}); type 1 with shared filters is a
{DOCS["conv3d"]} whose kernel is one map deep; type 2.1 is implemented by no framework.

{torch_line}

## Where the question's counts differ

The question counts weights only. symconv counts parameters as PyTorch does, a bias per output map
included, so every reading's total is {m(extra[0])} more than the question's: one bias for each of the
{m(k1)} first-layer filters and each of the {m(k2)} second-layer filters. An output value of types 2.1 and
2.2 reads 5 × 5 × {m(k1)} input values (one window on each of the {m(k1)} maps), which is why every reading's MACs
are {m(nets[-1].layers[-1].macs)}: the readings differ in what is learned, not in the work.

## Evidence from the papers

**AlexNet** ({PAPERS["alexnet"]}, section 3.5 and Figure 2). The second layer's "256 kernels of size
5 × 5 × 48" span all 48 maps each GPU holds, half of the first layer's 96: type 2.2, split across two
GPUs, which PyTorch writes `torch.nn.Conv2d(96, 256, 5, padding=2, groups=2)`. symconv gives that layer a
weight of shape ({", ".join(map(str, alexnet_weight))}) and {number(alexnet_net.params)} parameters on the
96 × 27 × 27 input. (torchvision's `alexnet` is the single-GPU variant of Krizhevsky 2014,
[arXiv:1404.5997](https://arxiv.org/abs/1404.5997), without groups.)

**GoogLeNet** ({PAPERS["googlenet"]}, Table 1). Inception (3a) reads 28 × 28 × 192, and its row lists an
output of 28 × 28 × 256, 159K parameters and 128M operations. Under each reading, with the row's widths:

| reading | output depth of inception (3a) | weights of inception (3a) |
|---|---|---|
{inception_rows}

Only type 2.2 yields both the depth and the parameters. Its {number(weights_3a)} weights (159.5 × 1024) at
28 × 28 positions are {number(macs_3a)} multiply-accumulates, the table's 128M; symconv's
`zoo:googlenet_paper` gives the same depth and weights for the block.

**Frameworks.** {DOCS["conv2d"]} stores a weight of (out_channels, in_channels / groups, kH, kW) and sums over
every input channel of a group; {DOCS["keras_conv2d"]} likewise.

## Derivation for type 2.2

{derivations_markdown(explain(nets[-1], "conv2d_2", "params"))}

## Evidence from the backend

{checked(nets[-1])} {checked(nets[0])}

{reproduce(*(f"symconv derive examples/reading_type{t}.yaml" for t, _, _ in readings))}
""",
    )


def question_one_by_one() -> None:
    reduced, direct = load(EXAMPLES / "one_by_one.yaml"), load(EXAMPLES / "direct_5x5.yaml")
    ratio = sp.nsimplify(direct.macs / reduced.macs)
    assert ratio.is_Rational, ratio  # the same for every size: both costs are multiples of n m
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
for a 192-channel input, the 1 × 1 layer equals the matrix product of its 16 × 192 weight with the 192
values at every pixel, plus the bias: {"yes" if agree else "no"}.

{PAPERS["nin"]} introduced the idea (section 3.2: a cross-channel parametric pooling, equivalent to a
convolution with 1 × 1 kernels); GoogLeNet ({PAPERS["googlenet"]}, section 4) uses it to reduce the number of
maps before an expensive convolution. The inception (3a) 5 × 5 branch reduces 192 maps to 16 before its
32 filters:

{render_report(reduced.report)}

Applied directly to the 192 maps, the same 5 × 5 layer costs

{render_report(direct.report)}

that is **{m(ratio)} ≈ {float(ratio):.2f} times more**: {m(direct.macs)} against {m(reduced.macs)}. The
ratio is the same for every map size, because both costs are multiples of {m(direct.macs.as_coeff_Mul()[1])}.

## Derivation

{derivations_markdown(explain(reduced, "reduce_1x1"))}

## Evidence

The ratio is exact: both totals are multiples of {m(direct.macs.as_coeff_Mul()[1])} with no other term, and
symconv divides them. As a check for every size, the direct layer costs more than nine times as
much:

{proof_markdown(prove(direct.macs, 9 * reduced.macs, ">"))}

{checked(reduced)}

{reproduce("symconv derive examples/one_by_one.yaml", "symconv derive examples/direct_5x5.yaml", "symconv diff examples/direct_5x5.yaml examples/one_by_one.yaml")}
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
    maxout = Network(
        (6, 4, 4),
        [
            L.Reshape((1, 6, 4, 4), name="stack"),
            L.MaxPool3d((2, 1, 1), (2, 1, 1), name="maxout"),
            L.Reshape((3, 4, 4), name="maps"),
        ],
        name="maxout over pairs of maps",
    )
    lrn = Network((6, 4, 4), [L.LocalResponseNorm(5, name="lrn")], name="local response normalization")
    maxout_reached = changed_maps(maxout, (6, 4, 4), perturbed=1)
    lrn_reached = changed_maps(lrn, (6, 4, 4), perturbed=1)
    write(
        "questions/pooling.md",
        f"""
# Is pooling done per feature map?

The pooling layers of CNNs, yes. Pooling acts on each map separately: {m(symbols("k1"))} maps in,
{m(symbols("k1"))} maps out, each reduced on its own, and nothing is learned. {DOCS["maxpool2d"]} documents an
input (N, C, H, W) and an output (N, C, H_out, W_out), the channels kept; {DOCS["keras_maxpool"]} keeps the
channel axis likewise.

{render_report(net.report)}

## Evidence

The backend pools three 6 × 4 maps; adding 100 to map 1 only changes the output of map 1 — the outputs of
maps {", ".join(map(str, unchanged))} are unchanged.

{derivations_markdown(explain(net, "maxpool2d_1", "shape"))}

{checked(net)}

## Where pooling does cross maps

Three well-known operations do reduce or combine across feature maps, and each is a symconv layer.

**Maxout** ({PAPERS["maxout"]}) takes the maximum over groups of {m(symbols("k"))} maps. On the maps stacked
as the depth of one volume it is a 3-D max-pool with a window of {m(symbols("k"))} × 1 × 1
({DOCS["maxpool3d"]}); with pairs of maps, six maps become three:

{render_report(maxout.report)}

Measured: moving input map 1 by 100 changes output map {", ".join(map(str, maxout_reached))} only, the
maximum of maps 0 and 1.

**Local response normalization** (AlexNet, {PAPERS["alexnet"]}, section 3.3; {DOCS["lrn"]}) divides each value
by a power of the sum of squares at the same pixel over 5 neighbouring maps. The number of maps stays and
nothing is learned, but each output map reads its neighbours: moving input map 1 changes output maps
{", ".join(map(str, lrn_reached))}.

**3-D pooling** ({DOCS["maxpool3d"]}; C3D, {PAPERS["c3d"]}): a window deeper than one pools across the depth
of a volume, the frames of a video or, as for maxout, stacked maps.

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
widening both by {m(result.factor)} multiplies its cost by {m(result.factor**2)}; the first layer reads one
map, so its cost grows by {m(result.factor)} only, and the two together grow by
{m(result.total.macs.ratio)}, of degree {result.total.macs.degree} in {m(result.factor)}.

The derivation of each layer's cost, the growth table and the MACs the NumPy backend counts at eight widths
are on one page: [Why is it quadratic?](../quadratic.md). The same question for the tokens of a transformer
is [Why is attention quadratic?](../attention.md).

{reproduce("symconv scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha")}
""",
    )
