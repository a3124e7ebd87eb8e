"""Go ``text/template`` with Sprig v2 functions, as skaffold uses them.

skaffold expands tag templates, kustomize paths, rawYaml entries and helm values with Go's
``text/template`` plus ``github.com/Masterminds/sprig`` (v2.22) plus its own ``cmd`` function
(``pkg/skaffold/util/env_template.go``).  This module reproduces that engine: the syntax, Go's
evaluation and printing rules, and Go's error messages (``template: NAME:LINE:COL: executing
"NAME" at <NODE>: ...``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from engine.core.errors import TemplateError
from engine.golang.gofmt import (
    StrMap,
    escape_runes,
    format_value,
    go_type,
    sprint,
    sprintf,
    sprintln,
)
from engine.golang.templatefuncs import ANY, FuncError, gofunc
from engine.golang.templateparse import (
    BUILTIN_NAMES,
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    field_names,
    parse_text,
)

__all__ = [
    "Template",
    "TemplateError",
    "expand",
    "gofunc",
    "parse",
    "standard_functions",
]

# Go types a nil value can be assigned to (canBeNil)
_NILABLE = {ANY, "reflect.Value", "map[string]interface {}", "[]interface {}", "[]string"}
MAX_EXEC_DEPTH = 100000


def _signature(fn: Callable[..., Any]) -> tuple[tuple[str, ...], str | None]:
    params = getattr(fn, "go_params", None)
    if params is None:
        return (), ANY
    return tuple(params), getattr(fn, "go_variadic", None)


class _Missing:
    """Go's missingVal: no final (piped) argument."""


_MISSING = _Missing()


class _NoValue:
    """A map lookup that found nothing (Go's invalid reflect.Value) inside a field chain."""


_NOVALUE = _NoValue()


class _BreakSignal(Exception):
    pass


class _ContinueSignal(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Truth and comparisons (text/template's funcs.go)


def is_true(v: Any) -> bool:
    """Go template truthiness: false, 0, nil, empty string/collection are false."""
    if v is None or v is _NOVALUE:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, bytes, list, tuple, Mapping)):
        return len(v) > 0
    return True


def _basic_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(arg1: Any, *args: Any) -> bool:
    if not args:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in args:
        k2 = _basic_kind(arg)
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise FuncError("incompatible types for comparison")
            if arg1 is None and arg is None:
                return True
            continue
        if k1 == "other":
            if isinstance(arg1, (list, tuple, Mapping)) or isinstance(arg, (list, tuple, Mapping)):
                bad = arg if isinstance(arg, (list, tuple, Mapping)) else arg1
                raise FuncError(f"non-comparable type {format_value(bad)}: {go_type(bad)}")
            if arg1 == arg:
                return True
        elif arg1 == arg:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 in ("other", "bool") or k2 in ("other", "bool"):
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: Any, b: Any) -> bool:
    return not _le(a, b)


def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


def _not(a: Any) -> bool:
    return not is_true(a)


def _len(item: Any) -> int:
    if item is None:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, tuple, Mapping, bytes)):
        return len(item)
    raise FuncError(f"len of type {go_type(item)}")


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FuncError("index of untyped nil")
    for index in indexes:
        if isinstance(item, (list, tuple, str)):
            seq: Any = item.encode() if isinstance(item, str) else item
            if index is None:
                raise FuncError("cannot index slice/array with nil")
            if not isinstance(index, int) or isinstance(index, bool):
                raise FuncError(f"cannot index slice/array with type {go_type(index)}")
            if index < 0 or index >= len(seq):
                raise FuncError(f"index out of range: {index}")
            item = seq[index]
        elif isinstance(item, Mapping):
            if index is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(index, str):
                raise FuncError(f"value has type {go_type(index)}; should be string")
            zero = "" if isinstance(item, StrMap) else None
            item = item.get(index, zero)
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def _eval_args(args: Sequence[Any]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None else a for a in args])


def _html(*args: Any) -> str:
    return escape_runes(_eval_args(args), _HTML_ESCAPES)


