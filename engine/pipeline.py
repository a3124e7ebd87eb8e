"""The render pipeline: skaffold.yaml in, the bytes `skaffold render` prints out.

    configs  = config.load(...)                        skaffold.yaml, upgraded, profiled, validated
    builds   = tags from the tag policies, or -a/-i    tagging, naming (default repo)
    builds   = builds with registry digests            resolve (--digest-source=remote)
    per config, per renderer (kpt, rawYaml, kustomize):
        docs = sources.generate(...)                   kpt fn render, rawYaml files, kustomize
        docs = rewrite.replace_images / labels / ns    skaffold's base transform
    text     = yamlv3.dump each doc, joined            skaffold's exact serialisation

This module composes the stages and decides nothing itself beyond the order skaffold uses
(``pkg/skaffold/runner/render.go``, ``pkg/skaffold/render/renderer/renderer.go``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from engine.core.errors import ConfigError, SkrenderError
from engine.skaffold.schema import EMPTY_MAPPING, Config

if TYPE_CHECKING:
    from engine.skaffold.config import LoadRequest

# --digest-source values that need no build (anything else asks skaffold to build images)
NO_BUILD_DIGEST_SOURCES = ("tag", "remote", "none")

NONE_DIGEST_SOURCE_NOTICE = (
    "--digest-source set to 'none', tags listed in Kubernetes manifests will be used for render"
)

Build = tuple[str, str]  # (imageName, final image reference)


class RenderRequest(NamedTuple):
    """Everything `skrender render` needs; field names follow skaffold's flags."""

    cwd: str = "."
    filename: str = "skaffold.yaml"
    profiles: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    profile_auto_activation: bool = True
    propagate_profiles: bool = True
    default_repo: str | None = None  # None: not given (global config applies); "": disabled
    custom_tag: str | None = None  # -t
    digest_source: str | None = None  # None: tag on a local cluster, remote otherwise
    prebuilt: tuple[Build, ...] | None = None  # -a / -i, merged; None when neither was given
    labels: Mapping[str, str] = EMPTY_MAPPING
    namespace: str = ""
    offline: bool = False
    resource_selector_rules_file: str | None = None
    env: Mapping[str, str] | None = None  # None: os.environ
    digest_resolver: str = "auto"
    digest_jobs: int = 8
    registry_timeout: float = 60.0
    allow_template_commands: bool = True
    build_images: (
        Callable[[Sequence[Config], Sequence[Build], RenderRequest], list[Build]] | None
    ) = None  # --digest-source=local: builds and pushes, returns the references to render with
    # Seams for `skrender bulk` (engine/bulk.py): None means the plain behaviour.
    # kustomize_runner(argv, *, cwd, env) -> stdout replaces engine.stages.sources.run_kustomize
    # (a cache); resolve_digests has the signature of
    # engine.registry.resolve.resolve_digests (a memo).
    kustomize_runner: Callable[..., bytes] | None = None
    resolve_digests: Callable[..., dict[str, str]] | None = None
    # --set / --set-value-file (engine.stages.setters): name -> value; empty means no setters
    setters: Mapping[str, str] = EMPTY_MAPPING
    platforms: tuple[str, ...] = ()  # --platform: checked as skaffold does, builds nothing
    # --enable-gke-arm-node-toleration (on a gke* kube-context); the platforms look-up for it:
    # None means the registry (engine.registry.imageconfig.platforms_lookup)
    gke_arm_toleration: bool = True
    # base-image config look-up for inputDigest (Docker FROM); None: a per-render
    # engine.registry.imageconfig.lookup (bulk may pass one shared cache)
    image_config: Callable[[str], Mapping[str, Any]] | None = None
    image_platforms: Callable[[str], Sequence[tuple[str, str, str]]] | None = None
    hydration_dir: str = ".kpt-pipeline"  # --hydration-dir (created when a config uses kpt)
    remote_cache_dir: str = ""  # --remote-cache-dir ("": $HOME/.skaffold/remote-cache)
    sync_remote_cache: str = "always"  # --sync-remote-cache: always, missing or never
    # A seam for `skrender bulk`: a RenderCache (below) consulted once the builds are decided
    # and the manifest texts read; None renders every time
    render_cache: RenderCache | None = None


class CachedRender(NamedTuple):
    """A render's text with a placeholder token for each image reference
    (:mod:`engine.stages.reftemplate`), and its warnings."""

    template: str
    warnings: tuple[str, ...] = ()


