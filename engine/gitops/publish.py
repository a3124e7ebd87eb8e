"""Publish rendered manifests to a branch of a GitOps manifest repository.

The commit is built with git plumbing in a private, temporary bare repository: a shallow,
blob-less fetch of just the target branch (its tip commit and trees), ``hash-object`` for the
files, a throw-away index (``read-tree``/``update-index``/``write-tree``) for the tree,
``commit-tree`` and a plain (never forced) ``push``.  Nothing depends on the length of the
branch's history, the user's working directory is never touched, and the server's atomic ref
update is the only thing that changes the remote: a publisher killed at any point leaves the
branch as it was or fully updated.

A push rejected because someone else moved the branch is retried: re-fetch, re-apply the same
files on the new tip, push again, with exponential backoff and full jitter, a bounded number of
times.  Credentials are whatever git itself uses; any userinfo in the repository URL is kept out
of process arguments (it is written to the private repository's config) and out of every
message.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.core import proc
from engine.core.errors import PublishError, ToolError

# Remote-tracking ref the fetched branch tip lands on inside the private repository.
_BASE_REF = "refs/skrender/base"
_REMOTE = "origin"
_FILE_MODE = "100644"
_ZERO_OID = "0" * 40
_DEFAULT_EMAIL = "skrender@noreply.invalid"

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

# Push statuses (``git push --porcelain``) that mean "the branch moved under us": retry.
_RETRYABLE = re.compile(
    r"non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref"
    r"|incorrect old value|reference already exists|failed to lock"
)

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]*)@")

# CI systems and the variables that give the build URL and the source commit.
_CI_BUILD_URL = (
    ("GITHUB_RUN_ID", None),  # composed from GITHUB_SERVER_URL/GITHUB_REPOSITORY below
    ("CI_JOB_URL", "CI_JOB_URL"),  # GitLab CI
    ("CI_PIPELINE_URL", "CI_PIPELINE_URL"),  # GitLab CI, when the job URL is missing
    ("BUILD_URL", "BUILD_URL"),  # Jenkins
    ("BUILDKITE_BUILD_URL", "BUILDKITE_BUILD_URL"),  # Buildkite
)
_CI_SOURCE_COMMIT = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILDKITE_COMMIT")


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` did: the new commit, or ``None`` when the branch already matched."""

    branch: str
    commit: str | None
    changed: bool
    attempts: int


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

    ``files`` maps a path relative to ``path`` to its content.  The branch is created as an
    orphan when missing.  With ``prune`` the directory ``path`` holds exactly ``files``
    afterwards; without it other files are kept (a given file wins over a directory or file it
    collides with).  Nothing is committed when the tree would not change.  ``message`` replaces
    the subject and body of :func:`default_message`; the ``Skrender-*`` trailers from
    ``context`` are appended either way.  ``author``/``committer`` are ``(name, email)``;
    otherwise git's usual variables and configuration apply.  ``env`` replaces ``os.environ``.
    """
    if max_attempts < 1:
        raise PublishError(f"publish: max_attempts must be at least 1, got {max_attempts}")
    base_env = dict(os.environ if env is None else env)
    ctx = dict(context or {})
    prefix = _clean_path(path, "--path")
    entries = {_join(prefix, _clean_path(name, "file name", allow_empty=False)) for name in files}
    if len(entries) != len(files):
        raise PublishError(f"publish: file names collide after normalisation: {sorted(files)}")
    text = _full_message(message, ctx, base_env)
    session = _Session(repo, base_env, author, committer)
    try:
        session.check_branch(branch)
        blobs = session.hash_blobs(prefix, files)
        return _publish_loop(session, branch, prefix, blobs, prune, text, max_attempts)
    finally:
        session.close()


def default_message(context: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The default commit message: subject, source, images, CI build URL and trailers.

    ``context`` keys: ``service``, ``environment``, ``images`` (separated by whitespace or
    commas), ``source_commit``; the source commit and build URL fall back to the CI variables
    of GitHub Actions, GitLab CI, Jenkins and Buildkite found in ``env``.
    """
    service = context.get("service", "").strip()
    environment = context.get("environment", "").strip()
    images = _split_images(context.get("images", ""))
    source = _source_commit(context, env)
    build_url = ci_build_url(env)
    about = []
    if source:
        about.append(f"Rendered from commit {source}.")
    if build_url:
        about.append(f"Build: {build_url}")
    paragraphs = [_subject(service, environment), "\n".join(about)]
    if images:
        paragraphs.append("\n".join(["Images:", *(f"- {image}" for image in images)]))
    paragraphs.append("\n".join(_trailers(context, env)))
    text = "\n\n".join(p for p in paragraphs if p)
    return redact(text) + "\n"


