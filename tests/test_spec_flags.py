"""Spec §0 (flags from SKAFFOLD_* variables), §0.1/§6.4 (flag parsing), §5.1 (global config).

Each test runs the real CLI (`python -m engine render`) on a small project without git
(the envTemplate tagger needs none) and compares what skaffold prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
build:
  artifacts:
  - image: app
  tagPolicy:
    envTemplate:
      template: base
profiles:
- name: p1
  build: {tagPolicy: {envTemplate: {template: p1}}}
- name: p2
  activation: [{env: FOO=bar}]
  build: {tagPolicy: {envTemplate: {template: p2}}}
- name: patchy
  patches:
  - path: /build/tagPolicy/envTemplate/template
    value: patched
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: app
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    (tmp_path / "skaffold.yaml").write_text(CONFIG)
    (tmp_path / "home").mkdir()
    return tmp_path


def render(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(project / "home"),
        "PYTHONPATH": str(ROOT),
        "TZ": "UTC",
    }
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", "--digest-source=tag", *args],
        cwd=project,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def image(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if "image:" in line)


@pytest.mark.parametrize("args", [["-p", "-p2"], ["--profile", "-p2"], ["-p=-p2"], ["-p-p2"]])
def test_flag_value_starting_with_dash(project: Path, args: list[str]) -> None:
    # §2.1 "-p -p2 suppressed an auto-activated p2": pflag takes the next argument as the
    # value even when it starts with "-"
    assert image(render(project, *args, FOO="bar")) == "app:base"


def test_slice_flags_from_env_are_extended_by_the_command_line(project: Path) -> None:
    # cmd.go sets flags from SKAFFOLD_* before parsing; pflag's slice Set then appends
    assert image(render(project, "-p", "p1", SKAFFOLD_PROFILE="patchy")) == "app:p1"
    assert image(render(project, "-p", "-p2", SKAFFOLD_PROFILE="p1", FOO="bar")) == "app:p1"
    # a scalar flag on the command line still replaces the variable
    assert image(render(project, "-d", "cli.io", SKAFFOLD_DEFAULT_REPO="env.io")) == (
        "cli.io/app:base"
    )


def test_invalid_flag_variables_are_ignored(project: Path) -> None:
    # setFlagsFromEnvVariables discards Set errors
    assert image(render(project, SKAFFOLD_OFFLINE="maybe")) == "app:base"
    assert image(render(project, SKAFFOLD_BUILD_ARTIFACTS="nofile.json")) == "app:base"
    assert image(render(project, SKAFFOLD_IMAGES="app=x:1,bad=B B,app=y:2")) == "x:1"


def test_deploy_namespace_variable_is_an_alias(project: Path) -> None:
    result = render(project, "--offline=false", SKAFFOLD_DEPLOY_NAMESPACE="old")
    assert "  namespace: old\n" in result.stdout
    result = render(
        project, "--offline=false", SKAFFOLD_DEPLOY_NAMESPACE="old", SKAFFOLD_NAMESPACE="new"
    )
    assert "  namespace: new\n" in result.stdout


def test_empty_images_flag_is_a_usage_error(project: Path) -> None:
    # flags.Images.Set("") -> "cannot add an empty image value" (exit 127)
    result = render(project, "-i", "")
    assert result.returncode == 127
    assert result.stderr.startswith(
        'invalid argument "" for "-i, --images" flag: : cannot add an empty image value'
    )


GLOBAL = """\
global:
  default-repo: global.io/g
  multi-level-repo: true
kubeContexts:
- kube-context: kind-.*
  default-repo: ctx.io/c
- kube-context: kind-foo
  multi-level-repo: false
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: kind-foo
contexts:
- name: kind-foo
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {}
"""


def test_global_config_last_matching_context_wins_whole(project: Path) -> None:
    # config/util.go getConfigForKubeContextWithGlobalDefaults: the last matching entry is
    # taken as a whole, its unset fields filled from `global` (not merged with other matches)
    (project / "home" / ".skaffold").mkdir()
    (project / "home" / ".skaffold" / "config").write_text(GLOBAL)
    (project / "kubeconfig").write_text(KUBECONFIG)
    config = (project / "skaffold.yaml").read_text().replace("- image: app", "- image: a.io/b/app")
    (project / "skaffold.yaml").write_text(config)
    (project / "k8s" / "pod.yaml").write_text(POD.replace("image: app", "image: a.io/b/app"))
    result = render(project, KUBECONFIG=str(project / "kubeconfig"))
    assert image(result) == "global.io/g/a_io_b_app:base"
    # no current context: `global` only, never a kubeContexts entry (even `.*`)
    (project / "home" / ".skaffold" / "config").write_text(
        GLOBAL + "- kube-context: .*\n  default-repo: any.io/a\n"
    )
    assert image(render(project)) == "global.io/g/a.io/b/app:base"
