"""Remote skaffold configs: ``requires[].git`` through skaffold's remote cache, ``-f <URL>``
and ``-f -`` (stdin).

* :func:`sync_repo` - ``pkg/skaffold/git/gitutil.go: syncRepo``: the repository is cloned
  (``--depth 1``) into ``<cache>/<hash of repo and ref>`` (the directory skaffold uses:
  ``~/.skaffold/remote-cache`` unless ``--remote-cache-dir``), or fetched and reset there,
  as ``--sync-remote-cache`` (always, missing, never) and ``requires[].git.sync`` allow.
  git runs with the user's environment, so their git configuration and credential helpers
  apply.  Credentials written into an http(s) repo URL never reach an argv or the clone's
  configuration: git gets the URL without them and asks a credential helper that reads them
  from its environment.
* :func:`read_config` - ``pkg/skaffold/util/config.go: ReadConfiguration`` for ``-`` (stdin,
  read once) and http(s) URLs (``util.Download``: a GET; anything but 200 is an error).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import NamedTuple

from engine.core import proc
from engine.core.errors import ConfigError, ToolError

SYNC_ALWAYS, SYNC_MISSING, SYNC_NEVER = "always", "missing", "never"
_VERIFY = "run 'git clone <REPO>; stat <DIR/SUBDIR>' to verify credentials"

_stdin: bytes | None = None
_stdin_lock = threading.Lock()


class GitRepo(NamedTuple):
    """``requires[].git`` (``latest.GitInfo``)."""

    repo: str
    path: str = ""
    ref: str = ""
    sync: bool | None = None


class CacheOptions(NamedTuple):
    """``--remote-cache-dir`` ("" = ``$HOME/.skaffold/remote-cache``) and
    ``--sync-remote-cache``."""

    directory: str = ""
    policy: str = SYNC_ALWAYS


# --- -f - and -f <URL> ---------------------------------------------------------------------


def read_config(path: str) -> bytes:
    """The bytes of the config named ``-`` (stdin, read once per process) or an http(s) URL.

    Raises :class:`ConfigError` with skaffold's ``read skaffold config: ...`` reason.
    """
    if path == "-":
        return _read_stdin()
    return _download(path)


def _read_stdin() -> bytes:
    global _stdin
    with _stdin_lock:
        if not _stdin:  # util.ReadConfiguration: `if len(stdin) == 0` reads again
            import sys

            _stdin = sys.stdin.buffer.read()
        return _stdin


def _download(url: str) -> bytes:
    """``util.Download``: GET with skaffold's client defaults (redirects followed)."""
    import urllib.error
    import urllib.request

    clean, username, password = split_credentials(url)
    request = urllib.request.Request(clean, headers={"User-Agent": "skrender"})
    if username or password:
        import base64

        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    shown = redact(url)
    try:
        with urllib.request.urlopen(request, timeout=proc.tool_timeout()) as response:
            data: bytes = response.read()
            if response.status == 200:
                return data
            reason = f'http {response.status}, error "{response.status} {response.reason}"'
    except urllib.error.HTTPError as exc:
        reason = f'http {exc.code}, error "{exc.code} {exc.reason}"'
    except (urllib.error.URLError, OSError, ValueError) as exc:
        detail = getattr(exc, "reason", exc)
        reason = f'Get "{shown}": {redact(str(detail))}'
    raise ConfigError(
        "parsing skaffold config: error parsing skaffold configuration file: "
        f"read skaffold config: {reason}"
    )


# --- credentials in URLs -------------------------------------------------------------------


def split_credentials(url: str) -> tuple[str, str, str]:
    """(the URL without its userinfo, username, password); the URL as is when it has none."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url, "", ""
    if "@" not in parts.netloc or not parts.scheme:
        return url, "", ""
    userinfo, _, host = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, unquote(username), unquote(password)


def redact(text: str) -> str:
    """``text`` with the userinfo (credentials, tokens) of every URL shown as ``***``, as
    ``engine.core.log`` shows it (skaffold prints such URLs as they are)."""
    import re

    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@", r"\1***@", text)


# --- requires[].git ------------------------------------------------------------------------


def repo_dir_name(repo: str, ref: str) -> str:
    """``getRepoDir``: the cache directory name of (repo, ref) - the ref as written, even empty.

    sha256 of Go's ``json.Encoder`` output of ``[repo, ref]`` (HTML-escaping, trailing
    newline), URL-safe base64 with padding, first 32 characters.
    """
    import base64
    import hashlib
    import json

    encoded = json.dumps([repo, ref], ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(char, escape)
    encoded = encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    digest = hashlib.sha256((encoded + "\n").encode("utf-8", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def cache_root(options: CacheOptions, *, cwd: str, env: Mapping[str, str]) -> str:
    """``config.GetRemoteCacheDir``: the flag's directory, else ``$HOME/.skaffold/remote-cache``."""
    if options.directory:
        return os.path.join(cwd, options.directory)
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".skaffold", "remote-cache")


