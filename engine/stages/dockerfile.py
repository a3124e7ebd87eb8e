"""The files a Docker artifact depends on, as skaffold's dependency resolver lists them.

Follows ``pkg/skaffold/docker/dependencies.go`` and ``parse.go``: the Dockerfile is parsed
with buildkit's line rules, ``ARG`` values are substituted textually (``util.Expand``),
``ONBUILD`` triggers of base images are inserted, ``COPY``/``ADD`` sources are expanded with
``ENV`` values and globbed, directories are walked minus ``.dockerignore`` (moby
patternmatcher semantics), and the Dockerfile itself is always a dependency.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import BuildError
from engine.golang import filepath
from engine.golang.regexp import Regexp, RegexpError, compile_go

# Image configuration lookup (``WorkingDir``, ``OnBuild``) for a base image reference.
ImageConfigFn = Callable[[str], Mapping[str, Any]]

_KNOWN = frozenset(
    {
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck",
        "label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume",
        "workdir",
    }
)  # fmt: skip
_WS = re.compile(r"[\t\v\f\r ]+")
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_HEREDOC = re.compile(r"^<<(-?)\s*(['\"]?)([^'\"\s]+)\2")


class DockerfileError(BuildError):
    """A Dockerfile cannot be parsed or its dependencies cannot be resolved."""


@dataclass
class _Node:
    """One instruction: lower-cased ``cmd``, its ``--flags`` and argument words."""

    cmd: str
    words: list[str]
    flags: list[str] = field(default_factory=list)
    original: str = ""


def dependencies(
    context: str,
    dockerfile: str,
    build_args: Mapping[str, str | None],
    env: Mapping[str, str],
    *,
    cwd: str | None = None,
    image_config: ImageConfigFn | None = None,
) -> list[str]:
    """Files the Docker artifact depends on, relative to ``context``, sorted.

    ``build_args`` are the evaluated build args; their values are expanded once more as env
    templates with ``env``, as skaffold does.  ``cwd`` resolves a Dockerfile that is not under
    the context (default: process CWD).  ``image_config`` returns a base image's config; without
    it any non-scratch base image is an error, as offline skaffold fails there.
    """
    if cwd is not None:
        context = os.path.join(cwd, context)
    abs_dockerfile = normalize_dockerfile_path(context, dockerfile, cwd)
    if not os.path.exists(abs_dockerfile):
        return [dockerfile]
    nodes = _parse_file(abs_dockerfile)
    args = _expand_arg_templates(build_args, env)
    _expand_build_args(nodes, args)
    nodes = _expand_onbuild(nodes, image_config)
    copies = _extract_copy_commands(nodes, image_config)
    froms = _expand_src_globs(context, copies)
    excludes = _read_dockerignore(context, abs_dockerfile)
    files = _walk_workspace(context, excludes, froms)
    files.add(abs_dockerfile if os.path.isabs(dockerfile) else dockerfile)
    files.discard(".dockerignore")
    return sorted(files)


def normalize_dockerfile_path(context: str, dockerfile: str, cwd: str | None = None) -> str:
    """Absolute Dockerfile path: under the context, else relative to CWD if it exists there."""
    base = cwd if cwd is not None else os.getcwd()
    rel = os.path.join(context, dockerfile)
    if not os.path.exists(os.path.join(base, rel)):
        # skaffold NormalizeDockerfilePath: a shared Dockerfile may live relative to the CWD
        candidate = os.path.join(base, dockerfile)
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return os.path.normpath(os.path.join(base, rel))


def declared_args(path: str) -> list[str]:
    """Names declared by ``ARG`` instructions (skaffold ``filterUnusedBuildArgs``)."""
    return [n.words[0].split("=", 1)[0] for n in _parse_file(path, validate=False) if _is_arg(n)]


def _is_arg(node: _Node) -> bool:
    return node.cmd == "arg" and bool(node.words)


# ---------------------------------------------------------------- parsing (buildkit parser.go)


def _parse_file(path: str, *, validate: bool = True) -> list[_Node]:
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        raise DockerfileError(f"reading dockerfile {path}: {exc.strerror}") from None
    nodes, uses_syntax = parse(text, name=path)
    if validate and not uses_syntax:
        _validate(nodes, path)
    return nodes


def parse(text: str, *, name: str = "Dockerfile") -> tuple[list[_Node], bool]:
    """Instructions of a Dockerfile and whether it declares a ``# syntax`` directive."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    escape, uses_syntax, start = _directives(lines)
    esc = re.escape(escape)
    continuation = re.compile("([^" + esc + "])" + esc + r"[ \t]*$|^" + esc + r"[ \t]*$")
    nodes: list[_Node] = []
    i = start
    while i < len(lines):
        line = lines[i].rstrip("\r\n").lstrip()
        i += 1
        if _is_comment(line):
            continue
        line, ended = _trim_continuation(line, continuation)
        if ended and not line:
            continue
        parts = [line]
        while not ended and i < len(lines):
            raw = lines[i].rstrip("\r\n")
            i += 1
            if _is_comment(raw) or not raw.strip():
                continue
            raw, ended = _trim_continuation(raw, continuation)
            parts.append(raw)
        node = _node_from_line("".join(parts), escape)
        if node.cmd in ("run", "copy", "add") and "<<" in node.original:
            i = _skip_heredocs(node, lines, i, name)
        nodes.append(node)
    if not nodes:
        raise DockerfileError(f"parsing dockerfile {name}: file with no instructions")
    return nodes, uses_syntax


