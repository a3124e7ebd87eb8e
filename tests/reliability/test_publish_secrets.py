"""Publishing with a token in the URL, against smart HTTP with basic auth (issue 15, item 2).

* every git process the publish starts is recorded (a GIT_EXEC_PATH of wrappers that log
  their argv and environment, then exec the real program): the token is in none of them;
* a password with an unescaped '@' authenticates and is redacted whole;
* a publish stopped by SIGTERM mid-push removes its private repository and stops its git
  children; one killed by SIGKILL leaves no secret anywhere and its repository is removed
  by the next run.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fixtures_git import GitServer, _handler_class

from engine.core.errors import PublishError
from engine.gitops.publish import publish, redact

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def at_sign_server(tmp_path: Path) -> Iterator[GitServer]:
    """Smart HTTP whose password contains '@' (written unescaped in URLs by careless users)."""
    root = tmp_path / "at-repos"
    root.mkdir()
    password = f"p@ss@{secrets.token_hex(8)}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(root, tmp_path, "bot", password))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GitServer(f"http://127.0.0.1:{server.server_address[1]}/", root, "bot", password)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _recording_exec_path(tmp_path: Path, log: Path) -> Path:
    """A copy of git's exec path where every program first appends its argv and environment
    to ``log`` (NUL-separated), then runs the real one; also first on PATH as ``git``."""
    real = Path(
        subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip()
    )
    wrappers = tmp_path / "exec-path"
    wrappers.mkdir()
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True)
    programs = {"git": real_git.stdout.strip()}
    programs.update({p.name: str(p) for p in real.iterdir() if p.name.startswith("git")})
    for name, target in programs.items():
        wrapper = wrappers / name
        wrapper.write_text(
            "#!/bin/sh\n"
            f"{{ printf '%s\\0' \"$0\" \"$@\"; cat /proc/$$/environ; echo; }} >> '{log}'\n"
            f'exec "{target}" "$@"\n'
        )
        wrapper.chmod(0o755)
    return wrappers


@pytest.mark.integration
def test_token_is_in_no_argv_environment_or_file(
    git_http: GitServer, git_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_http.create("argv.git")
    log = tmp_path / "processes.log"
    wrappers = _recording_exec_path(tmp_path, log)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **git_env,
        "GIT_EXEC_PATH": str(wrappers),
        "PATH": f"{wrappers}:{git_env['PATH']}",
        "TMPDIR": str(scratch),
    }
    token = git_http.password
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the private repo goes
    url = git_http.authed_url("argv.git")
    first = publish(repo=url, branch="main", files={"a.yaml": b"1\n"}, env=env)
    again = publish(repo=url, branch="main", files={"a.yaml": b"2\n"}, env=env)
    assert first.changed and again.changed
    recorded = log.read_bytes()
    assert b"remote-http" in recorded  # the helper that used to carry the URL was recorded
    assert b"argv.git" in recorded
    assert token.encode() not in recorded
    leftovers = [p for p in scratch.rglob("*") if p.is_file()]
    assert leftovers == []  # nothing left, and so nothing with the token in it
    bare = git_http.root / "argv.git"
    assert token not in (bare / "config").read_text()


@pytest.mark.integration
def test_password_with_at_signs_works_and_is_redacted(
    at_sign_server: GitServer, git_env: dict[str, str]
) -> None:
    at_sign_server.create("at.git")
    url = at_sign_server.authed_url("at.git")  # http://bot:p@ss@<hex>@127.0.0.1:PORT/at.git
    result = publish(repo=url, branch="main", files={"a": b"1"}, env=git_env)
    assert result.changed
    host = at_sign_server.url.split("://", 1)[1]
    assert redact(url) == f"http://***@{host}at.git"
    assert redact("fatal: http://user:p@ss@host/x failed") == "fatal: http://***@host/x failed"
    wrong = at_sign_server.authed_url("at.git", password="wr@ng@pass-1234")
    with pytest.raises(PublishError) as info:
        publish(repo=wrong, branch="main", files={"a": b"2"}, env=git_env)
    text = str(info.value)
    assert "wr@ng" not in text and "ng@pass" not in text and "pass-1234" not in text
    assert "Authentication failed" in text


_SLOW_HOOK = '#!/bin/sh\ntouch "$GIT_DIR/hook-started"\nsleep 8\n'

_PUBLISH_SCRIPT = """
import sys
from engine.core.errors import PublishError
from engine.gitops.publish import publish
try:
    publish(repo=sys.argv[1], branch="main", files={"a.yaml": b"x"})
except PublishError as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.exit_code)
"""


def _start_publisher(url: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _PUBLISH_SCRIPT, url],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose argv or working directory mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if text in argv or text in cwd:
            found.append(int(entry.name))
    return found


def _setup(
    server: GitServer, name: str, tmp_path: Path, git_env: dict[str, str]
) -> tuple[str, Path, dict[str, str]]:
    server.create(name)
    hook = server.root / name / "hooks" / "pre-receive"
    hook.write_text(_SLOW_HOOK)
    hook.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return server.authed_url(name), scratch, {**git_env, "TMPDIR": str(scratch)}


@pytest.mark.integration
def test_sigterm_mid_push_cleans_up_and_says_so(
    git_http: GitServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    url, scratch, env = _setup(git_http, "sigterm.git", tmp_path, git_env)
    publisher = _start_publisher(url, env, tmp_path)
    _wait_for(git_http.root / "sigterm.git" / "hook-started", publisher)
    started = time.monotonic()
    publisher.send_signal(signal.SIGTERM)
    code = publisher.wait(timeout=20)
    err = publisher.stderr.read() if publisher.stderr else ""
    assert time.monotonic() - started < 5
    assert code == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM while pushing" in err and git_http.password not in err
    assert [p for p in scratch.rglob("*") if p.is_file()] == []
    assert _processes_mentioning(str(scratch)) == []  # no git left running


@pytest.mark.integration
def test_sigkill_leaves_no_secret_and_the_next_run_cleans_up(
    git_http: GitServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    url, scratch, env = _setup(git_http, "sigkill.git", tmp_path, git_env)
    publisher = _start_publisher(url, env, tmp_path)
    _wait_for(git_http.root / "sigkill.git" / "hook-started", publisher)
    os.killpg(publisher.pid, signal.SIGKILL)
    publisher.wait(timeout=20)
    left = [p for p in scratch.rglob("*") if p.is_file()]
    assert left  # SIGKILL cannot be caught: the private repository stays ...
    for path in left:  # ... without the token anywhere in it
        assert git_http.password.encode() not in path.read_bytes(), path
    (git_http.root / "sigkill.git" / "hooks" / "pre-receive").unlink()
    again = _start_publisher(url, env, tmp_path)
    assert again.wait(timeout=60) == 0, again.stderr.read() if again.stderr else ""
    assert [p for p in scratch.rglob("*") if p.is_file()] == []
