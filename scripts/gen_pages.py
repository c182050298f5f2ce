"""The mkdocs-gen-files entry: the pages of :mod:`scripts.pages`, written into the build."""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.pages import generate  # noqa: E402


def write(path: str, content: str | bytes) -> None:
    with mkdocs_gen_files.open(path, "wb" if isinstance(content, bytes) else "w") as page:
        page.write(content)


generate(write)
