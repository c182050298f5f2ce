"""Squeeze-and-excitation families: MobileNet v3 (large, small) and EfficientNet B0-B7, as torchvision builds them.

Sources: Howard et al. 2019, "Searching for MobileNetV3", Tables 1 and 2;
Tan & Le 2019, "EfficientNet", Table 1 (B0) and section 3.3 (compound
scaling: width, depth and resolution multipliers); Hu et al. 2018,
"Squeeze-and-Excitation Networks"; torchvision/models/mobilenetv3.py,
efficientnet.py and ops/misc.py (``SqueezeExcitation``,
``Conv2dNormActivation``). Layers carry torchvision's module names.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy as sp

from symconv.layers import (
    AdaptiveAvgPool2d,
    Add,
    Conv2d,
    Dropout,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Layer,
    Linear,
    Mul,
    ReLU,
    Sigmoid,
    SiLU,
)
from symconv.network import Network
from symconv.sizes import MakeDivisible, size_symbol
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph, conv_norm_activation, residual_if_widths_agree
from symconv.zoo.mobilenet import make_divisible as numeric_divisible


def squeeze_excitation(
    g: Graph,
    x: int,
    prefix: str,
    channels: object,
    squeezed: object,
    activation: Callable[[], Layer],
    gate: Callable[[], Layer],
) -> int:
    """torchvision's ``SqueezeExcitation``: pool, 1x1 down, activation, 1x1 up, gate, and the product."""
    source = x
    g.add(f"{prefix}.avgpool", AdaptiveAvgPool2d(1), x)
    g.add(f"{prefix}.fc1", Conv2d(squeezed, 1))
    g.add(f"{prefix}.activation", activation())
    g.add(f"{prefix}.fc2", Conv2d(channels, 1))
    scale = g.add(f"{prefix}.scale_activation", gate())
    return g.add(f"{prefix}.mul", Mul(), scale, source)


# (input, kernel, expanded, output, squeeze-and-excitation, hard swish, stride): Howard et al. 2019, Tables 1-2
V3_LARGE = (
    (16, 3, 16, 16, False, False, 1),
    (16, 3, 64, 24, False, False, 2),
    (24, 3, 72, 24, False, False, 1),
    (24, 5, 72, 40, True, False, 2),
    (40, 5, 120, 40, True, False, 1),
    (40, 5, 120, 40, True, False, 1),
    (40, 3, 240, 80, False, True, 2),
    (80, 3, 200, 80, False, True, 1),
    (80, 3, 184, 80, False, True, 1),
    (80, 3, 184, 80, False, True, 1),
    (80, 3, 480, 112, True, True, 1),
    (112, 3, 672, 112, True, True, 1),
    (112, 5, 672, 160, True, True, 2),
    (160, 5, 960, 160, True, True, 1),
    (160, 5, 960, 160, True, True, 1),
)
V3_SMALL = (
    (16, 3, 16, 16, True, False, 2),
    (16, 3, 72, 24, False, False, 2),
    (24, 3, 88, 24, False, False, 1),
    (24, 5, 96, 40, True, True, 2),
    (40, 5, 240, 40, True, True, 1),
    (40, 5, 240, 40, True, True, 1),
    (40, 5, 120, 48, True, True, 1),
    (48, 5, 144, 48, True, True, 1),
    (48, 5, 288, 96, True, True, 2),
    (96, 5, 576, 96, True, True, 1),
    (96, 5, 576, 96, True, True, 1),
)
V3 = {"mobilenet_v3_large": (V3_LARGE, 1280), "mobilenet_v3_small": (V3_SMALL, 1024)}


def _conv(
    g: Graph, x: int, name: str, out: int, kernel: int, stride: int = 1, groups: int = 1, activation=None
) -> int:
    return conv_norm_activation(
        g, x, name, out, kernel, stride, groups=groups, activation=activation, eps=1e-3
    )


