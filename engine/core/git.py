"""git, asked once: every git command goes through :func:`engine.core.proc.run` and is memoised.

Results (and failures) are cached per (working directory, argv, environment) for the life of
the process, so a bulk run over many services sharing one repository asks git once per
question.  Output is trimmed as skaffold trims it (``pkg/skaffold/tag/git_commit.go: runGit``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping

from engine.core import proc
from engine.core.errors import ToolError

_Key = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...] | None]
_cache: dict[_Key, str | ToolError] = {}
_lock = threading.Lock()


def run_git(cwd: str, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Trimmed stdout of ``git <args>`` run in ``cwd``; raises :class:`ToolError` on failure.

    ``env`` replaces the process environment when given.  Memoised, failures included.
    """
    key: _Key = (
        os.path.abspath(cwd),
        tuple(args),
        tuple(sorted(env.items())) if env is not None else None,
    )
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        cached = _run_uncached(cwd, args, env)
        with _lock:
            _cache[key] = cached
    if isinstance(cached, ToolError):
        raise cached
    return cached


def _run_uncached(
    cwd: str, args: tuple[str, ...], env: Mapping[str, str] | None
) -> str | ToolError:
    if not os.path.isdir(cwd):
        # Go's exec fails before starting git when the directory is missing.
        return ToolError(f"chdir {cwd}: no such file or directory")
    try:
        done = proc.run(["git", *args], cwd=cwd, env=env)
    except ToolError as exc:
        return exc
    return done.stdout.decode("utf-8", "replace").strip()


def prime(
    answers: Iterable[tuple[str, tuple[str, ...], str]], env: Mapping[str, str] | None = None
) -> None:
    """Record each (cwd, args, output) as the answer of ``git <args>`` in ``cwd`` (with ``env``)
    without running git; an answer already known is kept.

    For callers that learned the answers from one repository-wide question (``skrender
    bulk`` asks ``git status`` once per repository instead of once per directory).
    """
    env_key = tuple(sorted(env.items())) if env is not None else None
    entries = [((os.path.abspath(cwd), tuple(args), env_key), out) for cwd, args, out in answers]
    with _lock:
        for key, output in entries:
            _cache.setdefault(key, output)


def clear_cache() -> None:
    """Forget every memoised git answer (for long-lived processes and tests)."""
    with _lock:
        _cache.clear()


def toplevel(path: str, env: Mapping[str, str] | None = None) -> str:
    """The work-tree root containing ``path`` (``git rev-parse --show-toplevel``)."""
    return run_git(path, "rev-parse", "--show-toplevel", env=env)


class GitRepo:
    """The git questions skaffold's gitCommit tagger asks, in one working directory."""

    def __init__(self, path: str, env: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.env = dict(env) if env is not None else None

    def run(self, *args: str) -> str:
        """Trimmed output of ``git <args>`` in this directory (memoised)."""
        return run_git(self.path, *args, env=self.env)

    def toplevel(self) -> str:
        """``git rev-parse --show-toplevel``."""
        return self.run("rev-parse", "--show-toplevel")

    def describe_tags(self) -> str:
        """``git describe --tags --always``: nearest tag, or the abbreviated commit."""
        return self.run("describe", "--tags", "--always")

    def commit_sha(self, *, abbrev: bool = False) -> str:
        """``git rev-list -1 HEAD`` (``--abbrev-commit`` for git's short form)."""
        if abbrev:
            return self.run("rev-list", "-1", "HEAD", "--abbrev-commit")
        return self.run("rev-list", "-1", "HEAD")

    def tree_sha(self, rel_path: str, *, short: bool = False) -> str:
        """Tree object of ``rel_path`` (relative to the top level) at HEAD."""
        spec = f"HEAD:{rel_path}/"
        if short:
            return self.run("rev-parse", "--short", spec)
        return self.run("rev-parse", spec)

    def current_branch(self) -> str:
        """``git branch --show-current`` (empty on a detached HEAD)."""
        return self.run("branch", "--show-current")

    def status_porcelain(self) -> str:
        """``git status . --porcelain``: changes (untracked files too) under this directory."""
        return self.run("status", ".", "--porcelain")
