"""LaTeX output compiles with pdflatex, tables have no overfull boxes, KaTeX accepts every formula.

pdflatex (TeX Live from Debian) and node are installed by ``.ci/run``; on a
machine without them these tests skip locally and fail in CI (``CI`` set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symconv.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{program} is required in CI (installed by .ci/run)")
        pytest.skip(f"{program} is not installed")
    return found


COMMANDS = {
    "derive": ["derive", str(EXAMPLES / "two_convolutions.yaml"), "--at", "k1=40,k2=8,n=28,m=28"],
    "derive_symbolic": ["derive", str(EXAMPLES / "five_strided.yaml")],
    "derive_resnet50": ["derive", str(EXAMPLES / "resnet50.yaml"), "--at", "H=224,W=224"],
    "explain": ["explain", str(EXAMPLES / "two_convolutions.yaml")],
    "explain_floors": ["explain", str(EXAMPLES / "five_strided.yaml"), "--layer", "repeat_1.4.conv2d_1"],
    "scale": ["scale", str(EXAMPLES / "two_convolutions.yaml"), "--symbols", "k1,k2", "--factor", "alpha"],
    "prove": ["prove", "floor(floor((n - 1)/2)/2) == floor((n - 1)/4)"],
    "disprove": ["prove", "2*floor(n/2) == n"],
    "exercise": ["exercise", "quadratic", "--seed", "4"],
}


def produce(tmp_path: Path, name: str, *extra: str) -> Path:
    target = tmp_path / f"{name}.tex"
    status = main([*COMMANDS[name], "--format", "latex", *extra, "-o", str(target)])
    assert status in (0, 1)  # 1: the disproved claim
    return target


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_standalone_documents_compile_without_overfull_tables(tmp_path, name):
    pdflatex = need("pdflatex")
    source = produce(tmp_path, name, "--standalone")
    done = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    assert done.returncode == 0, log[-3000:]
    assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)[:5]


def test_fragment_inputs_into_a_paper(tmp_path):
    pdflatex = need("pdflatex")
    produce(tmp_path, "derive")
    paper = tmp_path / "paper.tex"
    paper.write_text(
        "\\documentclass{article}\\usepackage{amsmath,booktabs,longtable,array}"
        "\\begin{document}\\input{derive.tex}\\end{document}\n"
    )
    done = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_table_is_booktabs_with_textbook_symbols(tmp_path):
    text = produce(tmp_path, "derive").read_text()
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
    assert "k_{1}" in text and "6{,}554{,}240" in text  # 282,240 + 6,272,000 by hand


def test_floors_keep_the_numerator_together(tmp_path):
    text = produce(tmp_path, "derive_symbolic").read_text()
    assert "\\left\\lfloor \\frac{n - 1}{32} \\right\\rfloor + 1" in text
    assert "\\frac{n}{32}" not in text


def test_scaling_document_shows_the_alpha_squared_derivation(tmp_path):
    text = produce(tmp_path, "scale").read_text()
    assert "\\alpha^{2}" in text and "\\left(\\alpha k_{1}\\right)" in text


def test_output_file_is_written_atomically(tmp_path):
    target = produce(tmp_path, "prove")
    assert target.exists() and not list(tmp_path.glob(".prove.tex.*"))


def test_standalone_needs_latex(capsys):
    assert main(["derive", str(EXAMPLES / "two_convolutions.yaml"), "--standalone"]) == 2


def _formulas(text: str) -> list[dict]:
    found = [{"tex": m, "display": True} for m in re.findall(r"\$\$(.+?)\$\$", text, flags=re.S)]
    text = re.sub(r"\$\$(.+?)\$\$", "", text, flags=re.S)
    found += [{"tex": m, "display": False} for m in re.findall(r"\$(.+?)\$", text, flags=re.S)]
    for body in re.findall(r"\\begin\{align\*\}(.+?)\\end\{align\*\}", text, flags=re.S):
        found.append({"tex": "\\begin{aligned}" + body + "\\end{aligned}", "display": True})
    return found


def test_katex_renders_every_formula(tmp_path, capsys):
    node = need("node")
    formulas = []
    for command in COMMANDS.values():
        for form in ("markdown", "latex"):
            main([*command, "--format", form])
            formulas += _formulas(capsys.readouterr().out)
    from symconv.explain import explain
    from symconv.prove import prove
    from symconv.spec import load

    net = load(EXAMPLES / "resnet50.yaml")
    formulas += _formulas(net._repr_latex_()) + _formulas(net._repr_markdown_())
    for derivation in explain(load(EXAMPLES / "five_strided.yaml")):
        formulas += _formulas(derivation._repr_latex_())
    formulas += _formulas(prove("ceil(n/2) + floor(n/2) == n")._repr_markdown_())
    assert len(formulas) > 50
    done = subprocess.run(
        [node, str(ROOT / "tests" / "katex_check.js")],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
