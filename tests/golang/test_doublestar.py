"""engine.golang.doublestar against bmatcuk/doublestar v1.3.4's own test table.

``MATCH_TESTS`` is ``matchTests`` of the library's ``doublestar_test.go`` (pattern, path,
should match, bad pattern, also checked on disk), and ``_tree`` builds the directory its
``TestMain`` creates, so Glob is checked on the same files, with relative and absolute paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.golang import doublestar

MATCH_TESTS = [
    ("*", "", True, False, False),
    ("*", "/", False, False, False),
    ("/*", "/", True, False, False),
    ("/*", "/debug/", False, False, False),
    ("/*", "//", False, False, False),
    ("abc", "abc", True, False, True),
    ("*", "abc", True, False, True),
    ("*c", "abc", True, False, True),
    ("*/", "a/", True, False, False),
    ("a*", "a", True, False, True),
    ("a*", "abc", True, False, True),
    ("a*", "ab/c", False, False, True),
    ("a*/b", "abc/b", True, False, True),
    ("a*/b", "a/c/b", False, False, True),
    ("a*b*c*d*e*", "axbxcxdxe", True, False, True),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False, True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False, True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False, True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False, True),
    ("a*b?c*x", "abxbbxdbxebxczzx", True, False, True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False, True),
    ("ab[c]", "abc", True, False, True),
    ("ab[b-d]", "abc", True, False, True),
    ("ab[e-g]", "abc", False, False, True),
    ("ab[^c]", "abc", False, False, True),
    ("ab[^b-d]", "abc", False, False, True),
    ("ab[^e-g]", "abc", True, False, True),
    ("a\\*b", "ab", False, False, True),
    ("a?b", "a☺b", True, False, True),
    ("a[^a]b", "a☺b", True, False, True),
    ("a???b", "a☺b", False, False, True),
    ("a[^a][^a][^a]b", "a☺b", False, False, True),
    ("[a-ζ]*", "α", True, False, True),
    ("*[a-ζ]", "A", False, False, True),
    ("a?b", "a/b", False, False, True),
    ("a*b", "a/b", False, False, True),
    ("[\\]a]", "]", True, False, True),
    ("[\\-]", "-", True, False, True),
    ("[x\\-]", "x", True, False, True),
    ("[x\\-]", "-", True, False, True),
    ("[x\\-]", "z", False, False, True),
    ("[\\-x]", "x", True, False, True),
    ("[\\-x]", "-", True, False, True),
    ("[\\-x]", "a", False, False, True),
    ("[]a]", "]", False, True, True),
    ("[-]", "-", False, True, True),
    ("[x-]", "x", False, True, True),
    ("[x-]", "-", False, True, True),
    ("[x-]", "z", False, True, True),
    ("[-x]", "x", False, True, True),
    ("[-x]", "-", False, True, True),
    ("[-x]", "a", False, True, True),
    ("\\", "a", False, True, True),
    ("[a-b-c]", "a", False, True, True),
    ("[", "a", False, True, True),
    ("[^", "a", False, True, True),
    ("[^bc", "a", False, True, True),
    ("a[", "a", False, False, False),
    ("a[", "ab", False, True, True),
    ("*x", "xxx", True, False, True),
    ("[abc]", "b", True, False, True),
    ("a/**", "a", False, False, True),
    ("a/**", "a/b", True, False, True),
    ("a/**", "a/b/c", True, False, True),
    ("**/c", "c", True, False, True),
    ("**/c", "b/c", True, False, True),
    ("**/c", "a/b/c", True, False, True),
    ("**/c", "a/b", False, False, True),
    ("**/c", "abcd", False, False, True),
    ("**/c", "a/abc", False, False, True),
    ("a/**/b", "a/b", True, False, True),
    ("a/**/c", "a/b/c", True, False, True),
    ("a/**/d", "a/b/c/d", True, False, True),
    ("a/\\**", "a/b/c", False, False, True),
    # this is an odd case: filepath.Glob() will return results
    ("a//b/c", "a/b/c", False, False, False),
    ("a/b/c", "a/b//c", False, False, True),
    # also odd: Glob + filepath.Glob return results
    ("a/", "a", False, False, False),
    ("ab{c,d}", "abc", True, False, True),
    ("ab{c,d,*}", "abcde", True, False, True),
    ("ab{c,d}[", "abcd", False, True, True),
    ("a{,bc}", "a", True, False, True),
    ("a{,bc}", "abc", True, False, True),
    ("a/{b/c,c/b}", "a/b/c", True, False, True),
    ("a/{b/c,c/b}", "a/c/b", True, False, True),
    ("{a/{b,c},abc}", "a/b", True, False, True),
    ("{a/{b,c},abc}", "a/c", True, False, True),
    ("{a/{b,c},abc}", "abc", True, False, True),
    ("{a/{b,c},abc}", "a/b/c", False, False, True),
    ("{a/ab*}", "a/abc", True, False, True),
    ("{a/*}", "a/b", True, False, True),
    ("{a/abc}", "a/abc", True, False, True),
    ("{a/b,a/c}", "a/c", True, False, True),
    ("abc/**", "abc/b", True, False, True),
    ("**/abc", "abc", True, False, True),
    ("abc**", "abc/b", False, False, True),
    ("**/*.txt", "abc/【test】.txt", True, False, True),
    ("**/【*", "abc/【test】.txt", True, False, True),
    ("broken-symlink", "broken-symlink", True, False, True),
    ("working-symlink/c/*", "working-symlink/c/d", True, False, True),
    ("working-sym*/*", "working-symlink/c", True, False, True),
    ("b/**/f", "b/symlink-dir/f", True, False, True),
]

_DIRS = ("a/b/c", "a/c", "abc", "axbxcxdxe/xxx", "axbxcxdxexxx", "b")
_FILES = (
    "a/abc", "a/b/c/d", "a/c/b", "abc/b", "abcd", "abcde", "abxbbxdbxebxczzx",
    "abxbbxdbxebxczzy", "axbxcxdxe/f", "axbxcxdxe/xxx/f", "axbxcxdxexxx/f",
    "axbxcxdxexxx/fff", "a☺b", "b/c", "c", "x", "xxx", "z", "α", "abc/【test】.txt", "-", "]",
)  # fmt: skip
_LINKS = (
    ("../axbxcxdxe/", "b/symlink-dir"),
    ("/tmp/nonexistant-file-20160902155705", "broken-symlink"),
    ("a/b", "working-symlink"),
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doublestar") / "test"
    for d in _DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in _FILES:
        (root / f).touch()
    for target, link in _LINKS:
        os.symlink(target, root / link)
    return root


def _match(pattern: str, name: str) -> tuple[bool, bool]:
    try:
        return doublestar.path_match(pattern, name), False
    except doublestar.BadPattern:
        return False, True


@pytest.mark.parametrize(("pattern", "path", "should", "bad", "on_disk"), MATCH_TESTS)
def test_path_match(pattern: str, path: str, should: bool, bad: bool, on_disk: bool) -> None:
    assert _match(pattern, path) == (should, bad)


@pytest.mark.parametrize(("pattern", "path", "should", "bad", "on_disk"), MATCH_TESTS)
@pytest.mark.parametrize("absolute", [False, True])
def test_glob(
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    pattern: str,
    path: str,
    should: bool,
    bad: bool,
    on_disk: bool,
    absolute: bool,
) -> None:
    if not on_disk:
        pytest.skip("the library checks this case with Match only")
    monkeypatch.chdir(tree.parent)
    base = str(tree) if absolute else "test"
    try:
        found, raised = doublestar.glob(f"{base}/{pattern}"), False
    except doublestar.BadPattern:
        found, raised = [], True
    assert (f"{base}/{path}" in found) == should
    assert raised == bad


def test_glob_sorted(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    expected = ["a", "abc", "abcd", "abcde", "abxbbxdbxebxczzx", "abxbbxdbxebxczzy",
                "axbxcxdxe", "axbxcxdxexxx", "a☺b"]  # fmt: skip
    assert doublestar.glob("test/a*") == [f"test/{e}" for e in expected]
