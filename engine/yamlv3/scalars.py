"""Plain-scalar resolution, timestamps and number formatting exactly as gopkg.in/yaml.v3 v3.0.1.

Follows vendor/gopkg.in/yaml.v3/resolve.go (``resolve``, ``parseTimestamp``) plus the Go standard
library behaviour it relies on (strconv.ParseInt/ParseUint/ParseFloat, time.Parse,
strconv.FormatFloat(f, 'g', -1, 64), time.Time.Format(time.RFC3339Nano)).
"""

from __future__ import annotations

import math
import re
from typing import Any

NULL_TAG = "!!null"
BOOL_TAG = "!!bool"
STR_TAG = "!!str"
INT_TAG = "!!int"
FLOAT_TAG = "!!float"
TIMESTAMP_TAG = "!!timestamp"
SEQ_TAG = "!!seq"
MAP_TAG = "!!map"
BINARY_TAG = "!!binary"
MERGE_TAG = "!!merge"

_LONG_PREFIX = "tag:yaml.org,2002:"
_RESOLVABLE = frozenset(("", STR_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, NULL_TAG, TIMESTAMP_TAG))

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
UINT64_MAX = (1 << 64) - 1


class ResolveError(Exception):
    """An explicitly tagged scalar cannot be decoded as its tag (yaml.v3 ``failf``)."""


