"""Render symconv's LaTeX for the seed example into PNG figures for the documentation.

    python scripts/latex_figures.py      # needs pdflatex and pdftoppm (poppler-utils)

Each figure is a standalone document compiled with pdflatex, rasterised with
pdftoppm and cropped to its content (the crop box is found from a greyscale
rendering read with NumPy).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from symconv.cli import main as symconv

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "latex-table.png": ["derive", "examples/two_convolutions.yaml", "--at", "k1=40,k2=8,n=28,m=28"],
    "latex-quadratic.png": [
        "scale",
        "examples/two_convolutions.yaml",
        "--symbols",
        "k1,k2",
        "--factor",
        "alpha",
    ],
}
PAPER = {
    # set as a two-column paper sets them: the stage table in one column, the block table across both
    "latex-resnet50-column.png": ["derive", "zoo:resnet50", "--caption", "ResNet-50 by stage"],
    "latex-resnet50-blocks.png": [
        "derive",
        "zoo:resnet50",
        "--depth",
        "2",
        "--caption",
        "ResNet-50 by block",
        "--wide",
    ],
}
RESOLUTION = 130
MARGIN = 12


def content_box(pgm: Path) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the non-white pixels of a binary PGM, with a margin."""
    data = pgm.read_bytes()
    header = data.split(maxsplit=4)
    width, height = int(header[1]), int(header[2])
    pixels = np.frombuffer(data[-width * height :], dtype=np.uint8).reshape(height, width)
    rows, columns = np.nonzero(pixels.min(axis=1) < 200)[0], np.nonzero(pixels.min(axis=0) < 200)[0]
    top, bottom = max(rows.min() - MARGIN, 0), min(rows.max() + MARGIN, height)
    left, right = max(columns.min() - MARGIN, 0), min(columns.max() + MARGIN, width)
    return int(left), int(top), int(right - left), int(bottom - top)


def paper(name: str, command: list[str], work: Path) -> Path:
    """A two-column article holding the fragment (its own float), with the packages its comment names."""
    fragment = work / (Path(name).stem + "-fragment.tex")
    if symconv([*command, "--format", "latex", "-o", str(fragment)]) != 0:
        raise SystemExit(f"symconv failed for {name}")
    packages = next(
        line.split("{", 1)[1].rstrip("}")
        for line in fragment.read_text().splitlines()
        if line.startswith("% needs")
    )
    source = work / (Path(name).stem + ".tex")
    source.write_text(
        f"\\documentclass[twocolumn]{{article}}\\usepackage{{{packages}}}\\pagestyle{{empty}}"
        f"\\begin{{document}}\\input{{{fragment.name}}}\\end{{document}}\n"
    )
    return source


def render(name: str, command: list[str], work: Path, source: Path | None = None) -> Path:
    if source is None:
        source = work / (Path(name).stem + ".tex")
        if symconv([*command, "--format", "latex", "--standalone", "-o", str(source)]) != 0:
            raise SystemExit(f"symconv failed for {name}")
        source.write_text(source.read_text().replace("\\section*", "\\pagestyle{empty}\\section*", 1))
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=work,
        check=True,
        capture_output=True,
    )
    pdf = source.with_suffix(".pdf")
    subprocess.run(
        [
            "pdftoppm",
            "-gray",
            "-r",
            str(RESOLUTION),
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(work / "page"),
        ],
        check=True,
    )
    x, y, w, h = content_box(work / "page.pgm")
    target = ROOT / "docs" / "images" / name
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(RESOLUTION),
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            "-x",
            str(x),
            "-y",
            str(y),
            "-W",
            str(w),
            "-H",
            str(h),
            str(pdf),
            str(target.with_suffix("")),
        ],
        check=True,
    )
    return target


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for name, command in FIGURES.items():
            print(render(name, command, work).relative_to(ROOT))
        for name, command in PAPER.items():
            print(render(name, command, work, paper(name, command, work)).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
