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

Before them, nested floors are composed (*Concrete Mathematics* eq. 3.11)
and a claim with a denominator that vanishes at some positive integers is
proved above its largest zero, the values below evaluated one by one, and
says where it is undefined. Between them come ``sign by real roots`` (a
polynomial in one symbol keeps its sign between real roots, so the integers
beside each root decide it) and ``division with remainder`` (a floor with a
symbolic divisor ``s``: write its dividend as ``s*q + r``, ``0 <= r < s``).
Everything runs within a time budget.

A claim neither proved nor disproved is ``unknown``, with the numeric
evidence gathered; it is never called a proof.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp

from symconv.display import provided
from symconv.errors import SpecError
from symconv.sizes import floor_period, integer_candidates, lower_bound, parse_claim, without_mod

MAX_CASES = 4096
SEARCH_POINTS = 5_000
RATIONAL_TRIALS = tuple(
    sp.Rational(p, q) for p, q in ((1, 4), (1, 3), (1, 2), (2, 3), (3, 4), (1, 1), (3, 2), (2, 1))
)
OPERATORS = {"==": sp.Eq, "!=": sp.Ne, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}
NEGATED = {"==": "!=", "!=": "==", "<=": ">", "<": ">=", ">=": "<", ">": "<="}
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
    undefined: tuple[sp.Basic, ...] = ()
    """Where the claim is undefined (a denominator vanishes); the verdict is for the other values."""

    @property
    def claim(self) -> sp.Basic:
        return OPERATORS[self.relation](self.left, self.right, evaluate=False)

    def _repr_markdown_(self) -> str:
        return provided("proof.markdown")(self)


def _holds(relation: str, left: sp.Expr, right: sp.Expr) -> bool:
    return bool(OPERATORS[relation](left, right))


SOURCE_NESTED = (
    "Graham, Knuth & Patashnik, Concrete Mathematics, eq. (3.11): "
    "floor((floor(x) + m)/n) = floor((x + m)/n), m integer, n positive integer"
)
SOURCE_DIVISION = "division with remainder: x = s*q + r with q = floor(x/s) and 0 <= r <= s - 1, for s >= 1"
TIME_BUDGET = 20.0
"""Seconds :func:`prove` spends before it answers ``unknown`` (settable per call)."""


def _is_integral(expr: sp.Expr) -> bool:
    """A polynomial with integer coefficients in integer symbols (floors count as integer symbols)."""
    expr = sp.expand(expr)
    atoms = {a: sp.Dummy(integer=True) for a in expr.atoms(sp.floor, sp.ceiling)}
    plain = expr.xreplace(atoms)
    if not all(s.is_integer for s in plain.free_symbols):
        return False
    if not plain.is_polynomial(*plain.free_symbols):
        return False
    if not plain.free_symbols:
        return plain.is_Integer
    return all(c.is_Integer for c in sp.Poly(plain, *plain.free_symbols).coeffs())


