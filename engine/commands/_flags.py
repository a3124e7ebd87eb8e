"""skaffold render's flags, shared by every command that renders (render, tags, gitops, bulk).

skaffold's flags are Go pflag flags: booleans take ``--flag`` or ``--flag=false`` (never a
separate value), string slices are comma-split and repeatable, and every flag can also come
from a ``SKAFFOLD_<FLAG_NAME>`` environment variable (``cmd/skaffold/app/cmd/cmd.go``);
command-line values win.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import UsageError


class Flag(NamedTuple):
    names: tuple[str, ...]
    dest: str
    kind: str  # str | slice | bool | int | float
    default: Any
    help: str
    env: bool = True  # may come from SKAFFOLD_<NAME>


RENDER_FLAGS = (
    Flag(("-f", "--filename"), "filename", "str", "skaffold.yaml", "path to the skaffold config"),
    Flag(
        ("-p", "--profile"), "profile", "slice", [], "activate profiles by name (-name deactivates)"
    ),
    Flag(("-m", "--module"), "module", "slice", [], "filter configs by name"),
    Flag(
        ("--profile-auto-activation",),
        "profile_auto_activation",
        "bool",
        True,
        "auto-activate profiles by their activation rules",
    ),
    Flag(
        ("--propagate-profiles",),
        "propagate_profiles",
        "bool",
        True,
        "activate -p profiles in required configs too",
    ),
    Flag(("-d", "--default-repo"), "default_repo", "str", None, "default repository for images"),
    Flag(("-t", "--tag"), "tag", "str", "", "use this tag for every artifact"),
    Flag(
        ("--digest-source",),
        "digest_source",
        "str",
        "",
        "where digests come from: remote, tag, none or local (default: tag on a local "
        "cluster, remote otherwise)",
    ),
    Flag(
        ("-a", "--build-artifacts"),
        "build_artifacts",
        "str",
        "",
        "file of pre-built images (skaffold build --file-output format)",
    ),
    Flag(("-i", "--images"), "images", "slice", [], "pre-built images: NAME=TAG or TAG"),
    Flag(("-l", "--label"), "label", "slice", [], "labels to add to rendered resources"),
    Flag(("-n", "--namespace"), "namespace", "str", "", "namespace (ignored with --offline)"),
    Flag(("--offline",), "offline", "bool", False, "do not contact a cluster"),
    Flag(
        ("--resource-selector-rules-file",),
        "resource_selector_rules_file",
        "str",
        "",
        "allow/deny rules for image and label rewriting",
    ),
    Flag(("-o", "--output"), "output", "str", "", "write manifests to this file (atomically)"),
    Flag(("--loud",), "loud", "bool", False, "show the build log on stdout"),
    Flag(
        ("--digest-resolver",),
        "digest_resolver",
        "str",
        "auto",
        "skrender: how remote digests are read: auto, docker or registry",
    ),
    Flag(("--digest-jobs",), "digest_jobs", "int", 8, "skrender: concurrent digest look-ups"),
    Flag(
        ("--registry-timeout",),
        "registry_timeout",
        "float",
        60.0,
        "skrender: seconds allowed for registry calls, retries included",
    ),
    Flag(
        ("--no-template-commands",),
        "no_template_commands",
        "bool",
        False,
        "skrender: forbid the template function `cmd` (for untrusted configs)",
    ),
    Flag(
        ("--set",),
        "set",
        "slice",
        [],
        "kpt setters: NAME=VALUE for fields tagged `# from-param: ${NAME}` (rawYaml, kustomize)",
    ),
    Flag(
        ("--set-value-file",),
        "set_value_file",
        "str",
        "",
        "kpt setters from a .env file (--set wins)",
    ),
)

# Accepted for compatibility; they do not change what render prints.
IGNORED_FLAGS = (
    Flag(("--hydration-dir",), "hydration_dir", "str", "", "ignored (kpt only)"),
    Flag(("--remote-cache-dir",), "remote_cache_dir", "str", "", "ignored (git requires)"),
    Flag(("--sync-remote-cache",), "sync_remote_cache", "str", "", "ignored (git requires)"),
    Flag(
        ("--enable-platform-node-affinity",),
        "enable_platform_node_affinity",
        "bool",
        False,
        "ignored (needs a cluster)",
    ),
    Flag(("-v", "--verbosity"), "verbosity", "str", "warning", "log level (ignored)"),
    Flag(("--color",), "color", "int", 34, "ignored"),
    Flag(("--interactive",), "interactive", "bool", True, "ignored"),
    Flag(("--update-check",), "update_check", "bool", True, "ignored"),
    Flag(("--timestamps",), "timestamps", "bool", False, "ignored"),
)

ALL_FLAGS = RENDER_FLAGS + IGNORED_FLAGS
_BOOL_OPTIONS = {name for flag in ALL_FLAGS if flag.kind == "bool" for name in flag.names}
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_go_bool(value: str, flag: str) -> bool:
    """Go's strconv.ParseBool, with pflag's error message."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise UsageError(
        f'invalid argument "{value}" for "{flag}" flag: strconv.ParseBool: '
        f'parsing "{value}": invalid syntax'
    )


