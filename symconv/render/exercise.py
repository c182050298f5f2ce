"""Rendering of generated exercises: text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from symconv.exercises import Exercise
from symconv.notation import prose_markdown


def exercise_text(item: Exercise) -> str:
    lines = [f"Exercise ({item.kind}, seed {item.seed})", "", item.question, "", "Solution:"]
    lines += [f"  {index}. {line}" for index, line in enumerate(item.solution, start=1)]
    lines += ["", "Answers: " + ", ".join(f"{k} = {v}" for k, v in item.answers), f"Checked: {item.checked}."]
    return "\n".join(lines)


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