class RenderCache(Protocol):
    """Where renders are kept between runs (engine.gitops.rendercache).  ``key`` is a hex
    SHA-256 of everything the template depends on; the store adds its own code stamp."""

    def get(self, key: str) -> CachedRender | None:
        """The entry stored under ``key``, or None."""

    def put(self, key: str, entry: CachedRender) -> None:
        """Store an entry (best effort)."""

    def count(self, outcome: str, reason: str = "") -> None:
        """Record ``hit``, ``miss`` or ``uncacheable`` (with why) for one render."""


class RenderResult(NamedTuple):
    """The manifests, what skaffold prints on stdout before them, and the images used."""

    text: str
    notices: tuple[str, ...] = ()  # lines skaffold writes to stdout even with --output
    builds: tuple[Build, ...] = ()
    configs: tuple[Config, ...] = ()
    warnings: tuple[str, ...] = ()  # what skaffold logs as warnings (stderr)
    build_log: tuple[str, ...] = ()  # skaffold's build log, shown on stdout with --loud
    # Render hooks (engine.stages.hooks): pre-render hooks' output, written to stdout after the
    # notices (also with --output); the hooks' log lines and post-hook output (stderr)
    hook_output: str = ""
    pre_hook_log: str = ""  # stderr, before the renderers' warnings
    post_hook_log: str = ""  # stderr, after them


def render(request: RenderRequest) -> RenderResult:
    """Render manifests exactly as `skaffold render` would for the same inputs.

    kustomize runs in a worker thread while the main thread computes tags (git) and
    digests (registry): both mostly wait on other processes, so the render costs about the
    longer of the two instead of their sum.  Errors keep skaffold's precedence: a build-phase
    error wins over a manifest error.
    """
    loaded = _load(request)
    if any(cfg.manifests.hooks for cfg in loaded.configs):
        if request.render_cache is not None:  # hooks may write what the renderers read
            request.render_cache.count("uncacheable", "render hooks")
        return _render_with_hooks(request, loaded)
    if request.render_cache is not None:
        cached = _render_from_cache(request, loaded, request.render_cache)
        if cached is not None:
            return cached
    manifests = _InBackground(_generate, request, loaded)
    # The worker needs the GIL to reach kustomize's start, the one step on the critical path:
    # let it get there before this thread's imports and git calls compete with it.
    manifests.wait_launched(_LAUNCH_WAIT_SECONDS)
    build_log: list[str] = []
    digest_source, builds = _decide_builds(request, loaded, build_log)
    _preload_transform()
    documents = manifests.result()
    notices = (NONE_DIGEST_SOURCE_NOTICE,) if digest_source == "none" else ()
    warnings: list[str] = []
    text = _transform_and_serialise(request, loaded, documents, builds, warnings)
    return RenderResult(
        text=text,
        notices=notices,
        builds=tuple(builds),
        configs=loaded.configs,
        warnings=tuple(warnings),
        build_log=tuple(build_log),
    )


def _render_with_hooks(request: RenderRequest, loaded: _Loaded) -> RenderResult:
    """:func:`render` for configs with render hooks, one step after another, in skaffold's
    order (runner/render.go, render/renderer/render_mux.go): the build phase (tags, digests),
    every config's pre-render hooks, every renderer, then each config's post-render hooks.

    Nothing runs in the background: a pre-render hook may write what kustomize reads.  An
    error raised once hooks may have run carries ``partial``, a RenderResult with what
    skaffold had written by then (the CLI prints it before the error).
    """
    from engine.stages import hooks, sources

    build_log: list[str] = []
    digest_source, builds = _decide_builds(request, loaded, build_log)
    for cfg in loaded.configs:  # skaffold refuses these when it creates the renderers
        sources.reject_unsupported(cfg)
    runner = hooks.HookRunner(
        loaded.configs,
        cwd=loaded.cwd,
        env=loaded.env,
        kube_context=loaded.kube_context,
        namespace=request.namespace,
        default_repo=request.default_repo,
        allow_commands=request.allow_template_commands,
    )
    out: list[str] = []
    pre_log: list[str] = []
    post_log: list[str] = []
    warnings: list[str] = []

    def result(text: str) -> RenderResult:
        return RenderResult(
            text=text,
            notices=(NONE_DIGEST_SOURCE_NOTICE,) if digest_source == "none" else (),
            builds=tuple(builds),
            configs=loaded.configs,
            warnings=tuple(warnings),
            build_log=tuple(build_log),
            hook_output="".join(out),
            pre_hook_log="".join(pre_log),
            post_hook_log="".join(post_log),
        )

    try:
        runner.run_pre_hooks(out, pre_log)
        by_config: list[tuple[Config, list[str]]] = []
        for cfg in loaded.configs:
            docs = _generate(request, loaded._replace(configs=(cfg,)))
            by_config.append((cfg, _transform_chunks(request, loaded, docs, builds, warnings)))
        # a config without documents runs no post-render hooks (render_mux.go)
        texts = [
            runner.run_post_hooks(cfg, "\n---\n".join(chunks), post_log)
            for cfg, chunks in by_config
            if chunks
        ]
    except SkrenderError as exc:
        exc.partial = result("")  # type: ignore[attr-defined]
        raise
    # manifests.go: ManifestListByConfig.String() + one final newline
    return result("\n---\n".join(texts) + "\n")


