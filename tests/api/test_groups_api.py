"""The group grid's api: pages of groups with their members per view, the group detail, the
filter panel's group and member tags, and tagging groups."""

from __future__ import annotations

import warnings

import pytest

import lightly_studio as ls
from lightly_studio.api import dispatch
from lightly_studio.errors import QueryError
from tests.conftest import make_images


@pytest.fixture
def groups_ds(db, tmp_path):
    """Groups 0001 (front, rear), 0002 (front, rear; rear tagged 'blurry'), 0003 (front only;
    the group tagged 'reviewed')."""
    make_images(
        tmp_path / "cams",
        {
            "front/0001.jpg": (64, 48),
            "front/0002.jpg": (64, 48),
            "front/0003.jpg": (64, 48),
            "rear/0001.jpg": (40, 30),
            "rear/0002.jpg": (40, 30),
        },
    )
    ds = ls.GroupDataset.create("cams")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0003 has no rear member: expected here
        ds.add_groups_from_folders(tmp_path / "cams")
    ds.by_name = {g.name: g for g in ds}
    ds.by_name["0002"]["rear"].add_tag("blurry")
    ds.by_name["0003"].add_tag("reviewed")
    return ds


def page(ds, **spec):
    result, buffers = dispatch(
        "samples_page",
        {"spec": {"dataset_id": str(ds.dataset_id), **spec}, "limit": 50, "thumbnails": 10},
    )
    return result, buffers


def test_a_page_of_groups_carries_each_groups_members_in_view_order(groups_ds):
    result, buffers = page(groups_ds)
    assert [r["file_name"] for r in result["rows"]] == ["0001", "0002", "0003"]
    assert {r["kind"] for r in result["rows"]} == {"group"}
    second = result["rows"][1]["members"]
    assert [(m["view"], m["file_name"], m["tags"]) for m in second] == [
        ("front", "0002.jpg", []),
        ("rear", "0002.jpg", ["blurry"]),
    ]
    assert second[0]["sample_id"] == str(groups_ds.by_name["0002"]["front"].sample_id)
    # The missing view is there, empty, so the tile shows the gap.
    assert result["rows"][2]["members"][1] == {"view": "rear", "sample_id": None}
    # Groups have no file: no first-screen thumbnails (the grid asks for the members').
    assert buffers == [] and "thumbnail_errors" not in result


def test_member_thumbnails_come_from_the_thumbnails_method(groups_ds):
    member = groups_ds.by_name["0001"]["rear"]
    result, buffers = dispatch(
        "thumbnails",
        {"dataset_id": str(groups_ds.dataset_id), "sample_ids": [str(member.sample_id)]},
    )
    assert result["errors"] == [None] and len(buffers[0]) > 0


def test_filters_by_group_tags_and_by_member_tags(groups_ds):
    assert [r["file_name"] for r in page(groups_ds, tags=["reviewed"])[0]["rows"]] == ["0003"]
    assert [r["file_name"] for r in page(groups_ds, member_tags=["blurry"])[0]["rows"]] == ["0002"]


def test_facets_split_group_tags_from_member_tags(groups_ds):
    result, _ = dispatch(
        "facets", {"spec": {"dataset_id": str(groups_ds.dataset_id), "member_tags": ["blurry"]}}
    )
    assert result["tags"] == [{"name": "reviewed", "count": 0, "total": 1}]
    assert result["member_tags"] == [{"name": "blurry", "count": 1, "total": 1}]
    assert result["numeric"] == {}  # groups have no width or height
    assert (result["count"], result["total"]) == (1, 3)


def test_tagging_selected_groups_tags_the_groups_not_their_members(groups_ds):
    first = groups_ds.by_name["0001"]
    result, _ = dispatch(
        "tag_samples",
        {
            "dataset_id": str(groups_ds.dataset_id),
            "sample_ids": [str(first.sample_id)],
            "tag": "ok",
        },
    )
    assert result["changed"] == 1
    again = next(g for g in groups_ds if g.name == "0001")
    assert again.tags == {"ok"}
    assert again["front"].tags == set()


def test_group_detail_lists_name_tags_metadata_and_members(groups_ds):
    group = groups_ds.by_name["0003"]
    group.metadata["weather"] = "fog"
    result, _ = dispatch(
        "group_detail", {"dataset_id": str(groups_ds.dataset_id), "sample_id": str(group.sample_id)}
    )
    assert result["name"] == "0003"
    assert result["tags"] == ["reviewed"]
    assert result["metadata"] == {"weather": "fog"}
    assert [m["view"] for m in result["members"]] == ["front", "rear"]
    assert result["members"][1]["sample_id"] is None


