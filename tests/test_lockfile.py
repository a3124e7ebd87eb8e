"""Lock files: `skrender tags --digests --format build-artifacts`, then `render -a` from it.

The lock file is skaffold's ``build --file-output`` JSON with ``tag@digest`` references.
Rendering from it with ``--digest-source=tag`` (or ``none``) must not touch the network at
all: every render here runs in a child process whose ``sitecustomize`` installs an audit hook
(``socket.connect`` / ``socket.getaddrinfo``) that logs each attempt and, when asked, refuses
it.  The same render with ``--digest-source=remote`` does connect, which shows the probe works.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fixtures_registry import Registry, build_image

from engine.core.errors import DigestError
from engine.registry.resolve import resolve_digests
from engine.stages.naming import build_output_json, parse_build_artifacts

ROOT = Path(__file__).resolve().parent.parent
SKAFFOLD_LINE = "failed to resolve the digest of {}: does the image exist remotely?"

SITECUSTOMIZE = """\
import os
import sys

_LOG = os.environ["SKR_NET_LOG"]
_REFUSE = os.environ.get("SKR_NET_REFUSE") == "1"


def _audit(event, args):
    if event not in ("socket.connect", "socket.getaddrinfo"):
        return
    where = args[1] if event == "socket.connect" else args[:2]
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{event} {where!r}\\n")
    if _REFUSE:
        raise OSError(f"network access refused by the test: {event} {where!r}")


sys.addaudithook(_audit)
"""

SKAFFOLD_YAML = """\
apiVersion: skaffold/v4beta14
kind: Config
build:
  tagPolicy:
    envTemplate:
      template: "{{.RELEASE}}"
  artifacts:
  - image: lockapp
  - image: lockworker
    runtimeType: go
