"""Read what branches of a manifest repository hold now, without a checkout or a push.

``skrender bulk --dry-run`` and ``--check`` compare each render with its branch.  They use
:mod:`engine.gitops.publish`'s own plumbing, so they see exactly what a publish would build on
and cost the same fixed number of round trips whatever the number of branches:

1. one ``ls-remote`` for the tips of every branch;
2. one shallow, blob-less ``fetch`` of the tips that exist (commits and trees only);
3. the trees walked in-process down to each file: its blob id says whether it would change
   (the id of the new content is computed here, so an unchanged file costs nothing more);
4. for a diff only, one ``fetch`` of the old blobs of the files that would change.

Nothing is written to the remote; the private repository is removed on every exit path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from engine.gitops import gitobjects as objects
from engine.gitops import publish
from engine.gitops.remote import RemoteUrl


@dataclass(frozen=True)
class BranchFile:
    """One file on one branch as the remote holds it now.

    ``tip`` is None when the branch does not exist; ``blob`` when the file does not (or a
    directory has its name, which a publish would replace).
    """

    branch: str
    path: str
    tip: str | None
    blob: str | None


@contextlib.contextmanager
def reading(repo: str, env: Mapping[str, str] | None = None) -> Iterator[BranchReader]:
    """A :class:`BranchReader` of ``repo``, in a private repository removed on every exit
    path: as in :func:`publish.publish_many`, SIGTERM and SIGHUP unwind instead of killing."""
    with publish.open_session(RemoteUrl.parse(repo), env, reading=True) as session:
        yield BranchReader(session)


class BranchReader:
    """Reads files on branches through publish's private session (see :func:`reading`)."""

    def __init__(self, session: publish._Session) -> None:
        self.session = session

    def files(self, wanted: Sequence[tuple[str, str]]) -> list[BranchFile]:
        """Where each ``(branch, path)`` stands (``path`` slash-separated inside the branch)."""
        session = self.session
        names = list(dict.fromkeys(branch for branch, _ in wanted))
        tips = session.fetch_tips(session.list_tips(names))
        commits = session._read_objects({tip for tip in tips.values() if tip is not None})
        roots = {name: publish._commit_tree(commits[tip]) for name, tip in tips.items() if tip}
        parts = {(branch, path): _split(path) for branch, path in wanted}
        needs: dict[str, set[tuple[bytes, ...]]] = {name: set() for name in roots}
        for (branch, _), split in parts.items():
            if branch in needs:
                needs[branch].update(split[: depth + 1] for depth in range(len(split) - 1))
        trees = session._load_trees(roots, needs)
        found: list[BranchFile] = []
        for branch, path in wanted:
            root = roots.get(branch)
            blob = _blob_at(trees, root, parts[(branch, path)]) if root else None
            found.append(BranchFile(branch, path, tips.get(branch), blob))
        return found

    def blobs(self, oids: set[str]) -> dict[str, bytes]:
        """The contents of blobs on the fetched branches: one ``fetch`` of those missing (a
        blob-less fetch left them on the server)."""
        session = self.session
        if not oids:
            return {}
        args = ("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--filter=blob:none")
        done = session._run((*args, "origin", *sorted(oids)))
        if done.returncode != 0:
            raise session._error("fetching the current manifests from", done)
        return session._read_objects(oids)


def _split(path: str) -> tuple[bytes, ...]:
    return tuple(p.encode("utf-8", "surrogateescape") for p in path.split("/") if p)


def _blob_at(trees: Mapping[str, bytes], root: str, path: tuple[bytes, ...]) -> str | None:
    """The blob id at ``path`` below the tree ``root``; None when there is no such file."""
    oid = root
    for depth, part in enumerate(path):
        content = trees.get(oid)
        if content is None:
            return None
        entry = objects.parse_tree(content).get(part)
        if entry is None:
            return None
        mode, oid = entry
        last = depth == len(path) - 1
        if objects.is_tree_mode(mode) == last:  # a directory where the file goes, or v.v.
            return None
    return oid


# --- comparing renders with their branches ----------------------------------------------------


@dataclass(frozen=True)
class RenderedFile:
    """A rendered file (``source`` on disk) that publishing would commit to ``branch`` at
    ``path``."""

    branch: str
    path: str
    source: str


@dataclass(frozen=True)
class Change:
    """Whether publishing would change the branch, and (when asked) the ``git diff`` of the
    commit it would make: everything added for a new branch or file."""

    changed: bool
    diff: bytes = b""
    error: str | None = None  # why this file could not be compared (a bad branch name)


def compare(
    repo: str,
    rendered: Sequence[RenderedFile],
    *,
    diff: bool = True,
    env: Mapping[str, str] | None = None,
) -> list[Change]:
    """One :class:`Change` per rendered file, in order; raises :class:`PublishError` when the
    repository cannot be read.  A publish commits one file per target without pruning, so a
    branch changes exactly when the file's blob would."""
    from engine.gitops import gitdiff

    problems = [_name_problem(r) for r in rendered]
    if any(problems):
        good = [r for r, problem in zip(rendered, problems, strict=True) if problem is None]
        answers = iter(compare(repo, good, diff=diff, env=env) if good else [])
        return [Change(False, error=problem) if problem else next(answers) for problem in problems]
    new_ids = [objects.object_id("blob", _read(r.source)) for r in rendered]
    with reading(repo, env) as reader:
        found = reader.files([(r.branch, r.path) for r in rendered])
        moved = [f.blob != new for f, new in zip(found, new_ids, strict=True)]
        old = {f.blob for f, m in zip(found, moved, strict=True) if m and f.blob} if diff else set()
        contents = reader.blobs(old)
    changes: list[Change] = []
    for item, where, new_id, changed in zip(rendered, found, new_ids, moved, strict=True):
        text = b""
        if changed and diff:
            before = contents[where.blob] if where.blob else None
            text = gitdiff.file_diff(
                item.path, before, _read(item.source), where.blob or "", new_id
            )
        changes.append(Change(changed, text))
    return changes


def _name_problem(item: RenderedFile) -> str | None:
    """Why publishing could not commit ``item`` (what :func:`publish.publish_many` refuses)."""
    problem = objects.branch_name_problem(item.branch)
    if problem:
        return f"--branch {item.branch!r} is not a valid branch name: it {problem}"
    for part in item.path.split("/"):
        problem = objects.path_component_problem(part)
        if problem:
            return f"path {item.path!r} is not a relative path inside the branch: {problem}"
    return None


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()
