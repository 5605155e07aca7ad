"""The text query language: ``width >= 640 OR height >= 400``, ``NOT "reviewed" IN tags``,
``object_detection(class_name = "cat" AND width >= 50)``, parsed by a grammar (lark, LALR)
into the DSL's own expressions — the same objects ``ImageSampleField`` builds in Python.

This module is the language's one home: the grammar, the translation to expressions (and to
the equivalent Python source), positioned errors (``QueryTextError``) and what may come next
at a cursor (``expected_at``), from which the api fills in completion candidates.

Syntax (keywords are case-insensitive; strings use "…" or '…')::

    condition  := condition OR condition | condition AND condition | NOT condition
                | "(" condition ")" | field op value | "tag" IN tags
                | field CONTAINS "text" | captions CONTAINS "text"
                | object_detection(…) | segmentation_mask(…) | classification(…)
    field      := width | height | file_name | file_path_abs | created_at | metadata["key"]
                  (video datasets add their fields: fps, duration_s, …)
    op         := = (or ==) | != | < | <= | > | >=

Inside an annotation function the fields are those of one annotation (``AnnotationField``):
class_name, source, confidence, x, y, width, height; a sample matches when one of its
annotations of that kind meets the whole condition.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from lightly_studio.errors import QueryError, QueryTextError
from lightly_studio.query.expressions import AND, NOT, OR, MatchExpression, SqlContext
from lightly_studio.query.fields import AnnotationField, ImageSampleField

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr -> negation
         | atom
?atom: LPAR or_expr RPAR -> group
     | field COMP_OP value -> comparison
     | field CONTAINS STRING -> contains
     | STRING IN NAME -> tag_in
     | FUNCTION LPAR or_expr RPAR -> call
field: NAME
     | METADATA LSQB STRING RSQB -> metadata
value: STRING | NUMBER | TRUE | FALSE

OR.3: /or\b/i
AND.3: /and\b/i
NOT.3: /not\b/i
IN.3: /in\b/i
CONTAINS.3: /contains\b/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
FUNCTION.2: /(object_detection|segmentation_mask|classification)\b/i
METADATA.2: /metadata\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
COMP_OP: "==" | "!=" | "<=" | ">=" | "=" | "<" | ">"
NUMBER: /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/
STRING: /"(\\.|[^"\\])*"/ | /'(\\.|[^'\\])*'/
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"

%ignore /\s+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

#: Functions over annotations → the annotation types they look at.
FUNCTIONS = {
    "object_detection": ["object_detection"],
    "segmentation_mask": ["instance_segmentation", "semantic_segmentation"],
    "classification": ["classification"],
}
#: Fields of one annotation inside a function call, by function.
ANNOTATION_FIELDS = {
    "object_detection": ["class_name", "confidence", "height", "width", "x", "y", "source"],
    "segmentation_mask": ["class_name", "confidence", "height", "width", "x", "y", "source"],
    "classification": ["class_name", "confidence", "source"],
}
_OPS = {"=": "==", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NOT_SAMPLE_FIELDS = {"sample_id", "tags", "metadata", "annotations", "captions"}


def sample_fields(fields: type = ImageSampleField) -> list[str]:
    """The names a condition can compare (``width``, ``file_name`` …) for a field class."""
    names = [
        n
        for n in dir(fields)
        if not n.startswith("_")
        and n not in _NOT_SAMPLE_FIELDS
        and hasattr(getattr(fields, n), "sql_value")
    ]
    return sorted(names)


@dataclass
class ParsedQuery:
    """A text query as a DSL expression and as the equivalent Python source."""

    expression: MatchExpression
    python: str


def parse(
    text: str,
    *,
    fields: Any = ImageSampleField,
    context: SqlContext | None = None,
) -> ParsedQuery:
    """The expression ``text`` describes; ``QueryTextError`` (with line, column and offset)
    when it is not a query. With ``context`` each condition is also compiled, so an unknown
    metadata key or a value of the wrong type is reported at its place in the text."""
    if not isinstance(text, str):
        raise QueryError(f"A text query is a string, got {type(text).__name__}.")
    if not text.strip():
        raise QueryTextError("The query is empty.", text, 0)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as e:
        raise _syntax_error(text, e) from None
    return _Translator(text, fields, context).condition(tree, None)


def _syntax_error(text: str, e: UnexpectedInput) -> QueryTextError:
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        expected = _describe(getattr(e, "expected", None) or getattr(e, "accepts", None) or [])
        return QueryTextError(
            f"The query ends too early: expected {expected}.", text, len(text.rstrip())
        )
    if isinstance(e, UnexpectedToken):
        expected = _describe(e.accepts or e.expected)
        return QueryTextError(
            f"Unexpected {e.token.value!r}: expected {expected}.", text, e.token.start_pos or 0
        )
    if isinstance(e, UnexpectedCharacters):
        at = e.pos_in_stream or 0
        char = text[at] if at < len(text) else ""
        hint = " (strings need a closing quote)" if char in "\"'" else ""
        return QueryTextError(f"Unexpected character {char!r}{hint}.", text, at)
    return QueryTextError(str(e), text, getattr(e, "pos_in_stream", 0) or 0)


_TERMINAL_WORDS = {
    "OR": "OR",
    "AND": "AND",
    "NOT": "NOT",
    "IN": "IN",
    "CONTAINS": "CONTAINS",
    "TRUE": "true",
    "FALSE": "false",
    "FUNCTION": "a function (object_detection, segmentation_mask, classification)",
    "METADATA": 'metadata["key"]',
    "NAME": "a field name",
    "COMP_OP": "a comparison (=, !=, <, <=, >, >=)",
    "NUMBER": "a number",
    "STRING": "a string",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
}


def _describe(terminals) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, t) for t in terminals if t != "$END"})
    return ", ".join(words) if words else "nothing more"


def _unquote(token: Any) -> str:
    body = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _py_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Translator:
    """Walks the parse tree into (expression, Python source), checking names and types."""

    def __init__(self, text: str, fields: Any, context: SqlContext | None) -> None:
        self.text, self.fields, self.context = text, fields, context
        self.fields_name = fields.__name__

    def error(self, message: str, node: Any) -> QueryTextError:
        if isinstance(node, Token):
            offset = node.start_pos or 0
        else:
            offset = node.meta.start_pos if not node.meta.empty else 0
        return QueryTextError(message, self.text, offset)

    def checked(self, parsed: ParsedQuery, node: Any) -> ParsedQuery:
        """Compile a sample-level condition now, so its errors point at its place."""
        if self.context is not None:
            try:
                parsed.expression.to_sql(self.context)
            except QueryTextError:
                raise
            except QueryError as e:
                raise self.error(str(e), node) from None
        return parsed

    def condition(self, node: Any, function: str | None) -> ParsedQuery:
        kind = node.data if isinstance(node, Tree) else None
        if kind in ("or_expr", "and_expr"):
            parts = [self.condition(c, function) for c in node.children if isinstance(c, Tree)]
            op = OR if kind == "or_expr" else AND
            name = "OR" if kind == "or_expr" else "AND"
            return ParsedQuery(
                op(*[p.expression for p in parts]),
                f"{name}({', '.join(p.python for p in parts)})",
            )
        if kind == "negation":
            inner = self.condition(node.children[-1], function)
            return ParsedQuery(NOT(inner.expression), f"NOT({inner.python})")
        if kind == "group":
            return self.condition(node.children[1], function)
        if kind == "comparison":
            return self.comparison(node, function)
        if kind == "contains":
            return self.contains(node, function)
        if kind == "tag_in":
            return self.tag_in(node, function)
        if kind == "call":
            return self.call(node, function)
        raise self.error("Not a condition.", node)  # pragma: no cover (grammar has no others)

    # -- leaves ------------------------------------------------------------------------------
    def field(self, node: Any, function: str | None) -> tuple[Any, str]:
        """The DSL field a ``field`` node names, and its Python source."""
        if node.data == "metadata":
            if function is not None:
                raise self.error(f"metadata is not available inside {function}(…).", node)
            key = _unquote(node.children[2])
            if not key:
                raise self.error("Metadata keys are non-empty strings.", node.children[2])
            return self.fields.metadata[key], f"{self.fields_name}.metadata[{_py_str(key)}]"
        token = node.children[0]
        name = str(token)
        if function is not None:
            allowed = ANNOTATION_FIELDS[function]
            if name not in allowed:
                raise self.error(
                    f"Unknown field {name!r} inside {function}(…); use one of "
                    f"{', '.join(allowed)}.",
                    token,
                )
            return getattr(AnnotationField, name), f"AnnotationField.{name}"
        allowed = sample_fields(self.fields)
        if name not in allowed:
            hint = ""
            if name in ("class_name", "confidence", "source", "x", "y"):
                hint = ' (annotation fields go inside object_detection(…), e.g. object_detection(class_name = "cat"))'
            elif name == "tags":
                hint = ' (tags are matched with "name" IN tags)'
            raise self.error(
                f"Unknown field {name!r}{hint}; use one of {', '.join(allowed)} "
                'or metadata["key"].',
                token,
            )
        return getattr(self.fields, name), f"{self.fields_name}.{name}"

    def value(self, node: Any, field_name: str) -> tuple[Any, str]:
        token = node.children[0]
        if token.type == "STRING":
            text = _unquote(token)
            if field_name == "created_at":
                try:
                    return dt.datetime.fromisoformat(
                        text
                    ), f"datetime.datetime.fromisoformat({_py_str(text)})"
                except ValueError:
                    raise self.error(
                        f'created_at is compared with a date like "2024-01-31" or '
                        f'"2024-01-31T12:00", got {text!r}.',
                        token,
                    ) from None
            return text, _py_str(text)
        if token.type == "NUMBER":
            raw = str(token)
            number: float | int = float(raw) if re.search(r"[.eE]", raw) else int(raw)
            return number, repr(number)
        flag = token.type == "TRUE"
        return flag, repr(flag)

    def comparison(self, node: Any, function: str | None) -> ParsedQuery:
        field_node, op_token, value_node = node.children
        field, field_py = self.field(field_node, function)
        op = _OPS[str(op_token)]
        field_name = getattr(field, "name", "")
        value, value_py = self.value(value_node, field_name)
        try:
            expression = {
                "==": lambda: field == value,
                "!=": lambda: field != value,
                "<": lambda: field < value,
                "<=": lambda: field <= value,
                ">": lambda: field > value,
                ">=": lambda: field >= value,
            }[op]()
        except QueryError as e:
            raise self.error(
                str(e), value_node if "compared with" in str(e) else op_token
            ) from None
        parsed = ParsedQuery(expression, f"{field_py} {op} {value_py}")
        return parsed if function else self.checked(parsed, node)

    def contains(self, node: Any, function: str | None) -> ParsedQuery:
        field_node, _, string = node.children
        text = _unquote(string)
        if field_node.data == "field" and str(field_node.children[0]) == "captions":
            if function is not None:
                raise self.error(f"captions is not available inside {function}(…).", field_node)
            return ParsedQuery(
                self.fields.captions.contains(text),
                f"{self.fields_name}.captions.contains({_py_str(text)})",
            )
        field, field_py = self.field(field_node, function)
        if not hasattr(field, "contains"):
            raise self.error(
                f"CONTAINS works on text fields (file_name, file_path_abs) and captions, "
                f"not on {getattr(field, 'name', 'this field')}.",
                field_node,
            )
        return ParsedQuery(field.contains(text), f"{field_py}.contains({_py_str(text)})")

    def tag_in(self, node: Any, function: str | None) -> ParsedQuery:
        string, _, target = node.children
        if str(target) != "tags":
            raise self.error(f'IN looks in tags: "name" IN tags, not IN {target}.', target)
        if function is not None:
            raise self.error(f"tags are not available inside {function}(…).", node)
        tag = _unquote(string)
        return ParsedQuery(
            self.fields.tags.contains(tag), f"{self.fields_name}.tags.contains({_py_str(tag)})"
        )

    def call(self, node: Any, function: str | None) -> ParsedQuery:
        name_token, _, inner, _ = node.children
        name = str(name_token).lower()
        if function is not None:
            raise self.error(f"{name}(…) cannot be nested inside {function}(…).", name_token)
        condition = self.condition(inner, name)
        types = FUNCTIONS[name]
        type_py = (
            _py_str(types[0]) if len(types) == 1 else "[" + ", ".join(map(_py_str, types)) + "]"
        )
        parsed = ParsedQuery(
            self.fields.annotations.match(
                condition.expression, annotation_type=types if len(types) > 1 else types[0]
            ),
            f"{self.fields_name}.annotations.match({condition.python}, annotation_type={type_py})",
        )
        return self.checked(parsed, node)


# -- completion ----------------------------------------------------------------------------


@dataclass
class Expected:
    """What may be typed at a cursor: the word being typed spans [start, end), ``kinds`` say
    which candidates fit (``fields``, ``annotation_fields:<function>``, ``functions``,
    ``metadata``, ``metadata_keys``, ``tags``, ``tag_names``, ``class_names``,
    ``source_names``, ``operators``, ``keywords:<WORD>``)."""

    start: int
    end: int
    prefix: str
    kinds: list[str]


_WORD_AT_END = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def _word_start(before: str) -> int:
    """Where the word (or the unterminated string) that ends ``before`` starts."""
    quote: str | None = None
    opened = 0
    i = 0
    while i < len(before):
        char = before[i]
        if quote is not None:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote, opened = char, i
        i += 1
    if quote is not None:
        return opened
    match = _WORD_AT_END.search(before)
    return match.start() if match else len(before)


def expected_at(text: str, offset: int) -> Expected:
    """What may come at ``offset`` in ``text`` (a partial word before it is replaced)."""
    offset = max(0, min(offset, len(text)))
    before = text[:offset]
    start = _word_start(before)
    prefix = before[start:]
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    head = text[:start]
    try:
        interactive = _PARSER.parse_interactive(head)
        tokens = list(interactive.iter_parse())
        accepts = interactive.accepts()
    except UnexpectedInput:
        return Expected(start, end, prefix, [])
    return Expected(start, end, prefix, _kinds(tokens, set(accepts)))


def _kinds(tokens: list, accepts: set[str]) -> list[str]:
    """Candidate kinds after ``tokens``, given the terminals the parser ``accepts`` next."""
    kinds: list[str] = []
    function = _open_function(tokens)
    last = [t for t in tokens if isinstance(t, Token) and t.type != "$END"]
    prev = last[-1].type if last else None
    prev2 = str(last[-2]) if len(last) > 1 else None
    if "NAME" in accepts:
        kinds.append(
            "tags" if prev == "IN" else f"annotation_fields:{function}" if function else "fields"
        )
    if not function:
        kinds += [
            k for t, k in (("FUNCTION", "functions"), ("METADATA", "metadata")) if t in accepts
        ]
    if "STRING" in accepts:
        kinds += _string_kinds(prev, prev2, function, "NAME" in accepts)
    if "COMP_OP" in accepts:
        kinds.append("operators")
    # true/false only where a metadata value may stand (metadata["flag"] = true).
    booleans = prev2 == "]"
    for word in ("NOT", "AND", "OR", "IN", "CONTAINS", "TRUE", "FALSE"):
        if word in accepts and (word not in ("TRUE", "FALSE") or booleans):
            kinds.append(f"keywords:{_TERMINAL_WORDS[word]}")
    return kinds


def _string_kinds(prev: str | None, prev2: str | None, function: str | None, name_ok: bool):
    """Which names a string at the cursor may be: a metadata key, a class or source name after
    ``class_name =`` / ``source =``, or a tag name where a condition starts."""
    if prev == "LSQB":
        return ["metadata_keys"]
    if prev == "COMP_OP":
        return {"class_name": ["class_names"], "source": ["source_names"]}.get(prev2 or "", [])
    return ["tag_names"] if name_ok and not function else []


def _open_function(tokens: list) -> str | None:
    """The annotation function whose parentheses the cursor is inside, if any."""
    stack: list[str | None] = []
    pending: str | None = None
    for token in tokens:
        if not isinstance(token, Token):
            continue
        if token.type == "FUNCTION":
            pending = str(token).lower()
            continue
        if token.type == "LPAR":
            stack.append(pending)
        elif token.type == "RPAR" and stack:
            stack.pop()
        pending = None
    return next((f for f in reversed(stack) if f), None)