# How long the main thread lets the manifests worker run alone before starting on the tags
_LAUNCH_WAIT_SECONDS = 0.05


class _InBackground:
    """Run a function in a thread; ``result()`` joins it and re-raises its exception.

    The function gets an extra last argument, an Event it sets when it starts an external
    tool (the thread sets it too when it ends): see ``wait_launched``.
    (A plain thread: concurrent.futures would import logging and more at start-up.)
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None
        self._launched = threading.Event()

        def target() -> None:
            try:
                self._value = function(*args, self._launched)
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc
            finally:
                self._launched.set()

        self._thread = threading.Thread(target=target, name="skrender-manifests", daemon=True)
        self._thread.start()

    def wait_launched(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until the function starts a tool or ends."""
        self._launched.wait(timeout)

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def compute_builds(request: RenderRequest) -> list[Build]:
    """The (imageName, reference) pairs render would use, without rendering manifests."""
    return plan_builds(request)[0]


def plan_builds(request: RenderRequest) -> tuple[list[Build], tuple[Config, ...]]:
    """:func:`compute_builds` and the selected configs they came from."""
    loaded = _load(request)
    return _decide_builds(request, loaded)[1], loaded.configs


class _Loaded(NamedTuple):
    cwd: str
    env: Mapping[str, str]
    configs: tuple[Config, ...]
    kube_context: str
    settings: Any  # config.GlobalConfig


def _load(request: RenderRequest) -> _Loaded:
    """Load and validate the selected configs (skaffold's config parsing and validation)."""
    from engine.skaffold import config as config_mod
    from engine.stages import sources

    load_request = config_request(request)
    cwd, env, kube_context = load_request.cwd, load_request.env, load_request.kube_context
    configs = config_mod.load(load_request)
    for cfg in configs:
        sources.validate_raw_yaml(cfg, cwd=cwd)
    _validate_with_run_context(configs, env)
    from engine.stages import kpt  # runner creation: the hydration dir when kpt is used

    kpt.make_hydration_dir(configs, request.hydration_dir, cwd=cwd)
    _check_deployers(configs)
    if request.platforms or any(_names_platforms(cfg) for cfg in configs):
        from engine.stages import platforms  # runner creation (runner/new.go) checks them

        platforms.check(request.platforms, configs)
    settings = config_mod.global_config(env, kube_context)
    return _Loaded(cwd, env, tuple(configs), kube_context, settings)


def _names_platforms(config: Config) -> bool:
    """Whether ``build.platforms`` or an artifact's ``platforms`` is set."""
    build = config.raw.get("build")
    return (isinstance(build, dict) and "platforms" in build) or any(
        "platforms" in artifact.raw for artifact in config.artifacts
    )


def _validate_with_run_context(configs: Sequence[Config], env: Mapping[str, str]) -> None:
    """validation.go ProcessWithRunContext (runner.go runContext), its messages joined by
    " \n ": Docker network containers first, then verify tests and custom actions."""
    from engine.skaffold import validation

    found = _network_container_problems(configs, env)
    found += validation.run_context_problems([cfg.raw for cfg in configs])
    if found:
        raise ConfigError("invalid skaffold config: " + " \n ".join(found))


def _check_deployers(configs: Sequence[Config]) -> None:
    """runner/deployer.go GetDeployer (runner creation): a kpt deployer after any other
    deployer, in config order and docker, helm, kubectl, kpt order within one, is refused."""
    others = 0
    for cfg in configs:
        deploy = _mapping(cfg.raw.get("deploy"))
        others += sum(deploy.get(key) is not None for key in ("docker", "helm", "kubectl"))
        if deploy.get("kpt") is not None:
            if others:
                raise ConfigError(
                    "creating runner: creating deployer: kpt deployer mixed in with other "
                    "deployers not supported yet. Please use only kpt deployer"
                )
            others += 1
        others += deploy.get("cloudrun") is not None


