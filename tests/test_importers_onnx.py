"""ONNX out and back in: the counts survive; what is not supported is named."""

from __future__ import annotations

import sys

import pytest
import sympy as sp

from symconv import SpecError, zoo
from symconv.cli import main
from symconv.spec import dumps, loads

onnx = pytest.importorskip("onnx")
from symconv.importers.onnx import export_onnx, import_onnx  # noqa: E402


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "mobilenet_v2", "squeezenet1_0"])
def test_round_trip_keeps_every_count(tmp_path, name):
    net = zoo.build(name)
    path = tmp_path / f"{name}.onnx"
    export_onnx(net, path)
    onnx.checker.check_model(onnx.load(str(path)))
    again = import_onnx(path)
    # the symbolic input survives as dim_params H and W
    assert {s.name for s in again.report.free_symbols()} == {"H", "W"}
    assert sp.expand(again.params - net.params) == 0
    assert sp.expand(again.macs - net.macs) == 0
    written = loads(dumps(again))
    assert sp.expand(written.macs - net.macs) == 0


def test_imported_counts_match_the_published_numbers(tmp_path):
    path = tmp_path / "resnet18.onnx"
    export_onnx(zoo.build("resnet18"), path)
    report = import_onnx(path).at(H=224, W=224)
    assert report.params == 11_689_512  # torchvision's documentation
    assert round(int(report.macs) / 1e9, 2) == 1.81


def test_unsupported_operator_is_named(tmp_path):
    helper = onnx.helper
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["input"], ["a"], name="first"),
            helper.make_node("Einsum", ["a", "a"], ["b"], name="square", equation="nchw,nchw->nchw"),
        ],
        "g",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, ["N", 3, "H", "W"])],
    )
    path = tmp_path / "mul.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(
        SpecError, match=r"node 'square' \(Einsum\): symconv has no rule for the ONNX operator Einsum"
    ):
        import_onnx(path)


def test_cli_import_and_export(tmp_path, capsys):
    model, spec = tmp_path / "m.onnx", tmp_path / "m.yaml"
    assert main(["export", "zoo:mobilenet_v1", "-o", str(model), "--at", "alpha=0.25"]) == 0
    assert main(["import", str(model), "-o", str(spec)]) == 0
    assert main(["derive", str(spec), "--at", "H=224,W=224", "--format", "json"]) == 0
    out = capsys.readouterr().out
    # Howard et al. 2017, Table 6: 0.25 MobileNet-224 has 41 million mult-adds
    assert '"macs": 41' in out
    assert main(["export", "zoo:mobilenet_v1", "-o", str(model)]) == 2  # alpha must be a number
    assert main(["import", str(tmp_path / "missing.onnx")]) == 2
    (tmp_path / "junk.onnx").write_text("not a model")
    assert main(["import", str(tmp_path / "junk.onnx")]) == 2


def test_missing_onnx_names_the_extra_to_install_from_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(SpecError, match=r"from the symconv checkout, pip install -e '\.\[onnx\]'"):
        import_onnx(tmp_path / "model.onnx")


