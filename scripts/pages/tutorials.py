"""The quadratic tutorial, the gallery, proofs, LaTeX for papers and what counters miss."""

from __future__ import annotations

import io

import numpy as np
import sympy as sp

from symconv import Network, symbols, zoo
from symconv.conventions import compare
from symconv.explain import explain
from symconv.layers import Linear
from symconv.notation import to_latex
from symconv.numeric import run
from symconv.prove import prove
from symconv.render.reasoning import derivations_markdown, proof_markdown
from symconv.render.scaling import scaling_markdown
from symconv.scaling import scale
from symconv.spec import load

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


from scripts.pages.common import EXAMPLES, block, display, m, number, shape, write


# --- Tutorial ---------------------------------------------------------------------------------------------
def quadratic_tutorial() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    net = load(EXAMPLES / "two_convolutions.yaml")
    factors = (1, 2, 3, 4, 5, 6, 7, 8)
    result = scale(net, ["k1", "k2"], factors=factors)
    base = result.measured[0]
    figure, left = plt.subplots(1, 1, figsize=(5.5, 3.6))
    grid = np.linspace(1, 8, 100)
    left.plot(factors, [i.macs / base.macs for i in result.measured], "o", label="counted MACs / MACs at 1")
    left.plot(grid, grid**2, "-", label=r"$\alpha^2$")
    left.plot(grid, grid, ":", label=r"$\alpha$")
    left.set_xlabel(r"width factor $\alpha$")
    left.legend()
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    write("images/quadratic.png", image.getvalue())
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
{", ".join(f"{s} = {v}" for s, v in base.values)}) and counts the multiply-adds it performs; the counts
are exact, the same on every machine and every build:

![Counted MACs against the width factor, with the alpha and alpha squared curves](images/quadratic.png)

{scaling_markdown(result)}

Counted MACs equal the formula at every factor. Wall time is not plotted: at these sizes it is dominated by
fixed overheads and varies with the machine's load, so it cannot show an exponent. Timings belong to the
benchmarks (`python benchmarks/run.py`), which measure symconv and its peers in the same run.
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
        "| network | where it comes from | params | MACs at 224 × 224 (width multipliers 1) |",
        "|---|---|---|---|",
    ]
    from symconv.render.shorthand import abbreviations, shorten

    details = []
    for name in zoo.names():
        net = zoo.build(name)
        free = {s.name for s in net.report.free_symbols()}
        values = {"H": 224, "W": 224, **{s: 1 for s in free - {"H", "W"}}}  # width multipliers at 1
        report = net.at(**values)
        parts.append(
            f"| `{name}` | {zoo.ENTRIES[name].source} | {number(report.params)} | {number(report.macs)} |"
        )
        short = abbreviations(net.report)
        macs = sp.sympify(shorten(net.macs, short))
        where = ", ".join(
            f"${to_latex(symbol)} = {to_latex(size)}$" for size, symbol in short.items() if macs.has(symbol)
        )
        details += [
            f"## {name}",
            "",
            zoo.ENTRIES[name].source + ".",
            "",
            f"Output {shape(net.output_shape)}.",
            "",
            display("\\text{params}", net.params),
            "",
            display("\\text{MACs}", macs),
            "",
            *([f"where {where}.", ""] if where else []),
        ]
    write("gallery.md", "\n".join(parts + [""] + _mobilenet_grid() + [""] + details))


