"""ImageDataset.render_thumbnails: the views' thumbnails made ahead of time."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.ingest import thumbnails
from lightly_studio.query import ImageSampleField


def test_rendering_fills_the_cache_the_views_read_and_a_rerun_renders_nothing(db, image_folder):
    ds = ImageDataset.create("photos")
    ds.add_images_from_path(str(image_folder), embed=False)

    report = ds.render_thumbnails(progress=False)

    assert report.columns == ["sample_id", "file_path_abs", "status", "error"]
    assert report["status"].to_list() == ["rendered"] * 5
    for path in report["file_path_abs"]:
        cached = thumbnails.cached_path(path).read_bytes()
        assert cached[:2] == b"\xff\xd8"
        assert cached == thumbnails.render_thumbnail(Path(path).read_bytes())
    again = ds.render_thumbnails(progress=False)
    assert again["status"].to_list() == ["cached"] * 5


def test_views_find_the_rendered_thumbnail_without_decoding(db, image_folder, monkeypatch):
    ds = ImageDataset.create("photos")
    ds.add_images_from_path(str(image_folder), embed=False)
    ds.render_thumbnails(progress=False)
    monkeypatch.setattr(
        thumbnails, "render_thumbnail", lambda *a, **k: pytest.fail("decoded a cached image")
    )
    path = ds.query().to_list()[0].file_path_abs
    assert thumbnails.thumbnail_for(path)[:2] == b"\xff\xd8"


def test_a_query_limits_the_work_and_a_broken_file_is_reported_not_fatal(db, image_folder):
    ds = ImageDataset.create("photos")
    ds.add_images_from_path(str(image_folder), embed=False)
    broken = image_folder / "cat" / "a.jpg"
    broken.write_bytes(b"not a jpeg")

    in_cat = (ImageSampleField.file_name == "a.jpg") | (ImageSampleField.file_name == "b.png")
    report = ds.render_thumbnails(ds.match(in_cat), progress=False)

    assert report.height == 2
    rows = {r["file_path_abs"]: r for r in report.iter_rows(named=True)}
    assert rows[str(broken)]["status"] == "failed"
    assert str(broken) in rows[str(broken)]["error"]
    assert [r["status"] for p, r in rows.items() if p != str(broken)] == ["rendered"]


def test_an_unknown_engine_is_refused(db, image_folder):
    ds = ImageDataset.create("photos")
    with pytest.raises(ValueError, match="engine"):
        ds.render_thumbnails(engine="spark")
