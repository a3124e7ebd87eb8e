"""Build, tag and push Docker artifacts through the Docker engine, as skaffold's local builder.

    plan      = (artifact, tag) for every tagged build, push decided per config
    cache     = content-derived tags already in the registry (or engine) are not rebuilt
    build     = docker build of skaffold's context tar, in dependency order, N at a time
    push      = docker push; the digest the registry returned, cross-checked with it
    result    = pushed: tag@digest; not pushed: name:<image ID hex>

Follows ``pkg/skaffold/build/local/local.go``, ``pkg/skaffold/build/docker/docker.go``,
``pkg/skaffold/docker/image.go`` (Build, Push, TagWithImageID), ``build_args.go`` and
``pkg/skaffold/build/cache/``.  Nothing here prints: progress and build logs go to the
``report`` callback of :class:`BuildOptions` (the CLI sends them to stderr).
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.errors import BuildError, DigestError, SkrenderError
from engine.core.sanitize import one_line
from engine.skaffold.schema import Artifact, Config

if TYPE_CHECKING:
    from engine.pipeline import RenderRequest
    from engine.skaffold.config import GlobalConfig

Build = tuple[str, str]  # (imageName, image reference)
Report = Callable[[str], None]
BuildImagesFn = Callable[[Sequence[Config], Sequence[Build], "RenderRequest"], list[Build]]

# skaffold's constants.DefaultLocalConcurrency
DEFAULT_LOCAL_CONCURRENCY = 1
# Seconds one read from the engine may take (a quiet RUN step can be long).
ENGINE_TIMEOUT = 3600
# How the docker CLI names a Dockerfile that lives outside the build context.
OUTSIDE_DOCKERFILE = ".dockerfile.skrender"
SUPPORTED_BUILDERS = ("docker", "custom")
_HEX_RE = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class BuildOptions:
    """How to build.  ``mode`` is skaffold's run mode (the SKAFFOLD_RUN_MODE build arg).

    ``push`` None means: the config's ``build.local.push``, else skaffold's cluster default
    (push unless the kube-context is a local cluster).  ``report`` receives progress lines
    and, with ``loud``, the engine's build and push output.
    """

    mode: str = "render"
    push: bool | None = None
    cache_artifacts: bool = True
    loud: bool = False
    report: Report | None = None
    insecure_registries: tuple[str, ...] = ()


@dataclass
class _Job:
    """One artifact to build: its config, its tag (default repo applied), its final reference."""

    config: Config
    artifact: Artifact
    tag: str
    push: bool
    final: str = ""
    built: bool = False


@dataclass
class _Run:
    """Everything shared by the builds of one invocation."""

    options: BuildOptions
    cwd: str
    env: dict[str, str]
    request: RenderRequest
    insecure: tuple[str, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)
    api_version: str | None = None
    finals: dict[str, str] = field(default_factory=dict)

    def say(self, text: str) -> None:
        """One progress line (always shown)."""
        if self.options.report is not None:
            with self.lock:
                self.options.report(text if text.endswith("\n") else text + "\n")


def build_images(
    configs: Sequence[Config], builds: Sequence[Build], request: RenderRequest
) -> list[Build]:
    """Build and push the tagged artifacts; return (imageName, reference to render with).

    The signature of ``RenderRequest.build_images``; reports nothing (see :func:`images_builder`).
    """
    return _build_all(configs, builds, request, BuildOptions())


def images_builder(options: BuildOptions) -> BuildImagesFn:
    """A ``RenderRequest.build_images`` callable that builds with ``options``."""

    def run(
        configs: Sequence[Config], builds: Sequence[Build], request: RenderRequest
    ) -> list[Build]:
        return _build_all(configs, builds, request, options)

    return run


def build_output_json(builds: Sequence[Build], configs: Sequence[Config] = ()) -> str:
    """skaffold's ``--file-output`` JSON; ``runtimeType`` from the artifacts that declare one."""
    from engine.stages import naming

    runtime = {
        art.image: str(art.raw.get("runtimeType"))
        for cfg in configs
        for art in cfg.artifacts
        if art.raw.get("runtimeType")
    }
    return naming.build_output_json(builds, runtime)


