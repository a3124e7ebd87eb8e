"""Benchmark helpers: speed and memory targets as ratios against a floor measured in the same run.

Each benchmark times skrender and its floor (kustomize, or skaffold where it is on PATH)
alternately, several rounds, and compares medians, so a busy machine slows both alike.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Benchmarks are opt-in (``--benchmark-enable``): CI's verdict never rests on a busy machine's
# timings, and the test suite stays fast.  Skipped before any fixture builds its inputs.
opt_in = pytest.mark.skipif(
    "not config.getoption('benchmark_enable')", reason="benchmarks run with --benchmark-enable"
)
sys.path.insert(0, str(ROOT / "tests"))


def run_quiet(argv: Sequence[str], cwd: Path | str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def median_seconds(action: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def interleaved_medians(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Median wall times of two actions run alternately (one warm-up each)."""
    first()
    second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for action, samples in ((first, a), (second, b)):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)
