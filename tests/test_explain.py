"""Derivations: steps from the general formula to the result, with rules, sources and checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

from symconv import Conv2d, Network, SpecError, symbols
from symconv.cli import main
from symconv.explain import explain
from symconv.spec import load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
n, m, k1, k2 = symbols("n m k1 k2")


def test_derivation_of_a_strided_shape_composes_the_floors():
    net = Network(
        input=(3, n, n), layers=[Conv2d(8, 3, stride=2, padding=1), Conv2d(8, 3, stride=2, padding=1)]
    )
    (height, _width) = explain(net, "conv2d_2", "shape")
    assert height.result == sp.floor((n - 1) / 4) + 1
    assert [s.rule for s in height.steps][0] == "output size of a convolution"
    assert "Concrete Mathematics" in height.steps[-1].source
    assert height.steps[-1].checked.startswith("symbolic")
    assert "Dumoulin" in height.steps[0].source and "torch.nn.Conv2d" in height.steps[0].source


@pytest.mark.parametrize("spec", sorted(p.name for p in EXAMPLES.glob("*.yaml") if p.name != "resnet50.yaml"))
def test_every_example_explains_and_every_step_is_checked(spec):
    net = load(EXAMPLES / spec)
    derivations = explain(net)
    assert derivations
    for derivation in derivations:
        assert derivation.steps[0].checked == "definition"
        assert all(step.rule for step in derivation.steps)


def test_filter_depth_answer():
    # seed: the 8 filters of layer 2 are 3x3x40; params (8*(3*3*40)) + 8 = 2888
    net = load(EXAMPLES / "keras_mnist.yaml")
    (params,) = explain(net, "conv2d_2", "params")
    assert params.result == 2888
    substitution = params.steps[1].rule
    assert "C_in = 40" in substitution and "K_H = 3" in substitution


def test_totals_are_sums_of_layers():
    net = load(EXAMPLES / "two_convolutions.yaml")
    total = [d for d in explain(net) if d.layer == "total" and d.quantity == "macs"][0]
    assert sp.expand(total.result - (9 * k1 * n * m + 25 * k1 * k2 * n * m)) == 0


def test_unknown_layer_and_quantity_are_refused():
    net = load(EXAMPLES / "two_convolutions.yaml")
    with pytest.raises(SpecError, match="no layer named"):
        explain(net, "conv9")
    with pytest.raises(SpecError):
        explain(net, None, "flops")


def test_cli_explain_formats(capsys):
    assert (
        main(
            [
                "explain",
                str(EXAMPLES / "five_strided.yaml"),
                "--layer",
                "repeat_1.4.conv2d_1",
                "--quantity",
                "shape",
                "--format",
                "json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["derivations"][0]["result"] == "floor((n - 1)/32) + 1"
    assert main(["explain", str(EXAMPLES / "two_convolutions.yaml"), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert r"\begin{aligned}" in out and "k_{1}" in out


@pytest.mark.parametrize(
    "layer, shape",
    [
        ("conv2d", (8, 11, 13)),
        ("grouped", (8, 11, 13)),
        ("conv3d", (4, 5, 6, 7)),
    ],
)
def test_written_general_formulas_are_the_formulas_derived(layer, shape):
    """The textbook order of a convolution's general formula is display only: it equals the formula used."""
    import sympy as sp

    from symconv import layers as L
    from symconv.explain.templates import templates

    made = {
        "conv2d": L.Conv2d(6, 3, bias=True),
        "grouped": L.Conv2d(6, 3, groups=2, bias=False),
        "conv3d": L.Conv3d(2, (1, 3, 3)),
    }[layer]
    for quantity in ("params", "macs"):
        for template in templates(made, (shape,), quantity):
            names = {s.name: s for s in template.general.free_symbols}
            written = sp.sympify(template.written[0], locals=names)
            assert sp.simplify(written - template.general) == 0, (quantity, template.written)