def ci_build_url(env: Mapping[str, str]) -> str | None:
    """The URL of the running CI build, from the first CI system whose variables are set."""
    for name, source in _CI_BUILD_URL:
        if not env.get(name):
            continue
        if source is None:
            server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repository = env.get("GITHUB_REPOSITORY")
            if not repository:
                continue
            return redact(f"{server}/{repository}/actions/runs/{env[name]}")
        return redact(env[source])
    return None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the userinfo of every URL and each of ``secrets`` replaced by ``***``."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _publish_loop(
    session: _Session,
    branch: str,
    prefix: str,
    blobs: dict[str, str],
    prune: bool,
    message: str,
    max_attempts: int,
) -> PublishResult:
    """Fetch, apply, push; on a lost race start again from the new tip, with backoff."""
    for attempt in range(1, max_attempts + 1):
        fetched = session.fetch(branch)
        base = fetched[0] if fetched else None
        tree = session.build_tree(base, prefix, blobs, prune)
        if fetched is not None and tree == fetched[1]:
            return PublishResult(branch=branch, commit=None, changed=False, attempts=attempt)
        commit = session.commit(tree, base, message)
        if session.push(commit, branch):
            return PublishResult(branch=branch, commit=commit, changed=True, attempts=attempt)
        if attempt < max_attempts:
            time.sleep(_backoff(attempt))
    raise PublishError(
        f"publishing to {session.shown_repo} branch {branch}: the branch kept moving; "
        f"gave up after {max_attempts} attempts"
    )


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter (so racing publishers spread out), capped at 5s."""
    ceiling = min(5.0, 0.05 * (2**attempt))
    return random.uniform(ceiling / 4, ceiling)


class _Session:
    """A private bare repository in a temporary directory, and the git calls made in it."""

    def __init__(
        self,
        repo: str,
        env: dict[str, str],
        author: tuple[str, str] | None,
        committer: tuple[str, str] | None,
    ) -> None:
        self.repo = repo
        self.secrets = _url_secrets(repo)
        self.shown_repo = redact(repo, self.secrets)
        self.dir = tempfile.mkdtemp(prefix="skrender-publish-")
        self.env = _git_env(env, author, committer)
        self._git("init", "--quiet", "--bare", "--template=", self.dir, bare_dir=False)
        self._write_config(_remote_url(repo))

    def close(self) -> None:
        """Remove the private repository."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def check_branch(self, branch: str) -> None:
        """Reject a branch name git would not accept (before anything goes over the wire)."""
        ok = not branch.startswith("-") and not branch.startswith("refs/")
        if ok:
            done = self._run(("check-ref-format", f"refs/heads/{branch}"), check=False)
            ok = done.returncode == 0
        if not ok:
            raise PublishError(f"publish: --branch {branch!r} is not a valid branch name")

    def hash_blobs(self, prefix: str, files: Mapping[str, bytes]) -> dict[str, str]:
        """Write every file as a blob (one git process); tree path of each file -> object id."""
        if not files:
            return {}
        staging = os.path.join(self.dir, "skrender-files")
        os.mkdir(staging)
        names: list[str] = []
        sources: list[str] = []
        for number, (name, content) in enumerate(files.items()):
            source = os.path.join(staging, str(number))
            with open(source, "wb") as fh:
                fh.write(content)
            names.append(_join(prefix, _clean_path(name, "file name", allow_empty=False)))
            sources.append(source)
        stdin = "".join(f"{s}\n" for s in sources).encode()
        args = ("hash-object", "-w", "--no-filters", "--stdin-paths")
        oids = self._git(*args, stdin=stdin).split()
        shutil.rmtree(staging, ignore_errors=True)
        if len(oids) != len(names):
            raise PublishError(f"publishing to {self.shown_repo}: git hash-object lost files")
        return dict(zip(names, oids, strict=True))

    def fetch(self, branch: str) -> tuple[str, str] | None:
        """Shallow-fetch the branch tip: (commit id, tree id), or None when there is no branch."""
        refspec = f"+refs/heads/{branch}:{_BASE_REF}"
        # Only the tip commit and its trees: the blobs of unchanged files are never needed (a
        # server without filter support just sends them too).
        args = ("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1")
        done = self._run((*args, "--filter=blob:none", _REMOTE, refspec), check=False)
        if done.returncode != 0:
            if b"couldn't find remote ref" in done.stderr:
                return None
            raise self._error("fetching", done)
        out = self._git("rev-parse", f"{_BASE_REF}^{{commit}}", f"{_BASE_REF}^{{tree}}").split()
        if len(out) != 2:
            raise PublishError(f"fetching {self.shown_repo}: branch {branch} has no commit")
        return out[0], out[1]

    def build_tree(
        self, base: str | None, prefix: str, blobs: Mapping[str, str], prune: bool
    ) -> str:
        """The tree of ``base`` with ``blobs`` applied (and, with prune, stale files removed)."""
        index_env = {**self.env, "GIT_INDEX_FILE": os.path.join(self.dir, "skrender-index")}
        keep_base = base is not None and not (prune and prefix == "")
        if keep_base:
            self._git("read-tree", f"{base}^{{tree}}", env=index_env)
        else:
            self._git("read-tree", "--empty", env=index_env)
        lines: list[str] = []
        if keep_base and prune and base is not None:
            stale = [p for p in self._files_under(base, prefix) if p not in blobs]
            lines += [f"0 {_ZERO_OID}\t{p}" for p in stale]
        lines += [f"{_FILE_MODE} {oid}\t{p}" for p, oid in sorted(blobs.items())]
        if lines:
            info = "".join(f"{line}\0" for line in lines).encode()
            self._git("update-index", "-z", "--index-info", stdin=info, env=index_env)
        # --missing-ok: the blobs of files we keep stay on the server (and must not be fetched).
        return self._git("write-tree", "--missing-ok", env=index_env).strip()

    def commit(self, tree: str, parent: str | None, message: str) -> str:
        """Create the commit object (author, committer and dates come from the environment)."""
        args = ["commit-tree", tree]
        if parent is not None:
            args += ["-p", parent]
        return self._git(*args, stdin=message.encode()).strip()

    def push(self, commit: str, branch: str) -> bool:
        """Push without force; True when the branch was updated, False when it moved under us."""
        refspec = f"{commit}:refs/heads/{branch}"
        # --no-thin: a thin pack would delta against (and so lazily fetch) the old blobs.
        args = ("push", "--porcelain", "--no-verify", "--no-thin", _REMOTE, refspec)
        done = self._run(args, check=False)
        status = _push_status(done.stdout.decode("utf-8", "replace"), branch)
        if status is None:
            raise self._error("pushing to", done)
        flag, summary = status
        if flag != "!":
            return True
        if _RETRYABLE.search(summary):
            return False
        raise PublishError(
            f"pushing to {self.shown_repo} branch {branch}: rejected: {self._redact(summary)}"
        )

    def _files_under(self, commit: str, prefix: str) -> list[str]:
        """Every path in ``commit`` at or below ``prefix`` (as the index would hold it)."""
        out = self._git("ls-tree", "-r", "-z", "--full-tree", "--name-only", commit)
        names = [n for n in out.split("\0") if n]
        return [n for n in names if n == prefix or n.startswith(prefix + "/")]

    def _write_config(self, url: str) -> None:
        """Replace the private config: the remote (so a token in the URL never reaches argv),
        as a blob-less partial-clone promisor, and no automatic maintenance."""
        config = os.path.join(self.dir, "config")
        with open(config, "w", encoding="utf-8") as fh:
            fh.write(
                "[core]\n\trepositoryformatversion = 1\n\tbare = true\n"
                f"[extensions]\n\tpartialClone = {_REMOTE}\n"
                "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
                f'[remote "{_REMOTE}"]\n\turl = {_config_quote(url)}\n'
                "\tpromisor = true\n\tpartialCloneFilter = blob:none\n"
            )

    def _git(
        self,
        *args: str,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        bare_dir: bool = True,
    ) -> str:
        """Run a local git command that must succeed; its stdout."""
        done = self._run(args, stdin=stdin, env=env, check=False, bare_dir=bare_dir)
        if done.returncode != 0:
            raise self._error(f"git {args[0]} in", done)
        return done.stdout.decode("utf-8", "replace")

    def _run(
        self,
        args: tuple[str, ...],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = False,
        bare_dir: bool = True,
    ) -> proc.Completed:
        hooks = os.path.join(self.dir, "no-hooks")
        argv = ["git", "-c", f"core.hooksPath={hooks}"]
        if bare_dir:
            argv.append(f"--git-dir={self.dir}")
        try:
            return proc.run(
                [*argv, *args],
                cwd=self.dir if bare_dir else None,
                env=env if env is not None else self.env,
                stdin=stdin,
                check=check,
            )
        except ToolError as exc:  # a missing git, a timeout: one redacted line
            raise PublishError(
                f"publishing to {self.shown_repo}: {self._redact(str(exc).splitlines()[0])}"
            ) from None

    def _error(self, doing: str, done: proc.Completed) -> PublishError:
        detail = _last_error_line(done.stderr.decode("utf-8", "replace"))
        cause = f"git exited with status {done.returncode}"
        return PublishError(
            f"{doing} {self.shown_repo}: {self._redact(detail) if detail else cause}"
        )

    def _redact(self, text: str) -> str:
        return redact(text, self.secrets)


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


