"""Loading skaffold.yaml like skaffold v2: read, parse, upgrade, profile, default, validate.

Follows ``pkg/skaffold/parser/config.go`` (requires, modules, profile propagation),
``pkg/skaffold/schema/versions.go`` (parsing stages), ``defaults/defaults.go``,
``validation/validation.go`` and ``cmd/skaffold/app/cmd/runner.go`` (single-config defaulting).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from engine.core.errors import ConfigError, SkrenderError
from engine.skaffold import schema
from engine.skaffold.profiles import ActivationContext, apply_profiles
from engine.skaffold.profiles import regex_matches as _regex_matches
from engine.skaffold.upgrade import (
    flat_fields,
    is_known_version,
    package_of,
    schema_types,
    upgrade,
)
from engine.yamlv3 import terror_value

Doc = dict[str, Any]

_PARSE = "parsing skaffold config: "
_PARSE_FILE = _PARSE + "error parsing skaffold configuration file: "
_UNKNOWN_VERSION = (
    "unknown skaffold config API version {v}. Set the config 'apiVersion' to a known value. "
    "Check https://skaffold.dev/docs/references/yaml/ for the list of valid API versions. "
    "Otherwise, check that your skaffold version is up-to-date."
)
DEFAULT_RAW_YAML = "k8s/*.yaml"


class LoadRequest(NamedTuple):
    """What ``skaffold render`` was asked to load."""

    cwd: str
    filename: str = "skaffold.yaml"
    profiles: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    profile_auto_activation: bool = True
    propagate_profiles: bool = True
    env: Mapping[str, str] = schema.EMPTY_MAPPING
    kube_context: str = ""
    command: str = "render"
    remote_cache_dir: str = ""  # --remote-cache-dir ("": $HOME/.skaffold/remote-cache)
    sync_remote_cache: str = "always"  # --sync-remote-cache: always, missing or never


class GlobalConfig(NamedTuple):
    """The parts of ``~/.skaffold/config`` that affect render."""

    default_repo: str | None = None
    multi_level_repo: bool | None = None
    insecure_registries: tuple[str, ...] = ()
    local_cluster: bool | None = None


def regex_matches(pattern: str, value: str) -> bool:
    """pkg/skaffold/util/regex.go: '!' negation, equality or unanchored regex search."""
    return _regex_matches(pattern, value)


# --- reading and parsing one file ------------------------------------------------------------


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _read_with_fallback(path: str) -> tuple[bytes, str]:
    """Read ``path``; a missing ``skaffold.yaml`` falls back to ``skaffold.yml``."""
    try:
        return _read(path), path
    except OSError:
        if os.path.basename(path) != "skaffold.yaml":
            raise
        alt = os.path.join(os.path.dirname(path), "skaffold.yml")
        try:
            return _read(alt), alt
        except OSError:
            pass
        raise


def _yaml_docs(data: bytes) -> list[Any]:
    """Decode every document exactly as yaml.v3 does (engine.yamlv3: libyaml's C parser).

    yamlio also enforces yaml.v3's alias-ratio and nesting limits, so a "billion laughs"
    config is refused before anything walks it.
    """
    from engine import yamlv3
    from engine.core.errors import YamlError

    source = "skaffold.yaml"
    try:
        # an empty document (a trailing `---`) is kept: yaml.v3 decodes it into an empty
        # APIVersion, so skaffold reports `unknown skaffold config API version ""`
        # (schema/versions.go: configFactoryFromAPIVersion)
        return list(yamlv3.load_all(data, source=source))
    except YamlError as exc:
        detail = str(exc).removeprefix(source + ": ")
        raise ConfigError(f"{_PARSE_FILE}parsing api version: {detail}") from None


# parse_file's results by (path, the file's bytes): `skrender bulk` loads each service's
# config once per environment, and upgrading an old apiVersion is most of a warm render's
# parsing.  Keyed by content, so an edited file is parsed afresh; bounded, so a long-lived
# process cannot grow it without limit.  (The bytes themselves, not a sha256: hashlib's
# OpenSSL import costs a one-shot render ~4 ms; the persistent store still gets a sha256.)
_PARSED: dict[tuple[str, bytes], list[tuple[str, Doc]]] = {}
_PARSED_MAX = 512
_parsed_lock = threading.Lock()


class ParseStore(Protocol):
    """A persistent layer under the memo (``engine.gitops.kcache.ConfigStore``, set by bulk)."""

    def get(self, path: str, digest: bytes) -> list[tuple[str, Doc]] | None:
        """The stored result for this file content, or None."""

    def put(self, path: str, digest: bytes, parsed: list[tuple[str, Doc]]) -> None:
        """Remember a successful parse."""


# None (the default): parse results live only as long as the process.
parse_store: ParseStore | None = None


def parse_file(path: str) -> list[tuple[str, Doc]]:
    """(original apiVersion, latest-schema document) for every document of a config file.

    The documents are the caller's own (a fresh copy per call): they may be modified.
    """
    data, _ = _read_with_fallback(path)
    key = (path, data)
    with _parsed_lock:
        known = _PARSED.get(key)
    if known is None:
        store = parse_store
        digest = _sha256(data) if store is not None else b""
        known = store.get(path, digest) if store is not None else None
        if known is None:
            known = _parse_data(path, data)
            if store is not None:
                store.put(path, digest, known)
        with _parsed_lock:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = known
    return [(version, _copy_plain(doc)) for version, doc in known]


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


def _copy_plain(value: Any) -> Any:
    """A copy of decoded YAML (dicts, lists, immutable scalars); much cheaper than deepcopy."""
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    return value


def _parse_data(path: str, data: bytes) -> list[tuple[str, Doc]]:
    if b"apiVersion" not in data:
        raise ConfigError(_PARSE_FILE + "missing apiVersion")
    docs = _yaml_docs(data)
    versions = []
    for doc in docs:
        version = doc.get("apiVersion") if isinstance(doc, dict) else None
        version = "" if version is None else str(version)
        if not is_known_version(version):
            raise ConfigError(_PARSE_FILE + _UNKNOWN_VERSION.format(v=_go_quote(version)))
        versions.append(version)
    # versions.go removeYamlAnchors: top-level keys starting with "." only hold anchors
    scrubbed: list[Doc] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError(f"{_PARSE_FILE}unable to parse config: {path}: not a mapping")
        scrubbed.append({str(k): v for k, v in doc.items() if not str(k).startswith(".")})
    _strict_check(scrubbed, versions)
    out = []
    for version, doc in zip(versions, scrubbed, strict=True):
        try:
            out.append((version, upgrade(doc, version)))
        except ConfigError as exc:
            raise ConfigError(f"{_PARSE_FILE}transforming skaffold config: {exc}") from None
    return out


# --- strict decoding (yaml.v3 KnownFields) ---------------------------------------------------


def _natural_key(key: str) -> list[tuple[int, Any]]:
    # yaml.v3 sorter.go: numbers inside keys compare numerically
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", key) if p]


def _sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    items = [(str(k), v) for k, v in mapping.items()]
    return sorted(items, key=lambda kv: _natural_key(kv[0]))


def _scalar_height(value: Any) -> int:
    if isinstance(value, str) and "\n" in value.strip("\n"):
        return len(value.rstrip("\n").split("\n"))  # a literal block: one line per text line
    return 0


def _height(value: Any) -> int:
    """Lines a value occupies after its key line in yaml.v3's block output."""
    if isinstance(value, dict):
        return sum(1 + _height(v) for _, v in _sorted_items(value)) if value else 0
    if isinstance(value, list):
        return sum(_item_lines(v) for v in value)
    return _scalar_height(value)


def _item_lines(value: Any) -> int:
    if isinstance(value, (dict, list)) and value:
        return _height(value)
    return 1 + _scalar_height(value)


def _short_tag(value: Any) -> str:
    if value is None:
        return "!!null"
    if isinstance(value, bool):
        return "!!bool"
    if isinstance(value, int):
        return "!!int"
    if isinstance(value, float):
        return "!!float"
    if isinstance(value, dict):
        return "!!map"
    if isinstance(value, list):
        return "!!seq"
    return "!!str"


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _go_type(typ: str, pkg: str) -> str:
    if typ.startswith("[]"):
        return "[]" + _go_type(typ[2:], pkg)
    if typ.startswith("map:"):
        return "map[string]" + _go_type(typ[4:], pkg)
    names = {
        "str": "string",
        "bool": "bool",
        "int": "int",
        "float": "float64",
        "any": "interface {}",
    }
    return names.get(typ, f"{pkg}.{typ}")


_BOOL_COMPAT = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}
_BOOL_COMPAT |= {"n", "N", "no", "No", "NO", "off", "Off", "OFF"}


