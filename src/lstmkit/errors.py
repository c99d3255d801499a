"""The project's own errors: the CLI prints their message on one line and exits with code 2.

They subclass ``ValueError`` so that code written against plain argument errors still catches them.
"""

from __future__ import annotations

__all__ = [
    "LstmkitError",
    "DataError",
    "RunDirectoryError",
    "ResumedSettingError",
    "TrainingError",
    "TrainingInterrupted",
]


class LstmkitError(ValueError):
    """Base of every error lstmkit raises about user input, files or training runs."""


class DataError(LstmkitError):
    """A data file or data set is missing, empty, malformed or unusable for the task."""


class RunDirectoryError(LstmkitError):
    """A run directory is missing files, belongs to another task, is newer, or is corrupted."""


class ResumedSettingError(RunDirectoryError):
    """A run to resume was asked for with a setting other than it was started with; ``field`` names it and
    the message begins with it (the CLI says the option instead)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field


class TrainingError(LstmkitError):
    """Training cannot go on (for example the loss became NaN or infinite)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl+C (SIGINT); the message says what was kept and how to resume. A
    ``KeyboardInterrupt``, so that it stops a script as Ctrl+C would; the CLI exits with code 130."""
