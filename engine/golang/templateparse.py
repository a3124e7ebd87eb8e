"""Lexer and parser for Go's ``text/template`` syntax (follows Go's text/template/parse).

Tokens and error messages mirror Go's lexer and parser, so a parse failure reads exactly as
skaffold reports it: ``template: NAME:LINE: MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from engine.core.errors import TemplateError

SPACE_CHARS = " \t\r\n"

# token kinds
T_ERROR = "error"
T_EOF = "EOF"
T_TEXT = "text"
T_COMMENT = "comment"
T_LDELIM = "{{"
T_RDELIM = "}}"
T_SPACE = "space"
T_FIELD = "field"
T_VARIABLE = "variable"
T_IDENT = "identifier"
T_BOOL = "bool"
T_NUMBER = "number"
T_CHARCONST = "charconst"
T_STRING = "string"
T_RAWSTRING = "rawstring"
T_LPAREN = "("
T_RPAREN = ")"
T_PIPE = "|"
T_DECLARE = ":="
T_ASSIGN = "="
T_CHAR = "char"

KEYWORDS = {
    ".": "dot",
    "block": "block",
    "break": "break",
    "continue": "continue",
    "define": "define",
    "else": "else",
    "end": "end",
    "if": "if",
    "range": "range",
    "nil": "nil",
    "template": "template",
    "with": "with",
}
_KEYWORD_KINDS = set(KEYWORDS.values())


@dataclass
class Token:
    kind: str
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        """Go's item.String(), used in 'unexpected X in Y' messages."""
        from engine.golang.gofmt import go_quote

        if self.kind == T_EOF:
            return "EOF"
        if self.kind == T_ERROR:
            return self.val
        if self.kind in _KEYWORD_KINDS:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


