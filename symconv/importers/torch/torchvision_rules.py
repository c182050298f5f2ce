"""Rules for the functions torchvision wraps for torch.fx (``torch.fx.wrap``): Swin Transformer's window attention.

torch.fx sees each of these as one call; its rule writes the computation out
as symconv layers, following torchvision's source step by step, so that shapes,
parameters and MACs are those of the real model
(``torchvision/models/swin_transformer.py``; Liu et al. 2021, "Swin
Transformer", section 3.2; Liu et al. 2022, "Swin Transformer V2", section 3.2).

Two parts of the wrapped function are left out because they change no shape
and count nothing: the cyclic shift (``torch.roll``) with its additive mask, and
V2's normalisation of queries and keys before the cosine attention. The
NumPy witness therefore computes plain window attention there; every count is
the model's.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError
from symconv.importers.torch.rules import held, split_axis
from symconv.importers.torch.trace import DataValue, TensorValue, Tracer
from symconv.sizes import exact_ceiling


def _tensor(tracer: Tracer, value: Any, name: str) -> TensorValue:
    if isinstance(value, DataValue):
        return tracer.materialize(value, len(value.shape) + 1, name)
    if not isinstance(value, TensorValue):
        raise SpecError(f"{name}: expected a tensor")
    return value


def patch_merging_pad(tracer: Tracer, name: str, x: Any) -> TensorValue:
    """Pad H and W (the axes before the channels) to even sizes, then stack the four 2 x 2 phases on the channels."""
    x = _tensor(tracer, x, name)
    h, w = x.shape[-3], x.shape[-2]
    even_h, even_w = 2 * exact_ceiling(h / 2), 2 * exact_ceiling(w / 2)
    if sp.expand(even_h - h) != 0 or sp.expand(even_w - w) != 0:
        x = tracer.emit(name, L.Pad([0, 0, 0, even_w - w, 0, even_h - h]), [x])
    phases = []
    for start_h, start_w in ((0, 0), (1, 0), (0, 1), (1, 1)):
        rows = tracer.emit(name, L.Narrow(-3, start_h, even_h - start_h, step=2), [x])
        phases.append(tracer.emit(name, L.Narrow(-2, start_w, even_w - start_w, step=2), [rows]))
    return tracer.emit(name, L.ChannelConcat(dim=-1), phases)


def relative_position_bias(
    tracer: Tracer, name: str, table: Any, index: Any, window_size: Any
) -> TensorValue:
    """The table's rows gathered for every pair of tokens of a window: ``(heads, N, N)``."""
    table = _tensor(tracer, table, name)
    return tracer.emit(name, L.RelativePositionBias(list(window_size)), [table])


