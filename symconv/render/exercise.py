"""Rendering of generated exercises: text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from symconv.exercises import Exercise, Prose, Written
from symconv.notation import to_latex


def exercise_text(item: Exercise) -> str:
    lines = [f"Exercise ({item.kind}, seed {item.seed})", "", item.question, "", "Solution:"]
    lines += [f"  {index}. {line}" for index, line in enumerate(item.solution, start=1)]
    lines += ["", "Answers: " + ", ".join(f"{k} = {v}" for k, v in item.answers), f"Checked: {item.checked}."]
    return "\n".join(lines)


def _item_latex(item: object) -> str:
    if isinstance(item, Written):
        return item.latex
    if isinstance(item, tuple):
        return r" \times ".join(_item_latex(i) for i in item)
    return to_latex(item)


def prose_markdown(sentence: Prose) -> str:
    """A sentence with its formulas as ``$...$`` math (KaTeX on the site)."""
    relations = {"=": "=", "<=": r"\le", ">=": r"\ge", "!=": r"\neq"}
    return "".join(
        part
        if isinstance(part, str)
        else "$"
        + f" {relations.get(part.relation, part.relation)} ".join(_item_latex(i) for i in part.items)
        + "$"
        for part in sentence
    )


def exercise_markdown(item: Exercise) -> str:
    lines = [
        f"### Exercise: {item.kind} (seed {item.seed})",
        "",
        prose_markdown(item.prompt),
        "",
        '??? success "Solution"',
        "",
    ]
    lines += [f"    {index}. {prose_markdown(step)}" for index, step in enumerate(item.steps, start=1)]
    lines += [
        "",
        "    **Answers:** " + ", ".join(f"{k} = {v}" for k, v in item.answers) + ".",
        "",
        f"    *Checked:* {item.checked}.",
    ]
    return "\n".join(lines) + "\n"


def exercise_json(item: Exercise) -> str:
    return json.dumps(
        {
            "kind": item.kind,
            "seed": item.seed,
            "question": item.question,
            "solution": list(item.solution),
            "answers": dict(item.answers),
            "checked": item.checked,
        },
        indent=2,
    )


EXERCISE_FORMATS: dict[str, Callable[[Exercise], str]] = {
    "text": exercise_text,
    "markdown": exercise_markdown,
    "json": exercise_json,
}