def check_supported(artifacts: Iterable[Artifact]) -> None:
    """Fail before any build when an artifact needs a builder skrender does not run."""
    for art in artifacts:
        if art.builder not in SUPPORTED_BUILDERS:
            raise BuildError(
                f'image "{art.image}" uses the {art.builder} builder, which is not supported by '
                "skrender; build them yourself and pass -a"
            )


# ---------------------------------------------------------------- planning


def _build_all(
    configs: Sequence[Config],
    builds: Sequence[Build],
    request: RenderRequest,
    options: BuildOptions,
) -> list[Build]:
    from engine.pipeline import is_local_cluster
    from engine.skaffold import config as config_mod

    if not builds:
        return []
    env = dict(os.environ if request.env is None else request.env)
    cwd = os.path.abspath(request.cwd)
    context = config_mod.current_kube_context(env)
    settings = config_mod.global_config(env, context)
    run = _Run(options, cwd, env, request, _insecure(configs, settings, options))
    # pkg/skaffold/config/util.go GetCluster: push unless the cluster is local.  kind/k3d with
    # image loading disabled also push; skrender cannot load images into a cluster, so a local
    # cluster simply means "keep the image in the engine".
    jobs = _plan(configs, builds, options, not is_local_cluster(context, settings))
    check_supported(job.artifact for job in jobs)
    pending = _check_cache(run, jobs) if options.cache_artifacts else jobs
    if pending:
        _schedule(run, jobs, pending, _concurrency(configs))
    return [(job.artifact.image, job.final) for job in jobs]


def _insecure(
    configs: Sequence[Config], settings: GlobalConfig, options: BuildOptions
) -> tuple[str, ...]:
    """Insecure registries: the configs', the global config's (``settings``), the flag's."""
    found = [r for cfg in configs for r in cfg.insecure_registries]
    return tuple(found) + settings.insecure_registries + options.insecure_registries


def _plan(
    configs: Sequence[Config],
    builds: Sequence[Build],
    options: BuildOptions,
    default_push: bool,
) -> list[_Job]:
    owners: dict[str, tuple[Config, Artifact]] = {}
    for cfg in configs:
        for art in cfg.artifacts:
            owners.setdefault(art.image, (cfg, art))
    jobs: list[_Job] = []
    for name, tag in builds:
        if name not in owners:
            raise BuildError(f'no artifact "{name}" in the selected configs')
        cfg, art = owners[name]
        jobs.append(_Job(cfg, art, tag, _push_for(cfg, options, default_push)))
    return jobs


def _push_for(cfg: Config, options: BuildOptions, default_push: bool) -> bool:
    """pkg/skaffold/build/local/types.go NewBuilder: --push, then local.push, then cluster."""
    if options.push is not None:
        return options.push
    if cfg.local is not None and cfg.local.push is not None:
        return cfg.local.push
    return default_push


def _concurrency(configs: Sequence[Config]) -> int:
    """pkg/skaffold/build/builder_mux.go getConcurrency: the smallest set value (0: no limit)."""
    found = -1
    for cfg in configs:
        value = cfg.local.concurrency if cfg.local is not None else None
        if value is None:
            continue
        if found < 0 or (value > 0 and (found == 0 or value < found)):
            found = value
    return DEFAULT_LOCAL_CONCURRENCY if found < 0 else found


# ---------------------------------------------------------------- cache


def is_content_tag(job_tag: str, cfg: Config, custom_tag: str | None) -> bool:
    """Whether the tag names the artifact's content (inputDigest, gitCommit TreeSha), so an
    image already stored under it can be reused instead of rebuilt."""
    from engine.stages import naming

    if custom_tag:
        return False
    parsed = naming.try_parse_reference(job_tag)
    if parsed is None or not parsed.tag or parsed.tag == "latest":
        return False
    policy = cfg.tag_policy
    if policy.kind == "inputDigest":
        return len(parsed.tag) == 64 and _HEX_RE.fullmatch(parsed.tag) is not None
    if policy.kind == "gitCommit":
        variant = str(policy.options.get("variant") or "").lower()
        return variant in ("treesha", "abbrevtreesha") and not parsed.tag.endswith("-dirty")
    return False