def _directives(lines: Sequence[str]) -> tuple[str, bool, int]:
    escape, uses_syntax = "\\", False
    for i, raw in enumerate(lines):
        match = _DIRECTIVE.match(raw.rstrip("\r\n").lstrip())
        if not match:
            return escape, uses_syntax, i
        key, value = match.group(1).lower(), match.group(2)
        if key == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(f"invalid escape token '{value}' does not match ` or \\")
            escape = value
        elif key == "syntax":
            uses_syntax = True
    return escape, uses_syntax, len(lines)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _trim_continuation(line: str, regex: re.Pattern[str]) -> tuple[str, bool]:
    if regex.search(line):
        return regex.sub(r"\1", line, count=1), False
    return line, True


def _node_from_line(line: str, escape: str) -> _Node:
    split = _WS.split(line.strip(), maxsplit=1)
    cmd = split[0].lower()
    rest = split[1] if len(split) == 2 else ""
    rest, flags = _extract_flags(rest)
    rest = rest.strip()
    if cmd in ("copy", "add"):
        words = _json_or_fields(rest)
    elif cmd == "from":
        words = _fields(rest)
    elif cmd == "arg":
        words = _parse_words(rest, escape)
    elif cmd == "env":
        words = _parse_env(rest, escape)
    elif cmd == "workdir":
        words = [rest] if rest else []
    else:
        words = _fields(rest)
    return _Node(cmd, words, flags, line)


def _extract_flags(rest: str) -> tuple[str, list[str]]:
    """Leading ``--name=value`` words (buildkit ``extractBuilderFlags``, quotes simplified)."""
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
        if not rest.startswith("--", pos):
            return rest[pos:], flags
        end = pos
        while end < len(rest) and not rest[end].isspace():
            end += 1
        word = rest[pos:end]
        if word == "--":
            return rest[end:], flags
        flags.append(word.replace('"', "").replace("'", ""))
        pos = end


def _fields(rest: str) -> list[str]:
    return [w for w in _WS.split(rest) if w] if rest else []


def _json_or_fields(rest: str) -> list[str]:
    if rest.lstrip().startswith("["):
        try:
            parsed = json.loads(rest)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            if not all(isinstance(x, str) for x in parsed):
                raise DockerfileError("dockerfile instruction is not a JSON array of strings")
            return list(parsed)
    return _WS.split(rest) if rest else []


