"""Publish rendered manifests to branches of a GitOps manifest repository, in one round trip.

:func:`publish_many` takes any number of targets (branch, files, path) and costs the same few
git processes and network round trips whatever their number:

1. one ``ls-remote`` for the tips of every target branch;
2. one shallow, blob-less ``fetch`` of the tips that exist (their commits and trees only);
3. every blob, tree and commit computed here (:mod:`engine.gitops.gitobjects`): a branch
   whose tree would not change costs nothing more;
4. one pack of the new objects, written here with its index, and one ``push --atomic`` of
   every changed branch, never forced.

A ref rejected because someone moved the branch (a lost race) is re-fetched and rebuilt on
the new tip, with exponential backoff and full jitter, a bounded number of times; the other
branches of a push an atomic failure took down with it are pushed again as they were.  A ref
the server refuses for good (``cannot lock ref``: a directory/file conflict, a name too long)
is reported with git's cause and not retried.  The server's atomic ref update is the only
thing that changes the remote, so a publisher killed at any point leaves each branch as it was
or fully updated.

All git work happens in a private, temporary bare repository (:mod:`engine.gitops.scratch`:
removed on every exit path, SIGTERM included; one left by SIGKILL is removed by the next run).
Credentials in the URL never reach argv, a config file or the disk (:mod:`engine.gitops.remote`).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from engine.core import proc
from engine.core.errors import PublishError, ToolError
from engine.gitops import gitobjects as objects
from engine.gitops import gitoutput
from engine.gitops.gitoutput import one_line
from engine.gitops.interrupt import Terminated, terminate_raises
from engine.gitops.messages import ci_build_url, commit_message, default_message
from engine.gitops.remote import CredentialFile, RemoteUrl, redact
from engine.gitops.scratch import ScratchDir

__all__ = [
    "PublishResult",
    "Target",
    "ci_build_url",
    "commit_message",
    "default_message",
    "one_line",
    "publish",
    "publish_many",
    "redact",
]

_REMOTE = "origin"
_DEFAULT_EMAIL = "skrender@noreply.invalid"
# Refspecs per push / patterns per ls-remote: argv stays far below the kernel's limits.
_REFS_PER_PUSH = 2000
_PATTERNS_PER_LS_REMOTE = 200

# Environment variables that would point git at some other repository (the user's cwd repo).
_REPO_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_SHALLOW_FILE",
)


@dataclass(frozen=True)
class PublishResult:
    """What publishing one target did: the new commit, or ``None`` when the branch already
    matched; ``error`` says why the target could not be published (``publish_many`` only)."""

    branch: str
    commit: str | None
    changed: bool
    attempts: int
    error: str | None = None


@dataclass(frozen=True)
class Target:
    """``files`` (path relative to ``path`` -> content) to commit on ``branch``.

    With ``prune`` the directory ``path`` holds exactly ``files`` afterwards; without it other
    files are kept (a given file wins over a directory or file it collides with).  ``message``
    is the whole commit message (see :func:`commit_message`).  Several targets may name the
    same branch: each makes its own commit, in order, and the branch is pushed once.
    """

    branch: str
    files: Mapping[str, bytes]
    path: str = ""
    prune: bool = False
    message: str = "Publish rendered manifests\n"


def publish(
    *,
    repo: str,
    branch: str,
    files: Mapping[str, bytes],
    path: str = "",
    message: str | None = None,
    prune: bool = False,
    author: tuple[str, str] | None = None,
    committer: tuple[str, str] | None = None,
    max_attempts: int = 8,
    env: Mapping[str, str] | None = None,
    context: Mapping[str, str] | None = None,
) -> PublishResult:
    """Commit ``files`` under ``path`` on ``branch`` of ``repo`` and push it.

    The branch is created as an orphan when missing; nothing is committed when the tree would
    not change.  ``message`` replaces the subject and body of :func:`default_message`; the
    ``Skrender-*`` trailers from ``context`` are appended either way.  ``author``/``committer``
    are ``(name, email)``; otherwise git's usual variables and configuration apply.  ``env``
    replaces ``os.environ``.  Raises :class:`PublishError` when the target cannot be published.
    """
    base_env = dict(os.environ if env is None else env)
    text = commit_message(message, context or {}, base_env)
    target = Target(branch=branch, files=files, path=path, prune=prune, message=text)
    (result,) = publish_many(
        repo=repo,
        targets=[target],
        author=author,
        committer=committer,
        max_attempts=max_attempts,
        env=base_env,
    )
    if result.error is not None:
        raise PublishError(result.error)
    return result


def publish_many(
    *,
    repo: str,
    targets: Sequence[Target],
    author: tuple[str, str] | None = None,
    committer: tuple[str, str] | None = None,
    max_attempts: int = 8,
    env: Mapping[str, str] | None = None,
) -> list[PublishResult]:
    """Publish every target in one batch; one result per target, in order.

    A target that cannot be published (a bad name, a ref the server refuses, a branch that
    kept moving) gets a result with ``error`` set and never stops the others.  What stops
    all of them (the repository cannot be reached, git is missing) raises
    :class:`PublishError`.
    """
    if max_attempts < 1:
        raise PublishError(f"max_attempts must be at least 1, got {max_attempts}")
    remote = RemoteUrl.parse(repo)
    shown = remote.shown()
    results: list[PublishResult | None] = [None] * len(targets)
    blobs: dict[str, bytes] = {}
    branches = _plan(targets, results, shown, blobs)
    if branches:
        with open_session(remote, env, author=author, committer=committer, blobs=blobs) as session:
            _publish_branches(session, branches, max_attempts)
        for branch in branches:
            for item in branch.items:
                results[item.index] = branch.result_for(item)
    missing = PublishResult("", None, False, 0, "not published")
    return [result if result is not None else missing for result in results]


@contextlib.contextmanager
def open_session(
    remote: RemoteUrl,
    env: Mapping[str, str] | None,
    *,
    author: tuple[str, str] | None = None,
    committer: tuple[str, str] | None = None,
    blobs: Mapping[str, bytes] | None = None,
    reading: bool = False,
) -> Iterator[_Session]:
    """A session on ``remote`` in a private repository removed on every exit path.  SIGTERM
    and SIGHUP unwind instead of killing: a :class:`PublishError` saying what was cut short
    (``reading``: a dry run's comparison), with the exit code the signal would have given."""
    git_env = _git_env(dict(os.environ if env is None else env), author, committer)
    with terminate_raises() as interrupted:
        session: _Session | None = None
        try:
            session = _Session(remote, git_env, blobs or {})
            yield session
        except Terminated as exc:
            shown = remote.shown()
            message = (
                f"interrupted by {signal.Signals(exc.signum).name} while reading {shown}"
                if reading
                else _interrupted_message(exc.signum, session, shown)
            )
            error = PublishError(message)
            error.exit_code = 128 + exc.signum  # as if the signal had ended the process
            raise error from None
        finally:
            interrupted.cleaning = True
            if session is not None:
                session.close()


# --- the plan: validated targets grouped by branch ---------------------------------------------


@dataclass
class _Item:
    """One target, validated: tree paths as bytes, blobs by id."""

    index: int
    prefix: tuple[bytes, ...]
    files: dict[tuple[bytes, ...], str]
    prune: bool
    message: str
    commit: str | None = None


@dataclass
class _Branch:
    """A branch and the targets committed to it, in order, with the state of its push."""

    name: str
    items: list[_Item]
    attempts: int = 0
    tip: str | None = None  # the remote tip the commits are built on
    head: str | None = None  # the last commit built (None: nothing to push)
    error: str | None = None

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.name}"

    def result_for(self, item: _Item) -> PublishResult:
        if self.error is not None:
            return PublishResult(self.name, None, False, self.attempts, self.error)
        changed = item.commit is not None
        return PublishResult(self.name, item.commit, changed, self.attempts)


