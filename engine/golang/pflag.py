"""Go's spf13/pflag command line, as skaffold's cobra commands parse it.

Modelled on pflag v1.0.10 as vendored by skaffold v2.24.0 (vendor/github.com/spf13/pflag/
flag.go, errors.go, string_slice.go, bool.go, int.go):

* long names are exact: ``--name``, ``--name=value`` or ``--name value``; a prefix never
  abbreviates a name;
* a flag with a no-option default (every bool: ``true``) takes a value only after ``=``:
  ``--offline=false``; in ``--offline false`` the ``false`` is a positional argument;
* shorthands cluster: ``-vdebug``, ``-v=debug``, ``-qb app``: a value-taking shorthand takes
  the rest of its cluster, else the next argument, whatever that starts with (``-p -prof``);
* ``--`` ends the flags; positional arguments may stand between flags;
* each value goes through the flag's Set: strconv.ParseBool, ParseInt(s, 0, 64), ParseFloat,
  or (string slices) one record of Go's encoding/csv reader: quotes, ``""`` escapes, and the
  record ends at the first unquoted newline (``-l 'a=b\\nc'`` is ``a=b``);
* a slice's (or array's) first value replaces the default, later ones append.

Errors are :class:`ParseError` with pflag's words (``unknown flag: --x``, ``invalid argument
"v" for "-p, --profile" flag: ...``); the command line adds the usage hint and exit status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

STRING = "string"
BOOL = "bool"
INT = "int"
FLOAT = "float64"
SLICE = "stringSlice"  # StringSliceVar: CSV-split, repeatable
ARRAY = "stringArray"  # StringArrayVar: repeatable, never split


class ParseError(ValueError):
    """A command line pflag refuses; the message is pflag's own."""


class Flag(NamedTuple):
    """One flag.  ``convert``, for a custom flag Value, is its Set: it returns the value or
    raises ValueError, whose text becomes the cause in "invalid argument ..."."""

    name: str
    shorthand: str = ""
    kind: str = STRING
    default: Any = None
    usage: str = ""
    hidden: bool = False
    deprecated: str = ""  # pflag prints "Flag --x has been deprecated, <this>" when it is used
    convert: Callable[[str], Any] | None = None
    metavar: str = ""  # the value's name in help (default: pflag's name for the kind)
    no_opt: str = ""  # NoOptDefVal: the value of a bare --flag (bools: "true")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def no_opt_default(self) -> str:
        """What a bare ``--flag`` means: BoolVar sets NoOptDefVal "true"; others take a value."""
        return self.no_opt or ("true" if self.kind == BOOL else "")

    @property
    def display(self) -> str:
        """The name as InvalidValueError shows it: ``-p, --profile`` or ``--offline``."""
        return f"-{self.shorthand}, --{self.name}" if self.shorthand else f"--{self.name}"

    def parse(self, raw: str) -> Any:
        """The flag Value's Set for one occurrence; a ValueError carries the cause."""
        if self.convert is not None:
            return self.convert(raw)
        if self.kind == BOOL:
            return parse_bool(raw)
        if self.kind == INT:
            return parse_int(raw)
        if self.kind == FLOAT:
            return parse_float(raw)
        if self.kind == SLICE:
            return read_csv_record(raw)
        return raw


class Result(NamedTuple):
    values: SimpleNamespace  # each flag's dest: its value, or its default when not given
    changed: tuple[str, ...]  # names of the flags given, in the order first seen
    args: list[str]  # positional arguments, those after ``--`` included
    notices: tuple[str, ...]  # deprecation lines pflag prints (cobra: on stderr)


class FlagSet:
    """The flags of one command."""

    def __init__(self, flags: Iterable[Flag]) -> None:
        self.flags: dict[str, Flag] = {}
        self.shorthands: dict[str, Flag] = {}
        for flag in flags:
            if flag.name in self.flags:  # a bug in a flag table, as pflag panics
                raise ValueError(f"flag redefined: {flag.name}")
            self.flags[flag.name] = flag
            if flag.shorthand:
                if flag.shorthand in self.shorthands:
                    raise ValueError(f"unable to redefine {flag.shorthand!r} shorthand")
                self.shorthands[flag.shorthand] = flag

    def takes_value(self, arg: str) -> bool:
        """Whether ``arg`` (``--name`` or ``-x``, no ``=``) consumes the next argument
        (cobra's stripFlags: an unknown long flag is assumed to take one)."""
        if arg.startswith("--"):
            flag = self.flags.get(arg[2:])
            return flag is None or not flag.no_opt_default
        flag = self.shorthands.get(arg[1:])
        return len(arg) == 2 and (flag is None or not flag.no_opt_default)

    def parse(self, argv: Sequence[str]) -> Result:
        """pflag's FlagSet.Parse; the first bad argument raises :class:`ParseError`."""
        parser = _Parser(self)
        rest = list(argv)
        rest.reverse()  # popped from the end
        while rest:
            arg = rest.pop()
            if len(arg) < 2 or arg[0] != "-":
                parser.args.append(arg)
            elif arg == "--":
                parser.args.extend(reversed(rest))
                break
            elif arg[1] == "-":
                parser.long(arg, rest)
            else:
                parser.shorts(arg, rest)
        given = parser.values
        values = SimpleNamespace(
            **{flag.dest: given.get(flag.name, flag.default) for flag in self.flags.values()}
        )
        return Result(values, tuple(given), parser.args, tuple(parser.notices))