def _parse_words(rest: str, escape: str) -> list[str]:
    """buildkit ``parseWords``: whitespace-separated words, quotes kept, escapes honoured."""
    words: list[str] = []
    buf: list[str] = []
    quote = ""
    blank_ok = False
    in_word = False
    i = 0
    while i < len(rest):
        ch = rest[i]
        if not in_word and not quote:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if i + 1 == len(rest):
                    quote = ""
                    i += 1
                    continue
                buf.append(ch)
                i += 1
                ch = rest[i]
            buf.append(ch)
        elif ch.isspace():
            if blank_ok or buf:
                words.append("".join(buf))
            buf, blank_ok, in_word = [], False, False
        else:
            if ch in "'\"":
                quote, blank_ok = ch, True
            if ch == escape:
                if i + 1 == len(rest):
                    i += 1
                    continue
                buf.append(ch)
                i += 1
                ch = rest[i]
            buf.append(ch)
        i += 1
    if (in_word or quote) and (blank_ok or buf):
        words.append("".join(buf))
    return words


def _parse_env(rest: str, escape: str) -> list[str]:
    """``ENV`` as (key, value, separator) triples (buildkit ``parseNameVal``)."""
    words = _parse_words(rest, escape)
    if not words:
        raise DockerfileError("ENV requires at least one argument")
    if "=" not in words[0]:
        parts = _WS.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileError("ENV must have two arguments")
        return [parts[0], parts[1], ""]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileError(f"Syntax error - can't find = in {word!r}")
        key, value = word.split("=", 1)
        out += [key, value, "="]
    return out


def _skip_heredocs(node: _Node, lines: Sequence[str], i: int, name: str) -> int:
    for word in node.original.split():
        match = _HEREDOC.match(word)
        if not match:
            continue
        chomp, terminator = match.group(1) == "-", match.group(3)
        while True:
            if i >= len(lines):
                raise DockerfileError(f"parsing dockerfile {name}: unterminated heredoc")
            candidate = lines[i].rstrip("\r\n")
            i += 1
            if (candidate.lstrip("\t") if chomp else candidate) == terminator:
                break
    return i


def _validate(nodes: Sequence[_Node], name: str) -> None:
    """The subset of buildkit ``instructions.Parse`` checks that make skaffold fail."""
    for node in nodes:
        if node.cmd not in _KNOWN:
            raise DockerfileError(f"parsing dockerfile {name}: unknown instruction: {node.cmd}")
        if node.cmd in ("copy", "add") and len(node.words) < 2:
            raise DockerfileError(
                f"parsing dockerfile {name}: {node.cmd.upper()} requires at least two arguments"
            )
        if node.cmd in ("from", "arg", "env", "workdir") and not node.words:
            raise DockerfileError(
                f"parsing dockerfile {name}: {node.cmd.upper()} requires at least one argument"
            )
    first = next((n for n in nodes if n.cmd != "arg"), None)
    if first is not None and first.cmd != "from":
        raise DockerfileError(f"parsing dockerfile {name}: no build stage in current context")


# ---------------------------------------------------------------- build args (parse.go)


def _expand_arg_templates(
    build_args: Mapping[str, str | None], env: Mapping[str, str]
) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in build_args.items():
        if value is None or "{{" not in value:
            out[key] = value
            continue
        from engine.golang import texttemplate

        out[key] = str(texttemplate.expand(value, env, name="envTemplate"))
    return out


def _expand_build_args(nodes: list[_Node], args: Mapping[str, str | None]) -> None:
    """Substitute each ``ARG`` textually in every later instruction (skaffold quirk)."""
    for i, node in enumerate(nodes):
        if node.cmd != "arg" or not node.words:
            continue
        key_value = node.words[0].split("=")
        key = key_value[0]
        given = args.get(key)
        value = given if given is not None else (key_value[1] if len(key_value) > 1 else "")
        for later in nodes[i + 1 :]:
            if later.cmd == "arg" and later.words and later.words[0].split("=")[0] == key:
                break
            later.cmd = _expand(later.cmd, key, value)
            later.words = [_expand(w, key, value) for w in later.words]


