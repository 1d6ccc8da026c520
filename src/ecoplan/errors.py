"""Errors the user is meant to read.

Every error raised for bad input is an :class:`EcoplanError` whose ``str()`` is one line
naming the file (or row, or field) and the problem, in Chinese, so that the CLI, the API
and the web UI can show it unchanged.
"""

from __future__ import annotations

from pathlib import Path


class EcoplanError(Exception):
    """Base class for errors shown to users; never carries a stack trace to the screen."""


class InputFileError(EcoplanError):
    """A file cannot be read as what it claims to be (empty, corrupt, encrypted, ...)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{Path(path).name}: {problem}")


class NotFoundError(EcoplanError):
    """A plan, measure, unit or revision named by the user does not exist."""


class ConflictError(EcoplanError):
    """The change would contradict data that is already stored."""


class ValidationError(EcoplanError):
    """Input that was read fine but fails a rule; ``rows`` holds per-row messages."""

    def __init__(self, message: str, rows: list[str] | None = None) -> None:
        self.rows = rows or []
        super().__init__(message)


class PermissionDenied(EcoplanError):
    """The signed-in account's role does not allow this action on this object."""
