"""GoogLeNet: torchvision's (3x3 in the "5x5" branch, BatchNorm) and the paper's (Szegedy et al. 2014, Table 1);
Inception v3 as torchvision builds it (Szegedy et al. 2016, "Rethinking the Inception Architecture", Table 1 and
Figures 5-7; torchvision/models/inception.py), with torchvision's module names."""

from __future__ import annotations

from symconv.layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    ChannelConcat,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)
from symconv.network import Concat, Network, Sequential, UnusedParameters
from symconv.zoo.common import conv_bn, image_sizes
from symconv.zoo.graph import INPUT, Graph

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


def _basic(
    g: Graph, x: int, name: str, out: int, kernel: object, stride: int = 1, padding: object = 0
) -> int:
    """torchvision's ``BasicConv2d``: ``name.conv`` (no bias), ``name.bn`` (eps 0.001), ReLU."""
    g.add(f"{name}.conv", Conv2d(out, kernel, stride=stride, padding=padding, bias=False), x)
    g.add(f"{name}.bn", BatchNorm2d(eps=1e-3))
    return g.add(f"{name}.relu", ReLU())


def _a(g: Graph, x: int, name: str, pool_features: int) -> int:
    one = _basic(g, x, f"{name}.branch1x1", 64, 1)
    five = _basic(g, _basic(g, x, f"{name}.branch5x5_1", 48, 1), f"{name}.branch5x5_2", 64, 5, padding=2)
    three = _basic(g, x, f"{name}.branch3x3dbl_1", 64, 1)
    three = _basic(g, three, f"{name}.branch3x3dbl_2", 96, 3, padding=1)
    three = _basic(g, three, f"{name}.branch3x3dbl_3", 96, 3, padding=1)
    pool = g.add(f"{name}.avg_pool2d", AvgPool2d(3, stride=1, padding=1), x)
    pool = _basic(g, pool, f"{name}.branch_pool", pool_features, 1)
    return g.add(f"{name}.cat", ChannelConcat(), one, five, three, pool)


def _b(g: Graph, x: int, name: str) -> int:
    three = _basic(g, x, f"{name}.branch3x3", 384, 3, stride=2)
    double = _basic(g, x, f"{name}.branch3x3dbl_1", 64, 1)
    double = _basic(g, double, f"{name}.branch3x3dbl_2", 96, 3, padding=1)
    double = _basic(g, double, f"{name}.branch3x3dbl_3", 96, 3, stride=2)
    pool = g.add(f"{name}.max_pool2d", MaxPool2d(3, stride=2), x)
    return g.add(f"{name}.cat", ChannelConcat(), three, double, pool)


def _c(g: Graph, x: int, name: str, c7: int) -> int:
    row, column = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    one = _basic(g, x, f"{name}.branch1x1", 192, 1)
    seven = _basic(g, x, f"{name}.branch7x7_1", c7, 1)
    seven = _basic(g, seven, f"{name}.branch7x7_2", c7, row[0], padding=row[1])
    seven = _basic(g, seven, f"{name}.branch7x7_3", 192, column[0], padding=column[1])
    double = _basic(g, x, f"{name}.branch7x7dbl_1", c7, 1)
    for index, (out, (kernel, padding)) in enumerate(
        ((c7, column), (c7, row), (c7, column), (192, row)), start=2
    ):
        double = _basic(g, double, f"{name}.branch7x7dbl_{index}", out, kernel, padding=padding)
    pool = g.add(f"{name}.avg_pool2d", AvgPool2d(3, stride=1, padding=1), x)
    pool = _basic(g, pool, f"{name}.branch_pool", 192, 1)
    return g.add(f"{name}.cat", ChannelConcat(), one, seven, double, pool)


def _d(g: Graph, x: int, name: str) -> int:
    three = _basic(g, _basic(g, x, f"{name}.branch3x3_1", 192, 1), f"{name}.branch3x3_2", 320, 3, stride=2)
    seven = _basic(g, x, f"{name}.branch7x7x3_1", 192, 1)
    seven = _basic(g, seven, f"{name}.branch7x7x3_2", 192, (1, 7), padding=(0, 3))
    seven = _basic(g, seven, f"{name}.branch7x7x3_3", 192, (7, 1), padding=(3, 0))
    seven = _basic(g, seven, f"{name}.branch7x7x3_4", 192, 3, stride=2)
    pool = g.add(f"{name}.max_pool2d", MaxPool2d(3, stride=2), x)
    return g.add(f"{name}.cat", ChannelConcat(), three, seven, pool)


def _e(g: Graph, x: int, name: str) -> int:
    one = _basic(g, x, f"{name}.branch1x1", 320, 1)
    three = _basic(g, x, f"{name}.branch3x3_1", 384, 1)
    wide = _basic(g, three, f"{name}.branch3x3_2a", 384, (1, 3), padding=(0, 1))
    tall = _basic(g, three, f"{name}.branch3x3_2b", 384, (3, 1), padding=(1, 0))
    three = g.add(f"{name}.cat", ChannelConcat(), wide, tall)
    double = _basic(g, x, f"{name}.branch3x3dbl_1", 448, 1)
    double = _basic(g, double, f"{name}.branch3x3dbl_2", 384, 3, padding=1)
    wide = _basic(g, double, f"{name}.branch3x3dbl_3a", 384, (1, 3), padding=(0, 1))
    tall = _basic(g, double, f"{name}.branch3x3dbl_3b", 384, (3, 1), padding=(1, 0))
    double = g.add(f"{name}.cat_1", ChannelConcat(), wide, tall)
    pool = g.add(f"{name}.avg_pool2d", AvgPool2d(3, stride=1, padding=1), x)
    pool = _basic(g, pool, f"{name}.branch_pool", 192, 1)
    return g.add(f"{name}.cat_2", ChannelConcat(), one, three, double, pool)


def _auxiliary_parameters(num_classes: int) -> int:
    """The parameters of torchvision's ``InceptionAux`` (read only in training): its layers' own formulas."""
    g = Graph()
    _basic(g, INPUT, "conv0", 128, 1)
    _basic(g, g.last, "conv1", 768, 5)
    g.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("fc", Linear(num_classes))
    return int(Network((768, 5, 5), graph=tuple(g.nodes)).params)


def inception_v3(num_classes: int = 1000) -> Network:
    """torchvision's Inception v3 (Szegedy et al. 2016) in eval mode: its auxiliary head is held, never read."""
    H, W = image_sizes()
    g = Graph()
    x = _basic(g, INPUT, "Conv2d_1a_3x3", 32, 3, stride=2)
    x = _basic(g, x, "Conv2d_2a_3x3", 32, 3)
    x = _basic(g, x, "Conv2d_2b_3x3", 64, 3, padding=1)
    x = g.add("maxpool1", MaxPool2d(3, stride=2))
    x = _basic(g, x, "Conv2d_3b_1x1", 80, 1)
    x = _basic(g, x, "Conv2d_4a_3x3", 192, 3)
    x = g.add("maxpool2", MaxPool2d(3, stride=2))
    for name, features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
        x = _a(g, x, name, features)
    x = _b(g, x, "Mixed_6a")
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _c(g, x, name, c7)
    x = _d(g, x, "Mixed_7a")
    x = _e(g, x, "Mixed_7b")
    x = _e(g, x, "Mixed_7c")
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("dropout", Dropout(p=0.5))
    g.add("flatten", Flatten())
    g.add("fc", Linear(num_classes))
    unused = (UnusedParameters("AuxLogits", _auxiliary_parameters(num_classes)),)
    return Network((3, H, W), graph=tuple(g.nodes), name="inception_v3", unused=unused)
