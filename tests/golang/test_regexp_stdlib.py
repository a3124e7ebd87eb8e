"""The fallback for interpreters without google-re2: Go syntax translated onto Python's re.

Each pattern is checked against the RE2 engine (the reference, a test dependency), so the
fallback can only pass where it agrees with Go's semantics.
"""

from __future__ import annotations

import pytest
import re2

from engine.golang import regexp_stdlib

CASES = [
    (rb"^[[:digit:]]+$", [b"123", b"12a", b"123\n", b""]),
    (rb"[[:alpha:][:digit:]_]+", [b"a_1", b"--", b"\xc3\xa9"]),
    (rb"^dev\z", [b"dev", b"dev\n", b"devx"]),
    (rb"ab$", [b"ab", b"ab\n", b"xab"]),
    (rb"\Qa.b\E+", [b"a.bbb", b"axb"]),
    (rb"(?<env>prod|dev)-[0-9]", [b"prod-1", b"dev-x"]),
    (rb"[]a]+", [b"]a]", b"b"]),
    (rb"[^]a]", [b"]", b"b"]),
]


@pytest.mark.parametrize(("pattern", "texts"), CASES)
def test_translation_matches_like_re2(pattern: bytes, texts: list[bytes]) -> None:
    ours = regexp_stdlib.compile_bytes(pattern)
    reference = re2.compile(pattern)
    for text in texts:
        got, want = ours.search(text), reference.search(text)
        assert (got and got.span()) == (want and want.span()), (pattern, text)


@pytest.mark.parametrize("pattern", [rb"\pL", rb"[[:^digit:]]", rb"[[:nope:]]"])
def test_what_re_cannot_express_is_refused(pattern: bytes) -> None:
    with pytest.raises(regexp_stdlib.Unsupported):
        regexp_stdlib.compile_bytes(pattern)


def test_compile_go_falls_back_without_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from engine.golang import regexp

    monkeypatch.setitem(sys.modules, "re2", None)  # import re2 -> ImportError
    regexp._compile.cache_clear()
    try:
        assert regexp.compile_go(r"^[[:digit:]]+\z").match_string("2026")
        with pytest.raises(regexp.RegexpError, match="google-re2"):
            regexp.compile_go(r"\pL")
    finally:
        regexp._compile.cache_clear()
