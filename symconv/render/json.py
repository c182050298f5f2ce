"""JSON output: the documented objects of every command, expressions as strings the size parser reads back."""

from __future__ import annotations

import json
from typing import Any

import sympy as sp

from symconv.notation import to_text
from symconv.report import Report


def value(expr: Any) -> Any:
    """A JSON value for an expression: an integer when it is one, else its text."""
    if expr is None:
        return None
    if isinstance(expr, tuple):
        return [value(e) for e in expr]
    expr = sp.sympify(expr)
    return int(expr) if expr.is_Integer else to_text(expr)


def report_data(report: Report) -> dict[str, Any]:
    """The ``derive --format json`` object."""
    return {
        "name": report.name,
        "input": value(report.input_shape),
        "layers": [
            {
                "name": row.name,
                "type": row.kind,
                "output_shape": value(row.output_shape),
                "params": value(row.params),
                "macs": value(row.macs),
                "activations": value(row.activations),
                "receptive_field": value(row.receptive_field),
                "jump": value(row.jump),
                **({"trainable": False} if not row.trainable else {}),
                **({"macs_parts": {label: value(v) for label, v in row.parts}} if row.parts else {}),
            }
            for row in report.rows
        ],
        "output_shape": value(report.output_shape),
        "params": value(report.params),
        "trainable_params": value(report.trainable_params),
        "non_trainable_params": value(report.non_trainable_params),
        "macs": value(report.macs),
        **({"macs_parts": {label: value(v) for label, v in report.parts}} if report.parts else {}),
        "flops": value(report.flops),
        "cost": report.cost,
        "activations": value(report.activations),
        "assumptions": [to_text(a.condition) for a in report.assumptions],
        "unused_params": [{"module": module, "params": count} for module, count in report.unused],
        "values": {str(symbol): value(v) for symbol, v in report.values},
    }


def render_report(report: Report) -> str:
    return json.dumps(report_data(report), indent=2)
