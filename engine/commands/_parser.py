"""Every subcommand's command line: pflag's flags (:mod:`engine.golang.pflag`) plus what cobra
adds around them in skaffold: ``-h/--help``, the root command's persistent flags, positional
argument rules, required flags, and skaffold's exit statuses.

Exit statuses follow cmd/skaffold/app/exitcode.go: 127 when the message starts like a usage
error of cobra or pflag (``unknown command``, ``unknown flag``, ``unknown shorthand flag``,
``flag needs an argument:``, ``invalid argument``), 1 otherwise (``bad flag syntax: ---x``,
``required flag(s) ... not set``).  Flag errors end with kubectl's hint (``See 'skrender
render --help' for usage.``, k8s.io/kubectl/pkg/util/templates: FlagErrorFunc).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import NamedTuple

from engine.core.errors import SkrenderError, UsageError
from engine.golang.pflag import BOOL, INT, Flag, FlagSet, ParseError

# skaffold's root persistent flags (cmd/skaffold/app/cmd/cmd.go): every command takes them
GLOBAL_FLAGS = (
    Flag(
        "verbosity",
        "v",
        default="warning",
        usage=(
            "Log level: one of [panic fatal error warning info debug trace] (debug: why a "
            "tagger fell back to latest, each external command run)"
        ),
    ),
    Flag(
        "color",
        kind=INT,
        default=34,
        usage="Specify the default output color in ANSI escape codes (no effect)",
    ),
    Flag("force-colors", kind=BOOL, default=False, hidden=True),
    Flag(
        "interactive",
        kind=BOOL,
        default=True,
        usage="Allow user prompts for more information (no effect)",
    ),
    Flag(
        "update-check",
        kind=BOOL,
        default=True,
        usage="Check for a more recent version of Skaffold (no effect)",
    ),
    Flag("timestamps", kind=BOOL, default=False, usage="Print timestamps in logs (no effect)"),
)
HELP = Flag("help", "h", BOOL, default=False, usage="help for this command")

# logrus.ParseLevel's names (vendor/github.com/sirupsen/logrus/logrus.go), matched lower-cased
LOG_LEVELS = ("panic", "fatal", "error", "warn", "warning", "info", "debug", "trace")

_USAGE_ERROR = re.compile(
    r"unknown command|unknown( shorthand)? flag|flag needs an argument:|invalid argument "
    r"|accepts.*, received "
)


class Command(NamedTuple):
    """One subcommand's command line."""

    name: str
    summary: str = ""  # one line, for `skrender --help`
    description: str = ""
    flags: tuple[Flag, ...] = ()
    args: str = ""  # name of the positional arguments ("" : none allowed, cobra.NoArgs)
    min_args: int = 0  # cobra.MinimumNArgs
    required: tuple[str, ...] = ()  # flag names (cobra MarkFlagRequired)
    # flags left None when not given, for _flags.resolve_flags to fill from SKAFFOLD_* first
    resolved_later: tuple[Flag, ...] = ()

    @property
    def path(self) -> str:
        return f"skrender {self.name}".rstrip()


def choice(allowed: Sequence[str]) -> Callable[[str], str]:
    """A flag Value's Set that takes one of ``allowed``."""

    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError("must be one of " + ", ".join(allowed))
        return value

    return convert


def error(message: str) -> SkrenderError:
    """``message`` as skaffold exits with it: a usage error (127) or a plain error (1)."""
    if _USAGE_ERROR.match(message):
        return UsageError(message)
    return SkrenderError(message)


def parse(command: Command, argv: Sequence[str]) -> SimpleNamespace:
    """The flags and arguments of ``command``: each flag's dest, ``help``, and ``args``
    (the positional arguments).  With ``help`` set nothing else is checked."""
    flags = FlagSet((*command.flags, *GLOBAL_FLAGS, HELP))
    try:
        result = flags.parse(argv)
    except ParseError as exc:
        raise error(f"{exc}\nSee '{command.path} --help' for usage.") from None
    for notice in result.notices:  # cobra prints pflag's deprecation notices on stderr
        sys.stderr.write(notice + "\n")
    values = result.values
    for flag in command.resolved_later:
        if flag.name not in result.changed:
            setattr(values, flag.dest, None)
    values.args = result.args
    if values.help:
        return values
    if result.args and not command.args:  # cobra.NoArgs
        raise error(f"unknown command {_quote(result.args[0])} for {_quote(command.path)}")
    if len(result.args) < command.min_args:
        raise error(
            f"requires at least {command.min_args} arg(s), only received {len(result.args)}"
        )
    if "verbosity" not in result.changed:  # root flags come from SKAFFOLD_* too (cmd.go)
        import os

        values.verbosity = os.environ.get("SKAFFOLD_VERBOSITY", values.verbosity)
    check_verbosity(values.verbosity)
    missing = sorted(name for name in command.required if name not in result.changed)
    if missing:  # cobra's validateRequiredFlags, in pflag's (sorted) order
        raise error('required flag(s) "' + '", "'.join(missing) + '" not set')
    return values


def check_verbosity(level: str) -> None:
    """log.SetupLogs: an unknown level fails the command before it runs (exit 1)."""
    if level.lower() not in LOG_LEVELS:
        raise SkrenderError(f"parsing log level: not a valid logrus Level: {_quote(level)}")


def _quote(text: str) -> str:
    from engine.golang.gofmt import go_quote  # error paths only

    return go_quote(text)


def help_text(command: Command, width: int = 0) -> str:
    """``skrender COMMAND --help``: the description, usage and flags, cobra's layout."""
    import textwrap  # help only

    from engine.golang.pflag import usages

    usage = f"{command.path} [flags]" + (f" {command.args}" if command.args else "")
    about = command.description or command.summary
    if width > 0:
        about = textwrap.fill(about, width)
    parts = [about, "", "Usage:", f"  {usage}", "", "Flags:"]
    parts.append(usages((*command.flags, HELP), width))
    parts.append("Global Flags:")
    parts.append(usages(GLOBAL_FLAGS, width))
    return "\n".join(parts)
