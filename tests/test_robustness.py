"""Bad input gets exit status 2, a located message and no traceback, within a time and memory bound.

Each case is one class of input that once crashed, hung or blew up; the
command runs as a subprocess under ``timeout`` and ``prlimit`` (2 GiB of
address space beyond the interpreter's needs), so a hang or a blowup fails
the test instead of the machine. Hypothesis then writes spec documents and
command lines of its own.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symconv.cli import main
from symconv.layers import KINDS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "two_convolutions.yaml")
MEMORY = 3 * 2**30  # address space: the interpreter with numpy and sympy maps about 1 GiB of it


def symconv(*args: str, stdin: bytes = b"", seconds: int = 30) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "symconv.cli", *args]
    if shutil.which("prlimit"):
        command = ["prlimit", f"--as={MEMORY}", *command]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=seconds, cwd=ROOT)


def refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert err.startswith("symconv: error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def spec(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


CONV = "input: [1, n, n]\nlayers:\n  - conv2d: {{{}}}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"input: [1, n, n]\nlayers:\n  - relu\x01\n", ("spec.yaml:3:", "not allowed")),
        (b"input: [1, n, n]\nlayers:\n  - relu # \xff\n", ("spec.yaml:3:", "not UTF-8")),
        (CONV.format("out_channels: 4, kernel_size: same"), ("spec.yaml:3:", "kernel_size", "padding mode")),
        (CONV.format("out_channels: null, kernel_size: 3"), ("spec.yaml:3:", "out_channels: required")),
        (
            CONV.format("out_channels: 4, kernel_size: 3, groups: 0"),
            ("spec.yaml:3:", "groups is 0"),
        ),
        (CONV.format("out_channels: -4, kernel_size: 3"), ("spec.yaml:3:", "out_channels")),
        ("input: [1, n, n]\nlayers:\n  - avgpool3d: {kernel_size: 2}\n", ("spec.yaml:3:", "rank 4")),
        ("input: [1, n, n]\nlayers: []\n", ("spec.yaml:2:", "at least one layer")),
        ("input: [1, '(a+b+c)**64', n]\nlayers:\n  - relu\n", ("spec.yaml:1:", "degree")),
        ("input: [1, '(a+b+c+d+e+f+g+h)**12', n]\nlayers:\n  - relu\n", ("spec.yaml:1:", "terms")),
        (f"input: [1, {'9' * 4301}, 5]\nlayers:\n  - relu\n", ("spec.yaml:1:", "too large")),
        (
            "input: [1, n, n]\nlayers:\n  - repeat: {times: 1000000000, layers: [relu]}\n",
            ("spec.yaml:3:", "repeat"),
        ),
        (
            "input: [1, 'max(" + ",".join(f"a{i}" for i in range(300)) + ")', n]\nlayers:\n  - relu\n",
            ("spec.yaml:1:", "more than 32 arguments"),
        ),
        (
            'input: [1, \'__import__("os").system("true")\', n]\nlayers:\n  - relu\n',
            ("spec.yaml:1:", "may be called"),
        ),
        (
            CONV.format("out_channels: 4, kernel_size: 9")
            + "  - conv2d: {out_channels: 4, kernel_size: 99}\n",
            None,
        ),
    ],
)
def test_bad_specs_are_refused_where_they_are_written(tmp_path, text, expected):
    path = spec(tmp_path, text)
    result = symconv("derive", path)
    if expected is None:  # a valid spec under conditions: derive states them and succeeds
        assert result.returncode == 0, result.stderr
        return
    refused(result, *expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("derive", EXAMPLE, "--at", "n=1/0"), ("--at", "division by zero")),
        (("derive", EXAMPLE, "--at", "n=-3"), ("--at", "positive")),
        (("check", EXAMPLE, "--seed", "-1"), ("--seed",)),
        (("check", EXAMPLE, "--samples", "10000"), ("--samples",)),
        (("check", EXAMPLE, "--memory-budget", "0"), ("--memory-budget",)),
        (("derive", EXAMPLE, "-o", ""), ("-o", "empty file name")),
        (("derive", EXAMPLE, "-o", "/tmp"), ("directory",)),
        (("derive", EXAMPLE, "-o", "/dev/null"), ("device",)),
        (("prove", "n >= 1", "--assume", "n >>= 2"), ("--assume",)),
        (("prove", "__import__('os') == 1"), ("not allowed",)),
        (("solve", EXAMPLE, "--maximize", "n", "--subject-to", "macs <= lots"), ("--subject-to",)),
        (("derive", "/dev/urandom"), ("/dev/urandom", "MiB")),
        (("derive", "/nonexistent/spec.yaml"), ("no such file",)),
        (("derive", "zoo:nothing"), ("zoo",)),
    ],
)
def test_bad_arguments_are_refused_by_name(args, expected):
    refused(symconv(*args), *expected)


def test_check_gives_up_on_sizes_beyond_the_budget_quickly(tmp_path):
    path = spec(tmp_path, "input: [1, '(a+b+c)**16', n]\nlayers:\n  - relu\n")
    refused(symconv("check", path, seconds=60), "valid assignments", "--at")


def test_undecodable_standard_input():
    refused(symconv("derive", "-", stdin=b"\xff\xfe\x00"), "<stdin>:1:", "not UTF-8")


def test_the_witness_keeps_to_its_memory_budget():
    result = symconv("check", EXAMPLE, "--at", "k1=3000,k2=3000,n=500,m=500", seconds=60)
    refused(result, "MiB", "conv2d_2", "--memory-budget")
    big = symconv("check", str(ROOT / "examples" / "conv3d_1337.yaml"), "--memory-budget", "64", seconds=60)
    refused(big, "conv3d_1", "64 MiB")


def test_output_never_replaces_a_link_or_a_fifo(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("kept\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    refused(symconv("derive", EXAMPLE, "-o", str(link)), "symbolic link")
    assert target.read_text() == "kept\n" and link.is_symlink()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(symconv("derive", EXAMPLE, "-o", str(fifo)), "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "kept.txt", "link.txt"]  # no temporary left


def test_output_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    assert symconv("derive", EXAMPLE, "-o", str(target)).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "conv2d_2" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_a_failed_export_leaves_no_file(tmp_path):
    target = tmp_path / "model.onnx"
    refused(symconv("export", "zoo:alexnet", "-o", str(target), "--at", "H=224,W=224"), "adaptive")
    assert list(tmp_path.iterdir()) == []


def test_a_closed_pipe_ends_quietly():
    command = f"{sys.executable} -m symconv.cli derive zoo:resnet50 | head -1"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr


# --- documents and command lines hypothesis writes ----------------------------------------------------------
VALUES = st.one_of(
    st.integers(-3, 40),
    st.sampled_from(
        [None, True, "n", "same", "valid", "1/0", "n**99", "floor(n/0)", "__class__", "", "x" * 3000]
    ),
    st.sampled_from([10**30, -(10**30), 2.5, float("nan")]),
    st.lists(st.integers(-1, 6), max_size=4),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)
FIELDS = [
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "out_features",
    "dim",
    "shape",
    "times",
    "layers",
    "size",
    "scale_factor",
    "num_heads",
    "embed_dim",
]


@st.composite
def documents(draw) -> str:
    rank = draw(st.integers(1, 4))
    shape = [draw(st.sampled_from([1, 3, 8, "n", "m", "2*n", 0, -1])) for _ in range(rank)]
    layers = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(sorted(KINDS) + ["repeat", "residual", "concat", "nonsense"]))
        arguments = {
            f: draw(VALUES) for f in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True))
        }
        layers.append({kind: arguments} if arguments or draw(st.booleans()) else kind)
    document = {"input": shape, "layers": layers}
    if draw(st.booleans()):
        document["symbols"] = draw(st.sampled_from([{"n": "height"}, {"n": {"domain": "rational"}}, [], "x"]))
    return yaml.safe_dump(document)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=documents(), command=st.sampled_from(["derive", "explain", "domain", "memory"]))
def test_random_documents_succeed_or_are_refused_cleanly(tmp_path_factory, text, command, capsys):
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_text(text)
    status = main([command, str(path)])
    assert status in (0, 2)
    err = capsys.readouterr().err
    if status == 2:
        assert err.startswith("symconv: error: ") and "Traceback" not in err


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    at=st.text(alphabet="kn1m=,./-09 ", max_size=20),
    extra=st.lists(
        st.sampled_from(["--format", "json", "latex", "--at", "--convention", "fvcore", "x"]), max_size=3
    ),
)
def test_random_command_lines_succeed_or_are_refused_cleanly(at, extra, capsys):
    try:
        status = main(["derive", EXAMPLE, "--at", at, *extra])
    except SystemExit as exit:  # argparse's own usage errors exit 2 with a usage line
        assert exit.code == 2
        return
    assert status in (0, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err


def _onnx_file(tmp_path: Path, node_args: tuple, attributes: dict, weight_shape: tuple | None) -> str:
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    op, inputs = node_args
    initializers = (
        [] if weight_shape is None else [numpy_helper.from_array(np.zeros(weight_shape, np.float32), "w")]
    )
    graph = helper.make_graph(
        [helper.make_node(op, inputs, ["y"], **attributes)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


@pytest.mark.parametrize(
    ("node", "attributes", "weight", "expected"),
    [
        (("MaxPool", ["x"]), {}, None, "'kernel_shape' is missing"),
        (("Conv", ["x", "w"]), {"kernel_shape": ["3", "3"]}, (8, 3, 3, 3), "'kernel_shape' must be integers"),
        (("Conv", ["x", "w"]), {"kernel_shape": [3, 3]}, (8, 3), "rank 2"),
        (("Conv", ["x", "w"]), {"kernel_shape": [3, 3], "strides": [0, 0]}, (8, 3, 3, 3), "stride is 0"),
        (("Conv", ["x", "w"]), {"kernel_shape": [3, 3], "pads": [1]}, (8, 3, 3, 3), "pads"),
    ],
)
def test_malformed_onnx_files_are_refused_by_node(tmp_path, node, attributes, weight, expected):
    path = _onnx_file(tmp_path, node, attributes, weight)
    refused(symconv("import", path), "model.onnx", "node", expected)


def test_a_file_that_is_not_onnx(tmp_path):
    pytest.importorskip("onnx")
    path = spec(tmp_path, b"\x08\x07garbage" * 10, "model.onnx")
    refused(symconv("import", path), "not an ONNX model")


def test_prove_and_solve_keep_to_their_time_budgets():
    started = time.monotonic()
    result = symconv(
        "solve",
        "zoo:resnet18",
        "--maximize",
        "H",
        "--subject-to",
        "macs <= 5G",
        "--at",
        "W=224",
        "--time-budget",
        "0.01",
    )
    assert result.returncode == 1 and b"time budget ran out" in result.stdout
    proof = symconv(
        "prove", "floor(n/3) + floor(m/5) + floor((n + m)/7) >= floor((n + 2*m)/11)", "--time-budget", "0.5"
    )
    assert proof.returncode in (0, 1) and b"Traceback" not in proof.stderr
    assert time.monotonic() - started < 25
    refused(symconv("prove", "n >= 1", "--time-budget", "0"), "--time-budget")
    refused(symconv("prove", "n >= 1", "--assume", "n >>= 2"), "--assume")
