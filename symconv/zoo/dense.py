"""Concatenating families: DenseNet 121-201 and ShuffleNet v2, as torchvision builds them.

Sources: Huang et al. 2017, "Densely Connected Convolutional Networks",
Table 1; Ma et al. 2018, "ShuffleNet V2", Table 5 and Fig. 3;
torchvision/models/densenet.py and shufflenetv2.py. Layers carry
torchvision's module names.
"""

from __future__ import annotations

from symconv.layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    ChannelConcat,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Mean,
    Narrow,
    Permute,
    ReLU,
    Reshape,
)
from symconv.network import Network
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph

DENSENETS = {  # growth rate, layers per block, initial features: Huang et al. 2017, Table 1
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}
BN_SIZE = 4


def densenet(name: str, num_classes: int = 1000) -> Network:
    """torchvision's DenseNet: every dense layer reads the concatenation of all features before it."""
    growth, blocks, initial = DENSENETS[name]
    H, W = image_sizes()
    g = Graph()
    g.add("features.conv0", Conv2d(initial, 7, stride=2, padding=3, bias=False), INPUT)
    g.add("features.norm0", BatchNorm2d())
    g.add("features.relu0", ReLU())
    x = g.add("features.pool0", MaxPool2d(3, stride=2, padding=1))
    channels = initial
    for b, count in enumerate(blocks, start=1):
        features = [x]
        for i in range(1, count + 1):
            prefix = f"features.denseblock{b}.denselayer{i}"
            joined = features[0] if len(features) == 1 else g.add(f"{prefix}.cat", ChannelConcat(), *features)
            g.add(f"{prefix}.norm1", BatchNorm2d(), joined)
            g.add(f"{prefix}.relu1", ReLU())
            g.add(f"{prefix}.conv1", Conv2d(BN_SIZE * growth, 1, bias=False))
            g.add(f"{prefix}.norm2", BatchNorm2d())
            g.add(f"{prefix}.relu2", ReLU())
            features.append(g.add(f"{prefix}.conv2", Conv2d(growth, 3, padding=1, bias=False)))
        x = g.add(f"features.denseblock{b}.cat", ChannelConcat(), *features)
        channels += count * growth
        if b != len(blocks):
            prefix = f"features.transition{b}"
            g.add(f"{prefix}.norm", BatchNorm2d(), x)
            g.add(f"{prefix}.relu", ReLU())
            g.add(f"{prefix}.conv", Conv2d(channels // 2, 1, bias=False))
            x = g.add(f"{prefix}.pool", AvgPool2d(2, stride=2))
            channels //= 2
    g.add("features.norm5", BatchNorm2d(), x)
    g.add("relu", ReLU())
    g.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("classifier", Linear(num_classes))
    return g.network((3, H, W), name)


SHUFFLENETS = {  # repeats per stage, output channels: Ma et al. 2018, Table 5
    "shufflenet_v2_x0_5": ((4, 8, 4), (24, 48, 96, 192, 1024)),
    "shufflenet_v2_x1_0": ((4, 8, 4), (24, 116, 232, 464, 1024)),
    "shufflenet_v2_x1_5": ((4, 8, 4), (24, 176, 352, 704, 1024)),
    "shufflenet_v2_x2_0": ((4, 8, 4), (24, 244, 488, 976, 2048)),
}


def _shuffle(g: Graph, x: int, prefix: str) -> int:
    """``channel_shuffle(x, 2)``: view as 2 groups, swap the group and channel axes, view back."""
    channels, height, width = g.shape(x)
    g.add(f"{prefix}.view", Reshape((2, channels // 2, height, width)), x)
    g.add(f"{prefix}.transpose", Permute((0, 2, 1, 3, 4)))
    return g.add(f"{prefix}.view_1", Reshape((channels, height, width)))


def _unit(g: Graph, x: int, prefix: str, inp: int, oup: int, stride: int) -> int:
    """torchvision's ``InvertedResidual`` of ShuffleNet v2: split (or two strided branches), concat, shuffle."""
    half = oup // 2
    if stride == 1:
        left = g.add(f"{prefix}.chunk", Narrow(1, 0, half), x)
        right = g.add(f"{prefix}.chunk_1", Narrow(1, half, half), x)
    else:
        g.add(f"{prefix}.branch1.0", Conv2d(inp, 3, stride=stride, padding=1, groups=inp, bias=False), x)
        g.add(f"{prefix}.branch1.1", BatchNorm2d())
        g.add(f"{prefix}.branch1.2", Conv2d(half, 1, bias=False))
        g.add(f"{prefix}.branch1.3", BatchNorm2d())
        left = g.add(f"{prefix}.branch1.4", ReLU())
        right = x
    g.add(f"{prefix}.branch2.0", Conv2d(half, 1, bias=False), right)
    g.add(f"{prefix}.branch2.1", BatchNorm2d())
    g.add(f"{prefix}.branch2.2", ReLU())
    g.add(f"{prefix}.branch2.3", Conv2d(half, 3, stride=stride, padding=1, groups=half, bias=False))
    g.add(f"{prefix}.branch2.4", BatchNorm2d())
    g.add(f"{prefix}.branch2.5", Conv2d(half, 1, bias=False))
    g.add(f"{prefix}.branch2.6", BatchNorm2d())
    branch = g.add(f"{prefix}.branch2.7", ReLU())
    joined = g.add(f"{prefix}.cat", ChannelConcat(), left, branch)
    return _shuffle(g, joined, f"{prefix}.channel_shuffle")


def shufflenet_v2(name: str, num_classes: int = 1000) -> Network:
    """torchvision's ShuffleNet v2 at one of its four widths."""
    repeats, widths = SHUFFLENETS[name]
    H, W = image_sizes()
    g = Graph((3, H, W))
    g.add("conv1.0", Conv2d(widths[0], 3, stride=2, padding=1, bias=False), INPUT)
    g.add("conv1.1", BatchNorm2d())
    g.add("conv1.2", ReLU())
    x = g.add("maxpool", MaxPool2d(3, stride=2, padding=1))
    channels = widths[0]
    for stage, (count, out) in enumerate(zip(repeats, widths[1:4], strict=True), start=2):
        for index in range(count):
            x = _unit(g, x, f"stage{stage}.{index}", channels, out, 2 if index == 0 else 1)
            channels = out
    g.add("conv5.0", Conv2d(widths[-1], 1, bias=False), x)
    g.add("conv5.1", BatchNorm2d())
    g.add("conv5.2", ReLU())
    g.add("mean", Mean((2, 3)))
    g.add("fc", Linear(num_classes))
    return g.network((3, H, W), name)


__all__ = ["DENSENETS", "SHUFFLENETS", "densenet", "shufflenet_v2"]
