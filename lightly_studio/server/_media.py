"""HTTP specifics of sending original files: byte ranges.

Which files may be sent, and opening them, is ``lightly_studio._media_access`` (shared with the
``api/`` methods that read sample files). Files are addressed by sample id, never by a path from
the URL — so ``..``, ``%2e%2e`` and absolute paths in a URL cannot name a file at all.
"""

from __future__ import annotations

import re
from typing import Literal

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """``(start, end_inclusive)``, ``None`` for the whole file, or ``"unsatisfiable"``.

    One range only (what ``<video>`` seeking sends); multipart ranges get the whole file, which
    RFC 9110 allows.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)
