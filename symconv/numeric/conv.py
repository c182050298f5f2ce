"""Reference convolutions in NumPy: direct (enumerating) and im2col (fast).

Semantics follow PyTorch: cross-correlation, weight ``(C_out, C_in/g, K...)``
for convolutions and ``(C_in, C_out/g, K...)`` for transposed ones.
"""

from __future__ import annotations

import itertools

import numpy as np

from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.numeric.counting import MacCounter

PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv_padding(layer: ConvNd, spatial: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) padding per axis; ``same`` pads ``max((ceil(n/S)-1)S + d(K-1)+1 - n, 0)``."""
    pads = []
    for axis, n in enumerate(spatial):
        k, s, d = int(layer.kernel_size[axis]), int(layer.stride[axis]), int(layer.dilation[axis])
        if layer.same:
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            p = int(layer.padding[axis])
            pads.append((p, p))
    return pads


CHUNK_ELEMENTS = 4 * 2**20
"""Window elements a convolution gathers at once (32 MiB of float64); larger outputs go in slabs."""


def windows(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: tuple[int, ...],
) -> np.ndarray:
    """View of shape ``(C, *out, *kernel)``: every window of the (already padded) input."""
    dims = len(kernel)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    view = np.lib.stride_tricks.sliding_window_view(x, extent, axis=tuple(range(1, dims + 1)))
    positions = tuple(slice(0, o * s, s) for o, s in zip(out, stride, strict=True))
    taps = tuple(slice(None, None, d) for d in dilation)
    return view[(slice(None), *positions, *taps)]


def conv_forward(
    layer: ConvNd, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, counter: MacCounter
) -> np.ndarray:
    spatial = x.shape[1:]
    pads = conv_padding(layer, spatial)
    mode = PAD_MODES[layer.padding_mode]
    padded = np.pad(x, [(0, 0), *pads], mode=mode) if any(a or b for a, b in pads) else x
    kernel = tuple(int(k) for k in layer.kernel_size)
    stride = tuple(int(s) for s in layer.stride)
    dilation = tuple(int(d) for d in layer.dilation)
    out = tuple(
        (n + a + b - d * (k - 1) - 1) // s + 1
        for n, (a, b), k, s, d in zip(spatial, pads, kernel, stride, dilation, strict=True)
    )
    groups = int(layer.groups)
    c_out = weight.shape[0]
    c_in_g, c_out_g = x.shape[0] // groups, c_out // groups
    if counter.enumerating:
        result = _conv_enumerate(padded, weight, out, stride, dilation, groups, c_in_g, c_out_g, counter)
    else:
        view = windows(padded, kernel, stride, dilation, out)
        result = np.empty((c_out, *out))
        taps = int(np.prod(kernel, dtype=np.int64))
        per_row = int(np.prod(out[1:], dtype=np.int64))  # positions in one slice of the first axis
        rows = max(1, CHUNK_ELEMENTS // max(1, per_row * c_in_g * taps))
        for g in range(groups):
            w = weight[g * c_out_g : (g + 1) * c_out_g].reshape(c_out_g, c_in_g * taps)
            for start in range(0, out[0], rows):  # gathered windows stay within CHUNK_ELEMENTS
                stop = min(out[0], start + rows)
                block = view[g * c_in_g : (g + 1) * c_in_g, start:stop]  # (Cg, rows, *out[1:], *K)
                block = np.moveaxis(block, 0, len(out))  # (rows, *out[1:], Cg, *K)
                columns = block.reshape((stop - start) * per_row, c_in_g * taps)
                product = counter.matmul(columns, w.T)  # (positions, Cout_g)
                result[g * c_out_g : (g + 1) * c_out_g, start:stop] = product.T.reshape(
                    c_out_g, stop - start, *out[1:]
                )
    if bias is not None:
        result += bias.reshape(-1, *([1] * len(out)))
    return result


def _conv_enumerate(padded, weight, out, stride, dilation, groups, c_in_g, c_out_g, counter):
    result = np.zeros((weight.shape[0], *out))
    kernel = weight.shape[2:]
    data, w = padded.tolist(), weight.tolist()

    def at(nested, index):
        for i in index:
            nested = nested[i]
        return nested

    for co in range(weight.shape[0]):
        g = co // c_out_g
        for position in itertools.product(*(range(o) for o in out)):
            pairs = []
            for ci in range(c_in_g):
                for tap in itertools.product(*(range(k) for k in kernel)):
                    index = tuple(
                        p * s + t * d for p, s, t, d in zip(position, stride, tap, dilation, strict=True)
                    )
                    pairs.append((at(data, (g * c_in_g + ci, *index)), at(w, (co, ci, *tap))))
            result[(co, *position)] = counter.dot(pairs)
    return result


def conv_transpose_forward(
    layer: ConvTransposeNd, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, counter: MacCounter
) -> np.ndarray:
    """Scatter every input element through the kernel, then crop the padding."""
    spatial = x.shape[1:]
    kernel = tuple(int(k) for k in layer.kernel_size)
    stride = tuple(int(s) for s in layer.stride)
    dilation = tuple(int(d) for d in layer.dilation)
    padding = tuple(int(p) for p in layer.padding)
    extra = tuple(int(p) for p in layer.output_padding)
    groups = int(layer.groups)
    c_in_g, c_out_g = x.shape[0] // groups, weight.shape[1]
    full = tuple(
        (n - 1) * s + d * (k - 1) + 1 + max(op, p)
        for n, s, d, k, op, p in zip(spatial, stride, dilation, kernel, extra, padding, strict=True)
    )
    out = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(spatial, stride, padding, dilation, kernel, extra, strict=True)
    )
    canvas = np.zeros((groups * c_out_g, *full))
    if counter.enumerating:
        data, w = x.tolist(), weight.tolist()
        for ci in range(x.shape[0]):
            g = ci // c_in_g
            for position in itertools.product(*(range(n) for n in spatial)):
                value = data[ci]
                for i in position:
                    value = value[i]
                for co in range(c_out_g):
                    for tap in itertools.product(*(range(k) for k in kernel)):
                        tap_weight = w[ci][co]
                        for i in tap:
                            tap_weight = tap_weight[i]
                        index = tuple(
                            p * s + t * d for p, s, t, d in zip(position, stride, tap, dilation, strict=True)
                        )
                        canvas[(g * c_out_g + co, *index)] += counter.dot([(value, tap_weight)])
    else:
        positions = int(np.prod(spatial, dtype=np.int64))
        taps = int(np.prod(kernel, dtype=np.int64))
        for g in range(groups):
            rows = x[g * c_in_g : (g + 1) * c_in_g].reshape(c_in_g, positions).T  # (P, Cg)
            w = weight[g * c_in_g : (g + 1) * c_in_g].reshape(c_in_g, c_out_g * taps)
            columns = counter.matmul(rows, w).reshape(*spatial, c_out_g, *kernel)
            for tap in itertools.product(*(range(k) for k in kernel)):
                target = tuple(
                    slice(t * d, t * d + (n - 1) * s + 1, s)
                    for t, d, n, s in zip(tap, dilation, spatial, stride, strict=True)
                )
                contribution = np.moveaxis(columns[(..., slice(None), *tap)], len(spatial), 0)
                canvas[(slice(g * c_out_g, (g + 1) * c_out_g), *target)] += contribution
    crop = tuple(slice(p, p + o) for p, o in zip(padding, out, strict=True))
    result = canvas[(slice(None), *crop)].copy()
    if bias is not None:
        result += bias.reshape(-1, *([1] * len(out)))
    return result
