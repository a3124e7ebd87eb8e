"""engine.golang.filepath against Go's path/filepath semantics (vectors from Go's match_test.go)."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

from engine.golang import filepath

# (pattern, name, matched, bad pattern) - Go's TestMatch table
MATCH_VECTORS = [
    ("abc", "abc", True, False),
    ("*", "abc", True, False),
    ("*c", "abc", True, False),
    ("a*", "a", True, False),
    ("a*", "abc", True, False),
    ("a*", "ab/c", False, False),
    ("a*/b", "abc/b", True, False),
    ("a*/b", "a/c/b", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True, False),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False),
    ("ab[c]", "abc", True, False),
    ("ab[b-d]", "abc", True, False),
    ("ab[e-g]", "abc", False, False),
    ("ab[^c]", "abc", False, False),
    ("ab[^b-d]", "abc", False, False),
    ("ab[^e-g]", "abc", True, False),
    ("a\\*b", "a*b", True, False),
    ("a\\*b", "ab", False, False),
    ("a?b", "a☺b", True, False),
    ("a[^a]b", "a☺b", True, False),
    ("a???b", "a☺b", False, False),
    ("a[^a][^a][^a]b", "a☺b", False, False),
    ("[a-ζ]*", "α", True, False),
    ("*[a-ζ]", "A", False, False),
    ("a?b", "a/b", False, False),
    ("a*b", "a/b", False, False),
    ("[\\]a]", "]", True, False),
    ("[\\-]", "-", True, False),
    ("[x\\-]", "x", True, False),
    ("[x\\-]", "-", True, False),
    ("[x\\-]", "z", False, False),
    ("[\\-x]", "x", True, False),
    ("[\\-x]", "-", True, False),
    ("[\\-x]", "a", False, False),
    ("[]a]", "]", False, True),
    ("[-]", "-", False, True),
    ("[x-]", "x", False, True),
    ("[x-]", "-", False, True),
    ("[x-]", "z", False, True),
    ("[-x]", "x", False, True),
    ("[-x]", "-", False, True),
    ("[-x]", "a", False, True),
    ("\\", "a", False, True),
    ("[a-b-c]", "a", False, True),
    ("[", "a", False, True),
    ("[^", "a", False, True),
    ("[^bc", "a", False, True),
    ("a[", "a", False, True),
    ("a[", "ab", False, True),
    ("a[", "x", False, True),
    ("a/b[", "x", False, True),
    ("*x", "xxx", True, False),
]


@pytest.mark.parametrize(("pattern", "name", "matched", "bad"), MATCH_VECTORS)
def test_match_go_vectors(pattern: str, name: str, matched: bool, bad: bool) -> None:
    if bad:
        with pytest.raises(ValueError, match="syntax error in pattern"):
            filepath.match(pattern, name)
    else:
        assert filepath.match(pattern, name) is matched


def test_match_differs_from_fnmatch() -> None:
    # Go: '*' matches a leading dot, '!' is not negation, '*' stops at '/'
    assert filepath.match("*.yaml", ".hidden.yaml")
    assert filepath.match("[!a]", "!")
    assert not filepath.match("[!a]", "b")
    assert fnmatch.fnmatchcase("b", "[!a]")
    assert not filepath.match("*", "a/b")
    assert fnmatch.fnmatchcase("a/b", "*")


def test_match_bad_pattern_after_mismatch_is_still_an_error() -> None:
    # Go checks the rest of the pattern before answering "no match"
    with pytest.raises(ValueError):
        filepath.match("x*[", "abc")


def test_clean_and_join() -> None:
    assert filepath.clean("") == "."
    assert filepath.clean("//a/./b/../c/") == "/a/c"
    assert filepath.clean("../../a") == "../../a"
    assert filepath.clean("/../a") == "/a"
    assert filepath.clean("a/..") == "."
    assert filepath.join("/w", "k8s/*.yaml") == "/w/k8s/*.yaml"
    assert filepath.join("/w", "/abs") == "/w/abs"
    assert filepath.join("", "") == ""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in [
        "k8s/b.yaml",
        "k8s/a.yaml",
        "k8s/B-upper.yaml",
        "k8s/10-z.yaml",
        "k8s/2-y.yaml",
        "k8s/.hidden.yaml",
        "k8s/notes.txt",
        "k8s/sub/d.yaml",
        "k8s/sub/deeper/e.yaml",
        "other/x.yaml",
        "lit[1]/f.yaml",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    return tmp_path


def test_glob_sorted_bytewise_with_dotfiles(tree: Path) -> None:
    assert filepath.glob_at(str(tree), "k8s/*.yaml") == [
        "k8s/.hidden.yaml",
        "k8s/10-z.yaml",
        "k8s/2-y.yaml",
        "k8s/B-upper.yaml",
        "k8s/a.yaml",
        "k8s/b.yaml",
    ]


def test_glob_double_star_does_not_recurse(tree: Path) -> None:
    assert filepath.glob_at(str(tree), "k8s/**/*.yaml") == ["k8s/sub/d.yaml"]
    assert filepath.glob_at(str(tree), "k8s/**") == filepath.glob_at(str(tree), "k8s/*")


def test_glob_meta_in_directory_levels(tree: Path) -> None:
    assert filepath.glob_at(str(tree), "*/x.yaml") == ["other/x.yaml"]
    assert filepath.glob_at(str(tree), "k8s/s?b/*") == ["k8s/sub/d.yaml", "k8s/sub/deeper"]


def test_glob_escapes_and_literal_paths(tree: Path) -> None:
    assert filepath.glob_at(str(tree), "lit\\[1]/*.yaml") == ["lit[1]/f.yaml"]
    # an unescaped '[1]' is a class, which does not match the literal brackets
    assert filepath.glob_at(str(tree), "lit[1]/*.yaml") == []
    # no meta: returned as written (not cleaned) when it exists, else nothing
    assert filepath.glob_at(str(tree), "k8s/./a.yaml") == ["k8s/./a.yaml"]
    assert filepath.glob_at(str(tree), "k8s/none.yaml") == []


def test_glob_absolute_pattern_and_cwd(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert filepath.glob(f"{tree}/other/*") == [f"{tree}/other/x.yaml"]
    monkeypatch.chdir(tree)
    assert filepath.glob("other/*") == ["other/x.yaml"]


def test_glob_bad_pattern_raises_even_without_files(tree: Path) -> None:
    with pytest.raises(ValueError, match="syntax error in pattern"):
        filepath.glob_at(str(tree), "nothing/[")
    with pytest.raises(ValueError):
        filepath.glob_at(str(tree), "k8s/[z-a")


def test_glob_ignores_unreadable_and_non_directories(tree: Path) -> None:
    assert filepath.glob_at(str(tree), "k8s/a.yaml/*") == []
    assert filepath.glob_at(str(tree), "missing/*") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_glob_skips_unlistable_directory(tree: Path) -> None:
    locked = tree / "locked"
    locked.mkdir()
    (locked / "a.yaml").write_text("x")
    locked.chmod(0)
    try:
        assert filepath.glob_at(str(tree), "locked/*") == []
    finally:
        locked.chmod(0o755)
