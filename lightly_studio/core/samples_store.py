"""Bulk insertion of sample rows: moved to ``lightly_studio.store.samples``."""

# moved to lightly_studio.store.samples; re-exported until callers move (#25)
from lightly_studio.store.samples import SAMPLE_COLUMNS, VIDEO_COLUMNS, insert_samples  # noqa: F401
