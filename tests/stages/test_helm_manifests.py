"""engine.stages.helm_manifests: Helm 4's sorting, post-render round trip and template output.

Expected values come from Helm v4.2.3's own tests where they have one
(pkg/release/v1/util/manifest_test.go, kind_sorter_test.go, pkg/action/action_test.go).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import yamlv3
from engine.core.errors import HelmError
from engine.stages import helm_manifests as hm


def _head(path: str, doc: str) -> dict[str, Any]:
    loaded = yamlv3.load_all(doc)
    return loaded[0] if loaded and isinstance(loaded[0], dict) else {}


# --- SplitManifests -------------------------------------------------------------------------------


def test_split_manifests_drops_blank_documents_and_trims_the_left_only() -> None:
    text = "\n\n---\n  kind: A\n  \n---   \nkind: B\n\n"
    assert hm.split_manifests(text) == ["kind: A", "kind: B\n\n"]
    # the separator's trailing \s* eats the newline the next "---" would need (as in Go)
    assert hm.split_manifests("kind: A\n---\n\n---\nkind: B") == ["kind: A", "---\nkind: B"]


def test_split_manifests_cuts_at_dashes_with_go_ascii_whitespace_only() -> None:
    # Go's \s is ASCII: a no-break space before "---" is not a separator's whitespace
    assert hm.split_manifests("a: 1\n---\nb: 2") == ["a: 1", "b: 2"]
    assert hm.split_manifests("a: 1\u00a0\n---\nb: 2") == ["a: 1\u00a0", "b: 2"]


# --- SortManifests --------------------------------------------------------------------------------


def test_sort_manifests_orders_by_install_order_then_unknown_kinds_by_name() -> None:
    files = {
        "c/templates/b.yaml": "kind: Deployment\n---\nkind: Zebra\n---\nkind: Alpha",
        "c/templates/a.yaml": "kind: Service\n---\nkind: Namespace",
        "c/templates/_helpers.tpl": "kind: Pod",
        "c/templates/empty.yaml": "  \n",
    }
    hooks, manifests = hm.sort_manifests(files, _head)
    assert hooks == []
    assert [m.kind for m in manifests] == ["Namespace", "Service", "Deployment", "Alpha", "Zebra"]
    assert [m.path for m in manifests][:2] == ["c/templates/a.yaml"] * 2


def test_sort_manifests_keeps_file_order_within_a_kind() -> None:
    files = {
        "c/templates/z.yaml": "kind: ConfigMap\nmetadata:\n  name: z",
        "c/templates/a.yaml": "kind: ConfigMap\nmetadata:\n  name: a",
    }
    _, manifests = hm.sort_manifests(files, _head)
    assert [m.path for m in manifests] == ["c/templates/a.yaml", "c/templates/z.yaml"]


def test_sort_manifests_separates_hooks_and_skips_unknown_hook_events() -> None:
    files = {
        "c/templates/h.yaml": (
            "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install, Post-Upgrade\n"
            "---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: test-success\n"
            "---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: on-a-whim\n"
            "---\nkind: Pod\nmetadata:\n  annotations:\n    other: x\n"
        ),
    }
    hooks, manifests = hm.sort_manifests(files, _head)
    assert [(h.kind, h.events) for h in hooks] == [
        ("Pod", ("test-success",)),
        ("Job", ("pre-install", "post-upgrade")),
    ]
    assert [m.kind for m in manifests] == ["Pod"]
    assert hm.is_test_hook(hooks[0]) and not hm.is_test_hook(hooks[1])


def test_drop_notes_removes_every_notes_file() -> None:
    files = {"c/templates/NOTES.txt": "hi", "c/charts/s/templates/NOTES.txt": "x", "c/a.yaml": "a"}
    assert hm.drop_notes(files) == {"c/a.yaml": "a"}


# --- the post-render round trip -------------------------------------------------------------------


def _decode(path: str, doc: str) -> list[dict[str, Any]]:
    return [d for d in yamlv3.load_all(doc) if isinstance(d, dict)]


def _encode(doc: dict[str, Any]) -> str:
    return yamlv3.dump(doc, compact_sequences=True)


def test_post_render_annotates_every_document_for_the_post_renderer() -> None:
    seen: list[dict[str, Any]] = []

    def run(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.extend(copy.deepcopy(docs))
        return docs

    files = {"c/templates/b.yaml": "kind: B\n", "c/templates/a.yaml": "kind: A\nmetadata: {}\n"}
    hm.post_render(files, decode=_decode, run=run, encode=_encode)
    assert [d["kind"] for d in seen] == ["A", "B"]  # files in sorted order
    assert [d["metadata"]["annotations"][hm.FILENAME_ANNOTATION] for d in seen] == [
        "c/templates/a.yaml",
        "c/templates/b.yaml",
    ]


def test_post_render_regroups_by_filename_and_clears_empty_metadata() -> None:
    files = {
        "c/templates/a.yaml": (
            "kind: A\nspec:\n  l: [1, 2]\n---\nkind: A2\nmetadata:\n  annotations: {}\n"
        ),
        "c/templates/b.yaml": "kind: B\nmetadata:\n  annotations:\n    keep: x\n",
    }
    out = hm.post_render(files, decode=_decode, run=lambda docs: docs, encode=_encode)
    assert out == {
        "c/templates/a.yaml": "kind: A\nspec:\n  l:\n  - 1\n  - 2\n---\nkind: A2\n",
        "c/templates/b.yaml": "kind: B\nmetadata:\n  annotations:\n    keep: x\n",
    }


def test_post_render_names_documents_without_a_filename_like_helm() -> None:
    def run(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*docs, {"kind": "Extra"}]

    out = hm.post_render({"c/t/a.yaml": "kind: A\n"}, decode=_decode, run=run, encode=_encode)
    assert out["generated-by-postrender-1.yaml"] == "kind: Extra\n"


def test_post_render_refuses_a_non_mapping_metadata() -> None:
    with pytest.raises(HelmError, match="metadata is not a mapping"):
        hm.post_render(
            {"c/a.yaml": "kind: A\nmetadata: [1]\n"},
            decode=_decode,
            run=lambda d: d,
            encode=_encode,
        )


# --- helm template's output -----------------------------------------------------------------------


def test_template_output_prints_manifests_then_hooks_and_skips_tests() -> None:
    manifests = [hm.Manifest("c/templates/a.yaml", "kind: A\n\n", "A")]
    hooks = [
        hm.Manifest("c/templates/t.yaml", "kind: Pod", "Pod", ("test",)),
        hm.Manifest("c/templates/j.yaml", "kind: Job", "Job", ("pre-install",)),
    ]
    assert hm.template_output(manifests, hooks) == (
        "---\n# Source: c/templates/a.yaml\nkind: A\n"
        "---\n# Source: c/templates/t.yaml\nkind: Pod\n"
        "---\n# Source: c/templates/j.yaml\nkind: Job\n"
    )
    skipped = hm.template_output(manifests, hooks, skip_tests=True)
    assert "t.yaml" not in skipped and "j.yaml" in skipped
    assert hm.template_output(manifests, hooks, no_hooks=True).count("---") == 1


def test_template_output_of_a_chart_without_manifests_starts_with_a_newline() -> None:
    # template.go: fmt.Fprintln(TrimSpace("")) prints a lone newline
    hooks = [hm.Manifest("c/h.yaml", "kind: Job", "Job", ("post-install",))]
    assert hm.template_output([], hooks) == "\n---\n# Source: c/h.yaml\nkind: Job\n"


def test_crds_come_first_with_include_crds() -> None:
    out = hm.template_output(
        [hm.Manifest("c/a.yaml", "kind: A", "A")], [], crds=[("c/crds/x.yaml", "kind: CRD\n")]
    )
    assert out == "---\n# Source: c/crds/x.yaml\nkind: CRD\n\n---\n# Source: c/a.yaml\nkind: A\n"


# --- kyaml's encoder ------------------------------------------------------------------------------


def test_compact_sequences_are_not_indented_under_their_key() -> None:
    doc = {"a": [1, {"b": [2], "c": "x"}, [3, 4]], "m": {"l": ["q"]}, "e": []}
    assert yamlv3.dump(doc, compact_sequences=True) == (
        "a:\n- 1\n- b:\n  - 2\n  c: x\n- - 3\n  - 4\ne: []\nm:\n  l:\n  - q\n"
    )
    assert yamlv3.dump(doc) == (
        "a:\n  - 1\n  - b:\n      - 2\n    c: x\n  - - 3\n    - 4\ne: []\nm:\n  l:\n    - q\n"
    )
    assert yamlv3.dump([[1], {"a": [2]}], compact_sequences=True) == "- - 1\n- a:\n  - 2\n"
