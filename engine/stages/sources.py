"""Manifest sources: skaffold's kpt, rawYaml and kustomize renderers, up to decoded documents.

What each function reproduces, in skaffold's order of work:

* :func:`validate_raw_yaml` - the validation-time existence check of rawYaml entries
  (``pkg/skaffold/schema/validation/validation.go: validateKubectlManifests``).
* :func:`generate` - per config, the renderers in skaffold's fixed order (kpt, rawYaml, then
  kustomize; ``pkg/skaffold/render/renderer/renderer.go``):

  - kpt (``pkg/skaffold/render/renderer/kpt/kpt.go``): ``kpt fn render`` per package, its
    kio filter and re-encoding (:func:`_kpt_documents`, :mod:`engine.stages.kpt`).
  - rawYaml (``pkg/skaffold/render/generate/generate.go``): template-expand local entries,
    expand them like ``util.ExpandPathsGlob``, append downloaded URLs, drop files without a
    Kubernetes extension, read and split each file (:func:`append_split`), then the kyaml
    pass of ``pkg/skaffold/render/applysetters/apply_setters.go`` (:func:`kyaml_pieces`).
  - kustomize (``pkg/skaffold/render/renderer/kustomize/kustomize.go``): one
    ``kustomize build`` / ``kubectl kustomize`` per path, output split with :func:`append_split`.

  ``manifests.transform`` runs (``kpt fn eval``) on the kpt and rawYaml lists and on the
  kustomize mirror's files; ``manifests.validate`` marks the kpt and rawYaml documents for
  the validators that run after the base transform (:class:`engine.stages.kpt.Validated`).
  - helm (``pkg/skaffold/render/renderer/helm/``): a :class:`HelmJob` per helm renderer,
    rendered by :mod:`engine.stages.helm` once the build artifacts are known (skaffold's
    post-renderer needs them).

  Each entry is then decoded the way the base transform's visitor does
  (``pkg/skaffold/kubernetes/manifest/visitor.go``): first YAML document only, empty ones
  dropped, anything but a mapping is an error.

No module state: :func:`generate` can run for many configs in parallel threads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.core import proc
from engine.core.errors import ConfigError, ManifestError, SkrenderError
from engine.core.proc import go_quote
from engine.golang import filepath, unicode
from engine.skaffold.schema import EMPTY_MAPPING, Config
from engine.stages import kyaml

if TYPE_CHECKING:
    from engine.stages import helm_releases

# constants.DefaultKubectlManifests
DEFAULT_RAW_YAML = "k8s/*.yaml"
# pkg/skaffold/kubernetes/util.go: validSuffixes (case-sensitive)
_K8S_SUFFIXES = (".yml", ".yaml", ".json")
_API_VERSION_LINE = re.compile(r"^apiVersion:", re.MULTILINE)
# how skaffold words a manifest the base transform cannot decode (images.go, visitor.go)
_VISITOR_ERROR = "replacing images in manifest: reading Kubernetes YAML"
_TEMPLATE_NAME = "envTemplate"  # pkg/skaffold/util/env_template.go: ParseEnvTemplate


class HelmJob(NamedTuple):
    """A helm renderer of ``config`` still to run (it needs the build artifacts)."""

    config: Config
    renderer: helm_releases.Renderer


# --- the Append splitter ------------------------------------------------------------------------


def append_split(data: str) -> list[str]:
    """skaffold's ``ManifestList.Append`` splitter (``kubernetes/manifest/manifests.go``).

    At most one line starting ``apiVersion:`` -> one entry; else split on every exact
    ``\\n---\\n`` if there is one; else cut a new part whenever a top-level key is not
    byte-wise greater than the previous one.  Byte-exact, including its odd corners.
    """
    if len(_API_VERSION_LINE.findall(data)) <= 1:
        return [data]
    parts = data.split("\n---\n")
    if len(parts) > 1:
        return parts
    return _split_by_key_order(data)


def _split_by_key_order(data: str) -> list[str]:
    """The last-resort heuristic for ``kubectl create --dry-run`` style concatenated output."""
    entries: list[str] = []
    part = ""
    previous_key = ""
    for line in data.split("\n"):
        if line.startswith("-") or line.startswith(" ") or ":" not in line:
            part += "\n" + line
            continue
        key = line[: line.index(":")]
        # Python compares code points, which orders like Go's byte-wise strings.Compare
        if key > previous_key:
            if part != "":
                part += "\n"
            part += line
        else:
            entries.append(part)
            part = line
        previous_key = key
    entries.append(part)
    return entries


def join_entries(entries: Sequence[str]) -> str:
    """``ManifestList.String``: each entry trimmed of Go whitespace, joined with ``\\n---\\n``."""
    return "\n---\n".join(entry.strip(unicode.SPACE) for entry in entries)


def kyaml_pieces(entries: Sequence[str]) -> list[str]:
    """The documents kyaml's ``ByteReader`` cuts the joined rawYaml entries into."""
    return kyaml.split_documents(join_entries(entries))


