"""jupyter-server extension: the app under ``/lightly-studio/``, API calls forwarded to the kernel.

Enabled on install by ``jupyter-config/jupyter_server_config.d/lightly_studio.json``. It never
opens the database (DuckDB allows one process per file, and the kernel that called
``start_gui()`` owns it): it serves the page and the bundled JS itself, and forwards
``api/``, ``media/``, ``thumbnail/``, ``health`` and the events WebSocket to the newest live
GUI server found in Jupyter's runtime directory (see ``_runtime``). So JupyterLab, JupyterHub
and remote setups need only the Jupyter port, and Jupyter's own login protects everything.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from lightly_studio._wire import API_ROUTE, EVENTS_ROUTE, MEDIA_ROUTE, THUMBNAIL_ROUTE
from lightly_studio.server import _page, _runtime, _security

PREFIX = "lightly-studio"
_FORWARD_REQUEST_HEADERS = (
    "Range",
    "If-None-Match",
    "If-Modified-Since",
    "Accept-Encoding",
    "Content-Type",
)
_FORWARD_RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Range",
    "Content-Length",
    "ETag",
    "Cache-Control",
    "Accept-Ranges",
    "Content-Encoding",
    "Last-Modified",
)
_NO_SERVER = (
    "No LightlyStudio server is running. Start one in a notebook or script: "
    "import lightly_studio as ls; ls.start_gui()"
)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "lightly_studio.server.jupyter"}]


def _static_dir() -> str:
    return str(resources.files("lightly_studio") / "static")


def _target() -> dict[str, Any] | None:
    """The newest live GUI server whose runtime file names a loopback http URL: the runtime
    folder is the only say in where requests go (never anything from the client), and even a
    file put there by someone else cannot send them, with the token, off this machine."""
    servers = [s for s in _runtime.find_servers() if _loopback_url(s.get("internal_url"))]
    return servers[0] if servers else None


def _loopback_url(url: Any) -> bool:
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and port is not None
        and parts.path == "/"
        and not parts.query
        and not parts.username
        and _security.is_loopback(parts.hostname or "")
    )


def _send_json_error(handler: Any, status: int, kind: str, message: str) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"error": {"type": kind, "message": message}}))


def _upstream_headers(handler: Any, target: dict[str, Any]) -> dict[str, str]:
    """The request headers passed on to the GUI server, plus its token when it has one."""
    headers = {
        h: handler.request.headers[h]
        for h in _FORWARD_REQUEST_HEADERS
        if h in handler.request.headers
    }
    if target.get("token"):
        headers["X-Lightly-Studio-Token"] = target["token"]
    return headers


def _relay_response(handler: Any, resp: Any) -> None:
    """Status, the allowed headers and the body of the GUI server's answer, back to the client."""
    handler.set_status(resp.code if resp.code != 599 else 502)
    for name in _FORWARD_RESPONSE_HEADERS:
        if name in resp.headers and name != "Content-Length":
            handler.set_header(name, resp.headers[name])
    extra = handler.finish_kwargs(resp.headers.get("Content-Type", "application/json"))
    if resp.code == 304:  # tornado refuses any body (even b"") on a 304
        handler.finish(**extra)
    else:
        handler.finish(resp.body or b"", **extra)


async def _forward(handler: Any, method: str, path: str, body: bytes | None = None) -> None:
    """Send the request on to the newest live GUI server and relay its answer."""
    import tornado.httpclient

    target = _target()
    if target is None:
        _send_json_error(handler, 503, "NoServer", _NO_SERVER)
        return
    headers = _upstream_headers(handler, target)
    url = target["internal_url"] + path
    client = tornado.httpclient.AsyncHTTPClient()
    try:
        resp = await client.fetch(
            url,
            method=method,
            body=body,
            headers=headers,
            raise_error=False,
            decompress_response=False,
            request_timeout=600,
            follow_redirects=False,
        )
    except (OSError, tornado.httpclient.HTTPClientError) as exc:
        _send_json_error(handler, 502, "ServerGone", f"LightlyStudio server unreachable: {exc}")
        return
    _relay_response(handler, resp)


async def _connect_events(handler: Any) -> None:
    """Open the GUI server's events WebSocket for ``handler`` and start relaying it."""
    import tornado.httpclient
    import tornado.ioloop
    import tornado.websocket

    target = _target()
    if target is None:
        handler.close(1011, "no LightlyStudio server")
        return
    url = target["internal_url"].replace("http://", "ws://", 1) + "ws"
    headers = {"X-Lightly-Studio-Token": target["token"]} if target.get("token") else {}
    try:
        handler.upstream = await tornado.websocket.websocket_connect(
            tornado.httpclient.HTTPRequest(url, headers=headers)
        )
    except (OSError, tornado.httpclient.HTTPClientError, tornado.websocket.WebSocketError):
        handler.close(1011, "LightlyStudio server unreachable")
        return
    tornado.ioloop.IOLoop.current().add_callback(_pump_events, handler)


