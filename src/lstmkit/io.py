"""Files that never end up half-written: atomic writes, JSON and safetensors.

Every writer puts the bytes in a temporary file in the target's directory, flushes them to disk,
then renames it over the target (``os.replace`` is atomic on POSIX and Windows). A crash at any
moment leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from lstmkit.config_json import FieldError
from lstmkit.errors import DataError, LstmkitError, RunDirectoryError

__all__ = [
    "check_output_file",
    "check_output_folder",
    "umask",
    "atomic_write",
    "finite_or_null",
    "write_json",
    "read_json",
    "parsing",
    "load_json",
    "save_weights",
    "read_tensors",
    "load_weights",
    "weight_shapes",
    "check_shapes",
    "state_shapes",
]


def check_output_file(path: str | Path, option: str) -> Path:
    """``path`` as a file this run may write (create or replace): not a folder, in a folder that
    exists and is writable; else an :class:`LstmkitError` naming ``option``. Checked before any work,
    so a long computation never ends on a path it cannot write."""
    path = Path(path)
    if path.is_dir():
        raise LstmkitError(f"{option} {path} is a folder; give a file name in it")
    _check_folder_of(path, option)
    return path


def check_output_folder(path: str | Path, option: str) -> Path:
    """``path`` as a folder this run may write into (it may not exist yet): not a file, and the nearest
    existing folder above it writable; else an :class:`LstmkitError` naming ``option``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LstmkitError(f"{option} {path} is a file, not a folder")
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    if not existing.is_dir():
        raise LstmkitError(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise LstmkitError(f"{option} {path}: the folder {existing} is not writable")
    return path


def _check_folder_of(path: Path, option: str) -> None:
    folder = path.absolute().parent
    if not folder.is_dir():
        found = "a file" if folder.exists() else "missing"
        raise LstmkitError(f"{option} {path}: its folder {folder} is {found}; create the folder first")
    if not os.access(folder, os.W_OK):
        raise LstmkitError(f"{option} {path}: the folder {folder} is not writable")


def umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only be read by setting it,
    which would briefly change it for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc (macOS): set and put back at once
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None], mode: int = 0o666) -> Path:
    """Call ``write(temporary_path)``, then move the finished file onto ``path`` atomically.

    The file gets ``mode`` less the user's umask, as ``open`` would create it (the temporary file
    starts private, 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, mode & ~umask())
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON (Chinese stays readable: ``ensure_ascii=False``).

    Strict JSON: a NaN or infinity (which Python would write as ``NaN``/``Infinity``, and other JSON
    readers reject) is refused, naming the file.
    """
    try:
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False) + "\n"
    except ValueError:
        raise DataError(f"{Path(path).name} would hold a NaN or infinite number: {_non_finite(data)}") from None
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _non_finite(data: Any, where: str = "") -> list[str]:
    """The dotted paths of the NaN and infinite floats in ``data``."""
    if isinstance(data, float):
        return [] if math.isfinite(data) else [where or "the value"]
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(data, (list, tuple)):
        return [p for i, v in enumerate(data) for p in _non_finite(v, f"{where}[{i}]")]
    return []


def finite_or_null(data: Any) -> tuple[Any, list[str]]:
    """``data`` with every NaN or infinite float replaced by ``None``, and the paths replaced."""
    replaced = _non_finite(data)

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(data), replaced


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"missing file: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunDirectoryError(f"{path} is not valid UTF-8 JSON: {exc}") from None


T = TypeVar("T")


@contextmanager
def parsing(path: str | Path, problem: str = "cannot be read back (damaged or edited?)") -> Iterator[None]:
    """Read the content of ``path`` inside this block: what a damaged or hand-edited file breaks there is a
    :class:`RunDirectoryError` saying ``{path} {problem}: {reason}``.

    The ``from_dict`` constructors index, compare and convert the entries lstmkit wrote; an entry that is
    missing or of another type fails deep inside them as a KeyError, TypeError or ValueError that says
    nothing of the file (and a size past what torch can index, as a RuntimeError; a config field's own
    check, as a DataError). A RunDirectoryError, which names its file already, passes through unchanged.
    A value the config classes' type check refuses (:class:`~lstmkit.config_json.FieldError`) is named by
    its field: ``{path} {problem}: train.epochs: expected int, got 2.5``.
    """
    try:
        yield
    except RunDirectoryError:
        raise
    except FieldError as exc:
        raise RunDirectoryError(f"{path} {problem}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        reason = f"no entry {exc}" if isinstance(exc, KeyError) else str(exc)
        raise RunDirectoryError(f"{path} {problem}: {reason}") from None


def load_json(path: str | Path, parse: Callable[[Any], T]) -> T:
    """``parse`` of the JSON content of ``path``, what it fails on reported as :func:`parsing` does."""
    content = read_json(path)
    with parsing(path):
        return parse(content)


def save_weights(path: str | Path, state_dict: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> Path:
    """Save a state dict as safetensors (no pickle: loading it can never run code)."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_tensors(path: str | Path, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; with ``names``, exactly those must be in it."""
    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"missing weights file: {path}")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunDirectoryError(f"{path} is not a readable safetensors file (corrupted?): {exc}") from None
    if names is not None and set(names) != set(tensors):
        missing, unexpected = sorted(set(names) - set(tensors)), sorted(set(tensors) - set(names))
        raise RunDirectoryError(f"{path} does not match: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return tensors


def weight_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a safetensors file, read from its header alone."""
    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"missing weights file: {path}")
    try:
        with safe_open(str(path), "pt") as handle:
            return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunDirectoryError(f"{path} is not a readable safetensors file (corrupted?): {exc}") from None


def check_shapes(path: str | Path, shapes: dict[str, tuple[int, ...]], expected: dict[str, torch.Size]) -> None:
    """Refuse weights ``shapes`` (from ``path``) that are not exactly the ``expected`` names and shapes."""
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        raise RunDirectoryError(f"{path} does not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, shape in shapes.items():
        if tuple(shape) != tuple(expected[name]):
            wanted = tuple(expected[name])
            raise RunDirectoryError(f"{path}: {name} has shape {tuple(shape)}, the model expects {wanted}")


def load_weights(path: str | Path, model: torch.nn.Module) -> None:
    """Load safetensors weights into ``model``, checking names, shapes and values before touching it
    (NaN or infinite weights, as a diverged run leaves, are refused)."""
    tensors = read_tensors(path)
    check_shapes(path, {name: tuple(t.shape) for name, t in tensors.items()}, state_shapes(model))
    broken = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if broken:
        raise RunDirectoryError(f"{path}: {', '.join(broken[:5])} hold NaN or infinite values (did training diverge?)")
    model.load_state_dict(tensors)


def state_shapes(model: torch.nn.Module) -> dict[str, torch.Size]:
    """The shape of every tensor in ``model``'s state dict (also of a model on the meta device)."""
    return {name: t.shape for name, t in model.state_dict().items()}
