"""Networks: a DAG of layer nodes, and the one walk that threads shapes through it.

``Residual``, ``Concat`` and ``Repeat`` are ways of writing the graph, not
separate engines: :func:`build_graph` turns them into nodes with inputs, and
:class:`Network` walks the nodes once, in execution order.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import sympy as sp

from symconv.display import provided
from symconv.errors import ShapeError, SpecError, Where
from symconv.layers import Add, ChannelConcat, Layer, Receptive, Shape
from symconv.layers.base import as_size
from symconv.report import Assumption, LayerRow, Report, tidy
from symconv.sizes import implied_by_bounds, is_true, lower_bound, relation


@dataclass(frozen=True)
class Residual:
    """``y = body(x) + shortcut(x)``; the shortcut defaults to the identity."""

    body: tuple = ()
    shortcut: tuple = ()
    name: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    kind = "residual"


@dataclass(frozen=True)
class Concat:
    """Branches applied to the same input, concatenated along channels."""

    branches: tuple = ()
    name: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    kind = "concat"


@dataclass(frozen=True)
class Sequential:
    """A named group of layers applied in order; its children are named under it."""

    layers: tuple = ()
    name: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    kind = "sequential"


@dataclass(frozen=True)
class Repeat:
    """``layers`` applied ``times`` times in sequence."""

    times: int = 1
    layers: tuple = ()
    name: str | None = None
    where: Where | None = field(default=None, compare=False, repr=False)

    kind = "repeat"


Item = Layer | Residual | Concat | Repeat | Sequential


@dataclass(frozen=True)
class Node:
    """One operation of the graph; ``inputs`` index earlier nodes, ``-1`` is the network input.

    ``shares`` names an earlier node whose parameters this one uses again (a
    module called twice): its parameters are counted once, at that node.
    """

    name: str
    layer: Layer
    inputs: tuple[int, ...]
    shares: str | None = None
    derived: Any = field(default=None, compare=False, repr=False)
    """What an importer already derived, ``(input shapes, output shape, undecided requirements)``: the
    report reuses it when the input shapes are the same, instead of deriving the node twice."""


@dataclass(frozen=True)
class UnusedParameters:
    """Parameters a module holds that its forward pass never reads (GoogLeNet's auxiliary heads in eval mode)."""

    module: str
    count: int


MAX_GRAPH_NODES = 100_000
"""A network whose blocks expand to more layers than this is refused (the largest zoo entry has under 2,000)."""


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.names: dict[str, Where | None] = {}

    def claim(self, name: str, where: Where | None) -> str:
        if name in self.names:
            raise SpecError(f"two layers are named {name!r}", where)
        self.names[name] = where
        return name

    def add(self, name: str, layer: Layer, inputs: tuple[int, ...]) -> int:
        if len(self.nodes) >= MAX_GRAPH_NODES:
            raise SpecError(
                f"the network expands to more than {MAX_GRAPH_NODES:,} layers (check repeat times)",
                layer.where,
            )
        self.nodes.append(Node(self.claim(name, layer.where), layer, inputs))
        return len(self.nodes) - 1

    def sequence(self, items: Sequence[Item], source: int, prefix: str) -> int:
        counters: dict[str, int] = {}
        for item in items:
            if not isinstance(item, (Layer, Residual, Concat, Repeat, Sequential)):
                raise SpecError(f"{item!r} is not a layer or a block")
            counters[item.kind] = counters.get(item.kind, 0) + 1
            local = item.name or f"{item.kind}_{counters[item.kind]}"
            name = f"{prefix}{local}"
            source = self.item(item, source, name)
        return source

    def item(self, item: Item, source: int, name: str) -> int:
        if isinstance(item, Layer):
            return self.add(name, item, () if item.arity == 0 else (source,))
        if isinstance(item, Residual):
            body = self.sequence(item.body, source, f"{name}.")
            shortcut = self.sequence(item.shortcut, source, f"{name}.shortcut.")
            return self.add(f"{name}.add", Add(where=item.where), (body, shortcut))
        if isinstance(item, Sequential):
            return self.sequence(item.layers, source, f"{name}.")
        if isinstance(item, Concat):
            if len(item.branches) < 2:
                raise SpecError("concat needs at least two branches", item.where)
            ends = tuple(
                self.sequence(branch, source, f"{name}.{index}.")
                for index, branch in enumerate(item.branches)
            )
            return self.add(f"{name}.concat", ChannelConcat(where=item.where), ends)
        if type(item.times) is not int or item.times < 1:
            raise SpecError(f"repeat times must be a positive integer, got {item.times!r}", item.where)
        if item.times > MAX_GRAPH_NODES:
            raise SpecError(
                f"repeat times {item.times:,} is more than {MAX_GRAPH_NODES:,} layers", item.where
            )
        for index in range(item.times):
            source = self.sequence(item.layers, source, f"{name}.{index}.")
        return source


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a network is derived, and restored after.

    A derivation makes tens of thousands of short-lived sympy objects and no
    garbage cycles worth collecting midway; every collection of the oldest
    generation walks all live objects (a loaded PyTorch model, sympy's
    caches), which took as long as a whole derivation of a small model. What
    a derivation leaves behind is collected on the next ordinary pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_graph(items: Sequence[Item]) -> tuple[Node, ...]:
    """The nodes of a network written as a sequence of layers and blocks."""
    builder = _GraphBuilder()
    builder.sequence(items, -1, "")
    if not builder.nodes:
        raise SpecError("a network needs at least one layer")
    return tuple(builder.nodes)


def _checked_graph(nodes: Sequence[Node]) -> tuple[Node, ...]:
    """Nodes given directly (importers): names unique, inputs earlier nodes, arities right."""
    seen: dict[str, Node] = {}
    for index, node in enumerate(nodes):
        if node.name in seen:
            raise SpecError(f"two nodes are named {node.name!r}")
        if any(not -1 <= i < index for i in node.inputs) or (not node.inputs and node.layer.arity != 0):
            raise SpecError(f"node {node.name!r}: inputs must be earlier nodes (or -1, the network input)")
        if node.layer.arity >= 0 and len(node.inputs) != node.layer.arity:
            raise SpecError(
                f"node {node.name!r}: {node.layer.kind} takes {node.layer.arity} inputs, got {len(node.inputs)}"
            )
        if node.shares is not None:
            owner = seen.get(node.shares)
            if owner is None or type(owner.layer) is not type(node.layer):
                raise SpecError(
                    f"node {node.name!r}: shares names {node.shares!r}, not an earlier {node.layer.kind}"
                )
        seen[node.name] = node
    if not nodes:
        raise SpecError("a network needs at least one layer")
    return tuple(nodes)


def _counted(
    layer: Layer, inputs: tuple[Shape, ...], counted: dict[tuple, tuple[sp.Expr, sp.Expr]]
) -> tuple[sp.Expr, sp.Expr]:
    """The layer's parameters and MACs, computed once per equal layer and inputs (repeated blocks)."""
    key = (layer, inputs)
    try:
        known = counted.get(key)
    except TypeError:  # a layer holding an unhashable argument is counted each time
        return tidy(layer.params(*inputs)), tidy(layer.macs(*inputs))
    if known is None:
        known = counted[key] = (tidy(layer.params(*inputs)), tidy(layer.macs(*inputs)))
    return known


def _undecided_requirements(layer: Layer, inputs: tuple[Shape, ...]):
    """The layer's conditions that sympy does not decide true, arguments first (yielded lazily, so that an
    argument refused, such as ``groups: 0``, stops the walk before a rule divides by it)."""
    for requirement in layer.argument_requirements():
        if is_true(requirement.condition) is not True:
            yield requirement
    for requirement in layer.requirements(*inputs):
        if (
            is_true(requirement.condition) is not True
        ):  # most hold for every size: their messages are not written
            yield requirement


def _admit(
    assumption: Assumption, failure: str | Callable[[], str], assumptions: dict[sp.Basic, Assumption]
) -> None:
    """Refuse a condition that fails for every value; keep one that holds only for some, once."""
    decided = is_true(assumption.condition)
    if decided is False:
        raise ShapeError(failure if isinstance(failure, str) else failure(), assumption.where)
    if decided is None:
        assumptions.setdefault(_canonical(assumption.condition), assumption)


def _canonical(condition: sp.Basic) -> sp.Basic:
    """An equation as its difference with the integer factor and the sign taken out: ``128 N = 25088`` and
    ``N = 196`` are one condition, kept once."""
    if not isinstance(condition, sp.Equality):
        return condition
    primitive = sp.expand(condition.lhs - condition.rhs).as_content_primitive()[1]
    return sp.Eq(-primitive if primitive.could_extract_minus_sign() else primitive, 0, evaluate=False)


def _independent(assumptions: tuple[Assumption, ...]) -> tuple[Assumption, ...]:
    """The assumptions less those that the lower bounds among them imply: once ``H >= 4`` is kept, the
    window counts of every later stage (``ceiling(floor(H/4)/7) >= 1``) need not be listed, and of two
    bounds on one size the higher is kept, written as ``H >= 75`` whatever form its layer gave it."""
    found: list[tuple[sp.Symbol, int] | None] = [None] * len(assumptions)
    bounds: dict[sp.Symbol, int] = {}
    for plain in (True, False):  # bounds as layers write them first; a condition they imply is not expanded
        for index, assumption in enumerate(assumptions):
            if found[index] is None and (plain or not implied_by_bounds(assumption.condition, bounds)):
                bound = found[index] = lower_bound(assumption.condition, plain=plain)
                if bound is not None:
                    bounds[bound[0]] = max(bound[1], bounds.get(bound[0], bound[1]))
    if not bounds:
        return assumptions
    kept, bounded = [], set()
    for assumption, bound in zip(assumptions, found, strict=True):
        if bound is None:
            if not implied_by_bounds(assumption.condition, bounds):
                kept.append(assumption)
        elif bound[1] == bounds[bound[0]] and bound[0] not in bounded:  # written as the bound it is
            kept.append(replace(assumption, condition=sp.Ge(bound[0], sp.Integer(bound[1]), evaluate=False)))
            bounded.add(bound[0])
    return tuple(kept)


def _located(layer: Layer, field_name: str) -> Where | None:
    return layer.where.at(field_name) if layer.where else None


class Network:
    """A network with symbolic sizes, its layers derived in closed form.

    ```pycon
    >>> from symconv import symbols, Conv2d
    >>> n, m, k1, k2 = symbols("n m k1 k2")
    >>> net = Network(input=(1, n, m), layers=[
    ...     Conv2d(k1, kernel_size=3, padding=1),
    ...     Conv2d(k2, kernel_size=5, padding=2),
    ... ])
    >>> net.output_shape
    (k2, n, m)
    >>> net.params
    25*k1*k2 + 10*k1 + k2

    ```
    """

    def __init__(
        self,
        input: Sequence[int | str | sp.Expr],
        layers: Sequence[Item] = (),
        *,
        name: str | None = None,
        legend: dict[str, str] | None = None,
        where: Where | None = None,
        graph: Sequence[Node] | None = None,
        guards: Sequence[Assumption] = (),
        unused: Sequence[UnusedParameters] = (),
    ) -> None:
        """``layers`` is a sequence of layers and blocks; ``graph`` (instead) gives the nodes directly.

        ``guards`` are conditions the model's own code asserts about sizes (an
        importer finds them); ``unused`` lists parameters the forward pass never reads.
        """
        if not input:
            raise SpecError("input: expected a shape such as [1, n, m] (channels first)", where)
        self.name = name
        self.legend = dict(legend or {})
        self.input_shape: Shape = tuple(as_size(d, "input") for d in input)
        for axis, size in enumerate(self.input_shape):
            if is_true(relation(sp.Ge, size, 1)) is False:
                raise ShapeError(f"input axis {axis} has size {size}; sizes must be positive", where)
        self.items = tuple(layers)
        self.graph = build_graph(self.items) if graph is None else _checked_graph(graph)
        self.guards = tuple(guards)
        self.unused = tuple(unused)

    @cached_property
    def report(self) -> Report:
        """Every node's shape and quantities, derived in one walk over the graph."""
        with collector_paused():
            return self._derive()

    def _derive(self) -> Report:
        shapes: dict[int, Shape] = {-1: self.input_shape}
        ones = tuple(sp.Integer(1) for _ in self.input_shape[1:])
        fields: dict[int, Receptive | None] = {-1: Receptive(ones, ones) if ones else None}
        rows: list[LayerRow] = []
        assumptions: dict[sp.Basic, Assumption] = {}  # by condition: each kept once
        counted: dict[tuple, tuple[sp.Expr, sp.Expr]] = {}
        for guard in self.guards:
            _admit(guard, guard.message, assumptions)
        for axis, size in enumerate(self.input_shape):
            if (
                sp.sympify(size).is_integer is not True
            ):  # a width multiplier inside a size: PyTorch sizes are integers
                message = f"input size {size} (axis {axis}) must be an integer"
                _admit(Assumption(sp.Eq(sp.Mod(size, 1), 0), message, None), message, assumptions)
        for index, node in enumerate(self.graph):
            layer = node.layer
            inputs = tuple(shapes[i] for i in node.inputs)
            known = node.derived is not None and node.derived[0] == inputs
            # the arguments are admitted before the requirements that compute with them (groups >= 1 before
            # channels divisible by groups)
            if known:
                undecided = node.derived[2]
            else:  # the arguments are admitted before the rules that compute with them run
                undecided = _undecided_requirements(layer, inputs)
            for requirement in undecided:
                where = _located(layer, requirement.field)
                assumption = Assumption(
                    requirement.condition, lambda r=requirement, n=node.name: f"{n}: {r.message}", where
                )
                _admit(
                    assumption,
                    lambda r=requirement, n=node.name, k=layer.kind: f"{n} ({k}): {r.message}",
                    assumptions,
                )
            output = node.derived[1] if known else tuple(tidy(d) for d in layer.output_shape(*inputs))
            shapes[index] = output
            fields[index] = layer.receptive(*(fields[i] for i in node.inputs))
            params, macs = _counted(layer, inputs, counted)
            rows.append(
                LayerRow(
                    name=node.name,
                    kind=layer.kind,
                    input_shapes=inputs,
                    output_shape=output,
                    params=sp.Integer(0) if node.shares or layer.fixed else params,
                    macs=macs,
                    receptive=fields[index],
                    trainable=layer.trainable,
                )
            )
        return Report(
            name=self.name,
            input_shape=self.input_shape,
            rows=tuple(rows),
            assumptions=_independent(tuple(assumptions.values())),
            legend=tuple(self.legend.items()),
            unused=tuple((u.module, u.count) for u in self.unused),
        )

    # Convenience views on the report.
    @property
    def layers(self) -> tuple[LayerRow, ...]:
        return self.report.rows

    @property
    def output_shape(self) -> Shape:
        return self.report.output_shape

    @property
    def params(self) -> sp.Expr:
        return self.report.params

    @property
    def macs(self) -> sp.Expr:
        return self.report.macs

    @property
    def flops(self) -> sp.Expr:
        return self.report.flops

    @property
    def activations(self) -> sp.Expr:
        return self.report.activations

    @property
    def assumptions(self) -> tuple[Assumption, ...]:
        return self.report.assumptions

    def at(self, **values: int | str | sp.Rational) -> Report:
        """The report with values substituted, e.g. ``net.at(n=28, m=28)``.

        Decimal strings are exact (``alpha="0.75"`` is 3/4); assumptions are
        re-checked at the values and an impossible layer is refused by name.
        """
        return self.report.at(values)

    evaluate = at

    def sweep(self, quantity: str = "macs", **arrays: object) -> object:
        """A total evaluated exactly for arrays of values (``symconv.evaluate.sweep``)."""
        from symconv.evaluate import sweep

        return sweep(self.report, quantity, **arrays)

    def check(self, samples: int = 3, seed: int = 0, mode: str = "auto", **values: object) -> object:
        """Run the NumPy backend and compare every formula (see [check_network][symconv.check.check_network])."""
        return provided("network.check")(self, values, samples=samples, seed=seed, mode=mode)

    def _repr_latex_(self) -> str:
        return self.report._repr_latex_()

    def _repr_markdown_(self) -> str:
        return self.report._repr_markdown_()

    def __repr__(self) -> str:
        shape = ", ".join(map(str, self.input_shape))
        return f"Network({self.name or 'unnamed'}: input ({shape}), {len(self.graph)} nodes)"
