"""Keeping bulk's cache directories bounded (kustomize builds, parsed configs, renders).

Each cache files its entries as ``<directory>/<2 hex>/<key>`` and touches an entry when a run
uses it, so an entry's mtime is its last use.  After a run, :func:`keep_recent` deletes all
but the most recently used entries; when a cache opens, :func:`remove_other_stamps` deletes
the entries of other skrender code (they are never read again).  Deleting is always safe: an
entry that is gone is a miss, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import os
import shutil

# After a run, keep this many runs' worth of entries (and never fewer than the minimum), so
# switching between a few branches of the monorepo stays warm.
RUNS_KEPT = 4
MIN_ENTRIES = 1000


def keep_count(used_per_run: int) -> int:
    """How many entries a cache keeps after a run that used ``used_per_run``."""
    return max(MIN_ENTRIES, RUNS_KEPT * used_per_run)


def touch(path: str) -> None:
    """Mark an entry as used now (what :func:`keep_recent` orders by)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def keep_recent(directory: str, keep: int) -> int:
    """Delete all but the ``keep`` most recently used entries; returns how many went.

    Listing the entries is the only cost when there are fewer (a few milliseconds).
    """
    entries: list[os.DirEntry[str]] = []
    try:
        with os.scandir(directory) as fans:
            for fan in fans:
                with contextlib.suppress(OSError), os.scandir(fan.path) as files:
                    entries.extend(files)
    except OSError:
        return 0
    if len(entries) <= keep:
        return 0

    def used(entry: os.DirEntry[str]) -> int:
        try:
            return entry.stat().st_mtime_ns
        except OSError:
            return 0

    entries.sort(key=used)
    removed = 0
    for entry in entries[: len(entries) - keep]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed += 1
    return removed


def remove_other_stamps(root: str, current: str) -> None:
    """Delete every ``root/<stamp>`` but ``root/<current>``."""
    try:
        stamps = os.listdir(root)
    except OSError:
        return
    for stamp in stamps:
        if stamp != current:
            shutil.rmtree(os.path.join(root, stamp), ignore_errors=True)
