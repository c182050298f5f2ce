"""What every table of a report shares: short names for spatial sizes, and rows grouped by depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symconv.report import Report, tidy

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


@dataclass(frozen=True)
class GroupRow:
    """Consecutive layers under one name prefix, summed: a stage or a block, or one layer."""

    name: str
    kind: str
    output_shape: tuple
    params: sp.Expr
    macs: sp.Expr
    receptive_field: Any
    layers: int


def grouped(report: Report, depth: int | None) -> list[GroupRow]:
    """Rows summed by the first ``depth`` parts of their dotted names (None: every layer).

    ``layer1.0.conv1`` is in group ``layer1`` at depth 1 and ``layer1.0`` at
    depth 2, as torchinfo's ``depth`` and the ResNet paper's Table 1 show a network.
    """
    groups: list[list] = []
    for row in report.rows:
        key = row.name if depth is None else ".".join(row.name.split(".")[:depth])
        if groups and groups[-1][0] == key:
            groups[-1][1].append(row)
        else:
            groups.append([key, [row]])
    result = []
    for key, rows in groups:
        last = rows[-1]
        kind = last.kind if len(rows) == 1 else f"{len(rows)} layers"
        result.append(
            GroupRow(
                key,
                kind,
                last.output_shape,
                tidy(sp.Add(*(r.params for r in rows))),
                tidy(sp.Add(*(r.macs for r in rows))),
                last.receptive_field,
                len(rows),
            )
        )
    return result
