"""`skaffold filter`: the post-renderer skaffold gives Helm (``cmd/skaffold/app/cmd/filter.go``).

Manifests in (``manifest.Load``: apimachinery's YAMLReader), the ``--set`` setters, the ``-l``
labels and the build artifacts' images applied, every document re-encoded
(``ManifestList.Visit``), joined by ``ManifestList.String``.  Used by ``skrender filter`` (the
binary engine's post-renderer) and in-process by the Helm SDK engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.errors import HelmError
from engine.golang import unicode

Build = tuple[str, str]  # (imageName, final image reference)


def filter_documents(
    docs: Sequence[Any],
    *,
    builds: Sequence[Build],
    labels: Mapping[str, str],
    rules: Any,
) -> list[dict[str, Any]]:
    """cmd/skaffold/app/cmd/filter.go runFilter on decoded documents: labels, then images.

    Every document is decoded and re-encoded (``ManifestList.Visit``); empty ones are dropped.
    """
    from engine.stages import rewrite

    kept = [doc for doc in docs if doc]
    if labels:
        kept = rewrite.add_labels(kept, labels, rules)
    return rewrite.replace_images(kept, dict(builds), rules)


def filter_manifests(
    text: str,
    *,
    builds: Sequence[Build],
    labels: Mapping[str, str],
    setters: Mapping[str, str],
    rules: Any,
) -> str:
    """`skaffold filter`: manifests on stdin, transformed, joined by ``ManifestList.String``."""
    from engine import yamlv3

    docs = decode_filter_input(text, setters)
    out = filter_documents(docs, builds=builds, labels=labels, rules=rules)
    return "\n---\n".join(yamlv3.dump(doc).strip(unicode.SPACE) for doc in out)


def decode_filter_input(text: str, setters: Mapping[str, str]) -> list[Any]:
    """``manifest.Load`` (apimachinery's YAMLReader), the setters, then Visit's decoding."""
    from engine import yamlv3
    from engine.stages import setters as setters_mod

    try:
        entries = yaml_reader_documents(text)
    except HelmError as exc:
        raise HelmError(f"loading manifests: {exc}") from None
    if setters:
        entries = setters_mod.apply_to_pieces(entries, setters)
    docs: list[Any] = []
    for entry in entries:
        loaded = yamlv3.load_all(
            entry.encode("utf-8", "surrogateescape"),
            source="reading Kubernetes YAML",
            string_keys=True,
        )
        if loaded and loaded[0] is not None:
            docs.append(loaded[0])
    return docs


def yaml_reader_documents(text: str) -> list[str]:
    """k8s.io/apimachinery ``YAMLReader``: the documents between ``---`` separator lines."""
    docs: list[str] = []
    buffer: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            after = line[3:].strip()
            if after and not after.startswith("#"):
                raise HelmError(f"error converting YAML to JSON: invalid separator {line!r}")
            if buffer:
                docs.append("".join(buffer))
                buffer = []
            continue
        buffer.append(line)
    if buffer:
        docs.append("".join(buffer))
    return docs
