"""The api's method table, built by ``@method``: one declaration per view-callable method.

Each handler declares its contract where it is defined::

    @method("samples_page", c.SamplesPageParams, c.SamplesPageResult, buffers_out=True)
    def samples_page(params: dict) -> tuple[Any, list[bytes]]: ...

``params`` and ``result`` are TypedDicts (``api/_contracts.py``) describing the JSON the view
sends and gets; ``buffers_in`` says the handler takes the request's binary buffers as its
second argument (``handler(params, buffers)``), ``buffers_out`` that its reply carries binary
buffers. Nothing is inferred from the handler's signature. The TypeScript side mirrors the
table in ``js/src/transport/methods.ts``; ``tests/api/test_contracts.py`` checks both list the
same methods.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, is_typeddict

Result = tuple[Any, list[bytes]]


class Method:
    """A registered method: its name, handler and contract. Calling it runs the handler with
    the buffers when it takes them: ``entry(params)`` or ``entry(params, buffers)``."""

    def __init__(
        self,
        name: str,
        fn: Callable[..., Result],
        params: type,
        result: type,
        *,
        buffers_in: bool,
        buffers_out: bool,
    ) -> None:
        self.name = name
        self.fn = fn
        self.params = params
        self.result = result
        self.buffers_in = buffers_in
        self.buffers_out = buffers_out
        # __module__, __name__, __doc__, __wrapped__ of the handler: introspection sees it.
        functools.update_wrapper(self, fn)

    def __call__(self, params: dict, buffers: list[bytes] | None = None) -> Result:
        if self.buffers_in:
            return self.fn(params, list(buffers or []))
        return self.fn(params)

    def __repr__(self) -> str:
        return f"<api method {self.name!r}: {self.fn.__module__}.{self.fn.__qualname__}>"


METHODS: dict[str, Method] = {}


def method(
    name: str, params: type, result: type, *, buffers_in: bool = False, buffers_out: bool = False
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register the decorated handler as the api method ``name`` (the handler is returned
    unchanged, so modules and tests call it as before)."""
    for what, cls in (("params", params), ("result", result)):
        if not is_typeddict(cls):
            raise TypeError(f"api method {name!r}: {what} must be a TypedDict, got {cls!r}")

    def register(fn: Callable[..., Result]) -> Callable[..., Result]:
        if name in METHODS:
            raise ValueError(
                f"api method {name!r} is registered twice "
                f"({METHODS[name].fn.__module__} and {fn.__module__})"
            )
        METHODS[name] = Method(
            name, fn, params, result, buffers_in=buffers_in, buffers_out=buffers_out
        )
        return fn

    return register
