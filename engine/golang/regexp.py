"""Go's ``regexp`` package: RE2 syntax, leftmost-first matching, linear time, Go's errors.

skaffold matches user patterns with Go's ``regexp`` (profile activation and the global
config's ``kube-context`` through ``pkg/skaffold/util/regex.go`` RegexEqual, Sprig's
``regex*`` template functions, apply-setters' ``currentSetterValues``).  Python's ``re`` is a
backtracking engine with another syntax: ``[[:digit:]]``, ``\\pL`` and ``\\z`` mean other
things or nothing, ``$`` also matches before a final newline, and ``^(a+)+$`` takes
exponential time.  This module runs the patterns on RE2 (``google-re2``, the C++ library Go's
``regexp/syntax`` was ported from), so syntax and match semantics are Go's and every match is
linear in the text.  The few places where Go's parser is stricter than RE2's are checked here,
and RE2's error texts are turned into Go's (``src/regexp/syntax/parse.go`` ErrorCode).

Matching works on the UTF-8 bytes, as Go does, so offsets, empty-match stepping and
``$``-expansion follow ``src/regexp/regexp.go`` exactly.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from engine.golang.gofmt import go_quote

__all__ = ["Regexp", "RegexpError", "compile_go", "must_compile_message", "quote_meta"]

# RE2's error code texts (re2/regexp.cc kErrorStrings) -> Go's ErrorCode texts, and whether Go
# reports the whole expression instead of the offending fragment (parse.go).
_ERRORS: dict[str, tuple[str, str | None]] = {
    "unexpected error": ("regexp/syntax: internal error", None),
    "invalid escape sequence": ("invalid escape sequence", None),
    "invalid character class": ("invalid character class", None),
    "invalid character class range": ("invalid character class range", None),
    "missing ]": ("missing closing ]", None),
    "missing )": ("missing closing )", "whole"),
    "unexpected )": ("unexpected )", "whole"),
    "trailing \\": ("trailing backslash at end of expression", "empty"),
    "no argument for repetition operator": ("missing argument to repetition operator", None),
    "invalid repetition size": ("invalid repeat count", None),
    "bad repetition operator": ("invalid nested repetition operator", None),
    "invalid perl operator": ("invalid or unsupported Perl syntax", None),
    "invalid UTF-8": ("invalid UTF-8", None),
    "invalid named capture group": ("invalid named capture", None),
    "pattern too large - compile failed": ("expression too large", "whole"),
    "pattern too large - reverse compile failed": ("expression too large", "whole"),
}
# Go's compiled-program budget is ~3.3M instructions (parse.go maxSize); RE2 counts UTF-8 byte
# ranges, so it needs more room than its 8 MiB default for Go's accepted patterns (\pL{1000}).
_MAX_MEM = 64 << 20
_GO_META = frozenset("\\.+*?()|[]{}^$")


class RegexpError(ValueError):
    """regexp.Compile's error; ``str()`` is Go's ``error parsing regexp: <code>: `<expr>```."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


