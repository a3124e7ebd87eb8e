"""Sprig v2.22 template functions (github.com/Masterminds/sprig, as vendored by skaffold).

Each function follows the vendored Go source's behaviour, including its quirks (argument
order switched for piping, errors swallowed into zero values, panics on wrong kinds).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import re
import secrets
import string
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from engine.golang import unicode
from engine.golang.filepath import clean
from engine.golang.gofmt import (
    StrList,
    format_value,
    go_kind,
    go_quote,
    go_type,
    is_list,
    to_json,
)
from engine.golang.regexp import Regexp, RegexpError, compile_go, must_compile_message
from engine.golang.templatefuncs import ANY, FuncError, gofunc
from engine.golang.timeformat import DAY_NAMES, MONTH_NAMES, format_time, parse_time

MAP = "map[string]interface {}"
TIME = "time.Time"


# ---------------------------------------------------------------------------------------------
# conversions (strings.go, numeric.go)


def strval(v: Any) -> str:
    """sprig's strval: strings as is, everything else with %v."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return format_value(v)


def to_int64(v: Any) -> int:
    """sprig's toInt64: strings parse base 10 (else 0), floats truncate, bools 1/0."""
    if isinstance(v, str):
        if re.fullmatch(r"[+-]?[0-9]+", v):
            n = int(v)
            return n if -(2**63) <= n < 2**63 else 0
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v == v and abs(v) < 2**63 else -(2**63)
    return 0


def to_float64(v: Any) -> float:
    """sprig's toFloat64."""
    if isinstance(v, str):
        try:
            return (
                float(v.replace("_", ""))
                if re.fullmatch(r"[+-]?[0-9._eEx]+|[+-]?(?i:inf|infinity|nan)", v)
                else 0.0
            )
        except ValueError:
            return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return 0.0


def strslice(v: Any) -> StrList:
    """sprig's strslice: a []string from a list (nil elements dropped) or a single value."""
    if isinstance(v, (list, tuple)):
        return StrList(strval(x) for x in v if x is not None)
    if v is None:
        return StrList()
    return StrList([strval(v)])


def empty(v: Any) -> bool:
    """sprig's empty: zero values of every kind."""
    if v is None:
        return True
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v == 0
    if isinstance(v, (str, bytes, list, tuple, Mapping)):
        return len(v) == 0
    return False


def _require_list(v: Any, what: str) -> list[Any]:
    if not is_list(v):
        raise FuncError(f"Cannot {what} on type {go_kind(v) if v is not None else 'invalid'}")
    return list(v)


def _deep_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (
        isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
    ):
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return go_type(a) == go_type(b) and dict(a) == dict(b)
        return False
    return bool(a == b)


# ---------------------------------------------------------------------------------------------
# strings