def _plan(
    targets: Sequence[Target],
    results: list[PublishResult | None],
    shown: str,
    blobs: dict[str, bytes],
) -> list[_Branch]:
    """Validate every target before any work; group the good ones by branch.

    Bad targets get their error result here; so do two branches git could not hold at once
    (``a`` and ``a/b``: one ref would have to be a file and a directory).
    """
    by_name: dict[str, _Branch] = {}
    for index, target in enumerate(targets):
        try:
            item = _validate(index, target, blobs)
        except PublishError as exc:
            results[index] = PublishResult(target.branch, None, False, 0, str(exc))
            continue
        branch = by_name.setdefault(target.branch, _Branch(target.branch, []))
        branch.items.append(item)
    for name in sorted(by_name):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in by_name:
                cause = (
                    f"publishing to {shown} branch {name}: cannot process 'refs/heads/{parent}' "
                    f"and 'refs/heads/{name}' at the same time"
                )
                by_name[name].error = cause
                by_name[parent].error = cause
    good = []
    for branch in by_name.values():
        if branch.error is not None:
            for item in branch.items:
                results[item.index] = branch.result_for(item)
        else:
            good.append(branch)
    return good


def _validate(index: int, target: Target, blobs: dict[str, bytes]) -> _Item:
    problem = objects.branch_name_problem(target.branch)
    if problem:
        raise PublishError(f"--branch {target.branch!r} is not a valid branch name: it {problem}")
    prefix = _tree_path(target.path, "--path", allow_empty=True)
    files: dict[tuple[bytes, ...], str] = {}
    for name, content in target.files.items():
        path = prefix + _tree_path(name, "file name", allow_empty=False)
        if path in files:
            raise PublishError(f"file names collide after normalisation: {name!r}")
        files[path] = objects.object_id("blob", content)
        blobs[files[path]] = content
    for path in files:
        for depth in range(len(prefix) + 1, len(path)):
            if path[:depth] in files:
                shown = "/".join(p.decode("utf-8", "surrogateescape") for p in path)
                raise PublishError(f"file names collide: {shown!r} is inside a file")
    return _Item(index, prefix, files, target.prune, target.message)


