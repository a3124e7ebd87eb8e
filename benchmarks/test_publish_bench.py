"""Publishing cost must not grow with the manifest repository's history.

Runs only with ``--benchmark-enable`` (the default ``addopts`` disable benchmarks):
``python3 -m pytest benchmarks/test_publish_bench.py --benchmark-enable``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from benchutil import opt_in

from engine.gitops.publish import publish

pytestmark = opt_in

HISTORY = 5000
ROUNDS = 7


@pytest.fixture
def git_env(tmp_path: Path) -> dict[str, str]:
    """Pinned identity and dates, no user or system git configuration."""
    home = tmp_path / "home"
    home.mkdir()
    ident = {"NAME": "Bench", "EMAIL": "bench@example.invalid", "DATE": "2021-03-04T05:06:07Z"}
    env = {
        f"GIT_{role}_{key}": value
        for role in ("AUTHOR", "COMMITTER")
        for key, value in ident.items()
    }
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=str(home), GIT_CONFIG_NOSYSTEM="1"
    )
    return env


def _fast_import_history(repo: Path, env: dict[str, str], commits: int) -> None:
    """``main`` with ``commits`` commits, via git fast-import: the first adds 50 manifests,
    each later one changes one of them (so the tip tree is the same whatever the history)."""
    chunks: list[bytes] = []
    for number in range(1, commits + 1):
        msg = f"render {number}\n".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer CI <ci@example.com> {1600000000 + number} +0000\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg
        )
        for svc in range(50) if number == 1 else [number % 50]:
            content = (f"kind: ConfigMap\nmetadata:\n  name: svc{svc}\n" * 20).encode()
            content += f"revision: {number}\n".encode()
            chunks.append(
                f"M 100644 inline apps/svc{svc}.yaml\ndata {len(content)}\n".encode() + content
            )
        chunks.append(b"\n")
    subprocess.run(
        ["git", "--git-dir", str(repo), "fast-import", "--quiet"],
        input=b"".join(chunks),
        env=env,
        check=True,
    )


def _repo(tmp_path: Path, env: dict[str, str], name: str, commits: int) -> str:
    repo = tmp_path / name
    subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], env=env, check=True)
    # As on GitHub and GitLab: servers allow blob-less fetches.
    config = ["git", "--git-dir", str(repo), "config", "uploadpack.allowFilter", "true"]
    subprocess.run(config, env=env, check=True)
    _fast_import_history(repo, env, commits)
    return str(repo)


def _publisher(repo: str, env: dict[str, str]) -> Callable[[], None]:
    counter = iter(range(1_000_000))

    def once() -> None:
        content = f"kind: ConfigMap\nrevision: {next(counter)}\n".encode()
        result = publish(repo=repo, branch="main", files={"cm.yaml": content}, path="apps", env=env)
        assert result.changed

    return once


def _median_seconds(action: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.mark.integration
def test_publish_cost_independent_of_history(
    benchmark: Any, tmp_path: Path, git_env: dict[str, str]
) -> None:
    fresh = _publisher(_repo(tmp_path, git_env, "fresh.git", 1), git_env)
    long = _publisher(_repo(tmp_path, git_env, "long.git", HISTORY), git_env)
    fresh()  # warm the page cache and the imports for both
    long()
    fresh_time = _median_seconds(fresh, ROUNDS)
    long_time = _median_seconds(long, ROUNDS)
    benchmark.extra_info.update(fresh_s=fresh_time, long_s=long_time)
    benchmark.pedantic(long, rounds=ROUNDS, iterations=1)
    assert long_time <= 2 * fresh_time, (
        f"publishing to a {HISTORY}-commit repo took {long_time:.3f}s, "
        f"a fresh one {fresh_time:.3f}s"
    )
