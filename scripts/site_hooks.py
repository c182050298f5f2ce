"""MkDocs hooks: the search index reads mathematics as text, not as TeX source.

The pages typeset formulas with KaTeX in the browser, so the search plugin
indexes their TeX (``\\left\\lfloor \\frac{H - 1}{2} \\right\\rfloor``). After the
build, every formula in the index is rewritten in the notation of symconv's
terminal output (``⌊(H − 1)/2⌋``), so results and their snippets read as the
page does. The TeX is symconv's own (``symconv.notation.MathPrinter``), a
small closed vocabulary: a macro outside it is kept as its name.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

SYMBOLS = {
    r"\lfloor": "⌊",
    r"\rfloor": "⌋",
    r"\lceil": "⌈",
    r"\rceil": "⌉",
    r"\times": " × ",
    r"\cdot": " · ",
    r"\geq": " ≥ ",
    r"\ge": " ≥ ",
    r"\leq": " ≤ ",
    r"\le": " ≤ ",
    r"\neq": " ≠ ",
    r"\to": " → ",
    r"\wedge": " ∧ ",
    r"\ldots": "…",
    r"\prod": "∏",
    r"\sum": "∑",
    r"\top": "ᵀ",
    r"\bmod": " mod ",
    r"\max": "max",
    r"\min": "min",
    r"\infty": "∞",
    r"\approx": " ≈ ",
    r"\alpha": "α",
    r"\beta": "β",
    r"\gamma": "γ",
    r"\delta": "δ",
    r"\lambda": "λ",
    r"\sigma": "σ",
    r"\quad": " ",
    r"\qquad": " ",
    r"\,": " ",
    r"\:": " ",
    r"\;": " ",
    r"\ ": " ",
    r"\\": "; ",
    r"\left": "",
    r"\right": "",
    r"&": "",
}
SUPERSCRIPT = str.maketrans("0123456789+-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾")
SUBSCRIPT = str.maketrans("0123456789+-()", "₀₁₂₃₄₅₆₇₈₉₊₋₍₎")
MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)
WORD = re.compile(r"\\(?:text|mathrm|mathtt|mathbf|mathit|operatorname)\{([^{}]*)\}")
FRACTION = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
SQRT = re.compile(r"\\sqrt\{([^{}]*)\}")
SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}|([\^_])(\w)")
ENVIRONMENT = re.compile(r"\\(?:begin|end)\{\w+\*?\}")
MACRO = re.compile(r"\\[A-Za-z]+|\\.|&")


def _operand(text: str) -> str:
    text = text.strip()
    return text if re.fullmatch(r"[\w.,α-ω]+", text) else f"({text})"


def _script(match: re.Match) -> str:
    mark, body = (match[1], match[2]) if match[1] else (match[3], match[4])
    table = SUPERSCRIPT if mark == "^" else SUBSCRIPT
    if re.fullmatch(r"[0-9+\-()]+", body):
        return body.translate(table)
    return f"{mark}{body}" if mark == "^" else f"_{body}"


def text_of(tex: str) -> str:
    """A formula of symconv's TeX written as plain text (``\\frac{a}{b}`` as ``a/b``, ``k_{1}`` as ``k₁``)."""
    tex = ENVIRONMENT.sub(" ", tex).replace("{,}", ",")
    while True:
        previous = tex
        tex = WORD.sub(lambda m: m[1], tex)
        tex = FRACTION.sub(lambda m: f"{_operand(m[1])}/{_operand(m[2])}", tex)
        tex = SQRT.sub(lambda m: f"√{_operand(m[1])}", tex)
        tex = SCRIPT.sub(_script, tex)
        if tex == previous:
            break
    tex = MACRO.sub(lambda m: SYMBOLS.get(m[0], m[0].lstrip("\\")), tex)
    tex = tex.replace("{", "").replace("}", "").replace(" - ", " − ")
    tex = re.sub(r"\s+", " ", tex)
    return re.sub(r"([⌊⌈(]) | ([⌋⌉)])", lambda m: m[1] or m[2], tex).strip()


def plain_search_text(text: str) -> str:
    """Every ``\\(…\\)`` and ``\\[…\\]`` of a search entry replaced by its text."""

    def plain(match: re.Match) -> str:
        tex = html.unescape(match[1] if match[1] is not None else match[2])
        return html.escape(text_of(tex), quote=False)

    return MATH.sub(plain, text)


def on_post_build(config, **kwargs) -> None:
    index = Path(config["site_dir"]) / "search" / "search_index.json"
    if not index.exists():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    for entry in data.get("docs", []):
        entry["text"] = plain_search_text(entry["text"])
        entry["title"] = plain_search_text(entry["title"])
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
