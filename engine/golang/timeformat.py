"""Go time layouts: ``time.Time.Format`` exactly, and the subset of ``time.Parse`` Sprig needs.

The layout is scanned as Go's ``time/format.go`` (``nextStdChunk``) scans it: the reference
time ``Mon Jan 2 15:04:05 MST 2006`` names each element; anything else is literal.  Users: the
dateTime tagger (``pkg/skaffold/tag/date_time.go``), Sprig's date functions and ``toDate``, and
``time.Time.String`` in template output.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MONTH_NAMES = (
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
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# time.Time.String()'s layout (Go's time/format.go ``String``).
STRING_LAYOUT = "2006-01-02 15:04:05.999999999 -0700 MST"

# Numeric zone layouts after the "-" or "Z", in Go's matching order.
_ZONE_LAYOUTS = ("070000", "07:00:00", "0700", "07:00", "07")

Formatter = Callable[[datetime.datetime], str]


def format_time(t: datetime.datetime, layout: str) -> str:
    """Render ``t`` with Go layout ``layout`` (naive times are treated as UTC)."""
    out: list[str] = []
    for prefix, element in layout_chunks(layout):
        out.append(prefix)
        if element:
            out.append(_format_element(t, element))
    return "".join(out)


def layout_chunks(layout: str) -> Iterator[tuple[str, str]]:
    """Go's ``nextStdChunk`` loop: (literal prefix, layout element) pairs in order.

    The element is the layout text naming it (``"Jan"``, ``"_2"``, ``"-07:00"``, ``".999"``);
    only the last pair may have an empty element (trailing literal text).
    """
    rest = layout
    while rest:
        prefix, element, rest = _next_chunk(rest)
        yield prefix, element


def _next_chunk(layout: str) -> tuple[str, str, str]:
    """Split ``layout`` into literal prefix, its first element and the rest."""
    n = len(layout)
    for i, c in enumerate(layout):
        found = _element_at(layout, i, c, n)
        if found is not None:
            start, end = found
            return layout[:start], layout[start:end], layout[end:]
    return layout, "", ""


def _element_at(layout: str, i: int, c: str, n: int) -> tuple[int, int] | None:
    """The span (start, end) of the layout element starting at ``i``, in Go's order."""
    if c == "J" and layout.startswith("Jan", i):
        if layout.startswith("January", i):
            return i, i + 7
        if not _starts_lower(layout, i + 3):
            return i, i + 3
    elif c == "M" and i + 3 <= n:
        if layout.startswith("Mon", i):
            if layout.startswith("Monday", i):
                return i, i + 6
            if not _starts_lower(layout, i + 3):
                return i, i + 3
        if layout.startswith("MST", i):
            return i, i + 3
    elif c == "0":
        return _zero_element(layout, i, n)
    elif c == "1":
        return i, i + (2 if layout.startswith("15", i) else 1)
    elif c == "2":
        return i, i + (4 if layout.startswith("2006", i) else 1)
    elif c == "_":
        return _underscore_element(layout, i)
    elif c in "345":
        return i, i + 1
    elif (c == "P" and layout.startswith("PM", i)) or (c == "p" and layout.startswith("pm", i)):
        return i, i + 2
    elif c in "-Z":
        return _zone_element(layout, i)
    elif c in ".,":
        return _fraction_element(layout, i, n)
    return None


def _starts_lower(layout: str, i: int) -> bool:
    return i < len(layout) and "a" <= layout[i] <= "z"


def _zero_element(layout: str, i: int, n: int) -> tuple[int, int] | None:
    if i + 2 <= n and "1" <= layout[i + 1] <= "6":
        return i, i + 2
    if layout.startswith("002", i):
        return i, i + 3
    return None


def _underscore_element(layout: str, i: int) -> tuple[int, int] | None:
    if layout.startswith("_2", i):
        # Go: "_2006" is a literal underscore followed by the long year.
        if layout.startswith("2006", i + 1):
            return i + 1, i + 5
        return i, i + 2
    if layout.startswith("__2", i):
        return i, i + 3
    return None


def _zone_element(layout: str, i: int) -> tuple[int, int] | None:
    for text in _ZONE_LAYOUTS:
        if layout.startswith(text, i + 1):
            return i, i + 1 + len(text)
    return None


def _fraction_element(layout: str, i: int, n: int) -> tuple[int, int] | None:
    if i + 1 >= n or layout[i + 1] not in "09":
        return None
    ch = layout[i + 1]
    j = i + 1
    while j < n and layout[j] == ch:
        j += 1
    # Go: only a fractional second when the run of equal digits ends here (ASCII isDigit).
    if j < n and layout[j].isdigit() and layout[j].isascii():
        return None
    return i, j


