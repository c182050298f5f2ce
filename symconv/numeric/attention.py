"""Attention in NumPy: every product goes through the counter, so its MACs are measured."""

from __future__ import annotations

import numpy as np

from symconv.layers.attention import MultiheadAttention
from symconv.numeric.counting import MacCounter


def batched_matmul(a: np.ndarray, b: np.ndarray, counter: MacCounter) -> np.ndarray:
    """``a @ b`` with broadcast leading axes, one counted 2-D product per matrix pair."""
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, (*lead, *a.shape[-2:])).reshape(-1, *a.shape[-2:])
    b = np.broadcast_to(b, (*lead, *b.shape[-2:])).reshape(-1, *b.shape[-2:])
    products = [counter.matmul(x, y) for x, y in zip(a, b, strict=True)]
    return np.stack(products).reshape(*lead, a.shape[-2], b.shape[-1])


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, counter: MacCounter, causal: bool = False
) -> np.ndarray:
    """``softmax(Q Kᵀ / √E) V`` over the last two axes."""
    scores = batched_matmul(q, np.swapaxes(k, -1, -2), counter) / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    return batched_matmul(softmax(scores, -1), v, counter)


def multihead_attention(
    layer: MultiheadAttention, inputs: list[np.ndarray], weights: dict[str, np.ndarray], counter: MacCounter
) -> np.ndarray:
    """PyTorch's multi-head attention (batch_first, one sequence): project, attend per head, project back."""
    query, key, value = inputs if len(inputs) == 3 else inputs * 3
    e = int(layer.embed_dim)
    heads = int(layer.num_heads)
    if "in_proj_weight" in weights:
        wq, wk, wv = np.split(weights["in_proj_weight"], 3)
    else:
        wq, wk, wv = weights["q_proj_weight"], weights["k_proj_weight"], weights["v_proj_weight"]
    bq, bk, bv = np.split(weights["in_proj_bias"], 3) if "in_proj_bias" in weights else (0.0, 0.0, 0.0)
    q = counter.matmul(query, wq.T) + bq
    k = counter.matmul(key, wk.T) + bk
    v = counter.matmul(value, wv.T) + bv

    def split(x: np.ndarray) -> np.ndarray:  # (L, E) -> (heads, L, E / heads)
        return x.reshape(x.shape[0], heads, e // heads).transpose(1, 0, 2)

    mixed = attention(split(q), split(k), split(v), counter).transpose(1, 0, 2).reshape(query.shape[0], e)
    out = counter.matmul(mixed, weights["out_proj.weight"].T)
    return out + weights["out_proj.bias"] if "out_proj.bias" in weights else out
