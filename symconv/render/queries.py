"""Rendering of diff, domain, solve and memory results (text and JSON)."""

from __future__ import annotations

import json

import sympy as sp

from symconv.conventions import Comparison
from symconv.notation import condition_text, to_text
from symconv.queries import SMALLEST_BOX, Difference, Domain, Memory, Solution
from symconv.render.json import value
from symconv.render.shorthand import shorten
from symconv.render.text import cell, labelled, table, units


def diff_text(
    items: tuple[Difference, ...], width: int | None = None, short: dict | None = None, names: tuple = ()
) -> str:
    """Each quantity as a block of labelled lines (first, second, difference, ratio), wrapped to ``width``.

    ``short`` names the spatial sizes (``H_1 = floor((H - 1)/2) + 1``) as the derive table does.
    """
    short = short or {}
    first, second = names or ("first", "second")
    labels = (first, second, f"{second} - {first}", f"{second} / {first}")
    pad = max(map(len, labels)) + 2
    parts = []
    for d in items:
        parts.append(d.quantity)
        for label, expr in zip(labels, (d.first, d.second, d.difference, d.ratio), strict=True):
            if expr is None:
                shown = "-"
            elif expr is d.ratio and not sp.sympify(expr).is_Number:
                shown = _ratio_in_words(expr)
            else:
                shown = _total(shorten(expr, short))
            parts += labelled(f"  {label + ':':<{pad}}", shown, width)
    used = {
        s
        for d in items
        for e in (d.first, d.second, d.difference)
        for s in sp.sympify(shorten(e, short)).free_symbols
    }
    defined = [(size, name) for size, name in short.items() if name in used]
    if defined:
        parts.append("where:")
        parts += [line for size, name in defined for line in labelled(f"  {name} = ", to_text(size), width)]
    return "\n".join(parts)


def _ratio_in_words(ratio: sp.Expr) -> str:
    """A ratio that varies with the sizes: where it tends as every size grows together (``--at`` gives it exactly)."""
    ratio = sp.sympify(ratio)
    t = sp.Symbol("t", positive=True)
    try:
        smooth = ratio.replace(sp.floor, lambda a: a).replace(sp.ceiling, lambda a: a)
        tends = sp.limit(smooth.xreplace({s: t for s in ratio.free_symbols}), t, sp.oo)
    except (NotImplementedError, ValueError, TypeError):
        tends = None
    if tends is None or not tends.is_Number:
        return "varies with the sizes (give them with --at)"
    return f"varies with the sizes (give them with --at); tends to {_total(tends)} as they all grow"


def _total(expr) -> str:
    expr = sp.sympify(expr)
    if expr.is_Integer:
        return units(expr)
    if expr.is_Rational:
        return f"{to_text(expr)} (~{float(expr):.4f})"
    return to_text(expr)


def diff_json(items: tuple[Difference, ...]) -> str:
    return json.dumps(
        {
            "quantities": [
                {
                    "quantity": d.quantity,
                    "first": value(d.first),
                    "second": value(d.second),
                    "difference": value(d.difference),
                    "ratio": value(d.ratio),
                    "ratio_expanded": value(d.ratio_expanded),
                }
                for d in items
            ]
        },
        indent=2,
    )


def domain_text(result: Domain) -> str:
    parts = ["valid when:"]
    parts += [f"  {condition_text(c)}" for c in result.conditions] or [
        "  always (no condition on the symbols)"
    ]
    witnesses = dict(result.witnesses)

    def smallest_of(symbol, found) -> str:
        if found is None:
            return f"{symbol}: none found"
        if symbol not in witnesses:
            return f"{symbol} = {found}"
        at = ", ".join(f"{s} = {v}" for s, v in witnesses[symbol])
        return f"{symbol} = {found} (at {at}; other symbols tried from 1 to {SMALLEST_BOX})"

    smallest = ", ".join(smallest_of(s, v) for s, v in result.smallest)
    parts.append("smallest valid input: " + (smallest or "the input has no symbolic size"))
    for case in result.exact_when:
        parts += [
            f"without floors when {condition_text(case.condition)}:",
            f"  output shape: {cell(case.output_shape)}",
            f"  params: {cell(case.params)}",
            f"  MACs: {cell(case.macs)}",
        ]
    return "\n".join(parts)


