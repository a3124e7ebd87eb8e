"""yaml.v3 v3.0.1 decoding into generic values (Go ``interface{}``), from libyaml events.

The event stream comes from libyaml through PyYAML's C binding when it is installed (yaml.v3's
scanner and parser are a Go port of libyaml, so syntax errors and their lines match), otherwise
from ruamel.yaml's pure-Python parser.  Node building follows decode.go ``parser``; decoding
follows decode.go ``decoder`` (duplicate keys, merge keys, alias-ratio limit, error order).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from engine.yamlv3.scalars import (
    BINARY_TAG,
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    ResolveError,
    resolve,
    short_tag,
)

DOCUMENT, SEQUENCE, MAPPING, SCALAR, ALIAS = 1, 2, 4, 8, 16
MAX_DEPTH = 10000  # scannerc.go max_flow_level / max_indents
_FLOW, _BLOCK, _INDENTLESS = 0, 1, 2


class LoadError(Exception):
    """A yaml.v3 error message without the ``yaml: `` prefix."""


class TypedKey:
    """A mapping key kept apart from an equal key of another type (``1`` vs ``true`` vs ``1.0``).

    Go maps keep ``true``, ``1`` and ``1.0`` as three keys; Python dicts would merge them, so the
    later ones are wrapped.  ``yaml_key_value`` is the key's value.
    """

    __slots__ = ("yaml_key_value",)

    def __init__(self, value: Any) -> None:
        self.yaml_key_value = value

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TypedKey)
            and type(other.yaml_key_value) is type(self.yaml_key_value)
            and other.yaml_key_value == self.yaml_key_value
        )

    def __hash__(self) -> int:
        return hash((type(self.yaml_key_value), self.yaml_key_value))

    def __repr__(self) -> str:
        return f"TypedKey({self.yaml_key_value!r})"


_UNRESOLVED = object()


class Node:
    """decode.go Node, reduced to what decoding needs."""

    __slots__ = ("alias", "children", "kind", "line", "resolved", "tag", "value")

    def __init__(self, kind: int, tag: str, value: str, line: int) -> None:
        self.kind = kind
        self.tag = tag
        self.value = value
        self.line = line
        self.children: list[Node] = []
        self.alias: Node | None = None
        self.resolved: Any = _UNRESOLVED


# --- events ---------------------------------------------------------------------------------


class _Events:
    """Event classes and error classes of a libyaml event source.

    ``c_parser``: libyaml through PyYAML's C binding (fast; yaml.v3's scanner and parser are a
    Go port of libyaml, so syntax errors and their lines match); otherwise ruamel.yaml's
    pure-Python port of the same parser.
    """

    def __init__(self, *, c_parser: bool = True) -> None:
        try:
            if not c_parser:
                raise ImportError
            # imported by name: PyYAML ships no type stubs and is optional (ruamel fallback)
            yaml: Any = importlib.import_module("yaml")
            parser: Any = importlib.import_module("yaml._yaml").CParser

            self.make: Callable[[bytes], Callable[[], Any]] = lambda d: parser(d).get_event
            self.mod: Any = yaml
            self.reader_error: Any = yaml.reader.ReaderError
            self.marked_error: Any = yaml.MarkedYAMLError
            self.scanner_error: Any = yaml.scanner.ScannerError
            self.is_c = True
        except ImportError:
            import ruamel.yaml
            from ruamel.yaml import error, events, reader, scanner

            def make(data: bytes) -> Callable[[], Any]:
                gen = ruamel.yaml.YAML(typ="safe", pure=True).parse(data)
                return lambda: next(gen)

            self.make = make
            self.mod = events
            self.reader_error = reader.ReaderError
            self.marked_error = error.MarkedYAMLError
            self.scanner_error = scanner.ScannerError
            self.is_c = False
        mod = self.mod
        self.scalar = mod.ScalarEvent
        self.alias = mod.AliasEvent
        self.seq_start = mod.SequenceStartEvent
        self.seq_end = mod.SequenceEndEvent
        self.map_start = mod.MappingStartEvent
        self.map_end = mod.MappingEndEvent
        self.doc_start = mod.DocumentStartEvent
        self.doc_end = mod.DocumentEndEvent
        self.stream_end = mod.StreamEndEvent


_EVENTS: _Events | None = None

# libyaml 0.2.5's successors (bundled by PyYAML 6.0.2+ wheels) refuse nesting deeper than 1000
# (scanner.c MAX_NESTING_LEVEL); yaml.v3 allows 10000 (scannerc.go max_flow_level/max_indents)
_LIBYAML_NESTING = "exceeded maximum nesting depth"
# a libyaml limit that never binds: yaml.v3's own limit (MAX_DEPTH) is checked while composing
_LIBYAML_NESTING_OFF = 2**31 - 1


class _LibyamlTooShallow(Exception):
    """libyaml refused nesting that yaml.v3 accepts."""


def _events() -> _Events:
    global _EVENTS
    if _EVENTS is None:
        _EVENTS = _Events()
    return _EVENTS


def refused_nesting(ev: _Events, exc: Exception) -> bool:
    """Whether ``exc`` is libyaml's own nesting limit (then retry with :func:`deeper_events`)."""
    return ev.is_c and getattr(exc, "problem", None) == _LIBYAML_NESTING


