"""Where the compiled kernel library lives, and whether it was built from the sources as they are now."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["LIBRARY", "REQUIRED_FLAGS", "SOURCES_DIR", "source_hash", "is_current"]

HERE = Path(__file__).resolve().parent
SOURCES_DIR = HERE / "csrc"
LIBRARY = HERE / "_lstmkit_kernels.so"

# Flags every build takes (``LSTMKIT_CXXFLAGS`` replaces only the optimisation flags). OpenMP for the
# batch-parallel element-wise passes: the runtime resolves to the libgomp torch has already loaded, so
# the kernels and torch's BLAS share one thread pool. -fno-trapping-math lets the compiler vectorise the
# activations' clamps (x < hi ? x : hi): without it GCC keeps them as branches, in case a comparison
# raises a floating-point exception flag, and the gate passes ran one element at a time, 2.5 times slower
# (docs/kernels.md). It changes no result and no process state, unlike -ffast-math. The flags are part
# of the stamp's hash: a library built with other flags is rebuilt.
REQUIRED_FLAGS = ("-std=c++17", "-fopenmp", "-fno-trapping-math", "-fPIC", "-shared", "-fvisibility=hidden")


def source_hash() -> str:
    """A hash of every kernel source file (``.cpp`` and ``.h``) and of :data:`REQUIRED_FLAGS`; changes
    whenever the kernels or the way they must be built do."""
    digest = hashlib.sha256(" ".join(REQUIRED_FLAGS).encode() + b"\0")
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
