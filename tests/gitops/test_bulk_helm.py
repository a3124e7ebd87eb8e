"""skrender bulk on Helm services: the same bytes as `skrender render`, and --changed follows
the chart, values and set files (also outside the service directory)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from engine import cli
from engine.commands._flags import parse_render_request
from engine.core import git
from engine.gitops import bulk, environments

ENVS = (bulk.Environment("develop", ("--digest-source=tag", "--offline=true"), "gcr.io/p"),)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@t.invalid",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@t.invalid",
    "GIT_AUTHOR_DATE": "2021-03-04T05:06:07+0000",
    "GIT_COMMITTER_DATE": "2021-03-04T05:06:07+0000",
}
HELM_SERVICE = """\
apiVersion: skaffold/v4beta14
kind: Config
metadata:
  name: web
build:
  artifacts:
  - image: web
manifests:
  helm:
    releases:
    - name: web
      chartPath: ../charts/app
      valuesFiles: [values.yaml]
"""
RAW_SERVICE = """\
apiVersion: skaffold/v4beta14
kind: Config
metadata:
  name: raw
build:
  artifacts:
  - image: raw
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv(
        "PATH", os.pathsep.join(d for d in dirs if not os.path.exists(os.path.join(d, "helm")))
    )
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    root = tmp_path / "repo"
    _write(root / "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n")
    _write(
        root / "charts/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  containers:\n  - name: c\n    image: {{ .Values.image }}\n",
    )
    _write(root / "web/skaffold.yaml", HELM_SERVICE)
    _write(root / "web/values.yaml", "image: web\n")
    _write(root / "web/Dockerfile", "FROM scratch\n")
    _write(root / "raw/skaffold.yaml", RAW_SERVICE)
    _write(root / "raw/Dockerfile", "FROM scratch\n")
    _write(root / "raw/k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: r\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    _commit(root)
    return root


def _commit(root: Path) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "c"], cwd=root, check=True)
    git.clear_cache()
    environments._service_envs.clear()


def test_bulk_renders_helm_services_like_render(repo: Path, tmp_path: Path) -> None:
    services = bulk.discover_services([str(repo)])
    options = bulk.BulkOptions(
        tuple(services), ENVS, str(tmp_path / "out"), parse_render_request, jobs=2
    )  # type: ignore[arg-type]
    result = bulk.run_bulk(options)
    assert not result.failed
    got = (tmp_path / "out" / "web" / "develop" / "manifest.yaml").read_bytes()
    cwd = os.getcwd()
    os.chdir(repo / "web")
    try:
        assert cli.main(["render", *ENVS[0].render_args(), "-o", str(tmp_path / "one.yaml")]) == 0
    finally:
        os.chdir(cwd)
    assert got == (tmp_path / "one.yaml").read_bytes()
    assert b"# Source: app/templates/pod.yaml" in got and b"image: gcr.io/p/web:" in got


@pytest.mark.parametrize("touched", ["charts/app/templates/pod.yaml", "web/values.yaml"])
def test_changed_follows_the_chart_and_values_files(repo: Path, touched: str) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    services = bulk.discover_services([str(repo)])
    (repo / touched).write_text((repo / touched).read_text() + "# touched\n")
    _commit(repo)
    changed = bulk.changed_paths(str(repo), head)
    selected = bulk.select_changed(services, ENVS, changed, parse_render_request)
    assert [s.name for s in selected] == ["web"]


def test_a_remote_chart_always_counts_as_changed(repo: Path) -> None:
    (repo / "web/skaffold.yaml").write_text(
        HELM_SERVICE.replace("chartPath: ../charts/app", "remoteChart: oci://r.invalid/c")
    )
    _commit(repo)
    services = bulk.discover_services([str(repo)])
    selected = bulk.select_changed(services, ENVS, set(), parse_render_request)
    assert [s.name for s in selected] == ["web"]
