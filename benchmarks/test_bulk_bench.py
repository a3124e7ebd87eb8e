"""`skrender bulk` over a 500-service monorepo (1,000 renders: develop and production).

Targets (issue 13), the floor measured in the same run:
- cold (empty caches): at most 1.2x the same 1,000 `kubectl kustomize` runs, 2 at a time;
- warm, after a commit that touches no manifest (every gitCommit tag changes): at most 1.5 s;
- peak RSS of the bulk process (its largest process): under 100 MB.
Also checks that bulk output is byte-identical to a per-service `skrender render`.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from benchutil import ROOT, opt_in

pytestmark = opt_in

sys.path.insert(0, str(ROOT / "golden" / "tool"))

SERVICES = 500
JOBS = 2  # the floor: kustomize builds 2 at a time
ENV_ARGS = [
    "--env", "develop=--digest-source=tag,--offline=true",
    "--env", "production=-p,production,--digest-source=tag,--offline=true",
    "--default-repo", "gcr.io/golden-proj",
]  # fmt: skip


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    import make_monorepo

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "engine")], check=True)
    work = tmp_path_factory.mktemp("bulk")
    home = work / "home"
    home.mkdir()
    repo = work / "repo"
    make_monorepo.generate(str(repo), SERVICES)
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CACHE_HOME": str(work / "xdg"),
    }  # fmt: skip
    return repo, env


def _bulk(repo: Path, env: dict[str, str], out: Path, cache: Path) -> float:
    argv = [sys.executable, "-m", "engine", "bulk", str(repo), *ENV_ARGS, "--out", str(out),
            "--cache-dir", str(cache), "--progress", "none", "--jobs", str(JOBS)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return elapsed


def _kustomize_floor(repo: Path) -> float:
    paths = [
        str(p / "kubernetes" / "overlays" / e)
        for p in sorted((repo / "services").iterdir())
        for e in ("develop", "production")
    ]

    def one(path: str) -> None:
        subprocess.run(["kubectl", "kustomize", path], capture_output=True, check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - start


def test_bulk_cold_warm_memory(benchmark, monorepo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo, env = monorepo
    floor = min(_kustomize_floor(repo) for _ in range(2))
    colds = []
    for round_ in range(2):
        cache = tmp_path / f"cache{round_}"
        colds.append(_bulk(repo, env, tmp_path / f"cold{round_}", cache))
    cold = min(colds)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    git_env = {**env, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    warms = []
    for round_ in range(3):  # each after its own commit: new tags, every output rewritten
        (repo / "README.md").write_text(f"commit {round_}: touches no manifest\n")
        subprocess.run(["git", "commit", "-qam", "docs"], cwd=repo, env=git_env, check=True)
        warms.append(_bulk(repo, env, tmp_path / "warm", tmp_path / "cache0"))
        summary = json.loads((tmp_path / "warm" / "report.json").read_text())["summary"]
        assert summary["render_cache"]["hits"] == 2 * SERVICES, summary
    warm = min(warms)
    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    benchmark.extra_info.update(
        floor_s=round(floor, 2), cold_s=round(cold, 2), warm_s=round(warm, 2),
        cold_ratio=round(cold / floor, 2), warms_s=[round(w, 2) for w in warms],
        peak_rss_mb=round(rss_mb, 1), load_avg_1min=round(load, 2),
    )  # fmt: skip
    print(
        f"\nfloor {floor:.2f}s  cold {cold:.2f}s ({cold / floor:.2f}x)  warm {warm:.2f}s "
        f"(runs {', '.join(f'{w:.2f}' for w in warms)})  peak RSS {rss_mb:.0f} MB  "
        f"load average {load:.2f}"
    )
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # numbers are in extra_info
    _check_identical(repo, env, tmp_path / "warm", tmp_path)
    if shutil.which("skaffold"):
        print("skaffold on PATH: loop ratio not measured in this run")
    assert cold <= 1.2 * floor
    assert warm <= 1.5
    assert rss_mb < 100


def _check_identical(repo: Path, env: dict[str, str], out: Path, tmp: Path) -> None:
    """A sample of per-service renders (every 25th service; the test suite checks all)."""
    for service in sorted((repo / "services").iterdir())[::25]:
        for name, args in (("develop", []), ("production", ["-p", "production"])):
            target = tmp / "single.yaml"
            argv = [sys.executable, "-m", "engine", "render", *args, "--digest-source=tag",
                    "--offline=true", "-d", "gcr.io/golden-proj", "-o", str(target)]  # fmt: skip
            subprocess.run(argv, cwd=service, env=env, check=True, capture_output=True)
            got = (out / service.name / name / "manifest.yaml").read_bytes()
            assert got == target.read_bytes(), (service.name, name)
