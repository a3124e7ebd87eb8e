"""Secrets and trust (issue 6, part 5).

Registry passwords, tokens and git credentials are planted where users keep them (docker's
config.json, a git URL) and every byte skrender prints, writes or commits is searched for
them.  TLS verification stays on unless asked; template ``cmd`` obeys --no-template-commands.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.helpers import (
    OFFLINE,
    SKAFFOLD_YAML,
    Run,
    assert_clean_failure,
    cli_env,
    make_tree,
    run_cli,
)

WRONG_SECRET = "planted-Wr0ng-secret-7f3a9c"


def _forms(secret: str, user: str = "skrender") -> list[str]:
    """The ways a secret could leak: as is, and base64 of ``user:secret`` (config.json)."""
    return [secret, base64.b64encode(f"{user}:{secret}".encode()).decode()]


def _assert_no_leak(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text, f"secret leaked: {form!r} in {text!r}"


def _docker_config(tmp_path: Path, registry: object, auth: dict[str, str], ca: bool) -> Path:
    folder = tmp_path / "docker"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"auths": {registry.addr: auth}}))  # type: ignore[attr-defined]
    if ca:
        certs = folder / "certs.d" / registry.addr  # type: ignore[attr-defined]
        certs.mkdir(parents=True)
        shutil.copy(registry.ca_file, certs / "ca.crt")  # type: ignore[attr-defined]
    return folder


def _basic(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def _render_remote(tmp_path: Path, registry: object, docker_dir: Path, image: str = "foo") -> Run:
    config = SKAFFOLD_YAML.replace("image: foo", f"image: {image}")
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": config})
    env = cli_env(tmp_path / "home", {"DOCKER_CONFIG": str(docker_dir)})
    args = ["render", "--offline=true", "--digest-source=remote", "--digest-resolver=registry"]
    out = tmp_path / "out.yaml"
    run = run_cli(
        [*args, "--default-repo", registry.addr, "--output", str(out)],  # type: ignore[attr-defined]
        tree,
        env=env,
        timeout=120,
    )
    written = out.read_text() if out.exists() else ""
    return Run(run.code, run.stdout + written, run.stderr)


def test_tls_registry_password_never_printed(tmp_path: Path, tls_registry: object) -> None:
    digest = tls_registry.push_image("foo:v1")  # type: ignore[attr-defined]
    password = tls_registry.password  # type: ignore[attr-defined]
    docker_dir = _docker_config(tmp_path, tls_registry, _basic("skrender", password), ca=True)
    ok = _render_remote(tmp_path / "ok", tls_registry, docker_dir)
    assert ok.code == 0, ok.stderr
    assert f"@{digest}" in ok.stdout
    missing = _render_remote(tmp_path / "missing", tls_registry, docker_dir, image="absent")
    assert missing.code == 1, missing.stderr
    _assert_no_leak(ok.everything + missing.everything, password)


def test_wrong_password_error_does_not_echo_it(tmp_path: Path, tls_registry: object) -> None:
    tls_registry.push_image("foo:v1")  # type: ignore[attr-defined]
    docker_dir = _docker_config(tmp_path, tls_registry, _basic("skrender", WRONG_SECRET), ca=True)
    run = _render_remote(tmp_path, tls_registry, docker_dir)
    assert_clean_failure(run, names=("foo",))
    _assert_no_leak(run.everything, WRONG_SECRET)


def test_token_registry_tokens_never_printed(tmp_path: Path, token_registry: object) -> None:
    token_registry.push_image("foo:v1")  # type: ignore[attr-defined]
    identity = "identity-token-for-skrender"
    docker_dir = _docker_config(
        tmp_path, token_registry, {"auth": "", "identitytoken": identity}, ca=False
    )
    ok = _render_remote(tmp_path / "ok", token_registry, docker_dir)
    assert ok.code == 0, ok.stderr
    missing = _render_remote(tmp_path / "missing", token_registry, docker_dir, image="absent")
    assert missing.code == 1
    password = token_registry.password  # type: ignore[attr-defined]
    text = ok.everything + missing.everything
    _assert_no_leak(text, identity, password)
    assert "Bearer " not in text and "eyJ" not in text  # no bearer token (JWT) in any message


def test_tls_verification_stays_on(tmp_path: Path, tls_registry: object) -> None:
    """A self-signed registry without its CA fails, naming TLS; nothing falls back to http."""
    tls_registry.push_image("foo:v1")  # type: ignore[attr-defined]
    password = tls_registry.password  # type: ignore[attr-defined]
    docker_dir = _docker_config(tmp_path, tls_registry, _basic("skrender", password), ca=False)
    run = _render_remote(tmp_path, tls_registry, docker_dir)
    assert_clean_failure(run, names=("TLS", "certificate verify failed"))
    _assert_no_leak(run.everything, password)


# --- git credentials --------------------------------------------------------------------------


def test_git_url_token_never_printed_or_committed(
    tmp_path: Path, git_http: object, git_env: dict[str, str]
) -> None:
    server = git_http
    server.create("secrets.git")  # type: ignore[attr-defined]
    token = server.password  # type: ignore[attr-defined]
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.yaml").write_text("kind: ConfigMap\n")
    env = {**git_env, **cli_env(tmp_path / "home")}

    def publish(url: str) -> Run:
        argv = [sys.executable, "-m", "engine", "publish", "--repo", url, "--branch", "main"]
        done = subprocess.run(
            [*argv, str(files)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
            check=False,
        )
        return Run(done.returncode, done.stdout.decode(), done.stderr.decode())

    ok = publish(server.authed_url("secrets.git"))  # type: ignore[attr-defined]
    assert ok.code == 0, ok.stderr
    wrong = publish(server.authed_url("secrets.git", WRONG_SECRET))  # type: ignore[attr-defined]
    assert wrong.code != 0
    assert "Traceback" not in wrong.stderr
    missing = publish(server.authed_url("absent.git"))  # type: ignore[attr-defined]
    assert missing.code != 0
    bare = server.root / "secrets.git"  # type: ignore[attr-defined]
    history = subprocess.run(
        ["git", "--git-dir", str(bare), "log", "--format=%H%n%an%n%ae%n%B", "main"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = (bare / "config").read_text()
    every = ok.everything + wrong.everything + missing.everything + history + config
    for secret in (token, WRONG_SECRET):
        assert secret not in every, secret


# --- template commands ------------------------------------------------------------------------

MARKER_CMD = '{{cmd "sh" "-c" "touch ran-cmd; echo k8s"}}'


def _marker_ran(tree: Path) -> bool:
    return (tree / "ran-cmd").exists()


def test_envtemplate_cmd_runs_by_default(tmp_path: Path) -> None:
    """The control: `cmd` is a documented skaffold template function and works by default."""
    config = SKAFFOLD_YAML.replace("template: v1", f"template: '{MARKER_CMD}'")
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": config})
    run = run_cli(["render", *OFFLINE], tree)
    assert run.code == 0, run.stderr
    assert "image: gcr.io/p/foo:k8s" in run.stdout
    assert _marker_ran(tree)


@pytest.mark.parametrize("where", ["envTemplate", "rawYaml", "kustomize"])
def test_no_template_commands_refuses_cmd(tmp_path: Path, where: str) -> None:
    if where == "envTemplate":
        config = SKAFFOLD_YAML.replace("template: v1", f"template: '{MARKER_CMD}'")
        files: dict[str, str | bytes] = {"skaffold.yaml": config}
    elif where == "rawYaml":
        config = SKAFFOLD_YAML.replace("- k8s/*.yaml", f"- '{MARKER_CMD}/pod.yaml'")
        files = {"skaffold.yaml": config}
    else:
        manifests = f"  kustomize:\n    paths:\n    - '{MARKER_CMD}'\n"
        config = SKAFFOLD_YAML.replace("  rawYaml:\n  - k8s/*.yaml\n", manifests)
        files = {"skaffold.yaml": config, "k8s/kustomization.yaml": "resources:\n- pod.yaml\n"}
    tree = make_tree(tmp_path / "app", files)
    run = run_cli(["render", *OFFLINE, "--no-template-commands"], tree)
    assert_clean_failure(run, names=("cmd",))
    assert not _marker_ran(tree), "a refused cmd ran anyway"
    if where != "rawYaml":  # a templated rawYaml entry already fails skaffold's validation
        assert "--no-template-commands" in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("ghp_planted0Token0Value0123456789", "`ghp_pla...`"),
        ("é" * 20, "`ééé\ufffd...`"),  # 7 bytes: Go cuts inside the fourth character
        ("short-tok", "`short-tok`"),  # 10 bytes or fewer: shown whole, as yaml.v3 does
    ],
)
def test_manifest_glob_matching_a_token_file_shows_only_yaml_v3s_excerpt(
    tmp_path: Path, token: str, shown: str
) -> None:
    """decode.go terror quotes at most 7 bytes of a scalar that is not a mapping."""
    tree = make_tree(tmp_path / "app", {"k8s/token.yaml": token + "\n"})
    run = run_cli(["render", *OFFLINE], tree)
    assert run.code == 1, run.stderr
    assert f"cannot unmarshal !!str {shown} into map[string]interface {{}}" in run.stderr
    if len(token.encode()) > 10:
        assert token not in run.everything
        assert token[:8] not in run.everything
