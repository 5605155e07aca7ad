"""SampleQuery: a lazy match / order_by / slice over a dataset's samples, compiled to one SQL.

This is the DSL's bottom half: it builds the query and compiles it into ``db.Fragment`` s run
through ``db.query_frame``. What needs the layers above (Sample objects, tags, metadata keys,
similarity search, selection, export, widgets) is the façade's: ``core.dataset_query.DatasetQuery``
subclasses this class and provides ``tag_number``, ``metadata_keys`` and ``samples_of``.
"""

from __future__ import annotations

import builtins
import itertools
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from lightly_studio.db import (
    Fragment,
    get_connection,
    param,
    query_frame,
    register_frames,
    snapshot,
    sql,
)
from lightly_studio.errors import QueryError
from lightly_studio.query.expressions import AND, MatchExpression, SqlContext
from lightly_studio.query.fields import (
    FrameSampleField,
    GroupSampleField,
    ImageSampleField,
    OrderByField,
    VideoSampleField,
)
from lightly_studio.query.text import ParsedQuery, parse

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

_PAGE = 10_000
# From this many rows (offset + limit) a default-order page finds its bounds by selection
# rather than ORDER BY … LIMIT (see SampleQuery._page_bounds).
_SELECT_FROM = 10_000
_rank_names = itertools.count()


FIELDS_OF_KIND = {
    "image": ImageSampleField,
    "video": VideoSampleField,
    "frame": FrameSampleField,
    "group": GroupSampleField,
}


def parse_text(text: str, kind: str, context: SqlContext | None = None) -> ParsedQuery:
    """A text query over samples of ``kind`` as an expression (and its Python source)."""
    return parse(text, fields=FIELDS_OF_KIND.get(kind, ImageSampleField), context=context)


class DatasetRef(Protocol):
    """What the layers below core read of a dataset (the façade's Dataset is one)."""

    @property
    def dataset_id(self) -> uuid.UUID: ...

    @property
    def name(self) -> str: ...