def _tree_path(raw: str, what: str, *, allow_empty: bool) -> tuple[bytes, ...]:
    """A slash-separated path inside the tree: ``\\`` as ``/``, empty and ``.`` parts dropped;
    ``..``, ``.git`` and every name git would refuse or silently drop is an error."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    for part in parts:
        problem = objects.path_component_problem(part)
        if problem:
            raise PublishError(
                f"{what} {raw!r} is not a relative path inside the branch: {part!r} {problem}"
            )
    if not parts and not allow_empty:
        raise PublishError(f"{what} {raw!r} is not a relative path inside the branch")
    try:
        return tuple(p.encode("utf-8") for p in parts)
    except UnicodeEncodeError:
        raise PublishError(f"{what} {raw!r} is not valid UTF-8") from None


# --- the batch -------------------------------------------------------------------------------


def _publish_branches(session: _Session, branches: list[_Branch], max_attempts: int) -> None:
    """Build and push until every branch is published, unchanged or failed."""
    rebuild = list(branches)
    waiting: list[_Branch] = []  # built, to push (again)
    tips = session.list_tips([b.name for b in rebuild])
    while rebuild or waiting:
        if rebuild:
            tips.update(session.fetch_tips({b.name: tips.get(b.name) for b in rebuild}))
            for branch in rebuild:
                branch.attempts += 1
                branch.tip = tips.get(branch.name)
            session.build(rebuild)
            waiting += [b for b in rebuild if b.head is not None]  # the others: unchanged
        rebuild = []
        if not waiting:
            break
        lost, again = session.push(waiting)
        waiting = again
        for branch in lost:
            if branch.attempts >= max_attempts:
                branch.error = (
                    f"publishing to {session.shown_repo} branch {branch.name}: the branch kept "
                    f"moving; gave up after {max_attempts} attempts"
                )
            else:
                rebuild.append(branch)
        if rebuild:
            time.sleep(_backoff(max(b.attempts for b in rebuild)))
            tips = session.list_tips([b.name for b in rebuild])


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter (so racing publishers spread out), capped at 5s."""
    ceiling = min(5.0, 0.05 * (2**attempt))
    return random.uniform(ceiling / 4, ceiling)