class Lexer:
    """Go's text/template lexer with the default ``{{ }}`` delimiters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.tokens: list[Token] = []
        self.paren_depth = 0

    # -- helpers -----------------------------------------------------------------------------
    def _emit(self, kind: str) -> None:
        val = self.text[self.start : self.pos]
        self.tokens.append(Token(kind, val, self.start, self.start_line))
        self._ignore()

    def _ignore(self) -> None:
        self.line += self.text.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def _error(self, msg: str) -> None:
        self.tokens.append(Token(T_ERROR, msg, self.start, self.start_line))

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _at_right_delim(self) -> tuple[bool, bool]:
        t = self.text
        p = self.pos
        if p + 1 < len(t) and t[p] in SPACE_CHARS and t[p + 1] == "-" and t.startswith("}}", p + 2):
            return True, True
        return t.startswith("}}", p), False

    def _at_terminator(self) -> bool:
        r = self._peek()
        if r == "" or r in SPACE_CHARS or r in ".,|:)(":
            return True
        return self.text.startswith("}}", self.pos)

    # -- main loop ---------------------------------------------------------------------------
    def run(self) -> list[Token]:
        """Tokenise the whole input; stops after the first error token."""
        t = self.text
        while True:
            idx = t.find("{{", self.pos)
            if idx < 0:
                self.pos = len(t)
                if self.pos > self.start:
                    self._emit(T_TEXT)
                self.tokens.append(Token(T_EOF, "", self.pos, self.line))
                return self.tokens
            trim = idx + 3 < len(t) + 1 and t[idx + 2 : idx + 3] == "-"
            trim = trim and idx + 3 < len(t) and t[idx + 3] in SPACE_CHARS
            self.pos = idx
            if trim:
                end = idx
                while end > self.start and t[end - 1] in SPACE_CHARS:
                    end -= 1
                if end > self.start:
                    self.pos = end
                    self._emit(T_TEXT)
                self.pos = idx
                self._ignore()
            elif idx > self.start:
                self._emit(T_TEXT)
            if not self._lex_left_delim(trim):
                return self.tokens

    def _lex_left_delim(self, trim: bool) -> bool:
        self.pos += 2
        after = 2 if trim else 0
        if self.text.startswith("/*", self.pos + after):
            self.pos += after
            self._ignore()
            return self._lex_comment()
        self._emit(T_LDELIM)
        self.pos += after
        self._ignore()
        self.paren_depth = 0
        return self._lex_inside_action()

    def _lex_comment(self) -> bool:
        self.pos += 2
        x = self.text.find("*/", self.pos)
        if x < 0:
            self._error("unclosed comment")
            return False
        self.pos = x + 2
        delim, trim = self._at_right_delim()
        if not delim:
            self._error("comment ends before closing delimiter")
            return False
        self._emit(T_COMMENT)
        self._finish_right_delim(trim, emit=False)
        return True

    def _finish_right_delim(self, trim: bool, *, emit: bool) -> None:
        if trim:
            self.pos += 2
            self._ignore()
        self.pos += 2
        if emit:
            self._emit(T_RDELIM)
        if trim:
            while self.pos < len(self.text) and self.text[self.pos] in SPACE_CHARS:
                self.pos += 1
        self._ignore()

    def _lex_inside_action(self) -> bool:
        t = self.text
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth == 0:
                    self._finish_right_delim(trim, emit=True)
                    return True
                self._error("unclosed left paren")
                return False
            if self.pos >= len(t):
                self._error("unclosed action")
                return False
            r = t[self.pos]
            self.pos += 1
            ok = True
            if r in SPACE_CHARS:
                self.pos -= 1
                self._lex_space()
            elif r == "=":
                self._emit(T_ASSIGN)
            elif r == ":":
                if self._peek() != "=":
                    self._error("expected :=")
                    return False
                self.pos += 1
                self._emit(T_DECLARE)
            elif r == "|":
                self._emit(T_PIPE)
            elif r == '"':
                ok = self._lex_quoted('"', T_STRING, "quoted string")
            elif r == "`":
                ok = self._lex_raw_quote()
            elif r == "$":
                ok = self._lex_field_or_variable(T_VARIABLE)
            elif r == "'":
                ok = self._lex_quoted("'", T_CHARCONST, "character constant")
            elif r == "." and not ("0" <= self._peek() <= "9" and self._peek() != ""):
                ok = self._lex_field_or_variable(T_FIELD)
            elif r in "+-." or "0" <= r <= "9":
                self.pos -= 1
                ok = self._lex_number()
            elif _is_alnum(r):
                self.pos -= 1
                ok = self._lex_identifier()
            elif r == "(":
                self._emit(T_LPAREN)
                self.paren_depth += 1
            elif r == ")":
                self._emit(T_RPAREN)
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    self._error("unexpected right paren")
                    return False
            elif ord(r) < 0x80 and r.isprintable():
                self._emit(T_CHAR)
            else:
                self._error(f"unrecognized character in action: {_rune_desc(r)}")
                return False
            if not ok:
                return False

    def _lex_space(self) -> None:
        t = self.text
        n = 0
        while self.pos < len(t) and t[self.pos] in SPACE_CHARS:
            self.pos += 1
            n += 1
        # A trim-marked closing delimiter ' -}}' owns its space.
        if t.startswith("-}}", self.pos):
            self.pos -= 1
            if n == 1:
                return
        self._emit(T_SPACE)

    def _lex_quoted(self, close: str, kind: str, what: str) -> bool:
        """A "..." string or '...' char constant: backslash escapes, no newline, no EOF."""
        t = self.text
        while True:
            if self.pos >= len(t) or t[self.pos] == "\n":
                self._error(f"unterminated {what}")
                return False
            c = t[self.pos]
            self.pos += 1
            if c == "\\":
                if self.pos >= len(t) or t[self.pos] == "\n":
                    self._error(f"unterminated {what}")
                    return False
                self.pos += 1
            elif c == close:
                break
        self._emit(kind)
        return True

    def _lex_raw_quote(self) -> bool:
        end = self.text.find("`", self.pos)
        if end < 0:
            self._error("unterminated raw quoted string")
            return False
        self.pos = end + 1
        self._emit(T_RAWSTRING)
        return True

    def _lex_field_or_variable(self, kind: str) -> bool:
        if self._at_terminator():
            self._emit(T_VARIABLE if kind == T_VARIABLE else "dot")
            return True
        if not self._scan_word():
            return False
        self._emit(kind)
        return True

    def _lex_identifier(self) -> bool:
        if not self._scan_word():
            return False
        word = self.text[self.start : self.pos]
        if word in KEYWORDS:
            self._emit(KEYWORDS[word])
        elif word in ("true", "false"):
            self._emit(T_BOOL)
        else:
            self._emit(T_IDENT)
        return True

    def _scan_word(self) -> bool:
        """Consume alphanumerics; what follows must end the word (else an error token)."""
        t = self.text
        while self.pos < len(t) and _is_alnum(t[self.pos]):
            self.pos += 1
        if not self._at_terminator():
            self._error(f"bad character {_rune_desc(self._peek())}")
            return False
        return True

    def _lex_number(self) -> bool:
        if not self._scan_number():
            self._error(f"bad number syntax: {_q(self.text[self.start : self.pos])}")
            return False
        self._emit(T_NUMBER)
        return True

    def _accept(self, chars: str) -> bool:
        if self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
            return True
        return False

    def _accept_run(self, chars: str) -> None:
        while self._accept(chars):
            pass

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if self.pos < len(self.text) and _is_alnum(self.text[self.pos]):
            self.pos += 1
            return False
        return True


def _q(s: str) -> str:
    from engine.golang.gofmt import go_quote

    return go_quote(s)


def _rune_desc(r: str) -> str:
    """Go's %#U: ``U+0040 '@'``."""
    if not r:
        return "U+FFFFFFFF"
    return f"U+{ord(r):04X} '{r}'"


