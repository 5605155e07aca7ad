"""What the label-format tests compare: a dataset's samples, classes, shapes and attributes."""

from __future__ import annotations

import json

import pytest

from lightly_studio.db import get_connection, query_frame
from lightly_studio.ingest.labelset import ATTRIBUTES_KEY, IMAGE_FLAGS_KEY
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.metadata import get_metadata_values


def _json_by_sample(ds, key: str) -> dict:
    frame = get_metadata_values(get_connection(), ds.dataset_id, key)
    return {
        s: (v if isinstance(v, dict) else json.loads(v))
        for s, v in zip(frame["sample_id"].to_list(), frame["value"].to_list(), strict=True)
    }


def snapshot(ds, *, tags: bool = True) -> dict:
    """{file_name: {size, tags, flags, annotations}}; each annotation (label, type, source,
    confidence, box, mask runs, polygon, iscrowd, attributes), sorted."""
    con = get_connection()
    samples = query_frame(
        """SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_name, s.width, s.height,
                  list_sort(list(t.name) FILTER (WHERE t.name IS NOT NULL)) AS tags
           FROM sample s LEFT JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
           WHERE s.dataset_id = $1 GROUP BY ALL""",
        [str(ds.dataset_id)],
        con,
    )
    attributes: dict = {}
    for value in _json_by_sample(ds, ATTRIBUTES_KEY).values():
        attributes.update(value)
    flags = _json_by_sample(ds, IMAGE_FLAGS_KEY)
    by_sample: dict[str, list] = {}
    for a in annotations_frame(con, ds.dataset_id).iter_rows(named=True):
        by_sample.setdefault(a["sample_id"], []).append(
            (
                a["label"],
                a["annotation_type"],
                a["source"],
                a["confidence"],
                None if a["x"] is None else (a["x"], a["y"], a["width"], a["height"]),
                None if a["segmentation_mask"] is None else tuple(a["segmentation_mask"]),
                None if a["polygon"] is None else tuple(tuple(r) for r in a["polygon"]),
                a["iscrowd"],
                json.dumps(attributes.get(a["annotation_id"], {}), sort_keys=True),
            )
        )
    out = {}
    for s in samples.iter_rows(named=True):
        out[s["file_name"]] = {
            "size": (s["width"], s["height"]),
            "tags": set(s["tags"] or []) if tags else None,
            "flags": flags.get(s["sample_id"], {}),
            "annotations": sorted(
                by_sample.get(s["sample_id"], []),
                key=lambda t: (t[0], t[1], t[5] or (), t[4] or (), t[8]),
            ),
        }
    assert len(out) == samples.height, "file names must be unique in these tests"
    return out


def assert_same(
    a: dict, b: dict, *, polygons: bool = True, mask_boxes: bool = True, iscrowd: bool = True
) -> None:
    """Same samples, tags, flags and annotations: boxes to 1e-6 px, masks pixel-exact.

    ``mask_boxes=False``: a segmentation's box may differ (COCO stores its own box beside the
    mask; formats without one derive it from the polygon or mask)."""
    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        assert x["size"] == y["size"], name
        assert x["tags"] == y["tags"], name
        assert x["flags"] == y["flags"], name
        assert len(x["annotations"]) == len(y["annotations"]), name
        for p, q in zip(x["annotations"], y["annotations"], strict=True):
            assert p[:4] == q[:4], name
            if p[4] is not None and (mask_boxes or p[5] is None):
                assert q[4] == pytest.approx(p[4], abs=1e-6), name
            assert p[5] == q[5], f"mask of {name} differs"
            if polygons and p[6] is not None:
                assert len(p[6]) == len(q[6]), name
                for r, s in zip(p[6], q[6], strict=True):
                    assert s == pytest.approx(r, abs=1e-6), name
            assert not iscrowd or p[7] == q[7], name
            assert p[8] == q[8], f"attributes of {name} differ"


def label_names(ds) -> list[str]:
    from lightly_studio.store.labels import label_names as names

    return names(get_connection(), ds.dataset_id)


def sample_count(ds) -> int:
    return ds.query().count()
