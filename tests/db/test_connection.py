"""The database file: where it lives, its schema version, and one owner per file."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import lightly_studio as ls
from lightly_studio import db_manager
from lightly_studio.db import get_connection, schema_version, transaction
from lightly_studio.db._connection import _migrations
from lightly_studio.errors import DatabaseLockedError


def test_connect_puts_the_database_where_asked(tmp_path):
    target = tmp_path / "sub" / "my.db"
    db_manager.connect(db_file=target)
    try:
        ls.ImageDataset.create("first")
        assert target.exists()
        assert db_manager.db_file() == str(target)
    finally:
        db_manager.close()


def test_default_file_is_lightly_studio_db_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIGHTLY_STUDIO_DB_FILE", raising=False)
    db_manager.close()
    try:
        ls.ImageDataset.create()
        assert (tmp_path / "lightly_studio.db").exists()
    finally:
        db_manager.close()


def test_schema_is_created_with_a_version(db):
    assert schema_version() >= 1
    tables = {r[0] for r in get_connection().execute("SHOW TABLES").fetchall()}
    assert {
        "dataset",
        "sample",
        "tag",
        "metadata_key",
        "annotation",
        "annotation_label",
        "caption",
        "embedding",
        "embedding_model",
    } <= tables


def test_reconnect_applies_no_migration_twice(db):
    version = schema_version()
    db_manager.connect(db_file=db)
    assert schema_version() == version
    # One row per migration file (their numbers may have gaps while branches are merged).
    rows = get_connection().execute("SELECT count(*) FROM schema_version").fetchone()[0]
    assert rows == len(_migrations())


def test_transaction_rolls_back_everything_on_error(db):
    ds = ls.ImageDataset.create("d")
    with pytest.raises(RuntimeError), transaction() as con:
        con.execute(
            "INSERT INTO tag (tag_id, dataset_id, name, kind, created_at) "
            "VALUES (uuid(), $1, 'x', 'sample', now())",
            [str(ds.dataset_id)],
        )
        raise RuntimeError("boom")
    assert get_connection().execute("SELECT count(*) FROM tag").fetchone()[0] == 0


def test_a_file_held_by_another_process_gives_a_clear_error(tmp_path):
    path = tmp_path / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from lightly_studio import db_manager
            import lightly_studio as ls
            db_manager.connect(db_file={str(path)!r})
            ls.ImageDataset.create("x")
            print("ready", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLockedError) as info:
            db_manager.connect(db_file=path)
        assert str(path) in str(info.value)
        assert "another" in str(info.value) or "process" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
        db_manager.close()


def test_a_version_1_file_keeps_its_tags_and_order_when_migrated(tmp_path):
    """Schema 2 moved tags from the sample_tag link table onto the sample row."""
    from importlib import resources

    import duckdb

    path = tmp_path / "v1.db"
    v1 = (resources.files("lightly_studio.db") / "migrations" / "0001_initial.sql").read_text()
    con = duckdb.connect(str(path))
    con.execute(v1)
    con.execute("""CREATE TABLE schema_version (version INTEGER NOT NULL);
                   INSERT INTO schema_version VALUES (1);
                   INSERT INTO dataset VALUES ('00000000-0000-4000-8000-00000000000d', 'old',
                                               'image', now());
                   INSERT INTO tag VALUES
                     ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000d',
                      'keep', 'sample', now()),
                     ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000000d',
                      'later', 'sample', now());""")
    for i, name in enumerate(["c.png", "a.png", "b.png"]):  # insertion order, not name order
        con.execute(
            """INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name,
                         width, height, created_at)
                       VALUES ($1, '00000000-0000-4000-8000-00000000000d', 'image', $2, $2, 4, 4,
                               now())""",
            [f"00000000-0000-4000-8000-00000000001{i}", name],
        )
    con.execute("""INSERT INTO sample_tag VALUES
                     ('00000000-0000-4000-8000-000000000010', '00000000-0000-4000-8000-0000000000a1'),
                     ('00000000-0000-4000-8000-000000000012', '00000000-0000-4000-8000-0000000000a1'),
                     ('00000000-0000-4000-8000-000000000012', '00000000-0000-4000-8000-0000000000a2')""")
    con.close()

    db_manager.connect(db_file=path)
    try:
        assert schema_version() >= 2
        ds = ls.ImageDataset.load("old")
        assert [(s.file_name, s.tags) for s in ds.query()] == [
            ("c.png", {"keep"}),
            ("a.png", set()),
            ("b.png", {"keep", "later"}),
        ]
        # Tagging rewrites a row (DuckDB updates list columns by delete + insert): the order
        # of the dataset stays the insertion order all the same.
        ds[1].add_tag("later")
        assert [s.file_name for s in ds.query()] == ["c.png", "a.png", "b.png"]
        from lightly_studio.core.dataset_query import ImageSampleField

        assert ds.match(ImageSampleField.tags.contains("later")).count() == 2
    finally:
        db_manager.close()


def test_a_version_2_file_keeps_its_metadata_when_migrated(tmp_path):
    """Schema 3 moved metadata from the key/value table onto the sample row (a column per
    dataset and key)."""
    from importlib import resources

    import duckdb

    path = tmp_path / "v2.db"
    folder = resources.files("lightly_studio.db") / "migrations"
    con = duckdb.connect(str(path))
    for name in ("0001_initial.sql", "0002_tags_on_sample.sql"):
        con.execute((folder / name).read_text())
    con.execute("""CREATE TABLE schema_version (version INTEGER NOT NULL);
                   INSERT INTO schema_version VALUES (1), (2);""")
    datasets = {
        "a": "00000000-0000-4000-8000-00000000000a",
        "b": "00000000-0000-4000-8000-00000000000b",
    }
    for name, dataset_id in datasets.items():
        con.execute("INSERT INTO dataset VALUES ($1, $2, 'image', now())", [dataset_id, name])
        for i in range(3):
            con.execute(
                """INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs,
                             file_name, width, height, created_at, sample_idx)
                           VALUES ($1, $2, 'image', $3, $3, 4, 4, now(), $4)""",
                [f"00000000-0000-4000-8000-0000000{name}00{i}0", dataset_id, f"{name}{i}.png", i],
            )
    # The same key with a different type in each dataset, and a JSON key.
    con.execute(
        """INSERT INTO metadata_key VALUES ($1, 'score', 'float'), ($1, 'info', 'json'),
                                                   ($2, 'score', 'str')""",
        [datasets["a"], datasets["b"]],
    )
    con.execute("""INSERT INTO metadata (sample_id, key, v_float) VALUES
                     ('00000000-0000-4000-8000-0000000a0000', 'score', 0.5),
                     ('00000000-0000-4000-8000-0000000a0020', 'score', 2.5)""")
    con.execute("""INSERT INTO metadata (sample_id, key, v_json) VALUES
                     ('00000000-0000-4000-8000-0000000a0010', 'info', '{"k": [1, 2]}')""")
    con.execute("""INSERT INTO metadata (sample_id, key, v_str) VALUES
                     ('00000000-0000-4000-8000-0000000b0010', 'score', 'high')""")
    con.close()

    db_manager.connect(db_file=path)
    try:
        assert schema_version() >= 3
        tables = {r[0] for r in get_connection().execute("SHOW TABLES").fetchall()}
        assert "metadata" not in tables
        a, b = ls.ImageDataset.load("a"), ls.ImageDataset.load("b")
        assert [dict(s.metadata) for s in a.query()] == [
            {"score": 0.5},
            {"info": {"k": [1, 2]}},
            {"score": 2.5},
        ]
        assert [dict(s.metadata) for s in b.query()] == [{}, {"score": "high"}, {}]
        from lightly_studio.core.dataset_query import ImageSampleField

        assert a.match(ImageSampleField.metadata["score"] > 1.0).count() == 1
        assert b.match(ImageSampleField.metadata["score"] == "high").count() == 1
        # New keys after the migration get columns of their own.
        a[1].metadata["score"] = 7
        b[0].metadata["fresh"] = True
        assert a.query().to_polars()["score"].to_list() == [0.5, 7.0, 2.5]
        assert b.query().to_polars()["fresh"].to_list() == [True, None, None]
    finally:
        db_manager.close()


def test_a_snapshot_reads_one_state_and_a_failed_read_leaves_no_open_transaction(db):
    from lightly_studio.db import snapshot

    ds = ls.ImageDataset.create("snap")
    con = get_connection()
    with snapshot():
        before = con.execute("SELECT count(*) FROM dataset").fetchone()[0]
        # Another thread's committed write is not seen inside the snapshot.
        import threading

        writer = threading.Thread(target=lambda: ls.ImageDataset.create("other"))
        writer.start()
        writer.join()
        assert con.execute("SELECT count(*) FROM dataset").fetchone()[0] == before
    assert con.execute("SELECT count(*) FROM dataset").fetchone()[0] == before + 1
    with pytest.raises(Exception, match="Conversion Error"), snapshot():
        con.execute("SELECT CAST(name AS INTEGER) FROM dataset").fetchall()
    assert ds.query().count() == 0  # the connection is usable: no aborted transaction left
