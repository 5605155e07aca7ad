"""A sample's file is sent to the client only while it is a regular image or video file.

Files are named by the database, never by the client, but a file can change after indexing.
Every route and api method that reads one for the client — ``/media``, ``/thumbnail``, the
``image``, ``thumbnails``, ``samples_page`` (with thumbnails) and ``annotator_sample`` methods,
video frames — refuses a sample whose file became a link to a secret, a folder, a pipe, or
anything without an image/video suffix, and never sends the file's bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import lightly_studio as ls
from lightly_studio import _media_access
from lightly_studio.api import dispatch
from lightly_studio.errors import LightlyStudioError
from tests.conftest import finishes_within, make_images
from tests.server.conftest import runtime_dir, start  # noqa: F401 - fixtures used below

SECRET = b"TOP SECRET: -----BEGIN OPENSSH PRIVATE KEY-----"


def _make_bad(path: Path, kind: str, outside: Path) -> None:
    """Replace the sample file at ``path`` by something that must never be sent."""
    path.unlink()
    if kind == "link_to_secret_txt":
        secret = outside / "secret.txt"
        secret.write_bytes(SECRET)
        path.symlink_to(secret)
    elif kind == "link_to_secret_without_suffix":  # e.g. ~/.ssh/id_rsa
        secret = outside / "id_rsa"
        secret.write_bytes(SECRET)
        path.symlink_to(secret)
    elif kind == "folder":
        path.mkdir()
        (path / "inside.jpg").write_bytes(SECRET)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_to_fifo":
        fifo = outside / "pipe.jpg"
        os.mkfifo(fifo)
        path.symlink_to(fifo)
    else:
        raise AssertionError(kind)


BAD_KINDS = [
    "link_to_secret_txt",
    "link_to_secret_without_suffix",
    "folder",
    "fifo",
    "link_to_fifo",
]


@pytest.fixture
def swapped(db, tmp_path):
    """A dataset of good.jpg and bad.jpg; bad.jpg gets replaced by the test (``swap(kind)``)."""
    images = tmp_path / "images"
    make_images(images, {"good.jpg": (64, 48), "bad.jpg": (32, 32)})
    outside = tmp_path / "outside"
    outside.mkdir()
    ds = ls.ImageDataset.create("swapped")
    ds.add_images_from_path(str(images), embed=False)
    by_name = {s.file_name: s for s in ds}

    def swap(kind: str) -> None:
        _make_bad(images / "bad.jpg", kind, outside)

    return ds, by_name["good.jpg"], by_name["bad.jpg"], swap


def _ids(ds, sample) -> dict:
    return {"dataset_id": str(ds.dataset_id), "sample_id": str(sample.sample_id)}


# -- over the api (what the notebook widgets call) ---------------------------------------------
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_api_read_refuses_a_swapped_file(swapped, kind):
    ds, good, bad, swap = swapped
    swap(kind)

    with pytest.raises(_media_access.MediaRefused) as refused:
        finishes_within(10, dispatch, "image", _ids(ds, bad))
    assert refused.value.status in (403, 404) and "bad.jpg" in str(refused.value)
    assert isinstance(refused.value, LightlyStudioError)  # an error of ours, not a crash

    with pytest.raises(_media_access.MediaRefused):
        finishes_within(10, dispatch, "annotator_sample", {**_ids(ds, bad), "image": True})

    result, buffers = finishes_within(
        10,
        dispatch,
        "thumbnails",
        {"dataset_id": str(ds.dataset_id), "sample_ids": [str(good.sample_id), str(bad.sample_id)]},
    )
    assert buffers[0][:2] == b"\xff\xd8" and result["errors"][0] is None
    assert buffers[1] == b"" and "MediaRefused" in result["errors"][1]

    page, buffers = finishes_within(
        10,
        dispatch,
        "samples_page",
        {"spec": {"dataset_id": str(ds.dataset_id)}, "offset": 0, "limit": 2, "thumbnails": 2},
    )
    by_name = dict(zip([r["file_name"] for r in page["rows"]], buffers, strict=True))
    assert by_name["bad.jpg"] == b"" and by_name["good.jpg"][:2] == b"\xff\xd8"
    assert all(SECRET not in b for b in buffers)


def test_normal_samples_still_read(swapped):
    ds, good, _, _ = swapped
    result, [data] = dispatch("image", _ids(ds, good))
    assert data == Path(good.file_path_abs).read_bytes() and result["mime"] == "image/jpeg"
    result, [data] = dispatch("annotator_sample", {**_ids(ds, good), "image": True})
    assert data == Path(good.file_path_abs).read_bytes() and result["mime"] == "image/jpeg"


def test_a_link_to_another_regular_image_is_still_served(swapped, tmp_path):
    """Datasets built from links (e.g. a folder of symlinks into a photo library) keep working."""
    ds, _good, bad, _ = swapped
    elsewhere = tmp_path / "library" / "photo.jpg"
    make_images(elsewhere.parent, {"photo.jpg": (10, 10)})
    Path(bad.file_path_abs).unlink()
    Path(bad.file_path_abs).symlink_to(elsewhere)
    _, [data] = dispatch("image", _ids(ds, bad))
    assert data == elsewhere.read_bytes()


def test_a_thumbnail_cached_before_the_swap_is_not_served_after_it(swapped):
    ds, _, bad, swap = swapped
    params = {"dataset_id": str(ds.dataset_id), "sample_ids": [str(bad.sample_id)]}
    assert dispatch("thumbnails", params)[1][0][:2] == b"\xff\xd8"
    swap("link_to_secret_txt")
    result, buffers = dispatch("thumbnails", params)
    assert buffers == [b""] and "MediaRefused" in result["errors"][0]


@pytest.mark.parametrize("kind", ["link_to_secret_txt", "folder", "fifo"])
def test_video_frames_refuse_a_swapped_video(tmp_path, kind):
    from lightly_studio.ingest.video import frame_jpeg

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0" * 16)
    _make_bad(clip, kind, tmp_path)
    with pytest.raises(_media_access.MediaRefused):
        finishes_within(10, frame_jpeg, str(clip), 0.0, cache_dir=tmp_path / "cache")


def test_remote_urls_are_limited_to_media_suffixes():
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/notes.txt", SECRET)
    fs.pipe("/bucket/ok.png", b"\x89PNG")
    with pytest.raises(_media_access.MediaRefused):
        _media_access.read_media("memory://bucket/notes.txt")
    assert _media_access.read_media("memory://bucket/ok.png") == (b"\x89PNG", "image/png")


def test_a_file_swapped_between_the_check_and_the_open_is_refused(tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"\xff\xd8 first")
    info = _media_access.resolve_local(str(image))
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(SECRET)
    image.unlink()
    image.symlink_to(secret)  # after the check, before the open
    with pytest.raises(_media_access.MediaRefused):
        _media_access.open_local(info)
    image.unlink()
    os.link(secret, image)  # a different file under the same name, not a link
    with pytest.raises(_media_access.MediaRefused, match="changed"):
        _media_access.open_local(info)


# -- over HTTP (the full-page app), with the real api behind the server ------------------------
@pytest.fixture
def backend(db):
    from lightly_studio.server._backend import ApiBackend

    return ApiBackend()


@pytest.mark.parametrize("kind", ["link_to_secret_txt", "link_to_secret_without_suffix", "folder"])
def test_every_http_route_refuses_a_swapped_file(swapped, start, kind):
    ds, good, bad, swap = swapped
    swap(kind)
    _, client = start()

    replies = {
        "media": client.request("GET", f"/media/{bad.sample_id}"),
        "media_head": client.request("HEAD", f"/media/{bad.sample_id}"),
        "media_range": client.request(
            "GET", f"/media/{bad.sample_id}", headers={"Range": "bytes=0-9"}
        ),
        "thumbnail": client.request("GET", f"/thumbnail/{bad.sample_id}"),
        "image": client.call("image", _ids(ds, bad)),
        "annotator_sample": client.call("annotator_sample", {**_ids(ds, bad), "image": True}),
    }
    for name, resp in replies.items():
        assert resp.status == 403, (name, resp.status)
        assert SECRET not in resp.data and b"TOP SECRET" not in resp.data, name
        if name != "media_head":
            assert json.loads(resp.data)["error"]["type"] in ("Refused", "MediaRefused"), name

    thumbs = client.call(
        "thumbnails",
        {"dataset_id": str(ds.dataset_id), "sample_ids": [str(good.sample_id), str(bad.sample_id)]},
    )
    assert thumbs.status == 200 and b"TOP SECRET" not in thumbs.data
    assert b"MediaRefused" in thumbs.data


def test_http_routes_still_serve_normal_samples(swapped, start):
    ds, good, _, _ = swapped
    _, client = start()
    media = client.request("GET", f"/media/{good.sample_id}")
    assert media.status == 200 and media.data == Path(good.file_path_abs).read_bytes()
    thumb = client.request("GET", f"/thumbnail/{good.sample_id}")
    assert thumb.status == 200 and thumb.data[:2] == b"\xff\xd8"
    assert client.call("image", _ids(ds, good)).status == 200
