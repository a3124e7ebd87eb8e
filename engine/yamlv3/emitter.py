"""A yaml.v3 v3.0.1 encoder (``yaml.NewEncoder`` + ``SetIndent(2)``) for decoded Python values.

Follows vendor/gopkg.in/yaml.v3/encode.go (which scalar style is requested) and emitterc.go (the
libyaml-derived emitter state: indentation, scalar analysis, quoting, block scalars).  Only the
paths yaml.v3 takes for generic values are reproduced: block collections, ``{}``/``[]`` for empty
ones, no anchors, no comments, unlimited line width, unicode output.  ``compact_sequences``
is kyaml's encoder (its yaml.v3 fork's ``CompactSeqIndent``): a block sequence that is a mapping
value is not indented under its key.
"""

from __future__ import annotations

import base64
import re
import sys
from typing import Any

from engine.yamlv3.keyorder import sort_items, sort_string_keys
from engine.yamlv3.scalars import STR_TAG, Timestamp, format_float, resolve

BEST_INDENT = 2

_PLAIN, _SINGLE, _DOUBLE, _LITERAL = 1, 2, 3, 4

_BREAKS = "\r\n\x85\u2028\u2029"
# text that needs no analysis: plain, single-quoted and literal styles are all allowed
_SAFE_PLAIN = re.compile(r"[A-Za-z0-9_./=+][A-Za-z0-9_./=+-]*|-[A-Za-z0-9_./=+-]+")
_HAS_BREAK = re.compile(r"[\r\n\x85\u2028\u2029]")
# emitterc.go is_printable (code-point form), tab excluded: tab is tracked separately.
# Spelled as the complement (small positive ranges): a negated class spanning the BMP makes
# Python's regex compiler fill a 64K-entry table at import (several ms per pattern).
_NON_PRINTABLE = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\U00010000-\U0010ffff"
_SPECIAL = re.compile(f"[{_NON_PRINTABLE}]")
_FIRST_INDICATOR = frozenset("#,[]{}&*!|>'\"%@`")
_COLON_BEFORE_BLANK = re.compile(r"(?s).:(?:[ \t]|\Z)")
_BLANKZ_HASH = re.compile("[ \t\r\n\x85\u2028\u2029\x00]#")
_BREAK_SPACE = re.compile("[\r\n\x85\u2028\u2029] ")
_SPACE_BREAK = re.compile(" [\r\n\x85\u2028\u2029]")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
# encode.go isOldBool
_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off")
) | frozenset(("OFF",))
# double-quoted: non-printable, line breaks, '"' and '\' are escaped (write_double_quoted_scalar)
_NEEDS_ESCAPE = re.compile(f'[{_NON_PRINTABLE}\t\n]|["\\\\\u2028\u2029]')
_NAMED_ESCAPES = {
    0x00: "0",
    0x07: "a",
    0x08: "b",
    0x09: "t",
    0x0A: "n",
    0x0B: "v",
    0x0C: "f",
    0x0D: "r",
    0x1B: "e",
    0x22: '"',
    0x5C: "\\",
    0x85: "N",
    0xA0: "_",
    0x2028: "L",
    0x2029: "P",
}
_LINE_SPLIT = re.compile("([\n\u2028\u2029])")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    named = _NAMED_ESCAPES.get(code)
    if named is not None:
        return "\\" + named
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def _escape_double(text: str) -> str:
    if text.startswith("\ufeff"):
        # emitterc.go's is_bom(value, i) looks at value[0:3] whatever i is: every character of
        # a string starting with a BOM is escaped.
        return "".join(_escape_char(ch) for ch in text)
    return _NEEDS_ESCAPE.sub(lambda m: _escape_char(m.group()), text)


class _Scalar:
    """One scalar event: text, tag and the style encode.go requests."""

    __slots__ = ("style", "tag", "text")

    def __init__(self, text: str, style: int, tag: str = "") -> None:
        self.text = text
        self.style = style
        self.tag = tag


