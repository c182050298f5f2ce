"""Attention: matrix products of activations, scaled dot-product attention, multi-head attention.

Attention's multiply-accumulates are its products: ``Q Kᵀ`` (``L·S·E`` per
sequence) and ``A V`` (``L·S·E_v``), plus the projections of multi-head
attention. They grow with the product of the two sequence lengths, which is
why attention over ``T`` tokens costs ``T²``.

Sources: Vaswani et al. 2017, "Attention Is All You Need", section 3.2
(``softmax(QKᵀ/√d_k)V``, the projections ``W^Q``, ``W^K``, ``W^V``, ``W^O``);
PyTorch, ``torch.matmul`` (batch axes broadcast),
``torch.nn.functional.scaled_dot_product_attention`` and
``torch.nn.MultiheadAttention`` (``in_proj_weight`` of shape ``(3E, E)``
when the key and value widths equal ``E``, else three separate weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from symconv.errors import ShapeError
from symconv.layers.base import (
    ZERO,
    Layer,
    Receptive,
    Requirement,
    Shape,
    flag_arg,
    number_arg,
    product,
    size_arg,
)
from symconv.sizes import relation


def _batch_axes(layer: Layer, shapes: tuple[Shape, ...]) -> tuple[Shape, tuple[Requirement, ...]]:
    """The leading (batch-like) axes of matrices, broadcast by PyTorch's rules."""
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1 or min(ranks) < 2:
        shown = "; ".join("(" + ", ".join(map(str, s)) + ")" for s in shapes)
        raise ShapeError(
            f"{layer.kind} needs inputs of equal rank, at least 2 without the batch axis: {shown}",
            layer.where,
        )
    axes = list(shapes[0][:-2])
    requirements = []
    for other in shapes[1:]:
        for i, (a, b) in enumerate(zip(axes, other[:-2], strict=True)):
            if sp.expand(a - b) == 0 or b == 1:
                continue
            if a == 1:
                axes[i] = b
                continue
            requirements.append(
                Requirement(
                    relation(sp.Eq, a, b),
                    lambda i=i, a=a, b=b: f"batch axis {i} of the inputs differs: {a} versus {b}",
                    "inputs",
                )
            )
    return tuple(axes), tuple(requirements)


@dataclass(frozen=True)
class MatMul(Layer):
    """``a @ b`` of activations: ``(..., n, k) @ (..., k, m)``, ``n·k·m`` MACs per matrix pair."""

    kind: ClassVar[str] = "matmul"
    arity: ClassVar[int] = 2

    def requirements(self, a: Shape, b: Shape) -> tuple[Requirement, ...]:
        _, found = _batch_axes(self, (a, b))
        inner = Requirement(
            relation(sp.Eq, a[-1], b[-2]),
            lambda: f"the inner sizes differ: {a[-1]} columns against {b[-2]} rows",
            "inputs",
        )
        return (*found, inner)

    def output_shape(self, a: Shape, b: Shape) -> Shape:
        axes, _ = _batch_axes(self, (a, b))
        return (*axes, a[-2], b[-1])

    def macs(self, a: Shape, b: Shape) -> sp.Expr:
        return product(self.output_shape(a, b)) * a[-1]

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return None


@dataclass(frozen=True)
class ScaledDotProductAttention(Layer):
    """``softmax(Q Kᵀ / √E) V`` for ``Q (..., L, E)``, ``K (..., S, E)``, ``V (..., S, E_v)``."""

    kind: ClassVar[str] = "scaled_dot_product_attention"
    arity: ClassVar[int] = 3
    is_causal: bool = flag_arg(False)
    scale: Any = number_arg(None)

    def requirements(self, q: Shape, k: Shape, v: Shape) -> tuple[Requirement, ...]:
        _, found = _batch_axes(self, (q, k, v))
        return (
            *found,
            Requirement(
                relation(sp.Eq, q[-1], k[-1]),
                lambda: f"queries of width {q[-1]} meet keys of width {k[-1]}",
                "inputs",
            ),
            Requirement(relation(sp.Eq, k[-2], v[-2]), lambda: f"{k[-2]} keys but {v[-2]} values", "inputs"),
        )

    def output_shape(self, q: Shape, k: Shape, v: Shape) -> Shape:
        axes, _ = _batch_axes(self, (q, k, v))
        return (*axes, q[-2], v[-1])

    def macs(self, q: Shape, k: Shape, v: Shape) -> sp.Expr:
        axes, _ = _batch_axes(self, (q, k, v))
        return product(axes) * q[-2] * k[-2] * (q[-1] + v[-1])

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return None


