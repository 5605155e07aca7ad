"""Box/polygon size rules; they live in :mod:`lightly_studio.shapes.geometry`."""

# moved to lightly_studio.shapes.geometry; re-exported until callers move (#25)
from lightly_studio.shapes.geometry import MIN_SIDE, clip_box, clip_polygon, finite  # noqa: F401
