"""kpt setters: skaffold's ``--set`` / ``--set-value-file`` for the rawYaml and kustomize renderers.

skaffold applies them with its copy of kpt's apply-setters function
(``pkg/skaffold/render/applysetters/apply_setters.go``, ``walk.go``):

* a scalar value whose line comment is ``# from-param: <pattern>`` becomes the pattern with
  every ``${name}`` replaced by the setter's value (names not given are taken back from the
  current value when the pattern matches it, else the setter errors);
* a sequence whose key carries ``# from-param: ${name}`` (or, for a flow sequence, the sequence
  itself) is replaced by the setter's value parsed as a YAML list.

kyaml changes the parsed node and re-encodes it; skrender instead rewrites the *source text* of
just those nodes, located with the same libyaml event stream :mod:`engine.yamlv3` decodes, so the
rest of the pipeline reads the text exactly as it reads any other manifest.  A replaced scalar is
written so that it decodes to what kyaml's re-encoding would decode to: a plain scalar stays
plain (``3`` becomes an int, as in skaffold) when yaml.v3's emitter would write it plain, anything
else is written double-quoted.

The kustomize renderer (``pkg/skaffold/render/renderer/kustomize/kustomize.go``) mirrors the
kustomization tree into a temporary directory and applies the setters to every mirrored file
that holds Kubernetes objects: :func:`mirrored_kustomization`.

This module is imported only when setters are given: a render without them never loads it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from engine.core.errors import ConfigError, ManifestError
from engine.golang.regexp import RegexpError, compile_go, quote_meta

# apply_setters.go: SetterCommentIdentifier
SETTER_COMMENT = "# from-param: "
_SETTER_REF = re.compile(r"\$\{[^}]*\}")  # apply_setters.go: unresolvedSetters
# constants.KustomizeFilePaths
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_FLOW_INDICATORS = frozenset(",?[]{}:#")
_MAP, _SEQ, _SCALAR, _ALIAS = "map", "seq", "scalar", "alias"


# --- setter values --------------------------------------------------------------------------


def parse_setters(values: Sequence[str], value_file: str, *, cwd: str) -> dict[str, str]:
    """The setters of ``--set-value-file`` (a dotenv file) overridden by ``--set`` entries.

    ``values`` are the already comma-split ``--set`` entries; one without ``=`` is ignored
    (``util.EnvSliceToMap``).  A missing value file fails as skaffold's runner creation does
    (``pkg/skaffold/runner/renderer.go``).
    """
    result: dict[str, str] = {}
    if value_file:
        from engine.skaffold import config

        path = os.path.join(cwd, value_file)
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise ConfigError(
                f"creating runner: creating renderer: open {value_file}: {reason}"
            ) from None
        result.update(config.read_dotenv(path))
    for entry in values:
        name, sep, value = entry.partition("=")
        if sep:
            result[name] = value
    return result


# --- the YAML source as a tree with positions -----------------------------------------------


class _Node:
    """One YAML node with its character span in the source (libyaml marks)."""

    __slots__ = (
        "anchor",
        "children",
        "end",
        "flow",
        "in_flow",
        "kind",
        "start",
        "style",
        "tag",
        "value",
    )

    def __init__(self, kind: str, event: Any, in_flow: bool) -> None:
        self.kind = kind
        self.start: int = event.start_mark.index
        self.end: int = event.end_mark.index
        self.anchor: str | None = getattr(event, "anchor", None)
        self.tag: str | None = getattr(event, "tag", None)
        self.style: str = (getattr(event, "style", None) or "") if kind == _SCALAR else ""
        self.flow = bool(getattr(event, "flow_style", False)) and kind in (_MAP, _SEQ)
        self.in_flow = in_flow
        self.children: list[_Node] = []
        self.value: str = getattr(event, "value", "") if kind == _SCALAR else ""


def _parse(text: str) -> list[_Node | None] | None:
    """The root node of every document of ``text``, or None when it is not valid YAML."""
    from engine.yamlv3 import decoder

    ev = decoder._events()
    try:
        return _parse_events(ev, text)
    except _TooDeepForLibyaml:
        return _parse_events(decoder.deeper_events(), text)


class _TooDeepForLibyaml(Exception):
    """libyaml's own nesting limit, lower than yaml.v3's."""


def _parse_events(ev: Any, text: str) -> list[_Node | None] | None:
    from engine.yamlv3 import decoder

    get = ev.make(text.encode("utf-8", "surrogateescape"))
    roots: list[_Node | None] = []
    stack: list[_Node] = []
    holder: list[_Node] = []
    flow_depth = 0
    try:
        while True:
            event = get()
            kind = type(event)
            if kind is ev.stream_end:
                return roots
            if kind is ev.doc_start:
                holder = []
                stack = []
            elif kind is ev.doc_end:
                roots.append(holder[0] if holder else None)
            elif kind is ev.scalar or kind is ev.alias:
                node = _Node(_SCALAR if kind is ev.scalar else _ALIAS, event, flow_depth > 0)
                (stack[-1].children if stack else holder).append(node)
            elif kind is ev.map_start or kind is ev.seq_start:
                node = _Node(_MAP if kind is ev.map_start else _SEQ, event, flow_depth > 0)
                (stack[-1].children if stack else holder).append(node)
                stack.append(node)
                flow_depth += node.flow
            elif kind is ev.map_end or kind is ev.seq_end:
                node = stack.pop()
                node.end = event.end_mark.index
                flow_depth -= node.flow
    except (ev.marked_error, ev.reader_error) as exc:
        if decoder.refused_nesting(ev, exc):
            raise _TooDeepForLibyaml from None
        return None


def _line_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find("\n", pos), text.find("\r", pos)) if i >= 0]
    return min(ends) if ends else len(text)


def _comment_at(text: str, pos: int) -> str:
    """The comment that follows ``pos`` on the same line (yaml.v3's line comment), or ""."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos < len(text) and text[pos] == "#":
        return text[pos : _line_end(text, pos)]
    return ""


def _value_comment(text: str, node: _Node) -> str:
    """The line comment of a value node: a block scalar's is on its header line."""
    if node.kind == _SCALAR and node.style in ("|", ">"):
        header = text[node.start : _line_end(text, node.start)]
        found = re.search(r"[ \t]#", header)
        return header[found.start() + 1 :] if found else ""
    return _comment_at(text, node.end)


def _key_comment(text: str, key: _Node) -> str:
    """The line comment of a mapping key: ``key: # comment`` (the value on later lines)."""
    pos = key.end
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos < len(text) and text[pos] == ":":
        return _comment_at(text, pos + 1)
    return ""


def _pattern(comment: str) -> str:
    """apply_setters.go extractSetterPattern."""
    if not comment.startswith(SETTER_COMMENT):
        return ""
    return comment[len(SETTER_COMMENT) :].strip(" \t\r\n\v\f")


def _pairs(node: _Node) -> list[tuple[_Node, _Node]]:
    kids = node.children
    return list(zip(kids[0::2], kids[1::2], strict=False))


# --- applying setters -----------------------------------------------------------------------


class _Rewriter:
    """The walk of walk.go ``acceptImpl`` over one document, collecting text edits."""

    def __init__(self, text: str, setters: Mapping[str, str]) -> None:
        self.text = text
        self.setters = setters
        self.edits: list[tuple[int, int, str]] = []
        self.edited: set[int] = set()

    def accept(self, node: _Node) -> None:
        if node.kind == _MAP:
            replaced = self.visit_mapping(node)
            for _, value in _pairs(node):
                if id(value) not in replaced:  # the new items carry no setter comments
                    self.accept(value)
        elif node.kind == _SEQ:
            for child in node.children:
                self.accept(child)
        elif node.kind == _SCALAR:
            self.visit_scalar(node)

    def visit_mapping(self, node: _Node) -> set[int]:
        """apply_setters.go visitMapping: sequence fields tagged on their key."""
        replaced: set[int] = set()
        for key, value in _pairs(node):
            if value.kind != _SEQ:
                continue
            comment = (
                _comment_at(self.text, value.end) if value.flow else _key_comment(self.text, key)
            )
            pattern = _pattern(comment)
            if not pattern or not self.should_set(pattern):
                continue
            if not _valid_array_pattern(pattern):
                raise ManifestError(f"invalid setter pattern for array node: {_quote(pattern)}")
            name = _clean(pattern)
            given = self.setters.get(name, "")
            flow = _flow_list(given) if given else "[]"
            anchor = f"&{value.anchor} " if value.anchor else ""
            self.edits.append((key.end, self.end_of(value), ": " + anchor + flow))
            replaced.add(id(value))
        return replaced

    def visit_scalar(self, node: _Node) -> None:
        """apply_setters.go visitScalar: a scalar value tagged with a pattern."""
        if node.start == node.end:
            return  # an implicit null: yaml.v3 gives it no comment (parserc.go empty scalar)
        pattern = _pattern(_value_comment(self.text, node))
        if not pattern or not self.should_set(pattern):
            return
        result = pattern
        for name, value in self.setters.items():
            result = result.replace("${" + name + "}", value)
        for name, value in _current_values(pattern, node.value).items():
            result = result.replace("${" + name + "}", value)
        unresolved = _SETTER_REF.findall(result)
        if unresolved:
            raise ManifestError(f"values for setters [{' '.join(unresolved)}] must be provided")
        self.replace_scalar(node, _scalar_text(node, result))

    def replace_scalar(self, node: _Node, new_text: str) -> None:
        anchor = f"&{node.anchor} " if node.anchor else ""
        self.edits.append((node.start, self.trimmed(node.start, node.end), anchor + new_text))
        self.edited.add(id(node))

    def should_set(self, pattern: str) -> bool:
        """apply_setters.go shouldSet: the pattern names at least one given setter."""
        return any("${" + name + "}" in pattern for name in self.setters)

    def end_of(self, node: _Node) -> int:
        """Where a node's text ends: a block collection's end mark lies on the next line."""
        last = node
        while last.kind in (_MAP, _SEQ) and not last.flow and last.children:
            last = last.children[-1]
        return self.trimmed(node.start, last.end)

    def trimmed(self, start: int, end: int) -> int:
        while end > start and self.text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _valid_array_pattern(pattern: str) -> bool:
    return (
        len(_SETTER_REF.findall(pattern)) == 1
        and pattern.startswith("${")
        and pattern.endswith("}")
    )


def _clean(text: str) -> str:
    """apply_setters.go clean: the name inside ``${...}``."""
    return text.strip().removeprefix("${").removesuffix("}")


def _current_values(pattern: str, value: str) -> dict[str, str]:
    """apply_setters.go currentSetterValues: names not given, read back from the current value."""
    refs = _SETTER_REF.findall(pattern)
    regex = quote_meta(pattern)
    for ref in refs:
        regex = regex.replace(quote_meta(ref), "(?P<x>.*)")  # Go's pattern, repeated name and all
    try:
        groups = compile_go(regex).find_string_submatch(value)
    except RegexpError:
        return {}
    if not groups:
        return {}
    groups = groups[1:]
    if len(groups) != len(refs) or "" in groups:
        return {}
    return {_clean(ref): group for ref, group in zip(refs, groups, strict=True)}


def _flow_list(value: str) -> str:
    """The setter value as flow-sequence text; it must parse as a YAML sequence."""
    error = ManifestError(
        f"input to array setter must be an array of values, but found {_quote(value)}"
    )
    roots = _parse(value)
    if not roots or roots[0] is None or roots[0].kind != _SEQ:
        raise error
    root = roots[0]
    text = value[root.start : root.end]
    if root.flow and "\n" not in text and "\r" not in text:
        return text
    from engine import yamlv3

    decoded = yamlv3.load_all(value)
    return _flow(decoded[0] if decoded else [])


def _flow(value: Any) -> str:
    """Flow-style YAML for a decoded value (a block-style setter list, written on one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{_flow(getattr(k, 'yaml_key_value', k))}: {_flow(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return _double_quoted(str(value))


def _scalar_text(node: _Node, value: str) -> str:
    """The text of a scalar set to ``value`` that decodes like kyaml's re-encoded node.

    kyaml keeps the node's style and drops its tag (apply_setters.go visitScalar); yaml.v3's
    encoder (encode.go ``node``) writes a plain one plain when its emitter allows, so it is
    resolved again when read (``true`` becomes a bool), and a folded one with the emitter's
    folding quirk (:func:`engine.stages.kyaml.folded`).
    """
    if value == "":
        return '""'  # visitScalar: an empty value is double-quoted
    if node.style == ">":
        from engine.stages import kyaml

        return _double_quoted(kyaml.folded(value))
    if node.style or "\n" in value or not _plain_allowed(value, node.in_flow):
        return _double_quoted(value)
    return value


def _plain_allowed(value: str, in_flow: bool) -> bool:
    """emitterc.go yaml_emitter_analyze_scalar: may ``value`` be written as a plain scalar?"""
    from engine.yamlv3 import emitter

    block_plain = emitter._analyze(value)[1]
    if in_flow:
        return block_plain and not any(ch in _FLOW_INDICATORS for ch in value)
    return block_plain


def _double_quoted(value: str) -> str:
    """A YAML double-quoted scalar for ``value`` (any escaping yaml.v3 reads back exactly)."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif ch in "\u2028\u2029\ufeff\ufffe\uffff":
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _quote(text: str) -> str:
    from engine.yamlv3 import decoder

    return decoder.go_quote(text)


def _untagged(node: _Node) -> bool:
    return node.tag is None or node.tag == "!"


def _walk(node: _Node) -> Iterator[_Node]:
    """Every node under ``node``, in document order (no recursion: 10000 levels are valid)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(current.children))


def apply_to_pieces(pieces: Sequence[str], setters: Mapping[str, str]) -> list[str]:
    """The rawYaml renderer's kyaml pieces with the setters applied to each first document.

    skaffold parses every piece before applying any setter (``ApplySetters.Apply``), so when a
    piece is not valid YAML the pieces are returned unchanged and decoding reports the error.
    """
    if not setters or not any(SETTER_COMMENT in piece for piece in pieces):
        return list(pieces)
    parsed = [_parse(piece) for piece in pieces]
    if any(roots is None for roots in parsed):
        return list(pieces)
    out: list[str] = []
    for piece, roots in zip(pieces, parsed, strict=True):
        root = roots[0] if roots else None
        if root is None or SETTER_COMMENT not in piece:
            out.append(piece)
            continue
        rewriter = _Rewriter(piece, setters)
        rewriter.accept(root)
        out.append(rewriter.result())
    return out


def apply_to_file_text(text: str, setters: Mapping[str, str]) -> str:
    """A manifest file as kustomize reads it after skaffold's ``ApplySetters.ApplyPath``.

    Every document gets the setters; every other folded scalar is rewritten as kyaml's
    re-encoding of the whole file changes it.  Text that is not valid YAML is left as is.
    """
    roots = _parse(text)
    if roots is None:
        return text
    from engine.stages import kyaml

    rewriter = _Rewriter(text, setters)
    for root in roots:
        if root is not None and SETTER_COMMENT in text:
            rewriter.accept(root)
    for root in roots:
        for node in _walk(root) if root is not None else ():
            if node.kind != _SCALAR or node.style != ">" or id(node) in rewriter.edited:
                continue
            folded = kyaml.folded(node.value)
            if folded != node.value and _untagged(node):
                rewriter.replace_scalar(node, _double_quoted(folded))
    return rewriter.result() if rewriter.edits else text


# --- kustomize mirroring --------------------------------------------------------------------


def is_kubernetes_manifest(text: str) -> bool:
    """``kubernetes.IsKubernetesManifest``: some document has apiVersion, kind and metadata.

    Documents are cut like apimachinery's ``YAMLReader`` (a line starting ``---``, followed
    only by blanks or a comment); any document that does not decode as a mapping disqualifies
    the file.
    """
    from engine import yamlv3
    from engine.core.errors import SkrenderError

    documents: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                return False
            if current:
                documents.append("".join(current))
                current = []
            continue
        current.append(line)
    if current:
        documents.append("".join(current))
    found = False
    for document in documents:
        try:
            loaded = yamlv3.load_all(document, string_keys=True)
        except (SkrenderError, RecursionError):
            return False
        doc = loaded[0] if loaded else None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            return False
        if all(key in doc for key in ("apiVersion", "kind", "metadata")):
            found = True
    return found


@contextmanager
def mirrored_kustomization(
    path: str, setters: Mapping[str, str], transform: Callable[[str], None] | None = None
) -> Iterator[str]:
    """The kustomization at ``path`` copied to a temporary directory, setters applied.

    ``transform`` (the kpt transformers) runs on each copied manifest file before the setters.
    Yields the path to give kustomize (``<tmp>/<path>``); the copy is removed afterwards.
    """
    import shutil
    import tempfile

    from engine.golang import filepath

    root = tempfile.mkdtemp()
    try:
        _Mirror(filepath.clean(root), setters, transform).mirror(path)
        yield filepath.join(root, path)
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _Mirror:
    """kustomize.go ``mirror`` and its ``mirror*`` helpers, in their order."""

    def __init__(
        self, root: str, setters: Mapping[str, str], transform: Callable[[str], None] | None
    ) -> None:
        self.root = root
        self.setters = setters
        self.transform = transform

    def mirror(self, directory: str) -> None:
        from engine.golang import filepath

        k_file = _kustomization_file(directory)
        data = _read(k_file)
        self.write(k_file, data)
        k = _kustomization(data, k_file)
        for entry in _strings(k, "patchesStrategicMerge"):
            self.mirror_file(directory, entry)
        for field in ("patchesJson6902", "patches"):
            for entry in _patch_paths(k, field):
                self.mirror_file(directory, entry)
        for entry in _strings(k, "resources"):
            target = filepath.join(directory, entry)
            try:
                mode = os.stat(target).st_mode
            except OSError as exc:
                raise ManifestError(_path_error("stat", target, exc)) from None
            if stat.S_ISDIR(mode):
                self.mirror(target)
            else:
                self.mirror_file(directory, entry)
        for entry in _strings(k, "crds"):
            self.mirror_file(directory, entry)
        for entry in _strings(k, "bases"):
            self.mirror(filepath.join(directory, entry))
        for field in ("configurations", "generators", "transformers", "validators"):
            for entry in _strings(k, field):
                self.mirror_file(directory, entry)
        for field in ("secretGenerator", "configMapGenerator"):
            for entry in _generator_files(k, field):
                self.mirror_file(directory, entry)
        for entry in _strings(k, "components"):
            self.mirror(filepath.join(directory, entry))

    def mirror_file(self, directory: str, entry: str) -> None:
        """kustomize.go mirrorFile: copy, then set the copy if it holds Kubernetes objects."""
        from engine.golang import filepath

        if entry.startswith(("http://", "https://")):
            return
        source = filepath.join(directory, entry)
        data = _read(source)
        target = self.write(source, data)
        text = data.decode("utf-8", "surrogateescape")
        if not is_kubernetes_manifest(text):
            return
        if self.transform is not None:
            self.transform(target)  # Transformer.TransformPath, before ApplyPath
            text = _read(target).decode("utf-8", "surrogateescape")
        try:
            updated = apply_to_file_text(text, self.setters)
        except ManifestError as exc:
            raise ManifestError(f"failed to apply setter to file {source}, err: {exc}") from None
        if updated != text:
            with open(target, "wb") as handle:
                handle.write(updated.encode("utf-8", "surrogateescape"))

    def write(self, path: str, data: bytes) -> str:
        """fs.go TmpFSReal.WriteTo: ``<root>/<path>``, parent directories created."""
        from engine.golang import filepath

        target = filepath.join(self.root, path)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise ManifestError(_path_error("open", target, exc)) from None
        return target


def _kustomization_file(directory: str) -> str:
    """kustomize.go getKustomizationFile."""
    from engine.golang import filepath

    for name in KUSTOMIZATION_FILES:
        candidate = filepath.join(directory, name)
        if os.path.exists(candidate):
            return candidate
    raise ManifestError(f"cannot locate kustomization file from provided directory: {directory}")


def _kustomization(data: bytes, path: str) -> Mapping[str, Any]:
    """The kustomization file as yaml.Unmarshal reads it into ``types.Kustomization``."""
    from engine import yamlv3
    from engine.core.errors import YamlError

    source = "kustomization"
    try:
        loaded = yamlv3.load_all(data, source=source)
    except YamlError as exc:
        raise ManifestError(str(exc)[len(source) + 2 :]) from None
    doc = loaded[0] if loaded else None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ManifestError(
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into types.Kustomization"
        )
    return doc


def _as_list(k: Mapping[str, Any], field: str) -> list[Any]:
    value = k.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ManifestError(f"yaml: unmarshal errors: cannot unmarshal {field} into a list")
    return value


def _strings(k: Mapping[str, Any], field: str) -> list[str]:
    out: list[str] = []
    for item in _as_list(k, field):
        if isinstance(item, (dict, list)):
            raise ManifestError(f"yaml: unmarshal errors: cannot unmarshal {field} into string")
        out.append("" if item is None else str(item))
    return out


def _patch_paths(k: Mapping[str, Any], field: str) -> list[str]:
    """kustomize.go mirrorPatches: the ``path`` of each patch that has one."""
    out: list[str] = []
    for item in _as_list(k, field):
        path = item.get("path") if isinstance(item, dict) else None
        if path:
            out.append(str(path))
    return out


def _generator_files(k: Mapping[str, Any], field: str) -> list[str]:
    """The ``files`` sources of every generator (``key=path`` forms are read as paths, as in
    skaffold, which then fails to find them)."""
    out: list[str] = []
    for item in _as_list(k, field):
        files = item.get("files") if isinstance(item, dict) else None
        if isinstance(files, list):
            out.extend("" if f is None else str(f) for f in files)
    return out


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except IsADirectoryError:
        raise ManifestError(f"read {path}: is a directory") from None
    except OSError as exc:
        raise ManifestError(_path_error("open", path, exc)) from None


def _path_error(op: str, path: str, exc: OSError) -> str:
    """An ``*fs.PathError`` message: ``open <path>: no such file or directory``."""
    return f"{op} {path}: {(exc.strerror or str(exc)).lower()}"