def _title(s: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out = []
    prev = " "
    for ch in s:
        out.append(ch.upper() if _is_separator(prev) else ch)
        prev = ch
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ord(ch) <= 0x7F:
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def _untitle(s: str) -> str:
    out = []
    cap_next = True
    for ch in s:
        if ch.isspace():
            cap_next = True
            out.append(ch)
        elif cap_next:
            out.append(ch.lower())
            cap_next = False
        else:
            out.append(ch)
    return "".join(out)


def _abbreviate(s: str, offset: int, width: int) -> str:
    """goutils.AbbreviateFull (errors give "")."""
    if s == "":
        return ""
    if width < 4:
        return ""
    if len(s) <= width:
        return s
    offset = min(offset, len(s))
    if len(s) - offset < width - 3:
        offset = len(s) - (width - 3)
    if offset <= 4:
        return s[: width - 3] + "..."
    if width < 7:
        return ""
    if offset + width - 3 < len(s):
        return "..." + _abbreviate(s[offset:], 0, width - 3)
    return "..." + s[len(s) - (width - 3) :]


@gofunc("int", "string")
def abbrev(width: int, s: str) -> str:
    return s if width < 4 else _abbreviate(s, 0, width)


@gofunc("int", "int", "string")
def abbrevboth(left: int, right: int, s: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return s
    return _abbreviate(s, left, right)


@gofunc("int", "string")
def trunc(c: int, s: str) -> str:
    if len(s) <= c:
        return s
    if c < 0:
        raise FuncError(f"runtime error: slice bounds out of range [:{c}]")
    return s[:c]


@gofunc("int", "int", "string")
def substr(start: int, end: int, s: str) -> str:
    if start < 0:
        if end < 0 or end > len(s):
            raise FuncError(
                f"runtime error: slice bounds out of range [:{end}] with length {len(s)}"
            )
        return s[:end]
    if end < 0 or end > len(s):
        if start > len(s):
            raise FuncError(f"runtime error: slice bounds out of range [{start}:{len(s)}]")
        return s[start:]
    if start > end:
        raise FuncError(f"runtime error: slice bounds out of range [{start}:{end}]")
    return s[start:end]


def _initials(s: str) -> str:
    out = []
    gap = True
    for ch in s:
        if ch.isspace():
            gap = True
        elif gap:
            out.append(ch)
            gap = False
    return "".join(out)


def quote(*args: Any) -> str:
    return " ".join(go_quote(strval(a)) for a in args if a is not None)


def squote(*args: Any) -> str:
    return " ".join(f"'{format_value(a)}'" for a in args if a is not None)


def cat(*args: Any) -> str:
    from engine.golang.gofmt import sprintf

    vals = [a for a in args if a is not None]
    return sprintf(" ".join(["%v"] * len(vals)), vals)


@gofunc("int", "string")
def indent(spaces: int, v: str) -> str:
    pad = " " * max(spaces, 0)
    return pad + v.replace("\n", "\n" + pad)


@gofunc("int", "string")
def nindent(spaces: int, v: str) -> str:
    return "\n" + indent(spaces, v)


@gofunc("int", "string")
def repeat(count: int, s: str) -> str:
    if count < 0:
        raise FuncError("strings: negative Repeat count")
    return s * count


def _swapcase(s: str) -> str:
    return "".join(c.lower() if c.isupper() else c.upper() if c.islower() else c for c in s)


@gofunc("string")
def nospace(s: str) -> str:
    return "".join(ch for ch in s if not unicode.is_space(ch))


@gofunc("string")
def trim(s: str) -> str:
    return s.strip(unicode.SPACE)


def split(sep: str, orig: str) -> dict[str, Any]:
    return {f"_{i}": p for i, p in enumerate(_go_split(orig, sep))}


def _go_split(s: str, sep: str, n: int = -1) -> list[str]:
    """strings.SplitN (empty separator splits into characters)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            return [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    if n < 0:
        return s.split(sep)
    return s.split(sep, n - 1)


@gofunc("string", "int", "string")
def splitn(sep: str, n: int, orig: str) -> dict[str, Any]:
    return {f"_{i}": p for i, p in enumerate(_go_split(orig, sep, n))}


@gofunc("string", ANY)
def join(sep: str, v: Any) -> str:
    return sep.join(strslice(v))


# xstrings v1.5 case conversions ----------------------------------------------------------------


def _is_connector(ch: str) -> bool:
    return ch in "-_" or ch.isspace()


def _is_upper(ch: str) -> bool:
    return ch.isupper() or unicodedata.category(ch) == "Lu"


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_alphabet(ch: str) -> bool:
    return ch.isalpha() and ord(ch) < 0x80


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch).startswith("N")


def _camelcase(s: str) -> str:
    """xstrings.ToCamelCase (lower-first, as sprig v2 vendors it)."""
    if not s:
        return ""
    out: list[str] = []
    chars = list(s)
    i = 0
    first_upper = False
    r0 = ""
    while i < len(chars):
        r0 = chars[i]
        i += 1
        if not _is_connector(r0):
            first_upper = _is_upper(r0)
            r0 = r0.lower()
            break
        out.append(r0)
    if i >= len(chars):
        if r0 and (not _is_connector(r0) or out[-1:] != [r0]):
            out.append(r0)
        return "".join(out)
    while i < len(chars):
        r1 = r0
        r0 = chars[i]
        i += 1
        if _is_connector(r0) and _is_connector(r1):
            out.append(r1)
            continue
        if _is_connector(r1):
            first_upper = _is_upper(r0)
            r0 = r0.upper()
        else:
            if first_upper:
                if _is_upper(r0):
                    r0 = r0.lower()
                else:
                    first_upper = False
            out.append(r1)
    if first_upper:
        r0 = r0.lower()
    out.append(r0)
    return "".join(out)


_NUM, _UPPER, _ALPHA, _CONN, _PUNCT, _OTHER, _INVALID = range(7)


def _next_word(s: str) -> tuple[int, str, str]:
    if not s:
        return _INVALID, "", ""
    r = s[0]
    i = 1
    if _is_connector(r):
        kind = _CONN
        while i < len(s) and _is_connector(s[i]):
            i += 1
    elif _is_punct(r):
        kind = _PUNCT
        while i < len(s) and _is_punct(s[i]):
            i += 1
    elif _is_upper(r):
        kind = _UPPER
        if i < len(s):
            if _is_upper(s[i]):
                j = i
                while j < len(s) and _is_upper(s[j]):
                    j += 1
                # "HTTPStatus" splits into "HTTP" and "Status"
                if j < len(s) and _is_alphabet(s[j]):
                    j -= 1
                i = j
            elif _is_alphabet(s[i]):
                while i < len(s) and _is_alphabet(s[i]) and not _is_upper(s[i]):
                    i += 1
    elif _is_alphabet(r):
        kind = _ALPHA
        while i < len(s) and _is_alphabet(s[i]) and not _is_upper(s[i]):
            i += 1
    elif _is_number(r):
        kind = _NUM
        while i < len(s) and _is_number(s[i]):
            i += 1
    else:
        kind = _OTHER
        while i < len(s) and not (
            _is_connector(s[i]) or _is_alphabet(s[i]) or _is_number(s[i]) or _is_punct(s[i])
        ):
            i += 1
    return kind, s[:i], s[i:]


def _lower_word(out: list[str], kind: int, word: str, conn: str) -> None:
    if kind not in (_UPPER, _CONN):
        out.append(word)
        return
    for ch in word:
        out.append(conn if _is_connector(ch) else ch.lower())


def _to_lower_case(s: str, conn: str) -> str:
    """xstrings.camelCaseToLowerCase (snakecase / kebabcase)."""
    if not s:
        return ""
    out: list[str] = []
    wt, word, rem = _next_word(s)
    while rem:
        if wt != _CONN:
            _lower_word(out, wt, word, conn)
        prev, last = wt, word
        wt, word, rem = _next_word(rem)
        if prev == _NUM:
            while wt in (_ALPHA, _NUM):
                _lower_word(out, wt, word, conn)
                wt, word, rem = _next_word(rem)
            if wt not in (_INVALID, _PUNCT, _CONN):
                out.append(conn)
        elif prev == _CONN:
            _lower_word(out, prev, last, conn)
        elif prev == _PUNCT:
            pass
        else:
            if wt != _NUM:
                if wt not in (_CONN, _PUNCT):
                    out.append(conn)
                continue
            if not rem:
                continue
            last = word
            wt, word, rem = _next_word(rem)
            if wt != _ALPHA:
                _lower_word(out, _NUM, last, conn)
                if wt not in (_CONN, _PUNCT):
                    out.append(conn)
                continue
            out.append(conn)
            _lower_word(out, _NUM, last, conn)
            while wt in (_ALPHA, _NUM):
                _lower_word(out, wt, word, conn)
                wt, word, rem = _next_word(rem)
            if wt not in (_INVALID, _CONN, _PUNCT):
                out.append(conn)
    _lower_word(out, wt, word, conn)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# lists and dicts


def push(lst: Any, v: Any) -> list[Any]:
    return [*_require_list(lst, "push"), v]


def prepend(lst: Any, v: Any) -> list[Any]:
    return [v, *_require_list(lst, "prepend")]


def first(lst: Any) -> Any:
    items = _require_list(lst, "find first")
    return items[0] if items else None


def last(lst: Any) -> Any:
    items = _require_list(lst, "find last")
    return items[-1] if items else None


def rest(lst: Any) -> Any:
    items = _require_list(lst, "find rest")
    return items[1:] if items else None


def initial(lst: Any) -> Any:
    items = _require_list(lst, "find initial")
    return items[:-1] if items else None


def reverse(lst: Any) -> list[Any]:
    return list(reversed(_require_list(lst, "find reverse")))


def compact(lst: Any) -> list[Any]:
    return [x for x in _require_list(lst, "compact") if not empty(x)]


def uniq(lst: Any) -> list[Any]:
    out: list[Any] = []
    for x in _require_list(lst, "find uniq"):
        if not any(_deep_equal(x, y) for y in out):
            out.append(x)
    return out


def without(lst: Any, *omit: Any) -> list[Any]:
    return [
        x for x in _require_list(lst, "find without") if not any(_deep_equal(x, o) for o in omit)
    ]


def has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    return any(_deep_equal(needle, x) for x in _require_list(haystack, "find has"))


def sort_alpha(lst: Any) -> StrList:
    if is_list(lst):
        return StrList(sorted(strslice(lst), key=lambda s: s.encode()))
    return StrList([strval(lst)])


def sprig_slice(lst: Any, *indices: Any) -> Any:
    if not is_list(lst):
        raise FuncError(f"list should be type of slice or array but {go_kind(lst)}")
    items = list(lst)
    if not items:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(items)
    if start < 0 or end > len(items) or start > end:
        raise FuncError("reflect: slice index out of range")
    return type(lst)(items[start:end]) if isinstance(lst, StrList) else items[start:end]


def concat(*lists: Any) -> Any:
    out: list[Any] = []
    for lst in lists:
        if not is_list(lst):
            raise FuncError(f"Cannot concat type {go_kind(lst)} as list")
        out.extend(lst)
    return out or None


@gofunc(MAP, "string", ANY)
def set_(d: Any, key: str, value: Any) -> Any:
    if d is None:
        raise FuncError("assignment to entry in nil map")
    d[key] = value
    return d


@gofunc(MAP, "string")
def unset(d: Any, key: str) -> Any:
    if d is not None:
        d.pop(key, None)
    return d


@gofunc(MAP, "string")
def has_key(d: Any, key: str) -> bool:
    return d is not None and key in d


@gofunc("string", variadic=MAP)
def pluck(key: str, *dicts: Any) -> list[Any]:
    return [d[key] for d in dicts if d is not None and key in d]


@gofunc(variadic=MAP)
def keys(*dicts: Any) -> StrList:
    # Go's map iteration order is random; sorted order is one of the possible outcomes.
    return StrList(k for d in dicts if d is not None for k in sorted(d))


@gofunc(MAP, variadic="string")
def pick(d: Any, *names: str) -> dict[str, Any]:
    return {k: d[k] for k in names if d is not None and k in d}


@gofunc(MAP, variadic="string")
def omit(d: Any, *names: str) -> dict[str, Any]:
    return {k: v for k, v in (d or {}).items() if k not in names}


def dict_(*args: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        key = strval(args[i])
        out[key] = args[i + 1] if i + 1 < len(args) else ""
    return out


@gofunc(MAP)
def values(d: Any) -> list[Any]:
    return [d[k] for k in sorted(d)] if d else []


def _merge(dst: dict[str, Any], src: Mapping[str, Any], overwrite: bool) -> None:
    """mergo.Merge / MergeWithOverwrite on maps: recurse into maps, fill empty values."""
    for k, v in src.items():
        cur = dst.get(k)
        if isinstance(cur, dict) and isinstance(v, Mapping):
            _merge(cur, v, overwrite)
        elif k not in dst or empty(cur) or (overwrite and not empty(v)):
            dst[k] = v


@gofunc(MAP, variadic=MAP)
def merge(dst: Any, *srcs: Any) -> Any:
    for src in srcs:
        _merge(dst, src or {}, False)
    return dst


@gofunc(MAP, variadic=MAP)
def merge_overwrite(dst: Any, *srcs: Any) -> Any:
    for src in srcs:
        _merge(dst, src or {}, True)
    return dst


def deep_copy(v: Any) -> Any:
    import copy

    return copy.deepcopy(v)


# ---------------------------------------------------------------------------------------------
# numbers


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError
    return a - b * _go_div(a, b)


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


@gofunc("int")
def until(count: int) -> list[Any]:
    return until_step(0, count, 1 if count >= 0 else -1)


@gofunc("int", "int", "int")
def until_step(start: int, stop: int, step: int) -> list[Any]:
    if stop < start:
        return list(range(start, stop, step)) if step < 0 else []
    return list(range(start, stop, step)) if step > 0 else []


def _round(a: Any, p: Any, *r_opt: Any) -> float:
    import math

    round_on = float(r_opt[0]) if r_opt else 0.5
    val = to_float64(a)
    pow_ = math.pow(10, to_float64(p))
    digit = pow_ * val
    frac = math.modf(digit)[0]
    return (math.ceil(digit) if frac >= round_on else math.floor(digit)) / pow_


def _to_decimal(v: Any) -> int:
    try:
        return int(format_value(v), 8)
    except ValueError:
        return 0


# ---------------------------------------------------------------------------------------------
# regular expressions (regex.go): Go's regexp on RE2, see engine.golang.regexp


def _must_compile(regex: str) -> Regexp:
    """regexp.MustCompile: its panic is the template's ``error calling <func>: ...``."""
    try:
        return compile_go(regex)
    except RegexpError as exc:
        raise FuncError(must_compile_message(regex, exc)) from None


@gofunc("string", "string")
def regex_match(regex: str, s: str) -> bool:
    try:  # regexp.MatchString: a bad pattern is just no match
        return compile_go(regex).match_string(s)
    except RegexpError:
        return False


@gofunc("string", "string", "int")
def regex_find_all(regex: str, s: str, n: int) -> StrList:
    return StrList(_must_compile(regex).find_all_string(s, n) or ())


@gofunc("string", "string")
def regex_find(regex: str, s: str) -> str:
    return _must_compile(regex).find_string(s)


@gofunc("string", "string", "string")
def regex_replace_all(regex: str, s: str, repl: str) -> str:
    return _must_compile(regex).replace_all_string(s, repl)


@gofunc("string", "string", "string")
def regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
    return _must_compile(regex).replace_all_literal_string(s, repl)


@gofunc("string", "string", "int")
def regex_split(regex: str, s: str, n: int) -> StrList:
    return StrList(_must_compile(regex).split(s, n) or ())


# ---------------------------------------------------------------------------------------------
# paths (Go's "path" package, not filepath)


@gofunc("string")
def path_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p[p.rfind("/") + 1 :]


@gofunc("string")
def path_dir(p: str) -> str:
    return clean(p[: p.rfind("/") + 1])


@gofunc("string")
def path_ext(p: str) -> str:
    i = len(p) - 1
    while i >= 0 and p[i] != "/":
        if p[i] == ".":
            return p[i:]
        i -= 1
    return ""


# ---------------------------------------------------------------------------------------------
# encoding and hashing


@gofunc("string")
def b64dec(v: str) -> str:
    try:
        return base64.b64decode(v.encode(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {_bad_b64_offset(v)}"


def _bad_b64_offset(v: str) -> int:
    alphabet = string.ascii_letters + string.digits + "+/"
    for i, ch in enumerate(v):
        if ch not in alphabet and ch != "=":
            return i
    return max(len(v) - len(v) % 4, 0) if len(v) % 4 else len(v.rstrip("="))


@gofunc("string")
def b32dec(v: str) -> str:
    try:
        return base64.b32decode(v.encode()).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


# ---------------------------------------------------------------------------------------------
# time


def _local_now() -> _dt.datetime:
    return _dt.datetime.now().astimezone()


def _zone(name: str) -> _dt.tzinfo | None:
    if name == "Local":
        return _local_now().tzinfo
    if name in ("UTC", ""):
        return _dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        return None


def _to_time(date: Any) -> _dt.datetime:
    if isinstance(date, _dt.datetime):
        return date
    if isinstance(date, int) and not isinstance(date, bool):
        return _dt.datetime.fromtimestamp(date, _dt.timezone.utc)
    return _local_now()


@gofunc("string", ANY, "string")
def date_in_zone(fmt: str, date: Any, zone: str) -> str:
    t = _to_time(date)
    tz = _zone(zone) or _dt.timezone.utc
    return format_time(t.astimezone(tz), fmt)


@gofunc("string", ANY)
def date(fmt: str, d: Any) -> str:
    return date_in_zone(fmt, d, "Local")


_ZERO_TIME = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)


@gofunc("string", "string")
def to_date(fmt: str, s: str) -> _dt.datetime:
    """time.ParseInLocation(fmt, s, time.Local); a failure gives Go's zero time."""
    parsed = parse_time(fmt, s)
    return parsed if parsed is not None else _ZERO_TIME


@gofunc(TIME)
def unix_epoch(t: _dt.datetime) -> str:
    return str(int(t.timestamp()))


@gofunc("string", TIME)
def date_modify(fmt: str, t: _dt.datetime) -> _dt.datetime:
    m = re.fullmatch(r"([+-]?)((?:\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h))+)", fmt)
    if not m:
        return t
    total = 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    for num, unit in re.findall(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)", m.group(2)):
        total += float(num) * units[unit]
    return t + _dt.timedelta(seconds=-total if m.group(1) == "-" else total)


def time_method(t: _dt.datetime, name: str) -> Callable[..., Any] | None:
    """The time.Time methods templates call (``now.Unix``, ``(now).Format "..."``)."""
    methods: dict[str, Callable[..., Any]] = {
        "Unix": gofunc()(lambda: int(t.timestamp())),
        "UnixNano": gofunc()(lambda: int(t.timestamp() * 1_000_000) * 1000),
        "Format": gofunc("string")(lambda layout: format_time(t, layout)),
        "Year": gofunc()(lambda: t.year),
        "Day": gofunc()(lambda: t.day),
        "Hour": gofunc()(lambda: t.hour),
        "Minute": gofunc()(lambda: t.minute),
        "Second": gofunc()(lambda: t.second),
        "YearDay": gofunc()(lambda: t.timetuple().tm_yday),
        "Month": gofunc()(lambda: MONTH_NAMES[t.month - 1]),
        "Weekday": gofunc()(lambda: DAY_NAMES[t.weekday()]),
        "UTC": gofunc()(lambda: t.astimezone(_dt.timezone.utc)),
        "Local": gofunc()(lambda: t.astimezone()),
        "String": gofunc()(lambda: format_value(t)),
    }
    return methods.get(name)


# ---------------------------------------------------------------------------------------------
# semver (Masterminds/semver v1.5)

_SEMVER_RE = re.compile(
    r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$"
)


class SemVersion:
    """A parsed semantic version; prints as ``major.minor.patch[-pre][+meta]``."""

    go_type = "*semver.Version"
    go_kind = "ptr"

    def __init__(self, text: str) -> None:
        m = _SEMVER_RE.match(text)
        if not m:
            raise FuncError("Invalid Semantic Version")
        self.major = int(m.group(1))
        self.minor = int(m.group(2)[1:]) if m.group(2) else 0
        self.patch = int(m.group(3)[1:]) if m.group(3) else 0
        self.pre = m.group(5) or ""
        self.metadata = m.group(8) or ""
        self.original = text
        self.go_methods = {
            "Major": gofunc()(lambda: self.major),
            "Minor": gofunc()(lambda: self.minor),
            "Patch": gofunc()(lambda: self.patch),
            "Prerelease": gofunc()(lambda: self.pre),
            "Metadata": gofunc()(lambda: self.metadata),
            "Original": gofunc()(lambda: self.original),
            "String": gofunc()(lambda: str(self)),
        }

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            s += "-" + self.pre
        if self.metadata:
            s += "+" + self.metadata
        return s

    def compare(self, o: SemVersion) -> int:
        for a, b in ((self.major, o.major), (self.minor, o.minor), (self.patch, o.patch)):
            if a != b:
                return -1 if a < b else 1
        if self.pre == o.pre:
            return 0
        if not self.pre:
            return 1
        if not o.pre:
            return -1
        return _compare_pre(self.pre, o.pre)


def _compare_pre(a: str, b: str) -> int:
    sa, sb = a.split("."), b.split(".")
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else ""
        y = sb[i] if i < len(sb) else ""
        if x == y:
            continue
        if not x:
            return -1
        if not y:
            return 1
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit():
            return -1
        if y.isdigit():
            return 1
        return -1 if x < y else 1
    return 0


@gofunc("string")
def semver(version: str) -> SemVersion:
    return SemVersion(version)


_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_CONSTRAINT_RE = re.compile(r"^\s*(!=|>=|=>|<=|=<|~>|>|<|=|~|\^|)\s*(" + _CV + r")\s*$")
_RANGE_RE = re.compile(r"\s*(" + _CV + r")\s+-\s+(" + _CV + r")\s*")


def _is_x(s: str) -> bool:
    return s in ("x", "X", "*")


def _check_constraint(text: str, v: SemVersion) -> bool:
    m = _CONSTRAINT_RE.match(text)
    if not m:
        raise FuncError(f"improper constraint: {text}")
    op = m.group(1)
    ver = m.group(2)
    minor_dirty = patch_dirty = dirty = False
    if _is_x(m.group(3)):
        ver, dirty = "0.0.0", True
    elif _is_x((m.group(4) or "").lstrip(".")) or not m.group(4):
        minor_dirty = dirty = True
        ver = f"{m.group(3)}.0.0{m.group(5) or ''}"
    elif _is_x((m.group(5) or "").lstrip(".")):
        dirty = patch_dirty = True
        ver = f"{m.group(3)}{m.group(4)}.0{m.group(6) or ''}"
    try:
        con = SemVersion(ver)
    except FuncError:
        raise FuncError("constraint Parser Error") from None
    if v.pre and not con.pre:
        return False
    cmp = v.compare(con)
    if op in ("", "="):
        if dirty:
            op = "~"
        else:
            return cmp == 0
    if op == "!=":
        if dirty:
            if con.major != v.major:
                return True
            return con.minor != v.minor and not minor_dirty
        return cmp != 0
    if op == ">":
        return cmp == 1
    if op in (">=", "=>"):
        return cmp >= 0
    if op in ("<", "<=", "=<"):
        if not dirty:
            return cmp < 0 if op == "<" else cmp <= 0
        return not (v.major > con.major or (v.minor > con.minor and not minor_dirty))
    if op in ("~", "~>"):
        if cmp < 0:
            return False
        if con.major == con.minor == con.patch == 0 and not minor_dirty and not patch_dirty:
            return True
        return v.major == con.major and (v.minor == con.minor or minor_dirty)
    # "^"
    return cmp >= 0 and v.major == con.major


@gofunc("string", "string")
def semver_compare(constraint: str, version: str) -> bool:
    for m in _RANGE_RE.finditer(constraint):
        constraint = constraint.replace(m.group(0), f">= {m.group(1)}, <= {m.group(11)}", 1)
    groups = [part.split(",") for part in constraint.split("||")]
    for group in groups:
        for c in group:
            _check_constraint(c, SemVersion("0.0.0"))  # a bad constraint is an error first
    v = SemVersion(version)
    return any(all(_check_constraint(c, v) for c in group) for group in groups)


# ---------------------------------------------------------------------------------------------
# misc


def _fail(msg: str) -> str:
    raise FuncError(msg)


def _unsupported(name: str) -> Callable[..., Any]:
    def fn(*_args: Any) -> Any:
        raise FuncError(f"{name} is not supported by skrender")

    return fn


def _rand(alphabet: str) -> Callable[[int], str]:
    @gofunc("int")
    def fn(count: int) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(max(count, 0)))

    return fn


def _uuidv4() -> str:
    import uuid

    return str(uuid.uuid4())


def _os_expand(s: str, env: Mapping[str, str]) -> str:
    """os.ExpandEnv with a given environment."""
    out: list[str] = []
    i = 0
    while i < len(s):
        if s[i] != "$" or i + 1 >= len(s):
            out.append(s[i])
            i += 1
            continue
        name, width = _shell_name(s[i + 1 :])
        if name == "" and width > 0:
            pass  # invalid syntax: eat the characters
        elif name == "":
            out.append("$")
        else:
            out.append(env.get(name, ""))
        i += 1 + width
    return "".join(out)


def _shell_name(s: str) -> tuple[str, int]:
    special = "*#$@!?-0123456789"
    if s[0] == "{":
        if len(s) > 2 and s[1] in special and s[2] == "}":
            return s[1:2], 3
        end = s.find("}", 1)
        if end < 0:
            return "", 1
        if end == 1:
            return "", 2
        return s[1:end], end + 1
    if s[0] in special:
        return s[0:1], 1
    i = 0
    while i < len(s) and ((s[i].isalnum() and s[i].isascii()) or s[i] == "_"):
        i += 1
    return s[:i], i


def _wrap_text(width: int, s: str, sep: str = "\n", long_words: bool = False) -> str:
    """goutils.WrapCustom (approximate: greedy wrapping on spaces)."""
    if width < 1:
        width = 1
    lines: list[str] = []
    for para in s.split("\n"):
        cur = ""
        for word in para.split(" "):
            if not cur:
                cur = word
            elif len(cur) + 1 + len(word) <= width:
                cur += " " + word
            else:
                lines.append(cur)
                cur = word
            while long_words and len(cur) > width:
                lines.append(cur[:width])
                cur = cur[width:]
        lines.append(cur)
    return sep.join(lines)


def _s1(fn: Callable[[str], Any]) -> Callable[..., Any]:
    return gofunc("string")(lambda s: fn(s))


def _s2(fn: Callable[[str, str], Any]) -> Callable[..., Any]:
    return gofunc("string", "string")(lambda a, b: fn(a, b))


def sprig_functions(env: Mapping[str, str]) -> dict[str, Callable[..., Any]]:
    """sprig.FuncMap() (v2.22) with ``env``/``expandenv`` reading ``env``."""
    f: dict[str, Callable[..., Any]] = {
        "hello": gofunc()(lambda: "Hello!"),
        # dates
        "date": date,
        "date_in_zone": date_in_zone,
        "date_modify": date_modify,
        "now": gofunc()(_local_now),
        "htmlDate": gofunc(ANY)(lambda d: date_in_zone("2006-01-02", d, "Local")),
        "htmlDateInZone": gofunc(ANY, "string")(lambda d, z: date_in_zone("2006-01-02", d, z)),
        "dateInZone": date_in_zone,
        "dateModify": date_modify,
        "ago": gofunc(ANY)(lambda d: _ago(d)),
        "toDate": to_date,
        "unixEpoch": unix_epoch,
        # strings
        "abbrev": abbrev,
        "abbrevboth": abbrevboth,
        "trunc": trunc,
        "trim": trim,
        "upper": _s1(str.upper),
        "lower": _s1(str.lower),
        "title": _s1(_title),
        "untitle": _s1(_untitle),
        "substr": substr,
        "repeat": repeat,
        "trimall": _s2(lambda a, b: b.strip(a)),
        "trimAll": _s2(lambda a, b: b.strip(a)),
        "trimSuffix": _s2(lambda a, b: b[: -len(a)] if a and b.endswith(a) else b),
        "trimPrefix": _s2(lambda a, b: b[len(a) :] if b.startswith(a) else b),
        "nospace": nospace,
        "initials": _s1(_initials),
        "randAlphaNum": _rand(string.ascii_letters + string.digits),
        "randAlpha": _rand(string.ascii_letters),
        "randAscii": _rand("".join(chr(c) for c in range(32, 127))),
        "randNumeric": _rand(string.digits),
        "swapcase": _s1(_swapcase),
        "shuffle": _s1(lambda s: "".join(secrets.SystemRandom().sample(s, len(s)))),
        "snakecase": _s1(lambda s: _to_lower_case(s, "_")),
        "camelcase": _s1(_camelcase),
        "kebabcase": _s1(lambda s: _to_lower_case(s, "-")),
        "wrap": gofunc("int", "string")(lambda n, s: _wrap_text(n, s)),
        "wrapWith": gofunc("int", "string", "string")(
            lambda n, sep, s: _wrap_text(n, s, sep, True)
        ),
        "contains": _s2(lambda sub, s: sub in s),
        "hasPrefix": _s2(lambda sub, s: s.startswith(sub)),
        "hasSuffix": _s2(lambda sub, s: s.endswith(sub)),
        "quote": quote,
        "squote": squote,
        "cat": cat,
        "indent": indent,
        "nindent": nindent,
        "replace": gofunc("string", "string", "string")(lambda o, n, s: s.replace(o, n)),
        "plural": gofunc("string", "string", "int")(lambda one, many, c: one if c == 1 else many),
        "sha1sum": _s1(lambda s: hashlib.sha1(s.encode()).hexdigest()),
        "sha256sum": _s1(lambda s: hashlib.sha256(s.encode()).hexdigest()),
        "adler32sum": _s1(lambda s: str(zlib.adler32(s.encode()))),
        "toString": gofunc(ANY)(strval),
        "atoi": _s1(lambda s: int(s) if re.fullmatch(r"[+-]?[0-9]+", s) else 0),
        "int64": gofunc(ANY)(to_int64),
        "int": gofunc(ANY)(to_int64),
        "float64": gofunc(ANY)(to_float64),
        "toDecimal": gofunc(ANY)(_to_decimal),
        "split": _s2(split),
        "splitList": _s2(lambda sep, s: StrList(_go_split(s, sep))),
        "splitn": splitn,
        "toStrings": gofunc(ANY)(strslice),
        "until": until,
        "untilStep": until_step,
        # arithmetic (int64, wrapping like Go)
        "add1": gofunc(ANY)(lambda i: _wrap64(to_int64(i) + 1)),
        "add": lambda *a: _wrap64(sum(to_int64(x) for x in a)),
        "sub": gofunc(ANY, ANY)(lambda a, b: _wrap64(to_int64(a) - to_int64(b))),
        "div": gofunc(ANY, ANY)(lambda a, b: _go_div(to_int64(a), to_int64(b))),
        "mod": gofunc(ANY, ANY)(lambda a, b: _go_mod(to_int64(a), to_int64(b))),
        "mul": gofunc(ANY, variadic=ANY)(lambda a, *v: _wrap64(_product(a, v))),
        "biggest": gofunc(ANY, variadic=ANY)(lambda a, *v: max([to_int64(a), *map(to_int64, v)])),
        "max": gofunc(ANY, variadic=ANY)(lambda a, *v: max([to_int64(a), *map(to_int64, v)])),
        "min": gofunc(ANY, variadic=ANY)(lambda a, *v: min([to_int64(a), *map(to_int64, v)])),
        "ceil": gofunc(ANY)(lambda a: float(__import__("math").ceil(to_float64(a)))),
        "floor": gofunc(ANY)(lambda a: float(__import__("math").floor(to_float64(a)))),
        "round": gofunc(ANY, "int", variadic="float64")(_round),
        "join": join,
        "sortAlpha": gofunc(ANY)(sort_alpha),
        # defaults
        "default": gofunc(ANY, variadic=ANY)(
            lambda d, *given: d if not given or empty(given[0]) else given[0]
        ),
        "empty": gofunc(ANY)(empty),
        "coalesce": lambda *v: next((x for x in v if not empty(x)), None),
        "compact": gofunc(ANY)(compact),
        "deepCopy": gofunc(ANY)(deep_copy),
        "toJson": gofunc(ANY)(lambda v: to_json(v)),
        "toPrettyJson": gofunc(ANY)(lambda v: to_json(v, "  ")),
        "ternary": gofunc(ANY, ANY, "bool")(lambda vt, vf, v: vt if v else vf),
        # reflection
        "typeOf": gofunc(ANY)(go_type),
        "typeIs": gofunc("string", ANY)(lambda t, v: t == go_type(v)),
        "typeIsLike": gofunc("string", ANY)(lambda t, v: go_type(v) in (t, "*" + t)),
        "kindOf": gofunc(ANY)(go_kind),
        "kindIs": gofunc("string", ANY)(lambda t, v: t == go_kind(v)),
        "deepEqual": gofunc(ANY, ANY)(_deep_equal),
        # OS
        "env": _s1(lambda name: env.get(name, "")),
        "expandenv": _s1(lambda s: _os_expand(s, env)),
        "getHostByName": _s1(_get_host_by_name),
        # paths
        "base": path_base,
        "dir": path_dir,
        "clean": _s1(clean),  # path.Clean is filepath.Clean on Unix
        "ext": path_ext,
        "isAbs": _s1(lambda p: p.startswith("/")),
        # encoding
        "b64enc": _s1(lambda s: base64.b64encode(s.encode()).decode()),
        "b64dec": b64dec,
        "b32enc": _s1(lambda s: base64.b32encode(s.encode()).decode()),
        "b32dec": b32dec,
        # data structures
        "tuple": lambda *v: list(v),
        "list": lambda *v: list(v),
        "dict": dict_,
        "set": set_,
        "unset": unset,
        "hasKey": has_key,
        "pluck": pluck,
        "keys": keys,
        "pick": pick,
        "omit": omit,
        "merge": merge,
        "mergeOverwrite": merge_overwrite,
        "values": values,
        "append": gofunc(ANY, ANY)(push),
        "push": gofunc(ANY, ANY)(push),
        "prepend": gofunc(ANY, ANY)(prepend),
        "first": gofunc(ANY)(first),
        "rest": gofunc(ANY)(rest),
        "last": gofunc(ANY)(last),
        "initial": gofunc(ANY)(initial),
        "reverse": gofunc(ANY)(reverse),
        "uniq": gofunc(ANY)(uniq),
        "without": gofunc(ANY, variadic=ANY)(without),
        "has": gofunc(ANY, ANY)(has),
        "slice": gofunc(ANY, variadic=ANY)(sprig_slice),
        "concat": concat,
        # crypto
        "uuidv4": gofunc()(_uuidv4),
        "semver": semver,
        "semverCompare": semver_compare,
        "fail": _s1(_fail),
        # regex
        "regexMatch": regex_match,
        "regexFindAll": regex_find_all,
        "regexFind": regex_find,
        "regexReplaceAll": regex_replace_all,
        "regexReplaceAllLiteral": regex_replace_all_literal,
        "regexSplit": regex_split,
    }
    for name in (
        "genPrivateKey",
        "derivePassword",
        "buildCustomCert",
        "genCA",
        "genSelfSignedCert",
        "genSignedCert",
        "encryptAES",
        "decryptAES",
        "urlParse",
        "urlJoin",
    ):
        f[name] = _unsupported(name)
    return f


def _product(a: Any, rest_: tuple[Any, ...]) -> int:
    val = to_int64(a)
    for b in rest_:
        val = _wrap64(val * to_int64(b))
    return val


def _ago(d: Any) -> str:
    t = _to_time(d)
    secs = round((_local_now() - t).total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    h, m, s = secs // 3600, secs % 3600 // 60, secs % 60
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


def _get_host_by_name(name: str) -> str:
    import socket

    try:
        return secrets.choice(socket.gethostbyname_ex(name)[2])
    except OSError:
        return ""
