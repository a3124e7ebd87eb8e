"""engine.build and `skrender build`: real Docker engine, real registry, real git."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from fixtures_registry import MT_DOCKER_MANIFEST, MT_OCI_MANIFEST, Registry

from engine import build
from engine.core.errors import BuildError
from engine.skaffold.schema import Artifact, Config, LocalBuild, TagPolicy

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- units


def test_build_output_json_is_skaffolds_template_json() -> None:
    text = build.build_output_json([("app", "r/app:v1@sha256:ab"), ("b<&>", "b:1")])
    assert text == (
        '{"builds":[{"imageName":"app","tag":"r/app:v1@sha256:ab"},'
        '{"imageName":"b<&>","tag":"b:1"}]}'  # no HTML escaping, as skaffold's {{json .}}
    )
    assert build.build_output_json([]) == '{"builds":null}'


def test_build_output_json_runtime_type() -> None:
    cfg = Config(
        "/x/skaffold.yaml", 0, True, artifacts=(Artifact("app", raw={"runtimeType": "go"}),)
    )
    text = build.build_output_json([("app", "app:1")], [cfg])
    assert json.loads(text) == {
        "builds": [{"imageName": "app", "tag": "app:1", "runtimeType": "go"}]
    }


def test_unsupported_builder_is_refused() -> None:
    with pytest.raises(BuildError, match=r'image "j" uses the jib builder.*skrender.*pass -a'):
        build.check_supported([Artifact("a"), Artifact("j", builder="jib")])


@pytest.mark.parametrize(
    ("kind", "options", "tag", "expected"),
    [
        ("inputDigest", {}, "app:" + "a" * 64, True),
        ("inputDigest", {}, "app:latest", False),
        ("gitCommit", {"variant": "TreeSha"}, "app:" + "b" * 40, True),
        ("gitCommit", {"variant": "AbbrevTreeSha"}, "app:abc1234-dirty", False),
        ("gitCommit", {}, "app:v1.0", False),
        ("envTemplate", {"template": "x"}, "app:x", False),
    ],
)
def test_content_derived_tags(kind: str, options: dict[str, str], tag: str, expected: bool) -> None:
    cfg = Config("/x/skaffold.yaml", 0, True, tag_policy=TagPolicy(kind, options))
    assert build.is_content_tag(tag, cfg, None) is expected
    assert build.is_content_tag(tag, cfg, "custom") is False


def test_env_tags_follow_skaffold_reference_parsing() -> None:
    assert build.env_tags("127.0.0.1:5000/team/app:v1") == {
        "IMAGE_REPO": "127.0.0.1:5000/team",
        "IMAGE_NAME": "app",
        "IMAGE_TAG": "v1",
    }
    # skaffold sets repo and name only for names with a slash; no tag means latest
    assert build.env_tags("app") == {"IMAGE_REPO": "", "IMAGE_NAME": "", "IMAGE_TAG": "latest"}


def test_concurrency_is_the_smallest_set_value() -> None:
    def cfg(n: int | None) -> Config:
        return Config("/x", 0, True, local=LocalBuild(concurrency=n))

    assert build._concurrency([cfg(None)]) == 1
    assert build._concurrency([cfg(0), cfg(3)]) == 3
    assert build._concurrency([cfg(4), cfg(2), cfg(0)]) == 2


# ---------------------------------------------------------------- a project in a git repo


def _git(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _project(
    tmp_path: Path,
    git_env: dict[str, str],
    registry: Registry,
    name: str,
    *,
    dockerfile: str = "FROM scratch\nCOPY hello.txt /\n",
    tag_policy: str = "gitCommit: {}",
    docker: str = "",
) -> Path:
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / "Dockerfile").write_text(dockerfile)
    (repo / "hello.txt").write_text(f"hello from {name}\n")
    image = registry.ref(name)
    docker_block = f"    docker:\n{docker}" if docker else ""
    (repo / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n"
        f"  tagPolicy:\n    {tag_policy}\n"
        f"  artifacts:\n  - image: {image}\n{docker_block}"
        "manifests:\n  rawYaml:\n  - k8s/pod.yaml\n"
    )
    (repo / "k8s" / "pod.yaml").write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
        f"spec:\n  containers:\n  - name: main\n    image: {image}\n"
    )
    _git(repo, git_env, "init", "-q", "-b", "main")
    _git(repo, git_env, "add", "-A")
    _git(repo, git_env, "commit", "-q", "-m", "init")
    return repo


def _env(git_env: dict[str, str], docker_host: str) -> dict[str, str]:
    env = dict(git_env)
    env["DOCKER_HOST"] = docker_host
    env["PYTHONPATH"] = str(ROOT)
    return env


def _skrender(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _registry_digest(registry: Registry, name: str, tag: str) -> str | None:
    resp = requests.get(
        f"{registry.base}/v2/{name}/manifests/{tag}",
        headers={"Accept": f"{MT_DOCKER_MANIFEST},{MT_OCI_MANIFEST}"},
        timeout=30,
    )
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return str(resp.headers["Docker-Content-Digest"])


def test_unsupported_builder_cli(tmp_path: Path, git_env: dict[str, str]) -> None:
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n"
        "  - image: app\n    jib: {}\nmanifests:\n  rawYaml: []\n"
    )
    (tmp_path / "k8s").mkdir()
    done = _skrender(tmp_path, _env(git_env, "unix:///nonexistent.sock"), "build")
    assert done.returncode == 1
    assert "jib builder, which is not supported by skrender" in done.stderr
    assert done.stdout == ""


def test_build_pushes_and_render_matches(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _project(tmp_path, git_env, registry, "svc-push")
    env = _env(git_env, docker_engine)
    out = tmp_path / "build.json"  # outside the repo: an untracked file would make it -dirty
    done = _skrender(repo, env, "build", "--file-output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "Building [" in done.stderr and "succeeded" in done.stderr
    assert "Step 1/" not in done.stderr  # the engine's log only with --loud
    builds = json.loads(out.read_text())["builds"]
    assert len(builds) == 1 and builds[0]["imageName"] == registry.ref("svc-push")
    ref = builds[0]["tag"]
    tagged, digest = ref.split("@")
    tag = tagged.rsplit(":", 1)[1]
    assert tagged == f"{registry.ref('svc-push')}:{tag}"
    assert _registry_digest(registry, "svc-push", tag) == digest

    rendered_a = _skrender(repo, env, "render", "-a", str(out))
    assert rendered_a.returncode == 0, rendered_a.stderr
    assert f"image: {ref}\n" in rendered_a.stdout
    rendered_local = _skrender(repo, env, "render", "--digest-source=local")
    assert rendered_local.returncode == 0, rendered_local.stderr
    assert rendered_local.stdout == rendered_a.stdout


def test_render_local_library_matches_build_output(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    from engine.pipeline import RenderRequest, render

    repo = _project(tmp_path, git_env, registry, "svc-lib", tag_policy="inputDigest: {}")
    env = _env(git_env, docker_engine)
    result = render(
        RenderRequest(
            cwd=str(repo), env=env, digest_source="local", build_images=build.build_images
        )
    )
    ((name, ref),) = result.builds
    assert name == registry.ref("svc-lib")
    tag, digest = ref.split("@")
    assert _registry_digest(registry, "svc-lib", tag.rsplit(":", 1)[1]) == digest
    assert f"image: {ref}\n" in result.text


def test_cache_skips_content_tag_already_pushed(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _project(tmp_path, git_env, registry, "svc-cache", tag_policy="inputDigest: {}")
    env = _env(git_env, docker_engine)
    first = _skrender(repo, env, "build", "-q")
    assert first.returncode == 0, first.stderr
    assert "Not found. Building" in first.stderr
    second = _skrender(repo, env, "build", "-q")
    assert second.returncode == 0, second.stderr
    assert "Found Remotely" in second.stderr and "Building [" not in second.stderr
    assert second.stdout == first.stdout
    third = _skrender(repo, env, "build", "-q", "--cache-artifacts=false")
    assert third.returncode == 0, third.stderr
    assert "Building [" in third.stderr


def test_not_pushed_uses_image_id(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    import docker

    repo = _project(
        tmp_path,
        git_env,
        registry,
        "svc-local",
        dockerfile="FROM scratch\nARG VERSION\nCOPY hello.txt /\nLABEL version=$VERSION\n",
        tag_policy="envTemplate:\n      template: v7",
        docker='      buildArgs:\n        VERSION: "{{.IMAGE_TAG}}-{{.IMAGE_NAME}}"\n',
    )
    env = _env(git_env, docker_engine)
    done = _skrender(repo, env, "build", "--push=false", "-q", "--loud")
    assert done.returncode == 0, done.stderr
    assert "Step 1/" in done.stderr
    (entry,) = json.loads(done.stdout)["builds"]
    base, image_hex = entry["tag"].rsplit(":", 1)
    assert base == registry.ref("svc-local") and len(image_hex) == 64
    assert _registry_digest(registry, "svc-local", "v7") is None  # nothing pushed
    client = docker.APIClient(base_url=docker_engine, version="auto")
    try:
        attrs = client.inspect_image(entry["tag"])
    finally:
        client.close()
    assert attrs["Id"] == "sha256:" + image_hex
    assert attrs["Config"]["Labels"] == {"version": "v7-svc-local"}


def test_failed_build_names_artifact_and_step(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _project(
        tmp_path,
        git_env,
        registry,
        "svc-fail",
        dockerfile="FROM scratch\nCOPY hello.txt /\nRUN true\n",
    )
    done = _skrender(repo, _env(git_env, docker_engine), "build", "--file-output", "out.json")
    assert done.returncode == 1
    assert f"build [{registry.ref('svc-fail')}] failed" in done.stderr
    assert "(at Step 3/3 : RUN true)" in done.stderr
    assert not (repo / "out.json").exists()
    assert done.stdout == ""


def test_missing_copy_source_fails_before_the_engine(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _project(
        tmp_path, git_env, registry, "svc-nosrc", dockerfile="FROM scratch\nCOPY missing.txt /\n"
    )
    done = _skrender(repo, _env(git_env, docker_engine), "build")
    assert done.returncode == 1
    assert f"build [{registry.ref('svc-nosrc')}] failed: getting dependencies" in done.stderr
    assert "missing.txt" in done.stderr


def test_no_engine_is_a_clear_error(
    tmp_path: Path, git_env: dict[str, str], registry: Registry
) -> None:
    repo = _project(tmp_path, git_env, registry, "svc-noengine")
    done = _skrender(repo, _env(git_env, f"unix://{tmp_path}/none.sock"), "build")
    assert done.returncode == 1
    assert "cannot connect to the Docker engine" in done.stderr


def test_required_artifact_is_built_first(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "app").mkdir()
    (repo / "base" / "Dockerfile").write_text("FROM scratch\nCOPY b.txt /\n")
    (repo / "base" / "b.txt").write_text("base\n")
    (repo / "app" / "Dockerfile").write_text("ARG BASE\nFROM $BASE\nCOPY a.txt /\n")
    (repo / "app" / "a.txt").write_text("app\n")
    base, app = registry.ref("req-base"), registry.ref("req-app")
    (repo / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n"
        "  tagPolicy:\n    envTemplate:\n      template: r1\n"
        f"  artifacts:\n  - image: {app}\n    context: app\n"
        f"    requires:\n    - image: {base}\n      alias: BASE\n"
        f"  - image: {base}\n    context: base\nmanifests:\n  rawYaml: []\n"
    )
    env = _env(git_env, docker_engine)
    done = _skrender(repo, env, "build", "-q")
    assert done.returncode == 0, done.stderr
    builds = json.loads(done.stdout)["builds"]
    assert [b["imageName"] for b in builds] == [app, base]  # artifact order, not build order
    assert done.stderr.index(f"Building [{base}]") < done.stderr.index(f"Building [{app}]")
    for entry in builds:
        tag, digest = entry["tag"].split("@")
        assert _registry_digest(registry, tag.split("/", 1)[1].split(":")[0], "r1") == digest


def test_local_cluster_does_not_push_by_default(
    tmp_path: Path, git_env: dict[str, str], registry: Registry, docker_engine: str
) -> None:
    repo = _project(tmp_path, git_env, registry, "svc-kind", tag_policy="inputDigest: {}")
    kube = Path(git_env["HOME"]) / ".kube"
    kube.mkdir()
    (kube / "config").write_text("apiVersion: v1\nkind: Config\ncurrent-context: kind-test\n")
    env = _env(git_env, docker_engine)
    done = _skrender(repo, env, "build", "-q")
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(done.stdout)["builds"]
    assert "@" not in entry["tag"] and len(entry["tag"].rsplit(":", 1)[1]) == 64
    pushed = _skrender(repo, env, "build", "-q", "--push")
    assert pushed.returncode == 0, pushed.stderr
    assert "@sha256:" in json.loads(pushed.stdout)["builds"][0]["tag"]


def test_cache_from_own_image_means_its_new_tag() -> None:
    from engine.pipeline import RenderRequest
    from engine.skaffold.schema import DockerArtifact

    art = Artifact("app", docker=DockerArtifact(cache_from=("app", "other:1")))
    job = build._Job(Config("/x", 0, True), art, "r/app:v2", push=True)
    run = build._Run(build.BuildOptions(), "/", {}, RenderRequest(), ())
    assert build._cache_from(run, job) == ["r/app:v2", "other:1"]
    run.env["SKAFFOLD_DISABLE_DOCKER_CACHE_ADJUSTMENT"] = "1"
    assert build._cache_from(run, job) == ["app", "other:1"]