def _network_container_problems(configs: Sequence[Config], env: Mapping[str, str]) -> list[str]:
    """validateDockerNetworkContainerExists: a ``network: container:<name|id>`` artifact needs
    that container running in the Docker engine."""
    modes = [
        (art.image, str(art.docker.network).split(":", 1)[1])
        for cfg in configs
        for art in cfg.artifacts
        if art.docker is not None and str(art.docker.network or "").lower().startswith("container:")
    ]
    if not modes:
        return []
    from engine.golang import texttemplate

    # extractContainerNameFromNetworkMode: the name is an env template (valid: validation.py)
    wanted = [(image, texttemplate.expand(name, env, name="envTemplate")) for image, name in modes]
    try:
        import docker

        client = docker.from_env(environment=dict(env), timeout=5)
        try:
            running = client.api.containers()
        finally:
            client.close()
    except Exception:  # no engine, or it failed to answer
        return ["error retrieving docker containers list"]
    problems: list[str] = []
    for image, container in wanted:
        if any(
            str(c.get("Id", "")).startswith(container) or f"/{container}" in (c.get("Names") or [])
            for c in running
        ):
            return problems  # skaffold stops checking at the first container it finds
        problems.append(
            f"container '{container}' not found, required by image '{image}' for docker network "
            "stack sharing"
        )
    return problems


def config_request(request: RenderRequest) -> LoadRequest:
    """The :class:`engine.skaffold.config.LoadRequest` of a render: absolute ``cwd``, the
    environment (``os.environ`` when the request has none) and its current kube-context."""
    from engine.skaffold import config as config_mod

    env = dict(os.environ if request.env is None else request.env)
    return config_mod.LoadRequest(
        cwd=os.path.abspath(request.cwd),
        filename=request.filename,
        profiles=request.profiles,
        modules=request.modules,
        profile_auto_activation=request.profile_auto_activation,
        propagate_profiles=request.propagate_profiles,
        env=env,
        kube_context=config_mod.current_kube_context(env),
        remote_cache_dir=request.remote_cache_dir,
        sync_remote_cache=request.sync_remote_cache,
    )


def _decide_builds(
    request: RenderRequest,
    loaded: _Loaded,
    log: list[str] | None = None,
) -> tuple[str, list[Build]]:
    """The digest source and every image reference (the runner's build phase).

    ``log`` receives skaffold's build log (what `--loud` shows on stdout).
    """
    settings = loaded.settings
    digest_source = request.digest_source or default_digest_source(loaded.kube_context, settings)
    default_repo = (
        request.default_repo if request.default_repo is not None else settings.default_repo
    )
    if any(_mapping(cfg.raw.get("deploy")).get("docker") is not None for cfg in loaded.configs):
        # runner/deployer.go GetDeployer: a docker deployer replaces the run context's Cluster,
        # and with it the --default-repo value; the global config's default-repo still applies.
        default_repo = settings.default_repo
    phase = _BuildPhase(request, loaded, default_repo, log if log is not None else [])
    return digest_source, phase.builds(digest_source)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def default_digest_source(kube_context: str, settings: Any) -> str:
    """skaffold: `tag` when the current kube-context is a local cluster, else `remote`."""
    return "tag" if is_local_cluster(kube_context, settings) else "remote"


def is_local_cluster(kube_context: str, settings: Any) -> bool:
    """The global config's ``local-cluster`` when set, else skaffold's list of context names."""
    local: bool | None = settings.local_cluster
    if local is None:
        local = is_local_kube_context(kube_context)
    return local


def is_local_kube_context(name: str) -> bool:
    """skaffold's built-in list of local cluster context names (pkg/skaffold/config/util.go)."""
    return (
        name in ("minikube", "docker-desktop", "docker-for-desktop")
        or name.startswith(("kind-", "k3d-"))
        or name.endswith("@kind")
    )