_HTML_ESCAPES = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\ufffd"}


def _js(*args: Any) -> str:
    return escape_runes(_eval_args(args), _JS_ESCAPES, _js_needs_hex, upper_hex=True)


_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"'}


def _js_needs_hex(ch: str) -> bool:
    return ch in "<>&=" or ch < "\x20" or not ch.isprintable()


def _urlquery(*args: Any) -> str:
    from urllib.parse import quote_plus

    return quote_plus(_eval_args(args), safe="")


def _call(fn: Any, *args: Any) -> Any:
    if fn is None:
        raise FuncError("call of nil")
    if not callable(fn):
        raise FuncError(f"non-function of type {go_type(fn)}")
    return fn(*args)


@gofunc("string", variadic=ANY)
def _printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, args)


def _print(*args: Any) -> str:
    return sprint(args)


def _println(*args: Any) -> str:
    return sprintln(args)


def _builtin_slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, (str, list, tuple)):
        raise FuncError(f"can't slice item of type {go_type(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise FuncError("cannot 3-index slice a string")
    bounds = [0, len(item)]
    for i, index in enumerate(indexes[:2]):
        if not isinstance(index, int) or isinstance(index, bool):
            raise FuncError(f"cannot index slice/array with type {go_type(index)}")
        if index < 0 or index > len(item):
            raise FuncError(f"index out of range: {index}")
        bounds[i] = index
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    return item[bounds[0] : bounds[1]]


_RV = "reflect.Value"
_BUILTIN_SIGNATURES: list[tuple[Callable[..., Any], tuple[str, ...], str | None]] = [
    (_eq, (_RV,), _RV),
    (_ne, (_RV, _RV), None),
    (_lt, (_RV, _RV), None),
    (_le, (_RV, _RV), None),
    (_gt, (_RV, _RV), None),
    (_ge, (_RV, _RV), None),
    (_not, (_RV,), None),
    (_len, (_RV,), None),
    (_index, (_RV,), _RV),
    (_call, (_RV,), _RV),
    (_builtin_slice, (_RV,), _RV),
]
for _fn, _params, _variadic in _BUILTIN_SIGNATURES:
    gofunc(*_params, variadic=_variadic)(_fn)

BUILTINS: dict[str, Callable[..., Any]] = {
    "and": lambda *a: a[-1],
    "or": lambda *a: a[-1],
    "not": _not,
    "len": _len,
    "index": _index,
    "slice": _builtin_slice,
    "call": _call,
    "html": _html,
    "js": _js,
    "urlquery": _urlquery,
    "print": _print,
    "printf": _printf,
    "println": _println,
    "eq": _eq,
    "ne": _ne,
    "lt": _lt,
    "le": _le,
    "gt": _gt,
    "ge": _ge,
}
assert set(BUILTINS) == BUILTIN_NAMES


# ---------------------------------------------------------------------------------------------
# Templates


class Template:
    """A parsed template: its main tree, the templates it defines, and its functions."""

    def __init__(
        self,
        name: str,
        text: str,
        root: ListNode,
        trees: dict[str, ListNode],
        funcs: Mapping[str, Callable[..., Any]],
    ) -> None:
        self.name = name
        self.text = text
        self.root = root
        self.trees = dict(trees)
        self.trees.setdefault(name, root)
        self.funcs = dict(funcs)

    def execute(self, data: Mapping[str, Any], *, missing_key: str = "default") -> str:
        """Run the template on ``data``.

        ``missing_key="default"`` prints a missing map key as ``<no value>`` (Go's default);
        ``"error"`` raises like Go's ``missingkey=error``.  A mapping whose values are all
        strings is treated as Go's ``map[string]string`` (skaffold's env data).
        """
        if missing_key not in ("default", "error", "invalid"):
            raise TemplateError(f"unrecognized option: missingkey={missing_key}")
        root_data: Any = data
        if not isinstance(data, StrMap) and all(isinstance(v, str) for v in data.values()):
            root_data = StrMap(data)
        state = _State(self, missing_key == "error")
        try:
            state.walk(root_data, self.root)
        except RecursionError:
            raise TemplateError(
                f"template: {self.name}: exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ) from None
        return "".join(state.out)

    def fields(self) -> list[str]:
        """Field names the main template references, first occurrence first
        (skaffold's ``tag.GetTemplateFields``, which customTemplate uses)."""
        seen: dict[str, None] = {}
        for name in field_names(self.root.nodes):
            seen.setdefault(name, None)
        return list(seen)


def parse(
    text: str, *, name: str, funcs: Mapping[str, Callable[..., Any]] | None = None
) -> Template:
    """Parse ``text`` as Go template ``name`` with extra ``funcs`` (besides the builtins).

    Raises :class:`TemplateError` with Go's message, e.g. ``template: NAME:1: unclosed action``.
    """
    all_funcs: dict[str, Callable[..., Any]] = dict(BUILTINS)
    all_funcs.update(funcs or {})
    root, trees = parse_text(text, name, all_funcs)
    return Template(name, text, root, trees, all_funcs)


def standard_functions(
    *, env: Mapping[str, str], allow_commands: bool = True
) -> dict[str, Callable[..., Any]]:
    """Sprig v2 functions plus skaffold's ``cmd``; ``env``/``expandenv`` read ``env``."""
    from engine.golang.sprig import sprig_functions

    funcs = sprig_functions(env)
    # env_template.go registers cmd first and sprig after; sprig has no "cmd", so no clash.
    funcs["cmd"] = _make_cmd(env, allow_commands)
    return funcs


# What a `cmd` call says under --no-template-commands; callers that normally swallow template
# failures (the tagger's fall-back to `latest`) look for it and fail instead.
COMMANDS_DISABLED = "template function cmd is disabled (--no-template-commands)"


def _make_cmd(env: Mapping[str, str], allow: bool) -> Callable[..., Any]:
    @gofunc("string", variadic="string")
    def cmd(name: str, *args: str) -> str:
        if not allow:
            raise TemplateError(COMMANDS_DISABLED)
        import os

        from engine.core.errors import ToolError
        from engine.core.proc import run

        merged = dict(os.environ)
        merged.update(env)
        try:
            done = run([name, *args], env=merged)
        except ToolError as exc:
            raise FuncError(str(exc)) from None
        return done.stdout.decode("utf-8", "replace").strip()

    return cmd


def expand(
    text: str, env: Mapping[str, str], *, name: str = "template", allow_commands: bool = True
) -> str:
    """skaffold's util.ExpandEnvTemplate: parse with the standard functions and execute with
    ``env`` as data (a missing key prints ``<no value>``)."""
    funcs = standard_functions(env=env, allow_commands=allow_commands)
    return parse(text, name=name, funcs=funcs).execute(env)


# ---------------------------------------------------------------------------------------------
# Execution (text/template's exec.go)


class _State:
    def __init__(self, tmpl: Template, missing_error: bool) -> None:
        self.tmpl = tmpl
        self.exec_name = tmpl.name
        self.missing_error = missing_error
        self.out: list[str] = []
        self.vars: list[tuple[str, Any]] = []
        self.node: Node | None = None
        self.depth = 0

    # -- errors ------------------------------------------------------------------------------
    def errorf(self, msg: str) -> TemplateError:
        if self.node is None:
            return TemplateError(f"template: {self.exec_name}: {msg}")
        text = self.tmpl.text[: self.node.pos]
        line = 1 + text.count("\n")
        nl = text.rfind("\n")
        col = self.node.pos if nl < 0 else self.node.pos - nl - 1
        context = self.node.string()
        if len(context) > 20:
            context = context[:20] + "..."
        loc = f"{self.tmpl.name}:{line}:{col}"
        return TemplateError(f'template: {loc}: executing "{self.exec_name}" at <{context}>: {msg}')

    # -- variables ---------------------------------------------------------------------------
    def var_value(self, name: str) -> Any:
        for n, v in reversed(self.vars):
            if n == name:
                return v
        raise self.errorf(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.errorf(f"undefined variable: {name}")

    # -- walking -----------------------------------------------------------------------------
    def walk(self, dot: Any, node: Node) -> None:
        if not self.vars:
            self.vars = [("$", dot)]
        if isinstance(node, ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.node = node
                self.out.append("<no value>" if val is None else format_value(val))
        elif isinstance(node, BranchNode):
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _BreakSignal()
        elif isinstance(node, ContinueNode):
            raise _ContinueSignal()
        else:
            raise self.errorf(f"unknown node: {node.string()}")

    def walk_if_or_with(self, dot: Any, node: BranchNode) -> None:
        mark = len(self.vars)
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if is_true(val):
                self.walk(val if node.keyword == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: BranchNode) -> None:
        self.node = node
        outer = len(self.vars)
        try:
            val = self.eval_pipeline(dot, node.pipe)
            mark = len(self.vars)
            ran = False
            try:
                for index, elem in self._range_items(val, node):
                    ran = True
                    self._range_iteration(node, index, elem, mark)
            except _BreakSignal:
                return
            if not ran and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[outer:]

    def _range_items(self, val: Any, node: BranchNode) -> Iterator[tuple[Any, Any]]:
        if val is None:
            return iter(())
        if isinstance(val, (list, tuple)):
            return iter(list(enumerate(val)))
        if isinstance(val, Mapping):
            return iter(sorted(val.items(), key=lambda kv: str(kv[0])))
        if isinstance(val, int) and not isinstance(val, bool):
            if len(node.pipe.decl) > 1:
                raise self.errorf(f"can't use {val} to iterate over more than one variable")
            return iter([(i, i) for i in range(val)])
        raise self.errorf(f"range can't iterate over {format_value(val)}")

    def _range_iteration(self, node: BranchNode, index: Any, elem: Any, mark: int) -> None:
        decl = node.pipe.decl
        if decl:
            if node.pipe.is_assign:
                self.set_var(decl[0].idents[0], index if len(decl) > 1 else elem)
                if len(decl) > 1:
                    self.set_var(decl[1].idents[0], elem)
            else:
                # the last declared variable gets the element, the one before it the index
                self.vars[-1] = (self.vars[-1][0], elem)
                if len(decl) > 1:
                    self.vars[-2] = (self.vars[-2][0], index)
        try:
            self.walk(elem, node.list)
        except _ContinueSignal:
            pass
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        self.node = node
        tree = self.tmpl.trees.get(node.name)
        if tree is None:
            raise self.errorf(f'template "{node.name}" not defined')
        if self.depth >= MAX_EXEC_DEPTH:
            raise self.errorf(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else dot
        saved = (self.vars, self.exec_name)
        self.vars = [("$", new_dot)]
        self.exec_name = node.name
        self.depth += 1
        try:
            self.walk(new_dot, tree)
        finally:
            self.vars, self.exec_name = saved
            self.depth -= 1

    # -- evaluation --------------------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.node = pipe
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.idents[0], value)
            else:
                self.vars.append((var.idents[0], value))
        return value

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self._not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.node = first
        self._not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.errorf("nil is not a command")
        if isinstance(first, NumberNode):
            return self._ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        raise self.errorf(f"can't evaluate command {first.string()}")

    def _not_a_function(self, args: list[Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.errorf(f"can't give argument to non-function {args[0].string()}")

    def _ideal_constant(self, n: NumberNode) -> Any:
        self.node = n
        text = n.text
        hex_int = text.lower().startswith(("0x", "-0x", "+0x")) and "p" not in text.lower()
        if n.is_float and not hex_int and not n.is_char and any(c in text for c in ".eEpP"):
            return n.float_value
        if n.is_int:
            return n.int_value
        raise self.errorf(f"{text} overflows int")

    def eval_field_node(self, dot: Any, node: FieldNode, args: list[Node], final: Any) -> Any:
        self.node = node
        return self._field_chain(dot, dot, node, node.idents, args, final)

    def eval_chain_node(self, dot: Any, chain: ChainNode, args: list[Node], final: Any) -> Any:
        self.node = chain
        if isinstance(chain.node, NilNode):
            raise self.errorf(f"indirection through explicit nil in {chain.string()}")
        pipe = self.eval_arg(dot, ANY, chain.node)
        return self._field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: Any, var: VariableNode, args: list[Node] | None, final: Any
    ) -> Any:
        self.node = var
        value = self.var_value(var.idents[0])
        if len(var.idents) == 1:
            self._not_a_function(args or [var], final)
            return value
        return self._field_chain(dot, value, var, var.idents[1:], args, final)

    def _field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: Node,
        idents: list[str],
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        for name in idents[:-1]:
            receiver = self.eval_field(dot, name, node, None, _MISSING, receiver)
        result = self.eval_field(dot, idents[-1], node, args, final, receiver)
        return None if result is _NOVALUE else result

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Any,
        receiver: Any,
    ) -> Any:
        if receiver is _NOVALUE:
            if self.missing_error:
                raise self.errorf(f'nil data; no entry for key "{name}"')
            return _NOVALUE
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        method = _method(receiver, name)
        if method is not None:
            return self.eval_call(dot, method, node, name, args, final)
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.errorf(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missing_error:
                raise self.errorf(f'map has no entry for key "{name}"')
            return _NOVALUE
        if receiver is None:
            if self.missing_error:
                raise self.errorf(f'nil data; no entry for key "{name}"')
            raise self.errorf(f"nil pointer evaluating interface {{}}.{name}")
        attr = _struct_field(receiver, name)
        if attr is not _NOVALUE:
            if has_args:
                raise self.errorf(f"{name} has arguments but cannot be invoked as function")
            return attr
        raise self.errorf(f"can't evaluate field {name} in type {go_type(receiver)}")

    def eval_function(
        self, dot: Any, node: IdentifierNode, cmd: Node, args: list[Node], final: Any
    ) -> Any:
        self.node = node
        fn = self.tmpl.funcs.get(node.name)
        if fn is None:
            raise self.errorf(f'"{node.name}" is not a defined function')
        if node.name in ("and", "or") and fn is BUILTINS[node.name]:
            return self._eval_and_or(dot, node.name, args, final)
        return self.eval_call(dot, fn, cmd, node.name, args, final)

    def _eval_and_or(self, dot: Any, name: str, args: list[Node], final: Any) -> Any:
        operands = args[1:]
        if not operands and final is _MISSING:
            raise self.errorf(f"wrong number of args for {name}: want at least 1 got 0")
        value: Any = None
        for arg in operands:
            value = self.eval_arg(dot, "reflect.Value", arg)
            if is_true(value) == (name == "or"):
                return value
        if final is not _MISSING:
            value = final
        return value

    def eval_call(
        self,
        dot: Any,
        fn: Callable[..., Any],
        node: Node,
        name: str,
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        arg_nodes = args[1:] if args is not None else []
        params, variadic = _signature(fn)
        num_in = len(arg_nodes) + (0 if final is _MISSING else 1)
        if variadic is not None:
            if num_in < len(params):
                raise self.errorf(
                    f"wrong number of args for {name}: want at least {len(params)} "
                    f"got {len(arg_nodes)}"
                )
        elif num_in != len(params):
            raise self.errorf(f"wrong number of args for {name}: want {len(params)} got {num_in}")
        argv: list[Any] = []
        for i, arg in enumerate(arg_nodes):
            typ = params[i] if i < len(params) else str(variadic)
            argv.append(self.eval_arg(dot, typ, arg))
        if final is not _MISSING:
            i = len(arg_nodes)
            typ = params[i] if i < len(params) else str(variadic)
            argv.append(self.validate_type(final, typ))
        try:
            result = fn(*argv)
        except (_BreakSignal, _ContinueSignal):
            raise
        except TemplateError as exc:
            self.node = node
            raise self.errorf(f"error calling {name}: {exc}") from None
        except Exception as exc:  # Go recovers panics in functions as errors too
            self.node = node
            raise self.errorf(f"error calling {name}: {_panic_message(exc)}") from None
        return result

    def validate_type(self, value: Any, typ: str) -> Any:
        if value is None or value is _NOVALUE:
            if typ in _NILABLE:
                return None
            raise self.errorf(f"invalid value; expected {typ}")
        if typ in (ANY, "reflect.Value") or _assignable(value, typ):
            return value
        raise self.errorf(f"wrong type for value; expected {typ}; got {go_type(value)}")

    def eval_arg(self, dot: Any, typ: str, node: Node) -> Any:
        self.node = node
        if isinstance(node, DotNode):
            return self.validate_type(dot, typ)
        if isinstance(node, NilNode):
            if typ in _NILABLE:
                return None
            raise self.errorf(f"cannot assign nil to {typ}")
        if isinstance(node, FieldNode):
            return self.validate_type(self.eval_field_node(dot, node, [node], _MISSING), typ)
        if isinstance(node, VariableNode):
            return self.validate_type(self.eval_variable_node(dot, node, None, _MISSING), typ)
        if isinstance(node, PipeNode):
            return self.validate_type(self.eval_pipeline(dot, node), typ)
        if isinstance(node, IdentifierNode):
            fn_value = self.eval_function(dot, node, node, [node], _MISSING)
            return self.validate_type(fn_value, typ)
        if isinstance(node, ChainNode):
            return self.validate_type(self.eval_chain_node(dot, node, [node], _MISSING), typ)
        if typ == "bool":
            if isinstance(node, BoolNode):
                return node.value
            raise self.errorf(f"expected bool; found {node.string()}")
        if typ in ("int", "int64", "uint32", "int32"):
            if isinstance(node, NumberNode) and node.is_int:
                return node.int_value
            raise self.errorf(f"expected integer; found {node.string()}")
        if typ == "float64":
            if isinstance(node, NumberNode) and node.is_float:
                return node.float_value
            raise self.errorf(f"expected float; found {node.string()}")
        if typ == "string":
            if isinstance(node, StringNode):
                return node.text
            raise self.errorf(f"expected string; found {node.string()}")
        if typ in (ANY, "reflect.Value"):
            if isinstance(node, BoolNode):
                return node.value
            if isinstance(node, NumberNode):
                return self._ideal_constant(node)
            if isinstance(node, StringNode):
                return node.text
        raise self.errorf(f"can't handle {node.string()} for arg of type {typ}")


def _assignable(value: Any, typ: str) -> bool:
    if typ == "string":
        return isinstance(value, str)
    if typ in ("int", "int64", "uint32", "int32"):
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "float64":
        return isinstance(value, float)
    if typ == "bool":
        return isinstance(value, bool)
    if typ == "map[string]interface {}":
        return isinstance(value, Mapping) and not isinstance(value, StrMap)
    if typ in ("[]interface {}", "[]string"):
        return isinstance(value, (list, tuple))
    if typ == "time.Time":
        return isinstance(value, _dt.datetime)
    return True


def _panic_message(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "runtime error: integer divide by zero"
    if isinstance(exc, RecursionError):
        return "stack overflow"
    return str(exc)


def _method(receiver: Any, name: str) -> Callable[..., Any] | None:
    """Methods of the few Go types templates see (time.Time, semver versions)."""
    if isinstance(receiver, _dt.datetime):
        from engine.golang.sprig import time_method

        return time_method(receiver, name)
    methods = getattr(receiver, "go_methods", None)
    if isinstance(methods, Mapping):
        fn: Callable[..., Any] | None = methods.get(name)
        return fn if callable(fn) else None
    return None


def _struct_field(receiver: Any, name: str) -> Any:
    fields = getattr(receiver, "go_fields", None)
    if isinstance(fields, Mapping) and name in fields:
        return fields[name]
    return _NOVALUE
