"""Samples: light views over one row of table `sample`; writes go to the DB at once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from lightly_studio.core.metadata import SampleMetadata
from lightly_studio.db import get_connection as _con
from lightly_studio.store import tags as tags_store
from lightly_studio.store._ids import as_uuid as _as_uuid

if TYPE_CHECKING:
    from lightly_studio.core.dataset_query import DatasetQuery


class Sample:
    """One image (or video, or video frame) of a dataset."""

    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row
        #: Cosine similarity to the query when the sample comes from ``sort_by_similarity``.
        self.similarity: float | None = row.get("similarity")

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
        from lightly_studio.core.annotation import load_annotations

        return load_annotations(self)

    def add_annotation(self, annotation) -> Any:
        return self.add_annotations([annotation])[0]

    def add_annotations(self, annotations: list) -> list:
        from lightly_studio.core.annotation import add_annotations

        return add_annotations(self, list(annotations))

    def delete_annotation(self, annotation) -> None:
        from lightly_studio.core.annotation import delete_annotation

        delete_annotation(self, annotation)

    @property
    def captions(self) -> list[str]:
        from lightly_studio.core.caption import load_captions

        return load_captions(self)

    def add_caption(self, text: str) -> None:
        from lightly_studio.core.caption import add_caption

        add_caption(self, text)

    # -- misc -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sample) and other.sample_id == self.sample_id

    def __hash__(self) -> int:
        return hash(self.sample_id)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(file_name={self.file_name!r}, "
                f"width={self.width}, height={self.height}, sample_id='{self.sample_id}')")


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
        from lightly_studio.core.dataset import Dataset
        from lightly_studio.core.dataset_query import DatasetQuery

        dataset = Dataset._from_id(self.dataset_id)
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


SAMPLE_CLASS_BY_KIND = {"image": Sample, "video": VideoSample, "frame": FrameSample}

