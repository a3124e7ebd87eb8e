"""The checks skaffold runs on the selected configs before rendering, with its wording.

Follows ``pkg/skaffold/schema/validation/validation.go`` (``Process`` and the config-only part
of ``ProcessWithRunContext``), in its order: image names across configs; per config the
yamltags rules, docker network modes, custom dependencies, sync rules, port-forward resource
types, Jib plugin types, ko inferred sync, log prefixes, artifact types against the builder,
the tagging policy, custom tests and the Cloud Build worker pool; then artifact dependencies
(unique and valid aliases, no unknown or cyclic ``requires``) across configs; then ``verify``
test and custom action names.  ``validateKubectlManifests`` lives in
:func:`engine.stages.sources.validate_raw_yaml` (it globs the file system).

skaffold prefixes every message with ``source: <file>, in module "<name>"`` (or ``in unnamed
config[<i>]``) once per selected config (``wrapWithContext``, applied in a loop); the
``on line L column C`` part of its messages is not reproduced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.skaffold.upgrade import flat_fields, schema_types

_ALIAS_PATTERN = "^[a-zA-Z_][a-zA-Z0-9_]*$"
_ALIAS_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_CONTAINER_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_WORKER_POOL_RE = re.compile(r"projects/[^/]*/locations/[^/]*/workerPools/[^/]*")
_PORT_FORWARD_TYPES = frozenset(
    {
        "container", "pod", "deployment", "service", "replicaset", "replicationcontroller",
        "statefulset", "daemonset", "cronjob", "job",
    }
)  # fmt: skip
_LOG_PREFIXES = ("", "auto", "container", "podAndContainer", "none")
# misc.ArtifactType: the builder named in messages, in skaffold's order of precedence.
_ARTIFACT_TYPES = (
    ("docker", "docker"), ("kaniko", "kaniko"), ("bazel", "bazel"), ("jib", "jib"),
    ("custom", "custom"), ("buildpacks", "buildpack"), ("ko", "ko"),
)  # fmt: skip
_BUILDERS_DOC = "https://skaffold.dev/docs/pipeline-stages/builders/"
_TAGGERS_DOC = "https://skaffold.dev/docs/how-tos/taggers/"
_IMAGE_RE = re.compile(
    r"^(?P<name>[a-zA-Z0-9._\-/:]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


class Source(NamedTuple):
    """One selected config: its (defaulted) document and how messages name it."""

    doc: Mapping[str, Any]
    where: str  # source: <file>, in module "<name>" | in unnamed config[<i>]
    file: str = ""  # the config's source file


def problems(sources: Sequence[Source], env: Mapping[str, str] | None = None) -> list[str]:
    """Every message skaffold's validation prints for ``sources``, wrapped and de-duplicated.

    ``env`` expands templates in docker network modes, as skaffold does with its environment.
    """
    found = _image_names(sources)
    for source in sources:
        doc = source.doc
        artifacts = _artifacts(doc)
        found += _yamltags(doc, "SkaffoldConfig")
        if not doc.get("kind"):
            found.append("required value not set: kind")
        found += _network_modes(artifacts, env or {})
        found += _custom_dependencies(artifacts)
        found += _sync_rules(artifacts)
        found += _port_forward(doc)
        found += _jib_types(artifacts)
        found += _ko_sync(artifacts)
        found += _log_prefix(doc)
        found += _artifact_types(_mapping(doc.get("build")), artifacts)
        found += _tagging_policy(_mapping(doc.get("build")))
        found += _custom_tests(doc)
        found += _gcb(_mapping(doc.get("build")))
    every = [a for source in sources for a in _artifacts(source.doc)]
    found += _unique_aliases(every)
    found += _acyclic(every)
    found += _valid_aliases(every)
    # Process wraps every message with the context of each config in turn (validation.go).
    wrapped = []
    for message in found:
        for source in sources:
            message = f"{source.where}: {message}"
        wrapped.append(message)
    return list(dict.fromkeys(wrapped))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _artifacts(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [a for a in _list(_mapping(doc.get("build")).get("artifacts")) if isinstance(a, Mapping)]


def _image(art: Mapping[str, Any]) -> str:
    image = art.get("image")
    return "" if image is None else str(image)


def _q(text: str) -> str:
    """Go's %q for messages."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# ---------------------------------------------------------------- image names


