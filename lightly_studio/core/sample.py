"""Samples: light views over one row of table `sample`; writes go to the DB at once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from lightly_studio.core import annotation as _annotation
from lightly_studio.core import caption as _caption
from lightly_studio.core.metadata import SampleMetadata
from lightly_studio.db import get_connection as _con
from lightly_studio.store import groups as groups_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store import tags as tags_store
from lightly_studio.store._ids import as_uuid as _as_uuid

if TYPE_CHECKING:
    import polars as pl

    from lightly_studio.core.dataset_query import DatasetQuery


class _Columns(dict):
    """The columns of a frame of sample rows as Python lists, each converted on first use
    and then shared by every sample of the frame."""

    def __init__(self, frame: pl.DataFrame) -> None:
        super().__init__()
        self.frame = frame

    def __missing__(self, name: str) -> list:
        if name not in self.frame.schema:
            raise KeyError(name)
        values = self[name] = self.frame.get_column(name).to_list()
        return values


class _RowView(Mapping):
    """Row ``i`` of shared ``_Columns``: what a sample's ``_row`` is when read by a query."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: _Columns, i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, name: str) -> Any:
        return self._columns[name][self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.frame.columns)

    def __len__(self) -> int:
        return self._columns.frame.width


class Sample:
    """One image (or video, or video frame) of a dataset."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self._row = row

    @property
    def similarity(self) -> float | None:
        """Cosine similarity to the query when the sample comes from ``sort_by_similarity``."""
        return self.__dict__.get("_similarity", self._row.get("similarity"))

    @similarity.setter
    def similarity(self, value: float | None) -> None:
        self._similarity = value

    # -- stored fields -------------------------------------------------------------------
    @property
    def sample_id(self) -> uuid.UUID:
        return _as_uuid(self._row["sample_id"])

    @property
    def dataset_id(self) -> uuid.UUID:
        return _as_uuid(self._row["dataset_id"])

    @property
    def file_name(self) -> str:
        return self._row["file_name"]

    @property
    def file_path_abs(self) -> str:
        return self._row["file_path_abs"]

    @property
    def width(self) -> int:
        return self._row["width"]

    @property
    def height(self) -> int:
        return self._row["height"]

    @property
    def created_at(self) -> dt.datetime:
        return self._row["created_at"]

    @property
    def fields(self) -> dict[str, Any]:
        """The stored columns of the sample's row by name (a copy; metadata and tags aside)."""
        return dict(self._row)

    # -- tags -----------------------------------------------------------------------------
    @property
    def tags(self) -> set[str]:
        return tags_store.sample_tag_names(_con(), self.sample_id)

    def add_tag(self, tag: str) -> None:
        tags_store.tag_sample_ids(_con(), self.dataset_id, tag, [self.sample_id])

    def remove_tag(self, tag: str) -> None:
        tags_store.untag_sample_ids(_con(), self.dataset_id, tag, [self.sample_id])

    # -- metadata -------------------------------------------------------------------------
    @property
    def metadata(self) -> SampleMetadata:
        return SampleMetadata(self)

    @metadata.setter
    def metadata(self, values: dict) -> None:
        self.metadata.update(values)

    # -- annotations and captions ---------------------------------------------------------
    @property
    def annotations(self) -> list:
        return _annotation.load_annotations(self)

    def add_annotation(self, annotation) -> Any:
        return self.add_annotations([annotation])[0]

    def add_annotations(self, annotations: list) -> list:
        return _annotation.add_annotations(self, list(annotations))

    def delete_annotation(self, annotation) -> None:
        _annotation.delete_annotation(self, annotation)

    @property
    def captions(self) -> list[str]:
        return _caption.load_captions(self)

    def add_caption(self, text: str) -> None:
        _caption.add_caption(self, text)

    # -- misc -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sample) and other.sample_id == self.sample_id

    def __hash__(self) -> int:
        return hash(self.sample_id)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(file_name={self.file_name!r}, "
            f"width={self.width}, height={self.height}, sample_id='{self.sample_id}')"
        )


