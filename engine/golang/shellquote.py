"""/bin/sh word splitting as github.com/kballard/go-shellquote's Split does it (vendored by
skaffold v2.24.0, unquote.go), for ``SKAFFOLD_CMDLINE``.

Backslash escapes, single and double quotes (in which only ``$ ` " \\`` and a newline can be
escaped); a backslash-newline is dropped; no expansion of any kind.
"""

from __future__ import annotations

_SPLIT = " \n\t"
_DOUBLE_ESCAPES = '$`"\n\\'


class SplitError(ValueError):
    """Unterminated quote or escape, with go-shellquote's message."""


def split(text: str) -> list[str]:
    """The words of ``text``."""
    words: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _SPLIT:
            i += 1
            continue
        if char == "\\":
            if i + 1 == len(text):
                raise SplitError("Unterminated backslash-escape")
            if text[i + 1] == "\n":
                i += 2
                continue
        word, i = _word(text, i)
        words.append(word)
    return words


def _word(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        char = text[i]
        i += 1
        if char in _SPLIT:
            return "".join(out), i
        if char == "\\":
            if i == len(text):
                raise SplitError("Unterminated backslash-escape")
            if text[i] != "\n":  # an escaped newline is dropped
                out.append(text[i])
            i += 1
        elif char == "'":
            end = text.find("'", i)
            if end < 0:
                raise SplitError("Unterminated single-quoted string")
            out.append(text[i:end])
            i = end + 1
        elif char == '"':
            i = _double(text, i, out)
        else:
            out.append(char)
    return "".join(out), i


def _double(text: str, i: int, out: list[str]) -> int:
    """A double-quoted part starting at ``i``; the index after its closing quote."""
    while i < len(text):
        char = text[i]
        i += 1
        if char == '"':
            return i
        if char == "\\" and i < len(text) and text[i] in _DOUBLE_ESCAPES:
            if text[i] != "\n":
                out.append(text[i])
            i += 1
        else:
            out.append(char)  # any other backslash stays, with what follows it
    raise SplitError("Unterminated double-quoted string")
