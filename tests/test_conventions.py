"""Each tool's number, derived: compared with the tools themselves on the same PyTorch modules."""

from __future__ import annotations

import logging
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import Network, zoo
from symconv.cli import main
from symconv.conventions import report_for_convention
from symconv.importers.torch import to_torch
from symconv.layers import KINDS
from torch_reference import layer_stacks

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
fvcore_nn = pytest.importorskip("fvcore.nn")
ptflops = pytest.importorskip("ptflops")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def tool_counts(module, shape):
    module.eval()
    x = torch.zeros(1, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            analysis = fvcore_nn.FlopCountAnalysis(module, x)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            fvcore = analysis.total()
            info = torchinfo.summary(module, input_size=(1, *shape), verbose=0).total_mult_adds
            pt, _ = ptflops.get_model_complexity_info(
                module, tuple(shape), as_strings=False, print_per_layer_stat=False
            )
        finally:
            logging.disable(logging.NOTSET)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return {"fvcore": fvcore, "torchinfo": info, "ptflops": pt, "flopcounter": counter.get_total_flops()}


def test_resnet50_under_every_convention():
    net = zoo.build("resnet50")
    counted = tool_counts(to_torch(net, H=224, W=224), (3, 224, 224))
    for name, number in counted.items():
        assert report_for_convention(net, name).at({"H": 224, "W": 224}).macs == number, name
    assert report_for_convention(net, "torchvision").at({"H": 224, "W": 224}).macs == 4_089_184_256


@settings(max_examples=100)
@given(data=st.data())
def test_random_networks_under_every_convention(data):
    dims = data.draw(st.sampled_from([1, 2]))
    (channels, spatial), layers = data.draw(layer_stacks(dims, max_layers=4))
    net = Network((channels, *spatial), [KINDS[kind](**args) for kind, args in layers])
    counted = tool_counts(to_torch(net), (channels, *spatial))
    for name, number in counted.items():
        assert report_for_convention(net, name).macs == number, name


def test_cli_compare_conventions(capsys):
    assert main(["compare-conventions", "examples/keras_mnist.yaml", "--format", "json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    # by hand: bias additions 40*26*26 + 8*24*24 + 10 = 31,658 on top of 1,948,320 MACs
    assert data["totals"]["torchinfo"] == 1_948_320 + 31_658
    assert data["totals"]["flopcounter"] == 2 * 1_948_320
