"""The zoo against published numbers.

torchvision's numbers: the ``num_params`` and ``GFLOPS`` entries of each
model's documentation page (pytorch.org/vision/stable/models), where GFLOPS
counts multiply-accumulates of convolutions and linear layers at 224x224.
MobileNet v1: Howard et al. 2017, Tables 6 and 7 (millions, rounded).
"""

from __future__ import annotations

import pytest

from symconv import SpecError, zoo
from symconv.cli import main

TORCHVISION = {  # name: (num_params, GFLOPS)
    "alexnet": (61_100_840, 0.71),
    "vgg11": (132_863_336, 7.61),
    "vgg11_bn": (132_868_840, 7.61),
    "vgg13": (133_047_848, 11.31),
    "vgg13_bn": (133_053_736, 11.31),
    "vgg16": (138_357_544, 15.47),
    "vgg16_bn": (138_365_992, 15.47),
    "vgg19": (143_667_240, 19.63),
    "vgg19_bn": (143_678_248, 19.63),
    "googlenet": (6_624_904, 1.50),
    "resnet18": (11_689_512, 1.81),
    "resnet34": (21_797_672, 3.66),
    "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80),
    "resnet152": (60_192_808, 11.51),
    "mobilenet_v2": (3_504_872, 0.30),
    "squeezenet1_0": (1_248_424, 0.82),
    "squeezenet1_1": (1_235_496, 0.35),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_published_numbers(name):
    params, gflops = TORCHVISION[name]
    report = zoo.build(name).at(H=224, W=224)
    assert report.params == params
    assert round(int(report.macs) / 1e9, 2) == gflops


@pytest.mark.parametrize(
    ("alpha", "macs_millions", "params_millions"),
    [("1", 569, 4.2), ("0.75", 325, 2.6), ("0.5", 149, 1.3), ("0.25", 41, 0.5)],
)
def test_mobilenet_v1_width_table(alpha, macs_millions, params_millions):
    report = zoo.build("mobilenet_v1").at(alpha=alpha, H=224, W=224)
    assert round(int(report.macs) / 1e6) == macs_millions
    assert round(int(report.params) / 1e6, 1) == params_millions


@pytest.mark.parametrize(("size", "macs_millions"), [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_v1_resolution_table(size, macs_millions):
    report = zoo.build("mobilenet_v1").at(alpha=1, H=size, W=size)
    assert abs(int(report.macs) / 1e6 - macs_millions) < 1  # the paper rounds; 160 gives 290.7


def test_resnet50_paper_moves_the_stride():
    # He et al. 2015, Table 1: 3.8 x 10^9 multiply-adds; same parameters as torchvision's v1.5
    paper = zoo.build("resnet50_paper").at(H=224, W=224)
    assert paper.params == 25_557_032 and 3.8e9 <= int(paper.macs) < 3.9e9
    assert int(paper.macs) < int(zoo.build("resnet50").at(H=224, W=224).macs)


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "squeezenet1_1", "mobilenet_v2"])
def test_zoo_networks_check_against_the_backend(name):
    net = zoo.build(name)
    assert net.check(samples=1, H=32, W=40).ok


def test_spatial_sizes_have_single_floors():
    net = zoo.build("resnet152")
    assert all(d.count(__import__("sympy").floor) <= 1 for d in net.layers[-4].output_shape)


def test_cli_zoo(capsys):
    assert main(["zoo"]) == 0
    assert "resnet50" in capsys.readouterr().out
    assert main(["derive", "zoo:alexnet", "--at", "H=224,W=224", "--format", "json"]) == 0
    assert '"params": 61100840' in capsys.readouterr().out
    assert main(["derive", "zoo:nonexistent"]) == 2


def test_unknown_zoo_network():
    with pytest.raises(SpecError):
        zoo.build("lenet")


def test_symbolic_width_network_round_trips_through_a_spec_file():
    import sympy as sp

    from symconv.spec import dumps, loads

    net = zoo.build("mobilenet_v2_alpha")
    again = loads(dumps(net))  # make_divisible(...) and max(...) are written as the parser reads them
    assert sp.expand(again.macs - net.macs) == 0 and sp.expand(again.params - net.params) == 0
    # torchvision's mobilenet_v2 at width 1.0: 3,504,872 parameters, 0.30 GFLOPS (its documentation)
    report = again.at(alpha="1.0", H=224, W=224)
    assert report.params == 3_504_872 and round(int(report.macs) / 1e9, 2) == 0.30
