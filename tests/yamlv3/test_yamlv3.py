"""engine.yamlv3 against yaml.v3 v3.0.1 behaviour (spec §11 tables and the j-* golden cases)."""

from __future__ import annotations

import glob
import math
import os
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import YamlError
from engine.yamlv3 import Timestamp, TypedKey, dump, load_all

GOLDEN = "/work/shared/golden-corpus/cases"


def one(text: str) -> Any:
    docs = load_all(text)
    assert len(docs) == 1
    return docs[0]


def value_of(plain: str) -> Any:
    return one(f"k: {plain}\n")["k"]


def emitted(plain: str) -> str:
    out = dump(one(f"k: {plain}\n"))
    assert out.startswith("k: ") and out.endswith("\n")
    return out[3:-1]


# --- §11.2 decoding table: plain input → decoded → emitted -----------------------------------

RESOLUTION = [
    ("true", True, "true"),
    ("True", True, "true"),
    ("FALSE", False, "false"),
    ("yes", "yes", '"yes"'),
    ("On", "On", '"On"'),
    ("n", "n", '"n"'),
    ("~", None, "null"),
    ("null", None, "null"),
    ("NULL", None, "null"),
    ("", None, "null"),
    ("+1", 1, "1"),
    ("-0", 0, "0"),
    ("0777", 511, "511"),
    ("0_7_7", 63, "63"),
    ("0o17", 15, "15"),
    ("0x1F", 31, "31"),
    ("0x_1F", 31, "31"),
    ("0b101", 5, "5"),
    ("-0b11", -3, "-3"),
    ("1_000", 1000, "1000"),
    ("1__0", 10, "10"),
    ("08", 8.0, "8"),
    ("0.", 0.0, "0"),
    ("5.", 5.0, "5"),
    ("9223372036854775808", 9223372036854775808, "9223372036854775808"),
    ("-9223372036854775809", -9.223372036854776e18, "-9.223372036854776e+18"),
    ("12345678901234567890123", 1.2345678901234568e22, "1.2345678901234568e+22"),
    ("1.0", 1.0, "1"),
    ("1e3", 1000.0, "1000"),
    ("2.5e+3", 2500.0, "2500"),
    ("0.1e1", 1.0, "1"),
    (".5", 0.5, "0.5"),
    ("0.0001", 0.0001, "0.0001"),
    ("1e-4", 0.0001, "0.0001"),
    ("0.00001", 1e-05, "1e-05"),
    ("1.5e-7", 1.5e-07, "1.5e-07"),
    ("123456.0", 123456.0, "123456"),
    ("1000000.0", 1e6, "1e+06"),
    ("123456789.0", 123456789.0, "1.23456789e+08"),
    ("1e21", 1e21, "1e+21"),
    ("-0.0", -0.0, "-0"),
    ("3.14159265358979323846", 3.141592653589793, "3.141592653589793"),
    (".inf", math.inf, ".inf"),
    ("-.Inf", -math.inf, "-.inf"),
    ("1e400", "1e400", "1e400"),
    ("12:30", "12:30", '"12:30"'),
    ("1:20:30", "1:20:30", '"1:20:30"'),
    ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"),
    ("20011-12-14", "20011-12-14", "20011-12-14"),
    ("2001-12-14T25:00:00Z", "2001-12-14T25:00:00Z", "2001-12-14T25:00:00Z"),
    ("0xZZ", "0xZZ", "0xZZ"),
    ("<<", "<<", "<<"),
]


@pytest.mark.parametrize(("plain", "decoded", "out"), RESOLUTION)
def test_plain_scalar_resolution(plain: str, decoded: Any, out: str) -> None:
    value = value_of(plain)
    assert type(value) is type(decoded)
    assert value == decoded
    if isinstance(decoded, float) and decoded == 0:
        assert math.copysign(1, value) == math.copysign(1, decoded)
    assert emitted(plain) == out


