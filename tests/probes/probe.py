"""The one assertion of the probe suite: a refused input is one line ``error: ...`` naming what is
wrong, exit code 2, no traceback, and nothing new on disk."""

from __future__ import annotations

import subprocess
from pathlib import Path


def snapshot(root: Path) -> set[str]:
    """Every file and folder under ``root`` (hidden ones too: a lock or ``.partial`` left behind counts)."""
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def assert_refused(result, *names: str, root: Path, before: set[str]) -> str:
    """``result`` (of ``invoke`` or ``run_cli``) refused its input: exit 2 and one line ``error: ...``
    holding each of ``names`` (the option or file, and the value given), and ``root`` holds what it held
    ``before``. Returns the line."""
    if isinstance(result, subprocess.CompletedProcess):
        code, output = result.returncode, result.stdout + result.stderr
    else:
        code, output = result.exit_code, result.output
        # An uncaught exception is result.exception itself; a clean exit is a SystemExit.
        assert isinstance(result.exception, SystemExit), f"{result.exception!r}\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
    assert code == 2, f"exit {code}:\n{output[-3000:]}"
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output[-3000:]
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    left = snapshot(root) - before
    assert not left, f"left behind: {sorted(left)} ({lines[0]})"
    return lines[0]
