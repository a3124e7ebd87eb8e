"""Private scratch directories that a killed run cannot leave behind for long.

Each directory lives under ``$TMPDIR/skrender-<uid>/`` (mode 0700, checked to be ours) and
holds a lock file its owner keeps ``flock``-ed while it lives.  A process killed with SIGKILL
cannot remove its directory, so every new one first removes the directories whose lock
nobody holds any more.  Nothing secret is ever written into one (see
:mod:`engine.gitops.remote` for where credentials go).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time

_LOCK_NAME = ".owner-lock"
# A directory without a lock file is one being created, unless it is older than this.
_UNLOCKED_GRACE_SECONDS = 600.0


class ScratchDir:
    """A fresh private directory (``path``), locked until :meth:`close` removes it."""

    def __init__(self, purpose: str) -> None:
        parent = _private_parent()
        if parent is not None:
            remove_stale(parent, purpose)
        self.path = tempfile.mkdtemp(prefix=f"{purpose}-", dir=parent)
        self._lock_fd: int | None = _lock(os.path.join(self.path, _LOCK_NAME))

    def close(self) -> None:
        """Remove the directory (then release the lock: a cleaner never races the removal)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def remove_stale(parent: str, purpose: str) -> None:
    """Remove the ``purpose-*`` directories under ``parent`` whose owner is gone."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(f"{purpose}-"):
            continue
        path = os.path.join(parent, name)
        lock_path = os.path.join(path, _LOCK_NAME)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            if _older_than(path, _UNLOCKED_GRACE_SECONDS):
                shutil.rmtree(path, ignore_errors=True)
            continue
        except OSError:
            continue
        try:
            if _try_flock(fd):
                shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def _private_parent() -> str | None:
    """``$TMPDIR/skrender-<uid>``, created 0700; None (use $TMPDIR itself) when it is not
    a directory of ours that only we can enter."""
    if not hasattr(os, "getuid"):
        return None
    parent = os.path.join(tempfile.gettempdir(), f"skrender-{os.getuid()}")
    try:
        os.mkdir(parent, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(parent)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
    return parent if private and not info.st_mode & 0o077 else None


def _lock(path: str) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    if _try_flock(fd):
        return fd
    os.close(fd)
    return None


def _try_flock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # no flock: stale directories are left to the system's tmp cleaner
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.lstat(path).st_mtime > seconds
    except OSError:
        return False
