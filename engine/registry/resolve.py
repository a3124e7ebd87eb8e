"""Remote image digests, as ``skaffold render --digest-source=remote`` finds them.

skaffold (``pkg/skaffold/docker/remote.go``, go-containerregistry ``pkg/v1/remote``) asks the
registry for the tag's manifest and uses the digest of what it gets: the index digest for a
multi-arch image, the manifest digest otherwise.  Two resolvers give that same answer:

* ``docker``: the Docker engine's distribution-inspect endpoint (``docker`` SDK), used by
  ``auto`` when an engine answers at ``DOCKER_HOST`` or the default socket;
* ``registry``: the registry HTTP API directly (HEAD with every manifest media type accepted,
  ``Docker-Content-Digest``; GET and sha256 of the bytes as a fallback), with docker's
  credentials (:mod:`engine.registry.credentials`), the bearer-token challenge flow,
  go-containerregistry's
  HTTP-vs-HTTPS rules and docker's ``certs.d`` CAs.

References are de-duplicated and resolved concurrently; every failure is reported in one
:class:`~engine.core.errors.DigestError` whose first line is skaffold's.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.core.errors import DigestError
from engine.registry.credentials import Credential, Keychain, docker_config_dir
from engine.stages.naming import RegistryName, registry_name

if TYPE_CHECKING:
    import requests

RESOLVERS = ("auto", "docker", "registry")
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MT_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
# Every manifest type at once, so no registry converts (or refuses) what it stores.
ACCEPT = ",".join(
    (
        MT_OCI_INDEX,
        MT_DOCKER_LIST,
        MT_OCI_MANIFEST,
        MT_DOCKER_MANIFEST,
        MT_SCHEMA1_SIGNED,
        MT_SCHEMA1,
    )
)

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# go-containerregistry pkg/name/registry.go: reLocal
_LOCAL_RE = re.compile(r".*\.local(?:host)?(?::\d{1,5})?$")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
TOKEN_LIFETIME = 60.0  # seconds, when the token server does not say (distribution's default)
# go-containerregistry remote/fetcher.go: manifestLimit.  It truncates a longer body and hashes
# what it read; skrender refuses instead of recording the digest of part of a manifest.  The
# limit counts decoded bytes (a small gzip body can expand without bound) and caps every
# answer, token and error bodies included.
BODY_LIMIT = 100 * 1024 * 1024
_CHUNK = 64 * 1024


class _Failure(Exception):
    """Why one reference could not be resolved (no credentials in the text)."""


def with_digest(ref: str, digest: str) -> str:
    """``ref@digest``, unless ``ref`` already ends with exactly that digest (remote.go)."""
    suffix = "@" + digest
    return ref if ref.endswith(suffix) else ref + suffix


def resolve_digests(
    refs: Sequence[str],
    *,
    resolver: str = "auto",
    insecure_registries: Sequence[str] = (),
    jobs: int = 8,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Map each reference (as written in manifests) to the digest its registry holds.

    ``resolver`` is ``auto`` (the Docker engine when one answers, else the registry API),
    ``docker`` or ``registry``.  ``timeout`` bounds the whole call.  Raises
    :class:`DigestError` listing every reference that failed, each with its cause.
    """
    if resolver not in RESOLVERS:
        raise DigestError(
            f"invalid digest resolver {resolver!r}: expected one of {', '.join(RESOLVERS)}"
        )
    environ = dict(os.environ if env is None else env)
    unique = list(dict.fromkeys(refs))
    if not unique:
        return {}
    deadline = time.monotonic() + max(timeout, 0.001)
    keychain = Keychain(environ)
    backend = _pick_backend(resolver, environ, frozenset(insecure_registries), deadline, keychain)
    try:
        outcomes = _run_all(_verifying(backend.resolve), unique, jobs)
    finally:
        backend.close()
    failures = [
        (ref, out) for ref, out in zip(unique, outcomes, strict=True) if isinstance(out, _Failure)
    ]
    if failures:
        raise DigestError(_describe(failures))
    return {ref: str(out) for ref, out in zip(unique, outcomes, strict=True)}


