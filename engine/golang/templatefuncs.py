"""How template functions are declared: their Go parameter types and their error value.

Shared by the template engine (:mod:`engine.golang.texttemplate`, which checks arguments the
way Go's reflection-based call does) and the function libraries it registers
(:mod:`engine.golang.sprig`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

ANY = "interface {}"

_F = TypeVar("_F", bound=Callable[..., Any])


def gofunc(*params: str, variadic: str | None = None) -> Callable[[_F], _F]:
    """Declare a template function's Go parameter types (``string``, ``int``, ``bool``,
    ``float64``, ``interface {}``, ``map[string]interface {}``, ``time.Time``).

    Go's template engine checks arguments against these types before calling, and its
    messages ("wrong type for value; expected string; got int") depend on them.  Functions
    without a declaration accept any number of arguments of any type.
    """

    def wrap(fn: _F) -> _F:
        fn.__dict__["go_params"] = params
        fn.__dict__["go_variadic"] = variadic
        return fn

    return wrap


class FuncError(Exception):
    """A template function's error value (Go: the function returned a non-nil error)."""

