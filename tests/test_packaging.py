"""The wheel built from the tree holds the whole package: every module, the zoo, every data file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = target.glob("symconv-*.whl")
    return zipfile.ZipFile(built)


def test_layout_is_top_level() -> None:
    assert (ROOT / "symconv" / "__init__.py").is_file()
    assert not (ROOT / "src").exists()
    assert (ROOT / "LICENSE").is_file()


def test_wheel_holds_every_file_of_the_package(wheel: zipfile.ZipFile) -> None:
    tree = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "symconv").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    packed = {name for name in wheel.namelist() if name.startswith("symconv/")}
    assert tree - packed == set()
    assert any(name.startswith("symconv/zoo/") for name in packed)
    assert "symconv/py.typed" in packed


def test_wheel_holds_the_license_and_the_entry_point(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") or name.endswith("/LICENSE") for name in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "symconv = symconv.cli:main" in wheel.read(entry_points).decode()
