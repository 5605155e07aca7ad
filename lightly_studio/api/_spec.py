"""The JSON query spec the views send, turned into a DatasetQuery through the core DSL.

Spec keys (all optional except dataset_id)::

    {"dataset_id": "...",
     "base": "query-3",                    # a query pushed from Python (registry token)
     "ids": "ids-7",                       # restrict to an id set (e.g. a plot lasso)
     "tags": ["a", "b"],                   # samples with any of these tags
     "labels": ["car"],                    # samples with an annotation of any of these labels
     "exclude_tags": ["reviewed"],         # samples with none of these tags (an inverted filter)
     "exclude_labels": ["cat"],            # samples with no annotation of these labels
     "annotation_source": "ground_truth",  # applies to labels / confidence
     "min_confidence": 0.5,
     "width": [min, max], "height": [min, max],   # either bound may be null
     "metadata": {"key": {"range": [lo, hi]} | {"values": ["x", "y"]}
                          | {"missing": true}},   # missing: OR samples without the key
     "file_name": "substring", "caption": "substring",
     "query": 'width >= 640 OR "cat" IN tags',  # a text query (lightly_studio/query/text.py)
     "text": "a photo of a dog",           # AI text search: rank by similarity
     "similar_to": "<sample id>",          # rank by similarity to a sample
     "similar_image": "image-3",           # rank by similarity to an uploaded image (token)
     "evaluation": {"run": "det", "gt": "person" | null, "pred": "dog" | null}
                   | {"run": "det", "outcome": "tp" | "fp" | "fn"},  # a confusion cell / count
     "sort": {"field": "file_name" | "width" | "height" | "created_at" | "metadata:<key>"
                       | "evaluation:<run>:<metric>" | "similarity", "desc": false}}
                                           # with text / similar_to, a sort re-sorts the
                                           # matches; "similarity" keeps the search's order
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from lightly_studio import embed as _embed  # a lazy package: torch loads on first use
from lightly_studio.api import _registry
from lightly_studio.core.dataset import Dataset
from lightly_studio.core.dataset_query import (
    AND,
    NOT,
    OR,
    AnnotationMetricQuery,
    DatasetQuery,
    GroupSampleField,
    ImageSampleField,
    OrderByEvaluationMetricField,
    OrderByField,
)
from lightly_studio.core.dataset_query.fields import SampleIdField, VideoSampleField
from lightly_studio.errors import DatasetNotFoundError, QueryError
from lightly_studio.query.expressions import RawCondition

SORT_FIELDS = ("file_name", "file_path_abs", "width", "height", "created_at")


def dataset_of(dataset_id: Any) -> Dataset:
    try:
        parsed = uuid.UUID(str(dataset_id))
    except ValueError:
        raise DatasetNotFoundError(f"Not a dataset id: {dataset_id!r}.") from None
    return Dataset.from_id(parsed)


def register_query(query: DatasetQuery) -> str:
    """Token under which a Python-side query can be named in a spec (``{"base": token}``)."""
    return _registry.register("query", query)


def register_ids(sample_ids) -> str:
    """Token for a spec's ``"ids"``: the samples with these ids (a list or a polars Series).

    The id set is kept as its compiled condition, so the grid's many requests over a large
    lasso do not convert and check 468k ids each time."""
    return _registry.register("ids", SampleIdField().is_in(sample_ids))


def query_from_spec(spec: dict[str, Any], *, top: int | None = None) -> DatasetQuery:
    """Build the query a spec describes. Unknown keys are rejected (typos must not filter).

    Every value is checked here, before the DSL sees it, so a malformed spec from a view (or
    anyone who can reach the API) is a ``QueryError`` naming the key (``spec.sort.field``…)
    and what it should be — never a crash deeper down.

    ``top``: the caller reads only the first ``top`` rows (a grid page). A similarity search
    that is the final order then ranks just those (the approximate index answers at scale,
    embed/_ann.py) instead of scoring every sample; the rows are the same."""
    query = _filtered_query(spec)
    # Similarity first: ranking replaces any order, and a sort given with a search then
    # re-sorts the matches (by similarity when the sort field is "similarity").
    sort = spec.get("sort")
    ranks_last = not sort or (isinstance(sort, dict) and sort.get("field") == "similarity")
    _apply_similarity(query, spec, top if ranks_last else None)
    _apply_sort(query, sort)
    return query


def set_query_from_spec(spec: dict[str, Any]) -> DatasetQuery:
    """The samples a spec matches, in no particular order, never scoring: for callers that
    count, chart or act on the set, where the order does not matter.

    A similarity search keeps the samples that have a vector of its model, as its ranking
    does; they are selected in SQL instead of scoring every sample (~0.6 s at a million
    vectors). The spec is checked as ``query_from_spec`` checks it: the sort, the
    ``similar_to`` sample, the ``similar_image`` token."""
    query = _filtered_query(spec)
    _check_sort(query, spec.get("sort"))
    search = _similarity_model(spec)
    if search is not None:
        by, model_name = search
        if by == "sample":
            _similar_sample(query, spec["similar_to"])
        query.match(_embed.with_vector(query.dataset, model_name))
    return query


def count_of_spec(spec: dict[str, Any]) -> int:
    """How many samples a spec matches (a search's are counted without scoring any)."""
    return set_query_from_spec(spec).count()


def _filtered_query(spec: dict[str, Any]) -> DatasetQuery:
    """The spec's dataset (or base query) and filters, before any ranking or sort."""
    _check_spec_keys(spec)
    query = _base_query(spec)
    terms = _filter_terms(spec, query.kind)
    if terms:
        query.match(AND(*terms))
    if spec.get("query"):
        query.match_text(_text(spec["query"], "spec.query"))
    return query


def _check_spec_keys(spec: Any) -> None:
    if not isinstance(spec, dict):
        raise QueryError(f"A query spec is a JSON object, got {type(spec).__name__}.")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise QueryError(f"Unknown query spec keys: {', '.join(sorted(map(str, unknown)))}.")


def _base_query(spec: dict[str, Any]) -> DatasetQuery:
    """A copy of the registered ``base`` query, else the whole dataset's query."""
    if spec.get("base"):
        query = _registry.lookup(spec["base"], "query").copy()
        if "dataset_id" in spec and str(query.dataset.dataset_id) != str(spec["dataset_id"]):
            raise QueryError("The spec's base query belongs to another dataset.")
        return query
    if "dataset_id" not in spec:
        raise QueryError("A query spec needs a dataset_id.")
    dataset = dataset_of(spec["dataset_id"])
    kind = spec.get("kind")
    if kind in (None, "", dataset.sample_kind):
        return dataset.query()
    if kind == "frame" and hasattr(dataset, "frames"):
        return dataset.frames()
    raise QueryError(
        f"spec.kind {show(kind)}: dataset {dataset.name!r} holds {dataset.sample_kind} samples"
        + (" and their frames ('frame')." if hasattr(dataset, "frames") else ".")
    )


def _filter_terms(spec: dict[str, Any], kind: str = "image") -> list:
    """The spec's filters, one term each (ANDed by the caller); ``kind`` is what the query
    yields (the label filters of a group query look at the groups' members)."""
    F = ImageSampleField
    terms = []
    if spec.get("ids"):
        terms.append(_registry.lookup(spec["ids"], "ids"))
    if spec.get("tags"):
        terms.append(OR(*[F.tags.contains(t) for t in text_list(spec["tags"], "spec.tags")]))
    if spec.get("member_tags"):  # group datasets: groups with a member carrying a tag
        wanted = text_list(spec["member_tags"], "spec.member_tags")
        terms.append(GroupSampleField.members.match(OR(*[F.tags.contains(t) for t in wanted])))
    if spec.get("exclude_tags"):
        excluded = text_list(spec["exclude_tags"], "spec.exclude_tags")
        terms.append(NOT(OR(*[F.tags.contains(t) for t in excluded])))
    terms.extend(_annotation_terms(spec, on_members=kind == "group"))
    for name in ("width", "height"):
        terms.extend(_range(getattr(F, name), spec.get(name), f"spec.{name}"))
    terms.extend(_video_terms(spec))
    terms.extend(_metadata_terms(spec.get("metadata") or {}))
    if spec.get("file_name"):
        terms.append(F.file_name.contains(_text(spec["file_name"], "spec.file_name")))
    if spec.get("caption"):  # a group's captions are its members'
        captions = GroupSampleField.captions if kind == "group" else F.captions
        terms.append(captions.contains(_text(spec["caption"], "spec.caption")))
    if spec.get("evaluation"):
        terms.append(_evaluation_term(spec["evaluation"]))
    return terms


def _evaluation_term(value: Any):
    """``spec.evaluation``: the samples of a confusion-matrix cell (``gt`` / ``pred`` class,
    null for the background) or with a TP / FP / FN of the run (``outcome``)."""
    if not isinstance(value, dict) or not set(value) <= {"run", "gt", "pred", "outcome"}:
        raise QueryError(
            'spec.evaluation must be {"run": name, "gt": class|null, "pred": class|null} or '
            f'{{"run": name, "outcome": "tp"|"fp"|"fn"}}, got {show(value)}.'
        )
    run = _text(value.get("run"), "spec.evaluation.run")
    if "outcome" in value:
        outcome = value["outcome"]
        builders = {
            "tp": AnnotationMetricQuery.true_positive,
            "fp": AnnotationMetricQuery.false_positive,
            "fn": AnnotationMetricQuery.false_negative,
        }
        if outcome not in builders:
            raise QueryError(f"spec.evaluation.outcome must be tp, fp or fn, got {show(outcome)}.")
        return builders[outcome](run)
    gt = optional_text(value.get("gt"), "spec.evaluation.gt")
    pred = optional_text(value.get("pred"), "spec.evaluation.pred")
    return AnnotationMetricQuery.confusion(run, gt, pred)


def _video_terms(spec: dict[str, Any]) -> list:
    """Videos: fps and duration ranges; frames: those of one video (``video_id``)."""
    terms = []
    for name in ("fps", "duration_s"):
        terms.extend(_range(getattr(VideoSampleField, name), spec.get(name), f"spec.{name}"))
    if spec.get("video_id"):
        video_id = str(uuid_param(spec["video_id"], "video", "spec.video_id"))
        terms.append(RawCondition("s.parent_sample_id = CAST($p0 AS UUID)", video_id))
    return terms


def _annotation_terms(spec: dict[str, Any], on_members: bool = False) -> list:
    """``labels`` (any of them) and ``exclude_labels`` (none of them), narrowed by
    ``annotation_source`` / ``min_confidence``. ``on_members``: of a group's members (a group
    has no annotations of its own): any member has one of ``labels``, no member has one of
    ``exclude_labels``."""
    F = ImageSampleField

    def on(condition):
        return GroupSampleField.members.match(condition) if on_members else condition

    source = optional_text(spec.get("annotation_source"), "spec.annotation_source")
    min_conf = _confidence(spec.get("min_confidence"), "spec.min_confidence")
    terms = []
    if spec.get("exclude_labels"):
        excluded = text_list(spec["exclude_labels"], "spec.exclude_labels")
        terms.append(
            NOT(
                on(
                    OR(
                        *[
                            F.annotations.exists(label=lb, source=source, min_confidence=min_conf)
                            for lb in excluded
                        ]
                    )
                )
            )
        )
    if spec.get("labels"):
        return [
            *terms,
            on(
                OR(
                    *[
                        F.annotations.exists(label=lb, source=source, min_confidence=min_conf)
                        for lb in text_list(spec["labels"], "spec.labels")
                    ]
                )
            ),
        ]
    if source is not None or min_conf is not None:
        return [*terms, on(F.annotations.exists(source=source, min_confidence=min_conf))]
    return terms


def _metadata_terms(metadata: Any) -> list:
    """``{"key": {"range": [lo, hi]} | {"values": [...]} | {"missing": true}}``, checked key
    by key. ``missing`` adds the samples without the key to what range / values keep (OR):
    the distribution panel's "missing" bar beside its value bars."""
    if not isinstance(metadata, dict):
        raise QueryError(f"spec.metadata must be an object {{key: filter}}, got {show(metadata)}.")
    terms = []
    for key, cond in metadata.items():
        where = f"spec.metadata[{key!r}]"
        if not isinstance(cond, dict) or not set(cond) <= {"range", "values", "missing"}:
            raise QueryError(
                f"{where} filter must be {{'range': [lo, hi]}}, {{'values': [...]}} or "
                f"{{'missing': true}}, got {show(cond)}."
            )
        missing = cond.get("missing", False)
        if not isinstance(missing, bool):
            raise QueryError(f"{where}.missing must be true or false, got {show(missing)}.")
        field = ImageSampleField.metadata[key]
        present = []
        if "range" in cond:
            present.extend(_range(field, cond["range"], where))
        if cond.get("values"):
            present.append(
                OR(*[field == v for v in _scalar_list(cond["values"], f"{where}.values")])
            )
        if missing:
            kept = present[0] if len(present) == 1 else AND(*present) if present else None
            terms.append(field.is_missing() if kept is None else OR(kept, field.is_missing()))
        else:
            terms.extend(present)
    return terms


def _apply_sort(query: DatasetQuery, sort: Any) -> None:
    """Order ``query`` by ``spec.sort`` (nothing when the spec has none)."""
    order = _check_sort(query, sort)
    if order is not None:
        query.order_by(order)


def _check_sort(query: DatasetQuery, sort: Any) -> OrderByField | None:
    """The order ``spec.sort`` names, checked against ``query``'s dataset (a metadata key
    it lacks fails here) but not applied; None without a sort, and for "similarity"."""
    if not sort:
        return None
    if not isinstance(sort, dict) or not set(sort) <= {"field", "desc"}:
        raise QueryError(
            f'spec.sort must be an object {{"field": "width", "desc": false}}, got {show(sort)}.'
        )
    desc = sort.get("desc", False)
    if not isinstance(desc, bool):
        raise QueryError(f"spec.sort.desc must be true or false, got {show(desc)}.")
    field_name = sort.get("field", "file_path_abs")
    if field_name == "similarity":
        # The order of a text or "find similar" search (the default while one is active);
        # without a search there is no similarity, and the default order stays.
        return None
    order: OrderByField
    if isinstance(field_name, str) and field_name.startswith("evaluation:"):
        # evaluation:<run>:<metric>; the run's name may itself hold colons
        run, _, metric = field_name.split(":", 1)[1].rpartition(":")
        order = OrderByEvaluationMetricField(_text(run, "spec.sort.field run"), metric)
    else:
        order = OrderByField(_sort_field(field_name))
    order = order.desc() if desc else order.asc()
    query.check_order(order)
    return order


def _sort_field(field_name: Any):
    """The field ``spec.sort.field`` names: one of SORT_FIELDS or ``metadata:<key>``."""
    if not isinstance(field_name, str):
        raise QueryError(
            f"spec.sort.field must be a string (one of {', '.join(SORT_FIELDS)}, similarity "
            f"or metadata:<key>), got {show(field_name)}."
        )
    if field_name.startswith("metadata:"):
        return ImageSampleField.metadata[field_name.split(":", 1)[1]]
    if field_name in SORT_FIELDS:
        return getattr(ImageSampleField, field_name)
    raise QueryError(
        f"Cannot sort by {show(field_name)} (spec.sort.field); use one of "
        f"{', '.join(SORT_FIELDS)} or metadata:<key>."
    )


def register_image_query(model_name: str, vector: Any) -> str:
    """Token for a spec's ``"similar_image"``: an uploaded image's vector (kept in memory
    only, like every token; the image itself is not kept)."""
    return _registry.register("image", (model_name, vector))


def _similarity_model(spec: dict[str, Any]) -> tuple[str, str | None] | None:
    """(what the spec searches by, the model it names: None for the dataset's default), or
    None without a search. Checks the values it reads."""
    if spec.get("similar_image"):
        model_name, _ = _registry.lookup(spec["similar_image"], "image")
        return "image", model_name
    if optional_text(spec.get("text") or None, "spec.text"):
        return "text", None
    if spec.get("similar_to"):
        uuid_param(spec["similar_to"], "sample", "spec.similar_to")
        return "sample", None
    return None


def _similar_sample(query: DatasetQuery, similar_to: Any) -> Any:
    """The sample ``spec.similar_to`` names, in the query's dataset."""
    sample_id = uuid_param(similar_to, "sample", "spec.similar_to")
    try:
        return query.dataset.get_sample(sample_id)
    except KeyError:
        raise QueryError(
            f"spec.similar_to: no sample {sample_id} in dataset {query.dataset.name!r}."
        ) from None


def _apply_similarity(query: DatasetQuery, spec: dict[str, Any], top: int | None) -> None:
    """Rank by similarity to ``spec.text``, the sample ``spec.similar_to`` or the uploaded
    image ``spec.similar_image`` (a token of ``register_image_query``); ``top`` keeps the
    best ``top``."""
    k = top or None  # 0 (an empty page) ranks everything, as without top
    if spec.get("similar_image"):
        model_name, vector = _registry.lookup(spec["similar_image"], "image")
        scores = _embed.similarity_scores(
            query, vectors=vector, model_name=model_name, k=k, index_in_background=True
        )
        query.rank_by(scores, None)
        return
    text = optional_text(spec.get("text") or None, "spec.text")
    similar_to = spec.get("similar_to")
    if not (text or similar_to):
        return
    samples = [_similar_sample(query, similar_to)] if similar_to else None
    scores = _embed.similarity_scores(
        query, text=text, samples=samples, k=k, index_in_background=True
    )
    query.rank_by(scores, None)


SPEC_KEYS = frozenset(
    {
        "dataset_id",
        "base",
        "ids",
        "tags",
        "labels",
        "exclude_tags",
        "exclude_labels",
        "annotation_source",
        "min_confidence",
        "width",
        "height",
        "metadata",
        "file_name",
        "caption",
        "query",
        "text",
        "similar_to",
        "similar_image",
        "sort",
        "evaluation",
        # group datasets: groups with a member carrying one of these tags
        "member_tags",
        # video datasets: the frames instead of the videos, frames of one video, ranges
        "kind",
        "video_id",
        "fps",
        "duration_s",
    }
)
# One OR term per value: DuckDB refuses expressions nested deeper than 1000, and no view
# sends more than a handful of tags or labels at once.
MAX_FILTER_VALUES = 200


# --- parameter checks shared by the api methods ------------------------------------------------
# Each raises a QueryError naming the parameter and what it should be: params come from a view
# or from anyone who can reach the API, and a wrong one must never become a crash deeper down.


def show(value: Any, limit: int = 80) -> str:
    """``repr`` of a bad value for an error message, cut short (it may be a 16 MB string)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def uuid_param(value: Any, what: str = "sample", name: str | None = None) -> uuid.UUID:
    """A ``what`` id given as a UUID string (``name``: the parameter, for the message)."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    where = f"{name}: " if name else ""
    raise QueryError(f"{where}Not a {what} id: {show(value)} (expected a UUID string).")


def uuid_list(value: Any, what: str = "sample", name: str = "sample_ids") -> list[uuid.UUID]:
    """A list of ids; null means none."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise QueryError(f"{name} must be a list of {what} ids, got {show(value)}.")
    return [uuid_param(v, what, name) for v in value]


def int_param(value: Any, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer in [minimum, maximum] (JSON has no int type of its own: 2.0 is refused too)."""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = (
            f"between {minimum} and {maximum}"
            if maximum is not None
            else ("a non-negative integer" if minimum == 0 else f"an integer >= {minimum}")
        )
        if maximum is not None:
            bounds = f"an integer {bounds}"
        raise QueryError(f"{name} must be {bounds}, got {show(value)}.")
    return value


def optional_text(value: Any, name: str) -> str | None:
    """A string, or null for "not given"."""
    if value is not None and not isinstance(value, str):
        raise QueryError(f"{name} must be a string, got {show(value)}.")
    return value


def text_list(value: Any, name: str) -> list[str]:
    """A list of non-empty strings (tags, labels), at most MAX_FILTER_VALUES."""
    if not isinstance(value, (list, tuple)):
        raise QueryError(f"{name} must be a list of strings, got {show(value)}.")
    if len(value) > MAX_FILTER_VALUES:
        raise QueryError(f"{name} may hold at most {MAX_FILTER_VALUES} values, got {len(value)}.")
    return [_text(v, name) for v in value]


def _scalar_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise QueryError(f"{name} must be a list of values, got {show(value)}.")
    if len(value) > MAX_FILTER_VALUES:
        raise QueryError(f"{name} may hold at most {MAX_FILTER_VALUES} values, got {len(value)}.")
    for v in value:
        if not isinstance(v, (str, int, float)) or (isinstance(v, float) and not math.isfinite(v)):
            raise QueryError(f"{name} values must be strings, numbers or booleans, got {show(v)}.")
    return list(value)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise QueryError(f"{name} values must be non-empty strings, got {show(value)}.")
    return value


def _number(value: Any, name: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise QueryError(f"{name} must be a finite number or null, got {show(value)}.")
    return value


def _confidence(value: Any, name: str) -> float | None:
    value = _number(value, name)
    if value is not None and not 0 <= value <= 1:
        raise QueryError(f"{name} must be between 0 and 1, got {show(value)}.")
    return value


def _range(field, bounds, name: str) -> list:
    if bounds is None:
        return []
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise QueryError(f"{name} range must be [min, max] (null for open), got {show(bounds)}.")
    lo, hi = (_number(b, name) for b in bounds)
    out = []
    if lo is not None:
        out.append(field >= lo)
    if hi is not None:
        out.append(field <= hi)
    return out
