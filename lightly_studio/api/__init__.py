"""The one service surface the views use: transport-free functions over JSON and bytes.

``dispatch(method, params)`` runs a method from ``METHODS`` and returns ``(result, buffers)``:
a JSON-able result and a list of binary buffers (thumbnails, Float32 coordinates). Errors a
user can cause raise a ``LightlyStudioError``; adapters (the notebook widgets' comm handler,
the full-page app's HTTP server) turn any exception into an error reply with
``error_payload``. Methods report progress with ``lightly_studio.api.report``.

``METHODS`` (name -> ``Method``) is built by the ``@method`` declarations in the modules
imported below (``api/_methods.py``; the JSON shapes are in ``api/_contracts.py``).
"""

from __future__ import annotations

from typing import Any

from lightly_studio.api import annotator as _annotator  # noqa: F401 - registers its methods
from lightly_studio.api import classifier as _classifier  # noqa: F401
from lightly_studio.api import crops as _crops  # noqa: F401
from lightly_studio.api import distributions as _distributions  # noqa: F401
from lightly_studio.api import evaluation as _evaluation  # noqa: F401
from lightly_studio.api import export as _export  # noqa: F401
from lightly_studio.api import facets as _facets  # noqa: F401
from lightly_studio.api import groups as _groups  # noqa: F401
from lightly_studio.api import image_search as _image_search  # noqa: F401
from lightly_studio.api import operators as _operators  # noqa: F401
from lightly_studio.api import plot as _plot  # noqa: F401
from lightly_studio.api import query_text as _query_text  # noqa: F401
from lightly_studio.api import samples as _samples  # noqa: F401
from lightly_studio.api import settings as _settings  # noqa: F401
from lightly_studio.api import tags as _tags  # noqa: F401
from lightly_studio.api import video as _video  # noqa: F401
from lightly_studio.api._methods import METHODS, Method, Result
from lightly_studio.api._progress import report, reset_reporter, set_reporter
from lightly_studio.api._spec import query_from_spec, register_ids, register_query
from lightly_studio.errors import LightlyStudioError, UnknownMethodError


def dispatch(method: str, params: dict | None = None, buffers: list[bytes] | None = None) -> Result:
    """Run ``method`` with ``params`` (and the incoming binary ``buffers``, for methods
    declared ``buffers_in``)."""
    entry = METHODS.get(method)
    if entry is None:
        raise UnknownMethodError(
            f"Unknown api method {method!r}; known: {', '.join(sorted(METHODS))}."
        )
    params = params or {}
    if not isinstance(params, dict):
        raise UnknownMethodError(f"Params of {method!r} must be a JSON object.")
    result, out = entry(params, buffers or [])
    return result, list(out)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What an error reply carries: the exception's class name and message.

    Unexpected exceptions keep their type name so bugs stay diagnosable in the view.
    """
    return {
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "expected": isinstance(exc, LightlyStudioError),
    }


__all__ = [
    "METHODS",
    "LightlyStudioError",
    "Method",
    "UnknownMethodError",
    "dispatch",
    "error_payload",
    "query_from_spec",
    "register_ids",
    "register_query",
    "report",
    "reset_reporter",
    "set_reporter",
]