def test_nan() -> None:
    value = value_of(".NaN")
    assert isinstance(value, float) and math.isnan(value)
    assert emitted(".NaN") == ".nan"


TIMESTAMPS = [
    ("2001-12-14", "2001-12-14T00:00:00Z"),
    ("2001-1-2", "2001-01-02T00:00:00Z"),
    ("2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
    ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
    ("2001-12-14T21:59:43+00:00", "2001-12-14T21:59:43Z"),
    ("2001-12-14T21:59:43.1234567891Z", "2001-12-14T21:59:43.123456789Z"),
    ("2024-02-29", "2024-02-29T00:00:00Z"),
]


@pytest.mark.parametrize(("plain", "out"), TIMESTAMPS)
def test_timestamps(plain: str, out: str) -> None:
    value = value_of(plain)
    assert isinstance(value, Timestamp)
    assert emitted(plain) == out
    assert value_of(out) == value


@pytest.mark.parametrize("plain", ["2023-02-29", "2001-13-01", "2001-12-14T21:59:60Z"])
def test_invalid_timestamps_stay_strings(plain: str) -> None:
    assert value_of(plain) == plain


def test_quoted_scalars_are_strings() -> None:
    assert one("a: '1'\nb: \"true\"\nc: |\n  x\n") == {"a": "1", "b": "true", "c": "x\n"}


TAGS = [
    ("!!str 123", "123"),
    ('!!int "42"', 42),
    ("!!float 1", 1.0),
    ("!custom v", "v"),
    ("! 12", 12),
    ("!!binary aGVsbG8=", "hello"),
    ("!<tag:yaml.org,2002:str> 7", "7"),
    ("!!timestamp 2001-12-14", Timestamp(2001, 12, 14)),
]


@pytest.mark.parametrize(("text", "decoded"), TAGS)
def test_tags(text: str, decoded: Any) -> None:
    value = value_of(text)
    assert type(value) is type(decoded) and value == decoded


def test_binary_invalid_utf8_round_trips_as_binary() -> None:
    value = value_of("!!binary /w==")
    assert value == b"\xff"
    assert dump({"k": value}) == "k: !!binary /w==\n"
    long = dump({"k": b"\xff" * 60})
    assert long.startswith("k: !!binary |\n  ") and long.count("\n") == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!int 1.5\n", "<input>: yaml: cannot decode !!float `1.5` as a !!int"),
        ("a: !!bool yes\n", "<input>: yaml: cannot decode !!str `yes` as a !!bool"),
        ("a: !!binary '#'\n", "<input>: yaml: !!binary value contains invalid base64 data"),
    ],
)
def test_tag_errors(text: str, message: str) -> None:
    with pytest.raises(YamlError) as info:
        load_all(text)
    assert str(info.value) == message


# --- structure: comments, flow, anchors, merges, documents -----------------------------------


def test_comments_flow_and_markers() -> None:
    text = "%YAML 1.1\n--- # c\na: {x: 1, y: [1, 2]} # c\nb: []\nc: {}\n...\n"
    assert dump(one(text)) == 'a:\n  x: 1\n  "y":\n    - 1\n    - 2\nb: []\nc: {}\n'


def test_anchors_are_expanded_into_separate_values() -> None:
    doc = one("a: &x {k: [1]}\nb: *x\n")
    assert doc == {"a": {"k": [1]}, "b": {"k": [1]}}
    assert doc["a"] is not doc["b"]


