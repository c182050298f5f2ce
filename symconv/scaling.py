"""Why is it quadratic: how every quantity grows when widths are multiplied by a factor.

``scale(network, ["k1", "k2"], "alpha")`` substitutes ``k -> alpha*k`` for the
named symbols in every layer's parameters, MACs and activations, and reports
the ratio after/before, simplified, with its degree in ``alpha``. The cost of
a convolution is a product of its input width and its output width
(PyTorch's ``C_out * H_out * W_out * C_in/g * K^2``), so widening both
multiplies it by ``alpha**2`` — the remark of Szegedy et al. (2014, section 3)
that chained convolutions widened uniformly cost quadratically more. The NumPy
backend then measures it: counted MACs and wall time at factors 1, 2, 4, 8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sympy as sp

from symconv.display import provided
from symconv.errors import SpecError
from symconv.network import Network
from symconv.notation import Prose, formula
from symconv.numeric import run
from symconv.sizes import size_symbol

SZEGEDY = "Szegedy et al. (2014), Going Deeper with Convolutions, section 3"
MEASURED_FACTORS = (1, 2, 4, 8)


@dataclass(frozen=True)
class Growth:
    """One quantity before and after widening, their ratio and its degree in the factor."""

    before: sp.Expr
    after: sp.Expr
    ratio: sp.Expr | None
    degree: int | None


@dataclass(frozen=True)
class ScaledRow:
    name: str
    kind: str
    params: Growth
    macs: Growth
    activations: Growth
    widths: tuple[sp.Symbol, ...]  # scaled symbols this layer's MACs depend on


@dataclass(frozen=True)
class Measured:
    factor: int
    values: tuple[tuple[sp.Symbol, sp.Expr], ...]
    macs: int
    expected_macs: int
    seconds: float


@dataclass(frozen=True)
class Scaling:
    factor: sp.Symbol
    scaled: tuple[sp.Symbol, ...]
    layers: tuple[ScaledRow, ...]
    total: ScaledRow
    measured: tuple[Measured, ...]
    explanation: tuple  # sentences (symconv.notation.Prose): words and formulas

    def _repr_markdown_(self) -> str:
        return provided("scaling.markdown")(self)


def growth(before: sp.Expr, substitution: dict, factor: sp.Symbol) -> Growth:
    """Ratio after/before and the (leading) degree of ``after`` in ``factor``."""
    before = sp.sympify(before)
    after = sp.expand(before.xreplace(substitution)) if substitution else before
    if before == 0:
        return Growth(before, after, None, None)
    ratio = sp.factor(sp.cancel(sp.together(after / before)))
    try:
        degree = sp.Poly(after, factor).degree() if after.has(factor) else 0
    except sp.PolynomialError:
        degree = None
    return Growth(before, after, ratio, degree)


def _explain(rows: tuple[ScaledRow, ...], total: ScaledRow, factor: sp.Symbol) -> tuple[Prose, ...]:
    """The growth of each layer and of the total, as sentences whose formulas renderers typeset."""
    MACs = sp.Symbol("MACs")
    lines: list[Prose] = []
    for row in rows:
        if row.macs.degree is None or row.macs.before == 0:
            continue
        widths: list = []
        for index, width in enumerate(row.widths):
            widths += ([" and "] if index else []) + [formula(width)]
        if row.macs.degree == 2:
            lines.append(
                (
                    f"{row.name}: ",
                    formula(MACs, row.macs.before),
                    ". Its cost is the product of its input width and its output width (",
                    *widths,
                    "); widening both multiplies it by ",
                    formula(factor**2),
                    ".",
                )
            )
        elif row.macs.degree == 1:
            lines.append(
                (
                    f"{row.name}: ",
                    formula(MACs, row.macs.before),
                    ". Only one of its widths (",
                    *widths,
                    ") is widened, so its cost grows by ",
                    formula(factor),
                    ".",
                )
            )
        elif row.macs.degree == 0:
            lines.append(
                (f"{row.name}: ", formula(MACs, row.macs.before), " does not depend on the widened symbols.")
            )
    if total.macs.degree is not None:
        lines.append(
            (
                "Total: the MACs grow by the factor ",
                formula(total.macs.ratio),
                f"; the leading term has degree {total.macs.degree} in ",
                formula(factor),
                ", so for large ",
                formula(factor),
                " the cost grows as ",
                formula(factor**total.macs.degree),
                f" ({SZEGEDY}).",
            )
        )
    return tuple(lines)


def _defaults(network: Network, scaled: tuple[sp.Symbol, ...], fixed: dict) -> dict:
    spatial = set().union(*(sp.sympify(d).free_symbols for d in network.input_shape[1:]))
    values = dict(fixed)
    for symbol in network.report.free_symbols():
        if symbol in values:
            continue
        if not symbol.is_integer:
            values[symbol] = sp.Integer(1)
        elif symbol in spatial:
            values[symbol] = sp.Integer(32)
        elif symbol in scaled:
            values[symbol] = sp.Integer(4)
        else:
            values[symbol] = sp.Integer(3)
    return values


def scale(
    network: Network,
    names: list[str] | tuple[str, ...],
    factor: str = "alpha",
    at: dict | None = None,
    factors: tuple[int, ...] = MEASURED_FACTORS,
    seed: int = 0,
) -> Scaling:
    """Widen ``names`` by ``factor`` and report every layer's growth, with measurements."""
    report = network.report
    known = {s.name: s for s in report.free_symbols()}
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise SpecError(
            f"--symbols: {', '.join(unknown) or '(none)'} not among this network's symbols "
            f"({', '.join(sorted(known)) or 'none'})"
        )
    scaled = tuple(known[name] for name in names)
    alpha = size_symbol(factor, "rational")
    if alpha.name in known:
        raise SpecError(f"--factor {factor}: the network already uses that symbol; pick another name")
    substitution = {s: alpha * s for s in scaled}
    rows = []
    for row in report.rows:
        rows.append(
            ScaledRow(
                row.name,
                row.kind,
                growth(row.params, substitution, alpha),
                growth(row.macs, substitution, alpha),
                growth(row.activations, substitution, alpha),
                tuple(s for s in scaled if sp.sympify(row.macs).has(s)),
            )
        )
    total = ScaledRow(
        "total",
        "network",
        growth(report.params, substitution, alpha),
        growth(report.macs, substitution, alpha),
        growth(report.activations, substitution, alpha),
        scaled,
    )
    base = _defaults(network, scaled, report.resolve(at or {}))
    measured = []
    run(network, base, "fast", seed=seed)  # warm-up, so the first timing is not an outlier
    for f in factors:
        values = {**base, **{s: base[s] * f for s in scaled}}
        expected = int(report.at(values).macs)
        start = time.perf_counter()
        counted = sum(m.macs for m in run(network, values, "fast", seed=seed).measurements)
        seconds = time.perf_counter() - start
        measured.append(
            Measured(f, tuple(sorted(values.items(), key=lambda i: i[0].name)), counted, expected, seconds)
        )
    return Scaling(alpha, scaled, tuple(rows), total, tuple(measured), _explain(tuple(rows), total, alpha))
