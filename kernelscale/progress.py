"""The progress protocol: every slow function takes ``progress``, called as ``progress(stage, done, total)`` with the
stage's name and its steps done out of ``total``; the default reports nothing."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default ``progress``: report nothing."""


def renamed(progress: Progress, stage: str) -> Progress:
    """``progress`` with every report filed under ``stage`` (a sub-computation shown under its caller's name)."""
    return lambda _stage, done, total: progress(stage, done, total)
