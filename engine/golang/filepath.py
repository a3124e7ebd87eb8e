"""Go's ``path/filepath`` ``Match``, ``Glob``, ``Join`` and ``Clean`` (Unix flavour).

skaffold expands ``manifests.rawYaml`` with ``filepath.Glob``, whose rules differ from Python's
``glob``/``fnmatch``: ``*`` and ``?`` match leading dots, ``**`` is just ``*`` (no recursion),
classes are ``[...]``/``[^...]`` (``!`` is literal), ``\\`` escapes anywhere, a malformed pattern
is an error, and matches come back sorted byte-wise per directory level.  Matching works on
UTF-8 bytes like Go (``?`` and classes consume one rune, an invalid byte being one rune).
Follows the Go standard library (``src/path/filepath/match.go``, ``path.go``), not its code.
"""

from __future__ import annotations

import os
import stat

_SEP = 0x2F  # '/'
_RUNE_ERROR = 0xFFFD
_MAX_DEPTH = 10000  # Go's pathSeparatorsLimit: deeper recursion is a bad pattern


class BadPattern(ValueError):
    """Go's ``filepath.ErrBadPattern``."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def match(pattern: str, name: str) -> bool:
    """Whether ``name`` matches the whole ``pattern`` (Go ``filepath.Match``).

    Raises :class:`BadPattern` (a ``ValueError``) when the pattern is malformed.
    """
    return _match(os.fsencode(pattern), os.fsencode(name))


def glob(pattern: str) -> list[str]:
    """Paths matching ``pattern``, relative patterns against the process CWD (Go ``filepath.Glob``).

    I/O errors are ignored; a malformed pattern raises :class:`BadPattern`.
    """
    return _glob(pattern, None, 0)


def glob_at(root: str, pattern: str) -> list[str]:
    """Like :func:`glob`, but a relative ``pattern`` is looked up under directory ``root``.

    Results stay relative, exactly as Go returns them when ``root`` is the working directory;
    ``root`` itself is never interpreted as a pattern.
    """
    return _glob(pattern, root, 0)


def clean(path: str) -> str:
    """Go's ``filepath.Clean``: lexical shortening (``//``, ``.``, ``..``), ``""`` -> ``"."``."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            # ".." at the root stays at the root
            continue
        parts.append(part)
    body = "/".join(parts)
    if rooted:
        return "/" + body
    return body or "."


def join(*elems: str) -> str:
    """Go's ``filepath.Join``: non-empty elements joined by ``/``, then cleaned (``""`` if none)."""
    kept = [e for e in elems if e]
    return clean("/".join(kept)) if kept else ""


# --- matching (on bytes, like Go strings) ----------------------------------------------------


