"""Creating, loading and reusing datasets; samples, tags and metadata."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import uuid

import pytest

import lightly_studio as ls
from lightly_studio.errors import DatasetExistsError, DatasetNotFoundError, MetadataTypeError


def test_create_load_and_load_or_create(db):
    created = ls.ImageDataset.create("cats")
    assert ls.ImageDataset.load("cats").dataset_id == created.dataset_id
    assert ls.ImageDataset.load_or_create("cats").dataset_id == created.dataset_id
    other = ls.ImageDataset.load_or_create("dogs")
    assert other.dataset_id != created.dataset_id
    assert ls.ImageDataset.list_names() == ["cats", "dogs"]


def test_create_without_a_name_uses_the_default_and_load_finds_it(db):
    created = ls.ImageDataset.create()
    assert ls.ImageDataset.load().dataset_id == created.dataset_id


def test_create_on_an_existing_name_is_an_error(db):
    ls.ImageDataset.create("cats")
    with pytest.raises(DatasetExistsError, match="'cats' already exists"):
        ls.ImageDataset.create("cats")


def test_load_of_a_missing_dataset_names_what_exists(db):
    ls.ImageDataset.create("cats")
    with pytest.raises(DatasetNotFoundError, match=r"No dataset named 'dogs'.*'cats'"):
        ls.ImageDataset.load("dogs")


def test_samples_expose_the_documented_fields(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    assert len(ds) == 5
    by_name = {s.file_name: s for s in ds}
    a = by_name["a.jpg"]
    assert isinstance(a.sample_id, uuid.UUID)
    assert (a.width, a.height) == (64, 48)
    assert a.file_path_abs == str(image_folder / "cat" / "a.jpg")
    assert isinstance(a.created_at, dt.datetime)
    assert a.tags == set()
    assert ds.get_sample(a.sample_id) == a
    assert [s.file_name for s in ds[:2]] == ["a.jpg", "b.png"]
    assert ds[1].file_name == "b.png"


def test_tags_are_added_and_removed(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    sample = ds[0]
    sample.add_tag("needs_review")
    sample.add_tag("needs_review")  # idempotent
    assert sample.tags == {"needs_review"}
    assert ds.tags == ["needs_review"]
    sample.remove_tag("needs_review")
    assert sample.tags == set()


def test_tagging_from_two_threads_at_once_loses_nothing(db, image_folder):
    """The app's server thread and the notebook may tag the same samples at the same time."""
    import threading

    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    errors: list[Exception] = []

    def tag_all(tag: str) -> None:
        try:
            for _ in range(10):
                ds.query().remove_tag(tag)
                ds.query().add_tag(tag)
        except Exception as e:  # noqa: BLE001 - collected for the assert below
            errors.append(e)

    threads = [threading.Thread(target=tag_all, args=(t,)) for t in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(s.tags == {"left", "right"} for s in ds)


def test_a_metadata_write_waits_for_an_open_tag_write_and_is_not_lost(db, image_folder):
    """Tags and metadata values are columns of the same sample row. DuckDB updates a tagged
    row by delete + insert, so a write to the old row version beside an open tag transaction
    would be silently lost when that transaction commits; metadata writes therefore take the
    one writer lock too, and wait."""
    import threading

    from lightly_studio.db import transaction
    from lightly_studio.store.tags import tag_sample_ids

    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    sample = ds[0]
    sample.metadata.update({"speed": 1.0, "lane": 1})
    tagged, release = threading.Event(), threading.Event()

    def tag_in_an_open_transaction() -> None:
        with transaction() as tx:
            tag_sample_ids(tx, ds.dataset_id, "t", [sample.sample_id])
            tagged.set()
            release.wait(10)

    def write_metadata() -> None:
        del sample.metadata["speed"]
        sample.metadata["lane"] = 2

    tagger = threading.Thread(target=tag_in_an_open_transaction)
    tagger.start()
    assert tagged.wait(10)
    writer = threading.Thread(target=write_metadata)
    writer.start()
    writer.join(0.3)  # blocked on the lock while the tag transaction is open
    release.set()
    tagger.join()
    writer.join()
    stored = ds[0]
    assert stored.tags == {"t"} and dict(stored.metadata) == {"lane": 2}


def test_metadata_behaves_like_a_dict_and_is_typed(db, image_folder):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(image_folder), embed=False)
    first, second = ds[0], ds[1]
    when = dt.datetime(2024, 5, 1, 12, 30)
    first.metadata["camera_id"] = "front_left"
    first.metadata.update(
        {"speed": 12.5, "count": 3, "ok": True, "when": when, "boxes": [1, 2], "extra": {"a": 1}}
    )
    assert first.metadata["camera_id"] == "front_left"
    assert first.metadata["speed"] == 12.5 and first.metadata["count"] == 3
    assert first.metadata["ok"] is True and first.metadata["when"] == when
    assert first.metadata["boxes"] == [1, 2] and first.metadata["extra"] == {"a": 1}
    assert "speed" in first.metadata and "missing" not in first.metadata
    assert set(first.metadata.keys()) == {
        "camera_id",
        "speed",
        "count",
        "ok",
        "when",
        "boxes",
        "extra",
    }
    assert first.metadata.get("missing", "default") == "default"
    second.metadata["speed"] = 3  # an int is fine for a float key
    assert second.metadata["speed"] == 3.0
    with pytest.raises(MetadataTypeError, match="'speed' holds float"):
        second.metadata["speed"] = "fast"
    with pytest.raises(MetadataTypeError, match="'count' holds int"):
        second.metadata["count"] = 2.5
    del first.metadata["boxes"]
    assert "boxes" not in first.metadata
    with pytest.raises(KeyError):  # a key the dataset has, but not this sample any more
        del first.metadata["boxes"]
    with pytest.raises(KeyError):  # a key the dataset never had
        del first.metadata["never"]
    assert set(second.metadata) == {"speed"}  # deleting on one sample leaves the others


def test_writes_through_a_sample_are_visible_to_a_new_process(db, image_folder):
    ds = ls.ImageDataset.create("persist")
    ds.add_images_from_path(path=str(image_folder), embed=False)
    sample = ds.match(ls.core.dataset_query.ImageSampleField.file_name == "c.jpg").to_list()[0]
    sample.add_tag("seen")
    sample.metadata["weather"] = "sunny"
    from lightly_studio import db_manager

    db_manager.close()  # one process per file: hand it over to the child
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import lightly_studio as ls
            from lightly_studio import db_manager
            db_manager.connect(db_file={str(db)!r})
            ds = ls.ImageDataset.load("persist")
            s = [s for s in ds if s.file_name == "c.jpg"][0]
            print(sorted(s.tags), s.metadata["weather"], len(ds))
        """),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "['seen'] sunny 5"


def test_importing_the_package_is_cheap_and_touches_no_database(tmp_path):
    code = textwrap.dedent("""
        import sys, time
        t = time.perf_counter()
        import lightly_studio as ls
        from lightly_studio import db_manager
        elapsed = time.perf_counter() - t
        heavy = [m for m in ("torch", "open_clip", "jupyter_server", "anywidget", "duckdb",
                             "pacmap", "av") if m in sys.modules]
        print(elapsed, heavy)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    assert out[1].strip() == "[]"
    assert not (tmp_path / "lightly_studio.db").exists()
