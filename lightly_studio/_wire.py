"""Constants both sides of the wire share, declared once on this side; the view side is
js/src/transport/constants.ts, and tests/api/test_contracts.py checks both hold the same values.
"""

from __future__ import annotations

# Bytes per comm message part: well below Jupyter's ~10 MB websocket message cap.
CHUNK_BYTES = 8 * 1024 * 1024

# Content type of a binary reply (or request): b"LSF1" | u32 header length | JSON | data.
FRAMES_TYPE = "application/vnd.lightly-studio.frames"
FRAMES_MAGIC = b"LSF1"

# The full-page app's routes (the view uses them relative to the page's base URL).
API_ROUTE = "/api/"
MEDIA_ROUTE = "/media/"
THUMBNAIL_ROUTE = "/thumbnail/"
EVENTS_ROUTE = "/ws"
