"""The documentation pages, generated from symconv itself.

Every formula, number and table on the site comes from symconv's output at
build time; prose lives beside the calls that produce what it describes, one
module per kind of page. Two ways to run it:

- ``python -m scripts.pages docs``: a plain pre-build step that writes the
  pages into ``docs/``, for any static-site builder reading Markdown;
- ``scripts/gen_pages.py``, which mkdocs-gen-files runs during ``mkdocs build``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scripts.pages import common, overview, questions, reference, tutorials

BUILDERS: tuple[Callable[[], None], ...] = (
    overview.home,
    overview.getting_started,
    reference.conventions,
    reference.layer_catalogue,
    questions.question_filter_depth,
    questions.question_three_readings,
    questions.question_one_by_one,
    questions.question_pooling,
    questions.question_conv3d,
    questions.question_quadratic,
    tutorials.quadratic_tutorial,
    tutorials.attention_page,
    tutorials.gallery,
    tutorials.proofs,
    tutorials.latex_page,
    tutorials.roofline_page,
    tutorials.beyond_counters,
    reference.cli_page,
    reference.api_page,
)


def generate(sink: Callable[[str, str | bytes], None]) -> None:
    """Build every page, handing each ``(path, text)`` (images: ``(path, bytes)``) to ``sink``."""
    common._sink = sink
    try:
        for build in BUILDERS:
            build()
    finally:
        common._sink = None


def into(directory: Path) -> Callable[[str, str | bytes], None]:
    """A sink writing pages under ``directory``."""

    def write(path: str, content: str | bytes) -> None:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")

    return write