def test_merge_keys() -> None:
    doc = one("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    assert doc["d"] == {"x": 1, "y": 3}
    seq = one("- &a {x: 1}\n- &b {x: 2, z: 3}\n- <<: [*a, *b]\n")
    assert seq[2] == {"x": 1, "z": 3}
    assert one("'<<': 1\n") == {"<<": 1}
    with pytest.raises(YamlError, match="map merge requires map or sequence of maps"):
        load_all("<<: 1\n")


def test_documents() -> None:
    assert load_all("") == []
    assert load_all("# only a comment\n") == []
    assert load_all("---\n---\n") == [None, None]
    assert load_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    assert load_all(b"\xef\xbb\xbfa: 1\n") == [{"a": 1}]


def test_mixed_type_keys_stay_distinct() -> None:
    doc = one("1: a\ntrue: b\n1.0: c\n~: d\nx: e\n")
    assert doc[1] == "a" and doc[TypedKey(True)] == "b" and doc[TypedKey(1.0)] == "c"
    assert doc[None] == "d"
    assert dump(doc) == "true: b\n1: a\n1: c\nnull: d\nx: e\n"


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", 'unmarshal errors:\n  line 2: mapping key "a" already defined at line 1'),
        (
            "a: 1\nb: 2\na: 3\na: 4\n",
            "unmarshal errors:\n"
            '  line 3: mapping key "a" already defined at line 1\n'
            '  line 4: mapping key "a" already defined at line 1\n'
            '  line 4: mapping key "a" already defined at line 3',
        ),
        (
            '1: a\n"1": b\n',
            'unmarshal errors:\n  line 2: mapping key "1" already defined at line 1',
        ),
        ("a: 1\n b: 2\n", "line 2: mapping values are not allowed in this context"),
        ("a: b: c\n", "mapping values are not allowed in this context"),
        ("a:\n  - b\n  c: d\n", "line 1: did not find expected '-' indicator"),
        ("a: [1, 2\n", "line 1: did not find expected ',' or ']'"),
        ("a: 'x\n", "line 2: found unexpected end of stream"),
        ("a: *x\n", "unknown anchor 'x' referenced"),
        ("a: &a [*a]\n", "anchor 'a' value contains itself"),
        ("? [a]\n: 1\n", 'invalid map key: []interface {}{"a"}'),
        ("x: \x01\n", "control characters are not allowed"),
        ("[" * 10001 + "]" * 10001, "line 1: exceeded max depth of 10000"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(YamlError) as info:
        load_all(text, source="m.yaml")
    assert str(info.value) == f"m.yaml: yaml: {message}"


def test_syntax_error_beats_earlier_duplicate_in_same_document() -> None:
    with pytest.raises(YamlError, match="line 3: did not find expected node content"):
        load_all("a: 1\na: 2\nb: [\n")


def test_alias_bomb_is_refused() -> None:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    with pytest.raises(YamlError, match="document contains excessive aliasing"):
        load_all(text)


def test_deep_nesting_below_limit_loads_and_dumps() -> None:
    text = "[" * 5000 + "]" * 5000
    assert dump(one(text)).count("- ") == 4999


# --- §11.3 layout ----------------------------------------------------------------------------


def test_layout_of_a_pod() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
        "  containers:\n  - name: c\n    image: app\n"
    )
    assert dump(one(text)) == (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "    - image: app\n      name: c\n"
    )


def test_nested_sequences_and_empties() -> None:
    value = {"a": [[1, 2], [3, [4]]], "e": {}, "l": [], "s": "", "n": None, "m": [{}, []]}
    assert dump(value) == (
        "a:\n  - - 1\n    - 2\n  - - 3\n    - - 4\ne: {}\nl: []\nm:\n  - {}\n  - []\n"
        '"n": null\ns: ""\n'
    )
    assert dump({}) == "{}\n" and dump([]) == "[]\n" and dump(None) == "null\n"
    assert dump([{"a": 1, "b": {"c": 2}}]) == "- a: 1\n  b:\n    c: 2\n"


def test_long_and_multiline_keys_use_explicit_form() -> None:
    long_key = "k" * 129
    assert dump({long_key: 1}) == f"? {long_key}\n: 1\n"
    assert dump({"k" * 128: 1}) == "k" * 128 + ": 1\n"
    assert dump({"a\nb": {"x": 1}}) == "? |-\n  a\n  b\n: x: 1\n"


def test_no_line_wrapping() -> None:
    text = " ".join(["word"] * 60)
    assert dump({"k": text}) == f"k: {text}\n"


# --- §11.4 string styles ---------------------------------------------------------------------

PLAIN = [
    "a,b", "?q", "=eq", "--", "-x", "+", ".", "a:b", "x :y", "a > b", "a | b", "C:\\dir",
    "http://example.com/a?b=c#frag", "1e", "0xZZ", "ünïcödé ✓", "a\u00a0b", "a\u200bb", "<<",
]  # fmt: skip
SINGLE = [
    "- dash", "a: b", " leading", "trailing ", "#hash", "*star", "&amp", "!bang", "%pct", "@at",
    "`tick", "{brace}", "[brack]", ">fold", "|lit", "x: ", "a #b", "-", "---", "...", ",x",
    '"x', "? x", "   ", ":", "'x",
]  # fmt: skip
DOUBLE = {
    "true": '"true"', "yes": '"yes"', "1.0": '"1.0"', "0777": '"0777"', "null": '"null"',
    "~": '"~"', "": '""', "1e3": '"1e3"', "0x1F": '"0x1F"', "2001-12-14": '"2001-12-14"',
    "-1": '"-1"', "+1": '"+1"', ".5": '".5"', ".inf": '".inf"', "0o17": '"0o17"',
    "0b101": '"0b101"', "1_000": '"1_000"', "True": '"True"', "NULL": '"NULL"',
    "12:30": '"12:30"', "tab\there": '"tab\\there"', "\abell": '"\\abell"',
    "a\x7fb": '"a\\x7Fb"', "café \U0001f600 A": '"café \\U0001F600 A"',
    "\ufeffx": '"\\uFEFF\\x78"', "\ufeff\u00a0": '"\\uFEFF\\_"', "a\x85b": '"a\\Nb"',
    "\x00\x1b": '"\\0\\e"', "\u2028\x85": '"\\L\\N"', '\tq"\\': '"\\tq\\"\\\\"',
}  # fmt: skip


@pytest.mark.parametrize("text", PLAIN)
def test_plain_strings(text: str) -> None:
    assert dump({"k": text}) == f"k: {text}\n"
    assert one(dump({"k": text}))["k"] == text


@pytest.mark.parametrize("text", SINGLE)
def test_single_quoted_strings(text: str) -> None:
    quoted = "'" + text.replace("'", "''") + "'"
    assert dump({"k": text}) == f"k: {quoted}\n"
    assert one(dump({"k": text}))["k"] == text


@pytest.mark.parametrize(("text", "out"), list(DOUBLE.items()))
def test_double_quoted_strings(text: str, out: str) -> None:
    assert dump({"k": text}) == f"k: {out}\n"
    if not text.startswith("\ufeff"):
        assert one(dump({"k": text}))["k"] == text


def test_line_separator_is_written_raw_in_single_quotes() -> None:
    # U+2028 is printable for yaml.v3 but a line break: single-quoted, broken and re-indented
    assert dump({"k": "\u2028x"}) == "k: '\u2028  x'\n"


def test_quoted_keys() -> None:
    assert dump({"yes": 1, "": 2, "a b": 3, "#": 4}) == '"": 2\n\'#\': 4\na b: 3\n"yes": 1\n'


LITERALS = {
    "multi\nline\n": "k: |\n  multi\n  line\n",
    "multi\nline": "k: |-\n  multi\n  line\n",
    "trailing\n\n": "k: |+\n  trailing\n\n",
    "  indented\nline": "k: |2-\n    indented\n  line\n",
    "a\n b": "k: |-\n  a\n   b\n",
    "\tx\ny": "k: |-\n  \tx\n  y\n",
    "\nx": "k: |2-\n  x\n",
    "\n\nx": "k: |2-\n\n  x\n",
    "\n": "k: |2+\n",
    "\n\n": "k: |2+\n\n",
    "line1 \nline2": 'k: "line1 \\nline2"\n',
    "x \n": 'k: "x \\n"\n',
    "x\r\ny": 'k: "x\\r\\ny"\n',
    "\U0001f600\nx": 'k: "\\U0001F600\\nx"\n',
}


@pytest.mark.parametrize(("text", "out"), list(LITERALS.items()))
def test_literal_block_scalars(text: str, out: str) -> None:
    assert dump({"k": text}) == out


def test_literal_in_sequence_and_folded_input() -> None:
    assert dump({"l": ["a\nb\n"]}) == "l:\n  - |\n    a\n    b\n"
    assert one("k: >\n  folded\n  text\n")["k"] == "folded text\n"
    assert dump(one("k: >\n  folded\n  text\n")) == "k: |\n  folded text\n"


# --- §11.5 key order -------------------------------------------------------------------------


def test_natural_key_order() -> None:
    keys = ["b1", "a001b", "10", "K", "a1b", "2", "1", "a01b"]
    assert list(one(dump(dict.fromkeys(keys, 0)))) == [
        "1",
        "2",
        "10",
        "K",
        "a1b",
        "a01b",
        "a001b",
        "b1",
    ]
    keys = ["ka", "kA", "k10", "k09", "k9", "k1a", "k_", "k-"]
    out = dump(dict.fromkeys(keys, 0))
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "k-", "k_", "k1a", "k9", "k09", "k10", "kA", "ka",
    ]  # fmt: skip
    many = {f"t{i}": i for i in range(20, 0, -1)}
    assert list(one(dump(many))) == [f"t{i}" for i in range(1, 21)]


