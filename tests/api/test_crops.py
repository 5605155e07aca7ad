"""The Annotations view's api (api/crops.py) and undoable bulk edits (core/annotation_edits.py,
core/undo.py), from the views and from Python."""

from __future__ import annotations

import io
import os

import pytest

from lightly_studio.api import dispatch
from lightly_studio.core import undo
from lightly_studio.core.dataset_query import ImageSampleField as F
from lightly_studio.errors import AnnotationError, LightlyStudioError, QueryError


@pytest.fixture(autouse=True)
def fresh_undo_history():
    undo.clear()
    yield
    undo.clear()


def page(ds, **kw):
    result, _ = dispatch("crops_page", {"dataset_id": str(ds.dataset_id), "limit": 100, **kw})
    return result


def labels_of(ds, **kw):
    return [(r["label"], r["source"]) for r in page(ds, **kw)["rows"]]


def crop_ids(ds, **kw):
    return [r["annotation_id"] for r in page(ds, **kw)["rows"]]


def test_crops_list_every_box_and_mask_in_insertion_order(small_ds):
    result = page(small_ds)
    assert result["total"] == 4
    assert [(r["label"], r["type"]) for r in result["rows"]] == [
        ("car", "object_detection"),
        ("car", "object_detection"),
        ("person", "instance_segmentation"),
        ("car", "object_detection"),
    ]
    first = result["rows"][0]
    assert first["box"] == [10, 20, 50, 40]
    # The crop keeps context around the box; the box's place in it comes as fractions.
    x, y, w, h = first["box_in_crop"]
    assert 0 < x < 1 and 0 < y < 1 and x + w <= 1 and y + h <= 1


def test_crops_filter_by_class_source_confidence_size_and_tag(small_ds):
    assert labels_of(small_ds, labels=["person"]) == [("person", "ground_truth")]
    assert labels_of(small_ds, sources=["model"]) == [("car", "model")]
    assert labels_of(small_ds, confidence_min=0.3, confidence_max=0.5) == [("car", "model")]
    # Annotations without a confidence are outside any confidence range.
    assert labels_of(small_ds, confidence_min=0.9) == []
    # Size: the box's longer side (cars 50, person 60, prediction 20).
    assert labels_of(small_ds, size_min=55) == [("person", "ground_truth")]
    assert labels_of(small_ds, size_max=20) == [("car", "model")]
    small_ds.by_name["b.jpg"].add_tag("night")
    assert labels_of(small_ds, tags=["night"]) == [("car", "model")]
    assert page(small_ds, tags=["night", "good"])["total"] == 4


def test_crops_sort_by_size_confidence_and_issue_score(small_ds):
    assert labels_of(small_ds, sort="size", descending=True)[0] == ("person", "ground_truth")
    assert labels_of(small_ds, sort="confidence")[0] == ("car", "model")
    with pytest.raises(QueryError, match="Unknown crop sort 'nope'"):
        page(small_ds, sort="nope")


def test_crops_sort_by_a_label_issue_score_with_unscored_last(small_ds):
    from lightly_studio.db import transaction
    from lightly_studio.store import issues

    ids = crop_ids(small_ds)
    import polars as pl

    with transaction() as tx:
        issues.replace_annotation_issue_scores(
            tx,
            small_ds.dataset_id,
            ["odd_box"],
            pl.DataFrame(
                {
                    "annotation_id": [ids[1], ids[2]],
                    "issue": ["odd_box", "odd_box"],
                    "score": [0.2, 0.9],
                    "is_issue": [False, True],
                }
            ),
        )
    rows = page(small_ds, sort="issue:odd_box", descending=True)["rows"]
    assert [r["annotation_id"] for r in rows[:2]] == [ids[2], ids[1]]
    assert [r["score"] for r in rows] == [0.9, 0.2, None, None]
    options, _ = dispatch("crop_options", {"dataset_id": str(small_ds.dataset_id)})
    assert options["issues"] == ["odd_box"]
    assert options["labels"] == ["car", "person"] and options["sources"] == [
        "ground_truth",
        "model",
    ]