def _mobilenet_grid() -> list[str]:
    """MobileNet v2's widths and resolutions from one symbolic network in alpha, H and W."""
    from symconv.sizes import MakeDivisible
    from symconv.sizes import symbols as size_symbols

    net = zoo.build("mobilenet_v2_alpha")
    alpha = size_symbols("alpha")
    widths = ("0.35", "0.5", "0.75", "1.0", "1.3", "1.4")
    sizes = (96, 128, 160, 192, 224)
    rows = []
    for a in widths:
        cells = [f"{int(net.at(alpha=a, H=r, W=r).macs) / 1e6:,.1f}" for r in sizes]
        params = int(net.at(alpha=a, H=224, W=224).params)
        rows.append(f"| {a} | {params:,} | " + " | ".join(cells) + " |")
    first = MakeDivisible(32 * alpha)
    jumps = [sp.Rational(8 * j - 4, 32) for j in range(2, 8)]
    shown = "$\\alpha = " + ", ".join(to_latex(j) for j in jumps) + ", \\ldots$"
    return [
        "## MobileNet v2 over its widths",
        "",
        "`zoo:mobilenet_v2_alpha` is torchvision's `mobilenet_v2(width_mult=alpha)` with the multiplier a symbol. "
        "Every width is torchvision's `_make_divisible(c * alpha, 8)`, written "
        f"${to_latex(first)}$: exact, and a floor function of $\\alpha$,",
        "",
        f"$$\\operatorname{{div}}_8(v) = {to_latex(MakeDivisible(sp.Symbol('v', positive=True)).as_floors())}$$",
        "",
        f"so the first width jumps where $(32\\alpha + 4)/8$ is an integer: at {shown}. One "
        "expression in $\\alpha$, $H$ and $W$ gives the whole grid (MACs in millions; parameters at any "
        "resolution), and the test suite checks every cell against torchvision's module:",
        "",
        "| alpha | params | " + " | ".join(f"{r} × {r}" for r in sizes) + " |",
        "|---:|---:|" + "---:|" * len(sizes),
        *rows,
    ]


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
paper. Its first lines are comments: what it shows, and the packages it needs
(`% needs \\usepackage{{amsmath,booktabs,tabularx}}` for a table). `--standalone` makes a complete document
and `-o FILE` writes it atomically.

## Tables that go into a two-column paper

A `derive` table is a `tabularx` as wide as the line it is set in: inside a `table` float it fills one
column of an IEEE, ACM or CVPR paper, inside `table*` both. Numbers are right-aligned, every integer of four
digits or more is grouped (`9{{,}}408`), products are written as authors write them (`25 k_1 k_2 m n`, a thin
space after a large coefficient), and a sum too long for its cell breaks between terms. With `--caption` and
`--label` the fragment is the float itself; `--wide` makes it a `table*`.

{block("symconv derive zoo:resnet50 --format latex --caption 'ResNet-50 by stage' --label tab:resnet50 -o resnet50.tex" + chr(10) + "symconv derive zoo:resnet50 --format latex --depth 2 --wide --caption 'ResNet-50 by block' -o blocks.tex", "sh")}

One row per layer of ResNet-50 is five pages; a float is one. `--depth 1` gives one row per stage, as the
ResNet paper's Table 1 does, `--depth 2` one per block, each with its closed forms summed; a network of more
than 40 layers is summarised by stage unless a depth is asked for. The stage table in one column of a
two-column article, as pdflatex sets it:

![ResNet-50 by stage in one column](images/latex-resnet50-column.png)

and by block across both columns:

![ResNet-50 by block across two columns](images/latex-resnet50-blocks.png)

For a one-column document whose table should break across pages, `--table longtable` gives the previous
layout (one row per layer, activations and receptive fields; packages `amsmath,booktabs,longtable,array`).

## Derivations, proofs and exercises

`explain` sets each derivation as an `align*` whose long sums break between terms, in network order; for a
network of more than 40 layers it sums each stage (`--depth` chooses, `--layer NAME` derives one layer), and
the totals are written over the same short sizes $H_1, W_1, \\ldots$ as the table. Derivations and proofs are
longer than a float's page: they go in the running text. Exercises typeset every formula as mathematics.

{block("symconv derive examples/two_convolutions.yaml --at k1=40,k2=8,n=28,m=28 --format latex --standalone -o table.tex" + chr(10) + "symconv scale examples/two_convolutions.yaml --symbols k1,k2 --factor alpha --format latex --standalone -o quadratic.tex", "sh")}

The table of the two chained convolutions as pdflatex sets it:

