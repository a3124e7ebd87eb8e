from __future__ import annotations

import datetime
import zoneinfo

import pytest

from engine.golayout import format_time

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