class _BuildPhase:
    """skaffold's build phase for render (pkg/skaffold/runner/build.go): tags or -a/-i images,
    the default repo, then digests from the registry or from a real build."""

    def __init__(
        self, request: RenderRequest, loaded: _Loaded, default_repo: str | None, log: list[str]
    ) -> None:
        self.request = request
        self.loaded = loaded
        self.default_repo = default_repo
        self.log = log

    def builds(self, digest_source: str) -> list[Build]:
        request, loaded = self.request, self.loaded
        if request.prebuilt is not None:
            builds = self._prebuilt(request.prebuilt)
        elif digest_source == "none":
            return []  # manifests keep their images (build.go returns before tagging)
        else:
            builds = self._tagged()
            if digest_source not in NO_BUILD_DIGEST_SOURCES:
                if request.build_images is None:
                    raise ConfigError(
                        f"--digest-source={digest_source} builds images: use `skrender build` "
                        "or `skrender render --digest-source=local` with a Docker engine"
                    )
                return request.build_images(loaded.configs, builds, request)
            self.log.append(f"Skipping build phase since --digest-source={digest_source}")
        if digest_source == "remote":
            builds = _with_remote_digests(
                request, loaded.configs, builds, loaded.env, loaded.settings
            )
        return builds

    def _with_default_repo(self, reference: str) -> str:
        from engine.stages import naming

        return naming.apply_default_repo(
            reference, self.default_repo, multi_level=self.loaded.settings.multi_level_repo
        )

    def _prebuilt(self, prebuilt: Sequence[Build]) -> list[Build]:
        """-a/-i: no tagging; -t replaces the tag part, the default repo applies (cmd/util.go)."""
        return [
            (name, self._with_default_repo(_retag(tag, self.request.custom_tag)))
            for name, tag in _require_tags(prebuilt)
        ]

    def _tagged(self) -> list[Build]:
        """Tags from the tag policies (pkg/skaffold/deploy/util/util.go: ImageTags)."""
        from engine.stages import tagging

        request, loaded = self.request, self.loaded
        for cfg in loaded.configs:
            tagging.validate_tag_policy(cfg.tag_policy)
        _check_artifact_contexts(loaded.configs, loaded.cwd)
        fell_back: list[str] = []
        tags = tagging.image_tags(
            loaded.configs,
            cwd=loaded.cwd,
            env=loaded.env,
            custom_tag=request.custom_tag,
            allow_commands=request.allow_template_commands,
            fell_back=fell_back,
            image_config=request.image_config or _image_config_lookup(request, loaded),
        )
        builds = [(image, self._with_default_repo(tag)) for image, tag in tags]
        self.log.append("Generating tags..." if builds else "No tags generated")
        self.log.extend(f" - {image} -> {reference}" for image, reference in builds)
        if fell_back:
            self.log.append("Some taggers failed. Rerun with -vdebug for errors.")
        return builds


def _image_config_lookup(request: RenderRequest, loaded: _Loaded) -> Callable[[str], Any]:
    """Base-image configs for inputDigest (Docker FROM lines): engine, else registry, cached.

    engine.registry is imported only when a Dockerfile names a base image (start-up time).
    """
    made: list[Callable[[str], Any]] = []

    def lookup(image: str) -> Any:
        if not made:
            from engine.registry import imageconfig

            insecure = [r for cfg in loaded.configs for r in cfg.insecure_registries]
            made.append(
                imageconfig.lookup(
                    env=loaded.env,
                    insecure_registries=[*insecure, *loaded.settings.insecure_registries],
                    timeout=request.registry_timeout,
                )
            )
        return made[0](image)

    return lookup


def _platforms_lookup(
    request: RenderRequest, loaded: _Loaded
) -> Callable[[str], Sequence[tuple[str, str, str]]]:
    from engine.registry import imageconfig

    return imageconfig.platforms_lookup(env=loaded.env, timeout=request.registry_timeout)


def _check_artifact_contexts(configs: Sequence[Config], cwd: str) -> None:
    """skaffold checks every artifact context before tagging (pkg/skaffold/build/...)."""
    for cfg in configs:
        for artifact in cfg.artifacts:
            path = os.path.join(cwd, artifact.context)
            if not os.path.exists(path):
                raise ConfigError(
                    f'image "{artifact.image}" context "{artifact.context}" does not exist'
                )
            if not os.path.isdir(path):
                raise ConfigError(
                    f'image "{artifact.image}" context "{artifact.context}" is not a directory'
                )


def _require_tags(prebuilt: Sequence[Build]) -> Sequence[Build]:
    for name, tag in prebuilt:
        if not tag:
            raise SkrenderError(f"no tag provided for image [{name}]")
    return prebuilt


def _retag(reference: str, custom_tag: str | None) -> str:
    """-t with -a/-i: replace the tag part of a reference, keeping its digest."""
    if not custom_tag:
        return reference
    from engine.stages import naming

    parsed = naming.parse_reference(reference)
    name_end = len(reference)
    if parsed.digest:
        name_end = reference.rindex("@")
    name = reference[:name_end]
    if parsed.tag and name.endswith(":" + parsed.tag):
        name = name[: -len(parsed.tag) - 1]
    digest = reference[name_end:]
    return f"{name}:{custom_tag}{digest}"


