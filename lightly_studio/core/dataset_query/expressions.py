"""Match expressions of the query DSL and their compilation to parametrised DuckDB SQL.

Every user value becomes a numbered parameter ($n); no value is ever pasted into SQL text.
Expressions compile against table alias ``s`` (table `sample`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import numbers
from typing import Any

from lightly_studio.errors import QueryError


class SqlContext:
    """Collects the parameters of one SQL statement while expressions compile."""

    def __init__(self, dataset_id, params: list | None = None) -> None:
        self.dataset_id = str(dataset_id)
        self.params: list = list(params or [])
        #: Frames the SQL reads by name (id sets, similarity scores): registered on the
        #: connection before it runs. A 468k-id list bound as a parameter costs ~0.4 s.
        self.frames: dict[str, Any] = {}
        self._metadata_keys: dict | None = None

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def tag_number(self, name: str) -> int | None:
        """The tag's number in sample.tag_numbers, None when the dataset has no such tag.

        Looked up each time the query compiles (that is, each time it runs), so a query
        built before its tag existed still sees it; a constant scans faster than a subquery.
        """
        from lightly_studio.db import get_connection

        row = get_connection().execute(
            "SELECT tag_number FROM tag WHERE dataset_id = $1 AND kind = 'sample' AND name = $2",
            [self.dataset_id, name]).fetchone()
        return row[0] if row else None

    def metadata_key(self, key: str):
        """The dataset's MetadataKey (value type, sample column) of ``key``."""
        if self._metadata_keys is None:
            from lightly_studio.core.metadata import metadata_columns
            from lightly_studio.db import get_connection

            self._metadata_keys = metadata_columns(get_connection(), self.dataset_id)
        if key not in self._metadata_keys:
            known = ", ".join(sorted(self._metadata_keys)) or "none"
            raise QueryError(f"Unknown metadata key {key!r} (keys in this dataset: {known}).")
        return self._metadata_keys[key]


class MatchExpression:
    """A boolean condition on samples. Combine with AND/OR/NOT or with & | ~."""

    def to_sql(self, ctx: SqlContext) -> str:
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

    def to_sql(self, ctx: SqlContext) -> str:
        return "(" + " AND ".join(t.to_sql(ctx) for t in self.terms) + ")"


class OR(MatchExpression):
    """At least one of the given expressions holds."""

    def __init__(self, *terms: MatchExpression) -> None:
        if not terms:
            raise QueryError("OR needs at least one expression.")
        self.terms = [_check_expr(t, "OR") for t in terms]

    def to_sql(self, ctx: SqlContext) -> str:
        return "(" + " OR ".join(t.to_sql(ctx) for t in self.terms) + ")"


class NOT(MatchExpression):
    """The expression does not hold."""

    def __init__(self, term: MatchExpression) -> None:
        self.term = _check_expr(term, "NOT")

    def to_sql(self, ctx: SqlContext) -> str:
        # coalesce: a comparison with a missing (NULL) value is false, so its negation is true.
        return f"(NOT coalesce({self.term.to_sql(ctx)}, false))"


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

    def to_sql(self, ctx: SqlContext) -> str:
        ctx.frames[self.name] = self.frame
        value = self.frame.columns[0]
        return f"s.{self.column} IN (SELECT CAST({value} AS {self.cast}) FROM {self.name})"


class RawCondition(MatchExpression):
    """A condition given as a SQL template with {p0}, {p1}… slots for its values."""

    def __init__(self, template: str, *values: Any) -> None:
        self.template = template
        self.values = values

    def to_sql(self, ctx: SqlContext) -> str:
        slots = {f"p{i}": ctx.param(v) for i, v in enumerate(self.values)}
        if "{dataset}" in self.template:
            slots["dataset"] = ctx.param(ctx.dataset_id)
        return self.template.format(**slots)


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
        expected = {"int": "a number", "float": "a number", "str": "a string",
                    "datetime": "a datetime", "bool": "True or False"}.get(kind, kind)
        raise QueryError(f"{field_name} is compared with {expected}, got {type(value).__name__} "
                         f"{value!r}.")
    if kind in ("int", "float"):
        return float(value) if isinstance(value, float) else value
    return value


class Comparison(MatchExpression):
    def __init__(self, sql_value: str | None, op: str, value: Any, *, field=None) -> None:
        self.sql_value = sql_value
        self.op = op
        self.value = value
        self.field = field

    def to_sql(self, ctx: SqlContext) -> str:
        lhs = self.field.sql_value(ctx) if self.field is not None else self.sql_value
        return f"({lhs} {_OPS[self.op]} {ctx.param(self.value)})"