class SampleQuery:
    """Samples of a dataset that match an expression, in an order, optionally sliced.

    Nothing runs until the query is consumed (iteration, ``to_list``, ``count``, ``add_tag``…).
    ``match`` ANDs with earlier matches; ``order_by`` and ``slice`` replace earlier ones. They
    change the query in place and return it, so both statement and chained styles work.

    ``dataset`` is any object with ``dataset_id``, ``sample_kind`` and ``name`` (the façade's
    Dataset); the query reads nothing else of it.
    """

    #: The stored columns of table ``sample`` that make a whole row (set by the façade).
    sample_columns: tuple[str, ...] = ()

    def __init__(
        self, dataset: Any, *, kind: str | None = None, parent_sample_id: uuid.UUID | None = None
    ) -> None:
        self.dataset = dataset
        self.kind = kind or dataset.sample_kind
        self.parent_sample_id = parent_sample_id
        self._match: MatchExpression | None = None
        self._order: list[OrderByField] = []
        self._offset = 0
        self._limit: int | None = None
        self._rank: pl.DataFrame | None = None
        self._rank_name: str | None = None

    # -- what the façade provides ------------------------------------------------------------
    def tag_number(self, name: str) -> int | None:
        """The number of the dataset's sample tag ``name`` (None: no such tag)."""
        raise NotImplementedError

    def metadata_keys(self) -> dict:
        """The dataset's metadata keys: name → MetadataKey (value_type, column)."""
        raise NotImplementedError

    def samples_of(self, frame: pl.DataFrame) -> list:
        """Sample objects of the rows of ``frame`` (whole rows, in order)."""
        raise NotImplementedError

    def _context(self, *, checking: bool = False) -> SqlContext:
        return SqlContext(self.dataset.dataset_id, self, checking=checking)

    @property
    def offset(self) -> int:
        """The slice's offset (0 when not sliced)."""
        return self._offset

    @property
    def limit(self) -> int | None:
        """The slice's limit (None: to the end)."""
        return self._limit

    # -- building ---------------------------------------------------------------------------
    def match(self, expression: MatchExpression) -> Self:
        """Keep only samples for which ``expression`` holds (ANDed with earlier matches)."""
        if not isinstance(expression, MatchExpression):
            raise QueryError(f"match() expects a query expression, got {expression!r}.")
        combined = expression if self._match is None else AND(self._match, expression)
        combined.to_sql(self._context(checking=True))  # fail now, not at consumption
        self._match = combined
        return self

    def match_text(self, text: str) -> Self:
        """``match`` with a text query: ``query.match_text('width >= 640 OR "cat" IN tags')``
        is ``query.match(OR(ImageSampleField.width >= 640, ImageSampleField.tags.contains("cat")))``.
        A text that is not a query raises ``QueryTextError`` with the line and column of the
        problem. The language is described in ``lightly_studio.query.text``."""
        return self.match(parse_text(text, self.kind, self._context(checking=True)).expression)

    def order_by(self, *orders: OrderByField) -> Self:
        """Sort by the given keys (first key first). Replaces an earlier order."""
        self.check_order(*orders)
        self._order = list(orders)
        return self

    def check_order(self, *orders: OrderByField) -> None:
        """Raise the ``QueryError`` that ``order_by(*orders)`` would (not a sort key, a
        metadata key this dataset lacks…), without ordering: for a caller that needs only
        the set yet must refuse what the ordered query refuses."""
        for order in orders:
            if not isinstance(order, OrderByField):
                raise QueryError(f"order_by() expects OrderByField(...), got {order!r}.")
            order.to_sql(self._context(checking=True))

    def slice(self, offset: int = 0, limit: int | None = None) -> Self:
        """Skip ``offset`` samples and keep at most ``limit``. Replaces an earlier slice."""
        for name, value in (("offset", offset), ("limit", limit)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise QueryError(f"slice {name} must be a non-negative integer, got {value!r}.")
        self._offset, self._limit = offset or 0, limit
        return self

    def __getitem__(self, key: builtins.slice | int) -> Any:  # not the method slice()
        if isinstance(key, int) and not isinstance(key, bool):
            if key < 0:
                raise QueryError("Negative indices are not supported; use a non-negative index.")
            found = self._fetch(offset=self._offset + key, limit=1)
            if not found or (self._limit is not None and key >= self._limit):
                raise IndexError(f"query index {key} out of range")
            return found[0]
        if not isinstance(key, slice):
            raise QueryError(f"Queries are indexed with a slice like query[10:20], got {key!r}.")
        if key.step not in (None, 1):
            raise QueryError("Query slices cannot have a step.")
        start, stop = key.start or 0, key.stop
        if start < 0 or (stop is not None and stop < 0):
            raise QueryError("Query slices cannot have negative bounds.")
        limit = None if stop is None else max(stop - start, 0)
        return self.slice(start, limit)

    def copy(self) -> Self:
        other = type(self)(self.dataset, kind=self.kind, parent_sample_id=self.parent_sample_id)
        if self._rank is not None:
            other.rank_by(self._rank, None)  # before the order: rank_by clears it
        other._match, other._order = self._match, list(self._order)
        other._offset, other._limit = self._offset, self._limit
        return other

    # -- similarity ranking -------------------------------------------------------------------
    def rank_by(self, frame: pl.DataFrame, k: int | None) -> Self:
        """Order by ``frame``'s ``similarity`` (desc) per ``sample_id``; samples without a
        score are dropped; ``k`` keeps the k best."""
        self._rank = frame.select(
            pl.col("sample_id").cast(pl.Utf8), pl.col("similarity").cast(pl.Float64)
        )
        self._rank_name = f"_rank_{next(_rank_names)}"
        self._order = []
        self._offset, self._limit = 0, k
        return self

    def _con(self):
        return get_connection()

    # -- SQL ------------------------------------------------------------------------------------
    def _window(self, offset: int | None, limit: int | None) -> tuple[int, int | None]:
        """The rows [offset, offset + limit) of the result a read asks for (None: this query's
        own slice), kept within that slice; limit None: to the end."""
        offset = self._offset if offset is None else offset
        limit = self._limit if limit is None else limit
        if self._limit is not None and limit is not None:
            limit = min(limit, self._offset + self._limit - offset)
        return offset, None if limit is None else max(limit, 0)

    def _default_order(self) -> bool:
        """Ordered by insertion alone (``sample_idx``, unique: ingest assigns it under the
        one writer lock), so a page is exactly the matches in a range of ``sample_idx``."""
        return not self._order and self._rank is None

    def _join_where(self, ctx: SqlContext) -> tuple[Fragment, Fragment]:
        """The JOIN (similarity ranking, as ``r``) and the WHERE condition of the matches."""
        where = [
            sql(
                "s.dataset_id = $dataset AND s.kind = $kind", dataset=ctx.dataset_id, kind=self.kind
            )
        ]
        if self.parent_sample_id is not None:
            where.append(sql("s.parent_sample_id = $parent", parent=str(self.parent_sample_id)))
        if self._match is not None:
            where.append(self._match.to_sql(ctx))
        join = Fragment()
        if self._rank is not None:
            assert self._rank_name is not None  # set together with _rank
            join = Fragment(
                f" JOIN (SELECT CAST(sample_id AS UUID) AS sample_id, similarity "
                f"FROM {self._rank_name}) r ON r.sample_id = s.sample_id",
                frames={self._rank_name: self._rank},
            )
        return join, Fragment.join(" AND ", where)

    def _sql(
        self,
        columns: str | None = None,
        *,
        offset: int | None = None,
        limit: int | None = None,
        ordered: bool = True,
        stored: tuple[str, ...] | None = None,
        extra: str = "",
        order_keys: bool = False,
        bounds: tuple[int, int] | None = None,
        ctx: SqlContext | None = None,
    ) -> Fragment:
        """The query as one SELECT.

        ``columns`` None: the ``stored`` columns of each sample (default: ``sample_columns``;
        plus ``similarity`` when ranked, plus ``extra``); a page of them is read late (rows
        picked first, then read).
        ``order_keys``: the sort keys come out as columns ``_order_0``… and the rows are not
        sorted by the SQL; the caller sorts (``_descending`` says how).
        ``bounds``: the first and last ``sample_idx`` of a default-order page, when known.
        ``ctx``: the context to compile in (one per run of the query: tags and metadata keys
        are looked up once).
        """
        ctx = ctx or self._context()
        join, where = self._join_where(ctx)
        whole_rows = columns is None
        if whole_rows:
            columns = ", ".join(f"s.{c}" for c in stored or self.sample_columns) + extra
            if self._rank is not None:
                columns += ", r.similarity"
        # An order_by after rank_by re-sorts the ranked matches: its keys first, the
        # similarity breaking ties (rank_by alone: by similarity). _descending() agrees.
        values = (
            [o.field.sql_value(ctx) for o in self._order]
            + ([] if self._rank is None else [Fragment("r.similarity")])
            + [Fragment("s.sample_idx")]
        )
        keys = list(zip(values, self._descending(), strict=True))
        order_by = Fragment.join(
            ", ", (v + f" {'DESC' if d else 'ASC'} NULLS LAST" for v, d in keys)
        )
        select = Fragment(f"SELECT {columns}")
        if order_keys:
            select = select + Fragment.join(
                "", (", " + v + f" AS _order_{i}" for i, (v, _) in enumerate(keys))
            )
        offset, limit = self._window(offset, limit)

        page = " ORDER BY " + order_by if ordered else Fragment()
        if limit is not None:
            page = page + " LIMIT " + param(limit)
        if offset:
            page = page + " OFFSET " + param(offset)

        matches = "FROM sample s" + join + " WHERE " + where
        late = ordered and limit is not None and whole_rows
        if late and self._default_order():
            # A range of sample_idx instead of a semi-join on rowid, bounded by the page's
            # first and last sample_idx.
            if bounds is not None:
                query = (
                    select
                    + " "
                    + matches
                    + " AND s.sample_idx BETWEEN "
                    + sql("$lo AND $hi", lo=bounds[0], hi=bounds[1])
                )
            else:
                first_last = (
                    "(SELECT min(sample_idx) AS lo, max(sample_idx) AS hi "
                    "FROM (SELECT s.sample_idx " + matches + page + ")) b"
                )
                query = (
                    select
                    + " FROM sample s, "
                    + first_last
                    + " WHERE "
                    + where
                    + " AND s.sample_idx BETWEEN b.lo AND b.hi"
                )
            if not order_keys:
                query = query + " ORDER BY " + order_by
        elif late:
            # Late materialisation: pick the page's rows by the filter and order columns
            # alone, then read whole rows for just those.
            query = (
                select
                + " FROM sample s"
                + join
                + " WHERE s.rowid IN (SELECT s.rowid "
                + matches
                + page
                + ")"
            )
            if not order_keys:
                query = query + " ORDER BY " + order_by
        elif order_keys and not offset:  # all the matches: the caller sorts them
            query = select + " " + matches
        else:
            query = select + " " + matches + page
        return query

    def _page_bounds(self, con, offset: int, limit: int, ctx: SqlContext) -> tuple[int, int]:
        """First and last sample_idx of a default-order page, by linear-time selection over
        the sample_idx of every match (numpy): ``ORDER BY … LIMIT`` keeps a heap of
        offset + limit rows instead, which is slower for large pages and offsets."""
        _, where = self._join_where(ctx)  # the default order: no ranking to join
        ordinals = (
            query_frame("SELECT s.sample_idx FROM sample s WHERE " + where, con=con)
            .to_series()
            .to_numpy()
        )
        last = min(offset + limit, len(ordinals)) - 1
        if offset > last:
            return 0, -1  # past the end: an empty range
        ranks = sorted({offset, last})
        picked = np.partition(ordinals, ranks)
        return int(picked[offset]), int(picked[last])

    def _read(
        self, *, offset: int | None = None, limit: int | None = None, **options: Any
    ) -> pl.DataFrame:
        """Whole rows of a page of the query (or of all of it) as a frame; see ``_sql``."""
        con = self._con()
        offset, limit = self._window(offset, limit)
        if limit is not None and self._default_order() and offset + limit >= _SELECT_FROM:
            with snapshot():  # the bounds and the rows from the same state of the data
                ctx = self._context()
                bounds = self._page_bounds(con, offset, limit, ctx)
                return query_frame(
                    self._sql(offset=offset, limit=limit, bounds=bounds, ctx=ctx, **options),
                    con=con,
                )
        return query_frame(self._sql(offset=offset, limit=limit, **options), con=con)

    def _descending(self) -> list[bool]:
        """Whether each sort key sorts descending: the ``order_by`` keys, the similarity
        (after ``sort_by_similarity``), then ``sample_idx``, which breaks ties
        (and is the default order) by insertion: ingest inserts in path order, and an integer
        sort is far cheaper than a string one at a million rows."""
        return (
            [o.descending for o in self._order] + ([] if self._rank is None else [True]) + [False]
        )

    def sample_ids_fragment(self) -> Fragment:
        """A SELECT whose rows are this query's sample_ids (column sample_id)."""
        sliced = self._limit is not None or self._offset
        return self._sql("s.sample_id", ordered=bool(sliced))

    def sample_ids_subquery(self) -> tuple[str, list]:
        """(sql, params) with positional ``$n`` of ``sample_ids_fragment``, for callers that
        still splice positional subqueries. The frames it reads are registered on this
        thread's connection."""
        fragment = self.sample_ids_fragment()
        register_frames(self._con(), fragment.frames)
        return fragment.positional()

    @property
    def matches_everything(self) -> bool:
        """True when the query keeps every sample of its dataset and kind (no condition, no
        ranking, no slice, no parent video): an aggregate may then read whole tables instead
        of a semi-join on ``sample_ids_subquery``."""
        return (
            self._match is None
            and self._rank is None
            and self.parent_sample_id is None
            and self._limit is None
            and not self._offset
        )

    def rows_subquery(self, columns: str) -> tuple[str, list]:
        """(sql, params) of a SELECT of ``columns`` (SQL over the sample row, alias ``s``)
        for each match, unordered unless sliced: aggregates over the matches (the
        distribution panel's charts) read their values straight from the filtered scan
        instead of a semi-join on ``sample_ids_subquery``. Frames registered as there."""
        sliced = self._limit is not None or self._offset
        fragment = self._sql(columns, ordered=bool(sliced))
        register_frames(self._con(), fragment.frames)
        return fragment.positional()

    def _read_sorted(
        self,
        *,
        offset: int | None = None,
        limit: int | None = None,
        columns: list | None = None,
        **options: Any,
    ) -> pl.DataFrame:
        """``_read`` with the rows sorted here rather than by the SQL (DuckDB sorts every
        column it carries along; polars sorts by the keys alone, and not at all when the rows
        already came in order). ``columns``: what to keep (polars expressions or names;
        default: every column read)."""
        frame = self._read(offset=offset, limit=limit, order_keys=True, **options)
        descending = self._descending()
        order = [f"_order_{i}" for i in range(len(descending))]
        if len(order) > 1 or not frame.get_column(order[0]).is_sorted(
            descending=descending[0], nulls_last=True
        ):
            frame = frame.sort(order, descending=descending, nulls_last=True)
        return frame.select(
            columns if columns is not None else [c for c in frame.columns if c not in order]
        )

    def _read_rows(self, offset: int | None = None, limit: int | None = None) -> pl.DataFrame:
        """Whole sample rows (``sample_columns``, in that order, then ``similarity`` when
        ranked) of a page, or of all of it.

        ``dataset_id`` and ``kind`` are the same on every row: filled in here, not read."""
        constant = {"dataset_id": str(self.dataset.dataset_id), "kind": self.kind}
        stored = tuple(c for c in self.sample_columns if c not in constant)
        columns = [
            pl.lit(constant[c]).alias(c) if c in constant else c for c in self.sample_columns
        ]
        if self._rank is not None:
            columns.append("similarity")
        return self._read_sorted(offset=offset, limit=limit, stored=stored, columns=columns)

    # -- consuming ------------------------------------------------------------------------------
    def _fetch(self, offset: int | None = None, limit: int | None = None) -> list:
        return self.samples_of(self._read_rows(offset=offset, limit=limit))

    def __iter__(self) -> Iterator:
        start = self._offset
        end = None if self._limit is None else self._offset + self._limit
        while end is None or start < end:
            size = _PAGE if end is None else min(_PAGE, end - start)
            page = self._fetch(offset=start, limit=size)
            yield from page
            if len(page) < size:
                return
            start += size

    def to_list(self) -> list:
        """All resulting samples, in order (one read: the list holds them all anyway)."""
        return self._fetch()

    def count(self) -> int:
        """Number of resulting samples (one SQL COUNT, nothing loaded)."""
        counted = query_frame(
            "SELECT count(*) AS n FROM (" + self.sample_ids_fragment() + ")", con=self._con()
        )
        return int(counted["n"][0])

    def __len__(self) -> int:
        return self.count()

    def sample_ids(self) -> list[uuid.UUID]:
        """Ids of the resulting samples, in order."""
        ids = query_frame(self._sql("s.sample_id"), con=self._con())["sample_id"]
        return [uuid.UUID(i) for i in ids.to_list()]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dataset={self.dataset.name!r}, kind={self.kind!r})"
