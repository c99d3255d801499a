"""Running the command line from the tests: in a new process (the real entry point) or in this one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

LSTMKIT = [sys.executable, "-m", "lstmkit"]


def run_cli(*args, stdin=None, timeout=300):
    """The real entry point in a new process (slow to start: torch is imported); one thread, since
    the test machine has two cores and DDP tests start two processes."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        LSTMKIT + [str(a) for a in args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


def invoke(*args, stdin=None):
    """The CLI app in this process (same parsing, printing and exit codes, no interpreter start); a wide
    terminal so that tables are not wrapped."""
    from typer.testing import CliRunner

    from lstmkit.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=stdin, env={"COLUMNS": "400"})


def start_cli(*args):
    """The real entry point started in a new process and left running (to signal it or race it),
    its output captured as text; same environment as :func:`run_cli`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        LSTMKIT + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip


def _default_sigint() -> None:
    """In the child: Ctrl+C as a terminal delivers it. A suite started in the background of a
    non-interactive shell (``make test &``) has SIGINT ignored, children inherit that, and Python then
    installs no KeyboardInterrupt handler: the Ctrl+C tests would signal a process that cannot hear it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def accelerator_available(accelerator: str) -> bool:
    """Whether this machine has ``accelerator`` (Lightning's name: gpu, tpu, ...) for training."""
    from lstmkit.train import TrainConfig
    from lstmkit.train.engine import check_accelerator

    try:
        check_accelerator(TrainConfig(accelerator=accelerator))
    except ValueError:  # lstmkit's errors are ValueErrors too
        return False
    return True