def _with_remote_digests(
    request: RenderRequest,
    configs: Sequence[Config],
    builds: Sequence[Build],
    env: Mapping[str, str],
    settings: Any,
) -> list[Build]:
    from engine.registry import resolve

    insecure = [r for cfg in configs for r in cfg.insecure_registries]
    insecure += list(settings.insecure_registries)
    resolver = request.resolve_digests or resolve.resolve_digests
    digests = resolver(
        [tag for _, tag in builds],
        resolver=request.digest_resolver,
        insecure_registries=insecure,
        jobs=request.digest_jobs,
        timeout=request.registry_timeout,
        env=env,
    )
    return [(name, resolve.with_digest(tag, digests[tag])) for name, tag in builds]


def _generate(
    request: RenderRequest, loaded: _Loaded, launched: Any = None
) -> list[tuple[int, Any]]:
    """Every renderer's output (documents, or a helm job), config by config, in skaffold's order:
    each config's renderers, then the ``deploy.helm`` ones (runner/renderer.go).  Each comes
    with the index of its config.

    ``launched`` (a threading.Event), when given, is set as the first kustomize starts.
    """
    from engine.stages import sources

    runner = _kustomize_runner(request, launched)
    own: list[tuple[int, Any]] = []
    legacy: list[tuple[int, Any]] = []
    for index, cfg in enumerate(loaded.configs):
        for output in sources.generate(
            cfg,
            cwd=loaded.cwd,
            env=loaded.env,
            allow_commands=request.allow_template_commands,
            kustomize_runner=runner,
            setters=request.setters,
        ):
            is_legacy = isinstance(output, sources.HelmJob) and output.renderer.legacy
            (legacy if is_legacy else own).append((index, output))
    return own + legacy


def _kustomize_runner(request: RenderRequest, launched: Any) -> Callable[..., bytes] | None:
    """The request's kustomize runner, setting ``launched`` (when given) as kustomize starts."""
    if launched is None:
        return request.kustomize_runner
    from engine.stages import sources

    inner = request.kustomize_runner or sources.run_kustomize

    def signalling(argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None) -> bytes:
        launched.set()
        return inner(argv, cwd=cwd, env=env)

    return signalling


# --- the render cache (RenderRequest.render_cache) ----------------------------------------------
#
# A render is a function of what _cache_key hashes and of the image references, which the
# cached template holds as tokens (engine.stages.reftemplate).  The environment is not in the
# key: it reaches the output only through what is (the configs it loaded, the kube-context,
# the manifest texts it selected and kustomize produced) and through the references.
# Whatever else could shape the output makes a render uncacheable (_uncacheable).


def _render_from_cache(
    request: RenderRequest, loaded: _Loaded, cache: RenderCache
) -> RenderResult | None:
    """:func:`render` through the cache; None: render normally (uncacheable, or an error in
    reading the manifests)."""
    from engine.stages import reftemplate

    reason = _uncacheable(request, loaded)
    if reason:
        cache.count("uncacheable", reason)
        return None
    # One step after the other, unlike render(): on a warm run kustomize is a cache hit, and
    # a thread per render would only make bulk's threads fight over the GIL.  Bulk overlaps
    # kustomize with other renders' Python instead.
    build_log: list[str] = []
    digest_source, builds = _decide_builds(request, loaded, build_log)
    try:
        texts = _read_texts(request, loaded)
    except SkrenderError:
        cache.count("uncacheable", "reading the manifests failed")
        return None  # the normal path reports the error, in skaffold's order
    key = _cache_key(request, loaded, digest_source, builds, texts)
    prefix = reftemplate.token_prefix(key or "")
    if key is None or not reftemplate.absent(prefix, _all_texts(texts)):
        cache.count("uncacheable", "unreadable --resource-selector-rules-file or token clash")
        return None
    references = [ref for _, ref in builds]
    entry = cache.get(key)
    text = reftemplate.fill(entry.template, prefix, references) if entry is not None else None
    if entry is not None and text is not None:
        cache.count("hit")
        warnings = list(entry.warnings)
    else:
        text, warnings = _render_template(request, loaded, texts, builds, cache, key)
    return RenderResult(
        text=text,
        notices=(NONE_DIGEST_SOURCE_NOTICE,) if digest_source == "none" else (),
        builds=tuple(builds),
        configs=loaded.configs,
        warnings=tuple(warnings),
        build_log=tuple(build_log),
    )


