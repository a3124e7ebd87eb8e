"""Profile activation, selection, overlay and patches."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.core.errors import ConfigError
from engine.skaffold.profiles import (
    ActivationContext,
    apply_profiles,
    regex_matches,
    select_profiles,
)

CTX = ActivationContext(env={}, kube_context="", command="render")


def _doc(**profiles_and_base: Any) -> dict[str, Any]:
    return {"apiVersion": "skaffold/v4beta14", "kind": "Config", **profiles_and_base}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("prod", "preproduction-2", True),
        ("^prod$", "production", False),
        ("!production", "staging", True),
        ("!production", "production", False),
        ("rend", "render", True),
        ("[", "[", True),  # invalid regex: equality only
        ("[", "x[", False),
        # Go's regexp (RE2), not Python's re (issue 10)
        ("^[[:digit:]]+$", "123", True),
        ("^[[:digit:]]+$", "12:", False),
        ("^\\pL+-ctx$", "gké-ctx", True),
        ("prod\\z", "prod\n", False),
        ("prod$", "prod\n", False),
        ("(?P<c>gke)_.*", "gke_x", True),
        ("a\\C", "a\\C", True),  # Go refuses \C: equality only
        ("a\\C", "xa\\Cx", False),
    ],
)
def test_regex_matches(pattern: str, value: str, expected: bool) -> None:
    assert regex_matches(pattern, value) is expected


def test_activation_regex_cannot_hang() -> None:
    start = time.monotonic()
    ctx = ActivationContext(env={"FOO": "a" * 100_000 + "!"}, kube_context="", command="render")
    profiles = [{"name": "p", "activation": [{"env": "FOO=^(a+)+$"}]}]
    assert select_profiles(profiles, [], ctx) == ([], [])
    assert time.monotonic() - start < 2


def test_activation_env_command_kubecontext() -> None:
    profiles = [
        {"name": "env", "activation": [{"env": "FOO=ba."}]},
        {"name": "unset", "activation": [{"env": "NOPE="}]},
        {"name": "dev", "activation": [{"command": "dev"}]},
        {"name": "kube", "activation": [{"kubeContext": "minikube"}]},
        {
            "name": "all",
            "requiresAllActivations": True,
            "activation": [{"env": "FOO=x"}, {"command": "dev"}],
        },
    ]
    ctx = ActivationContext(env={"FOO": "xbarx"}, kube_context="minikube", command="render")
    names, by_context = select_profiles(profiles, [], ctx)
    assert names == ["env", "unset", "kube"]
    assert by_context == ["kube"]


def test_selection_order_negation_and_auto_off() -> None:
    profiles = [
        {"name": "p1"},
        {"name": "p2", "activation": [{"env": "FOO=bar"}]},
        {"name": "patchy"},
    ]
    ctx = ActivationContext(env={"FOO": "bar"})
    assert select_profiles(profiles, ["p1", "patchy"], ctx)[0] == ["p2", "p1", "patchy"]
    assert select_profiles(profiles, ["p1", "-p1"], ctx)[0] == ["p2"]
    assert select_profiles(profiles, ["-p2"], ctx)[0] == []
    assert select_profiles(profiles, ["p1"], ctx, auto_activation=False)[0] == ["p1"]
    assert select_profiles(profiles, ["other"], ctx, auto_activation=False)[0] == []


def test_bad_env_format() -> None:
    doc = _doc(profiles=[{"name": "p", "activation": [{"env": "FOO"}]}])
    with pytest.raises(ConfigError, match="invalid env variable format: FOO, should be KEY=VALUE"):
        apply_profiles(doc, [], CTX)


def test_overlay_lists_replace_pointers_replace_structs_merge() -> None:
    doc = _doc(
        build={
            "artifacts": [{"image": "a"}, {"image": "b"}],
            "tagPolicy": {"gitCommit": {"prefix": "x-"}},
        },
        manifests={"rawYaml": ["a.yaml"], "kustomize": {"paths": ["k"], "buildArgs": ["--x"]}},
        deploy={"kubectl": {}},
        profiles=[
            {
                "name": "p",
                "build": {"artifacts": [{"image": "c"}]},
                "manifests": {"kustomize": {"paths": ["k2"]}, "rawYaml": []},
                "deploy": {"helm": {"releases": [{"name": "r"}]}},
            }
        ],
    )
    out, names = apply_profiles(doc, ["p"], CTX)
    assert names == ["p"]
    assert out["build"]["artifacts"] == [{"image": "c"}]
    assert out["build"]["tagPolicy"] == {"gitCommit": {"prefix": "x-"}}
    assert out["manifests"]["rawYaml"] == ["a.yaml"]  # an empty list cannot clear
    assert out["manifests"]["kustomize"] == {"paths": ["k2"]}  # pointer: replaced whole
    assert out["deploy"]["kubectl"] == {} and out["deploy"]["helm"]["releases"][0]["name"] == "r"
    assert "profiles" not in out


def test_overlay_one_of_keeps_first_member_only() -> None:
    doc = _doc(
        build={"tagPolicy": {"gitCommit": {}}, "local": {"push": False}},
        profiles=[
            {
                "name": "p",
                "build": {"tagPolicy": {"envTemplate": {"template": "t"}, "dateTime": {}}},
            }
        ],
    )
    out, _ = apply_profiles(doc, ["p"], CTX)
    assert out["build"]["tagPolicy"] == {"envTemplate": {"template": "t"}}
    assert out["build"]["local"] == {"push": False}


def test_scalars_zero_cannot_override() -> None:
    doc = _doc(
        build={"tagPolicy": {"gitCommit": {}}},
        deploy={"statusCheckDeadlineSeconds": 5, "kubeContext": "c"},
        profiles=[{"name": "p", "deploy": {"statusCheckDeadlineSeconds": 0, "kubeContext": ""}}],
    )
    out, _ = apply_profiles(doc, ["p"], CTX)
    assert out["deploy"]["statusCheckDeadlineSeconds"] == 5
    assert out["deploy"]["kubeContext"] == "c"


def test_patches_apply_in_order_and_drop_unknown_fields() -> None:
    doc = _doc(
        build={"artifacts": [{"image": "foo"}, {"image": "bar", "context": "bar"}]},
        manifests={"rawYaml": ["a.yaml", "b.yaml"]},
        profiles=[
            {
                "name": "p",
                "patches": [
                    {"op": "remove", "path": "/build/artifacts/1"},
                    {"path": "/manifests/rawYaml/0", "value": "z.yaml"},
                    {"op": "add", "path": "/manifests/rawYaml/-", "value": "c.yaml"},
                    {"op": "add", "path": "/build/bogus", "value": 1},
                ],
            }
        ],
    )
    out, _ = apply_profiles(doc, ["p"], CTX)
    assert out["build"]["artifacts"] == [{"image": "foo"}]
    assert out["manifests"]["rawYaml"] == ["z.yaml", "b.yaml", "c.yaml"]
    assert "bogus" not in out["build"]


@pytest.mark.parametrize(
    "patch",
    [
        {"op": "replace", "path": "/build/artifacts/5/image", "value": "x"},
        {"op": "test", "path": "/build/artifacts/0/image", "value": "nope"},
        # patches run before defaults: the dockerfile default is not there yet
        {"op": "replace", "path": "/build/artifacts/0/docker/dockerfile", "value": "x"},
    ],
)
def test_failing_patch(patch: dict[str, Any]) -> None:
    doc = _doc(
        build={"artifacts": [{"image": "foo"}]}, profiles=[{"name": "bad", "patches": [patch]}]
    )
    with pytest.raises(ConfigError, match=f'applying profile "bad": invalid path: {patch["path"]}'):
        apply_profiles(doc, ["bad"], CTX)


def test_kube_context_consistency() -> None:
    doc = _doc(
        deploy={"kubeContext": "other"},
        profiles=[{"name": "k", "activation": [{"kubeContext": "mini"}]}],
    )
    with pytest.raises(ConfigError, match='were activated by kube-context "minikube"'):
        apply_profiles(doc, [], ActivationContext(env={}, kube_context="minikube"))


@pytest.mark.parametrize(
    ("build", "kept"),
    [
        ({"tagPolicy": {"inputDigest": {}}}, {"tagPolicy": {"inputDigest": {}}}),
        ({"tagPolicy": {"sha256": {}}, "local": {}}, {"tagPolicy": {"sha256": {}}, "local": {}}),
        ({"tagPolicy": {"sha256": None}}, {}),  # a nil pointer: omitempty drops it
        ({"tagPolicy": {}}, {}),  # a zero struct: dropped
    ],
)
def test_patches_keep_pointers_to_empty_structs(build: dict[str, Any], kept: Any) -> None:
    # yaml.v3 isZero (yaml.go): a non-nil pointer is never zero, so skaffold's yaml.Marshal
    # before the patches (schema/profiles.go applyProfile) keeps `inputDigest: {}`
    doc = _doc(
        build={**build, "artifacts": [{"image": "a"}]},
        profiles=[{"name": "p", "patches": [{"op": "add", "path": "/build/artifacts/0/context", "value": "x"}]}],  # noqa: E501
    )
    result, _ = apply_profiles(doc, ["p"], CTX)
    assert result["build"] == {**kept, "artifacts": [{"image": "a", "context": "x"}]}
