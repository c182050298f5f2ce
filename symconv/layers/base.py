"""What every layer is: a frozen dataclass with one pure rule per quantity.

A layer receives the shapes of its inputs (channels first, batch implicit) and
answers, without side effects: the requirements its inputs must meet, its
output shape, its learnable parameters, its multiply-accumulates, its
receptive field, and the shapes of the weight tensors it owns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import ShapeError, SpecError, Where
from symconv.sizes import at_least, integer_valued, parse_size, relation

Shape = tuple[sp.Expr, ...]
ZERO = sp.Integer(0)
ONE = sp.Integer(1)


@dataclass(frozen=True)
class Requirement:
    """A condition a layer's input must satisfy, and which argument it concerns.

    ``describe`` is the message, or a function that writes it: most conditions
    hold and their messages are never read, and printing sizes is not free.
    """

    condition: sp.Basic
    describe: str | Callable[[], str]
    field: str

    @property
    def message(self) -> str:
        """The condition in words."""
        return self.describe() if callable(self.describe) else self.describe


@dataclass(frozen=True)
class Receptive:
    """Receptive field size and jump (effective stride) per spatial axis."""

    size: tuple[sp.Expr, ...]
    jump: tuple[sp.Expr, ...]


def as_size(value: Any, name: str) -> sp.Expr:
    """One size argument as a sympy expression (ints, sympy values or expression strings)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SpecError(f"{name}: expected an integer or an expression, got {value!r}")
    return parse_size(value)


def as_sizes(value: Any, dims: int, name: str) -> tuple[sp.Expr, ...]:
    """A per-axis argument: one value for every axis, or a list of ``dims`` values."""
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise SpecError(f"{name}: expected {dims} values (one per spatial axis), got {len(value)}")
        return tuple(as_size(v, name) for v in value)
    return (as_size(value, name),) * dims


def size_arg(default: Any = dataclasses.MISSING, minimum: int = 1) -> Any:
    """A dataclass field holding one size expression of at least ``minimum``."""
    return field(default=default, metadata={"kind": "size", "minimum": minimum})


def sizes_arg(default: Any = dataclasses.MISSING, minimum: int = 1) -> Any:
    """A dataclass field holding one size per spatial axis, each at least ``minimum``."""
    return field(default=default, metadata={"kind": "sizes", "minimum": minimum})


def flag_arg(default: bool) -> Any:
    """A dataclass field holding a boolean."""
    return field(default=default, metadata={"kind": "flag"})


def choice_arg(default: str, *options: str) -> Any:
    """A dataclass field holding one of a few words."""
    return field(default=default, metadata={"kind": "choice", "options": options})


