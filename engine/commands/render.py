"""`skrender render`: print what `skaffold render` prints, byte for byte."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    from engine.commands import _flags

    parser = subparsers.add_parser(
        "render",
        help="render hydrated manifests exactly like `skaffold render`",
        description="Render Kubernetes manifests exactly like `skaffold render`.",
    )
    _flags.add_flags(parser)


def run(args: argparse.Namespace) -> int:
    from engine.commands import _flags
    from engine.render import render

    cwd = os.getcwd()
    env = _flags.load_env(cwd)
    _flags.resolve_flags(args, env)
    request = _flags.render_request(args, cwd, env)
    result = render(request)
    for warning in result.warnings:
        sys.stderr.write(f"WARN {warning}\n")
    out = sys.stdout
    if args.loud:
        for line in result.build_log:
            out.write(line + "\n")
    for line in result.notices:
        out.write(line + "\n")
    if args.output:
        from engine.atomic import write_atomic  # tempfile, shutil: only when writing a file

        out.flush()
        # relative to the working directory, named as given (skaffold: "open nodir/x.yaml: ...")
        write_atomic(args.output, result.text.encode("utf-8"))
    else:
        out.write(result.text)
    out.flush()
    return 0