def _analyze(text: str) -> tuple[bool, bool, bool, bool]:
    """emitterc.go yaml_emitter_analyze_scalar for block context.

    Returns (multiline, block_plain_allowed, single_quoted_allowed, block_allowed).
    """
    if not text:
        return False, True, True, False
    if _SAFE_PLAIN.fullmatch(text) is not None and not text.startswith(("---", "...")):
        return False, True, True, True
    multiline = _HAS_BREAK.search(text) is not None
    special = _SPECIAL.search(text) is not None
    tab = "\t" in text
    first = text[0]
    follow_blank = len(text) == 1 or text[1] in " \t"
    block_indicators = (
        text.startswith(("---", "..."))
        or first in _FIRST_INDICATOR
        or (first in "?:-" and follow_blank)
        or _COLON_BEFORE_BLANK.search(text) is not None
        or _BLANKZ_HASH.search(text) is not None
    )
    leading_space = first == " "
    trailing_space = text[-1] == " "
    break_space = multiline and _BREAK_SPACE.search(text) is not None
    space_break = multiline and _SPACE_BREAK.search(text) is not None
    block_plain = not (
        multiline or leading_space or trailing_space or tab or special or block_indicators
    )
    single_ok = not (break_space or space_break or tab or special)
    block_ok = not (trailing_space or space_break or special)
    return multiline, block_plain, single_ok, block_ok


def _encode_base64(data: bytes) -> str:
    """encode.go encodeBase64: 70-column lines, each ended by a newline when there are several."""
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) // 70 + 1 <= 1:
        return encoded
    return "".join(encoded[i : i + 70] + "\n" for i in range(0, len(encoded), 70))


