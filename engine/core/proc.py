"""The only place that runs a subprocess, and the one that stops them all.

A failure is reported the way skaffold reports it (``running [argv]`` with stdout, stderr and
the cause) and carries the program's exit status so the CLI can exit with it.

Each tool runs in a session (process group) of its own, so a Ctrl-C at the terminal does
not reach it: skrender stops it.  Every running child is tracked; on SIGINT or SIGTERM
(:func:`handling_stop_signals`, installed by the CLI) each child's whole group gets SIGTERM,
then SIGKILL after :data:`GRACE_SECONDS`, and is reaped before the process exits, whichever
thread started it (kustomize runs on a worker thread, bulk renders on a pool).  Once a stop
signal has arrived no new child starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import Any, NamedTuple

from engine.core.errors import ToolError

DEFAULT_TIMEOUT = 300.0
# Overrides DEFAULT_TIMEOUT (seconds) for every call that does not pass its own timeout:
# a hung git or kustomize then fails the run instead of stalling CI until its job limit.
TIMEOUT_ENV = "SKRENDER_TOOL_TIMEOUT"


# How long a stopped child's group has between SIGTERM and SIGKILL (git removes its lock
# files, kustomize its temp dirs)
GRACE_SECONDS = 2.0
# The signals that stop a run, as skaffold's signal.NotifyContext (cmd/skaffold/app/skaffold.go)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived (a KeyboardInterrupt, so every clean-up path sees it).

    ``note`` tells the user what was cut short (say, a push that had started), or is empty.
    The process exits with 128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM.
    """

    def __init__(self, signum: int = signal.SIGINT, note: str = "") -> None:
        super().__init__(note)
        self.signum = signum
        self.note = note

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def interrupted(exc: KeyboardInterrupt, note: str) -> Interrupted:
    """``exc`` (an :class:`Interrupted` or a plain Ctrl-C) with ``note`` for the user."""
    return Interrupted(getattr(exc, "signum", signal.SIGINT), note)


# Every child started and not yet reaped, whichever thread started it
_children: set[subprocess.Popen[bytes]] = set()
# The stop signal's number once one arrived (0: the run is ending); empty while running
_stopping: list[int] = []
# How many threads are inside _start (a child may exist that _children does not hold yet)
_starting = [0]
_STARTS = threading.Condition()
# The escalation thread's wake-up, once a child was started
_escalation: list[threading.Event] = []
_ESCALATION_LOCK = threading.Lock()


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
    from engine.core import log

    # util/cmd.go logs every command it runs at debug level ("Running command: [...]")
    log.debug(f"Running command: {log.command_line(argv)}")
    if _stopping:
        raise Interrupted(_stopping[0] or signal.SIGTERM)
    with _STARTS:
        _starting[0] += 1
    try:
        # A session of its own, so a timeout or Ctrl-C stops the tool's children too
        # (kubectl, kustomize plugins, git helpers), not only the tool itself.
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        _children.add(child)
        # Registered first, checked second: a stop signal that came meanwhile either saw
        # this child in _children (and signalled it) or is seen here.
        if _stopping:
            _stop(child)
            raise Interrupted(_stopping[0] or signal.SIGTERM)
    finally:
        with _STARTS:
            _starting[0] -= 1
            _STARTS.notify_all()
    if not _escalation:
        _start_escalation()
    return child


