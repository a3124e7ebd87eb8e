"""A unified diff of one file as ``git diff`` prints it (headers, hunks, function context).

``skrender bulk --dry-run`` shows what a publish would commit; the same text as ``git diff``
of the commit it would make (``git show`` for a new branch) keeps reviewers on familiar
ground and lets tests use git as the oracle.  Hunks come from :mod:`difflib` with git's
three lines of context (no junk heuristic: a manifest has many repeated lines); the hunk
header's trailing text is xdiff's default "function" line (``xemit.c: def_ff``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

CONTEXT = 3
_FUNC_MAX = 80  # xemit.c: struct func_line's buffer
_NO_NEWLINE = b"\\ No newline at end of file\n"
_FUNC_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")


def file_diff(path: str, old: bytes | None, new: bytes, old_id: str, new_id: str) -> bytes:
    """``git diff`` of ``path`` from ``old`` (None: a new file) to ``new``; blob ids for the
    ``index`` line.  Empty when the contents are equal."""
    if old == new:
        return b""
    head = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        head += ["new file mode 100644\n", f"index 0000000..{new_id[:7]}\n"]
    else:
        head.append(f"index {old_id[:7]}..{new_id[:7]} 100644\n")
    head += ["--- /dev/null\n" if old is None else f"--- a/{path}\n", f"+++ b/{path}\n"]
    text = "".join(head).encode("utf-8", "surrogateescape")
    return text + b"".join(_hunks(_lines(old or b""), _lines(new)))


def _lines(data: bytes) -> list[bytes]:
    """Lines as git splits them: at ``\\n`` only, each keeping its newline."""
    lines = data.split(b"\n")
    last = lines.pop()
    return [line + b"\n" for line in lines] + ([last] if last else [])


def _hunks(a: Sequence[bytes], b: Sequence[bytes]) -> Iterator[bytes]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        a1, a2, b1, b2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        func = _function_line(a, a1)
        yield f"@@ -{_range(a1, a2 - a1)} +{_range(b1, b2 - b1)} @@".encode() + func + b"\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from _marked(b" ", a, i1, i2)
                continue
            if tag in ("replace", "delete"):
                yield from _marked(b"-", a, i1, i2)
            if tag in ("replace", "insert"):
                yield from _marked(b"+", b, j1, j2)


def _marked(mark: bytes, lines: Sequence[bytes], start: int, end: int) -> Iterator[bytes]:
    for index in range(start, end):
        line = lines[index]
        if line.endswith(b"\n"):
            yield mark + line
        else:
            yield mark + line + b"\n" + _NO_NEWLINE


def _range(start: int, length: int) -> str:
    """``start,length`` 1-based, as git writes it (``,1`` left out; an empty range names the
    line before it)."""
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _function_line(a: Sequence[bytes], start: int) -> bytes:
    """xdiff's default function line: the nearest line above the hunk starting with an ASCII
    letter, ``_`` or ``$`` (for YAML: the top-level key), cut at 80 bytes, trailing
    whitespace dropped."""
    for index in range(start - 1, -1, -1):
        line = a[index]
        if line and line[0] in _FUNC_START:
            return b" " + line[:_FUNC_MAX].rstrip(b" \t\n\v\f\r")
    return b""
