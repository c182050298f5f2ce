"""Proofs of claims about sizes, over all positive integers, or counterexamples.

Methods, tried in order:

1. ``identity``: a polynomial or rational identity (both sides over one
   denominator, the numerator expands to zero), or an inequality whose sign
   follows from the symbols being positive;
2. ``residue case split``: every symbol is written ``n = M q + r`` with
   ``r = 1..M`` and ``q >= 0``, ``M`` a common multiple of the floors'
   denominators; each floor then becomes a polynomial in ``q`` (Graham, Knuth
   & Patashnik, *Concrete Mathematics*, eq. 3.6: ``floor(x + m) = floor(x) + m``
   for integer ``m``), and each case is an identity;
3. ``counterexample search``: the smallest assignment (by sum of values) for
   which exact evaluation makes the claim false.

A claim neither proved nor disproved is ``unknown``, with the numeric
evidence gathered; it is never called a proof.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import lcm

import sympy as sp

from symconv.display import provided
from symconv.errors import SpecError
from symconv.sizes import parse_claim

MAX_CASES = 4096
SEARCH_POINTS = 5_000
RATIONAL_TRIALS = tuple(
    sp.Rational(p, q) for p, q in ((1, 4), (1, 3), (1, 2), (2, 3), (3, 4), (1, 1), (3, 2), (2, 1))
)
OPERATORS = {"==": sp.Eq, "!=": sp.Ne, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}
SOURCE_FLOOR = (
    "Graham, Knuth & Patashnik, Concrete Mathematics, eq. (3.6): floor(x + m) = floor(x) + m, m integer"
)


@dataclass(frozen=True)
class ProofStep:
    """One line of a proof: a statement (left OP right) and the rule that justifies it."""

    left: sp.Expr
    relation: str
    right: sp.Expr
    rule: str
    source: str | None = None


@dataclass(frozen=True)
class Proof:
    """The outcome of :func:`prove`."""

    left: sp.Expr
    relation: str
    right: sp.Expr
    status: str  # proved | disproved | unknown
    method: str
    steps: tuple[ProofStep, ...]
    counterexample: tuple[tuple[sp.Symbol, sp.Expr], ...] | None = None
    evidence: str | None = None
    assumptions: tuple[sp.Basic, ...] = ()

    @property
    def claim(self) -> sp.Basic:
        return OPERATORS[self.relation](self.left, self.right, evaluate=False)

    def _repr_markdown_(self) -> str:
        return provided("proof.markdown")(self)


def _holds(relation: str, left: sp.Expr, right: sp.Expr) -> bool:
    return bool(OPERATORS[relation](left, right))


def _rounding_modulus(expr: sp.Expr) -> int | None:
    """A modulus ``M`` after which ``n = M q + r`` removes every floor; None if a denominator is symbolic."""
    modulus = 1
    for rounding in expr.atoms(sp.floor, sp.ceiling):
        argument = rounding.args[0]
        _, denominator = sp.fraction(sp.together(argument))
        if not denominator.is_Integer:
            return None
        inner = _rounding_modulus(argument)
        if inner is None:
            return None
        modulus = lcm(modulus, int(denominator) * inner)
    return modulus


def _without_mod(expr: sp.Expr) -> sp.Expr:
    """``Mod(a, b)`` as ``a - b*floor(a/b)`` for constant ``b``."""
    return expr.replace(
        lambda e: isinstance(e, sp.Mod) and e.args[1].is_Integer,
        lambda e: e.args[0] - e.args[1] * sp.floor(e.args[0] / e.args[1]),
    )


def _sign_proof(difference: sp.Expr, strict: bool) -> bool:
    """True when ``difference`` is >= 0 (> 0 if strict) for all values of its symbols.

    Besides sympy's assumptions: with every positive-integer symbol written
    ``s = t + 1`` (``t >= 0``), a numerator whose coefficients are all
    non-negative, over a positive denominator, is non-negative.
    """
    numerator, denominator = sp.fraction(sp.together(difference))
    numerator, denominator = sp.expand(numerator), sp.expand(denominator)
    test = (lambda e: e.is_positive) if strict else (lambda e: e.is_nonnegative)
    if test(sp.expand(difference)) or (test(numerator) and denominator.is_positive):
        return True
    if not denominator.is_positive or not numerator.is_polynomial():
        return False
    shifted = {
        s: sp.Symbol(f"{s.name}_shift", integer=True, nonnegative=True) + 1
        for s in numerator.free_symbols
        if s.is_integer and s.is_positive
    }
    if set(shifted) != numerator.free_symbols:
        return False
    polynomial = sp.expand(numerator.xreplace(shifted))
    if polynomial.is_Number:
        return bool(polynomial > 0) if strict else bool(polynomial >= 0)
    poly = sp.Poly(polynomial, *sorted(polynomial.free_symbols, key=str))
    coefficients = poly.coeffs()
    if any(c < 0 for c in coefficients):
        return False
    return not strict or poly.coeff_monomial(1) > 0


def _decide(relation: str, left: sp.Expr, right: sp.Expr) -> bool | None:
    """Whether a floor-free relation holds for all values (None: not shown)."""
    difference = sp.together(left - right)
    if relation == "==":
        return True if sp.expand(sp.fraction(difference)[0]) == 0 else None
    if relation == "!=":
        numerator = sp.expand(sp.fraction(difference)[0])
        return True if numerator.is_nonzero or (numerator.is_Number and numerator != 0) else None
    if relation in (">=", ">"):
        return True if _sign_proof(left - right, relation == ">") else None
    return True if _sign_proof(right - left, relation == "<") else None


def _search(left, relation, right, symbols, conditions) -> tuple[dict | None, int, int]:
    """The smallest assignment (by sum) that breaks the claim, the points tried, and the bound used."""
    integers = [s for s in symbols if s.is_integer]
    rationals = [s for s in symbols if not s.is_integer]
    bound = max(2, int(SEARCH_POINTS ** (1 / max(1, len(integers)))))
    bound = min(bound, 400)
    grid = sorted(itertools.product(range(1, bound + 1), repeat=len(integers)), key=lambda v: (sum(v), v))
    tried = 0
    for values in grid:
        for extra in itertools.product(RATIONAL_TRIALS, repeat=len(rationals)):
            assignment = {
                **dict(zip(integers, map(sp.Integer, values), strict=True)),
                **dict(zip(rationals, extra, strict=True)),
            }
            if not all(bool(c.xreplace(assignment)) for c in conditions):
                continue
            a, b = left.xreplace(assignment), right.xreplace(assignment)
            if not (a.is_number and b.is_number) or a.has(sp.zoo, sp.nan) or b.has(sp.zoo, sp.nan):
                continue
            tried += 1
            if not _holds(relation, a, b):
                return assignment, tried, bound
    return None, tried, bound


def _shift(assumptions: tuple[sp.Basic, ...]) -> tuple[dict[sp.Symbol, sp.Expr], list[sp.Basic]]:
    """Bounds ``n >= c`` become ``n = n' + c - 1`` (n' a positive integer); other assumptions filter."""
    shifts, others = {}, []
    for condition in assumptions:
        if (
            isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan))
            and isinstance(condition.lhs, sp.Symbol)
            and condition.lhs.is_integer
            and condition.rhs.is_Integer
        ):
            low = int(condition.rhs) + (1 if isinstance(condition, sp.StrictGreaterThan) else 0)
            if low > 1:
                shifts[condition.lhs] = condition.lhs + (low - 1)
            continue
        others.append(condition)
    return shifts, others


def prove(
    left: sp.Expr | str,
    right: sp.Expr | str | None = None,
    relation: str = "==",
    assume: tuple[str | sp.Basic, ...] = (),
) -> Proof:
    """Prove or disprove ``left RELATION right`` for all positive-integer values of the symbols.

    >>> prove("floor(floor((n - 1)/2)/2)", "floor((n - 1)/4)").status
    'proved'
    >>> proof = prove("2*floor(n/2) == n")
    >>> proof.status, proof.counterexample
    ('disproved', ((n, 1),))
    """
    if right is None:
        if not isinstance(left, str):
            raise SpecError("give a claim string 'LHS == RHS', or both sides")
        left, relation, right = parse_claim(left)
    from symconv.sizes import parse_size

    left = parse_size(left) if isinstance(left, str) else sp.sympify(left)
    right = parse_size(right) if isinstance(right, str) else sp.sympify(right)
    if relation not in OPERATORS:
        raise SpecError(f"relation must be one of {', '.join(OPERATORS)}, got {relation!r}")
    conditions = []
    for condition in assume:
        if isinstance(condition, str):
            a, op, b = parse_claim(condition)
            condition = OPERATORS[op](a, b)
        conditions.append(condition)
    conditions = tuple(conditions)
    shifts, filters = _shift(conditions)
    work_left, work_right = _without_mod(left.xreplace(shifts)), _without_mod(right.xreplace(shifts))
    symbols = sorted((left - right).free_symbols, key=lambda s: s.name)
    steps: list[ProofStep] = []
    if shifts:
        for symbol, shifted in shifts.items():
            steps.append(
                ProofStep(
                    symbol,
                    "=",
                    shifted,
                    f"assumption {symbol} >= {shifted.xreplace({symbol: 1})}: "
                    f"write {symbol} as a positive integer plus {shifted - symbol}",
                )
            )
        steps.append(ProofStep(work_left, relation, work_right, "substitution"))

    def finish(status, method, counterexample=None, evidence=None):
        return Proof(
            left, relation, right, status, method, tuple(steps), counterexample, evidence, conditions
        )

    rounding = (sp.floor, sp.ceiling)
    if not filters and not (work_left - work_right).has(*rounding, sp.Min, sp.Max, sp.Mod):
        decided = _decide(relation, work_left, work_right)
        if decided and relation == "==":
            (num_l, den_l), (num_r, den_r) = (
                sp.fraction(sp.together(work_left)),
                sp.fraction(sp.together(work_right)),
            )
            if den_l != 1 or den_r != 1:
                steps.append(ProofStep(work_left, "=", num_l / den_l, "left side over one denominator"))
                steps.append(ProofStep(work_right, "=", num_r / den_r, "right side over one denominator"))
            steps.append(
                ProofStep(
                    sp.expand(num_l * den_r),
                    "=",
                    sp.expand(num_r * den_l),
                    "cross-multiplied, both sides expand to the same polynomial",
                )
            )
        elif decided:
            difference = work_left - work_right if relation in (">=", ">") else work_right - work_left
            numerator, denominator = sp.fraction(sp.together(difference))
            steps.append(
                ProofStep(
                    sp.together(difference),
                    ">" if relation in (">", "<") else ">=",
                    0,
                    "the difference over one denominator; the denominator is positive",
                )
            )
            shift = {
                t: sp.Symbol(f"{t.name}_shift", integer=True, nonnegative=True) + 1
                for t in numerator.free_symbols
                if t.is_integer and t.is_positive
            }
            steps.append(
                ProofStep(
                    sp.expand(numerator.xreplace(shift)),
                    ">" if relation in (">", "<") else ">=",
                    0,
                    "write each symbol s as s_shift + 1 (s_shift >= 0): every coefficient is "
                    "non-negative" + (" and the constant term positive" if relation in (">", "<") else ""),
                )
            )
        if decided:
            return finish("proved", "identity" if relation == "==" else "sign of a polynomial")
    modulus = _rounding_modulus(work_left - work_right)
    has_rounding = (work_left - work_right).has(*rounding)
    if (
        not filters
        and has_rounding
        and modulus is not None
        and modulus ** max(1, len(symbols)) <= MAX_CASES
        and all(s.is_integer for s in symbols)
        and not (work_left - work_right).has(sp.Min, sp.Max, sp.Mod)
    ):
        before = len(steps)
        quotients = {s: sp.Symbol(f"q_{s.name}", integer=True, nonnegative=True) for s in symbols}
        residue = sp.Symbol("r", integer=True)
        steps.append(
            ProofStep(
                symbols[0] if len(symbols) == 1 else sp.Tuple(*symbols),
                "=",
                modulus * quotients[symbols[0]] + residue
                if len(symbols) == 1
                else sp.Tuple(*(modulus * quotients[s] + residue for s in symbols)),
                f"residue case split: r = 1..{modulus}, q >= 0 covers every positive integer",
                SOURCE_FLOOR,
            )
        )
        all_cases = True
        for residues in itertools.product(range(1, modulus + 1), repeat=len(symbols)):
            case = {s: modulus * quotients[s] + r for s, r in zip(symbols, residues, strict=True)}
            a, b = sp.expand(work_left.xreplace(case)), sp.expand(work_right.xreplace(case))
            if (a - b).has(*rounding) or not _decide(relation, a, b):
                all_cases = False
                break
            shown = ", ".join(
                f"{s} = {modulus}*{quotients[s]} + {r}" for s, r in zip(symbols, residues, strict=True)
            )
            steps.append(
                ProofStep(
                    a,
                    relation if relation != "==" else "=",
                    b,
                    f"case {shown}: every floor is a polynomial in q",
                )
            )
        if all_cases:
            return finish("proved", "residue case split")
        del steps[before:]
    counterexample, tried, bound = _search(left, relation, right, symbols, conditions)
    if counterexample is not None:
        values = tuple(sorted(counterexample.items(), key=lambda item: item[0].name))
        a, b = left.xreplace(counterexample), right.xreplace(counterexample)
        steps.append(
            ProofStep(
                a,
                {"==": "!=", "!=": "==", "<=": ">", "<": ">=", ">=": "<", ">": "<="}[relation],
                b,
                "exact evaluation at " + ", ".join(f"{s} = {v}" for s, v in values),
            )
        )
        return finish("disproved", "counterexample search", values)
    evidence = f"no counterexample among {tried} assignments with integer symbols from 1 to {bound}"
    return finish("unknown", "numeric evidence only", evidence=evidence)
