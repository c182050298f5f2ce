"""The command line: outputs, exit statuses, and no tracebacks on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symconv.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_cli(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_derive_json_for_the_symbolic_example(capsys):
    status, out, _ = run_cli(capsys, "derive", str(EXAMPLES / "two_convolutions.yaml"), "--format", "json")
    assert status == 0
    data = json.loads(out)
    n, m, k1, k2 = sp.symbols("n m k1 k2")
    assert data["output_shape"] == ["k2", "n", "m"]
    assert data["input"] == [1, "n", "m"]
    assert sp.expand(sp.sympify(data["params"]) - (10 * k1 + 25 * k1 * k2 + k2)) == 0
    assert sp.expand(sp.sympify(data["macs"]) - (9 * k1 * n * m + 25 * k1 * k2 * n * m)) == 0
    assert sp.expand(sp.sympify(data["flops"]) - 2 * sp.sympify(data["macs"])) == 0
    first = data["layers"][0]
    assert set(first) >= {
        "name",
        "type",
        "output_shape",
        "params",
        "macs",
        "activations",
        "receptive_field",
        "jump",
    }
    assert first["name"] == "conv2d_1" and first["type"] == "conv2d"
    assert data["assumptions"] == []


def test_derive_json_at_values_gives_integers(capsys):
    status, out, _ = run_cli(
        capsys,
        "derive",
        str(EXAMPLES / "two_convolutions.yaml"),
        "--at",
        "k1=40,k2=8,n=28,m=28",
        "--format",
        "json",
    )
    data = json.loads(out)
    # hand: 400 + 25*40*8 + 8 = 8408; MACs 9*40*784 + 25*40*8*784
    assert data["params"] == 8408
    assert data["macs"] == 9 * 40 * 784 + 25 * 40 * 8 * 784
    assert data["output_shape"] == [8, 28, 28]


def test_derive_five_strided_prints_one_floor(capsys):
    status, out, _ = run_cli(capsys, "derive", str(EXAMPLES / "five_strided.yaml"), "--format", "json")
    assert json.loads(out)["output_shape"][1] == "floor((n - 1)/32) + 1"


def test_derive_text_and_markdown(capsys):
    status, out, _ = run_cli(capsys, "derive", str(EXAMPLES / "keras_mnist.yaml"))
    assert status == 0 and "49,378" in out and "1,948,320" in out
    status, out, _ = run_cli(
        capsys, "derive", str(EXAMPLES / "two_convolutions.yaml"), "--format", "markdown"
    )
    assert status == 0 and "| `conv2d_1` |" in out and "$k_{1}" in out


def test_check_keras_example(capsys):
    status, out, _ = run_cli(capsys, "check", str(EXAMPLES / "keras_mnist.yaml"), "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["ok"]
    measured = sum(c["measured"] for c in data["checks"] if c["quantity"] == "macs")
    assert measured == 1_948_320  # 243,360 + 1,658,880 + 46,080 by hand


def test_check_symbolic_example_with_samples(capsys):
    status, out, _ = run_cli(capsys, "check", str(EXAMPLES / "two_convolutions.yaml"), "--samples", "5")
    assert status == 0 and "all 30 checks ok" in out


@pytest.mark.parametrize(
    "spec",
    [
        "input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: \"__import__('os').system('echo hi')\", kernel_size: 3}\n",
        'input: [1, n, n]\nlayers:\n  - conv2d: {out_channels: "().__class__", kernel_size: 3}\n',
        "input: [1, n\n",
        "input: [1, 4, 4]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 7}\n",
        "just text\n",
        "",
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, spec):
    path = tmp_path / "bad.yaml"
    path.write_text(spec)
    for command in (["derive", str(path)], ["check", str(path)]):
        done = subprocess.run([sys.executable, "-m", "symconv.cli", *command], capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.startswith("symconv: error: ")
        assert "bad.yaml" in done.stderr


def test_bad_values_exit_2(capsys):
    for at in ("n=2.5", "zz=3", "n=abc", "n=0"):
        status, _, err = run_cli(capsys, "derive", str(EXAMPLES / "two_convolutions.yaml"), "--at", at)
        assert status == 2 and err.startswith("symconv: error:")


def test_spec_from_standard_input():
    done = subprocess.run(
        [sys.executable, "-m", "symconv.cli", "derive", "-", "--format", "json"],
        input="input: [1, 28, 28]\nlayers:\n  - conv2d: {out_channels: 40, kernel_size: 3}\n",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["params"] == 400


def test_check_exits_1_and_shows_the_smallest_failure(capsys, monkeypatch):
    from symconv.layers.conv import ConvNd

    original = ConvNd.params
    monkeypatch.setattr(ConvNd, "params", lambda self, x: original(self, x) + 1)
    status, out, _ = run_cli(capsys, "check", str(EXAMPLES / "two_convolutions.yaml"), "--samples", "3")
    assert status == 1
    assert "FAIL" in out and "smallest failing assignment:" in out


@pytest.mark.parametrize("width", [80, 120])
def test_resnet50_fits_the_terminal(capsys, width):
    assert main(["derive", "zoo:resnet50", "--width", str(width)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= width
    assert any(line.startswith("  H_1 = floor((H - 1)/2) + 1") for line in lines)  # sizes named once
    assert "layer4.2.relu" in "".join(lines)  # every layer is there


def test_depth_sums_stages_as_torchvision_holds_them(capsys):
    torchvision = pytest.importorskip("torchvision_loader").load_torchvision()
    if torchvision is None:
        pytest.skip("torchvision is not installed")
    assert main(["derive", "zoo:resnet50", "--depth", "1", "--at", "H=224,W=224"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("layer")]
    stage_params = {
        r[0]: int(r[-3].replace(",", "")) for r in rows if r[0] in ("layer1", "layer2", "layer3", "layer4")
    }
    model = torchvision.models.resnet50(weights=None)
    held = {
        f"layer{i}": sum(p.numel() for p in getattr(model, f"layer{i}").parameters()) for i in range(1, 5)
    }
    assert stage_params == held
    assert "params: 25,557,032 (25.6 M)" in out  # torchvision's published num_params


def test_shapes_have_no_thousands_separators(capsys):
    assert main(["derive", "examples/conv3d_1337.yaml"]) == 0
    out = capsys.readouterr().out
    assert "(1, 1335, 39, 310)" in out and "1,335" not in out.split("params")[0]