class _Session:
    """A private bare repository in a scratch directory, and the git calls made in it."""

    def __init__(self, remote: RemoteUrl, env: dict[str, str], blobs: Mapping[str, bytes]) -> None:
        """``env`` is git's environment; ``blobs`` the targets' file contents by blob id."""
        self.remote = remote
        self._blobs = blobs
        self.secrets = remote.secrets()
        self.shown_repo = remote.shown()
        self.pushing = False
        self.pushed: list[str] = []
        self._atomic: tuple[str, ...] = ("--atomic",)
        self._idents: tuple[str, str] | None = None
        self._written: set[str] = set()
        self._fetched: set[str] = set()
        self._new_objects: dict[str, tuple[str, bytes]] = {}
        self._scratch = ScratchDir("skrender-publish")
        self._credentials: CredentialFile | None = None
        try:
            self.dir = os.path.join(self._scratch.path, "repo.git")
            self.env = env
            if remote.has_credentials:
                self._credentials = CredentialFile(remote, self._scratch.path)
            self._git("init", "--quiet", "--bare", "--template=", self.dir, bare_dir=False)
            self._write_config()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Forget the credentials and remove the private repository."""
        if self._credentials is not None:
            self._credentials.close()
            self._credentials = None
        self._scratch.close()

    # -- remote state --

    def list_tips(self, names: Sequence[str]) -> dict[str, str | None]:
        """The remote tip of each branch (None: no such branch): one ``ls-remote``."""
        args = ["ls-remote", _REMOTE]
        if len(names) <= _PATTERNS_PER_LS_REMOTE:
            args += [f"refs/heads/{n}" for n in names]
        else:
            args.insert(1, "--heads")
        done = self._run(tuple(args))
        if done.returncode != 0:
            raise self._error("listing the branches of", done)
        listed: dict[str, str] = {}
        for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
            oid, _, ref = line.partition("\t")
            listed[ref] = oid
        return {n: listed.get(f"refs/heads/{n}") for n in names}

    def fetch_tips(
        self, tips: Mapping[str, str | None], *, relisted: bool = False
    ) -> dict[str, str | None]:
        """Shallow-fetch the commits and trees of the tips that exist (one ``fetch``, by
        object id: no local refs to write, which would cost more than the fetch itself).
        The tips to build on: those asked for, or, when one moved away since ``ls-remote``
        (the server no longer serves it), the branches' tips listed again."""
        wanted = sorted({oid for oid in tips.values() if oid is not None} - self._fetched)
        if not wanted:
            return dict(tips)
        # Only the tip commits and their trees: the blobs of unchanged files are never needed
        # (a server without filter support just sends them too).
        args = ("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1")
        done = self._run((*args, "--filter=blob:none", _REMOTE, *wanted))
        if done.returncode != 0:
            if self._tips_moved(done) and not relisted:
                return self.fetch_tips(self.list_tips(list(tips)), relisted=True)
            raise self._error("fetching from", done)
        self._fetched.update(wanted)
        return dict(tips)

    @staticmethod
    def _tips_moved(done: proc.Completed) -> bool:
        """A fetch by id refused because a branch moved (its old tip is no longer served)."""
        text = done.stderr
        return b"not our ref" in text or b"unadvertised object" in text

    # -- building --

    def build(self, branches: Sequence[_Branch]) -> None:
        """Apply every branch's targets to its tip's tree: a commit per target that changes
        the tree; ``branch.head`` the last one (None when nothing changed)."""
        needs: dict[str, set[tuple[bytes, ...]]] = {}
        roots: dict[str, str] = {}
        commits = self._read_objects({b.tip for b in branches if b.tip is not None})
        for branch in branches:
            branch.head = None
            for item in branch.items:
                item.commit = None
            if branch.tip is None:
                continue
            roots[branch.name] = _commit_tree(commits[branch.tip])
            needs[branch.name] = _directories_needed(branch.items)
        trees = self._load_trees(roots, needs)
        for branch in branches:
            self._build_branch(branch, roots.get(branch.name), trees)

    def _build_branch(self, branch: _Branch, root: str | None, trees: Mapping[str, bytes]) -> None:
        tree = objects.Directory(objects.parse_tree(trees[root]) if root else {})
        current = root
        parent = branch.tip
        for item in branch.items:
            node = tree
            for depth, part in enumerate(item.prefix):
                last = depth == len(item.prefix) - 1
                node = node.child(part, trees, fresh=last and item.prune)
            if item.prune:
                node.clear()
            for path, oid in item.files.items():
                inner = node
                for part in path[len(item.prefix) : -1]:
                    inner = inner.child(part, trees)
                inner.put_file(path[-1], oid)
            kept = tree.count_files(item.prefix)
            if kept < len(item.files) or (item.prune and kept != len(item.files)):
                raise PublishError(
                    f"publishing to {self.shown_repo} branch {branch.name}: the tree lost "
                    f"{len(item.files) - kept} of {len(item.files)} files"
                )
            new_tree = tree.write(self._new_objects) or self._empty_tree()
            if new_tree == current:  # (a missing branch has no tree: its first commit is made)
                continue  # this target changes nothing
            content = objects.encode_commit(new_tree, parent, *self._ident(), item.message)
            commit = objects.object_id("commit", content)
            self._new_objects[commit] = ("commit", content)
            item.commit = parent = branch.head = commit
            current = new_tree

    def _empty_tree(self) -> str:
        self._new_objects[objects.EMPTY_TREE] = ("tree", b"")
        return objects.EMPTY_TREE

    def _ident(self) -> tuple[str, str]:
        """(author, committer) lines as ``git commit-tree`` would write them: ``git var``."""
        if self._idents is None:
            author = self._git("var", "GIT_AUTHOR_IDENT").strip()
            committer = self._git("var", "GIT_COMMITTER_IDENT").strip()
            self._idents = (author, committer)
        return self._idents

    def _load_trees(
        self, roots: Mapping[str, str], needs: Mapping[str, set[tuple[bytes, ...]]]
    ) -> dict[str, bytes]:
        """The base trees the targets descend into, read level by level: one ``cat-file``
        per directory depth, whatever the number of branches."""
        trees: dict[str, bytes] = {}
        Frontier = dict[tuple[str, tuple[bytes, ...]], str]
        frontier: Frontier = {(name, ()): oid for name, oid in roots.items()}
        while frontier:
            trees.update(self._read_objects(set(frontier.values()) - set(trees)))
            deeper: Frontier = {}
            for (name, path), oid in frontier.items():
                for entry, (mode, child) in objects.parse_tree(trees[oid]).items():
                    sub = (*path, entry)
                    if objects.is_tree_mode(mode) and sub in needs[name]:
                        deeper[(name, sub)] = child
            frontier = deeper
        return trees

    def _read_objects(self, oids: set[str]) -> dict[str, bytes]:
        """Contents of objects present in the private repository (one ``cat-file --batch``)."""
        if not oids:
            return {}
        order = sorted(oids)
        stdin = "".join(f"{oid}\n" for oid in order).encode()
        done = self._run(("cat-file", "--batch"), stdin=stdin)
        if done.returncode != 0:
            raise self._error("reading objects fetched from", done)
        out, pos, found = done.stdout, 0, {}
        for oid in order:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) != 3:
                raise PublishError(f"fetching from {self.shown_repo}: object {oid} is missing")
            size = int(header[2])
            found[oid] = out[end + 1 : end + 1 + size]
            pos = end + 2 + size
        return found

    # -- pushing --

    def push(self, branches: Sequence[_Branch]) -> tuple[list[_Branch], list[_Branch]]:
        """Push every built branch, never forced; (lost races to rebuild, branches to push
        again as they are).  Published and refused branches are marked on the branch."""
        self._write_pack(branches)
        lost: list[_Branch] = []
        again: list[_Branch] = []
        for start in range(0, len(branches), _REFS_PER_PUSH):
            chunk = branches[start : start + _REFS_PER_PUSH]
            chunk_lost, chunk_again = self._push_chunk(chunk)
            lost += chunk_lost
            again += chunk_again
        return lost, again

    def _push_chunk(self, branches: Sequence[_Branch]) -> tuple[list[_Branch], list[_Branch]]:
        refspecs = [f"{b.head}:{b.ref}" for b in branches]
        # --no-thin: a thin pack would delta against (and so lazily fetch) the old blobs.
        args = ("push", "--porcelain", "--no-verify", "--no-thin", _REMOTE)
        self.pushing = True
        done = self._run((*args, *self._atomic, *refspecs))
        if self._atomic and b"does not support --atomic" in done.stderr:
            self._atomic = ()  # an old server: each ref on its own (each still all or nothing)
            done = self._run((*args, *refspecs))
        self.pushing = False
        stdout = done.stdout.decode("utf-8", "surrogateescape")
        stderr = done.stderr.decode("utf-8", "surrogateescape")
        outcomes = gitoutput.push_outcomes([b.ref for b in branches], stdout, stderr)
        if outcomes is None:
            raise self._error("pushing to", done)
        lost: list[_Branch] = []
        again: list[_Branch] = []
        for branch in branches:
            outcome = outcomes[branch.ref]
            if outcome.kind == "pushed":
                self.pushed.append(branch.name)
            elif outcome.kind == "lost":
                lost.append(branch)
            elif outcome.kind == "again":
                again.append(branch)
            else:
                branch.error = (
                    f"pushing to {self.shown_repo} branch {branch.name}: rejected: "
                    f"{self._clean(outcome.cause)}"
                )
        return lost, again

    def _write_pack(self, branches: Sequence[_Branch]) -> None:
        """Hand git the new objects of ``branches`` as one pack, its index written here too:
        ``index-pack`` would inflate and hash every object once more, for nothing (the
        server's ``index-pack`` hashes what it receives, whatever ids this index claims)."""
        wanted: dict[str, tuple[str, bytes]] = {}
        for branch in branches:
            for oid, kind, content in self._objects_of(branch):
                if oid not in self._written:
                    wanted[oid] = (kind, content)
        if not wanted:
            return
        pack, index = objects.encode_indexed_pack(wanted)
        base = os.path.join(self.dir, "objects", "pack", f"pack-{pack[-20:].hex()}")
        try:
            with open(f"{base}.pack", "wb") as fh:
                fh.write(pack)
            with open(f"{base}.idx", "wb") as fh:  # last: git only reads packs with an index
                fh.write(index)
        except OSError as exc:
            raise PublishError(
                f"writing the new commits for {self.shown_repo}: {exc.strerror or exc}"
            ) from None
        self._written.update(wanted)

    def _objects_of(self, branch: _Branch) -> Iterator[tuple[str, str, bytes]]:
        """The new commits of ``branch`` and every new tree and blob they reference."""
        commit = branch.head
        while commit is not None and commit != branch.tip:
            kind, content = self._new_objects[commit]
            yield commit, kind, content
            header, _, _ = content.partition(b"\n\n")
            parent: str | None = None
            for line in header.split(b"\n"):
                key, _, value = line.partition(b" ")
                if key == b"tree":
                    yield from self._tree_objects(value.decode())
                elif key == b"parent":
                    parent = value.decode()
            commit = parent

    def _tree_objects(self, oid: str) -> Iterator[tuple[str, str, bytes]]:
        new = self._new_objects.get(oid)
        if new is None:
            return  # a base tree: on the server already
        yield oid, "tree", new[1]
        for mode, child in objects.parse_tree(new[1]).values():
            if objects.is_tree_mode(mode):
                yield from self._tree_objects(child)
            else:
                content = self._blobs.get(child)
                if content is not None:
                    yield child, "blob", content

    # -- git --

    def _write_config(self) -> None:
        """The private config: the remote (without credentials) as a blob-less partial-clone
        promisor, no automatic maintenance, and, for a URL with credentials, only the
        helper reading them (the user's helpers must not store them anywhere)."""
        lines = [
            "[core]\n\trepositoryformatversion = 1\n\tbare = true\n",
            f"[extensions]\n\tpartialClone = {_REMOTE}\n",
            "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n",
            f'[remote "{_REMOTE}"]\n\turl = {_config_quote(_remote_url(self.remote.url))}\n',
            "\tpromisor = true\n\tpartialCloneFilter = blob:none\n",
        ]
        if self._credentials is not None:
            helper = _config_quote(self._credentials.helper_command())
            lines.append(f"[credential]\n\thelper =\n\thelper = {helper}\n")
        with open(os.path.join(self.dir, "config"), "w", encoding="utf-8") as fh:
            fh.write("".join(lines))

    def _git(self, *args: str, stdin: bytes | None = None, bare_dir: bool = True) -> str:
        """Run a local git command that must succeed; its stdout."""
        done = self._run(args, stdin=stdin, bare_dir=bare_dir)
        if done.returncode != 0:
            raise self._error(f"git {args[0]} for", done)
        return done.stdout.decode("utf-8", "surrogateescape")

    def _run(
        self, args: tuple[str, ...], *, stdin: bytes | None = None, bare_dir: bool = True
    ) -> proc.Completed:
        hooks = os.path.join(self._scratch.path, "no-hooks")
        # warnAmbiguousRefs off: every name given is a full id or ref, and checking each id
        # for a same-named ref costs six stat()s per ref (a third of a 1,000-ref push).
        argv = ["git", "-c", f"core.hooksPath={hooks}", "-c", "core.warnAmbiguousRefs=false"]
        if bare_dir:
            argv.append(f"--git-dir={self.dir}")
        try:
            return proc.run(
                [*argv, *args],
                cwd=self.dir if bare_dir else None,
                env=self.env,
                stdin=stdin,
                check=False,
            )
        except ToolError as exc:  # a missing git, a timeout: one redacted line
            raise PublishError(
                f"publishing to {self.shown_repo}: {self._clean(str(exc).splitlines()[0])}"
            ) from None

    def _error(self, doing: str, done: proc.Completed) -> PublishError:
        cause = gitoutput.git_cause(done.stderr.decode("utf-8", "replace"))
        return PublishError(
            f"{doing} {self.shown_repo}: "
            f"{self._clean(cause) if cause else f'git exited with status {done.returncode}'}"
        )

    def _clean(self, text: str) -> str:
        """Untrusted text (git's, the server's) as one safe line, without secrets."""
        return gitoutput.one_line(redact(text, self.secrets))


