"""The only place that runs a subprocess.

A failure is reported the way skaffold reports it (``running [argv]`` with stdout, stderr and
the cause) and carries the program's exit status so the CLI can exit with it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from engine.core.errors import ToolError

DEFAULT_TIMEOUT = 300.0
# Overrides DEFAULT_TIMEOUT (seconds) for every call that does not pass its own timeout:
# a hung git or kustomize then fails the run instead of stalling CI until its job limit.
TIMEOUT_ENV = "SKRENDER_TOOL_TIMEOUT"


class Completed(NamedTuple):
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


def run(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    check: bool = True,
) -> Completed:
    """Run ``argv`` and capture its output.

    With ``check`` a non-zero exit raises :class:`ToolError` carrying the exit status; a missing
    executable or a timeout raise it too.  ``env`` replaces the environment when given.
    ``timeout`` left at DEFAULT_TIMEOUT follows $SKRENDER_TOOL_TIMEOUT (see :func:`tool_timeout`).
    """
    if timeout == DEFAULT_TIMEOUT:
        timeout = tool_timeout()
    try:
        child = _start(argv, cwd, env, stdin, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise ToolError(
            f"starting command {' '.join(argv)}: executable file not found in $PATH: {exc.filename}"
        ) from None
    stdout, stderr = _communicate(child, argv, stdin, timeout)
    done = Completed(tuple(argv), child.returncode, stdout, stderr)
    if check and done.returncode != 0:
        raise ToolError(describe_failure(done), done.returncode)
    return done


def run_combined(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Completed:
    """Run ``argv`` with its stdout and stderr on one pipe; ``Completed.stdout`` holds both.

    The interleaving is the order the program wrote in, as Go's os/exec gives a command whose
    Stdout and Stderr are the same writer (skaffold's lifecycle hooks).  The exit status is not
    checked; an OSError from starting the program propagates for the caller to word, a timeout
    raises :class:`ToolError`.  ``stdin`` None reads from /dev/null.
    """
    if timeout == DEFAULT_TIMEOUT:
        timeout = tool_timeout()
    child = _start(argv, cwd, env, stdin, stderr=subprocess.STDOUT)
    output, _ = _communicate(child, argv, stdin, timeout)
    return Completed(tuple(argv), child.returncode, output, b"")


def _start(
    argv: Sequence[str],
    cwd: str | None,
    env: Mapping[str, str] | None,
    stdin: bytes | None,
    *,
    stderr: int,
) -> subprocess.Popen[bytes]:
    # A session of its own, so a timeout or Ctrl-C stops the tool's children too
    # (kubectl, kustomize plugins, git helpers), not only the tool itself.
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )


def _communicate(
    child: subprocess.Popen[bytes], argv: Sequence[str], stdin: bytes | None, timeout: float | None
) -> tuple[bytes, bytes]:
    """``child.communicate``; on a timeout or an interruption the child's group is killed."""
    try:
        stdout, stderr = child.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        raise ToolError(f"running [{' '.join(argv)}]: timed out after {timeout:g}s") from None
    except BaseException:
        _kill_group(child)
        raise
    return stdout, stderr or b""


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group and reap the child."""
    import signal

    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.communicate()


def tool_timeout() -> float:
    """Seconds allowed to an external tool: $SKRENDER_TOOL_TIMEOUT if a positive number."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def describe_failure(done: Completed) -> str:
    """skaffold's multi-line description of a failed command."""
    from engine.core.sanitize import defuse_ci_commands

    # %q keeps each stream on its line (newlines, ANSI escapes escaped); undecodable bytes
    # come out as \xNN, as Go prints them.  A tool's output may quote a server (a remote
    # kustomize base): CI log commands in it are defused as well.
    out = defuse_ci_commands(go_quote(done.stdout.decode("utf-8", "surrogateescape")))
    err = defuse_ci_commands(go_quote(done.stderr.decode("utf-8", "surrogateescape")))
    return (
        f"running [{' '.join(done.argv)}]\n"
        f" - stdout: {out}\n"
        f" - stderr: {err}\n"
        f" - cause: exit status {done.returncode}"
    )


def which(name: str, path: str | None = None) -> str | None:
    """Path of executable ``name`` on ``path`` (default: $PATH), or None.

    ``shutil.which``'s POSIX rules, without importing shutil: it brings zlib, bz2 and lzma,
    and every render looks up kustomize before starting it (a few ms of start-up).
    """
    if os.name != "posix":
        import shutil

        return shutil.which(name, path=path if path is not None else os.environ.get("PATH"))
    if os.path.dirname(name):  # a path is checked as given, not searched
        return name if _is_executable(name) else None
    search = path if path is not None else os.environ.get("PATH")
    if search is None:
        try:
            search = os.confstr("CS_PATH") or ""
        except (AttributeError, ValueError):
            search = os.defpath
    seen: set[str] = set()
    for directory in search.split(os.pathsep) if search else ():
        if directory in seen:
            continue
        seen.add(directory)
        candidate = os.path.join(directory, name)  # "" (the working directory) as shutil
        if _is_executable(candidate):
            return candidate
    return None


def _is_executable(path: str) -> bool:
    return os.path.exists(path) and os.access(path, os.X_OK) and not os.path.isdir(path)


def go_quote(text: str) -> str:
    """Go's %q (strconv.Quote): control and other non-printable characters escaped."""
    from engine.core.sanitize import go_escape

    return f'"{go_escape(text, quote=chr(34))}"'
