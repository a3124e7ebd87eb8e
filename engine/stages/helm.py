"""skaffold's helm renderer: `manifests.helm` (and `deploy.helm` for `render`) releases.

Reproduces ``pkg/skaffold/render/renderer/helm/`` and ``pkg/skaffold/helm/``:

* the releases to render (:func:`renderers`): ``manifests.helm``, then ``deploy.helm`` minus
  the releases ``manifests.helm`` already has (``runner/renderer.go: filterDuplicates``);
* per release, in order: the name, chart path and namespace expanded from the environment,
  ``helm dep build`` unless ``skipBuildDependencies``, then ``helm template`` with exactly the
  arguments skaffold builds (:func:`template_args`);
* with build artifacts, every release is post-rendered by ``skaffold filter``
  (:func:`filter_manifests`, also the ``skrender filter`` command): artifact images replaced,
  ``-l`` labels added;
* the output of each release joins the manifest list through ``ManifestList.Append``.

Two engines answer the `helm` calls (:func:`select_engine`): a ``helm`` binary on PATH, used
exactly as skaffold uses it (:mod:`engine.stages.helm_binary`), else the Helm SDK in-process
(:mod:`engine.stages.helm_sdk`, the optional extra ``skrender[helm]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from engine.core.errors import HelmError, SkrenderError
from engine.golang import unicode

# constants.HelmOverridesFilename
OVERRIDES_FILENAME = "skaffold-overrides.yaml"
# constants.ImageRef
_IMAGE_REF_KEYS = ("IMAGE_REPO", "IMAGE_TAG", "IMAGE_DIGEST")

Build = tuple[str, str]  # (imageName, final image reference)


class Release(NamedTuple):
    """One ``latest.HelmRelease`` (the fields render uses)."""

    name: str
    chart_path: str = ""
    remote_chart: str = ""
    values_files: tuple[str, ...] = ()
    namespace: str = ""
    version: str = ""
    set_values: Mapping[str, str] = {}
    set_value_templates: Mapping[str, str] = {}
    set_files: Mapping[str, str] = {}
    skip_build_dependencies: bool = False
    skip_tests: bool = False
    use_helm_secrets: bool = False
    repo: str = ""
    overrides: Mapping[str, Any] = {}
    packaged: bool = False


class Flags(NamedTuple):
    """``latest.HelmDeployFlags``: extra arguments of each helm command."""

    global_: tuple[str, ...] = ()
    template: tuple[str, ...] = ()
    dep_build: tuple[str, ...] = ()


class Renderer(NamedTuple):
    """One helm renderer of a config: its releases and flags."""

    releases: tuple[Release, ...]
    flags: Flags
    manifest_overrides: bool  # the `--set` setters reach helm (not for the deploy.helm one)


class Context(NamedTuple):
    """What the helm renderer takes from the run."""

    cwd: str
    env: Mapping[str, str]  # the environment (template data, helm's environment)
    builds: Sequence[Build]  # every build artifact of the run, in order
    namespace: str = ""  # -n
    labels: Mapping[str, str] = {}  # -l
    setters: Mapping[str, str] = {}  # --set / --set-value-file
    kube_context: str = ""
    config_file: str = ""  # skaffold.yaml, for `skaffold filter`
    rules: Any = None  # rewrite.TransformRules for the in-process filter
    allow_commands: bool = True


# --- the config -----------------------------------------------------------------------------------


def renderers(helm: Mapping[str, Any] | None, legacy: Mapping[str, Any] | None) -> list[Renderer]:
    """The helm renderers of one config, in skaffold's order (renderer.go, runner/renderer.go).

    ``legacy`` is ``deploy.helm``: render uses its releases, without the ones named in
    ``manifests.helm`` and without its flags (skaffold builds that renderer from the releases
    alone).
    """
    found: list[Renderer] = []
    render_releases: list[Release] = []
    if helm is not None:
        render_releases = [_release(r) for r in _list(helm.get("releases")) if isinstance(r, dict)]
        found.append(Renderer(tuple(render_releases), _flags(helm.get("flags")), True))
    if legacy is not None:
        taken = {r.name for r in render_releases}
        releases = [
            _release(r)
            for r in _list(legacy.get("releases"))
            if isinstance(r, dict) and str(r.get("name") or "") not in taken
        ]
        if releases:
            found.append(Renderer(tuple(releases), Flags(), False))
    return found


def has_helm(helm: Mapping[str, Any] | None, legacy: Mapping[str, Any] | None) -> bool:
    return helm is not None or bool(legacy and _list(legacy.get("releases")))


def _release(raw: Mapping[str, Any]) -> Release:
    return Release(
        name=_str(raw.get("name")),
        chart_path=_str(raw.get("chartPath")),
        remote_chart=_str(raw.get("remoteChart")),
        values_files=tuple(_str(v) for v in _list(raw.get("valuesFiles"))),
        namespace=_str(raw.get("namespace")),
        version=_str(raw.get("version")),
        set_values=_flat_map(raw.get("setValues")),
        set_value_templates=_flat_map(raw.get("setValueTemplates")),
        set_files={str(k): _str(v) for k, v in _dict(raw.get("setFiles")).items()},
        skip_build_dependencies=raw.get("skipBuildDependencies") is True,
        skip_tests=raw.get("skipTests") is True,
        use_helm_secrets=raw.get("useHelmSecrets") is True,
        repo=_str(raw.get("repo")),
        overrides=_dict(raw.get("overrides")),
        packaged=raw.get("packaged") is not None,
    )


def _flags(raw: Any) -> Flags:
    flags = _dict(raw)
    return Flags(
        global_=tuple(_str(v) for v in _list(flags.get("global"))),
        template=tuple(_str(v) for v in _list(flags.get("template"))),
        dep_build=tuple(_str(v) for v in _list(flags.get("depBuild"))),
    )


def _flat_map(raw: Any) -> dict[str, str]:
    """``util.FlatMap``: nested mappings flattened to dotted keys, scalars as Go prints them."""
    out: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        else:
            out[prefix[:-1]] = _scalar(value)

    if isinstance(raw, dict):
        walk("", raw)
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _str(value: Any) -> str:
    return "" if value is None else _scalar(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- template data --------------------------------------------------------------------------------


def sanitize_template_value(image_name: str) -> str:
    """``util.SanitizeHelmTemplateValue``: ``.``, ``-`` and ``/`` become ``_``."""
    return image_name.replace(".", "_").replace("-", "_").replace("/", "_")


def image_env(builds: Sequence[Build]) -> dict[str, str]:
    """``ConstructOverrideArgs``' envMap: per build, ``KEY<n>`` (n from 2) and ``KEY_<name>``."""
    env: dict[str, str] = {}
    for index, (image, tag) in enumerate(builds):
        suffix = str(index + 1) if index > 0 else ""
        name = sanitize_template_value(image)
        for key, value in _image_vars(image, tag).items():
            env[key + suffix] = value
            env[key + "_" + name] = value
    return env


