"""Built-in operators: listed in the GUI's plugins menu like any plugin, and examples of how
to write one with the context object (dataset, scope, progress).

- Compute typicality: ``dataset.compute_typicality_metadata`` over the whole dataset.
- Compute similarity to a tag: ``dataset.compute_similarity_metadata``.
- Select diverse samples: ``query.selection().diverse`` over the scope (selection or filter).
- Find near-duplicates: ``dataset.find_duplicates``; tags every sample of a duplicate group.
- Export: ``DatasetExport(dataset, query)`` of the scope, in a format its ``to_*`` methods offer,
  or the list of file paths, written inside the export folder the Python user chose (see
  ``lightly_studio.export.view_exports``): the form names a file there, never a path elsewhere.

Heavy parts (torch, open_clip, pacmap) load inside ``execute`` only, through the dataset's methods.
"""

from __future__ import annotations

import inspect
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightly_studio.db import get_connection, transaction
from lightly_studio.export import DatasetExport, view_exports
from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.parameter import (
    BaseParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    StringParameter,
    TagParameter,
)
from lightly_studio.store import tags as tags_store
from lightly_studio.store._ids import as_uuid as _as_uuid

__all__ = [
    "ComputeSimilarityOperator",
    "ComputeTypicalityOperator",
    "ExportOperator",
    "FindNearDuplicatesOperator",
    "SelectDiverseOperator",
    "builtin_operators",
]


@dataclass
class ComputeTypicalityOperator(BaseOperator):
    name: str = "Compute typicality"
    description: str = (
        "Store each sample's typicality (how similar it is to its nearest "
        "neighbours in embedding space) as a metadata field, to sort or filter "
        "by it."
    )
    atomic = False  # embeddings may be computed by worker threads

    @property
    def parameters(self) -> list[BaseParameter]:
        return [
            StringParameter(
                name="metadata_name",
                default="typicality",
                description="Metadata field to write the scores to.",
            )
        ]

    def execute(self, *, session, collection_id, parameters, context=None) -> OperatorResult:
        ctx = context or session.context
        ctx.report_progress(0, 1, "Computing typicality…")
        key = ctx.dataset.compute_typicality_metadata(metadata_name=parameters["metadata_name"])
        ctx.report_progress(1, 1)
        return OperatorResult(
            success=True,
            data_changed=True,
            message=f"Stored typicality as metadata {key or parameters['metadata_name']!r}.",
        )


@dataclass
class ComputeSimilarityOperator(BaseOperator):
    name: str = "Compute similarity to a tag"
    description: str = (
        "Store each sample's highest similarity to the samples with a tag as a metadata field."
    )
    atomic = False

    @property
    def parameters(self) -> list[BaseParameter]:
        return [
            TagParameter(name="query_tag", description="Samples to compare against."),
            StringParameter(
                name="metadata_name",
                required=False,
                description="Metadata field to write (default: derived from the tag).",
            ),
        ]

    def execute(self, *, session, collection_id, parameters, context=None) -> OperatorResult:
        ctx = context or session.context
        ctx.report_progress(0, 1, "Computing similarity…")
        key = ctx.dataset.compute_similarity_metadata(
            query_tag_name=parameters["query_tag"],
            metadata_name=parameters.get("metadata_name") or None,
        )
        ctx.report_progress(1, 1)
        return OperatorResult(
            success=True,
            data_changed=True,
            message=f"Stored similarity to tag {parameters['query_tag']!r} as metadata {key!r}.",
        )


@dataclass
class SelectDiverseOperator(BaseOperator):
    name: str = "Select diverse samples"
    description: str = (
        "Tag a diverse subset (far apart in embedding space) of the samples in "
        "view: the selection, the active filter, or the whole dataset."
    )
    atomic = False

    @property
    def parameters(self) -> list[BaseParameter]:
        return [
            IntParameter(
                name="n_samples", default=10, min=1, description="How many samples to select."
            ),
            StringParameter(
                name="result_tag",
                default="diverse_selection",
                description="Tag given to the selected samples.",
            ),
        ]

    def execute(self, *, session, collection_id, parameters, context=None) -> OperatorResult:
        ctx = context or session.context
        ctx.report_progress(0, 1, f"Selecting from {ctx.scope.describe()}…")
        ctx.query().selection().diverse(
            n_samples_to_select=parameters["n_samples"],
            selection_result_tag_name=parameters["result_tag"],
        )
        ctx.report_progress(1, 1)
        n = tags_store.tagged_count(get_connection(), ctx.collection_id, parameters["result_tag"])
        return OperatorResult(
            success=True,
            data_changed=True,
            message=f"Tagged {n} diverse samples {parameters['result_tag']!r}.",
        )


