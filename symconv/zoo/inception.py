"""GoogLeNet: torchvision's (3x3 in the "5x5" branch, BatchNorm) and the paper's (Szegedy et al. 2014, Table 1)."""

from __future__ import annotations

from symconv.layers import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from symconv.network import Concat, Network, Sequential
from symconv.zoo.common import conv_bn, image_sizes

INCEPTIONS = (  # name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (Table 1)
    ("inception3a", 64, 96, 128, 16, 32, 32),
    ("inception3b", 128, 128, 192, 32, 96, 64),
    "maxpool3",
    ("inception4a", 192, 96, 208, 16, 48, 64),
    ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64),
    ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128),
    "maxpool4",
    ("inception5a", 256, 160, 320, 32, 128, 128),
    ("inception5b", 384, 192, 384, 48, 128, 128),
)


def googlenet(num_classes: int = 1000, paper: bool = False) -> Network:
    """GoogLeNet without auxiliary heads.

    torchvision: every convolution is conv (no bias) + BatchNorm (eps 0.001) +
    ReLU, and the "5x5" branch uses a 3x3 kernel (kept for its weights).
    ``paper=True``: convolutions with bias and ReLU, no BatchNorm, true 5x5
    branches, local response normalisation omitted (it has no parameters).
    """
    H, W = image_sizes()

    def unit(out: int, kernel: int, stride: int = 1, padding: int = 0, name: str | None = None):
        if paper:
            return Sequential(
                (Conv2d(out, kernel, stride=stride, padding=padding, name="conv"), ReLU(name="relu")), name
            )
        return conv_bn(out, kernel, stride, padding, name=name, eps=1e-3)

    def pool(kernel: int, name: str) -> MaxPool2d:
        return MaxPool2d(kernel, stride=2, ceil_mode=True, name=name)

    layers = [
        unit(64, 7, 2, 3, "conv1"),
        pool(3, "maxpool1"),
        unit(64, 1, name="conv2"),
        unit(192, 3, padding=1, name="conv3"),
        pool(3, "maxpool2"),
    ]
    five = (5, 2) if paper else (3, 1)
    for item in INCEPTIONS:
        if isinstance(item, str):
            layers.append(pool(3 if item == "maxpool3" else 2, item))
            continue
        name, c1, r3, c3, r5, c5, proj = item
        layers.append(
            Concat(
                (
                    (unit(c1, 1, name="branch1"),),
                    (unit(r3, 1, name="branch2_0"), unit(c3, 3, padding=1, name="branch2_1")),
                    (unit(r5, 1, name="branch3_0"), unit(c5, five[0], padding=five[1], name="branch3_1")),
                    (
                        MaxPool2d(3, stride=1, padding=1, ceil_mode=True, name="branch4_0"),
                        unit(proj, 1, name="branch4_1"),
                    ),
                ),
                name,
            )
        )
    layers += [
        AdaptiveAvgPool2d(1, name="avgpool"),
        Flatten(),
        Dropout(p=0.4 if paper else 0.2, name="dropout"),
        Linear(num_classes, name="fc"),
    ]
    return Network((3, H, W), layers, name="googlenet_paper" if paper else "googlenet")