def _check_cache(run: _Run, jobs: Sequence[_Job]) -> list[_Job]:
    """pkg/skaffold/build/cache/retrieve.go: report each artifact, keep what must be built."""
    run.say("Checking cache...")
    pending: list[_Job] = []
    for job in jobs:
        found = ""
        if is_content_tag(job.tag, job.config, run.request.custom_tag):
            found = _lookup_remote(run, job) if job.push else _lookup_local(run, job)
        if found:
            job.final = found
            run.finals[job.artifact.image] = found
            where = "Remotely" if job.push else "Locally"
            run.say(f" - {job.artifact.image}: Found {where}")
        else:
            run.say(f" - {job.artifact.image}: Not found. Building")
            pending.append(job)
    return pending


def _lookup_remote(run: _Run, job: _Job) -> str:
    """The tag's digest in its registry, or "" when it is not there."""
    from engine.registry import resolve

    try:
        digests = _remote_digests(run, [job.tag])
    except DigestError:
        return ""
    return resolve.with_digest(job.tag, digests[job.tag])


def _lookup_local(run: _Run, job: _Job) -> str:
    """``name:<image ID hex>`` when the engine already holds the tag, else ""."""
    api = _client(run)
    try:
        image_id = _image_id(api, job.tag)
        return _tag_with_image_id(api, job.tag, image_id) if image_id else ""
    finally:
        api.close()


def _remote_digests(run: _Run, refs: Sequence[str]) -> dict[str, str]:
    from engine.registry import resolve

    return resolve.resolve_digests(
        refs,
        resolver=run.request.digest_resolver,
        insecure_registries=run.insecure,
        jobs=run.request.digest_jobs,
        timeout=run.request.registry_timeout,
        env=run.env,
    )


# ---------------------------------------------------------------- scheduling


def _schedule(run: _Run, jobs: Sequence[_Job], pending: Sequence[_Job], concurrency: int) -> None:
    """pkg/skaffold/build/scheduler.go: dependencies first, at most ``concurrency`` at once."""
    by_image = {job.artifact.image: job for job in jobs}
    order = _topological(pending, by_image)
    workers = len(order) if concurrency <= 0 else max(1, min(concurrency, len(order)))
    buffered = workers > 1
    futures: dict[str, Future[None]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="skrender-build") as pool:
        for job in order:
            deps = [
                futures[d.image] for d in job.artifact.requires if d.image in futures
            ]  # submitted earlier, so started earlier: waiting on them cannot deadlock
            futures[job.artifact.image] = pool.submit(_build_after, run, job, deps, buffered)
        errors = [f.exception() for f in futures.values()]
    for exc in errors:
        if exc is not None:
            raise exc


def _topological(pending: Sequence[_Job], by_image: Mapping[str, _Job]) -> list[_Job]:
    wanted = {job.artifact.image for job in pending}
    order: list[_Job] = []
    state: dict[str, int] = {}

    def visit(job: _Job) -> None:
        name = job.artifact.image
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise BuildError(f'cycle detected in build dependencies involving "{name}"')
        state[name] = 1
        for dep in job.artifact.requires:
            if dep.image in wanted and dep.image in by_image:
                visit(by_image[dep.image])
        state[name] = 2
        order.append(job)

    for job in pending:
        visit(job)
    return order


def _build_after(run: _Run, job: _Job, deps: Sequence[Future[None]], buffered: bool) -> None:
    for dep in deps:
        if dep.exception() is not None:
            raise BuildError(
                f"build [{job.artifact.image}] failed: a required artifact failed to build"
            )
    lines: list[str] = []
    log = _artifact_log(run, lines, buffered)
    try:
        log(f"Building [{job.artifact.image}]...\n", True)
        job.final = _build_one(run, job, log)
        job.built = True
        log(f"Build [{job.artifact.image}] succeeded\n", True)
    finally:
        if buffered and lines and run.options.report is not None:
            with run.lock:
                run.options.report("".join(lines))
    with run.lock:
        run.finals[job.artifact.image] = job.final


Log = Callable[[str, bool], None]  # (text, always): always=False only shown with --loud


def _artifact_log(run: _Run, lines: list[str], buffered: bool) -> Log:
    """Write straight through, or collect per artifact when builds run in parallel."""

    def log(text: str, always: bool) -> None:
        if not (always or run.options.loud) or run.options.report is None or not text:
            return
        if buffered:
            lines.append(text)
        else:
            with run.lock:
                run.options.report(text)

    return log


# ---------------------------------------------------------------- one docker build


