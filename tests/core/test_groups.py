"""Groups: importing one group per file stem from view folders, members by view, tags and
metadata on groups, and queries over groups by their own fields and their members'."""

from __future__ import annotations

import warnings

import pytest

import lightly_studio as ls
from lightly_studio.core.dataset_query import AND, GroupSampleField, ImageSampleField
from lightly_studio.db import get_connection
from lightly_studio.errors import DatasetNotFoundError, IngestError, QueryError
from lightly_studio.store import datasets as datasets_store
from tests.conftest import make_images


@pytest.fixture
def camera_folder(tmp_path):
    """front/ and rear/ with groups 0001, 0002 in both and 0003 in front only."""
    root = tmp_path / "cameras"
    make_images(
        root,
        {
            "front/0001.jpg": (64, 48),
            "front/0002.jpg": (64, 48),
            "front/0003.png": (32, 32),
            "rear/0001.png": (40, 30),
            "rear/0002.jpg": (40, 30),
        },
    )
    return root


def _import(dataset, folder, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        added = dataset.add_groups_from_folders(folder, **kwargs)
    return added, [str(w.message) for w in caught]


def test_files_with_the_same_stem_form_one_group_with_a_member_per_view(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    added, _ = _import(dataset, camera_folder)

    assert added == 3
    assert dataset.views == ["front", "rear"]
    groups = {group.name: group for group in dataset}
    assert sorted(groups) == ["0001", "0002", "0003"]
    first = groups["0001"]
    assert list(first.members) == ["front", "rear"]
    assert first["front"].file_path_abs == str(camera_folder / "front" / "0001.jpg")
    assert (first["rear"].width, first["rear"].height) == (40, 30)
    assert len(dataset) == 3  # the dataset's samples are its groups, not their members
    assert dataset.members().count() == 5
    assert sorted(s.file_name for s in dataset.members(view="rear")) == ["0001.png", "0002.jpg"]


def test_a_stem_missing_in_a_view_gives_a_group_without_that_member_and_a_warning(
    db, camera_folder
):
    dataset = ls.GroupDataset.create("cams")
    _, messages = _import(dataset, camera_folder)

    assert any("1 of 3 groups" in m and "'rear'" in m and "'0003'" in m for m in messages)
    lonely = next(g for g in dataset if g.name == "0003")
    assert lonely.views == ["front"]
    assert lonely.get("rear") is None
    with pytest.raises(KeyError, match=r"no member in view 'rear'.*front"):
        lonely["rear"]


def test_views_choose_and_order_the_folders(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder, views=["rear", "front"])
    assert dataset.views == ["rear", "front"]
    assert list(next(iter(dataset)).members) == ["rear", "front"]


def test_an_unknown_view_is_an_error_naming_the_folders_and_stores_nothing(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    with pytest.raises(IngestError, match=r"Unknown view 'side'.*front, rear"):
        dataset.add_groups_from_folders(camera_folder, views=["front", "side"])
    assert len(dataset) == 0


def test_two_files_with_one_stem_in_a_view_is_an_error_naming_both(db, camera_folder):
    make_images(camera_folder, {"rear/0002.png": (8, 8)})
    dataset = ls.GroupDataset.create("cams")
    with pytest.raises(
        IngestError, match=r"Duplicate stem '0002' in view 'rear'.*0002\.jpg.*0002\.png"
    ):
        dataset.add_groups_from_folders(camera_folder)
    assert len(dataset) == 0
    assert dataset.members().count() == 0


def test_stems_keep_their_sub_folders(db, tmp_path):
    make_images(
        tmp_path / "g", {"a/day/1.jpg": (8, 8), "b/day/1.jpg": (8, 8), "b/night/1.jpg": (8, 8)}
    )
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, tmp_path / "g")
    assert sorted(g.name for g in dataset) == ["day/1", "night/1"]


def test_rerunning_adds_only_new_groups_and_keeps_the_view_order(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder, views=["rear", "front"])
    make_images(camera_folder, {"front/0004.jpg": (8, 8), "rear/0004.jpg": (8, 8)})
    added, _ = _import(dataset, camera_folder)
    assert added == 1
    assert dataset.views == ["rear", "front"]
    assert dataset.members().count() == 7
    # Nothing new: nothing happens (no duplicate members, no new groups).
    assert _import(dataset, camera_folder)[0] == 0
    assert dataset.members().count() == 7


def test_a_view_folder_added_later_gives_stored_groups_their_new_members(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    make_images(camera_folder, {"side/0001.jpg": (8, 8), "side/0003.jpg": (8, 8)})
    added, _ = _import(dataset, camera_folder)

    assert added == 0  # no new group: 0001 and 0003 gain a side member
    assert dataset.views == ["front", "rear", "side"]
    groups = {g.name: g for g in dataset}
    assert groups["0001"].views == ["front", "rear", "side"]
    assert groups["0003"].views == ["front", "side"]
    assert groups["0002"].get("side") is None
    # A rear image that appears later fills 0003's gap; the stored ones stay as they were.
    make_images(camera_folder, {"rear/0003.jpg": (8, 8)})
    _import(dataset, camera_folder)
    assert next(g for g in dataset if g.name == "0003").views == ["front", "rear", "side"]
    assert dataset.members().count() == 8


def test_a_second_member_in_a_view_is_refused_and_links_nothing(db, camera_folder):
    import polars as pl

    from lightly_studio.db import transaction
    from lightly_studio.store import groups as groups_store

    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    groups = {g.name: g for g in dataset}
    intruder = groups["0002"]["front"]
    links = pl.DataFrame(
        {
            "group_sample_id": [str(groups["0003"].sample_id)] * 2,
            "member_sample_id": [str(intruder.sample_id), str(groups["0002"]["rear"].sample_id)],
            "view_name": ["rear", "front"],  # 0003 has a front member already
        }
    )
    with pytest.raises(IngestError, match="at most one member per view"), transaction() as tx:
        groups_store.link_members(tx, dataset.dataset_id, links)
    assert next(g for g in dataset if g.name == "0003").views == ["front"]


def test_a_group_whose_files_all_fail_to_read_is_not_stored(db, camera_folder):
    (camera_folder / "front" / "0004.jpg").write_bytes(b"not an image")
    dataset = ls.GroupDataset.create("cams")
    _, messages = _import(dataset, camera_folder)
    assert sorted(g.name for g in dataset) == ["0001", "0002", "0003"]
    assert any("0004.jpg" in m and "could not be read" in m for m in messages)


def test_groups_have_their_own_tags_and_metadata_and_members_keep_theirs(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    group = next(g for g in dataset if g.name == "0002")
    group.add_tag("reviewed")
    group.metadata["weather"] = "rain"
    group["front"].add_tag("blurry")

    again = next(g for g in dataset if g.name == "0002")
    assert again.tags == {"reviewed"}
    assert again.metadata["weather"] == "rain"
    assert again["front"].tags == {"blurry"}
    assert again["rear"].tags == set()


def test_queries_filter_groups_by_their_tags_and_by_their_members(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    by_name = {g.name: g for g in dataset}
    by_name["0001"].add_tag("reviewed")
    by_name["0002"]["rear"].add_tag("blurry")
    by_name["0003"]["front"].add_tag("blurry")

    def names(query):
        return sorted(g.name for g in query)

    assert names(dataset.match(GroupSampleField.tags.contains("reviewed"))) == ["0001"]
    any_blurry = GroupSampleField.members.match(ImageSampleField.tags.contains("blurry"))
    assert names(dataset.match(any_blurry)) == ["0002", "0003"]
    front_blurry = GroupSampleField.members.match(
        ImageSampleField.tags.contains("blurry"), view="front"
    )
    assert names(dataset.match(front_blurry)) == ["0003"]
    assert names(dataset.match(GroupSampleField.members.exists("rear"))) == ["0001", "0002"]
    small_member = GroupSampleField.members.match(ImageSampleField.width < 40)
    assert names(dataset.match(small_member)) == ["0003"]
    assert names(dataset.match(AND(any_blurry, GroupSampleField.name == "0002"))) == ["0002"]
    # A tag set on a query tags the groups, not their members.
    dataset.match(any_blurry).add_tag("check")
    assert names(dataset.match(GroupSampleField.tags.contains("check"))) == ["0002", "0003"]
    assert dataset.members().match(ImageSampleField.tags.contains("check")).count() == 0


def test_text_queries_see_group_fields(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    next(iter(dataset)).add_tag("reviewed")
    assert dataset.match_text('"reviewed" IN tags').count() == 1


def test_members_match_needs_an_expression(db):
    with pytest.raises(QueryError, match=r"members\.match"):
        GroupSampleField.members.match("blurry")  # type: ignore[arg-type]


def test_a_group_dataset_opens_only_as_one_and_lists_its_group_count(db, camera_folder):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    with pytest.raises(DatasetNotFoundError, match="GroupDataset"):
        ls.ImageDataset.load("cams")
    assert type(ls.ImageDataset.from_id(dataset.dataset_id)).__name__ == "GroupDataset"
    listed = datasets_store.datasets_with_counts(get_connection()).row(0, named=True)
    assert (listed["kind"], listed["count"]) == ("group", 3)


def test_an_empty_or_flat_folder_is_an_error(db, tmp_path):
    dataset = ls.GroupDataset.create("cams")
    make_images(tmp_path / "flat", {"a.jpg": (8, 8)})
    with pytest.raises(IngestError, match="no sub-folders"):
        dataset.add_groups_from_folders(tmp_path / "flat")
    (tmp_path / "empty" / "front").mkdir(parents=True)
    with pytest.raises(IngestError, match="No images"):
        dataset.add_groups_from_folders(tmp_path / "empty")
    with pytest.raises(IngestError, match="Not a folder"):
        dataset.add_groups_from_folders(tmp_path / "missing")


def test_a_view_of_videos_gives_video_members_with_their_frames(db, tmp_path):
    from tests.video.conftest import write_video

    root = tmp_path / "clips"
    make_images(root, {"still/a.jpg": (64, 48), "still/b.jpg": (64, 48)})
    write_video(root / "clip" / "a.mp4", frames=30, fps=30)  # 1 s
    dataset = ls.GroupDataset.create("clips")
    _, messages = _import(dataset, root)

    assert dataset.views == ["clip", "still"]
    group = next(g for g in dataset if g.name == "a")
    video = group["clip"]
    assert type(video).__name__ == "VideoSample"
    assert (video.width, video.height, video.frame_count) == (64, 48, 30)
    assert video.frames.count() == 2  # sampled at the default 2 fps, as VideoDataset does
    assert group["still"].file_name == "a.jpg"
    assert dataset.members(kind="video").count() == 1
    assert dataset.members().count() == 2  # images
    assert any("'clip'" in m and "'b'" in m for m in messages)


def test_members_of_an_unknown_kind_is_an_error(db):
    dataset = ls.GroupDataset.create("cams")
    with pytest.raises(QueryError, match="'image' or 'video'"):
        dataset.members(kind="frame")


def test_members_of_a_query_of_groups_and_the_export_of_their_files(db, camera_folder, tmp_path):
    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    next(g for g in dataset if g.name == "0002").add_tag("keep")
    kept = dataset.match(GroupSampleField.tags.contains("keep"))

    assert sorted(s.file_path_abs for s in dataset.members(groups=kept)) == [
        str(camera_folder / "front" / "0002.jpg"),
        str(camera_folder / "rear" / "0002.jpg"),
    ]
    assert dataset.members(view="rear", groups=kept).count() == 1
    # The export of a query of groups writes their members' files, never a group's key.
    listed = dataset.export(kept).to_file_list(tmp_path / "files.txt").read_text().split()
    assert listed == [
        str(camera_folder / "front" / "0002.jpg"),
        str(camera_folder / "rear" / "0002.jpg"),
    ]
    assert len(dataset.export().to_file_list(tmp_path / "all.txt").read_text().split()) == 5
    with pytest.raises(QueryError, match="query of groups"):
        dataset.members(groups=dataset.members())


def test_a_groups_vector_is_the_normalised_mean_of_its_members_and_ranks_groups(db, camera_folder):
    import numpy as np

    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    groups = {g.name: g for g in dataset}
    # Toy vectors: 0001's members point along x, 0002's along y, 0003's front along x+y.
    vectors = {
        groups["0001"]["front"]: [1.0, 0.0, 0.0],
        groups["0001"]["rear"]: [0.8, 0.6, 0.0],
        groups["0002"]["front"]: [0.0, 1.0, 0.0],
        groups["0002"]["rear"]: [0.0, 0.6, 0.8],
        groups["0003"]["front"]: [0.6, 0.8, 0.0],
    }
    dataset.add_embeddings("toy", [s.sample_id for s in vectors], np.array(list(vectors.values())))

    assert dataset.compute_group_embeddings("toy") == 3
    from lightly_studio.embed import get_embeddings

    _ids, stored = get_embeddings(dataset, [groups["0001"].sample_id], model_name="toy")
    expected = np.array([1.8, 0.6, 0.0]) / np.linalg.norm([1.8, 0.6, 0.0])
    np.testing.assert_allclose(stored[0], expected, atol=1e-6)
    ranked = dataset.query().sort_by_similarity(
        samples=[groups["0002"]], embedding_model_name="toy"
    )
    assert [g.name for g in ranked] == ["0002", "0003", "0001"]


def test_a_published_group_dataset_keeps_its_groups_members_and_views_only(
    db, camera_folder, tmp_path
):
    from lightly_studio import db_manager

    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    next(g for g in dataset if g.name == "0002")["rear"].add_tag("blurry")
    other = ls.GroupDataset.create("other")  # its links must not travel with "cams"
    make_images(tmp_path / "other", {"left/x.jpg": (8, 8), "right/x.jpg": (8, 8)})
    _import(other, tmp_path / "other")
    url = str(tmp_path / "published" / "cams")
    dataset.publish(url)
    db_manager.close()

    opened = ls.open_published(url)
    assert type(opened).__name__ == "GroupDataset"
    assert opened.views == ["front", "rear"]
    groups = {g.name: g for g in opened}
    assert sorted(groups) == ["0001", "0002", "0003"]
    assert groups["0001"]["rear"].file_name == "0001.png"
    blurry = GroupSampleField.members.match(ImageSampleField.tags.contains("blurry"))
    assert [g.name for g in opened.match(blurry)] == ["0002"]
    from lightly_studio.db import get_connection

    assert get_connection().execute("SELECT count(*) FROM group_member").fetchone()[0] == 5


def test_annotation_and_caption_conditions_on_groups_look_at_the_members(db, camera_folder):
    from lightly_studio.core.annotation import CreateObjectDetection

    dataset = ls.GroupDataset.create("cams")
    _import(dataset, camera_folder)
    groups = {g.name: g for g in dataset}
    groups["0002"]["rear"].add_annotation(
        CreateObjectDetection(label="car", x=1, y=1, width=30, height=20)
    )
    groups["0003"]["front"].add_caption("a red car")

    def names(text):
        return sorted(g.name for g in dataset.match_text(text))

    assert names('object_detection(class_name = "car")') == ["0002"]
    assert names('object_detection(class_name = "car" AND width >= 50)') == []
    assert names('captions CONTAINS "red"') == ["0003"]
    assert dataset.match(GroupSampleField.annotations.contains_label("car")).count() == 1
