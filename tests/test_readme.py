"""Every snippet in README.md runs as written, and the sample output is what symconv prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README))))
def test_python_blocks_run(index):
    block = re.findall(r"```python\n(.*?)```", README, re.S)[index]
    exec(compile(block, f"README.md python block {index}", "exec"), {})  # the project's own documentation


def test_sample_output_is_what_derive_prints():
    sample = re.search(r"```text\n\$ (symconv derive [^\n]+)\n(.*?)```", README, re.S)
    command, expected = sample.group(1), sample.group(2)
    arguments = command.split()[1:]
    result = subprocess.run(
        [sys.executable, "-m", "symconv.cli", *arguments],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.stdout.strip() == expected.strip()
