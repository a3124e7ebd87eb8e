"""engine.golang.regexp: Go's regexp package on RE2 (issue 10, item 6).

Expected values are Go's own: the examples and tables of Go's ``src/regexp`` tests
(example_test.go, find_test.go, all_test.go badRe) and the package documentation.
"""

from __future__ import annotations

import time

import pytest

from engine.golang.regexp import RegexpError, compile_go, must_compile_message, quote_meta


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        # RE2 syntax that Python's re reads differently or refuses
        ("^[[:digit:]]+$", "123", True),
        ("^[[:digit:]]+$", "12:", False),  # re: a class of '[:digt' then ']'
        ("^[[:^alpha:]]+$", "123", True),
        (r"^\pL+$", "héllo", True),
        (r"^\p{Greek}+$", "αβγ", True),
        (r"^\PL+$", "12", True),
        (r"a\z", "a\n", False),
        (r"a\z", "a", True),
        ("a$", "a\n", False),  # Go's $ without (?m) is the end of the text; re's is not
        ("(?m)a$", "a\nb", True),
        (r"(?P<year>\d+)", "x2024", True),
        (r"(?<year>\d+)", "x2024", True),  # Go 1.22+ syntax
        (r"\Q.*\E", "a.*b", True),
        (r"\Q.*\E", "ab", False),
        ("(?i)straße", "STRASSE", False),  # simple case folding only
        ("(?i)k", "\u212a", True),  # KELVIN SIGN folds to k
        (r"\bb", "ab", False),
        (r"^\s+$", "\v", False),  # Go's \s is [\t\n\f\r ]
        (r"\d", "٣", False),  # ASCII digits only
        ("(?U)a+", "aaa", True),
    ],
)
def test_syntax_and_semantics_are_go(pattern: str, text: str, matches: bool) -> None:
    assert compile_go(pattern).match_string(text) is matches


def test_catastrophic_pattern_is_linear() -> None:
    # Python's re takes exponential time here; RE2 (and Go) answer at once
    start = time.monotonic()
    assert not compile_go("^(a+)+$").match_string("a" * 200_000 + "b")
    assert compile_go("^(a|aa)*$").find_string("a" * 100_000) == "a" * 100_000
    assert time.monotonic() - start < 2


# src/regexp/all_test.go badRe: Go's messages, after "error parsing regexp: "
@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("*", "missing argument to repetition operator: `*`"),
        ("+", "missing argument to repetition operator: `+`"),
        ("?", "missing argument to repetition operator: `?`"),
        ("(abc", "missing closing ): `(abc`"),
        ("abc)", "unexpected ): `abc)`"),
        ("x[a-z", "missing closing ]: `[a-z`"),
        ("[z-a]", "invalid character class range: `z-a`"),
        ("abc\\", "trailing backslash at end of expression: ``"),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a*+", "invalid nested repetition operator: `*+`"),
        ("\\x", "invalid escape sequence: `\\x`"),
        ("x{1001}", "invalid repeat count: `{1001}`"),
        ("(?z)", "invalid or unsupported Perl syntax: `(?z`"),
        ("(?P<>a)", "invalid named capture: `(?P<>`"),
        ("\\Z", "invalid escape sequence: `\\Z`"),
        # RE2 accepts these, Go's parser does not (parse.go)
        ("\\C", "invalid escape sequence: `\\C`"),
        ("(?P<名>x)", "invalid named capture: `(?P<名>`"),
    ],
)
def test_compile_errors_are_gos(pattern: str, message: str) -> None:
    with pytest.raises(RegexpError) as info:
        compile_go(pattern)
    assert str(info.value) == "error parsing regexp: " + message


def test_expression_too_large() -> None:
    with pytest.raises(RegexpError) as info:
        compile_go("\\pL" * 27000)
    assert info.value.code == "expression too large"


def test_accepted_where_go_accepts() -> None:
    compile_go("\\pL{1000}")  # fits Go's size budget (RE2's default memory does not)
    compile_go(r"(?P<x>a)(?P<x>b)")  # Go allows a repeated name
    assert compile_go(r"\Q\C\E").match_string("\\C")


def test_must_compile_message_quotes_like_go() -> None:
    with pytest.raises(RegexpError) as info:
        compile_go("(")
    assert must_compile_message("(", info.value) == (
        "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
    )
    with pytest.raises(RegexpError) as info:
        compile_go("(\n`")
    assert must_compile_message("(\n`", info.value).startswith('regexp: Compile("(\\n`"): ')