def _verifying(resolve: Callable[[str], str]) -> Callable[[str], str]:
    """``resolve`` that rejects an answer differing from the digest a reference pins.

    A reference with ``@sha256:...`` is fetched by that digest (a lock file's entries are),
    and go-containerregistry (``remote/fetcher.go``) fails when the manifest it gets does not
    hash to it: skaffold then reports that the image does not exist remotely.
    """

    def checked(ref: str) -> str:
        found = resolve(ref)
        _, at, pinned = ref.rpartition("@")
        if at and _DIGEST_RE.match(pinned) and found != pinned:
            raise _Failure(f"the registry returned manifest {found} for pinned digest {pinned}")
        return found

    return checked


def _describe(failures: Sequence[tuple[str, _Failure]]) -> str:
    """skaffold's line for each failed reference, followed by the cause it discards."""
    from engine.core.sanitize import one_line

    lines: list[str] = []
    for ref, failure in failures:
        lines.append(f"failed to resolve the digest of {ref}: does the image exist remotely?")
        # a cause quotes the registry (error bodies, reasons): one safe line, whatever it sent
        lines.append(f" - cause: {one_line(str(failure))}")
    return "\n".join(lines)


def _run_all(func: Callable[[str], str], refs: Sequence[str], jobs: int) -> list[str | _Failure]:
    """``func`` over ``refs`` on a bounded pool; a failure is returned, not raised."""

    def one(ref: str) -> str | _Failure:
        try:
            return func(ref)
        except _Failure as failure:
            return failure
        except DigestError as exc:
            return _Failure(str(exc))

    workers = max(1, min(jobs, len(refs)))
    if workers == 1:
        return [one(ref) for ref in refs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest") as pool:
        return list(pool.map(one, refs))


def _parse_ref(ref: str) -> RegistryName:
    """Registry, repository and tag/digest of ``ref`` (go-containerregistry's normalising rules)."""
    try:
        return registry_name(ref)
    except DigestError as exc:
        raise _Failure(str(exc)) from None


def _http_allowed(registry: str) -> bool:
    """go-containerregistry's ``Registry.Scheme() == "http"`` (without insecure)."""
    host = registry.split(":")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv4Address) and any(ip in net for net in _RFC1918):
        return True
    return (
        registry.startswith("localhost:")
        or bool(_LOCAL_RE.match(registry))
        or "127.0.0.1" in registry
        or "::1" in registry
    )


# --------------------------------------------------------------------------------------------
# Back ends
# --------------------------------------------------------------------------------------------