def _directories_needed(items: Sequence[_Item]) -> set[tuple[bytes, ...]]:
    """Every base directory the targets descend into (and so must be read)."""
    needs: set[tuple[bytes, ...]] = set()
    for item in items:
        stop = len(item.prefix) - 1 if item.prune else len(item.prefix)
        needs.update(item.prefix[: depth + 1] for depth in range(max(stop, 0)))
        if item.prune:
            continue
        for path in item.files:
            needs.update(path[: depth + 1] for depth in range(len(path) - 1))
    return needs


def _commit_tree(content: bytes) -> str:
    first = content.split(b"\n", 1)[0]
    if not first.startswith(b"tree "):
        raise PublishError("a fetched commit has no tree")
    return first[5:].decode()


# --- helpers ---------------------------------------------------------------------------------


def _git_env(
    env: Mapping[str, str],
    author: tuple[str, str] | None,
    committer: tuple[str, str] | None,
) -> dict[str, str]:
    """The environment for every git call: the caller's, aimed at the private repository."""
    out = {k: v for k, v in env.items() if k not in _REPO_ENV}
    # Messages are matched (``couldn't find remote ref``); a prompt would hang CI.
    out.update({"LC_ALL": "C", "LANGUAGE": "C", "GIT_TERMINAL_PROMPT": "0"})
    # git falls back to $EMAIL below user.email; without either it refuses to commit in CI.
    out.setdefault("EMAIL", _DEFAULT_EMAIL)
    for role, ident in (("AUTHOR", author), ("COMMITTER", committer)):
        if ident is not None:
            out[f"GIT_{role}_NAME"], out[f"GIT_{role}_EMAIL"] = ident
    return out


def _remote_url(repo: str) -> str:
    """``repo`` as git should see it from the private repository (local paths made absolute)."""
    if "://" in repo or _is_scp_like(repo):
        return repo
    return os.path.abspath(repo)


def _is_scp_like(repo: str) -> bool:
    """git's ``[user@]host:path`` form: a colon before the first slash."""
    colon = repo.find(":")
    slash = repo.find("/")
    return colon > 0 and (slash < 0 or colon < slash)


def _config_quote(value: str) -> str:
    """A git-config value in double quotes (backslash and quote escaped)."""
    if "\n" in value:
        raise PublishError("--repo must not contain a newline")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _interrupted_message(signum: int, session: _Session | None, shown: str) -> str:
    name = signal.Signals(signum).name
    if session is not None and session.pushing:
        return (
            f"interrupted by {name} while pushing to {shown}: the push may or may not have "
            "updated the branches (each one entirely or not at all)"
        )
    pushed = session.pushed if session is not None else []
    published = f"; already published: {', '.join(pushed)}" if pushed else ""
    return f"interrupted by {name} before pushing to {shown}{published}"
