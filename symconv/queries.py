"""Questions a symbolic network can answer that counters cannot.

* :func:`diff`: every total of two networks, their difference and ratio as formulas;
* :func:`domain`: the conditions under which every layer is valid, the smallest
  valid input, and where the floors vanish (with the exact formulas there);
* :func:`solve`: the largest width, size or channel count under budgets;
* :func:`memory`: activation and parameter memory, and the peak of a forward pass.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symconv.errors import ShapeError, SpecError
from symconv.network import Network
from symconv.report import Report, tidy
from symconv.sizes import floor_period, integer_candidates, is_true, parse_size, without_mod

QUANTITIES = ("params", "macs", "flops", "activations")
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


# --- diff -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    quantity: str
    first: sp.Expr
    second: sp.Expr
    difference: sp.Expr
    ratio: sp.Expr | None
    ratio_expanded: sp.Expr | None


def diff(first: Network, second: Network, values: dict | None = None) -> tuple[Difference, ...]:
    """Each total of ``second`` against ``first``: difference and ratio, simplified (at ``values`` if given)."""
    found = []
    reports = [n.report.at(values) if values else n.report for n in (first, second)]
    for quantity in QUANTITIES:
        a, b = (getattr(r, quantity) for r in reports)
        ratio = expanded = None
        if a != 0:
            ratio = sp.factor(sp.cancel(sp.together(b / a)))
            expanded = sp.expand(ratio)
        found.append(Difference(quantity, a, b, tidy(b - a), ratio, expanded))
    return tuple(found)


# --- domain ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactCase:
    condition: sp.Basic
    output_shape: tuple[sp.Expr, ...]
    params: sp.Expr
    macs: sp.Expr


@dataclass(frozen=True)
class Domain:
    """Where a network is valid.

    ``smallest`` holds each size's smallest valid value; when that value is
    valid only for some values of other free symbols, ``witnesses`` gives them
    (searched from 1 to :data:`SMALLEST_BOX`).
    """

    conditions: tuple[sp.Basic, ...]
    smallest: tuple[tuple[sp.Symbol, int | None], ...]
    exact_when: tuple[ExactCase, ...]
    witnesses: tuple[tuple[sp.Symbol, tuple[tuple[sp.Symbol, int], ...]], ...] = ()


def simplify_condition(condition: sp.Basic) -> sp.Basic:
    """``a*s + b >= 0`` in one integer symbol becomes ``s >= ceil(-b/a)``."""
    if not isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan, sp.LessThan, sp.StrictLessThan)):
        return condition
    difference = sp.expand(condition.lhs - condition.rhs)
    symbols = difference.free_symbols
    if len(symbols) != 1:
        return condition
    (symbol,) = symbols
    if not symbol.is_integer or not difference.is_polynomial(symbol) or sp.degree(difference, symbol) != 1:
        return condition
    a, b = sp.Poly(difference, symbol).all_coeffs()
    if not (a.is_Rational and b.is_Rational) or a == 0:
        return condition
    strict = isinstance(condition, (sp.StrictGreaterThan, sp.StrictLessThan))
    greater = isinstance(condition, (sp.GreaterThan, sp.StrictGreaterThan)) == (a > 0)
    bound = -b / a
    if greater:
        low = math.floor(bound) + 1 if strict else math.ceil(bound)
        return sp.Ge(symbol, low)
    high = math.ceil(bound) - 1 if strict else math.floor(bound)
    return sp.Le(symbol, high)


def _strongest(conditions) -> tuple[sp.Basic, ...]:
    """Keep, per symbol, only the largest lower bound and the smallest upper bound."""
    lower: dict[sp.Symbol, sp.Basic] = {}
    upper: dict[sp.Symbol, sp.Basic] = {}
    others = []
    for condition in conditions:
        if (
            isinstance(condition, sp.GreaterThan)
            and isinstance(condition.lhs, sp.Symbol)
            and condition.rhs.is_Integer
        ):
            if condition.lhs not in lower or condition.rhs > lower[condition.lhs].rhs:
                lower[condition.lhs] = condition
        elif (
            isinstance(condition, sp.LessThan)
            and isinstance(condition.lhs, sp.Symbol)
            and condition.rhs.is_Integer
        ):
            if condition.lhs not in upper or condition.rhs < upper[condition.lhs].rhs:
                upper[condition.lhs] = condition
        elif condition not in others:
            others.append(condition)
    return (*lower.values(), *upper.values(), *others)


def _spatial(network: Network) -> list[sp.Symbol]:
    found: set[sp.Symbol] = set()
    for size in network.input_shape[1:]:
        found |= sp.sympify(size).free_symbols
    return sorted(found, key=lambda s: s.name)


SMALLEST_BOX = 8
"""When a size's conditions involve other free symbols, those are tried from 1 to this."""