def _decode_rune(data: bytes, i: int) -> tuple[int, int]:
    """Go's ``utf8.DecodeRune`` at ``data[i:]``: (rune, width); invalid -> (U+FFFD, 1)."""
    lead = data[i]
    if lead < 0x80:
        return lead, 1
    if 0xC2 <= lead <= 0xDF:
        width = 2
    elif 0xE0 <= lead <= 0xEF:
        width = 3
    elif 0xF0 <= lead <= 0xF4:
        width = 4
    else:
        return _RUNE_ERROR, 1
    try:
        text = data[i : i + width].decode("utf-8")
    except UnicodeDecodeError:
        return _RUNE_ERROR, 1
    if len(text) != 1:
        return _RUNE_ERROR, 1
    return ord(text), width


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """Split off leading stars and the following star-free chunk (stars inside [] don't end it)."""
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == 0x5C:  # backslash: skip the escaped byte (checked later)
            if i + 1 < len(pattern):
                i += 1
        elif c == 0x5B:  # [
            in_range = True
        elif c == 0x5D:  # ]
            in_range = False
        elif c == 0x2A and not in_range:  # *
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    """One possibly escaped rune of a character class; raises BadPattern like Go's getEsc."""
    if not chunk or chunk[0] in (0x2D, 0x5D):  # '-' or ']'
        raise BadPattern()
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern()
    rune, width = _decode_rune(chunk, 0)
    bad = rune == _RUNE_ERROR and width == 1
    rest = chunk[width:]
    if bad or not rest:
        raise BadPattern()
    return rune, rest


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Match ``chunk`` at the start of ``s``: the rest of ``s``, or None.

    Like Go, the whole chunk is parsed even after a mismatch, so a malformed chunk raises.
    """
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == 0x5B:  # character class
            rune = 0
            if not failed:
                rune, width = _decode_rune(s, 0)
                s = s[width:]
            chunk = chunk[1:]
            negated = False
            if chunk[:1] == b"^":
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk[:1] == b"]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == 0x2D:  # '-'
                    hi, chunk = _get_esc(chunk[1:])
                if lo <= rune <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
        elif c == 0x3F:  # ?
            if not failed:
                if s[0] == _SEP:
                    failed = True
                _, width = _decode_rune(s, 0)
                s = s[width:]
            chunk = chunk[1:]
        else:
            if c == 0x5C:  # backslash escapes the next byte
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern()
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _match(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            # a trailing star matches the rest unless it crosses a separator
            return b"/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            skipped = _match_after_skip(chunk, pattern, name)
            if skipped is not None:
                name = skipped
                continue
        # Go validates the rest of the pattern before answering "no"
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, b"")
        return False
    return not name


def _match_after_skip(chunk: bytes, pattern: bytes, name: bytes) -> bytes | None:
    """The star's search: skip 1, 2, ... bytes of ``name`` (never a '/') and retry ``chunk``."""
    i = 0
    while i < len(name) and name[i] != _SEP:
        rest = _match_chunk(chunk, name[i + 1 :])
        if rest is not None and not (not pattern and rest):
            return rest
        i += 1
    return None


# --- globbing -----------------------------------------------------------------------------------


def _has_meta(path: str) -> bool:
    return any(c in path for c in "*?[\\")


def _fs(path: str, root: str | None) -> str:
    """Where ``path`` lives on disk when relative paths are resolved against ``root``."""
    if root is None or path.startswith("/"):
        return path
    return os.path.join(root, path)


def _split(path: str) -> tuple[str, str]:
    """Go's ``filepath.Split``: (everything up to and including the last '/', the rest)."""
    i = path.rfind("/")
    return path[: i + 1], path[i + 1 :]


def _clean_glob_dir(path: str) -> str:
    if path == "":
        return "."
    if path == "/":
        return path
    return path[:-1]  # chop off the trailing separator only


def _glob(pattern: str, root: str | None, depth: int) -> list[str]:
    _match(os.fsencode(pattern), b"")  # validate the whole pattern first, as Go does
    if depth == _MAX_DEPTH:
        raise BadPattern()
    if not _has_meta(pattern):
        try:
            os.lstat(_fs(pattern, root))
        except (OSError, ValueError):
            return []
        return [pattern]
    dir_part, file_part = _split(pattern)
    dir_part = _clean_glob_dir(dir_part)
    if not _has_meta(dir_part):
        return _glob_dir(dir_part, file_part, root)
    if dir_part == pattern:  # prevent infinite recursion (Go issue 15879)
        raise BadPattern()
    matches: list[str] = []
    for d in _glob(dir_part, root, depth + 1):
        matches.extend(_glob_dir(d, file_part, root))
    return matches


def _glob_dir(directory: str, pattern: str, root: str | None) -> list[str]:
    """Entries of ``directory`` matching ``pattern``, in byte order; I/O errors give nothing."""
    where = _fs(directory, root)
    try:
        if not stat.S_ISDIR(os.stat(where).st_mode):
            return []
        names = os.listdir(where)
    except (OSError, ValueError):
        return []
    encoded = sorted((os.fsencode(n), n) for n in names)
    pat = os.fsencode(pattern)
    return [join(directory, name) for raw, name in encoded if _match(pat, raw)]
