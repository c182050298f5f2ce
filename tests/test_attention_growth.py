"""Attention's quadratic: ViT-B/16's MACs as polynomials, against hand derivation and the published count."""

from __future__ import annotations

import pytest
import sympy as sp

from symconv import SpecError, zoo
from symconv.attention_growth import attention_growth


@pytest.fixture(scope="module")
def vit_b_16():
    return attention_growth(zoo.build("vit_b_16"))


def test_tokens_and_the_degree_in_the_resolution(vit_b_16):
    h = vit_b_16.side
    assert (
        sp.expand(vit_b_16.tokens - (h**2 + 1)) == 0
    )  # 14 x 14 patches of 16 x 16 at 224, plus the class token
    assert vit_b_16.degree == 4 and vit_b_16.degree_in_tokens == 2
    assert vit_b_16.degree_in_height == 2  # L = hw + 1 is linear in h alone; L^2 quadratic


def test_macs_at_224_are_the_published_count(vit_b_16):
    # torchvision's documentation for vit_b_16: 17.56 GFLOPS (multiply-accumulates), 17,563,828,224 counted
    assert vit_b_16.macs.subs(vit_b_16.side, 14) == 17_563_828_224


def test_attention_and_mlp_by_hand(vit_b_16):
    h = vit_b_16.side
    length, width, mlp, layers = h**2 + 1, 768, 3072, 12
    attention = layers * (4 * length * width**2 + 2 * length**2 * width)
    perceptron = layers * 2 * length * width * mlp
    assert sp.expand(vit_b_16.attention - attention) == 0
    assert sp.expand(vit_b_16.mlp - perceptron) == 0


def test_crossover_is_proved_and_brute_force_agrees(vit_b_16):
    # attention > MLP  <=>  4E^2 + 2LE > 2EM  <=>  L > M - 2E = 1536  <=>  h^2 + 1 > 1536  <=>  h >= 40
    assert vit_b_16.crossover_side == 40 and vit_b_16.crossover_resolution == 640
    assert vit_b_16.proof.status == "proved"
    assert vit_b_16.share(39) < sp.Rational(1, 2) < vit_b_16.share(40)


def test_a_network_without_attention_is_refused():
    with pytest.raises(SpecError):
        attention_growth(zoo.build("resnet18"))