class _Checker:
    def __init__(self, pkg: str) -> None:
        self.pkg = pkg
        self.types = schema_types(pkg)
        self.errors: list[str] = []

    def type_error(self, value: Any, typ: str, line: int) -> None:
        tag = _short_tag(value)
        text = ""
        if tag not in ("!!map", "!!seq"):
            text = " " + terror_value(_scalar_text(value))  # at most 7 bytes, as yaml.v3
        self.errors.append(
            f"line {line}: cannot unmarshal {tag}{text} into {_go_type(typ, self.pkg)}"
        )

    def check(self, value: Any, typ: str, line: int) -> None:
        if value is None or typ == "any":
            return
        if typ.startswith("[]"):
            if not isinstance(value, list):
                self.type_error(value, typ, line)
                return
            for item in value:
                self.check(item, typ[2:], line)
                line += _item_lines(item)
        elif typ.startswith("map:"):
            if not isinstance(value, dict):
                self.type_error(value, typ, line)
                return
            for _key, item in _sorted_items(value):
                self.check(item, typ[4:], line + 1 if isinstance(item, (dict, list)) else line)
                line += 1 + _height(item)
        elif typ in self.types:
            self.check_struct(value, typ, line)
        else:
            self.check_scalar(value, typ, line)

    def check_struct(self, value: Any, typ: str, line: int) -> None:
        if not isinstance(value, dict):
            self.type_error(value, typ, line)
            return
        fields = flat_fields(self.pkg, typ)
        for key, item in _sorted_items(value):
            if key not in fields:
                self.errors.append(f"line {line}: field {key} not found in type {self.pkg}.{typ}")
            else:
                nested = isinstance(item, (dict, list)) and bool(item)
                self.check(item, fields[key][1], line + 1 if nested else line)
            line += 1 + _height(item)

    def check_scalar(self, value: Any, typ: str, line: int) -> None:
        if isinstance(value, (dict, list)):
            self.type_error(value, typ, line)
        elif typ == "bool" and not isinstance(value, bool):
            if not (isinstance(value, str) and value in _BOOL_COMPAT):
                self.type_error(value, typ, line)
        elif typ in ("int", "float") and not _is_number(value):
            self.type_error(value, typ, line)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strict_check(docs: Sequence[Doc], versions: Sequence[str]) -> None:
    """Unknown fields and wrong types, reported on lines of the key-sorted re-encoding."""
    start = 1
    for doc, version in zip(docs, versions, strict=True):
        checker = _Checker(package_of(version))
        checker.check_struct(doc, "SkaffoldConfig", start)
        if checker.errors:
            detail = "\n  ".join(checker.errors)
            raise ConfigError(
                f"{_PARSE_FILE}unable to parse config: yaml: unmarshal errors:\n  {detail}"
            )
        start += _height(doc) + 1  # the document plus its "---" separator