def int_arg(default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field holding one plain integer (an axis, as PyTorch numbers it)."""
    return field(default=default, metadata={"kind": "int"})


def ints_arg(default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field holding a list of plain integers (axes, as PyTorch numbers them)."""
    return field(default=default, metadata={"kind": "ints"})


def shape_arg(default: Any = dataclasses.MISSING, minimum: int = 1) -> Any:
    """A dataclass field holding a shape: sizes of any length, ``-1`` where a size is inferred."""
    return field(default=default, metadata={"kind": "shape", "minimum": minimum})


def number_arg(default: Any = None) -> Any:
    """A dataclass field holding a plain number that is not a size (a probability, a slope)."""
    return field(default=default, metadata={"kind": "number"})


@cache
def _fields_of(cls: type) -> tuple[tuple[dataclasses.Field, str | None], ...]:
    """A layer class's fields, each with its argument kind (read once per class)."""
    return tuple((f, f.metadata.get("kind")) for f in dataclasses.fields(cls))


@cache
def _minimums(cls: type) -> dict[str, int]:
    """The least value of each size argument of a layer class."""
    return {f.name: f.metadata.get("minimum", 1) for f, _ in _fields_of(cls)}


@dataclass(frozen=True)
class Layer:
    """Base of all layers. Subclasses set ``kind`` and override the rules they need."""

    kind: ClassVar[str] = "layer"
    arity: ClassVar[int] = 1
    name: str | None = field(default=None, kw_only=True)
    trainable: bool = field(default=True, kw_only=True, metadata={"kind": "flag"})
    """False for a frozen layer (PyTorch's ``requires_grad=False``, Keras's ``trainable=False``): its
    parameters are counted as non-trainable, and the backward pass computes no gradient for them."""
    fixed: bool = field(default=False, kw_only=True, metadata={"kind": "flag"})
    """True when the weights are constants held as buffers, not parameters (a fixed blur filter applied with
    ``F.conv2d``): the layer counts no parameters and computes no weight gradient; its MACs are counted."""
    where: Where | None = field(default=None, kw_only=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f, kind in _fields_of(type(self)):
            value = getattr(self, f.name)
            if value is None and kind in ("size", "sizes") and f.default is dataclasses.MISSING:
                raise SpecError(f"{f.name}: required, got null", self.where)
            if kind == "size" and value is not None:
                object.__setattr__(self, f.name, as_size(value, f.name))
            elif (
                kind == "sizes" and value is not None and not (isinstance(value, str) and f.name == "padding")
            ):
                if isinstance(value, str) and value in ("same", "valid"):
                    raise SpecError(
                        f"{f.name}: {value!r} is a padding mode; {f.name} takes an integer, a list or an expression",
                        self.where,
                    )
                object.__setattr__(self, f.name, as_sizes(value, self.spatial_dims, f.name))
            elif kind == "shape" and value is not None:
                if not isinstance(value, (list, tuple)):
                    value = (value,)
                object.__setattr__(self, f.name, tuple(as_size(v, f.name) for v in value))
            elif kind == "ints" and value is not None:
                if isinstance(value, int) and not isinstance(value, bool):
                    value = (value,)
                if not isinstance(value, (list, tuple)) or not all(type(v) is int for v in value):
                    raise SpecError(f"{f.name}: expected a list of integers, got {value!r}", self.where)
                object.__setattr__(self, f.name, tuple(value))
            elif kind == "flag" and not isinstance(value, bool):
                raise SpecError(f"{f.name}: expected true or false, got {value!r}", self.where)
            elif kind == "choice" and value not in f.metadata["options"]:
                options = ", ".join(f.metadata["options"])
                raise SpecError(f"{f.name}: expected one of {options}, got {value!r}", self.where)

    spatial_dims: ClassVar[int] = 0

    def size_fields(self) -> list[tuple[str, sp.Expr]]:
        """Every size-valued argument, one entry per axis value."""
        found = []
        for f, kind in _fields_of(type(self)):
            value = getattr(self, f.name)
            if kind in ("size", "sizes", "optional_sizes", "shape") and value is not None:
                values = value if isinstance(value, tuple) else (value,)
                found.extend(
                    (f.name, v)
                    for v in values
                    if isinstance(v, sp.Basic) and not (kind == "shape" and v == -1)
                )
        return found

    def argument_requirements(self) -> tuple[Requirement, ...]:
        """Every size argument is an integer of at least its field's minimum."""
        minimums = _minimums(type(self))
        found = []
        for name, value in self.size_fields():
            if value.is_Integer and int(value) >= minimums[name]:
                continue  # a plain number that meets its minimum: nothing to decide
            found.append(
                Requirement(
                    at_least(
                        value, sp.Integer(minimums[name])
                    ),  # a floor's size as the condition on its numerator
                    lambda name=name, value=value: f"{name} is {value}; it must be at least {minimums[name]}",
                    name,
                )
            )
            if not integer_valued(value):
                found.append(
                    Requirement(
                        relation(sp.Eq, sp.Mod(value, 1), 0),
                        lambda name=name, value=value: f"{name} = {value} must be an integer",
                        name,
                    )
                )
        return tuple(found)

    # --- the rules -----------------------------------------------------------
    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        """Conditions on the input shapes; the network decides or records them."""
        return ()

    def output_shape(self, *inputs: Shape) -> Shape:
        return inputs[0]

    def params(self, *inputs: Shape) -> sp.Expr:
        return ZERO

    def macs(self, *inputs: Shape) -> sp.Expr:
        return ZERO

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return fields[0]

    def weight_shapes(self, *inputs: Shape) -> dict[str, Shape]:
        """Shapes of the learnable tensors, named as PyTorch names them."""
        return {}

    # --- helpers for subclasses ----------------------------------------------
    def expect_rank(self, shape: Shape, rank: int) -> None:
        """Refuse an input of the wrong rank, naming what was expected."""
        if len(shape) != rank:
            axes = {1: "C", 2: "C, L", 3: "C, H, W", 4: "C, D, H, W"}.get(rank, f"{rank} axes")
            raise ShapeError(
                f"{self.kind} expects an input of rank {rank} ({axes}), "
                f"got shape ({', '.join(map(str, shape))})",
                self.where,
            )


AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def axis_name(axis: int, spatial_dims: int) -> str:
    """The spatial axis as a reader names it: ``height``, ``width``, ``length``, ``depth``."""
    names = AXIS_NAMES.get(spatial_dims)
    return names[axis] if names and axis < len(names) else f"spatial axis {axis + 1}"


def batchless_axis(layer: Layer, dim: int, rank: int, field_name: str = "dim") -> int:
    """The axis of a batchless shape of ``rank`` that PyTorch's ``dim`` names (its axis 0 is the batch)."""
    if not -(rank + 1) <= dim <= rank:
        raise ShapeError(
            f"{field_name} = {dim} is out of range for an input of rank {rank} (batch axis included: {rank + 1})",
            layer.where,
        )
    axis = dim % (rank + 1)
    if axis == 0:
        raise ShapeError(
            f"{field_name} = {dim} names the batch axis, which symconv keeps implicit", layer.where
        )
    return axis - 1


def product(values: tuple[sp.Expr, ...] | list[sp.Expr]) -> sp.Expr:
    """The product of sizes (1 for none)."""
    return sp.Mul(*values) if values else ONE


def spatial_receptive(
    previous: Receptive | None,
    kernel: tuple[sp.Expr, ...],
    stride: tuple[sp.Expr, ...],
    dilation: tuple[sp.Expr, ...],
) -> Receptive | None:
    """``r' = r + d(K - 1) j`` and ``j' = j S`` per axis (Dumoulin & Visin, 2016; Araujo et al., 2019)."""
    if previous is None:
        return None
    values = (*previous.size, *previous.jump, *kernel, *stride, *dilation)
    if all(v.is_Integer for v in values):  # the usual case, in machine integers
        size = tuple(
            sp.Integer(int(r) + int(d) * (int(k) - 1) * int(j))
            for r, j, k, d in zip(previous.size, previous.jump, kernel, dilation, strict=True)
        )
        jump = tuple(sp.Integer(int(j) * int(s)) for j, s in zip(previous.jump, stride, strict=True))
        return Receptive(size, jump)
    size = tuple(
        sp.expand(r + d * (k - 1) * j)
        for r, j, k, d in zip(previous.size, previous.jump, kernel, dilation, strict=True)
    )
    jump = tuple(j * s for j, s in zip(previous.jump, stride, strict=True))
    return Receptive(size, jump)
