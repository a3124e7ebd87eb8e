"""Image replacement, selector rules, labels and namespace (spec §9, §10, §11.7; vectors from
skaffold's images_test.go, visitor_test.go, labels_test.go, namespace_test.go)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.core.errors import ConfigError, ManifestError
from engine.skaffold.schema import SelectorRule
from engine.stages.rewrite import (
    add_labels,
    build_rules,
    load_rules_file,
    parse_labels,
    replace_images,
    set_namespace,
)

ZERO = "sha256:" + "0" * 64
RULES = build_rules()


def pod(*images: Any, kind: str = "Pod", api: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]},
    }


def images_of(doc: dict[str, Any]) -> list[Any]:
    return [c["image"] for c in doc["spec"]["containers"]]


def test_spec_11_7_vector() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"keep": "me"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {
                    "initContainers": [{"name": "i", "image": "app:old"}],
                    "containers": [
                        {"name": "c", "image": "app"},
                        {"name": "s", "image": "docker.io/library/app"},
                        {"name": "g", "image": f"app@{ZERO}"},
                    ],
                },
            }
        },
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm"},
        "data": {"image": "app", "enabled": "yes"},
    }
    original = copy.deepcopy([deployment, config_map])
    docs = replace_images([deployment, config_map], {"app": "gcr.io/my-project/app:v1"}, RULES)
    docs = add_labels(docs, parse_labels(["keep=no", "team=a"]), RULES)
    docs, warnings = set_namespace(docs, "prod", RULES)
    assert [deployment, config_map] == original  # inputs untouched
    assert warnings == []
    assert docs[0] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"keep": "me", "team": "a"}, "namespace": "prod"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "d", "keep": "no", "team": "a"}},
                "spec": {
                    "initContainers": [{"name": "i", "image": "gcr.io/my-project/app:v1"}],
                    "containers": [
                        {"name": "c", "image": "gcr.io/my-project/app:v1"},
                        {"name": "s", "image": "docker.io/library/app"},
                        {"name": "g", "image": f"app@{ZERO}"},
                    ],
                },
            }
        },
    }
    assert docs[1] == original[1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("app", "NEW"),
        ("app:old", "NEW"),
        ("APP", "NEW"),
        ("ko://app", "NEW"),
        ("app:latest", "NEW"),
        (f"app:v1@{ZERO}", f"app:v1@{ZERO}"),
        ("docker.io/library/app", "docker.io/library/app"),
        ("library/app", "library/app"),
        ("app:", "app:"),
        (" app", " app"),
        ("nginx:1.25", "nginx:1.25"),
        ("apps", "apps"),
        ("ap", "ap"),
        ("gcr.io/x/svc:gcr.io/x/svc", "SVC"),  # helm placeholder hack (a)
        ("app/app:app", "NEW"),  # helm placeholder hack (b)
        ("x/svc", "x/svc"),
        ("gcr.io/x/svc", "SVC"),
    ],
)
def test_image_matching(value: str, expected: str) -> None:
    docs = replace_images([pod(value)], {"app": "NEW", "gcr.io/x/svc": "SVC"}, RULES)
    assert images_of(docs[0]) == [expected]


def test_artifact_names_are_sanitized_and_later_duplicates_win() -> None:
    images = {"ko://App": "first", "app": "second"}
    assert images_of(replace_images([pod("app")], images, RULES)[0]) == ["second"]


def test_non_string_images_are_left_and_traversed() -> None:
    doc = pod(42, None, ["app"], {"reference": "app", "image": "app"}, "app")
    out = replace_images([doc], {"app": "NEW"}, RULES)[0]
    assert images_of(out) == [42, None, ["app"], {"reference": "app", "image": "NEW"}, "NEW"]


def test_image_key_anywhere_in_allowlisted_kind_only() -> None:
    deployment = pod("app", kind="Deployment", api="apps/v1")
    deployment["metadata"]["annotations"] = {"image": "app"}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"image": "app"}, "image": "app"}
    crd = pod("app", kind="Widget", api="example.com/v1")
    listing = {"apiVersion": "v1", "kind": "List", "items": [pod("app")]}
    out = replace_images([deployment, config_map, crd, listing], {"app": "NEW"}, RULES)
    assert out[0]["metadata"]["annotations"]["image"] == "NEW"
    assert out[1:] == [config_map, crd, listing]


@pytest.mark.parametrize(
    ("api", "kind", "rewritten"),
    [
        ("apps/v1", "StatefulSet", True),
        ("apps/v1", "DaemonSet", True),
        ("apps/v1", "ReplicaSet", True),
        ("batch/v1", "Job", True),
        ("batch/v1", "CronJob", True),
        ("extensions/v1beta1", "Deployment", True),
        ("serving.knative.dev/v1", "Service", True),
        ("argoproj.io/v1alpha1", "Rollout", True),
        ("run.googleapis.com/v1", "Job", True),
        ("core/v1", "Pod", False),  # group "core" is not the core group
        ("v1", "pod", False),  # kinds are case-sensitive
        ("a/b/v1", "Pod", True),  # unparseable apiVersion: empty group
        ("extensions/v1", "StatefulSet", False),
        ("sql.cnrm.cloud.google.com/v1beta1", "SQLInstance", True),
    ],
)
def test_default_allowlist(api: str, kind: str, rewritten: bool) -> None:
    out = replace_images([pod("app", kind=kind, api=api)], {"app": "NEW"}, RULES)
    assert images_of(out[0]) == ["NEW" if rewritten else "app"]


def test_non_string_keyed_maps_are_not_traversed() -> None:
    doc = pod("app")
    doc["spec"]["extra"] = {1: "x", "image": "app"}
    out = replace_images([doc], {"app": "NEW"}, RULES)[0]
    assert out["spec"]["extra"] == {1: "x", "image": "app"}
    assert images_of(out) == ["NEW"]


def test_kafka_strimzi_and_confluent_paths() -> None:
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "Kafka",
        "spec": {"kafka": {"image": "app"}, "other": {"image": "app"},
                 "kafkaExporter": {"image": "app"}},
    }  # fmt: skip
    confluent = {
        "apiVersion": "platform.confluent.io/v1beta1",
        "kind": "Kafka",
        "spec": {"image": {"application": "app", "init": "app", "other": "app"}},
    }
    out = replace_images([kafka, confluent], {"app": "NEW"}, RULES)
    assert out[0]["spec"] == {"kafka": {"image": "NEW"}, "other": {"image": "app"},
                              "kafkaExporter": {"image": "app"}}  # fmt: skip
    assert out[1]["spec"]["image"] == {"application": "NEW", "init": "NEW", "other": "app"}


def test_user_allow_path_for_crd() -> None:
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"image": "app", "app": {"image": "app"},
                 "template": {"spec": {"containers": [{"name": "c", "image": "app"}]}}},
    }  # fmt: skip
    rules = build_rules([SelectorRule("Widget.example.com", image=(".spec.app.image",))])
    out = replace_images([widget], {"app": "NEW"}, rules)[0]
    assert out["spec"]["app"]["image"] == "NEW"
    assert out["spec"]["image"] == "app"
    assert out["spec"]["template"]["spec"]["containers"][0]["image"] == "app"
    # the entry has no label paths: no labels are added
    assert add_labels([out], {"x": "y"}, rules)[0]["metadata"]["labels"] == {"a": "b"}


def test_wildcards_in_user_paths_collapse() -> None:
    rules = build_rules([SelectorRule("Widget.example.com", image=(".spec.containers.*.image",))])
    doc = pod("app", kind="Widget", api="example.com/v1")
    assert images_of(replace_images([doc], {"app": "NEW"}, rules)[0]) == ["NEW"]


def test_deny_disables_kind_and_allow_replaces_entry() -> None:
    deny = build_rules(deny=[SelectorRule("Deployment.apps", image=(".*",))])
    doc = pod("app", kind="Deployment", api="apps/v1")
    assert images_of(replace_images([doc], {"app": "NEW"}, deny)[0]) == ["app"]
    assert "labels" not in add_labels([doc], {"a": "b"}, deny)[0]["metadata"]
    assert set_namespace([doc], "ns", deny)[0][0] == doc
    deny_path = build_rules(deny=[SelectorRule("Pod", image=(".spec.containers.image",))])
    assert images_of(replace_images([pod("app")], {"app": "NEW"}, deny_path)[0]) == ["app"]
    # an allow entry for Job removes the default deny entry for its pod template labels
    job_rules = build_rules([SelectorRule("Job.batch", image=(".*",), labels=(".*",))])
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {},
           "spec": {"template": {"metadata": {}}}}  # fmt: skip
    out = add_labels([job], {"a": "b"}, job_rules)[0]
    assert out["spec"]["template"]["metadata"] == {"labels": {"a": "b"}}


def test_rules_file_order_file_allow_after_config_deny() -> None:
    deny = [SelectorRule("Deployment.apps", image=(".*",))]
    allow = [SelectorRule("Deployment.apps", image=(".*",))]
    rules = build_rules((), deny, file_allow=allow)
    doc = pod("app", kind="Deployment", api="apps/v1")
    assert images_of(replace_images([doc], {"app": "NEW"}, rules)[0]) == ["NEW"]


def test_empty_documents_dropped_and_bad_documents_raise() -> None:
    assert replace_images([{}, None, pod("x")], {}, RULES) == [pod("x")]
    with pytest.raises(ManifestError) as info:
        replace_images([["a"]], {}, RULES)
    assert str(info.value) == (
        "replacing images in manifest: reading Kubernetes YAML: yaml: unmarshal errors:\n"
        "  line 1: cannot unmarshal !!seq into map[string]interface {}"
    )
    with pytest.raises(ManifestError, match=r"cannot unmarshal !!str `hello w\.\.\.` into"):
        replace_images(["hello world"], {}, RULES)


def test_labels_rules() -> None:
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "template": {"metadata": {"labels": {"app": "db"}}},
            "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": {"vol": "data"}}}],
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"labels": None},
        "spec": {"template": {"metadata": {"labels": {"a": "1"}}}},
    }
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    cc = {"apiVersion": "x.cnrm.cloud.google.com/v1", "kind": "K",
          "spec": {"metadata": {"labels": {"t": "old"}}}}  # fmt: skip
    out = add_labels([sts, job, widget, cc], {"t": "new", "flag": ""}, RULES)
    assert out[0]["metadata"]["labels"] == {"t": "new", "flag": ""}
    assert out[0]["spec"]["template"]["metadata"]["labels"] == {"app": "db", "t": "new", "flag": ""}
    assert out[0]["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"] == {"vol": "data"}
    assert out[1]["metadata"]["labels"] is None
    assert out[1]["spec"]["template"]["metadata"]["labels"] == {"a": "1"}
    assert out[2] == widget
    assert "metadata" not in out[3]  # labels go into existing metadata maps only
    assert out[3]["spec"]["metadata"]["labels"] == {"t": "old", "flag": ""}
    # every document gets its own labels map (no shared objects, hence no YAML anchors)
    twins = add_labels([pod("x"), pod("y")], {"a": "b"}, RULES)
    assert twins[0]["metadata"]["labels"] is not twins[1]["metadata"]["labels"]


def test_aliased_input_subtrees_become_independent() -> None:
    shared = {"name": "c", "image": "app"}
    doc = pod()
    doc["spec"]["containers"] = [shared, shared]
    out = replace_images([doc], {"app": "NEW"}, RULES)[0]
    assert out["spec"]["containers"][0] is not out["spec"]["containers"][1]
    assert shared["image"] == "app"


def test_run_id_label_always_overrides() -> None:
    doc = pod("x")
    doc["metadata"]["labels"] = {"skaffold.dev/run-id": "old", "k": "old"}
    out = add_labels([doc], {"skaffold.dev/run-id": "new", "k": "new"}, RULES)[0]
    assert out["metadata"]["labels"] == {"skaffold.dev/run-id": "new", "k": "old"}


def test_parse_labels() -> None:
    assert parse_labels(["a=1", "b", "c=x=y", "a=2"]) == {"a": "2", "b": "", "c": "x=y"}


def test_namespace() -> None:
    no_meta = {"apiVersion": "v1", "kind": "Pod"}
    empty_ns = {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": ""}}
    null_ns = {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": None}}
    other = {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "other"}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    out, warnings = set_namespace([no_meta, empty_ns, null_ns, other, secret], "prod", RULES)
    assert out[0]["metadata"] == {"namespace": "prod"}
    assert out[1]["metadata"] == {"namespace": "prod"}
    assert out[2]["metadata"] == {"namespace": "prod"}
    assert out[3]["metadata"] == {"namespace": "other"}
    assert out[4] == secret
    assert warnings == [
        'a manifest already has namespace set "other" which conflicts with namespace on the '
        'CLI "prod"'
    ]
    assert set_namespace([other], "default", RULES)[1] == []


def test_namespace_bad_metadata() -> None:
    with pytest.raises(ManifestError, match=r"error converting foo to map\[string\]interface"):
        set_namespace([{"apiVersion": "v1", "kind": "Pod", "metadata": "foo"}], "ns", RULES)


def test_load_rules_file() -> None:
    text = (
        "allow:\n- groupKind: Widget.example.com\n  image: ['.spec.app.image']\n"
        "  unknown: 1\ndeny:\n- groupKind: Deployment.apps\n  labels: ['.*']\n"
    )
    allow, deny = load_rules_file(text, "rules.yaml")
    assert allow == [SelectorRule("Widget.example.com", image=(".spec.app.image",))]
    assert deny == [SelectorRule("Deployment.apps", labels=(".*",))]
    assert load_rules_file('{"allow": [{"groupKind": "Pod"}]}', "r.json") == (
        [SelectorRule("Pod")],
        [],
    )
    assert load_rules_file("", "r.yaml") == ([], [])


@pytest.mark.parametrize(
    "text", ["[1]", "allow: 3", "allow: [3]", "allow: [{image: x}]x: [", "deny: [{image: a}]"]
)
def test_load_rules_file_errors(text: str) -> None:
    if text == "deny: [{image: a}]":
        with pytest.raises(ConfigError, match=r"rules\.yaml: deny\[0\].image"):
            load_rules_file(text, "rules.yaml")
        return
    with pytest.raises(ConfigError, match=r"rules\.yaml"):
        load_rules_file(text, "rules.yaml")