def test_manifest_key_order() -> None:
    out = dump({"metadata": {}, "kind": "Pod", "spec": {}, "apiVersion": "v1"})
    assert out == "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {}\n"


# --- golden j-* cases ----------------------------------------------------------------------

_ALLOW = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


def _split_like_skaffold(text: str) -> list[str]:
    # spec §8.1/§8.2: trimmed entries split at "\n---.*\n"; pieces but the last keep their "\n"
    pieces = re.split(r"\n---.*\n", text.strip())
    return [piece + "\n" for piece in pieces[:-1]] + pieces[-1:]


def _copy_images(ours: Any, theirs: Any) -> None:
    """Image rewriting is another module's job: take the rewritten images from expected."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key, value in ours.items():
            if key == "image" and isinstance(theirs.get(key), str):
                ours[key] = theirs[key]
            elif key in theirs:
                _copy_images(value, theirs[key])
    elif isinstance(ours, list) and isinstance(theirs, list):
        for mine, other in zip(ours, theirs, strict=False):
            _copy_images(mine, other)


@pytest.mark.parametrize(
    "case", sorted(os.path.basename(p) for p in glob.glob(os.path.join(GOLDEN, "j-*")))
)
def test_golden_j_cases(case: str) -> None:
    root = os.path.join(GOLDEN, case)
    with open(os.path.join(root, "expected.yaml"), encoding="utf-8") as fh:
        expected = fh.read()
    expected_docs = load_all(expected)
    docs: list[Any] = []
    for path in sorted(glob.glob(os.path.join(root, "app", "k8s", "*.yaml"))):
        with open(path, encoding="utf-8") as fh:
            for piece in _split_like_skaffold(fh.read()):
                docs.extend(d for d in load_all(piece, source=path) if d not in (None, {}))
    assert len(docs) == len(expected_docs)
    for ours, theirs in zip(docs, expected_docs, strict=True):
        if isinstance(ours, dict) and ours.get("kind") in _ALLOW:
            _copy_images(ours, theirs)
    assert "\n---\n".join(dump(d).strip() for d in docs) + "\n" == expected
    # the encoding is idempotent
    assert [dump(d) for d in expected_docs] == [dump(d) for d in docs]


# --- properties ----------------------------------------------------------------------------

_scalars = (
    st.text(max_size=20)
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _lossless(value: Any) -> bool:
    """False for what yaml.v3 itself does not read back as it wrote it.

    * -0.0 is written "-0", which reads back as the int 0;
    * a literal block (a string with a ``\n``) that starts with a line break loses it
      (emitterc.go yaml_emitter_write_literal_scalar writes no break after the header, spec
      §11.4.1), and one that starts with a tab cannot be read back (no indentation hint:
      scannerc.go "found a tab character where an indentation space is expected");
    * a "<<" key is written plain (resolve.go: '<' is no hint, so !!str) and read back as a
      merge key (decode.go parser.scalar).
    """
    if isinstance(value, float):
        return not (value == 0 and math.copysign(1, value) < 0)
    if isinstance(value, str):
        literal_quirk = "\n" in value and value[:1] in "\n\r\x85\u2028\u2029\t"
        return not literal_quirk and not value.startswith("\ufeff")
    if isinstance(value, dict):
        return all(k != "<<" and _lossless(k) and _lossless(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_lossless(v) for v in value)
    return True


@settings(max_examples=300, deadline=None)
@given(_values)
def test_round_trip_property(value: Any) -> None:
    text = dump(value)
    assert text.endswith("\n")
    if _lossless(value):
        assert load_all(text) == [value]
        assert dump(load_all(text)[0]) == text


# -- yaml.v3's own limits, whatever libyaml PyYAML bundles (issue 10) --------------------------


def _flow(depth: int) -> str:
    return "k: " + "[" * depth + "1" + "]" * depth + "\n"


def _block(depth: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b\n"


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, (dict, list)):
        value = value["a"] if isinstance(value, dict) else value[0]
        depth += 1
    return depth


def _libyaml_nest_limit(level: int) -> None:
    """Set libyaml's own nesting limit where the bundled libyaml has one (as a new process)."""
    import ctypes

    import yaml._yaml  # type: ignore[import-untyped]

    setter = getattr(ctypes.CDLL(yaml._yaml.__file__), "yaml_set_max_nest_level", None)
    if setter is not None:
        setter.argtypes = [ctypes.c_int]
        setter(level)


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each real event source: PyYAML's libyaml (with its own limit of 1000 levels, as in a
    fresh process, where it has one), and ruamel's pure-Python parser (the fallback)."""
    from engine.yamlv3 import decoder

    libyaml = request.param == "libyaml"
    if libyaml:
        _libyaml_nest_limit(1000)
    monkeypatch.setattr(decoder, "_EVENTS", decoder._Events(c_parser=libyaml))
    return str(request.param)


