"""engine.golang.gofmt's Printf directives: Go's own tables (src/fmt/fmt_test.go).

startests (widths and precisions from ``*`` operands, the 1e6 limit of print.go tooLarge)
and reorderTests (``[n]`` argument indexes, BADINDEX, NOVERB for a crazy long number).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.golang.gofmt import sprintf

# fmt_test.go startests
STAR = [
    ("%*d", (4, 42), "  42"),
    ("%*.*d", (8, 4, 42), "    0042"),
    ("%0*d", (4, 42), "0042"),
    ("%*d", (10**7, 42), "%!(BADWIDTH)42"),
    ("%*d", (-(10**7), 42), "%!(BADWIDTH)42"),
    ("%.*d", (10**7, 42), "%!(BADPREC)42"),
    ("%*d", (5, "foo"), "%!d(string=  foo)"),
    ("%*% %d", (20, 5), "% 5"),
    ("%*", (4,), "%!(NOVERB)"),
    ("%*d", (1.5, 42), "%!(BADWIDTH)42"),  # not an int operand
]
# fmt_test.go reorderTests (and the rest of startests)
REORDER = [
    ("%*d", (10000000, 42), "%!(BADWIDTH)42"),
    ("%.*d", (10000000, 42), "%!(BADPREC)42"),
    ("%*d", (-10000000, 42), "%!(BADWIDTH)42"),
    ("%.*d", (-1, 42), "%!(BADPREC)42"),
    ("%.*d", (None, 42), "%!(BADPREC)42"),
    ("%*d", (None, 42), "%!(BADWIDTH)42"),
    ("%*d", (4, 42), "  42"),
    ("%-*d", (4, 42), "42  "),
    ("%*d", (-4, 42), "42  "),
    ("%-*d", (-4, 42), "42  "),
    ("%.*d", (4, 42), "0042"),
    ("%[1]d", (1,), "1"),
    ("%[2]d", (2, 1), "1"),
    ("%[2]d %[1]d", (1, 2), "2 1"),
    ("%[2]*[1]d", (2, 5), "    2"),
    ("%6.2f", (12.0,), " 12.00"),
    ("%[3]*.[2]*[1]f", (12.0, 2, 6), " 12.00"),
    ("%[1]*.[2]*[3]f", (6, 2, 12.0), " 12.00"),
    ("%10f", (12.0,), " 12.000000"),
    ("%[1]*[3]f", (10, 99, 12.0), " 12.000000"),
    ("%.6f", (12.0,), "12.000000"),
    ("%.[1]*[3]f", (6, 99, 12.0), "12.000000"),
    ("%6f", (12.0,), "12.000000"),
    ("%[1]*.[3]f", (6, 3, 12.0), "    12"),
    ("%d %d %d %#[1]o %#o %#o", (11, 12, 13), "11 12 13 013 014 015"),
    ("%[d", (2, 1), "%!d(BADINDEX)"),
    ("%]d", (2, 1), "%!](int=2)d%!(EXTRA int=1)"),
    ("%[]d", (2, 1), "%!d(BADINDEX)"),
    ("%[-3]d", (2, 1), "%!d(BADINDEX)"),
    ("%[99]d", (2, 1), "%!d(BADINDEX)"),
    ("%[3]", (2, 1), "%!(NOVERB)"),
    ("%[1].2d", (5, 6), "%!d(BADINDEX)"),
    ("%[1]2d", (2, 1), "%!d(BADINDEX)"),
    ("%3.[2]d", (7,), "%!d(BADINDEX)"),
    ("%.[2]d", (7,), "%!d(BADINDEX)"),
    ("%d %d %d %#[1]o %#o %#o %#o", (11, 12, 13), "11 12 13 013 014 015 %!o(MISSING)"),
    ("%[5]d %[2]d %d", (1, 2, 3), "%!d(BADINDEX) 2 3"),
    ("%d %[3]d %d", (1, 2), "1 %!d(BADINDEX) 2"),
    ("%.[]", (), "%!](BADINDEX)"),
    ("%.-3d", (42,), "%!-(int=42)3d"),
    ("%2147483648d", (42,), "%!(NOVERB)%!(EXTRA int=42)"),
    ("%-2147483648d", (42,), "%!(NOVERB)%!(EXTRA int=42)"),
    ("%.2147483648d", (42,), "%!(NOVERB)%!(EXTRA int=42)"),
]


@pytest.mark.parametrize(("fmt", "args", "want"), STAR + REORDER)
def test_printf_directives_are_gos(fmt: str, args: tuple[Any, ...], want: str) -> None:
    assert sprintf(fmt, args) == want


def test_huge_width_is_refused_not_built() -> None:
    # Go refuses a * width over 1e6 and a literal of more than ~1e7; neither builds a string
    start = time.monotonic()
    assert sprintf("%*d", (100_000_000, 1)) == "%!(BADWIDTH)1"
    assert sprintf("%.*f", (100_000_000, 1.5)) == "%!(BADPREC)1.500000"
    assert sprintf("%100000000d|", (1,)) == "%!(NOVERB)%!(EXTRA int=1)"
    assert len(sprintf("%1000000d", (1,))) == 1_000_000  # the limit itself is allowed
    assert time.monotonic() - start < 5