# --- the config graph (requires, modules, profiles) ------------------------------------------


class _Entry:
    """One config document of the graph, profiles applied."""

    def __init__(
        self, doc: Doc, source_file: str, index: int, is_root: bool, profiles: list[str]
    ) -> None:
        self.doc = doc
        self.source_file = source_file
        self.index = index
        self.is_root = is_root
        self.profiles = profiles
        self.is_remote = False


class _Record:
    """What the loader has seen so far, across files."""

    def __init__(self) -> None:
        self.all_profiles: list[str] = []
        self.name_to_file: dict[str, str] = {}
        self.applied: dict[str, str] = {}
        self.parsed: dict[str, list[tuple[str, Doc]]] = {}
        self.repos: dict[str, str | SkrenderError] = {}  # "repo@ref" -> cache directory or error


class _Opts(NamedTuple):
    file: str
    profiles: tuple[str, ...]
    is_required: bool
    is_dependency: bool
    selection: tuple[str, ...] = ()
    is_remote: bool = False  # cloned from a git repository (requires[].git)


def _naming_file(message: str, path: str) -> str:
    """skaffold's parse errors do not say which file: add it (configs can require others)."""
    return message if path in message else f"{message} (file: {path})"


class _Loader:
    def __init__(self, request: LoadRequest) -> None:
        self.req = request
        self.record = _Record()
        self.ctx = ActivationContext(request.env, request.kube_context, request.command)

    def configs(self, opts: _Opts, display: str | None = None) -> list[_Entry]:
        parsed = self.record.parsed.get(opts.file)
        if parsed is None:
            try:
                parsed = _parse_source(opts.file)
            except FileNotFoundError:
                if display is None:
                    # a required config's file (a directory without skaffold.yaml, a path in a
                    # git clone): schema/errors.go MainConfigFileNotFoundErr
                    path = _shown(opts.file)
                    raise ConfigError(
                        f'{_PARSE}unable to find configuration file "{path}": read skaffold '
                        f"config: open {path}: no such file or directory. Check that the "
                        f'specified configuration file exists at "{path}".'
                    ) from None
                raise ConfigError(
                    f"skaffold config file {display} not found - check your current working "
                    "directory, or try running `skaffold init`"
                ) from None
            except OSError as exc:
                raise ConfigError(f"{_PARSE}{opts.file}: {exc.strerror}") from None
            except ConfigError as exc:
                raise ConfigError(_naming_file(str(exc), _shown(opts.file))) from None
            except RecursionError:
                # yaml.v3 allows 10000 levels; Python's stack does not: refuse, naming the file
                raise ConfigError(
                    f"{_PARSE_FILE}{opts.file}: yaml: document nested too deeply"
                ) from None
            self.record.parsed[opts.file] = parsed
        seen: set[str] = set()
        for _, doc in parsed:
            for profile in doc.get("profiles") or []:
                name = str(profile.get("name", "")) if isinstance(profile, dict) else ""
                if name not in self.record.all_profiles:
                    self.record.all_profiles.append(name)
            name = _config_name(doc)
            if name and name in seen:
                raise ConfigError(
                    f'{_PARSE}multiple skaffold configs named "{name}" found in file "{opts.file}"'
                )
            seen.add(name)
        out: list[_Entry] = []
        for index, (_, doc) in enumerate(parsed):
            out += self.one_config(doc, opts, index)
        return out

    def one_config(self, doc: Doc, opts: _Opts, index: int) -> list[_Entry]:
        name = _config_name(doc)
        if name:
            prev = self.record.name_to_file.get(name)
            if prev is not None and prev != opts.file:
                raise ConfigError(
                    f'{_PARSE}skaffold config named "{name}" found in multiple files: '
                    f'"{prev}" and "{opts.file}"'
                )
            self.record.name_to_file[name] = opts.file
        if opts.selection and name not in opts.selection:
            return []
        modules = self.req.modules
        required = opts.is_required or not modules or name in modules
        try:
            profiled, applied = apply_profiles(
                doc, opts.profiles, self.ctx, self.req.profile_auto_activation
            )
        except ConfigError as exc:
            raise ConfigError(
                f'{_PARSE}failed to apply profiles to config "{name}" defined in file '
                f'"{opts.file}": {exc}. There\'s an issue with one of the profiles defined in '
                f'config "{name}" in file "{opts.file}"; refer to the documentation on how to '
                "author valid profiles: https://skaffold.dev/docs/environment/profiles/."
            ) from None
        set_defaults(profiled)
        if opts.is_dependency:
            make_paths_absolute(profiled, os.path.dirname(opts.file))
        key = f"{opts.file}:{index}:{required}"
        expected = ",".join(sorted(applied))
        if key in self.record.applied:
            if self.record.applied[key] != expected:
                config_id = name or f"index {index}"
                raise ConfigError(
                    f'{_PARSE}config "{config_id}" defined in file "{opts.file}" imported '
                    "multiple times with different set of profiles"
                )
            return []
        self.record.applied[key] = expected
        out: list[_Entry] = []
        for dep in profiled.get("requires") or []:
            if isinstance(dep, dict):
                out += self.dependency(dep, opts, sorted(applied), required)
        if required:
            entry = _Entry(profiled, opts.file, index, not opts.is_dependency, applied)
            entry.is_remote = opts.is_remote
            out.append(entry)
        return out

    def dependency(self, dep: Doc, opts: _Opts, applied: list[str], required: bool) -> list[_Entry]:
        profiles = _filter_active_profiles(dep, applied)
        if self.req.propagate_profiles:
            profiles += [p for p in self.req.profiles if p not in profiles]
        for remote in ("googleCloudStorage", "googleCloudBuildRepoV2"):
            if dep.get(remote) is not None:
                raise ConfigError(
                    f'{_PARSE}"requires.{remote}" in config file "{opts.file}" is not supported '
                    "by skrender: use a local path or git"
                )
        path = str(dep.get("path") or "")
        if path and not os.path.isabs(path) and not _is_url(path):
            # makeConfigPathAbsolute: relative to the requiring file, or to CWD for a URL/stdin
            parent = opts.file
            base = self.req.cwd if _is_url(parent) or parent == "-" else os.path.dirname(parent)
            path = os.path.normpath(os.path.join(base, path))
        is_remote = isinstance(dep.get("git"), dict)
        if is_remote:
            path = self.git_dependency(dep["git"])
        if path == "":
            path = opts.file
        if _is_url(path):
            pass  # downloaded by configs(), never stat'ed (parser/config.go)
        elif not os.path.exists(path):
            raise ConfigError(
                f'could not find skaffold config file "{path}" that is referenced as a '
                f'dependency in config file "{opts.file}": stat {path}: no such file or directory'
            )
        if os.path.isdir(path):
            path = os.path.join(path, "skaffold.yaml")
        names = tuple(str(n) for n in dep.get("configs") or [])
        dep_opts = _Opts(
            file=path,
            profiles=tuple(profiles),
            is_required=required,
            is_dependency=opts.is_dependency or path != opts.file,
            selection=names,
            is_remote=is_remote,
        )
        return self.configs(dep_opts)

    def git_dependency(self, git: Mapping[str, Any]) -> str:
        """``cacheRepo``: the config path inside the repository's remote-cache clone; each
        (repo, ref) is synced once per load, its failure remembered."""
        from engine.skaffold import remote

        sync = git.get("sync")
        repo = remote.GitRepo(
            repo=str(git.get("repo") or ""),
            path=str(git.get("path") or ""),
            ref=str(git.get("ref") or ""),
            sync=sync if isinstance(sync, bool) else None,
        )
        key = f"{repo.repo}@{repo.ref}"
        known = self.record.repos.get(key)
        if known is None:
            options = remote.CacheOptions(self.req.remote_cache_dir, self.req.sync_remote_cache)
            try:
                known = remote.sync_repo(repo, options, cwd=self.req.cwd, env=self.req.env)
            except SkrenderError as exc:
                known = exc
            self.record.repos[key] = known
        if isinstance(known, SkrenderError):
            raise known
        return os.path.join(known, repo.path) if repo.path else known


