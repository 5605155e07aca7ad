"""Match expressions of the query DSL and their compilation to parametrised DuckDB SQL.

Every user value becomes a named parameter of a ``db.Fragment``; no value is ever pasted into
SQL text. Expressions compile against table alias ``s`` (table `sample`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import numbers
from typing import Any, Protocol

from lightly_studio.db import Fragment, param, sql
from lightly_studio.errors import QueryError


class Catalog(Protocol):
    """What compiling needs to know about a dataset beyond its id (the façade provides it)."""

    def tag_number(self, name: str) -> int | None: ...

    def metadata_keys(self) -> dict: ...


class SqlContext:
    """What expressions compile against: the dataset and its catalog (tags, metadata keys)."""

    def __init__(
        self, dataset_id, catalog: Catalog | None = None, *, checking: bool = False
    ) -> None:
        self.dataset_id = str(dataset_id)
        self.catalog = catalog
        #: Compiling only to check the expression (``match``): tag numbers are not looked up
        #: (no tag name can fail), metadata keys are (an unknown key fails at once).
        self.checking = checking
        self._metadata_keys: dict | None = None

    def _catalog(self) -> Catalog:
        if self.catalog is None:
            raise QueryError(
                "This expression needs the dataset's tags or metadata keys: "
                "compile it through a dataset's query."
            )
        return self.catalog

    def tag_number(self, name: str) -> int | None:
        """The tag's number in sample.tag_numbers, None when the dataset has no such tag.

        Looked up each time the query compiles (that is, each time it runs), so a query
        built before its tag existed still sees it; a constant scans faster than a subquery.
        """
        if self.checking:
            return 0
        return self._catalog().tag_number(name)

    def metadata_key(self, key: str):
        """The dataset's MetadataKey (value type, sample column) of ``key``."""
        if self._metadata_keys is None:
            self._metadata_keys = self._catalog().metadata_keys()
        if key not in self._metadata_keys:
            known = ", ".join(sorted(self._metadata_keys)) or "none"
            raise QueryError(f"Unknown metadata key {key!r} (keys in this dataset: {known}).")
        return self._metadata_keys[key]


class MatchExpression:
    """A boolean condition on samples. Combine with AND/OR/NOT or with & | ~."""

    def to_sql(self, ctx: SqlContext) -> Fragment:
        raise NotImplementedError

    def __and__(self, other: MatchExpression) -> MatchExpression:
        return AND(self, other)

    def __or__(self, other: MatchExpression) -> MatchExpression:
        return OR(self, other)

    def __invert__(self) -> MatchExpression:
        return NOT(self)

    def __bool__(self) -> bool:
        raise QueryError(
            "A query expression has no truth value: use AND(...)/OR(...)/NOT(...) "
            "(or & | ~) instead of `and`/`or`/`not`, and no chained comparisons like a < x < b."
        )


def _check_expr(expr: Any, where: str) -> MatchExpression:
    if not isinstance(expr, MatchExpression):
        raise QueryError(f"{where} expects query expressions, got {type(expr).__name__}: {expr!r}.")
    return expr


class AND(MatchExpression):
    """All of the given expressions hold."""

    def __init__(self, *terms: MatchExpression) -> None:
        if not terms:
            raise QueryError("AND needs at least one expression.")
        self.terms = [_check_expr(t, "AND") for t in terms]

    def to_sql(self, ctx: SqlContext) -> Fragment:
        return Fragment.join(" AND ", (t.to_sql(ctx) for t in self.terms)).wrap("(", ")")


class OR(MatchExpression):
    """At least one of the given expressions holds."""

    def __init__(self, *terms: MatchExpression) -> None:
        if not terms:
            raise QueryError("OR needs at least one expression.")
        self.terms = [_check_expr(t, "OR") for t in terms]

    def to_sql(self, ctx: SqlContext) -> Fragment:
        return Fragment.join(" OR ", (t.to_sql(ctx) for t in self.terms)).wrap("(", ")")


class NOT(MatchExpression):
    """The expression does not hold."""

    def __init__(self, term: MatchExpression) -> None:
        self.term = _check_expr(term, "NOT")

    def to_sql(self, ctx: SqlContext) -> Fragment:
        # coalesce: a comparison with a missing (NULL) value is false, so its negation is true.
        return self.term.to_sql(ctx).wrap("(NOT coalesce(", ", false))")


class FrameCondition(MatchExpression):
    """``s.<column> IN`` the values of a polars frame, read through DuckDB's Arrow scan."""

    _names = itertools.count()

    def __init__(self, column: str, frame: Any, cast: str) -> None:
        self.column, self.frame, self.cast = column, frame, cast
        self.name = f"_values_{next(FrameCondition._names)}"

    @property
    def values(self) -> Any:
        """The values, as a polars Series."""
        return self.frame.to_series()

    def to_sql(self, ctx: SqlContext) -> Fragment:
        value = self.frame.columns[0]
        return Fragment(
            f"s.{self.column} IN (SELECT CAST({value} AS {self.cast}) FROM {self.name})",
            frames={self.name: self.frame},
        )


class RawCondition(MatchExpression):
    """A condition given as a SQL template with named slots ``$p0, $p1…`` for its values
    (and ``$dataset`` for the dataset's id)."""

    def __init__(self, template: str, *values: Any) -> None:
        self.template = template
        self.values = values

    def to_sql(self, ctx: SqlContext) -> Fragment:
        slots = {f"p{i}": v for i, v in enumerate(self.values)}
        if "$dataset" in self.template:
            slots["dataset"] = ctx.dataset_id
        return sql(self.template, **slots)


# -- values --------------------------------------------------------------------------------

_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}


def check_value(value: Any, kind: str, field_name: str) -> Any:
    """Reject values whose type cannot be compared with a field of ``kind``."""
    ok = {
        "int": isinstance(value, numbers.Real) and not isinstance(value, bool),
        "float": isinstance(value, numbers.Real) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "datetime": isinstance(value, dt.datetime),
        "bool": isinstance(value, bool),
    }.get(kind, False)
    if not ok:
        expected = {
            "int": "a number",
            "float": "a number",
            "str": "a string",
            "datetime": "a datetime",
            "bool": "True or False",
        }.get(kind, kind)
        raise QueryError(
            f"{field_name} is compared with {expected}, got {type(value).__name__} {value!r}."
        )
    if kind in ("int", "float"):
        return float(value) if isinstance(value, float) else value
    return value


class Comparison(MatchExpression):
    def __init__(self, sql_value: str | None, op: str, value: Any, *, field=None) -> None:
        self.sql_value = sql_value
        self.op = op
        self.value = value
        self.field = field

    def to_sql(self, ctx: SqlContext) -> Fragment:
        if self.field is not None:
            lhs = self.field.sql_value(ctx)
        else:
            assert self.sql_value is not None  # one of the two is always given
            lhs = Fragment(self.sql_value)
        return "(" + lhs + f" {_OPS[self.op]} " + param(self.value) + ")"