def _image_vars(image: str, tag: str) -> dict[str, str]:
    """pkg/skaffold/helm/args.go envVarForImage (``tag`` is the full reference)."""
    from engine.stages import naming

    found = {"IMAGE_NAME": image, "DIGEST": tag}
    ref = naming.try_parse_reference(tag)
    if ref is not None:
        found["IMAGE_REPO"], found["IMAGE_TAG"], found["IMAGE_DIGEST"] = (
            ref.base_name,
            ref.tag,
            ref.digest,
        )
    if tag == "":
        return found
    algo, sep, hex_part = tag.partition(":")
    if sep:
        found["DIGEST_ALGO"], found["DIGEST_HEX"] = algo, hex_part
    else:
        found["DIGEST_HEX"] = tag
    domain = ref.domain if ref is not None else ""
    base = ref.base_name if ref is not None else ""
    found["IMAGE_DOMAIN"] = domain
    found["IMAGE_REPO_NO_DOMAIN"] = base.removeprefix(domain + "/")
    found["IMAGE_FULLY_QUALIFIED"] = tag
    return found


def _expand(text: str, data: Mapping[str, str], ctx: Context, *, or_fail: bool = False) -> str:
    """``util.ExpandEnvTemplate`` (``OrFail``: ``missingkey=error``) over the environment + data."""
    if "{{" not in text:
        return text
    from engine.golang import texttemplate

    merged = {**ctx.env, **data}
    funcs = texttemplate.standard_functions(env=merged, allow_commands=ctx.allow_commands)
    template = texttemplate.parse(text, name="envTemplate", funcs=funcs)
    expanded: str = template.execute(merged, missing_key="error" if or_fail else "default")
    return expanded


