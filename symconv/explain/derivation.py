"""Derivations built and verified: a layer's quantity from its template, and the network's totals."""

from __future__ import annotations

import random

import sympy as sp

from symconv.errors import SpecError
from symconv.explain.steps import (
    CONCRETE,
    NUMERIC_POINTS,
    QUANTITIES,
    Derivation,
    Step,
    Template,
    _nothing,
    textbook,
)
from symconv.explain.templates import templates
from symconv.layers import Layer
from symconv.network import Network
from symconv.notation import to_text
from symconv.report import GroupRow, LayerRow, grouped


def _sample(expressions: list[sp.Expr], rng: random.Random) -> list[dict]:
    symbols = sorted(set().union(*(sp.sympify(e).free_symbols for e in expressions)), key=lambda s: s.name)
    points = []
    for _ in range(NUMERIC_POINTS):
        points.append(
            {
                s: sp.Integer(rng.randint(1, 60)) if s.is_integer else sp.Rational(rng.randint(1, 8), 4)
                for s in symbols
            }
        )
    return points


def _verify(before: sp.Expr, after: sp.Expr, rng: random.Random) -> str:
    """Check ``before == after``: symbolically when possible, numerically always."""
    from symconv.prove import prove

    for point in _sample([before, after], rng):
        a, b = before.xreplace(point), after.xreplace(point)
        if a.is_number and b.is_number and a != b:
            raise AssertionError(f"derivation step fails at {point}: {a} != {b}")
    if sp.expand(before - after) == 0:
        return f"symbolic (expansion); numeric at {NUMERIC_POINTS} points"
    proof = prove(before, after)
    if proof.status == "proved":
        return f"symbolic ({proof.method}); numeric at {NUMERIC_POINTS} points"
    return f"numeric at {NUMERIC_POINTS} points (not proved symbolically)"


def layer_derivations(row: LayerRow, layer: Layer, quantity: str, seed: int = 0) -> list[Derivation]:
    """Derivations of one quantity of one layer (one per spatial axis for shapes)."""
    if quantity not in QUANTITIES:
        raise SpecError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
    rng = random.Random(seed)
    results = {"params": row.params, "macs": row.macs}
    found = []
    if quantity == "params" and layer.fixed:
        chosen = [_nothing("params", "its weights are constants held as buffers, not parameters")]
    else:
        chosen = templates(layer, row.input_shapes, quantity)
    for index, template in enumerate(chosen):
        if quantity == "shape":
            if template.general == textbook("same"):
                expected = row.output_shape
                steps = [
                    Step(
                        template.left,
                        sp.Tuple(*row.input_shapes[0]),
                        template.rule,
                        template.source,
                        "definition",
                    )
                ]
                found.append(Derivation(row.name, row.kind, quantity, tuple(steps)))
                continue
            expected = _shape_entry(row, template, index)
        else:
            expected = results[quantity]
        steps = [
            Step(
                template.left,
                template.general,
                template.rule,
                template.source,
                "definition",
                template.written,
            )
        ]
        substituted = sp.sympify(template.general.xreplace(template.bindings))
        # the general formula, filled in, must agree with symconv's own rule for the layer
        agreement = _verify(substituted, sp.sympify(expected), rng)
        if template.bindings:
            shown = ", ".join(f"{k} = {to_text(v)}" for k, v in template.bindings.items())
            same = substituted == sp.sympify(expected)
            steps.append(
                Step(
                    template.left,
                    substituted,
                    f"substitute {shown}",
                    None,
                    f"agrees with the layer's rule: {agreement}" if same else "",
                    substitutions=tuple(template.bindings.items()),
                )
            )
        if substituted != sp.sympify(expected):
            composed = substituted.count(sp.floor) > sp.sympify(expected).count(sp.floor)
            steps.append(
                Step(
                    template.left,
                    expected,
                    "compose the floors into one" if composed else "simplify",
                    CONCRETE if composed else None,
                    agreement,
                )
            )
        found.append(Derivation(row.name, row.kind, quantity, tuple(steps)))
    return found


def _shape_entry(row: LayerRow, template: Template, index: int) -> sp.Expr:
    name = template.left.name
    if name in ("features_out", "features"):
        return (
            row.output_shape[-1]
            if name == "features_out"
            else row.output_shape[index if len(row.output_shape) > 1 else 0]
        )
    if name == "C_out":
        return row.output_shape[0]
    if name.startswith("out_"):
        return row.output_shape[int(name[4:])]
    return row.output_shape[1 + index]


