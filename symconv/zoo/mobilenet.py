"""MobileNets: v1 as the paper defines it, v2 as torchvision does.

Sources: Howard et al. 2017, "MobileNets", Table 1 (body), section 3.3 and
Tables 6-7 (width multiplier alpha, resolution multiplier rho);
torchvision/models/mobilenetv2.py (``InvertedResidual``, ``_make_divisible``).
"""

from __future__ import annotations

import sympy as sp

from symconv.layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU, ReLU6
from symconv.network import Network, Sequential
from symconv.sizes import MakeDivisible, symbols
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph, conv_norm_activation, residual_if_widths_agree

V1_BODY = (  # (stride of the depthwise convolution, output channels of the pointwise one), Table 1
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    (1, 1024),
)


def mobilenet_v1(alpha: object = None, num_classes: int = 1000) -> Network:
    """MobileNet v1 with BatchNorm and ReLU after every convolution; channels ``alpha * C``.

    ``alpha`` defaults to the symbol alpha (a positive rational); the paper's
    resolution multiplier is the input size itself (``H = W = 224 rho``).
    Table 1 lists the last depthwise convolution with stride 2, but its
    output stays 7x7: stride 1 here, as in the paper's reference models.
    """
    H, W = image_sizes()
    alpha = symbols("alpha") if alpha is None else sp.nsimplify(alpha)
    layers = [
        Sequential(
            (
                Conv2d(32 * alpha, 3, stride=2, padding=1, bias=False, name="conv"),
                BatchNorm2d(name="bn"),
                ReLU(name="relu"),
            ),
            "conv1",
        )
    ]
    channels = 32 * alpha
    for index, (stride, out) in enumerate(V1_BODY, start=1):
        layers.append(
            Sequential(
                (
                    Conv2d(channels, 3, stride=stride, padding=1, groups=channels, bias=False, name="dw"),
                    BatchNorm2d(name="dw_bn"),
                    ReLU(name="dw_relu"),
                    Conv2d(out * alpha, 1, bias=False, name="pw"),
                    BatchNorm2d(name="pw_bn"),
                    ReLU(name="pw_relu"),
                ),
                f"block{index}",
            )
        )
        channels = out * alpha
    layers += [AdaptiveAvgPool2d(1, name="avgpool"), Flatten(), Linear(num_classes, name="fc")]
    return Network((3, H, W), layers, name="mobilenet_v1")


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: round to a multiple of 8, never more than 10% down."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def divisible(value: object) -> sp.Expr:
    """``_make_divisible(value, 8)``: torchvision's integer for a number, :class:`MakeDivisible` of a formula."""
    return MakeDivisible(sp.nsimplify(value))


V2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def mobilenet_v2(width_mult: object = 1.0, num_classes: int = 1000) -> Network:
    """torchvision's MobileNet v2 (Sandler et al. 2018), for a number or a symbol as the width multiplier.

    With a symbol (``width_mult="alpha"``) every width is :func:`divisible` of
    ``c * alpha``: one expression for every multiplier. A block whose input and
    output widths agree is residual in torchvision; where that depends on alpha
    (the first block of a stage of stride 1) the network assumes they differ, a
    condition it states, which holds for every multiplier from 0.35 up.
    """
    H, W = image_sizes()
    alpha = symbols(width_mult) if isinstance(width_mult, str) else sp.nsimplify(width_mult)
    channels = divisible(32 * alpha)
    last = divisible(1280 * sp.Max(1, alpha))
    g = Graph()
    guards = []
    x = conv_norm_activation(g, INPUT, "features.0", channels, 3, 2, activation=ReLU6)
    index = 1
    for t, c, n, s in V2_SETTINGS:
        out = divisible(c * alpha)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = channels * t
            prefix = f"features.{index}"
            source = x
            part = 0
            if t != 1:
                x = conv_norm_activation(g, x, f"{prefix}.conv.0", hidden, 1, activation=ReLU6)
                part = 1
            x = conv_norm_activation(
                g, x, f"{prefix}.conv.{part}", hidden, 3, stride, groups=hidden, activation=ReLU6
            )
            x = g.add(f"{prefix}.conv.{part + 1}", Conv2d(out, 1, bias=False))
            x = g.add(f"{prefix}.conv.{part + 2}", BatchNorm2d())
            if stride == 1:
                x = residual_if_widths_agree(
                    g, f"{prefix}.add", x, source, channels, out, guards, source_first=True
                )
            channels = out
            index += 1
    conv_norm_activation(g, x, f"features.{index}", last, 1, activation=ReLU6)
    g.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("classifier.0", Dropout(p=0.2))
    g.add("classifier.1", Linear(num_classes))
    name = "mobilenet_v2" if alpha == 1 else f"mobilenet_v2 (width {alpha})"
    return Network((3, H, W), graph=tuple(g.nodes), name=name, guards=guards)
