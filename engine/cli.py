"""Command line: parses arguments, dispatches to a subcommand, maps errors to exit codes.

This is the only module (with the subcommand modules) that prints.  Exit codes follow
skaffold: 0 success, 1 errors, 127 usage errors, an external tool's own status when it fails;
130 on Ctrl-C (SIGINT), 143 on SIGTERM, and 3 on an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
from collections.abc import Sequence

from engine.commands import COMMANDS
from engine.commands._parser import ArgumentParser
from engine.core.errors import SkrenderError, UsageError

INTERNAL_ERROR_EXIT = 3


def build_parser(selected: str | None = None, *, siblings: bool = True) -> ArgumentParser:
    """The argument parser; only ``selected``'s module is imported (the others get a stub).

    ``siblings=False`` leaves the stubs out too: fine when ``selected`` is the first
    argument, since the top-level parser then never prints help or rejects a command.
    """
    parser = ArgumentParser(
        prog="skrender",
        description="A pure-Python, byte-identical drop-in for `skaffold render`, for GitOps.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="print the version")
    parser._declaring = True  # add_subparsers formats the usage "skrender": no width involved
    try:
        subparsers = parser.add_subparsers(
            dest="command", metavar="COMMAND", parser_class=ArgumentParser
        )
    finally:
        parser._declaring = False
    for name, (_module, summary) in COMMANDS.items():
        if name == selected:
            _command_module(name).add_parser(subparsers)
        elif siblings:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


# Commands that end the process themselves once done (see main)
QUICK_EXIT_COMMANDS = ("render", "tags")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `skrender` command; returns the process exit status.

    Run as the program (``argv`` None, called from ``__main__``: the console script or
    ``python -m engine``), a quick command (:data:`QUICK_EXIT_COMMANDS`) ends the process
    right away once its output is flushed: tearing down the interpreter (modules, a final
    cycle collection) would add a tenth to a render.  Called from other code, main returns.
    """
    from engine.core import proc

    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = next((arg for arg in args_list if not arg.startswith("-")), None)
    # SIGINT/SIGTERM stop every external tool (their own process groups) and reap them
    # before skrender exits, whichever command runs them
    with proc.handling_stop_signals():
        try:
            code = _main(args_list, selected)
        except KeyboardInterrupt as exc:  # a stop signal just after _main returned
            code = _interrupted(exc)
    if (
        argv is None
        and selected in QUICK_EXIT_COMMANDS
        and sys._getframe(1).f_globals.get("__name__") == "__main__"
    ):
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process like the interpreter's exit, minus its teardown; or return.

    The exit's observable steps are kept: non-daemon threads (there must be none left, else
    this returns and the usual exit joins them), atexit callbacks (multiprocessing, weakref
    finalizers such as temporary directories' clean-up) and flushing stdout and stderr.
    """
    import atexit
    import os
    import threading

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)  # CPython; elsewhere the usual exit
    if run_exitfuncs is None or getattr(threading, "_threading_atexits", None):
        return
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return
    if not _flushed():
        return  # the usual exit reports it
    run_exitfuncs()
    if _flushed():
        os._exit(code)


def _flushed() -> bool:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def _main(args_list: list[str], selected: str | None) -> int:
    from engine.commands import _flags

    # A short-lived command allocates a lot while importing and parsing and frees it by
    # reference counting; the cycle collector only costs time here (~10% of a render).
    # Long-running commands (bulk) turn it back on.
    gc.disable()
    try:
        known = selected if selected in COMMANDS else None
        # the usual `skrender COMMAND ...`: the other commands' stubs are never used
        parser = build_parser(known, siblings=known is None or args_list[0] != known)
        args = parser.parse_args(_flags.normalize_argv(args_list))
        if not args.command:
            parser.print_help(sys.stderr)
            return UsageError.exit_code
        code: int = _command_module(args.command).run(args)
        return code
    except SkrenderError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except BrokenPipeError:
        return 1
    except RecursionError:
        _print_error("input nested too deeply to process (recursion limit reached)")
        return 1
    except Exception as exc:  # a bug: say so in one line, never a traceback wall in CI logs
        _print_error(f"internal error: {type(exc).__name__}: {exc} (please report this as a bug)")
        return INTERNAL_ERROR_EXIT


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Stop and reap every child, say what was cut short, and the exit code: 128 + the
    signal (130 for Ctrl-C, 143 for SIGTERM)."""
    from engine.core import proc

    proc.stop_children()  # before saying anything: none is left running
    signum = int(getattr(exc, "signum", signal.SIGINT))
    _print_error(getattr(exc, "note", "") or f"interrupted by {signal.Signals(signum).name}")
    return 128 + signum


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