def _smallest(
    network: Network, symbol: sp.Symbol, fixed: dict, limit: int, box: int = SMALLEST_BOX
) -> tuple[int | None, tuple[tuple[sp.Symbol, int], ...]]:
    """The smallest valid value of ``symbol``, and the values of the other free symbols that make it valid.

    Conditions that involve other free symbols (a symbolic stride, kernel,
    padding, or the other side of the image) count: a value is valid when some
    values of those symbols from 1 to ``box`` make every condition hold.
    """
    conditions = [a.condition.xreplace(fixed) for a in network.assumptions]
    relevant = [c for c in conditions if symbol in c.free_symbols]
    others = sorted(set().union(*(c.free_symbols for c in relevant)) - {symbol}, key=lambda s: s.name)
    if not others:
        for value in range(1, limit + 1):
            if all(is_true(c.xreplace({symbol: value})) for c in relevant):
                return value, ()
        return None, ()
    combinations = list(itertools.product(range(1, box + 1), repeat=len(others)))
    budget = 200_000  # condition evaluations
    for value in range(1, limit + 1):
        at_value = [c.xreplace({symbol: value}) for c in relevant]
        if any(is_true(c) is False for c in at_value):
            continue
        for combination in combinations:
            budget -= len(at_value)
            if budget < 0:
                return None, ()
            assignment = dict(zip(others, combination, strict=True))
            if all(is_true(c.xreplace(assignment)) for c in at_value):
                return value, tuple(assignment.items())
    return None, ()


def _moduli(expr: sp.Basic, symbol: sp.Symbol) -> list[int] | None:
    found = []
    for rounding in sp.sympify(expr).atoms(sp.floor, sp.ceiling):
        if symbol not in rounding.free_symbols:
            continue
        _, denominator = sp.fraction(sp.together(rounding.args[0]))
        if not denominator.is_Integer:
            return None
        found.append(int(denominator))
    return found


def domain(network: Network, at: dict | None = None, limit: int = 100_000) -> Domain:
    """Validity conditions, smallest valid input per spatial symbol, and the exact case without floors."""
    report = network.report
    fixed = report.resolve(at or {})
    conditions = tuple(simplify_condition(a.condition.xreplace(fixed)) for a in network.assumptions)
    conditions = _strongest(c for c in conditions if is_true(c) is not True)
    spatial = [s for s in _spatial(network) if s not in fixed]
    found = {s: _smallest(network, s, fixed, limit) for s in spatial}
    smallest = tuple((s, value) for s, (value, _) in found.items())
    witnesses = tuple((s, witness) for s, (_, witness) in found.items() if witness)
    cases = []
    expressions = [d for row in report.rows for d in row.output_shape] + [report.macs, report.params]
    substitution, conditions_exact = {}, []
    for symbol in spatial:
        moduli = []
        for expr in expressions:
            found = _moduli(expr, symbol)
            if found is None:
                moduli = None
                break
            moduli += found
        if not moduli:
            continue
        modulus = math.lcm(*moduli)
        quotient = sp.Symbol(f"{symbol.name}_q", integer=True, positive=True)
        substitution[symbol] = (modulus * quotient, quotient, modulus)
        conditions_exact.append(sp.Eq(sp.Mod(symbol, modulus), 0))
    if substitution:

        def exact(expr: sp.Expr) -> sp.Expr:
            expr = sp.sympify(expr).xreplace({s: m for s, (m, _, _) in substitution.items()})
            return tidy(expr.xreplace({q: s / modulus for s, (_, q, modulus) in substitution.items()}))

        cases.append(
            ExactCase(
                sp.And(*conditions_exact),
                tuple(exact(d) for d in report.output_shape),
                exact(report.params),
                exact(report.macs),
            )
        )
    return Domain(conditions, smallest, tuple(cases), witnesses)


