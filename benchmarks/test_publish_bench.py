"""Publishing cost must not grow with the manifest repository's history, nor (much) with
the number of branches published at once (issue 13: 1,000 branches in one round trip).

Runs only with ``--benchmark-enable`` (the default ``addopts`` disable benchmarks):
``python3 -m pytest benchmarks/test_publish_bench.py --benchmark-enable``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from benchutil import interleaved_medians, opt_in
from fixtures_git import _free_port, _wait_for_port, server_env

from engine.gitops.publish import Target, publish, publish_many

pytestmark = opt_in

HISTORY = 5000
ROUNDS = 7
SERVICES = 500
ENVIRONMENTS = ("staging", "production")
BATCH_ROUNDS = 5
FIRST_ROUNDS = 7  # each round: one 1,000-branch and one single-branch publish
UNCHANGED_BUDGET_S = 3.0  # issue 13: re-publishing 1,000 unchanged branches
FIRST_RATIO = 3.0  # issue 13: publishing 1,000 the first time vs publishing one


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
    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    benchmark.extra_info.update(fresh_s=fresh_time, long_s=long_time, load_avg_1min=load)
    print(f"\npublish: {HISTORY}-commit repo {long_time:.3f}s, fresh {fresh_time:.3f}s; "
          f"load average {load:.2f}")  # fmt: skip
    benchmark.pedantic(long, rounds=ROUNDS, iterations=1)
    assert long_time <= 2 * fresh_time, (
        f"publishing to a {HISTORY}-commit repo took {long_time:.3f}s, "
        f"a fresh one {fresh_time:.3f}s"
    )


# --- 1,000 branches in one batch ------------------------------------------------------------


# Where the benchmark's git daemon keeps its repositories: a tmpfs when there is one.
# A first publish of 1,000 branches makes the server create ~1,500 files (a ref file per
# branch, a directory per service); on this shared VM's root ext4 that cost swings 3-5x with
# what other processes deleted in the last 30 s (perf: ext4 recently_deleted/find_inode_bit),
# so that even a plain `git push --atomic` of 1,000 prepared branches took 0.45-0.57 s there
# against 0.15-0.21 s on a dedicated, freshly made ext4 (what a git host's data volume is) and
# 0.15-0.17 s on tmpfs.  tmpfs stands in for the dedicated volume; no git setting changes.
# $SKRENDER_BENCH_SERVER_DIR puts them elsewhere (say, on the disk under test).
SERVER_STORAGE = Path(os.environ.get("SKRENDER_BENCH_SERVER_DIR", "/dev/shm"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A loopback ``git daemon`` accepting pushes (this benchmark's own); yields a function
    making a fresh empty repository and returning its URL."""
    base = tmp_path_factory.mktemp("publish-bench-daemon")
    storage = SERVER_STORAGE if os.access(SERVER_STORAGE, os.W_OK) else base
    root = Path(tempfile.mkdtemp(prefix="skrender-publish-bench-", dir=storage))
    port = _free_port()
    argv = ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
            "--listen=127.0.0.1", f"--port={port}", f"--base-path={root}", str(root)]  # fmt: skip
    process = subprocess.Popen(
        argv, env=server_env(base), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert _wait_for_port(port, process), "git daemon did not start"
        names = iter(range(1_000_000))

        def create() -> str:
            name = f"r{next(names)}.git"
            subprocess.run(["git", "init", "--quiet", "--bare", str(root / name)], check=True,
                           env=server_env(base))  # fmt: skip
            return f"git://127.0.0.1:{port}/{name}"

        yield create
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _targets(count: int, revision: str) -> list[Target]:
    """``count`` renders of 500 services x 2 environments: a ~2 KB manifest per branch."""
    out = []
    for number in range(count):
        service, environment = f"svc{number // 2:03d}", ENVIRONMENTS[number % 2]
        manifest = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service}\n"
            f"  labels:\n    env: {environment}\nspec:\n  template:\n    spec:\n"
            f"      containers:\n      - name: app\n        image: r.io/{service}:{revision}\n"
        )
        manifest += "".join(f"        # padding line {i}\n" for i in range(60))
        out.append(
            Target(
                branch=f"{service}/{environment}",
                files={"manifest.yaml": manifest.encode()},
                message=f"Publish {service} to {environment}\n",
            )
        )
    return out


