"""`--digest-source=local` with a custom builder (buildCommand): real dockerd, docker CLI,
registry and git.  skaffold runs the command through ``sh -c`` in the context with IMAGE,
PUSH_IMAGE, BUILD_CONTEXT, IMAGE_REPO, IMAGE_TAG and the required images set, then renders
``tag@<digest in the registry>`` when pushing, else ``name:<image ID>`` (build/custom,
build/local/local.go)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures_registry import Registry
from test_build import _env, _git, _registry_digest, _skrender

pytestmark = pytest.mark.integration

BUILD_SH = """#!/bin/sh
set -e
printf '%s\\n' "$IMAGE" "$PUSH_IMAGE" "$BUILD_CONTEXT" "$IMAGE_REPO" "$IMAGE_TAG" "$BASE" > seen.txt
DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" . >/dev/null
if [ "$PUSH_IMAGE" = true ]; then docker push -q "$IMAGE" >/dev/null; fi
"""


def _custom_project(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, push: bool
) -> Path:
    repo = tmp_path / "repo"
    (repo / "app" / "k8s").mkdir(parents=True)
    (repo / "app" / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
    (repo / "app" / "hello.txt").write_text("hello\n")
    (repo / "app" / "build.sh").write_text(BUILD_SH)
    (repo / "app" / "build.sh").chmod(0o755)
    (repo / ".gitignore").write_text("seen.txt\n")
    image = registry.ref("custom-app")
    (repo / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n"
        f"  local: {{push: {str(push).lower()}}}\n"
        "  tagPolicy: {envTemplate: {template: v1}}\n"
        f"  artifacts:\n  - image: {image}\n    context: app\n"
        "    custom: {buildCommand: ./build.sh}\n"
        "manifests:\n  rawYaml: [app/k8s/pod.yaml]\n"
    )
    (repo / "app" / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
        f"spec:\n  containers:\n  - name: main\n    image: {image}\n"
    )
    _git(repo, git_env, "init", "-q", "-b", "main")
    _git(repo, git_env, "add", "-A")
    _git(repo, git_env, "commit", "-q", "-m", "init")
    return repo


@pytest.mark.skipif(shutil.which("docker") is None, reason="the build script uses the docker CLI")
@pytest.mark.parametrize("push", [True, False])
def test_custom_build_command(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str, push: bool
) -> None:
    repo = _custom_project(tmp_path, git_env, registry, push)
    env = _env(git_env, docker_engine)
    env["BASE"] = "from the environment"
    done = _skrender(repo, env, "render", "--digest-source=local")
    assert done.returncode == 0, done.stderr
    image = registry.ref("custom-app")
    seen = (repo / "app" / "seen.txt").read_text().splitlines()
    assert seen == [
        f"{image}:v1",
        str(push).lower(),
        str(repo / "app"),
        image,
        "v1",
        "from the environment",
    ]
    if push:
        digest = _registry_digest(registry, "custom-app", "v1")
        assert digest is not None
        assert f"image: {image}:v1@{digest}\n" in done.stdout
    else:
        import docker

        client = docker.DockerClient(base_url=docker_engine)
        try:
            image_id = str(client.images.get(f"{image}:v1").id).removeprefix("sha256:")
        finally:
            client.close()
        assert f"image: {image}:{image_id}\n" in done.stdout


def test_custom_build_that_makes_no_image(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _custom_project(tmp_path, git_env, registry, False)
    (repo / "app" / "build.sh").write_text("#!/bin/sh\nexit 0\n")
    (repo / "skaffold.yaml").write_text(
        (repo / "skaffold.yaml").read_text().replace("custom-app", "custom-none")
    )
    done = _skrender(repo, _env(git_env, docker_engine), "render", "--digest-source=local")
    assert done.returncode != 0
    assert "the custom script didn't produce an image with tag" in done.stderr
    (repo / "app" / "build.sh").write_text("#!/bin/sh\nexit 3\n")
    done = _skrender(repo, _env(git_env, docker_engine), "render", "--digest-source=local")
    assert done.returncode != 0
    assert "building custom artifact: exit status 3" in done.stderr
