"""engine.registry.resolve against real registries (docker-registry) and a real Docker engine."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fixtures_registry import (
    PASSWORD,
    USER,
    Registry,
    basic_auth_entry,
    docker_config,
    free_port,
)

from engine.core.errors import DigestError
from engine.registry.resolve import _http_allowed, _parse_challenge, resolve_digests, with_digest

SKAFFOLD_LINE = "failed to resolve the digest of {}: does the image exist remotely?"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No docker config, no engine: only what a test sets."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update(extra)
    return env


# ---- pure functions ---------------------------------------------------------------------------


def test_with_digest_appends_unless_already_there() -> None:
    d = "sha256:" + "a" * 64
    assert with_digest("app:v1", d) == f"app:v1@{d}"
    assert with_digest(f"app:v1@{d}", d) == f"app:v1@{d}"
    other = "sha256:" + "b" * 64
    assert with_digest(f"app:v1@{other}", d) == f"app:v1@{other}@{d}"


@pytest.mark.parametrize(
    ("registry", "allowed"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("10.1.2.3:5000", True),
        ("172.20.0.1", True),
        ("192.168.1.1:443", True),
        ("registry.local", True),
        ("registry.local:5000", True),
        ("172.32.0.1", False),
        ("gcr.io", False),
        ("localhost", False),
        ("index.docker.io", False),
    ],
)
def test_http_allowed_follows_go_containerregistry(registry: str, allowed: bool) -> None:
    assert _http_allowed(registry) is allowed


def test_parse_challenge() -> None:
    c = _parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'
    )
    assert c.scheme == "bearer"
    assert c.params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a/b:pull,push",
    }
    assert _parse_challenge('Basic realm="x"').scheme == "basic"
    assert _parse_challenge("").scheme == ""


def test_unknown_resolver_is_rejected() -> None:
    with pytest.raises(DigestError, match="invalid digest resolver 'fast'"):
        resolve_digests(["app:v1"], resolver="fast")


def test_no_refs_no_work() -> None:
    assert resolve_digests([], resolver="registry", env={}) == {}


# ---- anonymous HTTP registry ------------------------------------------------------------------


def test_single_manifests_and_indexes(registry: Registry, tmp_path: Path) -> None:
    want = {
        registry.ref("plain/docker:v1"): registry.push_image("plain/docker:v1"),
        registry.ref("plain/oci:v1"): registry.push_image("plain/oci:v1", oci=True),
        registry.ref("multi/docker:v1"): registry.push_image(
            "multi/docker:v1", platforms=["linux/amd64", "linux/arm64"]
        ),
        registry.ref("multi/oci:v1"): registry.push_image(
            "multi/oci:v1", platforms=["linux/amd64", "linux/arm/v7"], oci=True
        ),
    }
    got = resolve_digests(list(want), resolver="registry", env=clean_env(tmp_path))
    assert got == want


def test_duplicates_and_digest_references(registry: Registry, tmp_path: Path) -> None:
    digest = registry.push_image("dedupe:v1")
    ref = registry.ref("dedupe:v1")
    by_digest = f"{registry.ref('dedupe')}@{digest}"
    both = f"{ref}@{digest}"
    got = resolve_digests([ref, ref, by_digest, both], resolver="registry", env=clean_env(tmp_path))
    assert got == {ref: digest, by_digest: digest, both: digest}
    assert with_digest(both, got[both]) == both


def test_every_failure_is_reported(registry: Registry, tmp_path: Path) -> None:
    registry.push_image("present:v1")
    missing_tag = registry.ref("present:nope")
    missing_repo = registry.ref("absent/repo:v1")
    with pytest.raises(DigestError) as info:
        resolve_digests(
            [registry.ref("present:v1"), missing_tag, missing_repo],
            resolver="registry",
            env=clean_env(tmp_path),
        )
    lines = str(info.value).splitlines()
    assert lines[0] == SKAFFOLD_LINE.format(missing_tag)
    assert "tag 'nope' not found" in lines[1] and "HTTP 404" in lines[1]
    assert lines[2] == SKAFFOLD_LINE.format(missing_repo)
    assert "not found" in lines[3]
    assert len(lines) == 4


def test_unparseable_reference(tmp_path: Path) -> None:
    with pytest.raises(DigestError) as info:
        resolve_digests(["Bad Ref:x"], resolver="registry", env=clean_env(tmp_path))
    assert str(info.value).startswith(SKAFFOLD_LINE.format("Bad Ref:x"))
    assert "could not parse reference" in str(info.value)


def test_connection_refused_is_explained(tmp_path: Path) -> None:
    ref = f"127.0.0.1:{free_port()}/gone:v1"
    started = time.monotonic()
    with pytest.raises(DigestError) as info:
        resolve_digests([ref], resolver="registry", timeout=5, env=clean_env(tmp_path))
    assert "connection refused" in str(info.value)
    assert time.monotonic() - started < 1  # a refused connection is not retried


def test_many_refs_concurrently(registry: Registry, tmp_path: Path) -> None:
    want = {
        registry.ref(f"many/svc{i}:v1"): registry.push_image(f"many/svc{i}:v1") for i in range(12)
    }
    assert resolve_digests(list(want), resolver="registry", jobs=4, env=clean_env(tmp_path)) == want


# ---- retries and time bounds (a real HTTP server that misbehaves) -----------------------------


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """``/v2/`` answers 200; manifests answer 503 (counted), or hang when ``hang`` is set."""
    state: dict[str, Any] = {"hits": 0, "hang": 0.0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            if self.path == "/v2/":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            state["hits"] += 1
            if state["hang"]:
                time.sleep(state["hang"])
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = _answer
        do_HEAD = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_5xx_is_retried_boundedly(flaky_server: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    addr, state = flaky_server
    with pytest.raises(DigestError) as info:
        resolve_digests([f"{addr}/app:v1"], resolver="registry", env=clean_env(tmp_path))
    assert "HTTP 503" in str(info.value)
    # HEAD tried MAX_ATTEMPTS (4) times; no GET after a spent retry budget
    assert state["hits"] == 4


def test_timeout_bounds_the_call(flaky_server: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    addr, state = flaky_server
    state["hang"] = 3.0
    started = time.monotonic()
    with pytest.raises(DigestError) as info:
        resolve_digests(
            [f"{addr}/app:v1"], resolver="registry", timeout=1.0, env=clean_env(tmp_path)
        )
    assert time.monotonic() - started < 2.5
    assert "timed out" in str(info.value)


# ---- TLS + basic auth -------------------------------------------------------------------------


def test_tls_basic_auth_with_ssl_cert_file(tls_registry: Registry, tmp_path: Path) -> None:
    digest = tls_registry.push_image("secure/app:v1")
    cfg = docker_config(
        tmp_path / "docker", {"auths": {tls_registry.addr: basic_auth_entry(USER, PASSWORD)}}
    )
    env = clean_env(tmp_path, DOCKER_CONFIG=str(cfg), SSL_CERT_FILE=str(tls_registry.ca_file))
    ref = tls_registry.ref("secure/app:v1")
    assert resolve_digests([ref], resolver="registry", env=env) == {ref: digest}


def test_tls_ca_from_certs_d(tls_registry: Registry, tmp_path: Path) -> None:
    digest = tls_registry.push_image("secure/certsd:v1")
    cfg = docker_config(
        tmp_path / "docker",
        {"auths": {f"https://{tls_registry.addr}": basic_auth_entry(USER, PASSWORD)}},
    )
    certs = cfg / "certs.d" / tls_registry.addr
    certs.mkdir(parents=True)
    assert tls_registry.ca_file is not None
    (certs / "ca.crt").write_bytes(tls_registry.ca_file.read_bytes())
    ref = tls_registry.ref("secure/certsd:v1")
    env = clean_env(tmp_path, DOCKER_CONFIG=str(cfg))
    assert resolve_digests([ref], resolver="registry", env=env) == {ref: digest}


def test_tls_failure_is_explained(tls_registry: Registry, tmp_path: Path) -> None:
    ref = tls_registry.ref("secure/app:v1")
    with pytest.raises(DigestError) as info:
        resolve_digests([ref], resolver="registry", env=clean_env(tmp_path))
    assert "certificate verify failed" in str(info.value)


def test_insecure_registry_skips_verification(tls_registry: Registry, tmp_path: Path) -> None:
    digest = tls_registry.push_image("secure/insecure:v1")
    cfg = docker_config(
        tmp_path / "docker", {"auths": {tls_registry.addr: basic_auth_entry(USER, PASSWORD)}}
    )
    ref = tls_registry.ref("secure/insecure:v1")
    got = resolve_digests(
        [ref],
        resolver="registry",
        insecure_registries=[tls_registry.addr],
        env=clean_env(tmp_path, DOCKER_CONFIG=str(cfg)),
    )
    assert got == {ref: digest}


def test_wrong_password_names_source_not_secret(tls_registry: Registry, tmp_path: Path) -> None:
    tls_registry.push_image("secure/app:v1")
    secret = "not-the-Password-42"
    cfg = docker_config(
        tmp_path / "docker", {"auths": {tls_registry.addr: basic_auth_entry(USER, secret)}}
    )
    env = clean_env(tmp_path, DOCKER_CONFIG=str(cfg), SSL_CERT_FILE=str(tls_registry.ca_file))
    ref = tls_registry.ref("secure/app:v1")
    with pytest.raises(DigestError) as info:
        resolve_digests([ref], resolver="registry", env=env)
    text = str(info.value)
    assert text.startswith(SKAFFOLD_LINE.format(ref))
    assert "HTTP 401" in text and str(cfg / "config.json") in text
    assert secret not in text and USER not in text


def test_anonymous_on_auth_registry_says_so(tls_registry: Registry, tmp_path: Path) -> None:
    env = clean_env(tmp_path, SSL_CERT_FILE=str(tls_registry.ca_file))
    ref = tls_registry.ref("secure/app:v1")
    with pytest.raises(DigestError, match="credentials tried: anonymous"):
        resolve_digests([ref], resolver="registry", env=env)


def test_credential_helper_on_path(tls_registry: Registry, tmp_path: Path) -> None:
    digest = tls_registry.push_image("secure/helper:v1")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "calls.log"
    helper = bindir / "docker-credential-skrtest"
    helper.write_text(
        "#!/bin/sh\n"
        f'read server; echo "$1 $server" >> {calls}\n'
        f'printf \'{{"ServerURL":"%s","Username":"{USER}","Secret":"{PASSWORD}"}}\' "$server"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    cfg = docker_config(tmp_path / "docker", {"credHelpers": {tls_registry.addr: "skrtest"}})
    env = clean_env(
        tmp_path,
        DOCKER_CONFIG=str(cfg),
        SSL_CERT_FILE=str(tls_registry.ca_file),
        PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    ref = tls_registry.ref("secure/helper:v1")
    assert resolve_digests([ref], resolver="registry", env=env) == {ref: digest}
    assert calls.read_text().splitlines() == [f"get {tls_registry.addr}"]


# ---- token auth -------------------------------------------------------------------------------


def test_anonymous_token_for_public_image(token_registry: Registry, tmp_path: Path) -> None:
    digest = token_registry.push_image("public/app:v1")
    ref = token_registry.ref("public/app:v1")
    assert resolve_digests([ref], resolver="registry", env=clean_env(tmp_path)) == {ref: digest}


def test_private_image_needs_credentials(token_registry: Registry, tmp_path: Path) -> None:
    token_registry.push_image("private/app:v1")
    ref = token_registry.ref("private/app:v1")
    with pytest.raises(DigestError) as info:
        resolve_digests([ref], resolver="registry", env=clean_env(tmp_path))
    assert "HTTP 401" in str(info.value) and "anonymous" in str(info.value)


def test_token_reused_per_scope(token_registry: Registry, tmp_path: Path) -> None:
    server = token_registry.token_server
    assert server is not None
    want = {
        token_registry.ref(f"private/reuse:v{i}"): token_registry.push_image(f"private/reuse:v{i}")
        for i in range(5)
    }
    want[token_registry.ref("private/other:v1")] = token_registry.push_image("private/other:v1")
    cfg = docker_config(
        tmp_path / "docker",
        {"auths": {token_registry.addr: basic_auth_entry(USER, PASSWORD)}},
    )
    before = len(server.requests)
    got = resolve_digests(
        list(want), resolver="registry", jobs=6, env=clean_env(tmp_path, DOCKER_CONFIG=str(cfg))
    )
    assert got == want
    issued = server.requests[before:]
    assert sorted(scope for _, _, scopes in issued for scope in scopes) == [
        "repository:private/other:pull",
        "repository:private/reuse:pull",
    ]
    assert {user for _, user, _ in issued} == {USER}


def test_identity_token_uses_oauth_post(token_registry: Registry, tmp_path: Path) -> None:
    server = token_registry.token_server
    assert server is not None
    digest = token_registry.push_image("private/idtoken:v1")
    cfg = docker_config(
        tmp_path / "docker",
        {"auths": {token_registry.addr: {"identitytoken": "identity-token-for-" + USER}}},
    )
    before = len(server.requests)
    ref = token_registry.ref("private/idtoken:v1")
    env = clean_env(tmp_path, DOCKER_CONFIG=str(cfg))
    assert resolve_digests([ref], resolver="registry", env=env) == {ref: digest}
    assert [m for m, _, _ in server.requests[before:]] == ["POST"]


# ---- Docker engine ----------------------------------------------------------------------------


def test_docker_engine_matches_registry(
    docker_engine: str, registry: Registry, tmp_path: Path
) -> None:
    registry.push_image("engine/single:v1")
    registry.push_image("engine/multi:v1", platforms=["linux/amd64", "linux/arm64"], oci=True)
    refs = [registry.ref("engine/single:v1"), registry.ref("engine/multi:v1")]
    env = clean_env(tmp_path, DOCKER_HOST=docker_engine)
    through_engine = resolve_digests(refs, resolver="docker", env=env)
    direct = resolve_digests(refs, resolver="registry", env=env)
    assert through_engine == direct
    assert resolve_digests(refs, resolver="auto", env=env) == direct


def test_docker_engine_missing_tag(docker_engine: str, registry: Registry, tmp_path: Path) -> None:
    ref = registry.ref("engine/single:missing")
    env = clean_env(tmp_path, DOCKER_HOST=docker_engine)
    with pytest.raises(DigestError) as info:
        resolve_digests([ref], resolver="docker", env=env)
    assert str(info.value).startswith(SKAFFOLD_LINE.format(ref))
    assert "Docker engine" in str(info.value)


def test_docker_resolver_without_engine(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    with pytest.raises(DigestError, match="cannot reach the Docker engine"):
        resolve_digests(["127.0.0.1:1/app:v1"], resolver="docker", env=env)