def _build_one(run: _Run, job: _Job, log: Log) -> str:
    """pkg/skaffold/build/docker/docker.go Build, then local.go buildArtifact."""
    art = job.artifact
    if art.builder == "custom":
        return _build_custom(run, job, log)
    docker_art = art.docker
    if docker_art is None:
        from engine.skaffold.schema import DockerArtifact

        docker_art = DockerArtifact()
    workspace = os.path.join(run.cwd, art.context)
    abs_dockerfile = _dockerfile(run, art, workspace, docker_art.dockerfile)
    if docker_art.secrets or (art.raw.get("docker") or {}).get("ssh"):
        # pkg/skaffold/docker/image.go CheckCompatible (skrender has no BuildKit path)
        raise BuildError(
            f"build [{art.image}] failed: docker build options, secrets and ssh, require "
            "BuildKit, which skrender does not drive; build this image yourself and pass -a"
        )
    build_args = _build_args(run, job, abs_dockerfile)
    api = _client(run)
    try:
        _pull_cache_from(api, run, job, log)
        context, dockerfile_name = _context_tar(
            run, art, workspace, abs_dockerfile, build_args, api
        )
        image_id = _docker_build(api, run, job, context, dockerfile_name, build_args, log)
        if not job.push:
            return _tag_with_image_id(api, job.tag, image_id)
        digest = _push(api, run, job, log)
    finally:
        api.close()
    return _checked_digest(run, job, digest)


# ---------------------------------------------------------------- one custom build


def _build_custom(run: _Run, job: _Job, log: Log) -> str:
    """pkg/skaffold/build/custom (build.go, script.go), then local.go buildArtifact: the
    buildCommand through ``sh -c`` in the context; then the pushed digest, or the image ID of
    the tag in the engine."""
    from engine.core import proc
    from engine.golang import texttemplate

    art = job.artifact
    custom = art.raw.get("custom")
    command = str((custom if isinstance(custom, Mapping) else {}).get("buildCommand") or "")
    try:
        command = texttemplate.expand(
            command, run.env, name="envTemplate", allow_commands=run.request.allow_template_commands
        )
    except SkrenderError as exc:
        raise BuildError(
            f"build [{art.image}] failed: retrieving cmd: unable to parse build command "
            f"{proc.go_quote(command)}: {exc}"
        ) from None
    try:
        done = proc.run_combined(
            ["sh", "-c", command], cwd=os.path.join(run.cwd, art.context), env=_custom_env(run, job)
        )
    except OSError as exc:
        raise BuildError(f"build [{art.image}] failed: starting cmd: {exc.strerror}") from None
    log(done.stdout.decode("utf-8", "replace"), False)
    if done.returncode != 0:
        raise BuildError(
            f"build [{art.image}] failed: building custom artifact: exit status {done.returncode}"
        )
    if job.push:
        return _checked_digest(run, job, "")
    api = _client(run)
    try:
        image_id = _image_id(api, job.tag)
        if not image_id:
            raise BuildError(
                f"build [{art.image}] failed: the custom script didn't produce an image with "
                f"tag [{job.tag}]"
            )
        return _tag_with_image_id(api, job.tag, image_id)
    finally:
        api.close()


def _custom_env(run: _Run, job: _Job) -> dict[str, str]:
    """script.go retrieveEnv: the build's variables, required images, then the environment
    (which wins: os/exec keeps the last value of a repeated key)."""
    from engine.stages import naming

    art = job.artifact
    parsed = naming.try_parse_reference(job.tag)
    if parsed is None:
        raise BuildError(f"build [{art.image}] failed: parsing image {job.tag}")
    env = {
        "IMAGE": job.tag,
        "PUSH_IMAGE": "true" if job.push else "false",
        "BUILD_CONTEXT": os.path.abspath(os.path.join(run.cwd, art.context)),
        "PLATFORMS": "",
        "SKIP_TEST": "false",
        "IMAGE_REPO": parsed.base_name,
        "IMAGE_TAG": parsed.tag,
    }
    for dep in art.requires:  # local/types.go: required artifacts as environment variables
        with run.lock:
            found = run.finals.get(dep.image)
        if found is None:
            raise BuildError(f'failed to resolve build result for required artifact "{dep.image}"')
        env[dep.alias or dep.image] = found
    env.update(run.env)
    return env


