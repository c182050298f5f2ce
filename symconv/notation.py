"""Printing single expressions: plain text that sympy reads back, and LaTeX.

sympy distributes a numeric denominator over a sum, so ``floor((n - 1)/2)``
prints as ``floor(n/2 - 1/2)``. These printers put every floor's argument back
over one denominator, the way textbooks and PyTorch's documentation write it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter


def _over_one_denominator(argument: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    numerator, denominator = sp.fraction(sp.together(argument))
    return sp.expand(numerator), denominator


class TextPrinter(StrPrinter):
    """``floor((n - 1)/32) + 1``: readable, and ``sympy.sympify`` reads it back."""

    def _print_rounding(self, name: str, argument: sp.Expr) -> str:
        numerator, denominator = _over_one_denominator(argument)
        inner = self._print(numerator)
        if denominator == 1:
            return f"{name}({inner})"
        if isinstance(numerator, sp.Add):
            inner = f"({inner})"
        shown = self._print(denominator)
        if not (denominator.is_Atom):
            shown = f"({shown})"
        return f"{name}({inner}/{shown})"

    def _print_floor(self, expr: sp.floor) -> str:
        return self._print_rounding("floor", expr.args[0])

    def _print_ceiling(self, expr: sp.ceiling) -> str:
        return self._print_rounding("ceiling", expr.args[0])

    def _print_Max(self, expr: sp.Max) -> str:  # as symconv's size parser reads it
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sp.Min) -> str:
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"


class MathPrinter(LatexPrinter):
    """LaTeX as an author writes it: ``25 k_{1} k_{2} m n``, ``9{,}408``, floors over one fraction.

    Factors are juxtaposed (a centre dot only between two numbers), integers of
    four digits or more are grouped in thousands, and a floor keeps its argument
    as ``\\left\\lfloor \\frac{n - 1}{2} \\right\\rfloor``.
    """

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__({"mul_symbol": None, **(settings or {})})

    def _print_Mul(self, expr: sp.Mul) -> str:
        coefficient, rest = expr.as_coeff_Mul()
        if (
            coefficient.is_Integer
            and abs(coefficient) >= 1000
            and not rest.is_Number
            and sp.fraction(rest)[1] == 1  # a quotient keeps its coefficient in the numerator
        ):
            # 9{,}408\,H_{1} W_{1}: a thin space parts the number from the symbols, as authors set it
            from sympy.printing.precedence import PRECEDENCE

            body = (
                self._print_Integer(abs(coefficient))
                + r"\,"
                + self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
            )
            return "- " + body if coefficient < 0 else body
        return super()._print_Mul(expr)

    def _print_Integer(self, expr: sp.Integer) -> str:
        value = int(expr)
        return f"{value:,}".replace(",", "{,}") if abs(value) >= 1000 else str(value)

    def _print_rounding(self, left: str, right: str, argument: sp.Expr) -> str:
        numerator, denominator = _over_one_denominator(argument)
        if denominator == 1:
            inner = self._print(numerator)
        else:
            inner = rf"\frac{{{self._print(numerator)}}}{{{self._print(denominator)}}}"
        return rf"\left{left} {inner} \right{right}"

    def _print_floor(self, expr: sp.floor, exp: str | None = None) -> str:
        text = self._print_rounding(r"\lfloor", r"\rfloor", expr.args[0])
        return f"{text}^{{{exp}}}" if exp else text

    def _print_ceiling(self, expr: sp.ceiling, exp: str | None = None) -> str:
        text = self._print_rounding(r"\lceil", r"\rceil", expr.args[0])
        return f"{text}^{{{exp}}}" if exp else text


def to_text(expr: sp.Expr | int) -> str:
    """One expression as text.

    >>> from symconv.sizes import size_symbol
    >>> n = size_symbol("n")
    >>> to_text(sp.floor((n - 1) / 32) + 1)
    'floor((n - 1)/32) + 1'
    """
    return TextPrinter().doprint(sp.sympify(expr))


def condition_text(condition: sp.Basic) -> str:
    """A condition as a reader writes it: ``H is a multiple of 32``, ``a = b``, ``x >= 3``.

    >>> from symconv.sizes import size_symbol
    >>> H, W = size_symbol("H"), size_symbol("W")
    >>> condition_text(sp.And(sp.Eq(sp.Mod(H, 32), 0), sp.Eq(sp.Mod(W, 2), 1)))
    'H is a multiple of 32 and W = 1 (mod 2)'
    """
    if isinstance(condition, sp.And):
        return " and ".join(condition_text(c) for c in condition.args)
    if isinstance(condition, sp.Or):
        return " or ".join(f"({condition_text(c)})" for c in condition.args)
    if isinstance(condition, (sp.Equality, sp.Unequality)):
        left, right = condition.lhs, condition.rhs
        if isinstance(right, sp.Mod) and not isinstance(left, sp.Mod):
            left, right = right, left
        equal = isinstance(condition, sp.Equality)
        if isinstance(left, sp.Mod) and not right.free_symbols:
            value, modulus = left.args
            if right == 0 and modulus == 1:
                return f"{to_text(value)} is {'' if equal else 'not '}an integer"
            if right == 0:
                return f"{to_text(value)} is {'' if equal else 'not '}a multiple of {to_text(modulus)}"
            return f"{to_text(value)} {'=' if equal else '!='} {to_text(right)} (mod {to_text(modulus)})"
        return f"{to_text(left)} {'=' if equal else '!='} {to_text(right)}"
    return to_text(condition)


_SUBSCRIPTED = re.compile(r"^([A-Za-z]+)_([A-Za-z][A-Za-z0-9]*)$")
_WORD = re.compile(r"^[A-Za-z]{3,}$")


_NAMED = re.compile(r"^([A-Za-z]{3,})_([A-Za-z0-9_.]+)$")


def _upright(base: str) -> str:
    return (
        r"\mathrm{" + base + "}"
        if _WORD.match(base) and sp.latex(sp.Symbol(base)) == base
        else sp.latex(sp.Symbol(base))
    )


def textbook_names(expr: sp.Basic) -> dict[sp.Symbol, str]:
    r"""LaTeX names for symbols sympy prints poorly: ``C_in`` as ``C_{\mathrm{in}}``, words such as ``MACs`` upright,
    a layer's quantity ``MACs_layer1.0`` as ``\mathrm{MACs}_{\mathtt{layer1.0}}``."""
    names = {}
    for symbol in getattr(expr, "free_symbols", ()):
        match = _SUBSCRIPTED.match(symbol.name)
        named = _NAMED.match(symbol.name)
        if match and len(match.group(2)) > 1 and not match.group(2).isdigit():
            names[symbol] = _upright(match.group(1)) + r"_{\mathrm{" + match.group(2) + "}}"
        elif named and named.group(2).isdigit():
            names[symbol] = _upright(named.group(1)) + "_{" + named.group(2) + "}"
        elif named:
            names[symbol] = (
                _upright(named.group(1)) + r"_{\mathtt{" + named.group(2).replace("_", r"\_") + "}}"
            )
        elif _WORD.match(symbol.name) and sp.latex(symbol) == symbol.name:
            names[symbol] = r"\mathrm{" + symbol.name + "}"
    return names


