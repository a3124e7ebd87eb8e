"""`skrender gitops`: render + publish of the bundled example monorepo, against real git (file://
bare repositories, git daemon, smart HTTP with basic auth) and real kustomize."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import service_unavailable
from fixtures_git import GitServer
from fixtures_registry import Registry

from engine.commands import gitops
from engine.core.errors import UsageError
from engine.gitops.services import environment_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "monorepo"
REGISTRY = "gcr.io/my-gitops-proj"
# No registry in these tests: tags only, as `--digest-source=tag` renders them.
RENDER = ["--default-repo", REGISTRY, "--digest-source=tag", "--offline=true"]


def git(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def skrender(
    env: dict[str, str], cwd: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def monorepo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    """The bundled example, committed to a fresh git repository (pinned identity and date)."""
    if shutil.which("kubectl") is None:  # the example's overlays are built by kubectl kustomize
        service_unavailable("kubectl (kustomize)")
    repo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, repo)
    git(git_env, "init", "--quiet", "--initial-branch=main", cwd=repo)
    git(git_env, "add", "-A", cwd=repo)
    git(git_env, "commit", "--quiet", "-m", "seed", cwd=repo)
    return repo


def bare(tmp_path: Path, env: dict[str, str], name: str = "manifests.git") -> Path:
    path = tmp_path / name
    git(env, "init", "--quiet", "--bare", str(path))
    return path


def show(env: dict[str, str], repo: Path | str, spec: str) -> str:
    return git(env, "--git-dir", str(repo), "show", spec)


def files_on(env: dict[str, str], repo: Path | str, branch: str) -> list[str]:
    return git(env, "--git-dir", str(repo), "ls-tree", "-r", "--name-only", branch).split()


def log(env: dict[str, str], repo: Path | str, branch: str) -> list[str]:
    return git(env, "--git-dir", str(repo), "rev-list", branch).split()


def body(env: dict[str, str], repo: Path | str, ref: str) -> str:
    raw = git(env, "--git-dir", str(repo), "cat-file", "commit", ref)
    return raw.split("\n\n", 1)[1]


# --- end to end on file:// ------------------------------------------------------------------


def test_production_branch_holds_render_output_byte_for_byte(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    rendered = skrender(git_env, service, "render", "-p", "production", *RENDER).stdout
    published = skrender(
        git_env, service, "gitops", "-p", "production", *RENDER, "--repo", str(manifests)
    )
    assert "published manifest.yaml to foo/production as " in published.stderr
    assert published.stdout == ""
    assert files_on(git_env, manifests, "foo/production") == ["manifest.yaml"]
    assert show(git_env, manifests, "foo/production:manifest.yaml") == rendered
    assert "replicas: 3" in rendered and "image: gcr.io/my-gitops-proj/foo:production-" in rendered


def test_publishing_the_same_render_twice_makes_one_commit(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    url = manifests.as_uri()  # file://
    args = ("gitops", "-p", "production", *RENDER, "--repo", url)
    skrender(git_env, service, *args)
    again = skrender(git_env, service, *args)
    assert "foo/production already up to date; nothing to commit" in again.stderr
    assert len(log(git_env, manifests, "foo/production")) == 1


def test_commit_message_carries_service_environment_images_and_source(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    head = git(git_env, "rev-parse", "HEAD", cwd=monorepo).strip()
    skrender(git_env, service, "gitops", "-p", "production", *RENDER, "--repo", str(manifests))
    image = f"{REGISTRY}/foo:production-{head[:7]}"
    assert body(git_env, manifests, "foo/production") == (
        "Publish foo to production\n\n"
        f"Rendered from commit {head}.\n\n"
        f"Images:\n- {image}\n\n"
        f"Skrender-Source-Commit: {head}\n"
        "Skrender-Service: foo\n"
        "Skrender-Environment: production\n"
        f"Skrender-Image: {image}\n"
    )


def test_a_new_source_commit_adds_a_commit_on_top(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    args = ("gitops", "-p", "production", *RENDER, "--repo", str(manifests))
    skrender(git_env, service, *args)
    first = log(git_env, manifests, "foo/production")
    (service / "hello.txt").write_text("changed\n")
    git(git_env, "commit", "--quiet", "-am", "change", cwd=monorepo)
    skrender(git_env, service, *args)
    history = log(git_env, manifests, "foo/production")
    assert len(history) == 2 and history[1:] == first  # linear, on top of the first
    head = git(git_env, "rev-parse", "--short=7", "HEAD", cwd=monorepo).strip()
    assert f"production-{head}" in show(git_env, manifests, "foo/production:manifest.yaml")


def test_without_profile_the_environment_is_develop(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    rendered = skrender(git_env, service, "render", *RENDER).stdout
    skrender(git_env, service, "gitops", *RENDER, "--repo", str(manifests))
    assert show(git_env, manifests, "foo/develop:manifest.yaml") == rendered
    assert "name: dev-foo" in rendered  # the develop overlay
    assert body(git_env, manifests, "foo/develop").startswith("Publish foo to develop\n")


def test_templates_path_file_name_service_and_environment(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    skrender(
        git_env, service, "gitops", "-p", "production", *RENDER, "--repo", str(manifests),
        "--service", "shop", "--environment", "prod-eu",
        "--branch-template", "env/{environment}", "--path", "apps/{service}",
        "--file-name", "all.yaml", "--message", "Deploy it",
    )  # fmt: skip
    assert files_on(git_env, manifests, "env/prod-eu") == ["apps/shop/all.yaml"]
    message = body(git_env, manifests, "env/prod-eu")
    assert message.startswith("Deploy it\n\n")
    assert "Skrender-Service: shop\nSkrender-Environment: prod-eu\n" in message


def test_profiles_from_the_environment_name_the_environment(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    env = {**git_env, "SKAFFOLD_PROFILE": "production"}
    skrender(env, service, "gitops", *RENDER, "--repo", str(manifests))
    assert files_on(git_env, manifests, "foo/production") == ["manifest.yaml"]


def test_dry_run_prints_and_pushes_nothing(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    rendered = skrender(git_env, service, "render", *RENDER).stdout
    done = skrender(git_env, service, "gitops", *RENDER, "--repo", str(manifests), "--dry-run")
    assert done.stdout == rendered
    assert "would publish manifest.yaml to foo/develop" in done.stderr
    assert git(git_env, "--git-dir", str(manifests), "for-each-ref") == ""


def test_unknown_placeholder_is_a_usage_error(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    done = skrender(
        git_env, monorepo / "services" / "foo", "gitops", *RENDER, "--repo", str(manifests),
        "--branch-template", "{team}/{environment}", check=False,
    )  # fmt: skip
    assert done.returncode == 127
    assert "--branch-template '{team}/{environment}': unknown placeholder {team}" in done.stderr


def test_a_render_error_publishes_nothing(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    done = skrender(
        git_env, monorepo / "services" / "foo", "gitops", "-p", "nope", *RENDER,
        "--repo", str(manifests), check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "nope" in done.stderr
    assert git(git_env, "--git-dir", str(manifests), "for-each-ref") == ""


def test_notices_go_to_stderr_and_the_branch_gets_only_manifests(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path
) -> None:
    manifests = bare(tmp_path, git_env)
    service = monorepo / "services" / "foo"
    args = ("--default-repo", REGISTRY, "--digest-source=none")
    printed = skrender(git_env, service, "render", *args).stdout
    skrender(git_env, service, "render", *args, "-o", str(tmp_path / "out.yaml"))
    written = (tmp_path / "out.yaml").read_text()
    assert printed.startswith("--digest-source set to 'none'") and printed.endswith(written)
    done = skrender(git_env, service, "gitops", *args, "--repo", str(manifests))
    assert done.stderr.startswith("--digest-source set to 'none'")
    assert show(git_env, manifests, "foo/develop:manifest.yaml") == written
    dry = skrender(git_env, service, "gitops", *args, "--repo", str(manifests), "--dry-run")
    assert dry.stdout == printed


# --- real servers ---------------------------------------------------------------------------


@pytest.mark.integration
def test_git_daemon(git_daemon: GitServer, git_env: dict[str, str], monorepo: Path) -> None:
    url = git_daemon.create("gitops-daemon.git")
    service = monorepo / "services" / "foo"
    rendered = skrender(git_env, service, "render", "-p", "production", *RENDER).stdout
    skrender(git_env, service, "gitops", "-p", "production", *RENDER, "--repo", url)
    again = skrender(git_env, service, "gitops", "-p", "production", *RENDER, "--repo", url)
    assert "already up to date" in again.stderr
    local = git_daemon.root / "gitops-daemon.git"
    assert show(git_env, local, "foo/production:manifest.yaml") == rendered
    assert len(log(git_env, local, "foo/production")) == 1


@pytest.mark.integration
def test_git_http_with_credentials_in_the_url(
    git_http: GitServer, git_env: dict[str, str], monorepo: Path
) -> None:
    git_http.create("gitops-http.git")
    service = monorepo / "services" / "foo"
    rendered = skrender(git_env, service, "render", *RENDER).stdout
    done = skrender(
        git_env, service, "gitops", *RENDER, "--repo", git_http.authed_url("gitops-http.git")
    )
    local = git_http.root / "gitops-http.git"
    assert show(git_env, local, "foo/develop:manifest.yaml") == rendered
    assert git_http.password not in done.stderr + done.stdout
    assert git_http.password not in body(git_env, local, "foo/develop")
    wrong = skrender(
        git_env, service, "gitops", *RENDER,
        "--repo", git_http.authed_url("gitops-http.git", password="wrong-secret-123"),
        check=False,
    )  # fmt: skip
    assert wrong.returncode == 1 and wrong.stderr.startswith("gitops: ")
    assert "wrong-secret-123" not in wrong.stderr


@pytest.mark.integration
def test_seed_flow_with_digests_from_a_real_registry(
    registry: Registry, git_daemon: GitServer, git_env: dict[str, str], monorepo: Path
) -> None:
    """The seed: `gitops -p production --default-repo REGISTRY --repo URL`, digests resolved."""
    short = git(git_env, "rev-parse", "--short=7", "HEAD", cwd=monorepo).strip()
    digest = registry.push_image(f"foo:production-{short}")
    url = git_daemon.create("gitops-seed.git")
    service = monorepo / "services" / "foo"
    args = ("-p", "production", "--default-repo", registry.addr, "--offline=true")
    rendered = skrender(git_env, service, "render", *args).stdout
    skrender(git_env, service, "gitops", *args, "--repo", url)
    local = git_daemon.root / "gitops-seed.git"
    reference = f"{registry.addr}/foo:production-{short}@{digest}"
    assert f"image: {reference}" in rendered
    assert show(git_env, local, "foo/production:manifest.yaml") == rendered
    assert f"Skrender-Image: {reference}\n" in body(git_env, local, "foo/production")


# --- naming ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profiles", "expected"),
    [
        ([], "develop"),
        (["production"], "production"),
        (["eu", "production"], "eu-production"),
        (["-production"], "develop"),
        (["staging", "-debug"], "staging"),
    ],
)
def test_environment_name(profiles: list[str], expected: str) -> None:
    assert environment_name(profiles) == expected


def test_resolve_target_names_the_service_after_the_config_directory(tmp_path: Path) -> None:
    args = argparse.Namespace(
        service=None,
        environment=None,
        profile=["production"],
        filename=os.path.join("services", "web-api", "skaffold.yaml"),
        branch_template="{service}/{environment}",
        path="",
        file_name="manifest.yaml",
    )
    target = gitops.resolve_target(args, str(tmp_path))
    assert target == gitops.Target(
        "web-api", "production", "web-api/production", "", "manifest.yaml"
    )
    args.filename = "skaffold.yaml"
    assert gitops.resolve_target(args, str(tmp_path / "billing")).service == "billing"
    args.path = "{oops"
    with pytest.raises(UsageError, match="unbalanced brace"):
        gitops.resolve_target(args, str(tmp_path))


def test_source_commit_inside_and_outside_a_repository(
    tmp_path: Path, git_env: dict[str, str], monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = git(git_env, "rev-parse", "HEAD", cwd=monorepo).strip()
    assert gitops.source_commit(str(monorepo / "services" / "foo")) == head
    outside = tmp_path / "plain"
    outside.mkdir()
    # GIT_CEILING_DIRECTORIES keeps git from finding a repository above tmp_path.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert gitops.source_commit(str(outside)) == ""
