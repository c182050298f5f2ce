"""Generated exercises with worked, checked solutions.

``exercise(kind, seed)`` draws sizes from ``random.Random(seed)`` (the same seed
gives the same exercise), builds the network symbolically for the worked
solution, and runs the NumPy backend at the drawn sizes: a number that the
backend does not reproduce is never printed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from symconv.errors import SpecError
from symconv.layers import Conv1d, Conv2d
from symconv.network import Network
from symconv.notation import Prose, Written, formula, plain
from symconv.numeric import run
from symconv.scaling import scale
from symconv.sizes import symbols

KINDS = ("quadratic", "filter-depth", "output-size", "attention")


@dataclass(frozen=True)
class Exercise:
    """A generated exercise: the question, the worked solution (sentences with formulas), answers, evidence."""

    kind: str
    seed: int
    prompt: Prose
    steps: tuple[Prose, ...]
    answers: tuple[tuple[str, int | str], ...]
    checked: str

    @property
    def question(self) -> str:
        return plain(self.prompt)

    @property
    def solution(self) -> tuple[str, ...]:
        return tuple(plain(step) for step in self.steps)


def _measure(network: Network, values: dict) -> tuple[list, object]:
    report = network.report.at(values)
    measured = run(network, network.report.resolve(values), "fast")
    for row, m in zip(report.rows, measured.measurements, strict=True):
        expected = (tuple(int(d) for d in row.output_shape), int(row.params), int(row.macs))
        if expected != (m.output_shape, m.params, m.macs):
            raise AssertionError(f"backend disagrees with the formula for {row.name}: {expected} != {m}")
    return measured.measurements, report


def _quadratic(rng: random.Random, seed: int) -> Exercise:
    n, k1, k2 = symbols("n k1 k2")
    values = {"n": rng.randint(8, 32), "k1": rng.randint(2, 16), "k2": rng.randint(2, 16)}
    factor = rng.randint(2, 3)
    net = Network(input=(1, n, n), layers=[Conv2d(k1, 3, padding=1), Conv2d(k2, 5, padding=2)])
    growth = scale(net, ["k1", "k2"], "alpha", at=values, factors=(1, factor))
    before, after = growth.measured
    if before.macs != before.expected_macs or after.macs != after.expected_macs:
        raise AssertionError("backend disagrees with the MACs formula")
    _, report = _measure(net, values)
    first, second = (int(r.macs) for r in report.rows)
    alpha = symbols("alpha")
    C_out, C_in, H_out, W_out, K_H, K_W, MACs = (
        sp.Symbol(t) for t in ("C_out", "C_in", "H_out", "W_out", "K_H", "K_W", "MACs")
    )
    question = (
        "A ",
        formula((values["n"], values["n"])),
        " greyscale image goes through a ",
        formula((3, 3)),
        " convolution with ",
        formula(k1, values["k1"]),
        " filters (padding 1), then a ",
        formula((5, 5)),
        " convolution with ",
        formula(k2, values["k2"]),
        f" filters (padding 2). Both numbers of filters are multiplied by {factor}. By what factor do the "
        "multiply-accumulates of each layer, and of the two together, grow? Why is the second layer's growth "
        "quadratic?",
    )
    lines = (
        (
            "The multiply-accumulates of a convolution are ",
            formula(
                MACs,
                Written(
                    "C_out*H_out*W_out*C_in*K_H*K_W",
                    r"C_{\mathrm{out}} H_{\mathrm{out}} W_{\mathrm{out}} C_{\mathrm{in}} K_{H} K_{W}",
                ),
            ),
            " (PyTorch's torch.nn.Conv2d).",
        ),
        (
            "Layer 1 reads one map, ",
            formula(C_in, 1),
            ", so ",
            formula(MACs, 9 * k1 * n**2, first),
            "; widening ",
            formula(k1),
            f" multiplies it by {factor}.",
        ),
        (
            "Layer 2 reads ",
            formula(C_in, k1),
            " maps and writes ",
            formula(C_out, k2),
            ", so ",
            formula(MACs, 25 * k1 * k2 * n**2, second),
            "; both factors are widened: ",
            formula(Written(f"{factor}**2", f"{factor}^{{2}}"), factor**2),
            ".",
        ),
        (
            f"Together: {first + second:,} MACs before, {after.macs:,} after: a factor "
            f"{after.macs / before.macs:.3f}, between {factor} and {factor**2}, approaching {factor**2} as ",
            formula(k2),
            " grows (the ratio is ",
            formula(alpha * (25 * alpha * k2 + 9) / (25 * k2 + 9)),
            " at ",
            formula(alpha, factor),
            ").",
        ),
        (
            "The cost of the second layer is quadratic because every output map of it reads every input map: "
            "the cost is the product of the two widths (Szegedy et al. 2014, section 3).",
        ),
    )
    answers = (
        ("layer1_factor", factor),
        ("layer2_factor", factor**2),
        ("macs_before", before.macs),
        ("macs_after", after.macs),
    )
    return Exercise(
        "quadratic",
        seed,
        question,
        lines,
        answers,
        f"NumPy backend counted {before.macs:,} and {after.macs:,} MACs",
    )


def _filter_depth(rng: random.Random, seed: int) -> Exercise:
    channels = rng.choice([1, 3])
    size = rng.randint(12, 48)
    k1, k2, kernel = rng.randint(8, 64), rng.randint(4, 32), rng.choice([1, 3, 5])
    net = Network(input=(channels, size, size), layers=[Conv2d(k1, 3), Conv2d(k2, kernel)])
    measurements, report = _measure(net, {})
    weight = net.graph[1].layer.weight_shapes(report.rows[0].output_shape)["weight"]
    C_out, C_in, K = sp.symbols("C_out C_in K")
    question = (
        "A ",
        formula((size, size)),
        f" image with {channels} channel(s) goes through a ",
        formula((3, 3)),
        f" convolution with {k1} filters, then a ",
        formula((kernel, kernel)),
        f" convolution with {k2} filters (no padding). What shape does each filter of the second layer have, "
        "how many feature maps does it output, and how many parameters does it learn?",
    )
    second = measurements[1]
    lines = (
        (
            f"The first layer outputs {k1} feature maps of ",
            formula((size - 2, size - 2)),
            ": one per filter.",
        ),
        (
            f"Each filter of the second layer spans all {k1} input maps: it is ",
            formula((kernel, kernel, k1)),
            " (PyTorch weight shape ",
            formula(
                Written("(C_out, C_in, K, K)", r"(C_{\mathrm{out}}, C_{\mathrm{in}}, K, K)"),
                Written(str(tuple(int(w) for w in weight)), str(tuple(int(w) for w in weight))),
            ),
            ").",
        ),
        (
            f"It outputs {k2} maps of ",
            formula(tuple(second.output_shape[1:])),
            f": one per filter, not {k1 * k2}.",
        ),
        (
            "Parameters: ",
            formula(
                Written(
                    f"{k2}*({kernel}*{kernel}*{k1} + 1)",
                    rf"{k2} \cdot ({kernel} \cdot {kernel} \cdot {k1} + 1)",
                ),
                second.params,
            ),
            " (weights plus one bias per filter).",
        ),
    )
    answers = (("filter_shape", f"{kernel}x{kernel}x{k1}"), ("maps", k2), ("params", second.params))
    return Exercise(
        "filter-depth",
        seed,
        question,
        lines,
        answers,
        f"NumPy backend allocated {second.params:,} parameters and produced {second.output_shape}",
    )


def _output_size(rng: random.Random, seed: int) -> Exercise:
    kernel, stride, dilation = rng.choice([1, 3, 5, 7]), rng.randint(1, 3), rng.randint(1, 2)
    padding = rng.randint(0, kernel // 2)
    size = rng.randint(dilation * (kernel - 1) + 1, 64)
    net = Network(
        input=(1, size), layers=[Conv1d(1, kernel, stride=stride, padding=padding, dilation=dilation)]
    )
    measurements, _ = _measure(net, {})
    out = measurements[0].output_shape[1]
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    n, K, S, P, d, n_out = sp.symbols("n K S P d n_out")
    question = (
        "A 1-D signal of length ",
        formula(n, size),
        " goes through a convolution with kernel ",
        formula(K, kernel),
        ", stride ",
        formula(S, stride),
        ", padding ",
        formula(P, padding),
        " and dilation ",
        formula(d, dilation),
        ". How long is the output?",
    )
    dk = dilation * (kernel - 1)
    lines = (
        (
            formula(
                n_out,
                Written(
                    "floor((n + 2P - d(K - 1) - 1)/S) + 1",
                    r"\left\lfloor \frac{n + 2P - d(K - 1) - 1}{S} \right\rfloor + 1",
                ),
            ),
            " (PyTorch, torch.nn.Conv1d; Dumoulin & Visin 2016).",
        ),
        (
            "At these sizes ",
            formula(
                n_out,
                Written(
                    f"floor(({size} + {2 * padding} - {dk} - 1)/{stride}) + 1",
                    rf"\left\lfloor \frac{{{size} + {2 * padding} - {dk} - 1}}{{{stride}}} \right\rfloor + 1",
                ),
                Written(
                    f"floor({numerator}/{stride}) + 1",
                    rf"\left\lfloor \frac{{{numerator}}}{{{stride}}} \right\rfloor + 1",
                ),
                Written(f"{numerator // stride} + 1", f"{numerator // stride} + 1"),
                out,
            ),
            ".",
        ),
    )
    return Exercise(
        "output-size",
        seed,
        question,
        lines,
        (("output_size", out),),
        f"NumPy backend produced an output of length {out}",
    )


def _attention(rng: random.Random, seed: int) -> Exercise:
    from symconv.attention_growth import attention_growth
    from symconv.zoo.transformer import vision_transformer

    width = rng.choice([16, 24, 32, 48])
    heads = rng.choice([h for h in (1, 2, 4) if width % h == 0])
    mlp = width * rng.choice([4, 6, 8])
    patch = rng.choice([4, 8])
    side = rng.randint(2, 6)
    net = vision_transformer(patch, 1, heads, width, mlp, num_classes=10, name="one-block vision transformer")
    growth = attention_growth(net)
    crossover = growth.crossover_side
    resolution = patch * side
    tokens = side * side + 1
    attention = 4 * tokens * width**2 + 2 * tokens**2 * width
    perceptron = 2 * tokens * width * mlp
    for at in (side, crossover):
        values = {"H": patch * at, "W": patch * at}
        measured = run(net, net.report.resolve(values), "fast")
        counted = {m.name: m.macs for m in measured.measurements}
        attention_at = int(growth.attention.subs(growth.side, at))
        mlp_at = int(growth.mlp.subs(growth.side, at))
        if counted["encoder.layers.encoder_layer_0.self_attention"] != attention_at or mlp_at != (
            counted["encoder.layers.encoder_layer_0.mlp.0"] + counted["encoder.layers.encoder_layer_0.mlp.3"]
        ):
            raise AssertionError("backend disagrees with the attention formulas")
    L, E, M = sp.symbols("L E M")
    question = (
        "A vision transformer cuts a ",
        formula((resolution, resolution)),
        " image into ",
        formula((patch, patch)),
        f" patches, adds a class token, and runs one encoder block of width {width} ({heads} head"
        f"{'s' if heads > 1 else ''}) with an MLP "
        f"of width {mlp}. How many tokens does it attend over, what do its self-attention and its MLP cost, and "
        "from which square resolution does the attention cost more than the MLP? Why?",
    )
    lines = (
        (
            "Tokens: ",
            formula(
                L, Written(f"({resolution}/{patch})**2 + 1", rf"({resolution}/{patch})^{{2}} + 1"), tokens
            ),
            ".",
        ),
        (
            "Self-attention projects queries, keys, values and output (",
            formula(Written("4*L*E**2", r"4 L E^{2}")),
            ") and forms the products Q Kᵀ and A V (",
            formula(Written("2*L**2*E", r"2 L^{2} E")),
            "): ",
            formula(Written("4*L*E**2 + 2*L**2*E", r"4 L E^{2} + 2 L^{2} E"), attention),
            " MACs (Vaswani et al. 2017, section 3.2).",
        ),
        (
            "The MLP costs ",
            formula(Written("2*L*E*M", r"2 L E M"), perceptron),
            " MACs: linear in the tokens.",
        ),
        (
            "Attention costs more exactly when ",
            formula(Written("4*E**2 + 2*L*E", r"4E^{2} + 2LE"), Written("2*E*M", "2EM"), relation=">"),
            ", that is ",
            formula(L, Written("M - 2*E", "M - 2E"), relation=">"),
            f" = {mlp - 2 * width}: the smallest square side is {crossover} patches, ",
            formula((crossover * patch, crossover * patch)),
            " pixels.",
        ),
        (
            "The products grow as the square of the tokens, and the tokens as the square of the side: the cost "
            "of attention grows as the fourth power of the resolution, the MLP's as the second.",
        ),
    )
    answers = (
        ("tokens", tokens),
        ("attention_macs", attention),
        ("mlp_macs", perceptron),
        ("crossover_resolution", crossover * patch),
    )
    return Exercise(
        "attention",
        seed,
        question,
        lines,
        answers,
        f"NumPy backend counted the attention and MLP MACs at {resolution} and {crossover * patch} pixels",
    )


def exercise(kind: str, seed: int = 0) -> Exercise:
    """A generated exercise of the given kind; the same seed gives the same exercise."""
    makers = {
        "quadratic": _quadratic,
        "filter-depth": _filter_depth,
        "output-size": _output_size,
        "attention": _attention,
    }
    if kind not in makers:
        raise SpecError(f"unknown exercise {kind!r}; choose one of {', '.join(KINDS)}")
    return makers[kind](random.Random(seed), seed)


__all__ = ["KINDS", "Exercise", "exercise"]
