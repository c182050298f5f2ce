"""Vision transformers as torchvision builds them: ViT-B/16, B/32, L/16, L/32, H/14 (Dosovitskiy et al. 2021)
and Swin-T/S/B (Liu et al. 2021, "Swin Transformer", section 3; torchvision/models/swin_transformer.py).

Sources: Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", eq. (1)-(4)
and Table 1; torchvision/models/vision_transformer.py (``EncoderBlock``,
``Encoder``, ``VisionTransformer._process_input``). Layers carry
torchvision's module names.

The token count is ``T = floor(H/P) floor(W/P)`` for patches of ``P x P``.
torchvision's model asserts ``H = W = 224``; here the position embedding has
``T + 1`` rows for any input, as when an embedding is interpolated to fine-tune
at another resolution, so the closed forms hold in H and W and equal
torchvision's module at 224 x 224. Attention's products grow as ``T^2``: the
MACs are a polynomial of degree 2 in ``T`` and of degree 4 in the resolution.
"""

from __future__ import annotations

import sympy as sp

from symconv.layers import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    ChannelConcat,
    Conv2d,
    Dropout,
    Flatten,
    LayerNorm,
    Linear,
    MatMul,
    Mul,
    MultiheadAttention,
    Narrow,
    Pad,
    Parameter,
    Permute,
    RelativePositionBias,
    Reshape,
    Select,
    Softmax,
)
from symconv.network import Network
from symconv.sizes import exact_ceiling
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph

VITS = {  # patch size, layers, heads, width, MLP width: Dosovitskiy et al. 2021, Table 1
    "vit_b_16": (16, 12, 12, 768, 3072),
    "vit_b_32": (32, 12, 12, 768, 3072),
    "vit_l_16": (16, 24, 16, 1024, 4096),
    "vit_l_32": (32, 24, 16, 1024, 4096),
    "vit_h_14": (14, 32, 16, 1280, 5120),
}


def vit(name: str, num_classes: int = 1000) -> Network:
    """torchvision's ViT: patch embedding, class token, position embedding, pre-norm encoder blocks."""
    return vision_transformer(*VITS[name], num_classes=num_classes, name=name)


def vision_transformer(
    patch: int,
    layers: int,
    heads: int,
    width: int,
    mlp: int,
    num_classes: int = 1000,
    name: str | None = None,
) -> Network:
    """A ViT of any size, with torchvision's structure and module names."""
    H, W = image_sizes()
    tokens = sp.floor(H / patch) * sp.floor(W / patch)
    g = Graph()
    g.add("conv_proj", Conv2d(width, patch, stride=patch), INPUT)
    g.add("reshape", Flatten(start_dim=2))
    patches = g.add("permute", Permute((0, 2, 1)))
    token = g.add("class_token", Parameter((1, width)))
    g.add("cat", ChannelConcat(dim=1), token, patches)
    sequence = g.last
    embedding = g.add("encoder.pos_embedding", Parameter((tokens + 1, width)))
    g.add("encoder.add", Add(), sequence, embedding)
    x = g.add("encoder.dropout", Dropout(p=0.0))
    for i in range(layers):
        prefix = f"encoder.layers.encoder_layer_{i}"
        source = x
        g.add(f"{prefix}.ln_1", LayerNorm((width,), eps=1e-6), x)
        g.add(f"{prefix}.self_attention", MultiheadAttention(width, heads))
        g.add(f"{prefix}.dropout", Dropout(p=0.0))
        x = g.add(f"{prefix}.add", Add(), g.last, source)
        g.add(f"{prefix}.ln_2", LayerNorm((width,), eps=1e-6), x)
        g.add(f"{prefix}.mlp.0", Linear(mlp))
        g.add(f"{prefix}.mlp.1", GELU())
        g.add(f"{prefix}.mlp.2", Dropout(p=0.0))
        g.add(f"{prefix}.mlp.3", Linear(width))
        g.add(f"{prefix}.mlp.4", Dropout(p=0.0))
        x = g.add(f"{prefix}.add_1", Add(), x, g.last)
    g.add("encoder.ln", LayerNorm((width,), eps=1e-6), x)
    g.add("select", Select(dim=1, index=0))
    g.add("heads.head", Linear(num_classes))
    return g.network((3, H, W), name or f"vision transformer (P = {patch}, {layers} layers, width {width})")