def _sum_steps(
    symbol: sp.Expr, parts: list[tuple[sp.Expr, sp.Expr]], total: sp.Expr, what: str
) -> list[Step]:
    """``total = t_1 + t_2 + ...`` (the parts that are not zero), their values in the same order, collected."""
    kept = [(name, value) for name, value in parts if value != 0]
    named = tuple(name for name, _ in kept)
    values = tuple(value for _, value in kept)
    left_out = len(parts) - len(kept)
    rule = f"the total is the sum over {what}" + (f" ({left_out} of them contribute 0)" if left_out else "")
    steps = [Step(symbol, sp.Add(*named), rule, None, "definition", terms=named if len(named) > 1 else None)]
    if kept:
        steps.append(
            Step(
                symbol,
                sp.Add(*values),
                "substitute each value",
                None,
                "definition",
                terms=values if len(values) > 1 else None,
            )
        )
    if len(values) > 1:
        steps.append(
            Step(symbol, total, "collect terms", None, _verify(sp.Add(*values), total, random.Random(0)))
        )
    return steps


def _quantity_symbol(quantity: str, index: object | None = None) -> sp.Symbol:
    base = "params" if quantity == "params" else "MACs"
    return textbook(base if index is None else f"{base}_{index}")


def total_derivation(network: Network, quantity: str, depth: int | None = None) -> Derivation:
    """The network's total as the sum of its layers' values (or its groups' at ``depth``), in network order."""
    report = network.report
    if depth is None:
        parts = [(_quantity_symbol(quantity, i), getattr(r, quantity)) for i, r in enumerate(report.rows, 1)]
        what = "the layers"
    else:
        parts = [(_quantity_symbol(quantity, g.name), getattr(g, quantity)) for g in grouped(report, depth)]
        what = "the stages" if depth == 1 else f"the groups of {depth} name parts"
    symbol = _quantity_symbol(quantity)
    return Derivation(
        "total", "network", quantity, tuple(_sum_steps(symbol, parts, getattr(report, quantity), what))
    )


def group_derivation(group: GroupRow, quantity: str) -> Derivation:
    """A stage or block: the sum of its layers' values, in order (``explain --layer NAME`` derives each)."""
    values = tuple(v for v in (getattr(r, quantity) for r in group.members) if v != 0)
    symbol = _quantity_symbol(quantity, group.name)
    rule = (
        f"the sum of the values of its {group.layers} layers, in order"
        + (f" ({group.layers - len(values)} of them are 0)" if len(values) < group.layers else "")
        + f"; explain --layer {group.members[0].name} (and the others) derives each"
    )
    steps = [
        Step(symbol, sp.Add(*values), rule, None, "definition", terms=values if len(values) > 1 else None)
    ]
    if len(values) > 1:
        total = getattr(group, quantity)
        steps.append(
            Step(symbol, total, "collect terms", None, _verify(sp.Add(*values), total, random.Random(0)))
        )
    return Derivation(group.name, f"{group.layers} layers", quantity, tuple(steps))


def explain(
    network: Network, layer: str | None = None, quantity: str | None = None, depth: int | None = None
) -> tuple[Derivation, ...]:
    """Every derivation asked for: one layer or all, one quantity or all three, plus the totals.

    With ``depth`` (and no ``layer``) a group of several layers (a stage at depth 1, a
    block at 2) is summarised as the sum of its layers, and the totals sum the groups.
    """
    quantities = (quantity,) if quantity else QUANTITIES
    for q in quantities:
        if q not in QUANTITIES:
            raise SpecError(f"--quantity must be one of {', '.join(QUANTITIES)}, got {q!r}")
    names = [node.name for node in network.graph]
    if layer is not None and layer not in names:
        raise SpecError(f"no layer named {layer!r}; layers: {', '.join(names)}")
    if depth is not None and (type(depth) is not int or depth < 1):
        raise SpecError(f"depth must be a positive integer, got {depth!r}")
    nodes = {node.name: node for node in network.graph}
    found: list[Derivation] = []
    if depth is not None and layer is None:
        for group in grouped(network.report, depth):
            for q in quantities:
                if group.layers == 1:
                    (row,) = group.members
                    found.extend(layer_derivations(row, nodes[row.name].layer, q))
                elif q != "shape":
                    found.append(group_derivation(group, q))
    else:
        for node, row in zip(network.graph, network.report.rows, strict=True):
            if layer is not None and node.name != layer:
                continue
            for q in quantities:
                found.extend(layer_derivations(row, node.layer, q))
    if layer is None:
        found.extend(total_derivation(network, q, depth) for q in quantities if q != "shape")
    return tuple(found)


__all__ = ["Derivation", "Step", "explain", "group_derivation", "layer_derivations", "total_derivation"]
