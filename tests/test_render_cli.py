"""`skrender render` output placement: what goes to stdout besides the manifests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
apiVersion: skaffold/v4beta13
kind: Config
build:
  tagPolicy:
    envTemplate:
      template: "{{.TAG_FROM_ENV}}"
  artifacts:
  - image: app
manifests:
  rawYaml: [k8s/pod.yaml]
"""
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: app\n"


def _render(tree: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "HOME": str(tree), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", "--offline=true", *args],
        cwd=tree, env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "skaffold.yaml").write_text(CONFIG)
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    return tmp_path


def test_loud_prints_skaffolds_build_log_on_stdout(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    out = tree / "out.yaml"
    done = _render(tree, "--digest-source=tag", "-d", "gcr.io/p", "--loud", "-o", str(out),
                   TAG_FROM_ENV="v1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    # pkg/skaffold/deploy/util/util.go ImageTags + runner/build.go
    assert done.stdout == (
        "Generating tags...\n"
        " - app -> gcr.io/p/app:v1\n"
        "Skipping build phase since --digest-source=tag\n"
    )
    assert "image: gcr.io/p/app:v1\n" in out.read_text()


def test_loud_reports_a_failed_tagger(tmp_path: Path) -> None:
    done = _render(_tree(tmp_path), "--digest-source=tag", "--loud", "-o", "out.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Generating tags...",
        " - app -> app:latest",
        "Some taggers failed. Rerun with -vdebug for errors.",
        "Skipping build phase since --digest-source=tag",
    ]


def test_without_loud_stdout_holds_only_the_manifests(tmp_path: Path) -> None:
    done = _render(_tree(tmp_path), "--digest-source=tag", TAG_FROM_ENV="v1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("apiVersion: v1\nkind: Pod\n")
    assert "image: app:v1\n" in done.stdout
