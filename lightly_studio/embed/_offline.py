"""Decide quickly whether model weights can be downloaded.

Offline, a bare Hugging Face hub lookup waits ~47 s before it fails. We answer in at most
``CONNECT_TIMEOUT_S``: ``HF_HUB_OFFLINE`` is honoured, and otherwise one TCP connect to the
hub (or the configured proxy) runs in a daemon thread, so even a hanging DNS lookup cannot
block the caller longer than the timeout.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

CONNECT_TIMEOUT_S = 3.0
_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """True when the user told Hugging Face tools not to use the network."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _target(url: str) -> tuple[str, int]:
    """Host and port that a request to ``url`` connects to first (a proxy if one is set)."""
    parsed = urlparse(url)
    scheme = parsed.scheme or "https"
    proxy = (
        os.environ.get(f"{scheme.upper()}_PROXY")
        or os.environ.get(f"{scheme}_proxy")
        or os.environ.get("ALL_PROXY")
        or os.environ.get("all_proxy")  # noqa: SIM112 - curl honours the lowercase spelling too
    )
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    host = parsed.hostname or ""
    if proxy and not any(host.endswith(d.strip().lstrip(".")) for d in no_proxy.split(",") if d):
        p = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        return p.hostname or "", p.port or 8080
    return host, parsed.port or (443 if scheme == "https" else 80)


def reachable(url: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to ``url`` (or its proxy) opens within ``timeout`` seconds."""
    host, port = _target(url)
    if not host:
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            result.append(False)

    # getaddrinfo() has no timeout of its own; the thread lets us walk away from it.
    thread = threading.Thread(target=probe, name="lightly-studio-net-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