def export(module, path, exporter, x):
    """``module`` written to ``path`` by one of PyTorch's ONNX exporters, H and W dynamic."""
    import contextlib
    import io
    import warnings

    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            H, W = (torch.export.Dim(n, min=3, max=2048) for n in "HW")  # noqa: N806
            torch.onnx.export(module, (x,), str(path), dynamo=True, dynamic_shapes=({2: H, 3: W},))
        else:
            torch.onnx.export(
                module, (x,), str(path), dynamo=False, input_names=["x"], dynamic_axes={"x": {2: "H", 3: "W"}}
            )


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize(
    "upsample",
    [
        {"scale_factor": 2},
        {"scale_factor": 2, "mode": "bilinear"},
        {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
        {"size": (20, 30)},
    ],
)
def test_resize_from_both_exporters_gives_pytorch_shapes(tmp_path, exporter, upsample):
    """``Resize`` (as ``nn.Upsample`` exports) imports with symbolic H and W; shapes are PyTorch's at three sizes."""
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Upsample(**upsample)).eval()
    path = tmp_path / "resize.onnx"
    export(module, path, exporter, torch.randn(1, 3, 17, 23))
    net = import_onnx(str(path))
    assert net.macs != 0 and net.params == 4 * 3 * 9 + 4
    for h, w in ((17, 23), (8, 9), (101, 64)):
        expected = tuple(module(torch.randn(1, 3, h, w)).shape[1:])
        assert net.at(H=h, W=w).output_shape == expected


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_padding_of_every_mode_from_both_exporters_agrees_with_pytorch(tmp_path, exporter):
    """``Pad`` (its pads an input the TorchScript exporter computes from constants, as a subgraph):
    shapes, parameters and MACs are PyTorch's at three sizes."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    nn = torch.nn
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.ZeroPad2d((1, 2, 0, 3)),
        nn.ReflectionPad2d(1),
        nn.ReplicationPad2d((0, 1, 1, 0)),
        nn.ConstantPad2d(2, 0.5),
        nn.CircularPad2d(1),
        nn.Conv2d(4, 2, 3),
    ).eval()
    path = tmp_path / "pad.onnx"
    export(module, path, exporter, torch.randn(1, 3, 17, 23))
    net = import_onnx(str(path))
    # the TorchScript exporter writes circular padding as slices and a concatenation, the dynamo one as Pad
    assert [row.kind for row in net.layers].count("pad") == (5 if exporter == "dynamo" else 4)
    for h, w in ((17, 23), (5, 9), (64, 31)):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = module(torch.randn(1, 3, h, w))
        at = net.at(H=h, W=w)
        expected = (
            tuple(out.shape[1:]),
            sum(p.numel() for p in module.parameters()),
            counter.get_total_flops() // 2,
        )
        assert (at.output_shape, int(at.params), int(at.macs)) == expected


def test_pads_that_crop_and_constants_too_large_to_evaluate_are_refused(tmp_path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)

    def model(nodes, name):
        path = tmp_path / f"{name}.onnx"
        onnx.save(helper.make_model(helper.make_graph(nodes, name, [x], [y])), str(path))
        return path

    def constant(name, values):
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values)
        )

    crop = model(
        [constant("p", [0, 0, 1, 0, 0, 0, -1, 0]), helper.make_node("Pad", ["x", "p"], ["y"])], "crop"
    )
    with pytest.raises(SpecError, match=r"negative pads \[0, 0, 1, 0, 0, 0, -1, 0\]"):
        import_onnx(crop)
    huge = model(
        [
            constant("s", [1 << 20, 1 << 20]),
            helper.make_node("ConstantOfShape", ["s"], ["p"]),
            helper.make_node("Pad", ["x", "p"], ["y"]),
        ],
        "huge",
    )
    with pytest.raises(SpecError, match="too large to evaluate"):
        import_onnx(huge)
    clash = model(
        [
            constant("a", [1, 2, 3]),
            constant("b", [1, 2]),
            helper.make_node("Add", ["a", "b"], ["p"], name="clash"),
            helper.make_node("Pad", ["x", "p"], ["y"]),
        ],
        "clash",
    )
    with pytest.raises(SpecError, match=r"node 'clash' \(Add\): its constant inputs cannot be evaluated"):
        import_onnx(clash)


def test_shape_with_start_and_end_reads_those_axes(tmp_path):
    """Opset 15's ``Shape(start, end)``: a reshape whose target is built from H alone (by hand: H - 2 rows)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Shape", ["c"], ["hw"], start=2, end=4, name="hw"),
        helper.make_node(
            "Constant", [], ["head"], value=helper.make_tensor("h", TensorProto.INT64, [2], [1, 4])
        ),
        helper.make_node("Concat", ["head", "hw"], ["target"], axis=0, name="target"),
        helper.make_node("Reshape", ["c", "target"], ["y"], name="same"),
    ]
    graph = helper.make_graph(nodes, "shape_slice", [x], [y], [weight])
    path = tmp_path / "shape.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    net = import_onnx(str(path))
    H, W = sorted(net.report.free_symbols(), key=str)  # noqa: N806
    assert net.output_shape == (4, H - 2, W - 2)
