"""Untrusted text (a registry's or git server's words) made safe to quote in one log line.

A server decides what its error body says: newlines would forge extra log lines, ANSI escapes
would repaint a terminal, ``::error::`` at the start of a line is a GitHub Actions workflow
command and ``##[`` / ``##vso[`` anywhere are Azure Pipelines' (and the old Actions') ones.
:func:`one_line` escapes what is not printable the way Go's ``%q`` does and defuses those
command markers, so the text can only ever be read, never obeyed.
"""

from __future__ import annotations

import re

# Long enough for any real registry or git message, short enough that a hostile server's
# megabyte of error body cannot flood a CI log.
DEFAULT_LIMIT = 1000

_NAMED_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
}
# CI log commands: GitHub's ``::name::`` is obeyed at the start of a (trimmed) line, Azure's
# ``##vso[`` and the legacy ``##[`` anywhere in it.
_LEADING_COMMAND = re.compile(r"^(\s*):")
_INLINE_COMMAND = re.compile(r"#(?=#(?:vso)?\[)")


def one_line(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` as one printable line of at most about ``limit`` characters.

    Control and other non-printable characters (Unicode categories C and Z but the ASCII
    space: Go's ``unicode.IsPrint``) become escapes (``\\n``, ``\\x1b``, ``\\u2028``); a
    backslash is doubled so an escape in the input cannot pass for one of ours; undecodable
    bytes carried as surrogates (``surrogateescape``) become ``\\xNN``.  Longer text is cut
    at ``limit`` with a note of how much was left out.
    """
    pieces: list[str] = []
    size = 0
    for index, char in enumerate(text):
        piece = _escape(char)
        if size + len(piece) > limit:
            pieces.append(f"... ({len(text) - index} more characters)")
            break
        pieces.append(piece)
        size += len(piece)
    line = "".join(pieces)
    line = _LEADING_COMMAND.sub(r"\1\\x3a", line, count=1)
    return _INLINE_COMMAND.sub(r"\\x23", line)


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
