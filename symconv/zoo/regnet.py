"""RegNet X and Y (Radosavovic et al. 2020), as torchvision builds them: the quantised linear width rule.

Sources: Radosavovic et al. 2020, "Designing Network Design Spaces",
eq. (2)-(4) (block widths ``u_j = w_0 + w_a j`` quantised to ``w_0 w_m^s``,
rounded to multiples of 8) and Tables 1-3; torchvision/models/regnet.py
(``BlockParams.from_init_params``, which computes in float32, and
``ResBottleneckBlock``). Layers carry torchvision's module names.
"""

from __future__ import annotations

import math

import numpy as np

from symconv.layers import AdaptiveAvgPool2d, Add, Flatten, Linear, ReLU, Sigmoid
from symconv.network import Network
from symconv.zoo.common import image_sizes
from symconv.zoo.efficient import squeeze_excitation
from symconv.zoo.graph import INPUT, Graph, conv_norm_activation

REGNETS = {  # depth, w_0, w_a, w_m, group width, squeeze-and-excitation ratio (torchvision's builders)
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8, 0.25),
    "regnet_y_800mf": (14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24, 0.25),
    "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24, 0.25),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56, 0.25),
    "regnet_y_16gf": (18, 200, 106.23, 2.48, 112, 0.25),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232, 0.25),
    "regnet_y_128gf": (27, 456, 160.83, 2.52, 264, 0.25),
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16, None),
    "regnet_x_800mf": (16, 56, 35.73, 2.28, 16, None),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24, None),
    "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48, None),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120, None),
    "regnet_x_16gf": (22, 216, 55.59, 2.1, 128, None),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168, None),
}
STEM_WIDTH = 32


def _divisible(value: float, divisor: int) -> int:
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def stages(depth: int, w_0: int, w_a: float, w_m: float, group_width: int) -> list[tuple[int, int, int]]:
    """(width, depth, group width) per stage: eq. (2)-(4), in float32 as torchvision computes them."""
    continuous = np.arange(depth).astype(np.float32) * np.float32(w_a) + np.float32(w_0)
    capacity = np.round(np.log(continuous / np.float32(w_0)) / np.float32(math.log(w_m)))
    widths = (np.round(np.float32(w_0) * np.power(np.float32(w_m), capacity) / np.float32(8)) * 8).astype(int)
    found: list[list[int]] = []
    for width in widths.tolist():
        if found and found[-1][0] == width:
            found[-1][1] += 1
        else:
            found.append([width, 1])
    result = []
    for width, count in found:
        group = min(group_width, width)
        result.append((_divisible(width, group), count, group))  # bottleneck multiplier 1
    return result


def regnet(name: str, num_classes: int = 1000) -> Network:
    """torchvision's RegNet: a 3x3 stem, four stages of residual bottlenecks (grouped 3x3, Y: squeeze-excitation)."""
    depth, w_0, w_a, w_m, group_width, se_ratio = REGNETS[name]
    H, W = image_sizes()
    g = Graph()
    x = conv_norm_activation(g, INPUT, "stem", STEM_WIDTH, 3, 2)
    current = STEM_WIDTH
    for s, (width, count, group) in enumerate(stages(depth, w_0, w_a, w_m, group_width), start=1):
        for j in range(count):
            prefix = f"trunk_output.block{s}.block{s}-{j}"
            stride, width_in = (2, current) if j == 0 else (1, width)
            source = x
            shortcut = source
            if width_in != width or stride != 1:
                shortcut = conv_norm_activation(
                    g, source, f"{prefix}.proj", width, 1, stride, activation=None
                )
            y = conv_norm_activation(g, source, f"{prefix}.f.a", width, 1)
            y = conv_norm_activation(g, y, f"{prefix}.f.b", width, 3, stride, groups=width // group)
            if se_ratio:
                y = squeeze_excitation(
                    g, y, f"{prefix}.f.se", width, int(round(se_ratio * width_in)), ReLU, Sigmoid
                )
            y = conv_norm_activation(g, y, f"{prefix}.f.c", width, 1, activation=None)
            g.add(f"{prefix}.add", Add(), shortcut, y)
            x = g.add(f"{prefix}.activation", ReLU())
        current = width
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("fc", Linear(num_classes))
    return g.network((3, H, W), name)


__all__ = ["REGNETS", "regnet", "stages"]
