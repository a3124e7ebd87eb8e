"""A small Docker-registry token server for tests (RS256 JWTs the real registry verifies).

Implements the two flows clients use (distribution's token spec): ``GET realm?service&scope``
with optional HTTP basic auth, and the OAuth2 ``POST`` form (``grant_type=password`` or
``refresh_token``).  Policy: a known user gets every action asked for; anonymous callers get
``pull`` on repositories under ``public/`` only; a wrong password is a 401.  Every request is
recorded in ``requests`` (method, user, scopes) so tests can check token reuse.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key and the self-signed certificate the registry trusts (rootcertbundle)."""

    key: Any
    cert_der: bytes
    cert_pem: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skrender test token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(
            key,
            cert.public_bytes(serialization.Encoding.DER),
            cert.public_bytes(serialization.Encoding.PEM),
        )

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS (RS256) whose x5c header carries the certificate."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)


@dataclass
class TokenServer:
    """Serve ``/token`` on 127.0.0.1; ``realm`` is its URL once started."""

    service: str
    issuer: str
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> user
    signing: SigningKey = field(default_factory=SigningKey.generate)
    requests: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def realm(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def write_bundle(self, path: Path) -> Path:
        path.write_bytes(self.signing.cert_pem)
        return path

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                user = server._basic_user(self.headers.get("Authorization", ""))
                if user is None:
                    return self._reply(401, {"details": "bad credentials"})
                scopes = tuple(query.get("scope", []))
                server._record("GET", user, scopes)
                token = server._issue(user, scopes, query.get("service", [""])[0])
                return self._reply(200, {"token": token, "expires_in": 300})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                grant = form.get("grant_type", [""])[0]
                user: str | None = None
                if grant == "password":
                    name = form.get("username", [""])[0]
                    if server.users.get(name) == form.get("password", [None])[0]:
                        user = name
                elif grant == "refresh_token":
                    user = server.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if user is None:
                    return self._reply(401, {"error": "invalid_grant"})
                scopes = tuple(form.get("scope", [""])[0].split())
                server._record("POST", user, scopes)
                token = server._issue(user, scopes, form.get("service", [""])[0])
                return self._reply(200, {"access_token": token, "expires_in": 300})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---- policy ----------------------------------------------------------------------------
    def _basic_user(self, header: str) -> str | None:
        """ "" for anonymous, the user name for good credentials, None for bad ones."""
        if not header.startswith("Basic "):
            return ""
        try:
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return name if self.users.get(name) == password else None

    def _record(self, method: str, user: str, scopes: tuple[str, ...]) -> None:
        with self._lock:
            self.requests.append((method, user, scopes))

    def _issue(self, user: str, scopes: tuple[str, ...], service: str) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            if not user:
                wanted = ["pull"] if name.startswith("public/") and "pull" in wanted else []
            if kind == "repository" and wanted:
                access.append({"type": kind, "name": name, "actions": wanted})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        return self.signing.sign(claims)
