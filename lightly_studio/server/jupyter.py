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
_FORWARD_REQUEST_HEADERS = ("Range", "If-None-Match", "If-Modified-Since", "Accept-Encoding",
                            "Content-Type")
_FORWARD_RESPONSE_HEADERS = ("Content-Type", "Content-Range", "Content-Length", "ETag",
                             "Cache-Control", "Accept-Ranges", "Content-Encoding", "Last-Modified")
_NO_SERVER = ("No LightlyStudio server is running. Start one in a notebook or script: "
              "import lightly_studio as ls; ls.start_gui()")


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
    return (parts.scheme == "http" and port is not None and parts.path == "/"
            and not parts.query and not parts.username
            and _security.is_loopback(parts.hostname or ""))


def _handlers(base_url: str) -> list:
    # Imported here: this module is imported by anything that lists extensions.
    import tornado.httpclient
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
            self.finish(_page.render(base=url_path_join(base_url, PREFIX) + "/",
                                     static_dir=_static_dir()))

    class _Forward:
        """Shared by the API (JSON 403 when logged out) and the GET (login redirect) routes."""

        async def forward(self: Any, method: str, path: str, body: bytes | None = None) -> None:
            target = _target()
            if target is None:
                self.set_status(503)
                self.set_header("Content-Type", "application/json")
                self.finish(json.dumps({"error": {"type": "NoServer", "message": _NO_SERVER}}))
                return
            headers = {h: self.request.headers[h] for h in _FORWARD_REQUEST_HEADERS
                       if h in self.request.headers}
            if target.get("token"):
                headers["X-Lightly-Studio-Token"] = target["token"]
            url = target["internal_url"] + path
            client = tornado.httpclient.AsyncHTTPClient()
            try:
                resp = await client.fetch(url, method=method, body=body, headers=headers,
                                          raise_error=False, decompress_response=False,
                                          request_timeout=600, follow_redirects=False)
            except (OSError, tornado.httpclient.HTTPClientError) as exc:
                self.set_status(502)
                self.set_header("Content-Type", "application/json")
                self.finish(json.dumps({"error": {"type": "ServerGone", "message":
                                                  f"LightlyStudio server unreachable: {exc}"}}))
                return
            self.set_status(resp.code if resp.code != 599 else 502)
            for name in _FORWARD_RESPONSE_HEADERS:
                if name in resp.headers and name != "Content-Length":
                    self.set_header(name, resp.headers[name])
            extra = self.finish_kwargs(resp.headers.get("Content-Type", "application/json"))
            if resp.code == 304:  # tornado refuses any body (even b"") on a 304
                self.finish(**extra)
            else:
                self.finish(resp.body or b"", **extra)

        def finish_kwargs(self, content_type: str) -> dict[str, Any]:
            return {}

    class ApiForward(_Forward, APIHandler):
        def finish_kwargs(self, content_type: str) -> dict[str, Any]:
            # APIHandler.finish would otherwise relabel binary frames as application/json.
            return {"set_content_type": content_type}

        @tornado.web.authenticated
        async def post(self, method: str) -> None:
            if len(self.request.body) > MAX_BODY_BYTES:
                # The owner would refuse it too; no need to copy it there first.
                self.set_status(413)
                self.finish({"error": {"type": "PayloadTooLarge", "message":
                                       f"the request body is {len(self.request.body)} bytes; "
                                       f"at most {MAX_BODY_BYTES} are accepted"}})
                return
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
            target = _target()
            if target is None:
                self.close(1011, "no LightlyStudio server")
                return
            url = target["internal_url"].replace("http://", "ws://", 1) + "ws"
            headers = {"X-Lightly-Studio-Token": target["token"]} if target.get("token") else {}
            try:
                self.upstream = await tornado.websocket.websocket_connect(
                    tornado.httpclient.HTTPRequest(url, headers=headers))
            except Exception:
                self.close(1011, "LightlyStudio server unreachable")
                return
            tornado.ioloop.IOLoop.current().add_callback(self._pump)

        async def _pump(self) -> None:
            while self.upstream is not None:
                msg = await self.upstream.read_message()
                if msg is None:
                    self.close()
                    return
                try:
                    await self.write_message(msg, binary=isinstance(msg, bytes))
                except tornado.websocket.WebSocketClosedError:
                    return

        def on_message(self, message: str | bytes) -> None:
            pass

        def on_close(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None

    import tornado.ioloop

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
