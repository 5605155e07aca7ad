"""Split binary payloads so no comm message exceeds Jupyter's ~10 MB websocket limit.
Mirrors js/src/transport/chunking.ts."""

from __future__ import annotations

from lightly_studio._wire import CHUNK_BYTES

__all__ = ["CHUNK_BYTES", "join_parts", "split_buffers"]


def split_buffers(buffers: list[bytes], chunk_bytes: int = CHUNK_BYTES) -> list[bytes]:
    whole = b"".join(bytes(b) if not isinstance(b, bytes) else b for b in buffers)
    return [whole[i : i + chunk_bytes] for i in range(0, len(whole), chunk_bytes)]


def join_parts(parts: list[bytes], sizes: list[int]) -> list[bytes]:
    whole = b"".join(parts)
    if len(whole) != sum(sizes):
        raise ValueError(f"chunked payload is {len(whole)} bytes, expected {sum(sizes)}")
    out, at = [], 0
    for s in sizes:
        out.append(whole[at : at + s])
        at += s
    return out
