"""What Helm 4 does between rendering a chart's templates and printing `helm template`.

Reproduced from Helm v4.2.3 (the version of the SDK skrender embeds) for the in-process engine:

* :func:`split_manifests` - ``pkg/release/v1/util/manifest.go: SplitManifests``;
* :func:`sort_manifests` - ``manifest_sorter.go: SortManifests`` (hooks and manifests, each
  stably sorted by kind in ``kind_sorter.go: InstallOrder``);
* :func:`post_render` - ``pkg/action/action.go: annotateAndMerge`` / ``splitAndDeannotate``
  around a post-renderer: every manifest *and hook* goes through it and comes back re-encoded
  by kyaml (block sequences not indented);
* :func:`template_output` - what ``pkg/cmd/template.go`` prints: the manifests, each after
  ``---`` and a ``# Source:`` line, then the hooks the same way.

Documents are handled as decoded values where Helm handles kyaml nodes: the post-renderer (skaffold
filter) decodes and re-encodes every document anyway, so what kyaml writes afterwards is the
yaml.v3 encoding of those values with compact sequences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import HelmError
from engine.golang import unicode

# action.go filenameAnnotation
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
# release/v1/hook.go
HOOK_ANNOTATION = "helm.sh/hook"
_NOTES_SUFFIX = "NOTES.txt"  # action.go notesFileSuffix

# manifest.go: sep
_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*", re.ASCII)  # Go: \s is ASCII

# kind_sorter.go InstallOrder
INSTALL_ORDER = (
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_INSTALL_RANK = {kind: rank for rank, kind in enumerate(INSTALL_ORDER)}

# manifest_sorter.go events
_HOOK_EVENTS = frozenset(
    (
        "pre-install",
        "post-install",
        "pre-delete",
        "post-delete",
        "pre-upgrade",
        "post-upgrade",
        "pre-rollback",
        "post-rollback",
        "test",
        "test-success",
    )
)


class Manifest(NamedTuple):
    """One document of a rendered template file (``releaseutil.Manifest`` / ``release.Hook``)."""

    path: str  # the template file, e.g. ``app/templates/deployment.yaml``
    content: str
    kind: str
    events: tuple[str, ...] = ()  # hook events; empty for a plain manifest


# --- SplitManifests / SortManifests ---------------------------------------------------------------


def split_manifests(text: str) -> list[str]:
    """``SplitManifests``: the non-blank documents of ``text``, left-trimmed, in order.

    (Helm returns a map keyed ``manifest-N``; every caller sorts it back by N.)
    """
    docs = _SEPARATOR.split(text.lstrip(unicode.SPACE))
    return [doc.lstrip(unicode.SPACE) for doc in docs if doc.strip(unicode.SPACE)]


def _is_skipped(path: str, content: str) -> bool:
    """Partials (``_helpers.tpl``) and blank files are neither manifests nor hooks."""
    return path.rsplit("/", 1)[-1].startswith("_") or not content.strip(unicode.SPACE)


def drop_notes(files: Mapping[str, str]) -> dict[str, str]:
    """renderResources: NOTES.txt files are rendered but are neither manifests nor hooks."""
    return {path: text for path, text in files.items() if not path.endswith(_NOTES_SUFFIX)}


def sort_manifests(
    files: Mapping[str, str], head: Callable[[str, str], Mapping[str, Any]]
) -> tuple[list[Manifest], list[Manifest]]:
    """``SortManifests(files, nil, InstallOrder)``: (hooks, manifests).

    ``head(path, document)`` decodes a document's ``kind`` and ``metadata`` the way Helm's
    ``SimpleHead`` does (sigs.k8s.io/yaml), raising :class:`HelmError` for a bad one.
    """
    hooks: list[Manifest] = []
    generic: list[Manifest] = []
    for path in sorted(files):
        content = files[path]
        if _is_skipped(path, content):
            continue
        for doc in split_manifests(content):
            entry = head(path, doc)
            kind = _string(entry.get("kind"))
            metadata = entry.get("metadata")
            annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
            if not annotations or HOOK_ANNOTATION not in annotations:
                generic.append(Manifest(path, doc, kind))
                continue
            events = _hook_events(str(annotations[HOOK_ANNOTATION]))
            if events is None:
                continue  # slog.Info("skipping unknown hooks"): Helm drops the document
            hooks.append(Manifest(path, doc, kind, events))
    return _by_kind(hooks), _by_kind(generic)


def _hook_events(value: str) -> tuple[str, ...] | None:
    events = tuple(part.strip(unicode.SPACE).lower() for part in value.split(","))
    if any(event not in _HOOK_EVENTS for event in events):
        return None
    return events


def _by_kind(manifests: list[Manifest]) -> list[Manifest]:
    """kind_sorter.go lessByKind, stable: known kinds by rank, then unknown kinds by name."""
    unknown = len(INSTALL_ORDER)
    return sorted(
        manifests,
        key=lambda m: (
            (0, _INSTALL_RANK[m.kind], "") if m.kind in _INSTALL_RANK else (1, unknown, m.kind)
        ),
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def is_test_hook(hook: Manifest) -> bool:
    """template.go isTestHook: any event ``test`` (``test-success`` is the same event)."""
    return any(event in ("test", "test-success") for event in hook.events)


# --- the post-render round trip -------------------------------------------------------------------


def post_render(
    files: Mapping[str, str],
    *,
    decode: Callable[[str, str], list[dict[str, Any]]],
    run: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    encode: Callable[[dict[str, Any]], str],
) -> dict[str, str]:
    """``annotateAndMerge`` -> post-renderer -> ``splitAndDeannotate``, Helm 4's combined strategy.

    ``decode(path, document)`` gives the documents kyaml reads from one split document (a
    ``List`` with ``items`` is unwrapped); ``run`` is the post-renderer, documents in and out;
    ``encode`` writes one document as kyaml does.  Returns the new file map.
    """
    merged: list[dict[str, Any]] = []
    for path in sorted(files):
        content = files[path]
        if _is_skipped(path, content):
            continue
        for doc in split_manifests(content):
            for node in decode(path, doc):
                _annotations(node)[FILENAME_ANNOTATION] = path
                merged.append(node)
    rendered = run(merged)
    by_file: dict[str, list[str]] = {}
    for index, node in enumerate(rendered):
        path = _take_filename(node) or f"generated-by-postrender-{index}.yaml"
        _clear_empty_annotations(node)
        by_file.setdefault(path, []).append(encode(node))
    # kio.StringAll: yaml.v3's Encoder separates documents with "---"
    return {path: "---\n".join(docs) for path, docs in by_file.items()}


def _annotations(node: dict[str, Any]) -> dict[str, Any]:
    """kyaml SetAnnotation: ``metadata.annotations``, created (at the end) when missing."""
    metadata = node.get("metadata")
    if not isinstance(metadata, dict):
        if metadata is not None:
            raise HelmError("error merging manifests: metadata is not a mapping")
        metadata = node["metadata"] = {}
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        if annotations is not None:
            raise HelmError("error merging manifests: metadata.annotations is not a mapping")
        annotations = metadata["annotations"] = {}
    return annotations


def _take_filename(node: dict[str, Any]) -> str:
    metadata = node.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return ""
    value = annotations.pop(FILENAME_ANNOTATION, "")
    return value if isinstance(value, str) else ""


def _clear_empty_annotations(node: dict[str, Any]) -> None:
    """kyaml ClearEmptyAnnotations: an empty ``annotations``, then an empty ``metadata``, go."""
    metadata = node.get("metadata")
    if isinstance(metadata, dict):
        if metadata.get("annotations") == {}:
            del metadata["annotations"]
        if not metadata:
            del node["metadata"]


# --- helm template's output -----------------------------------------------------------------------


def template_output(
    manifests: Sequence[Manifest],
    hooks: Sequence[Manifest],
    *,
    crds: Sequence[tuple[str, str]] = (),
    skip_tests: bool = False,
    no_hooks: bool = False,
) -> str:
    """pkg/cmd/template.go: ``TrimSpace(release manifest) + "\\n"``, then each hook."""
    release = "".join(f"---\n# Source: {name}\n{data}\n" for name, data in crds)
    release += "".join(f"---\n# Source: {m.path}\n{m.content}\n" for m in manifests)
    out = [release.strip(unicode.SPACE) + "\n"]
    if not no_hooks:
        for hook in hooks:
            if skip_tests and is_test_hook(hook):
                continue
            out.append(f"---\n# Source: {hook.path}\n{hook.content}\n")
    return "".join(out)