def deeper_events() -> _Events:
    """An event source without libyaml's own nesting limit, so that only yaml.v3's applies.

    The limit is libyaml's global ``yaml_set_max_nest_level`` (exported by the C extension
    that bundles libyaml, or by the system libyaml it links); where it cannot be reached, the
    events come from ruamel.yaml's pure-Python parser, which has no such limit.
    """
    global _EVENTS
    try:
        import ctypes

        library = ctypes.CDLL(importlib.import_module("yaml._yaml").__file__)
        set_level = library.yaml_set_max_nest_level
        set_level.argtypes = [ctypes.c_int]
        set_level.restype = None
        set_level(_LIBYAML_NESTING_OFF)
        _EVENTS = _Events()
    except (ImportError, OSError, AttributeError, TypeError):
        _EVENTS = _Events(c_parser=False)
    return _EVENTS


def _syntax_message(ev: _Events, exc: Exception) -> str:
    """decode.go parser.fail(): 'line N: problem', N from the context mark, else the problem mark.

    Scanner errors report the 0-based line + 1; parser errors the 0-based line as is (yaml.v3's
    own quirk, reproduced).
    """
    if isinstance(exc, ev.reader_error):
        return str(getattr(exc, "reason", exc))
    problem = getattr(exc, "problem", None) or "unknown problem parsing YAML content"
    scanner = isinstance(exc, ev.scanner_error)
    context_mark = getattr(exc, "context_mark", None)
    problem_mark = getattr(exc, "problem_mark", None)
    if context_mark is None and scanner:
        context_mark = problem_mark  # libyaml passes parser->mark when the context is NULL
    line = 0
    if context_mark is not None and context_mark.line != 0:
        line = context_mark.line
    elif problem_mark is not None and problem_mark.line != 0:
        line = problem_mark.line
    if line and scanner:
        line += 1
    return f"line {line}: {problem}" if line else str(problem)


def compose(
    data: bytes, folded: Callable[[str], str] | None = None, *, kyaml_empty: bool = False
) -> Iterator[Node]:
    """One node tree per document, in order (nothing for a stream without documents).

    ``folded``, when given, rewrites the value of every untagged folded (``>``) scalar.
    ``kyaml_empty``: an untagged empty scalar inside a flow collection or as a mapping key is
    the empty string, as after kyaml re-encodes the document (see :func:`_kyaml_writes_quoted`).
    """
    ev = _events()
    done = 0
    while True:
        try:
            for index, doc in enumerate(_compose_stream(ev, data, folded, kyaml_empty)):
                if index >= done:  # after a retry, the documents already given are skipped
                    done += 1
                    yield doc
            return
        except _LibyamlTooShallow:
            ev = deeper_events()


def _compose_stream(
    ev: _Events, data: bytes, folded: Callable[[str], str] | None, kyaml_empty: bool
) -> Iterator[Node]:
    get = ev.make(data)
    try:
        get()  # stream start
        while True:
            event = get()
            if type(event) is ev.stream_end:
                return
            yield _compose_document(ev, get, folded, kyaml_empty)
    except (ev.marked_error, ev.reader_error) as exc:
        if refused_nesting(ev, exc):
            raise _LibyamlTooShallow from None
        raise LoadError(_syntax_message(ev, exc)) from None


