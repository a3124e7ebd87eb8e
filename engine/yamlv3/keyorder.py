"""Mapping-key order of yaml.v3's encoder ("natural" order, vendor/gopkg.in/yaml.v3/sorter.go)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from engine.yamlv3.scalars import INT64_MAX, Timestamp

# reflect.Kind numbers of the Go values a decoded key can hold (sorter.go compares kinds).
_KIND_BOOL = 1
_KIND_INT = 2
_KIND_UINT64 = 11
_KIND_FLOAT64 = 14
_KIND_INTERFACE = 20  # a nil interface{} key
_KIND_SLICE = 23
_KIND_STRING = 24
_KIND_STRUCT = 25  # time.Time

_DIGIT = re.compile(r"\d")  # unicode.IsDigit is category Nd, as is Python's \d
_MASK64 = (1 << 64) - 1


def key_kind(key: Any) -> int:
    """The Go reflect.Kind a decoded key would have."""
    if isinstance(key, str):
        return _KIND_STRING
    if isinstance(key, bool):
        return _KIND_BOOL
    if isinstance(key, int):
        return _KIND_INT if key <= INT64_MAX else _KIND_UINT64
    if isinstance(key, float):
        return _KIND_FLOAT64
    if key is None:
        return _KIND_INTERFACE
    if isinstance(key, Timestamp):
        return _KIND_STRUCT
    return _KIND_SLICE


def _wrap64(value: int) -> int:
    """Go int64 overflow semantics for the digit-run accumulators."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _less_strings(a: str, b: str) -> bool:
    digits = False
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            digits = ca.isdecimal()
            continue
        al, bl = ca.isalpha(), cb.isalpha()
        if al and bl:
            return ca < cb
        if al or bl:
            return al if digits else bl
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = an * 10 + ord(a[ai]) - 48
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = bn * 10 + ord(b[bi]) - 48
            bi += 1
        an, bn = _wrap64(an), _wrap64(bn)
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


def key_less(a: Any, b: Any) -> bool:
    """sorter.go keyList.Less for two decoded keys."""
    ak, bk = key_kind(a), key_kind(b)
    anum = ak in (_KIND_BOOL, _KIND_INT, _KIND_UINT64, _KIND_FLOAT64)
    bnum = bk in (_KIND_BOOL, _KIND_INT, _KIND_UINT64, _KIND_FLOAT64)
    if anum and bnum:
        af, bf = float(a), float(b)
        if af != bf:
            return af < bf
        if ak != bk:
            return ak < bk
        return bool(a < b)
    if ak != _KIND_STRING or bk != _KIND_STRING:
        return ak < bk
    return _less_strings(a, b)


def _letter_key(text: str) -> tuple[int, ...]:
    # Without digits, Less compares position by position: letters after non-letters,
    # then by code point; a prefix sorts first. That is a plain lexicographic order.
    return tuple(ord(c) + 0x110000 if c.isalpha() else ord(c) for c in text)


def sort_keys(keys: list[Any]) -> list[Any]:
    """Keys in the order yaml.v3's encoder writes them."""
    return [key for key, _ in sort_items([(key, None) for key in keys])]


_ORDER_CACHE: dict[tuple[str, ...], list[int]] = {}


def sort_string_keys(keys: tuple[str, ...]) -> list[int]:
    """Indices of string ``keys`` in yaml.v3 order (cached: manifests repeat key sets)."""
    order = _ORDER_CACHE.get(keys)
    if order is None:
        items = sort_items([(key, i) for i, key in enumerate(keys)])
        order = [i for _, i in items]
        if len(_ORDER_CACHE) > 4096:
            _ORDER_CACHE.clear()
        _ORDER_CACHE[keys] = order
    return order


def sort_items(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(key, value) pairs ordered by key as yaml.v3's encoder writes them."""
    if len(items) < 2:
        return list(items)
    if all(type(k) is str for k, _ in items) and not any(_DIGIT.search(k) for k, _ in items):
        return sorted(items, key=lambda item: _letter_key(item[0]))
    if len(items) <= 12:
        return _insertion_sort(items, lambda x, y: key_less(x[0], y[0]))
    # Go's pdqsort and Python's sort agree whenever Less is a strict weak order, which
    # natural order is for all but contrived keys.
    return sorted(items, key=functools.cmp_to_key(_cmp))


def _cmp(x: tuple[Any, Any], y: tuple[Any, Any]) -> int:
    if key_less(x[0], y[0]):
        return -1
    if key_less(y[0], x[0]):
        return 1
    return 0


def _insertion_sort(keys: list[Any], less: Callable[[Any, Any], bool]) -> list[Any]:
    """Go sort.Sort for up to 12 elements (pdqsort falls back to this insertion sort)."""
    out = list(keys)
    for i in range(1, len(out)):
        j = i
        while j > 0 and less(out[j], out[j - 1]):
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out
