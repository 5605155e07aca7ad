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
    has_embeddings: bool  # the views offer AI search and "Find similar" only when True


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
    track_id: int  # video frames: the object track
    span: list[float]  # videos: [start_s, end_s] of a time-span classification


class _GroupMemberBase(TypedDict):
    view: str
    sample_id: str | None  # None: the group has no member in this view


class GroupMember(_GroupMemberBase, total=False):
    kind: str  # 'image' or 'video'
    file_name: str
    width: int
    height: int
    tags: list[str]
    annotations: list[GridAnnotation]  # samples_page only (the tile draws them)


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
    members: list[GroupMember]  # group datasets: one entry per view (api/groups.py)
    video_id: str  # frames only: the video it belongs to
    frame_number: int  # frames only
    issues: list[str]  # quality checks that flagged the sample (grid chips)


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


class GroupDetailResult(TypedDict):
    sample_id: str
    name: str
    tags: list[str]
    metadata: dict[str, Json]
    members: list[GroupMember]


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


class _FacetsOfGroups(TypedDict, total=False):
    # group datasets: name, count, total of groups with a member carrying each tag
    member_tags: list[dict[str, Json]]


class IssueCount(TypedDict):
    issue: str  # an image check, "label_issues" (samples with any), or a label issue
    kind: str  # "image" (samples flagged), "samples", or "label" (annotations flagged)
    key: str | None  # the metadata key a click filters on (None: label issues, not clickable)
    count: int  # within the filter
    total: int  # in the dataset


class FacetsResult(_FacetsOfGroups):
    issues: list[IssueCount]  # the Quality section (lightly_studio.quality)
    count: int
    total: int
    tags: list[dict[str, Json]]
    labels: list[dict[str, Json]]
    sources: list[str]
    numeric: dict[str, dict[str, Json]]
    metadata: list[dict[str, Json]]


class DistributionsParams(TypedDict, total=False):
    spec: Spec
    bins: int  # histogram bins, 1..200 (default 20)
    limit: int  # values listed per categorical key, 1..500 (default 30)
    # classes counted by "objects" (default) or also by "images" (a distinct count: slower)
    class_count: str


class DistributionsResult(TypedDict):
    count: int  # samples of the filter
    bins: int
    # name, objects (annotations), images (samples with one; null unless class_count is
    # "images"), most objects first
    classes: list[dict[str, Json]]
    # key, field (spec path: width | height | fps | duration_s | metadata:<key>), type,
    # min, max, counts, edges, missing
    numeric: list[dict[str, Json]]
    # key, field, type, values [{value, count}], other (values not listed), missing
    categorical: list[dict[str, Json]]


# --- plot ------------------------------------------------------------------------------------


class PlotPointsParams(TypedDict, total=False):
    dataset_id: str
    embedding_model: str | None
    kind: str | None  # video datasets: "frame" for the frames' points (default: the videos)


class PlotPointsResult(TypedDict):
    token: str
    count: int


class PlotIndicesIn(TypedDict, total=False):
    token: str
    indices: list[int]  # or a Uint32 buffer of indices


class PlotIdsParams(PlotIndicesIn, total=False):
    names: bool  # also the file names (a hover card; at most 1000 points)


class _PlotIdsNames(TypedDict, total=False):
    file_names: list[str | None]


class PlotIdsResult(_PlotIdsNames):
    sample_ids: list[str]


class PlotIndicesParams(TypedDict, total=False):
    token: str
    spec: Spec


class PlotCountResult(TypedDict):
    count: int


class PlotColorsParams(TypedDict, total=False):
    token: str
    by: str  # "", "none", "label", "source", "tag:<name>", "metadata:<key>", "evaluation:<run>"


class _PlotColorsContinuous(TypedDict, total=False):
    continuous: bool
    colors: list[str]  # fixed colours per legend entry (evaluation status), else a palette


class PlotColorsResult(_PlotColorsContinuous):
    legend: list[str]


class FieldChoicesParams(TypedDict, total=False):
    dataset_id: str


class MetadataKeyChoice(TypedDict):
    key: str
    type: str  # int, float, str, bool
    numeric: bool  # coloured by a ramp (else one colour per value)


class FieldChoicesResult(TypedDict):
    tags: list[str]
    evaluations: list[str]  # run names: colour by evaluation:<run>
    metadata: list[MetadataKeyChoice]


# --- export ----------------------------------------------------------------------------------


class ExportFormatInfo(TypedDict):
    name: str  # DatasetExport.to_<name>(); the `format` of the export method
    label: str
    writes: str  # file | folder
    extension: str | None  # '.json', '.xml', '.csv' for files; None for folders
    description: str


class ExportFormatsResult(TypedDict):
    formats: list[str]
    details: list[ExportFormatInfo]
    export_dir: str


