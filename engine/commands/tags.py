"""`skrender tags`: the image references render will use, for `docker build -t` in CI.

Formats: ``plain`` (``image -> reference`` per line), ``json`` (``{image: reference}``),
``env`` (``IMAGE_<NAME>=reference``) and ``build-artifacts``: byte for byte what
``skaffold build --file-output`` (or ``build -q``) writes, readable by ``render -a``.  With
``--digests`` that file is a lock file: ``skrender render -a images.json --digest-source=tag``
then re-renders from it without any network access.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("plain", "json", "env", "build-artifacts")


def add_parser(subparsers: Any) -> None:
    from engine.commands import _flags

    parser = subparsers.add_parser(
        "tags",
        help="print the image references render would use",
        description="Print each artifact's final image reference (tag, default repo, digest).",
    )
    _flags.add_flags(parser)
    parser.add_argument("--format", choices=FORMATS, default="plain")
    parser.add_argument(
        "--digests",
        action="store_true",
        help="resolve registry digests (same as --digest-source=remote)",
    )


def run(args: argparse.Namespace) -> int:
    from engine.atomic import write_atomic
    from engine.commands import _flags
    from engine.render import compute_builds

    cwd = os.getcwd()
    env = _flags.load_env(cwd)
    _flags.resolve_flags(args, env)
    if args.digests:
        args.digest_source = "remote"
    elif not args.digest_source:
        args.digest_source = "tag"
    request = _flags.render_request(args, cwd, env)
    builds = compute_builds(request)
    if args.format == "build-artifacts":
        text = build_output_json(builds, _runtime_types(request) if builds else {})
    else:
        text = format_builds(builds, args.format)
    if args.output:
        write_atomic(os.path.join(cwd, args.output), text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def format_builds(builds: Any, fmt: str) -> str:
    """Serialise (imageName, reference) pairs in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(dict(builds), indent=2) + "\n"
    if fmt == "build-artifacts":
        return build_output_json(builds)
    if fmt == "env":
        return "".join(f"IMAGE_{_env_name(name)}={tag}\n" for name, tag in builds)
    return "".join(f"{name} -> {tag}\n" for name, tag in builds)


def build_output_json(
    builds: Sequence[tuple[str, str]], runtime_types: Mapping[str, str] | None = None
) -> str:
    """skaffold's ``BuildOutput`` through its ``{{json .}}`` template: compact, no newline.

    cmd/skaffold/app/cmd/build.go writes ``--file-output`` (and ``-q``) with the template
    function ``json`` of cmd/skaffold/app/flags/template.go: a json.Encoder with HTML escaping
    off, its trailing newline trimmed.  No builds is a nil slice there: ``{"builds":null}``.
    ``runtimeType`` (graph.Artifact, omitempty) comes from the artifact's config.
    """
    runtime = runtime_types or {}
    entries: list[dict[str, str]] | None = None
    if builds:
        entries = []
        for name, tag in builds:
            entry = {"imageName": name, "tag": tag}
            if runtime.get(name):
                entry["runtimeType"] = runtime[name]
            entries.append(entry)
    text = json.dumps({"builds": entries}, ensure_ascii=False, separators=(",", ":"))
    # encoding/json escapes these two even with SetEscapeHTML(false); Python does not.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _runtime_types(request: Any) -> dict[str, str]:
    """``runtimeType`` of each configured artifact (a second, cheap, offline config load)."""
    from engine import config

    if request.prebuilt is not None:
        return {}  # -a/-i entries carry no runtime type here
    env = dict(os.environ if request.env is None else request.env)
    configs = config.load(
        config.LoadRequest(
            cwd=os.path.abspath(request.cwd),
            filename=request.filename,
            profiles=request.profiles,
            modules=request.modules,
            profile_auto_activation=request.profile_auto_activation,
            propagate_profiles=request.propagate_profiles,
            env=env,
            kube_context=config.current_kube_context(env),
        )
    )
    return {
        art.image: str(art.raw["runtimeType"])
        for cfg in configs
        for art in cfg.artifacts
        if art.raw.get("runtimeType")
    }


def _env_name(image: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", image).upper()
