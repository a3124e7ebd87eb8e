"""skrender bulk: byte-identical to per-service renders, cached or not; isolation, sharding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import bulk, cli, git, kcache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "golden" / "tool"))

ENVS = (
    bulk.Environment("develop", ("--digest-source=tag", "--offline=true"), "gcr.io/p"),
    bulk.Environment(
        "production", ("-p", "production", "--digest-source=tag", "--offline=true"), "gcr.io/p"
    ),
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@t.invalid",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@t.invalid",
    "GIT_AUTHOR_DATE": "2021-03-04T05:06:07+0000",
    "GIT_COMMITTER_DATE": "2021-03-04T05:06:07+0000",
}


@pytest.fixture()
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 4-service monorepo (make_monorepo.py), committed, with a fresh HOME."""
    import make_monorepo

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    make_monorepo.generate(str(repo), 4)
    git.clear_cache()
    bulk._service_envs.clear()
    return repo


def _commit(repo: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True)
    git.clear_cache()


def _single_render(service: Path, env: bulk.Environment, out: Path) -> bytes:
    """What `skrender render <env args> --output out` writes, run in the service directory."""
    cwd = os.getcwd()
    os.chdir(service)
    try:
        code = cli.main(["render", *env.render_args(), "--output", str(out)])
    finally:
        os.chdir(cwd)
    assert code == 0
    return out.read_bytes()


def _options(repo: Path, out: Path, cache: Path | None, **kw: object) -> bulk.BulkOptions:
    services = bulk.discover_services([str(repo)])
    return bulk.BulkOptions(
        tuple(services), ENVS, str(out), jobs=2, cache_dir=str(cache) if cache else None, **kw
    )  # type: ignore[arg-type]


