"""Go's value model for the template engine: type names, ``fmt`` printing and JSON encoding.

Python values stand in for Go values: ``str`` string, ``int`` int, ``float`` float64, ``bool``
bool, ``None`` nil, ``dict`` map[string]interface {}, :class:`StrMap` map[string]string (the
env data skaffold passes), ``list`` []interface {}, :class:`StrList` []string, ``datetime``
time.Time.  Objects may provide ``go_type``/``go_kind`` attributes and ``__str__`` (a Go
``Stringer``).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any


class StrMap(dict[str, Any]):
    """A Go map[string]string (skaffold's template data); index of a missing key gives ""."""


class StrList(list[Any]):
    """A Go []string, as returned by splitList, toStrings, sortAlpha, keys, regex functions."""


def go_type(v: Any) -> str:
    """Go's %T of a value."""
    return _type_and_kind(v)[0]


def go_kind(v: Any) -> str:
    """reflect.Kind's name for a value (``invalid`` for nil)."""
    return _type_and_kind(v)[1]


def _type_and_kind(v: Any) -> tuple[str, str]:
    """(%T, reflect.Kind); objects may declare ``go_type``/``go_kind``; callables are funcs."""
    builtin = _builtin_type_kind(v)
    if builtin is not None:
        return builtin
    if callable(v):
        typ, kind = "func(...interface {}) interface {}", "func"
    else:
        typ, kind = type(v).__name__, "struct"
    declared_type = getattr(v, "go_type", None)
    declared_kind = getattr(v, "go_kind", None)
    return (
        declared_type if isinstance(declared_type, str) else typ,
        declared_kind if isinstance(declared_kind, str) else kind,
    )


def _builtin_type_kind(v: Any) -> tuple[str, str] | None:
    """(%T, reflect.Kind) of the Python values that stand in for Go's own types."""
    if v is None:
        return "<nil>", "invalid"
    if isinstance(v, bool):
        return "bool", "bool"
    if isinstance(v, int):
        return "int", "int"
    if isinstance(v, float):
        return "float64", "float64"
    if isinstance(v, str):
        return "string", "string"
    if isinstance(v, Mapping):
        return ("map[string]string" if isinstance(v, StrMap) else "map[string]interface {}"), "map"
    if isinstance(v, (list, tuple)):
        return ("[]string" if isinstance(v, StrList) else "[]interface {}"), "slice"
    if isinstance(v, _dt.datetime):
        return "time.Time", "struct"
    return None


def is_list(v: Any) -> bool:
    """True for values that are Go slices."""
    return isinstance(v, (list, tuple))


# ---------------------------------------------------------------------------------------------
# Floats


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``abs(f)`` and the decimal point position."""
    _sign, digits, exponent = Decimal(repr(abs(f))).as_tuple()
    text = "".join(str(d) for d in digits).lstrip("0")
    assert isinstance(exponent, int)
    if not text:
        return "0", 1
    ndigits = len("".join(str(d) for d in digits))
    dp = ndigits + exponent - (ndigits - len(text))
    text = text.rstrip("0") or "0"
    return text, dp


def _exp_suffix(exp: int) -> str:
    return f"e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def format_float_g(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), which is also fmt's %v for float64."""
    special = _special_float(f)
    if special is not None:
        return special
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    digits, dp = _shortest(f)
    sign = "-" if f < 0 else ""
    exp = dp - 1
    # strconv's 'g' with shortest precision switches to %e when exp < -4 || exp >= 6.
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return sign + mant + _exp_suffix(exp)
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


def _special_float(f: float) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return None


def format_float_json(f: float) -> str:
    """encoding/json's float64 encoding (ES6 style: exponent only below 1e-6 or from 1e21)."""
    if f == 0:
        return "0" if math.copysign(1.0, f) > 0 else "-0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        digits, dp = _shortest(f)
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = dp - 1
        return ("-" if f < 0 else "") + mant + f"e{'-' if exp < 0 else '+'}{abs(exp)}"
    digits, dp = _shortest(f)
    sign = "-" if f < 0 else ""
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


# ---------------------------------------------------------------------------------------------
# Strings


def go_quote(s: str, *, ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII)."""
    out = ['"']
    for ch in s:
        out.append(_quote_rune(ch, '"', ascii_only))
    out.append('"')
    return "".join(out)


def go_quote_rune(r: int) -> str:
    """strconv.QuoteRune."""
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    return "'" + _quote_rune(chr(r), "'", False) + "'"


_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
}


def _quote_rune(ch: str, quote: str, ascii_only: bool) -> str:
    if ch == quote:
        return "\\" + ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x80:
        return ch if ch.isprintable() else f"\\x{code:02x}"
    if not ascii_only and ch.isprintable():
        return ch
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# ---------------------------------------------------------------------------------------------
# Time


def go_time_string(t: _dt.datetime) -> str:
    """time.Time.String(): ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    from engine.golang.timeformat import STRING_LAYOUT, format_time

    return format_time(t, STRING_LAYOUT)


# ---------------------------------------------------------------------------------------------
# %v


def format_value(v: Any) -> str:
    """fmt's %v of a value (maps print with sorted keys, nil as <nil>)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float_g(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{format_value(k)}:{format_value(x)}" for k, x in items) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_value(x) for x in v) + "]"
    if isinstance(v, _dt.datetime):
        return go_time_string(v)
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    if callable(v):
        return "0x1"
    return str(v)


def _sort_key(k: Any) -> tuple[int, Any]:
    if isinstance(k, (int, float)) and not isinstance(k, bool):
        return (0, k)
    return (1, str(k))


def sprint(args: Sequence[Any]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out: list[str] = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    """fmt.Sprintln: operands always separated by spaces, newline appended."""
    return " ".join(format_value(a) for a in args) + "\n"


# ---------------------------------------------------------------------------------------------
# Printf


class _Spec:
    def __init__(self) -> None:
        self.minus = False
        self.plus = False
        self.sharp = False
        self.zero = False
        self.space = False
        self.width: int | None = None
        self.prec: int | None = None


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf for the common verbs, with Go's %!verb(type=value) error notation."""
    out: list[str] = []
    i = 0
    argi = 0
    n = len(fmt)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < n and fmt[i] in "-+# 0":
            c = fmt[i]
            spec.minus |= c == "-"
            spec.plus |= c == "+"
            spec.sharp |= c == "#"
            spec.zero |= c == "0"
            spec.space |= c == " "
            i += 1
        i, spec.width, argi = _num_or_star(fmt, i, args, argi)
        if i < n and fmt[i] == ".":
            i += 1
            i, prec, argi = _num_or_star(fmt, i, args, argi)
            spec.prec = prec if prec is not None else 0
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        out.append(_pad(_format_verb(verb, arg, spec), spec, verb, arg))
    if argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{go_type(a)}={format_value(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _num_or_star(fmt: str, i: int, args: Sequence[Any], argi: int) -> tuple[int, int | None, int]:
    if i < len(fmt) and fmt[i] == "*":
        val = args[argi] if argi < len(args) else None
        return i + 1, val if isinstance(val, int) and not isinstance(val, bool) else None, argi + 1
    start = i
    while i < len(fmt) and fmt[i].isdigit():
        i += 1
    return i, int(fmt[start:i]) if i > start else None, argi


def _bad(verb: str, arg: Any) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(arg)}={format_value(arg)})"


def _format_verb(verb: str, arg: Any, spec: _Spec) -> str:
    if verb == "T":
        return go_type(arg)
    if verb == "v":
        if isinstance(arg, float) and spec.prec is not None:
            return _float_verb("g", arg, spec)
        if spec.plus and isinstance(arg, (int, float)) and not isinstance(arg, bool) and arg >= 0:
            return "+" + format_value(arg)
        return format_value(arg)
    if isinstance(arg, (list, tuple)) and verb in "sdqxXfeg":
        return "[" + " ".join(_format_verb(verb, x, spec) for x in arg) + "]"
    if verb == "t":
        return ("true" if arg else "false") if isinstance(arg, bool) else _bad(verb, arg)
    if isinstance(arg, bool):
        return _bad(verb, arg)
    if isinstance(arg, int):
        return _int_verb(verb, arg, spec)
    if isinstance(arg, float):
        return _float_verb(verb, arg, spec)
    if isinstance(arg, (str, bytes)) or hasattr(arg, "go_kind"):
        text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
        return _str_verb(verb, text, spec, arg)
    if verb == "s" and isinstance(arg, (Mapping, _dt.datetime)):
        return format_value(arg)
    return _bad(verb, arg)


def _int_verb(verb: str, v: int, spec: _Spec) -> str:
    sign = "-" if v < 0 else ("+" if spec.plus else (" " if spec.space else ""))
    a = abs(v)
    if verb == "d":
        body = str(a)
    elif verb == "x":
        body = ("0x" if spec.sharp else "") + format(a, "x")
    elif verb == "X":
        body = ("0X" if spec.sharp else "") + format(a, "X")
    elif verb == "o":
        body = ("0" if spec.sharp else "") + format(a, "o")
    elif verb == "O":
        body = "0o" + format(a, "o")
    elif verb == "b":
        body = format(a, "b")
    elif verb == "c":
        return chr(v) if 0 <= v <= 0x10FFFF else "\ufffd"
    elif verb == "q":
        return go_quote_rune(v)
    elif verb == "U":
        return f"U+{v:04X}"
    elif verb in "eEfFgG":
        return _bad(verb, v)
    else:
        return _bad(verb, v)
    if spec.prec is not None and len(body) < spec.prec:
        body = "0" * (spec.prec - len(body)) + body
    return sign + body


def _float_verb(verb: str, v: float, spec: _Spec) -> str:
    special = _special_float(v)
    if special is not None:
        return special
    sign = "+" if spec.plus and v >= 0 else (" " if spec.space and v >= 0 else "")
    if verb in "fF":
        return sign + f"{v:.{6 if spec.prec is None else spec.prec}f}"
    if verb in "eE":
        text = f"{v:.{6 if spec.prec is None else spec.prec}e}"
        return sign + (text.upper() if verb == "E" else text)
    if verb in "gG":
        text = format_float_g(v) if spec.prec is None else _prec_g(v, spec.prec)
        return sign + (text.upper() if verb == "G" else text)
    return _bad(verb, v)


def _prec_g(v: float, prec: int) -> str:
    text = f"{v:.{max(prec, 1)}g}"
    return text


def _str_verb(verb: str, s: str, spec: _Spec, arg: Any) -> str:
    if verb == "s":
        return s if spec.prec is None else s[: spec.prec]
    if verb == "q":
        if spec.sharp and "`" not in s and s.isprintable():
            return "`" + s + "`"
        return go_quote(s, ascii_only=spec.plus)
    if verb in "xX":
        data = s.encode()
        sep = " " if spec.space else ""
        text = sep.join(format(b, "02x") for b in data)
        return text.upper() if verb == "X" else text
    return _bad(verb, arg)


def _pad(text: str, spec: _Spec, verb: str, arg: Any) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    numeric = isinstance(arg, (int, float)) and not isinstance(arg, bool)
    if spec.zero and numeric and verb not in "vqc":
        if text[:1] in "+- ":
            return text[0] + "0" * fill + text[1:]
        return "0" * fill + text
    return " " * fill + text


# ---------------------------------------------------------------------------------------------
# JSON


def to_json(v: Any, indent: str | None = None, level: int = 0) -> str:
    """encoding/json.Marshal (or MarshalIndent with ``indent``), HTML-escaping like Go."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float_json(v) if _special_float(v) is None else "null"
    if isinstance(v, str):
        return json_string(v)
    if isinstance(v, _dt.datetime):
        return json_string(v.isoformat().replace("+00:00", "Z"))
    if isinstance(v, Mapping):
        items = sorted(((str(k), x) for k, x in v.items()), key=lambda kv: kv[0])
        parts = [
            f"{json_string(k)}:{' ' if indent is not None else ''}{to_json(x, indent, level + 1)}"
            for k, x in items
        ]
        return _json_join("{", "}", parts, indent, level)
    if isinstance(v, (list, tuple)):
        return _json_join("[", "]", [to_json(x, indent, level + 1) for x in v], indent, level)
    return json_string(str(v))


def _json_join(open_: str, close: str, parts: list[str], indent: str | None, level: int) -> str:
    if not parts:
        return open_ + close
    if indent is None:
        return open_ + ",".join(parts) + close
    inner = "\n" + indent * (level + 1)
    return open_ + inner + ("," + inner).join(parts) + "\n" + indent * level + close


def json_string(s: str) -> str:
    """A JSON string as encoding/json writes it (escapes <, >, &, U+2028, U+2029)."""
    return '"' + escape_runes(s, _JSON_ESCAPES, _json_needs_hex) + '"'


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_needs_hex(ch: str) -> bool:
    return ch < "\x20" or ch in "<>&\u2028\u2029"


def escape_runes(
    s: str,
    table: Mapping[str, str],
    needs_hex: Callable[[str], bool] | None = None,
    upper_hex: bool = False,
) -> str:
    """``s`` with each rune replaced from ``table``, else as ``\\uXXXX`` where ``needs_hex``."""
    out: list[str] = []
    for ch in s:
        mapped = table.get(ch)
        if mapped is not None:
            out.append(mapped)
        elif needs_hex is not None and needs_hex(ch):
            out.append(f"\\u{ord(ch):04X}" if upper_hex else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
