r"""LaTeX for papers: booktabs tables, textbook formulas, aligned derivations.

Every function returns a fragment to ``\input`` into a paper, whose first
lines name the packages it needs (``% needs \usepackage{...}``): a table is a
``tabularx`` that fits the ``table`` or ``table*`` float it is set in, in one-
or two-column documents (a ``longtable`` on request); :func:`standalone` wraps
any fragment into a complete document. All packages are in TeX Live's
``latex-base``, ``latex-required`` and ``latex-recommended``. Formulas come from
:class:`symconv.notation.MathPrinter` (juxtaposed factors, grouped digits,
floors over one fraction) with symbol names made textbook-like: ``k1`` as
``k_{1}``, ``alpha`` as ``\alpha``, ``C_in`` as ``C_{\mathrm{in}}``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv.display import provides
from symconv.exercises import Exercise
from symconv.explain import Derivation
from symconv.notation import MathPrinter, prose_math, sum_pieces, textbook_names
from symconv.prove import Proof
from symconv.render.shorthand import abbreviations, grouped, shorten
from symconv.report import Report
from symconv.scaling import Scaling

PACKAGES = ("amsmath", "booktabs", "tabularx", "longtable", "array")
RELATIONS = {"==": "=", "=": "=", "!=": r"\neq", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",  # without T1 encoding a bare < prints as an inverted exclamation mark
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "ᵀ": r"\textsuperscript{T}",
    "²": r"\textsuperscript{2}",
    "×": r"\ensuremath{\times}",
    "·": r"\ensuremath{\cdot}",
    "−": "-",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≠": r"\ensuremath{\neq}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}",
    "⌊": r"\ensuremath{\lfloor}",
    "⌋": r"\ensuremath{\rfloor}",
    "⌈": r"\ensuremath{\lceil}",
    "⌉": r"\ensuremath{\rceil}",
    "α": r"\ensuremath{\alpha}",
    "ρ": r"\ensuremath{\rho}",
    "√": r"\ensuremath{\surd}",
}


def escape(text: str) -> str:
    """Plain text made safe for LaTeX."""
    return "".join(_SPECIAL.get(c, c if c < "\u0100" else "?") for c in str(text))


def math(expr: Any, names: dict[sp.Symbol, str] | None = None) -> str:
    """An expression as LaTeX math (no delimiters); ``names`` overrides how symbols print."""
    if isinstance(expr, (tuple, list)):
        parts = [math(e, names) for e in expr]
        parts = [
            rf"\left({p}\right)" if isinstance(sp.sympify(e), sp.Add) else p
            for p, e in zip(parts, expr, strict=True)
        ]
        return r" \times ".join(parts)
    expr = sp.sympify(expr)
    if expr.is_Integer:
        return number(int(expr))
    return MathPrinter({"symbol_names": {**textbook_names(expr), **(names or {})}}).doprint(expr)


def number(value: int) -> str:
    """An integer with thousands separators, for math mode: ``49{,}378``."""
    return f"{value:,}".replace(",", "{,}")


def _name(text: str) -> str:
    return r"\texttt{" + escape(text).replace(".", r".\allowbreak{}") + "}"


def _cell(expr: Any) -> str:
    if expr is None:
        return "--"
    if isinstance(expr, tuple):
        return "$" + r" \times ".join(math(d) for d in expr) + "$"
    return f"${math(expr)}$"


LAYOUTS = ("tabular", "longtable")
PACKAGES_FOR = {
    "tabular": ("amsmath", "booktabs", "tabularx"),
    "longtable": ("amsmath", "booktabs", "longtable", "array"),
}
TABULAR_ROWS = 40
"""A tabular longer than this many rows is summarised by stage unless a depth is asked for (a float is one page)."""
LABEL = re.compile(r"[A-Za-z0-9:._/+-]{1,100}\Z")
DEPTH_WORDS = {None: "layer", 1: "stage", 2: "block"}


def _needs(layout: str) -> str:
    return r"% needs \usepackage{" + ",".join(PACKAGES_FOR[layout]) + "}"


def report_table(
    report: Report,
    columns: Sequence[str] = (),
    values: Report | None = None,
    *,
    depth: int | None = None,
    layout: str = "tabular",
    caption: str | None = None,
    label: str | None = None,
    wide: bool = False,
) -> str:
    r"""A booktabs table of the report: one row per layer, or per group of ``depth`` name parts.

    ``layout="tabular"`` is a ``tabularx`` as wide as the line: it goes inside a
    ``table`` float (one column of a two-column paper) or ``table*`` (both
    columns; ``wide``), and with ``caption`` or ``label`` the float is written
    too. ``layout="longtable"`` breaks across pages in one-column documents.
    ``columns`` adds ``activations`` and ``receptive_field``. The packages the
    fragment needs are named in a comment at its top.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    if label is not None and not LABEL.match(label):
        raise ValueError(f"label: {label!r} is not a LaTeX label (letters, digits and : . _ / + -)")
    short = abbreviations(report)
    optional = [c for c in columns if c in ("activations", "receptive_field")]
    header = ["layer", "output", "params", report.cost]
    header += [{"activations": "activations", "receptive_field": "RF"}[c] for c in optional]
    if values is not None:
        header += ["at values"]
    groups = grouped(report, depth)
    at_values = grouped(values, depth) if values is not None else [None] * len(groups)
    body: list[list[str]] = []
    prefixes: list[str | None] = []
    for group, at in zip(groups, at_values, strict=True):
        prefix = group.name.rsplit(".", 1)[0] if "." in group.name else None
        label_text = group.name.rsplit(".", 1)[-1] if prefix else group.name
        cells = [
            _name(label_text),
            _cell(shorten(group.output_shape, short)),
            _cell(shorten(group.params, short)),
            _cell(shorten(group.macs, short)),
        ]
        extra = {"activations": group.activations, "receptive_field": group.receptive_field}
        cells += [_cell(shorten(extra[c], short)) for c in optional]
        if at is not None:
            cells.append(_cell(shorten(at.macs, short)))
        body.append(cells)
        prefixes.append(prefix)
    totals = [
        r"\textbf{total}",
        _cell(shorten(report.output_shape, short)),
        _cell(shorten(report.params, short)),
        _cell(shorten(report.macs, short)),
    ]
    totals += ["" for _ in optional]
    if values is not None:
        totals.append(_cell(shorten(values.macs, short)))
    quantities = [[*(g.params for g in groups), report.params]]
    rows = []
    group = None
    for cells, prefix in zip(body, prefixes, strict=True):
        if prefix != group:
            if prefix is not None:
                rows.append(
                    rf"\addlinespace\multicolumn{{{len(header)}}}{{@{{}}l}}{{\textit{{{escape(prefix)}}}}} \\"
                )
            group = prefix
        rows.append(" & ".join(cells) + r" \\")
    head = " & ".join(rf"\textbf{{{escape(h)}}}" for h in header) + r" \\"
    notes = _table_notes(report, values, short)
    what = DEPTH_WORDS.get(depth, f"group of {depth} name parts")
    comment = [f"% symconv: {escape(report.name or 'network')}, one row per {what}", _needs(layout)]
    if layout == "longtable":
        return "\n".join([*comment, *_longtable(header, head, rows, totals), *notes]) + "\n"
    # X columns are right-aligned and break long sums between terms; the cost column, the widest, gets the
    # larger share of the width they divide (tabularx's \hsize weights, which sum to their number)
    flexible = ["params"] * (not all(sp.sympify(q).is_Integer for q in quantities[0])) + ["cost"]
    flexible += ["activations"] * ("activations" in optional)
    numeric = (
        values is None or all(sp.sympify(g.macs).is_Integer for g in at_values) and values.macs.is_Integer
    )
    flexible += ["values"] * (not numeric)
    weights = {"params": 2, "cost": 3, "activations": 2, "values": 3}
    scale = len(flexible) / sum(weights[f] for f in flexible)

    def x(kind: str) -> str:
        share = weights[kind] * scale
        return rf">{{\raggedleft\arraybackslash\hsize={share:.3f}\hsize}}X"

    spec = "@{}ll" + (x("params") if "params" in flexible else "r") + x("cost")
    spec += "".join(x(c) if c == "activations" else "r" for c in optional)
    spec += ("r" if numeric else x("values")) * (values is not None) + "@{}"
    table = [
        r"\begingroup\footnotesize\setlength{\tabcolsep}{3pt}",
        rf"\begin{{tabularx}}{{\linewidth}}{{{spec}}}",
        r"\toprule",
        head,
        r"\midrule",
        *rows,
        r"\midrule",
        *_total_rows(totals, report, short, len(header)),
        r"\bottomrule",
        r"\end{tabularx}",
        *notes,
        r"\endgroup",
    ]
    if caption is None and label is None and not wide:
        return "\n".join([*comment, *table]) + "\n"
    environment = "table*" if wide else "table"
    framed = [rf"\begin{{{environment}}}[t]", r"\centering"]
    if caption is not None:
        framed.append(rf"\caption{{{escape(caption)}}}")
    if label is not None:
        framed.append(rf"\label{{{label}}}")
    return "\n".join([*comment, *framed, *table, rf"\end{{{environment}}}"]) + "\n"


