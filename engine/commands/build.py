"""`skrender build`: build, tag and push Docker artifacts like `skaffold build`.

Tags come from the same pipeline as `skrender render` (tag policies, default repo); the
images are built through the Docker engine and pushed.  ``--file-output FILE`` writes
skaffold's build output JSON for `skrender render -a FILE`.  stdout stays clean: progress
(and, with --loud, the engine's output) goes to stderr; only -q prints the JSON on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# skaffold render flags that `skaffold build` shares (cmd/skaffold/app/cmd/flags.go)
_SHARED = (
    "filename",
    "profile",
    "module",
    "profile_auto_activation",
    "propagate_profiles",
    "default_repo",
    "tag",
    "loud",
    "digest_resolver",
    "digest_jobs",
    "registry_timeout",
    "no_template_commands",
    "remote_cache_dir",
    "sync_remote_cache",
    "verbosity",
    "color",
    "interactive",
    "update_check",
    "timestamps",
)


def _flags() -> Any:
    from engine.commands import _flags

    shared = [f for f in _flags.ALL_FLAGS if f.dest in _SHARED]
    unused = [f for f in _flags.ALL_FLAGS if f.dest not in _SHARED]
    return _flags, shared, unused


def add_parser(subparsers: Any) -> None:
    """Declare `skrender build` and its flags."""
    flags_mod, shared, _ = _flags()
    parser = subparsers.add_parser(
        "build",
        help="build and push Docker artifacts like `skaffold build`",
        description="Build, tag and push the Docker artifacts of the skaffold config.",
    )
    flags_mod.add_flags(parser, shared)
    parser.add_argument(
        "--file-output",
        dest="file_output",
        default=None,
        help="write the built images as skaffold build output JSON to this file",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        dest="quiet",
        action="store_true",
        default=None,
        help="print the build output JSON on stdout",
    )
    parser.add_argument(
        "-b",
        "--build-image",
        dest="build_image",
        action="append",
        default=None,
        help="only build artifacts whose image name contains this",
    )
    parser.add_argument(
        "--insecure-registry",
        dest="insecure_registry",
        action="append",
        default=None,
        help="registries reached over plain HTTP",
    )
    _tristate(
        parser, "--push", "push", "push the built images (default: unless the cluster is local)"
    )
    _tristate(
        parser,
        "--cache-artifacts",
        "cache_artifacts",
        "reuse images whose content-derived tag is already pushed (default true)",
    )


def _tristate(parser: argparse.ArgumentParser, name: str, dest: str, text: str) -> None:
    """A pflag boolean: ``--flag``, ``--flag=false``; ``--no-flag`` too."""
    parser.add_argument(name, dest=dest, nargs="?", const="true", default=None, help=text)
    parser.add_argument("--no-" + name[2:], dest=dest, action="store_const", const="false",
                        help=argparse.SUPPRESS)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Build, push, write --file-output; 0 on success."""
    from engine import build as build_mod
    from engine.core.output import write_output
    from engine.pipeline import plan_builds

    flags_mod, shared, unused = _flags()
    cwd = os.getcwd()
    env = flags_mod.load_env(cwd)
    for flag in unused:  # flags `skaffold build` lacks: their defaults, never the environment
        default = list(flag.default) if isinstance(flag.default, list) else flag.default
        setattr(args, flag.dest, default)
        if flag.kind == "slice":
            setattr(args, flag.dest + "_raw", "")
    flags_mod.resolve_flags(args, env, shared)
    options = build_mod.BuildOptions(
        mode="build",
        push=_bool_option(args.push, "--push", env.get("SKAFFOLD_PUSH"), flags_mod),
        cache_artifacts=_bool_option(
            args.cache_artifacts,
            "--cache-artifacts",
            env.get("SKAFFOLD_CACHE_ARTIFACTS"),
            flags_mod,
        )
        is not False,
        loud=bool(args.loud),
        report=_stderr,
        insecure_registries=tuple(flags_mod.split_slice(args.insecure_registry or [])),
    )
    request = flags_mod.render_request(args, cwd, env)
    targets = flags_mod.split_slice(args.build_image or [])

    def builder(configs: Any, builds: Any, req: Any) -> list[tuple[str, str]]:
        wanted = [b for b in builds if not targets or any(t in b[0] for t in targets)]
        return build_mod.images_builder(options)(configs, wanted, req)

    # digest_source "local" routes the tagged builds through `builder` (render._builds)
    request = request._replace(digest_source="local", prebuilt=None, build_images=builder)
    builds, configs = plan_builds(request)
    text = build_mod.build_output_json(builds, configs)
    if args.file_output:
        write_output(os.path.join(cwd, args.file_output), text.encode("utf-8"))
    if args.quiet:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def _bool_option(value: str | None, flag: str, from_env: str | None, flags_mod: Any) -> bool | None:
    if value is None:
        value = from_env
    if value is None:
        return None
    return bool(flags_mod.parse_go_bool(value, flag))


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()
