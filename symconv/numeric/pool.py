"""Reference pooling in NumPy, with PyTorch's ceil_mode and count_include_pad rules."""

from __future__ import annotations

import itertools

import numpy as np

from symconv.layers.pool import AdaptivePoolNd, AvgPoolNd, PoolNd
from symconv.numeric.conv import windows


def pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``, transcribed (ATen ``Pool.h``)."""
    numerator = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = numerator // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_forward(layer: PoolNd, x: np.ndarray) -> np.ndarray:
    spatial = x.shape[1:]
    kernel = tuple(int(k) for k in layer.kernel_size)
    stride = tuple(int(s) for s in layer.stride)
    padding = tuple(int(p) for p in layer.padding)
    dilation = tuple(int(d) for d in layer.dilations())
    out = tuple(
        pool_out(n, k, s, p, d, layer.ceil_mode)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    )
    # pad on the right far enough for the last (ceil-mode) window
    right = tuple(
        max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for o, s, d, k, n, p in zip(out, stride, dilation, kernel, spatial, padding, strict=True)
    )
    pads = [(0, 0), *zip(padding, right, strict=True)]
    if isinstance(layer, AvgPoolNd):
        view = windows(np.pad(x, pads), kernel, stride, dilation, out)
        sums = view.sum(axis=tuple(range(-len(kernel), 0)))
        return sums / _divisors(layer, spatial, out, kernel, stride, padding)
    view = windows(np.pad(x, pads, constant_values=-np.inf), kernel, stride, dilation, out)
    return view.max(axis=tuple(range(-len(kernel), 0)))


def _divisors(layer: AvgPoolNd, spatial, out, kernel, stride, padding) -> np.ndarray | float:
    if layer.divisor_override is not None:
        return float(layer.divisor_override)
    per_axis = []
    for n, o, k, s, p in zip(spatial, out, kernel, stride, padding, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if layer.count_include_pad:
            per_axis.append(end - start)
        else:
            per_axis.append(np.minimum(end, n) - np.maximum(start, 0))
    grid = per_axis[0].astype(float)
    for counts in per_axis[1:]:
        grid = np.multiply.outer(grid, counts)
    return grid


def adaptive_pool_forward(layer: AdaptivePoolNd, x: np.ndarray) -> np.ndarray:
    """Windows ``[floor(i n/o), ceil((i+1) n/o))`` per axis (PyTorch's adaptive pooling)."""
    spatial = x.shape[1:]
    out = tuple(n if o is None else int(o) for n, o in zip(spatial, layer.output_size, strict=True))
    result = np.empty((x.shape[0], *out))
    reduce = np.max if layer.mode == "max" else np.mean
    for position in itertools.product(*(range(o) for o in out)):
        box = tuple(
            slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(position, spatial, out, strict=True)
        )
        result[(slice(None), *position)] = reduce(x[(slice(None), *box)], axis=tuple(range(1, len(out) + 1)))
    return result