TOTAL_TERMS = 2
"""A total of more terms than this gets a row of its own, as wide as the table, broken between terms."""


def _total_rows(totals: list[str], report: Report, short: dict, columns: int) -> list[str]:
    terms = sp.Add.make_args(sp.expand(shorten(report.macs, short)))
    if len(terms) <= TOTAL_TERMS:
        return [" & ".join(totals) + r" \\"]
    first = [*totals[:3], "", *totals[4:]]
    cost = _cell(shorten(report.macs, short))
    spanning = (
        rf"\multicolumn{{{columns}}}{{@{{}}>{{\raggedleft\arraybackslash}}p{{\linewidth}}@{{}}}}"
        rf"{{{escape(report.cost)}: {cost}}} \\"
    )
    return [" & ".join(first) + r" \\", spanning]


def _longtable(header: list[str], head: str, rows: list[str], totals: list[str]) -> list[str]:
    weights = {"layer": 16, "output shape": 16, "parameters": 15, "activations": 15, "RF": 7}
    shares = [weights.get(h, 22) for h in header]
    column = r">{\raggedright\arraybackslash}p{\dimexpr %.3f\linewidth-2\tabcolsep\relax}"
    spec = "@{}" + "".join(column % (w / sum(shares)) for w in shares) + "@{}"
    return [
        r"\begingroup\small",
        rf"\begin{{longtable}}{{{spec}}}",
        r"\toprule",
        head,
        r"\midrule",
        r"\endhead",
        r"\bottomrule",
        r"\endfoot",
        *rows,
        r"\midrule",
        " & ".join(totals) + r" \\",
        r"\end{longtable}",
        r"\endgroup",
    ]


