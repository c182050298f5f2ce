"""Rendering of scaling results: text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from symconv.display import provides
from symconv.notation import plain, prose_markdown, to_latex
from symconv.render.json import value
from symconv.render.text import cell, table
from symconv.scaling import ScaledRow, Scaling


def _row_data(row: ScaledRow) -> dict:
    return {
        "name": row.name,
        "params_ratio": value(row.params.ratio),
        "params_degree": row.params.degree,
        "macs_ratio": value(row.macs.ratio),
        "macs_degree": row.macs.degree,
        "activations_ratio": value(row.activations.ratio),
        "activations_degree": row.activations.degree,
        "macs_before": value(row.macs.before),
        "macs_after": value(row.macs.after),
    }


def scaling_json(result: Scaling) -> str:
    data = {
        "factor": str(result.factor),
        "symbols": [str(s) for s in result.scaled],
        "layers": [_row_data(r) for r in result.layers],
        "total": _row_data(result.total),
        "measured": [
            {
                "factor": m.factor,
                "macs": m.macs,
                "expected_macs": m.expected_macs,
                "seconds": round(m.seconds, 6),
                "at": {str(s): value(v) for s, v in m.values},
            }
            for m in result.measured
        ],
        "explanation": [plain(sentence) for sentence in result.explanation],
    }
    return json.dumps(data, indent=2)


def _measured_rows(result: Scaling) -> list[list[str]]:
    first = result.measured[0]
    return [
        [
            str(m.factor),
            f"{m.macs:,}",
            f"{m.macs / first.macs:.3f}" if first.macs else "-",
            f"{m.factor**2}",
            f"{m.seconds * 1e3:.2f} ms",
            "ok" if m.macs == m.expected_macs else "MISMATCH",
        ]
        for m in result.measured
    ]


def _base(result: Scaling) -> str:
    """The sizes at factor 1, where the measured table starts."""
    return ", ".join(f"{s} = {v}" for s, v in result.measured[0].values) if result.measured else "(none)"


def scaling_text(result: Scaling) -> str:
    alpha = result.factor
    header = ["layer", "params ratio", "deg", "MACs ratio", "deg"]
    rows = [
        [r.name, cell(r.params.ratio), cell(r.params.degree), cell(r.macs.ratio), cell(r.macs.degree)]
        for r in (*result.layers, result.total)
    ]
    widened = ", ".join(f"{s} -> {alpha}*{s}" for s in result.scaled)
    parts = [
        f"widening {widened}",
        table(header, rows),
        "",
        *(plain(sentence) for sentence in result.explanation),
        "",
        f"measured by the NumPy backend (counted MACs, fast mode) from the base sizes {_base(result)}, "
        "the widened symbols multiplied by each factor:",
        table(["factor", "MACs", "ratio", "factor^2", "time", "formula"], _measured_rows(result)),
    ]
    return "\n".join(parts)


@provides("scaling.markdown")
def scaling_markdown(result: Scaling) -> str:
    alpha = to_latex(result.factor)
    widened = ", ".join(f"${to_latex(s)} \\to {alpha} {to_latex(s)}$" for s in result.scaled)
    lines = [
        f"Widening {widened}:",
        "",
        "| layer | params ratio | degree | MACs ratio | degree |",
        "|---|---|---|---|---|",
    ]
    for r in (*result.layers, result.total):

        def show(x):
            return "–" if x is None else f"${to_latex(x)}$"

        lines.append(
            f"| `{r.name}` | {show(r.params.ratio)} | {cell(r.params.degree)} | {show(r.macs.ratio)} | "
            f"{cell(r.macs.degree)} |"
        )
    lines += [
        "",
        *[f"- {prose_markdown(sentence)}" for sentence in result.explanation],
        "",
        "| factor | counted MACs | ratio | factor² | time | formula |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _measured_rows(result)]
    return "\n".join(lines) + "\n"


SCALING_FORMATS: dict[str, Callable[[Scaling], str]] = {
    "text": scaling_text,
    "json": scaling_json,
    "markdown": scaling_markdown,
}
