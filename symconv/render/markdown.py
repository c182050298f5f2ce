"""Markdown output with ``$...$`` math, for the documentation site."""

from __future__ import annotations

from typing import Any

import sympy as sp

from symconv.display import provides
from symconv.notation import to_latex
from symconv.report import Report


def math(expr: Any) -> str:
    """An expression as inline math; shapes as ``(a \\times b)``."""
    if expr is None:
        return "–"
    if isinstance(expr, tuple):
        return "$(" + r",\ ".join(to_latex(e) for e in expr) + ")$"
    expr = sp.sympify(expr)
    if expr.is_Integer:
        return f"{int(expr):,}"
    return f"${to_latex(expr)}$"


@provides("report.markdown")
def render_report(report: Report) -> str:
    lines = []
    if report.name:
        lines += [f"### {report.name}", ""]
    lines += [f"Input {math(report.input_shape)} (channels first).", ""]
    lines += [
        f"| layer | type | output shape | params | {report.cost} | receptive field |",
        "|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        lines.append(
            f"| `{row.name}` | {row.kind} | {math(row.output_shape)} | {math(row.params)} | "
            f"{math(row.macs)} | {math(row.receptive_field)} |"
        )
    lines.append(
        f"| **total** | | {math(report.output_shape)} | {math(report.params)} | {math(report.macs)} | |"
    )
    if report.legend:
        lines += [
            "",
            "Symbols: " + "; ".join(f"${to_latex(sp.Symbol(s))}$: {m}" for s, m in report.legend) + ".",
        ]
    if report.assumptions:
        lines += ["", "Assuming:", ""]
        lines += [f"- ${to_latex(a.condition)}$ ({a.message})" for a in report.assumptions]
    return "\n".join(lines) + "\n"
