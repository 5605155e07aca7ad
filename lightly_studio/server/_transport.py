"""The HTTP wire format of ``api/`` calls — the one place it is defined (mirror: js/src/app/wire.ts).

``POST /api/<method>`` with a JSON object of params. The reply is

- ``application/json`` — ``{"result": …}`` when the method returned no buffers (gzipped by the
  server when the client accepts it), or ``{"error": {"type", "message"}}`` with a 4xx/5xx status;
- ``application/vnd.lightly-studio.frames`` when it returned buffers (thumbnails, Float32 plot
  coordinates): ``b"LSF1"``, a little-endian u32 header length, the UTF-8 JSON header
  ``{"result": …, "buffers": [[offset, length], …]}`` and the buffers. Offsets count from the
  start of the body and are multiples of 8, so the browser can view Float32/Float64 data in
  place without copying.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import struct
import uuid
from collections.abc import Sequence
from typing import Any

from lightly_studio._wire import FRAMES_MAGIC, FRAMES_TYPE

JSON_TYPE = "application/json; charset=utf-8"
MAGIC = FRAMES_MAGIC
_ALIGN = 8


def _default(value: Any) -> Any:
    # api/ returns JSON-able values; these cover what slips through from DuckDB/numpy.
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        raise TypeError("bytes must be returned as buffers, not inside the JSON result")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    try:
        text = json.dumps(value, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:
        # NaN/inf are not JSON; null is what the browser can handle.
        text = json.dumps(_nan_to_none(value), default=_default, separators=(",", ":"))
    return text.encode("utf-8")


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value


def _pad(n: int) -> int:
    return (-n) % _ALIGN


def encode_reply(
    result: Any, buffers: Sequence[bytes | bytearray | memoryview]
) -> tuple[str, bytes]:
    """(content type, body) for one method's result."""
    if not buffers:
        return JSON_TYPE, dumps({"result": result})
    views = [memoryview(b).cast("B") for b in buffers]
    # The header's length depends on the offsets, which depend on the header's length: lay the
    # buffers out after a header sized with generous offsets, then pad the real header to it.
    sizes = [v.nbytes for v in views]
    guess = dumps({"result": result, "buffers": [[10**12, s] for s in sizes]})
    start = len(MAGIC) + 4 + len(guess)
    start += _pad(start)
    spans, offset = [], start
    for size in sizes:
        spans.append([offset, size])
        offset += size + _pad(size)
    header = dumps({"result": result, "buffers": spans})
    header += b" " * (start - len(MAGIC) - 4 - len(header))  # JSON allows trailing spaces
    parts: list[bytes | memoryview] = [MAGIC, struct.pack("<I", len(header)), header]
    for view, size in zip(views, sizes, strict=True):
        parts.append(view)
        if _pad(size):
            parts.append(b"\0" * _pad(size))
    return FRAMES_TYPE, b"".join(parts)


def decode_reply(body: bytes) -> tuple[Any, list[bytes]]:
    """The inverse of ``encode_reply`` for frame bodies (tests, the load benchmark)."""
    if body[:4] != MAGIC:
        return json.loads(body)["result"], []
    (length,) = struct.unpack_from("<I", body, 4)
    header = json.loads(body[8 : 8 + length])
    return header["result"], [body[o : o + n] for o, n in header["buffers"]]


def encode_error(kind: str, message: str) -> bytes:
    return dumps({"error": {"type": kind, "message": message}})


# Params are a few levels deep (a spec's metadata filter: 4). Python's json parser recurses
# once per level and only stops at the interpreter's recursion limit (RecursionError, a 500),
# and every later walk over the value would recurse as deep again.
MAX_DEPTH = 32


class BadRequest(ValueError):
    """The body is not params: not JSON, not an object, nested too deep, a broken frame."""


def loads(data: bytes, what: str = "the request body") -> Any:
    """JSON from a request, at most MAX_DEPTH levels deep; ``BadRequest`` otherwise."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    _check_depth(value, what)
    return value


def _check_depth(value: Any, what: str) -> None:
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [
            v
            for c in level
            if isinstance(c, (list, dict))
            for v in (c.values() if isinstance(c, dict) else c)
        ]
        if not level:
            return
    raise BadRequest(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)")


def decode_params(body: bytes) -> dict[str, Any]:
    """The JSON object of params; an empty body means no params."""
    if not body.strip():
        return {}
    params = loads(body)
    if not isinstance(params, dict):
        raise BadRequest("the request body must be a JSON object of params")
    return params


def decode_request(body: bytes, content_type: str) -> tuple[dict[str, Any], list[bytes]]:
    """Params and incoming buffers: a JSON body, or a frames body whose result is the params
    (for methods that take binary input, e.g. a painted mask). Raises ``BadRequest``."""
    if content_type != FRAMES_TYPE:
        return decode_params(body), []
    if body[:4] != MAGIC or len(body) < 8:
        raise BadRequest("not a frames body: it must start with b'LSF1' and a u32 header length")
    (length,) = struct.unpack_from("<I", body, 4)
    if 8 + length > len(body):
        raise BadRequest(f"the frames header length {length} runs past the body")
    header = loads(body[8 : 8 + length], "the frames header")
    if not isinstance(header, dict):
        raise BadRequest(
            'the frames header must be a JSON object {"result": params, '
            '"buffers": [[offset, length], ...]}'
        )
    params = header.get("result")
    params = {} if params is None else params
    spans = header.get("buffers")
    spans = [] if spans is None else spans
    if not isinstance(params, dict):
        raise BadRequest("the frames header's result (the params) must be a JSON object")
    if not isinstance(spans, list) or not all(
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in span)
        for span in spans
    ):
        raise BadRequest(
            "the frames header's buffers must be a list of [offset, length] "
            "pairs of non-negative integers"
        )
    if any(o < 8 + length or o + n > len(body) for o, n in spans):
        raise BadRequest("a buffer lies outside the body")
    return params, [body[o : o + n] for o, n in spans]
