"""Sizes: symbols with assumptions, safe parsing, and floors in normal form.

Sizes are sympy expressions over symbols that are positive integers unless a
symbol is declared a positive rational (a width multiplier such as ``alpha``).
User text is read by :func:`parse_size`, a builder over Python's ``ast`` that
accepts only a whitelist of node types and never evaluates anything.

Spatial sizes are kept in the normal form ``floor((x + A)/M) + B`` by
:func:`floor_divide`, which composes layers with the identity
``floor((floor(y) + c)/S) = floor((y + c)/S)`` (integer ``c``, positive integer
``S``), so a chain of strided layers never nests floors.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from symconv.errors import UnsafeExpression, ValueSpecError, Where

RATIONAL_BY_DEFAULT = frozenset({"alpha", "rho"})
"""Names read as positive rationals unless declared otherwise (MobileNet's multipliers)."""

DOMAINS = ("integer", "rational")
MAX_TEXT_LENGTH = 2000
MAX_DEPTH = 50
MAX_LITERAL = 10**18
MAX_EXPONENT = 64
MAX_DEGREE = 16
MAX_TERMS = 10_000
"""A size whose expansion could have more terms than this is refused before sympy expands it."""
MAX_ARGUMENTS = 32
"""``min``/``max`` of more arguments than this are refused (sympy compares them pairwise)."""
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


class MakeDivisible(sp.Function):
    """torchvision's ``_make_divisible(v, 8)`` of a positive size: ``v`` rounded to a multiple of 8, never more
    than 10% down, at least 8 (MobileNet v2 and v3, EfficientNet, MnasNet widths).

    A function of its argument that stays symbolic until the argument is a
    number (then it is torchvision's integer, computed exactly); :meth:`as_floors`
    writes it as floors, where the jumps show: ``max(8, 8 floor((v + 4)/8))``,
    plus 8 where that is below ``9v/10``.
    """

    is_integer = True
    is_positive = True

    @classmethod
    def eval(cls, value: sp.Expr) -> sp.Integer | None:
        if value.is_Rational:
            rounded = max(8, math.floor(Fraction(int(value.p), int(value.q)) + 4) // 8 * 8)
            return sp.Integer(
                rounded + 8 if rounded < Fraction(9, 10) * Fraction(int(value.p), int(value.q)) else rounded
            )
        coefficient, rest = value.as_coeff_Mul()
        if isinstance(rest, MakeDivisible) and coefficient.is_Integer and coefficient > 0:
            return value  # already a multiple of 8: div_8(c div_8(v)) = c div_8(v)
        return None

    def as_floors(self) -> sp.Expr:
        (value,) = self.args
        rounded = sp.Max(8, 8 * sp.floor((value + 4) / 8))
        return sp.Piecewise((rounded + 8, rounded < sp.Rational(9, 10) * value), (rounded, True))

    def _sympystr(self, printer: object) -> str:
        return f"make_divisible({printer._print(self.args[0])})"

    def _latex(self, printer: object, exp: str | None = None) -> str:
        text = r"\operatorname{div}_{8}\left(" + printer._print(self.args[0]) + r"\right)"
        return f"{text}^{{{exp}}}" if exp else text


def size_symbol(name: str, domain: str | None = None) -> sp.Symbol:
    """The one symbol for ``name``: a positive integer, or a positive rational.

    sympy identifies symbols by name *and* assumptions, so every part of
    symconv builds its symbols here.

    >>> size_symbol("n").is_integer, size_symbol("alpha").is_integer
    (True, None)
    """
    if not _NAME.match(name):
        raise UnsafeExpression(f"{name!r} is not a valid symbol name (letters, digits, _)")
    if domain is None:
        domain = "rational" if name in RATIONAL_BY_DEFAULT else "integer"
    if domain == "integer":
        return sp.Symbol(name, integer=True, positive=True)
    if domain == "rational":
        return sp.Symbol(name, rational=True, positive=True)
    raise ValueSpecError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")


def symbols(names: str, *, rational: bool = False) -> tuple[sp.Symbol, ...] | sp.Symbol:
    """Symbols for sizes: positive integers, or positive rationals on request.

    ```pycon
    >>> n, m = symbols("n m")
    >>> (n * m).is_integer
    True
    >>> symbols("alpha", rational=True).is_rational
    True

    ```
    """
    parts = names.replace(",", " ").split()
    if not parts:
        raise ValueSpecError("symbols() needs at least one name")
    made = tuple(size_symbol(p, "rational" if rational else None) for p in parts)
    return made[0] if len(made) == 1 else made


class _Builder:
    """Turns a whitelisted ``ast`` tree into a sympy expression, evaluating nothing."""

    def __init__(self, domains: dict[str, str], where: Where | None) -> None:
        self.domains = domains
        self.where = where

    def fail(self, message: str) -> UnsafeExpression:
        return UnsafeExpression(message, self.where)

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        expr, degree = self.build_bounded(node, depth)
        return expr

    def build_bounded(self, node: ast.AST, depth: int) -> tuple[sp.Expr, int]:
        """The expression and a bound on its polynomial degree, both kept small."""
        expr = self.build_node(node, depth)
        if expr.is_Number and abs(expr) > MAX_LITERAL:
            raise self.fail(f"constant larger than {MAX_LITERAL}")
        degree = self.degree(node, depth)
        if degree > MAX_DEGREE:
            raise self.fail(f"expression of degree above {MAX_DEGREE}")
        if self.terms(node) > MAX_TERMS:
            raise self.fail(f"expression that expands to more than {MAX_TERMS:,} terms")
        return expr, degree

    def terms(self, node: ast.AST) -> int:
        """A bound on the terms of the expanded expression (capped just past the limit)."""
        if isinstance(node, (ast.Name, ast.Constant)):
            return 1
        if isinstance(node, ast.UnaryOp):
            return self.terms(node.operand)
        if isinstance(node, ast.BinOp):
            left = self.terms(node.left)
            if isinstance(node.op, ast.Pow):
                exponent = node.right.value if isinstance(node.right, ast.Constant) else 1
                return min(math.comb(left + exponent - 1, exponent), MAX_TERMS + 1)
            right = self.terms(node.right)
            if isinstance(node.op, (ast.Add, ast.Sub)):
                return min(left + right, MAX_TERMS + 1)
            return min(left * right, MAX_TERMS + 1)
        if isinstance(node, ast.Call):
            return min(sum(self.terms(a) for a in node.args), MAX_TERMS + 1)
        return 1

    def degree(self, node: ast.AST, depth: int) -> int:
        if isinstance(node, ast.Name):
            return 1
        if isinstance(node, ast.UnaryOp):
            return self.degree(node.operand, depth + 1)
        if isinstance(node, ast.BinOp):
            left = self.degree(node.left, depth + 1)
            if isinstance(node.op, ast.Pow):
                return left * node.right.value
            right = self.degree(node.right, depth + 1)
            return (
                left + right if isinstance(node.op, (ast.Mult, ast.Div, ast.FloorDiv)) else max(left, right)
            )
        if isinstance(node, ast.Call):
            return max((self.degree(a, depth + 1) for a in node.args), default=0)
        return 0

    def build_node(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(f"expression nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            if type(node.value) is not int:
                raise self.fail(f"only integer literals are allowed, not {node.value!r}")
            if abs(node.value) > MAX_LITERAL:
                raise self.fail(f"integer literal larger than {MAX_LITERAL}")
            return sp.Integer(node.value)
        if isinstance(node, ast.Name):
            if not _NAME.match(node.id):
                raise self.fail(f"name {node.id!r} is not allowed (no leading underscore)")
            return size_symbol(node.id, self.domains.get(node.id))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(f"{type(node).__name__} is not allowed in a size expression")

    def binary(self, node: ast.BinOp, depth: int) -> sp.Expr:
        left = self.build(node.left, depth + 1)
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (
                isinstance(exponent, ast.Constant)
                and type(exponent.value) is int
                and 0 <= exponent.value <= MAX_EXPONENT
            ):
                raise self.fail(f"exponents must be integer literals from 0 to {MAX_EXPONENT}")
            return left**exponent.value
        right = self.build(node.right, depth + 1)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
            if right.is_zero:
                raise self.fail("division by zero")
            if isinstance(node.op, ast.Div):
                return left / right
            if isinstance(node.op, ast.FloorDiv):
                return sp.floor(left / right)
            return sp.Mod(left, right)
        raise self.fail(f"operator {type(node.op).__name__} is not allowed")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        functions = {
            "floor": sp.floor,
            "ceil": sp.ceiling,
            "ceiling": sp.ceiling,
            "make_divisible": MakeDivisible,
        }
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail("only floor(x), ceil(x), min(...), max(...) may be called")
        name = node.func.id
        if name not in (*functions, "min", "max"):
            raise self.fail(f"function {name!r} is not allowed; use floor, ceil, min, max or make_divisible")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail("starred arguments are not allowed")
        if len(node.args) > MAX_ARGUMENTS:
            raise self.fail(f"{name}() of more than {MAX_ARGUMENTS} arguments")
        args = [self.build(a, depth + 1) for a in node.args]
        if name in functions:
            if len(args) != 1:
                raise self.fail(f"{name}() takes exactly one argument")
            return functions[name](args[0])
        if not args:
            raise self.fail(f"{name}() needs at least one argument")
        if len(args) > MAX_ARGUMENTS:
            raise self.fail(f"{name}() of more than {MAX_ARGUMENTS} arguments")
        return (sp.Min if name == "min" else sp.Max)(*args)


def parse_size(text: str | int, domains: dict[str, str] | None = None, where: Where | None = None) -> sp.Expr:
    """Read a size expression written by a user, without ``eval``.

    Accepted: integer literals, names, ``+ - * / // % **`` (exponent an integer
    literal up to 64), ``floor``, ``ceil``, ``min``, ``max``, ``make_divisible`` (torchvision's width rounding).

    >>> parse_size("(n - 1)//2 + 1")
    floor(n/2 - 1/2) + 1
    >>> parse_size("__import__('os')")
    Traceback (most recent call last):
    ...
    symconv.errors.UnsafeExpression: "__import__('os')": function '__import__' is not allowed; use floor, ceil, min, max or make_divisible
    """
    domains = domains or {}
    if isinstance(text, bool):
        raise UnsafeExpression(f"expected a size, got {text!r}", where)
    if isinstance(text, int):
        if abs(text) > MAX_LITERAL:
            raise UnsafeExpression(f"integer larger than {MAX_LITERAL}", where)
        return sp.Integer(text)
    if not isinstance(text, str):
        raise UnsafeExpression(
            f"expected an integer or an expression string, got {type(text).__name__} {text!r}",
            where,
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise UnsafeExpression(f"expression longer than {MAX_TEXT_LENGTH} characters", where)
    if not text.strip():
        raise UnsafeExpression("empty expression", where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UnsafeExpression(f"cannot read {shown!r} as an expression: {error}", where) from None
    shown = text.strip() if len(text.strip()) <= 60 else text.strip()[:57] + "..."
    try:
        expr = _Builder(domains, where).build(tree.body)
    except RecursionError:
        raise UnsafeExpression(f"{shown!r}: expression nested too deeply", where) from None
    except UnsafeExpression as error:
        raise UnsafeExpression(f"{shown!r}: {error.message}", where) from None
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise UnsafeExpression(f"{text!r} is undefined (division by zero)", where)
    return expr


RELATIONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.LtE: "<=",
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
}


def parse_claim(
    text: str, domains: dict[str, str] | None = None, where: Where | None = None
) -> tuple[sp.Expr, str, sp.Expr]:
    """Read ``lhs OP rhs`` (OP one of ``== != <= < >= >``) with the size-expression whitelist.

    >>> parse_claim("2*floor(n/2) == n")
    (2*floor(n/2), '==', n)
    """
    if not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH:
        raise UnsafeExpression(f"a claim is a string of at most {MAX_TEXT_LENGTH} characters", where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        hint = "; write equality as ==" if re.search(r"(?<![=!<>])=(?!=)", text) else ""
        raise UnsafeExpression(f"cannot read {text[:60]!r} as a claim: {error}{hint}", where) from None
    node = tree.body
    if not isinstance(node, ast.Compare) or len(node.ops) != 1 or type(node.ops[0]) not in RELATIONS:
        raise UnsafeExpression(
            f"{text[:60]!r}: a claim is one comparison, LHS == RHS (or !=, <=, <, >=, >)", where
        )
    builder = _Builder(domains or {}, where)
    try:
        left, right = builder.build(node.left), builder.build(node.comparators[0])
    except RecursionError:
        raise UnsafeExpression("claim nested too deeply", where) from None
    except UnsafeExpression as error:
        raise UnsafeExpression(f"{text[:60]!r}: {error.message}", where) from None
    return left, RELATIONS[type(node.ops[0])], right


def parse_value(text: str, symbol: sp.Symbol, where: Where | None = None) -> sp.Rational:
    """An exact value for a symbol: ``28`` or a decimal such as ``0.75`` (= 3/4)."""
    text = text.strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?", text) or len(text) > 60:
        raise ValueSpecError(f"{symbol}={text!r}: expected an integer, a decimal or a/b", where)
    try:
        value = sp.Rational(Fraction(text))
    except ZeroDivisionError:
        raise ValueSpecError(f"{symbol}={text}: division by zero", where) from None
    if value <= 0:
        raise ValueSpecError(f"{symbol}={text}: sizes and multipliers must be positive", where)
    if symbol.is_integer and not value.is_integer:
        raise ValueSpecError(f"{symbol}={text}: {symbol} is an integer symbol", where)
    return value


def parse_assignment(
    text: str, domains: dict[str, str] | None = None, where: Where | None = None
) -> dict[sp.Symbol, sp.Rational]:
    """Read ``k1=40,n=28`` into exact values keyed by the symbols."""
    values: dict[sp.Symbol, sp.Rational] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueSpecError(f"{item!r}: expected NAME=VALUE", where)
        symbol = size_symbol(name.strip(), (domains or {}).get(name.strip()))
        values[symbol] = parse_value(value, symbol, where)
    return values


def floor_period(expr: sp.Basic) -> int | None:
    """A modulus ``M`` after which ``n = M q + r`` removes every floor; None if a denominator is symbolic.

    A floor of ``(... inner floors ...)/d`` multiplies the period of its argument by ``d``.

    >>> n = size_symbol("n")
    >>> floor_period(sp.floor(sp.floor((n - 1) / 2) / 3) + sp.floor(n / 4))
    12
    """
    modulus = 1
    for rounding in expr.atoms(sp.floor, sp.ceiling):
        argument = rounding.args[0]
        _, denominator = sp.fraction(sp.together(argument))
        if not denominator.is_Integer:
            return None
        inner = floor_period(argument)
        if inner is None:
            return None
        modulus = math.lcm(modulus, int(denominator) * inner)
    return modulus


def without_mod(expr: sp.Basic) -> sp.Basic:
    """``Mod(a, b)`` as ``a - b*floor(a/b)`` for constant ``b``."""
    return expr.replace(
        lambda e: isinstance(e, sp.Mod) and e.args[1].is_Integer,
        lambda e: e.args[0] - e.args[1] * sp.floor(e.args[0] / e.args[1]),
    )


def integer_candidates(polynomials: list[sp.Poly], lowest: int) -> tuple[list[int], int]:
    """Integers from ``lowest`` beside every real root of the polynomials, and one integer above them all.

    A polynomial keeps its sign between consecutive real roots, so whatever the
    signs decide (a feasible set, a claim) changes only at the integers within
    one of an isolating interval (of width at most 1/4) of a root.
    """
    points, top = {lowest}, lowest
    for polynomial in polynomials:
        if polynomial.degree() < 1:
            continue
        for (a, b), _ in polynomial.intervals(eps=sp.Rational(1, 4)):
            low, high = math.floor(a) - 1, math.ceil(b) + 1
            points.update(range(max(low, lowest), high + 1))
            top = max(top, high + 1)
    return sorted(points), top


@lru_cache(maxsize=65536)  # pure, and met again for every layer of a wide graph
def split_floor(size: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr] | None:
    """Decompose ``size`` as ``Q*floor(N/M) + B``; ``None`` if it has another shape.

    A size without floors is ``N`` itself with ``M = Q = 1`` and ``B = 0``.
    """
    size = sp.sympify(size)
    if not size.has(sp.floor, sp.ceiling):
        return size, sp.Integer(1), sp.Integer(1), sp.Integer(0)
    terms = sp.Add.make_args(size)
    with_floor = [t for t in terms if t.has(sp.floor, sp.ceiling)]
    if len(with_floor) != 1:
        return None
    term = with_floor[0]
    rest = sp.Add(*(t for t in terms if t is not term))
    coeff, factors = term.as_coeff_mul()
    floors = [f for f in factors if isinstance(f, sp.floor)]
    others = [f for f in factors if not isinstance(f, sp.floor)]
    if len(floors) != 1 or any(f.has(sp.floor, sp.ceiling) for f in others):
        return None
    argument = floors[0].args[0]
    terms = _polynomial_terms(argument)
    if terms is not None:  # a polynomial over one integer denominator: its numerator is expanded already
        denominator = math.lcm(*(int(c.q) for c, _ in terms))
        numerator = sp.Add(*(sp.Integer(int(c.p) * (denominator // int(c.q))) * m for c, m in terms))
        return numerator, sp.Integer(denominator), coeff * sp.Mul(*others), rest
    numerator, denominator = sp.fraction(sp.together(argument))
    if not denominator.is_positive or not denominator.is_integer:
        return None
    if numerator.has(sp.floor, sp.ceiling):
        return None
    return sp.expand(numerator), denominator, coeff * sp.Mul(*others), rest


def _polynomial_terms(arg: sp.Expr, rounded: bool = False) -> list[tuple[sp.Rational, sp.Expr]] | None:
    """``arg`` as (rational coefficient, monomial in positive integer symbols) terms; None otherwise.

    ``rounded``: floors and ceilings of sizes (which are real, so these are integers) count as symbols.
    """
    terms = []
    for term in sp.Add.make_args(arg):
        coefficient, monomial = term.as_coeff_Mul()
        if not coefficient.is_Rational:
            return None
        for factor in sp.Mul.make_args(monomial):
            base, exponent = factor.as_base_exp()
            if monomial is not sp.S.One and not (
                (
                    (rounded and isinstance(base, (sp.floor, sp.ceiling)))
                    or (base.is_Symbol and base.is_integer and base.is_positive)
                )
                and exponent.is_Integer
                and exponent.p > 0  # a sympy comparison costs microseconds; its integer does not
            ):
                return None
        terms.append((coefficient, monomial))
    return terms


def _integer_terms(arg: sp.Expr) -> list[tuple[sp.Rational, sp.Expr]] | None:
    """``arg`` as (rational coefficient, integer-valued monomial) terms: products of positive integer symbols
    and of floors and ceilings of sizes. None otherwise."""
    return _polynomial_terms(arg, rounded=True)


def integer_valued(size: sp.Expr) -> bool:
    """True when ``size`` is an integer for every value of its symbols: from its terms where they show it
    (integer coefficients of symbols, floors and ceilings), else as sympy's assumptions say."""
    size = sp.sympify(size)
    if size.is_Integer:
        return True
    terms = _integer_terms(size)
    if terms is not None and all(c.is_Integer for c, _ in terms):
        return True
    return size.is_integer is True


def _rounded(arg: sp.Expr, kind: type) -> sp.Expr:
    """``kind(arg)`` (a floor or a ceiling) as sympy writes it, without its costly evaluation.

    For a sum of integer-valued monomials with rational coefficients, sympy
    moves the terms with integer coefficients out (``floor(n/2 + 1) =
    floor(n/2) + 1``) and keeps the rest under the floor; its other attempts
    (bounding the argument between two integers) cannot succeed when a symbol
    is unbounded. This does the same directly, so a deep network's sizes cost
    a dictionary lookup each instead of an assumptions query. Any other
    argument goes to sympy.
    """
    terms = _integer_terms(arg)
    if terms is None:
        return kind(arg)
    whole = [c * m for c, m in terms if c.is_Integer]
    return _whole_and_rounded(whole, [c * m for c, m in terms if not c.is_Integer], kind)


def _whole_and_rounded(whole: list[sp.Expr], fractional: list[sp.Expr], kind: type) -> sp.Expr:
    """``Σ whole + kind(Σ fractional)``: the rounding evaluated for a number, left as it is otherwise."""
    rest = sp.Add(*fractional)
    if rest.is_Number:
        return sp.Add(*whole, kind(rest))
    return sp.Add(*whole, kind(rest, evaluate=False))


def exact_floor(arg: sp.Expr) -> sp.Expr:
    """``floor(arg)`` as sympy writes it (see :func:`_rounded`).

    >>> n = size_symbol("n")
    >>> exact_floor(n / 2 + 1)
    floor(n/2) + 1
    """
    return _rounded(arg, sp.floor)


def exact_ceiling(arg: sp.Expr) -> sp.Expr:
    """``ceiling(arg)`` as sympy writes it (see :func:`_rounded`).

    >>> n = size_symbol("n")
    >>> exact_ceiling(exact_floor(n / 4) / 7)
    ceiling(floor(n/4)/7)
    """
    return _rounded(arg, sp.ceiling)


@lru_cache(maxsize=65536)  # pure, and met again for every layer of a wide graph
def floor_divide(size: sp.Expr, offset: sp.Expr, divisor: sp.Expr) -> sp.Expr:
    """``floor((size + offset)/divisor)`` for integer ``offset``, positive integer ``divisor``.

    When ``size`` is ``floor(N/M) + B`` the result is the single floor
    ``floor((N + M*(B + offset))/(M*divisor))``, by
    ``floor((floor(y) + c)/S) = floor((y + c)/S)``.

    >>> n = size_symbol("n")
    >>> floor_divide(floor_divide(n, -1, 2) + 1, -1, 2) + 1
    floor(n/4 - 1/4) + 1
    """
    parts = split_floor(size)
    if parts is not None:
        numerator, modulus, coefficient, rest = parts
        if coefficient == 1 or modulus == 1:
            shift, whole_divisor = sp.sympify(rest + offset), sp.sympify(divisor)
            terms = _polynomial_terms(numerator)
            if (
                terms is not None
                and coefficient.is_Rational
                and shift.is_Rational
                and whole_divisor.is_Integer
                and modulus.is_Integer
            ):
                return _floor_of_terms(terms, coefficient, modulus * shift, modulus * whole_divisor)
            numerator = sp.expand(coefficient * numerator)
            total = sp.expand(numerator + modulus * (rest + offset))
            return exact_floor(total / (modulus * divisor))
    return exact_floor((size + offset) / divisor)


def _floor_of_terms(
    terms: list[tuple[sp.Rational, sp.Expr]],
    scale: sp.Rational,
    constant: sp.Rational,
    denominator: sp.Integer,
) -> sp.Expr:
    """``floor((scale·Σ c·m + constant)/denominator)``, the coefficients computed as fractions.

    The same expression :func:`exact_floor` writes for the expanded argument,
    built without sympy's arithmetic on the way (a division alone costs an
    assumptions query on a new expression).
    """
    factor = Fraction(int(scale.p), int(scale.q)) / int(denominator)
    coefficients: dict[sp.Expr, Fraction] = {}
    for c, m in terms:
        coefficients[m] = coefficients.get(m, Fraction(0)) + Fraction(int(c.p), int(c.q)) * factor
    coefficients[sp.S.One] = coefficients.get(sp.S.One, Fraction(0)) + Fraction(
        int(constant.p), int(constant.q)
    ) / int(denominator)
    whole, fractional = [], []
    for m, f in coefficients.items():
        if f == 0:
            continue
        (whole if f.denominator == 1 else fractional).append(sp.Rational(f.numerator, f.denominator) * m)
    return _whole_and_rounded(whole, fractional, sp.floor)


def ceil_divide(size: sp.Expr, offset: sp.Expr, divisor: sp.Expr) -> sp.Expr:
    """``ceil((size + offset)/divisor)``, as the floor ``floor((size + offset + divisor - 1)/divisor)``."""
    return floor_divide(size, offset + divisor - 1, divisor)


def _sign_bounds(terms: list[tuple[sp.Rational, sp.Expr]]) -> tuple[bool, bool]:
    """(always >= its value at 1, always <= it): every monomial of positive integer symbols is at least 1."""
    symbolic = [c for c, m in terms if m is not sp.S.One]
    return all(c.p >= 0 for c in symbolic), all(
        c.p <= 0 for c in symbolic
    )  # the sign of a rational is its numerator's


def _decide_polynomial(difference: sp.Expr, kind: type) -> bool | None:
    """The sign of a polynomial in positive integer symbols, from its coefficients alone.

    None: not so decided (sympy may be asked); ``UNDECIDED``: no verdict holds for every value.

    Where every non-constant coefficient is non-negative, the polynomial is
    smallest with every symbol 1, and where every one is non-positive, largest
    there: its value at 1 then bounds it for all positive integers.
    """
    terms = _polynomial_terms(difference)
    if terms is None:
        return None
    verdict = _coefficient_verdict(terms, difference, kind)
    if verdict is None and all(m is sp.S.One or m.is_Symbol for _, m in terms):
        return UNDECIDED  # linear: its coefficients say all there is (it takes both signs, or both verdicts)
    return verdict


UNDECIDED = "undecided"
"""A verdict of :func:`_decide_polynomial`: no answer holds for every value, and sympy need not be asked."""


def _coefficient_verdict(terms, difference: sp.Expr, kind: type) -> bool | None:
    at_one = sum((Fraction(int(c.p), int(c.q)) for c, _ in terms), Fraction(0))  # compared in Python
    rising, falling = _sign_bounds(terms)
    low = at_one if rising else None  # the polynomial is >= low everywhere
    high = at_one if falling else None  # and <= high everywhere
    if kind is sp.GreaterThan:
        return True if low is not None and low >= 0 else False if high is not None and high < 0 else None
    if kind is sp.StrictGreaterThan:
        return True if low is not None and low > 0 else False if high is not None and high <= 0 else None
    if kind is sp.LessThan:
        return True if high is not None and high <= 0 else False if low is not None and low > 0 else None
    if kind is sp.StrictLessThan:
        return True if high is not None and high < 0 else False if low is not None and low >= 0 else None
    if kind in (sp.Equality, sp.Unequality):
        if difference == 0:
            return kind is sp.Equality
        never_zero = (low is not None and low > 0) or (high is not None and high < 0)
        return (kind is sp.Unequality) if never_zero else None
    return None


def _granularity(arg: sp.Expr) -> sp.Rational | None:
    """``1/q`` where ``arg`` takes only values in ``(1/q)·Z``: integer atoms with rational coefficients."""
    denominators = []
    for term in sp.Add.make_args(arg):
        coefficient, rest = term.as_coeff_Mul()
        if not coefficient.is_Rational:
            return None
        for factor in sp.Mul.make_args(rest):  # a floor of a size is an integer: sizes are real
            if (
                factor is not sp.S.One
                and not isinstance(factor, (sp.floor, sp.ceiling))
                and not factor.is_integer
            ):
                return None
        denominators.append(int(coefficient.q))
    return sp.Rational(1, math.lcm(*denominators))


def _depth(expr: sp.Expr) -> int:
    """How deeply floors and ceilings nest in ``expr`` (0: none)."""
    inner = max((_depth(a) for a in expr.args), default=0)
    return inner + 1 if isinstance(expr, (sp.floor, sp.ceiling)) else inner


def _bound(expr: sp.Expr, lower: bool) -> sp.Expr | None:
    """A polynomial below (``lower``) or above ``expr`` for every size, or None.

    The most deeply nested floors and ceilings of the sum's terms are replaced by a bound in the direction
    their sign keeps (``z - 1 + 1/q <= floor(z) <= z``, ``z <= ceiling(z) <= z + 1 - 1/q``
    for ``z`` in ``(1/q)·Z``), their arguments kept whole; the sum is expanded,
    so that floors of the same size cancel (``7·ceiling(f/7) - f >= 0``), and the
    floors it exposes are bounded in turn. None where a floor meets a product or
    another function.
    """
    expr = sp.expand(expr)
    while expr.has(sp.floor, sp.ceiling):
        deepest = max(_depth(term) for term in sp.Add.make_args(expr))
        terms = []
        for term in sp.Add.make_args(expr):
            coefficient, rest = term.as_coeff_Mul()
            if _depth(term) < deepest:  # bounded once the floors that contain copies of it are gone
                terms.append(term)
                continue
            if not coefficient.is_Rational or not isinstance(rest, (sp.floor, sp.ceiling)):
                return None
            down = lower if coefficient > 0 else not lower  # the bound of the floor that bounds the term
            argument, step = rest.args[0], _granularity(rest.args[0])
            if step is None:
                return None
            if isinstance(rest, sp.floor):
                bounded = argument - (1 - step) if down else argument
            else:
                bounded = argument if down else argument + (1 - step)
            terms.append(coefficient * bounded)
        expr = sp.expand(sp.Add(*terms))
    return expr


def _unwrapped(difference: sp.Expr, kind: type) -> tuple[sp.Expr, type] | None:
    """``difference (kind) 0`` with its one floor or ceiling undone, as an equivalent condition on the argument.

    For ``c·f(z) + b`` (``c`` positive rational, ``b`` rational, ``f`` a floor or ceiling,
    ``z`` in ``(1/q)·Z``) the condition holds exactly when one on ``z`` alone holds:
    ``floor(z) >= u`` when ``z >= u``, ``ceiling(z) >= u`` when ``z >= u - 1 + 1/q``,
    ``floor(z) <= u`` when ``z <= u + 1 - 1/q``, ``ceiling(z) <= u`` when ``z <= u``,
    for the integer ``u`` that the bound on ``f(z)`` comes to. Applied again to
    ``z`` while it is one floor or ceiling, a chain of ceilings over ``floor(H/4)``
    comes to a condition on ``H`` that the polynomial rules decide at once. None
    where ``difference`` is not of that form (a sum of floors, a product).
    """
    upward = {sp.GreaterThan: True, sp.StrictGreaterThan: True, sp.LessThan: False, sp.StrictLessThan: False}
    if kind not in upward:
        return None
    constant, term = difference.as_coeff_Add()
    coefficient, rest = term.as_coeff_Mul()
    if not (constant.is_Rational and coefficient.is_Rational and coefficient.p > 0):
        return None
    if not isinstance(rest, (sp.floor, sp.ceiling)):
        return None
    argument = rest.args[0]
    step = _granularity(argument)
    if step is None:
        return None
    bound = -constant / coefficient  # the condition is f(z) (kind) bound, and f(z) is an integer
    strict = kind in (sp.StrictGreaterThan, sp.StrictLessThan)
    if upward[kind]:  # f(z) >= u for the least integer u that satisfies the bound
        u = sp.floor(bound) + 1 if strict else sp.ceiling(bound)
        low = u if isinstance(rest, sp.floor) else u - 1 + step
        return sp.expand(argument - low), sp.GreaterThan
    u = sp.ceiling(bound) - 1 if strict else sp.floor(bound)  # f(z) <= u for the greatest such u
    high = u + 1 - step if isinstance(rest, sp.floor) else u
    return sp.expand(argument - high), sp.LessThan


def _decide_product(difference: sp.Expr, kind: type) -> bool | str | None:
    """``c·A·B··· + b >= 0`` for non-negative integer factors, where it asks at most that each factor be >= 1.

    A product of non-negative integers is at least 1 exactly when every factor
    is, and at least 0 always. None where a factor may be negative, or the
    bound is above 1; ``UNDECIDED`` where some factor is below 1 for some sizes
    as far as :func:`is_true` can tell, so no other rule need be tried.
    """
    if kind not in (sp.GreaterThan, sp.StrictGreaterThan):
        return None
    constant, term = difference.as_coeff_Add()
    coefficient, rest = term.as_coeff_Mul()
    if not (constant.is_Rational and coefficient.is_Rational and coefficient.p > 0 and rest.is_Mul):
        return None
    factors = [
        base
        for base, exponent in (f.as_base_exp() for f in rest.args)
        if exponent.is_Integer and exponent.p > 0
    ]
    if len(factors) != len(rest.args) or not all(integer_valued(f) for f in factors):
        return None
    if not all(is_true(relation(sp.Ge, f, 0)) for f in factors):
        return None
    bound = Fraction(int(-constant.p), int(constant.q)) / Fraction(int(coefficient.p), int(coefficient.q))
    least = math.floor(bound) + 1 if kind is sp.StrictGreaterThan else math.ceil(bound)
    if least <= 0:
        return True
    if least > 1:
        return None
    verdicts = [is_true(relation(sp.Ge, f, 1)) for f in factors]
    if False in verdicts:
        return False
    # undecided: the bounds and sympy's assumptions are not asked again about such a product
    return True if all(verdicts) else UNDECIDED


def _decide_by_bounds(difference: sp.Expr, kind: type) -> bool | None:
    """Decide ``difference (kind) 0`` for an expression with floors, from polynomial bounds on it.

    A lower bound that is never negative proves ``>= 0``; an upper bound that
    is always negative refutes it; and likewise for the other relations.
    """
    holds = {  # the relation and which bound proves it
        sp.GreaterThan: (True, sp.GreaterThan, sp.StrictLessThan),
        sp.StrictGreaterThan: (True, sp.StrictGreaterThan, sp.LessThan),
        sp.LessThan: (False, sp.LessThan, sp.StrictGreaterThan),
        sp.StrictLessThan: (False, sp.StrictLessThan, sp.GreaterThan),
    }.get(kind)
    if holds is None:
        return None
    from_below, proving, refuting = holds
    proof, refutation = _bound(difference, from_below), _bound(difference, not from_below)
    if proof is not None and _decide_polynomial(proof, proving) is True:
        return True
    if refutation is not None and _decide_polynomial(refutation, refuting) is True:
        return False
    return None


def _expanded(expr: sp.Expr) -> bool:
    """True when ``expr`` is a sum of products with no sum inside a product: expanding it changes nothing
    the rules below read (the arguments of floors are expanded where they are bounded)."""
    for term in sp.Add.make_args(expr):
        for factor in sp.Mul.make_args(term):
            base = factor.base if factor.is_Pow else factor
            if base.is_Add:
                return False
    return True


@lru_cache(maxsize=65536)  # pure, and asked again for every layer that meets the same sizes
def is_true(condition: sp.Basic) -> bool | None:
    """Decide a condition with sympy's assumptions: True, False, or None (undecided)."""
    if condition in (sp.true, True):
        return True
    if condition in (sp.false, False):
        return False
    if isinstance(condition, sp.Rel):
        difference = condition.lhs - condition.rhs
        if not _expanded(difference):
            difference = sp.expand(difference)
        kind = type(condition)
        while (unwrapped := _unwrapped(difference, kind)) is not None:
            difference, kind = unwrapped
        decided = _decide_polynomial(difference, kind)
        if decided is UNDECIDED:
            return None
        if decided is not None:
            return decided
        if difference.has(sp.floor, sp.ceiling):
            decided = _decide_product(difference, kind)
            if decided is UNDECIDED:
                return None
            if decided is None:
                decided = _decide_by_bounds(difference, kind)
            if decided is not None:
                return decided
        if kind is sp.GreaterThan:
            return difference.is_nonnegative
        if kind is sp.StrictGreaterThan:
            return difference.is_positive
        if kind is sp.LessThan:
            return difference.is_nonpositive
        if kind is sp.StrictLessThan:
            return difference.is_negative
        if kind is sp.Equality:
            return difference.is_zero
        if kind is sp.Unequality:
            return None if difference.is_zero is None else not difference.is_zero
    return None


def relation(kind: type, lhs: sp.Expr | int, rhs: sp.Expr | int) -> sp.Basic:
    """The condition ``lhs (kind) rhs`` (``sp.Eq``, ``sp.Le``, ...), left for :func:`is_true` to decide.

    sympy decides a relation as it builds it, with an assumptions query that
    costs milliseconds on nested floors and cannot succeed where the answer
    depends on the size; :func:`is_true` decides the same condition with its
    cheaper rules first. Between numbers the relation is decided at once.

    >>> relation(sp.Le, size_symbol("n") + 1, 4)
    n + 1 <= 4
    >>> relation(sp.Eq, 3, 3)
    True
    """
    lhs, rhs = (
        sp.Integer(lhs) if isinstance(lhs, int) else lhs,
        sp.Integer(rhs) if isinstance(rhs, int) else rhs,
    )
    if lhs == rhs:
        return sp.true if kind in (sp.Eq, sp.Le, sp.Ge) else sp.false  # the same size
    if lhs.is_Number and rhs.is_Number:
        return sp.true if _COMPARE[kind](lhs, rhs) else sp.false
    return kind(lhs, rhs, evaluate=False)


_COMPARE = {
    sp.Eq: operator.eq,
    sp.Ne: operator.ne,
    sp.Le: operator.le,
    sp.Lt: operator.lt,
    sp.Ge: operator.ge,
    sp.Gt: operator.gt,
}


def lower_bound(condition: sp.Basic, plain: bool = False) -> tuple[sp.Symbol, int] | None:
    """The least value a condition on one integer size leaves it, as ``(n, c)`` for a condition that holds
    exactly when ``n >= c``: ``n >= c``, ``n > c - 1``, ``2*n - 6 >= 0``, or a floor or ceiling of such
    (``floor(floor(H/4)/7) >= 1`` is ``H >= 28``). None for anything else, and with ``plain`` for anything
    but the first two forms (read without expanding)."""
    if not isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan)):
        return None
    if isinstance(condition.lhs, sp.Symbol) and condition.rhs.is_Integer:
        if not condition.lhs.is_integer:
            return None
        return condition.lhs, int(condition.rhs) + (1 if isinstance(condition, sp.StrictGreaterThan) else 0)
    if plain:
        return None
    symbols = condition.free_symbols
    if len(symbols) != 1:
        return None
    (symbol,) = symbols
    if not symbol.is_integer:
        return None
    difference, kind = sp.expand(condition.lhs - condition.rhs), type(condition)
    while (unwrapped := _unwrapped(difference, kind)) is not None:
        difference, kind = unwrapped
    if kind not in (sp.GreaterThan, sp.StrictGreaterThan):
        return None
    slope, offset = difference.as_independent(symbol, as_Add=True)[::-1]
    slope = slope / symbol
    if not (slope.is_Rational and slope > 0 and offset.is_Rational):
        return None
    least = -offset / slope  # a*n + b >= 0 exactly when n >= -b/a
    return symbol, int(sp.floor(least) + 1 if kind is sp.StrictGreaterThan else sp.ceiling(least))


def implied_by_bounds(condition: sp.Basic, bounds: dict[sp.Symbol, int]) -> bool:
    """Whether lower bounds on positive-integer sizes (``H >= 4``) imply ``condition``.

    True for ``f >= g`` (or ``>``) where ``f - g`` never decreases as a size
    grows and holds at the least sizes the bounds leave (1 for a size without
    one): ``ceiling(floor(H/4)/7) >= 1`` once ``H >= 4``. The shape of the
    expression is read, not solved: a sum of non-decreasing terms with
    non-negative coefficients, floors, ceilings, minima and maxima of such
    terms, and products and powers of such terms that are non-negative at the
    least sizes (and so at every size above them). False where it cannot tell.
    """
    if isinstance(condition, (sp.LessThan, sp.StrictLessThan)):
        condition = condition.reversed
    if not isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan)):
        return False
    difference = condition.lhs - condition.rhs
    if not all(s.is_integer and s.is_positive for s in difference.free_symbols):
        return False
    least = {s: sp.Integer(max(bounds.get(s, 1), 1)) for s in difference.free_symbols}
    if not _nondecreasing(difference, least):
        return False
    value = difference.xreplace(least)
    if not value.is_Rational:
        return False
    return bool(value > 0 if isinstance(condition, sp.StrictGreaterThan) else value >= 0)


def _nondecreasing(expr: sp.Expr, least: dict[sp.Symbol, sp.Integer]) -> bool:
    """``expr`` never decreases as any of its sizes grows from its least value (see :func:`implied_by_bounds`)."""
    if expr.is_Number or expr.is_Symbol:
        return True
    if isinstance(expr, (sp.Add, sp.floor, sp.ceiling, sp.Min, sp.Max)):
        return all(_nondecreasing(a, least) for a in expr.args)
    if expr.is_Mul:
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient < 0:
            return False
        factors = sp.Mul.make_args(rest)
        return all(_nondecreasing(f, least) for f in factors) and (
            len(factors) == 1 or all(_at_least_zero(f, least) for f in factors)
        )
    if expr.is_Pow:
        base, exponent = expr.args
        return (
            exponent.is_Integer
            and exponent > 0
            and _nondecreasing(base, least)
            and (exponent == 1 or _at_least_zero(base, least))
        )
    return False


def _at_least_zero(expr: sp.Expr, least: dict[sp.Symbol, sp.Integer]) -> bool:
    """A non-decreasing ``expr`` that is non-negative at the least sizes, so at every size above them."""
    value = expr.xreplace(least)
    return bool(value.is_Rational and value >= 0)


@lru_cache(maxsize=65536)  # pure, and met again for every layer of a wide graph
def at_least(size: sp.Expr, bound: sp.Expr) -> sp.Basic:
    """The condition ``size >= bound``, with a floor in normal form removed.

    ``floor(N/M) + B >= t`` holds exactly when ``N >= M*(t - B)`` for integer
    ``t - B``, which sympy can often decide where it cannot decide the floor.
    """
    parts = split_floor(size)
    if parts is not None:
        numerator, modulus, coefficient, rest = parts
        if coefficient == 1 and integer_valued(bound - rest):
            return sp.Ge(numerator, sp.expand(modulus * (bound - rest)), evaluate=False)
    return sp.Ge(size, bound, evaluate=False)  # decided by is_true, once
