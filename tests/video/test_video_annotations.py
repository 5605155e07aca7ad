"""Video annotation files: YouTube-VIS object tracks (import, query, export, round trip) and
ActivityNet time spans, on small videos generated with PyAV; bad files change nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lightly_studio.core.dataset_query import FrameSampleField
from lightly_studio.core.video_dataset import VideoDataset
from lightly_studio.errors import IngestError

from .conftest import SQUARE, square_at


@pytest.fixture
def vis(tmp_path, make_square_video):
    """videos/a.mp4 (64x48, 30 frames, a red square at square_at(i)), videos/b.mp4 (64x48, 20
    frames) and a YouTube-VIS file: track 7 follows a's square on frames 0-29, track 3 a
    fixed box on a's frames 5-9, track 11 a box on b's frame 4 only."""
    root = tmp_path / "videos"
    make_square_video(root / "a.mp4", frames=30)
    make_square_video(root / "b.mp4", frames=20)
    follow = [[*square_at(i), SQUARE, SQUARE] for i in range(30)]
    fixed = [None] * 5 + [[1, 2, 10, 12]] * 5 + [None] * 20
    document = {
        "videos": [
            {
                "id": 1,
                "width": 64,
                "height": 48,
                "length": 30,
                "file_names": [f"a/{i:05d}.jpg" for i in range(30)],
            },
            {
                "id": 2,
                "width": 64,
                "height": 48,
                "length": 20,
                "file_names": [f"b/{i:05d}.jpg" for i in range(20)],
            },
        ],
        "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "thing"}],
        "annotations": [
            {"id": 7, "video_id": 1, "category_id": 1, "iscrowd": 0, "bboxes": follow},
            {"id": 3, "video_id": 1, "category_id": 2, "iscrowd": 0, "bboxes": fixed},
            {
                "id": 11,
                "video_id": 2,
                "category_id": 2,
                "iscrowd": 0,
                "bboxes": [None] * 4 + [[0, 0, 5, 5]] + [None] * 15,
            },
        ],
    }
    path = tmp_path / "vis.json"
    path.write_text(json.dumps(document))
    return path, root, document


def _frame(dataset, name: str, number: int):
    video = next(v for v in dataset if v.file_name == name)
    return video.frames.match(FrameSampleField.frame_number == number).to_list()[0]


def _annotation_count(dataset) -> int:
    return sum(len(f.annotations) for f in dataset.frames())


def test_youtube_vis_import_keeps_every_frame_and_the_track_ids(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")

    added = dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert added == 2
    assert dataset.frames().count() == 30 + 20
    on_7 = _frame(dataset, "a.mp4", 7).annotations
    assert sorted((a.label, a.track_id) for a in on_7) == [("square", 7), ("thing", 3)]
    square = next(a for a in on_7 if a.track_id == 7)
    assert (square.x, square.y, square.width, square.height) == (*square_at(7), SQUARE, SQUARE)
    assert [a.track_id for a in _frame(dataset, "b.mp4", 4).annotations] == [11]
    assert _frame(dataset, "b.mp4", 5).annotations == []


def test_track_ids_can_be_queried(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    showing_3 = dataset.frames().match(FrameSampleField.annotations.exists(track_id=3))
    two_tracks = dataset.frames().match(FrameSampleField.annotations.count() >= 2)

    assert sorted(f.frame_number for f in showing_3) == [5, 6, 7, 8, 9]
    assert dataset.frames().match(FrameSampleField.annotations.exists(track_id=7)).count() == 30
    assert sorted(f.frame_number for f in two_tracks) == [5, 6, 7, 8, 9]


def test_youtube_vis_export_round_trips(db, vis, tmp_path):
    path, root, document = vis
    dataset = VideoDataset.create("vis")
    dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    out = dataset.export().to_youtube_vis(tmp_path / "out" / "tracks.json")

    written = json.loads(out.read_text())
    assert [(v["id"], v["length"], v["file_names"][3]) for v in written["videos"]] == [
        (1, 30, "a/00003.jpg"),
        (2, 20, "b/00003.jpg"),
    ]
    names = {c["id"]: c["name"] for c in written["categories"]}
    tracks = {t["id"]: t for t in written["annotations"]}
    assert set(tracks) == {3, 7, 11}
    for original in document["annotations"]:
        track = tracks[original["id"]]
        assert track["bboxes"] == [
            b if b is None else [float(v) for v in b] for b in original["bboxes"]
        ]
        assert names[track["category_id"]] == {1: "square", 2: "thing"}[original["category_id"]]
    # The export is a YouTube-VIS file this importer reads back to the same annotations.
    again = VideoDataset.create("again")
    again.add_videos_from_youtube_vis(out, root, embed=False, embed_frames=False)
    assert _annotation_count(again) == _annotation_count(dataset) == 30 + 5 + 1
    assert sorted(
        (a.label, a.track_id, a.x, a.y) for a in _frame(again, "a.mp4", 12).annotations
    ) == [("square", 7, *map(float, square_at(12)))]


def test_coco_video_export_carries_the_track_id(db, vis, tmp_path):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    out = dataset.export().to_coco_object_detections(tmp_path / "coco.json")

    boxes = json.loads(out.read_text())["annotations"]
    assert sorted({b["instance_id"] for b in boxes}) == [3, 7, 11]


def test_youtube_vis_instance_masks(db, tmp_path, make_square_video):
    from pycocotools import mask as mask_utils

    root = tmp_path / "videos"
    make_square_video(root / "m.mp4", frames=3)
    masks = []
    for i in range(3):
        m = np.zeros((48, 64), dtype=np.uint8)
        x, y = square_at(i)
        m[y : y + SQUARE, x : x + SQUARE] = 1
        encoded = mask_utils.encode(np.asfortranarray(m))
        masks.append({"size": [48, 64], "counts": encoded["counts"].decode()})
    path = tmp_path / "masks.json"
    path.write_text(
        json.dumps(
            {
                "videos": [{"id": 1, "width": 64, "height": 48, "file_names": ["m/0.jpg"] * 3}],
                "categories": [{"id": 1, "name": "square"}],
                "annotations": [{"id": 5, "video_id": 1, "category_id": 1, "segmentations": masks}],
            }
        )
    )
    dataset = VideoDataset.create("masks")

    dataset.add_videos_from_youtube_vis(
        path, root, annotation_type="instance_segmentation", embed=False, embed_frames=False
    )

    (annotation,) = _frame(dataset, "m.mp4", 2).annotations
    assert annotation.track_id == 5
    assert (annotation.x, annotation.y, annotation.width, annotation.height) == (
        *map(float, square_at(2)),
        SQUARE,
        SQUARE,
    )
    assert int(annotation.to_binary_mask().sum()) == SQUARE * SQUARE
    out = json.loads(dataset.export().to_youtube_vis(tmp_path / "m_out.json").read_text())
    (track,) = out["annotations"]
    compressed = track["segmentations"][1]
    decoded = mask_utils.decode({**compressed, "counts": compressed["counts"].encode()})
    assert int(decoded.sum()) == SQUARE * SQUARE
    assert track["areas"] == [SQUARE * SQUARE] * 3


def test_limit_takes_the_first_videos(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")

    dataset.add_videos_from_youtube_vis(path, root, limit=1, embed=False, embed_frames=False)

    assert [v.file_name for v in dataset] == ["a.mp4"]
    assert _annotation_count(dataset) == 30 + 5


def test_a_second_import_of_the_same_tracks_adds_nothing(db, vis, caplog):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    again = dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert again == 0
    assert _annotation_count(dataset) == 36
    assert "2 videos already hold object tracks" in caplog.text


def test_tracks_on_videos_indexed_before_add_the_missing_frames(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    dataset.add_videos_from_path(root, target_fps=2.0, embed=False)
    assert dataset.frames().count() == 2 + 2

    added = dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert added == 0
    assert dataset.frames().count() == 30 + 20
    assert _annotation_count(dataset) == 36


# --- bad input: a clear message, nothing stored ------------------------------------------------


def _rewrite(path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _stored_before(dataset, root):
    # One video indexed before the failing import: it must survive untouched.
    dataset.add_videos_from_path(root / "b.mp4", target_fps=2.0, embed=False)
    return (len(dataset), dataset.frames().count())


def test_missing_video_names_it_and_stores_nothing(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    before = _stored_before(dataset, root)
    (root / "a.mp4").unlink()

    with pytest.raises(IngestError, match=r"1 of 2 videos not found .*'a' \(id 1\)"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert (len(dataset), dataset.frames().count()) == before


def test_box_on_a_frame_the_video_lacks(db, vis):
    path, root, _ = vis
    _rewrite(path, lambda d: d["annotations"][2]["bboxes"].extend([None] * 5 + [[0, 0, 4, 4]]))
    dataset = VideoDataset.create("vis")
    before = _stored_before(dataset, root)

    with pytest.raises(IngestError, match=r"annotation id 11 .*frame 25 .*has 20 frames"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert (len(dataset), dataset.frames().count()) == before
    assert _annotation_count(dataset) == 0


def test_more_listed_frames_than_the_video_has(db, vis):
    path, root, _ = vis
    _rewrite(path, lambda d: d["videos"][1]["file_names"].extend(["b/x.jpg"] * 3))
    dataset = VideoDataset.create("vis")

    with pytest.raises(IngestError, match=r"video id 2 lists 23 frames but .*b.mp4 has 20"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert len(dataset) == 0


def test_truncated_video_is_named(db, vis):
    path, root, _ = vis
    data = (root / "a.mp4").read_bytes()
    (root / "a.mp4").write_bytes(data[: len(data) // 3])
    dataset = VideoDataset.create("vis")
    before = _stored_before(dataset, root)

    with pytest.raises(IngestError, match=r"cannot be read, nothing was imported: .*a.mp4"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert (len(dataset), dataset.frames().count()) == before


def test_size_differs_from_the_file(db, vis):
    path, root, _ = vis
    _rewrite(path, lambda d: d["videos"][0].update(width=640, height=480))
    dataset = VideoDataset.create("vis")

    with pytest.raises(IngestError, match=r"video id 1 is declared 640x480 but .*a.mp4 is 64x48"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)

    assert len(dataset) == 0


def test_box_outside_the_frame_and_unknown_category(db, vis):
    path, root, _ = vis
    dataset = VideoDataset.create("vis")
    _rewrite(path, lambda d: d["annotations"][1]["bboxes"].__setitem__(6, [60, 40, 10, 10]))
    with pytest.raises(IngestError, match=r"annotation id 3 .*frame 6: the box reaches outside"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)
    _rewrite(path, lambda d: d["annotations"][1].update(category_id=99))
    with pytest.raises(IngestError, match=r"annotation id 3 .*unknown category_id 99"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)
    assert len(dataset) == 0


def test_malformed_json_names_the_line(db, vis):
    path, root, _ = vis
    path.write_text('{"videos": [\n  {"id": 1,,}\n]}')
    dataset = VideoDataset.create("vis")

    with pytest.raises(IngestError, match=r"vis.json: malformed JSON at line 2"):
        dataset.add_videos_from_youtube_vis(path, root, embed=False, embed_frames=False)


# --- ActivityNet ---------------------------------------------------------------------------------


@pytest.fixture
def indexed(db, tmp_path, make_video):
    """A dataset of v_walk.mp4 (2 s) and run.mp4 (1 s), 2 sampled frames per second."""
    root = tmp_path / "clips"
    make_video(root / "v_walk.mp4", frames=60, fps=30)
    make_video(root / "run.mp4", frames=30, fps=30)
    dataset = VideoDataset.create("clips")
    dataset.add_videos_from_path(root, target_fps=2.0, embed=False)
    return dataset


def _spans(dataset, name: str):
    video = next(v for v in dataset if v.file_name == name)
    return sorted((a.label, a.start_s, a.end_s, a.source) for a in video.annotations)


def test_activitynet_database_becomes_time_spans(indexed, tmp_path):
    path = tmp_path / "anet.json"
    path.write_text(
        json.dumps(
            {
                "version": "1.3",
                "database": {
                    # ActivityNet ids carry no "v_"; the file stem does.
                    "walk": {
                        "duration": 2.0,
                        "subset": "training",
                        "annotations": [
                            {"label": "step", "segment": [0.25, 1.0]},
                            {"label": "turn", "segment": [1.5, 2.05]},
                        ],
                    },
                    "v_run": {
                        "duration": 1.0,
                        "subset": "training",
                        "annotations": [{"label": "step", "segment": [0.0, 0.5]}],
                    },
                    "v_absent": {"duration": 3.0, "subset": "training", "annotations": []},
                },
            }
        )
    )

    unmatched = indexed.add_annotations_from_activitynet(path)

    assert unmatched == ["v_absent"]
    # The span past the file's end (2.05 s, within ActivityNet's tolerance) ends at 2.0 s.
    assert _spans(indexed, "v_walk.mp4") == [
        ("step", 0.25, 1.0, "ground_truth"),
        ("turn", 1.5, 2.0, "ground_truth"),
    ]
    assert _spans(indexed, "run.mp4") == [("step", 0.0, 0.5, "ground_truth")]


def test_activitynet_results_keep_score_and_source(indexed, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"results": {"run": [{"label": "jump", "segment": [0.1, 0.9], "score": 0.8}]}})
    )

    assert indexed.add_annotations_from_activitynet(path, annotation_source="model") == []

    (span,) = next(v for v in indexed if v.file_name == "run.mp4").annotations
    assert (span.label, span.source, span.confidence) == ("jump", "model", 0.8)


def test_activitynet_bad_span_stores_nothing(indexed, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "results": {
                    "run": [{"label": "ok", "segment": [0.1, 0.2]}],
                    "v_walk": [{"label": "late", "segment": [1.0, 0.5]}],
                }
            }
        )
    )
    with pytest.raises(
        IngestError, match=r"bad.json: not a valid ActivityNet file: .*\[1.0, 0.5\]"
    ):
        indexed.add_annotations_from_activitynet(path)

    path.write_text(json.dumps({"results": {"run": [{"label": "after", "segment": [5, 6]}]}}))
    with pytest.raises(IngestError, match=r"video 'run', event 'after': starts at 5.0 s, after"):
        indexed.add_annotations_from_activitynet(path)

    assert all(v.annotations == [] for v in indexed)
