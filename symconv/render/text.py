"""Plain-text output: a model summary whose cells are closed forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv.notation import condition_text, to_text
from symconv.report import Report


def cell(expr: Any) -> str:
    """One table cell: integers with thousands separators, expressions as text."""
    if expr is None:
        return "-"
    if isinstance(expr, tuple):
        return "(" + ", ".join(cell(e) for e in expr) + ")"
    expr = sp.sympify(expr)
    return f"{int(expr):,}" if expr.is_Integer else to_text(expr)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([line(header), rule, *map(line, rows)])


def render_report(report: Report) -> str:
    rows = [
        [
            row.name,
            row.kind,
            cell(row.output_shape),
            cell(row.params),
            cell(row.macs),
            cell(row.receptive_field),
        ]
        for row in report.rows
    ]
    parts = []
    if report.name:
        parts.append(report.name)
    parts.append(f"input: {cell(report.input_shape)}  (channels first)")
    if report.values:
        parts.append("at: " + ", ".join(f"{s} = {v}" for s, v in report.values))
    parts.append(table(["layer", "type", "output shape", "params", report.cost, "receptive field"], rows))
    parts.append(f"output shape: {cell(report.output_shape)}")
    parts.append(f"params: {cell(report.params)}")
    if report.unused:
        modules = ", ".join(module for module, _ in report.unused)
        parts.append(
            f"        {report.unused_params:,} more held by modules the forward pass never calls ({modules}); "
            f"the modules hold {cell(report.params + report.unused_params)} in all"
        )
    if report.cost == "FLOPs":
        parts.append(f"FLOPs:  {cell(report.flops)}  (as counted: 2 per multiply-accumulate)")
    else:
        parts.append(f"{report.cost + ':':<7} {cell(report.macs)}")
        parts.append(f"FLOPs:  {cell(report.flops)}  (2 x {report.cost})")
    if report.legend:
        parts.append("symbols: " + "; ".join(f"{s} = {meaning}" for s, meaning in report.legend))
    if report.assumptions:
        parts.append("assuming:")
        parts.extend(f"  {condition_text(a.condition)}    ({a.message})" for a in report.assumptions)
    return "\n".join(parts)
