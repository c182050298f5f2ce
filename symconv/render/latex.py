r"""LaTeX for papers: booktabs tables, textbook formulas, aligned derivations.

Every function returns a fragment to ``\input`` into a paper; :func:`standalone`
wraps any fragment into a complete document (packages: amsmath, booktabs,
longtable, array, geometry — all in TeX Live's ``latex-base`` and
``latex-recommended``). Formulas come from
:class:`symconv.notation.MathPrinter` (floors over one fraction,
``\cdot`` products) with symbol names made textbook-like: ``k1`` as ``k_{1}``,
``alpha`` as ``\alpha``, ``C_in`` as ``C_{\mathrm{in}}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symconv.display import provides
from symconv.exercises import Exercise
from symconv.explain import Derivation
from symconv.notation import MathPrinter, textbook_names
from symconv.prove import Proof
from symconv.render.shorthand import abbreviations, shorten
from symconv.report import Report
from symconv.scaling import Scaling

PACKAGES = ("amsmath", "booktabs", "longtable", "array")
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
}


def escape(text: str) -> str:
    """Plain text made safe for LaTeX."""
    return "".join(_SPECIAL.get(c, c) for c in str(text))


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
    return MathPrinter(
        {"mul_symbol": "dot", "symbol_names": {**textbook_names(expr), **(names or {})}}
    ).doprint(expr)


def number(value: int) -> str:
    """An integer with thousands separators, for math mode: ``49{,}378``."""
    return f"{value:,}".replace(",", "{,}")


def _name(text: str) -> str:
    return r"\texttt{" + escape(text).replace(".", r".\allowbreak{}") + "}"


def _cell(expr: Any) -> str:
    return "--" if expr is None else f"${math(expr)}$"


def report_table(
    report: Report, columns: Sequence[str] = ("activations", "receptive_field"), values: Report | None = None
) -> str:
    """A booktabs ``longtable``: one row per layer, blocks as groups, totals, legend."""
    short = abbreviations(report)
    optional = [c for c in columns if c in ("activations", "receptive_field")]
    header = ["layer", "output shape", "parameters", "MACs"]
    header += [{"activations": "activations", "receptive_field": "RF"}[c] for c in optional]
    if values is not None:
        header += ["MACs at values"]
    weights = {
        "layer": 16,
        "output shape": 16,
        "parameters": 15,
        "MACs": 22,
        "activations": 15,
        "RF": 7,
        "MACs at values": 15,
    }
    total = sum(weights[h] for h in header)
    column = r">{\raggedright\arraybackslash}p{\dimexpr %.3f\linewidth-2\tabcolsep\relax}"
    spec = "@{}" + "".join(column % (weights[h] / total) for h in header) + "@{}"
    lines = [
        r"\begingroup\small",
        rf"\begin{{longtable}}{{{spec}}}",
        r"\toprule",
        " & ".join(rf"\textbf{{{h}}}" for h in header) + r" \\",
        r"\midrule",
        r"\endhead",
        r"\bottomrule",
        r"\endfoot",
    ]
    group = None
    numeric_rows = values.rows if values is not None else [None] * len(report.rows)
    for row, at in zip(report.rows, numeric_rows, strict=True):
        prefix = row.name.rsplit(".", 1)[0] if "." in row.name else None
        if prefix != group:
            if prefix is not None:
                lines.append(
                    rf"\addlinespace\multicolumn{{{len(header)}}}{{@{{}}l}}{{\textit{{{escape(prefix)}}}}} \\"
                )
            group = prefix
        label = row.name.rsplit(".", 1)[-1] if prefix else row.name
        cells = [
            _name(label),
            _cell(shorten(row.output_shape, short)),
            _cell(shorten(row.params, short)),
            _cell(shorten(row.macs, short)),
        ]
        cells += [_cell(shorten(getattr(row, c), short)) for c in optional]
        if at is not None:
            cells.append(_cell(at.macs))
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\midrule")
    totals = [
        r"\textbf{total}",
        _cell(shorten(report.output_shape, short)),
        _cell(shorten(report.params, short)),
        _cell(shorten(report.macs, short)),
    ]
    totals += ["" for _ in optional]
    if values is not None:
        totals.append(_cell(values.macs))
    lines.append(" & ".join(totals) + r" \\")
    lines.append(r"\end{longtable}")
    lines.append(r"\endgroup")
    if short:
        defined = ", ".join(f"${math(symbol)} = {math(size)}$" for size, symbol in short.items())
        lines.append(rf"\noindent where {defined}.\par")
    if report.legend:
        legend = "; ".join(f"${math(sp.Symbol(s))}$: {escape(meaning)}" for s, meaning in report.legend)
        lines.append(rf"\noindent Symbols: {legend}.")
    if values is not None and values.values:
        shown = ", ".join(f"${math(sp.Symbol(str(s)))} = {math(v)}$" for s, v in values.values)
        lines.append(rf"\par\noindent Values: {shown}.")
    if report.assumptions:
        conditions = "; ".join(f"${math(a.condition)}$" for a in report.assumptions)
        lines.append(rf"\par\noindent Valid when {conditions}.")
    return "\n".join(lines) + "\n"


def derivations(items: Sequence[Derivation], legend: Sequence[tuple[str, str]] = ()) -> str:
    r"""Each derivation as ``align*`` with numbered notes; rules and sources listed beneath."""
    parts = []
    for derivation in items:
        what = {"shape": "output shape", "params": "parameters", "macs": "multiply-accumulates"}[
            derivation.quantity
        ]
        parts.append(rf"\paragraph{{{_name(derivation.layer)} ({escape(derivation.kind)}), {what}.}}")
        rows = []
        for index, step in enumerate(derivation.steps, start=1):
            left = math(step.left) if index == 1 else ""
            right = step.written[1] if step.written else math(step.right)
            rows.append(rf"{left} &= {right} && \text{{({index})}}")
        parts.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        notes = []
        for index, step in enumerate(derivation.steps, start=1):
            text = escape(step.rule)
            if step.source:
                text += rf" --- \emph{{{escape(step.source)}}}"
            if step.checked and step.checked != "definition":
                text += f" (checked: {escape(step.checked)})"
            notes.append(rf"\item[({index})] {text}")
        parts.append("\\begin{itemize}\\small\\raggedright\n" + "\n".join(notes) + "\n\\end{itemize}")
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
    parts = [rf"\noindent\textbf{{Claim.}} $ {claim} $"]
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


def exercise(item: Exercise) -> str:
    parts = [
        rf"\paragraph{{Exercise ({escape(item.kind)}, seed {item.seed}).}} {escape(item.question)}",
        r"\paragraph{Solution.}",
        r"\begin{enumerate}",
    ]
    parts += [rf"\item {escape(line)}" for line in item.solution]
    parts += [
        r"\end{enumerate}",
        r"\noindent Answers: " + ", ".join(f"{escape(k)} = {escape(v)}" for k, v in item.answers) + ".",
        rf"\par\noindent Checked: {escape(item.checked)}.",
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
