"""Classic networks in closed form, with symbolic input height ``H`` and width ``W``.

``build(name)`` returns a :class:`~symconv.network.Network`; ``zoo:NAME`` works
wherever a spec path does. torchvision's definitions are reproduced layer for
layer; the papers' definitions are there where they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from symconv.errors import SpecError
from symconv.network import Network
from symconv.zoo.classic import alexnet, squeezenet, vgg
from symconv.zoo.convnext import CONVNEXTS, convnext
from symconv.zoo.dense import DENSENETS, SHUFFLENETS, densenet, shufflenet_v2
from symconv.zoo.efficient import SCALING, V3, efficientnet, mobilenet_v3
from symconv.zoo.inception import googlenet, inception_v3
from symconv.zoo.mobilenet import mobilenet_v1, mobilenet_v2
from symconv.zoo.regnet import REGNETS, regnet
from symconv.zoo.resnet import WIDE, resnet, wide
from symconv.zoo.transformer import SWINS, VITS, swin, vit


@dataclass(frozen=True)
class Entry:
    """A zoo network: its builder and where its definition comes from."""

    builder: Callable[..., Network]
    source: str


TORCHVISION = "torchvision.models"
ENTRIES: dict[str, Entry] = {
    "alexnet": Entry(alexnet, f"{TORCHVISION}.alexnet (Krizhevsky et al. 2012, one-GPU variant)"),
    **{
        f"{depth}{suffix}": Entry(
            partial(vgg, depth, suffix == "_bn"),
            f"{TORCHVISION}.{depth}{suffix} (Simonyan & Zisserman 2014)"
            + ("; BatchNorm after each convolution" if suffix else ""),
        )
        for depth in ("vgg11", "vgg13", "vgg16", "vgg19")
        for suffix in ("", "_bn")
    },
    "googlenet": Entry(
        googlenet, f"{TORCHVISION}.googlenet without auxiliary heads: BatchNorm, 3x3 '5x5' branches"
    ),
    "googlenet_paper": Entry(
        partial(googlenet, paper=True),
        "Szegedy et al. 2014, Table 1: biases instead of BatchNorm, true 5x5 branches",
    ),
    "inception_v3": Entry(
        inception_v3,
        f"{TORCHVISION}.inception_v3 (Szegedy et al. 2016, Table 1); its auxiliary head held, unused in eval mode",
    ),
    **{
        name: Entry(partial(resnet, name), f"{TORCHVISION}.{name} (He et al. 2015; v1.5: stride on the 3x3)")
        for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
    },
    "resnet50_paper": Entry(
        partial(resnet, "resnet50", stride_on_first=True),
        "He et al. 2015, Table 1: stride on the first 1x1 of a downsampling bottleneck",
    ),
    **{
        name: Entry(
            partial(wide, name),
            f"{TORCHVISION}.{name} ("
            + ("Xie et al. 2017, Table 1" if name.startswith("resnext") else "Zagoruyko & Komodakis 2016")
            + ")",
        )
        for name in WIDE
    },
    "mobilenet_v1": Entry(mobilenet_v1, "Howard et al. 2017, Table 1, with width multiplier alpha"),
    "mobilenet_v2": Entry(mobilenet_v2, f"{TORCHVISION}.mobilenet_v2 (Sandler et al. 2018, Table 2)"),
    "mobilenet_v2_alpha": Entry(
        partial(mobilenet_v2, "alpha"),
        f"{TORCHVISION}.mobilenet_v2(width_mult=alpha): every width c alpha rounded by make_divisible, a floor of alpha",
    ),
    **{
        name: Entry(
            partial(mobilenet_v3, name),
            f"{TORCHVISION}.{name} (Howard et al. 2019, Table {1 if 'large' in name else 2})",
        )
        for name in V3
    },
    **{
        name: Entry(
            partial(efficientnet, name),
            f"{TORCHVISION}.{name} (Tan & Le 2019, Table 1 scaled by width {SCALING[name][0]}, depth {SCALING[name][1]})",
        )
        for name in SCALING
    },
    **{
        name: Entry(partial(densenet, name), f"{TORCHVISION}.{name} (Huang et al. 2017, Table 1)")
        for name in DENSENETS
    },
    **{
        name: Entry(partial(shufflenet_v2, name), f"{TORCHVISION}.{name} (Ma et al. 2018, Table 5)")
        for name in SHUFFLENETS
    },
    **{
        name: Entry(
            partial(regnet, name),
            f"{TORCHVISION}.{name} (Radosavovic et al. 2020, eq. (2)-(4): quantised linear widths)",
        )
        for name in REGNETS
    },
    **{
        name: Entry(partial(convnext, name), f"{TORCHVISION}.{name} (Liu et al. 2022, Table 9)")
        for name in CONVNEXTS
    },
    **{
        name: Entry(
            partial(vit, name),
            f"{TORCHVISION}.{name} (Dosovitskiy et al. 2021, Table 1); position embedding sized for the input",
        )
        for name in VITS
    },
    **{
        name: Entry(
            partial(swin, name),
            f"{TORCHVISION}.{name} (Liu et al. 2021, section 3.3): shifted windows of 7 x 7",
        )
        for name in SWINS
    },
    "efficientnet_width": Entry(
        partial(efficientnet, "efficientnet_b0", width="w"),
        f"{TORCHVISION}.efficientnet_b0 with the width multiplier w a symbol (Tan & Le 2019, eq. (3)): "
        "every width c w rounded by make_divisible",
    ),
    "squeezenet1_0": Entry(partial(squeezenet, "1_0"), f"{TORCHVISION}.squeezenet1_0 (Iandola et al. 2016)"),
    "squeezenet1_1": Entry(partial(squeezenet, "1_1"), f"{TORCHVISION}.squeezenet1_1 (SqueezeNet v1.1)"),
}


def names() -> list[str]:
    """The zoo's networks, in a stable order."""
    return list(ENTRIES)


def build(name: str, **options: object) -> Network:
    """The zoo network ``name`` (options such as ``num_classes=10`` or ``alpha=0.5`` where defined)."""
    if name not in ENTRIES:
        raise SpecError(f"no zoo network named {name!r}; `symconv zoo` lists them")
    try:
        return ENTRIES[name].builder(**options)
    except TypeError as error:
        raise SpecError(f"zoo:{name}: {error}") from None
