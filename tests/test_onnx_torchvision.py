"""torchvision models exported to ONNX by PyTorch's own exporters, imported, against PyTorch.

Each model is exported by the TorchScript exporter with dynamic H and W (with
BatchNorm kept, and folded into the convolutions in eval-mode export) and by
the dynamo exporter with dynamic H and W. Expected values: the output shape
and MACs (``FlopCounterMode`` / 2) of the PyTorch model at 224 x 224, and
parameters from PyTorch's ``sum(p.numel())`` where the file keeps every
parameter; where the exporter folded BatchNorm or merged equal initializers,
the parameters are read off the file itself: the initializers each weighted
operator uses, counted at every use.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from torchvision_loader import load_torchvision

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
torchvision = load_torchvision()
if torchvision is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv.importers.onnx import import_onnx  # noqa: E402

MODELS = [
    "alexnet",
    "vgg11",
    "squeezenet1_1",
    "resnet18",
    "mobilenet_v2",
    "googlenet",
    "densenet121",
    "regnet_x_400mf",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
]
# alexnet and vgg11 pool adaptively to 7 x 7, which the TorchScript exporter writes only for a fixed size
FIXED_SIZE = {"alexnet", "vgg11"}
DEFAULT = {"resnet18", "mobilenet_v2", "shufflenet_v2_x1_0"}  # the rest run with -m torchvision_all
NOT_YET: dict[tuple[str, str], str] = {}
"""(exporter, model) pairs symconv does not import yet, with the reason (a strict xfail each)."""


def cases(kind):
    return [
        pytest.param(
            name,
            marks=[
                m
                for m in (
                    None if name in DEFAULT else pytest.mark.torchvision_all,
                    pytest.mark.xfail(strict=True, reason=NOT_YET[(kind, name)])
                    if (kind, name) in NOT_YET
                    else None,
                )
                if m is not None
            ],
        )
        for name in MODELS
    ]


WEIGHTED = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "BatchNormalization": (1, 2),
}


def per_use_parameters(path) -> int:
    model = onnx.load(str(path))
    sizes = {init.name: int(np.prod(init.dims)) for init in model.graph.initializer}
    for node in model.graph.node:  # the TorchScript exporter copies initializers through Identity nodes
        if node.op_type == "Identity" and node.input[0] in sizes:
            sizes[node.output[0]] = sizes[node.input[0]]
    return sum(
        sizes.get(node.input[i], 0)
        for node in model.graph.node
        for i in WEIGHTED.get(node.op_type, ())
        if i < len(node.input)
    )


def pytorch(name):
    model = torchvision.models.get_model(name, weights=None).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(torch.zeros(1, 3, 224, 224))
    return model, tuple(out.shape[1:]), counter.get_total_flops() // 2


def check(path, shape, macs, params, dynamic=True):
    net = import_onnx(path)
    report = net.at(H=224, W=224) if dynamic else net.report
    assert tuple(int(d) for d in report.output_shape) == shape
    assert int(report.macs) == macs
    assert int(report.params) == params


@pytest.mark.parametrize("fold", [False, True], ids=["batchnorm", "folded"])
@pytest.mark.parametrize("name", cases("torchscript"))
def test_torchscript_export(tmp_path, name, fold):
    model, shape, macs = pytorch(name)
    path = tmp_path / f"{name}.onnx"
    dynamic = name not in FIXED_SIZE
    mode = torch.onnx.TrainingMode.EVAL if fold else torch.onnx.TrainingMode.PRESERVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            torch.zeros(1, 3, 224, 224),
            str(path),
            dynamo=False,
            input_names=["x"],
            training=mode,
            dynamic_axes={"x": {2: "H", 3: "W"}} if dynamic else None,
        )
    # eval mode keeps only what the forward pass reads: GoogLeNet's auxiliary heads are not in the file
    used = 6_624_904 if name == "googlenet" else sum(p.numel() for p in model.parameters())
    check(path, shape, macs, per_use_parameters(path) if fold else used, dynamic)


@pytest.mark.parametrize("name", cases("dynamo"))
def test_dynamo_export(tmp_path, name):
    pytest.importorskip("onnxscript")
    model, shape, macs = pytorch(name)
    path = tmp_path / f"{name}.onnx"
    H, W = torch.export.Dim("H", min=64, max=1024), torch.export.Dim("W", min=64, max=1024)
    logging.disable(logging.WARNING)
    try:
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, 224, 224),),
            str(path),
            dynamo=True,
            input_names=["x"],
            dynamic_shapes={"x": {2: H, 3: W}},
            verbose=False,
        )
    except Exception as error:  # torch.export itself refuses some models (GoogLeNet's eval-mode outputs)
        pytest.skip(f"PyTorch's dynamo exporter cannot export {name}: {str(error).splitlines()[0][:80]}")
    finally:
        logging.disable(logging.NOTSET)
    check(path, shape, macs, per_use_parameters(path))
