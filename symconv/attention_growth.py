"""Why attention is quadratic: a transformer's MACs as polynomials in its tokens and its resolution.

For a network whose tokens come from a ``P x P`` patch embedding of an ``H x W``
image (ViT), write ``H = P h`` and ``W = P w``: then ``floor(H/P) = h`` and the
sequence has ``L = h w + 1`` tokens (the class token included). Every closed
form becomes a polynomial in ``h`` and ``w``:

- each self-attention layer costs ``4 L E^2`` for its four projections and
  ``2 L^2 E`` for the products ``Q K^T`` and ``A V`` (Vaswani et al. 2017,
  section 3.2): degree 2 in ``L``, so degree 4 in the side of a square image;
- each MLP costs ``2 L E M``: degree 1 in ``L``.

The attention layers cost more than the MLPs exactly when ``4 E^2 + 2 L E > 2 E M``,
that is when ``L > M - 2E``; the crossover resolution is the smallest square
side where that holds, proved by the sign of the difference and checked at
the sides on either side of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symconv.errors import SpecError
from symconv.layers import Conv2d, Linear, MultiheadAttention
from symconv.network import Network
from symconv.prove import Proof, prove
from symconv.report import tidy
from symconv.sizes import size_symbol

SEARCH_SIDES = 4096
"""The crossover is looked for among square sides of up to this many patches."""


@dataclass(frozen=True)
class AttentionGrowth:
    """A transformer's cost as polynomials: in the patches per side ``h`` (square input) and in tokens ``L``."""

    name: str | None
    patch: int
    side: sp.Symbol  # h: patches per side of a square input, H = W = P h
    tokens: sp.Expr  # L as a polynomial in h
    macs: sp.Expr  # the whole network's MACs as a polynomial in h
    attention: sp.Expr  # every self-attention layer's MACs, summed, in h
    mlp: sp.Expr  # every token-wise linear layer's MACs, summed, in h
    degree: int  # of the MACs in h (so in H = W = P h)
    degree_in_height: int  # of the MACs in H alone, W fixed
    degree_in_tokens: int  # of the attention MACs in L
    crossover_side: int | None  # the least h with attention > MLP, None if none up to SEARCH_SIDES
    proof: Proof | None  # attention - MLP > 0 for every h from the crossover on

    @property
    def crossover_resolution(self) -> int | None:
        return None if self.crossover_side is None else self.crossover_side * self.patch

    def share(self, side: int) -> sp.Rational:
        """The attention layers' share of attention and MLP MACs at ``side`` patches per side."""
        h = self.side
        attention, mlp = self.attention.subs(h, side), self.mlp.subs(h, side)
        return sp.Rational(attention, attention + mlp)


def _patch(network: Network) -> int:
    for node in network.graph:
        layer = node.layer
        if (
            isinstance(layer, Conv2d)
            and layer.kernel_size == layer.stride
            and all(p == 0 for p in layer.padding)
        ):
            sizes = {int(k) for k in layer.kernel_size if k.is_Integer}
            if len(sizes) == 1:
                return sizes.pop()
    raise SpecError("no patch embedding (a convolution whose stride equals its kernel) to count tokens from")


def attention_growth(network: Network) -> AttentionGrowth:
    """The MACs of a patch-embedded transformer as polynomials in its side and tokens; the crossover, proved."""
    if not any(isinstance(node.layer, MultiheadAttention) for node in network.graph):
        raise SpecError("the network has no multihead_attention layer")
    patch = _patch(network)
    H, W = size_symbol("H"), size_symbol("W")
    h = size_symbol("h")
    square = {H: patch * h, W: patch * h}
    report = network.report
    attention, mlp, length = sp.Integer(0), sp.Integer(0), None
    for node, row in zip(network.graph, report.rows, strict=True):
        if isinstance(node.layer, MultiheadAttention):
            attention += row.macs
            length = row.input_shapes[0][0]
        elif isinstance(node.layer, Linear) and len(row.input_shapes[0]) == 2:
            mlp += row.macs
    if length is None:
        raise SpecError("the attention layers read no token sequence")

    def polynomial(expr: sp.Expr) -> sp.Expr:
        return tidy(sp.expand(sp.sympify(expr).xreplace(square)))

    macs, attention, mlp, tokens = (polynomial(e) for e in (report.macs, attention, mlp, length))
    w = size_symbol("w")
    rectangle = tidy(sp.expand(sp.sympify(report.macs).xreplace({H: patch * h, W: patch * w})))
    if any(e.has(sp.floor, sp.ceiling) for e in (macs, attention, mlp, tokens)):
        raise SpecError("the costs keep floors with H = W = P h: the patches do not tile the image")
    L = sp.Symbol("L", positive=True)
    in_tokens = sp.solve(sp.Eq(L, tokens), h)
    per_token = sp.Poly(sp.expand(attention.xreplace({h: in_tokens[-1]})), L) if in_tokens else None
    difference = sp.expand(attention - mlp)
    crossover = next((s for s in range(1, SEARCH_SIDES + 1) if difference.subs(h, s) > 0), None)
    proof = None
    if crossover is not None:
        proof = prove(attention, mlp, ">", assume=(sp.Ge(h, crossover),))
    return AttentionGrowth(
        network.name,
        patch,
        h,
        tokens,
        macs,
        attention,
        mlp,
        sp.Poly(macs, h).degree(),
        sp.Poly(rectangle, h).degree(),
        per_token.degree() if per_token is not None else 0,
        crossover,
        proof,
    )


__all__ = ["AttentionGrowth", "SEARCH_SIDES", "attention_growth"]