# ---------------------------------------------------------------------------------------------
# Nodes


@dataclass
class Node:
    pos: int

    def string(self) -> str:
        return ""


@dataclass
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def string(self) -> str:
        return "".join(n.string() for n in self.nodes)


@dataclass
class TextNode(Node):
    text: str = ""

    def string(self) -> str:
        return self.text


@dataclass
class IdentifierNode(Node):
    name: str = ""

    def string(self) -> str:
        return self.name


@dataclass
class VariableNode(Node):
    idents: list[str] = field(default_factory=list)

    def string(self) -> str:
        return ".".join(self.idents)


@dataclass
class DotNode(Node):
    def string(self) -> str:
        return "."


@dataclass
class NilNode(Node):
    def string(self) -> str:
        return "nil"


@dataclass
class FieldNode(Node):
    idents: list[str] = field(default_factory=list)

    def string(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass
class BoolNode(Node):
    value: bool = False

    def string(self) -> str:
        return "true" if self.value else "false"


@dataclass
class NumberNode(Node):
    text: str = ""
    is_int: bool = False
    is_float: bool = False
    int_value: int = 0
    float_value: float = 0.0
    is_char: bool = False

    def string(self) -> str:
        return self.text


@dataclass
class StringNode(Node):
    quoted: str = ""
    text: str = ""

    def string(self) -> str:
        return self.quoted


@dataclass
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def string(self) -> str:
        return " ".join(
            f"({a.string()})" if isinstance(a, PipeNode) else a.string() for a in self.args
        )


@dataclass
class PipeNode(Node):
    line: int = 0
    is_assign: bool = False
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)

    def string(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(v.string() for v in self.decl) + " := "
        return s + " | ".join(c.string() for c in self.cmds)


@dataclass
class ChainNode(Node):
    node: Node = field(default_factory=lambda: Node(0))
    fields: list[str] = field(default_factory=list)

    def string(self) -> str:
        base = self.node.string()
        if isinstance(self.node, PipeNode):
            base = f"({base})"
        return base + "".join("." + f for f in self.fields)


@dataclass
class ActionNode(Node):
    line: int = 0
    pipe: PipeNode = field(default_factory=lambda: PipeNode(0))

    def string(self) -> str:
        return "{{" + self.pipe.string() + "}}"


@dataclass
class BranchNode(Node):
    keyword: str = ""
    line: int = 0
    pipe: PipeNode = field(default_factory=lambda: PipeNode(0))
    list: ListNode = field(default_factory=lambda: ListNode(0))
    else_list: ListNode | None = None

    def string(self) -> str:
        s = "{{" + self.keyword + " " + self.pipe.string() + "}}" + self.list.string()
        if self.else_list is not None:
            s += "{{else}}" + self.else_list.string()
        return s + "{{end}}"


@dataclass
class TemplateNode(Node):
    line: int = 0
    name: str = ""
    pipe: PipeNode | None = None

    def string(self) -> str:
        from engine.golang.gofmt import go_quote

        if self.pipe is None:
            return "{{template " + go_quote(self.name) + "}}"
        return "{{template " + go_quote(self.name) + " " + self.pipe.string() + "}}"


@dataclass
class BreakNode(Node):
    def string(self) -> str:
        return "{{break}}"


@dataclass
class ContinueNode(Node):
    def string(self) -> str:
        return "{{continue}}"


@dataclass
class _EndNode(Node):
    def string(self) -> str:
        return "{{end}}"


@dataclass
class _ElseNode(Node):
    line: int = 0

    def string(self) -> str:
        return "{{else}}"


# ---------------------------------------------------------------------------------------------
# Literals


def unquote(tok: Token) -> str:
    """strconv.Unquote for "..." and `...` string tokens."""
    if tok.kind == T_RAWSTRING:
        return tok.val[1:-1]
    return _unescape(tok.val[1:-1], '"')


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def _unescape(body: str, quote: str) -> str:
    out: list[str] = []
    raw = bytearray()
    i = 0
    n = len(body)

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8", "replace"))
            raw.clear()

    while i < n:
        c = body[i]
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("invalid syntax")
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_ESCAPES and (e != "'" or quote == "'") and (e != '"' or quote == '"'):
            flush()
            out.append(_SIMPLE_ESCAPES[e])
        elif e == "x":
            raw.append(int(_hex(body, i, 2), 16))
            i += 2
        elif e in "uU":
            size = 4 if e == "u" else 8
            flush()
            out.append(chr(int(_hex(body, i, size), 16)))
            i += size
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("invalid syntax")
            value = int(digits, 8)
            if value > 255:
                raise ValueError("invalid syntax")
            raw.append(value)
            i += 2
        else:
            raise ValueError("invalid syntax")
    flush()
    return "".join(out)


def _hex(body: str, i: int, size: int) -> str:
    digits = body[i : i + size]
    if len(digits) != size or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise ValueError("invalid syntax")
    return digits


def parse_int_literal(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), accepting Go's prefixes, octal and underscores."""
    s = text
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    base = 10
    body = s
    low = s.lower()
    if low.startswith("0x"):
        base, body = 16, s[2:]
    elif low.startswith("0o"):
        base, body = 8, s[2:]
    elif low.startswith("0b"):
        base, body = 2, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, body = 8, s[1:]
    if "_" in body:
        if base == 10 and not s.startswith("0"):
            return None  # underscores need a base prefix in Go
        body = body.replace("_", "")
    try:
        value = sign * int(body, base)
    except ValueError:
        return None
    if not -(2**63) <= value < 2**64:
        return None
    return value


def make_number(tok: Token) -> NumberNode:
    """parse.newNumber: the int/float interpretations of a number or char literal."""
    text = tok.val
    node = NumberNode(tok.pos, text=text)
    if tok.kind == T_CHARCONST:
        try:
            ch = _unescape(text[1:-1], "'")
        except ValueError:
            raise ValueError(f"malformed character constant: {text}") from None
        if len(ch) != 1:
            raise ValueError(f"malformed character constant: {text}")
        node.is_char = node.is_int = node.is_float = True
        node.int_value = ord(ch)
        node.float_value = float(ord(ch))
        return node
    if text.endswith("i"):
        raise ValueError(f"complex numbers are not supported: {_q(text)}")
    value = parse_int_literal(text)
    if value is not None and value < 2**63:
        node.is_int = node.is_float = True
        node.int_value = value
        node.float_value = float(value)
        return node
    if value is not None:
        node.is_float = True
        node.float_value = float(value)
        return node
    try:
        f = float(text.replace("_", "")) if "x" not in text.lower() else float.fromhex(text)
    except ValueError:
        raise ValueError(f"illegal number syntax: {_q(text)}") from None
    if not any(c in text for c in ".eEpP"):
        raise ValueError(f"integer overflow: {_q(text)}")
    node.is_float = True
    node.float_value = f
    if f == int(f) and abs(f) < 2**63:
        node.is_int = True
        node.int_value = int(f)
    return node


# ---------------------------------------------------------------------------------------------
# Parser


class ParseError(Exception):
    """Raised inside the parser; converted to TemplateError with Go's prefix."""


@dataclass
class Tree:
    name: str
    root: ListNode


class Parser:
    """Go's parse.Tree for one Parse call: the main tree plus {{define}}/{{block}} trees."""

    def __init__(self, text: str, name: str, funcs: Container[str]) -> None:
        self.text = text
        self.name = name
        self.funcs = funcs
        self.tokens = Lexer(text).run()
        self.idx = 0
        self.seen = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.trees: dict[str, ListNode] = {}

    # -- token stream ------------------------------------------------------------------------
    def next(self) -> Token:
        tok = self.tokens[min(self.idx, len(self.tokens) - 1)]
        self.idx += 1
        self.seen = max(self.seen, self.idx - 1)
        return tok

    def backup(self, n: int = 1) -> None:
        self.idx -= n

    def peek(self) -> Token:
        tok = self.next()
        self.backup()
        return tok

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind == T_SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    def errorf(self, msg: str) -> ParseError:
        line = self.tokens[min(self.seen, len(self.tokens) - 1)].line
        return ParseError(f"template: {self.name}:{line}: {msg}")

    def unexpected(self, tok: Token, context: str) -> ParseError:
        if tok.kind == T_ERROR:
            extra = ""
            if self.action_line and self.action_line != tok.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.errorf(f"{tok}{extra}")
        return self.errorf(f"unexpected {tok} in {context}")

    def expect(self, kind: str, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind != kind:
            raise self.unexpected(tok, context)
        return tok

    # -- top level ---------------------------------------------------------------------------
    def parse(self) -> ListNode:
        """Parse the whole text; definitions are collected into ``self.trees``."""
        root = ListNode(0)
        while self.peek().kind != T_EOF:
            if self.peek().kind == T_LDELIM:
                start = self.idx
                self.next()
                if self.next_non_space().kind == "define":
                    self._parse_definition()
                    continue
                self.idx = start
            node = self.text_or_action()
            if isinstance(node, (_EndNode, _ElseNode)):
                raise self.errorf(f"unexpected {node.string()}")
            if node is not None:
                root.nodes.append(node)
        return root

    def _add_tree(self, name: str, root: ListNode) -> None:
        old = self.trees.get(name)
        if old is None or is_empty_tree(old):
            self.trees[name] = root
            return
        if not is_empty_tree(root):
            raise self.errorf(f"template: multiple definition of template {_q(name)}")

    def _parse_definition(self) -> None:
        context = "define clause"
        name = self._template_name(context)
        self.expect(T_RDELIM, context)
        self._define(name, context)

    def _template_name(self, context: str) -> str:
        """The quoted template name after define/template/block."""
        tok = self.next_non_space()
        if tok.kind not in (T_STRING, T_RAWSTRING):
            raise self.unexpected(tok, context)
        return self._unquote(tok)

    def _define(self, name: str, context: str) -> None:
        """Parse a body up to {{end}}, with only $ in scope, as template ``name``."""
        saved_vars = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved_vars
        if not isinstance(end, _EndNode):
            raise self.errorf(f"unexpected {end.string()} in {context}")
        self._add_tree(name, body)

    def _unquote(self, tok: Token) -> str:
        try:
            return unquote(tok)
        except ValueError as exc:
            raise self.errorf(str(exc)) from None

    def item_list(self) -> tuple[ListNode, Node]:
        """Nodes up to the next {{end}} or {{else}} (returned as the second element)."""
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind != T_EOF:
            node = self.text_or_action()
            if isinstance(node, (_EndNode, _ElseNode)):
                return lst, node
            if node is not None:
                lst.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node | None:
        tok = self.next_non_space()
        if tok.kind == T_TEXT:
            return TextNode(tok.pos, text=tok.val)
        if tok.kind == T_LDELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if tok.kind == T_COMMENT:
            return None
        raise self.unexpected(tok, "input")

    def action(self) -> Node:
        tok = self.next_non_space()
        kind = tok.kind
        if kind == "block":
            return self._block_control(tok)
        if kind == "break":
            return self._break_continue(tok, "break")
        if kind == "continue":
            return self._break_continue(tok, "continue")
        if kind == "else":
            return self._else_control(tok)
        if kind == "end":
            return _EndNode(self.expect(T_RDELIM, "end").pos)
        if kind in ("if", "range", "with"):
            return self._branch(kind, tok)
        if kind == "template":
            return self._template_control(tok)
        self.backup()
        tok = self.peek()
        pipe = self.pipeline("command", T_RDELIM)
        return ActionNode(tok.pos, line=tok.line, pipe=pipe)

    def _break_continue(self, tok: Token, word: str) -> Node:
        nxt = self.next_non_space()
        if nxt.kind != T_RDELIM:
            raise self.unexpected(nxt, f"{{{{{word}}}}}")
        if self.range_depth == 0:
            raise self.errorf(f"{{{{{word}}}}} outside {{{{range}}}}")
        return BreakNode(tok.pos) if word == "break" else ContinueNode(tok.pos)

    def _else_control(self, tok: Token) -> Node:
        peek = self.peek_non_space()
        if peek.kind in ("if", "with"):
            # "{{else if ...}}" / "{{else with ...}}" chain: the keyword starts a nested branch
            return _ElseNode(peek.pos, line=peek.line)
        end = self.expect(T_RDELIM, "else")
        return _ElseNode(end.pos, line=end.line)

    def _branch(self, keyword: str, tok: Token) -> BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(keyword, T_RDELIM)
            if keyword == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if keyword == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, _ElseNode):
                peek = self.peek()
                if keyword in ("if", "with") and peek.kind == keyword:
                    self.next()
                    else_list = ListNode(nxt.pos)
                    else_list.nodes.append(self._branch(keyword, peek))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, _EndNode):
                        raise self.errorf(f"expected end; found {nxt.string()}")
            return BranchNode(
                tok.pos, keyword=keyword, line=tok.line, pipe=pipe, list=body, else_list=else_list
            )
        finally:
            del self.vars[mark:]

    def _template_control(self, tok: Token) -> TemplateNode:
        context = "template clause"
        name = self._template_name(context)
        pipe: PipeNode | None = None
        if self.next_non_space().kind != T_RDELIM:
            self.backup()
            pipe = self.pipeline(context, T_RDELIM)
        return TemplateNode(tok.pos, line=tok.line, name=name, pipe=pipe)

    def _block_control(self, tok: Token) -> TemplateNode:
        context = "block clause"
        name = self._template_name(context)
        pipe = self.pipeline(context, T_RDELIM)
        self._define(name, context)
        return TemplateNode(tok.pos, line=tok.line, name=name, pipe=pipe)

    # -- pipelines ---------------------------------------------------------------------------
    def pipeline(self, context: str, end: str) -> PipeNode:
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos, line=tok.line)
        self._declarations(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                self._check_pipeline(pipe, context)
                return pipe
            if tok.kind in (
                T_BOOL,
                T_CHARCONST,
                "dot",
                T_FIELD,
                T_IDENT,
                T_NUMBER,
                "nil",
                T_RAWSTRING,
                T_STRING,
                T_VARIABLE,
                T_LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.kind != T_VARIABLE:
                return
            start = self.idx
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.kind in (T_ASSIGN, T_DECLARE):
                pipe.is_assign = nxt.kind == T_ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, idents=[v.val]))
                self.vars.append(v.val)
                return
            if nxt.kind == T_CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, idents=[v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in (T_VARIABLE, T_RDELIM, T_RPAREN):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            self.idx = start
            return

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind == T_SPACE:
                continue
            if tok.kind in (T_RDELIM, T_RPAREN):
                self.backup()
            elif tok.kind == T_PIPE:
                pass
            else:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().kind == T_FIELD:
            chain = ChainNode(self.peek().pos, node=node)
            while self.peek().kind == T_FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, idents=node.idents + chain.fields)
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, idents=node.idents + chain.fields)
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                raise self.errorf(f"unexpected . after term {_q(node.string())}")
            return chain
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        kind = tok.kind
        if kind == T_IDENT:
            if tok.val not in self.funcs and tok.val not in BUILTIN_NAMES:
                raise self.errorf(f"function {_q(tok.val)} not defined")
            return IdentifierNode(tok.pos, name=tok.val)
        if kind == "dot":
            return DotNode(tok.pos)
        if kind == "nil":
            return NilNode(tok.pos)
        if kind == T_VARIABLE:
            return self._use_var(tok)
        if kind == T_FIELD:
            return FieldNode(tok.pos, idents=[tok.val[1:]])
        if kind == T_BOOL:
            return BoolNode(tok.pos, value=tok.val == "true")
        if kind in (T_CHARCONST, T_NUMBER):
            try:
                return make_number(tok)
            except ValueError as exc:
                raise self.errorf(str(exc)) from None
        if kind == T_LPAREN:
            return self.pipeline("parenthesized pipeline", T_RPAREN)
        if kind in (T_STRING, T_RAWSTRING):
            return StringNode(tok.pos, quoted=tok.val, text=self._unquote(tok))
        self.backup()
        return None

    def _use_var(self, tok: Token) -> VariableNode:
        idents = tok.val.split(".")
        if idents[0] not in self.vars:
            raise self.errorf(f"undefined variable {_q(idents[0])}")
        return VariableNode(tok.pos, idents=idents)


