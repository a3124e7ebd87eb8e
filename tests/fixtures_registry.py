"""Real registries and a real Docker engine for tests (pytest plugin, see conftest.py).

* ``registry``: Debian's ``docker-registry``, anonymous HTTP on 127.0.0.1.
* ``tls_registry``: the same over TLS (a CA made here) with htpasswd basic auth.
* ``token_registry``: token auth, tokens from :mod:`tokenserver` (RS256, verified by the registry).
* ``docker_engine``: Debian's ``dockerd`` on a private socket; yields its ``DOCKER_HOST``.

Each is started once per session on free ports and torn down at the end.  Images are pushed
byte-deterministically straight through the registry HTTP API (:meth:`Registry.push_image`).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import service_unavailable
from golden_tool import golden
from tokenserver import TokenServer

REGISTRY_BIN = "docker-registry"
DOCKERD_BIN = "dockerd"
USER = "skrender"
PASSWORD = "s3cret-Pa55word"

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


# Deterministic image blobs: the corpus tool's own functions, so images pushed here have the
# digests the corpus expects.
build_image = golden.build_image
split_ref = golden.split_ref
sha = golden._sha
canonical_json = golden._canonical_json


# ---------------------------------------------------------------------------------------------
# A running registry and pushing to it
# ---------------------------------------------------------------------------------------------


@dataclass
class Registry:
    """A started ``docker-registry``: ``addr`` is ``127.0.0.1:PORT``."""

    addr: str
    scheme: str = "http"
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = None
    token_server: TokenServer | None = None
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    _session: requests.Session = field(default_factory=requests.Session)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.addr}"

    def ref(self, name: str) -> str:
        """``127.0.0.1:PORT/name``."""
        return f"{self.addr}/{name}"

    # ---- HTTP with whatever auth the registry asks for -------------------------------------
    def _request(self, method: str, url: str, repo: str, **kw: Any) -> requests.Response:
        if not url.startswith("http"):
            url = self.base + url
        verify: str | bool = str(self.ca_file) if self.ca_file else True
        headers = dict(kw.pop("headers", {}))
        if repo in self._tokens:
            headers["Authorization"] = "Bearer " + self._tokens[repo]
        resp = self._session.request(method, url, headers=headers, verify=verify, timeout=30, **kw)
        if resp.status_code != 401:
            return resp
        challenge = resp.headers.get("WWW-Authenticate", "")
        if challenge.startswith("Basic"):
            headers.pop("Authorization", None)
            return self._session.request(
                method,
                url,
                headers=headers,
                auth=(self.username or "", self.password or ""),
                verify=verify,
                timeout=30,
                **kw,
            )
        assert self.token_server is not None
        got = requests.get(
            self.token_server.realm,
            params={"service": self.token_server.service, "scope": f"repository:{repo}:pull,push"},
            auth=(self.username or "", self.password or ""),
            timeout=30,
        )
        got.raise_for_status()
        self._tokens[repo] = got.json()["token"]
        headers["Authorization"] = "Bearer " + self._tokens[repo]
        return self._session.request(method, url, headers=headers, verify=verify, timeout=30, **kw)

    def push_blob(self, repo: str, digest: str, data: bytes) -> None:
        if self._request("HEAD", f"/v2/{repo}/blobs/{digest}", repo).status_code == 200:
            return
        start = self._request("POST", f"/v2/{repo}/blobs/uploads/", repo, data=b"")
        assert start.status_code == 202, (start.status_code, start.text[:200])
        loc = start.headers["Location"]
        if not loc.startswith("http"):
            loc = self.base + loc
        loc += ("&" if "?" in loc else "?") + "digest=" + digest
        put = self._request(
            "PUT", loc, repo, data=data, headers={"Content-Type": "application/octet-stream"}
        )
        assert put.status_code == 201, (put.status_code, put.text[:200])

    def push_manifest(self, repo: str, reference: str, manifest: bytes, media_type: str) -> str:
        put = self._request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            repo,
            data=manifest,
            headers={"Content-Type": media_type},
        )
        assert put.status_code == 201, (put.status_code, put.text[:300])
        assert put.headers.get("Docker-Content-Digest", sha(manifest)) == sha(manifest)
        return sha(manifest)

    def push_image(
        self, name: str, *, platforms: list[str] | None = None, oci: bool = False
    ) -> str:
        """Push ``name`` ('repo:tag', without the registry) and return its digest.

        With ``platforms`` (``os/arch[/variant]``) an index (OCI) or manifest list (docker)
        of one image per platform is pushed and the index digest returned.
        """
        repo, tag = split_ref(name)
        if not platforms:
            manifest, media_type, blobs = build_image(name, oci=oci)
            for digest, blob in sorted(blobs.items()):
                self.push_blob(repo, digest, blob)
            return self.push_manifest(repo, tag, manifest, media_type)
        entries = []
        for plat in platforms:
            parts = plat.split("/")
            variant = parts[2] if len(parts) > 2 else None
            manifest, media_type, blobs = build_image(
                name, arch=parts[1], os_name=parts[0], variant=variant, oci=oci
            )
            for digest, blob in sorted(blobs.items()):
                self.push_blob(repo, digest, blob)
            digest = self.push_manifest(repo, sha(manifest), manifest, media_type)
            platform = {"architecture": parts[1], "os": parts[0]}
            if variant:
                platform["variant"] = variant
            entries.append(
                {
                    "mediaType": media_type,
                    "size": len(manifest),
                    "digest": digest,
                    "platform": platform,
                }
            )
        index = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_INDEX if oci else MT_DOCKER_LIST,
            "manifests": entries,
        }
        return self.push_manifest(repo, tag, canonical_json(index), str(index["mediaType"]))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_registry(
    workdir: Path,
    extra_config: str = "",
    *,
    tls: tuple[Path, Path] | None = None,
    ca_file: Path | None = None,
) -> Registry:
    """Start ``docker-registry serve`` with ``extra_config`` (YAML, top level) on a free port."""
    exe = shutil.which(REGISTRY_BIN) or "/usr/bin/docker-registry"
    if not os.path.exists(exe):
        service_unavailable("docker-registry")
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        port = free_port()
        addr = f"127.0.0.1:{port}"
        root = workdir / f"data-{port}"
        root.mkdir()
        http = f"http:\n  addr: {addr}\n"
        if tls:
            http += f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n"
        cfg = workdir / f"registry-{port}.yml"
        cfg.write_text(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n"
            + http
            + extra_config
        )
        log = open(workdir / f"registry-{port}.log", "wb")  # noqa: SIM115 (lives with proc)
        proc = subprocess.Popen(
            [exe, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        scheme = "https" if tls else "http"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = requests.get(
                    f"{scheme}://{addr}/v2/", timeout=2, verify=str(ca_file) if ca_file else True
                )
                if r.status_code in (200, 401):
                    return Registry(addr, scheme, ca_file, proc=proc, workdir=workdir)
            except requests.RequestException:
                pass
            time.sleep(0.1)
        _stop(proc)
    service_unavailable("docker-registry")
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# PKI for the TLS registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_pki(folder: Path) -> Pki:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skrender test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


def bcrypt_hash(password: str) -> str:
    """An htpasswd bcrypt hash: the ``bcrypt`` package if installed, else libxcrypt's crypt."""
    try:
        import bcrypt

        return str(bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode())
    except ImportError:
        pass
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            service_unavailable("bcrypt hashing for htpasswd (pip install bcrypt)")
            raise
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32))
    if not hashed or not hashed.startswith("$2"):
        service_unavailable("bcrypt hashing for htpasswd (pip install bcrypt)")
    return str(hashed)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Anonymous HTTP registry on 127.0.0.1."""
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    _stop(reg.proc)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA and a 127.0.0.1 server certificate."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Registry]:
    """HTTPS registry (CA: ``.ca_file``) with htpasswd basic auth for USER / PASSWORD."""
    work = tmp_path_factory.mktemp("tls-registry")
    htpasswd = work / "htpasswd"
    htpasswd.write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
    auth = f"auth:\n  htpasswd:\n    realm: skrender-test\n    path: {htpasswd}\n"
    reg = start_registry(work, auth, tls=(pki.cert_file, pki.key_file), ca_file=pki.ca_file)
    reg.username, reg.password = USER, PASSWORD
    yield reg
    _stop(reg.proc)


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """HTTP registry with token auth; ``.token_server`` issues the tokens (USER / PASSWORD)."""
    work = tmp_path_factory.mktemp("token-registry")
    server = TokenServer(
        service="skrender-test-registry",
        issuer="skrender-test-issuer",
        users={USER: PASSWORD},
        refresh_tokens={"identity-token-for-" + USER: USER},
    )
    server.start()
    bundle = server.write_bundle(work / "token-signer.pem")
    auth = (
        "auth:\n  token:\n"
        f"    realm: {server.realm}\n    service: {server.service}\n"
        f"    issuer: {server.issuer}\n    rootcertbundle: {bundle}\n"
    )
    try:
        reg = start_registry(work, auth)
    except BaseException:
        server.stop()
        raise
    reg.username, reg.password, reg.token_server = USER, PASSWORD, server
    yield reg
    _stop(reg.proc)
    server.stop()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """A private ``dockerd`` (vfs, no iptables, no bridge); yields its ``DOCKER_HOST``."""
    exe = shutil.which(DOCKERD_BIN) or "/usr/sbin/dockerd"
    if not os.path.exists(exe):
        service_unavailable("dockerd")
    # A short path: unix socket paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="skr-dockerd-"))
    sock = root / "docker.sock"
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 (lives with proc)
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin:/usr/bin:/bin"
    env.pop("DOCKER_HOST", None)
    proc = subprocess.Popen(
        [
            exe,
            "--storage-driver=vfs",
            "--iptables=false",
            "--bridge=none",
            "-H",
            f"unix://{sock}",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    log.close()
    host = f"unix://{sock}"
    try:
        if not _wait_for_docker(host, proc, 60.0):
            _stop(proc, 20.0)
            service_unavailable(f"dockerd (log: {root / 'dockerd.log'})")
        yield host
    finally:
        _stop(proc, 20.0)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_docker(host: str, proc: subprocess.Popen[bytes], limit: float) -> bool:
    import docker

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(host[len("unix://") :]):
            try:
                client = docker.DockerClient(base_url=host, timeout=5)
                try:
                    if client.ping():
                        return True
                finally:
                    client.close()
            except Exception:
                pass
        time.sleep(0.25)
    return False


def docker_config(folder: Path, config: dict[str, Any]) -> Path:
    """Write ``config.json`` into ``folder`` (a DOCKER_CONFIG directory) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def basic_auth_entry(user: str, password: str) -> dict[str, str]:
    """An ``auths`` entry as ``docker login`` writes it."""
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