# --- validation ---------------------------------------------------------------------------------


def validate_raw_yaml(config: Config, *, cwd: str) -> None:
    """skaffold's validation-time check that every local rawYaml entry matches something.

    Entries are globbed unexpanded (templates are not applied, so templated entries fail),
    relative ones against ``cwd``; URLs are skipped, and so is the default ``["k8s/*.yaml"]``.
    Raises :class:`ConfigError` listing each entry that matched nothing.
    """
    entries = config.manifests.raw_yaml
    if config.is_remote or list(entries) == [DEFAULT_RAW_YAML]:
        return  # validateKubectlManifests skips remote configs
    where = f"source: {config.source_file}, {_config_id(config)}"
    problems: list[str] = []
    for entry in entries:
        if _is_url(entry):
            continue
        try:
            found = filepath.glob_at(cwd, entry)
        except filepath.BadPattern as exc:
            problems.append(str(exc))
            found = []
        if not found:
            problems.append(
                f"{where}: Manifest file {go_quote(entry)} referenced in skaffold config could "
                f"not be found. Verify that file {go_quote(entry)} referenced in config "
                f"{go_quote(config.source_file)} exists and the path and naming are correct."
            )
    if problems:
        raise ConfigError("invalid skaffold config: " + "\n".join(problems))


def with_default_raw_yaml(configs: Sequence[Config]) -> list[Config]:
    """``defaults.SetDefaultRenderer``: a lone config without any renderer gets ``k8s/*.yaml``.

    Only applies when exactly one config is selected; ``rawYaml: []`` still gets the default,
    ``kustomize: {}`` (or kpt, helm, deploy.helm/docker/cloudrun) prevents it.
    """
    if len(configs) != 1:
        return list(configs)
    config = configs[0]
    manifests = config.manifests
    raw_deploy = config.raw.get("deploy") or {}
    has_renderer = (
        bool(manifests.raw_yaml)
        or bool(manifests.kpt)
        or manifests.kustomize is not None
        or manifests.helm is not None
        or config.legacy_helm is not None
        or any(raw_deploy.get(key) is not None for key in ("helm", "docker", "cloudrun"))
    )
    if has_renderer:
        return [config]
    return [config._replace(manifests=manifests._replace(raw_yaml=(DEFAULT_RAW_YAML,)))]


# --- generate -----------------------------------------------------------------------------------


