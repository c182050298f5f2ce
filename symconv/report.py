"""Results: a frozen report of per-layer rows, totals and assumptions.

A report is what renderers receive. It is immutable; substituting values
(:meth:`Report.at`) gives a new report and re-checks the assumptions at
those values, so a layer that is impossible there is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import sympy as sp

from symconv.display import provided
from symconv.errors import ShapeError, ValueSpecError, Where
from symconv.layers.base import Receptive, Shape
from symconv.notation import condition_text
from symconv.sizes import is_true, parse_value

_NON_POLYNOMIAL = (sp.floor, sp.ceiling, sp.Min, sp.Max, sp.Mod)


def tidy(expr: sp.Expr) -> sp.Expr:
    """Expand polynomials into monomials; leave expressions with floors as products."""
    expr = sp.sympify(expr)
    return expr if expr.is_Atom or _has_non_polynomial(expr) else sp.expand(expr)


def _has_non_polynomial(expr: sp.Basic) -> bool:
    return isinstance(expr, _NON_POLYNOMIAL) or any(_has_non_polynomial(a) for a in expr.args)


@dataclass(frozen=True)
class Assumption:
    """A condition the network needs that sympy could not decide for all values."""

    condition: sp.Basic
    describe: str | Callable[[], str]
    """The reason, or a function writing it: most conditions of a deep network are never shown."""
    where: Where | None = None

    @property
    def message(self) -> str:
        return self.describe if isinstance(self.describe, str) else self.describe()

    def __str__(self) -> str:
        return str(self.condition)


@dataclass(frozen=True)
class LayerRow:
    """One leaf layer (or merge node) of a network with its derived quantities."""

    name: str
    kind: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: sp.Expr
    macs: sp.Expr
    receptive: Receptive | None
    trainable: bool = True
    """False when the layer is frozen: its parameters are non-trainable."""
    parts: tuple[tuple[str, sp.Expr], ...] = ()
    """``macs`` split by what computes it (the backward pass: input and weight gradients), when split."""

    @property
    def flops(self) -> sp.Expr:
        return 2 * self.macs

    @cached_property
    def activations(self) -> sp.Expr:
        """Elements of the output tensor (per example)."""
        return tidy(sp.Mul(*self.output_shape))

    @property
    def receptive_field(self) -> sp.Expr | tuple[sp.Expr, ...] | None:
        """Receptive field size: one value when all axes agree, else one per axis."""
        return None if self.receptive is None else _collapse(self.receptive.size)

    @property
    def jump(self) -> sp.Expr | tuple[sp.Expr, ...] | None:
        """Effective stride (jump) of this layer's outputs in input pixels."""
        return None if self.receptive is None else _collapse(self.receptive.jump)

    def substitute(self, values: dict[sp.Symbol, sp.Expr]) -> LayerRow:
        def sub(e: sp.Expr) -> sp.Expr:
            return tidy(sp.sympify(e).xreplace(values)) if values else e

        receptive = self.receptive and Receptive(
            tuple(map(sub, self.receptive.size)), tuple(map(sub, self.receptive.jump))
        )
        return replace(
            self,
            input_shapes=tuple(tuple(map(sub, s)) for s in self.input_shapes),
            output_shape=tuple(map(sub, self.output_shape)),
            params=sub(self.params),
            macs=sub(self.macs),
            receptive=receptive,
            parts=tuple((label, sub(value)) for label, value in self.parts),
        )


def _collapse(values: tuple[sp.Expr, ...]) -> sp.Expr | tuple[sp.Expr, ...] | None:
    if not values:
        return None
    first = values[0]
    return first if all(sp.expand(v - first) == 0 for v in values) else values


