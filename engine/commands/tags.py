"""`skrender tags`: the image references render will use, for `docker build -t` in CI.

Formats: ``plain`` (``image -> reference`` per line), ``json`` (``{image: reference}``),
``env`` (``IMAGE_<NAME>=reference``) and ``build-artifacts``: byte for byte what
``skaffold build --file-output`` (or ``build -q``) writes, readable by ``render -a``.  With
``--digests`` that file is a lock file: ``skrender render -a images.json --digest-source=tag``
then re-renders from it without any network access.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

FORMATS = ("plain", "json", "env", "build-artifacts")


def command() -> Any:
    """`skrender tags`: render's flags plus --format and --digests."""
    from engine.commands import _flags
    from engine.commands._parser import Command, choice
    from engine.golang.pflag import BOOL, Flag

    return Command(
        "tags",
        summary="print the image references render would use",
        description="Print each artifact's final image reference (tag, default repo, digest).",
        flags=(
            *_flags.ALL_FLAGS,
            Flag(
                "format",
                default="plain",
                convert=choice(FORMATS),
                usage="plain, json, env or build-artifacts",
            ),
            Flag(
                "digests",
                kind=BOOL,
                default=False,
                usage="resolve registry digests (same as --digest-source=remote)",
            ),
        ),
        resolved_later=_flags.ALL_FLAGS,
    )


def run(args: Any) -> int:
    from engine.commands import _flags
    from engine.core.output import write_output
    from engine.pipeline import plan_builds

    cwd = os.getcwd()
    env = _flags.load_env(cwd)
    _flags.resolve_flags(args, env)
    if args.digests:
        args.digest_source = "remote"
    elif not args.digest_source:
        args.digest_source = "tag"
    request = _flags.render_request(args, cwd, env)
    builds, configs = plan_builds(request)
    text = format_builds(builds, args.format, configs)
    if args.output:
        write_output(os.path.join(cwd, args.output), text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def format_builds(builds: Any, fmt: str, configs: Sequence[Any] = ()) -> str:
    """Serialise (imageName, reference) pairs in one of :data:`FORMATS`.

    ``configs`` (the selected configs) give ``build-artifacts`` its ``runtimeType`` entries.
    """
    if fmt == "json":
        return json.dumps(dict(builds), indent=2) + "\n"
    if fmt == "build-artifacts":
        from engine.build import build_output_json

        return build_output_json(builds, configs)
    if fmt == "env":
        return "".join(f"IMAGE_{_env_name(name)}={tag}\n" for name, tag in builds)
    return "".join(f"{name} -> {tag}\n" for name, tag in builds)


def _env_name(image: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", image).upper()
