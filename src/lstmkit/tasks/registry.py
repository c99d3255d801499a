"""Every task by the name its runs record in ``config.json``.

Imported on demand (a task pulls in its models, data sets and baselines), by explicit imports rather
than by building module names from strings, so a task that is not here does not exist.
"""

from __future__ import annotations

from lstmkit.errors import RunDirectoryError
from lstmkit.tasks.runner import Task

__all__ = ["TASK_NAMES", "task_named"]

TASK_NAMES = ("sentiment", "translate", "forecast", "lm", "tag")


def task_named(name: str) -> Task:
    """The :class:`~lstmkit.tasks.runner.Task` registered as ``name``."""
    if name == "lm":
        from lstmkit.tasks.lm import TASK
    elif name == "sentiment":
        from lstmkit.tasks.sentiment import TASK
    elif name == "translate":
        from lstmkit.tasks.translate import TASK
    elif name == "forecast":
        from lstmkit.tasks.forecast import TASK
    elif name == "tag":
        from lstmkit.tasks.tag import TASK
    else:
        raise RunDirectoryError(f"unknown task {name!r}: lstmkit has {', '.join(TASK_NAMES)}")
    return TASK