def _push_status(stdout: str, branch: str) -> tuple[str, str] | None:
    """(flag, summary) of the porcelain status line for ``branch``, or None when missing."""
    target = f"refs/heads/{branch}"
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].endswith(f":{target}"):
            return parts[0], parts[2]
    return None


def _last_error_line(stderr: str) -> str:
    """The most telling line git printed: the last ``fatal:``/``error:`` line, else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""


def _clean_path(raw: str, what: str, allow_empty: bool = True) -> str:
    """A slash-separated path inside the tree, without empty, ``.``, ``..`` or ``.git`` parts."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    bad = [p for p in parts if p == ".." or p.lower() == ".git" or "\0" in p or "\n" in p]
    if bad or (not parts and not allow_empty):
        raise PublishError(f"publish: {what} {raw!r} is not a relative path inside the branch")
    return "/".join(parts)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


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


def _url_secrets(repo: str) -> list[str]:
    """Userinfo in ``repo`` and its parts (raw and percent-decoded), to scrub from messages."""
    from urllib.parse import unquote

    match = _URL_USERINFO.match(repo)
    if not match:
        return []
    userinfo = match.group("userinfo")
    user, _, password = userinfo.partition(":")
    # A short user name (``git@``) is no secret and scrubbing it would mangle messages; a long
    # one is a token used as the user name.
    long_user = [user] if len(user) >= 8 else []
    secrets = [userinfo, password] if password else long_user
    return secrets + [unquote(s) for s in secrets]


