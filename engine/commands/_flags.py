"""skaffold render's flags, shared by every command that renders (render, tags, gitops, bulk).

The table is skaffold v2.24.0's: every flag `skaffold render` defines
(cmd/skaffold/app/cmd/flags.go: the registry entries defined on "render" or "all";
render.go: --loud, --offline, --output), parsed with pflag's semantics
(:mod:`engine.golang.pflag`); the root command's persistent flags (cmd.go: -v, --color, ...)
come from :data:`engine.commands._parser.GLOBAL_FLAGS`.  Every flag can also come from a
``SKAFFOLD_<FLAG_NAME>`` environment variable (cmd.go: setFlagsFromEnvVariables); command-line
values win.  skrender's own flags (--digest-resolver, ...) follow.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from engine.core.errors import UsageError
from engine.golang import pflag
from engine.golang.pflag import BOOL, FLOAT, INT, SLICE, Flag

_SYNC_REMOTE_CACHE = ("always", "missing", "never")


def _sync_remote_cache(value: str) -> str:
    # config.SyncRemoteCacheOption.Set (pkg/skaffold/config/remote_cache.go)
    if value not in _SYNC_REMOTE_CACHE:
        raise ValueError("value must be one of `always`, `missing`, or `never`")
    return value


def _images(value: str) -> str:
    # flags.Images.Set (cmd/skaffold/app/flags/image.go) splits at every comma (no CSV) and
    # refuses the value at the first bad image, while the flags are parsed
    from engine.stages import naming

    for item in value.split(","):
        try:
            naming.parse_images_flag(item, flag_value=value)
        except UsageError as exc:
            raise pflag.ParseError(str(exc)) from None
    return value


# skaffold render's flags that change what skrender prints
RENDER_FLAGS = (
    Flag("filename", "f", default="skaffold.yaml", usage="Path or URL to the Skaffold config file"),
    Flag("module", "m", SLICE, usage="Filter Skaffold configs to only the provided named modules"),
    Flag(
        "profile",
        "p",
        SLICE,
        usage="Activate profiles by name (prefixed with `-` to disable a profile)",
    ),
    Flag(
        "profile-auto-activation",
        kind=BOOL,
        default=True,
        usage="Set to false to disable profile auto activation",
    ),
    Flag(
        "propagate-profiles",
        kind=BOOL,
        default=True,
        usage="Set to false to activate --profile profiles only in the target skaffold.yaml",
    ),
    Flag("default-repo", "d", usage="Default repository value (overrides global config)"),
    Flag(
        "tag",
        "t",
        default="",
        usage="The optional custom tag to use for images (overrides the tag policies)",
    ),
    Flag(
        "digest-source",
        default="",
        usage="remote, tag, none or local (default: tag on a local cluster, else remote)",
    ),
    Flag(
        "build-artifacts",
        "a",
        default="",
        usage="File of pre-built images (skaffold build --file-output), instead of tags",
    ),
    Flag(
        "images",
        "i",
        pflag.ARRAY,
        convert=_images,
        metavar="strings",  # comma-separated, like the slices (flags.Images)
        usage="A list of pre-built images to deploy, either tagged images or NAME=TAG pairs",
    ),
    Flag(
        "label",
        "l",
        SLICE,
        usage="Add custom labels to deployed objects. Set multiple times for multiple labels",
    ),
    Flag(
        "namespace",
        "n",
        default="",
        usage="Renders manifests that contain the namespace (ignored with --offline)",
    ),
    Flag(
        "offline",
        kind=BOOL,
        default=False,
        usage="Do not connect to Kubernetes API server for manifest creation and validation",
    ),
    Flag(
        "resource-selector-rules-file",
        default="",
        usage="Path to JSON file of allow/deny rules for image and label rewriting",
    ),
    Flag("output", "o", default="", usage="File to write rendered manifests to"),
    Flag("loud", kind=BOOL, default=False, usage="Show the build logs and output"),
    Flag(
        "set", kind=SLICE, usage="overrides templated manifest fields by provided key-value pairs"
    ),
    Flag(
        "set-value-file",
        default="",
        usage="overrides templated manifest fields by a .env file of key-value pairs",
    ),
    Flag(
        "platform",
        kind=SLICE,
        usage="The platform to target for the build artifacts (checked; render builds nothing)",
    ),
    # skrender's own
    Flag(
        "digest-resolver",
        default="auto",
        usage="skrender: how remote digests are read: auto, docker or registry",
    ),
    Flag("digest-jobs", kind=INT, default=8, usage="skrender: concurrent digest look-ups"),
    Flag(
        "registry-timeout",
        kind=FLOAT,
        default=60.0,
        usage="skrender: seconds allowed for registry calls, retries included",
    ),
    Flag(
        "no-template-commands",
        kind=BOOL,
        default=False,
        usage="skrender: forbid the template function `cmd` (for untrusted configs)",
    ),
    # on a gke* kube-context: GKE's ARM node toleration (renderer/util/util.go BaseTransform)
    Flag("enable-gke-arm-node-toleration", kind=BOOL, default=True, hidden=True),
    Flag(
        "hydration-dir",
        default=".kpt-pipeline",
        usage="The directory to where the (kpt) hydration takes place (created when kpt is used)",
    ),
    Flag(
        "remote-cache-dir",
        default="",
        usage="Where git `requires` are cloned (default $HOME/.skaffold/remote-cache)",
    ),
    Flag(
        "sync-remote-cache",
        default="always",
        convert=_sync_remote_cache,
        usage="How remote config repositories are synced: always, missing or never",
    ),
)

# skaffold render's flags accepted with no effect on what skrender prints (README:
# Compatibility); hidden ones stay hidden, deprecated ones print pflag's notice
IGNORED_FLAGS = (
    Flag("user", "u", default="", hidden=True),
    Flag(
        "cache-artifacts",
        kind=BOOL,
        default=True,
        usage="Set to false to disable caching of artifacts (no effect)",
    ),
    Flag(
        "enable-rpc",
        kind=BOOL,
        default=False,
        deprecated=(
            "flags --rpc-port or --rpc-http-port now imply --enable-rpc=true, "
            "so please use only those instead"
        ),
    ),
    Flag(
        "wait-for-connection",
        kind=BOOL,
        default=False,
        usage="Wait for the /v2/events endpoint to be hit before ending (no effect)",
    ),
    Flag("event-log-file", default="", hidden=True),
    Flag("last-log-file", default="", hidden=True),
    Flag(
        "assume-yes",
        kind=BOOL,
        default=False,
        usage="Skip yes/no confirmation from the user and default to yes (no effect)",
    ),
    Flag(
        "enable-platform-node-affinity",
        kind=BOOL,
        default=False,
        usage="Add platform node affinity to rendered manifests (no effect: needs a cluster)",
    ),
)

ALL_FLAGS = RENDER_FLAGS + IGNORED_FLAGS


def resolve_flags(
    args: SimpleNamespace, env: Mapping[str, str], flags: Sequence[Flag] = ALL_FLAGS
) -> None:
    """Fill the flags not given from SKAFFOLD_<NAME> variables, then from their defaults.

    skaffold sets flags from the environment *before* parsing the command line
    (cmd/skaffold/app/cmd/cmd.go: setFlagsFromEnvVariables) and ignores the errors: a
    command-line value replaces a scalar, but is appended to a slice (pflag's Set appends
    once the flag has been set), and an invalid variable is as good as unset.  Parsed
    namespaces hold None for a flag not given (see :func:`parse_render_args`).
    """
    for flag in flags:
        value = getattr(args, flag.dest, None)
        if value is None or flag.kind in (SLICE, pflag.ARRAY):
            from_env = _env_value(flag, env)
            if from_env is not None and isinstance(from_env, list):
                value = from_env + (value or [])
            elif from_env is not None:
                value = from_env
        if value is None:
            value = list(flag.default) if isinstance(flag.default, list) else flag.default
            if flag.kind in (SLICE, pflag.ARRAY) and value is None:
                value = []
        setattr(args, flag.dest, value)
    if any(f.dest == "images" for f in flags):
        # -i values are comma-split by flags.Images.Set; the joined text names the flag value
        args.images_raw = ",".join(args.images)
        args.images = split_images(args.images)


def split_images(values: Sequence[str]) -> list[str]:
    """flags.Images.Set: every value split at each comma (an empty value is refused later)."""
    return [item for value in values for item in value.split(",")]


def _env_value(flag: Flag, env: Mapping[str, str]) -> Any:
    """The flag's value from SKAFFOLD_<NAME> (SKAFFOLD_DEPLOY_NAMESPACE is an older name
    for SKAFFOLD_NAMESPACE), or None when unset or invalid."""
    names = ["SKAFFOLD_" + flag.name.upper().replace("-", "_")]
    if flag.name == "namespace":
        names.insert(0, "SKAFFOLD_DEPLOY_NAMESPACE")
    value: Any = None
    for variable in names:
        if variable not in env:
            continue
        if flag.dest == "images":
            value = _valid_images_prefix(env[variable])
            continue
        try:
            parsed = flag.parse(env[variable])
        except ValueError:
            continue
        value = [parsed] if flag.kind == pflag.ARRAY else parsed
    if value is not None and flag.dest == "build_artifacts" and value not in ("", "-"):
        value = value if _readable_build_artifacts(value) else None
    return value


def _valid_images_prefix(raw: str) -> list[str] | None:
    # flags.Images.Set appends each comma-separated image until the first invalid one
    from engine.stages import naming

    kept: list[str] = []
    for item in raw.split(","):
        try:
            naming.parse_images_flag(item)
        except UsageError:
            break
        kept.append(item)
    return [",".join(kept)] if kept else None


def _readable_build_artifacts(path: str) -> bool:
    from engine.stages import naming

    try:
        with open(path, encoding="utf-8") as handle:
            naming.parse_build_artifacts(handle.read(), path)
    except (OSError, UsageError, ValueError):
        return False
    return True


def load_env(cwd: str) -> dict[str, str]:
    """The process environment plus ./skaffold.env, which never overrides a set variable."""
    from engine.skaffold import config

    env = dict(os.environ)
    for key, value in config.read_dotenv(os.path.join(cwd, "skaffold.env")).items():
        env.setdefault(key, value)
    return env


def prebuilt_images(args: SimpleNamespace, cwd: str) -> tuple[tuple[str, str], ...] | None:
    """-i and -a merged as skaffold does (cmd/skaffold/app/cmd/util.go); None when neither."""
    if not args.images and not args.build_artifacts:
        return None
    from engine.stages import naming

    builds = [naming.parse_images_flag(value, flag_value=args.images_raw) for value in args.images]
    if args.build_artifacts:
        path = os.path.join(cwd, args.build_artifacts)
        try:
            if args.build_artifacts == "-":  # stdin, as flags/build_output.go reads it
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as exc:
            raise UsageError(
                f'invalid argument "{args.build_artifacts}" for "-a, --build-artifacts" flag: '
                f"stat {args.build_artifacts}: {(exc.strerror or str(exc)).lower()}"
            ) from None
        for name, tag in naming.parse_build_artifacts(text, args.build_artifacts):
            positions = [i for i, (existing, _) in enumerate(builds) if existing == name]
            if positions:
                for i in positions:
                    builds[i] = (name, tag)
            else:
                builds.append((name, tag))
    return tuple(builds)


def _labels(values: Sequence[str]) -> dict[str, str]:
    if not values:
        return {}  # rewrite (and its regexes) loads later, while kustomize runs
    from engine.stages import rewrite

    return rewrite.parse_labels(values)


def _setters(args: SimpleNamespace, cwd: str) -> Mapping[str, str]:
    """--set-value-file then --set (cmd/skaffold/app/cmd/flags.go, runner/renderer.go)."""
    if not args.set and not args.set_value_file:
        return {}  # engine.stages.setters is never imported without setters
    from engine.stages import setters

    return setters.parse_setters(args.set, args.set_value_file, cwd=cwd)


def render_request(args: SimpleNamespace, cwd: str, env: Mapping[str, str]) -> Any:
    """A RenderRequest from parsed, resolved render flags."""
    from engine.pipeline import NO_BUILD_DIGEST_SOURCES, RenderRequest

    request = RenderRequest(
        cwd=cwd,
        filename=args.filename,
        profiles=tuple(args.profile),
        modules=tuple(args.module),
        profile_auto_activation=args.profile_auto_activation,
        propagate_profiles=args.propagate_profiles,
        default_repo=args.default_repo,
        custom_tag=args.tag or None,
        digest_source=args.digest_source or None,
        prebuilt=prebuilt_images(args, cwd),
        labels=_labels(args.label),
        namespace=args.namespace,
        offline=args.offline,
        resource_selector_rules_file=args.resource_selector_rules_file or None,
        env=env,
        digest_resolver=args.digest_resolver,
        digest_jobs=args.digest_jobs,
        registry_timeout=args.registry_timeout,
        allow_template_commands=not args.no_template_commands,
        setters=_setters(args, cwd),
        platforms=tuple(args.platform),
        gke_arm_toleration=args.enable_gke_arm_node_toleration,
        hydration_dir=args.hydration_dir,
        remote_cache_dir=args.remote_cache_dir,
        sync_remote_cache=args.sync_remote_cache,
    )
    if request.digest_source not in (None, *NO_BUILD_DIGEST_SOURCES):
        # --digest-source=local: build and push first, as skaffold does (engine.build)
        request = request._replace(build_images=local_builder(loud=bool(args.loud)))
    return request


def local_builder(*, loud: bool) -> Any:
    """Builds and pushes through the Docker engine; progress on stderr (engine.build)."""
    import sys

    from engine import build

    def report(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    return build.images_builder(build.BuildOptions(mode="render", loud=loud, report=report))


_parsed: dict[tuple[str, ...], SimpleNamespace] = {}
_parsed_lock = threading.Lock()


def parse_render_request(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> Any:
    """The RenderRequest ``skrender render ARGV`` builds in ``cwd`` with ``env`` (for bulk:
    an environment's render flags, parsed once per process and argv)."""
    key = tuple(argv)
    with _parsed_lock:
        parsed = _parsed.get(key)
    if parsed is None:
        parsed = parse_render_args(key)
        with _parsed_lock:
            _parsed[key] = parsed
    # resolve_flags replaces attributes (it never mutates a value in place): a new namespace
    # with copied lists is enough, and far cheaper than a deepcopy.
    args = SimpleNamespace(
        **{k: list(v) if isinstance(v, list) else v for k, v in vars(parsed).items()}
    )
    resolve_flags(args, env)
    if args.output:
        raise UsageError("-o/--output is set by skrender bulk")
    return render_request(args, cwd, env)


def parse_render_args(argv: Sequence[str]) -> SimpleNamespace:
    """``skrender render ARGV``'s flags, unresolved: None for each flag not given."""
    from engine.commands import _parser

    spec = _parser.Command("render", flags=ALL_FLAGS, resolved_later=ALL_FLAGS)
    return _parser.parse(spec, argv)
