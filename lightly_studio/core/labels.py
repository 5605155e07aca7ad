"""Annotation labels (class names); they live in :mod:`lightly_studio.store.labels`."""

# moved to lightly_studio.store.labels; re-exported until callers move (#25)
from lightly_studio.store.labels import get_or_create_label_ids, list_labels  # noqa: F401