@pytest.mark.integration
def test_republishing_1000_unchanged_branches(
    benchmark: Any, daemon: Callable[[], str], git_env: dict[str, str]
) -> None:
    url = daemon()
    targets = _targets(SERVICES * len(ENVIRONMENTS), "v1")
    assert all(r.changed for r in publish_many(repo=url, targets=targets, env=git_env))

    def republish() -> None:
        results = publish_many(repo=url, targets=targets, env=git_env)
        assert not any(r.changed or r.error for r in results)

    seconds = _median_seconds(republish, BATCH_ROUNDS)
    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    benchmark.extra_info.update(unchanged_1000_s=seconds, load_avg_1min=load)
    benchmark.pedantic(republish, rounds=1, iterations=1)
    print(f"\nre-publishing 1000 unchanged branches: {seconds:.3f}s  load average {load:.2f}")
    assert seconds <= UNCHANGED_BUDGET_S, f"{seconds:.3f}s > {UNCHANGED_BUDGET_S}s"


@pytest.mark.integration
def test_first_publish_of_1000_branches_vs_one(
    benchmark: Any, daemon: Callable[[], str], git_env: dict[str, str], tmp_path: Path
) -> None:
    """A first publish of 1,000 branches against one of a single branch.

    Over ``git://`` each of the two round trips (``ls-remote``, ``push``) waits ~40 ms on
    loopback whatever the size: git writes a request in several small packets and the
    second waits for the server's delayed ACK.  That is ~80 ms of the ~120 ms one-branch
    publish (0.05 s to a local path), and the same 80 ms in the 1,000-branch one."""
    many = _targets(SERVICES * len(ENVIRONMENTS), "v1")
    # Fresh repositories made before the clock starts: `git init` is no part of publishing.
    fresh = {size: [daemon() for _ in range(FIRST_ROUNDS + 1)] for size in (1, len(many))}

    def publish_all() -> None:
        results = publish_many(repo=fresh[len(many)].pop(), targets=many, env=git_env)
        assert all(r.changed for r in results)

    def publish_one() -> None:
        (result,) = publish_many(repo=fresh[1].pop(), targets=many[:1], env=git_env)
        assert result.changed

    load_before = os.getloadavg()[0]
    all_s, one_s = interleaved_medians(publish_all, publish_one, FIRST_ROUNDS)
    load = max(load_before, os.getloadavg()[0])  # the machine may be shared: say how busy
    floor_s = _plain_git_push_seconds(daemon, git_env, tmp_path / "built.git")
    benchmark.extra_info.update(
        first_1000_s=all_s, first_one_s=one_s, plain_git_push_1000_s=floor_s, load_avg_1min=load
    )
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # numbers are in extra_info
    print(
        f"\nfirst publish: 1000 branches {all_s:.3f}s, one {one_s:.3f}s ({all_s / one_s:.2f}x); "
        f"plain git push of the same 1000 branches {floor_s:.3f}s; load average {load:.2f}"
    )
    assert all_s <= FIRST_RATIO * one_s, f"{all_s:.3f}s vs {one_s:.3f}s for one"


def _plain_git_push_seconds(
    daemon: Callable[[], str], git_env: dict[str, str], source: Path
) -> float:
    """The server's share, for the record: ``git push --atomic`` of 1,000 branches already
    built (in the local repository ``source``) to a fresh one, median of 3."""
    subprocess.run(["git", "init", "--quiet", "--bare", str(source)], env=git_env, check=True)
    targets = _targets(SERVICES * len(ENVIRONMENTS), "v1")
    assert all(r.changed for r in publish_many(repo=str(source), targets=targets, env=git_env))

    fresh = [daemon() for _ in range(3)]

    def push() -> None:
        argv = ["git", f"--git-dir={source}", "push", "--quiet", "--atomic", fresh.pop(),
                "refs/heads/*:refs/heads/*"]  # fmt: skip
        subprocess.run(argv, env=git_env, check=True, capture_output=True)

    return _median_seconds(push, len(fresh))
