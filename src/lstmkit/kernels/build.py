"""Compile lstmkit's C++ time-loop kernels into a shared library beside this module.

``make install`` runs it; run it yourself after installing lstmkit some other way::

    python -m lstmkit.kernels.build          # builds lstmkit/kernels/_lstmkit_kernels.so
    python -m lstmkit.kernels.build --check  # says whether the built library is current

The kernels are plain C++ on raw pointers (no Python or torch headers), so they compile in seconds.
``CXX`` picks the compiler (default ``g++``) and ``LSTMKIT_CXXFLAGS`` replaces the optimisation flags
(default ``-O3 -march=native``: the library is built on the machine that runs it). A stamp file beside
the library records a hash of the sources and flags, so a stale build is noticed at load time.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from lstmkit.io import umask
from lstmkit.kernels._artifact import LIBRARY, REQUIRED_FLAGS, SOURCES_DIR, is_current, source_hash, stamp_path

__all__ = ["build", "main"]

DEFAULT_FLAGS = "-O3 -march=native"


def _sources() -> list[Path]:
    return sorted(SOURCES_DIR.glob("*.cpp"))


def build(output: Path = LIBRARY, verbose: bool = False) -> Path:
    """Compile the kernels to ``output`` (written to a temporary name, then renamed into place).

    Raises ``RuntimeError`` with the compiler's message when no compiler works.
    """
    compiler = os.environ.get("CXX", "g++")
    flags = shlex.split(os.environ.get("LSTMKIT_CXXFLAGS", DEFAULT_FLAGS))
    attempts = [flags] if "LSTMKIT_CXXFLAGS" in os.environ else [flags, ["-O3"]]  # -march=native may be unknown
    output.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for attempt in attempts:
        fd, temporary = tempfile.mkstemp(suffix=".so", dir=output.parent)
        os.close(fd)
        command = [compiler, *REQUIRED_FLAGS, *attempt, "-I", str(SOURCES_DIR), *map(str, _sources()), "-o", temporary]
        if verbose:
            print(shlex.join(command))
        try:
            result = subprocess.run(command, capture_output=True, text=True)
        except FileNotFoundError:
            os.unlink(temporary)
            raise RuntimeError(f"no C++ compiler: {compiler!r} was not found (set CXX to another one)") from None
        if result.returncode == 0:
            os.chmod(temporary, 0o755 & ~umask())
            os.replace(temporary, output)
            stamp_path(output).write_text(f"{source_hash()}\n{shlex.join(command[:-2])}\n")
            return output
        os.unlink(temporary)
        errors.append(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}")
    raise RuntimeError(f"compiling the kernels with {compiler!r} failed: {errors[-1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say whether the built library is current")
    parser.add_argument("--verbose", action="store_true", help="print the compiler command")
    args = parser.parse_args(argv)
    if args.check:
        current = is_current()
        print(f"{LIBRARY}: {'current' if current else 'missing or out of date'}")
        return 0 if current else 1
    try:
        path = build(verbose=args.verbose)
    except RuntimeError as error:
        print(f"warning: {error}; lstmkit will run its Python loops instead of the compiled kernels", file=sys.stderr)
        return 0  # the library still works without its kernels: an install must not fail for want of them
    print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