def shifted_window_attention(
    tracer: Tracer,
    name: str,
    x: Any,
    qkv_weight: Any,
    proj_weight: Any,
    bias: Any,
    window_size: Any,
    num_heads: int,
    shift_size: Any = None,
    attention_dropout: float = 0.0,
    dropout: float = 0.0,
    qkv_bias: Any = None,
    proj_bias: Any = None,
    logit_scale: Any = None,
    training: bool = True,
) -> TensorValue:
    x = _tensor(tracer, x, name)
    if len(x.shape) != 3:
        raise SpecError(f"{name}: window attention expects a channels-last (H, W, C) input")
    h, w, c = x.shape
    wh, ww = (sp.Integer(s) for s in window_size)
    rows, columns = exact_ceiling(h / wh), exact_ceiling(w / ww)
    padded_h, padded_w = wh * rows, ww * columns
    padded = sp.expand(padded_h - h) != 0 or sp.expand(padded_w - w) != 0
    if padded:
        x = tracer.emit(name, L.Pad([0, 0, 0, padded_w - w, 0, padded_h - h]), [x])
    tokens, windows, width = wh * ww, rows * columns, c / num_heads

    def emit(layer: L.Layer, *inputs: TensorValue, tensors: tuple = ()) -> TensorValue:
        return tracer.emit(name, layer, list(inputs), list(tensors))

    x = emit(L.Reshape([rows, wh, columns, ww, c]), x)
    x = emit(L.Permute([0, 1, 3, 2, 4, 5]), x)
    x = emit(L.Reshape([windows, tokens, c]), x)
    weight = held(qkv_weight, name, "qkv weight")
    qkv = emit(
        L.Linear(3 * c, bias=qkv_bias is not None, in_features=c),
        x,
        tensors=(weight, held(qkv_bias, name, "qkv bias")),
    )
    qkv = emit(L.Reshape([windows, tokens, 3, num_heads, width]), qkv)
    qkv = emit(L.Permute([0, 3, 1, 4, 2, 5]), qkv)  # (3, windows, heads, tokens, width)
    q, k, v = (emit(L.Select(dim=1, index=i), qkv) for i in range(3))
    if logit_scale is None:
        q = emit(L.Mul(scalar=float(width) ** -0.5), q)
    keys = emit(L.Permute([0, 1, 2, 4, 3]), k)
    attention = emit(L.MatMul(), q, keys)
    if logit_scale is not None:
        attention = emit(L.Mul(), attention, tracer.materialize(logit_scale, attention.rank, name))
    bias = emit(L.Reshape([1, *bias.shape]), _tensor(tracer, bias, name))
    attention = emit(L.Add(), attention, bias)
    attention = emit(L.Softmax(dim=-1), attention)
    out = emit(L.MatMul(), attention, v)
    out = emit(L.Permute([0, 1, 3, 2, 4]), out)
    out = emit(L.Reshape([windows, tokens, c]), out)
    projection = L.Linear(c, bias=proj_bias is not None, in_features=c)
    out = emit(
        projection,
        out,
        tensors=(held(proj_weight, name, "projection weight"), held(proj_bias, name, "projection bias")),
    )
    out = emit(L.Reshape([rows, columns, wh, ww, c]), out)
    out = emit(L.Permute([0, 1, 3, 2, 4, 5]), out)
    out = emit(L.Reshape([padded_h, padded_w, c]), out)
    if padded:
        out = emit(L.Narrow(1, 0, h), out)
        out = emit(L.Narrow(2, 0, w), out)
    return out


def maxvit_attention(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    """MaxViT's relative positional attention over ``G`` groups of ``P`` tokens (Tu et al. 2022, section 3.2),
    written as torchvision's ``RelativePositionalMultiHeadAttention.forward`` computes it."""
    x = _tensor(tracer, x, name)
    if len(x.shape) != 3:
        raise SpecError(f"{name}: relative positional attention expects (groups, tokens, features)")
    groups, tokens, features = x.shape
    heads, width = module.n_heads, module.head_dim

    def emit(layer: L.Layer, *inputs: TensorValue, tensors: tuple = ()) -> TensorValue:
        return tracer.emit(name, layer, list(inputs), list(tensors))

    to_qkv = L.Linear(3 * heads * width, in_features=features)
    qkv = emit(to_qkv, x, tensors=(module.to_qkv.weight, module.to_qkv.bias))
    q, k, v = (
        emit(L.Permute([0, 1, 3, 2, 4]), emit(L.Reshape([groups, tokens, heads, width]), part))
        for part in split_axis(tracer, name, qkv, [heads * width] * 3, -1)
    )
    k = emit(L.Mul(scalar=float(module.scale_factor)), k)
    scores = emit(L.MatMul(), q, emit(L.Permute([0, 1, 2, 4, 3]), k))
    table = DataValue(f"{name}.relative_position_bias_table", module.relative_position_bias_table)
    bias = emit(L.RelativePositionBias([module.size, module.size]), tracer.materialize(table, 3, name))
    scores = emit(L.Add(), scores, emit(L.Reshape([1, heads, tokens, tokens]), bias))
    attention = emit(L.Softmax(dim=-1), scores)
    out = emit(L.Permute([0, 1, 3, 2, 4]), emit(L.MatMul(), attention, v))
    out = emit(L.Reshape([groups, tokens, heads * width]), out)
    merge = L.Linear(features, in_features=heads * width)
    return emit(merge, out, tensors=(module.merge.weight, module.merge.bias))


MODULE_RULES = {
    "torchvision.models.maxvit.RelativePositionalMultiHeadAttention": maxvit_attention,
}
"""Modules traced as one call (fx leaves) because their rule writes them out."""

RULES = {
    "torchvision.models.swin_transformer._patch_merging_pad": patch_merging_pad,
    "torchvision.models.swin_transformer._get_relative_position_bias": relative_position_bias,
    "torchvision.models.swin_transformer.shifted_window_attention": shifted_window_attention,
}
