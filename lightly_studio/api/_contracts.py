"""The JSON each api method takes and answers, as TypedDicts (see ``api/_methods.py``).

Params are ``total=False``: handlers read them with ``params.get`` and check each value
themselves (a missing or wrong one raises a ``LightlyStudioError`` naming it), so these types
document the shape rather than validate it. Result types list every key a reply may carry;
keys only some replies carry sit in a ``total=False`` base class. The view-side mirror is
``js/src/transport/methods.ts``.
"""

from __future__ import annotations

from typing import Any, TypedDict

Spec = dict[str, Any]
"""A query spec (``api/_spec.py``): dataset_id, tags, labels, ranges, ids, base, …"""

Json = Any


# --- samples ---------------------------------------------------------------------------------


class NoParams(TypedDict, total=False):
    pass


class DatasetRow(TypedDict):
    dataset_id: str
    name: str
    kind: str
    count: int


class ListDatasetsResult(TypedDict):
    datasets: list[DatasetRow]


class CountParams(TypedDict, total=False):
    spec: Spec


class CountResult(TypedDict):
    count: int


class SamplesPageParams(TypedDict, total=False):
    spec: Spec
    offset: int
    limit: int
    thumbnails: int  # also return the first n rows' thumbnails as buffers
    annotations: bool
    masks: bool


class GridAnnotation(TypedDict, total=False):
    annotation_id: str
    label: str
    type: str
    source: str
    confidence: float | None
    box: list[float]  # x, y, w, h in pixels
    rle: list[int]


class PageRow(TypedDict, total=False):
    sample_id: str
    file_name: str
    width: int
    height: int
    kind: str
    tags: list[str]
    annotations: list[GridAnnotation]
    captions: list[str]
    similarity: float


class _SamplesPageThumbnails(TypedDict, total=False):
    thumbnail_errors: list[str | None]
    mime: str


class SamplesPageResult(_SamplesPageThumbnails):
    offset: int
    rows: list[PageRow]


class ThumbnailsParams(TypedDict, total=False):
    dataset_id: str
    sample_ids: list[str]


class ThumbnailsResult(TypedDict):
    sample_ids: list[str]
    errors: list[str | None]
    mime: str


class SampleRef(TypedDict, total=False):
    dataset_id: str
    sample_id: str


class ImageResult(TypedDict):
    mime: str
    size: int


class SampleDetailResult(TypedDict):
    sample_id: str
    dataset_id: str
    fields: dict[str, Json]
    tags: list[str]
    metadata: dict[str, Json]
    annotations: list[GridAnnotation]
    captions: list[str]


class TagSamplesParams(TypedDict, total=False):
    tag: str
    remove: bool
    spec: Spec  # every sample of a spec, or:
    dataset_id: str
    sample_ids: list[str]


class TagSamplesResult(TypedDict):
    tag: str
    changed: int


class SelectIdsParams(TypedDict, total=False):
    sample_ids: list[str]


class IdSetResult(TypedDict):
    ids: str | None  # a token for a spec's "ids"
    count: int


# --- facets ----------------------------------------------------------------------------------


class FacetsParams(TypedDict, total=False):
    spec: Spec
    bins: int


class FacetsResult(TypedDict):
    count: int
    total: int
    tags: list[dict[str, Json]]
    labels: list[dict[str, Json]]
    sources: list[str]
    numeric: dict[str, dict[str, Json]]
    metadata: list[dict[str, Json]]


# --- plot ------------------------------------------------------------------------------------


class PlotPointsParams(TypedDict, total=False):
    dataset_id: str
    embedding_model: str | None


class PlotPointsResult(TypedDict):
    token: str
    count: int


class PlotIndicesIn(TypedDict, total=False):
    token: str
    indices: list[int]  # or a Uint32 buffer of indices


class PlotIdsResult(TypedDict):
    sample_ids: list[str]


class PlotIndicesParams(TypedDict, total=False):
    token: str
    spec: Spec


class PlotCountResult(TypedDict):
    count: int


class PlotColorsParams(TypedDict, total=False):
    token: str
    by: str  # "", "none", "label", "tag:<name>", "metadata:<key>"


class _PlotColorsContinuous(TypedDict, total=False):
    continuous: bool


class PlotColorsResult(_PlotColorsContinuous):
    legend: list[str]


# --- export ----------------------------------------------------------------------------------


class ExportFormatsResult(TypedDict):
    formats: list[str]
    export_dir: str


class ExportParams(TypedDict, total=False):
    dataset_id: str
    format: str
    scope: str  # all | filter | selection
    spec: Spec
    sample_ids: list[str]
    output: str | None  # a file name inside the export folder; None: the default name


class ExportResult(TypedDict):
    path: str
    format: str
    scope: str
    count: int


# --- annotator -------------------------------------------------------------------------------


class Annotation(TypedDict):
    annotation_id: str
    sample_id: str
    label: str
    type: str
    source: str
    confidence: float | None
    box: list[float] | None
    rle: list[int] | None
    polygon: list[list[float]] | None
    iscrowd: bool
    version: int


