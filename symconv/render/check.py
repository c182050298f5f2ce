"""Rendering of check results (text and JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable

from symconv.check import CheckResult
from symconv.render.json import value
from symconv.render.text import cell, table


def _values(values) -> str:
    return ", ".join(f"{s}={v}" for s, v in values) or "(no symbols)"


def render_text(result: CheckResult) -> str:
    rows = [
        [
            c.layer,
            c.quantity,
            cell(c.formula),
            cell(c.expected),
            cell(c.measured),
            c.mode,
            "ok" if c.ok else "FAIL",
        ]
        for c in result.checks
    ]
    parts = []
    for index, values in enumerate(result.assignments, start=1):
        subset = [r for r, c in zip(rows, result.checks, strict=True) if c.values == values]
        parts.append(f"sample {index}: {_values(values)}")
        parts.append(table(["layer", "quantity", "formula", "expected", "measured", "count", ""], subset))
        parts.append("")
    failed = sum(not c.ok for c in result.checks)
    if result.ok:
        parts.append(f"all {len(result.checks)} checks ok (seed {result.seed})")
    else:
        parts.append(f"{failed} of {len(result.checks)} checks FAILED (seed {result.seed})")
        parts.append(f"smallest failing assignment: {_values(result.smallest_failure)}")
    return "\n".join(parts)


def render_json(result: CheckResult) -> str:
    data = {
        "ok": result.ok,
        "seed": result.seed,
        "samples": [{str(s): value(v) for s, v in values} for values in result.assignments],
        "checks": [
            {
                "layer": c.layer,
                "quantity": c.quantity,
                "formula": value(c.formula),
                "expected": value(c.expected),
                "measured": value(c.measured),
                "ok": c.ok,
                "at": {str(s): value(v) for s, v in c.values},
                "mode": c.mode,
            }
            for c in result.checks
        ],
        "smallest_failure": None if result.ok else {str(s): value(v) for s, v in result.smallest_failure},
    }
    return json.dumps(data, indent=2)


CHECK_FORMATS: dict[str, Callable[[CheckResult], str]] = {"text": render_text, "json": render_json}
