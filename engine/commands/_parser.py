"""The argument parser every subcommand uses: usage errors exit 127, as skaffold's do."""

from __future__ import annotations

import argparse
from typing import Any

from engine.core.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (exit 127, as skaffold) instead of exiting 2."""

    _declaring = False

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}\nSee '{self.prog} --help' for usage.")

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's add_argument, validating the metavar with a fixed-width formatter."""
        self._declaring = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._declaring = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        # add_argument formats an action only to validate its metavar, which does not depend
        # on the width: a fixed width spares the terminal size look-up and its `import shutil`
        # (zlib, bz2, lzma), a few ms of every run.  Help and usage still get the real width.
        if self._declaring:
            formatter_class: Any = self.formatter_class  # every HelpFormatter takes a width
            formatter: argparse.HelpFormatter = formatter_class(prog=self.prog, width=80)
            return formatter
        return super()._get_formatter()
