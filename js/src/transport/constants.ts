// Constants both sides of the wire share, declared once on this side; the Python side is
// lightly_studio/_wire.py, and tests/api/test_contracts.py checks the two hold the same values.

/** Bytes per message part; well below Jupyter's ~10 MB websocket message cap. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** Content type of a binary reply (or request): "LSF1" | u32 header length | JSON | data. */
export const FRAMES_TYPE = "application/vnd.lightly-studio.frames";
export const FRAMES_MAGIC = "LSF1";

/** The full-page app's routes, relative to the page's base URL. */
export const API_ROUTE = "api/";
export const MEDIA_ROUTE = "media/";
export const THUMBNAIL_ROUTE = "thumbnail/";
export const EVENTS_ROUTE = "ws";