def _string_scalar(text: str) -> _Scalar:
    """encode.go stringv for a Go string."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _binary_scalar(text.encode("utf-8", "surrogateescape"))
    if "\n" in text:
        return _Scalar(text, _LITERAL)
    if (
        resolve("", text)[0] == STR_TAG
        and text not in _OLD_BOOLS
        and (":" not in text or _BASE60.fullmatch(text) is None)
    ):
        return _Scalar(text, _PLAIN)
    return _Scalar(text, _DOUBLE)


def _binary_scalar(data: bytes) -> _Scalar:
    text = _encode_base64(data)
    return _Scalar(text, _LITERAL if "\n" in text else _PLAIN, "!!binary")


def scalar_for(value: Any) -> _Scalar | None:
    """The scalar event encode.go produces for ``value``; None for collections."""
    if isinstance(value, str):
        return _string_scalar(value)
    if value is None:
        return _Scalar("null", _PLAIN)
    if isinstance(value, bool):
        return _Scalar("true" if value else "false", _PLAIN)
    if isinstance(value, int):
        return _Scalar(str(value), _PLAIN)
    if isinstance(value, float):
        return _Scalar(format_float(value), _PLAIN)
    if isinstance(value, Timestamp):
        return _Scalar(value.rfc3339(), _PLAIN)
    if isinstance(value, (bytes, bytearray)):
        try:
            return _string_scalar(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            return _binary_scalar(bytes(value))
    unwrapped = getattr(value, "yaml_key_value", _MISSING)
    if unwrapped is not _MISSING:
        return scalar_for(unwrapped)
    if isinstance(value, (dict, list, tuple)):
        return None
    raise TypeError(f"yamlio.dump: cannot encode value of type {type(value).__name__}")


_MISSING = object()
# string keys known to be written plain as simple keys, with their ':' (hot path of emit_mapping)
_SIMPLE_KEYS: dict[str, str] = {}


def unwrap_key(key: Any) -> Any:
    """The plain value of a key (TypedKey wrappers hold it in ``yaml_key_value``)."""
    return getattr(key, "yaml_key_value", key)


class Emitter:
    """The emitter state of emitterc.go that matters for block output."""

    def __init__(self, compact_sequences: bool = False) -> None:
        self.compact_sequences = compact_sequences
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent = -1
        self.indents: list[int] = []

    # -- low-level writers (put, put_break, write_indent, write_indicator) -------------------

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.column < indent:
            self.out.append(" " * (indent - self.column))
            self.column = indent
        self.whitespace = True

    def write_indicator(
        self, indicator: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.out.append(" ")
            self.column += 1
        self.out.append(indicator)
        self.column += len(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    def increase_indent(self, flow: bool, in_sequence_item: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = BEST_INDENT if flow else 0
        elif in_sequence_item:
            # [Go] the first indent inside a sequence just skips the "- " indicator
            self.indent += 2
        else:
            self.indent = BEST_INDENT * ((self.indent + BEST_INDENT) // BEST_INDENT)

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    # -- nodes -------------------------------------------------------------------------------

    def emit_document(self, value: Any) -> str:
        """One implicit document: the root node and the document end's final line break."""
        self.emit_node(value, in_sequence_item=False, simple_key=False)
        self.indent = -1
        self.write_indent()
        return "".join(self.out)

    def emit_node(self, value: Any, in_sequence_item: bool, simple_key: bool) -> None:
        """yaml_emitter_emit_node for a value; ``in_sequence_item``: parent state is a seq item."""
        if isinstance(value, dict):
            if value:
                self.emit_mapping(value, in_sequence_item)
            else:
                self.emit_empty("{", "}")
            return
        if isinstance(value, (list, tuple)):
            if value:
                self.emit_sequence(value, in_sequence_item)
            else:
                self.emit_empty("[", "]")
            return
        scalar = scalar_for(value)
        assert scalar is not None
        self.emit_scalar(scalar, in_sequence_item, simple_key)

    def emit_empty(self, start: str, end: str) -> None:
        self.write_indicator(start, True, True, False)
        self.write_indicator(end, False, False, False)

    def emit_sequence(self, items: list[Any] | tuple[Any, ...], in_sequence_item: bool) -> None:
        self.increase_indent(False, in_sequence_item)
        if (
            self.compact_sequences
            and not in_sequence_item
            and self.indents[-1] >= 0
            and (self.column == 0 or not self.indention)
        ):
            # kyaml's goyaml.v3 fork, yaml_emitter_emit_block_sequence_item: in a mapping
            # context, yaml_emitter_increase_indent_compact takes the "- " back off the indent
            self.indent -= 2
        for item in items:
            self.write_indent()
            self.write_indicator("-", True, False, True)
            self.emit_node(item, in_sequence_item=True, simple_key=False)
        self.pop_indent()

    def emit_mapping(self, mapping: dict[Any, Any], in_sequence_item: bool) -> None:
        self.increase_indent(False, in_sequence_item)
        keys = tuple(mapping)
        if all(type(k) is str for k in keys):
            values = list(mapping.values())
            items = [(keys[i], values[i]) for i in sort_string_keys(keys)]
        else:
            items = sort_items([(unwrap_key(k), v) for k, v in mapping.items()])
        for key, value in items:
            self.write_indent()
            simple = _SIMPLE_KEYS.get(key) if type(key) is str else None
            if simple is not None:
                # a cached plain single-line key: write_plain after the indent, then ':'
                self.out.append(simple)
                self.column += len(simple)
                self.whitespace = False
                self.indention = False
                self.emit_node(value, in_sequence_item=False, simple_key=False)
                continue
            scalar = scalar_for(key)
            if scalar is None:
                raise TypeError("yamlio.dump: mapping keys must be scalars")
            if self.is_simple_key(scalar):
                if type(key) is str and self.select_style(scalar, True) == _PLAIN and key:
                    if len(_SIMPLE_KEYS) > 8192:
                        _SIMPLE_KEYS.clear()
                    _SIMPLE_KEYS[key] = key + ":"
                self.emit_scalar(scalar, False, True)
                self.write_indicator(":", False, False, False)
            else:
                self.write_indicator("?", True, False, True)
                self.emit_scalar(scalar, False, False)
                self.write_indent()
                self.write_indicator(":", True, False, True)
            self.emit_node(value, in_sequence_item=False, simple_key=False)
        self.pop_indent()

    @staticmethod
    def is_simple_key(scalar: _Scalar) -> bool:
        """yaml_emitter_check_simple_key: single line and at most 128 bytes with its tag."""
        text = scalar.text
        if _HAS_BREAK.search(text) is not None:
            return False
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        return size + len(scalar.tag) <= 128

    def emit_scalar(self, scalar: _Scalar, in_sequence_item: bool, simple_key: bool) -> None:
        text = scalar.text
        style = self.select_style(scalar, simple_key)
        if scalar.tag:
            if not self.whitespace:
                self.out.append(" ")
                self.column += 1
            self.out.append(scalar.tag)
            self.column += len(scalar.tag)
            self.whitespace = False
            self.indention = False
        self.increase_indent(True, in_sequence_item)
        if style == _PLAIN:
            self.write_plain(text)
        elif style == _SINGLE:
            self.write_single(text)
        elif style == _DOUBLE:
            self.write_double(text)
        else:
            self.write_literal(text)
        self.pop_indent()

    @staticmethod
    def select_style(scalar: _Scalar, simple_key: bool) -> int:
        """yaml_emitter_select_scalar_style in block context."""
        style = scalar.style
        if style == _DOUBLE and not scalar.tag:
            return _DOUBLE
        multiline, block_plain, single_ok, block_ok = _analyze(scalar.text)
        if simple_key and multiline:
            return _DOUBLE
        if style == _PLAIN and (not block_plain or (not scalar.text and simple_key)):
            style = _SINGLE
        if style == _SINGLE and not single_ok:
            style = _DOUBLE
        if style == _LITERAL and (not block_ok or simple_key):
            style = _DOUBLE
        return style

    def write_plain(self, text: str) -> None:
        # plain style is never chosen for text with line breaks, so no folding logic is needed
        if text and not self.whitespace:
            self.out.append(" ")
            self.column += 1
        self.out.append(text)
        self.column += len(text)
        if text:
            self.whitespace = False
        self.indention = False

    def write_break_char(self, ch: str) -> None:
        if ch == "\n":
            self.put_break()
        else:
            self.out.append(ch)
            self.column = 0
            self.indention = True

    def write_single(self, text: str) -> None:
        self.write_indicator("'", True, False, False)
        breaks = False
        for ch in text:
            if ch in _BREAKS:
                if not breaks and ch == "\n":
                    self.put_break()
                self.write_break_char(ch)
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.out.append("''" if ch == "'" else ch)
                self.column += 2 if ch == "'" else 1
                if ch != " ":
                    self.indention = False
                breaks = False
        self.write_indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def write_double(self, text: str) -> None:
        self.write_indicator('"', True, False, False)
        escaped = _escape_double(text)
        self.out.append(escaped)
        self.column += len(escaped)
        self.write_indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def write_literal(self, text: str) -> None:
        self.write_indicator("|", True, False, False)
        if text[:1] == " " or (text and text[0] in _BREAKS):
            self.write_indicator(str(BEST_INDENT), False, False, False)
        chomp = ""
        if not text or text[-1] not in _BREAKS:
            chomp = "-"
        elif len(text) == 1 or text[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            self.write_indicator(chomp, False, False, False)
        self.whitespace = True
        breaks = True
        for part in _LINE_SPLIT.split(text):
            if not part:
                continue
            if part in ("\n", "\u2028", "\u2029"):
                self.write_break_char(part)
                breaks = True
                continue
            if breaks:
                self.write_indent()
            self.out.append(part)
            self.column += len(part)
            self.indention = False
            breaks = False


def dump_value(value: Any, compact_sequences: bool = False) -> str:
    """The bytes yaml.v3's Encoder writes for one document holding ``value``."""
    limit = sys.getrecursionlimit()
    try:
        # decoded documents may nest up to yaml.v3's depth limit of 10000
        sys.setrecursionlimit(max(limit, 40000))
        return Emitter(compact_sequences).emit_document(value)
    finally:
        sys.setrecursionlimit(limit)
