"""Image tags, exactly as skaffold's tag policies compute them (``pkg/skaffold/tag/*.go``).

Construction errors (bad git variant, template syntax, nested or duplicate customTemplate
components) are fatal, as at skaffold's runner creation.  Any failure while generating a tag
falls back silently to the sha256 tagger, i.e. ``image:latest``
(``pkg/skaffold/deploy/util/util.go: ImageTags``).
"""

from __future__ import annotations

import datetime
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.core import git
from engine.core.errors import SkrenderError, TaggerError, TemplateError
from engine.skaffold.schema import Artifact, Config, TagPolicy

if TYPE_CHECKING:
    from engine.stages.dockerfile import ImageConfigFn

_VARIANTS = ("tags", "commitsha", "abbrevcommitsha", "treesha", "abbrevtreesha", "branches")
_DEFAULT_DATE_FORMAT = "2006-01-02_15-04-05.999_MST"
_PREFIX = "creating runner: creating tagger: creating tagger: "
# Component keywords in the order skaffold's CreateComponents checks them (tagger_mux.go).
_COMPONENT_KINDS = (
    "envTemplate",
    "sha256",
    "gitCommit",
    "dateTime",
    "inputDigest",
    "customTemplate",
)
_BUILTIN_FIELDS = ("GIT", "DATE", "SHA", "INPUT_DIGEST")


class _TagFailure(Exception):
    """A runtime tagger failure: the artifact falls back to ``latest``."""


def sanitize_tag(tag: str) -> str:
    """skaffold's git tag sanitizing: ``[^a-zA-Z0-9-._]`` → ``_``, leading ``-``/``.`` → ``_``,
    truncated to 128 characters (``pkg/skaffold/tag/git_commit.go: sanitizeTag``)."""
    sanitized = re.sub(r"[^a-zA-Z0-9\-._]", "_", tag)
    stripped = sanitized.lstrip("-.")
    sanitized = "_" * (len(sanitized) - len(stripped)) + stripped
    return sanitized[:128]


# ---------------------------------------------------------------- construction


def validate_tag_policy(policy: TagPolicy) -> None:
    """Raise :class:`TaggerError` for errors skaffold reports when it creates the tagger."""
    try:
        _check_policy(policy.kind, policy.options)
    except _ConstructionError as exc:
        raise TaggerError(_PREFIX + str(exc)) from None


class _ConstructionError(Exception):
    pass


def _check_policy(kind: str, options: Mapping[str, Any]) -> None:
    if kind == "gitCommit":
        variant = _str(options.get("variant"))
        if variant.lower() not in ("", *_VARIANTS):
            raise _ConstructionError(f'"{variant}" is not a valid git tagger variant')
    elif kind == "envTemplate":
        _parse_env_template(_str(options.get("template")), {}, allow_commands=False)
    elif kind == "customTemplate":
        _components(options)
        _parse_custom_template(_str(options.get("template")))
    elif kind not in ("sha256", "dateTime", "inputDigest"):
        raise _ConstructionError(f"unknown tagger for strategy {kind}")