def generate(
    config: Config,
    *,
    cwd: str,
    env: Mapping[str, str],
    allow_commands: bool = True,
    kustomize_runner: Callable[..., bytes] | None = None,
    setters: Mapping[str, str] = EMPTY_MAPPING,
) -> list[list[Any] | HelmJob]:
    """Decoded documents of each renderer of ``config`` that runs: rawYaml, then kustomize,
    then a :class:`HelmJob` for ``manifests.helm`` and one for ``deploy.helm``.

    ``kustomize_runner`` (same signature as :func:`run_kustomize`) replaces it when given.
    ``setters`` (``--set``/``--set-value-file``, :mod:`engine.stages.setters`) apply to both
    renderers.

    ``env`` is the template data and the environment of kustomize.  Every document is a
    non-empty mapping, exactly what skaffold's base transform decodes.  Unsupported sources
    raise :class:`ManifestError`; a failing kustomize raises ``ToolError`` with its status.
    """
    reject_unsupported(config)
    results: list[list[Any] | HelmJob] = []
    manifests = config.manifests
    functions = _kpt_functions(config)  # skaffold checks them when it creates the renderers
    if manifests.kpt:
        results.append(_validated(_kpt_documents(config, cwd, env, setters), functions))
    if manifests.raw_yaml:
        files = _raw_yaml_texts(config, cwd=cwd, env=env, allow_commands=allow_commands)
        results.append(_validated(_raw_yaml_docs(files, setters, functions, cwd, env), functions))
    if manifests.kustomize is not None:
        chunks = kustomize_outputs(
            config,
            cwd=cwd,
            env=env,
            allow_commands=allow_commands,
            runner=kustomize_runner,
            setters=setters,
            transformers=functions.transformers,
        )
        results.append(_kustomize_docs(chunks))
    if manifests.helm is not None or config.legacy_helm is not None:
        from engine.stages import helm_releases

        for renderer in helm_releases.renderers(manifests.helm, config.legacy_helm):
            results.append(HelmJob(config, renderer))
    return results


_TOO_DEEP = "yaml: document nested too deeply"


class ManifestTexts(NamedTuple):
    """What :func:`generate` decodes for a config whose only renderers are rawYaml and
    kustomize (no kpt, helm, transform or validate): the render cache keys on these bytes."""

    raw_yaml: tuple[tuple[str, str], ...]  # (path, text) of every rawYaml file, in order
    kustomize: tuple[str, ...]  # kustomize's non-empty outputs, in order


def plain_renderers(config: Config) -> bool:
    """Whether rawYaml and kustomize are the config's only renderers (nothing runs a tool
    or function besides kustomize): :func:`manifest_texts` then reads all it renders."""
    m = config.manifests
    return not (
        m.kpt
        or m.helm is not None
        or config.legacy_helm is not None
        or m.transform
        or m.validate
        or m.hooks
        or m.remote_manifests
    )


def manifest_texts(
    config: Config,
    *,
    cwd: str,
    env: Mapping[str, str],
    allow_commands: bool = True,
    kustomize_runner: Callable[..., bytes] | None = None,
    setters: Mapping[str, str] = EMPTY_MAPPING,
) -> ManifestTexts:
    """The first half of :func:`generate` for a :func:`plain_renderers` config: the texts,
    not yet decoded (:func:`decode_texts` is the second half)."""
    reject_unsupported(config)
    if not plain_renderers(config):
        raise ValueError(f"{config.source_file}: not a rawYaml/kustomize-only config")
    manifests = config.manifests
    files: list[tuple[str, str]] = []
    if manifests.raw_yaml:
        files = _raw_yaml_texts(config, cwd=cwd, env=env, allow_commands=allow_commands)
    chunks: list[str] = []
    if manifests.kustomize is not None:
        chunks = kustomize_outputs(
            config,
            cwd=cwd,
            env=env,
            allow_commands=allow_commands,
            runner=kustomize_runner,
            setters=setters,
        )
    return ManifestTexts(tuple(files), tuple(chunks))


def decode_texts(
    config: Config, texts: ManifestTexts, setters: Mapping[str, str] = EMPTY_MAPPING
) -> list[list[Any]]:
    """What :func:`generate` returns for the config :func:`manifest_texts` read."""
    results: list[list[Any]] = []
    if config.manifests.raw_yaml:
        results.append(_raw_yaml_docs(list(texts.raw_yaml), setters, _Functions(), "", {}))
    if config.manifests.kustomize is not None:
        results.append(_kustomize_docs(texts.kustomize))
    return results


def _raw_yaml_docs(
    files: list[tuple[str, str]],
    setters: Mapping[str, str],
    functions: _Functions,
    cwd: str,
    env: Mapping[str, str],
) -> list[Any]:
    entries = [entry for _, text in files for entry in append_split(text)]
    if functions.transformers:
        from engine.stages import kpt

        text = join_entries(entries)
        entries = kpt.transform_text(functions.transformers, text, cwd=cwd, env=env)
    try:
        return _decode_raw_yaml(entries, setters)
    except (SkrenderError, RecursionError) as exc:
        raise _naming_culprit(exc, files, setters) from None