async def _pump_events(handler: Any) -> None:
    """Relay the GUI server's event messages to the client until either side closes."""
    import tornado.websocket

    while handler.upstream is not None:
        msg = await handler.upstream.read_message()
        if msg is None:
            handler.close()
            return
        try:
            await handler.write_message(msg, binary=isinstance(msg, bytes))
        except tornado.websocket.WebSocketClosedError:
            return


def _payload_too_large(handler: Any, max_body_bytes: int) -> bool:
    """Answer 413 when the body is over the GUI server's limit (it would refuse it too)."""
    size = len(handler.request.body)
    if size <= max_body_bytes:
        return False
    handler.set_status(413)
    handler.finish(
        {
            "error": {
                "type": "PayloadTooLarge",
                "message": f"the request body is {size} bytes; "
                f"at most {max_body_bytes} are accepted",
            }
        }
    )
    return True


def _handlers(base_url: str) -> list:
    # Imported here: this module is imported by anything that lists extensions.
    import tornado.web
    import tornado.websocket
    from jupyter_server.base.handlers import APIHandler, AuthenticatedFileHandler, JupyterHandler
    from jupyter_server.base.websocket import WebSocketMixin
    from jupyter_server.utils import url_path_join

    from lightly_studio.server._app import MAX_BODY_BYTES  # lazy: tornado, as above

    class PageHandler(JupyterHandler):
        @tornado.web.authenticated
        def get(self) -> None:
            _ = self.xsrf_token  # sets the _xsrf cookie the page's POSTs echo as X-XSRFToken
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Security-Policy", _page.CSP)
            self.finish(
                _page.render(base=url_path_join(base_url, PREFIX) + "/", static_dir=_static_dir())
            )

    class _Forward:
        """Shared by the API (JSON 403 when logged out) and the GET (login redirect) routes."""

        async def forward(self: Any, method: str, path: str, body: bytes | None = None) -> None:
            await _forward(self, method, path, body)

        def finish_kwargs(self, content_type: str) -> dict[str, Any]:
            return {}

    class ApiForward(_Forward, APIHandler):
        def finish_kwargs(self, content_type: str) -> dict[str, Any]:
            # APIHandler.finish would otherwise relabel binary frames as application/json.
            return {"set_content_type": content_type}

        @tornado.web.authenticated
        async def post(self, method: str) -> None:
            # The owner would refuse a body over its limit too; no need to copy it there first.
            if not _payload_too_large(self, MAX_BODY_BYTES):
                await self.forward("POST", f"api/{method}", self.request.body)

        @tornado.web.authenticated
        async def get(self) -> None:  # health
            await self.forward("GET", "health")

    class MediaForward(_Forward, JupyterHandler):
        @tornado.web.authenticated
        async def get(self, kind: str, sample_id: str) -> None:
            await self.forward("GET", f"{kind}/{sample_id}")

    class EventsForward(WebSocketMixin, tornado.websocket.WebSocketHandler, JupyterHandler):
        upstream: Any = None

        async def get(self, *args: Any, **kwargs: Any) -> None:
            if self.current_user is None:
                raise tornado.web.HTTPError(403)
            await super().get(*args, **kwargs)

        async def open(self, *args: Any) -> None:
            await _connect_events(self)

        def on_message(self, message: str | bytes) -> None:
            pass

        def on_close(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None

    root = url_path_join(base_url, PREFIX)
    media, thumbnail = MEDIA_ROUTE.strip("/"), THUMBNAIL_ROUTE.strip("/")
    return [
        (root, tornado.web.RedirectHandler, {"url": root + "/"}),
        (root + "/", PageHandler),
        (root + "/health", ApiForward),
        (root + API_ROUTE + r"([A-Za-z_][A-Za-z0-9_.]{0,80})", ApiForward),
        (root + rf"/({media}|{thumbnail})/([0-9a-fA-F-]{{32,36}})", MediaForward),
        (root + EVENTS_ROUTE, EventsForward),
        (root + "/static/(.*)", AuthenticatedFileHandler, {"path": _static_dir()}),
    ]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", _handlers(base_url))
    serverapp.log.info("LightlyStudio: serving the app at %s%s/", base_url, PREFIX)


# The name older notebook servers look for.
load_jupyter_server_extension = _load_jupyter_server_extension