class Timestamp:
    """A decoded ``!!timestamp``: the fields Go's time.Time keeps, re-emitted as RFC3339Nano.

    ``offset`` is the zone offset in seconds east of UTC (0 for ``Z`` and for zone-less forms).
    """

    __slots__ = ("day", "hour", "minute", "month", "nanosecond", "offset", "second", "year")

    def __init__(
        self,
        year: int,
        month: int,
        day: int,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        nanosecond: int = 0,
        offset: int = 0,
    ) -> None:
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
        self.offset = offset

    def _fields(self) -> tuple[int, ...]:
        return (
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nanosecond,
            self.offset,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Timestamp({self.rfc3339()!r})"

    def __str__(self) -> str:
        return self.rfc3339()

    def rfc3339(self) -> str:
        """The text yaml.v3 emits: Go's ``t.Format(time.RFC3339Nano)``."""
        text = (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            f"T{self.hour:02d}:{self.minute:02d}:{self.second:02d}"
        )
        if self.nanosecond:
            text += "." + f"{self.nanosecond:09d}".rstrip("0")
        if self.offset == 0:
            return text + "Z"
        minutes = abs(self.offset) // 60
        sign = "-" if self.offset < 0 else "+"
        return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def short_tag(tag: str) -> str:
    """yaml.v3 ``shortTag``: ``tag:yaml.org,2002:x`` → ``!!x``."""
    if tag.startswith(_LONG_PREFIX):
        return "!!" + tag[len(_LONG_PREFIX) :]
    return tag


_NAN = float("nan")
_INF = float("inf")
_RESOLVE_MAP: dict[str, tuple[str, Any]] = {}
for _tag, _value, _words in (
    (BOOL_TAG, True, ("true", "True", "TRUE")),
    (BOOL_TAG, False, ("false", "False", "FALSE")),
    (NULL_TAG, None, ("", "~", "null", "Null", "NULL")),
    (FLOAT_TAG, _NAN, (".nan", ".NaN", ".NAN")),
    (FLOAT_TAG, _INF, (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")),
    (FLOAT_TAG, -_INF, ("-.inf", "-.Inf", "-.INF")),
    (MERGE_TAG, "<<", ("<<",)),
):
    for _word in _words:
        _RESOLVE_MAP[_word] = (_tag, _value)

# resolve.go's resolveTable: the first byte hints at what a plain scalar may be.
_HINT: dict[str, str] = {"+": "S", "-": "S", ".": "."}
_HINT.update(dict.fromkeys("0123456789", "D"))
_HINT.update(dict.fromkeys("yYnNtTfFoO~", "M"))

_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# strconv.ParseFloat on a string starting with '.': Go float-literal syntax (underscores
# only between digits, see strconv's underscoreOK).
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?")
_UINT_DIGITS = {
    2: re.compile(r"[01]+"),
    8: re.compile(r"[0-7]+"),
    10: re.compile(r"[0-9]+"),
    16: re.compile(r"[0-9a-fA-F]+"),
}


def _parse_uint(s: str) -> int | None:
    """strconv.ParseUint(s, 0, 64) (underscores already removed), or None on error."""
    if not s:
        return None
    base = 10
    if s[0] == "0":
        prefix = s[1:2].lower()
        if len(s) >= 3 and prefix in ("b", "o", "x"):
            base = {"b": 2, "o": 8, "x": 16}[prefix]
            s = s[2:]
        else:
            base = 8
            s = s[1:]
            if not s:
                return 0
    if _UINT_DIGITS[base].fullmatch(s) is None:
        return None
    value = int(s, base)
    return value if value <= UINT64_MAX else None


def _parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), or None on error."""
    negative = False
    body = s
    if body[:1] in ("+", "-"):
        negative = body[0] == "-"
        body = body[1:]
    value = _parse_uint(body)
    if value is None:
        return None
    if negative:
        return -value if value <= -INT64_MIN else None
    return value if value <= INT64_MAX else None


def _parse_float(s: str) -> float | None:
    """strconv.ParseFloat for already-validated decimal text; None on overflow (ErrRange)."""
    value = float(s.replace("_", ""))
    if math.isinf(value):
        return None
    return value


def resolve(tag: str, text: str) -> tuple[str, Any]:
    """yaml.v3 ``resolve(tag, in)``: the resolved short tag and Python value.

    Raises ResolveError when an explicit tag cannot hold the value (Go's failf in the deferred
    check of resolve.go).
    """
    tag = short_tag(tag)
    if tag not in _RESOLVABLE:
        return tag, text
    rtag, out = _resolve_untagged(tag, text)
    if tag in ("", rtag, STR_TAG, BINARY_TAG):
        return rtag, out
    if tag == FLOAT_TAG and rtag == INT_TAG:
        return FLOAT_TAG, float(out)
    raise ResolveError(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolve_untagged(tag: str, text: str) -> tuple[str, Any]:
    hint = _HINT.get(text[:1], "N" if not text else "")
    if not hint or tag in (STR_TAG, BINARY_TAG):
        return STR_TAG, text
    item = _RESOLVE_MAP.get(text)
    if item is not None:
        return item
    if hint == ".":
        if _DOT_FLOAT.fullmatch(text) is not None:
            value = _parse_float(text)
            if value is not None:
                return FLOAT_TAG, value
    elif hint in ("D", "S"):
        if tag in ("", TIMESTAMP_TAG):
            stamp = parse_timestamp(text)
            if stamp is not None:
                return TIMESTAMP_TAG, stamp
        plain = text.replace("_", "")
        if plain:
            number = _parse_int(plain)
            if number is None and plain[0] != "+" and plain[0] != "-":
                number = _parse_uint(plain)
            if number is not None:
                return INT_TAG, number
            if _YAML_STYLE_FLOAT.fullmatch(plain) is not None:
                value = _parse_float(plain)
                if value is not None:
                    return FLOAT_TAG, value
        # resolve.go's explicit 0b/-0b/0o/-0o branches repeat what ParseInt(plain, 0, 64)
        # already accepts, so nothing more can resolve here.
    return STR_TAG, text


# --- timestamps (resolve.go parseTimestamp + Go time.Parse semantics) -----------------------

_TS_FULL = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:([Tt])|( ))([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})"
    r"(?:[.,]([0-9]+))?"
    r"(Z|[-+][0-9]{2}:[0-9]{2})?"
)
_TS_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(month: int, year: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month - 1]


def parse_timestamp(text: str) -> Timestamp | None:
    """yaml.v3 parseTimestamp: the four allowed time.Parse layouts, or None."""
    if len(text) < 5 or text[4] != "-" or not text[:4].isdigit() or not text[:4].isascii():
        return None
    match = _TS_FULL.fullmatch(text)
    if match is not None:
        zone = match.group(10)
        # "2006-1-2 15:4:5.999999999" has no zone; the T layouts require one.
        if (match.group(4) is not None) != (zone is not None):
            return None
        return _build_timestamp(match, zone)
    match = _TS_DATE.fullmatch(text)
    if match is not None:
        year, month, day = (int(g) for g in match.groups())
        if 1 <= month <= 12 and 1 <= day <= _days_in(month, year):
            return Timestamp(year, month, day)
    return None


def _build_timestamp(match: re.Match[str], zone: str | None) -> Timestamp | None:
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    hour, minute, second = int(match.group(6)), int(match.group(7)), int(match.group(8))
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60):
        return None
    if not 1 <= day <= _days_in(month, year):
        return None
    frac = match.group(9) or ""
    nanos = int(frac[:9].ljust(9, "0")) if frac else 0
    offset = 0
    if zone is not None and zone != "Z":
        hours, mins = int(zone[1:3]), int(zone[4:6])
        if hours > 24 or mins > 60:  # time.Parse's range test uses > (not >=)
            return None
        offset = (hours * 60 + mins) * 60
        if zone[0] == "-":
            offset = -offset
    return Timestamp(year, month, day, hour, minute, second, nanos, offset)


# --- number formatting -------------------------------------------------------------------


def format_float(value: float) -> str:
    """Go strconv.FormatFloat(f, 'g', -1, 64) with yaml.v3's .inf/-.inf/.nan spellings."""
    if value != value:
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # decimal exponent of the first significant digit
    if int_part.strip("0"):
        exp = len(int_part.lstrip("0")) - 1
    else:
        exp = -(len(frac_part) - len(frac_part.lstrip("0"))) - 1
    exp += int(exp_text or "0")
    digits = digits.rstrip("0") or "0"
    if exp < -4 or exp >= 6:  # 'g' with shortest precision uses eprec = 6
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[: exp + 1]}.{digits[exp + 1 :]}"
