"""skaffold's base transform of manifest documents: images, labels, namespace.

Values in, values out: documents are plain Python values (dict / list / scalars) and every
function returns new documents, leaving its input untouched.  The traversal reproduces
``pkg/skaffold/kubernetes/manifest/visitor.go``: allow-listed documents are walked recursively,
other documents only at their top level; list indices are not part of a field's path.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.core.errors import ConfigError, ManifestError
from engine.skaffold.schema import SelectorRule
from engine.stages.naming import sanitize_image_name, try_parse_reference

GroupKind = tuple[str, str]  # (group, kind)


class _Filter(NamedTuple):
    """One ``latest.ResourceFilter`` after ``ConvertJSONPathIndex``."""

    image: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    pod_spec: tuple[str, ...] = ()


class TransformRules(NamedTuple):
    """The effective allowlist and denylist, keyed by (group, kind)."""

    allow: Mapping[GroupKind, _Filter] = MappingProxyType({})
    deny: Mapping[GroupKind, _Filter] = MappingProxyType({})


_ALL = (".*",)
_WORKLOAD = _Filter(_ALL, _ALL, _ALL)
_CUSTOM = _Filter(_ALL, _ALL)
_CONFLUENT = _Filter((".spec.image.application", ".spec.image.init"), _ALL)

# visitor.go TransformAllowlist / TransformDenylist
_DEFAULT_ALLOW: dict[GroupKind, _Filter] = {
    ("", "Pod"): _WORKLOAD,
    ("", "Service"): _WORKLOAD,
    ("apps", "DaemonSet"): _WORKLOAD,
    ("apps", "Deployment"): _WORKLOAD,
    ("apps", "ReplicaSet"): _WORKLOAD,
    ("apps", "StatefulSet"): _WORKLOAD,
    ("batch", "CronJob"): _WORKLOAD,
    ("batch", "Job"): _WORKLOAD,
    ("extensions", "DaemonSet"): _WORKLOAD,
    ("extensions", "Deployment"): _WORKLOAD,
    ("extensions", "ReplicaSet"): _WORKLOAD,
    ("serving.knative.dev", "Service"): _CUSTOM,
    ("agones.dev", "Fleet"): _CUSTOM,
    ("agones.dev", "GameServer"): _CUSTOM,
    ("argoproj.io", "Rollout"): _CUSTOM,
    ("argoproj.io", "Workflow"): _CUSTOM,
    ("argoproj.io", "CronWorkflow"): _CUSTOM,
    ("argoproj.io", "WorkflowTemplate"): _CUSTOM,
    ("argoproj.io", "ClusterWorkflowTemplate"): _CUSTOM,
    ("platform.confluent.io", "Connect"): _CONFLUENT,
    ("platform.confluent.io", "ControlCenter"): _CONFLUENT,
    ("platform.confluent.io", "Kafka"): _CONFLUENT,
    ("platform.confluent.io", "KsqlDB"): _CONFLUENT,
    ("platform.confluent.io", "SchemaRegistry"): _CONFLUENT,
    ("platform.confluent.io", "Zookeeper"): _CONFLUENT,
    ("run.googleapis.com", "Job"): _CUSTOM,
    ("run.googleapis.com", "WorkerPool"): _CUSTOM,
    ("kafka.strimzi.io", "KafkaConnect"): _Filter((".spec.image",), _ALL),
    ("kafka.strimzi.io", "Kafka"): _Filter(
        (
            ".spec.kafka.image",
            ".spec.zookeeper.image",
            ".spec.entityOperator.topicOperator.image",
            ".spec.entityOperator.userOperator.image",
            ".spec.kafkaExporter.image.",  # sic: trailing dot, never matches (visitor.go)
        ),
        _ALL,
    ),
}
_DEFAULT_DENY: dict[GroupKind, _Filter] = {
    ("apps", "StatefulSet"): _Filter(labels=(".spec.volumeClaimTemplates.metadata.labels",)),
    ("batch", "Job"): _Filter(labels=(".spec.template.metadata.labels",)),
}

# selector.go ConfigConnectorResourceSelector: an unanchored search on the group
_CONFIG_CONNECTOR_RE = re.compile(r"([A-Za-z]+\.)+cnrm\.cloud\.google\.com")


# --- rules ----------------------------------------------------------------------------------------
def parse_group_kind(group_kind: str) -> GroupKind:
    """apimachinery ``ParseGroupKind``: ``Kind.group`` split at the first dot."""
    kind, _, group = group_kind.partition(".")
    return group, kind


def _convert_paths(paths: Sequence[str]) -> tuple[str, ...]:
    # util.go ConvertJSONPathIndex: every ".*" substring goes, unless the path is exactly ".*"
    return tuple(p if p == ".*" else p.replace(".*", "") for p in paths)


def _to_filter(rule: SelectorRule) -> _Filter:
    return _Filter(
        _convert_paths(rule.image), _convert_paths(rule.labels), _convert_paths(rule.pod_spec)
    )


def _apply_rules(
    allow: dict[GroupKind, _Filter],
    deny: dict[GroupKind, _Filter],
    allow_rules: Sequence[SelectorRule],
    deny_rules: Sequence[SelectorRule],
) -> None:
    for rule in allow_rules:
        gk = parse_group_kind(rule.group_kind)
        allow[gk] = _to_filter(rule)
        deny.pop(gk, None)
    for rule in deny_rules:
        gk = parse_group_kind(rule.group_kind)
        deny[gk] = _to_filter(rule)
        allow.pop(gk, None)


def build_rules(
    allow: Sequence[SelectorRule] = (),
    deny: Sequence[SelectorRule] = (),
    *,
    file_allow: Sequence[SelectorRule] = (),
    file_deny: Sequence[SelectorRule] = (),
) -> TransformRules:
    """skaffold's defaults, then the configs' rules, then the rules file's
    (util.go ``ConsolidateTransformConfiguration``).

    Each source applies its allow entries and then its deny entries; an allow entry replaces the
    GroupKind's entry and removes it from the denylist, a deny entry the reverse.  Passing the
    file's rules as ``file_allow``/``file_deny`` keeps skaffold's exact order (config deny before
    file allow); concatenating them into ``allow``/``deny`` only differs when both name a kind.
    """
    allow_map = dict(_DEFAULT_ALLOW)
    deny_map = dict(_DEFAULT_DENY)
    _apply_rules(allow_map, deny_map, allow, deny)
    _apply_rules(allow_map, deny_map, file_allow, file_deny)
    return TransformRules(allow_map, deny_map)


def filter_rules(
    allow: Sequence[SelectorRule] = (), deny: Sequence[SelectorRule] = ()
) -> TransformRules:
    """The rules of `skaffold filter` (cmd/skaffold/app/cmd/filter.go ``getTransformList``):
    the defaults, then every config's allow and deny entries, each list set on its own (an
    entry does not leave the other list, unlike :func:`build_rules`); no rules file."""
    allow_map = dict(_DEFAULT_ALLOW)
    deny_map = dict(_DEFAULT_DENY)
    for rule in allow:
        allow_map[parse_group_kind(rule.group_kind)] = _to_filter(rule)
    for rule in deny:
        deny_map[parse_group_kind(rule.group_kind)] = _to_filter(rule)
    return TransformRules(allow_map, deny_map)


def load_rules_file(text: str, source: str) -> tuple[list[SelectorRule], list[SelectorRule]]:
    """Parse ``--resource-selector-rules-file`` (YAML or JSON ``{allow: [...], deny: [...]}``).

    Like skaffold's non-strict yaml.Unmarshal: unknown keys are ignored, only the first document
    counts.  ConfigError naming the file and field on content of the wrong shape.
    """
    from engine import yamlv3
    from engine.core.errors import YamlError

    try:
        # skaffold's yaml.Unmarshal is yaml.v3's: the same decoder as for skaffold.yaml
        docs = yamlv3.load_all(text, source=source, string_keys=True)
    except YamlError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    data = docs[0] if docs else None
    if data is None:
        return [], []
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: cannot unmarshal {_yaml_kind(data)} into ResourceSelectorConfig"
        )
    return _rule_list(data.get("allow"), source, "allow"), _rule_list(
        data.get("deny"), source, "deny"
    )


def _rule_list(value: object, source: str, key: str) -> list[SelectorRule]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {key}: cannot unmarshal {_yaml_kind(value)} into a list")
    rules: list[SelectorRule] = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: {where}: cannot unmarshal {_yaml_kind(entry)} into a map")
        rules.append(
            SelectorRule(
                group_kind=_scalar_text(entry.get("groupKind"), source, f"{where}.groupKind"),
                image=_string_list(entry.get("image"), source, f"{where}.image"),
                labels=_string_list(entry.get("labels"), source, f"{where}.labels"),
                pod_spec=_string_list(entry.get("podSpec"), source, f"{where}.podSpec"),
            )
        )
    return rules


def _scalar_text(value: object, source: str, where: str) -> str:
    # yaml.v3 decodes any scalar into a string field; null leaves it empty
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ConfigError(f"{source}: {where}: cannot unmarshal {_yaml_kind(value)} into string")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _string_list(value: object, source: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {where}: cannot unmarshal {_yaml_kind(value)} into []string")
    return tuple(_scalar_text(item, source, f"{where}[{i}]") for i, item in enumerate(value))


def _yaml_kind(value: object) -> str:
    if isinstance(value, dict):
        return "!!map"
    if isinstance(value, list):
        return "!!seq"
    return "!!" + _scalar_tag(value)


# --- traversal (visitor.go) -----------------------------------------------------------------------
# A visitor gets (group-kind, path, parent map, key, value) and returns True to descend.
Visitor = Callable[[GroupKind, str, dict[str, Any], str, Any], bool]


def _is_string_map(value: object) -> bool:
    """yaml.v3 decodes a mapping to map[string]interface{} only when every key is a string;
    the visitor never enters the other (map[interface{}]interface{}) maps."""
    return isinstance(value, dict) and all(isinstance(k, str) for k in value)


def _group_kind(doc: Mapping[str, Any]) -> GroupKind:
    """apimachinery ``FromAPIVersionAndKind`` (non-string apiVersion/kind count as "")."""
    api_version = doc.get("apiVersion")
    kind = doc.get("kind")
    api_version = api_version if isinstance(api_version, str) else ""
    kind = kind if isinstance(kind, str) else ""
    if api_version in ("", "/"):
        return "", kind
    slashes = api_version.count("/")
    if slashes == 1:
        return api_version.split("/", 1)[0], kind
    return "", kind  # no slash: core group; more than one: unparseable


def _allow_by_group_kind(rules: TransformRules, gk: GroupKind, pod_spec: bool = False) -> bool:
    """``allowByGroupKind`` of the images and labels selectors (affinity.go's pod-spec
    selector, ``pod_spec``, also honours a podSpec deny-all)."""
    if gk not in rules.allow:
        return False
    denied = rules.deny.get(gk)
    if denied and pod_spec and ".*" in denied.pod_spec:
        return False
    return not (denied and (".*" in denied.labels or ".*" in denied.image))


def _is_config_connector(gk: GroupKind) -> bool:
    return _CONFIG_CONNECTOR_RE.search(gk[0]) is not None


def _should_transform(
    doc: Mapping[str, Any], rules: TransformRules, pod_spec: bool = False
) -> bool:
    if not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
        return False
    gk = _group_kind(doc)
    return _allow_by_group_kind(rules, gk, pod_spec) or _is_config_connector(gk)


def _visit_fields(gk: GroupKind, path: str, value: Any, visitor: Visitor, recurse: bool) -> None:
    if isinstance(value, list):
        for item in value:  # list indices are not part of the path
            _visit_fields(gk, path, item, visitor, recurse)
    elif _is_string_map(value):
        for key, child in list(value.items()):
            child_path = path + "." + key
            if visitor(gk, child_path, value, key, child) and recurse:
                _visit_fields(gk, child_path, child, visitor, recurse)


def _traverse(
    doc: dict[str, Any], visitor: Visitor, rules: TransformRules, pod_spec: bool = False
) -> None:
    # top-level keys are always visited; only allow-listed documents are walked recursively
    recurse = _should_transform(doc, rules, pod_spec)
    gk = _group_kind(doc)
    for key, child in list(doc.items()):
        child_path = "." + str(key)
        if visitor(gk, child_path, doc, key, child) and recurse:
            _visit_fields(gk, child_path, child, visitor, recurse)


# yaml.v3 decodes up to 10000 nested levels (engine/_yaml_load.py: MAX_DEPTH); the recursive
# walks here need a few frames per level, more than Python's default limit of 1000 frames.
_DEEP_RECURSION_LIMIT = 4 * 10000 + 1000


@contextmanager
def _deep_recursion() -> Iterator[None]:
    """Allow recursion as deep as the documents yamlio decodes, restoring the limit after."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _DEEP_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def _copy(value: Any) -> Any:
    """Deep copy of containers; shared (aliased) subtrees become independent, as in yaml.v3."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --- images (images.go) ---------------------------------------------------------------------------
def _allow_image(rules: TransformRules, gk: GroupKind, path: str, key: str) -> bool:
    config_connector = key == "image" and _is_config_connector(gk)
    denied = rules.deny.get(gk)
    if denied and any(p == ".*" or p == path for p in denied.image):
        return False
    allowed = rules.allow.get(gk)
    if allowed is not None:
        return any((p == ".*" and key == "image") or p == path for p in allowed.image)
    return config_connector


def _replacement(value: str, tags: Mapping[str, str]) -> str | None:
    """The new value for an image string, or None to leave it (selectLocalManifestImages)."""
    parsed = try_parse_reference(value)
    if parsed is None:
        # images.go: helm `imageStrategy` placeholder "<artifact>:<artifact>"
        parts = value.split(":")
        if len(parts) == 2 and value.startswith(parts[1]) and parts[1] in tags:
            return tags[parts[1]]
        return None
    base = parsed.base_name
    # images.go: helm+explicitRegistry placeholder "<artifact>/<artifact>:<artifact>"
    if parsed.domain and parsed.domain == parsed.repo and parsed.repo in tags:
        base = parsed.repo
    if parsed.digest:
        return None  # references by digest are left as they are
    return tags.get(base)


def check_document(doc: Any) -> None:
    """A document the visitor decodes into ``map[string]interface{}``: a mapping, or the
    yaml.v3 TypeError skaffold reports (visitor.go Visit)."""
    if isinstance(doc, dict):
        return
    if isinstance(doc, list):
        what = "!!seq"
    else:
        from engine.yamlv3 import terror_value

        what = f"!!{_scalar_tag(doc)} {terror_value(_scalar_value_text(doc))}"
    # yaml.v3 TypeError; the line is the document's first line (documents arrive one by one)
    raise ManifestError(
        "replacing images in manifest: reading Kubernetes YAML: yaml: unmarshal errors:\n"
        f"  line 1: cannot unmarshal {what} into map[string]interface {{}}"
    )


def replace_images(
    docs: Sequence[Any], images: Mapping[str, str], rules: TransformRules
) -> list[dict[str, Any]]:
    """Replace artifact images in ``docs`` (``ManifestList.ReplaceImages``).

    ``images`` maps artifact image names (sanitized here; later duplicates win) to final
    references.  Empty and null documents are dropped; a non-mapping document raises
    ManifestError like skaffold.
    """
    tags = {sanitize_image_name(name): tag for name, tag in images.items()}

    def visit(gk: GroupKind, path: str, parent: dict[str, Any], key: str, value: Any) -> bool:
        if not _allow_image(rules, gk, path, key) or not isinstance(value, str):
            return True
        new = _replacement(value, tags)
        if new is not None:
            parent[key] = new
        return False

    out: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        check_document(doc)
        if not doc:
            continue
        with _deep_recursion():
            copied = _copy(doc)
            _traverse(copied, visit, rules)
        out.append(copied)
    return out


# --- labels (labels.go) ---------------------------------------------------------------------------
def _labels_field(rules: TransformRules, gk: GroupKind, path: str, key: str) -> str | None:
    """Name of the labels key to set under this field, or None (ResourceSelectorLabels)."""
    if _is_config_connector(gk):
        return "labels" if key == "metadata" else None
    denied = rules.deny.get(gk)
    if denied:
        for deny_path in denied.labels:
            if deny_path == ".*":
                return None
            if "." not in deny_path:
                break  # labels.go: an invalid deny path ends the deny checks
            if path == deny_path[: deny_path.rindex(".")]:
                return None
    allowed = rules.allow.get(gk)
    if allowed:
        for allow_path in allowed.labels:
            if allow_path == ".*":
                return "labels" if key == "metadata" else None
            if "." not in allow_path:
                continue
            cut = allow_path.rindex(".")
            if path == allow_path[:cut]:
                return allow_path[cut + 1 :]
    return None


def add_labels(
    docs: Sequence[dict[str, Any]], labels: Mapping[str, str], rules: TransformRules
) -> list[dict[str, Any]]:
    """Add ``labels`` to every selected metadata map; existing label values win."""
    if not labels:
        return list(docs)

    def visit(gk: GroupKind, path: str, parent: dict[str, Any], key: str, value: Any) -> bool:
        name = _labels_field(rules, gk, path, key)
        if name is None or not _is_string_map(value):
            return True
        if name not in value:
            value[name] = dict(labels)  # a copy per document: no shared (anchored) maps
            return False
        existing = value[name]
        if not _is_string_map(existing):
            return True
        for label, text in labels.items():
            # labels.go: only skaffold's run-id overrides an existing value
            if label not in existing or label == "skaffold.dev/run-id":
                existing[label] = text
        return False

    out: list[dict[str, Any]] = []
    for doc in docs:
        if not doc:
            continue  # Visit drops empty documents
        with _deep_recursion():
            copied = _copy(doc)
            _traverse(copied, visit, rules)
        out.append(copied)
    return out


def parse_labels(values: Sequence[str]) -> dict[str, str]:
    """``-l`` values (already comma-split): split at the first ``=``; later keys win."""
    labels: dict[str, str] = {}
    for value in values:
        key, _, text = value.partition("=")
        labels[key] = text
    return labels


# --- namespace (namespaces.go) --------------------------------------------------------------------
def set_namespace(
    docs: Sequence[dict[str, Any]], namespace: str, rules: TransformRules
) -> tuple[list[dict[str, Any]], list[str]]:
    """Set ``metadata.namespace`` on allow-listed documents; returns (documents, warnings).

    An existing different namespace is kept, with skaffold's conflict warning.
    """
    namespace = namespace or "default"
    out: list[dict[str, Any]] = []
    warnings: list[str] = []
    for doc in docs:
        if not isinstance(doc, dict) or not _should_transform(doc, rules):
            out.append(doc)
            continue
        with _deep_recursion():
            copied = _copy(doc)
        warning = _add_namespace(copied, namespace)
        if warning:
            warnings.append(warning)
        out.append(copied)
    return out, warnings


def _add_namespace(doc: dict[str, Any], namespace: str) -> str | None:
    if "metadata" not in doc:
        doc["metadata"] = {"namespace": namespace}
        return None
    metadata = doc["metadata"]
    if not _is_string_map(metadata):
        raise ManifestError(
            "setting namespace in manifests: error converting "
            f"{_go_format(metadata)} to map[string]interface{{}}"
        )
    if "namespace" not in metadata or _empty_or_equal(metadata["namespace"], namespace):
        metadata["namespace"] = namespace
        return None
    if namespace == "default":
        return None
    current = _go_format(metadata["namespace"])
    return (
        f'a manifest already has namespace set "{current}" which conflicts with namespace '
        f'on the CLI "{namespace}"'
    )


def _empty_or_equal(value: Any, namespace: str) -> bool:
    return value is None or (isinstance(value, str) and value in ("", namespace))


# --- Go formatting helpers ------------------------------------------------------------------------
def _scalar_tag(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "timestamp"


def _scalar_value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text or "E" in text:
        mantissa, exp = text.lower().split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mantissa.removesuffix('.0')}e{sign}{exp.lstrip('+-').rjust(2, '0')}"
        return text
    return text.removesuffix(".0")


def _go_format(value: Any) -> str:
    """Go's ``%s`` of a decoded YAML value (enough for skaffold's messages)."""
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return f"%!s(bool={'true' if value else 'false'})"
    if isinstance(value, int):
        return f"%!s(int={value})"
    if isinstance(value, float):
        return f"%!s(float64={_go_float(value)})"
    if isinstance(value, list):
        return "[" + " ".join(_go_format(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{_go_format(k)}:{_go_format(v)}" for k, v in items) + "]"
    return str(value)


# --- GKE ARM toleration (gke_toleration.go, affinity.go GetImagePlatforms) ---------------------
Platform = tuple[str, str, str]  # os, architecture, variant
PlatformsFn = Callable[[str], Sequence[Platform]]

# gke_toleration.go gkeARMToleration, in v1.Toleration's JSON field order
GKE_ARM_TOLERATION = MappingProxyType(
    {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
)
_TOLERATION_FIELDS = ("key", "operator", "value", "effect", "tolerationSeconds")


def is_gke_context(kube_context: str) -> bool:
    """renderer/util/util.go isGKECluster."""
    return kube_context.startswith("gke")


def add_gke_arm_toleration(
    docs: Sequence[dict[str, Any]],
    rules: TransformRules,
    platforms_of: PlatformsFn,
) -> list[dict[str, Any]]:
    """Tolerate GKE's ARM node taint in every pod spec whose images all support linux/arm64.

    ``platforms_of`` gives an image's platforms (the registry's index or image config); an
    image it fails on (raising) is left out, as skaffold does, with the reason logged (debug).
    The platforms of the images at the same field path are intersected across all ``docs``
    (one renderer's output): skaffold keys them by path only.
    """
    by_path = _pod_platforms(docs, rules, platforms_of)

    def visit(gk: GroupKind, path: str, parent: dict[str, Any], key: str, value: Any) -> bool:
        if not _allow_pod_spec(rules, gk, path, key):
            return True
        if not by_path:
            return False
        platforms = by_path.get(path)
        if not platforms:
            return True
        if not any(_is_linux_arm64(p) for p in platforms):
            return False
        if not isinstance(value, dict):
            return True
        tolerations = _with_arm_toleration(value.get("tolerations"))
        if tolerations is None:
            return True  # existing tolerations that do not decode: left alone
        value["tolerations"] = tolerations
        return False

    out: list[dict[str, Any]] = []
    for doc in docs:
        with _deep_recursion():
            copied = _copy(doc)
            _traverse(copied, visit, rules, pod_spec=True)
        out.append(copied)
    return out


def _pod_platforms(
    docs: Sequence[dict[str, Any]], rules: TransformRules, platforms_of: PlatformsFn
) -> dict[str, list[Platform]]:
    """affinity.go imagePlatformSaver: pod spec path -> platforms common to its containers."""
    found: dict[str, list[Platform]] = {}

    def visit(gk: GroupKind, path: str, parent: dict[str, Any], key: str, value: Any) -> bool:
        if key != "image" or not isinstance(value, str):
            return True
        try:
            platforms = list(platforms_of(value))
        except Exception as exc:  # skaffold logs the failure at debug level and goes on
            from engine.core import log

            log.debug(f"Couldn't get target platforms for image {value!r}: {exc}")
            return False
        spec_path = path.removesuffix(".containers.image")
        if found.get(spec_path):
            found[spec_path] = [p for p in found[spec_path] if p in platforms]
        else:
            found[spec_path] = platforms
        return False

    for doc in docs:
        with _deep_recursion():
            _traverse(doc, visit, rules)
    return found


def _allow_pod_spec(rules: TransformRules, gk: GroupKind, path: str, key: str) -> bool:
    """ResourceSelectorPodSpec.allowByNavpath."""
    if _is_config_connector(gk):
        return False
    denied = rules.deny.get(gk)
    if denied and any(p == ".*" or p == path for p in denied.pod_spec):
        return False
    allowed = rules.allow.get(gk)
    if allowed is None:
        return False
    for pattern in allowed.pod_spec:
        if pattern == ".*":
            return key == "spec"
        if pattern == path:
            return True
    return False


def _is_linux_arm64(platform: Platform) -> bool:
    """containerd ``platforms.Any(...).Match(linux/arm64)`` (arm64 variants normalised)."""
    os_name, arch, variant = platform
    return (
        os_name.lower() == "linux"
        and arch.lower() in ("arm64", "aarch64")
        and variant.lower() in ("", "v8", "8")
    )


def _with_arm_toleration(existing: Any) -> list[Any] | None:
    """addGKEARMToleration: the tolerations decoded as []v1.Toleration, plus GKE's if absent.

    Decoding keeps only the Toleration fields (matched case-insensitively, like Go's JSON) and
    drops empty ones; a field of the wrong type fails the whole list (None).
    """
    tolerations: list[dict[str, Any]] = []
    if existing is not None:
        if not isinstance(existing, list):
            return None
        for item in existing:
            if item is None:
                tolerations.append({})
                continue
            decoded = _decode_toleration(item)
            if decoded is None:
                return None
            tolerations.append(decoded)
    if dict(GKE_ARM_TOLERATION) not in tolerations:
        tolerations.append(dict(GKE_ARM_TOLERATION))
    return tolerations


def _decode_toleration(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    fields: dict[str, Any] = {}
    for raw_key, value in item.items():
        key = next((f for f in _TOLERATION_FIELDS if str(raw_key).lower() == f.lower()), None)
        if key is None:
            continue
        if value is None:
            fields.pop(key, None)
            continue
        if key == "tolerationSeconds":
            if isinstance(value, bool) or not isinstance(value, int):
                return None
        elif not isinstance(value, str):
            return None
        fields[key] = value
    return {f: fields[f] for f in _TOLERATION_FIELDS if f in fields and fields[f] != ""}