@dataclass(frozen=True)
class Report:
    """A network's derivation: rows in execution order, totals, assumptions."""

    name: str | None
    input_shape: Shape
    rows: tuple[LayerRow, ...]
    assumptions: tuple[Assumption, ...]
    legend: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    unused: tuple[tuple[str, int], ...] = ()
    """Parameters held by modules that the forward pass never reads: (module path, count)."""
    cost: str = "MACs"
    """What the ``macs`` column counts: symconv's MACs, or a tool's count under its convention
    (``"FLOPs"`` when the column already counts two per multiply-accumulate)."""

    @property
    def unused_params(self) -> int:
        """How many parameters the modules hold beyond those the forward pass uses."""
        return sum(count for _, count in self.unused)

    @property
    def layers(self) -> tuple[LayerRow, ...]:
        """The rows, under the name [Network][symconv.network.Network] uses."""
        return self.rows

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape

    @property
    def params(self) -> sp.Expr:
        return tidy(sp.Add(*(r.params for r in self.rows)))

    @property
    def trainable_params(self) -> sp.Expr:
        """Parameters of the layers that learn (every layer not frozen)."""
        return tidy(sp.Add(*(r.params for r in self.rows if r.trainable)))

    @property
    def non_trainable_params(self) -> sp.Expr:
        """Parameters of frozen layers (``trainable: false``; ``requires_grad=False`` in PyTorch)."""
        return tidy(sp.Add(*(r.params for r in self.rows if not r.trainable)))

    @property
    def macs(self) -> sp.Expr:
        return tidy(sp.Add(*(r.macs for r in self.rows)))

    @property
    def parts(self) -> tuple[tuple[str, sp.Expr], ...]:
        """The total of ``macs`` split as the rows split it (empty when they do not)."""
        labels = list(dict.fromkeys(label for r in self.rows for label, _ in r.parts))
        return tuple(
            (label, tidy(sp.Add(*(v for r in self.rows for name, v in r.parts if name == label))))
            for label in labels
        )

    @property
    def flops(self) -> sp.Expr:
        """Two per multiply-accumulate; the column itself when it already counts FLOPs."""
        return tidy(self.macs if self.cost.startswith("FLOPs") else 2 * self.macs)

    @property
    def activations(self) -> sp.Expr:
        return tidy(sp.Add(*(r.activations for r in self.rows)))

    def _repr_latex_(self) -> str:
        return provided("report.latex")(self)

    def _repr_markdown_(self) -> str:
        return provided("report.markdown")(self)

    def free_symbols(self) -> set[sp.Symbol]:
        found: set[sp.Symbol] = set()
        for size in self.input_shape:
            found |= size.free_symbols
        for row in self.rows:
            for expr in (*row.output_shape, row.params, row.macs):
                found |= sp.sympify(expr).free_symbols
        for assumption in self.assumptions:  # a symbol only a condition names (attention heads)
            found |= assumption.condition.free_symbols
        return found

    def resolve(self, values: dict) -> dict[sp.Symbol, sp.Expr]:
        """Map ``{name or symbol: value}`` onto this report's own symbols, exactly."""
        by_name = {s.name: s for s in self.free_symbols()}
        resolved: dict[sp.Symbol, sp.Expr] = {}
        for key, value in values.items():
            name = key.name if isinstance(key, sp.Symbol) else str(key)
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise ValueSpecError(f"{name}: not a symbol of this network (its symbols: {known})")
            symbol = by_name[name]
            if isinstance(value, bool):
                raise ValueSpecError(f"{name}={value!r}: expected a number")
            if isinstance(value, (int, sp.Integer)):
                value = parse_value(str(int(value)), symbol)
            elif isinstance(value, str):
                value = parse_value(value, symbol)
            elif isinstance(value, sp.Rational):
                value = parse_value(str(value), symbol)
            else:
                raise ValueSpecError(f"{name}={value!r}: expected an integer, a decimal string or a Rational")
            resolved[symbol] = value
        return resolved

    def at(self, values: dict) -> Report:
        """The report at the given values; assumptions are checked there."""
        resolved = self.resolve(values)
        remaining = []
        for assumption in self.assumptions:
            condition = assumption.condition.xreplace(resolved) if resolved else assumption.condition
            decided = is_true(condition)
            if decided is False:
                shown = ", ".join(f"{k}={v}" for k, v in resolved.items())
                raise ShapeError(
                    f"at {shown}: {assumption.message} (needs {condition_text(assumption.condition)})",
                    assumption.where,
                )
            if decided is None:
                remaining.append(replace(assumption, condition=condition))
        return replace(
            self,
            input_shape=tuple(sp.sympify(s).xreplace(resolved) for s in self.input_shape),
            rows=tuple(row.substitute(resolved) for row in self.rows),
            assumptions=tuple(remaining),
            values=self.values + tuple(resolved.items()),
        )


@dataclass(frozen=True)
class GroupRow:
    """Consecutive layers under one name prefix, summed: a stage or a block, or one layer."""

    name: str
    kind: str
    output_shape: tuple
    params: sp.Expr
    macs: sp.Expr
    receptive_field: Any
    layers: int
    activations: sp.Expr = sp.Integer(0)
    members: tuple[LayerRow, ...] = ()
    parts: tuple[tuple[str, sp.Expr], ...] = ()


def grouped(report: Report, depth: int | None) -> list[GroupRow]:
    """Rows summed by the first ``depth`` parts of their dotted names (None: every layer).

    ``layer1.0.conv1`` is in group ``layer1`` at depth 1 and ``layer1.0`` at
    depth 2, as torchinfo's ``depth`` and the ResNet paper's Table 1 show a network.
    """
    groups: list[list] = []
    for row in report.rows:
        key = row.name if depth is None else ".".join(row.name.split(".")[:depth])
        if groups and groups[-1][0] == key:
            groups[-1][1].append(row)
        else:
            groups.append([key, [row]])
    result = []
    for key, rows in groups:
        last = rows[-1]
        kind = last.kind if len(rows) == 1 else f"{len(rows)} layers"
        result.append(
            GroupRow(
                key,
                kind,
                last.output_shape,
                tidy(sp.Add(*(r.params for r in rows))),
                tidy(sp.Add(*(r.macs for r in rows))),
                last.receptive_field,
                len(rows),
                tidy(sp.Add(*(r.activations for r in rows))),
                tuple(rows),
                tuple(
                    (label, tidy(sp.Add(*(v for r in rows for name, v in r.parts if name == label))))
                    for label in dict.fromkeys(label for r in rows for label, _ in r.parts)
                ),
            )
        )
    return result
