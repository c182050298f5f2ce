"""Rendering of diff, domain, solve and memory results (text and JSON)."""

from __future__ import annotations

import json

from symconv.conventions import Comparison
from symconv.notation import condition_text, to_text
from symconv.queries import SMALLEST_BOX, Difference, Domain, Memory, Solution
from symconv.render.json import value
from symconv.render.text import cell, table


def diff_text(items: tuple[Difference, ...]) -> str:
    rows = [
        [d.quantity, cell(d.first), cell(d.second), cell(d.difference), cell(d.ratio), cell(d.ratio_expanded)]
        for d in items
    ]
    return table(["quantity", "first", "second", "second - first", "second / first", "ratio, expanded"], rows)


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


def compare_text(result: Comparison) -> str:
    parts = [
        table(["convention", "total"], [[name, cell(total)] for name, total in result.totals]),
        "",
        "how each differs from MACs:",
    ]
    for name, terms in result.differences:
        shown = "; ".join(f"+ {cell(term)} ({label})" for label, term in terms) if terms else "nothing"
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
