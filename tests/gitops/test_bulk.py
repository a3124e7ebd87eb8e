"""skrender bulk: byte-identical to per-service renders, cached or not; isolation, sharding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli, yamlv3
from engine.commands._flags import parse_render_request
from engine.core import git
from engine.core.errors import ConfigError, UsageError
from engine.gitops import bulk, environments, kcache, services
from engine.skaffold import config

ROOT = Path(__file__).resolve().parents[2]
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
    environments._service_envs.clear()
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
        tuple(services),
        ENVS,
        str(out),
        parse_render_request,
        jobs=2,
        cache_dir=str(cache) if cache else None,
        **kw,
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
            expected = _single_render(Path(service.directory), env, tmp_path / "single.yaml")
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
    expected = _single_render(Path(service.directory), ENVS[1], tmp_path / "single.yaml")
    assert text.encode() == expected


def test_dirty_directory_is_left_to_git(monorepo: Path, tmp_path: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    (Path(services[0].directory) / "src" / "api" / "main.txt").write_text("edited\n")
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", None))
    dirty = {i["tag"] for o in result.outcomes if o.service == services[0].name for i in o.images}
    clean = {i["tag"] for o in result.outcomes if o.service == services[1].name for i in o.images}
    assert all(t.endswith("-dirty") for t in dirty)
    assert not any(t.endswith("-dirty") for t in clean)


def test_one_failure_does_not_stop_the_others(monorepo: Path, tmp_path: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    out = tmp_path / "out"
    bulk.run_bulk(_options(monorepo, out, None))
    broken = Path(services[1].directory) / "kubernetes" / "base" / "kustomization.yaml"
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
    renders = report["summary"]["render_cache"]
    assert renders["misses"] + renders["uncacheable"] == 8 and renders["hits"] == 0
    said = f"render cache: 0 hits, {renders['misses']} misses, {renders['uncacheable']} uncacheable"
    assert said in done.stderr
    entry = report["renders"][0]
    assert entry["images"][0]["reference"].startswith("gcr.io/p/")
    (monorepo / "services" / "svc002" / "skaffold.yaml").write_text("apiVersion: nope\n")
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "FAILED svc002 develop" in done.stderr


def test_shard_is_a_stable_partition() -> None:
    services = [bulk.Service(f"svc{i:03d}", f"/x/svc{i:03d}", "", ".") for i in range(50)]
    parts = [bulk.shard(services, k, 3) for k in (1, 2, 3)]
    assert sorted(s.name for p in parts for s in p) == [s.name for s in services]
    assert all(parts)
    assert bulk.shard_of("svc000", 3) == bulk.shard_of("svc000", 3)
    assert bulk.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(UsageError):
            bulk.parse_shard(bad)


def test_services_are_named_like_gitops_names_them(monorepo: Path, tmp_path: Path) -> None:
    found = bulk.discover_services([str(monorepo)])
    assert [s.name for s in found] == ["svc000", "svc001", "svc002", "svc003"]
    assert all(s.name == services.service_name(s.directory) for s in found)
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", None))
    assert not result.failed
    layout = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.yaml")
    )
    assert layout[:2] == ["svc000/develop/manifest.yaml", "svc000/production/manifest.yaml"]
    assert len(layout) == 8


def test_globs_and_excludes_select_services(monorepo: Path) -> None:
    by_glob = bulk.discover_services([str(monorepo)], patterns=["services/svc00[12]"])
    assert [s.name for s in by_glob] == ["svc001", "svc002"]
    # exclude globs match a name or the path below the root
    left = bulk.discover_services([str(monorepo)], exclude=["svc000", "services/svc003"])
    assert [s.name for s in left] == ["svc001", "svc002"]


def test_two_services_with_one_name_are_a_config_error(monorepo: Path) -> None:
    twin = monorepo / "legacy" / "svc001"
    shutil.copytree(monorepo / "services" / "svc001", twin)
    with pytest.raises(ConfigError) as info:
        bulk.discover_services([str(monorepo)])
    message = str(info.value)
    assert "'svc001'" in message
    assert os.path.join("legacy", "svc001") in message
    assert os.path.join("services", "svc001") in message
    # excluding one of the two resolves the clash
    kept = bulk.discover_services([str(monorepo)], exclude=["legacy/*"])
    assert [s.directory for s in kept if s.name == "svc001"] == [
        str(monorepo / "services" / "svc001")
    ]


def test_branch_template_placeholders_are_checked_up_front(monorepo: Path, tmp_path: Path) -> None:
    options = _options(
        monorepo, tmp_path / "out", None, publish_repo="/nowhere", branch_template="{svc}/x"
    )
    with pytest.raises(UsageError, match=r"unknown placeholder \{svc\}"):
        bulk.run_bulk(options)
    assert not (tmp_path / "out").exists()
    assert bulk.publish_target(
        options.__class__(
            (),
            (),
            "",
            parse_render_request,
            branch_template="{{{service}}}-{environment}",
            publish_path="{service}",
        ),
        "foo",
        "prod",
    ) == ("{foo}-prod", "foo")


def test_changed_since_selects_services_by_inputs(monorepo: Path) -> None:
    services = bulk.discover_services([str(monorepo)])
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=monorepo, capture_output=True, text=True
    ).stdout.strip()
    assert bulk.select_changed(
        services, ENVS, bulk.changed_paths(str(monorepo), head), parse_render_request
    ) == []
    (Path(services[2].directory) / "kubernetes" / "base" / "extra.txt").write_text("x\n")
    _commit(monorepo, "touch svc002")
    (monorepo / "README.md").write_text("untracked change\n")
    changed = bulk.changed_paths(str(monorepo), head)
    selected = bulk.select_changed(services, ENVS, changed, parse_render_request)
    assert [s.name for s in selected] == [services[2].name]


def test_changed_since_counts_kpt_services_as_changed(monorepo: Path) -> None:
    # kpt runs function images and the package's pipeline: no local file says it changed
    services = bulk.discover_services([str(monorepo)])
    directory = Path(services[1].directory)
    (directory / "pkg").mkdir()
    (directory / "pkg" / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\n")
    (directory / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nprofiles:\n- name: production\n"
        "manifests:\n  kpt: [pkg]\n"
    )
    _commit(monorepo, "svc001 uses kpt")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=monorepo, capture_output=True, text=True
    ).stdout.strip()
    changed = bulk.changed_paths(str(monorepo), head)
    selected = bulk.select_changed(services, ENVS, changed, parse_render_request)
    assert [s.name for s in selected] == [services[1].name]


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
    with pytest.raises(ConfigError, match=r"environments\.x"):
        bulk.load_config(str(path))


# --- publishing -----------------------------------------------------------------------------


def _git_out(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    return done.stdout.decode()


def _branches(bare: Path) -> dict[str, str]:
    """branch -> tip commit of a bare repository."""
    lines = _git_out(
        "--git-dir", str(bare), "for-each-ref", "--format=%(refname:short) %(objectname)"
    )
    return dict(line.split() for line in lines.splitlines())


def test_publish_commits_each_render_to_its_branch_once(monorepo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    out = tmp_path / "out"
    options = _options(monorepo, out, tmp_path / "cache", publish_repo=bare.as_uri())
    first = bulk.run_bulk(options)
    assert not first.failed
    tips = _branches(bare)
    names = [s.name for s in bulk.discover_services([str(monorepo)])]
    assert sorted(tips) == sorted(f"{n}/{e.name}" for n in names for e in ENVS)
    head = _git_out("rev-parse", "HEAD", cwd=monorepo).strip()
    for name in names:
        for env in ENVS:
            branch = f"{name}/{env.name}"
            files = _git_out("--git-dir", str(bare), "ls-tree", "-r", "--name-only", branch)
            assert files == "manifest.yaml\n"
            published = subprocess.run(
                ["git", "--git-dir", str(bare), "show", f"{branch}:manifest.yaml"],
                capture_output=True,
                check=True,
            ).stdout
            assert published == (out / name / env.name / "manifest.yaml").read_bytes()
            message = _git_out("--git-dir", str(bare), "log", "-1", "--format=%B", branch)
            assert f"Skrender-Service: {name}\n" in message
            assert f"Skrender-Environment: {env.name}\n" in message
            assert f"Skrender-Source-Commit: {head}\n" in message
    assert all(o.publish and o.publish["changed"] for o in first.outcomes)

    # the same inputs again, from the command line: every branch is up to date, no commit
    argv = [sys.executable, "-m", "engine", "bulk", str(monorepo), "--out", str(out)]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--publish", "--repo", bare.as_uri()]
    for env in ENVS:
        argv += ["--env", f"{env.name}={','.join(env.args)}"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv += ["--default-repo", "gcr.io/p"]
    done = subprocess.run(argv, capture_output=True, env=environ)
    assert done.returncode == 0, done.stderr.decode()
    assert _branches(bare) == tips
    report = json.loads((out / "report.json").read_text())
    assert [r["publish"]["changed"] for r in report["renders"]] == [False] * 8
    assert report["renders"][0]["publish"]["branch"] == f"{names[0]}/develop"

    # one service's production overlay changes: only its production branch gets a commit
    overlay = Path(bulk.discover_services([str(monorepo)])[1].directory)
    kustomization = overlay / "kubernetes" / "overlays" / "production" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("count: 3", "count: 5"))
    third = bulk.run_bulk(options)
    assert not third.failed
    moved = {b for b, tip in _branches(bare).items() if tips.get(b) != tip}
    assert moved == {f"{names[1]}/production"}
    log = _git_out("--git-dir", str(bare), "rev-list", f"{names[1]}/production").split()
    assert len(log) == 2
    published = _git_out("--git-dir", str(bare), "show", f"{names[1]}/production:manifest.yaml")
    assert "replicas: 5" in published
    assert published.encode() == (out / names[1] / "production" / "manifest.yaml").read_bytes()


# --- caches of parsed configs ---------------------------------------------------------------


def test_parsed_configs_are_memoised_as_private_copies(tmp_path: Path) -> None:
    path = tmp_path / "skaffold.yaml"
    path.write_text("apiVersion: skaffold/v2beta10\nkind: Config\nbuild:\n  artifacts: []\n")
    first = config.parse_file(str(path))
    first[0][1]["build"]["mutated"] = True
    second = config.parse_file(str(path))
    assert "mutated" not in second[0][1]["build"]
    assert second[0][1]["apiVersion"] == "skaffold/v4beta14"
    path.write_text("apiVersion: skaffold/v4beta13\nkind: Config\nmetadata:\n  name: x\n")
    assert config.parse_file(str(path))[0][1]["metadata"] == {"name": "x"}


def test_config_store_round_trip_and_refusals(tmp_path: Path) -> None:
    store = kcache.ConfigStore(str(tmp_path / "c"))
    digest = b"\x01" * 32
    parsed = [("skaffold/v2beta10", {"a": [1, 2.5, True, None, "x"], "b": {"c": "d"}})]
    store.put("/x/skaffold.yaml", digest, parsed)
    assert store.get("/x/skaffold.yaml", digest) == parsed
    assert store.get("/y/skaffold.yaml", digest) is None  # the path is part of the key
    # values JSON would change are not stored: a non-string key, a timestamp
    store.put("/x/skaffold.yaml", b"\x02" * 32, [("v", {"m": {1: "one"}})])
    assert store.get("/x/skaffold.yaml", b"\x02" * 32) is None
    stamp = yamlv3.load_all(b"t: 2001-12-14t21:59:43.10-05:00\n")[0]
    store.put("/x/skaffold.yaml", b"\x03" * 32, [("v", stamp)])
    assert store.get("/x/skaffold.yaml", b"\x03" * 32) is None
    # a damaged entry is a miss, not an error
    for entry in (tmp_path / "c").rglob("*.json"):
        entry.write_text('{"not": "a list"}')
    assert store.get("/x/skaffold.yaml", digest) is None


def test_warm_run_from_stored_configs_follows_edits(monorepo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bulk.run_bulk(_options(monorepo, tmp_path / "cold", cache))
    assert list((cache / "config" / "v1").rglob("*.json"))
    service = bulk.discover_services([str(monorepo)])[1]  # an old apiVersion (v2beta10)
    skaffold = Path(service.directory) / "skaffold.yaml"
    skaffold.write_text(skaffold.read_text().replace("prefix: production-", "prefix: prod-"))
    config._PARSED.clear()  # a new process: only the stored entries are left
    bulk.run_bulk(_options(monorepo, tmp_path / "warm", cache))
    for env in ENVS:
        got = tmp_path / "warm" / service.name / env.name / "manifest.yaml"
        expected = _single_render(Path(service.directory), env, tmp_path / "single.yaml")
        assert got.read_bytes() == expected
    assert (
        "image: gcr.io/p/svc001-api:prod-"
        in (tmp_path / "warm" / service.name / "production" / "manifest.yaml").read_text()
    )


def test_publish_pushes_every_render_at_once(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "batch.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    result = bulk.run_bulk(_options(monorepo, tmp_path / "out", None, publish_repo=bare.as_uri()))
    assert not result.failed and len(_branches(bare)) == 8
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    commands = [e["name"] for e in events if e.get("event") == "cmd_name"]
    assert commands.count("push") == 1 and commands.count("ls-remote") == 1
