"""What every table of a report shares: short names for spatial sizes (rows grouped by depth: symconv.report)."""

from __future__ import annotations

from typing import Any

import sympy as sp

from symconv.report import GroupRow, Report, grouped

AXIS_LETTERS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def abbreviations(report: Report) -> dict[sp.Expr, sp.Symbol]:
    """Short names ``H_1, W_1, ...`` for the spatial sizes that are formulas, in order of appearance.

    Authors write a table as ``9408 H_1 W_1`` with ``H_1 = floor((H - 1)/2) + 1``
    defined once beneath it; a table cell cannot hold the expanded products.
    """
    taken = {s.name for s in report.free_symbols()}
    found: dict[sp.Expr, sp.Symbol] = {}
    counters: dict[str, int] = {}
    for row in report.rows:
        spatial = row.output_shape[1:]
        letters = AXIS_LETTERS.get(len(spatial), ())
        for letter, size in zip(letters, spatial, strict=False):
            size = sp.sympify(size)
            if size.is_Atom or size in found:
                continue
            counters[letter] = counters.get(letter, 0) + 1
            name = f"{letter}_{counters[letter]}"
            while name in taken:
                name = "s" + name
            found[size] = sp.Symbol(name)
    return found


def shorten(expr: Any, short: dict[sp.Expr, sp.Symbol]) -> Any:
    if expr is None or not short:
        return expr
    if isinstance(expr, tuple):
        return tuple(shorten(e, short) for e in expr)
    return sp.sympify(expr).xreplace(short)


__all__ = ["AXIS_LETTERS", "GroupRow", "abbreviations", "grouped", "shorten"]
