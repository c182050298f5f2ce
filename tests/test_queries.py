"""diff, domain, solve and memory: expected values from papers, torchvision's metadata, or by hand."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symconv import SpecError, zoo
from symconv.cli import main
from symconv.queries import diff, domain, memory, parse_budget, solve
from symconv.sizes import symbols
from symconv.spec import load


def test_separable_ratio_is_derived():
    # Howard et al. 2017, eq. (5): the cost ratio is 1/N + 1/D_K^2
    result = {
        d.quantity: d for d in diff(load("examples/standard_conv.yaml"), load("examples/separable_conv.yaml"))
    }
    N, K = symbols("N K")
    assert sp.simplify(result["macs"].ratio - (1 / N + 1 / K**2)) == 0
    assert result["macs"].ratio_expanded == 1 / N + 1 / K**2


@pytest.mark.parametrize(
    ("name", "size"), [("alexnet", 63), ("googlenet", 15), ("squeezenet1_0", 21), ("squeezenet1_1", 17)]
)
def test_smallest_input_is_torchvisions_min_size(name, size):
    # torchvision's documentation, the weights' "min_size" metadata
    result = dict((str(s), v) for s, v in domain(zoo.build(name)).smallest)
    assert result == {"H": size, "W": size}


def test_conditions_are_simplified_to_the_strongest_bound():
    conditions = domain(zoo.build("alexnet")).conditions
    H, W = symbols("H W")
    assert set(conditions) == {sp.Ge(H, 63), sp.Ge(W, 63)}


def test_floors_vanish_when_the_input_is_a_multiple_of_32():
    result = domain(zoo.build("resnet50"))
    (case,) = result.exact_when
    H, W = symbols("H W")
    assert case.condition == sp.And(sp.Eq(sp.Mod(H, 32), 0), sp.Eq(sp.Mod(W, 32), 0))
    assert not case.macs.has(sp.floor)
    assert round(int(case.macs.xreplace({H: 224, W: 224})) / 1e9, 2) == 4.09  # torchvision's GFLOPS
    full = zoo.build("resnet50").macs
    for h, w in ((32, 64), (96, 320), (512, 128)):
        assert case.macs.xreplace({H: h, W: w}) == full.xreplace({H: h, W: w})


def test_largest_width_multiplier_under_a_budget():
    net = zoo.build("mobilenet_v1")
    solution = solve(net, "alpha", [parse_budget("macs <= 300e6")], {"H": 224, "W": 224})
    assert solution.value == sp.Rational(23, 32)
    # checked by substitution: 23/32 fits the budget, the next multiple of 1/32 does not
    assert net.at(alpha="23/32", H=224, W=224).macs <= 300_000_000 < net.at(alpha="24/32", H=224, W=224).macs
    assert solution.supremum > solution.value


def test_largest_input_size_under_budgets():
    net = zoo.build("resnet18")
    solution = solve(net, "H", [parse_budget("macs <= 5G"), parse_budget("params < 20M")], {"W": 224})
    h = int(solution.value)
    assert net.at(H=h, W=224).macs <= 5 * 10**9 < net.at(H=h + 1, W=224).macs


@pytest.mark.parametrize("text", ["latency <= 3", "macs >= 3", "macs <= lots", "macs <= 1e999999999"])
def test_bad_budgets(text):
    with pytest.raises(SpecError):
        parse_budget(text)


def test_memory_by_hand():
    # keras example, batch 32, float32: the peak is while conv2d_2 runs, holding conv2d_1's output
    # (40*26*26 = 27,040) and its own (8*24*24 = 4,608): 31,648 elements * 32 * 4 bytes
    result = memory(load("examples/keras_mnist.yaml"), 32, "float32")
    assert result.peak_bytes == 31_648 * 32 * 4
    assert result.parameter_bytes == 49_378 * 4


def test_memory_is_symbolic_in_batch_and_size():
    result = memory(zoo.build("resnet18"), "B", "float16")
    B, H, W = symbols("B H W")
    assert result.peak_bytes.free_symbols == {B, H, W}


def test_cli_queries(capsys):
    assert main(["domain", "zoo:googlenet", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["smallest"] == {"H": 15, "W": 15}
    assert (
        main(
            [
                "solve",
                "zoo:mobilenet_v1",
                "--maximize",
                "alpha",
                "--subject-to",
                "macs <= 300e6",
                "--at",
                "H=224,W=224",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["value"] == "23/32"
    assert (
        main(["diff", "examples/standard_conv.yaml", "examples/separable_conv.yaml", "--format", "json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["quantities"][1]["ratio_expanded"] in (
        "1/N + K**(-2)",
        "K**(-2) + 1/N",
    )
    assert main(["memory", "examples/keras_mnist.yaml", "--batch", "32", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["peak_bytes"] == 31_648 * 32 * 4
    assert main(["solve", "zoo:resnet18", "--maximize", "H", "--subject-to", "macs <= 5G"]) == 2  # W unset
    assert main(["memory", "examples/keras_mnist.yaml", "--dtype", "float128"]) == 2


def test_diff_at_values_and_readable_symbolic_output(capsys):
    # torchvision's documentation: resnet18 11,689,512 params and 1.81 GFLOPS, resnet34 21,797,672 and 3.66
    assert main(["diff", "zoo:resnet18", "zoo:resnet34", "--at", "H=224,W=224", "--format", "json"]) == 0
    params, macs = json.loads(capsys.readouterr().out)["quantities"][:2]
    assert params["difference"] == 21_797_672 - 11_689_512
    assert round(macs["first"] / 1e9, 2) == 1.81 and round(macs["second"] / 1e9, 2) == 3.66
    assert main(["diff", "zoo:resnet18", "zoo:resnet34", "--width", "80"]) == 0
    text = capsys.readouterr().out
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "H_5 = floor((H - 1)/32) + 1" in text and "varies with the sizes" in text
