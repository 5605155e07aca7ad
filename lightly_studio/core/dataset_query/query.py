"""DatasetQuery: the DSL's query (``lightly_studio.query.SampleQuery``) with what needs core.

The query itself (building, compiling to SQL, reading rows) lives in ``lightly_studio.query``;
this subclass adds the parts that reach up: Sample objects, tag and metadata-key lookups, tag
writes, similarity ranking, selection, export and the notebook view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from lightly_studio import embed as _embed  # a lazy package: torch loads on first use
from lightly_studio.core.sample import samples_from_frame
from lightly_studio.errors import QueryError
from lightly_studio.query.query import SampleQuery
from lightly_studio.selection.selection import Selection
from lightly_studio.store.evaluations import SAMPLE_METRICS, find_run
from lightly_studio.store.evaluations import sample_metrics as run_sample_metrics
from lightly_studio.store.metadata import metadata_columns
from lightly_studio.store.samples import SAMPLE_COLUMNS, VIDEO_COLUMNS
from lightly_studio.store.tags import (
    sample_tag_number,
    tag_names_frame,
    tag_numbers_to_names,
    tag_sample_ids,
    untag_sample_ids,
)

if TYPE_CHECKING:
    from lightly_studio.core.sample import Sample


class DatasetQuery(SampleQuery):
    """Samples of a dataset that match an expression, in an order, optionally sliced.

    Nothing runs until the query is consumed (iteration, ``to_list``, ``count``, ``add_tag``…).
    ``match`` ANDs with earlier matches; ``order_by`` and ``slice`` replace earlier ones. They
    change the query in place and return it, so both statement and chained styles work.
    """

    sample_columns = SAMPLE_COLUMNS

    # -- what the DSL needs from core -----------------------------------------------------------
    def tag_number(self, name: str) -> int | None:
        return sample_tag_number(self._con(), self.dataset.dataset_id, name)

    def metadata_keys(self) -> dict:
        return metadata_columns(self._con(), self.dataset.dataset_id)

    def samples_of(self, frame: pl.DataFrame) -> list[Sample]:
        return samples_from_frame(self.kind, frame)

    # -- similarity ranking -----------------------------------------------------------------------
    def sort_by_similarity(
        self,
        text: str | None = None,
        samples: list | None = None,
        k: int | None = None,
        embedding_model_name: str | None = None,
    ) -> DatasetQuery:
        """Order the matching samples by cosine similarity to a text or to example samples.

        Each resulting sample has ``sample.similarity``. ``k`` keeps the k best.
        """
        scores = _embed.similarity_scores(
            self, text=text, samples=samples, model_name=embedding_model_name, k=k
        )
        return self.rank_by(scores, k)

    # -- consuming ------------------------------------------------------------------------------
    def add_tag(self, tag: str) -> DatasetQuery:
        """Tag every resulting sample (one UPDATE of their rows)."""
        tag_sample_ids(self._con(), self.dataset.dataset_id, tag, self.sample_ids_subquery())
        return self

    def remove_tag(self, tag: str) -> DatasetQuery:
        """Remove a tag from every resulting sample (one UPDATE of their rows)."""
        untag_sample_ids(self._con(), self.dataset.dataset_id, tag, self.sample_ids_subquery())
        return self

    def rows_frame(
        self, stored: tuple[str, ...] = SAMPLE_COLUMNS, metadata: dict | None = None
    ) -> pl.DataFrame:
        """The resulting samples' ``stored`` columns, one row each in order, with ``tags`` as a
        sorted list of names (for ``tag_numbers``), ``similarity`` after
        ``sort_by_similarity``, and the values of ``metadata`` keys (name → MetadataKey) as
        columns ``_meta_<i>``. The page's rows are picked first, then only they are read (and
        sorted here: polars sorts the page's rows several times faster than DuckDB)."""
        con = self._con()
        extra = "".join(
            f", s.{found.column} AS _meta_{i}" for i, found in enumerate((metadata or {}).values())
        )
        frame = self._read_sorted(stored=stored, extra=extra)
        if "tag_numbers" in stored:
            frame = tag_numbers_to_names(frame, tag_names_frame(con, self.dataset.dataset_id))
        return frame

    def to_polars(self, evaluation_run: str | None = None) -> pl.DataFrame:
        """One row per sample: its columns, ``tags`` as a list, one column per metadata key
        (named by the key; ``metadata:<key>`` where a key is also a column's name).

        ``evaluation_run``: also the per-sample metrics of that stored run (``tp``, ``fp``,
        ``fn``, ``precision``, ``recall``, ``miou``, ``disagreement``; ``evaluation:<name>``
        where the name is taken), null for samples outside the run."""
        frame = self._to_polars()
        if evaluation_run is None:
            return frame
        run = find_run(self._con(), self.dataset.dataset_id, evaluation_run)
        if run is None:
            raise QueryError(f"No evaluation run {evaluation_run!r} in this dataset.")
        metrics = run_sample_metrics(self._con(), run["run_id"]).rename(
            {m: f"evaluation:{m}" if m in frame.columns else m for m in SAMPLE_METRICS}
        )
        return frame.with_columns(pl.col("sample_id").cast(pl.Utf8)).join(
            metrics, on="sample_id", how="left", maintain_order="left"
        )

    def _to_polars(self) -> pl.DataFrame:
        keys = metadata_columns(self._con(), self.dataset.dataset_id)
        # dataset_id and kind are the same on every row: filled in here, not read.
        shown = [
            c
            for c in SAMPLE_COLUMNS
            if c not in ("sample_idx", "tag_numbers")
            and (self.kind != "image" or c not in VIDEO_COLUMNS)
        ]
        read = (*tuple(c for c in shown if c not in ("dataset_id", "kind")), "tag_numbers")
        frame = self.rows_frame(read, metadata=keys)
        frame = frame.with_columns(
            pl.lit(str(self.dataset.dataset_id)).alias("dataset_id"),
            pl.lit(self.kind).alias("kind"),
        )
        taken = {*shown, "tags"}
        names = {
            f"_meta_{i}": f"metadata:{key}" if key in taken else key for i, key in enumerate(keys)
        }
        return frame.rename(names).select(*shown, "tags", *names.values())

    def selection(self):
        """Select a subset of this query's samples (diverse, metadata, balancing, …)."""
        return Selection(self)

    def export(self):
        """Exporter for this query's samples (COCO, YOLO, captions, CSV)."""
        return self.dataset.export(self)

    def show(self):
        """Display the samples in the notebook explorer and return it (``explorer =
        query.show()`` shows the view and keeps a handle on it; see docs/views.md)."""
        from lightly_studio.widgets import Explorer, show  # lazy: anywidget/ipywidgets are heavy

        return show(Explorer(self))

    def _repr_mimebundle_(self, include=None, exclude=None):
        """A query as a cell's value shows the explorer, with the query's own text repr."""
        try:
            from lightly_studio.widgets import Explorer

            data, metadata = Explorer(self)._repr_mimebundle_(include=include, exclude=exclude)
        except Exception:  # noqa: BLE001 - outside a notebook, fall back to the text repr
            return {"text/plain": repr(self)}
        return {**data, "text/plain": repr(self)}, metadata