class _Backend:
    def resolve(self, ref: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


def _pick_backend(
    resolver: str,
    env: Mapping[str, str],
    insecure: frozenset[str],
    deadline: float,
    keychain: Keychain,
) -> _Backend:
    if resolver in ("auto", "docker"):
        host = env.get("DOCKER_HOST", "")
        if resolver == "docker" or host or os.path.exists(DEFAULT_DOCKER_SOCKET):
            try:
                return _DockerBackend(env, keychain, deadline)
            except _Failure as failure:
                if resolver == "docker":
                    return _BrokenBackend(failure)
    return _RegistryBackend(env, insecure, deadline, keychain)


class _BrokenBackend(_Backend):
    """Every reference fails the same way (the chosen resolver cannot work)."""

    def __init__(self, failure: _Failure) -> None:
        self._failure = failure

    def resolve(self, ref: str) -> str:
        raise self._failure


class _DockerBackend(_Backend):
    """Digests through a Docker engine: ``GET /distribution/<ref>/json``."""

    def __init__(self, env: Mapping[str, str], keychain: Keychain, deadline: float) -> None:
        import docker

        self._keychain = keychain
        where = env.get("DOCKER_HOST") or f"unix://{DEFAULT_DOCKER_SOCKET}"
        try:
            wait = max(1, int(min(READ_TIMEOUT, deadline - time.monotonic())))
            self._client = docker.from_env(environment=dict(env), timeout=wait)
            self._client.ping()
        except Exception as exc:  # any failure means "no usable engine here"
            raise _Failure(f"cannot reach the Docker engine at {where}: {_short(exc)}") from None

    def resolve(self, ref: str) -> str:
        import docker.errors
        import requests

        try:
            registry = _parse_ref(ref).registry
        except _Failure:
            registry = ""
        cred = self._keychain.lookup(registry) if registry else Credential()
        # An explicit (possibly empty) auth config: the SDK would otherwise read the
        # process's own docker config instead of the one in ``env``.
        auth = cred.docker_auth_config() or {}
        try:
            data = self._client.images.get_registry_data(ref, auth_config=auth)
        except docker.errors.APIError as exc:
            status = exc.status_code
            detail = _short(exc.explanation or exc)
            hint = f"; credentials tried: {cred.source}" if status in (401, 403) else ""
            raise _Failure(f"the Docker engine answered HTTP {status}: {detail}{hint}") from None
        except (requests.RequestException, docker.errors.DockerException) as exc:
            raise _Failure(f"the Docker engine failed: {_short(exc)}") from None
        digest = str(data.id)
        if not _DIGEST_RE.match(digest):
            raise _Failure(f"the Docker engine returned an unexpected digest {digest!r}")
        return digest

    def close(self) -> None:
        self._client.close()


class _RegistryBackend(_Backend):
    """Digests straight from the registry HTTP API, one keep-alive client per registry."""

    def __init__(
        self,
        env: Mapping[str, str],
        insecure: frozenset[str],
        deadline: float,
        keychain: Keychain,
    ) -> None:
        self._env = env
        self._insecure = insecure
        self._deadline = deadline
        self._keychain = keychain
        self._lock = threading.Lock()
        self._clients: dict[str, _RegistryClient] = {}

    def resolve(self, ref: str) -> str:
        parsed = _parse_ref(ref)
        with self._lock:
            client = self._clients.get(parsed.registry)
            if client is None:
                client = _RegistryClient(
                    parsed.registry,
                    self._env,
                    parsed.registry in self._insecure,
                    self._deadline,
                    self._keychain,
                )
                self._clients[parsed.registry] = client
        return client.manifest_digest(parsed.repository, parsed.reference)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def registry_client(
    registry: str,
    env: Mapping[str, str],
    insecure: bool,
    deadline: float,
    keychain: Keychain,
) -> _RegistryClient:
    """A client for one registry (scheme by ping, auth challenge, tokens), for other look-ups
    than digests: :mod:`engine.registry.imageconfig` reads image configs with it."""
    return _RegistryClient(registry, env, insecure, deadline, keychain)


@dataclass
class _Challenge:
    scheme: str  # "", "basic" or "bearer"
    params: dict[str, str]


@dataclass
class _Token:
    value: str
    expires: float


class _RegistryClient:
    """One registry: its scheme (found by ping), auth challenge, tokens and HTTP session."""

    def __init__(
        self,
        registry: str,
        env: Mapping[str, str],
        insecure: bool,
        deadline: float,
        keychain: Keychain,
    ) -> None:
        self.registry = registry
        self._env = env
        self._insecure = insecure
        self._deadline = deadline
        self._keychain = keychain
        self._lock = threading.Lock()
        self._base = ""
        self._challenge: _Challenge | None = None
        self._ping_failure: _Failure | None = None
        self._tokens: dict[str, _Token] = {}
        self._ssl = _ssl_context(registry, env, insecure)
        self._watchdog = _Watchdog(deadline)
        self._session = _make_session(self._ssl, insecure, self._watchdog)

    def close(self) -> None:
        self._watchdog.cancel()
        self._session.close()

    # ---- public --------------------------------------------------------------------------
    def get(self, repository: str, path: str) -> _Reply:
        """``GET /v2/<repository>/<path>`` (a manifest or blob) with the registry's auth."""
        try:
            self._ping()
            return self._authorized("GET", f"{self._base}/v2/{repository}/{path}", repository)
        except _Failure as failure:
            raise DigestError(str(failure)) from None

    def manifest_digest(self, repository: str, reference: str) -> str:
        """The SHA-256 of the manifest bytes a GET of ``repository:reference`` receives.

        skaffold asks go-containerregistry for the image or index (``remote.Index`` /
        ``remote.Image``, ``remote/fetcher.go: fetchManifest``), which GETs the manifest and
        hashes the body: a HEAD's ``Docker-Content-Digest`` alone is never trusted, since a
        registry (or a proxy) may answer a HEAD with a digest its GET does not serve.
        """
        self._ping()
        url = f"{self._base}/v2/{repository}/manifests/{reference}"
        got = self._authorized("GET", url, repository)
        if got.status_code != 200:
            raise _Failure(self._status_cause(got, repository, reference))
        if not got.content:
            # No manifest is empty: this is a connection cut short, not an image.
            raise _Failure(f"{self.registry}/{repository}:{reference}: empty manifest body")
        header = got.headers.get("Docker-Content-Digest", "")
        media_type = got.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type == MT_SCHEMA1_SIGNED and _DIGEST_RE.match(header):
            # go-containerregistry fetcher.go: signed schema 1 digests come from the header.
            return header
        digest = "sha256:" + hashlib.sha256(got.content).hexdigest()
        if _DIGEST_RE.match(reference) and digest != reference:
            # fetcher.go checks a pull by digest against the body first
            raise _Failure(f"the registry returned manifest {digest} for pinned digest {reference}")
        if header and header != digest:
            # skrender (go-containerregistry does not check): a body that does not hash to the
            # registry's own digest is damaged or tampered with; never record either digest.
            raise _Failure(
                f"{self.registry}/{repository}:{reference}: manifest body hashes to {digest} "
                f"but the registry says Docker-Content-Digest {_clip(header)}"
            )
        return digest

    # ---- connection set-up ---------------------------------------------------------------
    def _ping(self) -> None:
        """``GET /v2/`` once per registry: HTTPS first, then HTTP where allowed (ping.go)."""
        with self._lock:
            if self._base:
                return
            if self._ping_failure is not None:
                raise self._ping_failure
            schemes = ["https"]
            if self._insecure or _http_allowed(self.registry):
                schemes.append("http")
            causes: list[str] = []
            for scheme in schemes:
                base = f"{scheme}://{self.registry}"
                try:
                    resp = self._send("GET", base + "/v2/", {})
                except _Failure as failure:
                    causes.append(str(failure))
                    continue
                if resp.status_code in (200, 401):
                    self._base = base
                    self._challenge = _parse_challenge(resp.headers.get("WWW-Authenticate", ""))
                    return
                causes.append(f"GET {base}/v2/: unexpected HTTP {resp.status_code}")
            self._ping_failure = _Failure("; ".join(causes))
            raise self._ping_failure

    # ---- requests with auth --------------------------------------------------------------
    def _authorized(self, method: str, url: str, repository: str) -> _Reply:
        """Send with the registry's auth; on 401 re-read the challenge once and retry."""
        headers = {"Accept": ACCEPT}
        self._add_auth(headers, repository, refresh=False)
        resp = self._send(method, url, headers)
        if resp.status_code != 401:
            return resp
        challenge = _parse_challenge(resp.headers.get("WWW-Authenticate", ""))
        if challenge.scheme:
            with self._lock:
                self._challenge = challenge
        headers = {"Accept": ACCEPT}
        if not self._add_auth(headers, repository, refresh=True):
            return resp
        return self._send(method, url, headers)

    def _add_auth(self, headers: dict[str, str], repository: str, *, refresh: bool) -> bool:
        """Add an Authorization header if the challenge asks for one; True if one was added."""
        challenge = self._challenge
        if challenge is None or not challenge.scheme:
            return False
        cred = self._keychain.lookup(self.registry)
        if challenge.scheme == "basic":
            if cred.anonymous:
                return False
            pair = f"{cred.username}:{cred.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            return True
        if challenge.scheme == "bearer":
            headers["Authorization"] = "Bearer " + self._token(challenge, repository, refresh)
            return True
        return False

    def _token(self, challenge: _Challenge, repository: str, refresh: bool) -> str:
        """A bearer token for pulling ``repository``, reused per scope until it expires."""
        scope = f"repository:{repository}:pull"
        with self._lock:
            cached = self._tokens.get(scope)
            if cached is not None and not refresh and cached.expires > time.monotonic():
                return cached.value
            token = self._fetch_token(challenge, scope)
            self._tokens[scope] = token
            return token.value

    def _fetch_token(self, challenge: _Challenge, scope: str) -> _Token:
        """The token flow of go-containerregistry transport/bearer.go (GET, or OAuth2 POST)."""
        realm = challenge.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise _Failure(f"registry {self.registry} sent a bearer challenge without a realm")
        service = challenge.params.get("service", "")
        cred = self._keychain.lookup(self.registry)
        _add_realm_cas(self._ssl, realm, self._env)
        if cred.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": cred.identity_token,
                "service": service,
                "scope": scope,
                "client_id": "skrender",
            }
            resp = self._send("POST", realm, {}, data=form)
        else:
            headers: dict[str, str] = {}
            if not cred.anonymous:
                pair = f"{cred.username}:{cred.password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            params = {"scope": scope, "service": service}
            resp = self._send("GET", realm, headers, params=params)
        if resp.status_code != 200:
            raise _Failure(
                f"token server {_strip_query(realm)} refused a token for {scope}"
                f" (HTTP {resp.status_code}{_error_code(resp)}); credentials tried: "
                f"{self._cred_story(cred)}"
            )
        try:
            body = resp.json()
            value = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
        except (ValueError, AttributeError, TypeError):
            value, lifetime = "", TOKEN_LIFETIME
        if not value:
            raise _Failure(f"token server {_strip_query(realm)} returned no token")
        # Renew a little early so a token never expires between check and use.
        return _Token(value, time.monotonic() + max(lifetime - 5.0, 1.0))

    # ---- transport -----------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        **kwargs: Any,
    ) -> _Reply:
        """One request with retries (429/5xx/resets), backoff with jitter, within the deadline.

        The body is read here, capped at :data:`BODY_LIMIT`, so a broken body is retried like
        any transient failure and the deadline covers it: the watchdog ends every connection
        of this client when the deadline passes, however slowly a server drips its answer.
        """
        import requests

        attempt = 0
        while True:
            attempt += 1
            remaining = self._deadline - time.monotonic()
            if remaining <= 0 or self._watchdog.expired:
                raise _Failure(f"{method} {_strip_query(url)}: timed out")
            limits = (min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining))
            try:
                with self._session.request(
                    method,
                    url,
                    headers=dict(headers),
                    timeout=limits,
                    allow_redirects=True,
                    proxies=_proxies_for(url, self._env),
                    stream=True,
                    **kwargs,
                ) as streamed:
                    resp = _Reply(streamed.status_code, streamed.headers, _read_capped(streamed))
                if self._watchdog.expired:
                    # A connection the watchdog shut mid-answer can look complete (http.client
                    # takes EOF in the headers for their end): never use such an answer.
                    raise _Failure(f"{method} {_strip_query(url)}: timed out")
            except _BodyTooLarge:
                raise _Failure(
                    f"{method} {_strip_query(url)}: response body exceeds {BODY_LIMIT} bytes"
                ) from None
            except requests.exceptions.SSLError as exc:
                if self._watchdog.expired:
                    raise _Failure(f"{method} {_strip_query(url)}: timed out") from None
                raise _Failure(
                    f"TLS failure talking to {_origin(url)}: {_tls_reason(exc)}"
                ) from None
            except requests.exceptions.Timeout:
                if attempt >= MAX_ATTEMPTS or not self._backoff(attempt, None):
                    raise _Failure(f"{method} {_strip_query(url)}: timed out") from None
                continue
            except requests.exceptions.RequestException as exc:
                if self._watchdog.expired:
                    raise _Failure(f"{method} {_strip_query(url)}: timed out") from None
                # Like go-containerregistry's retry.IsTemporary: resets and EOFs are retried,
                # a refused connection or an unknown host is not.
                transient = not _is_connect_failure(exc)
                if not transient or attempt >= MAX_ATTEMPTS or not self._backoff(attempt, None):
                    raise _Failure(f"{method} {_strip_query(url)}: {_conn_reason(exc)}") from None
                continue
            if resp.status_code not in RETRY_STATUS or attempt >= MAX_ATTEMPTS:
                return resp
            if not self._backoff(attempt, resp.headers.get("Retry-After")):
                return resp

    def _backoff(self, attempt: int, retry_after: str | None) -> bool:
        """Sleep before the next attempt; False when that would pass the deadline."""
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: concurrent workers do not retry in step
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(BACKOFF_CAP, float(retry_after.strip())))
        if time.monotonic() + delay >= self._deadline:
            return False
        time.sleep(delay)
        return True

    # ---- messages ------------------------------------------------------------------------
    def _status_cause(self, resp: _Reply, repository: str, reference: str) -> str:
        where = f"{self.registry}/{repository}"
        what = f"digest {reference}" if reference.startswith("sha256:") else f"tag {reference!r}"
        code = _error_code(resp)
        if resp.status_code == 404:
            return f"{what} not found in {where} (HTTP 404{code})"
        if resp.status_code in (401, 403):
            cred = self._keychain.lookup(self.registry)
            return (
                f"access to {where} denied (HTTP {resp.status_code}{code}); "
                f"credentials tried: {self._cred_story(cred)}"
            )
        return f"{what} of {where}: registry answered HTTP {resp.status_code}{code}"

    def _cred_story(self, cred: Credential) -> str:
        note = self._keychain.notes.get(self.registry)
        return cred.source + (f" ({note})" if note else "")