SWINS = {  # embedding width, blocks per stage, heads per stage: Liu et al. 2021, section 3.3
    "swin_t": (96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "swin_s": (96, (2, 2, 18, 2), (3, 6, 12, 24)),
    "swin_b": (128, (2, 2, 18, 2), (4, 8, 16, 32)),
}
WINDOW = 7


def _window_attention(g: Graph, x: int, prefix: str, width: int, heads: int) -> int:
    """torchvision's ``shifted_window_attention`` as layers: pad to whole windows, partition, attend, merge back.

    The shift (a roll of the feature map) and its mask move values and add a
    constant: they cost no multiply-accumulates and are left out.
    """
    h, w, c = g.shape(x)
    rows, columns = exact_ceiling(h / WINDOW), exact_ceiling(w / WINDOW)
    padded_h, padded_w = WINDOW * rows, WINDOW * columns
    padded = sp.expand(padded_h - h) != 0 or sp.expand(padded_w - w) != 0
    if padded:
        x = g.add(f"{prefix}.pad", Pad((0, 0, 0, padded_w - w, 0, padded_h - h)), x)
    tokens, windows, head_width = WINDOW * WINDOW, rows * columns, c // heads
    g.add(f"{prefix}.view", Reshape((rows, WINDOW, columns, WINDOW, c)), x)
    g.add(f"{prefix}.permute", Permute((0, 1, 3, 2, 4, 5)))
    g.add(f"{prefix}.reshape", Reshape((windows, tokens, c)))
    g.add(f"{prefix}.qkv", Linear(3 * c))
    g.add(f"{prefix}.reshape_1", Reshape((windows, tokens, 3, heads, head_width)))
    qkv = g.add(f"{prefix}.permute_1", Permute((0, 3, 1, 4, 2, 5)))
    q, k, v = (g.add(f"{prefix}.select", Select(dim=1, index=i), qkv) for i in range(3))
    q = g.add(f"{prefix}.mul", Mul(scalar=float(head_width) ** -0.5), q)
    keys = g.add(f"{prefix}.transpose", Permute((0, 1, 2, 4, 3)), k)
    attention = g.add(f"{prefix}.matmul", MatMul(), q, keys)
    table = g.add(f"{prefix}.relative_position_bias_table", Parameter(((2 * WINDOW - 1) ** 2, heads)))
    g.add(f"{prefix}.relative_position_bias", RelativePositionBias((WINDOW, WINDOW)), table)
    bias = g.add(f"{prefix}.unsqueeze", Reshape((1, heads, tokens, tokens)))
    g.add(f"{prefix}.add", Add(), attention, bias)
    scores = g.add(f"{prefix}.softmax", Softmax(dim=-1))
    g.add(f"{prefix}.matmul_1", MatMul(), scores, v)
    g.add(f"{prefix}.transpose_1", Permute((0, 1, 3, 2, 4)))
    g.add(f"{prefix}.reshape_2", Reshape((windows, tokens, c)))
    g.add(f"{prefix}.proj", Linear(c))
    g.add(f"{prefix}.view_1", Reshape((rows, columns, WINDOW, WINDOW, c)))
    g.add(f"{prefix}.permute_2", Permute((0, 1, 3, 2, 4, 5)))
    x = g.add(f"{prefix}.reshape_3", Reshape((padded_h, padded_w, c)))
    if padded:
        g.add(f"{prefix}.narrow", Narrow(1, 0, h), x)
        x = g.add(f"{prefix}.narrow_1", Narrow(2, 0, w))
    return x


def _patch_merging(g: Graph, x: int, prefix: str, width: int) -> int:
    """torchvision's ``PatchMerging``: pad H and W to even, stack the four 2 x 2 phases, LayerNorm, 4C -> 2C."""
    h, w, _ = g.shape(x)
    even_h, even_w = 2 * exact_ceiling(h / 2), 2 * exact_ceiling(w / 2)
    if sp.expand(even_h - h) != 0 or sp.expand(even_w - w) != 0:
        x = g.add(f"{prefix}.pad", Pad((0, 0, 0, even_w - w, 0, even_h - h)), x)
    phases = []
    for start_h, start_w in ((0, 0), (1, 0), (0, 1), (1, 1)):
        rows = g.add(f"{prefix}.narrow", Narrow(-3, start_h, even_h - start_h, step=2), x)
        phases.append(g.add(f"{prefix}.narrow", Narrow(-2, start_w, even_w - start_w, step=2), rows))
    g.add(f"{prefix}.cat", ChannelConcat(dim=-1), *phases)
    g.add(f"{prefix}.norm", LayerNorm((4 * width,)))
    return g.add(f"{prefix}.reduction", Linear(2 * width, bias=False))


def swin(name: str, num_classes: int = 1000) -> Network:
    """torchvision's Swin Transformer (v1): 4x4 patches, stages of window attention, patch merging between."""
    embed, depths, heads = SWINS[name]
    H, W = image_sizes()
    g = Graph((3, H, W))
    g.add("features.0.0", Conv2d(embed, 4, stride=4), INPUT)
    g.add("features.0.1", Permute((0, 2, 3, 1)))
    x = g.add("features.0.2", LayerNorm((embed,)))
    index = 1
    for stage, (count, head_count) in enumerate(zip(depths, heads, strict=True)):
        width = embed * 2**stage
        for j in range(count):
            prefix = f"features.{index}.{j}"
            source = x
            g.add(f"{prefix}.norm1", LayerNorm((width,)), x)
            attended = _window_attention(g, g.last, f"{prefix}.attn", width, head_count)
            x = g.add(f"{prefix}.add", Add(), source, attended)
            g.add(f"{prefix}.norm2", LayerNorm((width,)), x)
            g.add(f"{prefix}.mlp.0", Linear(4 * width))
            g.add(f"{prefix}.mlp.1", GELU())
            g.add(f"{prefix}.mlp.2", Dropout(p=0.0))
            g.add(f"{prefix}.mlp.3", Linear(width))
            g.add(f"{prefix}.mlp.4", Dropout(p=0.0))
            x = g.add(f"{prefix}.add_1", Add(), x, g.last)
        index += 1
        if stage + 1 < len(depths):
            x = _patch_merging(g, x, f"features.{index}", width)
            index += 1
    g.add("norm", LayerNorm((embed * 2 ** (len(depths) - 1),)), x)
    g.add("permute", Permute((0, 3, 1, 2)))
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("head", Linear(num_classes))
    return g.network((3, H, W), name)


__all__ = ["SWINS", "VITS", "swin", "vision_transformer", "vit"]
