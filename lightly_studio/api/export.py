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
from lightly_studio.export import DatasetExport, downloads, view_exports
from lightly_studio.export.formats import EXPORT_FORMATS, ExportFormat, export_format

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


def _offered() -> list[ExportFormat]:
    """The registered formats this installation's exporter writes (a ``to_<name>`` method)."""
    return [f for f in EXPORT_FORMATS if callable(getattr(DatasetExport, f"to_{f.name}", None))]


@method("export_formats", c.NoParams, c.ExportFormatsResult)
def export_formats(params: dict) -> tuple[Any, list[bytes]]:
    """The formats the export dialog offers (from ``export.formats``, in its order), each with
    its label and whether it writes a file (with which suffix) or a folder; and the folder
    exports go to."""
    offered = _offered()
    return {
        "formats": [f.name for f in offered],
        "details": [f.as_dict() for f in offered],
        "export_dir": str(view_exports.export_dir()),
    }, []


# Suffixes of file formats: a name the user typed with another format's suffix gets this
# format's instead (``labels.json`` for CSV becomes ``labels.csv``; for YOLO, folder ``labels``).
_KNOWN_SUFFIXES = {f.extension for f in EXPORT_FORMATS if f.extension} | {".txt", ".zip"}


def _output_for_format(requested: object, fmt: str) -> object:
    if not isinstance(requested, str) or not requested.strip():
        return None
    name = requested.strip()
    stem, dot, ext = name.rpartition(".")
    if dot and stem and "/" not in ext and f".{ext.lower()}" in _KNOWN_SUFFIXES:
        wanted = view_exports.suffix_for(fmt)
        if wanted is None or f".{ext.lower()}" != wanted:
            name = stem  # reserved_output adds the format's own suffix (none for a folder)
    return name


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
    kwargs: dict[str, Any] = {}
    source = params.get("annotation_source")
    if source not in (None, ""):
        if not isinstance(source, str):
            raise QueryError(f"annotation_source must be a source name, got {source!r}.")
        if "annotation_source" not in sig.parameters:
            raise QueryError(f"Format {fmt!r} does not pick an annotation source.")
        kwargs["annotation_source"] = source
    with view_exports.reserved_output(
        _output_for_format(params.get("output"), fmt),
        view_exports.default_name(dataset.name, fmt),
        suffix=view_exports.suffix_for(fmt),
    ) as output:
        if name:
            kwargs[name] = str(output)
            result = method(**kwargs)
        else:
            result = method(str(output), **kwargs)
    written = str(result) if isinstance(result, (str, Path)) else str(output)
    registered = export_format(fmt)
    return {
        "path": written,
        "format": fmt,
        "scope": scope,
        "count": query.count(),
        # What the dialog's Download button asks for: the file, or the whole folder (zipped).
        "download": output.relative_to(view_exports.export_dir()).as_posix(),
        "writes": registered.writes if registered else ("file" if output.is_file() else "folder"),
    }, []


@method("export_download", c.ExportDownloadParams, c.ExportDownloadResult, buffers_out=True)
def export_download(params: dict) -> tuple[Any, list[bytes]]:
    """The bytes of an export in the export folder (a folder zipped), for the browser to save.
    params: path (relative to the export folder, as ``export`` answered in ``download``).
    Raises ExportPathError for anything outside the folder, a link, or not an export."""
    file_name, mime, data = downloads.read_export(params.get("path"))
    return {"name": file_name, "mime": mime, "size": len(data)}, [data]
