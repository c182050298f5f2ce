"""The proof engine: proofs, counterexamples, and honesty about what it cannot show."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from symconv.cli import main
from symconv.errors import UnsafeExpression
from symconv.prove import prove
from symconv.sizes import symbols

n, m = symbols("n m")


def test_nested_floors_compose_by_concrete_mathematics_3_11():
    proof = prove("floor(floor((n - 1)/2)/2) == floor((n - 1)/4)")
    assert proof.status == "proved" and proof.method == "identity"
    assert any("(3.11)" in (step.source or "") for step in proof.steps)
    assert not any(step.rule.startswith("case ") for step in proof.steps)


def test_floor_identity_is_proved_by_residues():
    proof = prove("floor(n/2) + floor((n + 1)/2) == n")
    assert proof.status == "proved" and proof.method == "residue case split"
    assert sum(step.rule.startswith("case ") for step in proof.steps) == 2  # n = 2q + 1, 2q + 2


def test_depthwise_separable_cost_ratio():
    # MobileNets eq. (5): (D_K^2 M D_F^2 + M N D_F^2) / (D_K^2 M N D_F^2) = 1/N + 1/D_K^2
    proof = prove("(D_K**2*M*D_F**2 + M*N*D_F**2)/(D_K**2*M*N*D_F**2) == 1/N + 1/D_K**2")
    assert proof.status == "proved" and proof.method == "identity"


def test_false_claim_gets_the_smallest_counterexample():
    proof = prove("2*floor(n/2) == n")
    assert proof.status == "disproved"
    assert proof.counterexample == ((n, 1),)  # 2*floor(1/2) = 0 != 1


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        ("ceil(n/2) + floor(n/2) == n", "proved"),
        ("3*floor(n/3) <= n", "proved"),
        ("n**2 >= n", "proved"),
        ("n*m + 1 > n", "proved"),
        ("n*m > n", "disproved"),  # n = m = 1
        ("floor((n + 1)/2) == floor(n/2)", "disproved"),  # n = 1
        ("n % 2 + 2*floor(n/2) == n", "proved"),
        ("ceil(n/S) == floor((n + S - 1)/S)", "unknown"),  # symbolic divisor: evidence only
    ],
)
def test_claims(claim, status):
    assert prove(claim).status == status


def test_assumptions_shift_the_domain():
    assert prove("n - 3 >= 0").status == "disproved"
    assert prove("n - 3 >= 0", assume=("n >= 3",)).status == "proved"


def test_unknown_is_never_called_a_proof():
    proof = prove("ceil(n/S) == floor((n + S - 1)/S)")
    assert proof.counterexample is None and "no counterexample" in proof.evidence


def test_cli_prove_json_and_exit_status(capsys):
    assert main(["prove", "2*floor(n/2) == n", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "disproved" and data["counterexample"] == {"n": 1}
    assert set(data) >= {"claim", "status", "method", "steps", "counterexample"}
    assert main(["prove", "floor(floor((n - 1)/2)/2) == floor((n - 1)/4)"]) == 0


@pytest.mark.parametrize("claim", ["n = 3", "__import__('os') == 1", "n < m < 3", "n"])
def test_bad_claims_are_refused(claim):
    with pytest.raises(UnsafeExpression):
        prove(claim)


def test_bad_claim_exits_2(capsys):
    assert main(["prove", "().__class__ == 1"]) == 2
    assert "symconv: error:" in capsys.readouterr().err


def test_counterexample_confirmed_by_exact_evaluation():
    proof = prove("floor(n/3) == floor((n + 1)/3)")
    values = dict(proof.counterexample)
    left, right = sp.floor(values[n] / 3), sp.floor((values[n] + 1) / 3)
    assert left != right and values[n] == 2  # the smallest n with n % 3 == 2