# --- solve ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    quantity: str
    strict: bool
    limit: sp.Rational

    def holds(self, report: Report) -> bool:
        value = getattr(report, self.quantity)
        return bool(value < self.limit) if self.strict else bool(value <= self.limit)


_SUFFIXES = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def parse_budget(text: str) -> Budget:
    """``macs <= 300e6`` (also ``300M``, ``3.5G``; quantities: params, macs, flops, activations)."""
    match = re.fullmatch(
        r"\s*(params|macs|flops|activations)\s*(<=|<)\s*([0-9][0-9_.eE+]*)([kKMGT]?)\s*", text
    )
    if not match:
        raise SpecError(
            f"--subject-to {text!r}: expected QUANTITY <= NUMBER with QUANTITY one of "
            f"{', '.join(QUANTITIES)} (e.g. 'macs <= 300e6' or 'params < 4.2M')"
        )
    digits = match.group(3).replace("_", "")
    exponent = re.search(r"[eE]\+?(\d+)$", digits)
    if len(digits) > 40 or (exponent and int(exponent.group(1)) > 30):
        raise SpecError(f"--subject-to {text!r}: budgets above 1e30 are not supported")
    try:
        number = Fraction(digits) * _SUFFIXES.get(match.group(4), 1)
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"--subject-to {text!r}: {match.group(3)!r} is not a number") from None
    return Budget(match.group(1), match.group(2) == "<", sp.Rational(number.numerator, number.denominator))


@dataclass(frozen=True)
class Solution:
    """The answer of :func:`solve`.

    ``status`` says what kind of answer it is: ``exact`` (``value`` is the
    largest value meeting the budgets, decided for every value of the symbol),
    ``unbounded`` (there is no largest: ``value`` and every value above it in
    its residue class, as ``note`` states, meet them), ``none`` (no value meets them, decided), or ``searched`` (the
    totals are not polynomial in the symbol on residue classes, so only the
    values up to ``searched_up_to`` were tried: ``value`` is the largest of
    those, and nothing is claimed beyond).
    """

    symbol: sp.Symbol
    value: sp.Expr | None
    supremum: sp.Expr | None  # for a rational symbol: the exact bound before channel integrality
    report: Report | None
    budgets: tuple[Budget, ...]
    note: str
    status: str = "exact"
    searched_up_to: sp.Expr | None = None


def _lattice_step(network: Network, symbol: sp.Symbol) -> sp.Rational | None:
    """For a rational symbol: the step 1/g on which every channel count is an integer."""
    coefficients = []
    for assumption in network.assumptions:
        condition = assumption.condition
        if isinstance(condition, sp.Eq) and isinstance(condition.lhs, sp.Mod) and condition.lhs.args[1] == 1:
            expr = condition.lhs.args[0]
            coefficient = sp.simplify(expr / symbol)
            if coefficient.is_Integer:
                coefficients.append(int(coefficient))
    return sp.Rational(1, math.gcd(*coefficients)) if coefficients else None


MAX_PERIOD = 4096
"""Residue classes :func:`solve` is willing to examine one by one."""

SEARCH_LIMIT = 1024
"""Values :func:`solve` tries when it cannot decide (the ``searched`` status)."""


def _period(conditions: list[sp.Basic]) -> int | None:
    """A period L such that, on each class ``symbol = L*t + r``, no floor or Mod of the symbol remains.

    None when a divisor is not an integer or the period passes :data:`MAX_PERIOD`.
    """
    found = floor_period(
        without_mod(sp.And(*conditions)) if len(conditions) > 1 else without_mod(conditions[0])
    )
    return found if found is not None and found <= MAX_PERIOD else None


