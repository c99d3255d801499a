"""The ``lstmkit`` command line: thin commands that parse, call a library function and print.

``_app`` holds the apps and the task-independent commands; each task's module adds its own
(``train TASK``, and its part of ``evaluate``) when imported here.
"""

from lstmkit.cli import diagnose, export, forecast, lm, sentiment, serve, tag, translate  # noqa: F401  (registers the commands)
from lstmkit.cli._app import app, user_errors

__all__ = ["app", "user_errors"]
