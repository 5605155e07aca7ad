"""What a view shows where no kernel runs: its counts and a strip of small thumbnails.

A saved notebook opened without a kernel (nbconvert HTML, GitHub, nbviewer, a marimo HTML
export) cannot run the views. Each widget therefore carries a snapshot taken when it is
displayed: the ``text/html`` of its mime bundle (what nbconvert, GitHub and nbviewer render
when no widget state was saved), and the ``_snapshot`` trait the view's loader shows, with
the reason, when widget state was saved but no kernel answers.
"""

from __future__ import annotations

import base64
import html
from typing import Any, TypedDict

from lightly_studio.api import dispatch
from lightly_studio.ingest.thumbnails import render_thumbnail

STRIP_THUMBNAILS = 6
STRIP_SIZE = 72  # px, long side: ~2 KB of JPEG each
_DATA_URI_PREFIX = "data:image/jpeg;base64,"


class Snapshot(TypedDict):
    title: str
    lines: list[str]
    thumbnails: list[str]  # data:image/jpeg;base64 URIs


def thumbnail_strip(dataset_id: str, sample_ids: list[str]) -> list[str]:
    """Small JPEG data URIs of these samples, through the api's thumbnails (which refuse any
    file that is not a registered sample's); a sample whose file cannot be read is left out."""
    if not sample_ids:
        return []
    _, buffers = dispatch("thumbnails", {"dataset_id": dataset_id, "sample_ids": sample_ids})
    return [
        _DATA_URI_PREFIX + base64.b64encode(render_thumbnail(data, STRIP_SIZE)).decode("ascii")
        for data in buffers
        if data
    ]


def snapshot_html(snapshot: Snapshot) -> str:
    """The snapshot as self-contained HTML (inline styles, images as data URIs, every text
    escaped): it renders the same in nbconvert, nbviewer and GitHub."""
    images = "".join(
        f'<img src="{uri}" alt="" style="height:{STRIP_SIZE}px;border-radius:3px">'
        for uri in snapshot["thumbnails"]
        if uri.startswith(_DATA_URI_PREFIX)
    )
    lines = " · ".join(html.escape(line) for line in snapshot["lines"])
    return (
        '<div class="lightly-studio-snapshot" style="font-family:system-ui,sans-serif;'
        'font-size:13px;border:1px solid #c9ced4;border-radius:6px;padding:8px 10px">'
        f"<div><b>{html.escape(snapshot['title'])}</b> · {lines}</div>"
        f'<div style="display:flex;gap:4px;margin:6px 0;overflow:hidden">{images}</div>'
        '<div style="color:#5c6570">A static snapshot: run the cell with a kernel to open '
        "the live view.</div></div>"
    )


def with_snapshot(live: Any, snapshot: Snapshot, text: str) -> tuple[dict, dict]:
    """ipywidgets' bundle of a widget (the live view) plus the snapshot's HTML, with ``text``
    as its text/plain."""
    data, metadata = live if isinstance(live, tuple) else (live or {}, {})
    return {**data, "text/plain": text, "text/html": snapshot_html(snapshot)}, metadata
