"""The seed questions, answered by the example specs; expected values by hand or from PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symconv import symbols
from symconv.numeric import run
from symconv.spec import load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
n, m, k1, k2 = symbols("n m k1 k2")


def test_filter_depth_is_the_number_of_input_maps():
    net = load(EXAMPLES / "keras_mnist.yaml")
    second = net.graph[1].layer.weight_shapes(net.layers[0].output_shape)["weight"]
    assert second == (8, 40, 3, 3)  # 8 kernels of 3x3x40 (seed answer)
    assert [r.params for r in net.layers[:2]] == [400, 2888]  # Keras summary in the seed


def test_filter_depth_matches_pytorch():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(40, 8, 3)
    assert tuple(conv.weight.shape) == (8, 40, 3, 3)
    assert sum(p.numel() for p in conv.parameters()) == 2888


def test_the_three_readings():
    type1 = load(EXAMPLES / "reading_type1.yaml")
    type21 = load(EXAMPLES / "reading_type2_1.yaml")
    type22 = load(EXAMPLES / "reading_type2_2.yaml")
    # maps after layer 2: k1*k2 (each filter on each map), k2, k2
    assert [net.output_shape[0] for net in (type1, type21, type22)] == [k1 * k2, k2, k2]
    # second-layer parameters by hand: 25*k1*k2 + k1*k2 biases; 25*k2 + k2; 25*k1*k2 + k2
    assert sp.expand(type1.layers[1].params - 26 * k1 * k2) == 0
    assert sp.expand(type21.layers[1].params - 26 * k2) == 0
    assert sp.expand(type22.layers[1].params - (25 * k1 * k2 + k2)) == 0


def test_frameworks_implement_type_2_2():
    torch = pytest.importorskip("torch")
    values = {k1: 4, k2: 6}
    type22 = load(EXAMPLES / "reading_type2_2.yaml")
    type1 = load(EXAMPLES / "reading_type1.yaml")
    conv = torch.nn.Conv2d(4, 6, 5, padding=2)  # what Conv2d(k1 -> k2, 5x5) learns
    assert sum(p.numel() for p in conv.parameters()) == type22.layers[1].params.xreplace(values)
    depthwise = torch.nn.Conv2d(4, 24, 5, padding=2, groups=4)  # type 1 needs groups = k1
    assert sum(p.numel() for p in depthwise.parameters()) == type1.layers[1].params.xreplace(values)


def test_one_by_one_convolution_is_a_linear_map_across_channels():
    net = load(EXAMPLES / "one_by_one.yaml")
    measured = run(net, net.report.resolve({"n": 5}), "fast", seed=2)
    x = np.random.default_rng(2).standard_normal((192, 5, 5))
    weights = measured.weights[0]
    again = run(net, net.report.resolve({"n": 5}), "fast", inputs=x, weights=list(measured.weights))
    expected = np.einsum("oc,chw->ohw", weights["weight"][:, :, 0, 0], x) + weights["bias"][:, None, None]
    np.testing.assert_allclose(again.outputs[0], expected, rtol=1e-12, atol=1e-12)


def test_one_by_one_reduction_is_cheaper():
    reduced = load(EXAMPLES / "one_by_one.yaml").macs
    direct = load(EXAMPLES / "direct_5x5.yaml").macs
    size = symbols("n")
    # by hand: 192*16*n^2 + 25*16*32*n^2 = 15872 n^2 against 25*192*32*n^2 = 153600 n^2
    assert sp.expand(reduced - 15872 * size**2) == 0
    assert sp.expand(direct - 153600 * size**2) == 0


def test_pooling_is_per_feature_map():
    net = load(EXAMPLES / "pooling_per_map.yaml")
    assert net.output_shape == (k1, sp.floor(n / 2), sp.floor(m / 2)) and net.params == 0
    values = net.report.resolve({"k1": 3, "n": 6, "m": 4})
    x = np.random.default_rng(0).standard_normal((3, 6, 4))
    before = run(net, values, "fast", inputs=x).outputs[0]
    x[1] += 100.0  # change one map only
    after = run(net, values, "fast", inputs=x).outputs[0]
    assert np.array_equal(before[[0, 2]], after[[0, 2]]) and not np.array_equal(before[1], after[1])


def test_the_1337_maps_example():
    net = load(EXAMPLES / "conv3d_1337.yaml")
    # by hand: 1337 - 3 + 1, 42 - 4 + 1, 314 - 5 + 1; 3*4*5 weights + 1 bias
    assert net.output_shape == (1, 1335, 39, 310)
    assert net.params == 61
    assert net.macs == 1335 * 39 * 310 * 60


def test_the_1337_maps_example_matches_pytorch():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv3d(1, 1, (3, 4, 5), device="meta")
    out = conv(torch.empty(1, 1, 1337, 42, 314, device="meta"))
    assert tuple(out.shape[1:]) == (1, 1335, 39, 310)
    assert sum(p.numel() for p in conv.parameters()) == 61