def _render_template(
    request: RenderRequest,
    loaded: _Loaded,
    texts: Sequence[Any],
    builds: Sequence[Build],
    cache: RenderCache,
    key: str,
) -> tuple[str, list[str]]:
    """A cache miss: render with tokens for references, store the template, fill it in.  A
    template that cannot hold this run's references is not stored: the plain transform."""
    from engine.stages import reftemplate

    prefix = reftemplate.token_prefix(key)
    documents = _decode_texts(request, loaded, texts)
    placeholders = reftemplate.tokens(prefix, len(builds))
    template_builds = [(name, token) for (name, _), token in zip(builds, placeholders, strict=True)]
    warnings: list[str] = []
    template = _transform_and_serialise(request, loaded, documents, template_builds, warnings)
    text = None
    if not any(prefix in warning for warning in warnings):
        text = reftemplate.fill(template, prefix, [ref for _, ref in builds])
    if text is None:
        cache.count("uncacheable", "an image reference is not a plain scalar")
        warnings = []
        return _transform_and_serialise(request, loaded, documents, builds, warnings), warnings
    cache.put(key, CachedRender(template, tuple(warnings)))
    cache.count("miss")
    return text, warnings


def _uncacheable(request: RenderRequest, loaded: _Loaded) -> str:
    """Why this render cannot be cached ("" when it can)."""
    from engine.stages import rewrite, sources

    for cfg in loaded.configs:
        if cfg.is_remote:
            return "a remote config"
        if not sources.plain_renderers(cfg):
            return "a renderer other than rawYaml and kustomize (helm, kpt, transform, hooks)"
    digest_source = request.digest_source or default_digest_source(
        loaded.kube_context, loaded.settings
    )
    if request.prebuilt is None and digest_source not in NO_BUILD_DIGEST_SOURCES:
        return f"--digest-source={digest_source} builds images"
    if request.gke_arm_toleration and rewrite.is_gke_context(loaded.kube_context):
        return "a GKE kube-context (tolerations depend on the images' platforms)"
    return ""


def _read_texts(request: RenderRequest, loaded: _Loaded) -> list[Any]:
    """Each config's sources.ManifestTexts (rawYaml files, kustomize outputs)."""
    from engine.stages import sources

    return [
        sources.manifest_texts(
            cfg,
            cwd=loaded.cwd,
            env=loaded.env,
            allow_commands=request.allow_template_commands,
            kustomize_runner=request.kustomize_runner,
            setters=request.setters,
        )
        for cfg in loaded.configs
    ]


def _decode_texts(
    request: RenderRequest, loaded: _Loaded, texts: Sequence[Any]
) -> list[tuple[int, Any]]:
    """What :func:`_generate` returns, from the texts :func:`_read_texts` read."""
    from engine.stages import sources

    return [
        (index, docs)
        for index, (cfg, config_texts) in enumerate(zip(loaded.configs, texts, strict=True))
        for docs in sources.decode_texts(cfg, config_texts, request.setters)
    ]


def _all_texts(texts: Sequence[Any]) -> list[str]:
    return [t for each in texts for t in (*(text for _, text in each.raw_yaml), *each.kustomize)]


def _cache_key(
    request: RenderRequest,
    loaded: _Loaded,
    digest_source: str,
    builds: Sequence[Build],
    texts: Sequence[Any],
) -> str | None:
    """A SHA-256 of everything a render's template depends on; None when the selector rules
    file cannot be read (the normal path reports it)."""
    import hashlib

    # the request's flags, minus the environment, the seams and the references of -a/-i
    flags = request._replace(
        env=None,
        build_images=None,
        kustomize_runner=None,
        resolve_digests=None,
        image_config=None,
        image_platforms=None,
        render_cache=None,
        prebuilt=None if request.prebuilt is None else tuple((n, "") for n, _ in request.prebuilt),
    )
    parts = [
        "skrender render template v1",
        repr(flags),
        loaded.cwd,
        repr(loaded.configs),
        loaded.kube_context,
        repr(loaded.settings),
        digest_source,
        repr([name for name, _ in builds]),
    ]
    if request.resource_selector_rules_file:
        try:
            path = os.path.join(loaded.cwd, request.resource_selector_rules_file)
            with open(path, "rb") as handle:
                parts.append(handle.read().decode("utf-8", "surrogateescape"))
        except OSError:
            return None
    for each in texts:
        parts.append(f"config {len(each.raw_yaml)} {len(each.kustomize)}")
        for path, text in each.raw_yaml:
            parts += [path, text]
        parts.extend(each.kustomize)
    digest = hashlib.sha256()
    for part in parts:  # length-prefixed: no two part lists hash alike
        data = part.encode("utf-8", "surrogateescape")
        digest.update(b"%d:" % len(data) + data)
    return digest.hexdigest()


def _preload_transform() -> None:
    """Import what the transform and serialisation need while kustomize still runs."""
    from engine.yamlv3 import emitter  # noqa: F401


