"""The bulk render cache: a hit after a commit that touches no manifest, a miss after any
change to what a render depends on, and always the bytes of a per-service `skrender render`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import cli
from engine.commands._flags import parse_render_request
from engine.core import git
from engine.gitops import bulk, environments, kcache, rendercache
from engine.pipeline import CachedRender
from engine.stages import reftemplate

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "golden" / "tool"))

TAG_FLAGS = ("--digest-source=tag", "--offline=true")
ENVS = (
    bulk.Environment("develop", TAG_FLAGS, "gcr.io/p"),
    bulk.Environment("production", ("-p", "production", *TAG_FLAGS), "gcr.io/p"),
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@t.invalid",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@t.invalid",
    "GIT_AUTHOR_DATE": "2021-03-04T05:06:07+0000",
    "GIT_COMMITTER_DATE": "2021-03-04T05:06:07+0000",
}

# A rawYaml + kustomize service: its kustomization is chosen by an environment variable,
# its tag read from another.
RAW_SKAFFOLD = """\
apiVersion: skaffold/v4beta13
kind: Config
metadata:
  name: raw
build:
  tagPolicy:
    envTemplate:
      template: "{{.IMAGE_TAG}}"
  artifacts:
  - image: raw-app
    context: app
manifests:
  rawYaml:
  - k8s/app.yaml
  kustomize:
    paths:
    - kz/{{.FLAVOUR}}
profiles:
- name: production
  build:
    tagPolicy:
      envTemplate:
        template: "prod-{{.IMAGE_TAG}}"
"""
RAW_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: raw
spec:
  template:
    spec:
      containers:
      - name: main
        image: raw-app
      - name: side
        image: busybox:1.36
"""