![The derive table in LaTeX](images/latex-table.png)

Why widening both layers makes the cost quadratic, with the counted MACs:

![The scale document](images/latex-quadratic.png)

Floors keep their numerator over one fraction, and symbols print as textbooks write them: `k1` as
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
Attention's products of activations have backward products too: `a @ b` one per operand that needs a
gradient, `softmax(QKᵀ)V` four (for V, for the scores, then for Q and K), each the size of a forward product,
so a vision transformer's backward attention is twice its forward attention, as FlopCounterMode measures
around a real backward pass.

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


# --- Roofline ------------------------------------------------------------------------------------------
ILLUSTRATIVE_PEAK = 312 * 10**12
ILLUSTRATIVE_BANDWIDTH = 2 * 10**12


def roofline_page() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symconv.roofline import roofline
    from symconv.sizes import symbols as size_symbols

    net = zoo.build("resnet50")
    device = {"peak": ILLUSTRATIVE_PEAK, "bandwidth": ILLUSTRATIVE_BANDWIDTH}
    at = {"H": 224, "W": 224}
    runs = {b: roofline(net, b, "float16", at, **device) for b in (1, 256)}
    figure, axis = plt.subplots(figsize=(7, 4.2))
    grid = np.logspace(-2, 4, 200)
    axis.loglog(grid, np.minimum(ILLUSTRATIVE_PEAK, grid * ILLUSTRATIVE_BANDWIDTH) / 1e12, "k-", label="roof")
    for (batch, result), marker in zip(runs.items(), ("o", "s"), strict=True):
        points = [(float(r.intensity), r.kind) for r in result.layers if r.flops != 0]
        xs = [x for x, _ in points]
        ys = [min(ILLUSTRATIVE_PEAK, x * ILLUSTRATIVE_BANDWIDTH) / 1e12 for x in xs]
        style = {"mfc": "none", "ms": 10} if batch == 1 else {"ms": 5, "alpha": 0.7}
        axis.loglog(xs, ys, marker, label=f"ResNet-50 layers, batch {batch}", **style)
    axis.axvline(ILLUSTRATIVE_PEAK / ILLUSTRATIVE_BANDWIDTH, color="grey", linestyle=":", label="ridge point")
    axis.set_xlabel("arithmetic intensity (FLOP/byte)")
    axis.set_ylabel("attainable TFLOP/s")
    axis.legend(loc="lower right")
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    write("images/roofline.png", image.getvalue())
    plt.close(figure)

    N, K, B = size_symbols("N K B")
    linear = roofline(Network((N,), [Linear(K, bias=False)]), "B", "float16")
    one, many = runs[1], runs[256]
    convs_one = [r for r in one.layers if r.kind == "conv2d"]
    convs_many = [r for r in many.layers if r.kind == "conv2d"]
    bound_one = sum(r.bound == "memory" for r in convs_one)
    bound_many = sum(r.bound == "memory" for r in convs_many)
    conv_bytes = sum(r.bytes for r in convs_many)
    other_bytes = sum(r.bytes for r in many.layers if r.kind not in ("conv2d", "linear"))
    conv_flops = sum(r.flops for r in convs_many)
    other_flops = sum(r.flops for r in many.layers if r.kind not in ("conv2d", "linear"))
    write(
        "roofline.md",
        f"""
# Arithmetic intensity and the roofline

A layer performs $F$ operations and moves $Q$ bytes between memory and the processor; its arithmetic
intensity is $I = F/Q$. On a device of peak $P$ operations per second and memory bandwidth $\\beta$ bytes
per second it attains at most $\\min(P, I\\beta)$ (Williams, Waterman & Patterson 2009,
[doi:10.1145/1498765.1498785](https://doi.org/10.1145/1498765.1498785)): below the ridge point
$P/\\beta$ it is memory-bound. `symconv roofline` derives $F$, $Q$ and $I$ of every layer in closed form,
in the input size, the batch $B$ and the dtype, and finds the batch from which a layer is compute-bound.

{block("symconv roofline zoo:resnet50 --at H=224,W=224 --batch 1 --dtype float16 --peak 312T --bandwidth 2T", "sh")}

## The model and what it leaves out

- Operations: 2 per multiply-accumulate of a convolution or linear layer, 1 per output element of an
  activation or an elementwise sum, 2 per element of an inference BatchNorm, $\\prod K - 1$ comparisons
  per output of a max pool (the largest of 9 values takes 8), $\\prod K$ for an average pool.
- Bytes: every layer reads its inputs and its weights from memory and writes its output once: **no cache
  reuse** between layers, **no fusion** (a ReLU after a convolution is its own kernel), and the learnable
  parameters only (BatchNorm's running statistics are buffers and not counted).

Real kernels fuse and reuse, so measured intensities are higher; the model is the bound a layer-by-layer
execution meets, and it is exact for it: the test suite compares every layer's bytes with the arrays the
NumPy backend allocates.

## A linear layer

For a linear layer of $N$ inputs and $K$ outputs without bias, at batch $B$ in float16 ($s = 2$ bytes):

$$I = {to_latex(linear.layers[0].intensity)} = \\frac{{2BNK}}{{s(BN + NK + BK)}}$$

At $B = 1$ it is about 1 FLOP/byte, whatever the width: a matrix-vector product is memory-bound on every
device. It grows with the batch towards $2NK/(s(N+K))$ and crosses the ridge point $R$ at
$B \\ge RsNK/(2NK - Rs(N+K))$, which symconv prints for every layer.

## ResNet-50

An illustrative device with $P = 312 \\times 10^{{12}}$ FLOP/s and $\\beta = 2 \\times 10^{{12}}$ bytes/s
(ridge point {number(one.ridge)} FLOP/byte), float16, 224 × 224:

![ResNet-50's layers on the roofline at batch 1 and 256](images/roofline.png)

| batch | FLOPs | bytes moved | intensity (FLOP/byte) | memory-bound convolutions |
|---:|---:|---:|---:|---:|
| 1 | {number(one.flops)} | {number(one.bytes)} | {float(one.intensity):,.1f} | {bound_one} of {len(convs_one)} |
| 256 | {number(many.flops)} | {number(many.bytes)} | {float(many.intensity):,.1f} | {bound_many} of {len(convs_many)} |

At batch 1 the weights are read for one image; at 256 they are shared by the batch, and
{len(convs_many) - bound_many} of the {len(convs_many)} convolutions reach the flat part of the roof. The
network as a whole stays {many.bound}-bound ({float(many.intensity):,.1f} against {number(many.ridge)}): the
layers between the convolutions (BatchNorm, ReLU, the additions of the residual blocks, pooling) move
{float(other_bytes / conv_bytes):.1f} times the bytes of the convolutions and compute
{100 * float(other_flops / (other_flops + conv_flops)):.1f}% of the operations, at every batch: the traffic
that fusing them into the convolutions removes.
""",
    )


