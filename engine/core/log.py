"""What skaffold logs below its default level (warning): ``-v debug`` lines on stderr,
e.g. why a tagger fell back to ``latest`` and each external command run.

Off until the command line calls :func:`configure` (the library never prints).  Every line is
made safe first: the userinfo of URLs (tokens) becomes ``***`` and control characters are
escaped, so untrusted text (a tool's output, a config value) is one harmless log line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TextIO

# logrus levels (vendor/github.com/sirupsen/logrus/logrus.go), most severe first
_RANKS = {
    "panic": 0,
    "fatal": 1,
    "error": 2,
    "warn": 3,
    "warning": 3,
    "info": 4,
    "debug": 5,
    "trace": 6,
}
_WARNING = 3
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_lock = threading.Lock()
_rank = _WARNING
_stream: TextIO | None = None


def configure(level: str, stream: TextIO | None) -> None:
    """Log at ``level`` (a logrus level name, any case) and above to ``stream``."""
    global _rank, _stream
    _rank = _RANKS.get(level.lower(), _WARNING)
    _stream = stream


def enabled(level: str) -> bool:
    return _stream is not None and _RANKS[level] <= _rank


def debug(message: str) -> None:
    _write("debug", message)


def command_line(argv: Sequence[str]) -> str:
    """``[git rev-parse HEAD]``: the argv as skaffold's ``%s`` of cmd.Args prints it."""
    return "[" + " ".join(argv) + "]"


def safe(text: str) -> str:
    """``text`` as one line with no credentials: URL userinfo hidden, controls escaped."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)
    return _CONTROL.sub(lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
        m.group(), f"\\x{ord(m.group()):02x}"), text)  # fmt: skip


def _write(level: str, message: str) -> None:
    if not enabled(level):
        return
    stream = _stream
    assert stream is not None
    line = f"{level.upper()} {safe(message)}\n"
    with _lock:
        try:
            stream.write(line)
            stream.flush()
        except (OSError, ValueError, UnicodeEncodeError):
            pass  # a log line never fails the command