class Caption(TypedDict):
    caption_id: str
    text: str


class LabelCount(TypedDict):
    name: str
    count: int


class LabelsResult(TypedDict):
    labels: list[LabelCount]
    sources: list[str]


class AnnotatorSampleParams(TypedDict, total=False):
    dataset_id: str
    sample_id: str
    spec: Spec
    index: int
    image: bool  # also return the original file as the one buffer


class _AnnotatorSampleOptional(TypedDict, total=False):
    annotations: list[Annotation]
    captions: list[Caption]
    labels: list[LabelCount]
    sources: list[str]
    revision: str
    mime: str


class AnnotatorSampleResult(_AnnotatorSampleOptional):
    sample: dict[str, Json] | None
    index: int | None
    total: int | None


class SampleIdParams(TypedDict, total=False):
    sample_id: str


class RevisionResult(TypedDict):
    sample_id: str
    revision: str


class DatasetIdParams(TypedDict, total=False):
    dataset_id: str


class LabelCreateParams(TypedDict, total=False):
    dataset_id: str
    name: str


class LabelCreateResult(LabelsResult):
    label_id: str
    name: str


class AnnotationCreateParams(TypedDict, total=False):
    sample_id: str
    annotation: dict[str, Json]  # type, label, source?, confidence?, box? | polygon? | rle?


class AnnotationResult(TypedDict):
    annotation: Annotation
    revision: str


class AnnotationUpdateParams(TypedDict, total=False):
    annotation_id: str
    version: int
    changes: dict[str, Json]  # label?, box?, polygon?, rle?, confidence?


class AnnotationRef(TypedDict, total=False):
    annotation_id: str
    version: int  # checked when given


class AnnotationDeleteResult(TypedDict):
    deleted: Annotation
    revision: str


class ClassificationAddParams(TypedDict, total=False):
    sample_id: str
    label: str


class ClassificationAddResult(AnnotationResult):
    created: bool


class CaptionAddParams(TypedDict, total=False):
    sample_id: str
    text: str
    caption_id: str | None  # only to put a deleted caption back (undo)
    created_at: str | None


class CaptionResult(TypedDict):
    caption: Caption
    revision: str


class CaptionUpdateParams(TypedDict, total=False):
    caption_id: str
    text: str


class CaptionUpdateResult(CaptionResult):
    old_text: str


class CaptionRef(TypedDict, total=False):
    caption_id: str


class DeletedCaption(TypedDict):
    caption_id: str
    text: str
    created_at: str


class CaptionDeleteResult(TypedDict):
    deleted: DeletedCaption
    revision: str


# --- operators -------------------------------------------------------------------------------


class OperatorsListParams(TypedDict, total=False):
    dataset_id: str


class OperatorsListResult(TypedDict):
    operators: list[dict[str, Json]]
    entry_point_errors: list[Json]


class OperatorRunParams(TypedDict, total=False):
    dataset_id: str
    operator: str
    parameters: dict[str, Json]
    scope: dict[str, Json]  # {"kind": "dataset" | "selection" | "filter", ...}
    wait: bool
    timeout_s: float | None


class RunRef(TypedDict, total=False):
    run_id: str


class RunStatus(TypedDict, total=False):
    """A run's status (``plugins.runner.Run.to_json``), or ``status: "invalid"`` with
    ``errors`` when the parameters were rejected."""

    run_id: str
    operator: str
    dataset_id: str
    scope: Json
    status: str
    finished: bool
    cancel_requested: bool
    progress: float | None
    progress_done: int | None
    progress_total: int | None
    progress_message: str | None
    result: Json
    message: str
    success: bool | None
    errors: dict[str, str]


# --- text query (the query box) ----------------------------------------------------------------


class QueryCheckParams(TypedDict, total=False):
    dataset_id: str
    text: str


class QueryTextProblem(TypedDict):
    message: str
    offset: int
    line: int
    column: int


class QueryCheckResult(TypedDict):
    python: str | None  # the equivalent Python DSL expression, when the text is a query
    error: QueryTextProblem | None
    count: int | None  # samples the query matches over the whole dataset


class QueryCompletionsParams(TypedDict, total=False):
    dataset_id: str
    text: str
    offset: int


class QueryCompletion(TypedDict):
    label: str  # what the list shows
    insert: str  # what replaces text[start:end]
    kind: str  # field | function | keyword | operator | tag | class | source | metadata
    detail: str


class QueryCompletionsResult(TypedDict):
    start: int
    end: int
    candidates: list[QueryCompletion]


# --- tag management ----------------------------------------------------------------------------


class TagCreateParams(TypedDict, total=False):
    dataset_id: str
    name: str


class TagRenameParams(TypedDict, total=False):
    dataset_id: str
    old: str
    new: str


class TagDeleteParams(TypedDict, total=False):
    dataset_id: str
    name: str


class TagChangeResult(TypedDict):
    name: str
    count: int  # samples that carry (for delete: carried) the tag


class FilteredIdsParams(TypedDict, total=False):
    spec: Spec


class FilteredIdsResult(TypedDict):
    sample_ids: list[str]