def test_nesting_deeper_than_libyaml_allows(parser: str) -> None:
    # PyYAML 6.0.4's libyaml stops at 1000 levels; yaml.v3 (so skaffold) takes up to 10000.
    # (ruamel's pure-Python parser is quadratic in the depth: a smaller depth for it.)
    depth = 3000 if parser == "libyaml" else 1500
    assert _depth(one(_flow(depth))["k"]) == depth
    assert _depth(one(_block(depth))) == depth


def test_nesting_up_to_yaml_v3s_limit() -> None:
    _libyaml_nest_limit(1000)
    assert _depth(one(_flow(10000))["k"]) == 10000
    assert _depth(one(_block(10000))) == 10000


@pytest.mark.parametrize("text", [_flow(10001), "[" * 10001 + "]" * 10001, _block(10001)])
def test_nesting_limit_is_yaml_v3s(text: str) -> None:
    _libyaml_nest_limit(1000)
    with pytest.raises(YamlError) as info:
        load_all(text, source="m.yaml")
    assert "yaml: line " in str(info.value)
    assert str(info.value).endswith(": exceeded max depth of 10000")


def test_nesting_limit_is_checked_for_every_parser(
    parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.yamlv3 import decoder

    # the check is skrender's own (yaml.v3's), not the parser's: a lower limit shows it
    monkeypatch.setattr(decoder, "MAX_DEPTH", 1200)
    assert _depth(one(_flow(1200))["k"]) == 1200
    with pytest.raises(YamlError, match=r"yaml: line 1: exceeded max depth of 1200$"):
        load_all(_flow(1201))


def test_deep_document_after_shallow_ones_keeps_the_stream(parser: str) -> None:
    # libyaml refuses mid-stream: the documents before it are neither lost nor repeated
    docs = load_all("a: 1\n---\nb: 2\n---\n" + _flow(1200) + "---\nc: 3\n")
    assert [sorted(d)[0] for d in docs] == ["a", "b", "k", "c"]


def test_alias_expansion_limit(parser: str) -> None:
    bomb = "a: &a [" + ",".join(["x"] * 10) + "]\n"
    for level in "bcdefgh":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ",".join([f"*{prev}"] * 10) + "]\n"
    with pytest.raises(YamlError, match="yaml: document contains excessive aliasing"):
        load_all(bomb)


# -- empty scalars after kyaml's re-encoding (issue 15, item 6) --------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # emitterc.go yaml_emitter_select_scalar_style: an empty plain scalar is single-quoted
        # inside a flow collection or as a simple key, so kyaml's output reads back as ""
        ("x: {a: }\n", {"x": {"a": ""}}),
        ("x: {a}\n", {"x": {"a": ""}}),
        ("x: [a: ]\n", {"x": [{"a": ""}]}),
        ("x: !!set {a, b}\n", {"x": {"a": "", "b": ""}}),
        ("x: {a: &e }\ny: *e\n", {"x": {"a": ""}, "y": ""}),
        ("? \n: v\n", {"": "v"}),
        # a block value stays empty, so null; a written null or a tag is kept
        ("x:\n  a:\n", {"x": {"a": None}}),
        ("x: {a: ~, b: null, c: !!null }\n", {"x": {"a": None, "b": None, "c": None}}),
        ("x: [1, {}]\n", {"x": [1, {}]}),
    ],
)
def test_kyaml_empty_scalars(text: str, value: Any) -> None:
    assert load_all(text, kyaml_empty=True) == [value]


