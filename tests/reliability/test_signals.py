"""SIGINT/SIGTERM stop every child before skrender exits (issue 15, item 4).

Tools run in process groups of their own (a Ctrl-C at the terminal never reaches them), so
skrender must stop them itself: a `skrender render` whose kustomize (on a worker thread) is
slow, a bulk run with several, and a publish whose `git push` hangs in the server's
pre-receive hook are signalled mid-run; afterwards no process they started may be alive.
The slow kustomize is a stand-in script on PATH that records its pid and its own child's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reliability.helpers import cli_env, make_tree

KUSTOMIZE_CONFIG = """\
apiVersion: skaffold/v4beta13
kind: Config
manifests:
  kustomize:
    paths: [k]
"""

# Records its pid and its child's, then waits on a long sleep.  IGNORE_TERM makes it
# (and so its sleep, which inherits the disposition) deaf to SIGTERM.
SLOW_TOOL = """\
#!/bin/sh
if [ -n "$IGNORE_TERM" ]; then trap '' TERM; fi
echo $$ >> "$PIDS_FILE"
sleep 300 &
echo $! >> "$PIDS_FILE"
wait
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for_pids(pids_file: Path, count: int, child: subprocess.Popen[bytes]) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pids_file.exists():
            pids = [int(line) for line in pids_file.read_text().split()]
            if len(pids) >= count:
                return pids
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    raise AssertionError(f"the slow tool never started ({pids_file})")


def _assert_all_gone(pids: list[int], within: float = 2.0) -> None:
    """Every pid dead (a grandchild's zombie is reaped by init a moment later: allowed).

    Survivors are killed before the assertion fails: a failing run leaves nothing behind.
    """
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in pids if _alive(pid)]
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert survivors == [], "children outlived skrender"


def _slow_tool_env(tmp_path: Path, *, ignore_term: bool = False) -> tuple[dict[str, str], Path]:
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    fake = tools / "kustomize"
    fake.write_text(SLOW_TOOL)
    fake.chmod(0o755)
    pids_file = tmp_path / "pids"
    env = cli_env(tmp_path / "home", {"PIDS_FILE": str(pids_file)})
    env["PATH"] = f"{tools}:{env['PATH']}"
    if ignore_term:
        env["IGNORE_TERM"] = "1"
    return env, pids_file


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stop(child: subprocess.Popen[bytes], signum: int, timeout: float = 15) -> tuple[float, str]:
    """Send ``signum``; the seconds until skrender exited, and its stderr."""
    start = time.monotonic()
    child.send_signal(signum)
    try:
        _, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return time.monotonic() - start, stderr.decode("utf-8", "replace")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_render_stops_and_reaps_a_slow_kustomize(tmp_path: Path, signum: int, code: int) -> None:
    tree = make_tree(
        tmp_path / "app", {"skaffold.yaml": KUSTOMIZE_CONFIG, "k/kustomization.yaml": "{}\n"}
    )
    env, pids_file = _slow_tool_env(tmp_path)
    out = tmp_path / "out.yaml"
    child = _start(["render", "--offline=true", "--digest-source=none", "-o", str(out)], tree, env)
    pids = _wait_for_pids(pids_file, 2, child)
    seconds, stderr = _stop(child, signum)
    _assert_all_gone(pids)  # first: a failing run leaves nothing behind
    assert child.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines() == [f"interrupted by {signal.Signals(signum).name}"]
    assert seconds < 5, seconds
    assert not out.exists()


def test_a_tool_deaf_to_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path / "app", {"skaffold.yaml": KUSTOMIZE_CONFIG, "k/kustomization.yaml": "{}\n"}
    )
    env, pids_file = _slow_tool_env(tmp_path, ignore_term=True)
    child = _start(["render", "--offline=true", "--digest-source=none"], tree, env)
    pids = _wait_for_pids(pids_file, 2, child)
    seconds, stderr = _stop(child, signal.SIGTERM)
    _assert_all_gone(pids)  # first: a failing run leaves nothing behind
    assert child.returncode == 143, stderr
    assert seconds < 8, seconds