def _table_notes(report: Report, values: Report | None, short: dict) -> list[str]:
    """The sentences beneath a table: the short names, the symbols, the values, the conditions."""
    lines = []
    if short:
        defined = ", ".join(f"${math(symbol)} = {math(size)}$" for size, symbol in short.items())
        lines.append(rf"\par\smallskip\raggedright\noindent where {defined}.\par")
    if report.legend:
        legend = "; ".join(f"${math(sp.Symbol(s))}$: {escape(meaning)}" for s, meaning in report.legend)
        lines.append(rf"\noindent Symbols: {legend}.\par")
    if values is not None and values.values:
        shown = ", ".join(f"${math(sp.Symbol(str(s)))} = {math(v)}$" for s, v in values.values)
        lines.append(rf"\noindent Values: {shown}.\par")
    if report.assumptions:
        conditions = "; ".join(f"${math(a.condition)}$" for a in report.assumptions)
        lines.append(rf"\noindent Valid when {conditions}.\par")
    return lines


LINE_CHARACTERS = 46
"""A display line holds about this many digit widths (one column of a two-column paper, 10 pt)."""
NOTE_WIDTH = 6
"""The step number at the end of an ``align*`` row, with the space before it."""


def formula_pieces(expr: Any = None, terms: Sequence[Any] | None = None) -> list[str]:
    """A right side as pieces a line may break between: the terms of a sum, in order."""
    if terms:
        return sum_pieces(terms, math, latex=True)
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Add):
        return sum_pieces(expr.as_ordered_terms(), math, latex=True)
    if isinstance(expr, sp.Mul) and printed_width(math(expr)) > LINE_CHARACTERS / 2:
        factors = [math(f) for f in expr.as_ordered_factors()]
        factors = [
            rf"\left({f}\right)" if isinstance(g, sp.Add) else f
            for f, g in zip(factors, expr.as_ordered_factors(), strict=True)
        ]
        return [factors[0], *(FACTOR + f for f in factors[1:])]
    return [math(expr)]