def domain_json(result: Domain) -> str:
    return json.dumps(
        {
            "conditions": [to_text(c) for c in result.conditions],
            "smallest": {str(s): v for s, v in result.smallest},
            "smallest_at": {str(s): {str(o): v for o, v in w} for s, w in result.witnesses},
            "exact_when": [
                {
                    "condition": to_text(c.condition),
                    "output_shape": value(c.output_shape),
                    "params": value(c.params),
                    "macs": value(c.macs),
                }
                for c in result.exact_when
            ],
        },
        indent=2,
    )


def _quantities(solution: Solution) -> dict:
    report = solution.report
    return (
        {}
        if report is None
        else {q: value(getattr(report, q)) for q in ("params", "macs", "flops", "activations")}
    )


def solve_text(solution: Solution) -> str:
    if solution.status == "unbounded":
        return f"no largest {solution.symbol}: {solution.note}"
    if solution.value is None:
        return f"{'not decided' if solution.status == 'searched' else 'no solution'}: {solution.note}"
    heading = "largest" if solution.status == "exact" else "largest found by search"
    parts = [f"{heading} {solution.symbol}: {to_text(solution.value)}"]
    if solution.supremum is not None and solution.supremum != solution.value:
        parts.append(
            f"  (bound before integer channels: {to_text(solution.supremum)} = "
            f"{float(solution.supremum):.6f})"
        )
    parts.append("  " + solution.note)
    parts += [
        f"{q}: {cell(v) if not isinstance(v, int) else f'{v:,}'}" for q, v in _quantities(solution).items()
    ]
    return "\n".join(parts)


def solve_json(solution: Solution) -> str:
    return json.dumps(
        {
            "symbol": str(solution.symbol),
            "status": solution.status,
            "value": value(solution.value),
            "searched_up_to": value(solution.searched_up_to),
            "supremum": value(solution.supremum),
            "budgets": [f"{b.quantity} {'<' if b.strict else '<='} {b.limit}" for b in solution.budgets],
            "quantities": _quantities(solution),
            "note": solution.note,
        },
        indent=2,
    )


def memory_text(result: Memory) -> str:
    rows = [
        [name, cell(elements), cell(elements * result.bytes_per_element)]
        for name, elements in result.activations
    ]
    return "\n".join(
        [
            f"batch {result.batch}, {result.dtype} ({result.bytes_per_element} bytes per element)",
            table(["layer", "output elements", "bytes"], rows),
            f"parameter bytes: {cell(result.parameter_bytes)}",
            f"all activations: {cell(result.activation_bytes)} bytes",
            f"peak live activations (forward pass): {cell(result.peak_bytes)} bytes",
        ]
    )


def memory_json(result: Memory) -> str:
    return json.dumps(
        {
            "batch": value(result.batch),
            "dtype": result.dtype,
            "bytes_per_element": result.bytes_per_element,
            "layers": [
                {"name": n, "elements": value(e), "bytes": value(e * result.bytes_per_element)}
                for n, e in result.activations
            ],
            "parameter_bytes": value(result.parameter_bytes),
            "activation_bytes": value(result.activation_bytes),
            "peak_bytes": value(result.peak_bytes),
        },
        indent=2,
    )


def _signed(term: sp.Expr) -> str:
    """``+ 9,229,288`` or ``- 6,292,703,232``: a difference with its sign as the operator."""
    term = sp.sympify(term)
    negative = term.could_extract_minus_sign()
    return f"{'-' if negative else '+'} {cell(-term if negative else term)}"


def compare_text(result: Comparison) -> str:
    parts = [
        table(["convention", "total"], [[name, cell(total)] for name, total in result.totals]),
        "",
        "how each differs from MACs:",
    ]
    for name, terms in result.differences:
        shown = "; ".join(_signed(term) + f" ({label})" for label, term in terms) if terms else "nothing"
        parts.append(f"  {name}: {shown}")
    return "\n".join(parts)


def compare_json(result: Comparison) -> str:
    return json.dumps(
        {
            "totals": {name: value(total) for name, total in result.totals},
            "differences": {
                name: {label: value(term) for label, term in terms} for name, terms in result.differences
            },
        },
        indent=2,
    )


FORMATS = {
    "compare": {"text": compare_text, "json": compare_json},
    "diff": {"text": diff_text, "json": diff_json},
    "domain": {"text": domain_text, "json": domain_json},
    "solve": {"text": solve_text, "json": solve_json},
    "memory": {"text": memory_text, "json": memory_json},
}
