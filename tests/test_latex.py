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
    source = produce(tmp_path, name, "--standalone")
    log = pdflatex(source)
    assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)[:5]


def pdflatex(source: Path) -> str:
    """Compile ``source`` where it is; its log, after asserting that pdflatex succeeded."""
    done = subprocess.run(
        [need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=source.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = source.with_suffix(".log").read_text(errors="replace")
    assert done.returncode == 0, log[-3000:]
    return log


def _compile(tmp_path: Path, name: str, body: str, packages: str) -> str:
    """Compile a two-column paper around ``body``; the log."""
    paper = tmp_path / f"{name}.tex"
    paper.write_text(
        "\\documentclass[twocolumn]{article}\n"
        f"\\usepackage{{{packages}}}\n"
        "\\begin{document}\n"
        "A paragraph of the paper, before the float.\n\n"
        f"{body}\n"
        "\\end{document}\n"
    )
    return pdflatex(paper)


def _overfull(log: str) -> list[float]:
    return [float(x) for x in re.findall(r"Overfull \\[hv]box \((\d+\.\d+)pt too (?:wide|high)", log)]


def _needs(fragment: str) -> str:
    """The packages a fragment names in its first line."""
    match = re.match(r"(?:%.*\n)*?% needs \\usepackage\{([^}]*)\}", fragment)
    assert match, fragment[:200]
    return match.group(1)


PAPER = {
    # fragment: (the float it is set in, or None for the running text; the command)
    "derive_at_values": ("table", COMMANDS["derive"]),
    "derive_symbolic": ("table", COMMANDS["derive_symbolic"]),
    "derive_resnet50_stages": ("table", ["derive", "zoo:resnet50"]),
    "derive_resnet50_blocks": ("table*", ["derive", "zoo:resnet50", "--depth", "2"]),
    "derive_mobilenet_alpha": ("table*", ["derive", "zoo:mobilenet_v1", "--depth", "1"]),
    "derive_googlenet": ("table*", ["derive", "zoo:googlenet", "--depth", "1", "--at", "H=224,W=224"]),
    # derivations and proofs run longer than a float's one page: they are set in the running text
    "explain": (None, COMMANDS["explain"]),
    "explain_floors": (None, COMMANDS["explain_floors"]),
    "explain_resnet50": (None, ["explain", "zoo:resnet50"]),
    "scale": ("table", COMMANDS["scale"]),
    "roofline": (
        "table",
        ["roofline", str(EXAMPLES / "keras_mnist.yaml"), "--batch", "32", "--dtype", "float16"],
    ),
    "roofline_device": (
        "table*",
        [
            "roofline",
            str(EXAMPLES / "two_convolutions.yaml"),
            "--at",
            "n=224,m=224",
            "--peak",
            "312T",
            "--bandwidth",
            "2T",
        ],
    ),
    "prove": ("table", COMMANDS["prove"]),
    "prove_cases": (None, ["prove", "floor(n/2) <= n/2 + floor(n/3)"]),
    "disprove": ("table", COMMANDS["disprove"]),
    **{
        f"exercise_{kind}": ("table", ["exercise", kind, "--seed", "3"])
        for kind in ("quadratic", "filter-depth", "output-size", "attention")
    },
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_fragment_sets_in_a_two_column_paper_with_the_packages_it_names(tmp_path, name):
    where, command = PAPER[name]
    target = tmp_path / "fragment.tex"
    assert main([*command, "--format", "latex", "-o", str(target)]) in (0, 1)
    fragment = target.read_text()
    body = (
        "\\input{fragment.tex}"
        if where is None
        else f"\\begin{{{where}}}[p]\\input{{fragment.tex}}\\end{{{where}}}"
    )
    log = _compile(tmp_path, "paper", body, _needs(fragment))
    assert all(x <= 1.0 for x in _overfull(log)), re.findall(r"Overfull.*\n.*", log)[:5]
    assert "Float too large" not in log
    assert "longtable" not in fragment


def test_captioned_table_is_its_own_float_across_both_columns(tmp_path):
    target = tmp_path / "fragment.tex"
    command = [
        "derive",
        "zoo:resnet50",
        "--format",
        "latex",
        "--caption",
        "ResNet-50 by stage, in closed form",
    ]
    assert main([*command, "--label", "tab:resnet50", "--wide", "-o", str(target)]) == 0
    fragment = target.read_text()
    assert "\\begin{table*}[t]" in fragment and "\\label{tab:resnet50}" in fragment
    log = _compile(
        tmp_path, "paper", "\\input{fragment.tex} See Table~\\ref{tab:resnet50}.", _needs(fragment)
    )
    assert all(x <= 1.0 for x in _overfull(log))


def test_longtable_stays_an_option_for_one_column_documents(tmp_path):
    target = tmp_path / "fragment.tex"
    assert (
        main([*COMMANDS["derive_resnet50"], "--format", "latex", "--table", "longtable", "-o", str(target)])
        == 0
    )
    fragment = target.read_text()
    assert "\\begin{longtable}" in fragment and "conv1" in fragment and "downsample" not in fragment
    paper = tmp_path / "paper.tex"
    paper.write_text(
        f"\\documentclass{{article}}\\usepackage{{{_needs(fragment)}}}"
        "\\begin{document}\\input{fragment.tex}\\end{document}\n"
    )
    pdflatex(paper)


def test_stage_rows_sum_their_layers():
    """The ResNet-50 stage table: each stage's parameters as torchvision's module holds them (He et al. Table 1)."""
    from symconv.render.latex import report_table
    from symconv.zoo import build

    text = report_table(build("resnet50").report, depth=1)
    rows = {line.split(" & ")[0]: line for line in text.splitlines() if line.startswith("\\texttt{")}
    assert list(rows) == [
        f"\\texttt{{{n}}}"
        for n in (
            "conv1",
            "bn1",
            "relu",
            "maxpool",
            "layer1",
            "layer2",
            "layer3",
            "layer4",
            "avgpool",
            "flatten",
            "fc",
        )
    ]
    # torchvision resnet50: sum(p.numel() for p in model.layer1.parameters()) == 215,808; layer4: 14,964,736
    assert "$215{,}808$" in rows["\\texttt{layer1}"] and "$14{,}964{,}736$" in rows["\\texttt{layer4}"]


def test_bad_float_options_are_refused(capsys):
    base = ["derive", str(EXAMPLES / "two_convolutions.yaml")]
    assert main([*base, "--caption", "x"]) == 2  # not LaTeX
    assert main([*base, "--format", "latex", "--label", "has space"]) == 2
    assert main([*base, "--format", "latex", "--table", "longtable", "--wide"]) == 2
    assert "Traceback" not in capsys.readouterr().err


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
