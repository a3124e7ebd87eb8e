"""The typed view of a loaded skaffold config: raw dicts stop at :func:`engine.config.load`.

Only what rendering, tagging and building need is modelled; the whole upgraded, profiled
document stays available as ``Config.raw`` for anything rarer.  Field names are snake_case
versions of skaffold's camelCase keys (``buildArgs`` -> ``build_args``).

Paths of a *root* config (one from the ``-f`` file) are kept as written: skaffold resolves
them against the process working directory.  Paths of a *dependency* config (reached via
``requires`` from another file) have already been made absolute against that file's
directory, as skaffold does (``pkg/skaffold/parser/config.go``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# skaffold's keyword for every tag policy, in the declaration order of latest.TagPolicy
TAG_POLICY_KINDS = (
    "gitCommit",
    "sha256",
    "envTemplate",
    "dateTime",
    "customTemplate",
    "inputDigest",
)


@dataclass(frozen=True)
class TagPolicy:
    """One tag policy: ``kind`` is skaffold's keyword, ``options`` its mapping as written.

    gitCommit: variant, prefix, ignoreChanges; envTemplate: template; dateTime: format,
    timezone; customTemplate: template, components (list of {name, <policy>: {...}}).
    """

    kind: str = "gitCommit"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DockerArtifact:
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    target: str | None = None
    network: str | None = None
    cache_from: tuple[str, ...] = ()
    no_cache: bool = False
    pull_parent: bool = False
    squash: bool = False
    add_host: tuple[str, ...] = ()
    secrets: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ArtifactDependency:
    image: str
    alias: str | None = None


@dataclass(frozen=True)
class Artifact:
    """``build.artifacts[]``.  ``builder`` is skaffold's keyword (docker, jib, bazel, ko, ...)."""

    image: str
    context: str = "."
    builder: str = "docker"
    docker: DockerArtifact | None = field(default_factory=DockerArtifact)
    requires: tuple[ArtifactDependency, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Kustomize:
    paths: tuple[str, ...] = ()
    build_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifests:
    raw_yaml: tuple[str, ...] = ()
    kustomize: Kustomize | None = None
    # Renderers skrender does not run itself are kept raw so their presence can be reported.
    helm: Mapping[str, Any] | None = None
    kpt: tuple[str, ...] = ()
    remote_manifests: tuple[Mapping[str, Any], ...] = ()
    hooks: Mapping[str, Any] | None = None
    transform: tuple[Mapping[str, Any], ...] = ()
    validate: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SelectorRule:
    """``resourceSelector.allow[]`` / ``deny[]`` entry (``groupKind`` is ``Kind.group``)."""

    group_kind: str
    image: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    pod_spec: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalBuild:
    push: bool | None = None
    concurrency: int | None = None
    use_buildkit: bool | None = None
    try_import_missing: bool = False


@dataclass(frozen=True)
class Config:
    """One selected skaffold config document, upgraded to the latest schema, profiles applied."""

    source_file: str  # absolute path of the file holding this document
    index: int  # position of the document in its file
    is_root: bool  # from the -f file (paths relative to CWD) or a dependency (absolutized)
    name: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    tag_policy: TagPolicy = field(default_factory=TagPolicy)
    local: LocalBuild | None = None
    insecure_registries: tuple[str, ...] = ()
    manifests: Manifests = field(default_factory=Manifests)
    allow: tuple[SelectorRule, ...] = ()
    deny: tuple[SelectorRule, ...] = ()
    legacy_helm: Mapping[str, Any] | None = None  # deploy.helm, rendered after manifests
    active_profiles: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """How skaffold names a config in messages."""
        return self.name if self.name else f"unnamed config[{self.index}]"
