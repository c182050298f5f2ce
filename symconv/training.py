"""Training cost: the backward pass as formulas, derived from the forward ones.

The backward pass of a convolution or a linear layer is two products of the
forward one's size (PyTorch's ``convolution_backward`` and the matmuls of
``addmm``'s derivative, as ``torch.utils.flop_counter`` counts them):

* the gradient with respect to the weights, ``dL/dW`` — for every layer that
  is not frozen (``trainable: false``; ``requires_grad=False`` in PyTorch);
* the gradient with respect to the input, ``dL/dx`` — only where the input
  itself needs a gradient, that is where some trainable layer lies upstream.
  The first convolution of a network reading the image computes none, nor
  does any layer before the first trainable one of a frozen backbone.

Attention's products of activations have backward products too, each the size
of a forward one: ``a @ b`` gives ``dL/da = dL/dc bᵀ`` and ``dL/db = aᵀ dL/dc``,
each where its operand needs a gradient; ``softmax(Q Kᵀ) V`` gives ``dL/dV`` and
``dL/dA`` (for the scores), then ``dL/dQ`` and ``dL/dK`` (the softmax between them
is no product). ``nn.MultiheadAttention`` adds its projections, as linear layers.

Bias gradients are sums, not multiply-accumulates; BatchNorm, activations and
pooling have no MACs in either direction by symconv's counting convention (the Conventions page).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from symconv.errors import SpecError
from symconv.layers.attention import MatMul, MultiheadAttention, ScaledDotProductAttention
from symconv.layers.base import product
from symconv.layers.conv import ConvNd, ConvTransposeNd, DepthwiseConv2d, SeparableConv2d, SharedKernelConv2d
from symconv.layers.linear import Linear
from symconv.network import Network
from symconv.report import Report, tidy

PASSES = ("forward", "backward", "training")
WEIGHTED = (ConvNd, ConvTransposeNd, DepthwiseConv2d, SeparableConv2d, SharedKernelConv2d, Linear)


@dataclass(frozen=True)
class BackwardCost:
    """One layer's backward multiply-accumulates, split by gradient.

    ``counted_weight_gradient`` is what ``torch.utils.flop_counter`` reckons for
    the weight gradient: its ``conv_backward_flop`` ignores ``groups`` there, so
    a grouped convolution's is counted ``groups`` times over.
    """

    name: str
    input_gradient: sp.Expr
    weight_gradient: sp.Expr
    counted_weight_gradient: sp.Expr

    @property
    def total(self) -> sp.Expr:
        return tidy(self.input_gradient + self.weight_gradient)


def needs_gradient(network: Network) -> list[bool]:
    """Per node: does its output need a gradient (is any trainable layer upstream, itself included)?"""
    flags: list[bool] = []
    for node, row in zip(network.graph, network.report.rows, strict=True):
        upstream = any(flags[i] for i in node.inputs if i >= 0)
        learns = (
            node.layer.trainable
            and not node.layer.fixed
            and bool(node.layer.weight_shapes(*row.input_shapes))
        )
        flags.append(upstream or learns)
    return flags


def backward(network: Network) -> tuple[BackwardCost, ...]:
    """Backward MACs of every node: a product of the forward's size per gradient that is computed."""
    flags = needs_gradient(network)
    costs = []
    for node, row in zip(network.graph, network.report.rows, strict=True):
        if isinstance(node.layer, (MatMul, ScaledDotProductAttention, MultiheadAttention)):
            costs.append(_attention_backward(node, row, [i >= 0 and flags[i] for i in node.inputs]))
            continue
        if not isinstance(node.layer, WEIGHTED):
            costs.append(BackwardCost(row.name, sp.Integer(0), sp.Integer(0), sp.Integer(0)))
            continue
        input_needs = any(flags[i] for i in node.inputs if i >= 0)
        if (
            not node.layer.trainable or node.layer.fixed
        ):  # frozen or constant: the gradient passes through to the input, none for the weights
            through = row.macs if input_needs else sp.Integer(0)
            costs.append(BackwardCost(row.name, through, sp.Integer(0), sp.Integer(0)))
            continue
        if isinstance(node.layer, SeparableConv2d):
            depthwise, pointwise = node.layer.parts(row.input_shapes[0])
            inner = depthwise.output_shape(row.input_shapes[0])
            first, second = depthwise.macs(row.input_shapes[0]), pointwise.macs(inner)
            # the pointwise layer's input (the depthwise output) always needs a gradient
            costs.append(
                BackwardCost(
                    row.name,
                    tidy(second + (first if input_needs else 0)),
                    tidy(first + second),
                    tidy(first * depthwise.groups + second),
                )
            )
            continue
        groups = _groups(node.layer, row.input_shapes[0])
        costs.append(
            BackwardCost(
                row.name, row.macs if input_needs else sp.Integer(0), row.macs, tidy(row.macs * groups)
            )
        )
    return tuple(costs)