# --- Attention ------------------------------------------------------------------------------------------
def attention_page() -> None:
    from symconv.attention_growth import attention_growth
    from symconv.exercises import exercise
    from symconv.render.exercise import exercise_markdown
    from symconv.zoo.transformer import vision_transformer

    growth = attention_growth(zoo.build("vit_b_16"))
    h = growth.side
    poly = sp.Poly(growth.macs, h)
    leading = poly.LC()
    total = sum(poly.coeffs())
    lower = prove(growth.macs, leading * h**4, ">=")
    upper = prove(growth.macs, total * h**4, "<=")
    rows = []
    for side in (14, 24, 32, 39, 40, 64):
        attention, mlp = int(growth.attention.subs(h, side)), int(growth.mlp.subs(h, side))
        rows.append(
            f"| {side * 16} | {side * side + 1:,} | {number(growth.macs.subs(h, side))} | {attention:,} | {mlp:,} "
            f"| {100 * float(growth.share(side)):.1f}% |"
        )
    small = vision_transformer(4, 1, 2, 16, 64, num_classes=10, name="a one-block vision transformer")
    small_growth = attention_growth(small)
    measured = []
    for side in range(small_growth.crossover_side - 2, small_growth.crossover_side + 2):
        values = {"H": 4 * side, "W": 4 * side}
        counted = {m.name: m.macs for m in run(small, small.report.resolve(values), "fast").measurements}
        block = "encoder.layers.encoder_layer_0"
        attention = counted[f"{block}.self_attention"]
        mlp = counted[f"{block}.mlp.0"] + counted[f"{block}.mlp.3"]
        if attention != small_growth.attention.subs(small_growth.side, side):
            raise RuntimeError("the backend disagrees with the attention formula")
        measured.append(
            f"| {4 * side} | {side * side + 1} | {attention:,} | {mlp:,} | {'attention' if attention > mlp else 'MLP'} |"
        )
    write(
        "attention.md",
        f"""
# Why is attention quadratic?

A vision transformer (Dosovitskiy et al. 2021, [arXiv:2010.11929](https://arxiv.org/abs/2010.11929)) cuts an
$H \\times W$ image into $P \\times P$ patches: $L = \\lfloor H/P \\rfloor \\lfloor W/P \\rfloor + 1$ tokens
with the class token. Self-attention (Vaswani et al. 2017, [arXiv:1706.03762](https://arxiv.org/abs/1706.03762),
section 3.2) projects every token four times ($4LE^2$ MACs at width $E$) and then compares every token with
every other: $QK^\\top$ and $AV$ cost $L^2 E$ each. The MLP costs $2LEM$. The products are the only term
quadratic in $L$, and $L$ is quadratic in the side of the image.

## ViT-B/16 in closed form

symconv derives `zoo:vit_b_16` (torchvision's module, 12 layers, $E = 768$, $M = 3072$) symbolically in
$H$ and $W$. On a square image of $h \\times h$ patches ($H = W = 16h$):

$$L = {to_latex(growth.tokens)}$$

$$\\text{{MACs}} = {to_latex(growth.macs)}$$

At $h = 14$ (224 × 224) that is {number(growth.macs.subs(h, 14))} MACs, torchvision's published 17.56 GFLOPS.
The MACs have **degree {growth.degree} in $H$** (with $W = H$), degree {growth.degree_in_height} in $H$
alone (with $W$ fixed), and the attention layers degree {growth.degree_in_tokens} in the tokens. The degree is proved, not read off a plot: the polynomial lies between
two multiples of $h^4$ for every $h \\ge 1$:

{proof_markdown(lower)}

{proof_markdown(upper)}

## When attention dominates

Summed over the 12 layers, in $h$:

$$\\text{{attention}} = {to_latex(growth.attention)}, \\qquad \\text{{MLP}} = {to_latex(growth.mlp)}$$

Attention costs more than the MLP exactly when $4E^2 + 2LE > 2EM$, that is $L > M - 2E = 1536$ tokens: from
$h = {growth.crossover_side}$, a {growth.crossover_resolution} × {growth.crossover_resolution} image. The sign of
the difference, proved for every side from there on:

{proof_markdown(growth.proof)}

| resolution | tokens | MACs | attention | MLP | attention's share |
|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

## Measured

The NumPy backend runs a one-block transformer ($P = 4$, $E = 16$, $M = 64$, 2 heads) and counts the
multiply-accumulates of its attention and its MLP. Its crossover is $L > M - 2E = 32$, at
{small_growth.crossover_resolution} × {small_growth.crossover_resolution}; the counts around it, equal to the
formulas:

| resolution | tokens | attention (counted) | MLP (counted) | larger |
|---:|---:|---:|---:|---|
{chr(10).join(measured)}

## An exercise

`symconv exercise attention --seed N` draws a transformer and asks for its tokens, costs and crossover; the
numbers of the solution are counted by the NumPy backend at the drawn size and at the crossover.

{exercise_markdown(exercise("attention", 1))}
""",
    )