ImageSample = Sample


class VideoSample(Sample):
    """A video file; its sampled frames are ``video.frames``."""

    @property
    def fps(self) -> float:
        return self._row["fps"]

    @property
    def duration_s(self) -> float:
        return self._row["duration_s"]

    @property
    def frame_count(self) -> int:
        return self._row["frame_count"]

    @property
    def codec(self) -> str | None:
        return self._row.get("codec")

    @property
    def frames(self) -> DatasetQuery:
        # lazy: cycle, core.dataset and core.dataset_query import this module
        from lightly_studio.core.dataset import Dataset
        from lightly_studio.core.dataset_query import DatasetQuery

        dataset = Dataset.from_id(self.dataset_id)
        return DatasetQuery(dataset, kind="frame", parent_sample_id=self.sample_id)


class FrameSample(Sample):
    """One sampled frame of a video."""

    @property
    def frame_number(self) -> int:
        return self._row["frame_number"]

    @property
    def timestamp_s(self) -> float:
        return self._row["timestamp_s"]

    @property
    def timestamp(self) -> float:
        """Alias of ``timestamp_s``: seconds from the start of the video."""
        return self.timestamp_s

    @property
    def video_sample_id(self) -> uuid.UUID:
        return _as_uuid(self._row["parent_sample_id"])


class GroupSample(Sample):
    """A group: member samples under named views (``group["front"]``, ``group.members``).

    Tags and metadata of a group are its own (``group.add_tag``, ``group.metadata``); each
    member keeps its own tags and metadata."""

    @property
    def name(self) -> str:
        """The group's name: the file stem its members share."""
        return self._row["file_name"]

    @property
    def members(self) -> dict[str, Sample]:
        """View name -> member sample, in the dataset's view order; views the group has no
        member in are left out."""
        con = _con()
        links = groups_store.members_frame(con, self.dataset_id, [str(self.sample_id)])
        rows = samples_store.rows_by_ids(con, links["sample_id"].to_list())
        return {
            view: SAMPLE_CLASS_BY_KIND[row["kind"]](row)
            for view, row in zip(links["view_name"], rows.iter_rows(named=True), strict=True)
        }

    @property
    def views(self) -> list[str]:
        """The views this group has a member in, in view order."""
        links = groups_store.members_frame(_con(), self.dataset_id, [str(self.sample_id)])
        return links["view_name"].to_list()

    def __getitem__(self, view: str) -> Sample:
        members = self.members
        if view not in members:
            raise KeyError(
                f"Group {self.name!r} has no member in view {view!r} "
                f"(its views: {', '.join(members) or 'none'})."
            )
        return members[view]

    def get(self, view: str) -> Sample | None:
        """The member in ``view``, or None when the group has none there."""
        return self.members.get(view)

    def __repr__(self) -> str:
        return (
            f"GroupSample(name={self.name!r}, views={self.views!r}, sample_id='{self.sample_id}')"
        )


SAMPLE_CLASS_BY_KIND: dict[str, type[Sample]] = {
    "image": Sample,
    "video": VideoSample,
    "frame": FrameSample,
    "group": GroupSample,
}


def samples_from_frame(kind: str, frame: pl.DataFrame) -> list[Sample]:
    """Samples of ``kind`` over the rows of ``frame`` (whole sample rows, in order).

    No per-row work beyond the objects themselves: each column becomes a Python list once,
    when a sample first reads it, and every sample reads its value by index."""
    cls = SAMPLE_CLASS_BY_KIND[kind]
    columns = _Columns(frame)
    new_sample, new_view = object.__new__, _RowView.__new__

    def sample_of(i: int) -> Sample:  # __init__ bypassed: plain slot writes
        view = new_view(_RowView)
        view._columns, view._i = columns, i
        sample = new_sample(cls)
        sample._row = view
        return sample

    return list(map(sample_of, range(frame.height)))
