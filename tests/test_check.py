"""The checker compares formulas with measurements, and catches wrong formulas."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_reference import graphs
from symconv import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, Linear, MaxPool2d, Network, symbols
from symconv.layers import KINDS
from symconv.layers.conv import ConvNd
from symconv.numeric import run
from torch_reference import layer_stacks

n, k = symbols("n k")


def test_symbolic_network_checks_ok_at_samples():
    net = Network(
        input=(2, n, n),
        layers=[Conv2d(k, 3, stride=2, padding=1), MaxPool2d(2, ceil_mode=True), Flatten(), Linear(3)],
    )
    result = net.check(samples=4, seed=1)
    assert result.ok and len(result.assignments) == 4
    assert {c.quantity for c in result.checks} == {"output_shape", "params", "macs"}


def test_a_corrupted_rule_is_reported(monkeypatch):
    net = Network(input=(1, n, n), layers=[Conv2d(3, 3, padding=1), Conv2d(2, 3, stride=2)])
    original = ConvNd.macs
    # off by one output row: the kind of slip a hand derivation makes
    monkeypatch.setattr(ConvNd, "macs", lambda self, x: original(self, x) + self.out_channels * 9 * x[0])
    net = Network(input=(1, n, n), layers=[Conv2d(3, 3, padding=1), Conv2d(2, 3, stride=2)])
    result = net.check(samples=3)
    assert not result.ok
    failing = [c for c in result.checks if not c.ok]
    assert {c.quantity for c in failing} == {"macs"}
    assert result.smallest_failure is not None


@pytest.mark.parametrize(
    "layers",
    [
        [Conv2d(4, 3, stride=2, padding=1, groups=2)],
        [Conv2d(4, 2, padding="same", dilation=2)],
        [ConvTranspose2d(3, 3, stride=2, padding=1, output_padding=1)],
        [AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)],
        [Flatten(), Linear(5)],
    ],
)
def test_both_counting_modes_agree(layers):
    net = Network(input=(2, 7, 6), layers=layers)
    slow = run(net, {}, "enumerate", seed=3)
    fast = run(net, {}, "fast", seed=3)
    for a, b, x, y in zip(slow.measurements, fast.measurements, slow.outputs, fast.outputs, strict=True):
        assert a == b
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_enumerating_mode_counts_every_tap_including_padding():
    # 1 channel 3x3 input, 3x3 kernel, padding 1: 9 outputs x 9 taps = 81, padding taps included
    net = Network(input=(1, 3, 3), layers=[Conv2d(1, 3, padding=1)])
    assert run(net, {}, "enumerate").measurements[0].macs == 81


def test_keras_example_measured_macs():
    net = Network(input=(1, 28, 28), layers=[Conv2d(40, 3), Conv2d(8, 3), Flatten(), Linear(10)])
    measured = run(net, {}, "fast")
    assert sum(m.macs for m in measured.measurements) == 1_948_320
    assert [m.params for m in measured.measurements] == [400, 2888, 0, 46090]


def test_check_at_fixed_values_with_rational_width():
    alpha = symbols("alpha")
    net = Network(input=(3, n, n), layers=[Conv2d(8 * alpha, 3, padding=1)])
    result = net.check(samples=2, alpha=sp.Rational(1, 2))
    assert result.ok
    assert all(dict(values)[alpha] == sp.Rational(1, 2) for values in result.assignments)


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_every_layer_kind_counts_the_same_in_both_modes(dims, data):
    (channels, spatial), layers = data.draw(
        layer_stacks(dims, max_layers=3, max_size=6 if dims < 3 else 4, readings=True)
    )
    net = Network(input=(channels, *spatial), layers=[KINDS[kind](**args) for kind, args in layers])
    slow = run(net, {}, "enumerate", seed=5)
    fast = run(net, {}, "fast", seed=5)
    report = net.report
    for row, a, b, x, y in zip(
        report.rows, slow.measurements, fast.measurements, slow.outputs, fast.outputs, strict=True
    ):
        assert a == b, row.name
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10, err_msg=row.name)
        # formula == measurement, every quantity
        assert (tuple(int(d) for d in row.output_shape), int(row.params), int(row.macs)) == (
            a.output_shape,
            a.params,
            a.macs,
        ), row.name


def test_layer_stacks_and_graphs_cover_every_kind():
    # the property tests above, in test_against_torch.py and in test_graphs_against_torch.py reach every kind
    seen = set()

    @settings(max_examples=400, database=None)
    @given(data=st.data())
    def collect(data):
        for dims in (1, 2, 3):
            seen.update(kind for kind, _ in data.draw(layer_stacks(dims, readings=True))[1])
        seen.update(kind for kind, _, _ in data.draw(graphs()).nodes)

    collect()
    assert seen == set(KINDS)


def test_a_fixed_layer_counts_no_parameters_in_every_view(tmp_path, capsys):
    """``fixed: true`` (weights held as buffers): no parameters in the report, the NumPy backend's
    measurement and the derivation; its MACs stay, by hand 3 maps x 9 taps x (H - 2)(W - 2) outputs."""
    from symconv.cli import main
    from symconv.explain import explain
    from symconv.spec import load

    spec = tmp_path / "blur.yaml"
    spec.write_text(
        "input: [3, H, W]\nlayers:\n  - conv2d: {out_channels: 3, kernel_size: 3, groups: 3, bias: false, fixed: true}\n"
    )
    net = load(spec)
    assert net.params == 0
    assert net.at(H=7, W=9).macs == 3 * 9 * 5 * 7
    assert net.check(samples=3).ok
    params = [d for d in explain(net) if d.quantity == "params" and d.layer == "conv2d_1"]
    assert params and params[0].steps[-1].right == 0
    assert main(["explain", str(spec)]) == 0
    assert "constants held as buffers" in capsys.readouterr().out