def _compose_document(
    ev: _Events,
    next_event: Callable[[], Any],
    folded: Callable[[str], str] | None = None,
    kyaml_empty: bool = False,
) -> Node:
    doc = Node(DOCUMENT, "", "", 1)
    anchors: dict[str, Node] = {}
    stack: list[Node] = [doc]
    # yaml.v3's depth limits (scannerc.go): the flow level, and the block indentation stack
    depth_block = 0
    depth_flow = 0
    # per open collection: _FLOW, _BLOCK, or _INDENTLESS (a block sequence at its parent
    # mapping's column pushes no indentation: yaml_parser_roll_indent only grows it)
    open_kinds: list[int] = []
    columns: list[int] = []
    scalar_t, alias_t = ev.scalar, ev.alias
    map_start_t, seq_start_t = ev.map_start, ev.seq_start
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar_t:
            node = _scalar_node(event)
            if folded is not None and event.style == ">" and node.resolved is node.value:
                node.value = node.resolved = folded(node.value)
            if kyaml_empty and _kyaml_writes_quoted(event, stack[-1], depth_flow):
                node.tag, node.resolved = STR_TAG, ""
            if event.anchor is not None:
                anchors[event.anchor] = node
            stack[-1].children.append(node)
        elif kind is map_start_t or kind is seq_start_t:
            is_map = kind is map_start_t
            tag = event.tag
            tag = short_tag(tag) if tag and tag != "!" else (MAP_TAG if is_map else SEQ_TAG)
            node = Node(MAPPING if is_map else SEQUENCE, tag, "", event.start_mark.line + 1)
            if event.anchor is not None:
                anchors[event.anchor] = node
            stack[-1].children.append(node)
            stack.append(node)
            column = event.start_mark.column
            if event.flow_style:
                open_kind = _FLOW
            elif (
                not is_map
                and open_kinds
                and open_kinds[-1] != _FLOW
                and stack[-2].kind == MAPPING
                and columns[-1] == column
            ):
                open_kind = _INDENTLESS
            else:
                open_kind = _BLOCK
            open_kinds.append(open_kind)
            columns.append(column)
            if open_kind == _FLOW:
                depth_flow += 1
                if depth_flow > MAX_DEPTH:
                    raise LoadError(
                        f"line {event.start_mark.line + 1}: exceeded max depth of {MAX_DEPTH}"
                    )
            elif open_kind == _BLOCK:
                depth_block += 1
                if depth_block > MAX_DEPTH:
                    raise LoadError(
                        f"line {event.start_mark.line + 1}: exceeded max depth of {MAX_DEPTH}"
                    )
        elif kind is ev.map_end or kind is ev.seq_end:
            stack.pop()
            columns.pop()
            open_kind = open_kinds.pop()
            if open_kind == _FLOW:
                depth_flow -= 1
            elif open_kind == _BLOCK:
                depth_block -= 1
        elif kind is alias_t:
            node = Node(ALIAS, "", event.anchor, event.start_mark.line + 1)
            target = anchors.get(event.anchor)
            if target is None:
                raise LoadError(f"unknown anchor '{event.anchor}' referenced")
            node.alias = target
            stack[-1].children.append(node)
        elif kind is ev.doc_end:
            return doc


def _kyaml_writes_quoted(event: Any, parent: Node, depth_flow: int) -> bool:
    """Whether kyaml re-encodes this scalar as ``''`` (so skaffold reads it back as ``""``).

    An untagged empty scalar (``{a: }``, ``{a}``, ``[a: ]``, ``!!set {a, b}``, an empty key)
    is a null node with an empty value.  kyaml writes it with go.yaml.in/yaml/v3's encoder,
    which drops the tag (it resolves to null again) and emits an empty plain scalar, and
    yaml_emitter_select_scalar_style (emitterc.go) single-quotes an empty scalar inside a flow
    collection or in a simple key's place.  In a block value it stays empty, so null.
    """
    if event.value or event.style or (event.tag and event.tag != "!"):
        return False
    is_key = parent.kind == MAPPING and len(parent.children) % 2 == 0
    return depth_flow > 0 or is_key


_HINT_CHARS = frozenset("+-0123456789yYnNtTfFoO~.")


def _scalar_node(event: Any) -> Node:
    """decode.go parser.scalar + parser.node: the node tag as yaml.v3 assigns it."""
    value = event.value
    tag = event.tag
    line = event.start_mark.line + 1
    if tag and tag != "!":
        return Node(SCALAR, short_tag(tag), value, line)
    if event.style:  # quoted or block scalar: defaultTag !!str
        node = Node(SCALAR, STR_TAG, value, line)
        node.resolved = value
        return node
    if value == "<<":
        return Node(SCALAR, MERGE_TAG, value, line)
    if value and value[0] not in _HINT_CHARS:  # resolve.go: no hint, so a string
        node = Node(SCALAR, STR_TAG, value, line)
        node.resolved = value
        return node
    rtag, resolved = resolve("", value)
    node = Node(SCALAR, rtag, value, line)
    node.resolved = resolved
    return node


# --- decoding -------------------------------------------------------------------------------

