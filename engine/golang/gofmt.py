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
from typing import Any, NamedTuple

from engine.core.sanitize import STRCONV_ESCAPES


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


_ESCAPES = STRCONV_ESCAPES


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
        self.bad = False  # the verb does not fit the operand: %!verb(type=value) is written


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf for the common verbs, with Go's %!verb(type=value) error notation.

    The directive syntax is src/fmt/print.go doPrintf's: flags, ``[n]`` argument indexes, a
    width and a precision (digits or ``*``) limited as Go limits them (``%!(BADWIDTH)``,
    ``%!(BADPREC)``, ``%!(NOVERB)``, ``%!d(BADINDEX)``, ``%!d(MISSING)``, ``%!(EXTRA ...)``).
    """
    out: list[str] = []
    i = 0
    argi = 0
    end = len(fmt)
    reordered = False
    while i < end:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < end and fmt[i] in "-+# 0":
            c = fmt[i]
            spec.minus |= c == "-"
            spec.plus |= c == "+"
            spec.sharp |= c == "#"
            spec.zero |= c == "0"
            spec.space |= c == " "
            i += 1
        index = _arg_number(fmt, i, argi, len(args))
        argi, i, after_index = index.argi, index.i, index.found
        reordered |= index.seen
        good_arg = index.good
        if fmt.startswith("*", i):
            i += 1
            width, argi = _int_from_arg(args, argi)
            if width is None:
                out.append("%!(BADWIDTH)")
            elif width < 0:  # a negative width means left-justify
                spec.minus, spec.zero, width = True, False, -width
            spec.width = width
            after_index = False
        else:
            spec.width, i = _parse_num(fmt, i, end)
            if after_index and spec.width is not None:  # "%[3]2d"
                good_arg = False
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:  # "%[3].2d"
                good_arg = False
            index = _arg_number(fmt, i, argi, len(args))
            argi, i, after_index = index.argi, index.i, index.found
            reordered |= index.seen
            good_arg &= index.good
            if fmt.startswith("*", i):
                i += 1
                prec, argi = _int_from_arg(args, argi)
                if prec is not None and prec < 0:
                    prec = None  # a negative precision argument makes no sense
                if prec is None:
                    out.append("%!(BADPREC)")
                spec.prec = prec
                after_index = False
            else:
                prec, i = _parse_num(fmt, i, end)
                spec.prec = 0 if prec is None else prec
        if not after_index:
            index = _arg_number(fmt, i, argi, len(args))
            argi, i = index.argi, index.i
            reordered |= index.seen
            good_arg &= index.good
        if i >= end:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":  # absorbs no operand, ignores width and precision
            out.append("%")
        elif not good_arg:
            out.append(f"%!{verb}(BADINDEX)")
        elif argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
        else:
            arg = args[argi]
            argi += 1
            text = _format_verb(verb, arg, spec)
            out.append(text if spec.bad else _pad(text, spec, verb, arg))
    if not reordered and argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{go_type(a)}={format_value(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


# print.go tooLarge: widths and precisions beyond this magnitude are refused
_MAX_NUM = 1_000_000


def _parse_num(fmt: str, i: int, end: int) -> tuple[int | None, int]:
    """print.go parsenum: (the number or None, the index after it).

    The size check comes before each digit is added, so a number may reach ~10x the limit;
    one digit more makes it a "crazy long number": no number, and the rest of the format is
    consumed (so ``%!(NOVERB)`` follows).
    """
    num: int | None = None
    while i < end and "0" <= fmt[i] <= "9":
        if num is not None and num > _MAX_NUM:
            return None, end
        num = (num or 0) * 10 + ord(fmt[i]) - ord("0")
        i += 1
    return num, i


def _int_from_arg(args: Sequence[Any], argi: int) -> tuple[int | None, int]:
    """print.go intFromArg: the int operand of a ``*`` (None when missing, not an int, or
    too large) and the next argument."""
    if argi >= len(args):
        return None, argi
    value = args[argi]
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > _MAX_NUM:
        return None, argi + 1
    return value, argi + 1


class _Index(NamedTuple):
    argi: int  # the argument the next verb or ``*`` takes
    i: int  # the format index after the ``[n]``
    found: bool  # a well-formed ``[n]`` (print.go afterIndex)
    seen: bool  # a ``[`` was there: the arguments are reordered, EXTRA is not reported
    good: bool  # print.go goodArgNum: False for a bad or out-of-range index


def _arg_number(fmt: str, i: int, argi: int, nargs: int) -> _Index:
    """print.go argNumber + parseArgNumber for a ``[n]`` at ``i`` (1-based ``n``)."""
    if not fmt.startswith("[", i):
        return _Index(argi, i, False, False, True)
    close = fmt.find("]", i + 1)
    if len(fmt) - i < 3 or close < 0:
        return _Index(argi, i + 1, False, True, False)
    number, after = _parse_num(fmt, i + 1, close)
    if number is None or after != close:
        return _Index(argi, close + 1, False, True, False)
    if 0 <= number - 1 < nargs:
        return _Index(number - 1, close + 1, True, True, True)
    return _Index(argi, close + 1, True, True, False)


def _bad(verb: str, arg: Any, spec: _Spec) -> str:
    """print.go badVerb: ``%!verb(type=value)``, the width applying to the value inside."""
    spec.bad = True
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(arg)}={_pad(format_value(arg), spec, 'v', arg)})"


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
        return ("true" if arg else "false") if isinstance(arg, bool) else _bad(verb, arg, spec)
    if isinstance(arg, bool):
        return _bad(verb, arg, spec)
    if isinstance(arg, int):
        return _int_verb(verb, arg, spec)
    if isinstance(arg, float):
        return _float_verb(verb, arg, spec)
    if isinstance(arg, (str, bytes)) or hasattr(arg, "go_kind"):
        text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
        return _str_verb(verb, text, spec, arg)
    if verb == "s" and isinstance(arg, (Mapping, _dt.datetime)):
        return format_value(arg)
    return _bad(verb, arg, spec)


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
        return _bad(verb, v, spec)
    else:
        return _bad(verb, v, spec)
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
    return _bad(verb, v, spec)


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
    return _bad(verb, arg, spec)


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
