"""Loading the compiled kernels (``ctypes``) and handing them a BLAS; the reason when they can't load.

The library is plain C: every entry point takes sizes and raw data pointers. It is loaded once per
process, after torch (so its OpenMP runtime is the libgomp torch already uses). Float32 products run
on lstmkit's own packed GEMM (``csrc/sgemm.cpp``); float64 ones on the Fortran ``dgemm_`` that torch's
CPU library exports (MKL in the official wheels), or on portable loops in a torch build without it.
:class:`use_blas` switches, for tests and benchmarks: ``"own"`` (the default), ``"torch"`` (MKL's
``sgemm_`` too) or ``"portable"`` (the loops for both precisions).
"""

from __future__ import annotations

import ctypes
import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from lstmkit.kernels import _artifact

__all__ = ["KernelLibrary", "library", "unavailable_reason", "blas_name", "use_blas"]

ABI_VERSION = 5
_P = ctypes.c_void_p
_I = ctypes.c_int
_KINDS = {"i": _I, "p": _P, "d": ctypes.c_double}

# Argument kinds of each entry point: "i" a C int, "p" a pointer (None for an absent tensor), "d" a C
# double.
SIGNATURES = {
    # One step of a whole stack (csrc/step.cpp): sizes and a flag, the weight table, state, work, x, out.
    "lstm_step": "iiiii" + "p" * 6,
    "gru_step": "iiiii" + "p" * 5,
    "rnn_step": "iiiii" + "p" * 5,
}

# The time loops' entry points take an array of calls, ``(int count, const Call* calls)``, each call a
# structure of these field kinds (csrc/lstm.cpp, gru.cpp, rnn.cpp): independent loops (a bidirectional
# layer's directions) in one library call, run side by side. The LSTM and GRU take zoneout last (mask
# pointer, probability), the LSTM then its layer-norm buffers.
CALLS = {
    "lstm_forward": "iiiip" + "p" * 10 + "ppp" + "d" + "p" * 11,
    "lstm_backward": "iiiip" + "p" * 13 + "p" + "d" + "p" * 15,
    "gru_forward": "iiiip" + "p" * 8 + "pp" + "d",
    "gru_backward": "iiiip" + "p" * 11 + "p" + "d",
    "rnn_forward": "iiiip" + "p" * 6,
    "rnn_backward": "iiiip" + "p" * 7,
}
_STRUCTURES = {
    name: type(f"{name}_call", (ctypes.Structure,), {"_fields_": [(f"f{i}", _KINDS[k]) for i, k in enumerate(kinds)]})
    for name, kinds in CALLS.items()
}


@dataclass
class KernelLibrary:
    """The loaded library: ``call(name, dtype, *args)`` runs ``lstmkit_<name>_<f32|f64>``."""

    handle: ctypes.CDLL
    path: Path

    def call(self, name: str, dtype: torch.dtype, *args) -> None:
        self.function(name, dtype)(*args)

    def call_all(self, name: str, dtype: torch.dtype, calls: list[tuple]) -> None:
        """Run ``lstmkit_<name>_<f32|f64>`` (a :data:`CALLS` entry) once on every argument tuple of
        ``calls``, in one library call: the loops run side by side where the threads allow."""
        structure = _STRUCTURES[name]
        array = (structure * len(calls))(*(structure(*arguments) for arguments in calls))
        self.function(name, dtype)(len(calls), array)

    def function(self, name: str, dtype: torch.dtype) -> ctypes._CFuncPtr:
        """The ctypes function ``lstmkit_<name>_<f32|f64>``, for callers that keep it across many calls."""
        suffix = "f32" if dtype == torch.float32 else "f64"
        return getattr(self.handle, f"lstmkit_{name}_{suffix}")


def _torch_blas() -> tuple[int | None, int | None, str]:
    """Addresses of ``sgemm_``/``dgemm_`` in torch's CPU library, and a name for what was found."""
    lib_dir = Path(torch.__file__).parent / "lib"
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
        if (lib_dir / name).exists():
            try:
                torch_cpu = ctypes.CDLL(str(lib_dir / name))
                single = ctypes.cast(torch_cpu.sgemm_, _P).value
                double = ctypes.cast(torch_cpu.dgemm_, _P).value
            except (OSError, AttributeError):
                break
            return single, double, "torch's BLAS (sgemm_/dgemm_)"
    return None, None, "portable loops (torch exports no BLAS)"


