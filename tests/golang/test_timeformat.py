from __future__ import annotations

import datetime
import zoneinfo

import pytest

from engine.golang.timeformat import STRING_LAYOUT, format_time, layout_chunks, parse_time

UTC_T = datetime.datetime(2026, 11, 27, 4, 43, 6, 226000, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("2006-01-02_15-04-05.999_MST", "2026-11-27_04-43-06.226_UTC"),
        ("2006-01-02", "2026-11-27"),
        ("Mon Jan _2 3:4:5 PM", "Fri Nov 27 4:43:6 AM"),
        ("Monday January 02 03 pm", "Friday November 27 04 am"),
        ("Z07:00 -07:00 -0700 -07", "Z +00:00 +0000 +00"),
        (".000 .000000 ,99 .9", ".226 .226000 ,22 .2"),
        ("002 __2 06", "331 331 26"),
        ("_2006 Jantest Monkey", "_2026 Jantest Monkey"),
        ("15.0001", "04.0011"),
    ],
)
def test_utc_layouts(layout: str, expected: str) -> None:
    assert format_time(UTC_T, layout) == expected


def test_zones() -> None:
    ny = UTC_T.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert format_time(ny, "2006-01-02_15-04-05.999_MST") == "2026-11-26_23-43-06.226_EST"
    assert format_time(ny, "Z07:00:00 -070000") == "-05:00:00 -050000"
    kolkata = UTC_T.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert format_time(kolkata, "MST -07:00 Z07") == "IST +05:30 +05"
    dubai = UTC_T.astimezone(zoneinfo.ZoneInfo("Asia/Dubai"))
    assert format_time(dubai, "MST") == "+04"


def test_trimmed_fraction_disappears_when_zero() -> None:
    t = UTC_T.replace(microsecond=0)
    assert format_time(t, "05.999_x") == "06_x"
    assert format_time(t, "05.000") == "06.000"
    assert format_time(UTC_T.replace(microsecond=100000), "05.999") == "06.1"


def test_fraction_trims_after_truncating() -> None:
    # Go truncates to the layout's digits first, then trims zeros (time/format.go appendNano).
    t = UTC_T.replace(microsecond=105000)
    assert format_time(t, "05.99") == "06.1"
    assert format_time(UTC_T.replace(microsecond=1), "05,9") == "06"
    # Only ASCII digits end a fraction run (Go's isDigit).
    assert format_time(t, ".0\u0663") == ".1\u0663"


def test_unnamed_fixed_zone_prints_numeric_name() -> None:
    # Go's FixedZone("", offset) has no name: MST and String() fall back to -0700 form.
    fixed = UTC_T.astimezone(datetime.timezone(datetime.timedelta(hours=5)))
    assert format_time(fixed, "MST") == "+0500"
    assert format_time(fixed, STRING_LAYOUT) == "2026-11-27 09:43:06.226 +0500 +0500"
    named = UTC_T.astimezone(datetime.timezone(datetime.timedelta(hours=-2), "XST"))
    assert format_time(named, "MST -07") == "XST -02"
    sao_paulo = UTC_T.astimezone(zoneinfo.ZoneInfo("America/Sao_Paulo"))
    assert format_time(sao_paulo, STRING_LAYOUT).endswith(" -0300 -03")
    assert format_time(UTC_T.replace(tzinfo=None), "MST Z07:00") == "UTC Z"


def test_layout_chunks() -> None:
    assert list(layout_chunks("x_2006-01T.999Z07:00!")) == [
        ("x_", "2006"),
        ("-", "01"),
        ("T", ".999"),
        ("", "Z07:00"),
        ("!", ""),
    ]
    assert list(layout_chunks("")) == []


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("2006-01-02T15:04:05Z07:00", "2020-01-02T03:04:05Z", "2020-01-02T03:04:05+00:00"),
        (
            "2006-01-02T15:04:05.000-07:00",
            "2020-01-02T03:04:05.120-05:00",
            "2020-01-02T03:04:05.120000-05:00",
        ),
        (
            "2006-01-02 15:04:05.9 -0700",
            "2020-01-02 03:04:05.12 -0530",
            "2020-01-02T03:04:05.120000-05:30",
        ),
        ("Jan _2 06 3:04PM MST", "feb  5 99 11:30pm UTC", "1999-02-05T23:30:00+00:00"),
        ("Monday 02/01/2006 Z0700", "sunday 31/12/2028 +0100", "2028-12-31T00:00:00+01:00"),
        ("2006-01-02", "2020-13-01", None),
        ("2006-01-02", "2020-01-01x", None),
        ("2006-01-02", "20-01-01", None),
    ],
)
def test_parse_time(layout: str, value: str, expected: str | None) -> None:
    parsed = parse_time(layout, value)
    assert (parsed.isoformat() if parsed is not None else None) == expected


def test_parse_time_without_zone_is_local() -> None:
    parsed = parse_time("2006-01-02 15:04", "2021-06-01 12:30")
    assert parsed is not None and parsed.utcoffset() is not None
    assert parsed.replace(tzinfo=None) == datetime.datetime(2021, 6, 1, 12, 30)
