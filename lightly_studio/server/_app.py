"""The tornado application behind ``start_gui()``: routes, auth, API calls, media, live events.

Why tornado: the full page needs a WebSocket to hear about edits made from Python, which the
standard library cannot serve; tornado ships with jupyter-server/ipykernel (so every notebook
install has it), gives HTTP/1.1 keep-alive, gzip, body-size limits and WebSockets in one small
event loop, and lets blocking DuckDB calls run on a thread pool. starlette/uvicorn would add two
dependencies for the same.

Routes (all behind the checks in ``_security``):

- ``GET /`` the page; ``GET /static/<file>`` the bundled JS/CSS
- ``GET /health`` liveness + which DB this process owns
- ``POST /api/<method>`` one ``api/`` call (wire format in ``_transport``)
- ``GET /thumbnail/<sample_id>`` a sample's thumbnail (ETag, cacheable)
- ``GET /media/<sample_id>`` a sample's original file (ETag, byte ranges for video seeking)
- ``GET /ws`` WebSocket: server-pushed events (``{"type": "event", "name": "changed", …}``)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NoReturn

import tornado.web
import tornado.websocket
from tornado.iostream import StreamClosedError

from lightly_studio import __version__, _media_access
from lightly_studio._media_access import LocalFile, MediaRefused
from lightly_studio._wire import API_ROUTE, EVENTS_ROUTE, MEDIA_ROUTE, THUMBNAIL_ROUTE
from lightly_studio.db import db_file
from lightly_studio.errors import LightlyStudioError, UnknownMethodError
from lightly_studio.server import _media, _page, _security, _transport
from lightly_studio.server._backend import Backend

log = logging.getLogger("lightly_studio.server")

MAX_BODY_BYTES = 16 * 1024 * 1024  # params are small; 16 MB leaves room for pasted masks
MAX_HEADER_BYTES = 64 * 1024
# tornado's own caps, given to the HTTPServer. Past them tornado can only end the connection
# (a bare 400 for a body, nothing at all for headers), so they sit above ours: a request
# between the two gets a real 413 / 431 with a JSON reason from the handlers below.
HARD_BODY_BYTES = 2 * MAX_BODY_BYTES
HARD_HEADER_BYTES = 4 * MAX_HEADER_BYTES
_CHUNK = 256 * 1024


# Calls that decode images or write files: they get their own threads, so a burst of cold
# thumbnails never queues the cheap calls (a grid page, a count) behind it.
HEAVY_METHODS = frozenset(
    {"thumbnails", "image", "video_poster", "export", "plot_points", "run_operator"}
)


class Pools:
    """Two thread pools: ``light`` for queries, ``heavy`` for image decoding and exports."""

    def __init__(self, light: int = 4, heavy: int = 2) -> None:
        self.light = ThreadPoolExecutor(light, thread_name_prefix="lightly-studio-api")
        self.heavy = ThreadPoolExecutor(heavy, thread_name_prefix="lightly-studio-media")

    def shutdown(self) -> None:
        for pool in (self.light, self.heavy):
            # Wait for calls already running (they hold DB cursors); drop queued ones.
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class ServerConfig:
    backend: Backend
    token: str | None  # None: no token (loopback only)
    cookie_name: str = "lightly_studio_token"
    workers: int = 4
    poll_interval_s: float = 1.0
    static_dir: str = field(
        default_factory=lambda: str(resources.files("lightly_studio") / "static")
    )


class _Base(tornado.web.RequestHandler):
    config: ServerConfig

    def initialize(self, config: ServerConfig, pools: Pools) -> None:
        self.config = config
        self.pools = pools

    def set_default_headers(self) -> None:
        # No Access-Control-* headers anywhere: other sites cannot read our responses.
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.clear_header("Server")

    def prepare(self) -> None:
        self.check_access()

    def check_access(self) -> None:
        # Every route (static files and the WebSocket too) comes through here: check the
        # request's size first, before anything reads its headers.
        header_bytes = (
            len(self.request.method or "")
            + len(self.request.uri or "")
            + sum(len(k) + len(v) + 4 for k, v in self.request.headers.get_all())
        )
        if header_bytes > MAX_HEADER_BYTES:
            self.fail(
                431,
                "RequestHeaderFieldsTooLarge",
                f"the request's headers are {header_bytes} bytes; at most "
                f"{MAX_HEADER_BYTES} are accepted",
            )
        host = self.request.headers.get("Host", "")
        token = self.config.token
        if token is None:
            if not _security.is_loopback(_security.split_host_header(host)):
                self.fail(403, "Forbidden", "Host header is not loopback")
        else:
            given = _security.token_from_request(
                self.request.query_arguments,
                self.request.headers,
                {k: v.value for k, v in self.request.cookies.items()},
                self.config.cookie_name,
            )
            if given is None:
                self.fail(
                    401, "Unauthorized", "a token is required: open the URL printed by start_gui()"
                )
            if not _security.token_matches(given, token):
                self.fail(403, "Forbidden", "wrong token")
        if self.request.method not in ("GET", "HEAD") and not _security.origin_allowed(
            self.request.headers.get("Origin"), host
        ):
            self.fail(403, "Forbidden", "cross-origin request")

    def fail(self, status: int, kind: str, message: str) -> NoReturn:
        self.set_status(status)
        self.set_header("Content-Type", _transport.JSON_TYPE)
        self.finish(_transport.encode_error(kind, message))
        raise tornado.web.Finish()

    async def run_blocking(self, fn, *args, heavy: bool = False):
        pool = self.pools.heavy if heavy else self.pools.light
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", _transport.JSON_TYPE)
        self.finish(_transport.encode_error("HTTPError", self._reason))


class PageHandler(_Base):
    async def get(self) -> None:
        token = self.config.token
        if token is not None and self.get_query_argument("token", None):
            # Remember the token so the page's own requests (video src, WebSocket) carry it.
            self.set_cookie(
                self.config.cookie_name, token, httponly=True, samesite="Strict", path="/"
            )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", _page.CSP)
        # The head (with the bundle's script tag) goes out first; the dataset list is queried
        # while the browser fetches and parses the bundle, and follows as the page's tail.
        self.write(_page.render_head(base="./", static_dir=self.config.static_dir))
        await self.flush()
        boot = None
        try:
            result, _ = await self.run_blocking(
                self.config.backend.dispatch, "list_datasets", {}, []
            )
            boot = {"list_datasets": result}
        except Exception:  # the page asks again over the API, which reports the error
            log.debug("list_datasets for the page failed", exc_info=True)
        datasets = (boot or {}).get("list_datasets", {}).get("datasets") or []
        if datasets:
            # The page opens the first dataset unless its URL names another (a #fragment the
            # server never sees): start on that one's first thumbnails now, while the browser
            # fetches and runs the bundle; cold, they are most of the time to first paint.
            # Not awaited: the page does not wait for them, the grid's first call will.
            done = self.pools.heavy.submit(
                self.config.backend.prefetch_thumbnails, str(datasets[0]["dataset_id"])
            )
            done.add_done_callback(_log_prefetch_failure)
        self.finish(_page.render_tail(boot))


def _log_prefetch_failure(done) -> None:
    if not done.cancelled() and done.exception() is not None:
        # Only a head start: the grid's own calls report any real problem.
        log.debug("thumbnail prefetch failed", exc_info=done.exception())


class StaticHandler(tornado.web.StaticFileHandler):
    """Bundled JS/CSS; tornado adds ETag/304 and ranges. Same access checks as everything."""

    def initialize(self, path: str, config: ServerConfig) -> None:  # type: ignore[override]
        super().initialize(path)
        self.config = config

    def prepare(self) -> None:
        _Base.check_access(self)  # type: ignore[arg-type]

    fail = _Base.fail

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")  # revalidate: a rebuilt bundle shows at once
        self.set_header("X-Content-Type-Options", "nosniff")


class HealthHandler(_Base):
    def get(self) -> None:
        self.set_header("Content-Type", _transport.JSON_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(
            _transport.dumps(
                {"status": "ok", "pid": os.getpid(), "db_file": db_file(), "version": __version__}
            )
        )


@tornado.web.stream_request_body
class ApiHandler(_Base):
    """Streams the body in, so an oversized one gets a 413 without being kept in memory
    (a plain handler only runs once the whole body is in)."""

    def prepare(self) -> None:
        super().prepare()
        self._chunks: list[bytes] = []
        self._received = 0
        declared = self.request.headers.get("Content-Length", "")
        if not declared.isdigit() or int(declared) <= MAX_BODY_BYTES:
            return
        # Answering before the body is read makes tornado close the connection under a client
        # that is still sending, which may then never see the 413. So that happens only for a
        # client waiting for "100 Continue" (it sends nothing more) or a body past tornado's
        # hard cap (refused anyway); any other oversized body is read, dropped, then answered.
        waits = self.request.headers.get("Expect", "").lower() == "100-continue"
        if waits or int(declared) > HARD_BODY_BYTES:
            self._too_large(int(declared))

    def data_received(self, chunk: bytes) -> None:
        # A chunked body has no Content-Length: count it as it comes, keep none past the cap.
        self._received += len(chunk)
        if self._received <= MAX_BODY_BYTES:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    def _too_large(self, size: int) -> None:
        self.fail(
            413,
            "PayloadTooLarge",
            f"the request body is {size} bytes; at most {MAX_BODY_BYTES} are accepted",
        )

    async def post(self, method: str) -> None:
        if self._received > MAX_BODY_BYTES:
            self._too_large(self._received)
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in ("application/json", _transport.FRAMES_TYPE):
            # Also what stops cross-site "simple" form posts: they cannot send these types.
            self.fail(415, "UnsupportedMediaType", "send params as application/json")
        try:
            params, incoming = _transport.decode_request(b"".join(self._chunks), ctype)
        except _transport.BadRequest as exc:
            self.fail(400, "BadRequest", f"invalid params: {exc}")
        try:
            result, buffers = await self.run_blocking(
                self.config.backend.dispatch,
                method,
                params,
                incoming,
                heavy=method in HEAVY_METHODS,
            )
        except UnknownMethodError:  # the wire keeps its name for it: clients check the type
            self.fail(404, "MethodNotFound", f"no api method {method!r}")
        except MediaRefused as exc:  # a sample's file: 403 refused, 404 missing
            self.fail(exc.status, type(exc).__name__, str(exc))
        except LightlyStudioError as exc:
            self.fail(400, type(exc).__name__, str(exc))
        except (TypeError, ValueError, KeyError) as exc:
            # Bad params from the client (missing/extra arguments, wrong types).
            self.fail(400, type(exc).__name__, str(exc))
        except Exception:
            log.exception("api method %s failed", method)
            self.fail(500, "InternalError", f"{method} failed; see the server log")
        ctype, body = _transport.encode_reply(result, buffers)
        self.set_header("Content-Type", ctype)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)


def _valid_sample_id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class ThumbnailHandler(_Base):
    async def get(self, sample_id: str) -> None:
        sid = _valid_sample_id(sample_id)
        if sid is None:
            self.fail(404, "NotFound", "no such sample")
        try:
            found = await self.run_blocking(self.config.backend.thumbnail, sid, heavy=True)
        except MediaRefused as exc:
            self.fail(exc.status, "Refused", str(exc))
        except Exception as exc:
            failure = _unreadable_image(exc, sid)
            if failure is None:
                raise
            self.fail(*failure)
        if found is None:
            self.fail(404, "NotFound", "no such sample")
        data, ctype = found
        etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
        self.set_header("ETag", etag)
        # Short max-age plus ETag: the grid scrolls back without requests, a changed file
        # shows after at most a minute (or at once on reload).
        self.set_header("Cache-Control", "private, max-age=60")
        if etag in _etags(self.request.headers.get("If-None-Match")):
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Type", ctype)
        self.finish(data)


def _unreadable_image(exc: BaseException, sample_id: str) -> tuple[int, str, str] | None:
    """(status, type, message) when making a thumbnail failed on the file itself — it is the
    user's file that is wrong, not the server, so a 4xx rather than a 500. None otherwise.

    PIL raises OSError (unidentified, truncated), ValueError (odd modes) and
    DecompressionBombError; PIL is not imported here (importing the server stays cheap)."""
    pil = sys.modules.get("PIL.Image")
    bomb = (pil.DecompressionBombError,) if pil is not None else ()
    if isinstance(exc, FileNotFoundError):
        return 404, "NotFound", f"the file of sample {sample_id} is gone"
    if not isinstance(exc, (OSError, ValueError, *bomb)):
        return None
    log.debug("thumbnail of %s failed", sample_id, exc_info=exc)
    return 422, "UnreadableImage", f"the file of sample {sample_id} cannot be read as an image"


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}


class MediaHandler(_Base):
    async def head(self, sample_id: str) -> None:
        await self.get(sample_id, head=True)

    async def get(self, sample_id: str, head: bool = False) -> None:
        sid = _valid_sample_id(sample_id)
        if sid is None:
            self.fail(404, "NotFound", "no such sample")
        registered = await self.run_blocking(self.config.backend.sample_file, sid)
        if registered is None:
            self.fail(404, "NotFound", "no such sample")
        if _media_access.is_remote(registered):
            await self._remote(registered, head)
            return
        try:
            info = await self.run_blocking(_media_access.resolve_local, registered)
            # Opened before any header is set, so a refusal is a clean error reply.
            fh = await self.run_blocking(_media_access.open_local, info)
        except MediaRefused as exc:
            self.fail(exc.status, "Refused", str(exc))
        with fh:
            await self._send_local(fh, info, head)

    def _byte_range(self, size: int) -> tuple[int, int] | None:
        """The (start, end inclusive) of a ``size``-byte file the request's Range asks for,
        with the 206 status and Content-Range set; the whole file when it asks for none;
        None once a range past the end has been answered with 416."""
        span = _media.parse_range(self.request.headers.get("Range"), size)
        if span == "unsatisfiable":
            self.set_status(416)
            self.set_header("Content-Range", f"bytes */{size}")
            self.finish()
            return None
        if span is None:
            return 0, size - 1
        start, end = span
        self.set_status(206)
        self.set_header("Content-Range", f"bytes {start}-{end}/{size}")
        return span

    async def _send_local(self, fh, info: LocalFile, head: bool) -> None:
        self.set_header("ETag", info.etag)
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Content-Type", info.content_type)
        if info.etag in _etags(self.request.headers.get("If-None-Match")):
            self.set_status(304)
            self.finish()
            return
        span = self._byte_range(info.size)
        if span is None:
            return
        start, end = span
        self.set_header("Content-Length", str(end - start + 1))
        if head or info.size == 0:
            self.finish()
            return
        fh.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            self.write(chunk)
            try:
                await self.flush()  # streams
            except StreamClosedError:
                return  # the browser dropped the range (a seek in the video): nothing to finish
        self.finish()

    async def _remote(self, url: str, head: bool) -> None:
        """fsspec files (s3://, gs://, …): read through fsspec, ranges honoured."""
        import fsspec

        try:
            content_type = _media_access.check_remote(url)
        except MediaRefused as exc:
            self.fail(exc.status, "Refused", str(exc))

        def stat() -> int:
            fs, path = fsspec.core.url_to_fs(url)
            return int(fs.size(path))

        try:
            size = await self.run_blocking(stat)
        # OSError: missing/unreadable (FileNotFoundError, PermissionError); ValueError: unknown
        # protocol; ImportError: its fsspec backend not installed; TypeError: no size known.
        except (OSError, ValueError, ImportError, TypeError):
            self.fail(404, "NotFound", "the sample's file cannot be read")
        span = self._byte_range(size)
        if span is None:
            return
        start, end = span
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "private, max-age=300")
        if head:
            self.finish()
            return

        def read() -> bytes:
            with fsspec.open(url, "rb") as fh:
                fh.seek(start)
                return fh.read(end - start + 1)

        self.finish(await self.run_blocking(read))


