"""Random graphs (residuals, concatenations, gates, channels-last blocks, attention) and their PyTorch runs.

A graph is plain data: nodes ``(kind, args, inputs)`` whose size arguments are
:class:`Size` pairs, an expression over the symbols (``c``, ``h``, ``w``,
``k1``, ...) and the value it takes. The PyTorch side never sees symconv: each node is
run by the hand-written functions below, on modules built from the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hypothesis import strategies as st


@dataclass(frozen=True)
class Size:
    """A size as symconv is told it (``expr``) and as PyTorch is given it (``value``)."""

    expr: str
    value: int

    def __add__(self, other: Size) -> Size:
        return Size(f"({self.expr}) + ({other.expr})", self.value + other.value)

    def __mul__(self, other: Size) -> Size:
        return Size(f"({self.expr})*({other.expr})", self.value * other.value)


def n(value: int) -> Size:
    return Size(str(value), value)


@dataclass
class Graph:
    values: dict[str, int]
    nodes: list[tuple[str, dict, tuple[int, ...]]] = field(default_factory=list)
    shapes: list[list[Size]] = field(default_factory=list)

    @property
    def input(self) -> list[Size]:
        return [Size(name, self.values[name]) for name in ("c", "h", "w")]

    def add(self, kind: str, args: dict, inputs: tuple[int, ...], shape: list[Size]) -> int:
        self.nodes.append((kind, args, inputs))
        self.shapes.append(shape)
        return len(self.nodes) - 1

    def shape(self, index: int) -> list[Size]:
        return self.input if index == -1 else self.shapes[index]


def converted(args: dict, part: str) -> dict:
    """Arguments with every :class:`Size` as its expression (``part="expr"``) or its value."""

    def one(v):
        if isinstance(v, list):
            return [one(e) for e in v]
        return getattr(v, part) if isinstance(v, Size) else v

    return {k: one(v) for k, v in args.items()}


@st.composite
def graphs(draw, max_blocks: int = 3) -> Graph:
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    graph = Graph({"c": c, "h": h, "w": w})
    widths = iter(range(1, 100))

    def width() -> Size:
        name = f"k{next(widths)}"
        graph.values[name] = draw(st.integers(1, 4))
        return Size(name, graph.values[name])

    x = -1
    for _ in range(draw(st.integers(1, max_blocks))):
        C, H, W = graph.shape(x)
        block = draw(
            st.sampled_from(
                [
                    "conv",
                    "residual",
                    "concat",
                    "concat_height",
                    "gate",
                    "scale",
                    "arith",
                    "norm",
                    "response_norm",
                    "shifted",
                    "channels_last",
                    "narrow",
                    "strided",
                    "pad",
                    "upsample",
                    "pixel_shuffle",
                    "repeat",
                    "sum",
                ]
            )
        )
        if block == "conv":
            k = width()
            x = graph.add("conv2d", {"out_channels": k, "kernel_size": 3, "padding": 1}, (x,), [k, H, W])
        elif block == "residual":
            y = graph.add("conv2d", {"out_channels": C, "kernel_size": 3, "padding": 1}, (x,), [C, H, W])
            x = graph.add("add", {}, (x, y), [C, H, W])
        elif block == "concat":
            ka, kb = width(), width()
            a = graph.add("conv2d", {"out_channels": ka, "kernel_size": 1}, (x,), [ka, H, W])
            b = graph.add("conv2d", {"out_channels": kb, "kernel_size": 1, "bias": False}, (x,), [kb, H, W])
            x = graph.add("concat", {}, (a, b), [ka + kb, H, W])
        elif block == "concat_height":
            y = graph.add("relu", {}, (x,), [C, H, W])
            x = graph.add("concat", {"dim": 2}, (x, y), [C, n(2) * H, W])
        elif block == "gate":
            m = graph.add("mean", {"dim": [2, 3], "keepdim": True}, (x,), [C, n(1), n(1)])
            g = graph.add("conv2d", {"out_channels": C, "kernel_size": 1}, (m,), [C, n(1), n(1)])
            s = graph.add("sigmoid", {}, (g,), [C, n(1), n(1)])
            x = graph.add("mul", {}, (x, s), [C, H, W])
        elif block == "scale":
            p = graph.add("parameter", {"shape": [C, n(1), n(1)]}, (), [C, n(1), n(1)])
            x = graph.add("mul", {}, (p, x), [C, H, W])
        elif block == "arith":
            choice = draw(
                st.sampled_from(["sub_scalar", "div_scalar", "add_scalar", "mul_scalar", "sub", "div"])
            )
            if choice.endswith("scalar"):
                scalar = draw(st.sampled_from([0.5, 2, -3]))
                x = graph.add(choice.split("_")[0], {"scalar": scalar}, (x,), [C, H, W])
            elif choice == "sub":
                y = graph.add("relu", {}, (x,), [C, H, W])
                x = graph.add("sub", {}, (x, y), [C, H, W])
            else:
                y = graph.add("sigmoid", {}, (x,), [C, H, W])
                d = graph.add("add", {"scalar": 1}, (y,), [C, H, W])
                x = graph.add("div", {}, (x, d), [C, H, W])
        elif block == "norm":
            single = H.value * W.value == 1  # PyTorch refuses to normalise a single value per channel
            choice = draw(
                st.sampled_from(
                    ["local_response_norm"]
                    if single
                    else ["groupnorm", "instancenorm2d", "local_response_norm"]
                )
            )
            if choice == "groupnorm":
                c_value = C.value
                groups = draw(st.sampled_from([g for g in range(1, c_value + 1) if c_value % g == 0]))
                args = {"num_groups": groups, "affine": draw(st.booleans())}
            elif choice == "instancenorm2d":
                args = {"affine": draw(st.booleans())}
            else:
                args = {"size": draw(st.integers(1, 3))}
            x = graph.add(choice, args, (x,), [C, H, W])
        elif block == "shifted":  # Swin's cyclic shift there and back, a convolution between
            shifts = [draw(st.integers(-3, 3)), draw(st.integers(-3, 3))]
            r = graph.add("roll", {"shifts": shifts, "dims": [2, 3]}, (x,), [C, H, W])
            k = width()
            c = graph.add("conv2d", {"out_channels": k, "kernel_size": 3, "padding": 1}, (r,), [k, H, W])
            x = graph.add("roll", {"shifts": [-s for s in shifts], "dims": [-2, -1]}, (c,), [k, H, W])
        elif block == "response_norm":  # ConvNeXt V2's global response normalisation, channels first
            order = draw(st.sampled_from([1, 2]))
            g = graph.add(
                "vector_norm", {"dim": [2, 3], "keepdim": True, "ord": order}, (x,), [C, n(1), n(1)]
            )
            m = graph.add("mean", {"dim": [1], "keepdim": True}, (g,), [n(1), n(1), n(1)])
            d = graph.add("add", {"scalar": 1e-6}, (m,), [n(1), n(1), n(1)])
            q = graph.add("div", {}, (g, d), [C, n(1), n(1)])
            x = graph.add("mul", {}, (x, q), [C, H, W])
        elif block == "channels_last":
            k = width()
            a = graph.add("permute", {"dims": [0, 2, 3, 1]}, (x,), [H, W, C])
            b = graph.add(
                "layernorm", {"normalized_shape": [C], "bias": draw(st.booleans())}, (a,), [H, W, C]
            )
            d = graph.add("linear", {"out_features": k}, (b,), [H, W, k])
            e = graph.add("gelu", {}, (d,), [H, W, k])
            x = graph.add("permute", {"dims": [0, 3, 1, 2]}, (e,), [k, H, W])
        elif block == "strided":
            start = draw(st.integers(0, 1)) if W.value > 1 else 0
            length = Size(f"({W.expr}) - {start}", W.value - start)
            kept = Size(f"floor((({W.expr}) - {start} - 1)/2) + 1", (W.value - start - 1) // 2 + 1)
            args = {"dim": 3, "start": start, "length": length, "step": 2}
            x = graph.add("narrow", args, (x,), [C, H, kept])
        elif block == "pad":
            left, right, top, bottom = (draw(st.integers(0, 2)) for _ in range(4))
            modes = ["constant", "replicate"]
            if max(left, right) < W.value and max(top, bottom) < H.value:
                modes.append("reflect")
            if max(left, right) <= W.value and max(top, bottom) <= H.value:
                modes.append("circular")
            mode = draw(st.sampled_from(modes))
            args = {"pad": [left, right, top, bottom], "mode": mode}
            if mode == "constant" and draw(st.booleans()):
                args["value"] = -1.5
            x = graph.add("pad", args, (x,), [C, H + n(top + bottom), W + n(left + right)])
        elif block == "upsample":
            mode = draw(st.sampled_from(["nearest", "bilinear"]))
            if draw(st.booleans()):
                factor = draw(st.sampled_from([2, 1.5, 0.5]))
                shape = [
                    C,
                    Size(f"floor(({H.expr})*{Fraction(factor)})", int(H.value * factor)),
                    Size(f"floor(({W.expr})*{Fraction(factor)})", int(W.value * factor)),
                ]
                if min(s.value for s in shape[1:]) < 1:
                    continue
                args = {"scale_factor": factor, "mode": mode}
            else:
                h2, w2 = draw(st.integers(1, 8)), draw(st.integers(1, 8))
                shape, args = [C, n(h2), n(w2)], {"size": [h2, w2], "mode": mode}
            if mode == "bilinear":
                args["align_corners"] = draw(st.booleans())
            x = graph.add("upsample", args, (x,), shape)
        elif block == "pixel_shuffle":
            k = width()
            y = graph.add("conv2d", {"out_channels": n(4) * k, "kernel_size": 1}, (x,), [n(4) * k, H, W])
            x = graph.add("pixel_shuffle", {"upscale_factor": 2}, (y,), [k, n(2) * H, n(2) * W])
        elif block == "repeat":  # each channel, or each row, r times in a row
            r, dim = width(), draw(st.sampled_from([1, 2]))
            shape = [C * r, H, W] if dim == 1 else [C, H * r, W]
            x = graph.add("repeat_interleave", {"repeats": r, "dim": dim}, (x,), shape)
        elif block == "narrow":
            length = draw(st.integers(1, C.value))
            x = graph.add("narrow", {"dim": 1, "start": 0, "length": length}, (x,), [n(length), H, W])
        else:
            x = graph.add("sum", {"dim": [1], "keepdim": True}, (x,), [n(1), H, W])
    if draw(st.booleans()):
        C, H, W = graph.shape(x)
        tokens = H * W
        flat = graph.add("reshape", {"shape": [C, tokens]}, (x,), [C, tokens])
        t = graph.add("permute", {"dims": [0, 2, 1]}, (flat,), [tokens, C])
        attention = draw(st.sampled_from(["mha", "manual", "sdpa"]))
        if attention == "mha":
            c_value = C.value
            heads = draw(st.sampled_from([g for g in range(1, c_value + 1) if c_value % g == 0]))
            a = graph.add("multihead_attention", {"embed_dim": C, "num_heads": heads}, (t,), [tokens, C])
            out = graph.add("add", {}, (t, a), [tokens, C])
            width_out = C
        else:
            e, ev = width(), width()
            q = graph.add("linear", {"out_features": e}, (t,), [tokens, e])
            k = graph.add("linear", {"out_features": e, "bias": False}, (t,), [tokens, e])
            v = graph.add("linear", {"out_features": ev}, (t,), [tokens, ev])
            if attention == "sdpa":
                out = graph.add("scaled_dot_product_attention", {}, (q, k, v), [tokens, ev])
            else:
                kt = graph.add("permute", {"dims": [0, 2, 1]}, (k,), [e, tokens])
                s = graph.add("matmul", {}, (q, kt), [tokens, tokens])
                bias_kind = draw(st.sampled_from([None, "relative_position_bias", "attention_bias"]))
                if bias_kind == "relative_position_bias":  # Swin's, over the whole map as one window
                    rows = Size(
                        f"(2*({H.expr}) - 1)*(2*({W.expr}) - 1)", (2 * H.value - 1) * (2 * W.value - 1)
                    )
                    table = graph.add("parameter", {"shape": [rows, n(1)]}, (), [rows, n(1)])
                    bias = graph.add(
                        "relative_position_bias", {"window_size": [H, W]}, (table,), [n(1), tokens, tokens]
                    )
                elif bias_kind == "attention_bias":  # LeViT's, one value per (|dy|, |dx|)
                    table = graph.add("parameter", {"shape": [n(1), tokens]}, (), [n(1), tokens])
                    bias = graph.add(
                        "attention_bias", {"resolution": [H, W]}, (table,), [n(1), tokens, tokens]
                    )
                if bias_kind is not None:
                    flat_bias = graph.add("reshape", {"shape": [tokens, tokens]}, (bias,), [tokens, tokens])
                    s = graph.add("add", {}, (s, flat_bias), [tokens, tokens])
                p = graph.add("softmax", {"dim": -1}, (s,), [tokens, tokens])
                out = graph.add("matmul", {}, (p, v), [tokens, ev])
            width_out = ev
        if draw(st.booleans()):
            pooled = graph.add("select", {"dim": 1, "index": 0}, (out,), [width_out])
        else:
            pooled = graph.add("mean", {"dim": [1]}, (out,), [width_out])
        out_features = draw(st.integers(1, 3))
        graph.add("linear", {"out_features": out_features}, (pooled,), [n(out_features)])
    return graph


def levit_bias(table, resolution, stride=1):
    """LeViT's attention bias, as its reference code builds it (Graham et al. 2021, section 4.2): the
    table's column ``|dy| R_w + |dx|`` for each query (every ``stride``-th row and column) and key."""
    import torch

    h, w = resolution
    keys = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")).flatten(1)
    queries = torch.stack(
        torch.meshgrid(torch.arange(0, h, stride), torch.arange(0, w, stride), indexing="ij")
    ).flatten(1)
    offsets = (queries[..., :, None] - keys[..., None, :]).abs()
    return table[:, offsets[0] * w + offsets[1]]