_RELATIONS = (
    sp.GreaterThan,
    sp.StrictGreaterThan,
    sp.LessThan,
    sp.StrictLessThan,
    sp.Equality,
    sp.Unequality,
)


def _polynomial_of(condition: sp.Basic, t: sp.Symbol) -> sp.Poly | bool | None:
    """``condition`` in ``t`` as the polynomial whose sign decides it, True/False, or None if it is not one."""
    if condition in (sp.true, sp.false) or isinstance(condition, bool):
        return bool(condition)
    if not isinstance(condition, _RELATIONS):
        return None
    difference = sp.expand(condition.lhs - condition.rhs)
    if difference.free_symbols - {t}:
        return None
    if not difference.is_polynomial(t) or difference.has(sp.floor, sp.ceiling, sp.Mod):
        return None
    return sp.Poly(difference, t)


def _holds(relations: list[tuple[sp.Basic, sp.Poly]], t: sp.Symbol, point: int) -> bool:
    return all(bool(relation.xreplace({t: point})) for relation, _ in relations)


def _largest_on_classes(  # noqa: C901
    symbol: sp.Symbol, conditions: list[sp.Basic], period: int, deadline: float = math.inf
) -> tuple[str, int | None]:
    """The largest integer ``symbol >= 1`` meeting every condition, decided class by class modulo ``period``.

    On the class ``symbol = r + period*t`` every condition must be a polynomial
    relation in ``t``. Returns ("exact", v), ("unbounded", v0) with v0 a value
    from which every value of its class (v0 + period*t) meets them, ("none", None), or ("undecided",
    None) when a condition is not polynomial on some class.
    """
    t = sp.Symbol("t", integer=True, nonnegative=True)
    best: int | None = None
    unbounded_from: int | None = None
    for r in range(1, period + 1):
        if time.monotonic() > deadline:
            return "undecided", None
        relations = []
        for condition in conditions:
            relation = condition.xreplace({symbol: r + period * t})
            polynomial = _polynomial_of(relation, t)
            if polynomial is None:
                return "undecided", None
            if polynomial is False:
                break
            if polynomial is not True:
                relations.append((relation, polynomial))
        else:
            points, top = integer_candidates([polynomial for _, polynomial in relations], 0)
            points.reverse()

            if _holds(relations, t, top):
                start = r + period * top
                unbounded_from = start if unbounded_from is None else min(unbounded_from, start)
                continue
            for point in points:
                value = r + period * point
                if best is not None and value <= best:
                    break
                if _holds(relations, t, point):
                    best = value
                    break
    if unbounded_from is not None:
        return "unbounded", unbounded_from
    return ("exact", best) if best is not None else ("none", None)


