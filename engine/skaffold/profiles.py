"""Profiles: selection, auto-activation, field overlay and JSON patches (latest schema only).

Follows skaffold's ``pkg/skaffold/schema/profiles.go``; activation regexes follow
``pkg/skaffold/util/regex.go``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import ConfigError
from engine.golang.regexp import RegexpError, compile_go
from engine.skaffold.upgrade import flat_fields, schema_types

_PKG = "latest"
# The pipeline part of a config, the only fields a profile overlays (latest.Pipeline)
PIPELINE_TYPE = "Pipeline"

Doc = dict[str, Any]


class ActivationContext(NamedTuple):
    """What profile activation looks at."""

    env: Mapping[str, str]
    kube_context: str = ""
    command: str = "render"


def regex_matches(pattern: str, value: str) -> bool:
    """skaffold's RegexEqual: ``!`` negates; equality or an unanchored regex search."""
    if pattern.startswith("!"):
        return not _regex_match(pattern[1:], value)
    return _regex_match(pattern, value)


def _regex_match(pattern: str, value: str) -> bool:
    if pattern == value:
        return True
    try:
        compiled = compile_go(pattern)  # Go's regexp (RE2): Go's syntax, linear time
    except RegexpError:
        return False  # not a valid regexp: skaffold falls back to string equality
    return compiled.match_string(value)


def _env_triggers(spec: str, env: Mapping[str, str]) -> bool:
    if spec == "":
        return True
    if "=" not in spec:
        raise ConfigError(f"invalid env variable format: {spec}, should be KEY=VALUE")
    key, pattern = spec.split("=", 1)
    actual = env.get(key, "")
    if pattern == "":
        return actual == ""
    return regex_matches(pattern, actual)


def _condition_triggers(cond: Mapping[str, Any], ctx: ActivationContext) -> bool:
    command = str(cond.get("command") or "")
    kube = str(cond.get("kubeContext") or "")
    ok_command = command == "" or regex_matches(command, ctx.command)
    ok_env = _env_triggers(str(cond.get("env") or ""), ctx.env)
    ok_kube = kube == "" or regex_matches(kube, ctx.kube_context)
    return ok_command and ok_env and ok_kube


def is_activated(profile: Mapping[str, Any], ctx: ActivationContext) -> tuple[bool, bool]:
    """(auto-activated, activated through a kubeContext criterion) for one profile."""
    conds = [c for c in profile.get("activation") or [] if isinstance(c, Mapping)]
    if profile.get("requiresAllActivations"):
        if not conds:
            return False, False
        for cond in conds:
            if not _condition_triggers(cond, ctx):
                return False, False
        return True, any(c.get("kubeContext") for c in conds)
    for cond in conds:
        if _condition_triggers(cond, ctx):
            return True, bool(cond.get("kubeContext"))
    return False, False


def select_profiles(
    profiles: Sequence[Mapping[str, Any]],
    requested: Sequence[str],
    ctx: ActivationContext,
    auto_activation: bool = True,
) -> tuple[list[str], list[str]]:
    """Names of the profiles to apply, in order, and those activated by kube-context."""
    active: list[str] = []
    by_context: list[str] = []
    if auto_activation:
        for profile in profiles:
            on, ctx_specific = is_activated(profile, ctx)
            if on:
                active.append(str(profile.get("name", "")))
                if ctx_specific:
                    by_context.append(str(profile.get("name", "")))
    defined = [str(p.get("name", "")) for p in profiles]
    for name in requested:
        if name.startswith("-"):
            active = [a for a in active if a != name[1:]]
        elif name in defined and name not in active:
            active.append(name)
    return active, by_context


def apply_profiles(
    doc: Doc,
    requested: Sequence[str],
    ctx: ActivationContext,
    auto_activation: bool = True,
) -> tuple[Doc, list[str]]:
    """Apply the selected profiles to a latest-schema document; returns (new doc, applied names).

    Errors are raised without skaffold's ``failed to apply profiles to config`` wrapper (the
    caller knows the config name and file).
    """
    profiles = [p for p in doc.get("profiles") or [] if isinstance(p, dict)]
    try:
        names, by_context = select_profiles(profiles, requested, ctx, auto_activation)
    except ConfigError as exc:  # schema/profiles.go: ApplyProfiles wraps activation errors
        raise ConfigError(f"finding auto-activated profiles: {exc}") from None
    by_name = {str(p.get("name", "")): p for p in profiles}
    result = copy.deepcopy(doc)
    for name in names:
        try:
            result = apply_profile(result, by_name[name])
        except ConfigError as exc:
            raise ConfigError(f'applying profile "{name}": {exc}') from None
    result.pop("profiles", None)
    _check_kube_context(by_context, ctx.kube_context, result)
    return result, names


