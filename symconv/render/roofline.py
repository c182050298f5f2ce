"""Rendering of the roofline: text (a table that fits the terminal), JSON, and a LaTeX table."""

from __future__ import annotations

import json
from typing import Any

import sympy as sp

from symconv.notation import to_text
from symconv.render.json import value
from symconv.render.shorthand import shorten
from symconv.render.text import cell, table, wrap
from symconv.roofline import LayerRoofline, Roofline

BOUND_WORDS = {"memory": "memory", "compute": "compute", "depends": "depends"}


def _intensity(expr: sp.Expr) -> str:
    """An intensity: rounded to three places when it is a number (``~61.290``; JSON holds it exactly), else its formula."""
    expr = sp.sympify(expr)
    if expr.is_Rational:
        return f"~{float(expr):,.3f}" if not expr.is_Integer else f"{int(expr):,}"  # JSON keeps the fraction
    return to_text(expr)


def _batch(row: LayerRoofline, short: dict) -> str:
    """From which batch the layer is compute-bound; a layer without weights is on one side at every batch."""
    if not row.batch_matters:
        return {"compute": "any", "memory": "never"}.get(row.bound, "any or never")
    return "never" if row.compute_bound_batch is None else cell(shorten(row.compute_bound_batch, short))


def _device(result: Roofline) -> str:
    def shown(expr: sp.Expr, unit: str) -> str:
        expr = sp.sympify(expr)
        return f"{int(expr):,} {unit}" if expr.is_Integer else f"{to_text(expr)} {unit}"

    return f"peak {shown(result.peak, 'operations/s')}, bandwidth {shown(result.bandwidth, 'bytes/s')}"


def roofline_text(result: Roofline, width: int | None = None, short: dict | None = None) -> str:
    short = short or {}
    header = ["layer", "type", "FLOPs", "bytes", "FLOP/byte", "bound", "compute-bound from B ="]
    rows = [
        [
            row.name,
            row.kind,
            cell(shorten(row.flops, short)),
            cell(shorten(row.bytes, short)),
            _intensity(shorten(row.intensity, short)),
            BOUND_WORDS[row.bound],
            _batch(row, short),
        ]
        for row in result.layers
    ]
    parts = []
    if result.name:
        parts.append(result.name)
    parts.append(
        f"batch {cell(result.batch)}, {result.dtype} ({result.dtype_bytes} bytes), {_device(result)}"
    )
    parts.append(f"ridge point: {_intensity(result.ridge)} FLOP/byte (below it a layer is memory-bound)")
    parts.append(table(header, rows, width, keep=(1, 5)))
    parts.append(f"total FLOPs: {cell(shorten(result.flops, short))}")
    parts.append(f"total bytes: {cell(shorten(result.bytes, short))}")
    parts.append(
        f"intensity:   {_intensity(shorten(result.intensity, short))} FLOP/byte ({result.bound}-bound)"
    )
    memory_bound = result.memory_bound
    parts.append(f"memory-bound layers: {len(memory_bound)} of {len(result.layers)}")
    if short:
        parts.append("where:")
        parts += [f"  {name} = {to_text(size)}" for size, name in short.items()]
    parts.append("simplifications:")
    for line in result.simplifications:
        parts += [f"  - {piece}" for piece in wrap(line, (width or 200) - 4)]
    return "\n".join(parts) + "\n"


def roofline_data(result: Roofline) -> dict[str, Any]:
    return {
        "name": result.name,
        "batch": value(result.batch),
        "dtype": result.dtype,
        "dtype_bytes": result.dtype_bytes,
        "peak": value(result.peak),
        "bandwidth": value(result.bandwidth),
        "ridge": value(result.ridge),
        "layers": [
            {
                "name": row.name,
                "type": row.kind,
                "flops": value(row.flops),
                "weight_bytes": value(row.weight_bytes),
                "input_bytes": value(row.input_bytes),
                "output_bytes": value(row.output_bytes),
                "bytes": value(row.bytes),
                "intensity": value(row.intensity),
                "bound": row.bound,
                "compute_bound_batch": value(row.compute_bound_batch),
                "batch_matters": row.batch_matters,
            }
            for row in result.layers
        ],
        "flops": value(result.flops),
        "bytes": value(result.bytes),
        "intensity": value(result.intensity),
        "attainable": value(result.attainable),
        "bound": result.bound,
        "memory_bound_layers": list(result.memory_bound),
        "values": {k: value(v) for k, v in result.values},
        "simplifications": list(result.simplifications),
    }