def solve(
    network: Network,
    symbol_name: str,
    budgets: list[Budget],
    at: dict | None = None,
    limit: int = SEARCH_LIMIT,
    time_budget: float = 60.0,
) -> Solution:
    """The largest value of one symbol under the budgets, every other symbol fixed by ``at``.

    Exact wherever the totals and the network's conditions are polynomials in the
    symbol on residue classes (sizes, channel counts, widths on their lattice):
    the answer holds for every value, with unbounded and empty cases said so.
    Otherwise (a stride or kernel maximised, a width under rounding) it tries the
    values up to ``limit`` and says that it did only that. After ``time_budget``
    seconds it stops deciding and reports the values it searched.
    """
    deadline = time.monotonic() + time_budget
    report = network.report
    known = {s.name: s for s in report.free_symbols()}
    if symbol_name not in known:
        raise SpecError(
            f"--maximize {symbol_name}: not a symbol of this network ({', '.join(sorted(known))})"
        )
    symbol = known[symbol_name]
    fixed = report.resolve(at or {})
    free = set(known.values()) - set(fixed) - {symbol}
    if free:
        raise SpecError(f"give values for {', '.join(sorted(s.name for s in free))} with --at")
    base = report.at(fixed) if fixed else report
    validity = [a.condition.xreplace(fixed) for a in network.assumptions]
    validity = [c for c in validity if symbol in c.free_symbols]
    budgets = tuple(budgets)

    def feasible_at(value: sp.Expr) -> Report | None:
        try:
            evaluated = base.at({symbol: value})
        except (ShapeError, SpecError):
            return None
        return evaluated if all(b.holds(evaluated) for b in budgets) else None

    def relations(substitution: sp.Expr, integrality: bool = True) -> list[sp.Basic]:
        """Validity and budgets with ``symbol`` replaced (without integrality: no ``Mod`` conditions)."""
        kept = validity if integrality else [c for c in validity if not c.has(sp.Mod)]
        found = [c.xreplace({symbol: substitution}) for c in kept]
        for budget in budgets:
            quantity = sp.sympify(getattr(base, budget.quantity)).xreplace({symbol: substitution})
            found.append(sp.Lt(quantity, budget.limit) if budget.strict else sp.Le(quantity, budget.limit))
        return found

    if symbol.is_integer:
        return _solve_on_integers(
            symbol, sp.Integer(1), relations, feasible_at, budgets, limit, None, deadline
        )
    step = _lattice_step(network, symbol)
    x = sp.Symbol("x", positive=True)
    supremum = _real_supremum(relations(x, integrality=step is None), x)
    if supremum == 0:
        return Solution(symbol, None, None, None, budgets, f"no positive {symbol} meets the budgets", "none")
    if step is None:
        if supremum is None:
            reason = f"{symbol} is rounded inside the totals"
            return _searched(symbol, sp.Rational(1, 100), feasible_at, budgets, limit, None, deadline, reason)
        if supremum is sp.oo:
            note = f"every positive {symbol} meets the budgets"
            return Solution(symbol, sp.Integer(0), None, None, budgets, note, "unbounded")
        value = supremum if feasible_at(supremum) is not None else None
        note = f"the largest {symbol} is the root of the binding budget"
        if value is None:
            note = f"{symbol} may approach {supremum} but not reach it (a strict budget); no largest value"
        return Solution(
            symbol, value, supremum, feasible_at(value) if value is not None else None, budgets, note
        )
    return _solve_on_integers(symbol, step, relations, feasible_at, budgets, limit, supremum, deadline)


def _real_supremum(conditions: list[sp.Basic], x: sp.Symbol) -> sp.Expr | None:
    """The supremum of the positive reals ``x`` meeting every condition (0: none; oo: unbounded; None: not polynomial)."""
    polynomials = []
    for condition in conditions:
        polynomial = _polynomial_of(condition, x)
        if polynomial is None:
            return None
        if polynomial is False:
            return sp.Integer(0)
        if polynomial is not True:
            polynomials.append(polynomial)
    roots = sorted({root for p in polynomials for root in sp.Poly(p.as_expr(), x).real_roots() if root > 0})

    def holds(point: sp.Expr) -> bool:
        return all(is_true(c.xreplace({x: point})) for c in conditions)

    if holds(roots[-1] + 1 if roots else sp.Integer(1)):
        return sp.oo
    below = [sp.Integer(0), *roots[:-1]]
    for upper, lower in zip(reversed(roots), reversed(below), strict=True):
        if holds(upper) or holds((upper + lower) / 2):
            return upper
    return sp.Integer(0)


