"""`-v debug` prints why a tagger fell back to `latest` (skaffold logs it at debug level:
pkg/skaffold/deploy/util/util.go ImageTags)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tagger_fallback_reason_at_debug(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: app\n"
    )
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta13\nkind: Config\nbuild:\n  tagPolicy: {inputDigest: {}}\n"
        "  artifacts:\n  - image: app\n    ko:\n      dependencies: {paths: ['nothing/**']}\n"
    )
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}

    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "engine", "render", "--digest-source=tag", *flags]
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)

    quiet, loud = run(), run("-v", "debug")
    assert quiet.returncode == loud.returncode == 0, loud.stderr
    assert "image: app:latest\n" in loud.stdout and quiet.stdout == loud.stdout
    assert "DEBUG" not in quiet.stderr
    assert "pattern \"nothing/**\" did not match any file\n" in loud.stderr
    assert "DEBUG Using a fall-back tagger\n" in loud.stderr
