"""Exact numeric evaluation of formulas, one value at a time or for arrays of values.

sympy's default ``lambdify`` evaluates ``floor(n/3 - 1/3)`` in float64, which
is wrong for stride 3 already at ``n = 7`` and beyond ``2**53`` for any
stride. :class:`IntegerPrinter` emits integer floor division instead, so
sweeps over millions of sizes stay exact (int64, or Python integers when the
values could leave int64).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symconv.errors import ValueSpecError
from symconv.report import Report

INT64_SAFE = 2**62


class IntegerPrinter(NumPyPrinter):
    """NumPy code in which every division is an exact integer floor division."""

    def _over_denominator(self, expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        numerator, denominator = sp.fraction(sp.together(expr))
        if not denominator.is_integer:
            raise ValueSpecError(f"cannot evaluate {expr} with integers: denominator {denominator}")
        return sp.expand(numerator), denominator

    def _print_floor(self, expr: sp.floor) -> str:
        numerator, denominator = self._over_denominator(expr.args[0])
        return f"(({self._print(numerator)}) // ({self._print(denominator)}))"

    def _print_ceiling(self, expr: sp.ceiling) -> str:
        numerator, denominator = self._over_denominator(expr.args[0])
        return f"(-((-({self._print(numerator)})) // ({self._print(denominator)})))"

    def _print_Mod(self, expr: sp.Mod) -> str:
        return f"(({self._print(expr.args[0])}) % ({self._print(expr.args[1])}))"


def integer_function(expr: sp.Expr, variables: tuple[sp.Symbol, ...]) -> Callable:
    """A NumPy function of ``variables`` computing the integer-valued ``expr`` exactly.

    >>> from symconv.sizes import size_symbol
    >>> n = size_symbol("n")
    >>> f = integer_function(sp.floor((n - 1) / 3) + 1, (n,))
    >>> [int(v) for v in f(np.array([7, 2**60 + 3]))]
    [3, 384307168202282327]
    """
    numerator, denominator = sp.fraction(sp.together(sp.sympify(expr)))
    body = numerator if denominator == 1 else sp.floor(numerator / denominator)
    return sp.lambdify(variables, body, modules="numpy", printer=IntegerPrinter)


def sweep(report: Report, quantity: str = "macs", **arrays: object) -> np.ndarray:
    """Evaluate a network total (``params``, ``macs``, ``flops``, ``activations``) for arrays of values.

    Symbols given as scalars are substituted first (rationals such as
    ``alpha="3/4"`` included); the others must be integer arrays of one shape.
    """
    if quantity not in ("params", "macs", "flops", "activations"):
        raise ValueSpecError(f"quantity must be params, macs, flops or activations, got {quantity!r}")
    scalars = {k: v for k, v in arrays.items() if np.ndim(v) == 0}
    vectors = {k: np.asarray(v) for k, v in arrays.items() if np.ndim(v) > 0}
    report = report.at(scalars) if scalars else report
    expr = sp.sympify(getattr(report, quantity))
    by_name = {s.name: s for s in expr.free_symbols}
    missing = sorted(set(by_name) - set(vectors))
    if missing:
        raise ValueSpecError(f"no values for {', '.join(missing)}")
    variables = tuple(by_name[name] for name in vectors if name in by_name)
    values = [vectors[s.name] for s in variables]
    for symbol, array in zip(variables, values, strict=True):
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueSpecError(f"{symbol}: arrays of values must be integers")
        if array.size and array.min() < 1:
            raise ValueSpecError(f"{symbol}: sizes must be positive")
    if not variables:
        return np.asarray(int(expr))
    largest = expr.xreplace({s: int(v.max()) for s, v in zip(variables, values, strict=True)})
    if abs(int(largest)) >= INT64_SAFE:
        values = [v.astype(object) for v in values]
    else:
        values = [v.astype(np.int64) for v in values]
    return integer_function(expr, variables)(*values)