def test_bulk_stops_every_worker_s_kustomize(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    for name in ("api", "web", "jobs"):
        make_tree(root / name, {"skaffold.yaml": KUSTOMIZE_CONFIG, "k/kustomization.yaml": "{}\n"})
    env, pids_file = _slow_tool_env(tmp_path)
    args = ["bulk", str(root), "--out", str(tmp_path / "out"), "--no-cache", "-j", "3"]
    child = _start([*args, "--env", "dev=--offline=true,--digest-source=none"], tmp_path, env)
    pids = _wait_for_pids(pids_file, 4, child)  # two kustomizes at least
    time.sleep(0.3)  # let the third start too, if it will
    pids = [int(line) for line in pids_file.read_text().split()]
    seconds, stderr = _stop(child, signal.SIGTERM)
    _assert_all_gone(pids)  # first: a failing run leaves nothing behind
    assert child.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert seconds < 8, seconds
    time.sleep(0.5)  # nothing starts a new tool after the signal
    assert [int(line) for line in pids_file.read_text().split()] == pids


def _git(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_publish_stops_a_hanging_git_push(tmp_path: Path, git_env: dict[str, str]) -> None:
    """The server side of a push to a local repository runs below skrender's own git: its
    pre-receive hook hangs, and must be gone with the push once skrender has exited."""
    bare = tmp_path / "manifests.git"
    _git(git_env, "init", "-q", "--bare", "-b", "main", str(bare))
    pids_file = tmp_path / "pids"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(SLOW_TOOL)
    hook.chmod(0o755)
    files = tmp_path / "files"
    files.mkdir()
    (files / "app.yaml").write_text("kind: ConfigMap\n")
    scratch = tmp_path / "tmp"  # where publish makes its private repository
    scratch.mkdir()
    env = {
        **git_env,
        "PIDS_FILE": str(pids_file),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TMPDIR": str(scratch),
    }
    args = ["publish", "--repo", str(bare), "--branch", "main", str(files)]
    child = _start(args, tmp_path, env)
    pids = _wait_for_pids(pids_file, 2, child)
    seconds, stderr = _stop(child, signal.SIGTERM)
    _assert_all_gone(pids)  # first: a failing run leaves nothing behind
    assert child.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert seconds < 8, seconds
    # the hook never let the push through, and the private repository is gone
    assert _git(git_env, "--git-dir", str(bare), "for-each-ref") == ""
    # publish keeps one private, empty parent (skrender-<uid>, 0700) for its temp repos
    left = [
        path for top in scratch.iterdir() for path in (top.iterdir() if top.is_dir() else [top])
    ]
    assert left == [], left


def test_no_signal_handler_is_left_behind_by_an_in_process_run(tmp_path: Path) -> None:
    """The CLI restores the handlers it installed: code that calls it keeps its own."""
    from engine import cli

    tree = make_tree(tmp_path / "app")
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        out = tmp_path / "o.yaml"
        code = cli.main(["render", "--offline=true", "--digest-source=tag", "-o", str(out)])
    finally:
        os.chdir(cwd)
    assert code == 0
    assert {s: signal.getsignal(s) for s in before} == before


def test_stop_children_stops_a_child_another_thread_waits_for() -> None:
    """The generic part: a worker thread's child is stopped and reaped from the main thread,
    the worker learns it was interrupted (not that its tool failed), and nothing new starts
    until the next run."""
    import threading

    from engine.core import proc

    outcome: list[BaseException | None] = []

    def worker() -> None:
        try:
            proc.run(["sleep", "30"])
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 10
    while not proc._children and time.monotonic() < deadline:
        time.sleep(0.01)
    (child,) = list(proc._children)
    try:
        start = time.monotonic()
        proc.stop_children()
        assert time.monotonic() - start < 3
        assert child.returncode == -signal.SIGTERM  # reaped
        thread.join(5)
        assert not thread.is_alive()
        assert isinstance(outcome[0], proc.Interrupted), outcome
        with pytest.raises(proc.Interrupted):
            proc.run(["true"])
    finally:
        proc.resume()
    assert proc.run(["true"]).returncode == 0
    assert not proc._children


def test_an_interruption_note_is_what_the_user_reads(capsys: pytest.CaptureFixture[str]) -> None:
    from engine import cli
    from engine.core import proc

    note = "interrupted while pushing: the branch may or may not have been updated"
    try:
        assert cli._interrupted(proc.interrupted(proc.Interrupted(signal.SIGTERM), note)) == 143
        assert capsys.readouterr().err == note + "\n"
        assert cli._interrupted(KeyboardInterrupt()) == 130
        assert capsys.readouterr().err == "interrupted by SIGINT\n"
    finally:
        proc.resume()  # _interrupted stops the process's children for good: undo it here
    assert proc.run(["true"]).returncode == 0


QUICK_TOOL = """\
#!/bin/sh
echo $$ >> "$PIDS_FILE"
sleep 0.3 &
echo $! >> "$PIDS_FILE"
wait
echo '{}'
"""


def test_a_signal_at_any_moment_leaves_no_child_and_no_traceback(tmp_path: Path) -> None:
    """SIGTERM at many moments of a render (start-up, while kustomize starts, runs, ends):
    skrender ends cleanly (0 or 143) and nothing it started lives on."""
    tree = make_tree(
        tmp_path / "app", {"skaffold.yaml": KUSTOMIZE_CONFIG, "k/kustomization.yaml": "{}\n"}
    )
    env, pids_file = _slow_tool_env(tmp_path)
    (tmp_path / "bin" / "kustomize").write_text(QUICK_TOOL)
    codes = set()
    for delay in (0.05, 0.15, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8):
        pids_file.unlink(missing_ok=True)
        child = _start(["render", "--offline=true", "--digest-source=none"], tree, env)
        time.sleep(delay)
        _, stderr = _stop(child, signal.SIGTERM)
        pids = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []
        _assert_all_gone(pids)
        assert child.returncode in (0, 143, -signal.SIGTERM), (delay, stderr)
        assert "Traceback" not in stderr, (delay, stderr)
        codes.add(child.returncode)
    assert 143 in codes  # some signal did land mid-render
