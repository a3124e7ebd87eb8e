"""Upgrade steps that move fields, each as a small before/after pair."""

from __future__ import annotations

import pytest

from engine.core.errors import ConfigError
from engine.skaffold.upgrade import LATEST_VERSION, is_known_version, package_of, upgrade


def test_known_versions() -> None:
    assert is_known_version("skaffold/v1alpha1")
    assert is_known_version("skaffold/v4beta14")
    assert not is_known_version("skaffold/v4beta15")
    assert package_of(LATEST_VERSION) == "latest"
    assert package_of("skaffold/v2beta29") == "v2beta29"


def test_v1alpha1_rebuilt() -> None:
    doc = {
        "apiVersion": "skaffold/v1alpha1",
        "kind": "Config",
        "build": {
            "tagPolicy": "sha256",
            "artifacts": [{"imageName": "app", "workspace": "src", "dockerfilePath": "D"}],
        },
        "deploy": {"kubectl": {"manifests": [{"paths": ["a.yaml", "b.yaml"]}]}},
    }
    out = upgrade(doc, "skaffold/v1alpha1")
    assert out["apiVersion"] == LATEST_VERSION
    assert out["build"]["tagPolicy"] == {"sha256": {}}
    assert out["build"]["artifacts"] == [
        {"image": "app", "context": "src", "docker": {"dockerfile": "D"}}
    ]
    assert out["manifests"]["rawYaml"] == ["a.yaml", "b.yaml"]


def test_v1alpha3_skip_push_inverted() -> None:
    doc = {
        "apiVersion": "skaffold/v1alpha3",
        "kind": "Config",
        "build": {"local": {"skipPush": True}},
    }
    assert upgrade(doc, "skaffold/v1alpha3")["build"]["local"] == {"push": False}


def test_v2alpha2_kustomize_path_to_paths_then_manifests() -> None:
    doc = {
        "apiVersion": "skaffold/v2alpha2",
        "kind": "Config",
        "deploy": {"kustomize": {"path": "k"}},
    }
    out = upgrade(doc, "skaffold/v2alpha2")
    assert out["manifests"]["kustomize"] == {"paths": ["k"]}
    assert "kustomize" not in out.get("deploy", {})
    assert "kubectl" in out["deploy"]


def test_v2beta29_kubectl_and_kustomize_default_paths() -> None:
    doc = {
        "apiVersion": "skaffold/v2beta29",
        "kind": "Config",
        "deploy": {"kubectl": {"manifests": ["k8s/*.yaml"]}, "kustomize": {}},
        "profiles": [
            {"name": "p", "patches": [{"path": "/deploy/kubectl/manifests/0", "value": "x"}]}
        ],
    }
    out = upgrade(doc, "skaffold/v2beta29")
    assert out["manifests"]["rawYaml"] == ["k8s/*.yaml"]
    assert out["manifests"]["kustomize"] == {"paths": ["."]}
    assert out["profiles"][0]["patches"] == [{"path": "/manifests/rawYaml/0", "value": "x"}]


def test_v2beta29_helm_duplicated_and_overrides() -> None:
    doc = {
        "apiVersion": "skaffold/v2beta29",
        "kind": "Config",
        "deploy": {
            "helm": {
                "releases": [
                    {"name": "r", "chartPath": "c", "artifactOverrides": {"image": "my-app"}}
                ]
            }
        },
        "profiles": [
            {
                "name": "p",
                "patches": [
                    {"op": "add", "path": "/deploy/helm/releases/0/namespace", "value": "n"}
                ],
            }
        ],
    }
    out = upgrade(doc, "skaffold/v2beta29")
    rel = out["manifests"]["helm"]["releases"][0]
    assert rel["setValueTemplates"] == {"image": "{{.IMAGE_FULLY_QUALIFIED_my_app}}"}
    assert "setValues" not in rel
    assert out["deploy"]["helm"]["releases"][0]["name"] == "r"
    paths = [p["path"] for p in out["profiles"][0]["patches"]]
    assert paths == ["/manifests/helm/releases/0/namespace", "/deploy/helm/releases/0/namespace"]


def test_v2beta29_kpt_is_an_error() -> None:
    doc = {"apiVersion": "skaffold/v2beta29", "kind": "Config", "deploy": {"kpt": {"dir": "."}}}
    with pytest.raises(ConfigError, match=r"converting deploy\.kpt isn't currently supported"):
        upgrade(doc, "skaffold/v2beta29")


def test_v3_remote_manifests() -> None:
    doc = {
        "apiVersion": "skaffold/v3",
        "kind": "Config",
        "deploy": {"kubeContext": "ctx", "kubectl": {"remoteManifests": ["deployment/x"]}},
    }
    out = upgrade(doc, "skaffold/v3")
    assert out["manifests"]["remoteManifests"] == [
        {"manifest": "deployment/x", "kubeContext": "ctx"}
    ]
    assert "remoteManifests" not in out["deploy"]["kubectl"]


def test_v2beta3_values_and_v2beta12_remote() -> None:
    doc = {
        "apiVersion": "skaffold/v2beta3",
        "kind": "Config",
        "deploy": {
            "helm": {
                "releases": [
                    {"name": "r", "chartPath": "stable/x", "remote": True, "values": {"img": "app"}}
                ]
            }
        },
    }
    out = upgrade(doc, "skaffold/v2beta3")
    rel = out["manifests"]["helm"]["releases"][0]
    assert rel["remoteChart"] == "stable/x"
    assert "chartPath" not in rel
    assert rel["setValueTemplates"] == {"img": "{{.IMAGE_FULLY_QUALIFIED_app}}"}


def test_v2beta22_docker_secret_and_v1beta13_jib() -> None:
    doc = {
        "apiVersion": "skaffold/v1beta13",
        "kind": "Config",
        "build": {"artifacts": [{"image": "a", "jibMaven": {"module": "m", "profile": "p"}}]},
    }
    out = upgrade(doc, "skaffold/v1beta13")
    assert out["build"]["artifacts"][0]["jib"] == {
        "project": "m",
        "args": ["--activate-profiles", "p"],
        "type": "maven",
    }
    doc2 = {
        "apiVersion": "skaffold/v2beta22",
        "kind": "Config",
        "build": {"artifacts": [{"image": "a", "docker": {"secret": {"id": "s", "src": "f"}}}]},
    }
    assert upgrade(doc2, "skaffold/v2beta22")["build"]["artifacts"][0]["docker"]["secrets"] == [
        {"id": "s", "src": "f"}
    ]


def test_unknown_fields_of_next_version_dropped_by_clone() -> None:
    # v1beta8 "plugin" has no counterpart later: CloneThroughJSON drops it, the step converts it
    doc = {
        "apiVersion": "skaffold/v1beta8",
        "kind": "Config",
        "build": {
            "artifacts": [
                {"image": "a", "plugin": {"name": "docker", "properties": {"dockerfile": "X"}}}
            ]
        },
    }
    art = upgrade(doc, "skaffold/v1beta8")["build"]["artifacts"][0]
    assert art == {"image": "a", "docker": {"dockerfile": "X"}}