# --- formatting --------------------------------------------------------------------------------


def _format_element(t: datetime.datetime, element: str) -> str:
    simple = _FORMATTERS.get(element)
    if simple is not None:
        return simple(t)
    if element[0] in "-Z":
        return _format_zone(t, element)
    return _format_fraction(t, element)


def _hour12(t: datetime.datetime) -> int:
    hour = t.hour % 12
    return 12 if hour == 0 else hour


def _yday(t: datetime.datetime) -> int:
    return t.timetuple().tm_yday


_FORMATTERS: dict[str, Formatter] = {
    "January": lambda t: MONTH_NAMES[t.month - 1],
    "Jan": lambda t: MONTH_NAMES[t.month - 1][:3],
    "Monday": lambda t: DAY_NAMES[t.weekday()],
    "Mon": lambda t: DAY_NAMES[t.weekday()][:3],
    "MST": lambda t: _zone_name(t),
    "2006": lambda t: f"{t.year:04d}",
    "06": lambda t: f"{t.year % 100:02d}",
    "01": lambda t: f"{t.month:02d}",
    "1": lambda t: str(t.month),
    "02": lambda t: f"{t.day:02d}",
    "2": lambda t: str(t.day),
    "_2": lambda t: f"{t.day:2d}",
    "002": lambda t: f"{_yday(t):03d}",
    "__2": lambda t: f"{_yday(t):3d}",
    "15": lambda t: f"{t.hour:02d}",
    "03": lambda t: f"{_hour12(t):02d}",
    "3": lambda t: str(_hour12(t)),
    "04": lambda t: f"{t.minute:02d}",
    "4": lambda t: str(t.minute),
    "05": lambda t: f"{t.second:02d}",
    "5": lambda t: str(t.second),
    "PM": lambda t: "PM" if t.hour >= 12 else "AM",
    "pm": lambda t: "pm" if t.hour >= 12 else "am",
}


def _format_zone(t: datetime.datetime, element: str) -> str:
    """The numeric zone elements (``-0700``, ``Z07:00`` ...); ``Z`` forms print UTC as "Z"."""
    offset = _offset_seconds(t)
    if offset == 0 and element[0] == "Z":
        return "Z"
    body = element[1:]
    colon = ":" in body
    sign = "-" if offset < 0 else "+"
    absoffset = abs(offset)
    zone = absoffset // 60
    out = f"{sign}{zone // 60:02d}"
    if colon:
        out += ":"
    if body != "07":
        out += f"{zone % 60:02d}"
    if len(body) > 5:  # the forms with seconds: 070000, 07:00:00
        out += (":" if colon else "") + f"{absoffset % 60:02d}"
    return out


def _format_fraction(t: datetime.datetime, element: str) -> str:
    """``.000``/``,999`` fractional seconds; the 9 form trims zeros and vanishes at zero."""
    sep, digits, trim = element[0], len(element) - 1, element[1] == "9"
    nanos = t.microsecond * 1000
    if trim and nanos == 0:
        return ""
    frac = f"{nanos:09d}"[: min(digits, 9)]
    if trim:
        frac = frac.rstrip("0")
        return f"{sep}{frac}" if frac else ""
    return f"{sep}{frac}"


def _offset_seconds(t: datetime.datetime) -> int:
    delta = t.utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _zone_name(t: datetime.datetime) -> str:
    """Go's ``MST`` element: the zone abbreviation, or ``-0700`` form when there is none."""
    if t.tzinfo is None:
        return "UTC"
    name = t.tzname() or ""
    if isinstance(t.tzinfo, datetime.timezone) and name.startswith(("UTC+", "UTC-")):
        # Python's label for an unnamed fixed offset; Go's FixedZone("", offset) has no name.
        name = ""
    if name:
        return name
    offset = _offset_seconds(t)
    sign = "-" if offset < 0 else "+"
    zone = abs(offset) // 60
    return f"{sign}{zone // 60:02d}{zone % 60:02d}"


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class _Fields:
    """What a parse has read so far (Go's time.Parse locals)."""

    year: int = 1
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    micro: int = 0
    pm: bool | None = None
    tz: datetime.tzinfo | None = None

    def to_datetime(self) -> datetime.datetime | None:
        """The parsed time; no zone read means local time, like ``time.ParseInLocation``."""
        hour = self.hour if self.pm is None else self.hour % 12 + (12 if self.pm else 0)
        try:
            naive = datetime.datetime(
                self.year, self.month, self.day, hour, self.minute, self.second, self.micro
            )
        except ValueError:
            return None
        if self.tz is not None:
            return naive.replace(tzinfo=self.tz)
        return naive.astimezone()


