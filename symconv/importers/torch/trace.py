"""The interpreter behind :func:`from_torch`: walk a ``torch.fx`` graph, value by value.

Every fx node gets a value: a tensor symconv follows (a node of the network
and its symbolic shape), a tensor the module holds (a parameter or buffer read
with ``get_attr``), or a plain Python value (a size, a tuple of sizes, a
boolean of a shape guard). Sizes are sympy expressions; the batch size is the
symbol :data:`BATCH`, which may appear in shape arithmetic but never in a
layer's arguments. Rules (see :mod:`symconv.importers.torch.rules`) turn each
operation into layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symconv.errors import ShapeError, SpecError, SymconvError
from symconv.layers import Layer, Parameter, Shape
from symconv.network import Node, UnusedParameters
from symconv.report import Assumption, tidy
from symconv.sizes import is_true

BATCH = sp.Symbol("batch", positive=True, integer=True)
"""The batch size, as model code sees it in ``x.shape[0]``."""


@dataclass(frozen=True)
class TensorValue:
    """A tensor of the network: the node that computes it (``-1``: the input) and its batchless shape."""

    index: int
    shape: Shape
    constant: bool = False  # computed from held tensors only: its "batch" axis is PyTorch's leading 1
    batch_at: int = 0
    """Where PyTorch's batch axis is: moved from the front by a permute (attention's ``permute(2, 0, 3, 1, 4)``),
    until indexing an axis before it or another permute brings it back. ``shape`` is always batchless."""
    merged: bool = False
    """True when PyTorch's axis ``batch_at`` is the batch merged with ``shape[batch_at]`` entries, the batch
    outermost (Swin's windows, ``x.view(-1, window, window, C)``): each example's part is ``shape`` itself, so
    the layers see it as is, and PyTorch's axis ``a`` is ``shape[a]``."""

    @property
    def rank(self) -> int:
        """PyTorch's rank, batch axis included."""
        return len(self.shape) + (0 if self.merged else 1)

    def torch_shape(self) -> tuple[sp.Expr, ...]:
        if self.merged:
            b = self.batch_at
            return (*self.shape[:b], BATCH * self.shape[b], *self.shape[b + 1 :])
        return (*self.shape[: self.batch_at], BATCH, *self.shape[self.batch_at :])

    def batchless(self, axis: int) -> int:
        """The index in ``shape`` of PyTorch's axis ``axis`` (not the batch axis, unless merged)."""
        if self.merged:
            return axis
        return axis if axis < self.batch_at else axis - 1


@dataclass(frozen=True)
class DataValue:
    """A tensor the module holds and reads as data (``get_attr``): a parameter or a buffer."""

    target: str
    tensor: Any
    source: Any = None
    """The held tensor this one is a view of (``gamma.reshape(1, -1, 1, 1)``), None when it is held itself."""
    probe: Any = None
    """For entries gathered from a held table (``table[index]``): the same operations applied to the table's
    positions (0, 1, 2, ...), which say where each entry came from, whatever the table's values."""

    @property
    def held(self) -> Any:
        """The tensor the module holds: the one whose parameters are counted."""
        return self.tensor if self.source is None else self.source

    @property
    def shape(self) -> tuple[sp.Integer, ...]:
        return tuple(sp.Integer(s) for s in self.tensor.shape)

    @property
    def learnable(self) -> bool:
        held = self.held
        return bool(getattr(held, "requires_grad", False)) and type(held).__name__ == "Parameter"


class ImportFailure(SpecError):
    """An operation of the model that symconv cannot follow, with the module path and the model's line."""


class Tracer:
    """The network being built: its nodes, the owners of shared parameters, the guards met on the way."""

    def __init__(self, root: Any, shared: bool = True) -> None:
        """``shared=False`` counts every node's parameters, even where two nodes read the same tensor
        (ONNX exporters merge equal initializers, which the model did not share)."""
        self.root = root
        self.shared = shared
        self.nodes: list[Node] = []
        self.names: set[str] = set()
        self.owners: dict[int, str] = {}  # id(parameter tensor) -> the node that counts it
        self.reads: dict[str, list[int]] = {}  # node name -> ids of the parameter tensors it reads
        self.guards: list[Assumption] = []
        self.materialized: dict[tuple[int, int], TensorValue] = {}
        self.derivations: dict[tuple[Layer, tuple[Shape, ...]], tuple] = {}
        self.equations: dict[Any, sp.Expr | None] = {}
        """Every equation a node needs that holds for some sizes only (a window partition's
        ``H W = 49 floor(H/7) floor(W/7)``), to its ``lhs - rhs`` once expanded: later sizes may be read
        under them."""

    # --- nodes -----------------------------------------------------------------
    def unique(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ... when a module is called again."""
        candidate, count = name, 0
        while candidate in self.names:
            count += 1
            candidate = f"{name}_{count}"
        self.names.add(candidate)
        return candidate

    def emit(
        self, name: str, layer: Layer, inputs: Sequence[TensorValue], tensors: Sequence[Any] = ()
    ) -> TensorValue:
        """Add a node reading ``inputs``; ``tensors`` are the torch parameters its layer counts."""
        for value in inputs:
            if not isinstance(value, TensorValue):
                raise SpecError(f"{layer.kind} reads {describe(value)}, not a tensor symconv follows")
        learnable = [t for t in tensors if t is not None] if self.shared else []
        owners = {self.owners.get(id(t)) for t in learnable}
        shares = None
        if learnable and owners != {None}:
            if None in owners or len(owners) > 1:
                raise SpecError(f"{name}: its parameters are partly shared with other modules")
            (shares,) = owners
        node_name = self.unique(name)
        if shares is None:
            for tensor in learnable:
                self.owners[id(tensor)] = node_name
        self.reads[node_name] = [id(t) for t in learnable]
        shapes = tuple(v.shape for v in inputs)
        derived = self._derived(node_name, layer, shapes)
        self.nodes.append(Node(node_name, layer, tuple(v.index for v in inputs), shares, derived))
        # the batch axis stays where it was, and merged as it was (rules that move it say so)
        first = next((v for v in inputs if v.merged), inputs[0] if inputs else None)
        return TensorValue(
            len(self.nodes) - 1,
            derived[1],
            constant=bool(inputs) and all(v.constant for v in inputs),
            batch_at=first.batch_at if first else 0,
            merged=bool(first and first.merged),
        )

    def _derived(self, node_name: str, layer: Layer, shapes: tuple[Shape, ...]) -> tuple:
        """The layer's input shapes, output shape and undecided requirements, each derived once per equal
        layer and inputs: the blocks of a stage repeat them."""
        key = (layer, shapes)
        try:
            known = self.derivations.get(key)
        except TypeError:  # a layer holding an unhashable argument is derived each time
            key, known = None, None
        if known is not None:
            return known
        undecided = []
        try:
            for requirement in (*layer.argument_requirements(), *layer.requirements(*shapes)):
                verdict = is_true(requirement.condition)
                if verdict is False:
                    raise ShapeError(f"{node_name} ({layer.kind}): {requirement.message}")
                if verdict is None:
                    undecided.append(requirement)
            seen = {id(d) for s in shapes for d in s}  # sizes passed through are tidy already
            shape = tuple(d if id(d) in seen else tidy(d) for d in layer.output_shape(*shapes))
        except SymconvError as error:
            raise SpecError(f"{node_name} ({layer.kind}): {error.message}") from None
        derived = (shapes, shape, tuple(undecided))
        for requirement in undecided:
            if isinstance(requirement.condition, sp.Equality):
                self.equations.setdefault(requirement.condition, None)  # expanded only when read
        if key is not None:
            self.derivations[key] = derived
        return derived

    def materialize(self, data: DataValue, rank: int, name: str) -> TensorValue:
        """A held tensor as a network tensor broadcast against a batched tensor of PyTorch rank ``rank``."""
        if data.probe is not None:
            return self._gathered(data, rank, name)
        shape = data.shape
        if len(shape) == rank:
            if shape[0] != 1:
                raise SpecError(
                    f"{data.target} of shape {tuple(map(int, shape))} meets a batched tensor on the batch axis"
                )
            shape = shape[1:]
        elif len(shape) > rank:
            raise SpecError(f"{data.target} has rank {len(shape)}, more than the tensor it meets ({rank})")
        shape = (sp.Integer(1),) * (rank - 1 - len(shape)) + tuple(shape)
        key = (id(data.held), shape)
        if key not in self.materialized:
            layer = Parameter(shape, learnable=data.learnable, name=name)
            value = self.emit(data.target, layer, (), [data.held] if data.learnable else [])
            self.materialized[key] = TensorValue(value.index, value.shape, constant=True)
        return self.materialized[key]

    def _gathered(self, data: DataValue, rank: int, name: str) -> TensorValue:
        """Entries of a held table gathered by a held index: a relative position bias (Liu et al. 2021,
        section 3.2) or an attention bias (Graham et al. 2021, section 4.2), recognised by where each entry
        came from, or refused."""
        from symconv.layers import Reshape

        found = _bias_layout(data)
        if found is None:
            raise SpecError(
                f"{data.target} is gathered by an index into a layout symconv does not recognise (a relative "
                "position bias of a window, heads first, and LeViT's attention bias are recognised)"
            )
        layer, heads, queries, tokens = found
        bias = self.emit(name, layer, [self.materialize(DataValue(data.target, data.held), 3, name)])
        width = rank - 1  # as a constant's: its leading 1 stands for the batch (merged tensors lift it)
        shape = (sp.Integer(1),) * (width - 3) + tuple(sp.Integer(s) for s in (heads, queries, tokens))
        if width > 3:
            bias = self.emit(name, Reshape(list(shape)), [bias])
        return TensorValue(bias.index, bias.shape, constant=True)

    def equal_under_assumptions(self, a: sp.Expr, b: sp.Expr, why: str) -> bool:
        """``a == b`` wherever an equation some node needs holds (``a - b`` is a number times one of them);
        the equation is then kept as the network's assumption, whichever nodes the output reads."""
        difference = sp.numer(sp.together(a - b))
        for condition, equation in self.equations.items():
            if equation is None:
                equation = self.equations[condition] = sp.expand(condition.lhs - condition.rhs)
            ratio = sp.cancel(difference / equation)
            if ratio.is_number and ratio != 0:
                self.guards.append(Assumption(condition, why))
                return True
        return False

    def guard(self, condition: Any, message: str) -> None:
        """A shape guard of the model's code (``torch._assert``): decided now, or kept as an assumption."""
        if isinstance(condition, bool) or condition in (sp.true, sp.false):
            decided = bool(condition)
        else:
            if not isinstance(condition, sp.Basic):
                raise SpecError(f"a shape guard tests {describe(condition)}, not a condition on sizes")
            if condition.has(BATCH):
                return  # a condition on the batch size holds for the batch the user runs
            decided = is_true(condition)
        if decided is False:
            raise SpecError(f"the model's own shape guard fails for every input: {message}")
        if decided is None:
            self.guards.append(Assumption(condition, f"the model asserts: {message}"))

    # --- parameters the forward pass never reads ---------------------------------
    def unused(self, kept: set[str]) -> list[UnusedParameters]:
        """The largest modules whose parameters no node in ``kept`` reads, with their sizes."""
        named = list(self.root.named_parameters())
        read = {i for name in kept for i in self.reads.get(name, ())}
        unused = {name for name, p in named if id(p) not in read}
        if not unused:
            return []
        modules: dict[str, list[bool]] = {}
        for name, _ in named:
            parts = name.split(".")[:-1]
            for depth in range(len(parts) + 1):
                modules.setdefault(".".join(parts[:depth]), []).append(name in unused)
        wholly = {m for m, flags in modules.items() if all(flags)}
        top = sorted(m for m in wholly if not any(_inside(m, other) for other in wholly if other != m))
        sizes = dict(named)
        found = []
        for module in top:
            count = sum(int(sizes[n].numel()) for n in unused if module == "" or n.startswith(module + "."))
            found.append(UnusedParameters(module or "(root)", count))
        return found


def _bias_layout(data: DataValue) -> tuple[Layer, int, int, int] | None:
    """The bias layer whose gather puts the held table's entries where ``data.probe`` says they went, with
    its heads, queries and keys; None when neither layout does."""
    import numpy as np

    from symconv.layers import AttentionBias, RelativePositionBias
    from symconv.numeric import attention_bias_index, relative_position_index

    table = data.held
    if table.dim() != 2 or len(data.shape) < 3:
        return None
    heads, queries, tokens = (int(s) for s in data.shape[-3:])
    if heads * queries * tokens != data.probe.numel():
        return None
    positions = data.probe.detach().numpy().reshape(-1)
    rows, columns = (int(s) for s in table.shape)
    entries = np.arange(rows * columns).reshape(rows, columns)
    for h in range(1, tokens + 1):
        w = tokens // h
        if h * w != tokens:
            continue
        candidates: list[tuple[Layer, Any]] = []
        if (rows, columns) == ((2 * h - 1) * (2 * w - 1), heads) and queries == tokens:  # heads moved first
            candidates.append(
                (RelativePositionBias([h, w]), entries[relative_position_index((h, w))].transpose(2, 0, 1))
            )
        if (rows, columns) == (heads, tokens):  # (heads, positions), indexed by |dy| w + |dx|
            for stride in range(1, max(h, w) + 1):
                if -(-h // stride) * -(-w // stride) == queries:
                    candidates.append(
                        (AttentionBias([h, w], stride), entries[:, attention_bias_index((h, w), stride)])
                    )
        for layer, gathered in candidates:
            if np.array_equal(positions, gathered.reshape(-1)):
                return layer, heads, queries, tokens
    return None


def _inside(module: str, other: str) -> bool:
    return other == "" or module.startswith(other + ".")


def describe(value: Any) -> str:
    """A value as a message names it."""
    if isinstance(value, DataValue):
        return f"the held tensor {value.target}"
    if isinstance(value, TensorValue):
        return "a tensor"
    return f"{type(value).__name__} {value!r}"


def reachable(nodes: list[Node], output: int) -> list[Node]:
    """The nodes the output depends on, in order; parameter sharing moves to the first node kept."""
    keep, stack = set(), [output]
    while stack:
        index = stack.pop()
        if index < 0 or index in keep:
            continue
        keep.add(index)
        stack.extend(nodes[index].inputs)
    order = sorted(keep)
    new_index = {old: new for new, old in enumerate(order)}
    new_index[-1] = -1
    kept_names = {nodes[i].name for i in order}
    moved: dict[str, str] = {}  # an owner left out -> the first kept node that shares with it
    result = []
    for old in order:
        node = nodes[old]
        shares = node.shares
        if shares is not None and shares not in kept_names:
            if shares in moved:
                shares = moved[shares]
            else:
                moved[shares], shares = node.name, None
        result.append(
            Node(node.name, node.layer, tuple(new_index[i] for i in node.inputs), shares, node.derived)
        )
    return result
