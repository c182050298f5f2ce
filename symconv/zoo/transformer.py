"""Vision transformers as torchvision builds them: ViT-B/16, B/32, L/16, L/32, H/14 (Dosovitskiy et al. 2021).

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
    Add,
    ChannelConcat,
    Conv2d,
    Dropout,
    Flatten,
    LayerNorm,
    Linear,
    MultiheadAttention,
    Parameter,
    Permute,
    Select,
)
from symconv.network import Network
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


__all__ = ["VITS", "vision_transformer", "vit"]
