"""Whole renders kept between bulk runs (the ``RenderRequest.render_cache`` seam).

The pipeline (``engine.pipeline._render_from_cache``) decides what is cacheable, computes
the key (the flags, the loaded configs, the kube-context, the images' names, the bytes of
every rawYaml file and kustomize output) and stores a template whose image references are
tokens; this module files entries under a stamp of skrender's version and source code, so
an entry written by other code is never read, and counts what happened.

A warm run after a commit that touches no manifest changes every gitCommit tag, and still
hits: the references are not in the key, they are filled into the template.

Layout under the cache directory::

    render/v1/<code stamp>/<2 hex>/<key>    a JSON header line, then the template's bytes

Entries are written atomically; a damaged entry is a miss.  Stamps other than the current
one are removed when a cache opens (old skrender versions' entries are never read again), and
after a run only the most recently used entries are kept (:meth:`RenderCache.trim`: a few
times as many as the run rendered).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

from engine.gitops import cachedirs
from engine.pipeline import CachedRender

_LAYOUT = os.path.join("render", "v1")


@dataclass
class RenderCacheStats:
    """What a :class:`RenderCache` did in this process."""

    hits: int = 0
    misses: int = 0
    uncacheable: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # why renders were not cached

    def as_dict(self) -> dict[str, int]:
        """The counts, for the bulk report."""
        return {"hits": self.hits, "misses": self.misses, "uncacheable": self.uncacheable}


class RenderCache:
    """A ``RenderCache`` (engine.pipeline) under ``directory``, shared by threads."""

    def __init__(self, directory: str) -> None:
        self.root = os.path.join(directory, _LAYOUT)
        self.directory = os.path.join(self.root, code_stamp())
        self.stats = RenderCacheStats()
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedRender | None:
        """The entry under ``key``; None when missing or damaged."""
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        header, newline, body = data.partition(b"\n")
        try:
            record = json.loads(header)
            if not newline or record.get("size") != len(body):
                return None  # cut short
            warnings = tuple(str(w) for w in record["warnings"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        cachedirs.touch(path)  # a hit is a use: trim() keeps what runs use
        return CachedRender(body.decode("utf-8", "surrogateescape"), warnings)

    def put(self, key: str, entry: CachedRender) -> None:
        """Store ``entry`` atomically; a cache that cannot be written is merely not used."""
        from engine.core.errors import SkrenderError
        from engine.core.output import write_atomic

        body = entry.template.encode("utf-8", "surrogateescape")
        header = json.dumps({"size": len(body), "warnings": list(entry.warnings)})
        path = self._path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_atomic(path, header.encode("utf-8", "surrogateescape") + b"\n" + body)
        except (OSError, SkrenderError):
            pass

    def count(self, outcome: str, reason: str = "") -> None:
        """Record one render's ``hit``, ``miss`` or ``uncacheable`` (and why)."""
        with self._lock:
            if outcome == "hit":
                self.stats.hits += 1
            elif outcome == "miss":
                self.stats.misses += 1
            else:
                self.stats.uncacheable += 1
                self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1

    def prune(self) -> None:
        """Remove the entries of other skrender versions (other code stamps)."""
        cachedirs.remove_other_stamps(self.root, os.path.basename(self.directory))

    def trim(self, keep: int) -> int:
        """Delete all but the ``keep`` most recently used entries; returns how many went."""
        return cachedirs.keep_recent(self.directory, keep)

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key)


def code_stamp() -> str:
    """skrender's version and a hash of its Python sources (:func:`kcache.code_stamp`)."""
    from engine.gitops import kcache

    return f"{_version()}-{kcache.code_stamp()}"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("skrender").replace(os.sep, "_")
    except metadata.PackageNotFoundError:
        return "unknown"
