from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from engine.core import git
from engine.core.errors import ToolError


def _git(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "a.txt").write_text("a\n")
    (root / "b.txt").write_text("b\n")
    _git(root, git_env, "init", "-q", "-b", "main")
    _git(root, git_env, "add", "-A")
    _git(root, git_env, "commit", "-q", "-m", "one")
    git.clear_cache()
    return root


def test_questions(repo: Path, git_env: dict[str, str]) -> None:
    r = git.GitRepo(str(repo / "svc"), git_env)
    assert r.commit_sha() == "1093beb31114effcc494d66c8197745edaa83f57"
    assert r.commit_sha(abbrev=True) == "1093beb"
    assert r.describe_tags() == "1093beb"
    assert r.current_branch() == "main"
    assert r.toplevel() == str(repo.resolve())
    assert git.toplevel(str(repo / "svc"), git_env) == str(repo.resolve())
    assert r.tree_sha("svc") == "08585692ce06452da6f82ae66b90d98b55536fca"
    assert r.status_porcelain() == ""


def test_status_is_scoped_and_memoised(repo: Path, git_env: dict[str, str]) -> None:
    (repo / "b.txt").write_text("changed\n")
    svc = git.GitRepo(str(repo / "svc"), git_env)
    assert svc.status_porcelain() == ""
    assert git.GitRepo(str(repo), git_env).status_porcelain() == "M b.txt"
    (repo / "svc" / "new.txt").write_text("x")
    assert svc.status_porcelain() == ""  # memoised answer
    git.clear_cache()
    assert svc.status_porcelain() == "?? svc/new.txt"


def test_failure_is_tool_error(tmp_path: Path, git_env: dict[str, str]) -> None:
    git.clear_cache()
    with pytest.raises(ToolError):
        git.GitRepo(str(tmp_path), git_env).commit_sha()
    with pytest.raises(ToolError):
        git.run_git(str(tmp_path / "missing"), "status")