# --------------------------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------------------------


class _Reply(NamedTuple):
    """An answer, its body read in full (and capped): nothing streams past :meth:`_send`."""

    status_code: int
    headers: Mapping[str, str]  # requests' case-insensitive mapping
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class _BodyTooLarge(Exception):
    pass


def _read_capped(resp: requests.Response) -> bytes:
    """The decoded body, or :class:`_BodyTooLarge` past :data:`BODY_LIMIT` (read no further)."""
    chunks: list[bytes] = []
    total = 0
    for chunk in resp.iter_content(_CHUNK):
        total += len(chunk)
        if total > BODY_LIMIT:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _Watchdog:
    """Ends every connection of one client when the deadline passes.

    Socket timeouts bound each read, not the whole exchange: a server that drips a byte a
    second never trips them.  Go's client has a context deadline for that; here a timer shuts
    the client's sockets down, which fails the blocked read at once.
    """

    def __init__(self, deadline: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def track(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self.expired:
                self._sockets.add(sock)
                return
        _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            doomed = list(self._sockets)
        for sock in doomed:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _tracked_pool_classes(watchdog: _Watchdog) -> dict[str, Any]:
    """urllib3 pool classes whose connections register their socket with ``watchdog``."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Connection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.track(self.sock)

    class _TLSConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.track(self.sock)

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _Connection

    class _TLSPool(HTTPSConnectionPool):
        ConnectionCls = _TLSConnection

    return {"http": _Pool, "https": _TLSPool}


def _parse_challenge(header: str) -> _Challenge:
    """``Bearer realm="...",service="..."`` -> scheme and parameters (first basic/bearer)."""
    if not header.strip():
        return _Challenge("", {})
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): value.replace('\\"', '"')
        for key, value in re.findall(r'([A-Za-z_][\w-]*)\s*=\s*"((?:[^"\\]|\\.)*)"', rest)
    }
    for key, value in re.findall(r"([A-Za-z_][\w-]*)\s*=\s*([^\s\",]+)", rest):
        params.setdefault(key.lower(), value)
    return _Challenge(scheme.lower(), params)


def _error_code(resp: _Reply) -> str:
    """``, MANIFEST_UNKNOWN: manifest unknown`` from a distribution error body, or ""."""
    try:
        errors = resp.json().get("errors") or []
        first = errors[0]
        code = str(first.get("code", ""))
        message = str(first.get("message", ""))
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""
    text = ": ".join(part for part in (code, message) if part)
    return f", {text[:200]}" if text else ""


def _make_session(ctx: ssl.SSLContext, insecure: bool, watchdog: _Watchdog) -> requests.Session:
    """A keep-alive session whose TLS is exactly ``ctx`` (no extra bundle from requests) and
    whose every connection ``watchdog`` can end."""
    import requests
    from requests.adapters import HTTPAdapter

    pool_classes = _tracked_pool_classes(watchdog)

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = ctx
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pool_classes

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = pool_classes
            return manager

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            # requests would add certifi's bundle to ``ctx`` on every new connection; Go
            # trusts the system roots (or SSL_CERT_FILE alone), which ``ctx`` already holds.
            conn.cert_reqs = "CERT_REQUIRED" if verify else "CERT_NONE"
            conn.ca_certs = None
            conn.ca_cert_dir = None

    if insecure:
        import warnings

        from urllib3.exceptions import InsecureRequestWarning

        # The user asked for this registry to be insecure; skaffold skips verification silently.
        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    session = requests.Session()
    session.trust_env = False  # no ~/.netrc credentials, no process proxies: env decides
    session.verify = not insecure
    adapter = _Adapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "skrender"
    return session


def _ssl_context(host: str, env: Mapping[str, str], insecure: bool) -> ssl.SSLContext:
    """System roots (or SSL_CERT_FILE / SSL_CERT_DIR, as Go does) plus certs.d for ``host``."""
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    cafile = env.get("SSL_CERT_FILE") or None
    capath = env.get("SSL_CERT_DIR") or None
    if cafile or capath:
        try:
            ctx = ssl.create_default_context(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:
            raise DigestError(f"loading SSL_CERT_FILE/SSL_CERT_DIR: {exc}") from None
    else:
        ctx = ssl.create_default_context()
    _load_certs_d(ctx, host, env)
    return ctx


def _certs_d_dirs(host: str, env: Mapping[str, str]) -> list[str]:
    """Where docker keeps per-registry CAs and client certificates for ``host``."""
    config = docker_config_dir(env)
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME", "~"), ".config")
    roots = [
        os.path.join(config, "certs.d"),
        os.path.join(os.path.dirname(config.rstrip("/")), "certs.d"),
        os.path.join(xdg, "docker", "certs.d"),
        "/etc/docker/certs.d",
    ]
    return [os.path.join(root, host) for root in dict.fromkeys(roots)]


def _load_certs_d(ctx: ssl.SSLContext, host: str, env: Mapping[str, str]) -> None:
    """docker's rules: ``*.crt`` are CAs, ``<name>.cert`` + ``<name>.key`` a client pair."""
    for folder in _certs_d_dirs(host, env):
        if not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            try:
                if entry.endswith(".crt"):
                    ctx.load_verify_locations(cafile=path)
                elif entry.endswith(".cert"):
                    key = path[: -len(".cert")] + ".key"
                    if os.path.isfile(key):
                        ctx.load_cert_chain(path, key)
            except (OSError, ssl.SSLError) as exc:
                raise DigestError(f"loading {path}: {_short(exc)}") from None


def _add_realm_cas(ctx: ssl.SSLContext, realm: str, env: Mapping[str, str]) -> None:
    """A token server on another host may have its own certs.d entry."""
    from urllib.parse import urlsplit

    host = urlsplit(realm).netloc
    if ctx.verify_mode != ssl.CERT_NONE and host:
        _load_certs_d(ctx, host, env)


def _proxies_for(url: str, env: Mapping[str, str]) -> dict[str, str]:
    """HTTP(S)_PROXY / NO_PROXY from ``env`` (Go's http.ProxyFromEnvironment)."""
    from requests.utils import should_bypass_proxies

    proxies = {}
    for scheme in ("http", "https"):
        value = env.get(f"{scheme.upper()}_PROXY") or env.get(f"{scheme}_proxy")
        if value:
            proxies[scheme] = value
    if not proxies:
        return {}
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy")
    if should_bypass_proxies(url, no_proxy=no_proxy):
        return {}
    return proxies


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def _innermost(exc: BaseException) -> BaseException:
    """The deepest cause/argument exception (urllib3 wraps the ssl/socket error)."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        nested = next((a for a in current.args if isinstance(a, BaseException)), None)
        nxt = nested or current.__cause__ or current.__context__
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nxt = reason
        if nxt is None:
            break
        current = nxt
    return current


def _tls_reason(exc: BaseException) -> str:
    inner = _innermost(exc)
    if isinstance(inner, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {inner.verify_message}"
    if isinstance(inner, ssl.SSLError) and inner.reason:
        return str(inner.reason).lower().replace("_", " ")
    return _short(inner)


def _is_connect_failure(exc: BaseException) -> bool:
    """A connection that was never made (refused, unreachable, unknown host)."""
    import requests

    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    inner = _innermost(exc)
    return isinstance(inner, (ConnectionRefusedError, OSError)) and not isinstance(
        inner, ConnectionResetError
    )


def _conn_reason(exc: BaseException) -> str:
    inner = _innermost(exc)
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, ConnectionResetError):
        return "connection reset by peer"
    return _short(inner)


def _short(exc: object) -> str:
    """A one-line, bounded rendering of an exception or message."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


def _clip(text: str, limit: int = 80) -> str:
    """A header value from the server, quoted safely and kept short for a one-line error."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return shown.encode("unicode_escape").decode("ascii")

