from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from engine.core import git
from engine.core.errors import TaggerError
from engine.skaffold.schema import Artifact, ArtifactDependency, Config, DockerArtifact, TagPolicy
from engine.stages import tagging

NOW = datetime.datetime(2026, 11, 27, 4, 43, 6, 226000, tzinfo=datetime.timezone.utc)


def _git(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _config(kind: str, options: dict[str, object], *artifacts: Artifact) -> Config:
    arts = artifacts or (Artifact(image="foo"),)
    return Config("/x/skaffold.yaml", 0, True, artifacts=arts, tag_policy=TagPolicy(kind, options))


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (root / "app" / "hello.txt").write_text("hello\n")
    (root / "k8s.yaml").write_text("x: 1\n")
    _git(root, git_env, "init", "-q", "-b", "main")
    _git(root, git_env, "add", "-A")
    _git(root, git_env, "commit", "-q", "-m", "one")
    git.clear_cache()
    return root


def _tags(cfg: Config, cwd: Path, env: dict[str, str], **kw: object) -> list[str]:
    git.clear_cache()
    return [ref for _, ref in tagging.image_tags([cfg], cwd=str(cwd), env=env, **kw)]  # type: ignore[arg-type]


APP = Artifact(image="foo", context="app")
SHA = "6abdcbc2b57e5b643b3459d7cf622ca155c9b8a1"


def test_git_variants(repo: Path, git_env: dict[str, str]) -> None:
    cases = {
        "": SHA[:7],
        "CommitSha": SHA,
        "abbrevcommitsha": SHA[:7],
        "TreeSha": "790e1ac460d85e2a8623738731c0bc8ef05432f2",
        "AbbrevTreeSha": "790e1ac",
        "Branches": "main",
    }
    for variant, tag in cases.items():
        cfg = _config("gitCommit", {"variant": variant, "prefix": "p-"}, APP)
        assert _tags(cfg, repo, git_env) == [f"foo:p-{tag}"], variant


def test_git_tags_dirty_and_sanitizing(repo: Path, git_env: dict[str, str]) -> None:
    _git(repo, git_env, "tag", "release/2021.03+build")
    assert _tags(_config("gitCommit", {}, APP), repo, git_env) == ["foo:release_2021.03_build"]
    (repo / "k8s.yaml").write_text("changed\n")  # outside the context: not dirty
    assert _tags(_config("gitCommit", {}, APP), repo, git_env) == ["foo:release_2021.03_build"]
    (repo / "app" / "new.txt").write_text("untracked\n")
    assert _tags(_config("gitCommit", {}, APP), repo, git_env) == [
        "foo:release_2021.03_build-dirty"
    ]
    ignore = _config("gitCommit", {"ignoreChanges": True}, APP)
    assert _tags(ignore, repo, git_env) == ["foo:release_2021.03_build"]


def test_detached_branch_gives_bare_image(repo: Path, git_env: dict[str, str]) -> None:
    _git(repo, git_env, "checkout", "-q", "--detach")
    cfg = _config("gitCommit", {"variant": "Branches", "ignoreChanges": True}, APP)
    assert _tags(cfg, repo, git_env) == ["foo"]
    assert _tags(_config("gitCommit", {"variant": "Branches"}, APP), repo, git_env) == ["foo"]


def test_not_a_repo_and_bad_prefix_fall_back(tmp_path: Path, git_env: dict[str, str]) -> None:
    assert _tags(_config("gitCommit", {}), tmp_path, git_env) == ["foo:latest"]
    assert _tags(_config("sha256", {}), tmp_path, git_env) == ["foo:latest"]


def test_sanitize_tag() -> None:
    assert tagging.sanitize_tag("--.feature/Foo#1") == "___feature_Foo_1"
    assert tagging.sanitize_tag("a" * 200) == "a" * 128


def test_custom_tag_overrides_and_invalid_falls_back(tmp_path: Path) -> None:
    bad = _config("gitCommit", {"variant": "Nope"})
    assert _tags(bad, tmp_path, {}, custom_tag="1.2.3") == ["foo:1.2.3"]
    assert _tags(bad, tmp_path, {}, custom_tag="my tag/x") == ["foo:latest"]


def test_invalid_variant_is_fatal() -> None:
    with pytest.raises(TaggerError) as info:
        tagging.validate_tag_policy(TagPolicy("gitCommit", {"variant": "ShortSha"}))
    assert str(info.value) == (
        'creating runner: creating tagger: creating tagger: "ShortSha" is not a valid git '
        "tagger variant"
    )


def test_date_time(tmp_path: Path) -> None:
    env = {"TZ": "America/New_York"}
    assert _tags(_config("dateTime", {}), tmp_path, env, now=NOW) == [
        "foo:2026-11-26_23-43-06.226_EST"
    ]
    utc = _config("dateTime", {"format": "2006-01-02", "timezone": "UTC"})
    assert _tags(utc, tmp_path, env, now=NOW) == ["foo:2026-11-27"]
    bad_zone = _config("dateTime", {"timezone": "Mars/Base"})
    assert _tags(bad_zone, tmp_path, env, now=NOW) == ["foo:latest"]
    colon = _config("dateTime", {"format": "15:04"})
    assert _tags(colon, tmp_path, env, now=NOW) == ["foo:latest"]


def test_input_digest(repo: Path) -> None:
    # input_digest.go: md5(path relative to the context + bytes) per existing input, sorted by
    # path; the raw dockerfile value "Dockerfile" is relative to the CWD and absent there.
    def md5(rel: str, data: bytes) -> str:
        return hashlib.md5(rel.encode() + data).hexdigest()

    dockerfile_bytes = (repo / "app" / "Dockerfile").read_bytes()
    hashes = [md5("Dockerfile", dockerfile_bytes), md5("hello.txt", b"hello\n")]
    expected = hashlib.sha256((json.dumps(hashes, separators=(",", ":")) + "\n").encode())
    assert _tags(_config("inputDigest", {}, APP), repo, {}) == [f"foo:{expected.hexdigest()}"]
    # With context "." the raw Dockerfile path is counted twice (skaffold quirk).
    root = Artifact(image="foo", docker=DockerArtifact(dockerfile="app/Dockerfile"))
    (repo / "app" / "Dockerfile").write_text("FROM scratch\nCOPY app/hello.txt /\n")
    data = (repo / "app" / "Dockerfile").read_bytes()
    hashes = [md5("app/Dockerfile", data)] * 2 + [md5("app/hello.txt", b"hello\n")]
    expected = hashlib.sha256((json.dumps(hashes, separators=(",", ":")) + "\n").encode())
    assert _tags(_config("inputDigest", {}, root), repo, {}) == [f"foo:{expected.hexdigest()}"]


def test_input_digest_requires_and_base_image(repo: Path) -> None:
    (repo / "base").mkdir()
    (repo / "base" / "Dockerfile").write_text("FROM scratch\nCOPY b.txt /\n")
    (repo / "base" / "b.txt").write_text("b\n")
    base = Artifact(image="base", context="base")
    app = Artifact(image="foo", context="app", requires=(ArtifactDependency("base", "BASE"),))
    one = _tags(_config("inputDigest", {}, app), repo, {})
    cfg = _config("inputDigest", {}, app, base)
    both = [ref for _, ref in tagging.image_tags([cfg], cwd=str(repo), env={})]
    assert one == ["foo:latest"]  # the required artifact is unknown
    assert both[0] != "foo:latest" and len(both[0]) == len("foo:") + 64
    (repo / "app" / "Dockerfile").write_text("FROM alpine\nCOPY hello.txt /\n")
    offline = Artifact(image="foo", context="app", docker=DockerArtifact())
    assert _tags(_config("inputDigest", {}, offline), repo, {}) == ["foo:latest"]


def test_template_fields() -> None:
    text = '{{.SHA}}_{{ if .A }}{{ $x.B }}{{ (.C).D }}{{ "{{.E}}" }}{{ .F.G }}{{end}}{{/* .H */}}'
    assert tagging.template_fields(text) == ["SHA", "A", "C", "F", "G"]


def test_env_and_custom_templates(repo: Path, git_env: dict[str, str]) -> None:
    pytest.importorskip("engine.golang.texttemplate")
    env = {**git_env, "STAGE": "prod"}
    cfg = _config("envTemplate", {"template": '{{default "dev" .UNSET}}-{{.IMAGE_NAME}}'})
    assert _tags(cfg, repo, env) == ["foo:dev-foo"]
    assert _tags(_config("envTemplate", {"template": "{{.UNSET}}"}), repo, env) == ["foo:latest"]
    custom = {
        "template": "{{.SHA}}_{{.ENV}}",
        "components": [
            {"name": "SHA", "gitCommit": {"variant": "AbbrevCommitSha"}},
            {"name": "ENV", "envTemplate": {"template": "{{.STAGE}}"}},
        ],
    }
    assert _tags(_config("customTemplate", custom, APP), repo, env) == [f"foo:{SHA[:7]}_prod"]
    unknown = _config("customTemplate", {"template": "{{.NOPE}}"}, APP)
    assert _tags(unknown, repo, env) == ["foo:latest"]
    nested = {"template": "x", "components": [{"name": "N", "customTemplate": {}}]}
    with pytest.raises(TaggerError, match="nested customTemplate"):
        tagging.validate_tag_policy(TagPolicy("customTemplate", nested))
