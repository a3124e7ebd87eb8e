"""One set of git calls per repository for every service directory in it: the answers the
gitCommit tagger would otherwise ask git for once per directory (:func:`prime_git`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from engine.gitops.changes import status_paths
from engine.gitops.services import Service


def prime_git(services: Sequence[Service], env_for: Callable[[Service], Mapping[str, str]]) -> int:
    """Answer the gitCommit tagger's per-directory questions from one per repository.

    For every directory of every service (nested repositories excluded), records the output
    of ``git describe --tags --always``, ``git rev-list -1 HEAD [--abbrev-commit]``, ``git
    branch --show-current``, ``git rev-parse --show-toplevel`` (the same anywhere in one work
    tree) and, where nothing below the directory changed, the empty ``git status .
    --porcelain``.  Directories with changes are left to git itself.  Returns how many
    directories were primed.
    """
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[Service]] = {}
    envs: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
    for service in services:
        env = env_for(service)
        if "GIT_DIR" in env or "GIT_WORK_TREE" in env:
            continue
        top = _enclosing_worktree(service.directory)
        if top is None:
            continue
        env_key = tuple(sorted(env.items()))
        envs[env_key] = env
        groups.setdefault((top, env_key), []).append(service)
    primed = 0
    for (top, env_key), members in groups.items():
        primed += _prime_repo(top, members, envs[env_key])
    return primed


_REPO_WIDE: tuple[tuple[str, ...], ...] = (
    ("describe", "--tags", "--always"),
    ("rev-list", "-1", "HEAD"),
    ("rev-list", "-1", "HEAD", "--abbrev-commit"),
    ("branch", "--show-current"),
    ("rev-parse", "--show-toplevel"),
)


def _prime_repo(top: str, services: Sequence[Service], env: Mapping[str, str]) -> int:
    # The repository-wide questions run concurrently (each is a git process) while this
    # thread walks the service directories.
    with ThreadPoolExecutor(max_workers=len(_REPO_WIDE) + 2) as pool:
        toplevel = pool.submit(_git_or_none, top, ("rev-parse", "--show-toplevel"), env)
        asked = {args: pool.submit(_git_or_none, top, args, env) for args in _REPO_WIDE}
        status = pool.submit(_status_or_none, top, env)
        walked = [(s, list(_service_dirs(s.directory))) for s in services]
        found_top = toplevel.result()
        answers = {args: f.result() for args, f in asked.items()}
        changed = status.result()
    real_top = os.path.realpath(top)
    if found_top is None or changed is None:
        return 0
    if os.path.realpath(found_top) != real_top or _ceiling_inside(env, real_top):
        return 0
    # a failed question (e.g. no commit yet) is left to each directory to ask (and fail)
    known = [(args, output) for args, output in answers.items() if output is not None]
    dirty = [p.rstrip("/") for p in changed]
    primed: list[tuple[str, tuple[str, ...], str]] = []
    count = 0
    for service, directories in walked:
        real_service = os.path.realpath(service.directory)
        for directory in directories:
            # os.walk joins names to the service path: the real path follows the same way
            real = real_service + directory[len(os.path.abspath(service.directory)) :]
            rel = os.path.relpath(real, real_top).replace(os.sep, "/")
            primed.extend((directory, args, output) for args, output in known)
            if not any(_below(p, rel) for p in dirty):
                primed.append((directory, ("status", ".", "--porcelain"), ""))
            count += 1
    from engine.core import git

    git.prime(primed, env=env)
    return count


def _git_or_none(top: str, args: tuple[str, ...], env: Mapping[str, str]) -> str | None:
    from engine.core import git
    from engine.core.errors import ToolError

    try:
        return git.run_git(top, *args, env=env)
    except ToolError:
        return None


def _status_or_none(top: str, env: Mapping[str, str]) -> list[str] | None:
    from engine.core.errors import ToolError

    try:
        return status_paths(top, env)
    except ToolError:
        return None


def _below(path: str, directory: str) -> bool:
    return directory == "." or path == directory or path.startswith(directory + "/")


def _ceiling_inside(env: Mapping[str, str], real_top: str) -> bool:
    """A GIT_CEILING_DIRECTORIES entry below the top level would stop git's discovery."""
    for entry in env.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep):
        if entry and os.path.realpath(entry).startswith(real_top + os.sep):
            return True
    return False


def _enclosing_worktree(path: str) -> str | None:
    probe = os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


def _service_dirs(path: str) -> Iterable[str]:
    """Every directory of a service, skipping nested work trees (their own git answers)."""
    root = os.path.abspath(path)
    for directory, dirs, _files in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if d != ".git" and not os.path.exists(os.path.join(directory, d, ".git"))
        ]
        yield directory