_VALUE_OPTIONS = {
    name: next(n for n in flag.names if n.startswith("--"))
    for flag in ALL_FLAGS
    if flag.kind != "bool"
    for name in flag.names
}


def normalize_argv(argv: Sequence[str]) -> list[str]:
    """Rewrite pflag spellings argparse does not know: ``--bool=false``, ``-x=value``, and a
    flag value that starts with ``-`` (pflag always takes the next argument: ``-p -name``)."""
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            out.extend(args[i - 1 :])
            break
        name, eq, value = arg.partition("=")
        if eq and name in _BOOL_OPTIONS:
            out.append(name if parse_go_bool(value, name) else "--no-" + name.lstrip("-"))
        elif eq and len(name) == 2 and name.startswith("-") and name != "--":
            out.extend(
                [f"{_VALUE_OPTIONS[name]}={value}"] if name in _VALUE_OPTIONS else [name, value]
            )
        elif arg in _VALUE_OPTIONS and i < len(args) and args[i].startswith("-"):
            out.append(f"{_VALUE_OPTIONS[arg]}={args[i]}")
            i += 1
        else:
            out.append(arg)
    return out


def add_flags(parser: argparse.ArgumentParser, flags: Sequence[Flag] = ALL_FLAGS) -> None:
    """Declare ``flags`` on ``parser``; every default is None so env/CLI precedence is clear."""
    for flag in flags:
        if flag.kind == "bool":
            parser.add_argument(
                *flag.names, dest=flag.dest, action="store_true", default=None, help=flag.help
            )
            long = next(n for n in flag.names if n.startswith("--"))
            parser.add_argument(
                "--no-" + long[2:], dest=flag.dest, action="store_false", help=argparse.SUPPRESS
            )
        elif flag.kind == "slice":
            parser.add_argument(
                *flag.names, dest=flag.dest, action="append", default=None, help=flag.help
            )
        else:
            parser.add_argument(
                *flag.names, dest=flag.dest, default=None, help=flag.help, type=_converter(flag)
            )


def resolve_flags(
    args: argparse.Namespace, env: Mapping[str, str], flags: Sequence[Flag] = ALL_FLAGS
) -> None:
    """Fill flags from SKAFFOLD_<NAME> variables, then from defaults; split slices.

    skaffold sets flags from the environment *before* parsing the command line
    (cmd/skaffold/app/cmd/cmd.go: setFlagsFromEnvVariables) and ignores the errors: a
    command-line value replaces a scalar, but is appended to a slice (pflag's Set appends
    once the flag has been set), and an invalid variable is as good as unset.
    """
    for flag in flags:
        value = getattr(args, flag.dest, None)
        long = next(n for n in flag.names if n.startswith("--"))
        if flag.env and (value is None or flag.kind == "slice"):
            from_env = _env_value(flag, long, env)
            if from_env is not None and flag.kind == "slice":
                value = from_env + (value or [])
            elif from_env is not None:
                value = from_env
        if value is None:
            value = list(flag.default) if isinstance(flag.default, list) else flag.default
        if flag.dest == "images" and "" in (getattr(args, flag.dest, None) or []):
            # flags.Images.Set("") fails where pflag string slices would ignore it
            raise UsageError(
                'invalid argument "" for "-i, --images" flag: : cannot add an empty image value'
            )
        if flag.kind == "slice":
            setattr(args, flag.dest + "_raw", ",".join(value))
            value = split_slice(value)
        setattr(args, flag.dest, value)


