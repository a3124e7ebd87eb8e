"""go-shellquote's Split (for SKAFFOLD_CMDLINE), vectors traced from its unquote.go as vendored
by skaffold v2.24.0."""

from __future__ import annotations

import pytest

from engine.golang.shellquote import SplitError, split


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("  ", []),
        ("a b c", ["a", "b", "c"]),
        ("a\tb\nc", ["a", "b", "c"]),
        ("'a b' c", ["a b", "c"]),
        ('"a b" c', ["a b", "c"]),
        ('"a\\"b"', ['a"b']),
        ('"a\\$b"', ["a$b"]),
        ('"a\\qb"', ["a\\qb"]),  # only $ ` " \\ and newline are escapes inside double quotes
        ("a\\ b", ["a b"]),
        ("a\\\nb", ["ab"]),  # an escaped newline is dropped
        ("\\\na", ["a"]),
        ("'a'\"b\"c", ["abc"]),
        ("'\\'", ["\\"]),  # nothing escapes inside single quotes
    ],
)
def test_split(text: str, words: list[str]) -> None:
    assert split(text) == words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'a", "Unterminated single-quoted string"),
        ('"a', "Unterminated double-quoted string"),
        ('"a\\', "Unterminated double-quoted string"),
        ("a\\", "Unterminated backslash-escape"),
        ("\\", "Unterminated backslash-escape"),
    ],
)
def test_unterminated(text: str, message: str) -> None:
    with pytest.raises(SplitError, match=f"^{message}$"):
        split(text)
