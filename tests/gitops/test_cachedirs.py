"""Bulk's caches stay bounded: the most recently used entries are kept, other code's dropped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_bulk import _options, monorepo  # noqa: F401

from engine.gitops import bulk, cachedirs, kcache


def _entry(directory: Path, key: str, used: int) -> Path:
    path = directory / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (used, used))
    return path


def test_keep_recent_deletes_the_least_recently_used(tmp_path: Path) -> None:
    paths = [_entry(tmp_path, f"{i:02x}{i:062x}", 1_000_000 + i) for i in range(5)]
    assert cachedirs.keep_recent(str(tmp_path), 5) == 0
    cachedirs.touch(str(paths[0]))  # used now: the newest
    assert cachedirs.keep_recent(str(tmp_path), 2) == 3
    assert [p.exists() for p in paths] == [True, False, False, False, True]
    assert cachedirs.keep_recent(str(tmp_path / "absent"), 1) == 0


def test_remove_other_stamps_keeps_only_the_current(tmp_path: Path) -> None:
    for stamp in ("old", "current", "older"):
        _entry(tmp_path / stamp, "ab" * 32, 1)
    cachedirs.remove_other_stamps(str(tmp_path), "current")
    assert sorted(os.listdir(tmp_path)) == ["current"]


def test_keep_count_is_a_few_runs_and_never_below_the_minimum() -> None:
    assert cachedirs.keep_count(1) == cachedirs.MIN_ENTRIES
    assert cachedirs.keep_count(10_000) == cachedirs.RUNS_KEPT * 10_000


def test_kustomize_hit_marks_its_entry_used(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    cache = kcache.KustomizeCache(str(tmp_path / "c"))
    argv = ["kubectl", "kustomize", str(tmp_path)]
    assert cache.run(argv, cwd=str(tmp_path), env=None)[1] == "miss"
    (entry,) = [p for p in (tmp_path / "c" / "kustomize" / "v1" / "out").rglob("*") if p.is_file()]
    os.utime(entry, (1, 1))
    assert cache.run(argv, cwd=str(tmp_path), env=None)[1] == "hit"
    assert entry.stat().st_mtime > 1
    assert cache.trim(0) == 1 and not entry.exists()
    assert cache.run(argv, cwd=str(tmp_path), env=None)[1] == "miss"  # gone is a miss


def test_bulk_drops_old_code_and_trims_every_cache(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    stale = {
        "config": _entry(cache / "config" / "v1" / "oldstamp", "cd" * 32, 1),
        "render": _entry(cache / "render" / "v1" / "oldstamp", "cd" * 32, 1),
    }
    monkeypatch.setattr(cachedirs, "MIN_ENTRIES", 1)
    monkeypatch.setattr(cachedirs, "RUNS_KEPT", 1)
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", cache))
    assert not result.failed
    assert not any(path.exists() for path in stale.values())
    renders = len(result.outcomes)
    for layout in ("kustomize/v1/out", "kustomize/v1/deps", "config/v1/*", "render/v1/*"):
        (directory,) = cache.glob(layout)
        entries = [p for p in directory.rglob("*") if p.is_file()]
        kept = renders * (kcache.DEPS_PER_BUILD if layout.endswith("deps") else 1)
        assert 0 < len(entries) <= kept, layout
    # an over-full cache is trimmed back to one run's worth
    out = cache / "kustomize" / "v1" / "out"
    extra = [_entry(out, f"ee{i:062x}", 1) for i in range(3 * renders)]
    bulk.run_bulk(_options(monorepo, tmp_path / "out", cache))
    assert not any(path.exists() for path in extra)
