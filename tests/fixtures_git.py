"""Real git servers on loopback, for publish tests.

* ``git_daemon``: ``git daemon`` with receive-pack enabled (``git://127.0.0.1:PORT/``).
* ``git_http``: smart HTTP, ``git http-backend`` run CGI-style behind a small threaded
  ``http.server`` that demands basic auth on every request (pushes need ``REMOTE_USER``).

Both yield a :class:`GitServer`: the base URL and the directory its bare repositories live in;
``server.create(name)`` makes an empty bare repository and returns its URL.  A server that
cannot start calls ``conftest.service_unavailable`` (fail in CI, skip elsewhere).
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import service_unavailable


class GitServer(NamedTuple):
    """A git server on loopback: ``url`` (ends in ``/``) serves the bare repos under ``root``."""

    url: str
    root: Path
    username: str = ""
    password: str = ""

    def create(self, name: str) -> str:
        """Create an empty bare repository ``name`` (e.g. ``manifests.git``); its URL."""
        subprocess.run(
            ["git", "init", "--quiet", "--bare", str(self.root / name)],
            env=server_env(self.root.parent),
            check=True,
        )
        return self.url + name

    def authed_url(self, name: str, password: str | None = None) -> str:
        """The URL of ``name`` with the credentials (or ``password``) as userinfo."""
        scheme, rest = self.url.split("://", 1)
        secret = self.password if password is None else password
        return f"{scheme}://{self.username}:{secret}@{rest}{name}"


def server_env(home: Path) -> dict[str, str]:
    """A clean environment for server-side git: no system or user configuration."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
    }


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """``git daemon`` serving (and accepting pushes to) the bare repos in a fresh directory."""
    base = tmp_path_factory.mktemp("git-daemon")
    root = base / "repos"
    root.mkdir()
    for _ in range(5):  # the free port can be taken between probing and binding
        port = _free_port()
        daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
                "--listen=127.0.0.1",
                f"--port={port}",
                f"--base-path={root}",
                str(root),
            ],
            env=server_env(base),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if _wait_for_port(port, daemon):
            break
        daemon.kill()
        daemon.wait()
    else:
        service_unavailable("git daemon")
    try:
        yield GitServer(f"git://127.0.0.1:{port}/", root)
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


@pytest.fixture(scope="session")
def git_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """Smart HTTP (``git http-backend``) with basic auth, on a thread of this process."""
    base = tmp_path_factory.mktemp("git-http")
    root = base / "repos"
    root.mkdir()
    probe = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=False)
    backend = Path(probe.stdout.strip()) / "git-http-backend"
    if probe.returncode != 0 or not backend.exists():
        service_unavailable("git http-backend")
    username, password = "skrender", "tok-" + secrets.token_hex(16)
    handler = _handler_class(root, base, username, password)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    except OSError:
        service_unavailable("a loopback HTTP server")
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield GitServer(f"http://127.0.0.1:{port}/", root, username, password)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _handler_class(
    root: Path, home: Path, username: str, password: str
) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive bookkeeping

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = self._body()
            path, _, query = self.path.partition("?")
            env = {
                **server_env(home),
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": username,
                "REMOTE_ADDR": self.client_address[0],
                "GATEWAY_INTERFACE": "CGI/1.1",
            }
            for header in ("Git-Protocol", "Content-Encoding"):
                if self.headers.get(header):
                    env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
            done = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            )
            self._reply(done.stdout)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, cgi_output: bytes) -> None:
            head, sep, payload = cgi_output.partition(b"\r\n\r\n")
            if not sep:
                head, _, payload = cgi_output.partition(b"\n\n")
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False
