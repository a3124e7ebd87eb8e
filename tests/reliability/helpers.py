"""Shared helpers of the reliability suite: temp project trees and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SKAFFOLD_YAML = """\
apiVersion: skaffold/v4beta13
kind: Config
build:
  tagPolicy:
    envTemplate:
      template: v1
  artifacts:
  - image: foo
manifests:
  rawYaml:
  - k8s/*.yaml
"""

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: foo
"""

OFFLINE = ("--offline=true", "--digest-source=tag", "--default-repo", "gcr.io/p")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr


def make_tree(root: Path, files: Mapping[str, str | bytes] | None = None) -> Path:
    """A project: skaffold.yaml + k8s/pod.yaml, overridden/extended by ``files``."""
    content: dict[str, str | bytes] = {"skaffold.yaml": SKAFFOLD_YAML, "k8s/pod.yaml": POD_YAML}
    content.update(files or {})
    for name, data in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    return root


def cli_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for the CLI: fresh HOME, no user or system git config."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    """``python3 -m engine ARGS`` in ``cwd``."""
    done = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(cwd.parent / "home"),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def assert_clean_failure(run: Run, *, names: Sequence[str] = (), code: int = 1) -> None:
    """Exit ``code``, nothing on stdout, one error message naming each of ``names``."""
    assert run.code == code, (run.code, run.stderr)
    assert "Traceback" not in run.everything, run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert run.stderr.strip(), "no error message"
    assert run.stdout == "", run.stdout
    for name in names:
        assert name in run.stderr, (name, run.stderr)
