"""Command line: parses arguments, dispatches to a subcommand, maps errors to exit codes.

This is the only module (with the subcommand modules) that prints.  Exit codes follow
skaffold: 0 success, 1 errors, 127 usage errors, an external tool's own status when it fails;
130 on Ctrl-C and 3 on an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from engine.commands import COMMANDS
from engine.errors import SkrenderError, UsageError

INTERNAL_ERROR_EXIT = 3


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (exit 127, as skaffold) instead of exiting 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}\nSee '{self.prog} --help' for usage.")


def build_parser(selected: str | None = None) -> ArgumentParser:
    """The argument parser; only ``selected``'s module is imported (the others get a stub)."""
    parser = ArgumentParser(
        prog="skrender",
        description="A pure-Python, byte-identical drop-in for `skaffold render`, for GitOps.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="print the version")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    for name, (_module, summary) in COMMANDS.items():
        if name == selected:
            _command_module(name).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `skrender` command; returns the process exit status."""
    from engine.commands import _flags

    # A short-lived command allocates a lot while importing and parsing and frees it by
    # reference counting; the cycle collector only costs time here (~10% of a render).
    # Long-running commands (bulk) turn it back on.
    gc.disable()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        selected = next((arg for arg in args_list if not arg.startswith("-")), None)
        parser = build_parser(selected if selected in COMMANDS else None)
        args = parser.parse_args(_flags.normalize_argv(args_list))
        if not args.command:
            parser.print_help(sys.stderr)
            return UsageError.exit_code
        code: int = _command_module(args.command).run(args)
        return code
    except SkrenderError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except RecursionError:
        _print_error("input nested too deeply to process (recursion limit reached)")
        return 1
    except Exception as exc:  # a bug: say so in one line, never a traceback wall in CI logs
        _print_error(f"internal error: {type(exc).__name__}: {exc} (please report this as a bug)")
        return INTERNAL_ERROR_EXIT


def _print_error(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def _command_module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"engine.commands.{COMMANDS[name][0]}")


class _VersionAction(argparse.Action):
    """--version, reading package metadata only when asked (importlib.metadata is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        sys.stdout.write(f"skrender {_version()}\n")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skrender")
    except PackageNotFoundError:
        return "0+unknown"