def test_group_detail_of_an_image_dataset_is_an_error(db, tmp_path):
    make_images(tmp_path / "img", {"a.jpg": (8, 8)})
    images = ls.ImageDataset.create("img")
    images.add_images_from_path(tmp_path / "img", embed=False)
    sample = next(iter(images))
    with pytest.raises(QueryError, match="not groups"):
        dispatch(
            "group_detail",
            {"dataset_id": str(images.dataset_id), "sample_id": str(sample.sample_id)},
        )


def test_the_export_dialog_on_selected_groups_writes_their_members(groups_ds, export_folder):
    group = groups_ds.by_name["0002"]
    result, _ = dispatch(
        "export",
        {
            "dataset_id": str(groups_ds.dataset_id),
            "format": "file_list",
            "scope": "selection",
            "sample_ids": [str(group.sample_id)],
            "output": "chosen.txt",
        },
    )
    listed = (export_folder / "chosen.txt").read_text().split()
    assert listed == [group["front"].file_path_abs, group["rear"].file_path_abs]
    assert result["path"].endswith("chosen.txt")


def test_find_similar_on_the_group_grid_ranks_groups_by_their_members_vectors(groups_ds):
    import numpy as np

    members = {
        (name, view): groups_ds.by_name[name][view]
        for name, view in [
            ("0001", "front"),
            ("0001", "rear"),
            ("0002", "front"),
            ("0003", "front"),
        ]
    }
    toy = {
        ("0001", "front"): [1.0, 0.0],
        ("0001", "rear"): [1.0, 0.0],
        ("0002", "front"): [0.0, 1.0],
        ("0003", "front"): [0.7, 0.7],
    }
    groups_ds.add_embeddings(
        "toy", [members[k].sample_id for k in toy], np.array(list(toy.values()))
    )
    groups_ds.compute_group_embeddings()
    similar = str(groups_ds.by_name["0001"].sample_id)
    result, _ = page(groups_ds, similar_to=similar)
    assert [r["file_name"] for r in result["rows"]] == ["0001", "0003", "0002"]
    assert result["rows"][0]["similarity"] == pytest.approx(1.0)


def test_members_in_a_page_carry_their_annotations(groups_ds):
    from lightly_studio.core.annotation import CreateObjectDetection

    front = groups_ds.by_name["0001"]["front"]
    front.add_annotation(CreateObjectDetection(label="car", x=4, y=6, width=20, height=10))
    result, _ = page(groups_ds)
    first = result["rows"][0]
    assert first["annotations"] == []  # the group itself has none
    (box,) = first["members"][0]["annotations"]
    assert (box["label"], box["box"]) == ("car", [4.0, 6.0, 20.0, 10.0])
    assert first["members"][1]["annotations"] == []
    without, _ = dispatch(
        "samples_page",
        {"spec": {"dataset_id": str(groups_ds.dataset_id)}, "limit": 5, "annotations": False},
    )
    assert "annotations" not in without["rows"][0]["members"][0]


def test_label_filters_and_counts_of_a_group_grid_look_at_the_members(groups_ds):
    from lightly_studio.core.annotation import CreateObjectDetection

    groups_ds.by_name["0001"]["rear"].add_annotation(
        CreateObjectDetection(label="car", x=1, y=1, width=5, height=5)
    )
    groups_ds.by_name["0002"]["front"].add_annotation(
        CreateObjectDetection(label="person", x=1, y=1, width=5, height=5)
    )

    def names(**spec):
        return [r["file_name"] for r in page(groups_ds, **spec)[0]["rows"]]

    assert names(labels=["car"]) == ["0001"]
    assert names(exclude_labels=["car"]) == ["0002", "0003"]
    assert names(labels=["car", "person"]) == ["0001", "0002"]
    facets, _ = dispatch(
        "facets", {"spec": {"dataset_id": str(groups_ds.dataset_id), "tags": ["reviewed"]}}
    )
    # 0003 (the only group tagged 'reviewed') has no annotated member: 0 of each.
    assert {r["name"]: (r["count"], r["total"]) for r in facets["labels"]} == {
        "car": (0, 1),
        "person": (0, 1),
    }
    facets, _ = dispatch("facets", {"spec": {"dataset_id": str(groups_ds.dataset_id)}})
    assert {r["name"]: (r["count"], r["total"]) for r in facets["labels"]} == {
        "car": (1, 1),
        "person": (1, 1),
    }


def test_the_caption_filter_of_a_group_grid_looks_at_the_members(groups_ds):
    groups_ds.by_name["0002"]["rear"].add_caption("Rain on the lens")
    assert [r["file_name"] for r in page(groups_ds, caption="rain")[0]["rows"]] == ["0002"]
