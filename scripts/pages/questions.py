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

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


from scripts.pages.common import EXAMPLES, checked, m, number, reproduce, torch, write


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
widening both by {m(result.factor)} multiplies its cost by {m(result.factor**2)}; the first layer reads one
map, so its cost grows by {m(result.factor)} only, and the two together grow by
{m(result.total.macs.ratio)}, of degree {result.total.macs.degree} in {m(result.factor)}.

The derivation of each layer's cost, the growth table and the MACs the NumPy backend counts at eight widths
are on one page: [Why is it quadratic?](../quadratic.md). The same question for the tokens of a transformer
is [Why is attention quadratic?](../attention.md).

{reproduce("symconv scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha")}
""",
    )