@dataclass
class FindNearDuplicatesOperator(BaseOperator):
    name: str = "Find near-duplicates"
    description: str = (
        "Tag every sample that has a near-duplicate (embedding cosine distance "
        "below the threshold), to review or drop them."
    )
    atomic = False

    @property
    def parameters(self) -> list[BaseParameter]:
        return [
            FloatParameter(
                name="threshold",
                default=0.05,
                min=0.0,
                max=2.0,
                description="Largest cosine distance counted as a duplicate.",
            ),
            StringParameter(
                name="result_tag",
                default="near_duplicates",
                description="Tag given to the samples of each duplicate group.",
            ),
        ]

    def execute(self, *, session, collection_id, parameters, context=None) -> OperatorResult:
        ctx = context or session.context
        ctx.report_progress(0, 1, "Comparing embeddings…")
        groups = _duplicate_groups(ctx.dataset.find_duplicates(parameters["threshold"]))
        ids = [sid for group in groups for sid in group]
        if ids:
            with transaction() as con:
                tags_store.tag_sample_ids(con, ctx.collection_id, parameters["result_tag"], ids)
        ctx.report_progress(1, 1)
        return OperatorResult(
            success=True,
            data_changed=bool(ids),
            message=f"Found {len(groups)} groups of near-duplicates "
            f"({len(ids)} samples), tagged {parameters['result_tag']!r}.",
        )


@dataclass
class ExportOperator(BaseOperator):
    name: str = "Export"
    description: str = (
        "Write the samples in view (selection, filter or whole dataset) to a "
        "file: their labels in a standard format, or the list of file paths."
    )
    atomic = False  # writes files, not the database

    @property
    def parameters(self) -> list[BaseParameter]:
        return [
            EnumParameter(
                name="format",
                choices=_export_formats(),
                default="file_list",
                description="What to write.",
            ),
            StringParameter(
                name="output_path",
                default="export.txt",
                description="File name (or folder, for YOLO) inside the export "
                "folder; the format's suffix is added when missing "
                "and an existing file is never overwritten.",
            ),
        ]

    def execute(self, *, session, collection_id, parameters, context=None) -> OperatorResult:
        ctx = context or session.context
        fmt = parameters["format"]
        query = ctx.query()
        method = getattr(DatasetExport(ctx.dataset, query), f"to_{fmt}", None)
        if method is None:
            return OperatorResult(success=False, message=f"Export format {fmt!r} is not available.")
        ctx.report_progress(0, 1, f"Exporting {ctx.scope.describe()}…")
        try:
            reserved = view_exports.reserved_output(
                parameters["output_path"],
                view_exports.default_name(ctx.dataset.name, fmt),
                suffix=view_exports.suffix_for(fmt),
            )
            with reserved as out:
                result = method(str(out)) if _takes_argument(method) else method()
                if (
                    result is not None
                    and not isinstance(result, Path)
                    and out.is_file()
                    and out.stat().st_size == 0
                ):
                    # Methods that return the export instead of writing it: store it.
                    out.write_text(
                        result if isinstance(result, str) else json.dumps(result, default=str),
                        encoding="utf-8",
                    )
        except view_exports.ExportPathError as exc:
            return OperatorResult(success=False, data_changed=False, message=str(exc))
        ctx.report_progress(1, 1)
        return OperatorResult(
            success=True,
            data_changed=False,
            message=f"Exported {ctx.scope.describe()} as {fmt} to {out}.",
        )


def builtin_operators() -> list[BaseOperator]:
    return [
        ComputeTypicalityOperator(),
        ComputeSimilarityOperator(),
        SelectDiverseOperator(),
        FindNearDuplicatesOperator(),
        ExportOperator(),
    ]


# -- helpers ------------------------------------------------------------------------------------


def _export_formats() -> list[str]:
    """'file_list' (the default) first, then every other ``DatasetExport.to_<format>`` method."""
    formats = ["file_list"]
    for name, _member in inspect.getmembers(DatasetExport, callable):
        if name.startswith("to_") and not name.startswith("to__") and name != "to_file_list":
            formats.append(name[3:])
    return formats


def _takes_argument(method: Any) -> bool:
    try:
        params = [
            p
            for p in inspect.signature(method).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return True
    return bool(params)


def _duplicate_groups(found: Any) -> list[list[uuid.UUID]]:
    """Normalise what ``find_duplicates`` returns (groups of samples or ids, or a frame with a
    ``sample_id`` and a group column) into lists of sample ids, one per group of 2 or more."""
    import polars as pl

    if isinstance(found, pl.DataFrame):
        group_col = next((c for c in found.columns if c != "sample_id"), None)
        if group_col is None:
            return [[_as_uuid(s) for s in found["sample_id"].to_list()]] if found.height else []
        groups = found.group_by(group_col, maintain_order=True).agg(pl.col("sample_id"))
        return [[_as_uuid(s) for s in g] for g in groups["sample_id"].to_list() if len(g) > 1]
    out = []
    for group in found or []:
        members = group.values() if isinstance(group, dict) else group
        ids = [_as_uuid(getattr(m, "sample_id", m)) for m in members]
        if len(ids) > 1:
            out.append(ids)
    return out