BUILTIN_NAMES = frozenset(
    {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf"}
    | {"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}
)


def is_empty_tree(node: Node) -> bool:
    """parse.IsEmptyTree: only whitespace text (and comments)."""
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return not node.text.strip(" \t\r\n")
    return False


def parse_text(text: str, name: str, funcs: Container[str]) -> tuple[ListNode, dict[str, ListNode]]:
    """Parse ``text`` as template ``name``: its root and the templates it defines."""
    parser = Parser(text, name, funcs)
    try:
        root = parser.parse()
    except ParseError as exc:
        raise TemplateError(str(exc)) from None
    return root, parser.trees


def field_names(nodes: list[Node]) -> list[str]:
    """Identifiers of field nodes, in order (skaffold's tag.GetTemplateFields walk)."""
    out: list[str] = []
    for node in nodes:
        out.extend(_fields_of(node))
    return out


def _fields_of(node: Node | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, FieldNode):
        return list(node.idents)
    if isinstance(node, (ActionNode,)):
        return _fields_of(node.pipe)
    if isinstance(node, TemplateNode):
        return _fields_of(node.pipe)
    if isinstance(node, CommandNode):
        return field_names(node.args)
    if isinstance(node, ListNode):
        return field_names(node.nodes)
    if isinstance(node, BranchNode):
        out = _fields_of(node.pipe) + _fields_of(node.list)
        return out + _fields_of(node.else_list)
    if isinstance(node, PipeNode):
        return [f for c in node.cmds for f in _fields_of(c)]
    return []
