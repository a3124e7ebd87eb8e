"""Deployer quirks that change render (runner/deployer.go GetDeployer).

A ``deploy.docker`` config drops ``--default-repo`` (runner/deployer.go GetDeployer replaces
the run context's Cluster, which carries the flag's value); the global config's default-repo
still applies (config.GetDefaultRepo reads it when the flag's value is unset)."""

from __future__ import annotations

from pathlib import Path

from engine.pipeline import RenderRequest, render

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: app\n"


def _render(tmp_path: Path, deploy: str, **kw: object) -> str:
    (tmp_path / "k8s").mkdir(exist_ok=True)
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta13\nkind: Config\nbuild:\n"
        "  tagPolicy: {envTemplate: {template: v1}}\n  artifacts:\n  - image: app\n"
        f"manifests:\n  rawYaml: [k8s/pod.yaml]\n{deploy}"
    )
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    request = RenderRequest(cwd=str(tmp_path), env=env, digest_source="tag", **kw)  # type: ignore[arg-type]
    return render(request).text


def test_docker_deployer_ignores_the_flag(tmp_path: Path) -> None:
    kubectl = "deploy:\n  kubectl: {}\n"
    docker = "deploy:\n  docker: {images: [app]}\n"
    assert "image: flag.example/app:v1\n" in _render(tmp_path, kubectl, default_repo="flag.example")
    assert "image: app:v1\n" in _render(tmp_path, docker, default_repo="flag.example")


def test_docker_deployer_keeps_the_global_default_repo(tmp_path: Path) -> None:
    (tmp_path / "home" / ".skaffold").mkdir(parents=True)
    (tmp_path / "home" / ".skaffold" / "config").write_text("global:\n  default-repo: g.example\n")
    docker = "deploy:\n  docker: {images: [app]}\n"
    assert "image: g.example/app:v1\n" in _render(tmp_path, docker, default_repo="flag.example")


def test_kpt_deployer_after_another_deployer_is_refused(tmp_path: Path) -> None:
    import pytest

    from engine.core.errors import ConfigError

    with pytest.raises(ConfigError, match="kpt deployer mixed in with other deployers"):
        _render(tmp_path, "deploy:\n  kubectl: {}\n  kpt: {}\n")
    assert "image: app:v1\n" in _render(tmp_path, "deploy:\n  kpt: {}\n")