def _expand(text: str, key: str, value: str) -> str:
    """skaffold ``util.Expand``: ``${key}`` and ``$key`` not followed by an alphanumeric."""
    text = text.replace("${" + key + "}", value)
    pattern = re.compile(r"\$" + re.escape(key))
    spans = [m.span() for m in pattern.finditer(text)]
    for start, end in reversed(spans):
        if end >= len(text) or not (text[end].isascii() and text[end].isalnum()):
            text = text[:start] + value + text[end:]
    return text


# ---------------------------------------------------------------- ONBUILD and COPY


def _from_image(node: _Node) -> tuple[str, str]:
    image = _unquote(node.words[0]) if node.words else ""
    alias = ""
    if len(node.words) >= 3 and node.words[1].lower() == "as":
        alias = node.words[2]
    return image, alias.lower()


def _unquote(value: str) -> str:
    unquoted = value.replace('"', "")
    if unquoted != value:
        return unquoted
    return value.replace("'", "")


def _retrieve(image: str, image_config: ImageConfigFn | None) -> Mapping[str, Any]:
    if image_config is None:
        raise DockerfileError(f'retrieving image "{image}": no Docker daemon or registry access')
    try:
        return image_config(image)
    except DockerfileError:
        raise
    except Exception as exc:
        text, prefix = str(exc), f'retrieving image "{image}": '
        raise DockerfileError(text if text.startswith(prefix) else prefix + text) from None


def _expand_onbuild(nodes: list[_Node], image_config: ImageConfigFn | None) -> list[_Node]:
    # skaffold expandOnbuildInstructions caches the *whole* node list under each stage name
    # (and "scratch"), so a later FROM of an earlier stage re-inserts every instruction.
    cache: dict[str, list[_Node]] = {"scratch": []}
    expanded: list[_Node] = []
    start = 0
    for m, node in enumerate(nodes):
        if node.cmd != "from":
            continue
        image, alias = _from_image(node)
        expanded += nodes[start : m + 1]
        start = m + 1
        cached = cache.get(image.lower())
        if cached is not None:
            onbuild = cached
        elif image == "":
            onbuild = []
        else:
            triggers = _retrieve(image, image_config).get("OnBuild") or []
            onbuild = parse("\n".join(triggers))[0] if triggers else []
        cache[alias] = nodes
        cache[image.lower()] = nodes
        expanded += onbuild
    expanded += nodes[start:]
    return expanded


@dataclass
class _Copy:
    srcs: list[str]
    original: str


def _extract_copy_commands(nodes: list[_Node], image_config: ImageConfigFn | None) -> list[_Copy]:
    stages = {"scratch"}
    envs: dict[str, str] = {}
    copies: list[_Copy] = []
    for node in nodes:
        if node.cmd == "from":
            image, alias = _from_image(node)
            if alias:
                stages.add(alias)
            if image and image.lower() not in stages:
                _retrieve(image, image_config)
        elif node.cmd == "workdir" and node.words:
            process_word(node.words[0], envs)
        elif node.cmd in ("copy", "add"):
            cp = _read_copy(node, envs)
            if cp is not None and cp.srcs:
                copies.append(cp)
        elif node.cmd == "env":
            w = node.words
            for k in range(0, len(w) - 2, 3):
                envs[w[k]] = _unquote(w[k + 1])
    return copies


def _read_copy(node: _Node, envs: Mapping[str, str]) -> _Copy | None:
    if any(f.startswith("--from=") for f in node.flags):
        return None  # copying from another stage is no source dependency
    paths: list[str] = []
    for word in node.words:
        if word.startswith("#"):
            break
        paths.append(process_word(word, envs))
    if not paths:
        raise DockerfileError(f"invalid dockerfile instruction: {node.original!r}")
    srcs = [p for p in paths[:-1] if not p.startswith(("http://", "https://", "<<"))]
    return _Copy(srcs, node.original)


