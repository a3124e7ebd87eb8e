"""skaffold's kpt renderer and its kpt function pipelines (``manifests.transform``/``validate``).

* :func:`fn_render` and :func:`is_deployable` - ``manifests.kpt``
  (``pkg/skaffold/render/renderer/kpt/kpt.go``): one ``kpt fn render <dir> -o unwrap`` per
  package, run by the real ``kpt``; the ``Kptfile`` and every
  ``config.kubernetes.io/local-config: "true"`` document are dropped; then the transformers
  (for kpt, ``--set`` values become the containerised ``apply-setters`` function).
  ``engine.stages.sources`` decodes and orders the renderers.
* :func:`check_functions` - the allow-lists skaffold checks when it creates a renderer
  (``pkg/skaffold/render/transform/transform.go``, ``.../validate/validate.go``), with their
  wording.
* :func:`transform_text` / :func:`transform_file` / :func:`validate_text` - the functions
  run as skaffold runs them: ``kpt fn eval -i <image> ...`` (kpt needs a container runtime and
  the image).
* :func:`make_hydration_dir` - ``--hydration-dir``, created as skaffold creates it whenever a
  config uses kpt (``pkg/skaffold/deploy/util/util.go: GetHydrationDir``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.core import proc
from engine.core.errors import ConfigError, ManifestError, ToolError
from engine.skaffold.schema import EMPTY_MAPPING, Config

DEFAULT_HYDRATION_DIR = ".kpt-pipeline"  # constants.DefaultHydrationDir

# transform.go transformerAllowlist; the error lists only allowListedTransformer
_TRANSFORMERS = {
    "set-namespace": "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1",
    "set-labels": "ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.1.5",
    "set-annotations": "ghcr.io/kptdev/krm-functions-catalog/set-annotations:v0.1",
    "create-setters": "ghcr.io/kptdev/krm-functions-catalog/create-setters:v0.1.3",
    "apply-setters": "ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.4",
    "ensure-name-substring": "ghcr.io/kptdev/krm-functions-catalog/ensure-name-substring:v0.2.0",
    "search-replace": "ghcr.io/kptdev/krm-functions-catalog/search-replace:v0.2.0",
    "set-enforcement-action": "ghcr.io/kptdev/krm-functions-catalog/set-enforcement-action:v0.1.0",
}
# validate.go validatorAllowlist; the error lists only allowListedValidators
_VALIDATORS = {
    "kubeval": "gcr.io/kpt-fn/kubeval:v0.1",
    "gatekeeper": "gcr.io/kpt-fn/gatekeeper:v0.2.1",
}
_RUNNER = "creating runner: creating renderer: "
_LOCAL_CONFIG = "config.kubernetes.io/local-config"
# kyaml kioutil: what kio.ByteReader adds and kio.ByteWriter removes again
_READER_ANNOTATIONS = (
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
)


class KptFunction(NamedTuple):
    """One kpt function as skaffold runs it: the image and its ``key=value`` arguments."""

    image: str
    args: tuple[str, ...] = ()


# --- the allow-lists (renderer creation) ------------------------------------------------------


def uses_functions(config: Config) -> bool:
    """Whether skaffold creates a renderer for ``config`` that checks transform and validate
    (kpt, rawYaml/remoteManifests and kustomize do; helm does not)."""
    m = config.manifests
    return bool(m.kpt or m.raw_yaml or m.remote_manifests) or m.kustomize is not None


def check_functions(config: Config) -> None:
    """Raise skaffold's renderer-creation error for an unknown validator or transformer.

    Validators are checked first, as every renderer's ``New`` does.
    """
    if uses_functions(config):
        validators(config)
        transformers(config)


def validators(config: Config) -> list[KptFunction]:
    """``validate.NewValidator``: the allow-listed images (``configMap`` is not passed on)."""
    functions: list[KptFunction] = []
    for entry in config.manifests.validate:
        name = _name(entry)
        if name not in _VALIDATORS:
            raise ConfigError(
                f'{_RUNNER}unsupported validator "{name}". please only use the following '
                "validators in skaffold-managed mode: [kubeval]. to use custom validators, "
                "please use kpt-managed mode.."
            )
        functions.append(KptFunction(_VALIDATORS[name]))
    return functions


def transformers(
    config: Config, setters: Mapping[str, str] = EMPTY_MAPPING, *, with_setters: bool = False
) -> list[KptFunction]:
    """``transform.NewTransformer`` (``validateTransformers``), plus, for the kpt renderer
    (``with_setters``), ``apply-setters`` with the ``--set`` values (kpt.go ``New``)."""
    entries: list[tuple[str, Sequence[str]]] = [
        (_name(entry), _strings(entry.get("configMap"))) for entry in config.manifests.transform
    ]
    if with_setters and setters:
        # util.EnvMapToSlice(manifestOverrides, ":"), parsed back by validateTransformers
        entries.append(("apply-setters", sorted(f"{k}:{v}" for k, v in setters.items())))
    functions: list[KptFunction] = []
    for name, config_map in entries:
        if name not in _TRANSFORMERS:
            raise ConfigError(
                f'{_RUNNER}unsupported transformer "{name}". please only use the following '
                "transformers in skaffold-managed mode: [set-labels]. to use custom "
                "transformers, please use kpt-managed mode.."
            )
        data: dict[str, str] = {}
        for item in config_map:
            key, colon, value = item.partition(":")
            if not colon:
                raise ConfigError(
                    f"{_RUNNER}unknown arguments for transformer {name}. please check if the "
                    ".transformer field and make sure `configMapData` is a list of data in the "
                    "form of `${KEY}:${VALUE}`."
                )
            data[key] = value
        # util.EnvMapToSlice(ConfigMap, "="): sorted
        args = tuple(sorted(f"{key}={value}" for key, value in data.items()))
        functions.append(KptFunction(_TRANSFORMERS[name], args))
    return functions


def _name(entry: Mapping[str, Any]) -> str:
    name = entry.get("name")
    return "" if name is None else str(name)


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


# --- the hydration directory ------------------------------------------------------------------


def uses_kpt(config: Config) -> bool:
    """runner/new.go isKptRendererOrDeployerUsed: ``manifests.kpt`` (even ``[]``: non-nil)
    or ``deploy.kpt``."""
    for section in ("manifests", "deploy"):
        value = config.raw.get(section)
        if isinstance(value, dict) and value.get("kpt") is not None:
            return True
    return bool(config.manifests.kpt)


def make_hydration_dir(configs: Sequence[Config], hydration_dir: str, *, cwd: str) -> None:
    """``GetHydrationDir``: when any config uses kpt (:func:`uses_kpt`), create the directory
    if missing.

    The default is ``<cwd>/.kpt-pipeline``; another value is taken relative to ``cwd``.
    (skaffold asks on stdin before using a non-empty non-default directory; skrender never
    writes into it, so it does not ask.)
    """
    if not any(uses_kpt(cfg) for cfg in configs):
        return
    path = os.path.join(cwd, hydration_dir or DEFAULT_HYDRATION_DIR)
    if os.path.exists(path):
        return  # whatever it is (os.Stat): skaffold only creates a missing one
    try:
        os.makedirs(path)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError(
            f"creating runner: getting render output path: mkdir {os.path.abspath(path)}: {reason}"
        ) from None


# --- the kpt renderer -------------------------------------------------------------------------


def fn_render(package: str, *, cwd: str, env: Mapping[str, str]) -> str:
    """``kpt fn render <package> -o unwrap``'s stdout; a failure raises ``ToolError`` with
    skaffold's ``running [...]`` description and kpt's exit status."""
    argv = ["kpt", "fn", "render", package, "-o", "unwrap"]
    return proc.run(argv, cwd=cwd, env=env).stdout.decode("utf-8", "surrogateescape")


def is_deployable(doc: Any) -> bool:
    """kpt.go's kio filter: not the ``Kptfile``, not ``config.kubernetes.io/local-config:
    "true"`` (empty documents are not even read by kio's ``ByteReader``)."""
    if doc is None:
        return False
    if not isinstance(doc, dict):
        return True  # the base transform rejects it with skaffold's words
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    local = annotations.get(_LOCAL_CONFIG) if isinstance(annotations, dict) else None
    return doc.get("kind") != "Kptfile" and local is not True and local != "true"


def without_reader_annotations(doc: Any) -> Any:
    """kio's ``ByteWriter``: the reader's index annotations cleared, then empty
    ``annotations`` and ``metadata`` (``yaml.ClearEmptyAnnotations``)."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        return doc
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in _READER_ANNOTATIONS:
            annotations.pop(key, None)
    if "annotations" in meta and not meta["annotations"]:
        del meta["annotations"]
    if not meta:
        del doc["metadata"]
    return doc


# --- running kpt functions --------------------------------------------------------------------


def transform_text(
    functions: Sequence[KptFunction], text: str, *, cwd: str, env: Mapping[str, str]
) -> list[str]:
    """``Transformer.Transform``: the manifest list (``text``, ``ManifestList.String()``)
    through each function in turn; the entries of the last function's output.

    Each function reads the list on stdin; its stdout is split again by ``manifest.Load``
    (k8s.io's YAML reader).  A failure is reported as skaffold words it, ``failed to run
    transfomer: <image>, err: <cause>`` (typo included), exit status 1.
    """
    entries = [text]
    for function in functions:
        argv = ["kpt", "fn", "eval", "-i", function.image, "-o", "unwrap", "-", "--"]
        done = _run(argv + list(function.args), text, cwd, env)
        if done.returncode != 0:
            raise ToolError(
                f"failed to run transfomer: {function.image}, err: exit status {done.returncode}"
            )
        text = done.stdout.decode("utf-8", "surrogateescape")
        entries = yaml_reader_split(text)
        text = "\n---\n".join(entry.strip() for entry in entries)
    return entries


def transform_file(
    functions: Sequence[KptFunction], path: str, *, cwd: str, env: Mapping[str, str]
) -> None:
    """``Transformer.TransformPath``: each function run in place on a mirrored file
    (``kpt fn eval -i <image> <path> -- k=v``); a failure is only its exit status."""
    for function in functions:
        argv = ["kpt", "fn", "eval", "-i", function.image, path, "--", *function.args]
        done = _run(argv, None, cwd, env)
        if done.returncode != 0:
            raise ToolError(f"exit status {done.returncode}", done.returncode)


def validate_text(
    functions: Sequence[KptFunction], text: str, *, cwd: str, env: Mapping[str, str]
) -> None:
    """``Validator.Validate``: each validator reads the transformed manifests on stdin; its
    output is discarded and a failure is only its exit status (which skaffold exits with)."""
    for function in functions:
        argv = ["kpt", "fn", "eval", "-i", function.image, "-o", "unwrap", "-", "--"]
        done = _run(argv + list(function.args), text, cwd, env)
        if done.returncode != 0:
            raise ToolError(f"exit status {done.returncode}", done.returncode)


def _run(
    argv: Sequence[str], stdin: str | None, cwd: str, env: Mapping[str, str]
) -> proc.Completed:
    data = stdin.encode("utf-8", "surrogateescape") if stdin is not None else None
    try:
        return proc.run(argv, cwd=cwd, env=env, stdin=data, check=False)
    except ToolError as exc:
        if proc.which("kpt", env.get("PATH")) is None:
            # os/exec's error when the program is missing
            raise ToolError('exec: "kpt": executable file not found in $PATH') from None
        raise exc from None


def yaml_reader_split(text: str) -> list[str]:
    """``k8s.io/apimachinery/pkg/util/yaml.YAMLReader``: documents cut at lines starting with
    ``---`` (only a comment may follow); empty documents are skipped."""
    docs: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise ManifestError(f"invalid Yaml document separator: {rest}")
            if current:
                docs.append("".join(current))
                current = []
            continue
        current.append(line)
    if current:
        docs.append("".join(current))
    return docs


# --- validators after the base transform ------------------------------------------------------


class Validated(list[Any]):
    """A renderer's documents that skaffold's validators check after the base transform
    (kpt and rawYaml renderers: ``r.validator.Validate`` after ``BaseTransform``)."""

    def __init__(self, docs: Sequence[Any], functions: Sequence[KptFunction]) -> None:
        super().__init__(docs)
        self.functions = tuple(functions)
