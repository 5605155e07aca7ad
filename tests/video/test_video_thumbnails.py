"""The views show a video's first frame and each sampled frame as thumbnails."""

from __future__ import annotations

import io

from PIL import Image

from lightly_studio import api
from lightly_studio.core.video_dataset import VideoDataset


def test_api_thumbnails_show_the_poster_and_the_right_frame(db, tmp_path, make_video, frame_index):
    make_video(tmp_path / "videos" / "clip.mp4", frames=30, fps=10)
    dataset = VideoDataset.create("clips")
    dataset.add_videos_from_path(path=str(tmp_path / "videos"), target_fps=2, embed=False)
    video = dataset.query().to_list()[0]
    frames = dataset.frames().to_list()
    assert [f.frame_number for f in frames] == [0, 5, 10, 15, 20, 25]
    ids = [str(video.sample_id), str(frames[3].sample_id)]
    result, buffers = api.dispatch(
        "thumbnails", {"dataset_id": str(dataset.dataset_id), "sample_ids": ids}
    )
    assert result["errors"] == [None, None]
    poster, frame = (Image.open(io.BytesIO(b)) for b in buffers)
    assert poster.format == frame.format == "JPEG"
    assert frame_index(poster) == 0
    assert frame_index(frame) == 15