def test_empty_scalars_without_kyaml_stay_null() -> None:
    # yaml.v3 alone (skaffold.yaml, parserc.go yaml_parser_process_empty_scalar): null
    assert load_all("x: {a: }\n") == [{"x": {"a": None}}]
    assert load_all("x: !!set {a, b}\n") == [{"x": {"a": None, "b": None}}]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("0123456789", "`0123456789`"),  # 10 bytes: whole
        ("0123456789a", "`0123456...`"),  # decode.go terror: value[:7] + "..."
        ("ééééé", "`ééééé`"),  # 10 bytes (5 characters): whole
        ("éééééé", "`ééé\ufffd...`"),  # 12 bytes: 7 bytes cut the fourth é
    ],
)
def test_type_error_excerpt_is_yaml_v3s(text: str, shown: str) -> None:
    from engine.yamlv3 import terror_value

    assert terror_value(text) == shown


def test_indentless_sequences_do_not_count_toward_the_depth() -> None:
    # scannerc.go yaml_parser_roll_indent pushes an indentation only for a greater column: a
    # "- " at its mapping key's column ("a:\n- b") opens no level, so yaml.v3 takes this
    # document of 12 000 nested collections (6 001 indentation levels)
    _libyaml_nest_limit(1000)
    text = "\n".join("  " * i + ("- " if i else "") + "a:" for i in range(6000)) + " x\n"
    assert _depth(one(text)) == 11999
    # a "- " indented past its key's column is a level: 5 001 lines of two levels are too many
    deeper = "\n".join(" " * (3 * i) + "- a:" for i in range(5001)) + " x\n"
    with pytest.raises(YamlError, match="exceeded max depth of 10000"):
        load_all(deeper)