def parse_time(layout: str, value: str) -> datetime.datetime | None:
    """A lenient ``time.ParseInLocation(layout, value, time.Local)`` (None when it fails).

    It is the approximation Sprig's ``toDate`` needs: names match case-insensitively, numbers
    are not range-checked beyond what ``datetime`` rejects, weekdays are read and ignored.
    """
    fields = _Fields()
    i = 0
    for prefix, element in layout_chunks(layout):
        if not value.startswith(prefix, i):
            return None
        i += len(prefix)
        if element:
            end = _parse_element(element, value, i, fields)
            if end is None:
                return None
            i = end
    if i != len(value):
        return None
    return fields.to_datetime()


def _parse_element(element: str, value: str, i: int, fields: _Fields) -> int | None:
    """Read ``element`` at ``value[i:]`` into ``fields``; the end position, or None."""
    if element in ("January", "Jan", "Monday", "Mon"):
        return _parse_name(element, value, i, fields)
    if element in ("PM", "pm"):
        word = value[i : i + 2].upper()
        if word not in ("AM", "PM"):
            return None
        fields.pm = word == "PM"
        return i + 2
    if element == "MST":
        return _parse_zone_name(value, i, fields)
    if element[0] in "-Z":
        return _parse_zone(element, value, i, fields)
    if element[0] in ".,":
        m = re.match(r"[.,](\d+)", value[i:])
        if not m:
            return None
        fields.micro = int((m.group(1) + "000000")[:6])
        return i + len(m.group(0))
    return _parse_number(element, value, i, fields)


def _parse_name(element: str, value: str, i: int, fields: _Fields) -> int | None:
    month = element.startswith("Jan")
    for idx, name in enumerate(MONTH_NAMES if month else DAY_NAMES):
        cand = name if len(element) > 3 else name[:3]
        if value[i : i + len(cand)].lower() == cand.lower():
            if month:
                fields.month = idx + 1
            return i + len(cand)
    return None


def _parse_zone_name(value: str, i: int, fields: _Fields) -> int | None:
    m = re.match(r"[A-Z]{3,5}|[+-]\d+", value[i:])
    if not m:
        return None
    if m.group(0) == "UTC":
        fields.tz = datetime.timezone.utc
    return i + len(m.group(0))


def _parse_zone(element: str, value: str, i: int, fields: _Fields) -> int | None:
    if element[0] == "Z" and value[i : i + 1] == "Z":
        fields.tz = datetime.timezone.utc
        return i + 1
    m = re.match(r"([+-])(\d\d):?(\d\d)?:?(\d\d)?", value[i:])
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    delta = datetime.timedelta(
        hours=int(m.group(2)), minutes=int(m.group(3) or 0), seconds=int(m.group(4) or 0)
    )
    fields.tz = datetime.timezone(sign * delta)
    return i + len(m.group(0))


# Fixed-width numeric elements; the others take 1-2 digits (1-3, space-padded, for "_" forms).
_NUM_WIDTH = {"2006": 4, "01": 2, "02": 2, "15": 2, "03": 2, "04": 2, "05": 2, "06": 2, "002": 3}
_NUM_FIELD = {
    "01": "month",
    "1": "month",
    "02": "day",
    "2": "day",
    "_2": "day",
    "15": "hour",
    "03": "hour",
    "3": "hour",
    "04": "minute",
    "4": "minute",
    "05": "second",
    "5": "second",
}


def _parse_number(element: str, value: str, i: int, fields: _Fields) -> int | None:
    width = _NUM_WIDTH.get(element)
    if width is not None:
        digits = value[i : i + width]
        if len(digits) != width or not digits.isdigit():
            return None
        end = i + width
    else:
        m = re.match(r" ?\d{1,3}" if element.startswith("_") else r"\d{1,2}", value[i:])
        if not m:
            return None
        digits = m.group(0).strip()
        end = i + len(m.group(0))
    n = int(digits)
    if element == "2006":
        fields.year = n
    elif element == "06":
        fields.year = n + (1900 if n >= 69 else 2000)
    elif element in _NUM_FIELD:
        setattr(fields, _NUM_FIELD[element], n)
    return end
