"""Formula against measurement: every layer, every quantity, at sampled sizes.

For each assignment of the symbols, the symbolic report is evaluated exactly
and the NumPy backend runs the network and measures output shapes,
parameters allocated and multiply-adds performed. Any disagreement fails the
check; the smallest failing assignment is reported.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from symconv.display import provides
from symconv.errors import ShapeError, SpecError
from symconv.network import Network
from symconv.numeric import MEMORY_BUDGET, run, witness_bytes

ENUMERATE_BUDGET = 20_000
FAST_BUDGET = 300_000_000
SAMPLING_SECONDS = 20.0
"""How long :func:`sample_assignments` looks for valid values before it gives up."""
RATIONAL_SAMPLES = tuple(sp.Rational(p, q) for p, q in ((1, 4), (1, 2), (3, 4), (1, 1), (5, 4), (3, 2)))
QUANTITIES = ("output_shape", "params", "macs")


@dataclass(frozen=True)
class Check:
    """One comparison of a formula with a measurement."""

    layer: str
    quantity: str
    formula: object
    expected: object
    measured: object
    ok: bool
    values: tuple[tuple[sp.Symbol, sp.Expr], ...]
    mode: str


@dataclass(frozen=True)
class CheckResult:
    """All comparisons, the assignments they were made at, and the smallest failing one."""

    checks: tuple[Check, ...]
    assignments: tuple[tuple[tuple[sp.Symbol, sp.Expr], ...], ...]
    seed: int

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def smallest_failure(self) -> tuple[tuple[sp.Symbol, sp.Expr], ...] | None:
        failing = {c.values for c in self.checks if not c.ok}
        if not failing:
            return None
        return min(failing, key=lambda values: (sum(v for _, v in values), [str(v) for _, v in values]))


def _candidate(rng: random.Random, free: list[sp.Symbol], spatial: set[sp.Symbol], scale: int) -> dict:
    values = {}
    for symbol in free:
        if not symbol.is_integer:
            values[symbol] = rng.choice(RATIONAL_SAMPLES)
        elif symbol in spatial:
            values[symbol] = sp.Integer(rng.randint(1, 40 * scale))
        else:
            values[symbol] = sp.Integer(rng.randint(1, 3 + scale))
    return values


def sample_assignments(
    network: Network, fixed: dict, count: int, seed: int, memory_budget: int | None = MEMORY_BUDGET
) -> list[dict]:
    """``count`` random assignments of the free symbols under which every layer is valid.

    Sampled values stay within the NumPy backend's work and memory budgets;
    values given in ``fixed`` are used as they are (and refused by :func:`run`
    when they need more memory than the budget).
    """
    report = network.report
    free = sorted(report.free_symbols() - set(fixed), key=lambda s: s.name)
    if not free:
        report.at(fixed)  # refuses values under which a layer is impossible
        return [dict(fixed)]
    spatial = set().union(*(sp.sympify(d).free_symbols for d in network.input_shape[1:]))
    rng = random.Random(seed)
    found: list[dict] = []
    deadline = time.monotonic() + SAMPLING_SECONDS
    for attempt in range(400 * count):
        if len(found) == count or time.monotonic() > deadline:
            break
        values = {**fixed, **_candidate(rng, free, spatial, 1 + attempt // 50)}
        if values in found:
            continue
        if memory_budget is not None:  # the input alone, before the whole report is evaluated
            sizes = [sp.sympify(d).xreplace(values) for d in network.input_shape]
            if all(s.is_Integer for s in sizes) and 8 * math.prod(int(s) for s in sizes) > memory_budget:
                continue
        try:
            evaluated = report.at(values)
        except ShapeError:
            continue
        if not evaluated.macs.is_Integer or int(evaluated.macs) > FAST_BUDGET:
            continue
        if memory_budget is not None and witness_bytes(network, values, evaluated)[0] > memory_budget:
            continue
        if any(not sp.sympify(d).is_Integer for r in evaluated.rows for d in r.output_shape):
            continue
        found.append(values)
    if len(found) < count:
        raise SpecError(
            f"found only {len(found)} of {count} valid assignments of {', '.join(map(str, free))} "
            "within the NumPy backend's budgets; give values with --at"
        )
    return found


@provides("network.check")
def check_network(
    network: Network,
    fixed: dict | None = None,
    samples: int = 3,
    seed: int = 0,
    mode: str = "auto",
    memory_budget: int | None = MEMORY_BUDGET,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Compare every formula with the NumPy backend's measurement at sampled values.

    ``progress(done, total)`` is called after each sample, for long checks.
    """
    fixed = network.report.resolve(fixed or {})
    assignments = sample_assignments(network, fixed, samples, seed, memory_budget)
    checks: list[Check] = []
    for done, values in enumerate(assignments, 1):
        expected = network.report.at(values)
        chosen = mode
        if mode == "auto":
            chosen = "enumerate" if int(expected.macs) <= ENUMERATE_BUDGET else "fast"
        measured = run(network, values, chosen, seed=seed, memory_budget=memory_budget, evaluated=expected)
        key = tuple(sorted(values.items(), key=lambda item: item[0].name))
        for symbolic, evaluated, measurement in zip(
            network.report.rows, expected.rows, measured.measurements, strict=True
        ):
            pairs = {
                "output_shape": (
                    symbolic.output_shape,
                    tuple(int(d) for d in evaluated.output_shape),
                    measurement.output_shape,
                ),
                "params": (symbolic.params, int(evaluated.params), measurement.params),
                "macs": (symbolic.macs, int(evaluated.macs), measurement.macs),
            }
            for quantity in QUANTITIES:
                formula, want, got = pairs[quantity]
                checks.append(Check(symbolic.name, quantity, formula, want, got, want == got, key, chosen))
        if progress is not None:
            progress(done, len(assignments))
    return CheckResult(
        tuple(checks), tuple(tuple(sorted(a.items(), key=lambda i: i[0].name)) for a in assignments), seed
    )
