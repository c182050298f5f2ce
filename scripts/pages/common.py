"""What every page builder shares: where pages go, symconv's own output, and formatting."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from symconv import Network
from symconv.check import check_network
from symconv.cli import main as symconv
from symconv.notation import to_latex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

try:
    import torch
except ImportError:  # the PyTorch comparisons are shown when torch is installed
    torch = None


_sink = None


def write(path: str, content: str | bytes) -> None:
    """Hand a page (text) or an image (bytes) to the current destination (see :func:`scripts.pages.generate`)."""
    if _sink is None:
        raise RuntimeError("no destination: call scripts.pages.generate")
    _sink(path, content.strip() + "\n" if isinstance(content, str) else content)


def cli(*args: str) -> str:
    """What ``symconv ARGS`` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = symconv(list(args))
    if status not in (0, 1):
        raise RuntimeError(f"symconv {' '.join(args)} exited with {status}")
    return out.getvalue().rstrip()


def block(text: str, language: str = "text") -> str:
    return f"```{language}\n{text}\n```"


def m(expr: object) -> str:
    """Inline math."""
    return f"${to_latex(expr)}$"


def shape(dims: tuple) -> str:
    """A shape as inline math: ``1000`` or ``2048 \\times 7 \\times 7`` (no digit grouping inside a shape)."""
    import sympy as sp

    shown = [str(int(d)) if sp.sympify(d).is_Integer else to_latex(d) for d in dims]
    return "$" + r" \times ".join(shown) + "$"


def display(label: str, expr: object) -> str:
    """``$$label = ...$$`` as an ``aligned`` display broken between terms, to fit the page's text column."""
    import sympy as sp

    from symconv.notation import sum_pieces
    from symconv.render.latex import broken

    expr = sp.sympify(expr)
    terms = expr.as_ordered_terms() if isinstance(expr, sp.Add) else [expr]
    lines = broken(sum_pieces(terms, to_latex, latex=True))
    rows = [(f"{label} &= " if i == 0 else "&\\quad ") + line for i, line in enumerate(lines)]
    return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"


def number(value: object) -> str:
    return f"{int(value):,}"


def checked(network: Network, **values: object) -> str:
    """One sentence with the NumPy backend's verdict."""
    result = check_network(network, network.report.resolve(values), samples=3 if not values else 1, seed=0)
    if not result.ok:
        raise RuntimeError(f"the backend disagrees on {network.name}")
    samples = "; ".join(", ".join(f"{s} = {v}" for s, v in a) for a in result.assignments if a)
    return (
        f"Checked by the NumPy backend: all {len(result.checks)} comparisons of formula and measurement agree "
        + (f"(at {samples})." if samples else "(at the sizes given).")
    )


def reproduce(*commands: str) -> str:
    return "Reproduce with:\n\n" + block("\n".join(commands), "sh")
