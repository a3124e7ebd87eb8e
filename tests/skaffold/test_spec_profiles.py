"""Spec §2.4 profile patches: krishicks/yaml-patch v0.0.10 semantics, not RFC 6902.

Vectors follow vendor/github.com/krishicks/yaml-patch/{operation,container,pathfinder}.go
as called by pkg/skaffold/schema/profiles.go (applyProfile / tryPatch).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.core.errors import ConfigError
from engine.skaffold.profiles import ActivationContext, apply_profiles

CTX = ActivationContext(env={}, kube_context="", command="render")


def _patched(base: dict[str, Any], *patches: dict[str, Any]) -> dict[str, Any]:
    doc = {
        "apiVersion": "skaffold/v4beta14",
        "kind": "Config",
        **base,
        "profiles": [{"name": "p", "patches": list(patches)}],
    }
    out, _ = apply_profiles(doc, ["p"], CTX)
    return out


RAW = {"manifests": {"rawYaml": ["a.yaml", "b.yaml", "c.yaml"]}}


def test_move_sets_destination_instead_of_inserting() -> None:
    # tryMove: Remove(from) then Set(path): index 0 is overwritten, not shifted
    out = _patched(
        RAW, {"op": "move", "from": "/manifests/rawYaml/2", "path": "/manifests/rawYaml/0"}
    )
    assert out["manifests"]["rawYaml"] == ["c.yaml", "b.yaml"]


def test_copy_sets_destination_and_grows_the_list() -> None:
    out = _patched(
        RAW, {"op": "copy", "from": "/manifests/rawYaml/0", "path": "/manifests/rawYaml/1"}
    )
    assert out["manifests"]["rawYaml"] == ["a.yaml", "a.yaml", "c.yaml"]
    out = _patched(
        RAW, {"op": "copy", "from": "/manifests/rawYaml/0", "path": "/manifests/rawYaml/3"}
    )
    assert out["manifests"]["rawYaml"] == ["a.yaml", "b.yaml", "c.yaml", "a.yaml"]


@pytest.mark.parametrize("op", ["move", "copy"])
def test_move_copy_to_dash_is_invalid(op: str) -> None:
    # nodeSlice.Set does strconv.Atoi("-"): an error, unlike RFC 6902's append
    patch = {"op": op, "from": "/manifests/rawYaml/0", "path": "/manifests/rawYaml/-"}
    with pytest.raises(ConfigError, match="invalid path: /manifests/rawYaml/-"):
        _patched(RAW, patch)


def test_copy_from_missing_key_sets_null() -> None:
    # nodeMap.Get of a missing key is (nil, nil): copy writes null instead of failing
    out = _patched(
        {"build": {"artifacts": [{"image": "app", "context": "x"}]}},
        {"op": "copy", "from": "/build/artifacts/0/nope", "path": "/build/artifacts/0/context"},
    )
    assert out["build"]["artifacts"][0].get("context") is None


def test_test_op_scalars_and_lists_match_but_mappings_never_do() -> None:
    base = {"build": {"artifacts": [{"image": "app", "context": "x"}]}}
    ok = {"op": "test", "path": "/build/artifacts/0/image", "value": "app"}
    assert _patched(base, ok, {"path": "/build/artifacts/0/image", "value": "z"})
    out = _patched(
        RAW, {"op": "test", "path": "/manifests/rawYaml", "value": RAW["manifests"]["rawYaml"]}
    )
    assert out["manifests"]["rawYaml"] == ["a.yaml", "b.yaml", "c.yaml"]
    # a yaml.v3 map[string]interface{} value never DeepEquals yaml.v2's map[interface{}]...
    same_map = {
        "op": "test",
        "path": "/build/artifacts/0",
        "value": {"image": "app", "context": "x"},
    }
    with pytest.raises(ConfigError, match="invalid path: /build/artifacts/0"):
        _patched(base, same_map)
    # no value: op.Value is a nil *Node and tryTest panics
    with pytest.raises(ConfigError, match="invalid path"):
        _patched(base, {"op": "test", "path": "/build/artifacts/0/image"})


def test_leading_zero_index_is_accepted() -> None:
    out = _patched(RAW, {"op": "replace", "path": "/manifests/rawYaml/01", "value": "z.yaml"})
    assert out["manifests"]["rawYaml"] == ["a.yaml", "z.yaml", "c.yaml"]


def test_unknown_op_and_missing_slash_are_invalid() -> None:
    with pytest.raises(ConfigError, match="invalid path: /manifests/rawYaml/0"):
        _patched(RAW, {"op": "Add", "path": "/manifests/rawYaml/0", "value": "x"})
    with pytest.raises(ConfigError, match="invalid path: manifests"):
        _patched(RAW, {"op": "add", "path": "manifests", "value": "x"})


def test_extended_key_value_path_syntax() -> None:
    # PathFinder: `image=b` selects every mapping whose `image` is "b"
    base = {"build": {"artifacts": [{"image": "a"}, {"image": "b", "context": "old"}]}}
    out = _patched(
        base, {"op": "replace", "path": "/build/artifacts/image=b/context", "value": "new"}
    )
    assert out["build"]["artifacts"] == [{"image": "a"}, {"image": "b", "context": "new"}]
    with pytest.raises(ConfigError, match="invalid path: /build/artifacts/image=zz/context"):
        _patched(base, {"path": "/build/artifacts/image=zz/context", "value": "x"})