class _Parser:
    def __init__(self, flag_set: FlagSet) -> None:
        self.flag_set = flag_set
        self.values: dict[str, Any] = {}
        self.args: list[str] = []
        self.notices: list[str] = []

    def long(self, arg: str, rest: list[str]) -> None:
        name, eq, value = arg[2:].partition("=")
        if not name or name.startswith("-"):
            raise ParseError(f"bad flag syntax: {arg}")
        flag = self.flag_set.flags.get(name)
        if flag is None:
            raise ParseError(f"unknown flag: --{name}")
        if not eq:
            if flag.no_opt_default:
                value = flag.no_opt_default
            elif rest:
                value = rest.pop()
            else:
                raise ParseError(f"flag needs an argument: --{name}")
        self.set(flag, value)

    def shorts(self, arg: str, rest: list[str]) -> None:
        cluster = arg[1:]
        if cluster.startswith("test."):  # isGotestShorthandFlag: left to `go test`
            return
        while cluster:
            # pflag's messages name what is left of the cluster: "'z' in -z" for -hz
            shown = "-" + cluster
            letter, cluster = cluster[0], cluster[1:]
            flag = self.flag_set.shorthands.get(letter)
            if flag is None:
                raise ParseError(f"unknown shorthand flag: {_rune(letter)} in {shown}")
            if len(cluster) > 1 and cluster[0] == "=":  # -f=value
                value, cluster = cluster[1:], ""
            elif flag.no_opt_default:  # -q (then the cluster goes on)
                value = flag.no_opt_default
            elif cluster:  # -fvalue (so `-f=` is the value "=")
                value, cluster = cluster, ""
            elif rest:  # -f value
                value = rest.pop()
            else:
                raise ParseError(f"flag needs an argument: {_rune(letter)} in {shown}")
            self.set(flag, value)

    def set(self, flag: Flag, raw: str) -> None:
        try:
            value = flag.parse(raw)
        except ParseError:  # a custom Set that words its own error
            raise
        except ValueError as exc:
            raise ParseError(
                f"invalid argument {_quote(raw)} for {_quote(flag.display)} flag: {exc}"
            ) from None
        if flag.kind == ARRAY:
            value = [value]
        if flag.kind in (SLICE, ARRAY) and flag.name in self.values:
            value = self.values[flag.name] + value
        self.values[flag.name] = value
        if flag.deprecated:
            self.notices.append(f"Flag --{flag.name} has been deprecated, {flag.deprecated}")


# --- values ----------------------------------------------------------------------------------

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(raw: str) -> bool:
    """strconv.ParseBool."""
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {_quote(raw)}: invalid syntax")


# strconv.ParseInt(s, 0, 64): a sign, a base prefix (0x, 0o, 0b, or a leading 0: octal), and
# underscores only between digits or right after a prefix (base 0 allows them)
_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    r"|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)"
)


def parse_int(raw: str) -> int:
    """strconv.ParseInt(raw, 0, 64), as pflag's IntVar calls it."""
    if not _INT.fullmatch(raw):
        raise ValueError(f"strconv.ParseInt: parsing {_quote(raw)}: invalid syntax")
    text = raw.replace("_", "")
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        digits = "0o" + digits[1:]  # Go's leading-zero octal
    value = int(digits, 0) * (-1 if text.startswith("-") else 1)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"strconv.ParseInt: parsing {_quote(raw)}: value out of range")
    return value


_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:_?[0-9a-fA-F])*\.?(?:[0-9a-fA-F]_?)*[pP][+-]?\d+")
_SPECIAL = re.compile(r"[+-]?(?:inf|infinity)|nan", re.IGNORECASE)


def parse_float(raw: str) -> float:
    """strconv.ParseFloat(raw, 64): decimal, hexadecimal (``0x1p-2``), inf and nan."""
    if _SPECIAL.fullmatch(raw):
        return float(raw)
    if _DECIMAL.fullmatch(raw):
        value = float(raw)
    elif _HEX_FLOAT.fullmatch(raw) and any(c in "0123456789abcdefABCDEF" for c in raw[2:]):
        value = float.fromhex(raw.replace("_", ""))
    else:
        raise ValueError(f"strconv.ParseFloat: parsing {_quote(raw)}: invalid syntax")
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"strconv.ParseFloat: parsing {_quote(raw)}: value out of range")
    return value


def read_csv_record(raw: str) -> list[str]:
    """pflag's readAsCSV: the first record Go's csv.Reader reads from ``raw``.

    Go's reader (src/encoding/csv/reader.go) skips blank lines, ends an unquoted record at a
    newline (``\\r\\n`` counts as one; a ``\\r`` ending the input is dropped) and refuses a
    quote inside an unquoted field or after a closing quote.  Error positions are Go's:
    1-based lines and byte columns.
    """
    if raw == "":
        return []
    reader = _CsvReader(raw.encode("utf-8", "surrogateescape"))
    return [field.decode("utf-8", "surrogateescape") for field in reader.read_record()]