def _declare(handle: ctypes.CDLL) -> None:
    handle.lstmkit_sgemm.argtypes = [_I, _I, _I, _P, _I, _I, _P, _I, _P, ctypes.c_float, _P, _I]
    handle.lstmkit_sgemm.restype = None
    handle.lstmkit_weight_grad.argtypes = [ctypes.c_int64, _I, _P, _I, _P, _I, _I, _P, _P, _I, _I, _I, _P, _P, _I, _P]
    handle.lstmkit_weight_grad.restype = None
    for name, kinds in SIGNATURES.items():
        for suffix in ("f32", "f64"):
            function = getattr(handle, f"lstmkit_{name}_{suffix}")
            function.argtypes = [_KINDS[kind] for kind in kinds]
            function.restype = None
    for name, structure in _STRUCTURES.items():
        size = getattr(handle, f"lstmkit_{name}_call_size")()
        if size != ctypes.sizeof(structure):
            raise AttributeError(f"its {name} call is {size} bytes, lstmkit lays out {ctypes.sizeof(structure)}")
        for suffix in ("f32", "f64"):
            function = getattr(handle, f"lstmkit_{name}_{suffix}")
            function.argtypes = [_I, ctypes.POINTER(structure)]
            function.restype = None
    handle.lstmkit_set_blas.argtypes = [_P, _P, _I]
    handle.lstmkit_set_blas.restype = None


@functools.lru_cache(maxsize=1)
def _load() -> tuple[KernelLibrary | None, str]:
    path = Path(os.environ.get("LSTMKIT_KERNELS_LIBRARY", _artifact.LIBRARY))
    if os.environ.get("LSTMKIT_DISABLE_KERNELS"):
        return None, "disabled by LSTMKIT_DISABLE_KERNELS"
    if not path.exists():
        return None, f"not built ({path.name} is missing)"
    if path == _artifact.LIBRARY and not _artifact.is_current(path):
        return None, "built from older sources (the kernel sources changed since)"
    try:
        handle = ctypes.CDLL(str(path))
        if handle.lstmkit_kernels_abi_version() != ABI_VERSION:
            return None, f"{path.name} has another ABI version than this lstmkit"
        _declare(handle)
    except (OSError, AttributeError) as error:
        return None, f"{path.name} could not be loaded: {error}"
    _set_blas(handle, "own")
    return KernelLibrary(handle, path), ""


_BLAS_NAME = {"name": "", "own_sgemm": False}


BLAS_CHOICES = ("own", "torch", "portable")


def _set_blas(handle: ctypes.CDLL, which: str) -> None:
    single, double, name = _torch_blas() if which != "portable" else (None, None, "portable loops")
    if which == "own":
        name = f"lstmkit's packed sgemm (float32), {name.replace('sgemm_/dgemm_', 'dgemm_')} (float64)"
    handle.lstmkit_set_blas(single, double, int(which == "own"))
    _BLAS_NAME["name"] = name
    _BLAS_NAME["own_sgemm"] = which == "own"


def library() -> KernelLibrary | None:
    """The loaded kernels, or ``None`` (see :func:`unavailable_reason`)."""
    return _load()[0]


def unavailable_reason() -> str:
    """Why the kernels can't run (empty when they can)."""
    return _load()[1]


def blas_name() -> str:
    """Which GEMM the kernels call: torch's BLAS or the portable loops."""
    return _BLAS_NAME["name"] if library() else ""


def own_sgemm() -> bool:
    """True when float32 products run on lstmkit's packed GEMM."""
    return library() is not None and _BLAS_NAME["own_sgemm"]


class use_blas:
    """Context manager for tests and benchmarks: ``with use_blas("portable"): ...`` runs the fallback GEMM."""

    def __init__(self, which: str) -> None:
        if which not in BLAS_CHOICES:
            raise ValueError(f"which must be one of {BLAS_CHOICES}, got {which!r}")
        self.which = which

    def __enter__(self):
        lib = library()
        if lib is None:
            raise RuntimeError(f"lstmkit's kernels are unavailable: {unavailable_reason()}")
        _set_blas(lib.handle, self.which)
        return self

    def __exit__(self, *exc) -> None:
        _set_blas(library().handle, "own")


@functools.lru_cache(maxsize=1)
def warn_unavailable() -> None:
    """Warn once per process that the Python loops run instead of the kernels, and how to build them."""
    warnings.warn(
        f"lstmkit's compiled kernels are unavailable ({unavailable_reason()}); layers run torch's kernel where "
        "it can and lstmkit's slower Python loops for the rest. Build them with `python -m lstmkit.kernels.build` "
        "(needs a C++ compiler such as g++).",
        RuntimeWarning,
        stacklevel=3,
    )
