"""Base-image configs for inputDigest: a real registry and a real Docker engine.

skaffold reads a ``FROM`` image's config from the Docker engine when it has the image, else
from the registry (``linux/amd64`` out of an index); the ``ONBUILD`` triggers in it add the
files they copy to the artifact's dependencies (``pkg/skaffold/docker/parse.go``).  Expected
tags follow input_digest.go's documented hashing (see tests/stages/test_builddeps.py).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
from fixtures_registry import (
    MT_DOCKER_CONFIG,
    MT_DOCKER_LAYER,
    MT_DOCKER_LIST,
    MT_DOCKER_MANIFEST,
    Registry,
    canonical_json,
    sha,
)

from engine.registry import imageconfig
from engine.skaffold.schema import Artifact, Config, DockerArtifact, TagPolicy
from engine.stages import tagging

pytestmark = pytest.mark.integration


def _layer(text: str) -> tuple[bytes, str]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = text.encode()
        info = tarfile.TarInfo("marker.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha(tar_bytes)


def _push(registry: Registry, repo: str, tag: str, config: dict[str, Any],
          arch: str = "amd64") -> tuple[bytes, str]:  # fmt: skip
    """Push one image whose config holds ``config``; return (manifest, its digest)."""
    layer, diff_id = _layer(json.dumps(config))
    document = {
        "architecture": arch,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    blob = canonical_json(document)
    registry.push_blob(repo, sha(blob), blob)
    registry.push_blob(repo, sha(layer), layer)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_DOCKER_MANIFEST,
            "config": {"mediaType": MT_DOCKER_CONFIG, "size": len(blob), "digest": sha(blob)},
            "layers": [{"mediaType": MT_DOCKER_LAYER, "size": len(layer), "digest": sha(layer)}],
        }
    )
    return manifest, registry.push_manifest(repo, tag, manifest, MT_DOCKER_MANIFEST)


def _env(tmp_path: Path, docker_host: str = "") -> dict[str, str]:
    env = {"HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return env


def _digest(cwd: Path, context: str, paths: list[str]) -> str:
    hashes = []
    for path in sorted(paths):
        full = cwd / path
        if not os.path.lexists(full):
            continue
        h = hashlib.md5(usedforsecurity=False)
        h.update(os.path.relpath(full, cwd / context).encode())
        if stat.S_ISREG(os.lstat(full).st_mode):
            h.update(full.read_bytes())
        hashes.append(h.hexdigest())
    return hashlib.sha256((json.dumps(hashes, separators=(",", ":")) + "\n").encode()).hexdigest()


def _project(tmp_path: Path, base: str) -> Path:
    app = tmp_path / "proj" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text(f"FROM {base}\nCOPY main.txt /\n")
    for name in ("main.txt", "onbuild.txt", "arm.txt", "amd.txt"):
        (app / name).write_text(name)
    return tmp_path / "proj"


def _tag(cwd: Path, env: dict[str, str], lookup: Any) -> str:
    art = Artifact(image="img", context="app", docker=DockerArtifact())
    cfg = Config("/x/skaffold.yaml", 0, True, artifacts=(art,), tag_policy=TagPolicy("inputDigest"))
    [(_, ref)] = tagging.image_tags([cfg], cwd=str(cwd), env=env, image_config=lookup)
    return ref


def test_onbuild_from_the_registry(tmp_path: Path, registry: Registry) -> None:
    _push(registry, "cfg/base", "1", {"OnBuild": ["COPY onbuild.txt /o/"], "WorkingDir": "/w"})
    base = registry.ref("cfg/base:1")
    root = _project(tmp_path, base)
    env = _env(tmp_path)
    lookup = imageconfig.lookup(env=env)
    assert lookup(base)["OnBuild"] == ["COPY onbuild.txt /o/"]
    expected = _digest(root, "app", ["app/Dockerfile", "app/main.txt", "app/onbuild.txt",
                                     "Dockerfile"])  # fmt: skip
    assert _tag(root, env, lookup) == f"img:{expected}"
    # no look-up, or an image the registry does not have: skaffold's fall-back tag
    assert _tag(root, env, None) == "img:latest"
    (root / "app" / "Dockerfile").write_text(f"FROM {registry.ref('cfg/nothing:1')}\n")
    assert _tag(root, env, imageconfig.lookup(env=env)) == "img:latest"


def test_index_gives_the_linux_amd64_config(tmp_path: Path, registry: Registry) -> None:
    entries = []
    for arch, file in (("arm64", "arm.txt"), ("amd64", "amd.txt")):
        config = {"OnBuild": [f"ADD {file} /"]}
        manifest, digest = _push(registry, "cfg/multi", f"one-{arch}", config, arch)
        entries.append({"mediaType": MT_DOCKER_MANIFEST, "size": len(manifest), "digest": digest,
                        "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
    index = canonical_json({"schemaVersion": 2, "mediaType": MT_DOCKER_LIST, "manifests": entries})
    registry.push_manifest("cfg/multi", "2", index, MT_DOCKER_LIST)
    base = registry.ref("cfg/multi:2")
    root = _project(tmp_path, base)
    env = _env(tmp_path)
    expected = _digest(root, "app", ["app/Dockerfile", "app/main.txt", "app/amd.txt",
                                     "Dockerfile"])  # fmt: skip
    assert _tag(root, env, imageconfig.lookup(env=env)) == f"img:{expected}"


def test_the_engine_copy_wins(tmp_path: Path, registry: Registry, docker_engine: str) -> None:
    import docker

    _push(registry, "cfg/local", "3", {"OnBuild": ["COPY onbuild.txt /"]})
    base = registry.ref("cfg/local:3")
    client = docker.DockerClient(base_url=docker_engine, timeout=60)
    try:
        client.images.pull(base)
    finally:
        client.close()
    # The registry's tag moves on; the engine still has the image it pulled.
    _push(registry, "cfg/local", "3", {"OnBuild": ["COPY arm.txt /"]})
    root = _project(tmp_path, base)
    with_engine = _env(tmp_path, docker_engine)
    assert imageconfig.lookup(env=with_engine)(base)["OnBuild"] == ["COPY onbuild.txt /"]
    expected = _digest(root, "app", ["app/Dockerfile", "app/main.txt", "app/onbuild.txt",
                                     "Dockerfile"])  # fmt: skip
    assert _tag(root, with_engine, imageconfig.lookup(env=with_engine)) == f"img:{expected}"
    no_engine = _env(tmp_path, "unix:///nonexistent/docker.sock")
    assert imageconfig.lookup(env=no_engine)(base)["OnBuild"] == ["COPY arm.txt /"]


def test_private_base_image_with_docker_credentials(
    tmp_path: Path, token_registry: Registry
) -> None:
    from fixtures_registry import PASSWORD, USER, basic_auth_entry, docker_config

    _push(token_registry, "private/base", "1", {"OnBuild": ["COPY onbuild.txt /"]})
    base = token_registry.ref("private/base:1")
    env = _env(tmp_path, "unix:///nonexistent/docker.sock")
    with pytest.raises(imageconfig.ImageConfigError, match="HTTP 401"):
        imageconfig.lookup(env=env)(base)
    auths = {"auths": {token_registry.addr: basic_auth_entry(USER, PASSWORD)}}
    env["DOCKER_CONFIG"] = str(docker_config(tmp_path / "docker", auths))
    assert imageconfig.lookup(env=env)(base)["OnBuild"] == ["COPY onbuild.txt /"]
    assert imageconfig.platforms_lookup(env=env)(base) == [("linux", "amd64", "")]