# --- the arguments skaffold gives helm ------------------------------------------------------------


def override_args(
    release: Release, ctx: Context, manifest_overrides: Mapping[str, str]
) -> list[str]:
    """pkg/skaffold/helm/args.go ConstructOverrideArgs: --set, --set-file, templates, -f."""
    args: list[str] = []
    for key in sorted(release.set_values):
        args += ["--set", f"{key}={release.set_values[key]}"]
    for key in sorted(release.set_files):
        args += ["--set-file", f"{key}={_sanitize_file_path(_home(release.set_files[key], ctx))}"]
    data = image_env(ctx.builds)
    for key in sorted(release.set_value_templates):
        value = _expand(release.set_value_templates[key], data, ctx)
        expanded_key = _expand(key, data, ctx)
        # args.go: a digest-less "{{.IMAGE_TAG}}@{{.IMAGE_DIGEST}}" must not end in "@"
        args += ["--set", f"{expanded_key}={value.removesuffix('@')}"]
    for path in release.values_files:
        if path.startswith("gs://"):
            raise HelmError(f"valuesFiles: {path}: Google Cloud Storage sources are not supported")
        args += ["-f", _expand(_home(path, ctx), data, ctx)]
    for key in sorted(manifest_overrides):
        args += ["--set", f"{key}={manifest_overrides[key]}"]
    return args


def _home(path: str, ctx: Context) -> str:
    """go-homedir Expand: a leading ``~`` is the home directory."""
    if not path.startswith("~"):
        return path
    if len(path) > 1 and path[1] not in "/\\":
        raise HelmError(f"unable to expand {path!r}: cannot expand user-specific home dir")
    home = ctx.env.get("HOME", "")
    if not home:
        raise HelmError(f"unable to expand {path!r}: $HOME is not defined")
    return home + path[1:]


def _sanitize_file_path(path: str) -> str:
    """helm/util.go SanitizeFilePath (non-Windows): quoted when it has a space or tab."""
    if path == "":
        return '""'
    return f'"{path}"' if (" " in path or "\t" in path) else path


def template_args(
    name: str,
    release: Release,
    namespace: str,
    flags: Flags,
    post_renderer_args: Sequence[str],
    overrides: Sequence[str],
    overrides_file: str | None,
) -> list[str]:
    """render/renderer/helm/args.go templateArgs (``helm template ...``)."""
    args = ["template", name, release.remote_chart or release.chart_path]
    args += flags.template
    args += post_renderer_args
    args += overrides
    if overrides_file is not None:
        args += ["-f", overrides_file]
    if not release.packaged and release.version:
        args += ["--version", release.version]
    if namespace:
        args += ["--namespace", namespace]
    if release.repo:
        args += ["--repo", release.repo]
    if release.skip_tests:
        args.append("--skip-tests")
    return args


def depbuild_args(chart_path: str, flags: Flags) -> list[str]:
    """render/renderer/helm/args.go depBuildArgs."""
    return ["dep", "build", chart_path, *flags.dep_build]


def command_args(
    args: Sequence[str], flags: Flags, ctx: Context, *, secrets: bool = False
) -> list[str]:
    """pkg/skaffold/helm/bin.go generateHelmCommand: the full argument list after ``helm``."""
    full = list(args)
    wants_kubernetes = not full or full[0] != "plugin"
    if wants_kubernetes:
        full = ["--kube-context", ctx.kube_context, *full]
    full += flags.global_
    if secrets:
        full = ["secrets", *full]
    return full


# --- rendering ------------------------------------------------------------------------------------


