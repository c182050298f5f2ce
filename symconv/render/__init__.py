"""Renderers: finished results in, text out. They never compute arithmetic."""

from __future__ import annotations

from collections.abc import Callable

from symconv.render import json, markdown, text
from symconv.report import Report

REPORT_FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text.render_report,
    "json": json.render_report,
    "markdown": markdown.render_report,
}
"""``derive --format NAME`` -> renderer of a report."""
