"""The typed view of a loaded skaffold config.

Raw dicts stop at :func:`engine.skaffold.config.load`.

Only what rendering, tagging and building need is modelled; the whole upgraded, profiled
document stays available as ``Config.raw`` for anything rarer.  Field names are snake_case
versions of skaffold's camelCase keys (``buildArgs`` -> ``build_args``).

Paths of a *root* config (one from the ``-f`` file) are kept as written: skaffold resolves
them against the process working directory.  Paths of a *dependency* config (reached via
``requires`` from another file) have already been made absolute against that file's
directory, as skaffold does (``pkg/skaffold/parser/config.go``).

The records are immutable once loaded.  They are ``typing.NamedTuple`` classes rather than
frozen dataclasses: creating a NamedTuple class costs a fifth of a dataclass and needs no
``dataclasses`` import (inspect, ast, dis, ...), which matters to the start-up time of every
`skrender render`.  Copies with changes are made with ``record._replace(field=value)``;
mapping defaults are one shared read-only empty mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

# skaffold's keyword for every tag policy, in the declaration order of latest.TagPolicy
TAG_POLICY_KINDS = (
    "gitCommit",
    "sha256",
    "envTemplate",
    "dateTime",
    "customTemplate",
    "inputDigest",
)

# The default of every mapping field: shared, so read-only
EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})


class TagPolicy(NamedTuple):
    """One tag policy: ``kind`` is skaffold's keyword, ``options`` its mapping as written.

    gitCommit: variant, prefix, ignoreChanges; envTemplate: template; dateTime: format,
    timezone; customTemplate: template, components (list of {name, <policy>: {...}}).
    """

    kind: str = "gitCommit"
    options: Mapping[str, Any] = EMPTY_MAPPING


class DockerArtifact(NamedTuple):
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str | None] = EMPTY_MAPPING
    target: str | None = None
    network: str | None = None
    cache_from: tuple[str, ...] = ()
    no_cache: bool = False
    pull_parent: bool = False
    squash: bool = False
    add_host: tuple[str, ...] = ()
    secrets: tuple[Mapping[str, Any], ...] = ()


class ArtifactDependency(NamedTuple):
    image: str
    alias: str | None = None


class Artifact(NamedTuple):
    """``build.artifacts[]``.  ``builder`` is skaffold's keyword (docker, jib, bazel, ko, ...)."""

    image: str
    context: str = "."
    builder: str = "docker"
    docker: DockerArtifact | None = DockerArtifact()
    requires: tuple[ArtifactDependency, ...] = ()
    raw: Mapping[str, Any] = EMPTY_MAPPING


class Kustomize(NamedTuple):
    paths: tuple[str, ...] = ()
    build_args: tuple[str, ...] = ()


class Manifests(NamedTuple):
    raw_yaml: tuple[str, ...] = ()
    kustomize: Kustomize | None = None
    # Renderers skrender does not run itself are kept raw so their presence can be reported.
    helm: Mapping[str, Any] | None = None
    kpt: tuple[str, ...] = ()
    remote_manifests: tuple[Mapping[str, Any], ...] = ()
    hooks: Mapping[str, Any] | None = None
    transform: tuple[Mapping[str, Any], ...] = ()
    validate: tuple[Mapping[str, Any], ...] = ()


class SelectorRule(NamedTuple):
    """``resourceSelector.allow[]`` / ``deny[]`` entry (``groupKind`` is ``Kind.group``)."""

    group_kind: str
    image: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    pod_spec: tuple[str, ...] = ()


class LocalBuild(NamedTuple):
    push: bool | None = None
    concurrency: int | None = None
    use_buildkit: bool | None = None
    try_import_missing: bool = False


class Config(NamedTuple):
    """One selected skaffold config document, upgraded to the latest schema, profiles applied."""

    source_file: str  # absolute path of the file holding this document
    index: int  # type: ignore[assignment]  # position in its file (shadows tuple.index)
    is_root: bool  # from the -f file (paths relative to CWD) or a dependency (absolutized)
    name: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    tag_policy: TagPolicy = TagPolicy()
    local: LocalBuild | None = None
    insecure_registries: tuple[str, ...] = ()
    manifests: Manifests = Manifests()
    allow: tuple[SelectorRule, ...] = ()
    deny: tuple[SelectorRule, ...] = ()
    legacy_helm: Mapping[str, Any] | None = None  # deploy.helm, rendered after manifests
    active_profiles: tuple[str, ...] = ()
    raw: Mapping[str, Any] = EMPTY_MAPPING
    is_remote: bool = False  # from a requires[].git clone: rawYaml existence is not checked

    @property
    def display_name(self) -> str:
        """How skaffold names a config in messages."""
        return self.name if self.name else f"unnamed config[{self.index}]"