def _check_kube_context(by_context: list[str], current: str, doc: Doc) -> None:
    deploy = doc.get("deploy")
    effective = str(deploy.get("kubeContext") or "") if isinstance(deploy, dict) else ""
    if effective == "" or effective == current or not by_context:
        return
    quoted = " ".join(f'"{n}"' for n in by_context)
    raise ConfigError(
        f'profiles [{quoted}] were activated by kube-context "{current}", but the effective '
        f'kube-context is "{effective}" -- please revise your `profiles.activation` and '
        "`deploy.kubeContext` configurations"
    )


def apply_profile(doc: Doc, profile: Mapping[str, Any]) -> Doc:
    """Overlay one profile's pipeline onto ``doc``, then run its patches."""
    result = dict(doc)
    for key, (_go, typ, flags) in flat_fields(_PKG, PIPELINE_TYPE).items():
        merged = overlay(doc.get(key), profile.get(key), typ, flags)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    patches = [p for p in profile.get("patches") or [] if isinstance(p, Mapping)]
    if not patches:
        return result
    return _apply_patches(result, patches)


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or value == 0 or value is False or value in ([], {})


def overlay(base: Any, prof: Any, typ: str, flags: tuple[str, ...] = ()) -> Any:
    """overlayProfileField on plain data: ``typ``/``flags`` describe the field (schema table)."""
    types = schema_types(_PKG)
    if typ.startswith("[]") or typ.startswith("map:"):
        return base if not prof else copy.deepcopy(prof)  # a non-empty list replaces
    if "ptr" in flags or typ not in types:
        if typ not in types and "ptr" not in flags:
            return base if _is_zero(prof) else copy.deepcopy(prof)  # scalars: non-zero wins
        return base if prof is None else copy.deepcopy(prof)  # pointers: non-nil replaces
    fields = types[typ]
    if fields and any(f.startswith("oneOf=") for f in fields[0][3]):
        return _overlay_one_of(base, prof, typ)
    return _overlay_struct(base, prof, typ)


def _overlay_one_of(base: Any, prof: Any, typ: str) -> Any:
    # overlayOneOfField: the first member the profile sets replaces the whole group
    if isinstance(prof, Mapping):
        for key, _go, _t, _f in schema_types(_PKG)[typ]:
            if prof.get(key) is not None:
                return {key: copy.deepcopy(prof[key])}
    return base


def _overlay_struct(base: Any, prof: Any, typ: str) -> Any:
    base_map = base if isinstance(base, Mapping) else {}
    prof_map = prof if isinstance(prof, Mapping) else {}
    out: Doc = {}
    for key, _go, ftyp, fflags in schema_types(_PKG)[typ]:
        if "inline" in fflags:
            # an inline member sees its own keys of the same mapping on both sides
            own = flat_fields(_PKG, ftyp)
            sub_base = {k: v for k, v in base_map.items() if k in own}
            sub_prof = {k: v for k, v in prof_map.items() if k in own}
            merged = overlay(sub_base, sub_prof, ftyp, tuple(f for f in fflags if f != "ptr"))
            if isinstance(merged, Mapping):
                out.update(merged)
            continue
        value = overlay(base_map.get(key), prof_map.get(key), ftyp, fflags)
        if value is not None:
            out[key] = value
    return out if out or base is not None else None


def _apply_patches(doc: Doc, patches: Sequence[Mapping[str, Any]]) -> Doc:
    current: Any = marshal_view(doc, "SkaffoldConfig")
    for patch in patches:
        op = str(patch.get("op") or "replace")
        path = str(patch.get("path") or "")
        has_value = patch.get("value") is not None  # `value: null` is a nil pointer in Go
        try:
            value = copy.deepcopy(patch.get("value"))
            yaml_patch(current, op, path, str(patch.get("from") or ""), value, has_value)
        except _PatchError:
            raise ConfigError(f"invalid path: {path}") from None
    # skaffold decodes the patched YAML non-strictly: unknown fields vanish
    pruned = prune(current, "SkaffoldConfig")
    return pruned if isinstance(pruned, dict) else {}


