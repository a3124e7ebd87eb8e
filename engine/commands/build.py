"""`skrender build`: build, tag and push Docker artifacts like `skaffold build`.

Tags come from the same pipeline as `skrender render` (tag policies, default repo); the
images are built through the Docker engine and pushed.  ``--file-output FILE`` writes
skaffold's build output JSON for `skrender render -a FILE`.  stdout stays clean: progress
(and, with --loud, the engine's output) goes to stderr; only -q prints the JSON on stdout.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# skaffold render's flags that `skaffold build` shares (cmd/skaffold/app/cmd/flags.go)
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
    "user",
    "remote_cache_dir",
    "sync_remote_cache",
    "enable_rpc",
    "wait_for_connection",
    "event_log_file",
    "last_log_file",
    "assume_yes",
)


def _push(value: str) -> bool | None:
    # config.BoolOrUndefined.Set (pkg/skaffold/config/types.go): "true", "false", else unset
    return {"true": True, "false": False}.get(value)


def _atoi(value: str) -> int:
    # config.IntOrUndefined.Set: strconv.Atoi
    if not value.lstrip("+-").isdigit() or not value.isascii():
        raise ValueError(f'strconv.Atoi: parsing "{value}": invalid syntax')
    return int(value)


def _own_flags() -> tuple[Any, ...]:
    from engine.golang.pflag import BOOL, INT, SLICE, Flag

    return (
        Flag(
            "file-output",
            default="",
            usage="Filename to write build images to (the JSON `skrender render -a` reads)",
        ),
        Flag("quiet", "q", BOOL, default=False, usage="Print the build output JSON on stdout"),
        Flag(
            "build-image",
            "b",
            SLICE,
            usage="Only build artifacts with image names that contain the given substring",
        ),
        Flag(
            "insecure-registry",
            kind=SLICE,
            usage="Target registries for built images which are not secure (plain HTTP)",
        ),
        Flag(
            "push",
            convert=_push,
            no_opt="true",
            metavar="",
            usage="Push the built images (default: unless the kube-context is a local cluster)",
        ),
        Flag(
            "cache-artifacts",
            kind=BOOL,
            default=True,
            usage="Set to false to disable default caching of artifacts",
        ),
        # `skaffold build` flags with no effect here (README: Compatibility)
        Flag("namespace", "n", default="", usage="(no effect)"),
        Flag("cache-file", default="", usage="(no effect: skrender's cache is the registry)"),
        Flag("rpc-port", convert=_atoi, usage="(no effect)"),
        Flag("rpc-http-port", convert=_atoi, usage="(no effect)"),
        Flag("toot", kind=BOOL, default=False, usage="(no effect)"),
        Flag("skip-tests", kind=BOOL, default=False, usage="(no effect: skrender runs no tests)"),
        Flag("minikube-profile", default="", hidden=True),
        Flag("mute-logs", kind=SLICE, usage="(no effect)"),
        Flag("detect-minikube", kind=BOOL, default=True, usage="(no effect)"),
        Flag("build-concurrency", kind=INT, default=-1, usage="(no effect)"),
        Flag("disable-multi-platform-build", kind=BOOL, default=False, usage="(no effect)"),
        Flag("check-cluster-node-platforms", kind=BOOL, default=False, usage="(no effect)"),
    )


def _flag_tables() -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
    """(engine.commands._flags, the skaffold flags build takes, render's flags it lacks)."""
    from engine.commands import _flags

    shared = tuple(f for f in _flags.ALL_FLAGS if f.dest in _SHARED)
    own = _own_flags()
    taken = {f.dest for f in (*shared, *own)}
    unused = tuple(f for f in _flags.ALL_FLAGS if f.dest not in taken)
    return _flags, shared + own, unused


def command() -> Any:
    """`skrender build`: `skaffold build`'s flags."""
    from engine.commands._parser import Command

    _, flags, _ = _flag_tables()
    return Command(
        "build",
        summary="build and push Docker artifacts with the tags render uses",
        description="Build, tag and push the Docker artifacts of the skaffold config.",
        flags=flags,
        resolved_later=flags,
    )


def run(args: Any) -> int:
    """Build, push, write --file-output; 0 on success."""
    from engine import build as build_mod
    from engine.core.output import write_output
    from engine.pipeline import plan_builds

    flags_mod, flags, unused = _flag_tables()
    cwd = os.getcwd()
    env = flags_mod.load_env(cwd)
    for flag in unused:  # flags `skaffold build` lacks: their defaults, never the environment
        default = list(flag.default) if isinstance(flag.default, list) else flag.default
        setattr(args, flag.dest, [] if default is None and flag.kind != "string" else default)
    flags_mod.resolve_flags(args, env, flags)
    options = build_mod.BuildOptions(
        mode="build",
        push=args.push,
        cache_artifacts=bool(args.cache_artifacts),
        loud=bool(args.loud),
        report=_stderr,
        insecure_registries=tuple(args.insecure_registry),
    )
    request = flags_mod.render_request(args, cwd, env)
    targets = list(args.build_image)

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


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()
