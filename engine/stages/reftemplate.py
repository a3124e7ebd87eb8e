"""Rendered manifests as templates over their image references (for the render cache).

A render's text depends on its image references only where the rewrite put them: the image
fields (:func:`engine.stages.rewrite.replace_images` inserts each reference whole and reads
nothing else of it).  So the text rendered with a unique placeholder token in place of each
reference, then each token replaced by the reference, is the text rendered with the
references, provided both are written the same way by the emitter: as a plain scalar, on
one line.  This module makes the tokens, checks those conditions and fills templates in;
anything it cannot vouch for answers None, and the caller renders normally.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# A conservative plain-scalar alphabet: no space (the emitter folds only at spaces), no
# quote, comment, flow or block indicator.  Every image reference skaffold renders fits.
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,1023}")
_TOKEN_PREFIX = "skrender-ref-"

_plain_memo: dict[str, bool] = {}


def token_prefix(key: str) -> str:
    """The prefix of one render's tokens: tied to its cache key (hex), so that no input can
    hold it by chance (the caller still checks, see :func:`absent`)."""
    return f"{_TOKEN_PREFIX}{key[:_KEY_CHARS]}-"


def tokens(prefix: str, count: int) -> list[str]:
    """The placeholder of each of ``count`` references (decimal index after the prefix)."""
    return [f"{prefix}{index}" for index in range(count)]


def plain_safe(value: str) -> bool:
    """``value`` is written as itself, unquoted, on one line: the conservative alphabet and
    the emitter's own answer agree."""
    known = _plain_memo.get(value)
    if known is None:
        from engine import yamlv3

        known = (
            _PLAIN_SAFE.fullmatch(value) is not None
            and yamlv3.dump({"image": value}) == f"image: {value}\n"
        )
        if len(_plain_memo) < 100_000:
            _plain_memo[value] = known
    return known


def absent(prefix: str, texts: Sequence[str]) -> bool:
    """No input text contains the token prefix (so every token in a template is ours)."""
    return not any(prefix in text for text in texts)


_KEY_CHARS = 20
# A whole token: a mapping value or a sequence item, then the end of its line.
_TOKEN = re.compile(
    r"(?<=: |- )" + re.escape(_TOKEN_PREFIX) + rf"([0-9a-f]{{{_KEY_CHARS}}})-(\d+)(?=\n)"
)


def _pieces(template: str, prefix: str, count: int) -> list[str | int] | None:
    """The template split into text and token indexes; None unless every occurrence of the
    prefix is a whole token of index < count, where a reference is written."""
    key = prefix[len(_TOKEN_PREFIX) : -1]
    pieces: list[str | int] = []
    end = 0
    for match in _TOKEN.finditer(template):
        index = int(match.group(2))
        if match.group(1) != key or index >= count:
            return None
        pieces += [template[end : match.start()], index]
        end = match.end()
    pieces.append(template[end:])
    if template.count(prefix) != len(pieces) // 2:
        return None
    return pieces


def well_formed(template: str, prefix: str, count: int) -> bool:
    """Every occurrence of the prefix in ``template`` is a whole token of index < count,
    where a reference is written: a plain mapping value or sequence item ending its line."""
    return _pieces(template, prefix, count) is not None


def fill(template: str, prefix: str, references: Sequence[str]) -> str | None:
    """The template with each token replaced by its reference; None when a reference is
    not :func:`plain_safe` or the template is not :func:`well_formed`."""
    if not all(plain_safe(ref) for ref in references):
        return None
    pieces = _pieces(template, prefix, len(references))
    if pieces is None:
        return None
    return "".join(references[p] if isinstance(p, int) else p for p in pieces)