FACTOR = "\x00"
"""Marks a piece that multiplies the one before: joined by a space, or begun on a new line with a times sign."""


def printed_width(piece: str) -> float:
    """Roughly how wide a LaTeX piece prints, in digit widths (an operator with its spaces is 2.5)."""
    plain = re.sub(r"\\(left|right|Bigl|Bigr|mathrm|mathtt|texttt|operatorname)\b", "", piece)
    plain = re.sub(r"\\frac", "", plain)
    plain = re.sub(r"\\[a-zA-Z]+", "M", plain)  # a Greek letter or a bracket
    plain = re.sub(r"[{}_^\s\x00]", "", plain).replace("{,}", ",")
    operators = sum(plain.count(c) for c in "+-=<>")
    capitals = sum(c.isupper() for c in plain)
    return len(plain) + 1.5 * operators + 0.6 * capitals - 0.5 * plain.count(",")


def broken(pieces: list[str], reserve: float = 0) -> list[str]:
    """Pieces gathered into lines of at most :data:`LINE_CHARACTERS` less ``reserve`` (what else the row holds)."""
    budget = LINE_CHARACTERS - reserve
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for piece in pieces:
        if current and used + printed_width(piece) > budget:
            lines.append(" ".join(current))
            current, used = [], 2.0  # the continuation's \quad
            piece = piece.replace(FACTOR, r"\times ", 1)
        current.append(piece.replace(FACTOR, ""))
        used += printed_width(piece)
    lines.append(" ".join(current))
    return lines


def _aligned_rows(left: str, relation: str, pieces: list[str], note: str, reserve: float) -> list[str]:
    r"""``left &= a + b`` then ``&\quad + c`` rows; the note number on the last."""
    lines = broken(pieces, reserve)
    rows = [rf"{left} &{relation} {lines[0]}"]
    rows += [rf"&\quad {line}" for line in lines[1:]]
    rows[-1] += rf" && \text{{{note}}}" if note else ""
    return rows


def _shortened(derivation: Derivation, short: dict) -> Derivation:
    steps = tuple(
        dataclasses.replace(
            step,
            right=shorten(step.right, short),
            terms=None if step.terms is None else tuple(shorten(t, short) for t in step.terms),
        )
        for step in derivation.steps
    )
    return dataclasses.replace(derivation, steps=steps)


def derivations(
    items: Sequence[Derivation], legend: Sequence[tuple[str, str]] = (), short: dict | None = None
) -> str:
    r"""Each derivation as ``align*`` with numbered notes, long sums broken between terms.

    ``short`` (:func:`~symconv.render.shorthand.abbreviations`) writes the sums of
    stages and the totals over ``H_1, W_1, ...``, defined once at the end.
    """
    parts = [r"% needs \usepackage{amsmath}"]
    used: set = set()
    for derivation in items:
        if short and (derivation.kind == "network" or derivation.kind.endswith(" layers")):
            derivation = _shortened(derivation, short)
            used |= {s for step in derivation.steps for s in sp.sympify(step.right).free_symbols}
        what = {"shape": "output shape", "params": "parameters", "macs": "multiply-accumulates"}[
            derivation.quantity
        ]
        parts.append(rf"\paragraph{{{_name(derivation.layer)} ({escape(derivation.kind)}), {what}.}}")
        rows = []
        reserve = (
            printed_width(math(derivation.steps[0].left)) + 2.5 + NOTE_WIDTH
        )  # the left side, "=", the note
        for index, step in enumerate(derivation.steps, start=1):
            left = math(step.left) if index == 1 else ""
            pieces = [step.written[1]] if step.written else formula_pieces(step.right, step.terms)
            rows += _aligned_rows(left, "=", pieces, f"({index})", reserve)
        parts.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        notes = []
        for index, step in enumerate(derivation.steps, start=1):
            text = escape(step.rule)
            if step.substitutions:
                text = "substitute " + ", ".join(f"${math(k)} = {math(v)}$" for k, v in step.substitutions)
            if step.source:
                text += rf" --- \emph{{{escape(step.source)}}}"
            if step.checked and step.checked != "definition":
                text += f" (checked: {escape(step.checked)})"
            notes.append(rf"\item[({index})] {text}")
        parts.append("\\begin{itemize}\\small\\raggedright\n" + "\n".join(notes) + "\n\\end{itemize}")
    defined = [(size, name) for size, name in (short or {}).items() if name in used]
    if defined:
        shown = ", ".join(f"${math(name)} = {math(size)}$" for size, name in defined)
        parts.append(rf"\par\noindent where {shown}.\par")
    if legend:
        parts.append(
            r"\noindent Symbols: "
            + "; ".join(f"${math(sp.Symbol(s))}$: {escape(m)}" for s, m in legend)
            + "."
        )
    return "\n".join(parts) + "\n"