def _dockerfile(run: _Run, art: Artifact, workspace: str, dockerfile: str) -> str:
    from engine.stages import dockerfile as dockerfile_mod

    path = dockerfile_mod.normalize_dockerfile_path(workspace, dockerfile, run.cwd)
    if not os.path.isfile(path):
        raise BuildError(
            f"build [{art.image}] failed: stat {path}: no such file or directory. Dockerfile "
            f"not found. Please check config `dockerfile` for artifact {art.image}."
        )
    return path


def env_tags(tag: str) -> dict[str, str]:
    """pkg/skaffold/docker/build_args.go EnvTags: IMAGE_REPO, IMAGE_NAME, IMAGE_TAG."""
    from engine.stages import naming

    parsed = naming.try_parse_reference(tag)
    if parsed is None:
        raise BuildError(f"couldn't parse image tag {tag}")
    return {
        "IMAGE_REPO": parsed.repo,
        "IMAGE_NAME": parsed.name,
        "IMAGE_TAG": parsed.tag or "latest",
    }


def _build_args(run: _Run, job: _Job, abs_dockerfile: str) -> dict[str, str | None]:
    """build_args.go evalBuildArgs: run mode and required images (only if the Dockerfile
    declares them), then the artifact's buildArgs, each value an env template."""
    from engine.golang import texttemplate
    from engine.stages import dockerfile as dockerfile_mod

    art = job.artifact
    defaults: dict[str, str | None] = {"SKAFFOLD_RUN_MODE": run.options.mode}
    for dep in art.requires:
        with run.lock:
            found = run.finals.get(dep.image)
        if found is None:
            raise BuildError(f'failed to resolve build result for required artifact "{dep.image}"')
        defaults[dep.alias or dep.image] = found
    try:
        declared = set(dockerfile_mod.declared_args(abs_dockerfile))
    except SkrenderError as exc:
        raise BuildError(
            f"build [{art.image}] failed: removing unused default args: {exc}"
        ) from None
    args = {k: v for k, v in defaults.items() if k in declared}
    args.update(art.docker.build_args if art.docker is not None else {})
    env = dict(run.env)
    env.update(env_tags(job.tag))
    out: dict[str, str | None] = {}
    for key, value in args.items():
        if value is None:
            out[key] = None
            continue
        try:
            out[key] = texttemplate.expand(
                value, env, name="envTemplate", allow_commands=run.request.allow_template_commands
            )
        except SkrenderError as exc:
            raise BuildError(
                f"build [{art.image}] failed: unable to evaluate build args: "
                f'unable to get value for key "{key}": {exc}'
            ) from None
    return out


def _cache_from(run: _Run, job: _Job) -> list[str]:
    """docker.go adjustCacheFrom: the artifact's own name in cacheFrom means its new tag."""
    images = list(job.artifact.docker.cache_from) if job.artifact.docker else []
    if run.env.get("SKAFFOLD_DISABLE_DOCKER_CACHE_ADJUSTMENT"):
        return images
    return [job.tag if image == job.artifact.image else image for image in images]


def _pull_cache_from(api: Any, run: _Run, job: _Job, log: Log) -> None:
    """docker.go pullCacheFromImages: pull missing cacheFrom images; failures only warn."""
    import docker.errors

    for image in _cache_from(run, job):
        if _image_id(api, image):
            continue
        try:
            auth = _auth(run, image)
            # the SDK splits name, tag or digest itself (no tag: latest)
            for message in api.pull(image, stream=True, decode=True, auth_config=auth):
                _stream_text(message, log)
                if message.get("error"):
                    raise docker.errors.APIError(str(message["error"]))
        except docker.errors.DockerException:
            log(f'WARN cacheFrom image "{image}" couldn\'t be pulled\n', True)


def _context_tar(
    run: _Run,
    art: Artifact,
    workspace: str,
    abs_dockerfile: str,
    build_args: Mapping[str, str | None],
    api: Any,
) -> tuple[io.BytesIO, str]:
    """pkg/skaffold/docker/context.go: a tar of the artifact's dependencies only."""
    from engine.stages import dockerfile as dockerfile_mod

    dockerfile = art.docker.dockerfile if art.docker else "Dockerfile"
    try:
        deps = dockerfile_mod.dependencies(
            art.context,
            dockerfile,
            build_args,
            run.env,
            cwd=run.cwd,
            image_config=lambda image: _image_config(api, run, image),
        )
    except SkrenderError as exc:
        raise BuildError(f"build [{art.image}] failed: getting dependencies: {exc}") from None
    rel_dockerfile = os.path.relpath(abs_dockerfile, workspace)
    outside = rel_dockerfile.startswith("..")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dep in deps:
            src = os.path.normpath(os.path.join(workspace, dep))
            if outside and src == abs_dockerfile:
                continue
            _add_to_tar(tar, src, os.path.relpath(src, workspace))
        if outside:
            # like the docker CLI: an outside Dockerfile travels under a reserved name
            _add_to_tar(tar, abs_dockerfile, OUTSIDE_DOCKERFILE)
    buffer.seek(0)
    return buffer, OUTSIDE_DOCKERFILE if outside else rel_dockerfile.replace(os.sep, "/")


