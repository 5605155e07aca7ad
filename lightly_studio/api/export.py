"""Export from the views: pick a format and a scope (all, the current filter, a selection).

Files land in the export folder the Python user chose (``export.view_exports``); the client only names
a file inside it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, query_from_spec, register_ids, uuid_list
from lightly_studio.errors import QueryError
from lightly_studio.export import DatasetExport, view_exports
from lightly_studio.export.formats import EXPORT_FORMATS

# Parameter names the exporter's to_<format>() methods may use for their output file.
_OUTPUT_PARAMS = (
    "output_json",
    "output_csv",
    "output_xml",
    "output_folder",
    "output_path",
    "output_file",
    "output_dir",
    "path",
    "output",
)


def _exporter(dataset, query):
    return dataset.export(query)


@method("export_formats", c.NoParams, c.ExportFormatsResult)
def export_formats(params: dict) -> tuple[Any, list[bytes]]:
    """The formats of the registry (export/formats.py) the exporter writes, in its order:
    ``formats`` their names, ``details`` name/label/writes/extension/description each; and
    the folder exports go to."""
    offered = [f for f in EXPORT_FORMATS if callable(getattr(DatasetExport, f"to_{f.name}", None))]
    return {
        "formats": [f.name for f in offered],
        "details": [f.as_dict() for f in offered],
        "export_dir": str(view_exports.export_dir()),
    }, []


@method("export", c.ExportParams, c.ExportResult)
def export(params: dict) -> tuple[Any, list[bytes]]:
    """Write an export. params: dataset_id, format, scope ('all'|'filter'|'selection'),
    spec (for 'filter'), sample_ids (for 'selection'), output (a file name inside the export
    folder; default ``<dataset>_<format>.json``). Returns the written path.

    Raises ExportPathError when ``output`` would leave the export folder."""
    dataset = dataset_of(params.get("dataset_id"))
    scope = params.get("scope", "filter")
    if scope == "all":
        query = dataset.query()
    elif scope == "filter":
        query = query_from_spec(
            {**(params.get("spec") or {}), "dataset_id": str(dataset.dataset_id)}
        )
    elif scope == "selection":
        ids = [str(i) for i in uuid_list(params.get("sample_ids"))]
        if not ids:
            raise QueryError("The selection is empty: select samples before exporting it.")
        query = query_from_spec({"dataset_id": str(dataset.dataset_id), "ids": register_ids(ids)})
    else:
        raise QueryError(f"Export scope must be all, filter or selection, got {scope!r}.")
    fmt = params.get("format")
    exporter = _exporter(dataset, query)
    method = getattr(exporter, f"to_{fmt}", None) if isinstance(fmt, str) else None
    if method is None or not isinstance(fmt, str):
        raise QueryError(f"Unknown export format {fmt!r}.")
    sig = inspect.signature(method)
    name = next((p for p in _OUTPUT_PARAMS if p in sig.parameters), None)
    with view_exports.reserved_output(
        params.get("output"),
        view_exports.default_name(dataset.name, fmt),
        suffix=view_exports.suffix_for(fmt),
    ) as output:
        result = method(**{name: str(output)}) if name else method(str(output))
    written = str(result) if isinstance(result, (str, Path)) else str(output)
    return {"path": written, "format": fmt, "scope": scope, "count": query.count()}, []