def test_crop_images_are_jpegs_of_the_box_cached_and_masks_dim_the_outside(small_ds):
    from PIL import Image

    from lightly_studio.api.thumbnails import cache_dir

    ids = crop_ids(small_ds)
    result, buffers = dispatch(
        "crop_images", {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids}
    )
    assert result["errors"] == [None] * 4 and result["annotation_ids"] == ids
    sizes = [Image.open(io.BytesIO(b)).size for b in buffers]
    assert all(max(s) <= 192 for s in sizes)
    # The person's mask is a rectangle inside its crop; outside it the picture is dimmed.
    person = Image.open(io.BytesIO(buffers[2])).convert("L")
    w, h = person.size
    assert person.getpixel((1, 1)) < person.getpixel((w // 2, h // 2)) * 0.6
    cached = list((cache_dir().parent / "crops").rglob("*.jpg"))
    assert len(cached) == 4
    # A second call reads the cache (same bytes, no new files).
    _, again = dispatch(
        "crop_images", {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids}
    )
    assert again == buffers and len(list((cache_dir().parent / "crops").rglob("*.jpg"))) == 4


def test_crop_images_go_through_the_media_checks(small_ds):
    a = small_ds.by_name["a.jpg"]
    os.remove(a.file_path_abs)
    os.symlink("/etc/passwd", a.file_path_abs)
    ids = crop_ids(small_ds)
    result, buffers = dispatch(
        "crop_images", {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids}
    )
    assert buffers[0] == b"" and "MediaRefused" in result["errors"][0]
    assert buffers[3] != b""  # b.jpg is untouched


def test_crop_images_refuse_annotations_of_another_dataset(small_ds):
    from lightly_studio.core.image_dataset import ImageDataset

    other = ImageDataset.create("other")
    with pytest.raises(QueryError, match="is not in dataset 'other'"):
        dispatch(
            "crop_images",
            {"dataset_id": str(other.dataset_id), "annotation_ids": crop_ids(small_ds)[:1]},
        )


def test_relabel_many_is_one_step_and_undo_puts_the_old_classes_back(small_ds):
    ids = crop_ids(small_ds)
    result, _ = dispatch(
        "annotations_relabel",
        {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids[:3], "label": "truck"},
    )
    assert result == {"changed": 3, "undo": "relabel 3 annotation(s) as 'truck'"}
    assert [lb for lb, _ in labels_of(small_ds)] == ["truck", "truck", "truck", "car"]
    assert small_ds.undo() == "relabel 3 annotation(s) as 'truck'"
    assert [lb for lb, _ in labels_of(small_ds)] == ["car", "car", "person", "car"]
    assert small_ds.last_undoable is None
    with pytest.raises(LightlyStudioError, match="Nothing to undo"):
        small_ds.undo()


def test_undos_run_newest_first(small_ds):
    ids = crop_ids(small_ds)
    small_ds.relabel_annotations(ids[:2], "truck")
    small_ds.relabel_annotations(ids[:1], "bus")
    assert small_ds.undo() == "relabel 1 annotation(s) as 'bus'"
    assert [lb for lb, _ in labels_of(small_ds)][:2] == ["truck", "truck"]
    small_ds.undo()
    assert [lb for lb, _ in labels_of(small_ds)][:2] == ["car", "car"]


def test_undo_of_a_relabel_keeps_a_class_change_made_since_elsewhere(small_ds):
    from lightly_studio.db import transaction
    from lightly_studio.store.annotations import update_annotation
    from lightly_studio.store.labels import get_or_create_label_ids

    ids = crop_ids(small_ds)
    small_ds.relabel_annotations(ids[:2], "truck")
    with transaction() as tx:  # e.g. the annotator, which keeps no undo entries here
        bus = get_or_create_label_ids(tx, small_ds.dataset_id, ["bus"])["bus"]
        update_annotation(tx, ids[0], {"label_id": str(bus)})
    _, restored = undo.undo(small_ds.dataset_id)
    assert restored == 1
    assert [lb for lb, _ in labels_of(small_ds)][:2] == ["bus", "car"]


def test_a_bulk_edit_with_an_unknown_id_changes_nothing(small_ds):
    ids = crop_ids(small_ds)
    unknown = "00000000-0000-0000-0000-000000000001"
    with pytest.raises(AnnotationError, match=f"{unknown} is not in this dataset"):
        small_ds.delete_annotations([ids[0], unknown])
    assert page(small_ds)["total"] == 4
    assert small_ds.last_undoable is None


def test_delete_many_and_undo_restores_the_same_annotations(small_ds):
    before = page(small_ds)["rows"]
    ids = [r["annotation_id"] for r in before]
    result, _ = dispatch(
        "annotations_delete", {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids[1:3]}
    )
    assert result["changed"] == 2
    assert crop_ids(small_ds) == [ids[0], ids[3]]
    undone, _ = dispatch("undo", {"dataset_id": str(small_ds.dataset_id)})
    assert undone["undone"] == "delete 2 annotation(s)" and undone["restored"] == 2
    # Same ids, masks, versions and order as before.
    assert page(small_ds)["rows"] == before
    assert small_ds.by_name["a.jpg"].annotations[2].label == "person"


def test_tag_the_samples_of_many_crops_and_undo_leaves_earlier_tags(small_ds):
    ids = crop_ids(small_ds)  # 3 on a.jpg, 1 on b.jpg
    small_ds.by_name["b.jpg"].add_tag("check")
    result, _ = dispatch(
        "annotations_tag",
        {"dataset_id": str(small_ds.dataset_id), "annotation_ids": ids, "tag": "check"},
    )
    assert result["changed"] == 1  # a.jpg; b.jpg had it
    assert sorted(s.file_name for s in small_ds.match(F.tags.contains("check"))) == [
        "a.jpg",
        "b.jpg",
    ]
    small_ds.undo()
    assert [s.file_name for s in small_ds.match(F.tags.contains("check"))] == ["b.jpg"]
    # A tag the edit created goes away again with its undo.
    small_ds.tag_annotation_samples(ids[:1], "brand-new")
    assert "brand-new" in small_ds.tags
    small_ds.undo()
    assert "brand-new" not in small_ds.tags


def test_tag_rename_and_delete_are_undoable(small_ds):
    small_ds.rename_tag("good", "keep")
    assert small_ds.undo() == "rename tag 'good' to 'keep'"
    assert "good" in small_ds.tags and "keep" not in small_ds.tags
    dispatch("tag_delete", {"dataset_id": str(small_ds.dataset_id), "name": "good"})
    assert "good" not in small_ds.tags
    undone, _ = dispatch("undo", {"dataset_id": str(small_ds.dataset_id)})
    assert undone["undone"] == "delete tag 'good' (2 sample(s))"
    assert sorted(s.file_name for s in small_ds.match(F.tags.contains("good"))) == [
        "a.jpg",
        "b.jpg",
    ]


def test_undo_of_a_tag_delete_is_refused_when_the_name_is_taken_again(small_ds):
    small_ds.delete_tag("good")
    small_ds.by_name["c.png"].add_tag("good")
    with pytest.raises(LightlyStudioError, match="exists again"):
        small_ds.undo()
    # The failed undo changed nothing and stays available.
    assert [s.file_name for s in small_ds.match(F.tags.contains("good"))] == ["c.png"]
    assert small_ds.last_undoable == "delete tag 'good' (2 sample(s))"
