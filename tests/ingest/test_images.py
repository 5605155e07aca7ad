"""Indexing image folders: what gets stored, re-runs, folder tags and broken files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from PIL import Image

import lightly_studio as ls
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.errors import IngestError
from tests.conftest import make_images


def _names(ds) -> list[str]:
    return sorted(s.file_name for s in ds)


def test_indexes_every_image_with_absolute_paths_and_header_sizes(db, image_folder):
    ds = ls.ImageDataset.create()
    assert ds.add_images_from_path(path=str(image_folder), embed=False) == 5
    rows = {s.file_name: (s.file_path_abs, s.width, s.height) for s in ds}
    assert rows["d.jpg"] == (str(image_folder / "dog" / "puppy" / "d.jpg"), 20, 40)
    assert rows["e.jpg"][1:] == (640, 480)


def test_rerun_adds_only_new_files_and_keeps_existing_state(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    first = ds.match(ImageSampleField.file_name == "a.jpg").to_list()[0]
    first.add_tag("keep")
    first.metadata["score"] = 0.5
    make_images(image_folder, {"new/f.jpg": (10, 10)})
    assert ds.add_images_from_path(path=str(image_folder), embed=False) == 1
    assert len(ds) == 6
    again = ds.get_sample(first.sample_id)
    assert again.tags == {"keep"} and again.metadata["score"] == 0.5
    assert ds.add_images_from_path(path=str(image_folder), embed=False) == 0


def test_tag_depth_tags_images_with_their_first_folders(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), tag_depth=1, embed=False)
    tags = {s.file_name: s.tags for s in ds}
    assert tags == {
        "a.jpg": {"cat"},
        "b.png": {"cat"},
        "c.jpg": {"dog"},
        "d.jpg": {"dog"},
        "e.jpg": set(),
    }
    ds2 = ls.ImageDataset.create("deep")
    ds2.add_images_from_path(path=str(image_folder), tag_depth=2, embed=False)
    assert {s.file_name: s.tags for s in ds2}["d.jpg"] == {"dog", "puppy"}


def test_allowed_extensions_limits_the_files(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), allowed_extensions=[".PNG"], embed=False)
    assert _names(ds) == ["b.png"]


def test_file_and_memory_urls_are_listed_through_fsspec(db, image_folder):
    import fsspec

    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=f"file://{image_folder}", embed=False)
    assert len(ds) == 5

    mem = fsspec.filesystem("memory")
    with open(image_folder / "cat" / "a.jpg", "rb") as f:
        mem.pipe("/bucket/imgs/x/a.jpg", f.read())
    remote = ls.ImageDataset.create("remote")
    remote.add_images_from_path(path="memory://bucket/imgs", tag_depth=1, embed=False)
    (sample,) = list(remote)
    # fsspec's canonical URL of the file, which opens again through fsspec.
    assert sample.file_path_abs == mem.unstrip_protocol("/bucket/imgs/x/a.jpg")
    with fsspec.open(sample.file_path_abs, "rb") as f:
        assert f.read(2) == b"\xff\xd8"
    assert (sample.width, sample.height, sample.tags) == (64, 48, {"x"})


def test_broken_files_are_skipped_and_reported_once(db, tmp_path):
    root = tmp_path / "mixed"
    make_images(root, {"good1.jpg": (8, 8), "good2.png": (9, 9)})
    (root / "empty.jpg").write_bytes(b"")
    (root / "text.png").write_text("not an image")
    good = (root / "good1.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "unicodé 画像.jpg").write_bytes(good)
    ds = ls.ImageDataset.create()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ds.add_images_from_path(path=str(root), embed=False) == 3
    messages = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    assert len(messages) == 1
    assert "Skipped 3 of 6" in messages[0]
    for name in ("empty.jpg", "text.png", "truncated.jpg"):
        assert name in messages[0]
    assert _names(ds) == ["good1.jpg", "good2.png", "unicodé 画像.jpg"]


def test_non_utf8_names_and_symlink_loops_do_not_break_indexing(db, tmp_path):
    root = tmp_path / "odd"
    make_images(root, {"ok.jpg": (8, 8)})
    raw = os.fsencode(str(root)) + b"/bad\xff.jpg"
    with open(raw, "wb") as f:
        f.write((root / "ok.jpg").read_bytes())
    os.symlink(root, root / "loop")
    ds = ls.ImageDataset.create()
    with pytest.warns(UserWarning, match="not valid UTF-8"):
        ds.add_images_from_path(path=str(root), embed=False)
    assert _names(ds) == ["ok.jpg"]


def test_unreadable_files_are_skipped(db, tmp_path, monkeypatch):
    root = tmp_path / "perm"
    make_images(root, {"ok.jpg": (8, 8), "secret.jpg": (8, 8)})
    # Tests run as root, for whom chmod 000 hides nothing: make the OS refuse instead.
    real_open = os.open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("secret.jpg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    ds = ls.ImageDataset.create()
    with pytest.warns(UserWarning, match="secret.jpg.*Permission denied"):
        ds.add_images_from_path(path=str(root), embed=False)
    assert _names(ds) == ["ok.jpg"]


def test_decompression_bomb_headers_are_skipped(db, tmp_path):
    root = tmp_path / "bomb"
    make_images(root, {"ok.png": (8, 8)})
    # A valid PNG header that claims 30000 x 30000 pixels (900 MP, 10x PIL's limit).
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    (root / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    )
    ds = ls.ImageDataset.create()
    with pytest.warns(UserWarning, match="bomb.png.*too many pixels"):
        ds.add_images_from_path(path=str(root), embed=False)
    assert _names(ds) == ["ok.png"]


def test_when_every_file_fails_it_is_an_error(db, tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "a.jpg").write_bytes(b"junk")
    (root / "b.jpg").write_bytes(b"")
    ds = ls.ImageDataset.create()
    with pytest.raises(IngestError, match=r"No image could be indexed.*a\.jpg"):
        ds.add_images_from_path(path=str(root), embed=False)
    assert len(ds) == 0


def test_missing_path_is_an_error(db, tmp_path):
    ds = ls.ImageDataset.create()
    with pytest.raises(IngestError, match="does not exist"):
        ds.add_images_from_path(path=str(tmp_path / "nope"), embed=False)


def test_killed_mid_ingest_leaves_a_consistent_db_and_a_rerun_completes(tmp_path):
    root = tmp_path / "many"
    img = Image.new("RGB", (16, 16), (200, 10, 10))
    for i in range(3000):
        sub = root / f"{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        img.save(sub / f"{i:05d}.jpg")
    db_file = tmp_path / "kill.db"
    script = textwrap.dedent(f"""
        import lightly_studio as ls
        import lightly_studio.ingest.images as images
        from lightly_studio import db_manager
        images.BATCH_SIZE = 200   # many small transactions, so the kill lands between/within
        db_manager.connect(db_file={str(db_file)!r})
        ds = ls.ImageDataset.load_or_create("k")
        ds.add_images_from_path(path={str(root)!r}, tag_depth=1, embed=False)
        print("finished", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    # Kill once some batches are committed: poll the WAL/DB file growing.
    deadline = time.time() + 60
    while time.time() < deadline and child.poll() is None:
        wal = db_file.with_name(db_file.name + ".wal")
        if wal.exists() and wal.stat().st_size > 200_000:
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()

    from lightly_studio import db_manager

    db_manager.connect(db_file=db_file)
    try:
        ds = ls.ImageDataset.load_or_create("k")
        partial = len(ds)
        assert partial < 3000
        ds.add_images_from_path(path=str(root), tag_depth=1, embed=False)
        assert len(ds) == 3000
        con = ls.db.get_connection()
        dupes = con.execute(
            "SELECT count(*) - count(DISTINCT file_path_abs) FROM sample"
        ).fetchone()[0]
        assert dupes == 0
        assert ds.match(ImageSampleField.tags.contains("3")).count() == 300
    finally:
        db_manager.close()