class Regexp:
    """A compiled Go regular expression (the methods skaffold and Sprig call)."""

    __slots__ = ("_names", "_re", "expr", "num_subexp")

    def __init__(self, expr: str, compiled: Any) -> None:
        self.expr = expr
        self._re = compiled
        self.num_subexp: int = compiled.groups
        names = [""] * (self.num_subexp + 1)
        for name, index in compiled.groupindex.items():
            names[index] = _s(name) if isinstance(name, bytes) else name
        self._names = names

    # -- matching on bytes: [start, end, start1, end1, ...] like Go's match slices

    def _exec(self, data: bytes, pos: int) -> list[int] | None:
        found = self._re.search(data, pos)
        if found is None:
            return None
        out: list[int] = []
        for group in range(self.num_subexp + 1):
            out.extend(found.span(group))
        return out

    def _all(self, data: bytes, n: int) -> list[list[int]]:
        """regexp.go allMatches: no empty match right after a previous match."""
        end = len(data)
        if n < 0:
            n = end + 1
        out: list[list[int]] = []
        pos, prev_end = 0, -1
        while len(out) < n and pos <= end:
            match = self._exec(data, pos)
            if match is None:
                break
            accept = True
            if match[1] == pos:
                if match[0] == prev_end:
                    accept = False
                width = _rune_width(data, pos)
                pos = pos + width if width > 0 else end + 1
            else:
                pos = match[1]
            prev_end = match[1]
            if accept:
                out.append(match)
        return out

    # -- the Go API

    def match_string(self, s: str) -> bool:
        """MatchString: an unanchored search."""
        return self._re.search(_b(s)) is not None

    def find_string(self, s: str) -> str:
        data = _b(s)
        match = self._exec(data, 0)
        return "" if match is None else _s(data[match[0] : match[1]])

    def find_string_submatch(self, s: str) -> list[str] | None:
        """FindStringSubmatch: None when nothing matches; unmatched groups are ``""``."""
        data = _b(s)
        match = self._exec(data, 0)
        if match is None:
            return None
        return [_group(data, match, i) for i in range(self.num_subexp + 1)]

    def find_all_string(self, s: str, n: int) -> list[str] | None:
        """FindAllString: None (Go's nil slice) when nothing matches."""
        data = _b(s)
        found = [_s(data[m[0] : m[1]]) for m in self._all(data, n)]
        return found or None

    def split(self, s: str, n: int) -> list[str] | None:
        """Regexp.Split; None for n == 0 (Go's nil slice)."""
        if n == 0:
            return None
        if self.expr and not s:
            return [""]
        data = _b(s)
        parts: list[str] = []
        beg = end = 0
        for match in self._all(data, n):
            if n > 0 and len(parts) == n - 1:
                break
            end = match[0]
            if match[1] != 0:
                parts.append(_s(data[beg:end]))
            beg = match[1]
        if end != len(data):
            parts.append(_s(data[beg:]))
        return parts

    def replace_all_string(self, src: str, repl: str) -> str:
        """ReplaceAllString: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$`` expanded."""
        pieces = _parse_template(repl)
        return self._replace_all(src, lambda data, m: self._expand(pieces, data, m))

    def replace_all_literal_string(self, src: str, repl: str) -> str:
        literal = _b(repl)
        return self._replace_all(src, lambda data, m: literal)

    def _replace_all(self, src: str, repl: Any) -> str:
        """regexp.go replaceAll (its own stepping, not allMatches')."""
        data = _b(src)
        end = len(data)
        out: list[bytes] = []
        last_end = 0
        search = 0
        while search <= end:
            match = self._exec(data, search)
            if match is None:
                break
            out.append(data[last_end : match[0]])
            # no replacement for an empty match right after the previous match
            if match[1] > last_end or match[0] == 0:
                out.append(repl(data, match))
            last_end = match[1]
            width = _rune_width(data, search)
            if search + width > match[1]:
                search += width
            elif search + 1 > match[1]:
                search += 1
            else:
                search = match[1]
        out.append(data[last_end:])
        return _s(b"".join(out))

    def _expand(self, pieces: list[bytes | int | str], data: bytes, match: list[int]) -> bytes:
        """regexp.go expand, on a template parsed once."""
        out: list[bytes] = []
        for piece in pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            elif isinstance(piece, int):
                if 2 * piece + 1 < len(match) and match[2 * piece] >= 0:
                    out.append(data[match[2 * piece] : match[2 * piece + 1]])
            else:
                for i, group_name in enumerate(self._names):
                    if group_name == piece and match[2 * i] >= 0:
                        out.append(data[match[2 * i] : match[2 * i + 1]])
                        break
        return b"".join(out)


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _s(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _group(data: bytes, match: list[int], i: int) -> str:
    start = match[2 * i]
    return "" if start < 0 else _s(data[start : match[2 * i + 1]])


def _rune_width(data: bytes, pos: int) -> int:
    """utf8.DecodeRune's width at ``pos`` (0 at the end, 1 for a bad byte)."""
    if pos >= len(data):
        return 0
    lead = data[pos]
    width = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    if pos + width > len(data) or any(b & 0xC0 != 0x80 for b in data[pos + 1 : pos + width]):
        return 1
    return width


def _is_name_char(ch: str) -> bool:
    # unicode.IsLetter, unicode.IsDigit (Nd only), '_'
    return ch == "_" or unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"


def _parse_template(template: str) -> list[bytes | int | str]:
    """regexp.go expand's reading of a template: literal bytes, group numbers, group names."""
    pieces: list[bytes | int | str] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0:
            break
        literal.append(template[i:dollar])
        i = dollar + 1
        if template.startswith("$", i):  # $$ is a $
            literal.append("$")
            i += 1
            continue
        ref = _extract(template, i)
        if ref is None:
            literal.append("$")  # malformed: the $ is literal text
            continue
        name, num, i = ref
        pieces.append(_b("".join(literal)))
        literal = []
        pieces.append(num if num >= 0 else name)
    literal.append(template[i:])
    pieces.append(_b("".join(literal)))
    return pieces


def _extract(template: str, i: int) -> tuple[str, int, int] | None:
    """regexp.go extract at ``i``: (name, number or -1, index after it); None when malformed."""
    brace = template.startswith("{", i)
    start = j = i + 1 if brace else i
    while j < len(template) and _is_name_char(template[j]):
        j += 1
    if j == start:
        return None  # an empty name
    name = template[start:j]
    if brace:
        if not template.startswith("}", j):
            return None  # no closing brace
        j += 1
    num = 0
    for ch in name:
        if not "0" <= ch <= "9" or num >= 100_000_000:
            num = -1
            break
        num = num * 10 + ord(ch) - ord("0")
    if name[0] == "0" and len(name) > 1:
        num = -1  # no leading zeros
    return name, num, j


# ---------------------------------------------------------------------------------------------
# compiling


def compile_go(expr: str) -> Regexp:
    """regexp.Compile; raises RegexpError with Go's message."""
    return _compile(expr)


@lru_cache(maxsize=256)
def _compile(expr: str) -> Regexp:
    try:
        import re2  # google-re2: imported on first use (start-up time)
    except ImportError:
        return _compile_stdlib(expr)

    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_MEM
    try:
        compiled = re2.compile(_b(expr), options)
    except re2.error as exc:
        raise _go_error(expr, exc) from None
    _check_go_only(expr, compiled.groupindex)
    return Regexp(expr, compiled)


def _compile_stdlib(expr: str) -> Regexp:
    """Without google-re2 (a declared dependency): Python's ``re`` on a translated pattern."""
    import re

    from engine.core import log
    from engine.golang import regexp_stdlib

    log.debug("google-re2 is not installed: Go patterns run on Python's re (not linear time)")
    try:
        compiled = regexp_stdlib.compile_bytes(_b(expr))
    except regexp_stdlib.Unsupported as exc:
        raise RegexpError(f"{exc} (pip install google-re2)", expr) from None
    except re.error as exc:
        raise RegexpError(str(exc), expr) from None
    _check_go_only(expr, compiled.groupindex)
    return Regexp(expr, compiled)


def _go_error(expr: str, exc: Exception) -> RegexpError:
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for re2_code, (go_code, arg) in sorted(_ERRORS.items(), key=lambda kv: -len(kv[0])):
        if text == re2_code or text.startswith(re2_code + ": "):
            fragment = text[len(re2_code) + 2 :]
            if arg == "whole":
                fragment = expr
            elif arg == "empty":
                fragment = ""
            return RegexpError(go_code, fragment)
    return RegexpError("regexp/syntax: internal error", expr)


def _check_go_only(expr: str, names: dict[Any, int]) -> None:
    """What Go's parser refuses and RE2's accepts (parse.go)."""
    for name in names:
        text = name.decode("utf-8", "surrogatepass") if isinstance(name, bytes) else str(name)
        # isValidCaptureName: [A-Za-z0-9_]+ (RE2 also takes other Unicode word characters)
        if not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in text):
            for opener in ("(?P<", "(?<"):
                if opener + text + ">" in expr:
                    raise RegexpError("invalid named capture", opener + text + ">")
    i = 0
    while i < len(expr) - 1:
        if expr[i] != "\\":
            i += 1
            continue
        nxt = expr[i + 1]
        if nxt == "C":  # any byte: RE2 has it, Go does not
            raise RegexpError("invalid escape sequence", "\\C")
        if nxt == "Q":  # \Q...\E is literal text
            close = expr.find("\\E", i + 2)
            if close < 0:
                return
            i = close + 2
            continue
        i += 2


def must_compile_message(expr: str, err: RegexpError) -> str:
    """regexp.MustCompile's panic text: ``regexp: Compile(<quoted expr>): <error>``."""
    return f"regexp: Compile({_quote(expr)}): {err}"


def _quote(s: str) -> str:
    """regexp.go quote: a raw string literal when strconv.CanBackquote allows it."""
    for ch in s:
        if ch == "`" or ch == "\x7f" or ch == "\ufeff" or (ch < " " and ch != "\t"):
            return go_quote(s)
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return go_quote(s)
    return "`" + s + "`"


def quote_meta(s: str) -> str:
    """regexp.QuoteMeta."""
    return "".join("\\" + ch if ch in _GO_META else ch for ch in s)
