"""`skrender render`: print what `skaffold render` prints, byte for byte."""

from __future__ import annotations

import os
import sys
from typing import Any


def command() -> Any:
    """`skrender render`: every flag `skaffold render` takes."""
    from engine.commands import _flags
    from engine.commands._parser import Command

    return Command(
        "render",
        summary="render hydrated manifests exactly like `skaffold render`",
        description="Render Kubernetes manifests exactly like `skaffold render`.",
        flags=_flags.ALL_FLAGS,
        resolved_later=_flags.ALL_FLAGS,
    )


def run(args: Any) -> int:
    from engine.commands import _flags
    from engine.core.errors import SkrenderError
    from engine.pipeline import render

    cwd = os.getcwd()
    env = _flags.load_env(cwd)
    _flags.resolve_flags(args, env)
    request = _flags.render_request(args, cwd, env)
    try:
        result = render(request)
    except SkrenderError as exc:
        # what skaffold had written before a render hook (or a step after one) failed
        partial = getattr(exc, "partial", None)
        if partial is not None:
            _write_before_manifests(partial, args)
        raise
    _write_before_manifests(result, args)
    out = sys.stdout
    if args.output:
        from engine.core.output import write_output  # tempfile, shutil: only when writing a file

        # relative to the working directory, named as given (skaffold: "open nodir/x.yaml: ...")
        write_output(args.output, result.text.encode("utf-8", "surrogateescape"))
    else:
        write_text(out, result.text)
    out.flush()
    return 0


def _write_before_manifests(result: Any, args: Any) -> None:
    """stderr logs; on stdout the build log (--loud), notices and pre-render hook output."""
    err = sys.stderr
    write_text(err, result.pre_hook_log)
    for warning in result.warnings:
        err.write(f"WARN {warning}\n")
    write_text(err, result.post_hook_log)
    out = sys.stdout
    if args.loud:
        for line in result.build_log:
            out.write(line + "\n")
    for line in result.notices:
        out.write(line + "\n")
    write_text(out, result.hook_output)
    out.flush()


def write_text(stream: Any, text: str) -> None:
    """Write ``text``; bytes a hook printed that are not UTF-8 go out unchanged."""
    if not text:
        return
    try:
        stream.write(text)
    except UnicodeEncodeError:  # surrogate-escaped bytes (nothing was written)
        stream.flush()
        stream.buffer.write(text.encode("utf-8", "surrogateescape"))
