"""VideoDataset: indexing folders of videos, querying videos and frames, tags, annotations,
and exporting frames as images and COCO."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

from lightly_studio.core.video_dataset import VideoDataset
from lightly_studio.errors import DatasetNotFoundError, IngestError


@pytest.fixture
def video_folder(tmp_path, make_video):
    """a.mp4 (h264 64x48, 60 frames @30), b.avi (mpeg4 31x21, 45 @25), sub/c.mkv (h264
    yuv444 33x17, 20 @10), notes.txt."""
    root = tmp_path / "videos"
    make_video(root / "a.mp4", codec="libx264", width=64, height=48, frames=60, fps=30)
    make_video(root / "b.avi", codec="mpeg4", width=31, height=21, frames=45, fps=25)
    make_video(
        root / "sub" / "c.mkv",
        codec="libx264",
        width=33,
        height=17,
        frames=20,
        fps=10,
        pix_fmt="yuv444p",
    )
    (root / "notes.txt").write_text("not a video")
    return root


def _by_name(dataset):
    return {v.file_name: v for v in dataset}


def test_add_videos_reads_metadata_and_samples_frames(db, video_folder):
    dataset = VideoDataset.create("clips")

    added = dataset.add_videos_from_path(video_folder, target_fps=2.0, embed=False)

    assert added == 3
    assert len(dataset) == 3
    videos = _by_name(dataset)
    a, b, c = videos["a.mp4"], videos["b.avi"], videos["c.mkv"]
    assert (a.width, a.height, a.fps, a.duration_s, a.frame_count, a.codec) == (
        64,
        48,
        30.0,
        2.0,
        60,
        "h264",
    )
    assert (b.width, b.height, b.fps, b.duration_s, b.frame_count, b.codec) == (
        31,
        21,
        25.0,
        1.8,
        45,
        "mpeg4",
    )
    assert (c.width, c.height, c.fps, c.duration_s, c.frame_count, c.codec) == (
        33,
        17,
        10.0,
        2.0,
        20,
        "h264",
    )
    assert c.file_path_abs == str(video_folder / "sub" / "c.mkv")

    frames = a.frames.to_list()
    assert [f.frame_number for f in frames] == [0, 15, 30, 45]
    assert [f.timestamp_s for f in frames] == [0.0, 0.5, 1.0, 1.5]
    assert {(f.width, f.height, f.file_path_abs) for f in frames} == {(64, 48, a.file_path_abs)}
    assert {f.video_sample_id for f in frames} == {a.sample_id}
    # b.avi at 25 fps: the first frame at or after each half second.
    assert [f.frame_number for f in b.frames] == [0, 13, 25, 38]
    assert dataset.frames().count() == 4 + 4 + 4


def test_target_fps_none_keeps_every_frame(db, video_folder):
    dataset = VideoDataset.create()

    dataset.add_videos_from_path(video_folder / "a.mp4", target_fps=None, embed=False)

    assert dataset.frames().count() == 60


def test_rerun_adds_only_new_videos_and_warns_once_about_broken_ones(db, video_folder, make_video):
    dataset = VideoDataset.create()
    dataset.add_videos_from_path(path=str(video_folder), embed=False)  # as in the quickstart
    before = dataset.frames().count()
    make_video(video_folder / "d.webm", codec="libvpx-vp9", width=32, height=32, frames=10, fps=10)
    whole = make_video(video_folder / "e.mp4", frames=30)
    (video_folder / "truncated.mp4").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (video_folder / "empty.mov").write_bytes(b"")
    whole.unlink()

    with pytest.warns(UserWarning) as caught:
        added = dataset.add_videos_from_path(video_folder, embed=False)

    assert added == 1
    assert sorted(v.file_name for v in dataset) == ["a.mp4", "b.avi", "c.mkv", "d.webm"]
    assert dataset.frames().count() == before + 2
    messages = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    assert len(messages) == 1
    assert "Skipped 2 of 6 video files" in messages[0]
    assert str(video_folder / "truncated.mp4") in messages[0]
    assert str(video_folder / "empty.mov") in messages[0]


def test_a_folder_of_only_broken_videos_is_an_error(db, tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"garbage" * 10)

    with pytest.raises(IngestError, match=r"No video could be indexed.*bad\.mp4"):
        VideoDataset.create().add_videos_from_path(tmp_path, embed=False)


def test_allowed_extensions_restricts_the_files(db, video_folder):
    dataset = VideoDataset.create()

    assert dataset.add_videos_from_path(video_folder, allowed_extensions=["AVI"], embed=False) == 1
    assert [v.file_name for v in dataset] == ["b.avi"]


def test_invalid_target_fps_is_rejected(db, video_folder):
    with pytest.raises(ValueError, match="target_fps"):
        VideoDataset.create().add_videos_from_path(video_folder, target_fps=0, embed=False)


def test_load_and_load_or_create_return_video_datasets(db, video_folder):
    from lightly_studio.core.image_dataset import ImageDataset

    VideoDataset.create("clips").add_videos_from_path(video_folder, embed=False)

    loaded = VideoDataset.load("clips")
    assert isinstance(loaded, VideoDataset) and len(loaded) == 3
    assert VideoDataset.load_or_create("clips").dataset_id == loaded.dataset_id
    with pytest.raises(DatasetNotFoundError, match="VideoDataset"):
        ImageDataset.load("clips")


def test_reference_video_query_example(db, video_folder):
    from lightly_studio.core.dataset_query import AND, NOT, OR, OrderByField, VideoSampleField

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)
    _by_name(dataset)["a.mp4"].add_tag("needs-labeling")

    # As in the reference docs.
    query = dataset.match(
        OR(
            AND(VideoSampleField.width < 500, NOT(VideoSampleField.fps >= 30)),
            VideoSampleField.tags.contains("needs-labeling"),
        )
    )
    query.order_by(OrderByField(VideoSampleField.width).desc())

    assert [v.file_name for v in query] == ["a.mp4", "c.mkv", "b.avi"]
    assert [v.file_name for v in dataset.match(VideoSampleField.duration_s < 2.0)] == ["b.avi"]
    assert [v.file_name for v in dataset.match(VideoSampleField.frame_count > 40)] == [
        "a.mp4",
        "b.avi",
    ]


def test_frames_are_queryable_taggable_and_separate_from_videos(db, video_folder):
    from lightly_studio.core.dataset_query import FrameSampleField, OrderByField

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)
    a = _by_name(dataset)["a.mp4"]

    late = a.frames.match(FrameSampleField.timestamp_s >= 1.0)
    late.add_tag("late")
    a.frames[0].add_tag("first")

    assert [f.frame_number for f in late] == [30, 45]
    tagged = dataset.frames().match(FrameSampleField.tags.contains("late")).to_list()
    assert [(f.file_name, f.frame_number) for f in tagged] == [("a.mp4", 30), ("a.mp4", 45)]
    assert a.frames[0].tags == {"first"}
    assert a.tags == set()  # tagging frames leaves their video alone
    assert dataset.match(FrameSampleField.tags.contains("late")).count() == 0
    newest_first = dataset.frames().order_by(OrderByField(FrameSampleField.timestamp_s).desc())
    assert (newest_first[0].file_name, newest_first[0].timestamp_s) == ("b.avi", 1.52)


def test_frames_carry_annotations_and_export_as_coco(db, video_folder, tmp_path):
    from lightly_studio.core.annotation import CreateObjectDetection

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)
    a = _by_name(dataset)["a.mp4"]
    frame = a.frames[1]
    frame.add_annotation(CreateObjectDetection(label="car", x=1, y=2, width=10, height=20))
    frame.add_annotation(
        CreateObjectDetection(
            label="bus", x=0, y=0, width=5, height=5, confidence=0.5, annotation_source="model"
        )
    )

    assert [ann.label for ann in frame.annotations] == ["car", "bus"]
    path = dataset.export(a.frames).to_coco_object_detections(
        tmp_path / "coco.json", images_dir=tmp_path / "frames"
    )

    coco = json.loads(path.read_text())
    assert sorted(
        p.relative_to(tmp_path / "frames").as_posix() for p in (tmp_path / "frames").rglob("*.jpg")
    ) == [img["file_name"] for img in coco["images"]]
    assert [img["file_name"] for img in coco["images"]] == [
        "a/a_000000.jpg",
        "a/a_000015.jpg",
        "a/a_000030.jpg",
        "a/a_000045.jpg",
    ]
    assert [(img["video_id"], img["frame_id"]) for img in coco["images"]] == [
        (1, 0),
        (1, 15),
        (1, 30),
        (1, 45),
    ]
    assert coco["videos"] == [{"id": 1, "file_name": "a.mp4", "file_path_abs": a.file_path_abs}]
    categories = {c["id"]: c["name"] for c in coco["categories"]}
    (only,) = coco["annotations"]  # ground truth only by default
    assert only["image_id"] == 2 and categories[only["category_id"]] == "car"
    assert only["bbox"] == [1, 2, 10, 20] and only["area"] == 200
    everything = json.loads(
        dataset.export(a.frames)
        .to_coco_object_detections(tmp_path / "all.json", annotation_source=None)
        .read_text()
    )
    assert sorted(ann.get("score", 1.0) for ann in everything["annotations"]) == [0.5, 1.0]


def test_to_image_files_writes_the_sampled_frames(db, video_folder, tmp_path, frame_index):
    from PIL import Image

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)

    written = dataset.to_image_files(tmp_path / "out")

    assert len(written) == dataset.frames().count() == 12
    expected = [
        f"{stem}/{stem}_{n:06d}.jpg"
        for stem, numbers in [("a", [0, 15, 30, 45]), ("b", [0, 13, 25, 38]), ("c", [0, 5, 10, 15])]
        for n in numbers
    ]
    assert [p.split("/out/", 1)[1] for p in written] == expected
    for path in written:
        with Image.open(path) as image:
            number = int(path[-10:-4])
            assert frame_index(image) == number % 64
    assert image.size == (33, 17)


def test_export_of_a_video_query_exports_its_frames(db, video_folder, tmp_path):
    from lightly_studio.core.dataset_query import VideoSampleField

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)

    videos = dataset.match(VideoSampleField.file_name == "b.avi")
    written = dataset.export(videos).to_image_files(tmp_path / "out")

    assert [p.rsplit("/", 1)[1] for p in written] == [
        "b_000000.jpg",
        "b_000013.jpg",
        "b_000025.jpg",
        "b_000038.jpg",
    ]


def test_videos_with_the_same_stem_get_distinct_folders(db, tmp_path, make_video):
    make_video(tmp_path / "v" / "x" / "clip.mp4", frames=5, fps=5)
    make_video(tmp_path / "v" / "y" / "clip.mp4", frames=5, fps=5)
    dataset = VideoDataset.create()
    dataset.add_videos_from_path(tmp_path / "v", target_fps=1, embed=False)

    written = dataset.to_image_files(tmp_path / "out")

    folders = {p.split("/out/", 1)[1].split("/")[0] for p in written}
    assert len(folders) == 2 and all(f.startswith("clip_") for f in folders)


class StripeEncoder:
    """A toy image encoder: the vector of a frame is (index, 64 - index, 1) of the frame
    number its stripes show, so expected embeddings are known exactly."""

    name = "stripes"

    def __init__(self, frame_index):
        self.frame_index = frame_index
        self.calls = 0

    def embed_images(self, images):
        import numpy as np

        self.calls += 1
        return np.array(
            [[self.frame_index(im), 64 - self.frame_index(im), 1.0] for im in images],
            dtype=np.float32,
        )

    def embed_texts(self, texts):
        import numpy as np

        return np.ones((len(texts), 3), dtype=np.float32)


def test_frames_get_embeddings_and_videos_the_mean_of_theirs(db, video_folder, frame_index):
    import numpy as np

    from lightly_studio.embed import get_embeddings

    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)

    embedded = dataset.compute_embeddings(embedding_model=StripeEncoder(frame_index))

    assert embedded == dataset.frames().count() == 12
    ids, vectors = get_embeddings(dataset, model_name="stripes")
    by_id = dict(zip((str(i) for i in ids), vectors, strict=True))
    a = _by_name(dataset)["a.mp4"]
    frame_vectors = []
    for frame in a.frames:
        expected = np.array([frame.frame_number, 64 - frame.frame_number, 1.0])
        assert np.allclose(
            by_id[str(frame.sample_id)], expected / np.linalg.norm(expected), atol=1e-6
        )
        frame_vectors.append(by_id[str(frame.sample_id)])
    mean = np.mean(frame_vectors, axis=0)
    assert np.allclose(by_id[str(a.sample_id)], mean / np.linalg.norm(mean), atol=1e-6)
    assert len(ids) == 12 + 3
    # The frames' grid thumbnails were cached while their pixels were decoded anyway.
    from lightly_studio.ingest.video import thumbnail_cache_dir

    assert len(list(thumbnail_cache_dir().rglob("*.jpg"))) == 12
    # Nothing left to do on a second run.
    assert dataset.compute_embeddings(embedding_model=StripeEncoder(frame_index)) == 0


def test_similarity_search_ranks_videos_and_frames(db, video_folder, frame_index):
    dataset = VideoDataset.create()
    dataset.add_videos_from_path(video_folder, embed=False)
    dataset.compute_embeddings(embedding_model=StripeEncoder(frame_index))
    a = _by_name(dataset)["a.mp4"]
    last_frame = a.frames[3]  # frame 45

    frames = (
        dataset.frames()
        .sort_by_similarity(samples=[last_frame], embedding_model_name="stripes")
        .to_list()
    )
    videos = dataset.sort_by_similarity(samples=[a], embedding_model_name="stripes").to_list()

    assert frames[0] == last_frame and frames[0].similarity == pytest.approx(1.0)
    assert len(frames) == 12
    assert videos[0] == a and len(videos) == 3


@pytest.mark.slow  # builds a (random) open_clip model: seconds on 2 shared cores
def test_ingest_embeds_frames_with_the_default_image_model(db, video_folder):
    # conftest sets LIGHTLY_STUDIO_EMBEDDING_MODEL to random open_clip weights.
    dataset = VideoDataset.create()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random-weights warning
        dataset.add_videos_from_path(video_folder / "b.avi", target_fps=1.0)

    from lightly_studio.embed import get_embeddings

    (model,) = dataset.embedding_models
    ids, vectors = get_embeddings(dataset, model_name=model)
    assert len(ids) == dataset.frames().count() + 1 == 3
    assert model == os.environ["LIGHTLY_STUDIO_EMBEDDING_MODEL"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
