"""ConvNeXt T/S/B/L (Liu et al. 2022), as torchvision builds them: channels-last blocks with layer scale.

Sources: Liu et al. 2022, "A ConvNet for the 2020s", section 2 and Table 9
(stage widths and depths); torchvision/models/convnext.py (``CNBlock``,
``LayerNorm2d``). Layers carry torchvision's module names.
"""

from __future__ import annotations

from symconv.layers import (
    GELU,
    AdaptiveAvgPool2d,
    Add,
    Conv2d,
    Flatten,
    LayerNorm,
    Linear,
    Mul,
    Parameter,
    Permute,
)
from symconv.network import Network
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph

CONVNEXTS = {  # stage widths, blocks per stage: Liu et al. 2022, Table 9
    "convnext_tiny": ((96, 192, 384, 768), (3, 3, 9, 3)),
    "convnext_small": ((96, 192, 384, 768), (3, 3, 27, 3)),
    "convnext_base": ((128, 256, 512, 1024), (3, 3, 27, 3)),
    "convnext_large": ((192, 384, 768, 1536), (3, 3, 27, 3)),
}


def layer_norm_2d(g: Graph, x: int, name: str, channels: int) -> int:
    """torchvision's ``LayerNorm2d``: permute to channels-last, normalise the channels, permute back."""
    g.add(f"{name}.permute", Permute((0, 2, 3, 1)), x)
    g.add(name, LayerNorm((channels,), eps=1e-6))
    return g.add(f"{name}.permute_1", Permute((0, 3, 1, 2)))


def convnext(name: str, num_classes: int = 1000) -> Network:
    """torchvision's ConvNeXt: a 4x4 patchify stem, stages of 7x7 depthwise blocks, 2x2 downsampling."""
    widths, depths = CONVNEXTS[name]
    H, W = image_sizes()
    g = Graph()
    g.add("features.0.0", Conv2d(widths[0], 4, stride=4), INPUT)
    x = layer_norm_2d(g, g.last, "features.0.1", widths[0])
    index = 1
    for stage, (dim, count) in enumerate(zip(widths, depths, strict=True)):
        for j in range(count):
            prefix = f"features.{index}.{j}"
            source = x
            g.add(f"{prefix}.block.0", Conv2d(dim, 7, padding=3, groups=dim), x)
            g.add(f"{prefix}.block.1", Permute((0, 2, 3, 1)))
            g.add(f"{prefix}.block.2", LayerNorm((dim,), eps=1e-6))
            g.add(f"{prefix}.block.3", Linear(4 * dim))
            g.add(f"{prefix}.block.4", GELU())
            g.add(f"{prefix}.block.5", Linear(dim))
            block = g.add(f"{prefix}.block.6", Permute((0, 3, 1, 2)))
            scale = g.add(f"{prefix}.layer_scale", Parameter((dim, 1, 1)))
            scaled = g.add(f"{prefix}.mul", Mul(), scale, block)
            x = g.add(f"{prefix}.add", Add(), scaled, source)
        index += 1
        if stage + 1 < len(widths):
            layer_norm_2d(g, x, f"features.{index}.0", dim)
            x = g.add(f"features.{index}.1", Conv2d(widths[stage + 1], 2, stride=2))
            index += 1
    g.add("avgpool", AdaptiveAvgPool2d(1), x)
    layer_norm_2d(g, g.last, "classifier.0", widths[-1])
    g.add("classifier.1", Flatten())
    g.add("classifier.2", Linear(num_classes))
    return g.network((3, H, W), name)


__all__ = ["CONVNEXTS", "convnext"]