def proof(item: Proof) -> str:
    """A claim, its status, and its steps in ``align*``."""
    claim = rf"{math(item.left)} {RELATIONS[item.relation]} {math(item.right)}"
    parts = [r"% needs \usepackage{amsmath}", rf"\noindent\textbf{{Claim.}} $ {claim} $"]
    if item.assumptions:
        parts.append(r"\quad for " + ", ".join(f"${math(a)}$" for a in item.assumptions))
    parts.append(rf"\par\noindent\textbf{{Status:}} {escape(item.status)} ({escape(item.method)}).")
    if item.steps:
        rows = [
            rf"{math(s.left)} &{RELATIONS.get(s.relation, s.relation)} {math(s.right)} && \text{{({i})}}"
            for i, s in enumerate(item.steps, start=1)
        ]
        parts.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        notes = [
            rf"\item[({i})] {escape(s.rule)}" + (rf" --- \emph{{{escape(s.source)}}}" if s.source else "")
            for i, s in enumerate(item.steps, start=1)
        ]
        parts.append("\\begin{itemize}\\small\\raggedright\n" + "\n".join(notes) + "\n\\end{itemize}")
    if item.counterexample:
        shown = ", ".join(f"${math(s)} = {math(v)}$" for s, v in item.counterexample)
        parts.append(rf"\noindent\textbf{{Counterexample:}} {shown}.")
    if item.evidence:
        parts.append(rf"\noindent\textbf{{Evidence, not a proof:}} {escape(item.evidence)}.")
    return "\n".join(parts) + "\n"


def scaling(result: Scaling) -> str:
    r"""Growth table, the ``\alpha^{2}`` derivation of the quadratic layers, and the measured table."""
    alpha = math(result.factor)
    widened = ", ".join(f"${math(s)} \\to {alpha}\\,{math(s)}$" for s in result.scaled)
    parts = [
        r"% needs \usepackage{amsmath,booktabs}",
        rf"\noindent Widening {widened}.",
        r"\begin{center}",
        r"\begin{tabular}{@{}lll@{}}",
        r"\toprule",
        r"\textbf{layer} & \textbf{MACs after / before} & \textbf{degree} \\",
        r"\midrule",
    ]
    for row in (*result.layers, result.total):
        ratio = "--" if row.macs.ratio is None else f"${math(row.macs.ratio)}$"
        degree = "--" if row.macs.degree is None else str(row.macs.degree)
        parts.append(f"{_name(row.name)} & {ratio} & {degree}" + r" \\")
    parts += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    for row in result.layers:
        if row.macs.degree == 2:
            marked = {s: sp.Symbol(f"widened_{s.name}", positive=True) for s in result.scaled}
            shown = {marked[s]: rf"\left({alpha} {math(s)}\right)" for s in result.scaled}
            parts.append(
                rf"\noindent For {_name(row.name)}, the cost is the product of its input and output widths:"
            )
            parts.append(
                "\\begin{align*}\n"
                + rf"\mathrm{{MACs}} &= {math(row.macs.before)} \\"
                + "\n"
                + rf"\mathrm{{MACs}}' &= {math(row.macs.before.xreplace(marked), shown)} \\"
                + "\n"
                + rf"&= {math(row.macs.after)} = {alpha}^{{2}} \cdot \mathrm{{MACs}}"
                + "\n\\end{align*}"
            )
    for row in result.layers:
        if row.macs.degree in (0, 1) and row.macs.before != 0:
            widths = ", ".join(f"${math(w)}$" for w in row.widths) or "none"
            growth = "does not grow" if row.macs.degree == 0 else f"grows by ${alpha}$"
            parts.append(
                rf"\noindent For {_name(row.name)} only one width is widened ({widths}): its cost {growth}.\par"
            )
    if result.total.macs.degree is not None:
        parts.append(
            rf"\noindent In total the MACs grow by ${math(result.total.macs.ratio)}$, whose leading term has "
            rf"degree {result.total.macs.degree} in ${alpha}$: widening chained convolutions uniformly makes "
            r"their cost quadratic (Szegedy et al.\ 2014, section 3).\par"
        )
    parts += [
        r"\begin{center}",
        r"\begin{tabular}{@{}rrrr@{}}",
        r"\toprule",
        r"\textbf{factor} & \textbf{counted MACs} & \textbf{ratio} & \textbf{factor}$^2$ \\",
        r"\midrule",
    ]
    first = result.measured[0].macs
    for m in result.measured:
        parts.append(rf"{m.factor} & ${number(m.macs)}$ & {m.macs / first:.3f} & {m.factor**2} \\")
    parts += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    return "\n".join(parts) + "\n"