class _CsvReader:
    def __init__(self, data: bytes) -> None:
        self.lines = _lines(data)
        self.line_no = 0  # csv.Reader.numLine: counts every read, the empty one at EOF too

    def read_line(self) -> bytes | None:
        """readLine: the next line with its "\\n" (None at the end of the input)."""
        self.line_no += 1
        if self.line_no > len(self.lines):
            return None
        line = self.lines[self.line_no - 1]
        if line.endswith(b"\r\n"):
            return line[:-2] + b"\n"
        if line.endswith(b"\r") and self.line_no == len(self.lines):
            return line[:-1]
        return line

    def read_record(self) -> list[bytes]:
        while True:  # blank lines are skipped
            line = self.read_line()
            if line is None:
                raise ValueError("EOF")
            if line not in (b"", b"\n"):
                break
        record_line = self.line_no
        line_at, col = self.line_no, 1
        fields: list[bytes] = []
        while True:
            if not line.startswith(b'"'):
                comma = line.find(b",")
                field = line[:comma] if comma >= 0 else line.removesuffix(b"\n")
                quote = field.find(b'"')
                if quote >= 0:
                    raise ValueError(self._error(record_line, self.line_no, col + quote, _BARE))
                fields.append(field)
                if comma < 0:
                    return fields
                line, col = line[comma + 1 :], col + comma + 1
                continue
            line, col = line[1:], col + 1
            value = b""
            while True:
                quote = line.find(b'"')
                if quote >= 0:
                    value += line[:quote]
                    line, col = line[quote + 1 :], col + quote + 1
                    if line.startswith(b'"'):  # "" is a quote
                        value += b'"'
                        line, col = line[1:], col + 1
                        continue
                    if line.startswith(b","):
                        line, col = line[1:], col + 1
                        fields.append(value)
                        break
                    if line in (b"", b"\n"):
                        fields.append(value)
                        return fields
                    raise ValueError(self._error(record_line, self.line_no, col - 1, _QUOTE))
                if line:  # the quoted field goes on on the next line
                    value += line
                    col += len(line)
                    line = self.read_line() or b""
                    if line:
                        line_at, col = line_at + 1, 1
                    continue
                raise ValueError(self._error(record_line, line_at, col, _QUOTE))

    @staticmethod
    def _error(record_line: int, line: int, column: int, what: str) -> str:
        where = f"parse error on line {line}, column {column}: {what}"
        return where if record_line == line else f"record on line {record_line}; {where}"


_BARE = 'bare " in non-quoted-field'
_QUOTE = 'extraneous or missing " in quoted-field'


def _lines(data: bytes) -> list[bytes]:
    """Lines ending at "\\n" only (bytes.splitlines would also split at a lone "\\r")."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


# --- help --------------------------------------------------------------------------------------

_TYPE_NAMES = {BOOL: "", SLICE: "strings", FLOAT: "float"}


def usages(flags: Iterable[Flag], width: int = 0) -> str:
    """pflag's FlagUsagesWrapped, much simplified: one line per visible flag, sorted by name,
    usage aligned in a column and wrapped at ``width`` (0: no wrapping)."""
    rows: list[tuple[str, str]] = []
    for flag in sorted(flags, key=lambda f: f.name):
        if flag.hidden or flag.deprecated:
            continue
        head = f"  -{flag.shorthand}, --{flag.name}" if flag.shorthand else f"      --{flag.name}"
        metavar = flag.metavar or _TYPE_NAMES.get(flag.kind, flag.kind)
        if metavar:
            head += " " + metavar
        usage = flag.usage
        if flag.default not in (None, "", [], False, 0):
            shown = _quote(flag.default) if isinstance(flag.default, str) else flag.default
            if isinstance(flag.default, bool):
                shown = "true"
            usage += f" (default {shown})"
        rows.append((head, usage))
    column = max((len(head) for head, _ in rows), default=0) + 3
    out = []
    for head, usage in rows:
        out.append(head.ljust(column) + _wrap(usage, column, width))
    return "\n".join(out) + "\n"


def _wrap(text: str, indent: int, width: int) -> str:
    """pflag's wrap: too little room beside the names puts the text on the next lines,
    indented 16; still too little (or no width) and it is not wrapped."""
    if width <= 0:
        return text.replace("\n", "\n" + " " * indent)
    lead = ""
    if width - indent < 24:
        indent, lead = 16, "\n" + " " * 16
    room = width - indent
    if room < 24:
        return lead + text.replace("\n", "\n" + " " * indent)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > room:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lead + ("\n" + " " * indent).join(lines)


def _quote(text: str) -> str:
    from engine.golang.gofmt import go_quote  # only on an error path

    return go_quote(text)


def _rune(letter: str) -> str:
    from engine.golang.gofmt import go_quote_rune

    return go_quote_rune(ord(letter))