class ExportParams(TypedDict, total=False):
    dataset_id: str
    format: str
    scope: str  # all | filter | selection
    spec: Spec
    sample_ids: list[str]
    output: str | None  # a file name inside the export folder; None: the default name
    annotation_source: str | None  # one source ('ground_truth' or a model's); None: all


class ExportResult(TypedDict):
    path: str
    format: str
    scope: str
    count: int
    download: str  # relative to the export folder: what export_download takes
    writes: str  # file | folder


class ExportDownloadParams(TypedDict):
    path: str


class ExportDownloadResult(TypedDict):
    name: str  # the file name to save as (a folder arrives as <folder>.zip)
    mime: str
    size: int


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


class FrameNeighbours(TypedDict):
    video_id: str
    frame_number: int
    previous_id: str | None  # the previous frame sample of the same video
    next_id: str | None


class _AnnotatorSampleOptional(TypedDict, total=False):
    frame: FrameNeighbours | None  # only for a video frame
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


# --- evaluation ------------------------------------------------------------------------------


class EvaluationRun(TypedDict):
    run_id: str
    name: str
    task: str
    gt_source: str
    pred_source: str
    sample_count: int
    gt_annotation_count: int
    pred_annotation_count: int
    config: Json
    summary: dict[str, Any]  # mAP, mAP50, precision, recall, f1, tp, fp, fn, accuracy, mIoU…


class EvaluationRunsResult(TypedDict):
    runs: list[EvaluationRun]


class EvaluationRunParams(TypedDict, total=False):
    dataset_id: str
    name: str


class EvaluationConfusion(TypedDict):
    classes: list[str]  # most confused first
    row_background: str
    column_background: str
    counts: list[list[int]]  # rows: classes + background (FP); columns: classes + (FN)


class EvaluationCurve(TypedDict):
    recall: list[float]
    precision: list[float]
    confidence: list[float]


class _EvaluationDetailOptional(TypedDict, total=False):
    pr_curve: EvaluationCurve  # not for semantic segmentation


class EvaluationDetailResult(_EvaluationDetailOptional):
    run: EvaluationRun
    confusion: EvaluationConfusion
    per_class: list[dict[str, Any]]


class EvaluationPrCurveParams(TypedDict, total=False):
    dataset_id: str
    name: str
    class_name: str | None


class EvaluationPrCurveResult(EvaluationCurve):
    pass


class EvaluationSampleParams(TypedDict, total=False):
    dataset_id: str
    name: str
    sample_id: str


class EvaluationSampleResult(TypedDict):
    outcomes: dict[str, str]  # annotation id -> tp | fp | fn | mismatch | ignored
    matches: list[dict[str, Any]]


class EvaluationOutcomesParams(TypedDict, total=False):
    dataset_id: str
    name: str
    sample_ids: list[str]  # at most 1000


class AnnotationOutcome(TypedDict):
    outcome: str  # tp | fp | fn | ignored (a mismatch is fn on the gt side, fp on the pred side)
    gt: str | None  # the confusion-matrix cell: ground-truth label (None: background)
    pred: str | None  # predicted label (None: background)


class EvaluationOutcomesResult(TypedDict):
    samples: dict[str, dict[str, AnnotationOutcome]]  # sample id -> annotation id -> outcome


class EvaluationSource(TypedDict):
    name: str
    types: dict[str, int]  # annotation type -> count


class EvaluationSourcesResult(TypedDict):
    sources: list[EvaluationSource]
    tasks: dict[str, list[str]]  # task -> the sources that have its annotation type


class EvaluationCreateParams(TypedDict, total=False):
    dataset_id: str
    task: str  # object_detection | instance_segmentation | classification | semantic_segmentation
    name: str
    gt_source: str
    pred_source: str
    iou_threshold: float  # detection and instance segmentation; default 0.5
    classwise: bool  # detection and instance segmentation; default True


class EvaluationCreateResult(TypedDict):
    run: EvaluationRun


# --- few-shot classifiers (api/classifier.py) ----------------------------------------------------


class ClassifierParams(TypedDict, total=False):
    dataset_id: str
    name: str


class ClassifierCreateParams(TypedDict, total=False):
    dataset_id: str
    name: str
    classes: list[str]


class ClassifierExamplesParams(TypedDict, total=False):
    dataset_id: str
    name: str
    class_name: str | None  # null: unmark
    sample_ids: list[str] | None  # else the samples of spec
    spec: Spec


class ClassifierShowParams(TypedDict, total=False):
    dataset_id: str
    name: str
    which: str  # "uncertain" | "class"
    class_name: str
    n: int


class ClassifierState(TypedDict):
    name: str
    classes: list[str]
    examples: dict[str, int]  # class -> examples marked
    trained: bool
    embedding_model: str


class ClassifierListResult(TypedDict):
    classifiers: list[ClassifierState]


class ClassifierTrainResult(ClassifierState):
    seconds: float


