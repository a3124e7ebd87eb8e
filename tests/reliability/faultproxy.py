"""A fault-injecting HTTP/1.1 proxy on loopback, for the reliability tests.

It sits in front of a real server (the registry, the git smart-HTTP server) and handles one
request per client connection (it answers ``Connection: close``): it reads the request, takes
the next fault from its script (or ``pass`` when the script is empty), and then either
forwards the request upstream and relays the answer, or misbehaves:

``pass``          forward and relay unchanged
``reset``         drop the client with a TCP reset, answering nothing
``stall``         hold the connection open, answering nothing, until the proxy stops
``status:NNN``    answer ``NNN`` itself (``status:429`` adds ``Retry-After: 0``)
``truncate``      forward, then relay the headers and only half the body, and close
``corrupt``       forward, then relay the answer with one body byte changed (headers kept)
``nodigest``      forward, then relay the answer without ``Docker-Content-Digest``
``wrongdigest``   forward, then relay the answer with another ``Docker-Content-Digest``
``drip``          forward, then relay the answer one byte every 0.2 s (until the proxy stops)
``hugebody``      answer 200 with a manifest body of 120 MiB (streamed, never held)
``gzipbomb``      answer 200 with a 1 MiB gzip body that expands to 1 GiB

``rule`` (a function of method and path) can pick a fault for matching requests before the
script is consulted.  ``injected`` counts every fault actually applied.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import ClassVar

Rule = Callable[[str, str], "str | None"]


class FaultProxy:
    """``FaultProxy(upstream_host, upstream_port)``; ``addr`` is ``127.0.0.1:PORT``."""

    # every fault injected by any proxy in this process (for the suite's summary numbers)
    total: ClassVar[collections.Counter[str]] = collections.Counter()

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self.addr = f"127.0.0.1:{self.port}"
        self._script: collections.deque[str] = collections.deque()
        self.rule: Rule | None = None
        self.injected: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[str, str, str]] = []  # (method, path, fault)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # ---- control ---------------------------------------------------------------------------
    def script(self, faults: Iterable[str]) -> None:
        """Faults for the next requests, in order; afterwards requests pass."""
        with self._lock:
            self._script = collections.deque(faults)
            self.requests.clear()

    def close(self) -> None:
        """Stop accepting; stalled connections are released."""
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- serving ---------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _next_fault(self, method: str, path: str) -> str:
        with self._lock:
            fault = self.rule(method, path) if self.rule else None
            if fault is None:
                fault = self._script.popleft() if self._script else "pass"
            self.requests.append((method, path, fault))
            if fault != "pass":
                self.injected[fault.split(":")[0]] += 1
                FaultProxy.total[fault] += 1
            return fault

    def _handle(self, client: socket.socket) -> None:
        try:
            client.settimeout(30)
            first = client.recv(1, socket.MSG_PEEK)
            if first and not first.isalpha():
                # not HTTP (a TLS probe of an http registry): relay the bytes untouched
                self._tunnel(client)
                return
            request = _read_message(client, request=True)
            if request is None:
                return
            head, body = request
            method, path = head.split(b" ", 2)[:2]
            fault = self._next_fault(method.decode(), path.decode())
            self._apply(fault, client, head, body, method == b"HEAD")
        except OSError:
            pass
        finally:
            client.close()

    def _tunnel(self, client: socket.socket) -> None:
        with socket.create_connection(self.upstream, timeout=30) as up:

            def pump(src: socket.socket, dst: socket.socket) -> None:
                try:
                    while data := src.recv(65536):
                        dst.sendall(data)
                except OSError:
                    pass
                finally:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)

            back = threading.Thread(target=pump, args=(up, client), daemon=True)
            back.start()
            pump(client, up)
            back.join(timeout=30)

    def _apply(
        self, fault: str, client: socket.socket, head: bytes, body: bytes, is_head: bool
    ) -> None:
        if fault == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if fault == "stall":
            self._stop.wait()
            return
        if fault.startswith("status:"):
            code = int(fault.split(":")[1])
            extra = b"Retry-After: 0\r\n" if code == 429 else b""
            client.sendall(
                b"HTTP/1.1 %d Injected\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n"
                % (code, extra)
            )
            return
        if fault == "hugebody":
            _send_huge(client)
            return
        if fault == "gzipbomb":
            bomb = _gzip_bomb()
            client.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (_MANIFEST_TYPE, len(bomb))
                + bomb
            )
            return
        answer = self._forward(head, body, is_head)
        if answer is None:
            return
        rhead, rbody = answer
        if fault == "drip":
            for i in range(len(rhead + rbody)):
                if self._stop.wait(0.2):
                    return
                client.sendall((rhead + rbody)[i : i + 1])
            return
        if fault == "wrongdigest":
            rhead = b"\r\n".join(
                b"Docker-Content-Digest: sha256:" + b"0" * 64
                if line.lower().startswith(b"docker-content-digest:")
                else line
                for line in rhead.split(b"\r\n")
            )
        if fault == "truncate":
            client.sendall(rhead + rbody[: len(rbody) // 2])
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if fault == "corrupt" and rbody:
            middle = len(rbody) // 2
            rbody = rbody[:middle] + bytes([rbody[middle] ^ 0x20]) + rbody[middle + 1 :]
        if fault == "nodigest":
            rhead = b"\r\n".join(
                line
                for line in rhead.split(b"\r\n")
                if not line.lower().startswith(b"docker-content-digest:")
            )
        client.sendall(rhead + rbody)

    def _forward(self, head: bytes, body: bytes, is_head: bool) -> tuple[bytes, bytes] | None:
        skip = (b"connection:", b"keep-alive:", b"transfer-encoding:", b"content-length:")
        lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(skip)]
        if body or not head.startswith((b"GET ", b"HEAD ")):
            lines.append(b"Content-Length: %d" % len(body))  # the body was de-chunked
        lines.append(b"Connection: close")
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            answer = _read_message(up, request=False, no_body=is_head)
        if answer is None:
            return None
        rhead, rbody = answer
        rlines = [
            line
            for line in rhead.split(b"\r\n")
            if line and not line.lower().startswith((b"connection:", b"transfer-encoding:"))
        ]
        if not is_head and not any(x.lower().startswith(b"content-length:") for x in rlines):
            rlines.append(b"Content-Length: %d" % len(rbody))
        rlines.append(b"Connection: close")
        return b"\r\n".join(rlines) + b"\r\n\r\n", rbody


def _read_message(
    sock: socket.socket, *, request: bool, no_body: bool = False
) -> tuple[bytes, bytes] | None:
    """One HTTP message: (head without the blank line, body, de-chunked)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    headers = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])
    }
    if no_body:
        return head, b""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return head, _dechunk(sock, rest)
    if b"content-length" in headers:
        length = int(headers[b"content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head, rest[:length]
    if request:
        return head, b""
    while True:  # a response without a length: read to the end
        chunk = sock.recv(65536)
        if not chunk:
            return head, rest
        rest += chunk


def _dechunk(sock: socket.socket, rest: bytes) -> bytes:
    out = b""
    buf = rest
    while True:
        while b"\r\n" not in buf:
            buf += sock.recv(65536)
        line, _, buf = buf.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        while len(buf) < size + 2:
            more = sock.recv(65536)
            if not more:
                return out + buf[:size]
            buf += more
        out += buf[:size]
        buf = buf[size + 2 :]
        if size == 0:
            return out


_MANIFEST_TYPE = b"application/vnd.oci.image.manifest.v1+json"
_HUGE = 120 * 1024 * 1024


def _send_huge(client: socket.socket) -> None:
    """A 120 MiB JSON-ish body, written in 1 MiB pieces (the reader may hang up early)."""
    client.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % (_MANIFEST_TYPE, _HUGE)
    )
    piece = b" " * (1024 * 1024)
    for _ in range(_HUGE // len(piece)):
        client.sendall(piece)


@functools.lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    """1 GiB of spaces, gzip-compressed (about 1 MiB), made once per process."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    piece = b" " * (1024 * 1024)
    parts = [packer.compress(piece) for _ in range(1024)]
    parts.append(packer.flush())
    return b"".join(parts)

