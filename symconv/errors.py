"""The one exception hierarchy of symconv.

Every error a user can cause derives from :class:`SymconvError`; the command
line prints its message and exits with status 2. Anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """Where a piece of user input came from: file, line and field path."""

    file: str | None = None
    line: int | None = None
    field: str | None = None
    field_lines: tuple[tuple[str, int], ...] = ()

    def at(self, field: str, line: int | None = None) -> Where:
        """The location of a sub-field: its own line when known, else this one's."""
        joined = f"{self.field}.{field}" if self.field else field
        if line is None:
            line = dict(self.field_lines).get(field, self.line)
        return Where(self.file, line, joined)

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class SymconvError(Exception):
    """Base class of every error caused by user input."""

    def __init__(self, message: str, where: Where | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        location = str(self.where) if self.where else ""
        return f"{location}: {self.message}" if location else self.message


class SpecError(SymconvError):
    """A spec file (or a Python description of a network) is malformed."""


class UnsafeExpression(SpecError):
    """A size expression uses syntax outside the whitelist, or is too large."""


class ShapeError(SymconvError):
    """A layer cannot be applied to the shape it receives."""


class ValueSpecError(SymconvError):
    """A value given for a symbol (``--at n=28``) is malformed or out of domain."""
