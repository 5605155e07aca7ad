"""Indexing reads only regular files, and a whole image is never mistaken for a truncated one.

- A pipe, socket or device named ``x.jpg`` (or a link to one) is skipped unopened and reported:
  opening a pipe for reading waits for a writer forever.
- A JPEG with data after its end marker (phones' motion photos append an MP4) is indexed; a
  JPEG or PNG cut short is still reported as truncated.
"""

from __future__ import annotations

import io
import os
import random
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image

import lightly_studio as ls
from lightly_studio.ingest.files import list_files, read_image_size
from tests.conftest import finishes_within, make_images


def _ingest(ds, path: Path) -> tuple[int, list[str]]:
    """(images indexed, warning messages) of one add_images_from_path."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        added = ds.add_images_from_path(str(path), embed=False)
    return added, [str(w.message) for w in caught]


def _names(ds) -> list[str]:
    return sorted(s.file_name for s in ds)


# -- only regular files --------------------------------------------------------------------------
def test_a_pipe_named_like_an_image_is_skipped_and_reported(db, tmp_path):
    root = tmp_path / "images"
    make_images(root, {"a.jpg": (8, 8), "sub/b.png": (9, 9)})
    os.mkfifo(root / "x.jpg")
    os.mkfifo(tmp_path / "elsewhere.jpg")
    (root / "sub" / "link_to_pipe.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    (root / "link_to_image.jpg").symlink_to(root / "a.jpg")  # a link to a regular file is fine
    ds = ls.ImageDataset.create()

    started = time.perf_counter()
    added, messages = finishes_within(30, _ingest, ds, root)
    assert time.perf_counter() - started < 30

    assert added == 3
    assert _names(ds) == ["a.jpg", "b.png", "link_to_image.jpg"]
    [message] = [m for m in messages if "Skipped" in m]
    assert "Skipped 2 of 5" in message
    assert "x.jpg (not a regular file" in message and "link_to_pipe.jpg" in message


def test_a_folder_of_only_pipes_is_an_error_not_a_hang(db, tmp_path):
    root = tmp_path / "pipes"
    root.mkdir()
    os.mkfifo(root / "x.jpg")
    ds = ls.ImageDataset.create()
    with pytest.raises(ls.errors.IngestError, match="not a regular file"):
        finishes_within(30, _ingest, ds, root)


def test_listing_skips_pipes_for_videos_too(tmp_path):
    from lightly_studio.ingest.video import list_video_files

    (tmp_path / "ok.mp4").write_bytes(b"\0" * 8)
    os.mkfifo(tmp_path / "clip.mp4")
    listing = finishes_within(10, list_video_files, tmp_path)
    assert listing.paths == [str(tmp_path / "ok.mp4")]
    assert [(Path(p).name, why.split(" (")[0]) for p, why in listing.skipped] == [
        ("clip.mp4", "not a regular file")
    ]


def test_a_pipe_that_replaces_a_listed_file_does_not_block_the_reader(tmp_path):
    listing = list_files(str(tmp_path), (".jpg",))
    assert listing.paths == []
    os.mkfifo(tmp_path / "late.jpg")  # appears (or replaces a file) after the listing
    with pytest.raises(ValueError, match="not a regular file"):
        finishes_within(10, read_image_size, str(tmp_path / "late.jpg"))


def test_a_broken_link_is_reported_at_listing(tmp_path):
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    listing = list_files(str(tmp_path), (".jpg",))
    assert listing.paths == [] and "broken link" in listing.skipped[0][1]


# -- data after the end marker vs. a file cut short -------------------------------------------
def _photo(width: int = 320, height: int = 240, fmt: str = "JPEG") -> bytes:
    """A noisy image, so its compressed data is long (a cut lands in the pixel data)."""
    rng = random.Random(7)
    img = Image.frombytes(
        "RGB", (width, height), bytes(rng.getrandbits(8) for _ in range(width * height * 3))
    )
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def _mp4_like(n: int, with_ff_d9_inside: bool) -> bytes:
    """An MP4-ish trailer: an ``ftyp`` box then noise. It never ends with FF D9 / IEND, and
    may contain FF D9 by chance somewhere in the middle (as real video data does)."""
    rng = random.Random(11)
    body = bytearray(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
    body += bytes(rng.getrandbits(8) for _ in range(n))
    body = body.replace(b"\xff\xd9", b"\xff\x00").replace(b"IEND", b"iEND")
    if with_ff_d9_inside:
        body[len(body) // 3 : len(body) // 3 + 2] = b"\xff\xd9"
    return bytes(body)


@pytest.mark.parametrize("with_ff_d9_inside", [False, True])
def test_a_motion_photo_jpeg_with_a_video_after_its_end_is_indexed(db, tmp_path, with_ff_d9_inside):
    root = tmp_path / "phone"
    root.mkdir()
    (root / "motion.jpg").write_bytes(_photo() + _mp4_like(200_000, with_ff_d9_inside))
    (root / "small_tail.jpg").write_bytes(_photo(64, 48) + _mp4_like(300, with_ff_d9_inside))
    ds = ls.ImageDataset.create()
    added, messages = _ingest(ds, root)
    assert added == 2 and not [m for m in messages if "Skipped" in m]
    assert sorted((s.file_name, s.width, s.height) for s in ds) == [
        ("motion.jpg", 320, 240),
        ("small_tail.jpg", 64, 48),
    ]


def test_a_png_with_data_after_iend_is_indexed(tmp_path):
    path = tmp_path / "trailer.png"
    path.write_bytes(_photo(50, 40, "PNG") + _mp4_like(5000, False))
    assert read_image_size(str(path)) == (50, 40)


@pytest.mark.parametrize(
    ("name", "fmt"), [("cut.jpg", "JPEG"), ("cut.png", "PNG"), ("cut_big.jpg", "JPEG")]
)
def test_an_image_cut_short_is_still_reported_as_truncated(db, tmp_path, name, fmt):
    root = tmp_path / "cut"
    make_images(root, {"ok.jpg": (8, 8)})
    whole = _photo(1200, 900, fmt) if "big" in name else _photo(fmt=fmt)
    (root / name).write_bytes(whole[: len(whole) // 2])
    ds = ls.ImageDataset.create()
    added, messages = _ingest(ds, root)
    assert added == 1 and _names(ds) == ["ok.jpg"]
    [message] = [m for m in messages if "Skipped" in m]
    assert f"{name} (file is truncated" in message
