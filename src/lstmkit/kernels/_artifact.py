"""Where the compiled kernel library lives, and whether it was built from the sources as they are now."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["LIBRARY", "SOURCES_DIR", "source_hash", "is_current"]

HERE = Path(__file__).resolve().parent
SOURCES_DIR = HERE / "csrc"
LIBRARY = HERE / "_lstmkit_kernels.so"


def source_hash() -> str:
    """A hash of every kernel source file (``.cpp`` and ``.h``); changes whenever the kernels do."""
    digest = hashlib.sha256()
    for path in sorted(SOURCES_DIR.iterdir()):
        if path.suffix in (".cpp", ".h"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stamp_path(library: Path) -> Path:
    """The file beside ``library`` that records the source hash it was built from."""
    return library.with_suffix(".stamp")


def is_current(library: Path = LIBRARY) -> bool:
    """True when ``library`` exists and was built from the sources as they are now."""
    stamp = stamp_path(library)
    return library.exists() and stamp.exists() and stamp.read_text().split("\n")[0] == source_hash()