def run_in_torch(graph: Graph, x):
    """Per node: output, parameters, MACs (FlopCounterMode / 2) and weights, computed by PyTorch alone."""
    import torch
    import torch.nn as nn
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    outputs = {-1: x.unsqueeze(0)}
    found = []
    for index, (kind, args, inputs) in enumerate(graph.nodes):
        a = converted(args, "value")
        xs = [outputs[i] for i in inputs]
        module = None
        if kind == "conv2d":
            module = nn.Conv2d(
                xs[0].shape[1],
                a["out_channels"],
                a["kernel_size"],
                padding=a.get("padding", 0),
                bias=a.get("bias", True),
            )
        elif kind == "linear":
            module = nn.Linear(xs[0].shape[-1], a["out_features"], bias=a.get("bias", True))
        elif kind == "layernorm":
            module = nn.LayerNorm(a["normalized_shape"], bias=a["bias"])
        elif kind == "groupnorm":
            module = nn.GroupNorm(a["num_groups"], xs[0].shape[1], affine=a["affine"])
        elif kind == "instancenorm2d":
            module = nn.InstanceNorm2d(xs[0].shape[1], affine=a["affine"])
        elif kind == "local_response_norm":
            module = nn.LocalResponseNorm(a["size"])
        elif kind == "multihead_attention":
            module = nn.MultiheadAttention(a["embed_dim"], a["num_heads"], batch_first=True)
        elif kind == "parameter":
            module = nn.Module()
            module.weight = nn.Parameter(torch.randn(1, *a["shape"]))
        if module is not None:
            module.eval()
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
                out = apply(kind, a, xs, module)
        finally:
            torch.backends.mha.set_fastpath_enabled(True)
        outputs[index] = out
        params = {} if module is None else dict(module.named_parameters())
        found.append(
            (
                tuple(out.shape[1:]),
                sum(p.numel() for p in params.values()),
                counter.get_total_flops() // 2,
                out[0].detach().numpy().copy(),
                {
                    n: p.detach().reshape(a["shape"]).numpy() if kind == "parameter" else p.detach().numpy()
                    for n, p in params.items()
                },
            )
        )
    return found