class _PatchError(Exception):
    """A yaml-patch error or panic (skaffold's tryPatch reports both as an invalid path)."""


_GO_ATOI = re.compile(r"[+-]?[0-9]+")


def yaml_patch(doc: Any, op: str, path: str, from_: str, value: Any, has_value: bool) -> None:
    """One operation of github.com/krishicks/yaml-patch (v0.0.10), in place on ``doc``.

    Not RFC 6902: ``move``/``copy`` *set* (overwrite, or grow a list) at the destination
    instead of inserting, ``copy`` shares the copied node, ``test`` never matches a mapping
    (yaml.v3-decoded value vs yaml.v2-decoded document) and panics without a value, and a
    path holding ``key=value`` is expanded to every mapping with that entry
    (vendor/github.com/krishicks/yaml-patch/{operation,container,pathfinder}.go).
    """
    if "=" not in path:
        _perform(doc, op, path, from_, value, has_value)
        return
    paths = _find_paths(doc, path)
    if not paths:
        raise _PatchError("could not expand pointer")
    for expanded in paths:
        _perform(doc, op, expanded, from_, value, has_value)


def _perform(doc: Any, op: str, path: str, from_: str, value: Any, has_value: bool) -> None:
    if op == "add":
        con, key = _find_container(doc, path)
        _add(con, key, value)
    elif op == "remove":
        con, key = _find_container(doc, path)
        _remove(con, key)
    elif op == "replace":
        con, key = _find_container(doc, path)
        present, _old = _get(con, key)
        if not present:
            raise _PatchError("doc is missing key")
        _set(con, key, value)
    elif op in ("move", "copy"):
        con, key = _find_container(doc, from_)
        _present, moved = _get(con, key)
        if op == "move":
            _remove(con, key)
        con, key = _find_container(doc, path)
        _set(con, key, moved)
    elif op == "test":
        con, key = _find_container(doc, path)
        present, actual = _get(con, key)
        if not has_value or not present or not _go_deep_equal(value, actual):
            raise _PatchError("test failed")
    else:
        raise _PatchError(f"Unexpected op: {op}")


def _decode_key(part: str) -> str:
    # strings.NewReplacer("~1", "/", "~0", "~"): one left-to-right pass
    return re.sub(r"~[01]", lambda m: "/" if m.group(0) == "~1" else "~", part)


def _find_container(doc: Any, path: str) -> tuple[Any, str]:
    if not path.startswith("/"):
        raise _PatchError("operation path is missing leading '/'")
    parts = path.split("/")[1:]
    container = doc
    for part in parts[:-1]:
        present, node = _get(container, _decode_key(part))
        if not present:
            raise _PatchError("path does not exist")
        container = node
    return container, _decode_key(parts[-1])


def _index(key: str) -> int:
    if not _GO_ATOI.fullmatch(key):
        raise _PatchError(f"invalid index: {key}")
    return int(key)


def _get(container: Any, key: str) -> tuple[bool, Any]:
    """(present, value); a scalar container is a nil Container in Go: calling it panics."""
    if isinstance(container, dict):
        return key in container, container.get(key)
    if isinstance(container, list):
        i = _index(key)
        if 0 <= i < len(container):
            return True, container[i]
        raise _PatchError("Unable to access invalid index")
    raise _PatchError("not a container")


