"""Progress reporting from inside an api method, without knowing the transport.

An adapter sets a reporter for the call (a context variable, so threads do not mix);
methods call ``report(done, total, message)``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

Reporter = Callable[[int, "int | None", str], None]
_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "lightly_studio_progress", default=None
)


def report(done: int, total: int | None = None, message: str = "") -> None:
    cb = _reporter.get()
    if cb is not None:
        cb(done, total, message)


def set_reporter(cb: Reporter | None) -> contextvars.Token:
    return _reporter.set(cb)


def reset_reporter(token: contextvars.Token) -> None:
    _reporter.reset(token)
