"""AlexNet, VGG and SqueezeNet as torchvision defines them (torchvision/models/*.py)."""

from __future__ import annotations

from symconv.layers import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)
from symconv.network import Concat, Network, Sequential
from symconv.zoo.common import image_sizes

VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}


def alexnet(num_classes: int = 1000) -> Network:
    """torchvision's AlexNet (the one-GPU variant of Krizhevsky et al. 2012, with 64/192 first filters)."""
    H, W = image_sizes()
    features = (
        Conv2d(64, 11, stride=4, padding=2, name="0"),
        ReLU(name="1"),
        MaxPool2d(3, stride=2, name="2"),
        Conv2d(192, 5, padding=2, name="3"),
        ReLU(name="4"),
        MaxPool2d(3, stride=2, name="5"),
        Conv2d(384, 3, padding=1, name="6"),
        ReLU(name="7"),
        Conv2d(256, 3, padding=1, name="8"),
        ReLU(name="9"),
        Conv2d(256, 3, padding=1, name="10"),
        ReLU(name="11"),
        MaxPool2d(3, stride=2, name="12"),
    )
    classifier = (
        Dropout(name="0"),
        Linear(4096, name="1"),
        ReLU(name="2"),
        Dropout(name="3"),
        Linear(4096, name="4"),
        ReLU(name="5"),
        Linear(num_classes, name="6"),
    )
    return Network(
        (3, H, W),
        [
            Sequential(features, "features"),
            AdaptiveAvgPool2d((6, 6), name="avgpool"),
            Flatten(),
            Sequential(classifier, "classifier"),
        ],
        name="alexnet",
    )


def vgg(depth_name: str, batch_norm: bool = False, num_classes: int = 1000) -> Network:
    """torchvision's VGG (Simonyan & Zisserman 2014, configurations A, B, D, E), optionally with BatchNorm."""
    H, W = image_sizes()
    features, index = [], 0
    for item in VGG_CONFIGS[depth_name]:
        if item == "M":
            features.append(MaxPool2d(2, stride=2, name=str(index)))
            index += 1
            continue
        features.append(Conv2d(item, 3, padding=1, name=str(index)))
        index += 1
        if batch_norm:
            features.append(BatchNorm2d(name=str(index)))
            index += 1
        features.append(ReLU(name=str(index)))
        index += 1
    classifier = (
        Linear(4096, name="0"),
        ReLU(name="1"),
        Dropout(name="2"),
        Linear(4096, name="3"),
        ReLU(name="4"),
        Dropout(name="5"),
        Linear(num_classes, name="6"),
    )
    name = depth_name + ("_bn" if batch_norm else "")
    return Network(
        (3, H, W),
        [
            Sequential(tuple(features), "features"),
            AdaptiveAvgPool2d((7, 7), name="avgpool"),
            Flatten(),
            Sequential(classifier, "classifier"),
        ],
        name=name,
    )


def fire(squeeze: int, expand1x1: int, expand3x3: int, name: str) -> Sequential:
    """SqueezeNet's Fire module: a 1x1 squeeze, then 1x1 and 3x3 expands concatenated."""
    return Sequential(
        (
            Conv2d(squeeze, 1, name="squeeze"),
            ReLU(name="squeeze_activation"),
            Concat(
                (
                    (Conv2d(expand1x1, 1, name="expand1x1"), ReLU(name="expand1x1_activation")),
                    (Conv2d(expand3x3, 3, padding=1, name="expand3x3"), ReLU(name="expand3x3_activation")),
                ),
                "expand",
            ),
        ),
        name,
    )


def squeezenet(version: str, num_classes: int = 1000) -> Network:
    """torchvision's SqueezeNet 1.0 (Iandola et al. 2016) and 1.1 (the SqueezeNet repository's v1.1)."""
    H, W = image_sizes()

    def pool(i: int) -> MaxPool2d:
        return MaxPool2d(3, stride=2, ceil_mode=True, name=str(i))

    if version == "1_0":
        features = (
            Conv2d(96, 7, stride=2, name="0"),
            ReLU(name="1"),
            pool(2),
            fire(16, 64, 64, "3"),
            fire(16, 64, 64, "4"),
            fire(32, 128, 128, "5"),
            pool(6),
            fire(32, 128, 128, "7"),
            fire(48, 192, 192, "8"),
            fire(48, 192, 192, "9"),
            fire(64, 256, 256, "10"),
            pool(11),
            fire(64, 256, 256, "12"),
        )
    else:
        features = (
            Conv2d(64, 3, stride=2, name="0"),
            ReLU(name="1"),
            pool(2),
            fire(16, 64, 64, "3"),
            fire(16, 64, 64, "4"),
            pool(5),
            fire(32, 128, 128, "6"),
            fire(32, 128, 128, "7"),
            pool(8),
            fire(48, 192, 192, "9"),
            fire(48, 192, 192, "10"),
            fire(64, 256, 256, "11"),
            fire(64, 256, 256, "12"),
        )
    classifier = (
        Dropout(name="0"),
        Conv2d(num_classes, 1, name="1"),
        ReLU(name="2"),
        AdaptiveAvgPool2d(1, name="3"),
    )
    return Network(
        (3, H, W),
        [Sequential(features, "features"), Sequential(classifier, "classifier"), Flatten()],
        name=f"squeezenet{version}",
    )
