"""Untrusted text never reaches a log line as written (issue 15, item 3).

A hostile registry on loopback puts newlines, a GitHub Actions workflow command, ANSI
escapes and other control characters in its error body; a tool (a stand-in for kustomize
quoting a remote base's server) prints the same on stderr.  skrender's message quotes them
escaped: every stderr line is its own, printable, and none starts a workflow command.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reliability.helpers import Run, cli_env, make_tree, run_cli

HOSTILE = "manifest unknown\n::error::pwned by the registry\x1b[2J\x1b[31mRED\x07\u2028\x00tail"


class _HostileRegistry(BaseHTTPRequestHandler):
    """A registry API that knows /v2/ and answers every manifest with a hostile 404."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v2":
            self._answer(200, b"{}")
            return
        body = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": HOSTILE}]}
        self._answer(404, json.dumps(body).encode())

    do_HEAD = do_GET

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def hostile_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _assert_inert(run: Run) -> None:
    for line in run.stderr.splitlines():
        assert line.isprintable(), repr(line)
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line and "##vso[" not in line, line
    assert "pwned" in run.stderr  # quoted, not dropped
    assert "Traceback" not in run.stderr


def test_registry_error_text_is_one_inert_line(tmp_path: Path, hostile_registry: str) -> None:
    tree = make_tree(tmp_path / "app")
    args = ["render", "--offline=true", "--digest-source=remote", "-d", hostile_registry]
    run = run_cli([*args, "--digest-resolver=registry", "--registry-timeout=20"], tree)
    assert run.code == 1, run.stderr
    _assert_inert(run)
    cause = [line for line in run.stderr.splitlines() if line.startswith(" - cause:")]
    assert len(cause) == 1, run.stderr
    assert "MANIFEST_UNKNOWN: manifest unknown\\n::error::pwned by the registry\\x1b[2J" in cause[0]


def test_tool_error_text_keeps_skaffolds_lines_and_is_inert(tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path / "app",
        {
            "skaffold.yaml": (
                "apiVersion: skaffold/v4beta13\nkind: Config\n"
                "manifests:\n  kustomize:\n    paths: [k]\n"
            ),
            "k/kustomization.yaml": "resources: []\n",
        },
    )
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "kustomize"
    fake.write_text(
        "#!/bin/sh\nprintf 'Error: git fetch said: %b\\n##[error]x\\n' "
        "'\\n::error::pwned by the git server\\033[31m' >&2\nexit 3\n"
    )
    fake.chmod(0o755)
    env = cli_env(tmp_path / "home")
    env["PATH"] = f"{tools}:{env['PATH']}"
    run = run_cli(["render", "--offline=true", "--digest-source=none"], tree, env=env)
    assert run.code == 3, run.stderr
    _assert_inert(run)
    assert ' - stderr: "Error: git fetch said: \\n::error::pwned by the git server\\x1b[31m' in (
        run.stderr
    )
    assert " - cause: exit status 3" in run.stderr