def split_slice(values: Sequence[str]) -> list[str]:
    """pflag string slices: each occurrence is comma-separated."""
    return [item for value in values for item in value.split(",") if value != ""]


def _env_value(flag: Flag, long: str, env: Mapping[str, str]) -> Any:
    """The flag's value from SKAFFOLD_<NAME> (SKAFFOLD_DEPLOY_NAMESPACE is an older name
    for SKAFFOLD_NAMESPACE), or None when unset or invalid."""
    names = ["SKAFFOLD_" + long[2:].upper().replace("-", "_")]
    if long == "--namespace":
        names.insert(0, "SKAFFOLD_DEPLOY_NAMESPACE")
    value: Any = None
    for variable in names:
        if variable in env:
            try:
                value = _from_env(flag, long, env[variable])
            except UsageError:
                continue
    if value is not None and flag.dest == "images":
        value = _valid_images_prefix(env[names[-1]])
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


def _from_env(flag: Flag, long: str, raw: str) -> Any:
    if flag.kind == "bool":
        return parse_go_bool(raw, long)
    if flag.kind == "slice":
        return [raw]
    return _converter(flag)(raw)


def _converter(flag: Flag) -> Any:
    long = next(n for n in flag.names if n.startswith("--"))

    def convert(raw: str) -> Any:
        try:
            if flag.kind == "int":
                return int(raw)
            if flag.kind == "float":
                return float(raw)
        except ValueError:
            raise UsageError(f'invalid argument "{raw}" for "{long}" flag') from None
        return raw

    return convert


def load_env(cwd: str) -> dict[str, str]:
    """The process environment plus ./skaffold.env, which never overrides a set variable."""
    from engine.skaffold import config

    env = dict(os.environ)
    for key, value in config.read_dotenv(os.path.join(cwd, "skaffold.env")).items():
        env.setdefault(key, value)
    return env


def prebuilt_images(args: argparse.Namespace, cwd: str) -> tuple[tuple[str, str], ...] | None:
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


def _setters(args: argparse.Namespace, cwd: str) -> Mapping[str, str]:
    """--set-value-file then --set (cmd/skaffold/app/cmd/flags.go, runner/renderer.go)."""
    if not args.set and not args.set_value_file:
        return {}  # engine.stages.setters is never imported without setters
    from engine.stages import setters

    return setters.parse_setters(args.set, args.set_value_file, cwd=cwd)


def render_request(args: argparse.Namespace, cwd: str, env: Mapping[str, str]) -> Any:
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


_parsed: dict[tuple[str, ...], argparse.Namespace] = {}
_parsed_lock = threading.Lock()


def parse_render_request(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> Any:
    """The RenderRequest ``skrender render ARGV`` builds in ``cwd`` with ``env`` (for bulk:
    an environment's render flags, parsed once per process and argv)."""
    key = tuple(argv)
    with _parsed_lock:
        parsed = _parsed.get(key)
    if parsed is None:
        parsed = _parse_render_argv(key)
        with _parsed_lock:
            _parsed[key] = parsed
    # resolve_flags replaces attributes (it never mutates a value in place): a new namespace
    # with copied lists is enough, and far cheaper than a deepcopy.
    args = argparse.Namespace(
        **{k: list(v) if isinstance(v, list) else v for k, v in vars(parsed).items()}
    )
    resolve_flags(args, env)
    if args.output:
        raise UsageError("-o/--output is set by skrender bulk")
    return render_request(args, cwd, env)


def _parse_render_argv(argv: tuple[str, ...]) -> argparse.Namespace:
    from engine.commands._parser import ArgumentParser

    parser = ArgumentParser(prog="skrender render")
    add_flags(parser)
    parsed: argparse.Namespace = parser.parse_args(normalize_argv(argv))
    return parsed

