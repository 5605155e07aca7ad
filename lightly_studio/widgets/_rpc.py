"""The widgets' side of the request/response protocol over anywidget custom messages.

View -> kernel: ``{type: "request", id, method, params}`` (+ buffers), ``{type: "cancel", id}``.
Kernel -> view: ``{type: "progress", id, done, total, message}``, then
``{type: "response", id, ok, result | error}`` with the buffers inline, or — when they
exceed CHUNK_BYTES — ``buffer_sizes`` and ``parts`` followed by ``{type: "part", id, index}``
messages of one buffer each. Methods run on a worker thread, so the kernel stays responsive
and a cancelled request still queued is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lightly_studio import api
from lightly_studio.widgets._chunking import CHUNK_BYTES, split_buffers

logger = logging.getLogger("lightly_studio")

# Methods a widget answers itself (``RpcServer``'s local handlers), not ``lightly_studio.api``;
# js/src/transport/methods.ts lists them as WidgetMethods (tests/api/test_contracts.py).
WIDGET_METHODS = frozenset({"ready"})

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ls-widget-rpc")
        return _executor


class RpcServer:
    """Answers a widget's requests with ``lightly_studio.api.dispatch`` (or local handlers).

    A local handler named like an api method stands in for it with that method's contract:
    it gets ``(params, buffers)`` when the method is declared ``buffers_in``, else ``params``.
    Its reply carries no buffers."""

    # A local handler takes (params) or, for a buffers_in method, (params, buffers).
    def __init__(
        self,
        widget: Any,
        local: dict[str, Callable[..., Any]] | None = None,
        *,
        threaded: bool = True,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.widget = widget
        self.local = dict(local or {})
        self.threaded = threaded
        self.chunk_bytes = chunk_bytes
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        widget.on_msg(self._on_msg)

    def _on_msg(self, _widget: Any, content: Any, buffers: list | None = None) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "cancel":
            with self._lock:
                self._cancelled.add(str(content.get("id")))
            return
        if kind != "request":
            return
        bufs = [bytes(b) for b in (buffers or [])]
        if self.threaded:
            _pool().submit(self.handle, content, bufs)
        else:
            self.handle(content, bufs)

    def handle(self, msg: dict, buffers: list[bytes]) -> None:
        call_id = str(msg.get("id"))
        with self._lock:
            if call_id in self._cancelled:
                self._cancelled.discard(call_id)
                return
        method: Any = msg.get("method")  # from the wire: dispatch rejects what is unknown
        params = msg.get("params") or {}
        token = api.set_reporter(
            lambda done, total, message: self._send(
                {
                    "type": "progress",
                    "id": call_id,
                    "done": done,
                    "total": total,
                    "message": message,
                }
            )
        )
        try:
            if method in self.local:
                fn = self.local[method]
                contract = api.METHODS.get(method)
                takes_buffers = contract is not None and contract.buffers_in
                result = fn(params, buffers) if takes_buffers else fn(params)
                out: list[bytes] = []
            else:
                result, out = api.dispatch(method, params, buffers)
        except Exception as exc:  # every failure becomes an error reply
            if not isinstance(exc, api.LightlyStudioError):
                logger.exception("api method %s failed", method)
            self._send(
                {"type": "response", "id": call_id, "ok": False, "error": api.error_payload(exc)}
            )
            return
        finally:
            api.reset_reporter(token)
        self.reply(call_id, result, out)

    def reply(self, call_id: str, result: Any, buffers: list[bytes]) -> None:
        total = sum(len(b) for b in buffers)
        if total <= self.chunk_bytes:
            self._send({"type": "response", "id": call_id, "ok": True, "result": result}, buffers)
            return
        parts = split_buffers(buffers, self.chunk_bytes)
        self._send(
            {
                "type": "response",
                "id": call_id,
                "ok": True,
                "result": result,
                "buffer_sizes": [len(b) for b in buffers],
                "parts": len(parts),
            }
        )
        for index, part in enumerate(parts):
            self._send({"type": "part", "id": call_id, "index": index}, [part])

    def event(self, name: str, payload: Any = None) -> None:
        """Push an event to the view (e.g. ``data_changed`` after Python edited tags)."""
        self._send({"type": "event", "name": name, "payload": payload})

    def _send(self, content: dict, buffers: list[bytes] | None = None) -> None:
        self.widget.send(content, buffers or None)
