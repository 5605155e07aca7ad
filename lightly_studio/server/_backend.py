"""What the HTTP layer needs from the rest of the package, behind one small interface.

The server calls ``api/`` and nothing else (docs/architecture.md); tests stub it instead. All
methods are blocking and run on the server's worker threads, each with its own DuckDB cursor.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import Any, Protocol


class Backend(Protocol):
    def dispatch(
        self, method: str, params: dict[str, Any], buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """Run one ``api/`` method; an unknown name raises ``errors.UnknownMethodError``."""

    def sample_file(self, sample_id: str) -> str | None:
        """The registered file (absolute path or fsspec URL) of a sample, or None."""

    def thumbnail(self, sample_id: str) -> tuple[bytes, str] | None:
        """(image bytes, content type) of a sample's thumbnail, or None for an unknown id."""

    def data_version(self) -> Any:
        """A value that changes whenever the data changes (polled to push live updates)."""

    def prefetch_thumbnails(self, dataset_id: str) -> None:
        """Make the thumbnails the app will show first for a dataset (called as the page is
        served, so they are ready, or under way, when the grid asks)."""


class ApiBackend:
    """The real backend: ``lightly_studio.api`` in this (DB-owning) process."""

    def __init__(self) -> None:
        # lazy: imported here, not at module top: importing the server must stay cheap (the
        # api and the store load polars and DuckDB); the tests' stub backends never load them.
        self._api = importlib.import_module("lightly_studio.api")
        self._lookup = importlib.import_module("lightly_studio.server._lookup")
        # The first page load would otherwise pay for these lazily imported modules:
        # pyarrow.compute (tag names of a page), PIL's JPEG codec (thumbnails). Off the
        # caller's thread: start_gui() returns at once.
        threading.Thread(
            target=_import_first_page_modules, name="lightly-studio-warm", daemon=True
        ).start()

    def dispatch(
        self, method: str, params: dict[str, Any], buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        return self._api.dispatch(method, params, buffers)

    def sample_file(self, sample_id: str) -> str | None:
        return self._lookup.sample_file(sample_id)

    def thumbnail(self, sample_id: str) -> tuple[bytes, str] | None:
        return self._lookup.thumbnail(sample_id)

    def data_version(self) -> Any:
        return self._lookup.data_version()

    def prefetch_thumbnails(self, dataset_id: str) -> None:
        self._api.samples.prefetch_thumbnails(dataset_id)


def _import_first_page_modules() -> None:
    for name in ("pyarrow.compute", "PIL.Image", "PIL.ImageOps", "PIL.JpegImagePlugin"):
        # Only a head start: the call that needs the module reports the error.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
