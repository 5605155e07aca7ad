"""The JSON query spec the views send, turned into a DatasetQuery through the core DSL.

Spec keys (all optional except dataset_id)::

    {"dataset_id": "...",
     "base": "query-3",                    # a query pushed from Python (registry token)
     "ids": "ids-7",                       # restrict to an id set (e.g. a plot lasso)
     "tags": ["a", "b"],                   # samples with any of these tags
     "labels": ["car"],                    # samples with an annotation of any of these labels
     "annotation_source": "ground_truth",  # applies to labels / confidence
     "min_confidence": 0.5,
     "width": [min, max], "height": [min, max],   # either bound may be null
     "metadata": {"key": {"range": [lo, hi]} | {"values": ["x", "y"]}},
     "file_name": "substring", "caption": "substring",
     "text": "a photo of a dog",           # AI text search: rank by similarity
     "similar_to": "<sample id>",          # rank by similarity to a sample
     "sort": {"field": "file_name" | "width" | "height" | "created_at" | "metadata:<key>",
              "desc": false}}
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from lightly_studio.api import _registry
from lightly_studio.errors import DatasetNotFoundError, QueryError

if TYPE_CHECKING:
    from lightly_studio.core.dataset import Dataset
    from lightly_studio.core.dataset_query import DatasetQuery

SORT_FIELDS = ("file_name", "file_path_abs", "width", "height", "created_at")


def dataset_of(dataset_id: Any) -> Dataset:
    from lightly_studio.core.dataset import Dataset

    try:
        parsed = uuid.UUID(str(dataset_id))
    except ValueError:
        raise DatasetNotFoundError(f"Not a dataset id: {dataset_id!r}.") from None
    return Dataset._from_id(parsed)


def register_query(query: DatasetQuery) -> str:
    """Token under which a Python-side query can be named in a spec (``{"base": token}``)."""
    return _registry.register("query", query)


def register_ids(sample_ids) -> str:
    """Token for a spec's ``"ids"``: the samples with these ids (a list or a polars Series).

    The id set is kept as its compiled condition, so the grid's many requests over a large
    lasso do not convert and check 468k ids each time."""
    from lightly_studio.core.dataset_query.fields import SampleIdField

    return _registry.register("ids", SampleIdField().is_in(sample_ids))


def query_from_spec(spec: dict[str, Any]) -> DatasetQuery:
    """Build the query a spec describes. Unknown keys are rejected (typos must not filter)."""
    from lightly_studio.core.dataset_query import AND, OR, ImageSampleField, OrderByField

    if not isinstance(spec, dict):
        raise QueryError(f"A query spec is a JSON object, got {type(spec).__name__}.")
    unknown = set(spec) - {"dataset_id", "base", "ids", "tags", "labels", "annotation_source",
                           "min_confidence", "width", "height", "metadata", "file_name",
                           "caption", "text", "similar_to", "sort"}
    if unknown:
        raise QueryError(f"Unknown query spec keys: {', '.join(sorted(unknown))}.")

    if spec.get("base"):
        query = _registry.lookup(spec["base"], "query").copy()
        if "dataset_id" in spec and str(query.dataset.dataset_id) != str(spec["dataset_id"]):
            raise QueryError("The spec's base query belongs to another dataset.")
    else:
        if "dataset_id" not in spec:
            raise QueryError("A query spec needs a dataset_id.")
        query = dataset_of(spec["dataset_id"]).query()

    F = ImageSampleField
    terms = []
    if spec.get("ids"):
        terms.append(_registry.lookup(spec["ids"], "ids"))
    if spec.get("tags"):
        terms.append(OR(*[F.tags.contains(_text(t, "tag")) for t in spec["tags"]]))
    source = spec.get("annotation_source")
    min_conf = spec.get("min_confidence")
    if spec.get("labels"):
        terms.append(OR(*[F.annotations.exists(label=_text(lb, "label"), source=source,
                                                min_confidence=min_conf)
                          for lb in spec["labels"]]))
    elif source is not None or min_conf is not None:
        terms.append(F.annotations.exists(source=source, min_confidence=min_conf))
    for name in ("width", "height"):
        terms.extend(_range(getattr(F, name), spec.get(name), name))
    for key, cond in (spec.get("metadata") or {}).items():
        field = F.metadata[key]
        if not isinstance(cond, dict):
            raise QueryError(f"metadata[{key!r}] filter must be {{'range': [lo, hi]}} or "
                             f"{{'values': [...]}}, got {cond!r}.")
        if "range" in cond:
            terms.extend(_range(field, cond["range"], f"metadata[{key!r}]"))
        if cond.get("values"):
            terms.append(OR(*[field == v for v in cond["values"]]))
    if spec.get("file_name"):
        terms.append(F.file_name.contains(_text(spec["file_name"], "file_name")))
    if spec.get("caption"):
        terms.append(F.captions.contains(_text(spec["caption"], "caption")))
    if terms:
        query.match(AND(*terms))

    sort = spec.get("sort")
    if sort:
        field_name = sort.get("field", "file_path_abs")
        if field_name.startswith("metadata:"):
            field = F.metadata[field_name.split(":", 1)[1]]
        elif field_name in SORT_FIELDS:
            field = getattr(F, field_name)
        else:
            raise QueryError(f"Cannot sort by {field_name!r}; use one of {', '.join(SORT_FIELDS)} "
                             f"or metadata:<key>.")
        order = OrderByField(field)
        query.order_by(order.desc() if sort.get("desc") else order.asc())

    if spec.get("text") or spec.get("similar_to"):
        from lightly_studio.embed import similarity_scores

        samples = None
        if spec.get("similar_to"):
            samples = [query.dataset.get_sample(spec["similar_to"])]
        scores = similarity_scores(query, text=spec.get("text") or None, samples=samples)
        query._rank_by(scores, None)
    return query


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise QueryError(f"A {what} filter value must be a non-empty string, got {value!r}.")
    return value


def _range(field, bounds, name: str) -> list:
    if bounds is None:
        return []
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise QueryError(f"{name} range must be [min, max] (null for open), got {bounds!r}.")
    lo, hi = bounds
    out = []
    if lo is not None:
        out.append(field >= lo)
    if hi is not None:
        out.append(field <= hi)
    return out