def _image_names(sources: Sequence[Source]) -> list[str]:
    """validateImageNames: unique across configs, parseable, without tag or digest."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for source in sources:
        for art in _artifacts(source.doc):
            image = _image(art)
            if image in seen:
                message = (
                    f"duplicate image {_q(image)} found in sources {seen[image]} and "
                    f"{source.file}: artifact image names must be unique across all configurations"
                )
                out += [message, message]
                continue
            seen[image] = source.file
            problem = image_problem(image)
            if problem:
                out.append(f"{source.where}: {problem}")  # wrapped here, and again by Process
    return out


def image_problem(image: str) -> str | None:
    """Why an artifact image name is invalid (docker.ParseReference, no tag, no digest)."""
    name = image.removeprefix("ko://")
    m = _IMAGE_RE.match(name)
    if m is None or not m.group("name"):
        return f"invalid image {_q(name)}: invalid reference format"
    last = m.group("name").rsplit("/", 1)[-1]
    if m.group("tag") is not None and ":" not in last:
        return (
            f"invalid image {_q(name)}: no tag should be specified. "
            f"Use taggers instead: {_TAGGERS_DOC}"
        )
    if m.group("digest") is not None:
        return (
            f"invalid image {_q(name)}: no digest should be specified. "
            f"Use taggers instead: {_TAGGERS_DOC}"
        )
    return None


# ---------------------------------------------------------------- yamltags


def _yamltags(value: Any, typ: str) -> list[str]:
    """yamltags.ValidateStruct over the latest schema: required fields and one-of sets."""
    types = schema_types("latest")
    if typ.startswith("[]"):
        return [e for item in _list(value) for e in _yamltags(item, typ[2:])]
    if typ.startswith("map:"):
        return [e for item in _mapping(value).values() for e in _yamltags(item, typ[4:])]
    if typ not in types or not isinstance(value, Mapping):
        return []
    errors: list[str] = []
    one_of: dict[str, str] = {}
    for key, (go, ftyp, flags) in flat_fields("latest", typ).items():
        item = value.get(key)
        if "required" in flags and item in (None, "", 0, [], {}) and item is not False:
            if ftyp in types and item == {} and "ptr" not in flags:
                pass
            elif not (ftyp in types and isinstance(item, Mapping)):
                errors.append(f"required value not set: {key}")
        for flag in flags:
            if flag.startswith("oneOf=") and item is not None:
                group = flag[len("oneOf=") :]
                if group in one_of:
                    errors.append(
                        f"only one element in set {group} can be set. got {one_of[group]} and {go}"
                    )
                else:
                    one_of[group] = go
        if item is not None:  # an absent field holds nothing to check (most of the schema)
            errors += _yamltags(item, ftyp)
    return errors


# ---------------------------------------------------------------- per config


def _network_modes(artifacts: Sequence[Mapping[str, Any]], env: Mapping[str, str]) -> list[str]:
    """validateDockerNetworkMode: ``container:<name|id>`` must name a valid container (the
    name may be an env template)."""
    out: list[str] = []
    for art in artifacts:
        mode = str(_mapping(art.get("docker")).get("network") or "")
        if not mode.lower().startswith("container:"):
            continue
        from engine.core.errors import SkrenderError
        from engine.golang import texttemplate  # only for these (start-up time)

        container = mode.split(":", 1)[1]
        try:
            container = texttemplate.expand(container, env, name="envTemplate")
        except SkrenderError as exc:
            out.append(f"unable to parse container name {mode}: {exc}")
            continue
        if not _CONTAINER_RE.fullmatch(container):
            out.append(f"artifact {_image(art)} has invalid container name '{container}'")
    return out


def _custom_dependencies(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        deps = _mapping(_mapping(art.get("custom")).get("dependencies"))
        if deps.get("ignore") is None:
            continue
        if deps.get("dockerfile") is not None or deps.get("command"):
            out.append(
                f"artifact {_image(art)} has invalid dependencies; dependencies.ignore can only "
                "be used in conjunction with dependencies.paths"
            )
    return out


def _sync_rules(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        for rule in _list(_mapping(art.get("sync")).get("manual")):
            rule = _mapping(rule)
            src, strip = str(rule.get("src") or ""), str(rule.get("strip") or "")
            if not src.startswith(strip):
                out.append(f"sync rule pattern '{src}' does not have prefix '{strip}'")
    return out


def _port_forward(doc: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for resource in _list(doc.get("portForward")):
        kind = str(_mapping(resource).get("resourceType") or "")
        if kind.lower() not in _PORT_FORWARD_TYPES:
            out.append(f"{kind} is not a valid resource type for port forwarding")
    return out


def _jib_types(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        kind = str(_mapping(art.get("jib")).get("type") or "").lower()
        if kind and kind not in ("maven", "gradle"):
            out.append(f"artifact {_image(art)} has invalid Jib plugin type '{kind}'")
    return out


def _ko_sync(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        ko, sync = art.get("ko"), art.get("sync")
        if not isinstance(ko, Mapping) or not isinstance(sync, Mapping):
            continue
        infer = [str(p) for p in _list(sync.get("infer"))]
        if infer and "..." in str(ko.get("main") or ""):
            out.append(
                f"artifact {_image(art)} cannot use inferred file sync when the ko.main field "
                "contains the '...' wildcard. Instead, specify the path to the main package "
                "without using wildcards"
            )
        for pattern in infer:
            if "kodata" not in pattern:
                out.append(
                    f"artifact {_image(art)} has an invalid pattern {pattern} for inferred file "
                    "sync with the ko builder. The pattern must specify the 'kodata' directory. "
                    "For instance, if you want to sync all static content, and your main package "
                    "is in the workspace directory, you can use the pattern 'kodata/**/*'"
                )
    return out


def _log_prefix(doc: Mapping[str, Any]) -> list[str]:
    prefix = _mapping(_mapping(doc.get("deploy")).get("logs")).get("prefix")
    prefix = "" if prefix is None else str(prefix)
    if prefix in _LOG_PREFIXES:
        return []
    return [
        f"invalid log prefix '{prefix}'. Valid values are 'auto', 'container', "
        "'podAndContainer' or 'none'"
    ]


def artifact_type(art: Mapping[str, Any]) -> str:
    """misc.ArtifactType: the first builder set, in skaffold's order."""
    return next((name for key, name in _ARTIFACT_TYPES if art.get(key) is not None), "")