def _kustomize_docs(chunks: Sequence[str]) -> list[Any]:
    try:
        return decode_entries([e for chunk in chunks for e in append_split(chunk)])
    except RecursionError:
        raise ManifestError(f"{_VISITOR_ERROR}: {_TOO_DEEP} (kustomize output)") from None


class _Functions(NamedTuple):
    """A config's ``manifests.transform`` and ``manifests.validate`` as kpt functions."""

    transformers: tuple[Any, ...] = ()
    validators: tuple[Any, ...] = ()


def _kpt_functions(config: Config) -> _Functions:
    """The config's kpt functions, checked against skaffold's allow-lists (engine.stages.kpt)."""
    m = config.manifests
    if not m.transform and not m.validate:
        return _Functions()
    from engine.stages import kpt

    if not kpt.uses_functions(config):
        return _Functions()  # a helm-only config: helm.New never looks at them
    kpt.check_functions(config)
    return _Functions(tuple(kpt.transformers(config)), tuple(kpt.validators(config)))


def _kpt_documents(
    config: Config, cwd: str, env: Mapping[str, str], setters: Mapping[str, str]
) -> list[Any]:
    """The kpt renderer (kpt.go ``Render``) up to the base transform.

    Per package, kio's pipeline: ``ByteReader`` cuts kpt's output into documents, the
    filter keeps the deployable ones, ``ByteWriter`` writes them back (``---`` between
    documents, kyaml's folded-scalar quirk) and the result is one ``Append`` - whose
    ``\n---\n`` split eats the newline ending a literal block at the end of a document, as
    for kustomize output.  Then the transformers (with ``apply-setters`` for the setters).
    """
    from engine.stages import kpt

    entries: list[str] = []
    for package in config.manifests.kpt:
        pieces = kyaml.split_documents(kpt.fn_render(package, cwd=cwd, env=env))
        kept = [piece for piece in pieces if kpt.is_deployable(_first_document(piece))]
        if kept:
            entries.extend(append_split("---\n".join(kept)))
    transformers = kpt.transformers(config, setters, with_setters=True)
    if transformers:  # run even on an empty list, as Transformer.Transform does
        text = join_entries(entries)
        docs = decode_entries(kpt.transform_text(transformers, text, cwd=cwd, env=env))
    else:
        docs = decode_entries(entries, folded=kyaml.folded)
    return [kpt.without_reader_annotations(doc) for doc in docs]


def _first_document(piece: str) -> Any:
    """The document kio's ``ByteReader`` reads from one piece (None when empty)."""
    from engine import yamlv3

    loaded = yamlv3.load_all(_to_bytes(piece), source="MalformedYAMLError", string_keys=True)
    return loaded[0] if loaded else None


def _validated(docs: list[Any], functions: _Functions) -> list[Any]:
    """``docs``, marked for the validators that run after the base transform (kpt, rawYaml)."""
    if not functions.validators:
        return docs
    from engine.stages import kpt

    return kpt.Validated(docs, functions.validators)


def _naming_culprit(
    exc: BaseException,
    files: Sequence[tuple[str, str]],
    setters: Mapping[str, str] = EMPTY_MAPPING,
) -> SkrenderError:
    """The decoding error with the rawYaml file that causes it (skaffold does not name it).

    The kyaml pass works on the joined entries of every file, so the file is found by decoding
    each file alone; when no single file fails, the message is kept as it is.
    """
    if isinstance(exc, RecursionError):
        # yaml.v3 allows 10000 levels, Python's stack does not: refuse clearly
        exc = ManifestError(f"MalformedYAMLError: {_TOO_DEEP}")
    assert isinstance(exc, SkrenderError)
    for path, text in files:
        try:
            _decode_raw_yaml(append_split(text), setters)
        except (SkrenderError, RecursionError):
            return type(exc)(f"{exc} (file: {path})")
    return exc