def process_word(word: str, envs: Mapping[str, str]) -> str:
    """buildkit ``shell.Lex.ProcessWord`` with escape ``\\``: quotes, escapes, ``$VAR``."""
    out: list[str] = []
    i = 0
    n = len(word)
    while i < n:
        ch = word[i]
        if ch == "'":
            end = word.find("'", i + 1)
            if end < 0:
                raise DockerfileError("unexpected end of statement while looking for matching '")
            out.append(word[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i = _double_quoted(word, i + 1, envs, out)
        elif ch == "$":
            i = _dollar(word, i + 1, envs, out)
        elif ch == "\\":
            if i + 1 < n:
                out.append(word[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _double_quoted(word: str, i: int, envs: Mapping[str, str], out: list[str]) -> int:
    while i < len(word):
        ch = word[i]
        if ch == '"':
            return i + 1
        if ch == "$":
            i = _dollar(word, i + 1, envs, out)
            continue
        if ch == "\\" and i + 1 < len(word) and word[i + 1] in '"$\\':
            i += 1
            ch = word[i]
        out.append(ch)
        i += 1
    raise DockerfileError("unexpected end of statement while looking for matching double-quote")


_NAME = re.compile(r"[A-Za-z0-9_]+")


def _dollar(word: str, i: int, envs: Mapping[str, str], out: list[str]) -> int:
    if i < len(word) and word[i] == "{":
        close = word.find("}", i)
        if close < 0:
            raise DockerfileError("syntax error: missing '}'")
        inner = word[i + 1 : close]
        match = re.fullmatch(r"([A-Za-z0-9_]+)(?:(:?[-+?])(.*))?", inner, re.S)
        if not match:
            raise DockerfileError(f"unsupported modifier in ${{{inner}}}")
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        out.append(_modifier(name, op, process_word(arg, envs), envs))
        return close + 1
    match = _NAME.match(word, i)
    if not match:
        out.append("$")
        return i
    out.append(envs.get(match.group(0), ""))
    return match.end()


def _modifier(name: str, op: str | None, arg: str, envs: Mapping[str, str]) -> str:
    value = envs.get(name)
    if op is None:
        return value or ""
    empty_counts = op.startswith(":")
    is_set = value is not None and (value != "" or not empty_counts)
    kind = op[-1]
    if kind == "-":
        return value if is_set and value is not None else arg
    if kind == "+":
        return arg if is_set else ""
    if not is_set:
        raise DockerfileError(f"{name}: {arg or 'is not allowed to be unset'}")
    return value or ""


# ---------------------------------------------------------------- globbing and walking


def _expand_src_globs(context: str, copies: Sequence[_Copy]) -> list[str]:
    froms: list[str] = []
    for cp in copies:
        matches_one = False
        for src in cp.srcs:
            path = _join(context, src)
            if os.path.exists(path):
                froms.append(os.path.normpath(src))
                matches_one = True
                continue
            try:
                found = filepath.glob(path)
            except filepath.BadPattern as exc:
                raise DockerfileError(f"invalid glob pattern: {exc}") from None
            if not found:
                continue
            froms += [os.path.relpath(f, context) for f in found]
            matches_one = True
        if not matches_one:
            srcs = " ".join(cp.srcs)
            raise DockerfileError(f"file pattern [{srcs}] must match at least one file")
    return froms


def _join(base: str, path: str) -> str:
    """Go ``filepath.Join``: an absolute second element is still appended."""
    return os.path.normpath(os.path.join(base, path.lstrip("/")) if path else base)


def _read_dockerignore(context: str, abs_dockerfile: str) -> list[str]:
    for path in (abs_dockerfile + ".dockerignore", os.path.join(context, ".dockerignore")):
        if os.path.exists(path):
            with open(path, "rb") as fh:
                return read_ignore_patterns(fh.read().decode("utf-8", "replace"))
    return []


def read_ignore_patterns(text: str) -> list[str]:
    """moby ``ignorefile.ReadAll``."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out: list[str] = []
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        pattern = raw.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


def _go_clean(path: str) -> str:
    cleaned = os.path.normpath(path)
    # POSIX normpath keeps a leading "//"; Go's Clean does not.
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass
class _Pattern:
    text: str
    exclusion: bool
    kind: str  # exact, prefix, suffix, regexp
    regex: Regexp | None

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        return self.regex is not None and self.regex.match_string(path)


class PatternMatcher:
    """moby ``patternmatcher.PatternMatcher`` (``.dockerignore`` semantics)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            p = raw.strip()
            if not p:
                continue
            p = _go_clean(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise DockerfileError('illegal exclusion pattern: "!"')
                p = p[1:]
            self.patterns.append(_compile_pattern(p, exclusion))
        self.exclusions = any(p.exclusion for p in self.patterns)

    def matches_or_parent_matches(self, file: str) -> bool:
        """Whether ``file`` (slash-separated, relative) or one of its parents is excluded."""
        matched = False
        parent = os.path.dirname(file) or "."
        parent_dirs = parent.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(file)
            if not match and parent != ".":
                for i in range(len(parent_dirs)):
                    if pattern.match("/".join(parent_dirs[: i + 1])):
                        match = True
                        break
            if match:
                matched = not pattern.exclusion
        return matched


# Go's bitmap in patternmatcher loses the bits of '|', '{' and '}', so only these are escaped.
_ESCAPED = frozenset(".+()$")


def _compile_pattern(text: str, exclusion: bool) -> _Pattern:
    reg = ["^"]
    kind = "exact"
    i = 0
    first = True
    while i < len(text):
        ch = text[i]
        i += 1
        if ch == "*":
            if i < len(text) and text[i] == "*":
                i += 1
                if i < len(text) and text[i] == "/":
                    i += 1
                if i >= len(text):
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        reg.append(".*")
                        kind = "regexp"
                else:
                    reg.append("(.*/)?")
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                reg.append("[^/]*")
                kind = "regexp"
        elif ch == "?":
            reg.append("[^/]")
            kind = "regexp"
        elif ch in _ESCAPED:
            reg.append("\\" + ch)
        elif ch == "\\":
            if i < len(text):
                reg.append("\\" + text[i])
                i += 1
                kind = "regexp"
            else:
                reg.append("\\")  # left alone: a bad regexp if the pattern is one
        elif ch in "[]":
            reg.append(ch)
            kind = "regexp"
        else:
            reg.append(ch)
        first = False
    regex = None
    if kind == "regexp":
        try:
            regex = compile_go("^" + "".join(reg) + "$")  # moby compiles it with Go's regexp
        except RegexpError as exc:
            raise DockerfileError(f"invalid exclude patterns: {exc}") from None
    return _Pattern(text, exclusion, kind, regex)


def _walk_workspace(context: str, excludes: Sequence[str], deps: Sequence[str]) -> set[str]:
    matcher = PatternMatcher(excludes)
    files: set[str] = set()
    for dep in deps:
        root = _join(context, dep)
        try:
            info = os.lstat(root)
        except OSError as exc:
            raise DockerfileError(f'walking "{root}": {exc.strerror}') from None
        if not stat.S_ISDIR(info.st_mode):
            rel = os.path.relpath(root, context)
            if not matcher.matches_or_parent_matches(rel):
                files.add(rel)
            continue
        _walk_dir(context, root, root, matcher, files)
    return files


def _walk_dir(context: str, root: str, path: str, matcher: PatternMatcher, files: set[str]) -> None:
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    kept = path == root or not matcher.matches_or_parent_matches(os.path.relpath(path, context))
    if kept and not entries:
        files.add(os.path.relpath(path, context))
    for entry in entries:
        rel = os.path.relpath(entry.path, context)
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir:
            ignored = matcher.matches_or_parent_matches(rel)
            if ignored and _skip_dir(rel, matcher):
                continue
            _walk_dir(context, root, entry.path, matcher, files)
        elif not matcher.matches_or_parent_matches(rel):
            files.add(rel)


def _skip_dir(rel: str, matcher: PatternMatcher) -> bool:
    """skaffold ``skipDir``: an excluded directory is entered only if an exception may apply."""
    if not matcher.exclusions:
        return True
    dir_slash = rel + "/"
    return not any(p.exclusion and (p.text + "/").startswith(dir_slash) for p in matcher.patterns)
