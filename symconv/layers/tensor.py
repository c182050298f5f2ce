"""Layers that move, cut, reduce or hold tensors: permute, reshape, narrow, select, mean, sum, norm, parameter.

Axes are numbered as PyTorch numbers them, the batch axis being 0 (as in
``torch.flatten``'s ``start_dim``), so ``permute: {dims: [0, 2, 3, 1]}`` is
``x.permute(0, 2, 3, 1)``; the batch axis itself stays where it is. A reshape's
``shape`` is the batchless target (``x.reshape(x.size(0), *shape)``).

Sources: PyTorch, ``torch.permute``, ``torch.reshape`` (one ``-1`` is inferred
from the number of elements), ``torch.narrow``, ``torch.select``,
``torch.mean``/``torch.sum`` (``keepdim``), ``torch.linalg.vector_norm``, ``torch.nn.Parameter``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import ShapeError, SpecError
from symconv.layers.base import (
    Layer,
    Receptive,
    Requirement,
    Shape,
    batchless_axis,
    choice_arg,
    flag_arg,
    int_arg,
    ints_arg,
    number_arg,
    product,
    shape_arg,
    size_arg,
)
from symconv.sizes import floor_divide, integer_valued, relation


def _show(shape: Shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class ShapeOnly(Layer):
    """No parameters, no MACs, and no receptive field once axes are moved."""

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return None


@dataclass(frozen=True)
class Permute(ShapeOnly):
    """``x.permute(*dims)``: the batch axis (0) stays first."""

    kind: ClassVar[str] = "permute"
    dims: tuple[int, ...] = ints_arg()

    def order(self, x: Shape) -> tuple[int, ...]:
        """The batchless axes in their new order."""
        if len(self.dims) != len(x) + 1:
            raise ShapeError(
                f"dims has {len(self.dims)} axes but the input has {len(x) + 1} (batch axis included)",
                self.where,
            )
        normal = [d % (len(x) + 1) for d in self.dims]
        if sorted(normal) != list(range(len(x) + 1)):
            raise ShapeError(f"dims {list(self.dims)} is not a permutation of the axes", self.where)
        if normal[0] != 0:
            raise ShapeError("dims must keep the batch axis (0) first", self.where)
        return tuple(d - 1 for d in normal[1:])

    def output_shape(self, x: Shape) -> Shape:
        return tuple(x[axis] for axis in self.order(x))


@dataclass(frozen=True)
class Reshape(ShapeOnly):
    """``x.reshape(x.size(0), *shape)``; one entry may be ``-1``, inferred from the element count."""

    kind: ClassVar[str] = "reshape"
    shape: tuple[sp.Expr, ...] = shape_arg()

    def target(self, x: Shape) -> Shape:
        inferred = [i for i, s in enumerate(self.shape) if s == -1]
        if len(inferred) > 1:
            raise ShapeError("shape may hold at most one -1", self.where)
        if not inferred:
            return self.shape
        known = product([s for s in self.shape if s != -1])
        index = inferred[0]
        return (*self.shape[:index], sp.cancel(product(x) / known), *self.shape[index + 1 :])

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        target = self.target(x)
        before, after = product(x), product(target)
        if before != after:  # equal products of the same factors need no expansion
            before, after = sp.expand(before), sp.expand(after)
        return (
            Requirement(
                relation(sp.Eq, before, after),
                lambda: (
                    f"the input {_show(x)} has {before} elements but the shape {_show(target)} holds {after}"
                ),
                "shape",
            ),
            *(
                Requirement(
                    relation(sp.Eq, sp.Mod(s, 1), 0),
                    lambda s=s: f"the inferred size {s} must be an integer",
                    "shape",
                )
                for s in target
                if not integer_valued(s)
            ),
        )

    def output_shape(self, x: Shape) -> Shape:
        return self.target(x)


@dataclass(frozen=True)
class Narrow(ShapeOnly):
    """``x.narrow(dim, start, length)``: ``length`` consecutive entries of one axis (what chunk and split give);
    with ``step``, every ``step``-th of them (``x[:, start:start + length:step]``)."""

    kind: ClassVar[str] = "narrow"
    dim: int = int_arg()
    start: sp.Expr = size_arg(minimum=0)
    length: sp.Expr = size_arg()
    step: sp.Expr = size_arg(1)

    def size(self) -> sp.Expr:
        """Entries kept: ``floor((length - 1)/step) + 1``."""
        return self.length if self.step == 1 else floor_divide(self.length, -1, self.step) + 1

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        axis = batchless_axis(self, self.dim, len(x))
        return (
            Requirement(
                relation(sp.Le, self.start + self.length, x[axis]),
                lambda: (
                    f"entries {self.start} to {self.start + self.length} do not fit an axis of size {x[axis]}"
                ),
                "length",
            ),
        )

    def output_shape(self, x: Shape) -> Shape:
        axis = batchless_axis(self, self.dim, len(x))
        return (*x[:axis], self.size(), *x[axis + 1 :])


@dataclass(frozen=True)
class Select(ShapeOnly):
    """``x.select(dim, index)`` (``x[:, index]``): one entry of an axis, the axis removed."""

    kind: ClassVar[str] = "select"
    dim: int = int_arg(1)
    index: sp.Expr = size_arg(0, minimum=0)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        axis = batchless_axis(self, self.dim, len(x))
        return (
            Requirement(
                relation(sp.Lt, self.index, x[axis]),
                lambda: f"index {self.index} is past an axis of size {x[axis]}",
                "index",
            ),
        )

    def output_shape(self, x: Shape) -> Shape:
        axis = batchless_axis(self, self.dim, len(x))
        return (*x[:axis], *x[axis + 1 :])


@dataclass(frozen=True)
class Reduction(ShapeOnly):
    """A reduction over ``dim`` (PyTorch's axes); ``keepdim`` keeps the reduced axes as size 1."""

    dim: tuple[int, ...] = ints_arg()
    keepdim: bool = flag_arg(False)

    def axes(self, x: Shape) -> set[int]:
        axes = {batchless_axis(self, d, len(x)) for d in self.dim}
        if len(axes) != len(self.dim):
            raise ShapeError(f"dim {list(self.dim)} names an axis twice", self.where)
        return axes

    def output_shape(self, x: Shape) -> Shape:
        axes = self.axes(x)
        if self.keepdim:
            return tuple(sp.Integer(1) if i in axes else s for i, s in enumerate(x))
        return tuple(s for i, s in enumerate(x) if i not in axes)


@dataclass(frozen=True)
class Mean(Reduction):
    """``x.mean(dim, keepdim)`` (global average pooling when ``dim`` is the spatial axes)."""

    kind: ClassVar[str] = "mean"


@dataclass(frozen=True)
class Sum(Reduction):
    """``x.sum(dim, keepdim)``."""

    kind: ClassVar[str] = "sum"


@dataclass(frozen=True)
class VectorNorm(Reduction):
    """``torch.linalg.vector_norm(x, ord, dim, keepdim)``: ``(sum |x|^ord)^(1/ord)`` over ``dim``.

    ``x.norm(p, dim)`` and ``torch.norm`` are the same reduction (ConvNeXt V2's
    global response normalisation takes the 2-norm over the spatial axes). Like
    a mean it is no multiply-accumulate of a weight: no MACs.
    """

    kind: ClassVar[str] = "vector_norm"
    ord: Any = number_arg(2)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (isinstance(self.ord, (int, float)) and not isinstance(self.ord, bool) and self.ord > 0):
            raise SpecError(f"ord: expected a positive number or inf, got {self.ord!r}", self.where)


@dataclass(frozen=True)
class Parameter(Layer):
    """A tensor read as data (a class token, a position embedding, a layer scale).

    It has no input; ``shape`` is batchless, as the tensor is broadcast over the
    batch (``torch.nn.Parameter`` of shape ``(1, *shape)`` or ``shape``). Its
    elements are parameters when ``learnable`` (a buffer is not).
    """

    kind: ClassVar[str] = "parameter"
    arity: ClassVar[int] = 0
    shape: tuple[sp.Expr, ...] = shape_arg()
    learnable: bool = flag_arg(True)

    def requirements(self) -> tuple[Requirement, ...]:
        if any(s == -1 for s in self.shape):
            raise ShapeError("a parameter's shape cannot hold -1", self.where)
        return ()

    def output_shape(self) -> Shape:
        return self.shape

    def params(self) -> sp.Expr:
        return product(self.shape) if self.learnable else sp.Integer(0)

    def receptive(self) -> Receptive | None:
        return None

    def weight_shapes(self) -> dict[str, Shape]:
        return {"weight": self.shape} if self.learnable else {}


@dataclass(frozen=True)
class Pad(ShapeOnly):
    """``F.pad(x, pad, mode, value)``: ``pad`` lists (before, after) pairs from the last axis backwards.

    ``constant`` fills with ``value`` (zeros by default; ``-inf`` ahead of a max
    pool); ``reflect`` mirrors the entries next to the edge, so each amount must
    be smaller than its axis; ``replicate`` repeats the edge; ``circular`` wraps
    around, at most the whole axis. The mode changes values, not shapes.
    """

    kind: ClassVar[str] = "pad"
    pad: tuple[sp.Expr, ...] = shape_arg(minimum=0)
    mode: str = choice_arg("constant", "constant", "reflect", "replicate", "circular")
    value: Any = number_arg(0)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        if self.mode == "constant":
            return ()
        axes = len(self.pad) // 2
        if len(x) not in (axes, axes + 1):  # PyTorch's rule: the last one, two or three axes of (C, *spatial)
            raise ShapeError(
                f"{self.mode} padding of {axes} axes needs an input of {axes} or {axes + 1} axes besides the "
                f"batch, not {len(x)}",
                self.where,
            )
        if self.mode == "replicate":
            return ()
        found = []
        for axis, before, after in self.pairs(x):
            for amount in (before, after):
                condition = (
                    relation(sp.Lt, amount, x[axis])
                    if self.mode == "reflect"
                    else relation(sp.Le, amount, x[axis])
                )
                found.append(
                    Requirement(
                        condition,
                        lambda amount=amount, axis=axis: (
                            f"{self.mode} padding {amount} must be "
                            f"{'smaller than' if self.mode == 'reflect' else 'at most'} the axis {x[axis]}"
                        ),
                        "pad",
                    )
                )
        return tuple(found)

    def pairs(self, x: Shape) -> list[tuple[int, sp.Expr, sp.Expr]]:
        if len(self.pad) % 2:
            raise ShapeError(f"pad holds {len(self.pad)} values; it needs (before, after) pairs", self.where)
        if len(self.pad) // 2 > len(x):
            raise ShapeError("pad reaches the batch axis, which symconv keeps implicit", self.where)
        return [(len(x) - 1 - i, self.pad[2 * i], self.pad[2 * i + 1]) for i in range(len(self.pad) // 2)]

    def output_shape(self, x: Shape) -> Shape:
        shape = list(x)
        for axis, before, after in self.pairs(x):
            shape[axis] = x[axis] + before + after
        return tuple(shape)


@dataclass(frozen=True)
class RepeatInterleave(ShapeOnly):
    """``x.repeat_interleave(repeats, dim)``: each entry of one axis ``repeats`` times in a row, the axis
    ``repeats`` times longer (GC ViT's global query, one copy per window). Values are copied, no MACs."""

    kind: ClassVar[str] = "repeat_interleave"
    repeats: sp.Expr = size_arg(minimum=1)
    dim: int = int_arg(1)

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        batchless_axis(self, self.dim, len(x))
        return ()

    def output_shape(self, x: Shape) -> Shape:
        axis = batchless_axis(self, self.dim, len(x))
        return (*x[:axis], x[axis] * self.repeats, *x[axis + 1 :])


@dataclass(frozen=True)
class Roll(ShapeOnly):
    """``torch.roll(x, shifts, dims)``: entries shifted along axes, those past the end brought round to the start
    (Swin's shifted windows, Liu et al. 2021, section 3.2). Values move; the shape does not."""

    kind: ClassVar[str] = "roll"
    shifts: tuple[int, ...] = ints_arg()
    dims: tuple[int, ...] = ints_arg()

    def requirements(self, x: Shape) -> tuple[Requirement, ...]:
        if len(self.shifts) != len(self.dims):
            raise ShapeError(f"roll has {len(self.shifts)} shifts for {len(self.dims)} axes", self.where)
        for d in self.dims:
            batchless_axis(self, d, len(x))
        return ()

    def output_shape(self, x: Shape) -> Shape:
        return x


@dataclass(frozen=True)
class RelativePositionBias(ShapeOnly):
    """Swin's relative position bias: a table of ``(2W_h - 1)(2W_w - 1)`` rows of ``heads`` values, gathered into
    ``(heads, N, N)`` for the ``N = W_h W_w`` tokens of a window (Liu et al. 2021, "Swin Transformer", section 3.2).

    The input is the table; gathering by a fixed index moves values, no MACs.
    """

    kind: ClassVar[str] = "relative_position_bias"
    window_size: tuple[sp.Expr, ...] = shape_arg()

    def requirements(self, table: Shape) -> tuple[Requirement, ...]:
        if len(table) != 2 or len(self.window_size) != 2:
            raise ShapeError(
                "relative_position_bias needs a (rows, heads) table and a 2-D window", self.where
            )
        h, w = self.window_size
        rows = (2 * h - 1) * (2 * w - 1)
        return (
            Requirement(
                relation(sp.Eq, table[0], rows),
                f"the table has {table[0]} rows, not (2*{h} - 1)(2*{w} - 1)",
                "window_size",
            ),
        )

    def output_shape(self, table: Shape) -> Shape:
        tokens = self.window_size[0] * self.window_size[1]
        return (table[1], tokens, tokens)


@dataclass(frozen=True)
class AttentionBias(ShapeOnly):
    """LeViT's attention bias: a table of ``heads`` rows of ``R_h R_w`` values, one per offset
    ``(|dy|, |dx|)`` between two positions of an ``R_h x R_w`` map, gathered into ``(heads, N_q, N)`` for its
    ``N = R_h R_w`` tokens: entry ``(i, j)`` is the table's column ``|y_i - y_j| R_w + |x_i - x_j|``
    (Graham et al. 2021, "LeViT", section 4.2). With ``stride`` s the queries are the positions of every
    s-th row and column (LeViT's shrinking attention), ``N_q = ceil(R_h/s) ceil(R_w/s)``; else ``N_q = N``.

    The input is the table; gathering by a fixed index moves values, no MACs.
    """

    kind: ClassVar[str] = "attention_bias"
    resolution: tuple[sp.Expr, ...] = shape_arg()
    stride: sp.Expr = size_arg(1, minimum=1)

    def queries(self) -> sp.Expr:
        h, w = self.resolution
        return sp.ceiling(h / self.stride) * sp.ceiling(w / self.stride)

    def requirements(self, table: Shape) -> tuple[Requirement, ...]:
        if len(table) != 2 or len(self.resolution) != 2:
            raise ShapeError(
                "attention_bias needs a (heads, positions) table and a 2-D resolution", self.where
            )
        h, w = self.resolution
        return (
            Requirement(
                relation(sp.Eq, table[1], h * w),
                f"the table has {table[1]} columns, not {h}*{w}",
                "resolution",
            ),
        )

    def output_shape(self, table: Shape) -> Shape:
        return (table[0], self.queries(), self.resolution[0] * self.resolution[1])