@pytest.fixture()
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two make_monorepo.py services (kustomize) and one rawYaml service, committed."""
    import make_monorepo

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("IMAGE_TAG", "v1")
    monkeypatch.setenv("FLAVOUR", "blue")
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    make_monorepo.generate(str(repo), 2)
    raw = repo / "services" / "raw"
    (raw / "app").mkdir(parents=True)
    (raw / "app" / "Dockerfile").write_text("FROM scratch\n")
    (raw / "k8s").mkdir()
    (raw / "k8s" / "app.yaml").write_text(RAW_MANIFEST)
    for flavour in ("blue", "green"):
        (raw / "kz" / flavour).mkdir(parents=True)
        (raw / "kz" / flavour / "kustomization.yaml").write_text(
            f"configMapGenerator:\n- name: {flavour}\n  literals: [colour={flavour}]\n"
        )
    (raw / "skaffold.yaml").write_text(RAW_SKAFFOLD)
    _commit(repo, "raw service")
    environments._service_envs.clear()
    return repo


def _commit(repo: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", message, "--allow-empty"], cwd=repo, check=True)
    git.clear_cache()


def _run(
    repo: Path, out: Path, cache: Path | None, envs: tuple[bulk.Environment, ...] = ENVS
) -> bulk.BulkResult:
    git.clear_cache()
    environments._service_envs.clear()  # each run reads the environment afresh, as a process
    options = bulk.BulkOptions(
        tuple(bulk.discover_services([str(repo)])),
        envs,
        str(out),
        parse_render_request,
        jobs=2,
        cache_dir=str(cache) if cache else None,
    )
    result = bulk.run_bulk(options)
    assert not result.failed, [o.error for o in result.failed]
    return result


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


def _assert_like_single_renders(
    repo: Path, out: Path, tmp: Path, envs: tuple[bulk.Environment, ...] = ENVS
) -> None:
    git.clear_cache()
    for service in bulk.discover_services([str(repo)]):
        for env in envs:
            expected = _single_render(Path(service.directory), env, tmp / "single.yaml")
            got = (out / service.name / env.name / "manifest.yaml").read_bytes()
            assert got == expected, (service.name, env.name)


def _misses(result: bulk.BulkResult) -> int:
    return result.render_cache["misses"]


def test_no_manifest_commit_hits_and_matches_an_uncached_render(
    monorepo: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cold = _run(monorepo, tmp_path / "cold", cache)
    assert cold.render_cache == {"hits": 0, "misses": 6, "uncacheable": 0}
    (monorepo / "README.md").write_text("a commit that touches no manifest\n")
    _commit(monorepo, "docs")
    warm = _run(monorepo, tmp_path / "warm", cache)
    assert warm.render_cache == {"hits": 6, "misses": 0, "uncacheable": 0}
    uncached = _run(monorepo, tmp_path / "uncached", None)
    assert uncached.render_cache == {}
    for path in sorted((tmp_path / "uncached").rglob("manifest.yaml")):
        rel = path.relative_to(tmp_path / "uncached")
        assert (tmp_path / "warm" / rel).read_bytes() == path.read_bytes(), rel
    sha = git.run_git(str(monorepo), "rev-parse", "--short=7", "HEAD")
    assert (
        f"production-{sha}"
        in (tmp_path / "warm" / "svc000" / "production" / "manifest.yaml").read_text()
    )
    _assert_like_single_renders(monorepo, tmp_path / "warm", tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _raw_file(repo: Path) -> None:
    _edit(repo / "services/raw/k8s/app.yaml", "name: raw", "name: raw2")


def _kustomize_file(repo: Path) -> None:
    _edit(repo / "services/svc000/kubernetes/base/svc000-api.yaml", "port: 80", "port: 81")


def _skaffold_yaml(repo: Path) -> None:
    _edit(repo / "services/svc001/skaffold.yaml", "name: svc001", "name: svc001-renamed")


def _profile(repo: Path) -> None:
    _edit(repo / "services/raw/skaffold.yaml", "prod-{{", "production-{{")


def _env_var_in_a_kustomize_path(_repo: Path) -> None:
    os.environ["FLAVOUR"] = "green"  # the fixture's monkeypatch restores it


# input changed -> the renders that must miss: (service, environment)
CHANGES: dict[str, tuple[Callable[[Path], None], set[tuple[str, str]]]] = {
    "rawYaml file": (_raw_file, {("raw", "develop"), ("raw", "production")}),
    "kustomize file": (_kustomize_file, {("svc000", "develop"), ("svc000", "production")}),
    "skaffold.yaml": (_skaffold_yaml, {("svc001", "develop"), ("svc001", "production")}),
    "profile": (_profile, {("raw", "production")}),
    "env var in a kustomize path": (
        _env_var_in_a_kustomize_path,
        {("raw", "develop"), ("raw", "production")},
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_input_change_misses(monorepo: Path, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    mutate, expected = CHANGES[change]
    mutate(monorepo)
    _commit(monorepo, change)
    result = _run(monorepo, tmp_path / "out", cache)
    assert _misses(result) == len(expected)
    assert result.render_cache["hits"] == 6 - len(expected)
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_a_flag_change_misses(monorepo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    labelled = (
        ENVS[0],
        bulk.Environment("production", (*ENVS[1].args, "-l", "team=a"), "gcr.io/p"),
    )
    result = _run(monorepo, tmp_path / "out", cache, labelled)
    assert result.render_cache == {"hits": 3, "misses": 3, "uncacheable": 0}
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path, labelled)


def test_a_selector_rules_file_change_misses(monorepo: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "allow:\n- groupKind: Deployment.apps\n  image: [.spec.template.spec.containers.*.image]\n"
    )
    envs = tuple(
        bulk.Environment(e.name, (*e.args, f"--resource-selector-rules-file={rules}"), "gcr.io/p")
        for e in ENVS
    )
    cache = tmp_path / "cache"
    assert _misses(_run(monorepo, tmp_path / "out", cache, envs)) == 6
    assert _run(monorepo, tmp_path / "out", cache, envs).render_cache["hits"] == 6
    rules.write_text("deny:\n- groupKind: Deployment.apps\n  image: ['.*']\n")
    result = _run(monorepo, tmp_path / "out", cache, envs)
    assert _misses(result) == 6
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path, envs)
    text = (tmp_path / "out" / "raw" / "develop" / "manifest.yaml").read_text()
    assert "image: raw-app\n" in text  # denied: the image is left as it is


def test_the_tag_template_env_var_is_filled_in_not_cached(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """References are not in the key: a new tag hits, and the new tag is what is written."""
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    monkeypatch.setenv("IMAGE_TAG", "v2")
    result = _run(monorepo, tmp_path / "out", cache)
    assert result.render_cache == {"hits": 6, "misses": 0, "uncacheable": 0}
    text = (tmp_path / "out" / "raw" / "production" / "manifest.yaml").read_text()
    assert "image: gcr.io/p/raw-app:prod-v2\n" in text and "busybox:1.36" in text
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_other_engine_code_misses_and_prunes_old_entries(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    old = set(os.listdir(cache / "render" / "v1"))
    assert len(old) == 1
    monkeypatch.setattr(kcache, "_stamp", ["another-skrender-source"])
    result = _run(monorepo, tmp_path / "out", cache)
    assert result.render_cache == {"hits": 0, "misses": 6, "uncacheable": 0}
    now = set(os.listdir(cache / "render" / "v1"))
    assert len(now) == 1 and not now & old  # the old code's entries are gone
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_a_damaged_entry_is_a_miss(monorepo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    entries = [p for p in (cache / "render").rglob("*") if p.is_file()]
    assert len(entries) == 6
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:-7])  # cut short
    result = _run(monorepo, tmp_path / "out", cache)
    assert result.render_cache == {"hits": 0, "misses": 6, "uncacheable": 0}
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_a_template_that_does_not_hold_the_references_is_not_used(
    monorepo: Path, tmp_path: Path
) -> None:
    """An entry whose tokens are not where references go (here: inside a longer scalar) is
    rendered again, not filled in."""
    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    store = rendercache.RenderCache(str(cache))
    for entry in [p for p in (cache / "render").rglob("*") if p.is_file()]:
        cached = store.get(entry.name)
        assert cached is not None
        store.put(
            entry.name,
            CachedRender(cached.template.replace(": skrender-ref-", ": x-skrender-ref-"), ()),
        )
    result = _run(monorepo, tmp_path / "out", cache)
    assert result.render_cache == {"hits": 0, "misses": 6, "uncacheable": 0}
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_uncacheable_configs_are_counted_and_rendered(monorepo: Path, tmp_path: Path) -> None:
    hooked = monorepo / "services" / "hooked"
    hooked.mkdir()
    (hooked / "k8s").mkdir()
    (hooked / "k8s" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\n"
    )
    (hooked / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta13\nkind: Config\nmetadata:\n  name: hooked\n"
        "profiles:\n- name: production\n"
        "manifests:\n  rawYaml: [k8s/cm.yaml]\n  hooks:\n    before:\n"
        '    - host:\n        command: ["true"]\n'
    )
    _commit(monorepo, "a service with render hooks")
    cache = tmp_path / "cache"
    result = _run(monorepo, tmp_path / "out", cache)
    assert result.render_cache == {"hits": 0, "misses": 6, "uncacheable": 2}
    _assert_like_single_renders(monorepo, tmp_path / "out", tmp_path)


def test_no_cache_disables_it_and_the_report_counts(monorepo: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    args = ["bulk", str(monorepo), "--env", "develop=" + ",".join(TAG_FLAGS)]
    args += ["--default-repo", "gcr.io/p"]
    args += ["--progress", "none", "--report", str(report), "--out", str(tmp_path / "out")]
    for extra, expected in (
        (["--cache-dir", str(tmp_path / "c")], {"hits": 0, "misses": 3, "uncacheable": 0}),
        (["--cache-dir", str(tmp_path / "c")], {"hits": 3, "misses": 0, "uncacheable": 0}),
        (["--no-cache"], {}),
    ):
        git.clear_cache()
        assert cli.main([*args, *extra]) == 0
        assert json.loads(report.read_text())["summary"]["render_cache"] == expected


# --- the template itself (engine.stages.reftemplate) --------------------------------------------


def test_fill_refuses_what_it_cannot_vouch_for() -> None:
    prefix = reftemplate.token_prefix("ab" * 32)
    first, second = reftemplate.tokens(prefix, 2)
    template = f"image: {first}\nlist:\n- {second}\nagain: {first}\n"
    digest = "gcr.io/p/b@sha256:" + "0" * 64
    assert reftemplate.fill(template, prefix, ["gcr.io/p/a:v1", digest]) == (
        f"image: gcr.io/p/a:v1\nlist:\n- {digest}\nagain: gcr.io/p/a:v1\n"
    )
    for reference in ("a b", "true", "123", "1:20", "'q'", "#x", "a,b", ""):
        assert reftemplate.fill(template, prefix, [reference, "ok/b"]) is None, reference
    assert reftemplate.fill(template, prefix, ["a/b"]) is None  # a token without a reference
    for stray in (f"x: y{first}\n", f"x: {first}y\n", f"x: {prefix}\n", f"x: {first} # c\n"):
        assert reftemplate.fill(template + stray, prefix, ["a/a", "b/b"]) is None, stray
    assert not reftemplate.absent(prefix, ["...", f"name: {prefix}7"])
    assert reftemplate.absent(prefix, ["name: skrender-ref-0"])


@pytest.mark.parametrize("broken", ["kustomize", "rawYaml", "both"])
def test_errors_are_those_of_an_uncached_render(
    monorepo: Path, tmp_path: Path, broken: str
) -> None:
    """A render that fails through the cache fails with the uncached render's error (with
    both sources broken, skaffold's order decides which one is reported)."""
    from engine import pipeline
    from engine.core.errors import SkrenderError, said_once

    cache = tmp_path / "cache"
    _run(monorepo, tmp_path / "out", cache)
    raw = monorepo / "services" / "raw"
    if broken in ("kustomize", "both"):
        (raw / "kz" / "blue" / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    if broken in ("rawYaml", "both"):
        (raw / "k8s" / "app.yaml").write_text("kind: [unclosed\n")
    git.clear_cache()
    environments._service_envs.clear()
    options = bulk.BulkOptions(
        tuple(bulk.discover_services([str(monorepo)])),
        ENVS,
        str(tmp_path / "out"),
        parse_render_request,
        jobs=2,
        cache_dir=str(cache),
    )
    result = bulk.run_bulk(options)
    failed = {o.environment: o.error for o in result.failed}
    assert set(failed) == {"develop", "production"} and {o.service for o in result.failed} == {
        "raw"
    }
    for env in ENVS:
        request = parse_render_request(env.render_args(), str(raw), dict(os.environ))
        with pytest.raises(SkrenderError) as raised:
            pipeline.render(request)
        assert _stable(failed[env.name]) == _stable(said_once(str(raised.value)))


def _stable(error: str) -> str:
    """kubectl's log lines carry a time and a process id: the rest must be equal."""
    import re

    return re.sub(r"\d\d:\d\d:\d\d\.\d+\s+\d+ ", "<time pid> ", error)


def test_trim_keeps_the_most_recently_used_entries(tmp_path: Path) -> None:
    store = rendercache.RenderCache(str(tmp_path))
    keys = [f"{i:02x}" * 32 for i in range(6)]
    for age, key in enumerate(keys):
        store.put(key, CachedRender(f"n: {age}\n"))
        path = Path(store.directory) / key[:2] / key
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # older first
    assert store.get(keys[0]) is not None  # a hit is a use: now the newest
    assert store.trim(10) == 0
    assert store.trim(3) == 3
    assert [k for k in keys if store.get(k) is not None] == [keys[0], keys[4], keys[5]]
