"""CVAT for images 1.1 XML writer: boxes, polygons, masks (CVAT RLE), tags, attributes.

Detections become ``<box>``, polygons ``<polygon>`` (a multi-ring one as one ``<polygon>``
per ring sharing a ``group_id``), other masks (RLE masks, crowds) ``<mask>`` (pixel-exact),
classifications ``<tag>``. Semantic masks carry the attribute ``semantic_segmentation`` =
``true``. A sample's
split tag becomes its image's ``subset``. Import the file back (after correcting it in CVAT)
with ``add_annotations_from_cvat(..., annotation_source="cvat")``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from lightly_studio.export._labelset import ANNOTATION_COLUMNS, export_data, named_rows
from lightly_studio.ingest.cvat import CROWD_ATTRIBUTE, INT_ATTRIBUTES, SEMANTIC_ATTRIBUTE
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType


def _num(v: float) -> str:
    return repr(float(v))


def _attrs_xml(attrs: dict) -> tuple[str, str]:
    """(XML attributes for occluded/z_order/rotation, <attribute> children)."""
    head = f' occluded="{int(attrs.get("occluded", 0))}" z_order="{int(attrs.get("z_order", 0))}"'
    if "rotation" in attrs:
        head += f" rotation={quoteattr(str(attrs['rotation']))}"
    children = "".join(
        f"<attribute name={quoteattr(str(k))}>{escape(str(v))}</attribute>"
        for k, v in attrs.items()
        if k not in INT_ATTRIBUTES and k != "rotation"
    )
    return head, children


def _points(ring: list[float]) -> str:
    return ";".join(f"{_num(ring[i])},{_num(ring[i + 1])}" for i in range(0, len(ring), 2))


def _mask_xml(runs: list[int], width: int, height: int) -> str:
    """rle/left/top/width/height of a CVAT mask: runs over the tight crop."""
    mask = rle.decode(runs, width, height)
    box = rle.bbox_from_mask(mask)
    if box is None:
        return 'rle="1" left="0" top="0" width="1" height="1"'
    x, y, w, h = box
    crop = mask[y : y + h, x : x + w].ravel()
    changes = np.flatnonzero(crop[1:] != crop[:-1]) + 1
    counts = np.diff(np.concatenate(([0], changes, [crop.size])))
    if crop[0]:
        counts = np.concatenate(([0], counts))
    return f'rle="{", ".join(str(int(c)) for c in counts)}" left="{x}" top="{y}" width="{w}" height="{h}"'


def write_cvat(
    con,
    dataset: Any,
    query: Any,
    output_xml: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    annotation_source: str | None = None,
) -> Path:
    data = export_data(
        con, dataset, query, root=root, annotation_source=annotation_source, types=None
    )
    s = data.samples
    sizes = dict(
        zip(
            s["sample_id"].to_list(),
            zip(s["width"].to_list(), s["height"].to_list(), strict=True),
            strict=True,
        )
    )
    shapes: dict[str, list[str]] = {}
    groups: dict[str, int] = {}  # sample_id → group ids given out
    for values in named_rows(data.annotations, ANNOTATION_COLUMNS):
        row = dict(zip(ANNOTATION_COLUMNS, values, strict=True))
        attrs = data.attributes_of(row["annotation_id"])
        if row["iscrowd"]:
            attrs = {**attrs, CROWD_ATTRIBUTE: "true"}
        if row["annotation_type"] == AnnotationType.SEMANTIC_SEGMENTATION.value:
            attrs = {**attrs, SEMANTIC_ATTRIBUTE: "true"}
        head, children = _attrs_xml(attrs)
        label = quoteattr(row["label"])
        kind = row["annotation_type"]
        if kind == AnnotationType.CLASSIFICATION.value:
            xml = f'<tag label={label} source="manual">{children}</tag>'
        elif kind == AnnotationType.OBJECT_DETECTION.value:
            x, y, w, h = row["x"], row["y"], row["width"], row["height"]
            xml = (
                f'<box label={label} source="manual"{head} xtl="{_num(x)}" ytl="{_num(y)}" '
                f'xbr="{_num(x + w)}" ybr="{_num(y + h)}">{children}</box>'
            )
        elif row["polygon"] and not row["iscrowd"]:
            group = ""
            if len(row["polygon"]) > 1:
                groups[row["sample_id"]] = groups.get(row["sample_id"], 0) + 1
                group = f' group_id="{groups[row["sample_id"]]}"'
            xml = "".join(
                f'<polygon label={label} source="manual"{head}{group} points="{_points(ring)}">'
                f"{children}</polygon>"
                for ring in row["polygon"]
            )
        else:
            w, h = sizes[row["sample_id"]]
            xml = (
                f'<mask label={label} source="manual"{head} '
                f"{_mask_xml(row['segmentation_mask'], w, h)}>{children}</mask>"
            )
        shapes.setdefault(row["sample_id"], []).append(xml)
    split_tags = set(data.split_tagged)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>'
        f"<name>{escape(dataset.name)}</name><size>{s.height}</size><labels>"
    ]
    for name in data.label_names:
        parts.append(f"<label><name>{escape(name)}</name><attributes/></label>")
    parts.append("</labels></task></meta>\n")
    for i, (sid, rel, width, height, split) in enumerate(
        zip(
            s["sample_id"].to_list(),
            s["rel"].to_list(),
            s["width"].to_list(),
            s["height"].to_list(),
            s["split"].to_list(),
            strict=True,
        )
    ):
        subset = f" subset={quoteattr(split)}" if sid in split_tags else ""
        parts.append(
            f'<image id="{i}" name={quoteattr(rel)} width="{width}" height="{height}"{subset}>'
            + "".join(shapes.get(sid, ()))
            + "</image>\n"
        )
    parts.append("</annotations>\n")
    path = Path(output_xml).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
    return path.resolve()