def prose(sentence: Sequence[Any]) -> str:
    """A sentence of an exercise: its words escaped, its formulas in math mode."""
    return prose_math(tuple(sentence), math, escape)


def exercise(item: Exercise) -> str:
    """The question, the worked solution as numbered sentences with typeset formulas, the answers, the evidence."""
    parts = [
        r"% needs \usepackage{amsmath}",
        r"\begingroup\raggedright",  # formulas and code names in running text: ragged, never overfull
        rf"\paragraph{{Exercise ({escape(item.kind)}, seed {item.seed}).}} {prose(item.prompt)}",
        r"\paragraph{Solution.}",
        r"\begin{enumerate}",
    ]
    parts += [rf"\item {prose(step)}" for step in item.steps]
    answers = ", ".join(
        rf"\texttt{{{escape(k)}}} = " + (f"${number(v)}$" if isinstance(v, int) else escape(str(v)))
        for k, v in item.answers
    )
    parts += [
        r"\end{enumerate}",
        rf"\noindent Answers: {answers}.",
        rf"\par\noindent Checked: {escape(item.checked)}.\par",
        r"\endgroup",
    ]
    return "\n".join(parts) + "\n"


@provides("report.latex")
def report_array(report: Report) -> str:
    r"""The report as a MathJax/KaTeX ``array`` (what notebooks show for ``_repr_latex_``)."""
    short = abbreviations(report)
    rows = [r"\text{layer} & \text{output shape} & \text{params} & \text{MACs}"]
    for row in report.rows:
        name = row.name.replace("_", r"\_")
        rows.append(
            rf"\texttt{{{name}}} & {math(shorten(row.output_shape, short))} & {math(shorten(row.params, short))} & "
            rf"{math(shorten(row.macs, short))}"
        )
    rows.append(
        rf"\text{{total}} & {math(shorten(report.output_shape, short))} & {math(shorten(report.params, short))} "
        rf"& {math(shorten(report.macs, short))}"
    )
    body = r"\begin{array}{llll}" + r" \\ ".join(rows) + r"\end{array}"
    if short:
        body += r"\quad " + r",\ ".join(f"{math(symbol)} = {math(size)}" for size, symbol in short.items())
    return f"$${body}$$"


@provides("derivation.latex")
def aligned(derivation: Derivation) -> str:
    r"""One derivation as ``$$\begin{aligned} ... \end{aligned}$$``."""
    rows = []
    for index, step in enumerate(derivation.steps):
        left = math(step.left) if index == 0 else ""
        rows.append(f"{left} &= {step.written[1] if step.written else math(step.right)}")
    return "$$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$$"


def standalone(fragment: str, title: str | None = None) -> str:
    """A complete document around a fragment."""
    head = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        *(rf"\usepackage{{{p}}}" for p in PACKAGES),
        r"\begin{document}",
    ]
    if title:
        head.append(rf"\section*{{{escape(title)}}}")
    return "\n".join(head) + "\n" + fragment + "\\end{document}\n"
