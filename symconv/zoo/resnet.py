"""ResNets: torchvision's (v1.5, stride on the 3x3 convolution) and the paper's ResNet-50.

Sources: He et al. 2015, "Deep Residual Learning for Image Recognition",
Table 1; torchvision/models/resnet.py (``BasicBlock``, ``Bottleneck``).
"""

from __future__ import annotations

from symconv.layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from symconv.network import Network, Residual, Sequential
from symconv.zoo.common import image_sizes

DEPTHS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}


def _block(kind: str, in_channels: int, width: int, stride: int, index: int, stride_on_first: bool):
    expansion = 4 if kind == "bottleneck" else 1
    out = width * expansion
    if kind == "basic":
        body = (
            Conv2d(width, 3, stride=stride, padding=1, bias=False, name="conv1"),
            BatchNorm2d(name="bn1"),
            ReLU(name="relu"),
            Conv2d(width, 3, padding=1, bias=False, name="conv2"),
            BatchNorm2d(name="bn2"),
        )
    else:
        first, second = (stride, 1) if stride_on_first else (1, stride)
        body = (
            Conv2d(width, 1, stride=first, bias=False, name="conv1"),
            BatchNorm2d(name="bn1"),
            ReLU(name="relu1"),
            Conv2d(width, 3, stride=second, padding=1, bias=False, name="conv2"),
            BatchNorm2d(name="bn2"),
            ReLU(name="relu2"),
            Conv2d(out, 1, bias=False, name="conv3"),
            BatchNorm2d(name="bn3"),
        )
    shortcut = ()
    if stride != 1 or in_channels != out:
        shortcut = (Conv2d(out, 1, stride=stride, bias=False, name="0"), BatchNorm2d(name="1"))
    block = Residual(body, shortcut, name="residual")
    return Sequential((block, ReLU(name="relu")), str(index)), out


def resnet(name: str, num_classes: int = 1000, stride_on_first: bool = False) -> Network:
    """A ResNet of the given depth; ``stride_on_first`` puts a bottleneck's stride on its first 1x1 (the paper)."""
    kind, counts = DEPTHS[name]
    H, W = image_sizes()
    layers = [
        Conv2d(64, 7, stride=2, padding=3, bias=False, name="conv1"),
        BatchNorm2d(name="bn1"),
        ReLU(name="relu"),
        MaxPool2d(3, stride=2, padding=1, name="maxpool"),
    ]
    channels = 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True), start=1):
        blocks = []
        for index in range(count):
            stride = 2 if stage > 1 and index == 0 else 1
            block, channels = _block(kind, channels, width, stride, index, stride_on_first)
            blocks.append(block)
        layers.append(Sequential(tuple(blocks), f"layer{stage}"))
    layers += [AdaptiveAvgPool2d(1, name="avgpool"), Flatten(), Linear(num_classes, name="fc")]
    return Network((3, H, W), layers, name=name + ("_paper" if stride_on_first else ""))
