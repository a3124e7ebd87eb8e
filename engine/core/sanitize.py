"""Untrusted text (a registry's or git server's words) made safe to quote in a log line.

A server decides what its error body says: a newline would forge a log line of its own, ANSI
escapes repaint the terminal, ``::error::`` at the start of a line is a GitHub Actions
workflow command and ``##vso[`` (or the legacy ``##[``) anywhere in a line is one for Azure
Pipelines.  :func:`one_line` escapes what is not printable the way Go's ``%q`` does and
defuses those command markers, so such text can be read in skrender's messages, never obeyed.
Secrets are a separate matter: redact them first (escaping changes how they are spelt).
"""

from __future__ import annotations

import re

# Longer than any real registry or git message, short enough that a hostile server's
# megabyte of error body cannot flood a CI log.
DEFAULT_LIMIT = 1000

# strconv.Quote's named escapes (also Go fmt's %q, engine.golang.gofmt)
STRCONV_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
}
# GitHub's ``::name::`` is obeyed at the start of a (left-trimmed) line; Azure's ``##vso[``
# and the legacy ``##[`` anywhere in a line.
_LEADING_COMMAND = re.compile(r"^(\s*):(?=:)")
_INLINE_COMMAND = re.compile(r"#(?=#(?:vso)?\[)")


def one_line(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` as one printable line of at most ``limit`` characters (plus a length note).

    Non-printable characters become Go-style escapes (``\\n``, ``\\x1b``, ``\\u2028``), a
    backslash is doubled so the input cannot fake one of those escapes, bytes that were not
    UTF-8 (decoded with ``surrogateescape``) become ``\\xNN``, and CI log commands are
    defused.  Longer text is cut at ``limit`` with a note of how much was left out.
    """
    pieces: list[str] = []
    size = 0
    for index, char in enumerate(text):
        piece = _escape_char(char, "")
        if size + len(piece) > limit:
            pieces.append(f"... ({len(text) - index} more characters)")
            break
        pieces.append(piece)
        size += len(piece)
    return defuse_ci_commands("".join(pieces))


def go_escape(text: str, quote: str = "") -> str:
    """The inside of Go's ``strconv.Quote(text)`` (``quote`` is escaped too when given).

    Printable means Go's ``unicode.IsPrint`` (letters, marks, numbers, punctuation, symbols,
    the ASCII space): Python's ``str.isprintable``.
    """
    return "".join(_escape_char(char, quote) for char in text)


def defuse_ci_commands(line: str) -> str:
    """``line`` with any CI workflow-command marker escaped (``\\x3a:`` / ``\\x23#[``).

    For text already on one line (no newline left to start a command after).
    """
    line = _LEADING_COMMAND.sub(r"\1\\x3a", line, count=1)
    return _INLINE_COMMAND.sub(r"\\x23", line)


def _escape_char(char: str, quote: str) -> str:
    if char == quote:
        return "\\" + char
    named = STRCONV_ESCAPES.get(char)
    if named is not None:
        return named
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte carried by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