class EventSocket(tornado.websocket.WebSocketHandler):
    """Pushes events to the page; requests go over HTTP (cacheable, easy to load-test)."""

    def initialize(self, config: ServerConfig, hub: EventHub) -> None:
        self.config = config
        self.hub = hub

    def prepare(self) -> None:
        _Base.check_access(self)  # type: ignore[arg-type]

    fail = _Base.fail

    def check_origin(self, origin: str) -> bool:
        # Cross-site WebSocket hijacking: a page elsewhere must not open this socket.
        return _security.origin_allowed(origin, self.request.headers.get("Host", ""))

    def open(self) -> None:
        self.hub.clients.add(self)
        self.write_message(
            _transport.dumps(
                {"type": "event", "name": "hello", "payload": {"version": str(self.hub.version)}}
            )
        )

    def on_message(self, message: str | bytes) -> None:
        pass  # the page only listens

    def on_close(self) -> None:
        self.hub.clients.discard(self)


class EventHub:
    """Polls the backend's data version and tells every open page when it changed."""

    def __init__(self, config: ServerConfig, pools: Pools) -> None:
        self.config = config
        self.pools = pools
        self.clients: set[EventSocket] = set()
        self.version: Any = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for client in list(self.clients):
            client.close()

    def broadcast(self, name: str, payload: Any) -> None:
        message = _transport.dumps({"type": "event", "name": name, "payload": payload})
        for client in list(self.clients):
            try:
                client.write_message(message)
            except tornado.websocket.WebSocketClosedError:
                self.clients.discard(client)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        first = True
        while True:
            # The first fingerprint is taken at once: a page that loads and an edit made
            # right after it, both within one poll interval, must still count as a change.
            if not first:
                await asyncio.sleep(self.config.poll_interval_s)
            first = False
            if not self.clients and self.version is not None:
                continue  # nobody listens: no need to touch the DB
            try:
                version = await loop.run_in_executor(
                    self.pools.light, self.config.backend.data_version
                )
            except Exception:  # a reconnecting DB, a dataset being replaced: try again
                log.debug("data_version failed", exc_info=True)
                continue
            if self.version is not None and version != self.version:
                self.broadcast("data_changed", {"version": str(version)})
            self.version = version


