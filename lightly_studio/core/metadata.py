"""Sample metadata as the façade shows it: ``sample.metadata``, a dict-like view whose writes
are stored at once. The storage (one column of ``sample`` per key) is ``store/metadata.py``."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from lightly_studio.db import get_connection
from lightly_studio.errors import MetadataTypeError
from lightly_studio.store import metadata as _store

if TYPE_CHECKING:
    from lightly_studio.core.sample import Sample


class SampleMetadata(MutableMapping):
    """Dict-like view of one sample's metadata; every write is stored at once."""

    def __init__(self, sample: Sample) -> None:
        self._sample = sample

    def _rows(self) -> dict[str, Any]:
        return _store.sample_values(
            get_connection(), self._sample.dataset_id, self._sample.sample_id
        )

    def __getitem__(self, key: str) -> Any:
        rows = self._rows()
        if key not in rows:
            raise KeyError(key)
        return rows[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if value is None:
            raise MetadataTypeError(
                f"Metadata value for {key!r} is None; use `del sample.metadata[{key!r}]`."
            )
        _store.set_metadata_value(
            get_connection(), self._sample.dataset_id, self._sample.sample_id, key, value
        )

    def __delitem__(self, key: str) -> None:
        if not _store.clear_value(
            get_connection(), self._sample.dataset_id, self._sample.sample_id, key
        ):
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return _store.has_value(
            get_connection(), self._sample.dataset_id, self._sample.sample_id, key
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return f"SampleMetadata({self._rows()!r})"
