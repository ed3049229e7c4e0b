"""The subset of Go's text/template that the platform ApplicationSets use, evaluated as Argo CD does with
`goTemplate: true` and `goTemplateOptions: ["missingkey=error"]`.

Supported inside `{{ }}`: a field path (`.a.b`), a string literal, a non-negative integer literal, a
parenthesized call, and the calls `index MAP KEY` or `index LIST N` (the git generator's `.path.segments`),
`default FALLBACK VALUE` (Sprig) and `printf FORMAT ARGS...` with `%s` verbs only. Anything else (pipes,
`if`/`range`/`with`, variables, trim markers, other functions) raises `TemplateError`, so a template this renderer
cannot read fails the plan instead of producing a wrong picture.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["TemplateError", "render_string", "render_tree"]

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>\d+\b)|(?P<field>(?:\.[A-Za-z_]\w*)+)|(?P<ident>[A-Za-z_]\w*)|(?P<other>\S+))'
)


class TemplateError(ValueError):
    """The template uses a construct this renderer does not support, or names a missing key."""


def _tokens(action: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(action):
        kind = match.lastgroup or "other"
        text = match.group(kind)
        if kind == "other":
            raise TemplateError(f"unsupported template construct {text!r} in {{{{{action}}}}}")
        found.append((kind, text))
    return found


def _field(path: str, params: Mapping[str, Any]) -> Any:
    value: Any = params
    for key in path.strip(".").split("."):
        if not isinstance(value, Mapping) or key not in value:
            # missingkey=error: Argo CD refuses to generate the Application.
            raise TemplateError(f"map has no entry for key {key!r} (in {path})")
        value = value[key]
    return value


def _index(container: Any, key: Any) -> Any:
    if isinstance(container, list) and isinstance(key, int):
        if key >= len(container):
            raise TemplateError(f"index out of range: {key} of {container!r}")  # Go fails the same way
        return container[key]
    if not isinstance(container, Mapping) or isinstance(key, int):
        raise TemplateError(f"index of {container!r} by {key!r}: only a map by key or a list by number")
    return container.get(key)  # Go's index yields the zero value for a missing map key


def _default(fallback: Any, value: Any) -> Any:
    return value if value not in (None, "", False, 0, [], {}) else fallback


def _printf(fmt: Any, *args: Any) -> str:
    if not isinstance(fmt, str) or re.search(r"%[^s]", fmt.replace("%%", "")):
        raise TemplateError(f"printf supports only %s verbs, got {fmt!r}")
    if fmt.replace("%%", "").count("%s") != len(args):
        raise TemplateError(f"printf {fmt!r} takes {fmt.count('%s')} arguments, got {len(args)}")
    return fmt % tuple(_text(a) for a in args)


_FUNCTIONS: dict[str, Callable[..., Any]] = {"index": _index, "default": _default, "printf": _printf}
_ARITY: dict[str, int] = {"index": 2, "default": 2}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], params: Mapping[str, Any], action: str) -> None:
        self.tokens, self.params, self.action, self.pos = tokens, params, action, 0

    def fail(self, why: str) -> TemplateError:
        return TemplateError(f"{why} in {{{{{self.action}}}}}")

    def command(self, closing: str | None) -> Any:
        """A term, or a function applied to terms, up to `closing` (`)`) or the end of the action."""
        if self.pos >= len(self.tokens):
            raise self.fail("empty action")
        kind, text = self.tokens[self.pos]
        if kind == "ident":
            if text not in _FUNCTIONS:
                raise self.fail(f"unsupported function or keyword {text!r}")
            self.pos += 1
            args = []
            while self.pos < len(self.tokens) and self.tokens[self.pos][0] != "close":
                args.append(self.term())
            arity = _ARITY.get(text)
            if (arity is not None and len(args) != arity) or not args:
                raise self.fail(f"{text} takes {arity or 'at least 1'} arguments, got {len(args)}")
            value = _FUNCTIONS[text](*args)
        else:
            value = self.term()
        at_end = self.pos >= len(self.tokens)
        if closing is None and not at_end:
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        if closing is not None:
            if at_end or self.tokens[self.pos][0] != "close":
                raise self.fail("missing ')'")
            self.pos += 1
        return value

    def term(self) -> Any:
        kind, text = self.tokens[self.pos]
        if kind == "open":
            self.pos += 1
            return self.command(")")
        self.pos += 1
        if kind == "field":
            return _field(text, self.params)
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "number":
            return int(text)
        raise self.fail(f"unexpected {text!r}")


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TemplateError(f"refusing to print {value!r}: only strings are rendered")
    return str(value)


def render_string(template: str, params: Mapping[str, Any]) -> str:
    """Render one string; text outside `{{ }}` is kept."""
    if "{{" not in template:
        return template

    def action(match: re.Match[str]) -> str:
        body = match.group(1)
        if body.startswith("-") or body.endswith("-") or body.strip().startswith(("/*", "$")):
            raise TemplateError(f"unsupported template construct in {{{{{body}}}}}")
        return _text(_Parser(_tokens(body), params, body).command(None))

    rendered = _ACTION.sub(action, template)
    if "{{" in rendered or "}}" in rendered:
        raise TemplateError(f"unbalanced braces in {template!r}")
    return rendered


def render_tree(node: Any, params: Mapping[str, Any]) -> Any:
    """Render every string of a JSON-like tree, map keys included (Argo CD templates keys too)."""
    if isinstance(node, Mapping):
        return {render_string(k, params): render_tree(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [render_tree(v, params) for v in node]
    if isinstance(node, str):
        return render_string(node, params)
    return node