def reject_unsupported(config: Config) -> None:
    """Fail early, naming the field, for every source skrender does not render itself.

    (Render hooks are run by engine.stages.hooks; render hooks have no container form.)
    """
    m = config.manifests
    unsupported = [
        ("manifests.remoteManifests", bool(m.remote_manifests)),
    ]
    for field, present in unsupported:
        if present:
            kind = field.split(".")[-1]
            raise ManifestError(
                f"{config.source_file}: {field}: {kind} rendering is not supported by skrender"
            )
    for entry in m.raw_yaml:
        if entry.startswith("gs://"):
            raise ManifestError(
                f"{config.source_file}: manifests.rawYaml: {entry}: Google Cloud Storage "
                "sources are not supported by skrender"
            )


# --- rawYaml ------------------------------------------------------------------------------------


def raw_yaml_files(
    config: Config, *, cwd: str, env: Mapping[str, str], allow_commands: bool = True
) -> list[str]:
    """The local files the rawYaml renderer reads, in order, before the extension filter.

    Local entries are template-expanded, then expanded like ``util.ExpandPathsGlob``: an
    existing path (file or directory) is taken literally, otherwise it is globbed with Go
    semantics; directories found by a glob are walked (sorted) for their files; duplicates
    keep their first position.
    """
    local: list[str] = []
    for entry in config.manifests.raw_yaml:
        if _is_url(entry) or entry.startswith("gs://"):
            continue
        local.append(_expand(entry, env, allow_commands))
    return expand_paths_glob(cwd, local)


def expand_paths_glob(working_dir: str, paths: Sequence[str]) -> list[str]:
    """``pkg/skaffold/util/util.go: ExpandPathsGlob`` (no-match warnings are not printed)."""
    seen: set[str] = set()
    files: list[str] = []

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            files.append(path)

    for entry in paths:
        path = entry if entry.startswith("/") else filepath.join(working_dir, entry)
        if _exists(path):
            add(path)
            continue
        try:
            found = filepath.glob(path)
        except filepath.BadPattern as exc:
            raise ManifestError(f"glob: {exc}") from None
        for hit in found:
            for file in _walk_files(hit):
                add(file)
    return files


def raw_yaml_entries(
    config: Config, *, cwd: str, env: Mapping[str, str], allow_commands: bool = True
) -> list[str]:
    """The rawYaml renderer's manifest list before the kyaml pass (``Generator.Generate``)."""
    files = _raw_yaml_texts(config, cwd=cwd, env=env, allow_commands=allow_commands)
    return [entry for _, text in files for entry in append_split(text)]


def _raw_yaml_texts(
    config: Config, *, cwd: str, env: Mapping[str, str], allow_commands: bool
) -> list[tuple[str, str]]:
    """(path, text) of every file the rawYaml renderer reads, in order."""
    files = raw_yaml_files(config, cwd=cwd, env=env, allow_commands=allow_commands)
    files.extend(_download_urls([e for e in config.manifests.raw_yaml if _is_url(e)]))
    listed = set(config.manifests.raw_yaml)
    # a non-manifest extension is only read when named verbatim in rawYaml
    return [
        (path, _read_text(path)) for path in files if path.endswith(_K8S_SUFFIXES) or path in listed
    ]


def _exists(path: str) -> bool:
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _walk_files(path: str) -> list[str]:
    """``walk.From(path).WhenIsFile()``: the path itself unless a real directory, else every
    non-directory below it (symlinks are not followed), children sorted byte-wise."""
    try:
        is_dir = os.path.isdir(path) and not os.path.islink(path)
    except ValueError:
        return []
    if not is_dir:
        return [path] if os.path.lexists(path) else []
    found: list[str] = []
    _walk_dir(filepath.clean(path), found)
    return found


def _walk_dir(directory: str, found: list[str]) -> None:
    try:
        with os.scandir(directory) as it:
            children = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        raise ManifestError(f"filepath walk: {_os_error('open', directory, exc)}") from None
    for child in children:
        path = filepath.join(directory, child.name)
        if child.is_dir(follow_symlinks=False):
            _walk_dir(path, found)
        else:
            found.append(path)


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        raise ManifestError(f"read {path}: is a directory") from None
    except OSError as exc:
        raise ManifestError(_os_error("open", path, exc)) from None
    return data.decode("utf-8", "surrogateescape")