class Engine(Protocol):
    """What the renderer needs from helm (a context manager around the releases)."""

    @property
    def version(self) -> str:
        """What `helm version` says."""
        ...

    @property
    def post_renderer_args(self) -> Sequence[str]:
        """skaffold's ``--post-renderer`` arguments for `helm template`."""
        ...

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, argv: Sequence[str]) -> str:
        """The stdout of ``helm <argv>``; HelmError with helm's output when it fails."""
        ...


def render(renderer: Renderer, ctx: Context) -> list[str]:
    """The manifest list of one helm renderer (``generateHelmManifests``): every release's
    ``helm template`` output, split by ``ManifestList.Append``.  Labels are added by the caller
    (the renderer's ``SetLabels`` re-encodes the documents)."""
    from engine.stages import sources

    manifest_overrides = ctx.setters if renderer.manifest_overrides else {}
    engine = select_engine(ctx, manifest_overrides, renderer.flags)
    entries: list[str] = []
    with engine:
        for release in renderer.releases:
            text = _render_release(engine, release, renderer.flags, ctx, manifest_overrides)
            entries.extend(sources.append_split(text))
    return entries


def _render_release(
    engine: Engine, release: Release, flags: Flags, ctx: Context, overrides: Mapping[str, str]
) -> str:
    """render/renderer/helm/helm.go generateHelmManifest."""
    name = _expand_or_fail(release.name, ctx, "cannot expand release name")
    chart_path = _expand_or_fail(release.chart_path, ctx, "cannot expand chart path")
    release = release._replace(chart_path=chart_path)
    namespace = ctx.namespace
    if not namespace and release.namespace:
        namespace = _expand_or_fail(
            release.namespace, ctx, "cannot parse the release namespace template"
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skrender-helm-") as scratch:
        overrides_file = None
        if release.overrides:
            # helm.go generateSkaffoldOverrides writes it into the working directory; a private
            # directory gives helm the same values without touching the user's tree
            from engine import yamlv3

            overrides_file = os.path.join(scratch, OVERRIDES_FILENAME)
            with open(overrides_file, "w", encoding="utf-8") as handle:
                handle.write(yamlv3.dump(dict(release.overrides)))
        try:
            args = template_args(
                name,
                release,
                namespace,
                flags,
                engine.post_renderer_args,
                override_args(release, ctx, overrides),
                overrides_file,
            )
        except SkrenderError as exc:
            raise HelmError(
                f"cannot construct helm template args: construct override args: {exc}"
            ) from None
        if not release.skip_build_dependencies and release.chart_path:
            try:
                engine.run(command_args(depbuild_args(release.chart_path, flags), flags, ctx))
            except HelmError as exc:
                raise HelmError(f"building helm dependencies: {exc}") from None
        try:
            out: str = engine.run(command_args(args, flags, ctx, secrets=release.use_helm_secrets))
        except HelmError as exc:
            raise HelmError(
                f"Failed to render release: {exc} (releaseName={_go_quote(name)})"
            ) from None
        return out


def _expand_or_fail(text: str, ctx: Context, what: str) -> str:
    try:
        return _expand(text, {}, ctx, or_fail=True)
    except SkrenderError as exc:
        raise HelmError(f"{what} {_go_quote(text)}: {exc}") from None


def _go_quote(text: str) -> str:
    from engine.core.proc import go_quote

    quoted: str = go_quote(text)
    return quoted


def select_engine(ctx: Context, manifest_overrides: Mapping[str, str], flags: Flags) -> Engine:
    """A ``helm`` binary on PATH (used as skaffold uses it), else the SDK in-process."""
    from engine.core import proc

    if proc.which("helm", ctx.env.get("PATH", os.environ.get("PATH"))):
        from engine.stages import helm_binary

        return helm_binary.BinaryEngine(ctx, manifest_overrides, flags)
    from engine.stages import helm_sdk

    if not helm_sdk.available():
        raise HelmError(helm_sdk.EXTRA_HINT)
    return helm_sdk.InProcessEngine(ctx, manifest_overrides, flags)


# --- skaffold filter ------------------------------------------------------------------------------


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
    from engine.stages import helm_sdk
    from engine.stages import setters as setters_mod

    try:
        entries = helm_sdk.yaml_reader_documents(text)
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