def _add_to_tar(tar: tarfile.TarFile, src: str, arcname: str) -> None:
    """pkg/skaffold/util/tar.go addFileToTar: lstat header, sockets and absolute links skipped."""
    import stat

    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(st.st_mode):
        return
    if stat.S_ISLNK(st.st_mode) and os.path.isabs(os.readlink(src)):
        return
    info = tar.gettarinfo(src, arcname=arcname.replace(os.sep, "/"))
    # Go's tar writer keeps whole seconds in a USTAR header (no PAX mtime record).
    info.mtime = int(info.mtime)
    if info.isfile():
        with open(src, "rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)


def _image_config(api: Any, run: _Run, image: str) -> Mapping[str, Any]:
    """A base image's config (for ONBUILD triggers): the engine's copy, pulled if missing."""
    import docker.errors

    try:
        attrs = api.inspect_image(image)
    except docker.errors.NotFound:
        for message in api.pull(image, stream=True, decode=True, auth_config=_auth(run, image)):
            if message.get("error"):
                reason = one_line(str(message["error"]))  # the registry's words
                raise BuildError(f'retrieving image "{image}": {reason}') from None
        attrs = api.inspect_image(image)
    config = attrs.get("Config") or {}
    return config if isinstance(config, Mapping) else {}


def _docker_build(
    api: Any,
    run: _Run,
    job: _Job,
    context: io.BytesIO,
    dockerfile: str,
    build_args: Mapping[str, str | None],
    log: Log,
) -> str:
    """pkg/skaffold/docker/image.go localDaemon.Build: the engine's build API, streamed."""
    import docker.errors

    docker_art = job.artifact.docker
    kwargs: dict[str, Any] = {
        "fileobj": context,
        "custom_context": True,
        "tag": job.tag,
        "dockerfile": dockerfile,
        "buildargs": dict(build_args),
        "decode": True,
        "rm": True,
    }
    if docker_art is not None:
        kwargs.update(
            target=docker_art.target or None,
            network_mode=docker_art.network.lower() if docker_art.network else None,
            cache_from=_cache_from(run, job) or None,
            extra_hosts=list(docker_art.add_host) or None,
            nocache=docker_art.no_cache,
            pull=docker_art.pull_parent,
        )
        if docker_art.squash:
            kwargs["squash"] = True  # only honoured by an engine in experimental mode
    image_id = ""
    step = ""
    name = job.artifact.image
    try:
        for message in api.build(**kwargs):
            text = _stream_text(message, log)
            if text.startswith("Step "):
                step = text.strip()
            error = message.get("errorDetail") or (
                {"message": message["error"]} if "error" in message else None
            )
            if error:
                where = f" (at {step})" if step else ""
                raise BuildError(
                    f"build [{name}] failed: docker build failure: "
                    f"{one_line(str(error.get('message', '')).strip())}{where}. "
                    "Please fix the Dockerfile and try again."
                )
            aux = message.get("aux")
            if isinstance(aux, Mapping) and aux.get("ID"):
                image_id = str(aux["ID"])
    except docker.errors.DockerException as exc:
        raise BuildError(f"build [{name}] failed: docker build: {_engine_reason(exc)}") from None
    if not image_id:
        image_id = _image_id(api, job.tag)
    if not image_id:
        raise BuildError(f"build [{name}] failed: getting digest: no image ID for {job.tag}")
    return image_id


def _push(api: Any, run: _Run, job: _Job, log: Log) -> str:
    """image.go localDaemon.Push: the digest from the push stream's aux message."""
    import docker.errors

    repo, tag = _split_tag(job.tag)
    digest = ""
    try:
        stream = api.push(repo, tag=tag, stream=True, decode=True, auth_config=_auth(run, job.tag))
        for message in stream:
            _stream_text(message, log)
            if message.get("error"):
                detail = message.get("errorDetail") or {}
                reason = one_line(str(detail.get("message") or message["error"]).strip())
                raise BuildError(
                    f'build [{job.artifact.image}] failed: could not push image "{job.tag}": '
                    f"{reason}"
                )
            aux = message.get("aux")
            if isinstance(aux, Mapping) and aux.get("Digest"):
                digest = str(aux["Digest"])
    except docker.errors.DockerException as exc:
        raise BuildError(
            f'build [{job.artifact.image}] failed: could not push image "{job.tag}": '
            f"{_engine_reason(exc)}"
        ) from None
    return digest


def _checked_digest(run: _Run, job: _Job, pushed: str) -> str:
    """tag@digest, the pushed digest confirmed by the registry (or read from it when the
    engine did not report one, as skaffold's RemoteDigest fallback)."""
    from engine.registry import resolve

    try:
        remote = _remote_digests(run, [job.tag])[job.tag]
    except DigestError as exc:
        if not pushed:
            raise BuildError(
                f"build [{job.artifact.image}] failed: getting digest: {exc}"
            ) from None
        remote = pushed  # the registry could not be asked; trust the engine's report
    if pushed and remote != pushed:
        raise BuildError(
            f"build [{job.artifact.image}] failed: pushed {job.tag} as {pushed} but the registry "
            f"reports {remote}"
        )
    return resolve.with_digest(job.tag, remote)


def _tag_with_image_id(api: Any, tag: str, image_id: str) -> str:
    """image.go TagWithImageID: ``<base name>:<image ID hex>``, tagged in the engine."""
    from engine.stages import naming

    parsed = naming.parse_reference(tag)
    hex_id = image_id.removeprefix("sha256:")
    api.tag(image_id, parsed.base_name, hex_id)
    return f"{parsed.base_name}:{hex_id}"


# ---------------------------------------------------------------- engine plumbing


def _client(run: _Run) -> Any:
    """A low-level docker API client for DOCKER_HOST (default socket), version negotiated once."""
    import docker
    import docker.errors
    from docker.utils import kwargs_from_env

    try:
        kwargs = kwargs_from_env(environment=run.env)
        version = run.api_version or "auto"
        api = docker.APIClient(version=version, timeout=ENGINE_TIMEOUT, **kwargs)
    except docker.errors.DockerException as exc:
        where = run.env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise BuildError(
            f"cannot connect to the Docker engine at {where}: {_engine_reason(exc)}"
        ) from None
    run.api_version = str(api.api_version)
    return api


def _image_id(api: Any, ref: str) -> str:
    """image.go ImageID: the engine's image ID for ``ref``, "" when it has none."""
    import docker.errors

    try:
        return str(api.inspect_image(ref).get("Id") or "")
    except docker.errors.NotFound:
        return ""
    except docker.errors.DockerException as exc:
        raise BuildError(f"getting image ID of {ref}: {_engine_reason(exc)}") from None


def _auth(run: _Run, ref: str) -> dict[str, str] | None:
    """X-Registry-Auth for ``ref`` from the Docker config (helpers, auths), else None."""
    from engine.registry import credentials
    from engine.stages import naming

    try:
        registry = naming.registry_name(ref).registry
        return credentials.Keychain(run.env).lookup(registry).docker_auth_config()
    except SkrenderError:
        return None


def _split_tag(ref: str) -> tuple[str, str]:
    """'host:port/path/name:tag' -> ('host:port/path/name', 'tag'); no tag means latest."""
    ref = ref.split("@", 1)[0]
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon <= slash:
        return ref, "latest"
    return ref[:colon], ref[colon + 1 :]


def _stream_text(message: Mapping[str, Any], log: Log) -> str:
    """Show one JSON message of the engine's stream (with --loud); return its text."""
    text = message.get("stream")
    if isinstance(text, str):
        log(text, False)
        return text
    status = message.get("status")
    if isinstance(status, str):
        ident = message.get("id")
        line = f"{ident}: {status}" if ident else status
        log(line + "\n", False)
        return line
    return ""


def _engine_reason(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip()
    # the engine's words, which may quote a registry's: one safe line
    return one_line(text.splitlines()[0]) if text else type(exc).__name__
