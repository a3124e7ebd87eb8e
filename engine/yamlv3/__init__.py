"""The only YAML reader/writer: byte-compatible with gopkg.in/yaml.v3 v3.0.1 as skaffold uses it.

skaffold decodes every manifest document into a generic Go value and re-encodes it with
``yaml.NewEncoder`` + ``SetIndent(2)`` (pkg/skaffold/yaml/yaml.go); :func:`load_all` and
:func:`dump` are those two steps.

Decoded values: ``dict`` (insertion order), ``list``, ``str``, ``int`` (Go int64 and uint64),
``float``, ``bool``, ``None``, :class:`Timestamp`, and ``bytes`` for a ``!!binary`` scalar that is
not valid UTF-8.  Keys are normally ``str``; other scalar keys keep their type.  Go keeps ``true``,
``1`` and ``1.0`` as distinct map keys while Python dicts would merge them: when a key equals an
existing key of another type, the later one is stored as a :class:`TypedKey` wrapper (its value
is ``.yaml_key_value``); :func:`dump` unwraps it.

This package is the layer of yaml.v3 semantics (decoder, scalars, keyorder, emitter); it
imports only :mod:`engine.core`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.core.errors import YamlError
from engine.yamlv3.decoder import Decoder, LoadError, TypedKey, compose, terror_value
from engine.yamlv3.scalars import Timestamp

__all__ = ["Timestamp", "TypedKey", "dump", "load_all", "terror_value"]


def load_all(
    data: str | bytes,
    *,
    source: str = "<input>",
    string_keys: bool = False,
    folded: Callable[[str], str] | None = None,
    kyaml_empty: bool = False,
) -> list[Any]:
    """Every YAML document in ``data``, decoded as yaml.v3 decodes into ``interface{}``.

    An empty document (``---`` alone) yields None; a stream without documents (empty or only
    comments) yields ``[]``.  Errors raise :class:`YamlError` with yaml.v3's message prefixed by
    ``source``, e.g. ``"<source>: yaml: line 3: mapping values are not allowed in this context"``
    or ``"<source>: yaml: unmarshal errors:\\n  line 4: mapping key \\"a\\" already defined at
    line 2"``.  Documents are decoded in order; an error in a later document is raised after the
    earlier ones decoded, as a yaml.v3 Decoder loop would.

    ``string_keys``: a mapping document is decoded as into a Go ``map[string]interface{}``
    (how skaffold reads manifests): its keys are their source text (``0x10: a`` keeps the key
    ``"0x10"``) and entries with a null key are left out.  ``folded`` rewrites the value of
    every untagged folded (``>``) block scalar (engine.stages.sources: kyaml's re-encoding).
    ``kyaml_empty``: untagged empty scalars in flow collections and keys are ``""``, as after
    kyaml's re-encoding (``{a: }`` reads as ``{"a": ""}``).
    """
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
    documents: list[Any] = []
    try:
        for node in compose(raw, folded, kyaml_empty=kyaml_empty):
            documents.append(
                Decoder(string_keys=string_keys).document(node) if node is not None else None
            )
    except LoadError as exc:
        raise YamlError(f"{source}: yaml: {exc}") from None
    return documents


def dump(value: Any, *, compact_sequences: bool = False) -> str:
    """One document encoded like yaml.v3's Encoder with SetIndent(2).

    ``compact_sequences``: as kyaml encodes (``CompactSeqIndent``), block sequences that are
    mapping values start at their key's column.

    The result ends with a line break (``"{}\\n"`` for an empty dict).  A ``|+`` block scalar as
    the very last value keeps its extra trailing line breaks, exactly as yaml.v3 writes them.
    Raises TypeError for values yaml.v3 would not see in decoded data (sets, objects...).
    """
    from engine.yamlv3.emitter import dump_value  # the emitter is not needed to read a config

    return dump_value(value, compact_sequences)
