"""engine.core.sanitize: untrusted text becomes one readable, inert log line."""

from __future__ import annotations

import pytest

from engine.core.proc import Completed, describe_failure, go_quote
from engine.core.sanitize import DEFAULT_LIMIT, defuse_ci_commands, go_escape, one_line

HOSTILE = "denied\n::error::pwned\r\x1b[31mred\x1b[0m\x07\u2028next\u202eevil\x00end"


def test_control_characters_are_escaped_onto_one_line() -> None:
    line = one_line(HOSTILE)
    assert line == (
        "denied\\n::error::pwned\\r\\x1b[31mred\\x1b[0m\\a\\u2028next\\u202eevil\\x00end"
    )
    assert line.isprintable()


def test_backslashes_cannot_fake_an_escape() -> None:
    assert one_line("a\\nb") == "a\\\\nb"
    assert one_line("a\nb") != one_line("a\\nb")


def test_printable_unicode_is_kept_and_undecodable_bytes_are_shown() -> None:
    raw = "é ü 日本 ✓".encode() + b"\xff\xfe"
    assert one_line(raw.decode("utf-8", "surrogateescape")) == "é ü 日本 ✓\\xff\\xfe"
    assert one_line("\U0001f600 \U000e0001") == "\U0001f600 \\U000e0001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::error::pwned", "\\x3a:error::pwned"),
        ("  ::add-mask::x", "  \\x3a:add-mask::x"),
        ("fine: a::b", "fine: a::b"),  # not at the start: GitHub ignores it
        ("x ##[error]y", "x \\x23#[error]y"),
        ("x ##vso[task.setvariable variable=A]1", "x \\x23#vso[task.setvariable variable=A]1"),
        ("issue #12 [x] ## [y]", "issue #12 [x] ## [y]"),
    ],
)
def test_ci_workflow_commands_are_defused(text: str, expected: str) -> None:
    assert one_line(text) == expected
    assert defuse_ci_commands(text) == expected


def test_length_is_bounded_without_cutting_an_escape() -> None:
    line = one_line("x" * 5000)
    assert line == "x" * DEFAULT_LIMIT + f"... ({5000 - DEFAULT_LIMIT} more characters)"
    escapes = one_line("\x1b" * 10, limit=10)  # 4 characters each: two fit
    assert escapes == "\\x1b\\x1b... (8 more characters)"


def test_go_quote_is_strconv_quote() -> None:
    # Go: strconv.Quote("a\"b\\c\n\x1b\u00e9\u2028\x7f") == `"a\"b\\c\n\x1bé\u2028\x7f"`
    assert go_quote('a"b\\c\n\x1b\u00e9\u2028\x7f') == '"a\\"b\\\\c\\n\\x1bé\\u2028\\x7f"'
    assert go_escape("tab\there") == "tab\\there"


def test_tool_failure_keeps_skaffolds_shape_with_hostile_output_inert() -> None:
    done = Completed(
        ("kustomize", "build", "."),
        3,
        b"",
        b"Error: boom\n::error::pwned\n\x1b[2J##[warning]x\xff",
    )
    text = describe_failure(done)
    assert text.splitlines() == [
        "running [kustomize build .]",
        ' - stdout: ""',
        ' - stderr: "Error: boom\\n::error::pwned\\n\\x1b[2J\\x23#[warning]x\\xff"',
        " - cause: exit status 3",
    ]
