"""Who may talk to the GUI server: token, Host and Origin checks.

The rules, in the order a request meets them:

1. Token. A server bound to anything but loopback requires a random token (or the one given in
   ``LIGHTLY_STUDIO_TOKEN``). It is accepted from the ``token`` query parameter (the printed URL),
   an ``X-Lightly-Studio-Token`` or ``Authorization: token …`` header, or the cookie the page sets
   after the first visit with the token (so ``<video src>`` and thumbnails work). Missing: 401;
   wrong: 403.
2. Host. Without a token (loopback bind) the ``Host`` header must name loopback: a web page on
   another site that re-points its DNS name at 127.0.0.1 (DNS rebinding) is refused.
3. Origin. Browsers send ``Origin`` on cross-site POSTs and WebSocket handshakes; it must match
   the ``Host``. No CORS headers are ever sent, so other sites cannot read responses either,
   and POST bodies must be ``application/json`` (a "simple" cross-site form post cannot be).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

TOKEN_HEADER = "X-Lightly-Studio-Token"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """True for names and addresses only this machine can reach (``0.0.0.0`` is not one)."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host_header(value: str) -> str:
    """``"127.0.0.1:8001"`` -> ``"127.0.0.1"``, ``"[::1]:8001"`` -> ``"::1"``."""
    value = value.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def token_from_request(
    query: Mapping[str, list[bytes]],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    cookie_name: str,
) -> str | None:
    if query.get("token"):
        return query["token"][0].decode("utf-8", "replace")
    if headers.get(TOKEN_HEADER):
        return headers[TOKEN_HEADER]
    auth = headers.get("Authorization", "")
    if auth.lower().startswith("token "):
        return auth[6:].strip()
    return cookies.get(cookie_name)


def token_matches(given: str | None, expected: str) -> bool:
    # Constant-time so a client cannot learn the token byte by byte from response times.
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def origin_allowed(origin: str | None, host_header: str) -> bool:
    """Same-origin requests (or none: curl, the Jupyter proxy) pass; cross-site ones do not."""
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host_header.strip().lower()