def _communicate(
    child: subprocess.Popen[bytes], argv: Sequence[str], stdin: bytes | None, timeout: float | None
) -> tuple[bytes, bytes]:
    """``child.communicate``; a timeout kills the child's group, an interruption stops it.

    A stop signal reaches a child that a worker thread waits for through its group: the
    signal handler sends SIGTERM (the escalation thread SIGKILL after the grace period), the
    child dies, this wait returns and the worker raises :class:`Interrupted`.
    """
    try:
        try:
            stdout, stderr = child.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise ToolError(f"running [{' '.join(argv)}]: timed out after {timeout:g}s") from None
        if _stopping and child.returncode != 0:
            # ended by the stop signal: not the tool's own failure
            raise Interrupted(_stopping[0] or signal.SIGTERM)
    except BaseException:
        if child in _children:  # not reaped yet, or its group may live on
            _stop(child)
        raise
    finally:
        _children.discard(child)
    return stdout, stderr or b""


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group and reap the child."""
    _signal_group(child, signal.SIGKILL)
    _reap(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's group, SIGKILL it after the grace period, reap the child."""
    _signal_group(child, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(GRACE_SECONDS)
    # also when the child is gone: members of its group that outlived it
    _signal_group(child, signal.SIGKILL)
    _reap(child)


def _reap(child: subprocess.Popen[bytes]) -> None:
    """Wait for the dead child and close its pipes (never read: a grandchild that left the
    group could hold them open forever)."""
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    _children.discard(child)


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass  # the group is gone
    except PermissionError:  # not ours any more (the pid was reused): the child alone
        if child.returncode is None:
            with contextlib.suppress(OSError):
                child.send_signal(signum)


def _start_escalation() -> None:
    """The thread that SIGKILLs every child's group :data:`GRACE_SECONDS` after a stop
    signal: the main thread may be waiting for a worker whose child ignores SIGTERM.

    A thread waiting on an Event, started before it is needed: the signal handler itself
    only sets the Event (starting a thread there could deadlock on threading's own locks).
    """
    with _ESCALATION_LOCK:
        if _escalation:
            return
        wake = threading.Event()
        _escalation.append(wake)

    def escalate() -> None:
        while True:
            wake.wait()
            time.sleep(GRACE_SECONDS)
            for child in list(_children):
                _signal_group(child, signal.SIGKILL)
            wake.clear()

    threading.Thread(target=escalate, name="skrender-stop", daemon=True).start()


def stop_children() -> None:
    """Stop every child still running and reap it; no new child starts until :func:`resume`.

    SIGTERM to each child's group, SIGKILL to the groups after :data:`GRACE_SECONDS`.  Safe
    beside the thread that started a child and waits for it (Popen.wait is thread-safe).
    """
    if not _stopping:
        _stopping.append(0)
    # A thread inside _start sees _stopping once its child is registered and stops that
    # child itself: wait for it, or its child could outlive the process.
    with _STARTS:
        _STARTS.wait_for(lambda: _starting[0] == 0, timeout=GRACE_SECONDS + 5)
    children = list(_children)
    if not children:
        return
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(max(0.0, deadline - time.monotonic()))
    for child in children:
        _signal_group(child, signal.SIGKILL)
        child.wait()
        _children.discard(child)


def resume() -> None:
    """Allow children again after :func:`stop_children` (a new run in the same process)."""
    _stopping.clear()


@contextlib.contextmanager
def handling_stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread, after signalling
    every child's group; on the way out every child is stopped and reaped.

    Outside the main thread (where Python allows no handlers) this does nothing: the
    process, and so its children, are not this caller's to stop.
    """
    previous: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # not the main thread
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, _on_stop_signal)
    if not previous:
        yield
        return
    try:
        yield
    finally:
        stop_children()  # from here on a stop signal changes nothing (see _on_stop_signal)
        for number, handler in previous.items():
            signal.signal(number, handler)
        resume()


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    if _stopping:
        return  # stopping already: a second Ctrl-C must not break the clean-up
    _stopping.append(signum)
    for child in list(_children):  # list(): one atomic copy under the GIL
        _signal_group(child, signal.SIGTERM)
    if _escalation:
        _escalation[0].set()
    if _inside_start(frame):
        return  # _start raises once its child is registered, so none is lost
    raise Interrupted(signum)


def _inside_start(frame: FrameType | None) -> bool:
    """Whether the main thread was interrupted inside :func:`_start` (in Popen)."""
    while frame is not None:
        if frame.f_code is _start.__code__:
            return True
        frame = frame.f_back
    return False


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
