"""Resolving 300 distinct tags: the default pool (``--digest-jobs 8``) against one at a time.

Issue 3's target is the pool at least 5x faster than sequential look-ups.  That target is
about waiting: a real registry is milliseconds to tens of milliseconds away, and eight workers
overlap those waits.  The loopback ``docker-registry`` used here has no network wait at all:
each look-up is pure CPU (the registry's and ours) on the same two cores, so no pool can be
5x faster.  This benchmark therefore measures, in the same run:

* sequential and pooled wall time (interleaved medians) and their ratio;
* the CPU seconds one sequential run spent in this process and in the registry process, which
  bound what any pool can gain here: a pooled run needs at least total CPU / cores of wall time
  (and at least our own CPU time, the GIL), so wall / max(total CPU / cores, our CPU);

and asserts only what holds on a loopback registry, even on a busy machine: the pool is not
slower than sequential (beyond a noise margin).  The 5x target is recorded (``target``) next to
the measured ratio, not asserted: with no network wait there is nothing for a pool to overlap
(README, "Digest resolution").  No latency is simulated.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from benchutil import interleaved_medians, opt_in
from fixtures_registry import (
    MT_OCI_MANIFEST,
    Registry,
    _stop,
    build_image,
    canonical_json,
    start_registry,
)

from engine.registry.resolve import resolve_digests

pytestmark = opt_in

TAGS = 300
POOL_JOBS = 8  # the --digest-jobs default
TARGET_RATIO = 5.0  # the target, reachable only with real network latency
ROUNDS = 3
NOISE_MARGIN = 0.8  # the pool may look this much slower on a loaded 2-core machine, no more
REPO = "digestbench/app"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A loopback docker-registry of this benchmark's own (nothing else loads it)."""
    reg = start_registry(tmp_path_factory.mktemp("digest-bench-registry"))
    yield reg
    _stop(reg.proc)


@pytest.fixture(scope="module")
def bench_refs(registry: Registry) -> list[str]:
    """300 tags of 300 distinct manifests sharing one config and one layer (fast to push)."""
    manifest, media_type, blobs = build_image(f"{REPO}:base", oci=True)
    assert media_type == MT_OCI_MANIFEST
    for digest, blob in sorted(blobs.items()):
        registry.push_blob(REPO, digest, blob)
    base = json.loads(manifest)
    refs = []
    for index in range(TAGS):
        # An annotation makes each manifest (and so each digest) distinct.
        distinct = dict(base, annotations={"skrender.bench/index": str(index)})
        registry.push_manifest(REPO, f"t{index}", canonical_json(distinct), media_type)
        refs.append(registry.ref(f"{REPO}:t{index}"))
    return refs


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of another process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_of(action: Callable[[], object], registry_pid: int) -> tuple[float, float, float]:
    """(wall, our CPU, registry CPU) seconds of one run of ``action``."""
    ours, theirs, start = time.process_time(), _cpu_seconds(registry_pid), time.perf_counter()
    action()
    wall = time.perf_counter() - start
    return wall, time.process_time() - ours, _cpu_seconds(registry_pid) - theirs


def test_pool_vs_sequential(benchmark: Any, registry: Registry, bench_refs: list[str]) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(Path.cwd())}

    def resolve(jobs: int) -> dict[str, str]:
        return resolve_digests(bench_refs, resolver="registry", jobs=jobs, env=env, timeout=120)

    digests = resolve(POOL_JOBS)
    assert len(digests) == TAGS and len(set(digests.values())) == TAGS

    assert registry.proc is not None
    seq_wall, our_cpu, registry_cpu = _cpu_of(lambda: resolve(1), registry.proc.pid)
    cores = len(os.sched_getaffinity(0))
    total_cpu = our_cpu + registry_cpu
    ceiling = seq_wall / max(total_cpu / cores, our_cpu)

    sequential_s, pool_s = interleaved_medians(
        lambda: resolve(1), lambda: resolve(POOL_JOBS), rounds=ROUNDS
    )
    ratio = sequential_s / pool_s
    benchmark.extra_info.update(
        tags=TAGS,
        jobs=POOL_JOBS,
        sequential_ms=round(sequential_s * 1000, 1),
        pool_ms=round(pool_s * 1000, 1),
        ratio=round(ratio, 2),
        target=TARGET_RATIO,
        cpu_ceiling=round(ceiling, 2),
        sequential_cpu_share=round(total_cpu / seq_wall, 2),
        per_lookup_cpu_ms=round((our_cpu + registry_cpu) * 1000 / TAGS, 2),
        cores=cores,
    )
    benchmark.pedantic(resolve, args=(POOL_JOBS,), rounds=3, iterations=1)
    print(
        f"\n{TAGS} tags: sequential {sequential_s * 1e3:.0f} ms, jobs={POOL_JOBS} "
        f"{pool_s * 1e3:.0f} ms, x{ratio:.2f} (CPU ceiling on {cores} cores x{ceiling:.2f}; "
        f"per look-up {our_cpu * 1e3 / TAGS:.2f} ms here + {registry_cpu * 1e3 / TAGS:.2f} ms "
        f"in the registry; CPU busy {100 * total_cpu / seq_wall:.0f}% of the sequential run)"
    )
    assert ratio >= NOISE_MARGIN
