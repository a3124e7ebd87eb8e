"""Command line: parses arguments, dispatches to a subcommand, maps errors to exit codes.

This is the only module (with the subcommand modules) that prints.  Exit codes follow
skaffold: 0 success, 1 errors, 127 usage errors, an external tool's own status when it fails;
130 on Ctrl-C (SIGINT), 143 on SIGTERM, and 3 on an internal error (a bug: please report it).
"""

from __future__ import annotations

import gc
import importlib
import signal
import sys
from collections.abc import Sequence

from engine.commands import COMMANDS
from engine.core.errors import SkrenderError, UsageError

INTERNAL_ERROR_EXIT = 3


def split_command(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """The subcommand's name and the arguments left for it, found as cobra's Find does
    (command.go: stripFlags): the first argument that is neither a flag nor the value of a
    root flag (``skrender -v debug render``); None when there is none."""
    from engine.commands._parser import GLOBAL_FLAGS, HELP
    from engine.golang.pflag import BOOL, Flag, FlagSet

    root = FlagSet((*GLOBAL_FLAGS, HELP, Flag("version", kind=BOOL)))
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-") and "=" not in arg and root.takes_value(arg):
            if i + 2 >= len(args):  # stripFlags: a value-taking flag needs two more arguments
                break
            i += 2
            continue
        if arg and not arg.startswith("-"):
            return arg, [*args[:i], *args[i + 1 :]]
        i += 1
    return None, list(args)


# Commands that end the process themselves once done (see main)
QUICK_EXIT_COMMANDS = ("render", "tags", "bulk")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `skrender` command; returns the process exit status.

    Run as the program (``argv`` None, called from ``__main__``: the console script or
    ``python -m engine``), a quick command (:data:`QUICK_EXIT_COMMANDS`) ends the process
    right away once its output is flushed: tearing down the interpreter (modules, a final
    cycle collection) would add a tenth to a render.  Called from other code, main returns.
    """
    from engine.core import proc

    args_list = list(sys.argv[1:] if argv is None else argv)
    if argv is None and not args_list:
        import os

        if os.environ.get("SKAFFOLD_CMDLINE"):  # skaffold's app.Run reads it when run bare
            try:
                args_list = _command_line_from_env(os.environ["SKAFFOLD_CMDLINE"])
            except SkrenderError as exc:
                _print_error(str(exc))
                return exc.exit_code
    selected, _rest = split_command(args_list)
    # SIGINT/SIGTERM stop every external tool (their own process groups) and reap them
    # before skrender exits, whichever command runs them
    with proc.handling_stop_signals():
        try:
            code = _main(args_list)
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


def _main(args_list: list[str]) -> int:
    # A short-lived command allocates a lot while importing and parsing and frees it by
    # reference counting; the cycle collector only costs time here (~10% of a render).
    # Long-running commands (bulk) turn it back on.
    gc.disable()
    try:
        name, rest = split_command(args_list)
        if name is None:
            return _root(rest)
        if name == "help":  # cobra's `help [COMMAND]`
            name, rest = (rest[0], ["--help"]) if rest and rest[0] in COMMANDS else (None, rest)
            if name is None:
                return _root(["--help"])
        if name not in COMMANDS:
            from engine.golang.gofmt import go_quote

            raise UsageError(
                f'unknown command {go_quote(name)} for "skrender"\n'
                "Run 'skrender --help' for usage."
            )
        from engine.commands import _parser

        module = _command_module(name)
        command = module.command()
        args = _parser.parse(command, rest)
        if args.help:
            sys.stdout.write(_parser.help_text(command, _terminal_width()))
            return 0
        from engine.core import log

        log.configure(args.verbosity, sys.stderr)
        code: int = module.run(args)
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


def _command_line_from_env(text: str) -> list[str]:
    """``SKAFFOLD_CMDLINE`` split as go-shellquote splits it (cmd/skaffold/app/skaffold.go)."""
    from engine.golang.shellquote import SplitError, split

    try:
        return split(text)
    except SplitError as exc:
        raise SkrenderError(f"SKAFFOLD_CMDLINE is invalid: {exc}") from None


def _root(args: list[str]) -> int:
    """``skrender`` without a command: --version, --help, or the help on stderr (exit 127)."""
    from engine.commands._parser import Command, parse
    from engine.golang.pflag import BOOL, Flag

    version = Flag("version", kind=BOOL, default=False, usage="print the version")
    values = parse(Command("", flags=(version,), args="COMMAND"), args)
    if values.version:
        sys.stdout.write(f"skrender {_version()}\n")
        return 0
    text = _root_help()
    if values.help:
        sys.stdout.write(text)
        return 0
    sys.stderr.write(text)
    return UsageError.exit_code


def _root_help() -> str:
    width = max(len(name) for name in COMMANDS) + 4
    lines = [
        "A pure-Python, byte-identical drop-in for `skaffold render`, for GitOps.",
        "",
        "Usage:",
        "  skrender [flags] COMMAND [flags]",
        "",
        "Commands:",
        *(f"    {name.ljust(width)}{summary}" for name, (_module, summary) in COMMANDS.items()),
        "",
        "Flags:",
        "      --version   print the version",
        "  -h, --help      help for skrender",
        "",
        "Run 'skrender COMMAND --help' for a command's flags.",
        "",
    ]
    return "\n".join(lines)


def _terminal_width() -> int:
    import shutil  # only for --help: its imports cost every run a few ms

    return shutil.get_terminal_size().columns


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skrender")
    except PackageNotFoundError:
        return "0+unknown"