def _solve_on_integers(symbol, step, relations, feasible_at, budgets, limit, supremum, deadline) -> Solution:
    """The integer search of :func:`solve`: ``symbol = step * count`` over positive integers ``count``."""

    def feasible(count: int) -> bool:
        return count >= 1 and feasible_at(step * count) is not None

    count = sp.Symbol("count", integer=True, positive=True)
    conditions = relations(step * count)
    period = _period(conditions)
    status, found = (
        ("undecided", None) if period is None else _largest_on_classes(count, conditions, period, deadline)
    )
    if status in ("exact", "unbounded") and not feasible(found):
        status = "undecided"  # the exact evaluation disagrees with the conditions: decide nothing
    unit = "" if step == 1 else f" (a multiple of {step}: channel counts are integers only there)"
    if status == "exact":
        value = step * found
        note = (
            f"{symbol} = {value}{unit} meets the budgets and no larger value does (decided for every value)"
        )
        return Solution(symbol, value, supremum, feasible_at(value), budgets, note)
    if status == "unbounded":
        value = step * found
        every = (
            f"every {symbol}" if period == 1 else f"{symbol} = {value} + {step * period}*j for every j >= 0"
        )
        note = f"{every}{unit} meets the budgets (from {value} on): there is no largest"
        return Solution(symbol, value, supremum, None, budgets, note, "unbounded")
    if status == "none":
        return Solution(symbol, None, supremum, None, budgets, f"no {symbol}{unit} meets the budgets", "none")
    reason = f"the totals are not polynomial in {symbol} on residue classes"
    return _searched(symbol, step, feasible_at, budgets, limit, supremum, deadline, reason)


def _searched(symbol, step, feasible_at, budgets, limit, supremum, deadline, reason) -> Solution:
    """The values ``step, 2*step, ..., limit*step`` tried from the top down, and only those."""
    reach = step * limit
    for count in range(limit, 0, -1):
        if time.monotonic() > deadline:
            note = (
                f"the time budget ran out while searching {symbol} downward from {reach}: "
                f"nothing was decided above {step * count}"
            )
            return Solution(symbol, None, supremum, None, budgets, note, "searched", reach)
        evaluated = feasible_at(step * count)
        if evaluated is not None:
            tried = f"{symbol} from 1 to {reach}" if step == 1 else f"the multiples of {step} up to {reach}"
            note = (
                f"searched {tried}: {step * count} is the largest there that meets the budgets; "
                f"nothing is claimed {'' if step == 1 else 'between them or '}beyond {reach} ({reason})"
            )
            return Solution(symbol, step * count, supremum, evaluated, budgets, note, "searched", reach)
    note = f"no multiple of {step} up to {reach} meets the budgets; other values were not tried ({reason})"
    return Solution(symbol, None, supremum, None, budgets, note, "searched", reach)


# --- memory ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Memory:
    batch: sp.Expr
    dtype: str
    activations: tuple[tuple[str, sp.Expr], ...]  # elements per layer output, times the batch
    parameter_bytes: sp.Expr
    activation_bytes: sp.Expr
    peak_bytes: sp.Expr
    bytes_per_element: int


def memory(
    network: Network, batch: int | str = "B", dtype: str = "float32", values: dict | None = None
) -> Memory:
    """Activation and parameter bytes, and the peak live activations of a forward pass.

    Liveness model: the input and every layer's output are allocated when produced and freed after
    their last reader ran (the network output stays); a layer holds its inputs and its output at
    once. In-place operations and workspace memory are not modelled.
    """
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"--dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    batch = parse_size(batch) if isinstance(batch, str) else sp.Integer(batch)
    size = DTYPE_BYTES[dtype]
    report = network.report.at(values) if values else network.report
    elements = {-1: sp.Mul(*report.input_shape) * batch}
    for index, row in enumerate(report.rows):
        elements[index] = row.activations * batch
    last_use = {t: t for t in elements}
    for index, node in enumerate(network.graph):
        for source in node.inputs:
            last_use[source] = max(last_use[source], index)
    last_use[len(network.graph) - 1] = len(network.graph)
    totals = []
    for index in range(len(network.graph)):
        live = [t for t in elements if t <= index and last_use[t] >= index]
        totals.append(tidy(sp.Add(*(elements[t] for t in live))))
    peak = sp.Max(*totals) * size
    return Memory(
        batch,
        dtype,
        tuple((row.name, tidy(elements[i])) for i, row in enumerate(report.rows)),
        tidy(report.params * size),
        tidy(report.activations * batch * size),
        peak,
        size,
    )