def make_app(config: ServerConfig, pools: Pools, hub: EventHub) -> tornado.web.Application:
    common = {"config": config, "pools": pools}
    return tornado.web.Application(
        [
            (r"/", PageHandler, common),
            (r"/health", HealthHandler, common),
            (r"/favicon.ico", _NoContent, common),
            (API_ROUTE + r"([A-Za-z_][A-Za-z0-9_.]{0,80})", ApiHandler, common),
            (THUMBNAIL_ROUTE + r"([^/]+)", ThumbnailHandler, common),
            (MEDIA_ROUTE + r"([^/]+)", MediaHandler, common),
            (EVENTS_ROUTE, EventSocket, {"config": config, "hub": hub}),
            (r"/static/(.*)", StaticHandler, {"path": config.static_dir, "config": config}),
        ],
        compress_response=True,  # gzip for JSON/HTML/JS; images and frames are left alone
        default_handler_class=_NotFound,
        default_handler_args=common,
        websocket_max_message_size=1024 * 1024,
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # tornado logs every 4xx as a warning; in a notebook that is noise (a 304, a refused scan).
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    request = handler.request
    log.log(
        level,
        "%d %s %s (%s) %.1fms",
        status,
        request.method,
        request.uri,
        request.remote_ip,
        1000 * request.request_time(),
    )


class _NoContent(_Base):
    def get(self) -> None:
        self.set_status(204)
        self.finish()


class _NotFound(_Base):
    def prepare(self) -> None:
        self.check_access()  # 401/403 before 404: a scan without the token learns nothing
        self.fail(404, "NotFound", "no such route")