def _config_quote(value: str) -> str:
    """A git-config value in double quotes (backslash and quote escaped)."""
    if "\n" in value:
        raise PublishError("publish: --repo must not contain a newline")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _full_message(message: str | None, context: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The commit message: the default one, or ``message`` followed by the trailers."""
    if message is None:
        return default_message(context, env)
    text = message.rstrip("\n")
    trailers = [t for t in _trailers(context, env) if t not in text]
    if trailers:
        text += "\n\n" + "\n".join(trailers)
    return redact(text) + "\n"


def _trailers(context: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """``Skrender-*`` trailers for the facts that are known."""
    facts = (
        ("Skrender-Source-Commit", _source_commit(context, env)),
        ("Skrender-Service", context.get("service", "").strip()),
        ("Skrender-Environment", context.get("environment", "").strip()),
        ("Skrender-Build-URL", ci_build_url(env) or ""),
    )
    lines = [f"{key}: {value}" for key, value in facts if value]
    lines += [f"Skrender-Image: {image}" for image in _split_images(context.get("images", ""))]
    return lines


def _subject(service: str, environment: str) -> str:
    if service and environment:
        return f"Publish {service} to {environment}"
    if service or environment:
        return f"Publish {service or environment}"
    return "Publish rendered manifests"


def _source_commit(context: Mapping[str, str], env: Mapping[str, str]) -> str:
    given = context.get("source_commit", "").strip()
    if given:
        return given
    return next((env[name].strip() for name in _CI_SOURCE_COMMIT if env.get(name)), "")


def _split_images(images: str) -> list[str]:
    seen: dict[str, None] = {}
    for image in re.split(r"[\s,]+", images):
        if image:
            seen.setdefault(image, None)
    return list(seen)