def test_find_all_string() -> None:
    # example_test.go ExampleRegexp_FindAllString
    re_ = compile_go("a.")
    assert re_.find_all_string("paranormal", -1) == ["ar", "an", "al"]
    assert re_.find_all_string("paranormal", 2) == ["ar", "an"]
    assert re_.find_all_string("graal", -1) == ["aa"]
    assert re_.find_all_string("none", -1) is None
    # find_test.go: no empty match right after a match
    assert compile_go("a*").find_all_string("baaab", -1) == ["", "aaa", ""]
    assert compile_go("").find_all_string("abc", -1) == ["", "", "", ""]
    assert compile_go("x*").find_all_string("héé", -1) == ["", "", "", ""]


def test_split() -> None:
    # example_test.go ExampleRegexp_Split
    assert compile_go("a*").split("abaabaccadaaae", 5) == ["", "b", "b", "c", "cadaaae"]
    a = compile_go("a")
    assert a.split("banana", -1) == ["b", "n", "n", ""]
    assert a.split("apple", 0) is None
    assert a.split("grape", 1) == ["grape"]
    assert a.split("papaya", 2) == ["p", "paya"]
    zp = compile_go("z+")
    assert zp.split("pizza", -1) == ["pi", "a"]
    assert zp.split("pizza", 1) == ["pizza"]
    assert zp.split("pizza", 2) == ["pi", "a"]


def test_replace_all_string() -> None:
    # example_test.go ExampleRegexp_ReplaceAllString
    re_ = compile_go("a(x*)b")
    assert re_.replace_all_string("-ab-axxb-", "T") == "-T-T-"
    assert re_.replace_all_string("-ab-axxb-", "$1") == "--xx-"
    assert re_.replace_all_string("-ab-axxb-", "$1W") == "---"  # $1W is the group named 1W
    assert re_.replace_all_string("-ab-axxb-", "${1}W") == "-W-xxW-"
    named = compile_go(r"a(?P<1W>x*)b")
    assert named.replace_all_string("-ab-axxb-", "$1W") == "--xx-"
    # all_test.go replaceTests: empty matches
    assert compile_go("a*").replace_all_string("baaac", "X") == "XbXcX"
    assert compile_go("").replace_all_string("abc", "X") == "XaXbXcX"
    assert compile_go("b*").replace_all_string("abc", "X") == "XaXcX"
    assert compile_go("x*").replace_all_string("é", "-") == "-é-"


def test_expand_template_rules() -> None:
    re_ = compile_go(r"(?P<y>\d+)-(?<m>\d+)")
    assert re_.replace_all_string("2024-05", "${m}/$y") == "05/2024"
    assert re_.replace_all_string("2024-05", "$$ $ ${ ${m") == "$ $ ${ ${m"
    assert re_.replace_all_string("2024-05", "[$01][$3][$zz]") == "[][][]"  # no leading zeros
    assert re_.replace_all_string("2024-05", "$2$1") == "052024"
    # names are Unicode letters and digits (Nd), as unicode.IsLetter/IsDigit
    assert compile_go("(?P<a>x)").replace_all_string("x", "$a²") == "x²"  # ² is No: not in a name
    assert compile_go("(?P<a>x)").replace_all_string("x", "$aé") == ""  # é is a letter: no group aé


def test_replace_all_literal_string() -> None:
    # example_test.go ExampleRegexp_ReplaceAllLiteralString
    re_ = compile_go("a(x*)b")
    assert re_.replace_all_literal_string("-ab-axxb-", "T") == "-T-T-"
    assert re_.replace_all_literal_string("-ab-axxb-", "$1") == "-$1-$1-"
    assert re_.replace_all_literal_string("-ab-axxb-", "${1}") == "-${1}-${1}-"


def test_find_string_submatch() -> None:
    re_ = compile_go("a(x*)b(y)?")
    assert re_.find_string_submatch("-axxb-") == ["axxb", "xx", ""]
    assert re_.find_string_submatch("-") is None


def test_quote_meta() -> None:
    # example_test.go ExampleQuoteMeta
    assert quote_meta("Escaping symbols like: .+*?()|[]{}^$") == (
        r"Escaping symbols like: \.\+\*\?\(\)\|\[\]\{\}\^\$"
    )
    pattern = "a.b*[c]"
    assert compile_go(quote_meta(pattern)).find_string("xxa.b*[c]") == pattern
    assert quote_meta("a-b c") == "a-b c"  # Go escapes fewer characters than re.escape
