"""skaffold's helm releases and the helm command lines it builds for them.

``latest.HelmRelease`` / ``HelmDeployFlags`` as render reads them (:func:`renderers`), the
template data of ``setValueTemplates`` and ``valuesFiles`` (:func:`image_env`, from
``pkg/skaffold/helm/args.go``), and the arguments: ``ConstructOverrideArgs``
(:func:`override_args`), ``templateArgs`` / ``depBuildArgs``
(``render/renderer/helm/args.go``) and ``generateHelmCommand`` (``helm/bin.go``:
:func:`command_args`).  The renderer that runs them: :mod:`engine.stages.helm`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import HelmError

# constants.HelmOverridesFilename
OVERRIDES_FILENAME = "skaffold-overrides.yaml"

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
    # deploy.helm's, which `render` runs after every config's own renderers, without the
    # `--set` setters (runner/renderer.go)
    legacy: bool = False


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
    rules: Any = None  # rewrite.TransformRules of the in-process filter (rewrite.filter_rules)
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
        found.append(Renderer(tuple(render_releases), _flags(helm.get("flags"))))
    if legacy is not None:
        taken = {r.name for r in render_releases}
        releases = [
            _release(r)
            for r in _list(legacy.get("releases"))
            if isinstance(r, dict) and str(r.get("name") or "") not in taken
        ]
        if releases:
            found.append(Renderer(tuple(releases), Flags(), legacy=True))
    return found


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


def image_env(builds: Sequence[Build]) -> dict[str, str]:
    """``ConstructOverrideArgs``' envMap: per build, ``KEY<n>`` (n from 2) and ``KEY_<name>``."""
    from engine.skaffold.upgrade import sanitize_helm_template_value

    env: dict[str, str] = {}
    for index, (image, tag) in enumerate(builds):
        suffix = str(index + 1) if index > 0 else ""
        name = sanitize_helm_template_value(image)  # "." "-" "/" ":" become "_"
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


def expand(text: str, data: Mapping[str, str], ctx: Context, *, or_fail: bool = False) -> str:
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
        value = expand(release.set_value_templates[key], data, ctx)
        expanded_key = expand(key, data, ctx)
        # args.go: a digest-less "{{.IMAGE_TAG}}@{{.IMAGE_DIGEST}}" must not end in "@"
        args += ["--set", f"{expanded_key}={value.removesuffix('@')}"]
    for path in release.values_files:
        if path.startswith("gs://"):
            raise HelmError(f"valuesFiles: {path}: Google Cloud Storage sources are not supported")
        args += ["-f", expand(_home(path, ctx), data, ctx)]
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


def input_paths(renderer: Renderer, ctx: Context) -> list[str] | None:
    """The local files and directories a helm renderer reads (chart directories, values files,
    set files), joined to ``ctx.cwd``; None when it reads a remote chart (`skrender bulk
    --changed`: such a service always counts as changed)."""
    paths: list[str] = []
    for release in renderer.releases:
        if release.remote_chart:
            return None
        chart = expand(release.chart_path, {}, ctx, or_fail=True)
        values = [expand(_home(p, ctx), {}, ctx) for p in release.values_files]
        for path in [chart, *values, *(_home(p, ctx) for p in release.set_files.values())]:
            if path:
                paths.append(os.path.join(ctx.cwd, path))
    return paths


# terminal control characters and bidirectional overrides: never printed raw from helm's output
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Helm's (untrusted) error text made safe for a terminal or a CI log: control characters
    are escaped, line breaks and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
