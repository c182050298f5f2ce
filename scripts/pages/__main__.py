"""``python -m scripts.pages DIRECTORY``: write every page under DIRECTORY (``docs`` by default)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scripts.pages import generate, into

parser = argparse.ArgumentParser(prog="python -m scripts.pages", description=__doc__)
parser.add_argument("directory", nargs="?", default="docs", type=Path)
arguments = parser.parse_args()
generate(into(arguments.directory))