def _shown(path: str) -> str:
    """``path`` as error messages show it: a URL without its password."""
    if not _is_url(path):
        return path
    from engine.skaffold import remote

    return remote.redact(path)


def _parse_source(path: str) -> list[tuple[str, Doc]]:
    """:func:`parse_file`, or for ``-`` (stdin) and http(s) URLs the downloaded bytes."""
    if path != "-" and not _is_url(path):
        return parse_file(path)
    from engine.skaffold import remote

    return _parse_data(path, remote.read_config(path))


def _config_name(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    return str(meta.get("name") or "") if isinstance(meta, dict) else ""


def _is_url(path: str) -> bool:
    return path.startswith("http://") or path.startswith("https://")


def _filter_active_profiles(dep: Mapping[str, Any], applied: Sequence[str]) -> list[str]:
    out: list[str] = []
    for entry in dep.get("activeProfiles") or []:
        if not isinstance(entry, dict):
            continue
        by = [str(b) for b in entry.get("activatedBy") or []]
        if not by or any(b in applied for b in by):
            out.append(str(entry.get("name", "")))
    return out


# --- defaults, absolute paths, validation ----------------------------------------------------


def set_defaults(doc: Doc) -> None:
    """defaults.Set, the parts visible to render: tag policy, build type, artifact defaults."""
    build = doc.setdefault("build", {})
    if not isinstance(build, dict):
        return
    policy = build.get("tagPolicy")
    if not isinstance(policy, dict) or all(v is None for v in policy.values()):
        build["tagPolicy"] = {"gitCommit": {}}
    build_types = ("local", "googleCloudBuild", "cluster")
    if all(build.get(t) is None for t in build_types):
        build["local"] = {}
    local = build.get("local")
    if isinstance(local, dict) and local.get("concurrency") is None and build.get("artifacts"):
        local["concurrency"] = 1
    artifact_types = [k for k, (_, _, fl) in flat_fields("latest", "ArtifactType").items()]
    for art in build.get("artifacts") or []:
        if not isinstance(art, dict):
            continue
        if not art.get("context"):
            art["context"] = "."
        if build.get("cluster") is not None and art.get("custom") is None and art.get(
            "buildpacks"
        ) is None:
            # defaults.go defaultToKanikoArtifact: even next to another builder (then the
            # one-of validation refuses the artifact)
            if art.get("kaniko") is None:
                art["kaniko"] = {}
        elif all(art.get(t) is None for t in artifact_types):
            art["docker"] = {}
        kaniko = art.get("kaniko")
        if isinstance(kaniko, dict) and not kaniko.get("dockerfile"):
            kaniko["dockerfile"] = "Dockerfile"
        docker = art.get("docker")
        if isinstance(docker, dict) and not docker.get("dockerfile"):
            docker["dockerfile"] = "Dockerfile"


def _join(base: str, path: str) -> str:
    if path == "" or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def make_paths_absolute(doc: Doc, base: str) -> None:
    """tags.MakeFilePathsAbsolute for a dependency config (applied blindly, URLs included)."""
    for dep in doc.get("requires") or []:
        if isinstance(dep, dict) and isinstance(dep.get("path"), str):
            dep["path"] = _join(base, dep["path"])
    build = doc.get("build") if isinstance(doc.get("build"), dict) else {}
    for art in (build or {}).get("artifacts") or []:
        if isinstance(art, dict) and isinstance(art.get("context"), str):
            art["context"] = _join(base, art["context"])
    for test in doc.get("test") or []:
        if isinstance(test, dict) and isinstance(test.get("structureTests"), list):
            test["structureTests"] = [_join(base, str(p)) for p in test["structureTests"]]
    manifests = doc.get("manifests")
    if isinstance(manifests, dict):
        for key in ("rawYaml", "kpt"):
            if isinstance(manifests.get(key), list):
                manifests[key] = [_join(base, str(p)) for p in manifests[key]]
        kustomize = manifests.get("kustomize")
        if isinstance(kustomize, dict) and isinstance(kustomize.get("paths"), list):
            kustomize["paths"] = [_join(base, str(p)) for p in kustomize["paths"]]
        _absolute_helm(manifests.get("helm"), base)
        _absolute_hooks(manifests.get("hooks"), base)
    deploy = doc.get("deploy")
    if isinstance(deploy, dict):
        _absolute_helm(deploy.get("helm"), base)


def _absolute_helm(helm: Any, base: str) -> None:
    if not isinstance(helm, dict):
        return
    # latest.HelmRelease: chartPath, valuesFiles and setFiles are `skaffold:"filepath"`
    for rel in helm.get("releases") or []:
        if not isinstance(rel, dict):
            continue
        if isinstance(rel.get("chartPath"), str):
            rel["chartPath"] = _join(base, rel["chartPath"])
        if isinstance(rel.get("valuesFiles"), list):
            rel["valuesFiles"] = [_join(base, str(v)) for v in rel["valuesFiles"]]
        if isinstance(rel.get("setFiles"), dict):
            rel["setFiles"] = {k: _join(base, str(v)) for k, v in rel["setFiles"].items()}


def _absolute_hooks(hooks: Any, base: str) -> None:
    if not isinstance(hooks, dict):
        return
    for phase in ("before", "after"):
        for hook in hooks.get(phase) or []:
            host = hook.get("host") if isinstance(hook, dict) else None
            if isinstance(host, dict) and isinstance(host.get("dir"), str):
                host["dir"] = _join(base, host["dir"])


def set_default_renderer(doc: Doc) -> None:
    """runner.go setDefaultRendererAndDeployer for a single selected config."""
    manifests = doc.get("manifests") if isinstance(doc.get("manifests"), dict) else {}
    deploy = doc.get("deploy") if isinstance(doc.get("deploy"), dict) else {}
    assert isinstance(manifests, dict) and isinstance(deploy, dict)
    has = (
        manifests.get("kpt")
        or manifests.get("rawYaml")
        or manifests.get("kustomize") is not None
        or manifests.get("helm") is not None
        or any(deploy.get(k) is not None for k in ("helm", "docker", "cloudrun"))
    )
    if not has:
        doc.setdefault("manifests", {})
        doc["manifests"]["rawYaml"] = [DEFAULT_RAW_YAML]


def validate(entries: Sequence[_Entry], env: Mapping[str, str] | None = None) -> None:
    """validation.go Process over the selected configs (:mod:`engine.skaffold.validation`)."""
    from engine.skaffold import validation

    sources = [validation.Source(e.doc, _source(e), e.source_file) for e in entries]
    found = validation.problems(sources, env or {})
    if found:
        raise ConfigError("invalid skaffold config: " + "\n".join(found))


def _source(entry: _Entry) -> str:
    name = _config_name(entry.doc)
    module = f'in module "{name}"' if name else f"in unnamed config[{entry.index}]"
    return f"source: {entry.source_file}, {module}"


# --- building the typed view -----------------------------------------------------------------


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple("" if v is None else _scalar_text(v) for v in value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _scalar_text(value)


def _docker(art: Mapping[str, Any]) -> schema.DockerArtifact | None:
    docker = art.get("docker")
    if not isinstance(docker, dict):
        return None
    args = docker.get("buildArgs") if isinstance(docker.get("buildArgs"), dict) else {}
    assert isinstance(args, dict)
    return schema.DockerArtifact(
        dockerfile=str(docker.get("dockerfile") or "Dockerfile"),
        build_args={str(k): _opt_str(v) for k, v in args.items()},
        target=_opt_str(docker.get("target")),
        network=_opt_str(docker.get("network")),
        cache_from=_strs(docker.get("cacheFrom")),
        no_cache=bool(docker.get("noCache")),
        pull_parent=bool(docker.get("pullParent")),
        squash=bool(docker.get("squash")),
        add_host=_strs(docker.get("addHost")),
        secrets=tuple(dict(s) for s in docker.get("secrets") or [] if isinstance(s, dict)),
    )


def _artifact(art: Mapping[str, Any]) -> schema.Artifact:
    builder = "docker"
    for key in flat_fields("latest", "ArtifactType"):
        if art.get(key) is not None:
            builder = key
            break
    deps = tuple(
        schema.ArtifactDependency(image=str(d.get("image") or ""), alias=_opt_str(d.get("alias")))
        for d in art.get("requires") or []
        if isinstance(d, dict)
    )
    return schema.Artifact(
        image=str(art.get("image") or ""),
        context=str(art.get("context") or "."),
        builder=builder,
        docker=_docker(art),
        requires=deps,
        raw=art,
    )


def _tag_policy(build: Mapping[str, Any]) -> schema.TagPolicy:
    policy = build.get("tagPolicy")
    if isinstance(policy, dict):
        for kind in schema.TAG_POLICY_KINDS:
            if policy.get(kind) is not None:
                options = policy[kind]
                return schema.TagPolicy(kind, dict(options) if isinstance(options, dict) else {})
    return schema.TagPolicy()


def _local(build: Mapping[str, Any]) -> schema.LocalBuild | None:
    local = build.get("local")
    if not isinstance(local, dict):
        return None
    concurrency = local.get("concurrency")
    return schema.LocalBuild(
        push=local.get("push") if isinstance(local.get("push"), bool) else None,
        concurrency=concurrency if isinstance(concurrency, int) else None,
        use_buildkit=local.get("useBuildkit")
        if isinstance(local.get("useBuildkit"), bool)
        else None,
        try_import_missing=bool(local.get("tryImportMissing")),
    )


def _manifests(doc: Mapping[str, Any]) -> schema.Manifests:
    m = doc.get("manifests") if isinstance(doc.get("manifests"), dict) else {}
    assert isinstance(m, dict)
    kustomize = m.get("kustomize")
    kus = None
    if isinstance(kustomize, dict):
        kus = schema.Kustomize(_strs(kustomize.get("paths")), _strs(kustomize.get("buildArgs")))
    return schema.Manifests(
        raw_yaml=_strs(m.get("rawYaml")),
        kustomize=kus,
        helm=m.get("helm") if isinstance(m.get("helm"), dict) else None,
        kpt=_strs(m.get("kpt")),
        remote_manifests=tuple(r for r in m.get("remoteManifests") or [] if isinstance(r, dict)),
        hooks=m.get("hooks") if isinstance(m.get("hooks"), dict) else None,
        transform=tuple(t for t in m.get("transform") or [] if isinstance(t, dict)),
        validate=tuple(t for t in m.get("validate") or [] if isinstance(t, dict)),
    )


def _rules(value: Any) -> tuple[schema.SelectorRule, ...]:
    rules = []
    for rule in value if isinstance(value, list) else []:
        if not isinstance(rule, dict):
            continue
        rules.append(
            schema.SelectorRule(
                group_kind=str(rule.get("groupKind") or ""),
                image=_strs(rule.get("image")),
                labels=_strs(rule.get("labels")),
                pod_spec=_strs(rule.get("podSpec")),
            )
        )
    return tuple(rules)


def _to_config(entry: _Entry) -> schema.Config:
    doc = entry.doc
    build = doc.get("build") if isinstance(doc.get("build"), dict) else {}
    assert isinstance(build, dict)
    selector = doc.get("resourceSelector") if isinstance(doc.get("resourceSelector"), dict) else {}
    assert isinstance(selector, dict)
    deploy = doc.get("deploy") if isinstance(doc.get("deploy"), dict) else {}
    assert isinstance(deploy, dict)
    name = _config_name(doc)
    return schema.Config(
        source_file=entry.source_file,
        index=entry.index,
        is_root=entry.is_root,
        name=name or None,
        artifacts=tuple(_artifact(a) for a in build.get("artifacts") or [] if isinstance(a, dict)),
        tag_policy=_tag_policy(build),
        local=_local(build),
        insecure_registries=_strs(build.get("insecureRegistries")),
        manifests=_manifests(doc),
        allow=_rules(selector.get("allow")),
        deny=_rules(selector.get("deny")),
        legacy_helm=deploy.get("helm") if isinstance(deploy.get("helm"), dict) else None,
        active_profiles=tuple(entry.profiles),
        raw=doc,
        is_remote=entry.is_remote,
    )


# --- public entry points ---------------------------------------------------------------------


def load(request: LoadRequest) -> list[schema.Config]:
    """Load, profile, default and validate the selected configs in skaffold's final order."""
    path = request.filename
    remote_file = path == "-" or _is_url(path)  # read as is (util.ReadConfiguration)
    if not os.path.isabs(path) and not remote_file:
        path = os.path.normpath(os.path.join(request.cwd, path))
    if not remote_file and not os.path.exists(path) and os.path.basename(path) == "skaffold.yaml":
        alt = os.path.join(os.path.dirname(path), "skaffold.yml")
        path = alt if os.path.exists(alt) else path
    loader = _Loader(request)
    opts = _Opts(
        file=path, profiles=tuple(request.profiles), is_required=False, is_dependency=False
    )
    try:
        entries = loader.configs(opts, display=request.filename)
    except FileNotFoundError:
        raise ConfigError(
            f"skaffold config file {request.filename} not found - check your current working "
            "directory, or try running `skaffold init`"
        ) from None
    if not entries:
        if request.modules:
            raise ConfigError(
                f"{_PARSE}did not find any configs matching selection [{' '.join(request.modules)}]"
                ". Check that the arguments to the `-m` or `--module` flag are valid config names."
            )
        raise ConfigError(f'{_PARSE}failed to get any valid configs from file "{path}"')
    unmatched = [
        p for p in request.profiles if p.removeprefix("-") not in loader.record.all_profiles
    ]
    if unmatched:
        quoted = " ".join(_go_quote(p) for p in unmatched)
        raise ConfigError(
            f"{_PARSE}profile selection [{quoted}] did not match those defined in any "
            'configurations. Check that values specified in the "--profile" or "-p" flags are '
            "valid profile names."
        )
    if len(entries) == 1:
        set_default_renderer(entries[0].doc)
    validate(entries, request.env)
    return [_to_config(e) for e in entries]


def current_kube_context(env: Mapping[str, str]) -> str:
    """current-context from $KUBECONFIG (first file naming one) or ~/.kube/config; "" if none."""
    paths: list[str] = []
    if env.get("KUBECONFIG"):
        paths = [p for p in env["KUBECONFIG"].split(os.pathsep) if p]
    elif env.get("HOME"):
        paths = [os.path.join(env["HOME"], ".kube", "config")]
    for path in paths:
        doc = _load_yaml_file(path)
        if isinstance(doc, dict) and doc.get("current-context"):
            return str(doc["current-context"])
    return ""


def _load_yaml_file(path: str) -> Any:
    try:
        data = _read(path)
    except OSError:
        return None
    # skaffold reads ~/.skaffold/config with its yaml package (yaml.v3) and kubeconfig with
    # client-go; an unreadable file counts as absent, as in skaffold's best-effort look-ups.
    from engine import yamlv3
    from engine.core.errors import YamlError

    try:
        docs = yamlv3.load_all(data, source=path, string_keys=True)
    except (YamlError, ValueError):
        return None
    return docs[0] if docs else None


def global_config(env: Mapping[str, str], kube_context: str) -> GlobalConfig:
    """~/.skaffold/config as skaffold reads it (config/util.go: getConfigForKubeContext...).

    No current context: ``global`` only.  Otherwise the *last* ``kubeContexts`` entry whose
    pattern matches wins as a whole; its unset fields come from ``global`` (mergo.Merge with
    WithAppendSlice: insecure-registries lists are concatenated).
    """
    home = env.get("HOME", "")
    doc = _load_yaml_file(os.path.join(home, ".skaffold", "config")) if home else None
    if not isinstance(doc, dict):
        return GlobalConfig()
    raw_global = doc.get("global")
    glob: dict[str, Any] = raw_global if isinstance(raw_global, dict) else {}
    if kube_context == "":
        chosen: dict[str, Any] = dict(glob)
    else:
        chosen = {}
        for ctx in doc.get("kubeContexts") or []:
            pattern = str(ctx.get("kube-context", "")) if isinstance(ctx, dict) else None
            if pattern is not None and regex_matches(pattern, kube_context):
                chosen = dict(ctx)
        for key, value in glob.items():
            if key == "insecure-registries":
                chosen[key] = [*_strs(chosen.get(key)), *_strs(value)]
            elif chosen.get(key) in (None, ""):
                chosen[key] = value
    return GlobalConfig(
        default_repo=_opt_str(chosen.get("default-repo")),
        multi_level_repo=_opt_bool(chosen.get("multi-level-repo")),
        insecure_registries=_strs(chosen.get("insecure-registries")),
        local_cluster=_opt_bool(chosen.get("local-cluster")),
    )


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:]\s*(.*)$")


def read_dotenv(path: str) -> dict[str, str]:
    """Parse a dotenv file (godotenv rules: comments, export, quotes, ${VAR}); {} if missing."""
    try:
        text = _read(path).decode("utf-8", "replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _DOTENV_LINE.match(line)
        if m is None:
            continue
        key, raw = m.group(1), m.group(2).strip()
        if raw[:1] in ('"', "'"):
            quote = raw[0]
            body = raw[1:]
            while _closing(body, quote) < 0 and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing(body, quote)
            value = body[:end] if end >= 0 else body
            if quote == '"':
                value = _unescape(value)
                value = _expand(value, out)
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
            value = _expand(value, out)
        out[key] = value
    return out


def _closing(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def _unescape(value: str) -> str:
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)),
        value,
    )


def _expand(value: str, known: Mapping[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(0).startswith("\\"):
            return m.group(0)[1:]
        name = m.group(1) or m.group(2) or ""
        return known.get(name, "")

    return re.sub(r"\\?\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))", repl, value)
