"""Download a file once into a cache directory, with a checksum and no half-written files.

Used by every downloadable data set (IMDB, and later ETT, Tatoeba…). A download streams into a
temporary file beside the target and is renamed onto it only when complete and verified, so an
interrupted or corrupt download never leaves a file that a later call would trust. ``file://`` URLs
work too (urllib handles them), which is how the tests exercise this without a network.

Checksums: with ``sha256`` given, the file must match it. Without one, the digest of the first
download is recorded in ``NAME.sha256`` beside the file (``sha256sum`` format) and later uses verify
the cached file against that record (trust on first use).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from lstmkit.errors import DataError
from lstmkit.io import atomic_write

__all__ = ["cache_dir", "download", "file_sha256", "DownloadError"]

_CHUNK = 1 << 20


class DownloadError(DataError):
    """The file could not be fetched (network, missing URL) or did not match its checksum."""


def cache_dir() -> Path:
    """Where downloads are kept: ``$LSTMKIT_CACHE`` if set, else ``~/.cache/lstmkit``."""
    configured = os.environ.get("LSTMKIT_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "lstmkit"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _recorded_sha256(path: Path) -> str | None:
    record = _record_path(path)
    if not record.is_file():
        return None
    fields = record.read_text(encoding="utf-8").split()
    return fields[0].lower() if fields else None


def _write_record(path: Path, digest: str) -> None:
    atomic_write(_record_path(path), lambda tmp: tmp.write_text(f"{digest}  {path.name}\n", encoding="utf-8"))


def _fetch(url: str, tmp: Path, expected: str | None, progress: bool) -> str:
    """Stream ``url`` into ``tmp``; return its SHA-256, raising if it differs from ``expected``."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, last_report = 0, 0.0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress and time.monotonic() - last_report > 0.5:
                    last_report = time.monotonic()
                    of_total = f" of {total / 1e6:.1f}" if total else ""
                    print(f"\rdownloading {url}: {done / 1e6:.1f}{of_total} MB", end="", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"could not download {url}: {getattr(exc, 'reason', exc)}") from None
    if progress:
        print(f"\rdownloaded {url}: {done / 1e6:.1f} MB", file=sys.stderr)
    actual = digest.hexdigest()
    if expected is not None and actual != expected:
        raise DownloadError(f"checksum mismatch for {url}: expected sha256 {expected}, got {actual}")
    return actual


def download(
    url: str, filename: str, sha256: str | None = None, cache: str | Path | None = None, progress: bool = True
) -> Path:
    """Return the path of ``filename`` in the cache, downloading it from ``url`` if needed.

    ``cache`` defaults to :func:`cache_dir`. A cached file is reused when it matches ``sha256`` (or
    the digest recorded at its first download); one that does not is deleted and fetched again.
    ``progress`` prints a progress line on stderr. To install a file fetched by other means, put it
    at the returned path (``cache/filename``).
    """
    if not filename or Path(filename).name != filename or filename in (".", ".."):
        raise ValueError(f"filename: expected a plain file name, got {filename!r}")
    expected = sha256.lower() if sha256 else None
    target = Path(cache) if cache is not None else cache_dir()
    path = target / filename
    if path.is_file():
        wanted = expected or _recorded_sha256(path)
        if wanted is None:
            _write_record(path, file_sha256(path))
            return path
        actual = file_sha256(path)
        if actual == wanted:
            return path
        warnings.warn(f"cached {path} has sha256 {actual}, expected {wanted}: downloading it again", stacklevel=2)
        path.unlink()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache directory {target}: {exc}") from None
    digests: list[str] = []
    atomic_write(path, lambda tmp: digests.append(_fetch(url, tmp, expected, progress)))
    _write_record(path, digests[0])
    return path
