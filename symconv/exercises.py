"""Generated exercises with worked, checked solutions.

``exercise(kind, seed)`` draws sizes from ``random.Random(seed)`` (the same seed
gives the same exercise), builds the network symbolically for the worked
solution, and runs the NumPy backend at the drawn sizes: a number that the
backend does not reproduce is never printed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from symconv.errors import SpecError
from symconv.layers import Conv1d, Conv2d
from symconv.network import Network
from symconv.numeric import run
from symconv.scaling import scale
from symconv.sizes import symbols

KINDS = ("quadratic", "filter-depth", "output-size")


@dataclass(frozen=True)
class Exercise:
    kind: str
    seed: int
    question: str
    solution: tuple[str, ...]  # lines; formulas as plain text
    answers: tuple[tuple[str, int | str], ...]
    checked: str


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
    question = (
        f"A {values['n']}x{values['n']} greyscale image goes through a 3x3 convolution with k1 = {values['k1']} "
        f"filters (padding 1), then a 5x5 convolution with k2 = {values['k2']} filters (padding 2). "
        f"Both numbers of filters are multiplied by {factor}. By what factor do the multiply-accumulates of each "
        "layer, and of the two together, grow? Why is the second layer's growth quadratic?"
    )
    lines = (
        "MACs of a convolution = C_out * H_out * W_out * C_in * K_H * K_W (PyTorch's torch.nn.Conv2d).",
        f"Layer 1: C_in = 1, so MACs = 9*k1*n**2 = {first:,}; widening k1 multiplies it by {factor}.",
        f"Layer 2: C_in = k1 and C_out = k2, so MACs = 25*k1*k2*n**2 = {second:,}; both factors are widened: "
        f"{factor}**2 = {factor**2}.",
        f"Together: {first + second:,} MACs before, {after.macs:,} after: a factor {after.macs / before.macs:.3f}, "
        f"between {factor} and {factor**2}, approaching {factor**2} as k2 grows "
        f"(ratio alpha*(25*alpha*k2 + 9)/(25*k2 + 9)).",
        "The cost of the second layer is quadratic because every output map of it reads every input map: "
        "the cost is the product of the two widths (Szegedy et al. 2014, section 3).",
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
    question = (
        f"A {size}x{size} image with {channels} channel(s) goes through a 3x3 convolution with {k1} filters, "
        f"then a {kernel}x{kernel} convolution with {k2} filters (no padding). What shape does each filter of "
        "the second layer have, how many feature maps does it output, and how many parameters does it learn?"
    )
    second = measurements[1]
    lines = (
        f"The first layer outputs {k1} feature maps of {size - 2}x{size - 2}: one per filter.",
        f"Each filter of the second layer spans all {k1} input maps: it is {kernel}x{kernel}x{k1} "
        f"(PyTorch weight shape (C_out, C_in, K, K) = {tuple(int(w) for w in weight)}).",
        f"It outputs {k2} maps of {second.output_shape[1]}x{second.output_shape[2]}: one per filter, not {k1}*{k2}.",
        f"Parameters: {k2}*({kernel}*{kernel}*{k1} + 1) = {second.params:,} (weights plus one bias per filter).",
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
    question = (
        f"A 1-D signal of length n = {size} goes through a convolution with kernel K = {kernel}, stride "
        f"S = {stride}, padding P = {padding} and dilation d = {dilation}. How long is the output?"
    )
    lines = (
        "n_out = floor((n + 2P - d(K - 1) - 1)/S) + 1 (PyTorch, torch.nn.Conv1d; Dumoulin & Visin 2016).",
        f"= floor(({size} + {2 * padding} - {dilation * (kernel - 1)} - 1)/{stride}) + 1 "
        f"= floor({numerator}/{stride}) + 1 = {numerator // stride} + 1 = {out}.",
    )
    return Exercise(
        "output-size",
        seed,
        question,
        lines,
        (("output_size", out),),
        f"NumPy backend produced an output of length {out}",
    )


def exercise(kind: str, seed: int = 0) -> Exercise:
    """A generated exercise of the given kind; the same seed gives the same exercise."""
    makers = {"quadratic": _quadratic, "filter-depth": _filter_depth, "output-size": _output_size}
    if kind not in makers:
        raise SpecError(f"unknown exercise {kind!r}; choose one of {', '.join(KINDS)}")
    return makers[kind](random.Random(seed), seed)


__all__ = ["KINDS", "Exercise", "exercise"]