def apply(kind: str, a: dict, xs: list, module):
    """One node in PyTorch: its module, or the function PyTorch documents for it."""
    import torch
    import torch.nn.functional as F

    other = xs[1] if len(xs) > 1 else a.get("scalar")
    simple = {
        "relu": F.relu,
        "sigmoid": torch.sigmoid,
        "gelu": F.gelu,
    }
    if kind in simple:
        return simple[kind](xs[0])
    if kind in ("add", "sub", "mul", "div"):
        return {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[kind](xs[0], other)
    if kind == "concat":
        return torch.cat(xs, dim=a.get("dim", 1))
    if kind in ("mean", "sum"):
        return getattr(xs[0], kind)(a["dim"], keepdim=a.get("keepdim", False))
    if kind == "permute":
        return xs[0].permute(*a["dims"])
    if kind == "reshape":
        return xs[0].reshape(xs[0].shape[0], *a["shape"])
    if kind == "repeat_interleave":
        return torch.repeat_interleave(xs[0], a["repeats"], dim=a["dim"])
    if kind == "narrow":
        index = [slice(None)] * xs[0].dim()
        index[a["dim"]] = slice(a["start"], a["start"] + a["length"], a.get("step", 1))
        return xs[0][tuple(index)]
    if kind == "upsample":
        return F.interpolate(xs[0], **a)
    if kind == "pixel_shuffle":
        return F.pixel_shuffle(xs[0], a["upscale_factor"])
    if kind == "pad":
        mode = a.get("mode", "constant")
        return F.pad(xs[0], a["pad"], mode=mode, value=a.get("value", 0) if mode == "constant" else None)
    if kind == "roll":
        return torch.roll(xs[0], a["shifts"], a["dims"])
    if kind == "vector_norm":
        return torch.linalg.vector_norm(xs[0], a.get("ord", 2), dim=a["dim"], keepdim=a.get("keepdim", False))
    if kind == "relative_position_bias":
        # torchvision's relative_position_index, written out (Liu et al. 2021, section 3.2)
        h, w = a["window_size"]
        coords = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        index = (offsets[..., 0] + h - 1) * (2 * w - 1) + offsets[..., 1] + w - 1
        return xs[0][0][index.flatten()].view(h * w, h * w, -1).permute(2, 0, 1).unsqueeze(0)
    if kind == "attention_bias":
        return levit_bias(xs[0][0], a["resolution"], a.get("stride", 1)).unsqueeze(0)
    if kind == "select":
        return xs[0].select(a["dim"], a["index"])
    if kind == "softmax":
        return torch.softmax(xs[0], a["dim"])
    if kind == "matmul":
        return xs[0] @ xs[1]
    if kind == "scaled_dot_product_attention":
        return F.scaled_dot_product_attention(*xs)
    if kind == "parameter":
        return module.weight.expand(1, *a["shape"])
    if kind == "multihead_attention":
        return module(xs[0], xs[0], xs[0], need_weights=False)[0]
    return module(xs[0])
