"""What other tools print, as closed forms: the counting conventions side by side.

symconv's own MACs are the multiply-accumulates of convolution and linear
weights. The tools people compare with fold other work in, each its own way.
The rules below were read off each tool's counting code and pinned by tests
that run the tools themselves (torchinfo 1.8.0, fvcore 0.1.5.post20221221,
ptflops 0.7.5 with its default ``pytorch`` backend, torch 2.13's
``FlopCounterMode``), on modules in evaluation mode:

* ``torchvision``: MACs (its published GFLOPS column);
* ``flopcounter``: 2 x MACs (``torch.utils.flop_counter``; bias ignored), attention
  counted on its math path (``torch.backends.mha.set_fastpath_enabled(False)``,
  ``sdpa_kernel(SDPBackend.MATH)``);
* ``flopcounter-eval``: what the same counter prints on an eval-mode module on
  CPU with the default backends: ``nn.MultiheadAttention``'s fused fast path and
  the CPU flash kernel of ``scaled_dot_product_attention`` are not counted, so
  every attention layer counts 0 (ViT-B/16: 11.27 G MACs of its 17.56 G);
* ``fvcore``: MACs, plus BatchNorm at 2 per element (1 without affine), plus
  ``adaptive_avg_pool2d`` at 1 per input element; everything else 0 — and a
  convolution with ``padding="same"`` (recorded as ``aten::_convolution_mode``,
  which fvcore has no handle for) counts 0;
* ``torchinfo``: a convolution's (weight + bias) sizes times its output
  positions — MACs plus one addition per output element for a bias, and for a
  transposed convolution the weight times the *output* positions; any other
  module with parameters counts its parameter count (Linear, BatchNorm);
* ``ptflops``: MACs plus one addition per output element with a bias;
  BatchNorm 2 per element (1 without affine); every pooling 2 per input
  element; activations per output element, twice for those counted both by a
  module hook and a patched functional (ReLU, ELU, GELU), once for ReLU6,
  LeakyReLU, SiLU, Softmax, never for the others.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import singledispatch

import sympy as sp

from symconv.errors import SpecError
from symconv.layers import Layer, Linear, MultiheadAttention, ScaledDotProductAttention
from symconv.layers.conv import ConvNd, ConvTransposeNd, DepthwiseConv2d, SeparableConv2d, SharedKernelConv2d
from symconv.layers.elementwise import ELU, GELU, Elementwise, LeakyReLU, ReLU, ReLU6, SiLU, Softmax
from symconv.layers.norm import BatchNormNd
from symconv.layers.pool import AdaptiveAvgPool2d, AdaptivePoolNd, PoolNd
from symconv.network import Network
from symconv.report import LayerRow, Report, tidy

CONVENTIONS = ("torchvision", "flopcounter", "flopcounter-eval", "fvcore", "torchinfo", "ptflops")
COST = {
    "torchvision": "MACs",
    "flopcounter": "FLOPs",
    "flopcounter-eval": "FLOPs (eval, fast path)",
    "fvcore": "fvcore flops",
    "torchinfo": "Mult-Adds",
    "ptflops": "ptflops MACs",
}
"""What each tool calls the number it prints (FlopCounterMode's already counts two per MAC)."""
PTFLOPS_ACTIVATION = {ReLU: 2, ELU: 2, GELU: 2, ReLU6: 1, LeakyReLU: 1, SiLU: 1, Softmax: 1}
ZERO = sp.Integer(0)


def _elements(shape: tuple) -> sp.Expr:
    return sp.Mul(*shape)


@singledispatch
def counts(layer: Layer, row: LayerRow) -> dict[str, sp.Expr]:
    """Each convention's count for one layer (the layers without rules here count 0 everywhere but MACs)."""
    return {name: (2 * row.macs if name == "flopcounter" else row.macs) for name in CONVENTIONS}


def _weighted(row: LayerRow, bias: bool, torchinfo: sp.Expr | None = None) -> dict[str, sp.Expr]:
    bias_adds = _elements(row.output_shape) if bias else ZERO
    return {
        "torchvision": row.macs,
        "flopcounter": 2 * row.macs,
        "fvcore": row.macs,
        "torchinfo": row.macs + bias_adds if torchinfo is None else torchinfo,
        "ptflops": row.macs + bias_adds,
    }


def _padding_same(found: dict[str, sp.Expr], same: bool, uncounted: sp.Expr) -> dict[str, sp.Expr]:
    """fvcore has no handle for ``aten::_convolution_mode``, the op of ``padding="same"``: it counts 0."""
    return {**found, "fvcore": found["fvcore"] - uncounted} if same else found


@counts.register
def _(layer: ConvNd, row):
    return _padding_same(_weighted(row, layer.bias), layer.same, row.macs)


@counts.register
def _(layer: DepthwiseConv2d, row):
    return _padding_same(_weighted(row, layer.bias), layer.padding == "same", row.macs)


@counts.register
def _(layer: SeparableConv2d, row):
    depthwise, _ = layer.parts(row.input_shapes[0])
    return _padding_same(_weighted(row, layer.bias), depthwise.same, depthwise.macs(row.input_shapes[0]))


@counts.register
def _(layer: SharedKernelConv2d, row):
    return _weighted(row, layer.bias)


@counts.register
def _(layer: ConvTransposeNd, row):
    weights = sp.Mul(*layer.weight_shapes(*row.input_shapes)["weight"])
    positions = _elements(row.output_shape[1:])
    torchinfo = (weights + (layer.out_channels if layer.bias else 0)) * positions
    return _weighted(row, layer.bias, torchinfo)


@counts.register
def _(layer: Linear, row):
    return _weighted(row, layer.bias, row.params)


@counts.register
def _(layer: BatchNormNd, row):
    per_element = 2 if layer.affine else 1
    elements = _elements(row.output_shape)
    return {
        "torchvision": ZERO,
        "flopcounter": ZERO,
        "fvcore": per_element * elements,
        "torchinfo": row.params,
        "ptflops": per_element * elements,
    }


@counts.register
def _(layer: PoolNd, row):
    return {**dict.fromkeys(CONVENTIONS, ZERO), "ptflops": 2 * _elements(row.input_shapes[0])}


@counts.register
def _(layer: AdaptivePoolNd, row):
    inputs = _elements(row.input_shapes[0])
    fvcore = inputs if isinstance(layer, AdaptiveAvgPool2d) else ZERO
    return {**dict.fromkeys(CONVENTIONS, ZERO), "fvcore": fvcore, "ptflops": 2 * inputs}


@counts.register
def _(layer: Elementwise, row):
    factor = PTFLOPS_ACTIVATION.get(type(layer), 0)
    return {**dict.fromkeys(CONVENTIONS, ZERO), "ptflops": factor * _elements(row.output_shape)}


UNCOUNTED_IN_EVAL = (MultiheadAttention, ScaledDotProductAttention)
"""What FlopCounterMode does not see on an eval-mode module on CPU: ``nn.MultiheadAttention``'s fused fast
path and the CPU flash kernel of ``scaled_dot_product_attention`` run as one operator it has no formula for."""


def convention_counts(layer: Layer, row: LayerRow) -> dict[str, sp.Expr]:
    """Every convention's count for one layer, ``flopcounter-eval`` derived from ``flopcounter``."""
    found = counts(layer, row)
    return {
        **found,
        "flopcounter-eval": ZERO if isinstance(layer, UNCOUNTED_IN_EVAL) else found["flopcounter"],
    }


def report_for_convention(network: Network, convention: str) -> Report:
    """The report with ``macs`` replaced by what ``convention``'s tool counts, per layer."""
    if convention not in CONVENTIONS:
        raise SpecError(f"--convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    report = network.report
    rows = tuple(
        replace(row, macs=tidy(convention_counts(node.layer, row)[convention]))
        for node, row in zip(network.graph, report.rows, strict=True)
    )
    return replace(report, rows=rows, cost=COST[convention])


@dataclass(frozen=True)
class Comparison:
    """Every convention's total, and the terms by which each differs from symconv's MACs."""

    totals: tuple[tuple[str, sp.Expr], ...]
    differences: tuple[tuple[str, tuple[tuple[str, sp.Expr], ...]], ...]


def compare(network: Network, values: dict | None = None) -> Comparison:
    """Each tool's total as a formula (at ``values`` if given), and its difference from MACs by layer kind."""
    report = network.report.at(values) if values else network.report
    per_layer = [
        (node.layer, convention_counts(node.layer, row), row)
        for node, row in zip(network.graph, report.rows, strict=True)
    ]
    totals = tuple((name, tidy(sp.Add(*(c[name] for _, c, _ in per_layer)))) for name in CONVENTIONS)
    differences = []
    for name in CONVENTIONS:
        groups: dict[str, sp.Expr] = {}
        for layer, count, row in per_layer:
            extra = tidy(count[name] - row.macs)
            if extra != 0:
                label = _family(layer, name)
                groups[label] = tidy(groups.get(label, ZERO) + extra)
        differences.append((name, tuple(groups.items())))
    return Comparison(totals, tuple(differences))


def _family(layer: Layer, convention: str) -> str:
    if convention == "flopcounter-eval" and isinstance(layer, UNCOUNTED_IN_EVAL):
        return "attention left uncounted (the eval-mode fast path and the CPU flash kernel)"
    if convention in ("flopcounter", "flopcounter-eval"):
        return "the addition of every multiply-accumulate (FLOPs = 2 x MACs)"
    if isinstance(layer, ConvTransposeNd):
        return "transposed convolutions"
    if isinstance(layer, (ConvNd, DepthwiseConv2d, SeparableConv2d, SharedKernelConv2d, Linear)):
        return "bias additions"
    if isinstance(layer, BatchNormNd):
        return "BatchNorm"
    if isinstance(layer, (PoolNd, AdaptivePoolNd)):
        return "pooling"
    if isinstance(layer, Elementwise):
        return "activations"
    return layer.kind