def roofline_json(result: Roofline, width: int | None = None, short: dict | None = None) -> str:
    return json.dumps(roofline_data(result), indent=2)


def roofline_latex(result: Roofline, width: int | None = None, short: dict | None = None) -> str:
    """A ``tabularx`` like the derive table: one row per layer, right-aligned numbers, the model beneath."""
    from symconv.render.latex import _name, escape, math

    short = short or {}

    def m(expr: Any) -> str:
        return "--" if expr is None else f"${math(shorten(expr, short))}$"

    def i(expr: sp.Expr) -> str:
        expr = sp.sympify(shorten(expr, short))
        return f"${float(expr):,.2f}$".replace(",", "{,}") if expr.is_Rational else f"${math(expr)}$"

    right = r">{\raggedleft\arraybackslash}X"  # a formula breaks between its terms
    columns = [
        [*(r.flops for r in result.layers), result.flops],
        [*(r.bytes for r in result.layers), result.bytes],
    ]
    numbers = [all(sp.sympify(v).is_Integer for v in column) for column in columns]
    show_intensity = all(sp.sympify(r.intensity).is_Rational for r in result.layers)
    if show_intensity:  # a quotient of two formulas does not fit a cell: then the reader divides the columns
        numbers.append(True)
    spec = "l" + "".join("r" if plain else right for plain in numbers) + "l"
    environment = "tabularx" if "X" in spec else "tabular*"
    opening = (
        rf"\begin{{tabularx}}{{\linewidth}}{{@{{}}{spec}@{{}}}}"
        if "X" in spec
        else rf"\begin{{tabular*}}{{\linewidth}}{{@{{\extracolsep{{\fill}}}}{spec}@{{}}}}"
    )
    header = ["layer", "FLOPs", "bytes", *(["FLOP/byte"] if show_intensity else []), "bound"]

    def cells(name: str, flops: Any, moved: Any, intensity: Any, bound: str) -> str:
        shown = [name, m(flops), m(moved), *([i(intensity)] if show_intensity else []), bound]
        return " & ".join(shown) + r" \\"

    divide = "" if show_intensity else " A row's intensity is its FLOPs over its bytes."
    lines = [
        f"% symconv roofline: {escape(result.name or 'network')}, batch {result.batch}, {result.dtype}",
        r"% needs \usepackage{amsmath,booktabs,tabularx}",
        r"\begingroup\footnotesize\setlength{\tabcolsep}{3pt}",
        opening,
        r"\toprule",
        " & ".join(rf"\textbf{{{h}}}" for h in header) + r" \\",
        r"\midrule",
        *(cells(_name(r.name), r.flops, r.bytes, r.intensity, r.bound) for r in result.layers),
        r"\midrule",
        cells(r"\textbf{total}", result.flops, result.bytes, result.intensity, result.bound),
        r"\bottomrule",
        rf"\end{{{environment}}}",
        rf"\par\smallskip\raggedright\noindent{divide} Ridge point ${math(result.ridge)}$ FLOP/byte"
        rf" (peak ${math(result.peak)}$, bandwidth ${math(result.bandwidth)}$); attainable"
        rf" $\min(P, I\beta)$. Assumed: {escape('; '.join(result.simplifications))}.\par",
    ]
    if short:
        defined = ", ".join(f"${math(name)} = {math(size)}$" for size, name in short.items())
        lines.append(rf"\noindent where {defined}.\par")
    lines.append(r"\endgroup")
    return "\n".join(lines) + "\n"


ROOFLINE_FORMATS = {"text": roofline_text, "json": roofline_json, "latex": roofline_latex}