def test_bulk_matches_single_renders_with_and_without_cache(monorepo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = bulk.run_bulk(_options(monorepo, tmp_path / "cold", cache))
    assert not cold.failed and cold.cache["misses"] == 8 and cold.cache["hits"] == 0
    warm = bulk.run_bulk(_options(monorepo, tmp_path / "warm", cache))
    assert warm.cache["hits"] == 8 and warm.cache["misses"] == 0
    plain = bulk.run_bulk(_options(monorepo, tmp_path / "plain", None))
    assert plain.cache["hits"] == 0
    for service in bulk.discover_services([str(monorepo)]):
        for env in ENVS:
            expected = _single_render(Path(service.path), env, tmp_path / "single.yaml")
            for run in ("cold", "warm", "plain"):
                got = tmp_path / run / service.name / env.name / "manifest.yaml"
                assert got.read_bytes() == expected, (run, service.name, env.name)


def test_new_commit_retags_from_cache(monorepo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bulk.run_bulk(_options(monorepo, tmp_path / "out", cache))
    (monorepo / "README.md").write_text("changed\n")
    _commit(monorepo, "docs")
    sha = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=monorepo, capture_output=True, text=True
    ).stdout.strip()
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", cache))
    assert result.cache["hits"] == 8 and not result.failed
    service = bulk.discover_services([str(monorepo)])[0]
    text = (tmp_path / "out" / service.name / "production" / "manifest.yaml").read_text()
    assert f"production-{sha}" in text
    expected = _single_render(Path(service.path), ENVS[1], tmp_path / "single.yaml")
    assert text.encode() == expected


def test_dirty_directory_is_left_to_git(monorepo: Path, tmp_path: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    (Path(services[0].path) / "src" / "api" / "main.txt").write_text("edited\n")
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", None))
    dirty = {i["tag"] for o in result.outcomes if o.service == services[0].name for i in o.images}
    clean = {i["tag"] for o in result.outcomes if o.service == services[1].name for i in o.images}
    assert all(t.endswith("-dirty") for t in dirty)
    assert not any(t.endswith("-dirty") for t in clean)


def test_one_failure_does_not_stop_the_others(monorepo: Path, tmp_path: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    out = tmp_path / "out"
    bulk.run_bulk(_options(monorepo, out, None))
    broken = Path(services[1].path) / "kubernetes" / "base" / "kustomization.yaml"
    previous = (out / services[1].name / "develop" / "manifest.yaml").read_bytes()
    broken.write_text("resources:\n- missing.yaml\n")
    result = bulk.run_bulk(_options(monorepo, out, tmp_path / "cache"))
    failed = {(o.service, o.environment) for o in result.failed}
    assert failed == {(services[1].name, "develop"), (services[1].name, "production")}
    assert all(o.status == "ok" for o in result.outcomes if o.service != services[1].name)
    # the failed render left its previous output untouched
    assert (out / services[1].name / "develop" / "manifest.yaml").read_bytes() == previous
    report = result.as_json()
    assert report["summary"] == {**report["summary"], "total": 8, "failed": 2, "ok": 6}


def test_cli_exit_code_report_and_summary(monorepo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable,
        "-m",
        "engine",
        "bulk",
        str(monorepo),
        "--out",
        str(tmp_path / "o"),
        "--env",
        "develop=--digest-source=tag,--offline=true",
        "--env",
        "production=-p,production,--digest-source=tag,--offline=true",
        "--default-repo",
        "gcr.io/p",
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "8 renders" in done.stderr and "[8/8]" in done.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["summary"]["ok"] == 8
    entry = report["renders"][0]
    assert entry["images"][0]["reference"].startswith("gcr.io/p/")
    (monorepo / "services" / "svc002" / "skaffold.yaml").write_text("apiVersion: nope\n")
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "FAILED services/svc002 develop" in done.stderr


def test_shard_is_a_stable_partition() -> None:
    services = [bulk.Service(f"services/svc{i:03d}", f"/x/{i}") for i in range(50)]
    parts = [bulk.shard(services, k, 3) for k in (1, 2, 3)]
    assert sorted(s.name for p in parts for s in p) == [s.name for s in services]
    assert all(parts)
    assert bulk.shard_of("services/svc000", 3) == bulk.shard_of("services/svc000", 3)
    assert bulk.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(bulk.UsageError):
            bulk.parse_shard(bad)


def test_changed_since_selects_services_by_inputs(monorepo: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=monorepo, capture_output=True, text=True
    ).stdout.strip()
    assert bulk.select_changed(services, ENVS, bulk.changed_paths(str(monorepo), head)) == []
    (Path(services[2].path) / "kubernetes" / "base" / "extra.txt").write_text("x\n")
    _commit(monorepo, "touch svc002")
    (monorepo / "README.md").write_text("untracked change\n")
    changed = bulk.changed_paths(str(monorepo), head)
    assert [s.name for s in bulk.select_changed(services, ENVS, changed)] == [services[2].name]


def test_kcache_key_follows_every_input(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (base / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- ../base\nconfigMapGenerator:\n- name: g\n  files:\n  - k=data.txt\n"
    )
    (overlay / "data.txt").write_text("1\n")
    cache = kcache.KustomizeCache(str(tmp_path / "c"))
    argv = ["kubectl", "kustomize", str(overlay)]
    first = cache.key(argv, cwd=str(tmp_path), env=None)
    (overlay / "data.txt").write_text("2\n")
    second = cache.key(argv, cwd=str(tmp_path), env=None)
    (base / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
    third = cache.key(argv, cwd=str(tmp_path), env=None)
    assert len({first, second, third}) == 3
    assert cache.key(argv, cwd=str(tmp_path), env=None) == third
    names = {os.path.basename(p) for p, _ in cache.inputs(str(overlay))}
    assert names == {"kustomization.yaml", "cm.yaml", "data.txt"}


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources:\n- https://github.com/org/repo//deploy?ref=v1\n",
        "resources:\n- github.com/org/repo/deploy\n",
        "helmCharts:\n- name: x\n  repo: https://charts.example\n",
        "somethingNew: [a.yaml]\n",
    ],
)
def test_kcache_refuses_remote_or_unknown_inputs(tmp_path: Path, kustomization: str) -> None:
    (tmp_path / "kustomization.yaml").write_text(kustomization)
    cache = kcache.KustomizeCache(str(tmp_path / "c"))
    with pytest.raises(kcache.Uncacheable):
        cache.key(["kubectl", "kustomize", str(tmp_path)], cwd=str(tmp_path), env=None)


def test_kcache_refuses_unsafe_build_flags(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    cache = kcache.KustomizeCache(str(tmp_path / "c"))
    safe = ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(tmp_path)]
    assert cache.key(safe, cwd=str(tmp_path), env=None)
    with pytest.raises(kcache.Uncacheable):
        cache.key(["kubectl", "kustomize", "--enable-helm", str(tmp_path)], cwd="/", env=None)


def test_config_file_and_env_specs(tmp_path: Path) -> None:
    path = tmp_path / "skrender-bulk.yaml"
    path.write_text(
        "services: [services/*]\nenvironments:\n  develop: {}\n"
        "  production:\n    args: [-p, production]\n    defaultRepo: gcr.io/prod\n"
        "publish:\n  repo: /tmp/m.git\n"
    )
    config = bulk.load_config(str(path))
    assert config.services == ("services/*",)
    assert config.environments[1].render_args() == [
        "-p",
        "production",
        "--default-repo",
        "gcr.io/prod",
    ]
    assert config.publish_repo == "/tmp/m.git"
    assert bulk.parse_env_spec("production=-p,production").args == ("-p", "production")
    assert bulk.parse_env_spec("develop=").args == ()
    path.write_text("environments:\n  x:\n    argz: []\n")
    with pytest.raises(bulk.ConfigError, match=r"environments\.x"):
        bulk.load_config(str(path))
