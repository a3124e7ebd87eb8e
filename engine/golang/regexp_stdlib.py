"""Go regexp syntax on Python's ``re``: the fallback when ``google-re2`` is not installed.

skrender declares ``google-re2`` and uses it (:mod:`engine.golang.regexp`); an interpreter
without it (a system Python with skrender run from a checkout) should still render the common
patterns instead of failing.  This translates what differs in Go's syntax (``\\z``, ``\\Q..\\E``,
POSIX classes, ``(?<name>``, ``$`` meaning end of text) into ``re`` on UTF-8 bytes.  What
``re`` cannot express (Unicode classes ``\\pL``) is an error naming the missing package, and
``re`` backtracks: only RE2 guarantees linear time.
"""

from __future__ import annotations

import re
from typing import Any

_POSIX = {
    "alnum": b"0-9A-Za-z",
    "alpha": b"A-Za-z",
    "ascii": b"\\x00-\\x7f",
    "blank": b"\\t ",
    "cntrl": b"\\x00-\\x1f\\x7f",
    "digit": b"0-9",
    "graph": b"!-~",
    "lower": b"a-z",
    "print": b" -~",
    "punct": b"!-/:-@\\[-`{-~",
    "space": b"\\t\\n\\v\\f\\r ",
    "upper": b"A-Z",
    "word": b"0-9A-Za-z_",
    "xdigit": b"0-9A-Fa-f",
}
_POSIX_RE = re.compile(rb"\[:(\^?)([a-z]+):\]")


class Unsupported(ValueError):
    """A Go pattern Python's ``re`` cannot run."""


def compile_bytes(pattern: bytes) -> Any:
    """``re.compile`` of the Go pattern, as bytes (raises ``re.error`` or :class:`Unsupported`)."""
    return re.compile(_translate(pattern))


def _translate(src: bytes) -> bytes:
    out = bytearray()
    i, n, in_class = 0, len(src), False
    while i < n:
        ch = src[i : i + 1]
        if ch == b"\\" and i + 1 < n:
            nxt = src[i + 1 : i + 2]
            if nxt == b"Q" and not in_class:  # \Q...\E: a literal run
                end = src.find(b"\\E", i + 2)
                literal = src[i + 2 : n if end < 0 else end]
                out += re.escape(literal)
                i = n if end < 0 else end + 2
                continue
            if nxt in (b"p", b"P"):
                raise Unsupported("Unicode classes (\\p) need the google-re2 package")
            out += b"\\Z" if nxt == b"z" and not in_class else src[i : i + 2]
            i += 2
            continue
        if in_class:
            posix = _POSIX_RE.match(src, i)
            if posix:
                if posix.group(1):
                    raise Unsupported("negated POSIX classes need the google-re2 package")
                name = posix.group(2).decode()
                if name not in _POSIX:
                    raise Unsupported(f"invalid character class range: [:{name}:]")
                out += _POSIX[name]
                i = posix.end()
                continue
            if ch == b"]":
                in_class = False
        elif ch == b"[":
            in_class = True
            out += ch
            i += 1
            if src[i : i + 1] == b"^":
                out += b"^"
                i += 1
            if src[i : i + 1] == b"]":  # a leading ] is literal, as in Go
                out += b"\\]"
                i += 1
            continue
        elif ch == b"$":
            out += b"(?!(?s:.))"  # Go's $ (no m flag) is the end of the text, not before a \n
            i += 1
            continue
        elif src.startswith(b"(?<", i) and src[i + 3 : i + 4] not in (b"=", b"!"):
            out += b"(?P<"
            i += 3
            continue
        out += ch
        i += 1
    return bytes(out)