def sync_repo(git: GitRepo, options: CacheOptions, *, cwd: str, env: Mapping[str, str]) -> str:
    """The repository's directory in the remote cache, cloned or synced as skaffold does.

    Raises :class:`ToolError` worded as skaffold's ``caching remote dependency`` errors,
    carrying git's exit status when a git command failed (skaffold exits with it).
    """
    try:
        return _Sync(git, options, cwd, env).run()
    except _GitFailure as exc:
        raise ToolError(
            "parsing skaffold config: error parsing skaffold configuration file: caching "
            f"remote dependency {redact(git.repo)}: {redact(str(exc))}",
            exc.exit_code,
        ) from None


def _credential_helper_env(env: Mapping[str, str], username: str, password: str) -> dict[str, str]:
    """Environment that makes git answer its credential questions with ``username`` and
    ``password``: a helper (set through ``GIT_CONFIG_*``, after clearing the user's list)
    that prints two variables of its environment.  The secret is in no argv (git passes the
    URL to its remote helper and the helper command to ``sh -c``), no file and no config."""
    try:
        count = max(int(env.get("GIT_CONFIG_COUNT", "0") or "0"), 0)
    except ValueError:
        count = 0  # git refuses a malformed count anyway: ours replaces it
    helper = (
        '!f() { echo "username=$SKRENDER_GIT_USERNAME"; '
        'echo "password=$SKRENDER_GIT_PASSWORD"; }; f'
    )
    return {
        "GIT_CONFIG_COUNT": str(count + 2),
        f"GIT_CONFIG_KEY_{count}": "credential.helper",
        f"GIT_CONFIG_VALUE_{count}": "",
        f"GIT_CONFIG_KEY_{count + 1}": "credential.helper",
        f"GIT_CONFIG_VALUE_{count + 1}": helper,
        "SKRENDER_GIT_USERNAME": username,
        "SKRENDER_GIT_PASSWORD": password,
    }