def _attention_backward(node, row, needs: list[bool]) -> BackwardCost:
    """The backward products of a product of activations, of attention, or of multi-head attention."""
    layer, shapes, zero = node.layer, row.input_shapes, sp.Integer(0)
    if isinstance(layer, MatMul):  # one product of the forward's size per operand that needs a gradient
        return BackwardCost(row.name, tidy(row.macs * sum(needs)), zero, zero)
    if isinstance(layer, ScaledDotProductAttention):
        q, k, v = shapes
        axes = row.output_shape[:-2]
        pairs = product(axes) * q[-2] * k[-2]  # query-key pairs over every batch axis
        need_q, need_k, need_v = needs
        values = pairs * v[-1] * (int(need_v) + int(need_q or need_k))  # dL/dV, dL/dA
        queries = pairs * q[-1] * (int(need_q) + int(need_k))  # dL/dQ, dL/dK
        return BackwardCost(row.name, tidy(values + queries), zero, zero)
    q, k, _ = layer._sides(shapes)
    e = layer.embed_dim
    kdim, vdim = layer.widths()
    learns = layer.trainable and not layer.fixed
    need_q, need_k, need_v = needs * 3 if len(needs) == 1 else needs  # one input: self-attention
    # with the projections learning, every projected Q, K, V needs a gradient; else only toward an input
    grad_q, grad_k, grad_v = (True, True, True) if learns else (need_q, need_k, need_v)
    if not any((grad_q, grad_k, grad_v)):
        return BackwardCost(row.name, zero, zero, zero)
    core = q[0] * k[0] * e * (int(grad_v) + int(grad_q or grad_k) + int(grad_q) + int(grad_k))
    projected = q[0] * e * e  # dL/d(attention output), through the output projection
    inputs = q[0] * e * e * int(need_q) + k[0] * kdim * e * int(need_k) + k[0] * vdim * e * int(need_v)
    weights = layer.projection_macs(*shapes) if learns else zero
    return BackwardCost(row.name, tidy(projected + core + inputs), tidy(weights), tidy(weights))


def _groups(layer, x) -> sp.Expr:
    if isinstance(layer, DepthwiseConv2d):
        return x[0]
    return getattr(layer, "groups", sp.Integer(1))


def report_for_pass(network: Network, which: str, convention: str = "exact") -> Report:
    """The report with ``macs`` counting the forward, backward or whole training step.

    ``convention="flopcounter"`` reckons as ``torch.utils.flop_counter`` does
    (MACs = its FLOPs / 2): grouped weight gradients ``groups`` times over.
    """
    if which not in PASSES:
        raise SpecError(f"--pass must be one of {', '.join(PASSES)}, got {which!r}")
    if convention not in ("exact", "flopcounter"):
        raise SpecError(
            f"the backward pass is derived exactly or as flopcounter counts it, not {convention!r}"
        )
    report = network.report
    if which == "forward":
        return report
    costs = backward(network)

    def backward_macs(cost: BackwardCost) -> sp.Expr:
        weights = cost.counted_weight_gradient if convention == "flopcounter" else cost.weight_gradient
        return tidy(cost.input_gradient + weights)

    def parts(row, cost: BackwardCost) -> tuple[tuple[str, sp.Expr], ...]:
        weights = cost.counted_weight_gradient if convention == "flopcounter" else cost.weight_gradient
        split = (("input gradient", cost.input_gradient), ("weight gradient", tidy(weights)))
        return split if which == "backward" else (("forward", row.macs), *split)

    rows = tuple(
        replace(
            row,
            macs=tidy(backward_macs(cost) if which == "backward" else row.macs + backward_macs(cost)),
            parts=parts(row, cost),
        )
        for row, cost in zip(report.rows, costs, strict=True)
    )
    counted = ", as FlopCounterMode counts" if convention == "flopcounter" else ""
    return replace(report, rows=rows, cost=f"MACs, {which} pass{counted}")