def mobilenet_v3(name: str, num_classes: int = 1000) -> Network:
    """torchvision's MobileNet v3 large or small (width multiplier 1)."""
    setting, last = V3[name]
    H, W = image_sizes()
    g = Graph()
    x = _conv(g, INPUT, "features.0", setting[0][0], 3, 2, activation=Hardswish)
    for index, (cin, kernel, expanded, out, se, hs, stride) in enumerate(setting, start=1):
        activation = Hardswish if hs else ReLU
        prefix = f"features.{index}.block"
        source, part = x, 0
        if expanded != cin:
            x = _conv(g, x, f"{prefix}.0", expanded, 1, activation=activation)
            part = 1
        x = _conv(g, x, f"{prefix}.{part}", expanded, kernel, stride, groups=expanded, activation=activation)
        if se:
            part += 1
            x = squeeze_excitation(
                g, x, f"{prefix}.{part}", expanded, numeric_divisible(expanded // 4, 8), ReLU, Hardsigmoid
            )
        x = _conv(g, x, f"{prefix}.{part + 1}", out, 1)
        if stride == 1 and cin == out:
            x = g.add(f"features.{index}.add", Add(), x, source)
    lastconv = 6 * setting[-1][3]
    _conv(g, x, f"features.{len(setting) + 1}", lastconv, 1, activation=Hardswish)
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("classifier.0", Linear(last))
    g.add("classifier.1", Hardswish())
    g.add("classifier.2", Dropout(p=0.2))
    g.add("classifier.3", Linear(num_classes))
    return g.network((3, H, W), name)


# (expand ratio, kernel, stride, input channels, output channels, layers): Tan & Le 2019, Table 1
B0 = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)
SCALING = {  # width and depth multipliers, dropout (torchvision's efficientnet_b0 ... b7)
    "efficientnet_b0": (1.0, 1.0, 0.2),
    "efficientnet_b1": (1.0, 1.1, 0.2),
    "efficientnet_b2": (1.1, 1.2, 0.3),
    "efficientnet_b3": (1.2, 1.4, 0.3),
    "efficientnet_b4": (1.4, 1.8, 0.4),
    "efficientnet_b5": (1.6, 2.2, 0.4),
    "efficientnet_b6": (1.8, 2.6, 0.5),
    "efficientnet_b7": (2.0, 3.1, 0.5),
}


def efficientnet(name: str, num_classes: int = 1000, width: object = None) -> Network:
    """torchvision's EfficientNet B0-B7: widths ``make_divisible(c * w, 8)``, depths ``ceil(n * d)``.

    ``width`` replaces the variant's width multiplier, a number or a symbol
    (``"w"``): with a symbol every width is ``make_divisible(c w, 8)`` exactly
    (:class:`~symconv.sizes.MakeDivisible`), and where torchvision adds a
    residual connection only when two such widths agree, the network assumes
    they differ and says so. Depths stay the variant's: a number of blocks is
    not a formula of a graph.
    """
    scaled, depth, dropout = SCALING[name]
    symbolic = isinstance(width, str)
    width = size_symbol(width, "rational") if symbolic else (scaled if width is None else width)

    def make_divisible(value: object, divisor: int) -> object:
        return MakeDivisible(value) if symbolic else numeric_divisible(value, divisor)

    eps = 1e-3 if name in ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7") else 1e-5
    H, W = image_sizes()
    g = Graph()
    guards = []

    def conv(
        x: int, label: str, out: int, kernel: int, stride: int = 1, groups: int = 1, activation=SiLU
    ) -> int:
        return conv_norm_activation(
            g, x, label, out, kernel, stride, groups=groups, activation=activation, eps=eps
        )

    first = make_divisible(B0[0][3] * width, 8)
    x = conv(INPUT, "features.0", first, 3, 2)
    channels = first
    for stage, (ratio, kernel, stride, _, out, layers) in enumerate(B0, start=1):
        out = make_divisible(out * width, 8)
        for index in range(int(math.ceil(layers * depth))):
            step = stride if index == 0 else 1
            prefix = f"features.{stage}.{index}.block"
            expanded = make_divisible(channels * ratio, 8)
            source, part = x, 0
            if expanded != channels:
                x = conv(x, f"{prefix}.0", expanded, 1)
                part = 1
            x = conv(x, f"{prefix}.{part}", expanded, kernel, step, groups=expanded)
            squeezed = max(1, channels // 4) if not symbolic else sp.Max(1, sp.floor(channels / 4))
            x = squeeze_excitation(g, x, f"{prefix}.{part + 1}", expanded, squeezed, SiLU, Sigmoid)
            x = conv(x, f"{prefix}.{part + 2}", out, 1, activation=None)
            if step == 1:
                name = f"features.{stage}.{index}.add"
                x = residual_if_widths_agree(g, name, x, source, channels, out, guards)
            channels = out
    conv(x, f"features.{len(B0) + 1}", 4 * channels, 1)
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("classifier.0", Dropout(p=dropout))
    g.add("classifier.1", Linear(num_classes))
    label = name if not symbolic else f"{name} (width {width})"
    return Network((3, H, W), graph=tuple(g.nodes), name=label, guards=guards)


__all__ = ["SCALING", "V3", "efficientnet", "mobilenet_v3", "squeeze_excitation"]