def _artifact_types(build: Mapping[str, Any], artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    """validateArtifactTypes: builders the local, gcb or cluster build cannot run."""
    if build.get("local") is not None:
        builder, fix = "local", "add the 'cluster' stanza to"

        def refused(kind: str) -> bool:
            return kind == "kaniko"

    elif build.get("googleCloudBuild") is not None:
        builder, fix = "gcb", "remove the 'googleCloudBuild' stanza from"

        def refused(kind: str) -> bool:
            return kind not in ("kaniko", "docker", "jib", "buildpack", "ko")

    elif build.get("cluster") is not None:
        builder, fix = "cluster", "remove the 'cluster' stanza from"

        def refused(kind: str) -> bool:
            return kind not in ("kaniko", "custom")

    else:
        return []
    out: list[str] = []
    for art in artifacts:
        kind = artifact_type(art)
        if refused(kind):
            out.append(
                f"found a '{kind}' artifact, which is incompatible with the '{builder}' builder:"
                f"\n\n{_format_artifact(art)}\n\nTo use the '{kind}' builder, {fix} the 'build' "
                f"section of your configuration. For information, see {_BUILDERS_DOC}"
            )
    return out


def _format_artifact(art: Mapping[str, Any]) -> str:
    """misc.FormatArtifact: the artifact as YAML."""
    from engine import yamlv3

    return str(yamlv3.dump(dict(art))).strip()


def _tagging_policy(build: Mapping[str, Any]) -> list[str]:
    local = build.get("local")
    policy = _mapping(build.get("tagPolicy"))
    sha256 = policy.get("sha256") is not None
    if isinstance(local, Mapping) and local.get("tryImportMissing") and sha256:
        return ["tagging policy 'sha256' can not be used when 'tryImportMissing' is enabled"]
    return []


def _custom_tests(doc: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for test in _list(doc.get("test")):
        for custom in _list(_mapping(test).get("custom")):
            custom = _mapping(custom)
            if not custom.get("command"):
                out.append("custom test command must not be empty;")
                return out
            deps = custom.get("dependencies")
            if not isinstance(deps, Mapping):
                continue
            if deps.get("command") and deps.get("paths") is not None:
                out.append("dependencies can use either command or paths, but not both")
            if deps.get("paths") is None and deps.get("ignore") is not None:
                out.append(
                    "customTest has invalid dependencies; dependencies.ignore can only be used in "
                    "conjunction with dependencies.paths"
                )
    return out


def _gcb(build: Mapping[str, Any]) -> list[str]:
    pool = _mapping(build.get("googleCloudBuild")).get("workerPool")
    if pool and not _WORKER_POOL_RE.search(str(pool)):
        return [
            "invalid value for worker pool. Must match pattern "
            "projects/{project}/locations/{location}/workerPools/{worker_pool}"
        ]
    return []


# ---------------------------------------------------------------- artifact dependencies


def _requires(art: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(image, alias) of each ``requires`` entry; the alias defaults to the image."""
    out = []
    for dep in _list(art.get("requires")):
        dep = _mapping(dep)
        image = "" if dep.get("image") is None else str(dep.get("image"))
        alias = "" if dep.get("alias") is None else str(dep.get("alias"))
        out.append((image, alias or image))
    return out


def _unique_aliases(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        state: dict[str, int] = {}
        for _, alias in _requires(art):
            if state.get(alias) == 1:
                out.append(
                    f"invalid build dependency for artifact {_q(_image(art))}: "
                    f"alias {_q(alias)} repeated"
                )
                state[alias] = 2
            elif alias not in state:
                state[alias] = 1
    return out


def _acyclic(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    """validateAcyclicDependencies: the first unknown or cyclic ``requires`` found."""
    by_image = {_image(a): a for a in artifacts}
    visited: set[str] = set()
    for art in artifacts:
        problem = _dfs(art, visited, set(), by_image)
        if problem:
            return [problem]
    return []


def _dfs(
    art: Mapping[str, Any], visited: set[str], marked: set[str], by_image: Mapping[str, Any]
) -> str | None:
    image = _image(art)
    if image in marked:
        return f"cycle detected in build dependencies involving {_q(image)}"
    if image in visited:
        return None
    visited.add(image)
    marked.add(image)
    try:
        for required, _ in _requires(art):
            dependency = by_image.get(required)
            if dependency is None:
                return f"unknown build dependency {_q(required)} for artifact {_q(image)}"
            problem = _dfs(dependency, visited, marked, by_image)
            if problem:
                return problem
    finally:
        marked.discard(image)
    return None


def _valid_aliases(artifacts: Sequence[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for art in artifacts:
        if art.get("docker") is None and art.get("custom") is None:
            continue
        for _, alias in _requires(art):
            if not _ALIAS_RE.fullmatch(alias):
                out.append(
                    f"invalid build dependency for artifact {_q(_image(art))}: alias {_q(alias)} "
                    f"doesn't match required pattern {_q(_ALIAS_PATTERN)}"
                )
    return out


# ---------------------------------------------------------------- with the run context


def run_context_problems(docs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The config-only checks of ProcessWithRunContext: ``verify`` test and custom action
    names (the Docker network container check needs an engine: engine.pipeline)."""
    tests = [_mapping(t) for doc in docs for t in _list(doc.get("verify"))]
    actions = [_mapping(a) for doc in docs for a in _list(doc.get("customActions"))]
    out: list[str] = []
    seen_tests: set[str] = set()
    seen_containers: set[str] = set()
    for test in tests:
        name = _text(test.get("name"))
        container = _text(_mapping(test.get("container")).get("name"))
        if name in seen_tests:
            out.append(
                f"found duplicate test name '{name}' in 'verify' test cases. 'verify' test case "
                "names must be unique"
            )
        if container in seen_containers:
            out.append(
                f"found duplicate container name '{container}' in 'verify' test cases. 'verify' "
                "container names must be unique"
            )
        seen_tests.add(name)
        seen_containers.add(container)
    for action in actions:
        if not _list(action.get("containers")):
            out.append(
                f"custom action {_text(action.get('name'))} doesn't have containers. custom "
                "actions must have one or more containers associated"
            )
    seen_actions: set[str] = set()
    seen_action_containers: set[str] = set()
    for action in actions:
        name = _text(action.get("name"))
        if name in seen_actions:
            out.append(f"found duplicate custom action {name}. Custom action names must be unique")
        for container in _list(action.get("containers")):
            cname = _text(_mapping(container).get("name"))
            if cname in seen_action_containers:
                out.append(
                    f"found duplicate container name {cname} in custom action. Container names "
                    "must be unique"
                )
            seen_action_containers.add(cname)
        seen_actions.add(name)
    for action in actions:
        mode = _mapping(action.get("executionMode"))
        if mode.get("kubernetesCluster") is not None and mode.get("local") is not None:
            out.append(
                f"custom action {_text(action.get('name'))} have more than one execution mode "
                "defined. custom actions must have only one execution mode"
            )
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)
