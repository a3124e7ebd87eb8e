"""kyaml's re-encoding quirks, as skaffold's output inherits them.

skaffold passes rawYaml through kyaml (``pkg/skaffold/render/applysetters/apply_setters.go``),
and Helm 4 post-renders through kyaml too: the document split of kio's ``ByteReader``
(``kio/byteio_reader.go``) and what a folded scalar becomes after kyaml writes it and skaffold
reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.core.errors import ManifestError
from engine.golang import unicode

# kyaml kio/byteio_reader.go: splitDocuments
_KYAML_SEPARATOR = re.compile(r"\n---.*\n")


def split_documents(text: str) -> list[str]:
    """The documents kyaml's ``ByteReader`` cuts ``text`` into.

    CRLF becomes LF; the text is cut at every ``\\n---...\\n`` line (a ``---`` on the first
    line is left to the YAML parser); text after ``---`` must be empty or a comment.  Every
    piece but the last gets its newline back, so a clip block scalar ending the very last
    document loses its final newline, as in skaffold.
    """
    text = text.replace("\r\n", "\n")
    if not text:
        return []
    pieces: list[str] = []
    previous = 0
    for found in _KYAML_SEPARATOR.finditer(text):
        after = found.group()[4:].strip(unicode.SPACE)
        if after and not after.startswith("#"):
            raise ManifestError(f"invalid document separator: {found.group().strip(unicode.SPACE)}")
        pieces.append(text[previous : found.start()] + "\n")
        previous = found.end()
    pieces.append(text[previous:])
    return pieces


def folded(value: str) -> str:
    """What a folded (``>``) string becomes after kyaml re-encodes it (``MustString`` in
    ``apply_setters.go``) and skaffold reads it back.

    kyaml keeps the node's folded style; go.yaml.in/yaml/v3's ``yaml_emitter_write_folded_scalar``
    (emitterc.go) decides whether a line break needs an extra blank line by looking at the first
    non-break character of the *whole value* (``k := 0``, a bug) instead of the text after the
    break.  So a break before a more-indented line gains a blank line, a ``>+`` value gains a
    trailing newline, and a value that starts with a space loses its blank lines.  Values that
    cannot be written as a block scalar are double-quoted, which loses nothing.
    """
    from engine import yamlv3
    from engine.yamlv3 import emitter

    if "\n" not in value or any(ch in value for ch in "\r\x85\u2028\u2029"):
        return value
    if not emitter._analyze(value)[3]:
        return value  # no block style: double-quoted
    stripped = value.lstrip("\n")
    needs_blank_line = stripped[:1] not in (" ", "\t", "\x00")
    hints = ("2" if value[0] in " \n" else "") + _chomping(value)
    body: list[str] = []
    breaks = True
    leading_spaces = True
    for ch in value:
        if ch == "\n":
            if not breaks and not leading_spaces and needs_blank_line:
                body.append("\n")
            body.append("\n")
            breaks = True
            continue
        if breaks:
            body.append("  ")
            leading_spaces = ch in " \t"
        body.append(ch)
        breaks = False
    reread = yamlv3.load_all(f"k: >{hints}\n{''.join(body)}".encode("utf-8", "surrogateescape"))
    result = reread[0]["k"] if reread and isinstance(reread[0], dict) else value
    return result if isinstance(result, str) else value


def _chomping(value: str) -> str:
    """emitterc.go yaml_emitter_write_block_scalar_hints: the chomping indicator."""
    if not value.endswith("\n"):
        return "-"
    if value == "\n" or value.endswith("\n\n"):
        return "+"
    return ""


def is_wrapping_list(doc: Any) -> bool:
    """A ``List``/``ResourceList`` with ``items`` or ``functionConfig``: kio's ByteReader
    replaces a lone such document by its items."""
    return (
        isinstance(doc, dict)
        and doc.get("kind") in ("List", "ResourceList")
        and ("items" in doc or "functionConfig" in doc)
    )


def list_items(doc: Mapping[str, Any]) -> list[Any]:
    """The nodes kyaml takes from ``items``: a sequence's elements (a mapping's keys and values
    alternate, being the node's content), nothing for a scalar."""
    items = doc.get("items")
    if isinstance(items, list):
        return list(items)
    if isinstance(items, dict):
        return [node for pair in items.items() for node in pair]
    return []
