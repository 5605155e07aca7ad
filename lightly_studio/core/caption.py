"""Captions: free text attached to a sample (``sample.captions``, ``sample.add_caption``).

The façade over :mod:`lightly_studio.store.captions`, which owns every statement over them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.store.captions import (
    check_text,
    delete_sample_captions,
    insert_caption_frame,
    sample_captions,
)


def load_captions(sample: Any) -> list[str]:
    """The captions of one sample, in the order they were added."""
    return [text for _, text in sample_captions(get_connection(), sample.sample_id)]


def add_caption(sample: Any, text: str) -> None:
    """Attach one caption to ``sample``."""
    check_text(text, f"Sample {getattr(sample, 'file_name', sample.sample_id)!r}: ")
    with transaction() as con:
        insert_caption_frame(
            con, pl.DataFrame({"sample_id": [str(sample.sample_id)], "text": [text]})
        )


def delete_captions(sample: Any) -> int:
    """Remove every caption of ``sample``; returns how many were removed."""
    with transaction() as con:
        return delete_sample_captions(con, sample.sample_id)