def _transform_and_serialise(
    request: RenderRequest,
    loaded: _Loaded,
    documents: Sequence[tuple[int, Any]],
    builds: Sequence[Build],
    warnings: list[str],
) -> str:
    """skaffold's base transform per renderer output, then its serialisation."""
    chunks = _transform_chunks(request, loaded, documents, builds, warnings)
    # pkg/skaffold/kubernetes/manifest/manifests.go: String() + one final newline
    return "\n---\n".join(chunks) + "\n"


def _transform_chunks(
    request: RenderRequest,
    loaded: _Loaded,
    documents: Sequence[tuple[int, Any]],
    builds: Sequence[Build],
    warnings: list[str],
) -> list[str]:
    """Each document transformed and serialised (trimmed), in order.

    render_mux.go: a renderer's non-empty output joins its config's list, and the lists are
    printed in the order configs first produced something (``ManifestListByConfig``).
    """
    from engine import yamlv3
    from engine.stages import rewrite, sources

    rules = _selector_rules(request, loaded.configs, loaded.cwd)
    images = dict(builds)
    by_config: dict[int, list[str]] = {}
    platforms: Callable[[str], Sequence[tuple[str, str, str]]] | None = None
    for index, docs in documents:
        if isinstance(docs, sources.HelmJob):
            chunks = _helm_chunks(request, loaded, docs, builds, rules)
        else:
            transformed = rewrite.replace_images(docs, images, rules)
            if request.labels:
                transformed = rewrite.add_labels(transformed, request.labels, rules)
            if request.namespace and not request.offline:
                transformed, conflicts = rewrite.set_namespace(
                    transformed, request.namespace, rules
                )
                warnings.extend(conflicts)
            if request.gke_arm_toleration and rewrite.is_gke_context(loaded.kube_context):
                # renderer/util/util.go BaseTransform: platforms from the registry, per renderer
                platforms = (
                    platforms or request.image_platforms or _platforms_lookup(request, loaded)
                )
                transformed = rewrite.add_gke_arm_toleration(transformed, rules, platforms)
            chunks = [yamlv3.dump(doc).strip() for doc in transformed]
            functions = getattr(docs, "functions", ())  # engine.stages.kpt.Validated
            if functions:
                from engine.stages import kpt

                kpt.validate_text(functions, "\n---\n".join(chunks), cwd=loaded.cwd, env=loaded.env)
        if chunks:
            by_config.setdefault(index, []).extend(chunks)
    return [chunk for chunks in by_config.values() for chunk in chunks]


def _helm_chunks(
    request: RenderRequest, loaded: _Loaded, job: Any, builds: Sequence[Build], rules: Any
) -> list[str]:
    """One helm renderer's manifests (engine.stages.helm), then its ``SetLabels``: with ``-l``
    every document is decoded, labelled and re-encoded (render/renderer/helm/helm.go)."""
    from engine import yamlv3
    from engine.golang import unicode
    from engine.stages import helm, rewrite, sources

    ctx = helm.Context(
        cwd=loaded.cwd,
        env=loaded.env,
        builds=tuple(builds),
        namespace=request.namespace,
        labels=request.labels,
        setters=request.setters,
        kube_context=loaded.kube_context,
        # bin.go PrepareSkaffoldFilter: the filter loads the run's config (SKAFFOLD_FILENAME)
        config_file=os.path.join(loaded.cwd, request.filename),
        rules=rewrite.filter_rules(
            [rule for cfg in loaded.configs for rule in cfg.allow],
            [rule for cfg in loaded.configs for rule in cfg.deny],
        ),
        allow_commands=request.allow_template_commands,
    )
    entries = helm.render(job.renderer, ctx)
    if not request.labels:
        return [entry.strip(unicode.SPACE) for entry in entries]
    docs = rewrite.add_labels(sources.decode_entries(entries), request.labels, rules)
    return [yamlv3.dump(doc).strip() for doc in docs]


def _selector_rules(request: RenderRequest, configs: Sequence[Config], cwd: str) -> Any:
    """resourceSelector rules of every config, then the rules file (renderer/util/util.go)."""
    from engine.stages import rewrite

    allow = [rule for cfg in configs for rule in cfg.allow]
    deny = [rule for cfg in configs for rule in cfg.deny]
    file_allow: list[Any] = []
    file_deny: list[Any] = []
    if request.resource_selector_rules_file:
        path = os.path.join(cwd, request.resource_selector_rules_file)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(
                f"reading --resource-selector-rules-file {request.resource_selector_rules_file}: "
                f"{exc.strerror}"
            ) from None
        file_allow, file_deny = rewrite.load_rules_file(text, request.resource_selector_rules_file)
    return rewrite.build_rules(allow, deny, file_allow=file_allow, file_deny=file_deny)
