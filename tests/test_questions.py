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


def test_type_1_as_the_question_counts_it_shares_filters_across_maps():
    """The same k2 filters slid over each map: k1*k2 maps from 25*k2 weights and k2 biases."""
    net = load(EXAMPLES / "reading_type1_shared.yaml")
    assert net.output_shape == (k2, k1, n, m)
    assert sp.expand(net.layers[-1].params - (25 * k2 + k2)) == 0
    assert sp.expand(net.params - (9 * k1 + 25 * k2) - (k1 + k2)) == 0  # the question's count, plus biases
    values = net.report.resolve({"k1": 3, "k2": 2, "n": 7, "m": 6})
    measured = run(net, values, "fast", seed=4)
    maps, weights = measured.outputs[0], measured.weights[-1]
    kernel, bias = weights["weight"][:, 0, 0], weights["bias"]  # (k2, 5, 5): one 2-D filter per output
    padded = np.pad(maps, ((0, 0), (2, 2), (2, 2)))
    by_hand = np.zeros((2, 3, 7, 6))
    for f in range(2):  # each filter on each map separately, by brute force
        for c in range(3):
            for i in range(7):
                for j in range(6):
                    by_hand[f, c, i, j] = np.sum(padded[c, i : i + 5, j : j + 5] * kernel[f]) + bias[f]
    assert np.allclose(measured.outputs[-1], by_hand)


def test_inception_3a_under_type_2_2_has_table_1s_depth_and_weights():
    from symconv.zoo import build

    paper = build("googlenet_paper").report
    convs = [r for r in paper.layers if r.name.startswith("inception3a") and r.kind == "conv2d"]
    weights = sum(int(r.params) - int(r.output_shape[0]) for r in convs)
    # by hand from Table 1 (Szegedy et al. 2015), input 192 maps:
    # 192*64 + 192*96 + 9*96*128 + 192*16 + 25*16*32 + 192*32
    assert weights == 12288 + 18432 + 110592 + 3072 + 12800 + 6144 == 163328  # "159K" in units of 1024
    concat = next(r for r in paper.layers if r.name == "inception3a.concat")
    assert concat.output_shape[0] == 64 + 128 + 32 + 32  # Table 1's output 28x28x256
    assert weights * 28 * 28 == 128049152  # Table 1's "128M" operations


def test_cross_map_operations_reach_the_maps_torch_says():
    torch = pytest.importorskip("torch")
    x = torch.randn(1, 6, 4, 4, dtype=torch.float64)
    y = x.clone()
    y[0, 1] += 100.0
    lrn = torch.nn.LocalResponseNorm(5)
    changed = [c for c in range(6) if not torch.equal(lrn(x)[0, c], lrn(y)[0, c])]
    assert changed == [0, 1, 2, 3]  # map 1 and its neighbours within 2
    pool = torch.nn.MaxPool3d((2, 1, 1), (2, 1, 1))
    out_x, out_y = pool(x.unsqueeze(1))[0, 0], pool(y.unsqueeze(1))[0, 0]
    assert [c for c in range(3) if not torch.equal(out_x[c], out_y[c])] == [0]
    from symconv import Network
    from symconv import layers as L

    lrn_net = Network((6, 4, 4), [L.LocalResponseNorm(5)])
    before = run(lrn_net, {}, "fast", inputs=x[0].numpy()).outputs[-1]
    after = run(lrn_net, {}, "fast", inputs=y[0].numpy()).outputs[-1]
    assert np.allclose(before, lrn(x)[0].numpy()) and np.allclose(after, lrn(y)[0].numpy())
