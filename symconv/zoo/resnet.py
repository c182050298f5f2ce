"""ResNets: torchvision's (v1.5, stride on the 3x3 convolution) and the paper's ResNet-50; ResNeXt and wide ResNets.

Sources: He et al. 2015, "Deep Residual Learning for Image Recognition",
Table 1; Xie et al. 2017, "Aggregated Residual Transformations" (ResNeXt),
Table 1; Zagoruyko & Komodakis 2016, "Wide Residual Networks";
torchvision/models/resnet.py (``BasicBlock``, ``Bottleneck``, ``_resnet``).
Layers carry torchvision's module names (``layer1.0.downsample.0``).
"""

from __future__ import annotations

from symconv.layers import AdaptiveAvgPool2d, Add, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from symconv.network import Network
from symconv.zoo.common import image_sizes
from symconv.zoo.graph import INPUT, Graph

DEPTHS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}
WIDE = {  # torchvision's builders over the bottleneck depths: (depth, groups, width per group)
    "resnext50_32x4d": ("resnet50", 32, 4),
    "resnext101_32x8d": ("resnet101", 32, 8),
    "resnext101_64x4d": ("resnet101", 64, 4),
    "wide_resnet50_2": ("resnet50", 1, 128),
    "wide_resnet101_2": ("resnet101", 1, 128),
}


def _block(
    g: Graph,
    x: int,
    prefix: str,
    kind: str,
    in_channels: int,
    planes: int,
    stride: int,
    stride_on_first: bool,
    groups: int,
    base_width: int,
) -> tuple[int, int]:
    """torchvision's ``BasicBlock`` or ``Bottleneck``: its modules, the residual sum, the final ReLU."""
    expansion = 4 if kind == "bottleneck" else 1
    out = planes * expansion
    source = x
    if kind == "basic":
        x = g.add(f"{prefix}.conv1", Conv2d(planes, 3, stride=stride, padding=1, bias=False), x)
        x = g.add(f"{prefix}.bn1", BatchNorm2d())
        x = g.add(f"{prefix}.relu", ReLU())
        x = g.add(f"{prefix}.conv2", Conv2d(planes, 3, padding=1, bias=False))
        x = g.add(f"{prefix}.bn2", BatchNorm2d())
    else:
        width = planes * base_width // 64 * groups
        first, second = (stride, 1) if stride_on_first else (1, stride)
        x = g.add(f"{prefix}.conv1", Conv2d(width, 1, stride=first, bias=False), x)
        x = g.add(f"{prefix}.bn1", BatchNorm2d())
        x = g.add(f"{prefix}.relu", ReLU())
        x = g.add(f"{prefix}.conv2", Conv2d(width, 3, stride=second, padding=1, groups=groups, bias=False))
        x = g.add(f"{prefix}.bn2", BatchNorm2d())
        x = g.add(f"{prefix}.relu", ReLU())
        x = g.add(f"{prefix}.conv3", Conv2d(out, 1, bias=False))
        x = g.add(f"{prefix}.bn3", BatchNorm2d())
    identity = source
    if stride != 1 or in_channels != out:
        identity = g.add(f"{prefix}.downsample.0", Conv2d(out, 1, stride=stride, bias=False), source)
        identity = g.add(f"{prefix}.downsample.1", BatchNorm2d())
    x = g.add(f"{prefix}.add", Add(), x, identity)
    return g.add(f"{prefix}.relu", ReLU()), out


def resnet(
    name: str,
    num_classes: int = 1000,
    stride_on_first: bool = False,
    groups: int = 1,
    width_per_group: int = 64,
    label: str | None = None,
) -> Network:
    """A ResNet of the given depth; ``stride_on_first`` puts a bottleneck's stride on its first 1x1 (the paper);
    ``groups`` and ``width_per_group`` make it a ResNeXt or a wide ResNet (Xie et al. 2017; Zagoruyko &
    Komodakis 2016), as torchvision's ``Bottleneck`` does."""
    kind, counts = DEPTHS[name]
    H, W = image_sizes()
    g = Graph()
    g.add("conv1", Conv2d(64, 7, stride=2, padding=3, bias=False), INPUT)
    g.add("bn1", BatchNorm2d())
    g.add("relu", ReLU())
    x = g.add("maxpool", MaxPool2d(3, stride=2, padding=1))
    channels = 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True), start=1):
        for index in range(count):
            stride = 2 if stage > 1 and index == 0 else 1
            x, channels = _block(
                g,
                x,
                f"layer{stage}.{index}",
                kind,
                channels,
                planes,
                stride,
                stride_on_first,
                groups,
                width_per_group,
            )
    g.add("avgpool", AdaptiveAvgPool2d(1))
    g.add("flatten", Flatten())
    g.add("fc", Linear(num_classes))
    return g.network((3, H, W), label or name + ("_paper" if stride_on_first else ""))


def wide(name: str, num_classes: int = 1000) -> Network:
    """ResNeXt and wide ResNet, as torchvision builds them."""
    depth, groups, width = WIDE[name]
    return resnet(depth, num_classes, groups=groups, width_per_group=width, label=name)