def _download_urls(urls: Sequence[str]) -> list[str]:
    """``manifest.DownloadFromURL``: GET each URL (any status; the body is the manifest) into a
    temporary ``.yaml`` file, returning the files' paths."""
    if not urls:
        return []
    import tempfile
    import urllib.error
    import urllib.request

    directory = os.path.join(tempfile.gettempdir(), "skrender-manifests-from-url")
    os.makedirs(directory, exist_ok=True)
    paths: list[str] = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                body: bytes = response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()  # skaffold does not check the status code
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ManifestError(f"failed to download manifest from {url}, err : {exc}") from None
        fd, path = tempfile.mkstemp(suffix=".yaml", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        paths.append(path)
    return paths


def _decode_raw_yaml(
    entries: Sequence[str], setters: Mapping[str, str] = EMPTY_MAPPING
) -> list[Any]:
    """The kyaml pass plus the visitor's decoding, for the rawYaml renderer.

    Each piece's first document is what kyaml keeps (it re-encodes that node, which decodes
    to the same value).  A single piece holding a ``List``/``ResourceList`` with ``items`` or
    ``functionConfig`` is replaced by its items (``kio.ByteReader`` unwrapping).
    """
    pieces = kyaml_pieces(entries)
    if setters:
        # apply_setters.go: setters change the parsed pieces before kyaml re-encodes them
        from engine.stages import setters as setters_mod

        pieces = setters_mod.apply_to_pieces(pieces, setters)
    return _visitor_filter(_kyaml_decode(pieces))


def _kyaml_decode(pieces: Sequence[str]) -> list[Any]:
    from engine import yamlv3

    docs: list[Any] = []
    for piece in pieces:
        # yamlio prefixes the source: this gives kyaml's "MalformedYAMLError: yaml: line N: ..."
        # string_keys: the visitor decodes each document into map[string]interface{}
        loaded = yamlv3.load_all(
            _to_bytes(piece),
            source="MalformedYAMLError",
            string_keys=True,
            folded=kyaml.folded,
            kyaml_empty=True,
        )
        if not loaded or loaded[0] is None:
            continue
        doc = loaded[0]
        if len(pieces) == 1 and kyaml.is_wrapping_list(doc):
            docs.extend(kyaml.list_items(doc))
            continue
        docs.append(doc)
    return docs


# --- kustomize ----------------------------------------------------------------------------------


def kustomize_argv(build_args: Sequence[str], path: str) -> list[str]:
    """The kustomize command skaffold runs for ``path``, using the process ``PATH``."""
    return _kustomize_argv(build_args, path, os.environ.get("PATH"))


def _kustomize_argv(build_args: Sequence[str], path: str, search_path: str | None) -> list[str]:
    # kustomize.go: a standalone kustomize wins; else kubectl's built-in one (skaffold also
    # checks kubectl > 1.14, true of every kubectl that still runs); else kustomize anyway.
    args = kustomize_build_args(build_args, path)
    if proc.which("kustomize", search_path) is None and proc.which("kubectl", search_path):
        return ["kubectl", "kustomize", *args]
    return ["kustomize", "build", *args]


def kustomize_build_args(build_args: Sequence[str], path: str) -> list[str]:
    """``kustomizeBuildArgs``: every buildArgs entry split on single spaces, then the path."""
    args: list[str] = []
    for arg in build_args:
        args.extend(arg.split(" "))
    if path:
        args.append(path)
    return args


def kustomize_paths(
    config: Config, *, cwd: str, env: Mapping[str, str], allow_commands: bool = True
) -> list[str]:
    """The kustomization paths, template-expanded, relative ones joined to ``cwd``."""
    kustomize = config.manifests.kustomize
    if kustomize is None:
        return []
    paths: list[str] = []
    for raw in kustomize.paths:
        try:
            path = _expand(raw, env, allow_commands)
        except SkrenderError as exc:
            raise type(exc)(f"unable to parse path {go_quote(raw)}: {exc}") from None
        if not _is_url(path) and not path.startswith("/"):
            path = filepath.join(cwd, path)
        paths.append(path)
    return paths


def kustomize_outputs(
    config: Config,
    *,
    cwd: str,
    env: Mapping[str, str],
    allow_commands: bool = True,
    runner: Callable[..., bytes] | None = None,
    setters: Mapping[str, str] = EMPTY_MAPPING,
    transformers: Sequence[Any] = (),
) -> list[str]:
    """kustomize's non-empty output for each path, in order (``runner``: see generate).

    With setters or ``manifests.transform``, each local path is built from a mirror whose
    manifest files went through the transformers (``kpt fn eval`` in place) and the setters
    (kustomize.go ``render``/``mirror``: :func:`engine.stages.setters.mirrored_kustomization`).
    """
    kustomize = config.manifests.kustomize
    if kustomize is None:
        return []
    paths = kustomize_paths(config, cwd=cwd, env=env, allow_commands=allow_commands)
    search_path = env.get("PATH", os.environ.get("PATH"))
    outputs: list[str] = []
    for path in paths:
        if (setters or transformers) and not _is_url(path):
            from engine.stages import setters as setters_mod

            transform = _file_transform(transformers, cwd, env)
            with setters_mod.mirrored_kustomization(path, setters, transform) as mirrored:
                argv = _kustomize_argv(kustomize.build_args, mirrored, search_path)
                out = (runner or run_kustomize)(argv, cwd=cwd, env=env)
        else:
            argv = _kustomize_argv(kustomize.build_args, path, search_path)
            out = (runner or run_kustomize)(argv, cwd=cwd, env=env)
        if out:
            outputs.append(out.decode("utf-8", "surrogateescape"))
    return outputs


def _file_transform(
    transformers: Sequence[Any], cwd: str, env: Mapping[str, str]
) -> Callable[[str], None] | None:
    """What the kustomize mirror runs on each copied manifest file before the setters."""
    if not transformers:
        return None
    from engine.stages import kpt

    def transform(path: str) -> None:
        kpt.transform_file(transformers, path, cwd=cwd, env=env)

    return transform


def run_kustomize(argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None) -> bytes:
    """Run one kustomize build and return its stdout (the seam for a future cache).

    A failure raises ``ToolError`` carrying kustomize's exit status (``engine.core.proc``).
    """
    return proc.run(argv, cwd=cwd, env=env).stdout


# --- decoding like the base transform's visitor -------------------------------------------------


def decode_entries(entries: Sequence[str], folded: Callable[[str], str] | None = None) -> list[Any]:
    """Each entry's first document, decoded untrimmed (``yaml.Unmarshal`` in ``Visit``);
    ``folded`` rewrites folded scalars (kyaml wrote the entries: :func:`kyaml.folded`)."""
    from engine import yamlv3

    docs: list[Any] = []
    for entry in entries:
        loaded = yamlv3.load_all(
            _to_bytes(entry), source=_VISITOR_ERROR, string_keys=True, folded=folded
        )
        if loaded:
            docs.append(loaded[0])
    return _visitor_filter(docs)


def _visitor_filter(docs: Sequence[Any]) -> list[Any]:
    """Drop null and ``{}`` documents and reject non-mappings, as ``ManifestList.Visit`` does."""
    from engine.stages.rewrite import check_document

    kept: list[Any] = []
    for doc in docs:
        if doc is None:
            continue
        check_document(doc)
        if doc:
            kept.append(doc)
    return kept


# --- helpers ------------------------------------------------------------------------------------


def _expand(text: str, env: Mapping[str, str], allow_commands: bool) -> str:
    """``util.ExpandEnvTemplate`` with the environment as data; plain text is returned as is."""
    if "{{" not in text:
        return text  # a Go template without actions renders its text unchanged
    from engine.golang import texttemplate

    expanded: str = texttemplate.expand(
        text, env, name=_TEMPLATE_NAME, allow_commands=allow_commands
    )
    return expanded


def _is_url(path: str) -> bool:
    return path.startswith("http://") or path.startswith("https://")


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _config_id(config: Config) -> str:
    if config.name:
        return f"in module {go_quote(config.name)}"
    return f"in unnamed config[{config.index}]"


def _os_error(op: str, path: str, exc: OSError) -> str:
    """An ``*fs.PathError`` message: ``open <path>: no such file or directory``."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {path}: {reason}"
