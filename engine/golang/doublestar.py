"""``github.com/bmatcuk/doublestar`` v1.3.4 ``Glob`` and ``PathMatch`` (Unix flavour).

skaffold lists the files of ko, custom and buildpacks artifacts with it
(``pkg/skaffold/build/list/list.go``).  Its rules differ from Go's ``filepath``: ``**`` as a
whole path component matches any number of components (and, last, files and directories
alike), ``{a,b}`` alternatives may hold ``/``, symbolic links to directories are followed while
globbing, and the results come back per directory in name order, with repeats.
Follows the library's documented behaviour (v1.3.4 ``doublestar.go``), not its code.
"""

from __future__ import annotations

import os
import stat


class BadPattern(ValueError):
    """``doublestar.ErrBadPattern`` (Go's ``path.ErrBadPattern``)."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def path_match(pattern: str, name: str) -> bool:
    """Whether ``name`` matches ``pattern``, ``/`` separating components (``PathMatch``)."""
    return _do_matching(pattern, _split_on_separator(name))


def glob(pattern: str) -> list[str]:
    """Paths matching ``pattern`` (``Glob``); I/O errors are ignored, bad patterns raise."""
    if not pattern:
        return []
    if pattern[0] == "{":
        options, end = _split_alternatives(pattern[1:])
        if end < 0:
            raise BadPattern()
        out: list[str] = []
        for option in options:
            out += glob(option + pattern[end + 1 :])
        return out
    if pattern[0] in "/\\":
        return _do_glob("/", pattern[1:], [])
    return _do_glob(".", pattern, [])


# ---------------------------------------------------------------- escaping-aware search


def _index_with_escaping(s: str, ch: str) -> int:
    end = s.find(ch)
    if end == -1:
        return -1
    if end > 0 and s[end - 1] == "\\":
        start = end + 1
        found = _index_with_escaping(s[start:], ch)
        return found + start if found != -1 else -1
    return end


def _last_index_with_escaping(s: str, ch: str) -> int:
    end = s.rfind(ch)
    if end == -1:
        return -1
    if end > 0 and s[end - 1] == "\\":
        return _last_index_with_escaping(s[: end - 1], ch)
    return end


def _index_any_with_escaping(s: str, chars: str) -> int:
    end = next((i for i, c in enumerate(s) if c in chars), -1)
    if end == -1:
        return -1
    if end > 0 and s[end - 1] == "\\":
        start = end + 1
        found = _index_any_with_escaping(s[start:], chars)
        return found + start if found != -1 else -1
    return end


def _split_on_separator(path: str) -> list[str]:
    """Components of ``path``; an escaped ``/`` does not split, a trailing ``/`` adds ""."""
    if "/" not in path:
        return [path]
    out: list[str] = []
    start = 0
    empty_end = False
    while start < len(path):
        end = _index_with_escaping(path[start:], "/")
        if end == -1:
            empty_end = False
            end = len(path)
        else:
            empty_end = True
            end += start
        out.append(path[start:end])
        start = end + 1
    if empty_end:
        out.append("")
    return out


def _split_alternatives(s: str) -> tuple[list[str], int]:
    """The options of ``{a,b}`` (``s`` starts after the brace) and the index after ``}``."""
    out: list[str] = []
    idx = 0
    depth = 1
    escaped = False
    start = 0
    while depth > 0:
        if idx >= len(s):
            return [], -1
        ch = s[idx]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 1:
            out.append(s[start:idx])
            start = idx + 1
        idx += 1
    out.append(s[start : idx - 1])
    return out, idx


def _is_zero_length(pattern: str) -> bool:
    if pattern in ("", "*", "**"):
        return True
    if pattern[0] == "{":
        options, end = _split_alternatives(pattern[1:])
        if end < 0:
            raise BadPattern()
        if not _is_zero_length(pattern[1 + end :]):
            return False
        return any(_is_zero_length(o) for o in options)
    return False


# ---------------------------------------------------------------- matching


def _do_matching(pattern: str, names: list[str]) -> bool:
    if not pattern and not names:
        return True
    if not pattern:
        return len(names) == 1 and names[0] == ""
    slash = _index_with_escaping(pattern, "/")
    last = slash == -1
    if last:
        slash = len(pattern)
    if pattern[:slash] == "**":
        if last:
            return True
        for i in range(len(names)):
            try:
                if _do_matching(pattern[slash + 1 :], names[i:]):
                    return True
            except BadPattern:
                pass  # doublestar ignores errors of these attempts
        return False
    if not names:
        # Go indexes nameComponents[0] here and would panic; splitting never yields [].
        return False
    matches = _match_component(pattern, names[0])
    if matches is None:
        return False
    if not matches and len(names) == 1:
        return True
    if len(names) > 1:
        for alt in matches:
            if _do_matching(alt, names[1:]):
                return True
    return False


def _match_component(pattern: str, name: str) -> list[str] | None:
    """Match one path component; the patterns left for later components, or None."""
    p = n = 0
    plen, nlen = len(pattern), len(name)
    while p < plen and n < nlen:
        pc = pattern[p]
        nc = name[n]
        if pc == "/":
            p += 1
            break
        if pc == "\\":
            p += 1
            if p >= plen:
                raise BadPattern()
            if pattern[p] != nc:
                return None
            p += 1
            n += 1
        elif pc == "*":
            p += 1
            if p >= plen:
                return []
            if pattern[p] == "/":
                return [pattern[p + 1 :]]
            while n < nlen:
                found = _match_component(pattern[p:], name[n:])
                if found is not None:
                    return found
                n += 1
            return None
        elif pc == "[":
            p += 1
            end = _index_with_escaping(pattern[p:], "]")
            if end == -1:
                raise BadPattern()
            end += p
            if not _class_matches(pattern[p:end], nc):
                return None
            p = end + 1
            n += 1
        elif pc == "{":
            p += 1
            options, end = _split_alternatives(pattern[p:])
            if end < 0:
                raise BadPattern()
            p += end
            results: list[str] = []
            any_match = False
            for option in options:
                found = _match_component(option + pattern[p:], name[n:])
                if found is not None:
                    any_match = True
                    results += found
            return results if any_match else None
        elif pc == "?" or pc == nc:
            p += 1
            n += 1
        else:
            return None
    if n >= nlen:
        if p >= plen:
            return []
        rest = pattern[p:]
        slash = _index_with_escaping(rest, "/")
        head = rest[:slash] if slash >= 0 else rest
        if _is_zero_length(head):
            return [] if slash == -1 else [rest[slash + 1 :]]
    return None


def _class_matches(body: str, ch: str) -> bool:
    """``[...]`` (``body`` without the brackets) against one character; raises if malformed."""
    if not body:
        raise BadPattern()
    negated = body[0] == "^"
    i = 1 if negated else 0
    matched = False
    while i < len(body):
        low = body[i]
        if low == "-":
            raise BadPattern()
        i += 1
        if low == "\\":
            if i >= len(body):
                raise BadPattern()
            low = body[i]
            i += 1
        high = low
        if i < len(body) and body[i] == "-":
            i += 1
            if i >= len(body):
                raise BadPattern()
            high = body[i]
            if high == "-":
                raise BadPattern()
            i += 1
            if high == "\\":
                if i >= len(body):
                    raise BadPattern()
                high = body[i]
                i += 1
        if low <= ch <= high:
            matched = True
    return matched != negated


# ---------------------------------------------------------------- globbing


def _join(base: str, name: str) -> str:
    return os.path.normpath(os.path.join(base, name))


def _do_glob(basedir: str, pattern: str, matches: list[str]) -> list[str]:
    glob_idx = _index_any_with_escaping(pattern, "*?[{\\")
    if glob_idx > 0:
        glob_idx = _last_index_with_escaping(pattern[:glob_idx], "/")
    elif glob_idx == -1:
        glob_idx = _last_index_with_escaping(pattern, "/")
    if glob_idx > 0:
        basedir = _join(basedir, pattern[:glob_idx])
        pattern = pattern[glob_idx + 1 :]
    try:
        info = os.lstat(basedir)
    except OSError:
        return matches
    if not pattern:
        matches.append(basedir)
        return matches
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(basedir)
        except OSError:
            return matches
    if not stat.S_ISDIR(info.st_mode):
        return matches
    try:
        names = sorted(os.listdir(basedir))
    except OSError:
        return matches
    slash = _index_with_escaping(pattern, "/")
    last = slash == -1
    if last:
        slash = len(pattern)
    if pattern[:slash] == "**":
        for name in names:
            path = _join(basedir, name)
            is_dir = _entry_is_dir(path)
            if is_dir is None:
                continue  # a dangling symbolic link
            if is_dir:
                if last:
                    matches.append(path)
                _do_glob(path, pattern, matches)
            elif last:
                matches.append(path)
        if last:
            return matches
        pattern = pattern[slash + 1 :]
    for name in names:
        found = _match_component(pattern, name)
        if found is None:
            continue
        if not found:
            matches.append(_join(basedir, name))
        else:
            for alt in found:
                _do_glob(_join(basedir, name), alt, matches)
    return matches


def _entry_is_dir(path: str) -> bool | None:
    """Whether a directory entry is a directory, links followed; None for a dangling link."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            info = os.stat(path)
    except OSError:
        return None
    return stat.S_ISDIR(info.st_mode)