_ALIAS_RATIO_LOW = 400000
_ALIAS_RATIO_HIGH = 4000000


def _allowed_alias_ratio(decode_count: int) -> float:
    if decode_count <= _ALIAS_RATIO_LOW:
        return 0.99
    if decode_count >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (
        (decode_count - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)
    )


def terror_value(text: str) -> str:
    """How decode.go ``terror`` shows a scalar in "cannot unmarshal !!str `...` into ...".

    A value longer than 10 bytes is cut to its first 7 bytes and ``...`` (bytes, as Go slices
    the string: a cut inside a character shows as U+FFFD), so an error never prints a whole
    secret that a manifest glob happened to match.
    """
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > 10:
        return "`" + raw[:7].decode("utf-8", "replace") + "...`"
    return "`" + text + "`"


def go_quote(text: str) -> str:
    """Go's %q / %#v for a string."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SKIP = object()  # a key decoded to nothing: the entry is left out


def _typed(key: Any) -> Any:
    """A set member that keeps Go's distinct-type keys distinct."""
    return (type(key), key)


def _put(out: dict[Any, Any], key: Any, value: Any) -> None:
    if type(key) is str or key not in out:
        out[key] = value
        return
    for existing in out:
        if type(existing) is type(key) and existing == key:
            out[existing] = value
            return
    out[TypedKey(key)] = value


