"""Go's ``unicode.IsSpace``: the white space ``strings.TrimSpace``, ``bytes.TrimSpace`` and
Sprig's ``trim``/``nospace`` remove.

Python's ``str.isspace`` differs: it also counts U+001C..U+001F (information separators).
"""

from __future__ import annotations

# Latin-1: '\t', '\n', '\v', '\f', '\r', ' ', U+0085 (NEL), U+00A0 (NBSP); beyond it the
# Unicode White_Space property (src/unicode/graphic.go IsSpace, tables.go White_Space)
SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + (
    "\u2028\u2029\u202f\u205f\u3000"
)


def is_space(ch: str) -> bool:
    """``unicode.IsSpace`` of one character."""
    return ch in SPACE


def trim_space(text: str) -> str:
    """``strings.TrimSpace``."""
    return text.strip(SPACE)
