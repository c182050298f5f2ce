"""Questions a symbolic network can answer that counters cannot.

* :func:`diff`: every total of two networks, their difference and ratio as formulas;
* :func:`domain`: the conditions under which every layer is valid, the smallest
  valid input, and where the floors vanish (with the exact formulas there);
* :func:`solve`: the largest width, size or channel count under budgets;
* :func:`memory`: activation and parameter memory, and the peak of a forward pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symconv.errors import ShapeError, SpecError
from symconv.network import Network
from symconv.report import Report, tidy
from symconv.sizes import is_true, parse_size

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


def diff(first: Network, second: Network) -> tuple[Difference, ...]:
    """Each total of ``second`` against ``first``: difference and ratio, simplified."""
    found = []
    for quantity in QUANTITIES:
        a, b = getattr(first.report, quantity), getattr(second.report, quantity)
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
    conditions: tuple[sp.Basic, ...]
    smallest: tuple[tuple[sp.Symbol, int | None], ...]
    exact_when: tuple[ExactCase, ...]


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


def _smallest(network: Network, symbol: sp.Symbol, fixed: dict, limit: int) -> int | None:
    conditions = [a.condition.xreplace(fixed) for a in network.assumptions]
    relevant = [c for c in conditions if c.free_symbols <= {symbol}]
    for value in range(1, limit + 1):
        if all(is_true(c.xreplace({symbol: value})) for c in relevant):
            return value
    return None


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
    smallest = tuple((s, _smallest(network, s, fixed, limit)) for s in spatial)
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
    return Domain(conditions, smallest, tuple(cases))


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
    symbol: sp.Symbol
    value: sp.Expr | None
    supremum: sp.Expr | None  # for a rational symbol: the exact bound before channel integrality
    report: Report | None
    budgets: tuple[Budget, ...]
    note: str


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


def solve(
    network: Network, symbol_name: str, budgets: list[Budget], at: dict | None = None, limit: int = 10**7
) -> Solution:
    """The largest value of one symbol under the budgets, every other symbol fixed by ``at``."""
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

    def feasible(value: sp.Expr) -> Report | None:
        try:
            evaluated = base.at({symbol: value})
        except ShapeError:
            return None
        return evaluated if all(b.holds(evaluated) for b in budgets) else None

    if symbol.is_integer:
        low = next((v for v in range(1, 4097) if feasible(sp.Integer(v))), None)
        if low is None:
            return Solution(
                symbol, None, None, None, tuple(budgets), "no value from 1 to 4096 meets the budgets"
            )
        high = low
        while high < limit and feasible(sp.Integer(high * 2)):
            high *= 2
        top = high * 2
        while top - high > 1:  # feasible(high), not feasible(top)
            middle = (high + top) // 2
            if feasible(sp.Integer(middle)):
                high = middle
            else:
                top = middle
        note = (
            f"{symbol} = {high} meets the budgets and {high + 1} does not (exact evaluation); "
            "the totals grow with the symbol"
        )
        return Solution(symbol, sp.Integer(high), None, feasible(sp.Integer(high)), tuple(budgets), note)
    # a rational symbol: the exact bound of each budget is a root of a polynomial in the symbol
    supremum = None
    x = sp.Symbol("x", positive=True)
    for budget in budgets:
        quantity = sp.sympify(getattr(base, budget.quantity)).xreplace({symbol: x})
        roots = [r for r in sp.solve(sp.Eq(quantity, budget.limit), x) if r.is_positive]
        if not roots:
            raise SpecError(f"{budget.quantity} does not reach {budget.limit} for any positive {symbol}")
        bound = min(roots)
        supremum = bound if supremum is None else sp.Min(supremum, bound)
    step = _lattice_step(network, symbol)
    if step is None:
        value = supremum
        note = f"the largest {symbol} is the root of the binding budget"
    else:
        value = sp.floor(supremum / step) * step
        if budgets[0].strict and value == supremum:
            value -= step
        note = f"channel counts are integers only for {symbol} a multiple of {step}; the largest such value"
    evaluated = feasible(value)
    if evaluated is None:
        raise SpecError(f"no value of {symbol} meets the budgets with integer channel counts")
    return Solution(symbol, value, supremum, evaluated, tuple(budgets), note)


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
