"""Plain-text output: a model summary whose cells are closed forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv.display import provides
from symconv.notation import condition_text, to_text
from symconv.render.shorthand import abbreviations, grouped, shorten
from symconv.report import Report


def cell(expr: Any) -> str:
    """One table cell: integers with thousands separators, expressions as text, shapes without grouping."""
    if expr is None:
        return "-"
    if isinstance(expr, tuple):
        return shape_text(expr)
    expr = sp.sympify(expr)
    return f"{int(expr):,}" if expr.is_Integer else to_text(expr)


def shape_text(shape: tuple) -> str:
    """``(2048, 1, 1)``, ``(10,)``: a separator inside a shape would read as another axis."""
    items = [to_text(sp.sympify(d)) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


BREAKS = (" + ", " - ", "; ", ", ", "*", ".", " ")
"""Where a long cell may break, best first: between terms, items, factors, name parts, words."""


def _depths(text: str) -> list[int]:
    """The parenthesis depth before each character."""
    depth, found = 0, []
    for character in text:
        found.append(depth)
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(character, 0)
    return found


def _cut(text: str, width: int) -> int:
    """Where to end the first line: the last good break within ``width``, outside parentheses if possible."""
    depths = _depths(text)
    for outside in (True, False):
        for mark in BREAKS:
            best = -1
            start = text.find(mark, 1)
            while (
                0 < start and start + (len(mark) if mark.strip() in ("", ",", ";", "*", ".") else 1) <= width
            ):
                if not outside or depths[start] == 0:
                    best = start
                start = text.find(mark, start + 1)
            if best > 0:
                return best + (len(mark) if mark.strip() in ("", ",", ";", "*", ".") else 1)
    return width


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``, broken between terms rather than inside a floor."""
    if width <= 0 or len(text) <= width:
        return [text]
    lines = []
    while len(text) > width:
        cut = _cut(text, width)
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*lines, text] if text else lines


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], width: int | None = None, keep: Sequence[int] = ()
) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header.

    Within ``width``, the widest columns wrap their cells onto continuation
    lines, widest first, down to 10 characters each; the columns in ``keep`` never wrap.
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if width is not None:
        floors = [
            widths[i] if i in keep else min(widths[i], max(10, *(len(word) for word in header[i].split())))
            for i in range(len(widths))
        ]
        while sum(widths) + 2 * (len(widths) - 1) > width:
            shrinkable = [i for i in range(len(widths)) if widths[i] > floors[i]]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1  # the widest gives one column at a time

    def lines(r: Sequence[str]) -> list[str]:
        wrapped = [wrap(c, w) for c, w in zip(r, widths, strict=True)]
        height = max(map(len, wrapped))
        return [
            "  ".join(
                (w[k] if k < len(w) else "").ljust(size) for w, size in zip(wrapped, widths, strict=True)
            ).rstrip()
            for k in range(height)
        ]

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([*lines(header), rule, *(line for r in rows for line in lines(r))])


PART_HEADINGS = {"forward": "forward MACs", "input gradient": "input grad", "weight gradient": "weight grad"}
"""Column headings of a split MACs column (``--pass backward`` or ``training``)."""
PART_TOTALS = {
    "forward": "forward pass",
    "input gradient": "input gradients (dL/dx)",
    "weight gradient": "weight gradients (dL/dW)",
}


def _frozen(report: Report) -> str:
    """The frozen layers: a whole stage by its name (``layer1``), otherwise each layer."""
    stages: dict[str, list] = {}
    for row in report.rows:
        if row.params != 0:
            stages.setdefault(row.name.split(".")[0], []).append(row)
    names = []
    for stage, rows in stages.items():
        if all(not r.trainable for r in rows):
            names.append(stage)
        else:
            names += [r.name for r in rows if not r.trainable]
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def units(value: sp.Expr) -> str:
    """``25,557,032 (25.6 M)``: exact, then in units for a reader."""
    value = sp.sympify(value)
    if not value.is_Integer or abs(value) < 10**6:
        return cell(value)
    number = int(value)
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6)):
        if abs(number) >= size:
            return f"{number:,} ({number / size:.3g} {unit})"
    return cell(value)


def labelled(label: str, text: str, width: int | None) -> list[str]:
    """``label text`` with the text wrapped under itself."""
    indent = " " * len(label)
    if width is None:
        return [label + text]
    pieces = wrap(text, max(20, width - len(label)))
    return [label + pieces[0], *(indent + piece for piece in pieces[1:])]


@provides("report.text")
def render_report(report: Report, width: int | None = None, depth: int | None = None) -> str:
    """The derive table; within ``width`` columns if given, one row per group of ``depth`` name parts."""
    short = abbreviations(report)
    groups = grouped(report, depth)
    split = [label for label, _ in report.parts]
    rows = [
        [
            group.name,
            group.kind,
            cell(shorten(group.output_shape, short)),
            cell(shorten(group.params, short)),
            *(
                [cell(shorten(dict(group.parts).get(label, 0), short)) for label in split]
                if split
                else [cell(shorten(group.macs, short))]
            ),
            cell(group.receptive_field),
        ]
        for group in groups
    ]
    parts = []
    if report.name:
        parts.append(report.name)
    parts.append(f"input: {cell(report.input_shape)}  (channels first)")
    if report.values:
        parts.append("at: " + ", ".join(f"{s} = {v}" for s, v in report.values))
    header = [
        "layer",
        "type" if depth is None else "layers",
        "output shape",
        "params",
        *([PART_HEADINGS[label] for label in split] if split else [report.cost]),
        "RF",
    ]
    parts.append(table(header, rows, width, keep=(1, len(header) - 1)))
    parts += labelled("output shape: ", cell(report.output_shape), width)
    if report.non_trainable_params == 0:
        parts += labelled("params: ", units(shorten(report.params, short)) + ", all trainable", width)
    else:
        parts += labelled("params: ", units(shorten(report.params, short)), width)
        parts += labelled(
            "        ",
            f"trainable {units(report.trainable_params)}, non-trainable {units(report.non_trainable_params)}"
            f" (frozen: {_frozen(report)})",
            width,
        )
    if report.unused:
        modules = ", ".join(module for module, _ in report.unused)
        parts += labelled(
            "        ",
            f"{report.unused_params:,} more held by modules the forward pass never calls ({modules}); "
            f"the modules hold {cell(report.params + report.unused_params)} in all",
            width,
        )
    if report.cost.startswith("FLOPs"):
        parts += labelled(
            "FLOPs:  ", f"{units(report.flops)}  (as counted: 2 per multiply-accumulate)", width
        )
    else:
        parts += labelled(f"{report.cost + ':':<7} ", units(shorten(report.macs, short)), width)
        for label, value in report.parts:
            parts += labelled(f"  {PART_TOTALS[label]}: ", units(shorten(value, short)), width)
        parts += labelled("FLOPs:  ", f"{units(shorten(report.flops, short))}  (2 x {report.cost})", width)
    if short:
        parts.append("where:")
        for size, name in short.items():
            parts += labelled(f"  {name} = ", to_text(size), width)
    if report.legend:
        parts += labelled("symbols: ", "; ".join(f"{s} = {meaning}" for s, meaning in report.legend), width)
    if report.assumptions:
        parts.append("assuming:")
        for a in report.assumptions:
            parts += labelled("  ", f"{condition_text(a.condition)}    ({a.message})", width)
    return "\n".join(parts)
