"""The query box: check a text query (its error's place, the equivalent Python, its count)
and complete it at the cursor with field, function, tag, class, source and metadata names.

The language itself (grammar, translation, what may come at a cursor) is
``lightly_studio.query.text``; this module only fills in the dataset's names."""

from __future__ import annotations

import json
from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, int_param, optional_text
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError, QueryTextError
from lightly_studio.query.query import FIELDS_OF_KIND, parse_text
from lightly_studio.query.text import ANNOTATION_FIELDS, FUNCTIONS, expected_at, sample_fields
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import labels as labels_store
from lightly_studio.store import tags as tags_store
from lightly_studio.store.metadata import metadata_keys

MAX_TEXT = 10_000
MAX_CANDIDATES = 200

_OPERATORS = ["=", "!=", "<", "<=", ">", ">="]
_FUNCTION_DETAIL = {
    "object_detection": "boxes: one box meets the whole condition",
    "segmentation_mask": "masks: one mask meets the whole condition",
    "classification": "classifications: one meets the whole condition",
}
_KEYWORD_DETAIL = {
    "NOT": "negates the condition after it",
    "AND": "both conditions hold",
    "OR": "either condition holds",
    "IN": '"tag" IN tags',
    "CONTAINS": 'file_name CONTAINS "text"',
    "true": "boolean",
    "false": "boolean",
}


def _text_param(params: dict) -> str:
    text = optional_text(params.get("text"), "text") or ""
    if len(text) > MAX_TEXT:
        raise QueryError(f"text may be at most {MAX_TEXT} characters, got {len(text)}.")
    return text


@method("query_check", c.QueryCheckParams, c.QueryCheckResult)
def query_check(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    text = _text_param(params)
    try:
        query = dataset.match_text(text)
        python = parse_text(text, dataset.sample_kind).python
        return {"python": python, "error": None, "count": query.count()}, []
    except QueryTextError as e:
        problem = {"message": e.reason, "offset": e.offset, "line": e.line, "column": e.column}
        return {"python": None, "error": problem, "count": None}, []


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


@method("query_completions", c.QueryCompletionsParams, c.QueryCompletionsResult)
def query_completions(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    text = _text_param(params)
    offset = int_param(params.get("offset", len(text)), "offset", 0, len(text))
    found = expected_at(text, offset)
    names = _Names(dataset)
    candidates = [cand for kind in found.kinds for cand in names.candidates(kind)]
    prefix = found.prefix.lower()
    chosen = [
        cand
        for cand in candidates
        if cand["label"].lower().startswith(prefix) or cand["insert"].lower().startswith(prefix)
    ]
    return {"start": found.start, "end": found.end, "candidates": chosen[:MAX_CANDIDATES]}, []


def _candidate(label: str, kind: str, detail: str = "", insert: str | None = None) -> dict:
    return {
        "label": label,
        "insert": label if insert is None else insert,
        "kind": kind,
        "detail": detail,
    }


class _Names:
    """The dataset's names for each kind of candidate ``expected_at`` reports."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.con = get_connection()

    def candidates(self, kind: str) -> list[dict]:
        if kind.startswith("annotation_fields:"):
            return [
                _candidate(name, "field", "annotation field")
                for name in ANNOTATION_FIELDS[kind.split(":", 1)[1]]
            ]
        if kind.startswith("keywords:"):
            word = kind.split(":", 1)[1]
            return [_candidate(word, "keyword", _KEYWORD_DETAIL.get(word, ""))]
        return getattr(self, kind)()

    def fields(self) -> list[dict]:
        fields = FIELDS_OF_KIND.get(self.dataset.sample_kind, FIELDS_OF_KIND["image"])
        found = [_candidate(name, "field", "sample field") for name in sample_fields(fields)]
        return [*found, _candidate("captions", "field", 'captions CONTAINS "text"')]

    def functions(self) -> list[dict]:
        return [
            _candidate(name, "function", _FUNCTION_DETAIL[name], insert=f"{name}(")
            for name in FUNCTIONS
        ]

    def _keys(self) -> list[tuple[str, str]]:
        return sorted(metadata_keys(self.con, self.dataset.dataset_id).items())

    def metadata(self) -> list[dict]:
        return [_candidate(f"metadata[{_string(k)}]", "metadata", t) for k, t in self._keys()]

    def metadata_keys(self) -> list[dict]:
        return [
            _candidate(_string(k), "metadata", t, insert=f"{_string(k)}]") for k, t in self._keys()
        ]

    def tag_names(self) -> list[dict]:
        return [
            _candidate(f"{_string(name)} IN tags", "tag", "samples with this tag")
            for name in tags_store.tag_names(self.con, self.dataset.dataset_id)
        ]

    def tags(self) -> list[dict]:
        return [_candidate("tags", "keyword", "the sample's tags")]

    def class_names(self) -> list[dict]:
        names = sorted(set(labels_store.label_names(self.con, self.dataset.dataset_id)))
        return [_candidate(_string(name), "class", "annotation class") for name in names]

    def source_names(self) -> list[dict]:
        sources = annotations_store.annotation_sources(self.con, self.dataset.dataset_id)
        return [_candidate(_string(name), "source", "annotation source") for name in sources]

    def operators(self) -> list[dict]:
        return [_candidate(op, "operator", "comparison") for op in _OPERATORS]