class ClassifierShowResult(TypedDict):
    ids: str | None  # a spec "ids" token; null when no sample
    count: int


class ClassifierApplyResult(TypedDict):
    count: int
    source: str


# --- video player (api/video.py) ---------------------------------------------------------------


class VideoFrameAnnotation(GridAnnotation, total=False):
    frame_number: int  # the frame sample it is on


class VideoSpan(TypedDict):
    annotation_id: str
    label: str
    source: str
    confidence: float | None
    start_s: float
    end_s: float


class VideoFramesResult(TypedDict):
    video: dict[str, Json]  # sample_id, file_name, width, height, fps, duration_s, frame_count
    frames: dict[str, list[Json]]  # columns: sample_id, frame_number, timestamp_s, tags, captions
    annotations: list[VideoFrameAnnotation]
    spans: list[VideoSpan]


class VideoPosterParams(TypedDict, total=False):
    dataset_id: str
    sample_id: str  # the video
    frame_number: int
    quick: bool  # answer from the video's seek strip (low resolution) when not cached


class VideoPosterResult(TypedDict):
    mime: str
    size: int
    frame_number: int
    low_res: bool  # from the seek strip (longest side STRIP_MAX_SIZE), not a poster


class VideoMediaParams(TypedDict, total=False):
    dataset_id: str
    sample_id: str  # the video
    offset: int
    length: int  # at most CHUNK_BYTES


class VideoMediaResult(TypedDict):
    mime: str
    size: int  # of the whole file
    offset: int
    etag: str  # changes when the file is rewritten


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


# --- the Annotations view (api/crops.py) and undo -------------------------------------------


class DatasetParams(TypedDict, total=False):
    dataset_id: str


class CropsPageParams(TypedDict, total=False):
    dataset_id: str
    labels: list[str]
    sources: list[str]
    tags: list[str]  # the sample carries any of them
    confidence_min: float
    confidence_max: float
    size_min: float  # the box's longer side, pixels
    size_max: float
    sort: str  # added | confidence | size | label | issue:<name>
    descending: bool
    offset: int
    limit: int
    ids_only: bool  # answer every annotation id of the filter instead of a page


class CropRow(TypedDict):
    annotation_id: str
    sample_id: str
    label: str
    type: str
    source: str
    confidence: float | None
    box: list[float]  # x, y, w, h in image pixels
    box_in_crop: list[float]  # x, y, w, h as fractions of the crop picture
    crop_size: list[int]  # the cropped region, image pixels (its aspect ratio)
    score: float | None  # the issue score when sorted by one
    version: int


class _CropIds(TypedDict, total=False):
    ids: list[str]  # with ids_only


class CropsPageResult(_CropIds):
    total: int
    offset: int
    rows: list[CropRow]


class CropImagesParams(TypedDict, total=False):
    dataset_id: str
    annotation_ids: list[str]


class CropImagesResult(TypedDict):
    annotation_ids: list[str]
    errors: list[str | None]
    mime: str


class CropOptionsResult(TypedDict):
    labels: list[str]
    sources: list[str]
    issues: list[str]
    tags: list[str]
    undo: str | None  # what Undo would revert now


class AnnotationsEditParams(TypedDict, total=False):
    dataset_id: str
    annotation_ids: list[str]
    label: str  # annotations_relabel
    tag: str  # annotations_tag


class AnnotationsEditResult(TypedDict):
    changed: int
    undo: str | None


class UndoResult(TypedDict):
    undone: str
    restored: int
    undo: str | None  # what the next Undo would revert


# --- search by image (api/image_search.py) ---------------------------------------------------


class ImageSearchParams(TypedDict, total=False):
    dataset_id: str
    embedding_model: str | None  # None: the dataset's default model


class ImageSearchResult(TypedDict):
    token: str  # for spec["similar_image"]
    model: str


# --- view settings (api/settings.py, store/view_settings.py) ----------------------------------


class ViewOptions(TypedDict):
    cell_size: int
    overlays: dict[str, bool]  # boxes, masks, labels, captions, names
    sort_field: str  # '' = the default order (file path)
    sort_desc: bool


class ViewSettingsParams(TypedDict, total=False):
    dataset_id: str  # optional: without it, options is None


class ViewSettingsResult(TypedDict):
    shortcuts: dict[str, list[str]]  # customised bindings only: action -> keys
    options: ViewOptions | None  # the dataset's saved grid options, None when never saved


class SetShortcutsParams(TypedDict, total=False):
    shortcuts: dict[str, list[str]]  # the whole customised set; {} resets to the defaults


class SetShortcutsResult(TypedDict):
    shortcuts: dict[str, list[str]]


class SetViewOptionsParams(TypedDict, total=False):
    dataset_id: str
    options: ViewOptions | None  # None forgets the dataset's options


class SetViewOptionsResult(TypedDict):
    options: ViewOptions | None
