"""Go's ``time.Time.Format`` for any Go layout string.

The layout is scanned exactly as Go's ``time/format.go`` (``nextStdChunk``) scans it: the
reference time ``Mon Jan 2 15:04:05 MST 2006`` names each element; anything else is literal.
The dateTime tagger (``pkg/skaffold/tag/date_time.go``) formats with this.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

_LONG_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Numeric zone layouts after the "-" or "Z", in Go's matching order: (text, with minutes)
_ZONE_LAYOUTS = (
    ("070000", True),
    ("07:00:00", True),
    ("0700", True),
    ("07:00", True),
    ("07", False),
)

Formatter = Callable[[datetime.datetime], str]


def format_time(t: datetime.datetime, layout: str) -> str:
    """Render ``t`` with Go layout ``layout`` (naive times are treated as UTC)."""
    out: list[str] = []
    rest = layout
    while rest:
        prefix, fmt, rest = _next_chunk(rest)
        out.append(prefix)
        if fmt is None:
            break
        out.append(fmt(t))
    return "".join(out)


def _next_chunk(layout: str) -> tuple[str, Formatter | None, str]:
    """Split ``layout`` into literal prefix, the first element's formatter and the rest."""
    n = len(layout)
    for i, c in enumerate(layout):
        found = _element_at(layout, i, c, n)
        if found is not None:
            start, fmt, end = found
            return layout[:start], fmt, layout[end:]
    return layout, None, ""


def _element_at(layout: str, i: int, c: str, n: int) -> tuple[int, Formatter, int] | None:
    """The layout element starting at ``i`` as (start, formatter, end), following Go's order."""
    if c == "J" and layout.startswith("Jan", i):
        if layout.startswith("January", i):
            return i, lambda t: _LONG_MONTHS[t.month - 1], i + 7
        if not _starts_lower(layout, i + 3):
            return i, lambda t: _LONG_MONTHS[t.month - 1][:3], i + 3
    elif c == "M" and i + 3 <= n:
        if layout.startswith("Mon", i):
            if layout.startswith("Monday", i):
                return i, lambda t: _LONG_DAYS[t.weekday()], i + 6
            if not _starts_lower(layout, i + 3):
                return i, lambda t: _LONG_DAYS[t.weekday()][:3], i + 3
        if layout.startswith("MST", i):
            return i, _zone_name, i + 3
    elif c == "0":
        return _zero_element(layout, i, n)
    elif c == "1":
        if layout.startswith("15", i):
            return i, lambda t: f"{t.hour:02d}", i + 2
        return i, lambda t: str(t.month), i + 1
    elif c == "2":
        if layout.startswith("2006", i):
            return i, lambda t: f"{t.year:04d}", i + 4
        return i, lambda t: str(t.day), i + 1
    elif c == "_":
        return _underscore_element(layout, i)
    elif c in "345":
        return i, _SIMPLE[c], i + 1
    elif c == "P" and layout.startswith("PM", i):
        return i, lambda t: "PM" if t.hour >= 12 else "AM", i + 2
    elif c == "p" and layout.startswith("pm", i):
        return i, lambda t: "pm" if t.hour >= 12 else "am", i + 2
    elif c in "-Z":
        return _zone_element(layout, i, c)
    elif c in ".,":
        return _fraction_element(layout, i, c, n)
    return None


def _starts_lower(layout: str, i: int) -> bool:
    return i < len(layout) and "a" <= layout[i] <= "z"


_SIMPLE: dict[str, Formatter] = {
    "3": lambda t: str(_hour12(t)),
    "4": lambda t: str(t.minute),
    "5": lambda t: str(t.second),
}


def _hour12(t: datetime.datetime) -> int:
    hour = t.hour % 12
    return 12 if hour == 0 else hour


def _zero_element(layout: str, i: int, n: int) -> tuple[int, Formatter, int] | None:
    if i + 2 <= n and "1" <= layout[i + 1] <= "6":
        return i, _ZERO_X[layout[i + 1]], i + 2
    if layout.startswith("002", i):
        return i, lambda t: f"{t.timetuple().tm_yday:03d}", i + 3
    return None


_ZERO_X: dict[str, Formatter] = {
    "1": lambda t: f"{t.month:02d}",
    "2": lambda t: f"{t.day:02d}",
    "3": lambda t: f"{_hour12(t):02d}",
    "4": lambda t: f"{t.minute:02d}",
    "5": lambda t: f"{t.second:02d}",
    "6": lambda t: f"{t.year % 100:02d}",
}


def _underscore_element(layout: str, i: int) -> tuple[int, Formatter, int] | None:
    if layout.startswith("_2", i):
        # Go: "_2006" is a literal underscore followed by the long year.
        if layout.startswith("2006", i + 1):
            return i + 1, lambda t: f"{t.year:04d}", i + 5
        return i, lambda t: f"{t.day:2d}", i + 2
    if layout.startswith("__2", i):
        return i, lambda t: f"{t.timetuple().tm_yday:3d}", i + 3
    return None


def _zone_element(layout: str, i: int, c: str) -> tuple[int, Formatter, int] | None:
    for text, with_minutes in _ZONE_LAYOUTS:
        if layout.startswith(text, i + 1):
            seconds = len(text) > 5
            fmt = _zone_formatter(c == "Z", ":" in text, with_minutes, seconds)
            return i, fmt, i + 1 + len(text)
    return None


def _zone_formatter(iso: bool, colon: bool, minutes: bool, seconds: bool) -> Formatter:
    def fmt(t: datetime.datetime) -> str:
        offset = _offset_seconds(t)
        if offset == 0 and iso:
            return "Z"
        sign = "-" if offset < 0 else "+"
        absoffset = abs(offset)
        zone = absoffset // 60
        out = f"{sign}{zone // 60:02d}"
        if colon:
            out += ":"
        if minutes:
            out += f"{zone % 60:02d}"
        if seconds:
            out += (":" if colon else "") + f"{absoffset % 60:02d}"
        return out

    return fmt


def _fraction_element(layout: str, i: int, sep: str, n: int) -> tuple[int, Formatter, int] | None:
    if i + 1 >= n or layout[i + 1] not in "09":
        return None
    ch = layout[i + 1]
    j = i + 1
    while j < n and layout[j] == ch:
        j += 1
    # Go: only a fractional second when the run of equal digits ends here.
    if j < n and layout[j].isdigit() and layout[j].isascii():
        return None
    digits = j - (i + 1)
    trim = ch == "9"

    def fmt(t: datetime.datetime) -> str:
        nanos = t.microsecond * 1000
        if trim and nanos == 0:
            return ""
        frac = f"{nanos:09d}"[: min(digits, 9)]
        if trim:
            frac = frac.rstrip("0")
            return f"{sep}{frac}" if frac else ""
        return f"{sep}{frac}"

    return i, fmt, j


def _offset_seconds(t: datetime.datetime) -> int:
    delta = t.utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _zone_name(t: datetime.datetime) -> str:
    """Go's ``MST`` element: the zone abbreviation, or ``-0700`` form when there is none."""
    name = t.tzname() if t.tzinfo is not None else "UTC"
    if name:
        return name
    offset = _offset_seconds(t)
    sign = "-" if offset < 0 else "+"
    zone = abs(offset) // 60
    return f"{sign}{zone // 60:02d}{zone % 60:02d}"