class Decoder:
    """decode.go decoder for interface{} targets."""

    def __init__(self, *, string_keys: bool = False) -> None:
        # string_keys: decode a mapping document like yaml.Unmarshal into map[string]interface{}
        # (skaffold's visitor, pkg/skaffold/kubernetes/manifest/visitor.go): see string_mapping
        self.string_keys = string_keys
        self.string_into: dict[Any, Any] | None = None
        self.decode_count = 0
        self.alias_count = 0
        self.alias_depth = 0
        self.active_aliases: set[int] = set()
        self.terrors: list[str] = []
        self.merged: set[Any] | None = None

    def document(self, doc: Node) -> Any:
        """Decode a document node; raises LoadError like yaml.Unmarshal would."""
        self._count()
        if len(doc.children) != 1:
            return None
        limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH + 1000))
            root = doc.children[0]
            if self.string_keys and root.kind == MAPPING:
                self._count()
                self.string_into = {}
                value = self.string_mapping(root, self.string_into)
            else:
                value = self.unmarshal(root)
        finally:
            sys.setrecursionlimit(limit)
        if self.terrors:
            raise LoadError("unmarshal errors:\n  " + "\n  ".join(self.terrors))
        return value

    def _count(self) -> None:
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if (
            self.alias_count > 100
            and self.decode_count > 1000
            and self.alias_count / self.decode_count > _allowed_alias_ratio(self.decode_count)
        ):
            raise LoadError("document contains excessive aliasing")

    def unmarshal(self, node: Node, into: dict[Any, Any] | None = None) -> Any:
        """Decode one node (``into``: the map a merged mapping is decoded into)."""
        self._count()
        kind = node.kind
        if kind == SCALAR:
            return self.scalar(node)
        if kind == MAPPING:
            return self.mapping(node, into)
        if kind == SEQUENCE:
            return [self.unmarshal(child) for child in node.children]
        return self.alias(node, into)

    def alias(self, node: Node, into: dict[Any, Any] | None) -> Any:
        ident = id(node)
        if ident in self.active_aliases:
            raise LoadError(f"anchor '{node.value}' value contains itself")
        self.active_aliases.add(ident)
        self.alias_depth += 1
        assert node.alias is not None
        value = self.unmarshal(node.alias, into)
        self.alias_depth -= 1
        self.active_aliases.discard(ident)
        return value

    def scalar(self, node: Node) -> Any:
        resolved = node.resolved
        if resolved is not _UNRESOLVED:
            return resolved
        tag = node.tag
        if tag == STR_TAG:
            return node.value
        try:
            rtag, resolved = resolve(tag, node.value)
        except ResolveError as exc:
            raise LoadError(str(exc)) from None
        if rtag == BINARY_TAG:
            return _decode_binary(resolved)
        return resolved

    def _duplicates(self, node: Node) -> bool:
        children = node.children
        seen: set[tuple[int, str]] = set()
        found = False
        for i in range(0, len(children), 2):
            ident = (children[i].kind, children[i].value)
            if ident in seen:
                found = True
                break
            seen.add(ident)
        if not found:
            return False
        for i in range(0, len(children), 2):
            ki = children[i]
            for j in range(i + 2, len(children), 2):
                kj = children[j]
                if ki.kind == kj.kind and ki.value == kj.value:
                    self.terrors.append(
                        f"line {kj.line}: mapping key {go_quote(kj.value)} "
                        f"already defined at line {ki.line}"
                    )
        return True

    def mapping(self, node: Node, into: dict[Any, Any] | None) -> Any:
        if into is not None and into is self.string_into:
            return self.string_mapping(node, into)  # a mapping merged into the document
        out: dict[Any, Any] = {} if into is None else into
        return self._pairs(node, out, self._typed_key, _put)

    def string_mapping(self, node: Node, out: dict[Any, Any]) -> Any:
        """decode.go ``d.mapping`` into a ``map[string]interface{}``: every key becomes its text.

        A key decodes into a Go string as written (``0x10``, ``1.50``, ``True`` stay as they
        are; ``!!binary`` keys are decoded); a null key does not decode into a string, so its
        entry is skipped; a collection key is a type error.  Values decode as usual.
        """
        return self._pairs(node, out, self._string_key, dict.__setitem__)

    def _pairs(
        self,
        node: Node,
        out: dict[Any, Any],
        key_of: Callable[[Node], Any],
        store: Callable[[dict[Any, Any], Any, Any], None],
    ) -> Any:
        """decode.go ``d.mapping``'s loop: keys decoded by ``key_of`` (``_SKIP`` leaves the
        entry out), explicit keys before ``<<`` merges, merged keys never overriding."""
        children = node.children
        if len(children) > 2 and self._duplicates(node):
            return None
        merged = self.merged
        self.merged = None
        merge_node: Node | None = None
        for i in range(0, len(children), 2):
            key_node = children[i]
            if key_node.kind == SCALAR and key_node.value == "<<" and key_node.tag == MERGE_TAG:
                merge_node = children[i + 1]
                continue
            key = key_of(key_node)
            if key is _SKIP:
                continue
            if merged is not None:
                typed = _typed(key)
                if typed in merged:
                    continue
                merged.add(typed)
            store(out, key, self.unmarshal(children[i + 1]))
        self.merged = merged
        if merge_node is not None:
            self.merge(node, merge_node, out)
        return out

    def _typed_key(self, node: Node) -> Any:
        key = self.unmarshal(node)
        if isinstance(key, (dict, list)):
            raise LoadError(f"invalid map key: {_go_value(key)}")
        return key

    def _string_key(self, node: Node) -> Any:
        """A key decoded into a Go string, or ``_SKIP`` when decode.go leaves it unset."""
        self._count()
        while node.kind == ALIAS and node.alias is not None:
            node = node.alias
        if node.kind != SCALAR:
            tag = "!!map" if node.kind == MAPPING else "!!seq"
            self.terrors.append(f"line {node.line}: cannot unmarshal {tag} into string")
            return _SKIP
        value = self.scalar(node)
        if value is None:
            return _SKIP
        if node.tag == BINARY_TAG:
            return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")
        return node.value

    def merge(self, parent: Node, merge: Node, out: dict[Any, Any]) -> None:
        saved = self.merged
        if saved is None:
            merged: set[Any] = set()
            for i in range(0, len(parent.children), 2):
                key = self.unmarshal(parent.children[i])
                if not isinstance(key, (dict, list)):
                    merged.add(_typed(key))
            self.merged = merged
        if merge.kind == MAPPING:
            self.unmarshal(merge, out)
        elif merge.kind == ALIAS:
            if merge.alias is not None and merge.alias.kind != MAPPING:
                raise LoadError(_WANT_MAP)
            self.unmarshal(merge, out)
        elif merge.kind == SEQUENCE:
            for item in merge.children:
                if item.kind == ALIAS:
                    if item.alias is not None and item.alias.kind != MAPPING:
                        raise LoadError(_WANT_MAP)
                elif item.kind != MAPPING:
                    raise LoadError(_WANT_MAP)
                self.unmarshal(item, out)
        else:
            raise LoadError(_WANT_MAP)
        self.merged = saved


_WANT_MAP = "map merge requires map or sequence of maps as the value"


def _decode_binary(text: str) -> str | bytes:
    """Go base64.StdEncoding.DecodeString (ignores CR/LF); invalid UTF-8 stays bytes."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise LoadError("!!binary value contains invalid base64 data") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _go_value(value: Any) -> str:
    """An approximation of Go's %#v for the invalid-key message."""
    if isinstance(value, dict):
        inner = ", ".join(f"{_go_value(k)}:{_go_value(v)}" for k, v in value.items())
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_value(v) for v in value) + "}"
    if isinstance(value, str):
        return go_quote(value)
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
