"""MobileNets: v1 as the paper defines it, v2 as torchvision does.

Sources: Howard et al. 2017, "MobileNets", Table 1 (body), section 3.3 and
Tables 6-7 (width multiplier alpha, resolution multiplier rho);
torchvision/models/mobilenetv2.py (``InvertedResidual``, ``_make_divisible``).
"""

from __future__ import annotations

import sympy as sp

from symconv.layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU, ReLU6
from symconv.network import Network, Residual, Sequential
from symconv.sizes import symbols
from symconv.zoo.common import conv_bn, image_sizes

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


V2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def mobilenet_v2(width_mult: float = 1.0, num_classes: int = 1000) -> Network:
    """torchvision's MobileNet v2 (Sandler et al. 2018) for a numeric width multiplier."""
    H, W = image_sizes()
    channels = make_divisible(32 * width_mult)
    last = make_divisible(1280 * max(1.0, width_mult))
    features = [conv_bn(channels, 3, 2, 1, activation=ReLU6, name="0")]
    index = 1
    for t, c, n, s in V2_SETTINGS:
        out = make_divisible(c * width_mult)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(channels * t))
            body = []
            if t != 1:
                body.append(conv_bn(hidden, 1, activation=ReLU6, name="expand"))
            body += [
                conv_bn(hidden, 3, stride, 1, groups=hidden, activation=ReLU6, name="depthwise"),
                Conv2d(out, 1, bias=False, name="project"),
                BatchNorm2d(name="project_bn"),
            ]
            if stride == 1 and channels == out:
                features.append(Residual(tuple(body), name=str(index)))
            else:
                features.append(Sequential(tuple(body), str(index)))
            channels = out
            index += 1
    features.append(conv_bn(last, 1, activation=ReLU6, name=str(index)))
    return Network(
        (3, H, W),
        [
            Sequential(tuple(features), "features"),
            AdaptiveAvgPool2d(1, name="avgpool"),
            Flatten(),
            Dropout(p=0.2, name="dropout"),
            Linear(num_classes, name="classifier"),
        ],
        name="mobilenet_v2",
    )
