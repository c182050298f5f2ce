"""Generated exercises are reproducible and their answers are right."""

from __future__ import annotations

import re

import pytest

from symconv.cli import main
from symconv.exercises import KINDS, exercise


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_same_seed_same_exercise(kind, seed):
    assert exercise(kind, seed) == exercise(kind, seed)


@pytest.mark.parametrize("seed", range(6))
def test_output_size_answer_by_hand(seed):
    item = exercise("output-size", seed)
    n, K, S, P, d = (
        int(v)
        for v in re.search(
            r"n = (\d+) .* K = (\d+), stride S = (\d+), padding P = (\d+) and dilation d = (\d+)",
            item.question,
        ).groups()
    )
    assert dict(item.answers)["output_size"] == (n + 2 * P - d * (K - 1) - 1) // S + 1


@pytest.mark.parametrize("seed", range(4))
def test_filter_depth_answer_by_hand(seed):
    item = exercise("filter-depth", seed)
    k1 = int(re.search(r"convolution with (\d+) filters, then", item.question).group(1))
    kernel, k2 = (
        int(v) for v in re.search(r"then a (\d+)x\d+ convolution with (\d+) filters", item.question).groups()
    )
    answers = dict(item.answers)
    assert answers["filter_shape"] == f"{kernel}x{kernel}x{k1}"
    assert answers["params"] == k2 * (kernel * kernel * k1 + 1)


@pytest.mark.parametrize("seed", range(3))
def test_quadratic_answer_by_hand(seed):
    item = exercise("quadratic", seed)
    size, k1, k2 = (
        int(v) for v in re.search(r"A (\d+)x\d+ .* k1 = (\d+) .* k2 = (\d+)", item.question).groups()
    )
    factor = int(re.search(r"multiplied by (\d+)", item.question).group(1))
    answers = dict(item.answers)
    assert answers["macs_before"] == 9 * k1 * size**2 + 25 * k1 * k2 * size**2
    assert answers["macs_after"] == 9 * factor * k1 * size**2 + 25 * factor**2 * k1 * k2 * size**2
    assert answers["layer2_factor"] == factor**2


def test_cli_exercise(capsys):
    assert main(["exercise", "quadratic", "--seed", "2", "--format", "markdown"]) == 0
    assert "Solution" in capsys.readouterr().out


@pytest.mark.parametrize("seed", range(4))
def test_attention_answer_by_hand(seed):
    item = exercise("attention", seed)
    size, patch = (
        int(v) for v in re.search(r"cuts a (\d+)x\d+ image into (\d+)x\d+ patches", item.question).groups()
    )
    width, mlp = (
        int(v) for v in re.search(r"block of width (\d+) .* MLP of width (\d+)", item.question).groups()
    )
    tokens = (size // patch) ** 2 + 1
    answers = dict(item.answers)
    assert answers["tokens"] == tokens
    # Vaswani et al. 2017: four E x E projections per token, then L x L x E for Q K^T and again for A V
    assert answers["attention_macs"] == 4 * tokens * width * width + 2 * tokens * tokens * width
    assert answers["mlp_macs"] == 2 * tokens * width * mlp
    side = next(h for h in range(1, 1000) if 4 * width**2 + 2 * (h * h + 1) * width > 2 * width * mlp)
    assert answers["crossover_resolution"] == side * patch