class _GitFailure(Exception):
    """A step of syncRepo failed; the message is skaffold's.  ``exit_code`` is git's status
    when the cause is a failed git command: skaffold wraps that error with ``%w`` up to its
    exit code (``cmdError.ExitCode``), so it exits with git's status (128, typically)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def within(self, prefix: str) -> _GitFailure:
        """This failure wrapped as ``fmt.Errorf(prefix + "%w", err)``: same exit status."""
        return _GitFailure(prefix + str(self), self.exit_code)


class _Sync:
    def __init__(self, git: GitRepo, options: CacheOptions, cwd: str, env: Mapping[str, str]):
        self.git = git
        self.options = options
        self.cwd = cwd
        self.clone_uri, self.env = git.repo, dict(env)
        if git.repo.startswith(("http://", "https://")):
            clean, username, password = split_credentials(git.repo)
            if username or password:
                self.clone_uri = clean
                self.env.update(_credential_helper_env(env, username, password))
        self.program = proc.which("git", self.env.get("PATH")) or ""

    def run(self) -> str:
        git, repo = self.git, redact(self.git.repo)
        root = cache_root(self.options, cwd=self.cwd, env=self.env)
        try:
            os.makedirs(root, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise _GitFailure(
                f"failed to clone repo {repo}: trouble creating cache directory: "
                f"mkdir {root}: {(exc.strerror or str(exc)).lower()}"
            ) from None
        ref = git.ref
        if not ref:
            try:
                ref = self.default_ref()
            except _GitFailure as exc:
                raise exc.within(
                    f"failed to clone repo {repo}: trouble getting default branch: "
                ) from None
        name = repo_dir_name(git.repo, git.ref)
        directory = os.path.join(root, name)
        if not os.path.exists(directory):
            self.clone(root, name, directory, ref)
        else:
            self.update(directory, ref)
        return directory

    def clone(self, root: str, name: str, directory: str, ref: str) -> None:
        if self.options.policy == SYNC_NEVER:
            # git/errors.go SyncDisabledErr
            raise _GitFailure(
                f'cache directory "{directory}" for repository "{redact(self.git.repo)}" at ref '
                f'"{self.git.ref}" does not exist, and repository sync is explicitly disabled via '
                f"flag `--sync-remote-cache`. Either clone the repository manually inside "
                f'"{directory}", or set flag `--sync-remote-cache` to `always` or `missing`.'
            )
        argv = ["clone", self.clone_uri, f"./{name}", "--branch", ref, "--depth", "1"]
        try:
            self.git_run(root, *argv)
            return
        except _GitFailure as exc:
            if "Could not find remote branch" not in str(exc):
                raise exc.within("failed to clone repo: ") from None
        # a commit or a tag git cannot clone by --branch: clone, then check it out
        try:
            self.git_run(root, "clone", self.clone_uri, f"./{name}", "--depth", "1")
        except _GitFailure as exc:
            raise exc.within("failed to clone repo: ") from None
        try:
            self.git_run(directory, "checkout", ref)
        except _GitFailure as exc:
            import shutil

            failure = exc
            try:
                shutil.rmtree(directory)
            except OSError as rm_exc:
                failure = _GitFailure(f"failed to remove repo cache dir: {rm_exc}")
            raise failure.within("failed to checkout commit: ") from None

    def update(self, directory: str, ref: str) -> None:
        repo = redact(self.git.repo)
        try:
            remotes = self.git_run(directory, "remote", "-v")
        except _GitFailure as exc:
            raise exc.within(
                f"failed to clone repo {repo}: trouble checking repository remote; {_VERIFY}: "
            ) from None
        if not remotes:
            raise _GitFailure(f"failed to clone repo {repo}: remote not set for existing clone")
        if self.git.sync is False or self.options.policy in (SYNC_MISSING, SYNC_NEVER):
            return
        self.update_origin_url(directory)
        try:
            self.git_run(directory, "fetch", "origin", ref)
        except _GitFailure as exc:
            raise exc.within(
                f"failed to clone repo {repo}: unable to find any matching refs {ref}; {_VERIFY}: "
            ) from None
        try:
            self.git_run(directory, "reset", "--hard", f"origin/{ref}")
        except _GitFailure as exc:
            raise exc.within(
                f"failed to clone repo {repo}: trouble resetting branch to origin/{ref}; "
                f"{_VERIFY}: "
            ) from None

    def update_origin_url(self, directory: str) -> None:
        """``tryUpdateRemoteOriginFetchURL``: point origin at the configured URL (best effort).

        skaffold runs ``git remote set-url origin <new> <old>``; ``git config`` sets the same
        value without putting the old URL (which may hold credentials) in argv.
        """
        try:
            current = self.git_run(directory, "remote", "get-url", "origin").strip()
            if current != self.clone_uri:
                self.git_run(directory, "config", "remote.origin.url", self.clone_uri)
        except _GitFailure:
            pass  # skaffold only logs this at debug level

    def default_ref(self) -> str:
        """``defaultRef``: master if the remote has it, else main."""
        found = {}
        for branch in ("master", "main"):
            try:
                out = self.git_run(
                    self.cwd, "ls-remote", "--heads", self.clone_uri, branch, program_error=True
                )
            except _GitFailure as exc:
                raise exc.within(
                    f"failed to lookup {branch} branch for repo {redact(self.git.repo)}: "
                ) from None
            found[branch] = bool(out.strip())
        if found["master"]:
            return "master"
        if found["main"]:
            return "main"
        raise _GitFailure(f"failed to get default branch for repo {redact(self.git.repo)}")

    def git_run(self, directory: str, *args: str, program_error: bool = False) -> str:
        """``gitCmd.Run``: git in ``directory``; a failure carries skaffold's cmdError text."""
        if not self.program:
            prefix = "" if program_error else "no 'git' program on path: "
            raise _GitFailure(f'{prefix}exec: "git": executable file not found in $PATH')
        argv = [self.program, *args]
        try:
            done = proc.run(argv, cwd=directory, env=self.env, check=False)
        except ToolError as exc:
            raise _GitFailure(str(exc)) from None
        if done.returncode != 0:
            raise _GitFailure(proc.describe_failure(done), done.returncode)
        return done.stdout.decode("utf-8", "replace")