def _components(options: Mapping[str, Any]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """customTemplate components by name (skaffold ``CreateComponents``)."""
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for item in options.get("components") or ():
        entry = item if isinstance(item, Mapping) else {}
        name = _str(entry.get("name"))
        if name in out:
            raise _ConstructionError(f"creating components: multiple components with name {name}")
        kind = next((k for k in _COMPONENT_KINDS if entry.get(k) is not None), None)
        if kind is None:
            raise _ConstructionError(
                f"creating components: unknown component for custom template: {name}"
            )
        if kind == "customTemplate":
            raise _ConstructionError(
                "creating components: nested customTemplate components are not supported "
                f"in skaffold ({name})"
            )
        sub = entry.get(kind)
        out[name] = (kind, sub if isinstance(sub, Mapping) else {})
    return out


def _parse_env_template(text: str, env: Mapping[str, str], *, allow_commands: bool) -> Any:
    from engine.golang import texttemplate

    funcs = texttemplate.standard_functions(env=env, allow_commands=allow_commands)
    try:
        return texttemplate.parse(text, name="envTemplate", funcs=funcs)
    except SkrenderError as exc:
        raise _ConstructionError(f"parsing template: {exc}") from None


def _parse_custom_template(text: str) -> Any:
    from engine.golang import texttemplate

    try:
        # skaffold parses customTemplate without any extra functions (custom_template.go).
        return texttemplate.parse(text, name="customTemplate")
    except SkrenderError as exc:
        raise _ConstructionError(f"parsing template: {exc}") from None


def _str(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


# ---------------------------------------------------------------- generation


class _Tagger:
    """Per-run state shared by every artifact: environment, artifact graph, clock."""

    def __init__(
        self,
        configs: Sequence[Config],
        *,
        cwd: str,
        env: Mapping[str, str],
        allow_commands: bool,
        now: datetime.datetime | None,
        image_config: ImageConfigFn | None = None,
    ) -> None:
        self.cwd = cwd
        self.image_config = image_config
        self.env = dict(env)
        self.allow_commands = allow_commands
        self.now = now
        self.graph: dict[str, Artifact] = {}
        for config in configs:
            for artifact in config.artifacts:
                self.graph.setdefault(artifact.image, artifact)
        self._deps_cache: dict[str, list[str] | _TagFailure] = {}

    # -- dispatch

    def generate(self, kind: str, options: Mapping[str, Any], artifact: Artifact) -> str:
        handler: Callable[[Mapping[str, Any], Artifact], str] = {
            "gitCommit": self.git_commit,
            "sha256": self.sha256,
            "envTemplate": self.env_template,
            "dateTime": self.date_time,
            "customTemplate": self.custom_template,
            "inputDigest": self.input_digest,
        }[kind]
        return handler(options, artifact)

    def workspace(self, artifact: Artifact) -> str:
        return os.path.normpath(os.path.join(self.cwd, artifact.context or "."))

    # -- gitCommit (git_commit.go)

    def git_commit(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        variant = _str(options.get("variant")).lower()
        if variant not in ("", *_VARIANTS):
            raise _TagFailure(f"{variant!r} is not a valid git tagger variant")
        prefix = _str(options.get("prefix"))
        repo = git.GitRepo(self.workspace(artifact), self.env)
        try:
            ref = sanitize_tag(self._git_ref(repo, variant or "tags"))
            if not options.get("ignoreChanges") and repo.status_porcelain():
                return f"{prefix}{ref}-dirty"
        except SkrenderError as exc:
            raise _TagFailure(f"unable to find git commit: {exc}") from None
        return prefix + ref

    def _git_ref(self, repo: git.GitRepo, variant: str) -> str:
        if variant == "tags":
            return repo.describe_tags()
        if variant in ("commitsha", "abbrevcommitsha"):
            return repo.commit_sha(abbrev=variant == "abbrevcommitsha")
        if variant in ("treesha", "abbrevtreesha"):
            return repo.tree_sha(self._git_path(repo), short=variant == "abbrevtreesha")
        try:
            return repo.current_branch()
        except SkrenderError:
            return repo.commit_sha(abbrev=True)

    @staticmethod
    def _git_path(repo: git.GitRepo) -> str:
        # git reports the top level with symlinks resolved, so resolve the workspace too.
        if not os.path.exists(repo.path):
            raise _TagFailure(f"lstat {repo.path}: no such file or directory")
        resolved = os.path.realpath(repo.path)
        return os.path.relpath(resolved, repo.toplevel())

    # -- sha256 (sha256.go)

    def sha256(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        from engine.stages import naming

        parsed = naming.try_parse_reference(artifact.image)
        if parsed is None:
            raise _TagFailure(f"invalid image {artifact.image}")
        return "" if parsed.tag else "latest"

    # -- envTemplate (env_template.go)

    def env_template(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        try:
            template = _parse_env_template(
                _str(options.get("template")), self.env, allow_commands=self.allow_commands
            )
        except _ConstructionError as exc:
            raise _TagFailure(str(exc)) from None
        data = {**self.env, "IMAGE_NAME": artifact.image}
        try:
            tag = str(template.execute(data, missing_key="default"))
        except SkrenderError as exc:
            raise _TagFailure(str(exc)) from None
        if "<no value>" in tag:
            raise _TagFailure("environment variables missing for template keys")
        return tag

    # -- dateTime (date_time.go)

    def date_time(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        from engine.golang.timeformat import format_time

        layout = _str(options.get("format")) or _DEFAULT_DATE_FORMAT
        zone = self._location(_str(options.get("timezone")) or "Local")
        now = self.now or datetime.datetime.now(datetime.timezone.utc)
        if now.tzinfo is None:
            now = now.replace(tzinfo=datetime.timezone.utc)
        return format_time(now.astimezone(zone), layout)

    def _location(self, name: str) -> datetime.tzinfo:
        """Go ``time.LoadLocation``; ``Local`` follows ``TZ`` like Go's ``initLocal``."""
        if name in ("", "UTC"):
            return datetime.timezone.utc
        if name == "Local":
            return _local_zone(self.env)
        if ".." in name or name.startswith(("/", "\\")):
            raise _TagFailure(f"bad timezone provided: {name!r}")
        zone = _load_zone(name)
        if zone is None:
            raise _TagFailure(f"bad timezone provided: {name!r}")
        return zone

    # -- customTemplate (custom_template.go)

    def custom_template(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        try:
            components = _components(options)
            template = _parse_custom_template(_str(options.get("template")))
        except _ConstructionError as exc:
            raise _TagFailure(str(exc)) from None
        values: dict[str, str] = {}
        for name in template_fields(_str(options.get("template"))):
            if name in components:
                kind, sub = components[name]
            elif name in _BUILTIN_FIELDS:
                kind, sub = _builtin_component(name), {}
            else:
                raise _TagFailure(f"no tagger available for component {name}")
            if kind == "gitCommit" and _str(sub.get("variant")).lower() not in ("", *_VARIANTS):
                # skaffold keeps a nil tagger for a bad component variant and crashes on it.
                raise _TagFailure(f"invalid gitCommit component {name}")
            values[name] = self.generate(kind, sub, artifact)
        try:
            return str(template.execute(values, missing_key="error"))
        except SkrenderError as exc:
            raise _TagFailure(f"executing template: {exc}") from None

    # -- inputDigest (input_digest.go)

    def input_digest(self, options: Mapping[str, Any], artifact: Artifact) -> str:
        import hashlib  # with json: only this policy needs them (start-up time)
        import json

        workspace = artifact.context or "."
        files = self._transitive_deps(artifact, set())
        files += _digested_dockerfiles(artifact)
        files.sort()
        hashes = [h for h in (self._file_hash(f, workspace) for f in files) if h is not None]
        encoded = json.dumps(hashes, separators=(",", ":"), ensure_ascii=False) + "\n"
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    def _transitive_deps(self, artifact: Artifact, seen: set[str]) -> list[str]:
        deps = list(self._single_deps(artifact))
        for dependency in artifact.requires:
            required = self.graph.get(dependency.image)
            if required is None or dependency.image in seen:
                raise _TagFailure(f"unable to resolve artifact {dependency.image}")
            deps += self._transitive_deps(required, seen | {artifact.image})
        return deps

    def _single_deps(self, artifact: Artifact) -> list[str]:
        cached = self._deps_cache.get(artifact.image)
        if cached is None:
            try:
                cached = self._resolve_deps(artifact)
            except _TagFailure as exc:
                cached = exc
            except SkrenderError as exc:
                cached = _TagFailure(str(exc))
            self._deps_cache[artifact.image] = cached
        if isinstance(cached, _TagFailure):
            raise cached
        return cached

    def _resolve_deps(self, artifact: Artifact) -> list[str]:
        """graph/dependencies.go sourceDependenciesForArtifact, one builder at a time."""
        from engine.stages import builddeps

        workspace = artifact.context or "."
        fs_workspace = self.workspace(artifact)
        raw = artifact.raw
        if artifact.builder == "docker" and artifact.docker is not None:
            docker = artifact.docker
            paths = self._dockerfile_deps(
                artifact, fs_workspace, docker.dockerfile, docker.build_args
            )
        elif artifact.builder == "kaniko":
            kaniko = _mapping(raw.get("kaniko"))
            # kaniko.GetContext: filepath.Join(workspace, contextSubPath)
            from engine.golang import filepath

            fs_context = filepath.join(fs_workspace, _str(kaniko.get("contextSubPath")))
            paths = self._dockerfile_deps(
                artifact,
                fs_context,
                _kaniko_dockerfile(kaniko),
                _build_arg_map(kaniko.get("buildArgs")),
            )
        elif artifact.builder == "custom":
            paths = self._custom_deps(fs_workspace, _mapping(raw.get("custom")))
        elif artifact.builder == "buildpacks":
            deps = _mapping(raw.get("buildpacks")).get("dependencies")
            paths = builddeps.paths_dependencies(
                fs_workspace, deps if isinstance(deps, Mapping) else None
            )
        elif artifact.builder == "ko":
            paths = builddeps.ko_dependencies(fs_workspace, _mapping(raw.get("ko")))
        elif artifact.builder == "bazel":
            target = _str(_mapping(raw.get("bazel")).get("target"))
            paths = builddeps.bazel_dependencies(fs_workspace, target, self.env)
        elif artifact.builder == "jib":
            paths = builddeps.jib_dependencies(fs_workspace, _mapping(raw.get("jib")), self.env)
        else:
            raise _TagFailure(f"unexpected artifact type {artifact.builder!r}")
        # graph/dependencies.go: util.AbsolutePaths joins relative results with the workspace
        # (for kaniko too, although its paths are relative to the contextSubPath).
        return [p if os.path.isabs(p) else _go_join(workspace, p) for p in paths]

    def _custom_deps(self, fs_workspace: str, custom: Mapping[str, Any]) -> list[str]:
        """build/custom/dependencies.go: a Dockerfile, a command, else paths (default ".")."""
        from engine.stages import builddeps, dockerfile

        deps = custom.get("dependencies")
        if not isinstance(deps, Mapping):
            return builddeps.paths_dependencies(fs_workspace, None)
        docker = deps.get("dockerfile")
        if isinstance(docker, Mapping):
            # The custom builder's Dockerfile build args are used as written (no evalBuildArgs).
            return dockerfile.dependencies(
                fs_workspace,
                _str(docker.get("path")),
                _build_arg_map(docker.get("buildArgs")),
                self.env,
                cwd=self.cwd,
                image_config=self.image_config,
            )
        if deps.get("command"):
            return builddeps.command_dependencies(fs_workspace, _str(deps["command"]), self.env)
        return builddeps.paths_dependencies(fs_workspace, deps)

    def _dockerfile_deps(
        self,
        artifact: Artifact,
        fs_context: str,
        dockerfile_path: str,
        build_args: Mapping[str, str | None],
    ) -> list[str]:
        from engine.stages import dockerfile

        args = self._build_args(artifact, fs_context, dockerfile_path, build_args)
        return dockerfile.dependencies(
            fs_context,
            dockerfile_path,
            args,
            self.env,
            cwd=self.cwd,
            image_config=self.image_config,
        )

    def _build_args(
        self,
        artifact: Artifact,
        fs_context: str,
        dockerfile_path: str,
        build_args: Mapping[str, str | None],
    ) -> dict[str, str | None]:
        """skaffold ``evalBuildArgs`` in render mode with the stub artifact resolver."""
        from engine.stages import dockerfile

        result: dict[str, str | None] = {"SKAFFOLD_RUN_MODE": "render"}
        for dependency in artifact.requires:
            result[dependency.alias or dependency.image] = "image:latest"
        path = dockerfile.normalize_dockerfile_path(fs_context, dockerfile_path, self.cwd)
        declared = set(dockerfile.declared_args(path))
        result = {k: v for k, v in result.items() if k in declared}
        result.update(build_args)
        # docker.EnvTags("image:latest"): the stub tag has no repo and no name part.
        env = {**self.env, "IMAGE_REPO": "", "IMAGE_NAME": "", "IMAGE_TAG": "latest"}
        out: dict[str, str | None] = {}
        for key, value in result.items():
            out[key] = value if value is None or "{{" not in value else _expand(value, env)
        return out

    def _file_hash(self, path: str, workspace: str) -> str | None:
        fs_path = os.path.join(self.cwd, path)
        try:
            info = os.lstat(fs_path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _TagFailure(f"getting hash for {path!r}: {exc}") from None
        import hashlib

        digest = hashlib.md5(usedforsecurity=False)
        digest.update(_go_rel(workspace, path).encode("utf-8", "surrogateescape"))
        if stat.S_ISREG(info.st_mode):
            with open(fs_path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _build_arg_map(value: object) -> dict[str, str | None]:
    return {str(k): None if v is None else _str(v) for k, v in _mapping(value).items()}


def _kaniko_dockerfile(kaniko: Mapping[str, Any]) -> str:
    return _str(kaniko.get("dockerfile")) or "Dockerfile"  # defaults.go: DefaultDockerfilePath


def _digested_dockerfiles(artifact: Artifact) -> list[str]:
    """Dockerfiles input_digest.go hashes besides the dependencies, as written in the config."""
    if artifact.builder == "docker" and artifact.docker is not None:
        return [artifact.docker.dockerfile]
    if artifact.builder == "kaniko":
        return [_kaniko_dockerfile(_mapping(artifact.raw.get("kaniko")))]
    if artifact.builder == "custom":
        deps = _mapping(_mapping(artifact.raw.get("custom")).get("dependencies"))
        docker = deps.get("dockerfile")
        if isinstance(docker, Mapping):
            return [_str(docker.get("path"))]
    return []


def _expand(text: str, env: Mapping[str, str]) -> str:
    from engine.golang import texttemplate

    return str(texttemplate.expand(text, env, name="envTemplate"))


def _builtin_component(name: str) -> str:
    return {"GIT": "gitCommit", "DATE": "dateTime", "SHA": "sha256"}.get(name, "inputDigest")


def _go_join(base: str, path: str) -> str:
    return os.path.normpath(os.path.join(base, path))


def _go_rel(base: str, target: str) -> str:
    """Go ``filepath.Rel``; when one path is absolute and the other is not, Go fails and
    skaffold hashes the path unchanged (input_digest.go: fileHasher)."""
    if os.path.isabs(base) != os.path.isabs(target):
        return target
    return os.path.relpath(target, base) if os.path.isabs(base) else _rel_relative(base, target)


def _rel_relative(base: str, target: str) -> str:
    # Both relative: resolve lexically against a fixed fake root (Go's Rel is lexical).
    root = "/__skrender_rel__"
    return os.path.relpath(os.path.join(root, target), os.path.join(root, base))


def _load_zone(name: str) -> datetime.tzinfo | None:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _local_zone(env: Mapping[str, str]) -> datetime.tzinfo:
    """Go's ``initLocal``: TZ unset → /etc/localtime; empty or unloadable → UTC."""
    import zoneinfo

    tz = env.get("TZ")
    if tz is None:
        try:
            with open("/etc/localtime", "rb") as fh:
                return zoneinfo.ZoneInfo.from_file(fh, key="Local")
        except (OSError, ValueError):
            return datetime.timezone.utc
    tz = tz.removeprefix(":")
    if tz.startswith("/"):
        try:
            with open(tz, "rb") as fh:
                return zoneinfo.ZoneInfo.from_file(fh, key=tz)
        except (OSError, ValueError):
            return datetime.timezone.utc
    if tz in ("", "UTC"):
        return datetime.timezone.utc
    zone = _load_zone(tz)
    return zone if zone is not None else datetime.timezone.utc


# ---------------------------------------------------------------- template fields

_TOKEN = re.compile(
    r"""(?P<end>\}\})"""
    r"""|/\*.*?\*/"""  # comment
    r"""|"(?:\\.|[^"\\])*"|`[^`]*`|'(?:\\.|[^'\\])*'"""  # string, raw string, char
    r"""|\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"""  # variable with its field chain
    r"""|\)(?:\.[A-Za-z_][A-Za-z0-9_]*)+"""  # chain on a parenthesised pipeline
    r"""|[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"""  # identifier or number: not a field
    r"""|(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)""",
    re.S,
)


def template_fields(text: str) -> list[str]:
    """Identifiers of every ``.Field`` chain in the template's actions, first-seen order
    (skaffold ``GetTemplateFields``; variable and parenthesised chains are not fields)."""
    fields: list[str] = []
    pos = text.find("{{")
    while pos >= 0:
        pos += 2
        while pos < len(text):
            token = _TOKEN.match(text, pos)
            if token is None:
                pos += 1
                continue
            pos = token.end()
            if token.group("end"):
                break
            for ident in (token.group("field") or "").split(".")[1:]:
                if ident not in fields:
                    fields.append(ident)
        pos = text.find("{{", pos)
    return fields


# ---------------------------------------------------------------- entry point


def image_tags(
    configs: Sequence[Config],
    *,
    cwd: str,
    env: Mapping[str, str],
    custom_tag: str | None = None,
    allow_commands: bool = True,
    now: datetime.datetime | None = None,
    fell_back: list[str] | None = None,
    image_config: ImageConfigFn | None = None,
) -> list[tuple[str, str]]:
    """``[(artifact image, composed reference)]`` for every artifact of every config, in order.

    The reference is ``image:tag``, or the bare image when the tag is empty; any runtime
    failure falls back to ``image:latest`` (and the image is appended to ``fell_back``).
    ``image_config`` looks up a Docker base image's config (inputDigest); without it such
    artifacts fall back.  The default repo is not applied here.
    """
    if not custom_tag:
        for config in configs:
            validate_tag_policy(config.tag_policy)
    tagger = _Tagger(
        configs,
        cwd=cwd,
        env=env,
        allow_commands=allow_commands,
        now=now,
        image_config=image_config,
    )
    out: list[tuple[str, str]] = []
    for config in configs:
        for artifact in config.artifacts:
            reference, ok = _tag_one(tagger, config.tag_policy, artifact, custom_tag)
            out.append((artifact.image, reference))
            if not ok and fell_back is not None:
                fell_back.append(artifact.image)
    return out


def _tag_one(
    tagger: _Tagger, policy: TagPolicy, artifact: Artifact, custom_tag: str | None
) -> tuple[str, bool]:
    """(reference, whether the policy produced it rather than the fall-back)."""
    from engine.core import log
    from engine.stages import naming

    try:
        tag = custom_tag or tagger.generate(policy.kind, policy.options, artifact)
        composed = f"{artifact.image}:{tag}" if tag else artifact.image
        if naming.is_valid_reference(composed):
            return composed, True
        reason = f"invalid tag {composed!r} for image {artifact.image!r}"
    except (_TagFailure, SkrenderError, OSError, ValueError) as exc:
        _refuse_disabled_commands(exc, artifact)
        # any other tagger failure means the fall-back tag
        reason = f"image {artifact.image!r}: {policy.kind} tagger: {exc}"
    # deploy/util/util.go logs the tagger's error, then "Using a fall-back tagger" (debug)
    log.debug(reason)
    log.debug("Using a fall-back tagger")
    # skaffold's fall-back: the sha256 tagger ("latest" unless the image carries a tag).
    parsed = naming.try_parse_reference(artifact.image)
    if parsed is not None and parsed.tag:
        return artifact.image, False
    return f"{artifact.image}:latest", False


def _refuse_disabled_commands(exc: BaseException, artifact: Artifact) -> None:
    """skrender: a `cmd` refused by --no-template-commands fails the run instead of silently
    tagging `latest` (the flag marks an untrusted config; a quiet fall-back would hide it)."""
    from engine.golang.texttemplate import COMMANDS_DISABLED

    if COMMANDS_DISABLED in str(exc):
        raise TemplateError(
            f"image {artifact.image!r}: build.tagPolicy: envTemplate: {exc}"
        ) from None