def _compose_floors(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``floor((floor(u) + m)/n)`` as ``floor((u + m)/n)`` wherever it applies, innermost first."""

    def rewrite(e: sp.Expr) -> sp.Expr:
        if not isinstance(e, sp.floor):
            return e
        numerator, denominator = sp.fraction(sp.together(e.args[0]))
        if not (denominator.is_Integer and denominator > 0):
            return e
        numerator = sp.expand(numerator)
        inner = [f for f in numerator.atoms(sp.floor)]
        for floor in inner:
            rest = sp.expand(numerator - floor)
            if rest.has(floor) or rest.has(sp.floor, sp.ceiling) or not _is_integral(rest):
                continue
            return sp.floor((floor.args[0] + rest) / denominator)
        return e

    previous = None
    while previous != expr:
        previous, expr = expr, expr.replace(lambda e: isinstance(e, sp.floor), rewrite)
    return expr


def _denominators(expr: sp.Expr) -> set[sp.Expr]:
    """Every denominator in ``expr`` that contains a symbol (of the sides and of every floor argument)."""
    found: set[sp.Expr] = set()
    for part in (expr, *(r.args[0] for r in expr.atoms(sp.floor, sp.ceiling))):
        for term in sp.Add.make_args(sp.expand(part)):
            _, denominator = sp.fraction(sp.together(term))
            if denominator.free_symbols:
                found.update(factor for factor, _ in sp.factor_list(denominator)[1] if factor.free_symbols)
    return found


def _zeros(denominators: set[sp.Expr]) -> tuple[list[sp.Basic], dict[sp.Symbol, int] | None]:
    """The conditions under which a denominator vanishes, and for one symbol the bound above its zeros.

    A denominator that is positive for positive integers never vanishes. One in
    a single symbol vanishes at its positive integer roots: the claim is then
    proved from one past the largest of them, the values below checked one by
    one. Any other is reported as a condition.
    """
    undefined: list[sp.Basic] = []
    above: dict[sp.Symbol, int] = {}
    for denominator in denominators:
        if denominator.is_positive or denominator.is_negative:
            continue
        symbols = denominator.free_symbols
        if len(symbols) == 1 and denominator.is_polynomial(*symbols):
            (symbol,) = symbols
            roots = (
                [int(r) for r in sp.Poly(denominator, symbol).ground_roots() if r.is_Integer and r >= 1]
                if symbol.is_integer
                else None
            )
            if roots is None:
                return [*undefined, sp.Eq(denominator, 0)], None
            if not roots:
                continue
            undefined.extend(sp.Eq(symbol, r) for r in sorted(roots))
            undefined.sort(key=sp.default_sort_key)
            above[symbol] = max(above.get(symbol, 0), max(roots))
            continue
        return [*undefined, sp.Eq(denominator, 0)], None
    return undefined, above


def _sign_by_roots(difference: sp.Expr, strict: bool) -> tuple[list[sp.Expr], list[int], int] | None:
    """For one integer symbol n >= 1: ``difference >= 0`` (> 0) by the real roots of its numerator.

    The sign of a polynomial is constant between consecutive real roots, so the
    integers next to each root and one above them all decide every integer.
    Returns the roots, the integers checked and the one above, or None.
    """
    numerator, denominator = sp.fraction(sp.together(difference))
    symbols = numerator.free_symbols | denominator.free_symbols
    if len(symbols) != 1:
        return None
    (n,) = symbols
    if not (n.is_integer and n.is_positive):
        return None
    if not (numerator.is_polynomial(n) and denominator.is_polynomial(n)):
        return None
    product = sp.Poly(sp.expand(numerator * denominator), n)  # the sign of the quotient, where defined
    if product.degree() < 1:
        return None
    points, top = integer_candidates([product], 1)
    for point in [*points, top]:
        value = difference.xreplace({n: point})
        if value.has(sp.zoo, sp.nan):
            continue
        if not (value > 0 if strict else value >= 0):
            return None
    roots = [r for r in sp.Poly(product, n).real_roots()]
    return roots, points, top


def _divide_out(expr: sp.Expr, symbols: list[sp.Symbol]) -> tuple[dict, sp.Symbol, sp.Symbol, sp.Expr] | None:
    """For ``floor(x/s)`` with ``s`` a positive symbol: a symbol of ``x`` to write as ``s*q + r - (rest)``."""
    for rounding in sorted(expr.atoms(sp.floor), key=sp.default_sort_key):
        numerator, divisor = sp.fraction(sp.together(rounding.args[0]))
        if divisor.is_Integer or not (divisor.is_positive and divisor.is_integer):
            continue
        numerator = sp.expand(numerator)
        for symbol in symbols:
            if divisor.has(symbol) or sp.Poly(numerator, symbol).degree() != 1:
                continue
            if numerator.coeff(symbol) != 1:
                continue
            q = sp.Symbol("q", integer=True)
            r = sp.Symbol("r", integer=True, nonnegative=True)
            rest = sp.expand(numerator - symbol)
            return {symbol: divisor * q + r - rest}, q, r, divisor
    return None


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


def _search(left, relation, right, symbols, conditions, deadline=None) -> tuple[dict | None, int, int]:
    """The smallest assignment (by sum) that breaks the claim, the points tried, and the bound used."""
    integers = [s for s in symbols if s.is_integer]
    rationals = [s for s in symbols if not s.is_integer]
    bound = max(2, int(SEARCH_POINTS ** (1 / max(1, len(integers)))))
    bound = min(bound, 400)
    grid = sorted(itertools.product(range(1, bound + 1), repeat=len(integers)), key=lambda v: (sum(v), v))
    tried = 0
    for values in grid:
        if deadline is not None and time.monotonic() > deadline:
            break
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


def _largest(found: Iterable[tuple[sp.Symbol, int] | None]) -> dict[sp.Symbol, int]:
    """The largest of the lower bounds read from conditions (None where a condition is no bound), per symbol."""
    bounds: dict[sp.Symbol, int] = {}
    for bound in found:
        if bound:
            symbol, value = bound
            bounds[symbol] = max(value, bounds.get(symbol, value))
    return bounds


def _lowest(symbol: sp.Symbol, conditions: tuple[sp.Basic, ...]) -> int:
    """The smallest value the assumptions leave a positive-integer symbol."""
    return max(1, _largest(map(lower_bound, conditions)).get(symbol, 1))


def _shift(assumptions: tuple[sp.Basic, ...]) -> tuple[dict[sp.Symbol, sp.Expr], list[sp.Basic]]:
    """Bounds ``n >= c`` become ``n = n' + c - 1`` (n' a positive integer, the largest c kept); others filter."""
    found = [(condition, lower_bound(condition)) for condition in assumptions]
    bounds = _largest(bound for _, bound in found)
    shifts = {s: s + (low - 1) for s, low in bounds.items() if low > 1}
    return shifts, [c for c, bound in found if bound is None]


def prove(
    left: sp.Expr | str,
    right: sp.Expr | str | None = None,
    relation: str = "==",
    assume: tuple[str | sp.Basic, ...] = (),
    time_budget: float = TIME_BUDGET,
) -> Proof:
    """Prove or disprove ``left RELATION right`` for all positive-integer values of the symbols.

    ```pycon
    >>> prove("floor(floor((n - 1)/2)/2)", "floor((n - 1)/4)").status
    'proved'
    >>> proof = prove("2*floor(n/2) == n")
    >>> proof.status, proof.counterexample
    ('disproved', ((n, 1),))

    ```
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
    deadline = time.monotonic() + time_budget
    undefined, above = _zeros(_denominators(left) | _denominators(right))
    # a zero that the assumptions exclude (n = 1 under n >= 3) does not make the claim undefined
    undefined = [u for u in undefined if not any(c.xreplace(_solved(u)) is sp.false for c in conditions)]
    below: list[dict[sp.Symbol, sp.Integer]] = []
    if above:
        # prove from one past the largest zero; the values below it are evaluated one by one
        for symbol, top in above.items():
            low = _lowest(symbol, conditions)
            if top >= low:
                below += [{symbol: sp.Integer(v)} for v in range(low, top + 1)]
                conditions = (*conditions, sp.Ge(symbol, top + 1))
        if len(above) > 1:
            below = []  # several symbols: the finite values are not a product; leave them to the search
    added = {sp.Ge(symbol, top + 1) for symbol, top in (above or {}).items()}
    shifts, filters = _shift(conditions)
    work_left, work_right = without_mod(left.xreplace(shifts)), without_mod(right.xreplace(shifts))
    symbols = sorted(left.free_symbols | right.free_symbols, key=lambda s: s.name)
    steps: list[ProofStep] = []
    if shifts:
        for symbol, shifted in shifts.items():
            steps.append(
                ProofStep(
                    symbol,
                    "=",
                    shifted,
                    (
                        f"a denominator vanishes at {symbol} = "
                        f"{', '.join(str(u.rhs) for u in undefined if u.lhs == symbol)}: the values up to "
                        f"{shifted - symbol} are evaluated one by one, and above it {symbol} is a positive "
                        f"integer plus {shifted - symbol}"
                        if sp.Ge(symbol, shifted.xreplace({symbol: 1})) in added
                        else f"assumption {symbol} >= {shifted.xreplace({symbol: 1})}: "
                        f"write {symbol} as a positive integer plus {shifted - symbol}"
                    ),
                )
            )
        steps.append(ProofStep(work_left, relation, work_right, "substitution"))

    def finish(status, method, counterexample=None, evidence=None):
        return Proof(
            left,
            relation,
            right,
            status,
            method,
            tuple(steps),
            counterexample,
            evidence,
            tuple(c for c in conditions if c not in added),
            tuple(undefined),
        )

    for point in below:
        a, b = left.xreplace(point), right.xreplace(point)
        if a.has(sp.zoo, sp.nan) or b.has(sp.zoo, sp.nan):
            continue
        shown = ", ".join(f"{s} = {v}" for s, v in point.items())
        if not _holds(relation, a, b):
            steps.append(ProofStep(a, NEGATED[relation], b, f"exact evaluation at {shown}"))
            return finish("disproved", "counterexample search", tuple(point.items()))
        steps.append(
            ProofStep(a, relation, b, f"exact evaluation at {shown} (below the zeros of a denominator)")
        )

    composed_left, composed_right = _compose_floors(work_left), _compose_floors(work_right)
    if (composed_left, composed_right) != (work_left, work_right):
        work_left, work_right = composed_left, composed_right
        steps.append(
            ProofStep(work_left, relation, work_right, "nested floors composed into one", SOURCE_NESTED)
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
        elif decided and relation == "!=":
            numerator, _ = sp.fraction(sp.together(work_left - work_right))
            steps.append(
                ProofStep(
                    sp.expand(numerator),
                    "!=",
                    0,
                    "the numerator of the difference never vanishes for positive values of the symbols",
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
            method = {"==": "identity", "!=": "non-vanishing numerator"}.get(relation, "sign of a polynomial")
            return finish("proved", method)
        if relation in (">=", ">", "<=", "<"):
            difference = work_left - work_right if relation in (">=", ">") else work_right - work_left
            found = _sign_by_roots(difference, relation in (">", "<"))
            if found is not None:
                roots, points, top = found
                (n,) = sp.together(difference).free_symbols
                shown = ", ".join(sp.sstr(r) for r in roots) or "none"
                steps.append(
                    ProofStep(
                        sp.together(difference),
                        ">" if relation in (">", "<") else ">=",
                        0,
                        f"the sign changes only at real roots of the numerator ({shown}); "
                        f"checked exactly at {n} = {', '.join(map(str, points))} and at {top}, "
                        f"beyond which the sign is that at {top}",
                    )
                )
                return finish("proved", "sign by real roots")
    if not filters and relation in OPERATORS:
        proved = _prove_by_division(work_left, work_right, relation, symbols, steps)
        if proved:
            return finish("proved", "division with remainder")
    modulus = floor_period(work_left - work_right)
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
                f"residue case split: r = 1..{modulus}, q ≥ 0 covers every positive integer",
                SOURCE_FLOOR,
            )
        )
        all_cases = True
        for residues in itertools.product(range(1, modulus + 1), repeat=len(symbols)):
            if time.monotonic() > deadline:
                all_cases = False
                break
            case = {s: modulus * quotients[s] + r for s, r in zip(symbols, residues, strict=True)}
            a, b = sp.expand(work_left.xreplace(case)), sp.expand(work_right.xreplace(case))
            if (a - b).has(*rounding) or not _decide(relation, a, b):
                all_cases = False
                break
            shown = ", ".join(
                f"{s} = {modulus}{quotients[s]} + {r}" for s, r in zip(symbols, residues, strict=True)
            )
            with sp.evaluate(False):  # the sides as the case writes them, before the floors are resolved
                written_left, written_right = work_left.xreplace(case), work_right.xreplace(case)
            same = relation == "==" and sp.expand(a - b) == 0
            steps.append(
                ProofStep(
                    written_left,
                    "=",
                    a,
                    f"case {shown}: every floor and ceiling is a polynomial in the quotient"
                    + (", and so is the right side, equal to it" if same else ""),
                )
            )
            if work_right.has(*rounding):
                steps.append(ProofStep(written_right, "=", b, "the right side in the same case"))
            if not same:
                steps.append(
                    ProofStep(a, relation, b, "compare the two polynomials (the quotient is at least 0)")
                )
        if all_cases:
            return finish("proved", "residue case split")
        del steps[before:]
    counterexample, tried, bound = _search(left, relation, right, symbols, conditions, deadline)
    if counterexample is not None:
        values = tuple(sorted(counterexample.items(), key=lambda item: item[0].name))
        a, b = left.xreplace(counterexample), right.xreplace(counterexample)
        steps.append(
            ProofStep(
                a,
                NEGATED[relation],
                b,
                "exact evaluation at " + ", ".join(f"{s} = {v}" for s, v in values),
            )
        )
        return finish("disproved", "counterexample search", values)
    evidence = f"no counterexample among {tried} assignments with integer symbols from 1 to {bound}"
    if time.monotonic() > deadline:
        evidence += f" (the time budget of {time_budget:g} s ran out)"
    return finish("unknown", "numeric evidence only", evidence=evidence)


def _solved(condition: sp.Basic) -> dict:
    """``Eq(n, 3)`` as ``{n: 3}``; anything else as no substitution."""
    if isinstance(condition, sp.Eq) and isinstance(condition.lhs, sp.Symbol) and condition.rhs.is_number:
        return {condition.lhs: condition.rhs}
    return {}


def _prove_by_division(left, right, relation, symbols, steps) -> bool:
    """Floors with a symbolic divisor: write a symbol of the dividend by division with remainder.

    ``floor((x + c)/s)`` with ``x`` a symbol of coefficient 1: ``x = s*q + r - c``
    with ``0 <= r <= s - 1`` makes that floor ``q``, and any floor of the same
    dividend plus a multiple of ``s`` ``q`` plus that multiple. The claim is
    proved for every integer ``q`` and every such ``r``, which covers every ``x``.
    """
    found = _divide_out(left - right, symbols)
    if found is None:
        return False
    substitution, q, r, divisor = found
    a, b = sp.expand(left.xreplace(substitution)), sp.expand(right.xreplace(substitution))
    remainder_floors = {
        f for f in a.atoms(sp.floor) | b.atoms(sp.floor) if sp.simplify(f.args[0] - r / divisor) == 0
    }
    a, b = a.xreplace({f: 0 for f in remainder_floors}), b.xreplace({f: 0 for f in remainder_floors})
    if (a - b).has(sp.floor, sp.ceiling, sp.Mod):
        return False
    (symbol,) = substitution
    if relation == "==":
        if sp.expand(sp.fraction(sp.together(a - b))[0]) != 0:
            return False
    else:
        difference = a - b if relation in (">=", ">") else b - a
        slack = sp.Symbol("t", integer=True, nonnegative=True)
        bounded = sp.expand(difference.xreplace({divisor: r + 1 + slack})) if divisor.is_Symbol else None
        if bounded is None or bounded.has(q):
            return False
        strict = relation in (">", "<")
        if not (bounded.is_positive if strict else bounded.is_nonnegative):
            if not _sign_proof(bounded + 0, strict):
                return False
    steps.append(
        ProofStep(
            symbol,
            "=",
            substitution[symbol],
            f"division with remainder by {divisor}: q an integer, 0 <= r <= {divisor} - 1",
            SOURCE_DIVISION,
        )
    )
    steps.append(
        ProofStep(
            a, relation if relation != "==" else "=", b, f"floor(r/{divisor}) = 0 since 0 <= r < {divisor}"
        )
    )
    return True
