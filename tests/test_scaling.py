"""Why is it quadratic: degrees and ratios under widening, and their measurement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

from symconv import SpecError
from symconv.cli import main
from symconv.scaling import scale
from symconv.spec import load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_two_layer_example_is_quadratic():
    # hand derivation: MACs 9*k1*n*m (degree 1 in alpha) and 25*k1*k2*n*m (degree 2);
    # params of layer 2: 25*k1*k2 + k2 (degree 2)
    result = scale(load(EXAMPLES / "two_convolutions.yaml"), ["k1", "k2"])
    first, second = result.layers
    alpha = result.factor
    assert (first.macs.degree, second.macs.degree, result.total.macs.degree) == (1, 2, 2)
    assert second.macs.ratio == alpha**2
    assert second.params.degree == 2
    assert len(result.measured) >= 3
    for m in result.measured:
        assert m.macs == m.expected_macs
    ratios = [m.macs / result.measured[0].macs for m in result.measured]
    # the measured ratios approach factor**2 from below, never exceed it
    assert all(r <= m.factor**2 for r, m in zip(ratios, result.measured, strict=True))
    assert ratios[-1] / result.measured[-1].factor ** 2 > 0.9


def test_widening_one_symbol_is_linear():
    result = scale(load(EXAMPLES / "two_convolutions.yaml"), ["k2"])
    assert [r.macs.degree for r in result.layers] == [0, 1]


def test_cli_scale_json(capsys):
    assert (
        main(
            [
                "scale",
                str(EXAMPLES / "two_convolutions.yaml"),
                "--symbols",
                "k1,k2",
                "--factor",
                "alpha",
                "--format",
                "json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["factor"] == "alpha"
    assert data["layers"][1]["macs_ratio"] == "alpha**2" and data["layers"][1]["macs_degree"] == 2
    assert data["total"]["macs_degree"] == 2
    assert all({"factor", "macs", "seconds"} <= set(m) for m in data["measured"])
    assert sp.sympify(data["layers"][0]["macs_ratio"]) == sp.Symbol("alpha")


def test_unknown_symbols_are_refused():
    with pytest.raises(SpecError, match="not among"):
        scale(load(EXAMPLES / "two_convolutions.yaml"), ["q"])
