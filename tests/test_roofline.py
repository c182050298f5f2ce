"""Arithmetic intensity and the roofline against hand derivations and the NumPy backend's own arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from symconv import Network
from symconv.cli import main
from symconv.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU
from symconv.numeric import run
from symconv.roofline import BANDWIDTH, PEAK, roofline
from symconv.sizes import symbols


def _only(network: Network, **options):
    (row,) = roofline(network, **options).layers
    return row


@pytest.mark.parametrize(("dtype", "s"), [("float32", 4), ("float16", 2), ("float64", 8)])
def test_linear_intensity_is_2BNK_over_s_times_BK_plus_KN_plus_BN(dtype, s):
    N, K, B = symbols("N K B")
    row = _only(Network((N,), [Linear(K, bias=False)]), dtype=dtype)
    expected = 2 * B * N * K / (s * (B * K + K * N + B * N))  # by hand: 2BNK operations, three arrays moved
    assert sp.simplify(row.intensity - expected) == 0
    assert sp.expand(row.flops - 2 * B * N * K) == 0
    assert sp.expand(row.weight_bytes - s * K * N) == 0


def test_linear_becomes_compute_bound_at_the_batch_brute_force_finds():
    # 4096 -> 4096 in float16 on a device whose ridge point is 156 FLOP/byte (312 TFLOP/s over 2 TB/s)
    row = _only(
        Network((4096,), [Linear(4096, bias=False)]), dtype="float16", peak=312 * 10**12, bandwidth=2 * 10**12
    )
    n = k = 4096

    def intensity(b: int) -> sp.Rational:
        return sp.Rational(2 * b * n * k, 2 * (b * k + k * n + b * n))

    first = next(b for b in range(1, 10_000) if intensity(b) >= 156)
    assert row.compute_bound_batch == first
    assert intensity(first - 1) < 156


def test_relu_moves_two_bytes_per_operation_of_each_byte_of_its_dtype():
    C, H, W = symbols("C H W")
    row = _only(Network((C, H, W), [ReLU()]))
    # by hand: one max(0, x) per element, each element read and written once in float32
    assert sp.simplify(row.intensity - sp.Rational(1, 8)) == 0
    assert row.bound == "depends" and not row.batch_matters  # 1/8 against the symbol P/beta
    on_a_device = _only(Network((C, H, W), [ReLU()]), peak=10**12, bandwidth=10**11)
    assert on_a_device.bound == "memory" and on_a_device.compute_bound_batch is None


@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (2, 0)])
def test_max_pool_3x3_compares_eight_times_per_output(stride, padding):
    C, H, W, B = symbols("C H W B")
    row = _only(Network((C, H, W), [MaxPool2d(3, stride=stride, padding=padding)]))
    out_h = sp.floor((H + 2 * padding - 3) / stride) + 1
    out_w = sp.floor((W + 2 * padding - 3) / stride) + 1
    flops = 8 * B * C * out_h * out_w  # the largest of 9 values: 8 comparisons
    moved = 4 * B * C * (H * W + out_h * out_w)
    assert sp.expand(row.flops - flops) == 0
    assert sp.simplify(row.intensity - flops / moved) == 0


def test_bytes_equal_the_numpy_backends_arrays():
    net = Network(
        (3, 17, 19),
        [
            Conv2d(8, 3, padding=1, name="conv"),
            ReLU(name="relu"),
            MaxPool2d(3, stride=2, name="pool"),
            Flatten(name="flatten"),
            Linear(10, name="fc"),
        ],
    )
    inputs = np.random.default_rng(0).standard_normal((3, 17, 19))
    measured = run(net, {}, inputs=inputs)
    arrays = {-1: inputs, **dict(enumerate(measured.outputs))}
    result = roofline(net, batch=1, dtype="float64")
    for index, (node, row) in enumerate(zip(net.graph, result.layers, strict=True)):
        read = sum(arrays[i].nbytes for i in node.inputs)
        weights = sum(a.nbytes for a in measured.weights[index].values())
        assert (row.input_bytes, row.weight_bytes, row.output_bytes) == (
            read,
            weights,
            arrays[index].nbytes,
        ), node.name


def test_symbols_stand_for_the_device_and_the_ridge_point_decides_the_bound():
    N, K = symbols("N K")
    result = roofline(Network((N,), [Linear(K, bias=False)]), batch=1)
    assert result.ridge == PEAK / BANDWIDTH
    assert result.layers[0].bound == "depends"
    assert result.attainable == sp.Min(PEAK, result.intensity * BANDWIDTH)


def test_command_prints_the_simplifications_and_json_holds_exact_values(capsys, tmp_path):
    spec = tmp_path / "fc.yaml"
    spec.write_text("input: [4096]\nlayers:\n  - linear: {out_features: 4096, bias: false, name: fc}\n")
    assert (
        main(
            [
                "roofline",
                str(spec),
                "--batch",
                "8",
                "--dtype",
                "float16",
                "--peak",
                "312T",
                "--bandwidth",
                "2T",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "no cache reuse" in text and "no fusion" in text and "memory" in text
    assert main(["roofline", str(spec), "--batch", "8", "--dtype", "float16", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (layer,) = data["layers"]
    assert layer["flops"] == 2 * 8 * 4096 * 4096
    assert layer["bytes"] == 2 * (8 * 4096 + 4096 * 4096 + 8 * 4096)
    assert data["simplifications"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--peak", "-3"],
        ["--bandwidth", "fast"],
        ["--dtype", "float8"],
        ["--batch", "0"],
        ["--peak", "1" * 60],
    ],
)
def test_bad_device_options_are_refused(capsys, tmp_path, arguments):
    spec = tmp_path / "fc.yaml"
    spec.write_text("input: [16]\nlayers:\n  - linear: {out_features: 4}\n")
    assert main(["roofline", str(spec), *arguments]) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and "error" in error


def test_device_values_may_come_with_the_sizes(capsys):
    # ridge point by hand: 312e12 operations/s over 2e12 bytes/s = 156 FLOP/byte
    assert main(["roofline", "zoo:resnet18", "--at", "H=224,W=224,P=312T,beta=2T", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ridge"] == 156 and data["peak"] == 312 * 10**12
