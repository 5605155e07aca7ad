"""The one service surface the views use: transport-free functions over JSON and bytes.

``dispatch(method, params)`` runs a method from ``METHODS`` and returns ``(result, buffers)``:
a JSON-able result and a list of binary buffers (thumbnails, Float32 coordinates). Errors a
user can cause raise a ``LightlyStudioError``; adapters (the notebook widgets' comm handler,
the full-page app's HTTP server) turn any exception into an error reply with
``error_payload``. Methods report progress with ``lightly_studio.api.report``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from lightly_studio.api import annotator as _annotator
from lightly_studio.api import export as _export
from lightly_studio.api import facets as _facets
from lightly_studio.api import operators as _operators
from lightly_studio.api import plot as _plot
from lightly_studio.api import samples as _samples
from lightly_studio.api._progress import report, reset_reporter, set_reporter
from lightly_studio.api._spec import query_from_spec, register_ids, register_query
from lightly_studio.errors import LightlyStudioError

Result = tuple[Any, list[bytes]]

METHODS: dict[str, Callable[..., Result]] = {
    "list_datasets": _samples.list_datasets,
    "count": _samples.count,
    "samples_page": _samples.samples_page,
    "thumbnails": _samples.thumbnails,
    "image": _samples.image,
    "sample_detail": _samples.sample_detail,
    "tag_samples": _samples.tag_samples,
    "select_ids": _samples.select_ids,
    "facets": _facets.facets,
    "plot_points": _plot.plot_points,
    "plot_ids": _plot.plot_ids,
    "plot_select": _plot.plot_select,
    "plot_indices": _plot.plot_indices,
    "plot_colors": _plot.plot_colors,
    "export_formats": _export.export_formats,
    "export": _export.export,
}
# The annotator and the plugins menu keep their methods beside their code.
METHODS.update(_annotator.METHODS)
METHODS.update(_operators.METHODS)


class UnknownMethodError(LightlyStudioError):
    """Raised for a method name that is not in METHODS (a client/server version mismatch)."""


def _takes_buffers(fn: Callable) -> bool:
    return len(inspect.signature(fn).parameters) >= 2


def dispatch(method: str, params: dict | None = None, buffers: list[bytes] | None = None
             ) -> Result:
    """Run ``method`` with ``params`` (and incoming binary ``buffers``, for methods taking them)."""
    fn = METHODS.get(method)
    if fn is None:
        raise UnknownMethodError(f"Unknown api method {method!r}; known: {', '.join(sorted(METHODS))}.")
    params = params or {}
    if not isinstance(params, dict):
        raise UnknownMethodError(f"Params of {method!r} must be a JSON object.")
    result, out = fn(params, buffers or []) if _takes_buffers(fn) else fn(params)
    return result, list(out)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What an error reply carries: the exception's class name and message.

    Unexpected exceptions keep their type name so bugs stay diagnosable in the view.
    """
    return {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__,
            "expected": isinstance(exc, LightlyStudioError)}


__all__ = ["METHODS", "LightlyStudioError", "dispatch", "error_payload", "query_from_spec", "register_ids",
           "register_query", "report", "reset_reporter", "set_reporter"]
