"""The home page and getting started."""

from __future__ import annotations

import re

from symconv import symbols, zoo
from symconv.notation import to_latex
from symconv.render.markdown import render_report
from symconv.spec import load

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


from scripts.pages.common import EXAMPLES, ROOT, block, checked, cli, m, number, write


# --- Home -------------------------------------------------------------------------------------------------
def home() -> None:
    net = load(EXAMPLES / "two_convolutions.yaml")
    n, m_, k1, k2 = symbols("n m k1 k2")
    at = net.at(k1=40, k2=8, n=28, m=28)
    write(
        "index.md",
        f"""
# symconv

symconv derives, proves and checks the arithmetic of convolutional networks. Describe a network with
symbolic sizes and it gives every layer's output shape, parameters, multiply-accumulates (MACs),
activations and receptive field **in closed form and exactly** — floors stay floors — explains each
formula step by step with its source, proves claims about sizes, and checks every formula against a
NumPy backend that really runs the layers and counts what it did.

## A live result

An {m(n)} × {m(m_)} greyscale image through a 3 × 3 convolution with {m(k1)} filters (padding 1), then a
5 × 5 convolution with {m(k2)} filters (padding 2):

$$\\text{{output}} = {to_latex(net.output_shape[0])} \\times {to_latex(n)} \\times {to_latex(m_)}, \\qquad
\\text{{params}} = {to_latex(net.params)}, \\qquad \\text{{MACs}} = {to_latex(net.macs)}$$

{render_report(net.report)}

At {m(k1)} = 40, {m(k2)} = 8 and a 28 × 28 image that is {number(at.params)} parameters and
{number(at.macs)} MACs. {checked(net)}

## What it answers

| command | answers |
|---|---|
| `symconv derive` | shapes, parameters, MACs, FLOPs, activations, receptive fields, in closed form |
| `symconv check` | every formula against the NumPy backend's measurement |
| `symconv explain` | each formula derived from its general rule, with sources and checks |
| `symconv prove` | claims about sizes, for all positive integers, or the smallest counterexample |
| `symconv scale` | why widening chained convolutions makes the cost quadratic |
| `symconv exercise` | generated exercises with checked, worked solutions |
| `symconv roofline` | operations, bytes moved and arithmetic intensity per layer; which layers are memory-bound |
| `symconv zoo` | classic networks ({len(zoo.names())} of them) in closed form |

See [Getting started](getting-started.md), the [questions answered](questions/filter-depth.md), or
[why the cost is quadratic](quadratic.md).
""",
    )


# --- Getting started --------------------------------------------------------------------------------------
def getting_started() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme, flags=re.S)
    spec = (EXAMPLES / "two_convolutions.yaml").read_text().strip()
    write(
        "getting-started.md",
        f"""
# Getting started

Install and run the main job on a bundled example:

{block(commands[0], "sh")}

Install the test dependencies and run the whole test suite:

{block(commands[1], "sh")}

## A first spec

`examples/two_convolutions.yaml`:

{block(spec, "yaml")}

Sizes are integers or expressions (`n`, `2*n + 1`, `floor(n/2)`) read by symconv's own parser; nothing
in a spec is ever evaluated as code.

## derive

{block("$ symconv derive examples/two_convolutions.yaml" + chr(10) + cli("derive", str(EXAMPLES / "two_convolutions.yaml")))}

`--at k1=40,k2=8,n=28,m=28` evaluates at values; `--format json|markdown|latex` changes the output.

## check

{block("$ symconv check examples/two_convolutions.yaml --samples 2" + chr(10) + cli("check", str(EXAMPLES / "two_convolutions.yaml"), "--samples", "2"))}

## explain

`symconv explain examples/two_convolutions.yaml --layer conv2d_2 --quantity params --format markdown`:

{cli("explain", str(EXAMPLES / "two_convolutions.yaml"), "--layer", "conv2d_2", "--quantity", "params", "--format", "markdown")}
""",
    )
