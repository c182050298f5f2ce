"""Rendering of derivations and proofs: text, Markdown (with math) and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import sympy as sp

from symconv.display import provides
from symconv.explain import Derivation, Step
from symconv.notation import condition_text, sum_pieces, to_latex, to_text
from symconv.prove import Proof
from symconv.render.json import value
from symconv.render.latex import broken, formula_pieces, printed_width

QUANTITY_NAMES = {"shape": "output shape", "params": "parameters", "macs": "multiply-accumulates"}
LATEX_RELATIONS = {"==": "=", "=": "=", "!=": r"\neq", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def step_text(step: Step) -> str:
    """A step's right side as text: as textbooks write it, as an ordered sum, or printed."""
    if step.written:
        return step.written[0]
    if step.terms:
        return " ".join(sum_pieces(step.terms, to_text))
    return to_text(step.right)


def step_latex(step: Step) -> str:
    """A step's right side as LaTeX (one line)."""
    if step.written:
        return step.written[1]
    if step.terms:
        return " ".join(sum_pieces(step.terms, to_latex, latex=True))
    return to_latex(step.right)


def _legend(legend: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{symbol}: {meaning}" for symbol, meaning in legend]


def derivations_text(derivations: Sequence[Derivation], legend: Sequence[tuple[str, str]] = ()) -> str:
    parts = []
    for derivation in derivations:
        parts.append(
            f"{derivation.layer} ({derivation.kind}): {QUANTITY_NAMES.get(derivation.quantity, derivation.quantity)}"
        )
        for index, step in enumerate(derivation.steps):
            left = to_text(step.left) if index == 0 else " " * len(to_text(step.left))
            right = step_text(step)
            parts.append(f"  {left} = {right}")
            note = step.rule + (f"  [{step.source}]" if step.source else "")
            checked = step.checked if step.checked not in ("", "definition") else ""
            parts.append(f"      by {note}" + (f"; checked: {checked}" if checked else ""))
        parts.append("")
    if legend:
        parts.append("symbols: " + "; ".join(_legend(legend)))
    return "\n".join(parts).rstrip() + "\n"


@provides("derivations.markdown")
def derivations_markdown(derivations: Sequence[Derivation], legend: Sequence[tuple[str, str]] = ()) -> str:
    parts = []
    for derivation in derivations:
        parts.append(
            f"**`{derivation.layer}`** ({derivation.kind}), {QUANTITY_NAMES.get(derivation.quantity)}:"
        )
        parts.append("")
        parts.append("$$")
        parts.append(r"\begin{aligned}")
        rows = []
        reserve = printed_width(to_latex(derivation.steps[0].left)) + 2.5  # the left side and "="
        for index, step in enumerate(derivation.steps):
            left = to_latex(step.left) if index == 0 else ""
            pieces = [step.written[1]] if step.written else formula_pieces(step.right, step.terms)
            lines = broken(pieces, reserve)  # a display line fits the page's text column
            rows.append(f"{left} &= {lines[0]}")
            rows += [f"&\\quad {line}" for line in lines[1:]]
        parts.append(" \\\\\n".join(rows))
        parts.append(r"\end{aligned}")
        parts.append("$$")
        parts.append("")
        for index, step in enumerate(derivation.steps, start=1):
            source = f" — {step.source}" if step.source else ""
            checked = f" (checked: {step.checked})" if step.checked and step.checked != "definition" else ""
            rule = step.rule
            if step.substitutions:  # the same note with its equations typeset
                rule = "substitute " + ", ".join(
                    f"${to_latex(k)} = {to_latex(v)}$" for k, v in step.substitutions
                )
            parts.append(f"{index}. {rule}{source}{checked}")
        parts.append("")
    if legend:
        parts.append("Symbols: " + "; ".join(f"${to_latex(sp.Symbol(s))}$: {m}" for s, m in legend) + ".")
    return "\n".join(parts).rstrip() + "\n"


def derivations_json(derivations: Sequence[Derivation], legend: Sequence[tuple[str, str]] = ()) -> str:
    data = {
        "derivations": [
            {
                "layer": d.layer,
                "type": d.kind,
                "quantity": d.quantity,
                "result": value(d.result),
                "steps": [
                    {
                        "left": value(s.left),
                        "right": s.written[0] if s.written else value(s.right),
                        **({"terms": [value(t) for t in s.terms]} if s.terms else {}),
                        "rule": s.rule,
                        "source": s.source,
                        "checked": s.checked,
                    }
                    for s in d.steps
                ],
            }
            for d in derivations
        ],
        "symbols": dict(legend),
    }
    return json.dumps(data, indent=2)


def _claim_text(proof: Proof) -> str:
    return f"{to_text(proof.left)} {proof.relation} {to_text(proof.right)}"


def proof_text(proof: Proof) -> str:
    lines = [f"claim: {_claim_text(proof)}"]
    if proof.assumptions:
        lines.append("assuming: " + ", ".join(to_text(a) for a in proof.assumptions))
    lines.append(f"status: {proof.status} ({proof.method})")
    if proof.undefined:
        lines.append(f"undefined where {_undefined(proof)}: the verdict is for every other value")
    for step in proof.steps:
        source = f"  [{step.source}]" if step.source else ""
        lines.append(
            f"  {to_text(step.left)} {step.relation} {to_text(step.right)}    -- {step.rule}{source}"
        )
    if proof.counterexample:
        lines.append("counterexample: " + ", ".join(f"{s} = {v}" for s, v in proof.counterexample))
    if proof.evidence:
        lines.append(f"evidence (not a proof): {proof.evidence}")
    return "\n".join(lines)


@provides("proof.markdown")
def proof_markdown(proof: Proof) -> str:
    relation = LATEX_RELATIONS[proof.relation]
    lines = [f"**Claim.** ${to_latex(proof.left)} {relation} {to_latex(proof.right)}$", ""]
    lines.append(f"**Status:** {proof.status} ({proof.method}).")
    if proof.undefined:
        lines.append(f"Undefined where {_undefined(proof)}: the verdict is for every other value.")
    lines.append("")
    for step in proof.steps:
        source = f" — {step.source}" if step.source else ""
        lines.append(
            f"- ${to_latex(step.left)} {LATEX_RELATIONS.get(step.relation, step.relation)} "
            f"{to_latex(step.right)}$: {step.rule}{source}"
        )
    if proof.counterexample:
        lines += [
            "",
            "**Counterexample:** " + ", ".join(f"${s} = {v}$" for s, v in proof.counterexample) + ".",
        ]
    if proof.evidence:
        lines += ["", f"**Evidence, not a proof:** {proof.evidence}."]
    return "\n".join(lines) + "\n"


def proof_json(proof: Proof) -> str:
    data = {
        "claim": _claim_text(proof),
        "status": proof.status,
        "method": proof.method,
        "steps": [
            {
                "left": value(s.left),
                "relation": s.relation,
                "right": value(s.right),
                "rule": s.rule,
                "source": s.source,
            }
            for s in proof.steps
        ],
        "counterexample": None
        if proof.counterexample is None
        else {str(s): value(v) for s, v in proof.counterexample},
        "evidence": proof.evidence,
        "assumptions": [to_text(a) for a in proof.assumptions],
        "undefined": [condition_text(c) for c in proof.undefined],
    }
    return json.dumps(data, indent=2)


def _undefined(proof: Proof) -> str:
    return " or ".join(condition_text(c) for c in proof.undefined)


DERIVATION_FORMATS: dict[str, Callable] = {
    "text": derivations_text,
    "markdown": derivations_markdown,
    "json": derivations_json,
}
PROOF_FORMATS: dict[str, Callable[[Proof], str]] = {
    "text": proof_text,
    "markdown": proof_markdown,
    "json": proof_json,
}