manifests:
  rawYaml:
  - k8s/*.yaml
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
      - name: {name}
        image: lock{name}
"""


# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two artifacts (one with a runtimeType), rawYaml manifests, envTemplate tags."""
    root = tmp_path / "project"
    (root / "k8s").mkdir(parents=True)
    (root / "skaffold.yaml").write_text(SKAFFOLD_YAML)
    for name in ("app", "worker"):
        (root / "k8s" / f"{name}.yaml").write_text(DEPLOYMENT.format(name=name))
    return root


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    """A directory holding the network-auditing ``sitecustomize.py``."""
    folder = tmp_path / "netprobe"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder


def skrender(
    args: list[str],
    cwd: Path,
    probe: Path,
    *,
    release: str,
    refuse: bool = False,
    extra: dict[str, str] | None = None,
    stdin: bytes = b"",
) -> tuple[subprocess.CompletedProcess[bytes], list[str]]:
    """Run ``python -m engine ARGS`` with the network probe; returns the run and its log."""
    log = probe / f"net-{len(list(probe.glob('net-*.log')))}.log"
    log.touch()
    home = cwd.parent / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(probe), str(ROOT)]),
        "SKR_NET_LOG": str(log),
        "SKR_NET_REFUSE": "1" if refuse else "0",
        "RELEASE": release,
        "LANG": "C.UTF-8",
        "SKAFFOLD_DIGEST_RESOLVER": "registry",  # no Docker engine: the registry API
    }
    env.update(extra or {})
    done = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    return done, log.read_text().splitlines()


def lock(project: Path, probe: Path, registry: Registry, release: str) -> tuple[bytes, list[str]]:
    """``skrender tags --digests --format build-artifacts`` for ``release``: the lock file."""
    done, net = skrender(
        ["tags", "--digests", "--format", "build-artifacts", "-d", registry.addr, "--offline"],
        project,
        probe,
        release=release,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout, net


# ---- format ------------------------------------------------------------------------------


def test_build_output_json_is_skaffolds_template_output() -> None:
    # cmd/skaffold/app/flags/template.go: encoder without HTML escaping, newline trimmed.
    builds = [("app", "r.io/app:v1@sha256:" + "a" * 64), ("w<&>", "w:v1")]
    assert build_output_json(builds, {"app": "go"}) == (
        '{"builds":[{"imageName":"app","tag":"r.io/app:v1@sha256:' + "a" * 64 + '",'
        '"runtimeType":"go"},{"imageName":"w<&>","tag":"w:v1"}]}'
    )
    assert build_output_json([]) == '{"builds":null}'
    go_escaped = '{"builds":[{"imageName":"\\u2028é","tag":"x"}]}'
    assert build_output_json([("\u2028é", "x")]) == go_escaped
    assert parse_build_artifacts(build_output_json(builds), "f.json") == builds


# ---- round trip against a real registry ---------------------------------------------------


def test_lock_file_round_trip(
    project: Path, probe: Path, registry: Registry, tmp_path: Path
) -> None:
    app = registry.push_image("lockapp:r1")
    worker = registry.push_image("lockworker:r1", platforms=["linux/amd64", "linux/arm64"])
    text, net = lock(project, probe, registry, "r1")
    app_ref = f"{registry.addr}/lockapp:r1@{app}"
    worker_ref = f"{registry.addr}/lockworker:r1@{worker}"
    assert text.decode() == (
        f'{{"builds":[{{"imageName":"lockapp","tag":"{app_ref}"}},'
        f'{{"imageName":"lockworker","tag":"{worker_ref}","runtimeType":"go"}}]}}'
    )
    assert any(registry.addr.split(":")[1] in line for line in net), net  # it did ask
    lock_file = tmp_path / "images.json"
    lock_file.write_bytes(text)

    # Re-rendering from the lock file: no network at all, digests as locked.
    hermetic, net = skrender(
        ["render", "-a", str(lock_file), "--digest-source=tag", "--offline"],
        project,
        probe,
        release="ignored",
        refuse=True,
    )
    assert hermetic.returncode == 0, hermetic.stderr.decode()
    assert net == []
    rendered = hermetic.stdout.decode()
    assert f"image: {app_ref}\n" in rendered and f"image: {worker_ref}\n" in rendered

    # `-a -` reads the lock file from stdin (flags/build_output.go): `tags | render -a -`.
    piped, net = skrender(
        ["render", "-a", "-", "--digest-source=tag", "--offline"],
        project,
        probe,
        release="ignored",
        refuse=True,
        stdin=text,
    )
    assert piped.returncode == 0, piped.stderr.decode()
    assert net == [] and piped.stdout == hermetic.stdout

    # ...and exactly what a render straight from the registry gives.
    direct, _ = skrender(
        ["render", "-d", registry.addr, "--digest-source=remote", "--offline"],
        project,
        probe,
        release="r1",
    )
    assert direct.returncode == 0, direct.stderr.decode()
    assert direct.stdout == hermetic.stdout


def test_render_from_lock_file_makes_no_connection(
    project: Path, probe: Path, registry: Registry, tmp_path: Path
) -> None:
    registry.push_image("lockapp:r2")
    registry.push_image("lockworker:r2")
    lock_file = tmp_path / "images.json"
    lock_file.write_bytes(lock(project, probe, registry, "r2")[0])
    base = ["render", "-a", str(lock_file), "--offline"]
    for source in ("tag", "none"):
        done, net = skrender([*base, f"--digest-source={source}"], project, probe, release="x")
        assert done.returncode == 0, (source, done.stderr.decode())
        assert net == [], source
    # The probe sees connections when there are some: the check above can fail.
    done, net = skrender([*base, "--digest-source=remote"], project, probe, release="x")
    assert done.returncode == 0, done.stderr.decode()
    port = registry.addr.split(":")[1]
    assert any(line.startswith("socket.connect") and port in line for line in net), net
    # And a refused connection really fails the render.
    refused, _ = skrender(
        [*base, "--digest-source=remote"], project, probe, release="x", refuse=True
    )
    assert refused.returncode == 1
    first = refused.stderr.decode().splitlines()[0]
    assert first.startswith(f"failed to resolve the digest of {registry.addr}/lockapp:r2@")
    assert first.endswith(": does the image exist remotely?")


def test_remote_with_lock_file_keeps_the_pinned_digest_when_the_tag_moves(
    project: Path, probe: Path, registry: Registry, tmp_path: Path
) -> None:
    old_app = registry.push_image("lockapp:r3")
    registry.push_image("lockworker:r3")
    lock_file = tmp_path / "images.json"
    lock_file.write_bytes(lock(project, probe, registry, "r3")[0])
    # The tag now points at another image; the locked digest is still in the registry.
    manifest, media_type, blobs = build_image("something else entirely")
    for digest, blob in blobs.items():
        registry.push_blob("lockapp", digest, blob)
    new_app = registry.push_manifest("lockapp", "r3", manifest, media_type)
    assert new_app != old_app
    args = ["render", "-a", str(lock_file), "--offline"]
    # skaffold (runner/render.go, docker/remote.go) fetches `tag@digest` by its digest and
    # keeps the reference when the digest matches (build.TagWithDigest): no second digest.
    for source in ("tag", "remote"):
        done, _ = skrender([*args, f"--digest-source={source}"], project, probe, release="x")
        assert done.returncode == 0, done.stderr.decode()
        text = done.stdout.decode()
        assert f"image: {registry.addr}/lockapp:r3@{old_app}\n" in text, text
        assert new_app not in text and text.count("@sha256:") == 2


def test_remote_with_lock_file_fails_when_the_locked_digest_is_gone(
    project: Path, probe: Path, registry: Registry, tmp_path: Path
) -> None:
    registry.push_image("lockapp:r4")
    registry.push_image("lockworker:r4")
    text = lock(project, probe, registry, "r4")[0].decode()
    gone = "sha256:" + "0" * 64
    entries = json.loads(text)["builds"]
    entries[0]["tag"] = entries[0]["tag"].split("@")[0] + "@" + gone
    lock_file = tmp_path / "images.json"
    lock_file.write_text(json.dumps({"builds": entries}))
    args = ["render", "-a", str(lock_file), "--offline"]
    done, _ = skrender([*args, "--digest-source=remote"], project, probe, release="x")
    assert done.returncode == 1
    first = done.stderr.decode().splitlines()[0]
    assert first == SKAFFOLD_LINE.format(f"{registry.addr}/lockapp:r4@{gone}")
    # With --digest-source=tag the lock file is trusted as written (no registry involved).
    done, net = skrender([*args, "--digest-source=tag"], project, probe, release="x", refuse=True)
    assert done.returncode == 0 and net == []
    assert f"@{gone}\n" in done.stdout.decode()


@pytest.mark.parametrize("resolver", ["registry", "docker"])
def test_pinned_reference_resolves_to_its_own_digest(
    resolver: str, registry: Registry, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    if resolver == "docker":
        env["DOCKER_HOST"] = request.getfixturevalue("docker_engine")
    digest = registry.push_image("lock/pinned:v1")
    manifest, media_type, blobs = build_image("lock/pinned moved")
    for blob_digest, blob in blobs.items():
        registry.push_blob("lock/pinned", blob_digest, blob)
    registry.push_manifest("lock/pinned", "v1", manifest, media_type)  # the tag moves
    pinned = registry.ref(f"lock/pinned:v1@{digest}")
    assert resolve_digests([pinned], resolver=resolver, env=env) == {pinned: digest}


# ---- a registry that answers with the wrong manifest -------------------------------------


@pytest.fixture
def lying_registry() -> Iterator[str]:
    """An HTTP server answering every manifest request with one fixed digest."""
    wrong = "sha256:" + "e" * 64

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(b"{}")

        def do_HEAD(self) -> None:
            self._answer(b"")

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Docker-Content-Digest", wrong)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_different_digest_for_a_pinned_reference_is_an_error(
    lying_registry: str, tmp_path: Path
) -> None:
    pinned = f"{lying_registry}/app:v1@sha256:" + "1" * 64
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    # An unpinned tag gets the digest of the body, never the header's word: here they differ.
    plain = f"{lying_registry}/app:v1"
    body_digest = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    with pytest.raises(DigestError) as told:
        resolve_digests([plain], resolver="registry", env=env)
    assert body_digest in str(told.value) and "sha256:" + "e" * 64 in str(told.value)
    # A pinned one must come back with its own digest (go-containerregistry fetcher.go).
    with pytest.raises(DigestError) as info:
        resolve_digests([pinned], resolver="registry", env=env)
    lines = str(info.value).splitlines()
    assert lines[0] == SKAFFOLD_LINE.format(pinned)
    assert "pinned digest sha256:" + "1" * 64 in lines[1]