def _set(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if isinstance(container, list):
        i = _index(key)
        if i < 0:
            raise _PatchError("negative index")
        container.extend([None] * (i + 1 - len(container)))  # Set grows the list
        container[i] = value
        return
    raise _PatchError("not a container")


def _add(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if isinstance(container, list):
        if key == "-":
            container.append(value)
            return
        i = _index(key)
        if not 0 <= i <= len(container):
            raise _PatchError("index out of range")
        container.insert(i, value)
        return
    raise _PatchError("not a container")


def _remove(container: Any, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _PatchError("Unable to remove nonexistent key")
        del container[key]
        return
    if isinstance(container, list):
        i = _index(key)
        if not 0 <= i < len(container):
            raise _PatchError("Unable to remove invalid index")
        del container[i]
        return
    raise _PatchError("not a container")


def _go_deep_equal(value: Any, actual: Any) -> bool:
    """reflect.DeepEqual of a yaml.v3-decoded value and a yaml.v2-decoded document node."""
    if isinstance(value, dict) or isinstance(actual, dict):
        return False  # map[string]interface{} is never map[interface{}]interface{}
    if isinstance(value, list) and isinstance(actual, list):
        return len(value) == len(actual) and all(
            _go_deep_equal(a, b) for a, b in zip(value, actual, strict=True)
        )
    return type(value) is type(actual) and value == actual


def _find_paths(doc: Any, path: str) -> list[str]:
    """yaml-patch's PathFinder: expand ``key=value`` parts to concrete paths."""
    parts = path.split("/")
    if len(parts) < 2:
        raise _PatchError("operation path is missing leading '/'")
    if parts[1] == "":
        return ["/"]
    routes: dict[str, Any] = {"": doc}
    for part in parts[1:]:
        routes = _find_routes(_decode_key(part), routes)
    return list(routes)


def _find_routes(part: str, routes: dict[str, Any]) -> dict[str, Any]:
    matches: dict[str, Any] = {}
    for prefix, container in routes.items():
        if part == "-":
            return {f"{k}/-": v for k, v in routes.items()}
        pair = part.split("=")
        if len(pair) == 2:
            found = _find_all(prefix, pair[0], pair[1], container)
            if found:
                matches = found
            continue
        if not isinstance(container, (dict, list)):
            raise _PatchError("not a container")  # a method call on a nil Container panics
        try:
            present, node = _get(container, part)
        except _PatchError:
            continue
        route = f"{prefix}/{part}"
        if not present and isinstance(container, dict):
            matches[route] = container  # a missing key keeps its parent as the container
        else:
            matches[route] = node if isinstance(node, (dict, list)) else None
    return matches


def _find_all(prefix: str, key: str, wanted: str, container: Any) -> dict[str, Any]:
    if not isinstance(container, (dict, list)):
        return {}
    if isinstance(container, dict) and container.get(key) == wanted:
        return {prefix: container}
    matches: dict[str, Any] = {}
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for k, v in items:
        matches.update(_find_all(f"{prefix}/{k}", key, wanted, v))
    return matches


def marshal_view(value: Any, typ: str) -> Any:
    """What yaml.Marshal of the Go struct shows: omitempty zero fields are left out."""
    types = schema_types(_PKG)
    if typ.startswith("[]") and isinstance(value, list):
        return [marshal_view(v, typ[2:]) for v in value]
    if typ.startswith("map:") and isinstance(value, dict):
        return {k: marshal_view(v, typ[4:]) for k, v in value.items()}
    if typ in types and isinstance(value, dict):
        out: Doc = {}
        for key, (_go, ftyp, flags) in flat_fields(_PKG, typ).items():
            if key not in value:
                continue
            item = marshal_view(value[key], ftyp)
            if "required" in flags or not _is_zero_marshal(item, ftyp, flags):
                out[key] = item
        return out
    return copy.deepcopy(value)


def _is_zero_marshal(value: Any, typ: str, flags: tuple[str, ...] = ()) -> bool:
    """yaml.v3's isZero (yaml.go) of a field as Go holds it, for ``omitempty``.

    A non-nil pointer is never zero, even to an empty struct: ``tagPolicy: {inputDigest: {}}``
    is marshalled as it is (so it survives a profile's patches), while a struct is zero only
    when each of its fields is.
    """
    if value is None:
        return True
    if "ptr" in flags:
        return False
    if isinstance(value, dict) and typ in schema_types(_PKG):
        fields = flat_fields(_PKG, typ)
        return all(
            _is_zero_marshal(item, fields[key][1], fields[key][2]) if key in fields else False
            for key, item in value.items()
        )
    return _is_zero(value)


def prune(value: Any, typ: str) -> Any:
    """Drop fields the latest schema does not know (a non-strict decode)."""
    types = schema_types(_PKG)
    if typ.startswith("[]"):
        return [prune(v, typ[2:]) for v in value] if isinstance(value, list) else None
    if typ.startswith("map:"):
        return {k: prune(v, typ[4:]) for k, v in value.items()} if isinstance(value, dict) else None
    if typ in types:
        if not isinstance(value, dict):
            return None
        fields = flat_fields(_PKG, typ)
        return {k: prune(v, fields[k][1]) for k, v in value.items() if k in fields}
    return value
