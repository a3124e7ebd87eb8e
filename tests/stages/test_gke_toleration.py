"""The GKE ARM node toleration (gke_toleration.go, affinity.go), pure and through render().

The toleration is skaffold's ``gkeARMToleration`` constant; which pod specs get it follows
``SetGKEARMToleration``/``GetImagePlatforms``: every container image of a pod spec must offer
linux/arm64, images are grouped by field path across one renderer's documents, and existing
tolerations are re-encoded as ``[]v1.Toleration``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from engine.stages import rewrite

ARM = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
PLATFORMS = {
    "multi": [("linux", "amd64", ""), ("linux", "arm64", "v8")],
    "amd": [("linux", "amd64", "")],
    "arm": [("linux", "arm64", "")],
}


def _platforms(image: str) -> list[tuple[str, str, str]]:
    if image not in PLATFORMS:
        raise LookupError(f"no such image {image}")
    return PLATFORMS[image]


def _deployment(*images: str, **spec: Any) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    pod = {"containers": containers, **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": pod}}}


def _tolerations(doc: dict[str, Any]) -> Any:
    return doc["spec"]["template"]["spec"].get("tolerations")


def test_arm_capable_pod_specs_get_the_toleration() -> None:
    rules = rewrite.build_rules()
    [out] = rewrite.add_gke_arm_toleration([_deployment("multi")], rules, _platforms)
    assert _tolerations(out) == [ARM]
    [out] = rewrite.add_gke_arm_toleration([_deployment("amd")], rules, _platforms)
    assert _tolerations(out) is None
    # every container must offer arm64; an image whose platforms are unknown does not count
    [out] = rewrite.add_gke_arm_toleration([_deployment("multi", "amd")], rules, _platforms)
    assert _tolerations(out) is None
    [out] = rewrite.add_gke_arm_toleration([_deployment("multi", "gone")], rules, _platforms)
    assert _tolerations(out) == [ARM]
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "arm"}]}}
    [out] = rewrite.add_gke_arm_toleration([pod], rules, _platforms)
    assert out["spec"]["tolerations"] == [ARM]


def test_platforms_are_shared_by_field_path_across_documents() -> None:
    # skaffold keys platforms by the pod spec's path only: an amd64-only Deployment keeps
    # another Deployment's arm64 image from its toleration.
    rules = rewrite.build_rules()
    docs = [_deployment("multi"), _deployment("amd")]
    assert [_tolerations(d) for d in rewrite.add_gke_arm_toleration(docs, rules, _platforms)] == [
        None,
        None,
    ]


def test_existing_tolerations_are_reencoded() -> None:
    rules = rewrite.build_rules()
    existing = [
        {"key": "a", "operator": "Exists", "effect": "", "extra": 1, "tolerationSeconds": 0},
        dict(ARM),
    ]
    [out] = rewrite.add_gke_arm_toleration(
        [_deployment("arm", tolerations=existing)], rules, _platforms
    )
    assert _tolerations(out) == [{"key": "a", "operator": "Exists", "tolerationSeconds": 0}, ARM]
    bad = [{"key": 5}]
    [out] = rewrite.add_gke_arm_toleration([_deployment("arm", tolerations=bad)], rules, _platforms)
    assert _tolerations(out) == bad


def test_kinds_outside_the_pod_spec_allowlist_are_untouched() -> None:
    rules = rewrite.build_rules()
    knative = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "spec": {"template": {"spec": {"containers": [{"image": "arm"}]}}},
    }
    [out] = rewrite.add_gke_arm_toleration([knative], rules, _platforms)
    assert out == knative
    assert rewrite.is_gke_context("gke_project_zone_cluster")
    assert not rewrite.is_gke_context("kind-gke")


@pytest.mark.integration
def test_render_on_a_gke_context_asks_the_registry(tmp_path: Path, registry: Any) -> None:
    from engine.pipeline import RenderRequest, render

    registry.push_image("tol/multi:1", platforms=["linux/amd64", "linux/arm64"])
    registry.push_image("tol/amd:1")
    multi, amd = registry.ref("tol/multi:1"), registry.ref("tol/amd:1")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta13\nkind: Config\nmanifests:\n  rawYaml: [k8s/*.yaml]\n"
    )
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n"
        f"  containers:\n  - image: {image}\n"
        for i, image in enumerate((multi,))
    )
    (tmp_path / "k8s" / "pod.yaml").write_text(pods)
    kubeconfig = tmp_path / "kubeconfig"
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", ""), "KUBECONFIG": str(kubeconfig)}
    request = RenderRequest(cwd=str(tmp_path), env=env, digest_source="none")
    for context, expected in (("gke_p_z_c", True), ("minikube", False)):
        kubeconfig.write_text(f"apiVersion: v1\nkind: Config\ncurrent-context: {context}\n")
        text = render(request).text
        assert ("kubernetes.io/arch" in text) == expected, context
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: gke_p_z_c\n")
    assert "kubernetes.io/arch" not in render(request._replace(gke_arm_toleration=False)).text
    (tmp_path / "k8s" / "pod.yaml").write_text(pods.replace(multi, amd))
    assert "tolerations" not in render(request).text