def to_latex(expr: sp.Expr | int) -> str:
    r"""One expression as LaTeX math (no delimiters).

    >>> from symconv.sizes import size_symbol
    >>> to_latex(sp.floor((size_symbol("n") - 1) / 2) + 1)
    '\\left\\lfloor \\frac{n - 1}{2} \\right\\rfloor + 1'
    """
    expr = sp.sympify(expr)
    return MathPrinter({"symbol_names": textbook_names(expr)}).doprint(expr)


def sum_pieces(terms: Sequence[sp.Expr], printer: Callable[[sp.Expr], str], latex: bool = False) -> list[str]:
    """The terms of a sum in the order given, each printed, a sum in parentheses, signs as operators.

    ``["a", "+ (b + c)", "- d"]``: renderers join the pieces, or break lines between them.
    """
    pieces = []
    for index, term in enumerate(terms):
        term = sp.sympify(term)
        negative = index > 0 and term.could_extract_minus_sign()
        body = -term if negative else term
        sign = "" if index == 0 else ("- " if negative else "+ ")
        if isinstance(body, sp.Add) and len(terms) > 1 and latex:
            # a sum among the terms keeps its parentheses, and may still break between its own terms
            inner = sum_pieces(body.as_ordered_terms(), printer, latex)
            inner[0], inner[-1] = r"\Bigl(" + inner[0], inner[-1] + r"\Bigr)"
            inner[0] = sign + inner[0]
            pieces += inner
            continue
        text = printer(body)
        if isinstance(body, sp.Add) and len(terms) > 1:
            text = f"({text})"
        pieces.append(sign + text)
    return pieces


# --- sentences with formulas -------------------------------------------------------------------
@dataclass(frozen=True)
class Written:
    """A formula written out by hand, as text and as LaTeX (arithmetic on numbers that must not be evaluated)."""

    text: str
    latex: str


@dataclass(frozen=True)
class Math:
    """A formula inside a sentence: ``items`` joined by ``relation`` (``a = b = c``).

    An item is a sympy expression, an integer, a tuple of sizes (``15 x 15``), or :class:`Written`.
    """

    items: tuple
    relation: str = "="


Prose = tuple  # of str and Math: one sentence, its formulas typeset wherever the renderer can


def formula(*items: object, relation: str = "=") -> Math:
    return Math(tuple(items), relation)


def _item_text(item: object) -> str:
    if isinstance(item, Written):
        return item.text
    if isinstance(item, tuple):
        return "x".join(_item_text(i) for i in item)
    value = sp.sympify(item)
    return f"{int(value):,}" if value.is_Integer else to_text(value)


def plain(prose: Prose) -> str:
    """A sentence as plain text (formulas as symconv prints them in the terminal)."""
    return "".join(
        part if isinstance(part, str) else f" {part.relation} ".join(_item_text(i) for i in part.items)
        for part in prose
    )


LATEX_RELATIONS = {"=": "=", "==": "=", "<=": r"\le", ">=": r"\ge", "!=": r"\neq", "<": "<", ">": ">"}


def prose_math(
    sentence: Prose,
    printer: Callable[[sp.Expr], str] | None = None,
    words: Callable[[str], str] = lambda text: text,
) -> str:
    """A sentence with its formulas as ``$...$`` math: ``printer`` writes an expression (:func:`to_latex` by
    default), ``words`` the text between (LaTeX escapes it; Markdown keeps it)."""
    printer = printer or to_latex

    def item(value: object) -> str:
        if isinstance(value, Written):
            return value.latex
        if isinstance(value, tuple):
            return r" \times ".join(item(i) for i in value)
        return printer(value)

    return "".join(
        words(part)
        if isinstance(part, str)
        else "$"
        + f" {LATEX_RELATIONS.get(part.relation, part.relation)} ".join(item(i) for i in part.items)
        + "$"
        for part in sentence
    )


def prose_markdown(sentence: Prose) -> str:
    """A sentence with its formulas as ``$...$`` math (KaTeX on the site)."""
    return prose_math(sentence)