@dataclass(frozen=True)
class MultiheadAttention(Layer):
    """``torch.nn.MultiheadAttention`` with ``batch_first=True``: inputs ``(L, E)`` (query) and ``(S, kdim)``,
    ``(S, vdim)`` (key, value; the query itself when given one input).

    MACs: the projections ``L·E² + S·kdim·E + S·vdim·E + L·E²`` and the
    products ``Q Kᵀ`` and ``A V``, ``2·L·S·E`` over all heads.
    """

    kind: ClassVar[str] = "multihead_attention"
    arity: ClassVar[int] = -1
    embed_dim: sp.Expr = size_arg()
    num_heads: sp.Expr = size_arg()
    bias: bool = flag_arg(True)
    kdim: sp.Expr | None = size_arg(None)
    vdim: sp.Expr | None = size_arg(None)

    def widths(self) -> tuple[sp.Expr, sp.Expr]:
        return (self.kdim or self.embed_dim, self.vdim or self.embed_dim)

    def _sides(self, inputs: tuple[Shape, ...]) -> tuple[Shape, Shape, Shape]:
        if len(inputs) == 1:
            return inputs[0], inputs[0], inputs[0]
        if len(inputs) != 3:
            raise ShapeError("multihead_attention takes one input (self-attention) or three", self.where)
        return inputs  # type: ignore[return-value]

    def requirements(self, *inputs: Shape) -> tuple[Requirement, ...]:
        q, k, v = self._sides(inputs)
        if any(len(s) != 2 for s in (q, k, v)):
            raise ShapeError("multihead_attention expects (sequence, features) inputs", self.where)
        kdim, vdim = self.widths()
        return (
            Requirement(
                relation(sp.Eq, sp.Mod(self.embed_dim, self.num_heads), 0),
                lambda: f"embed_dim {self.embed_dim} does not divide into {self.num_heads} heads",
                "num_heads",
            ),
            Requirement(
                relation(sp.Eq, q[1], self.embed_dim),
                lambda: f"the query has {q[1]} features, not {self.embed_dim}",
                "embed_dim",
            ),
            Requirement(
                relation(sp.Eq, k[1], kdim), lambda: f"the key has {k[1]} features, not {kdim}", "kdim"
            ),
            Requirement(
                relation(sp.Eq, v[1], vdim), lambda: f"the value has {v[1]} features, not {vdim}", "vdim"
            ),
            Requirement(relation(sp.Eq, k[0], v[0]), lambda: f"{k[0]} keys but {v[0]} values", "inputs"),
        )

    def output_shape(self, *inputs: Shape) -> Shape:
        q, _, _ = self._sides(inputs)
        return (q[0], self.embed_dim)

    def params(self, *inputs: Shape) -> sp.Expr:
        return sum((product(s) for s in self.weight_shapes(*inputs).values()), ZERO)

    def projection_macs(self, *inputs: Shape) -> sp.Expr:
        """The four projections' MACs: queries, keys and values in, the attention output out."""
        q, k, _ = self._sides(inputs)
        e = self.embed_dim
        kdim, vdim = self.widths()
        return q[0] * e * e + k[0] * kdim * e + k[0] * vdim * e + q[0] * e * e

    def macs(self, *inputs: Shape) -> sp.Expr:
        q, k, _ = self._sides(inputs)
        return self.projection_macs(*inputs) + 2 * q[0] * k[0] * self.embed_dim

    def receptive(self, *fields: Receptive | None) -> Receptive | None:
        return None

    def weight_shapes(self, *inputs: Shape) -> dict[str, Shape]:
        e = self.embed_dim
        kdim, vdim = self.widths()
        if self.kdim is None and self.vdim is None:
            shapes: dict[str, Shape] = {"in_proj_weight": (3 * e, e)}
        else:
            shapes = {"q_proj_weight": (e, e), "k_proj_weight": (e, kdim), "v_proj_weight": (e, vdim)}
        if self.bias:
            shapes["in_proj_bias"] = (3 * e,)
        shapes["out_proj.weight"] = (e, e)
        if self.bias:
            shapes["out_proj.bias"] = (e,)
        return shapes
