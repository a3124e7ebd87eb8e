"""Atomic file output: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile

from engine.errors import SkrenderError


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename.

    On any failure the previous file (or its absence) is left exactly as it was.  The error
    for a missing directory reads like skaffold's (``open nodir/x.yaml: no such file or
    directory``).
    """
    directory = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=".skrender-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SkrenderError(f"open {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = _existing_mode(path)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise SkrenderError(f"write {path}: {_reason(exc)}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def _existing_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
