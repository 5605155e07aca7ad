"""Sample tags: the ``tag`` rows of a dataset and the tag numbers on ``sample`` rows.

A tag is stored once per dataset (``tag``); a sample carries the small ``tag_number`` of each of
its tags in ``sample.tag_numbers``. Tagging and untagging are one UPDATE over the given ids or
(sql, params) subquery of ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from lightly_studio.db import query_frame, transaction
from lightly_studio.errors import LightlyStudioError
from lightly_studio.store._ids import SampleIds, as_uuid_str, ids_subquery


def validate_tag_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise LightlyStudioError(f"A tag name must be a non-empty string, got {name!r}.")
    return name


def get_tag_id(con, dataset_id, name: str, kind: str = "sample") -> uuid.UUID | None:
    row = con.execute(
        "SELECT tag_id FROM tag WHERE dataset_id = $1 AND name = $2 AND kind = $3",
        [as_uuid_str(dataset_id), name, kind],
    ).fetchone()
    return row[0] if row else None


def get_or_create_tag_id(con, dataset_id, name: str, kind: str = "sample") -> uuid.UUID:
    validate_tag_name(name)
    tag_id = get_tag_id(con, dataset_id, name, kind)
    if tag_id is None:
        tag_id = uuid.uuid4()
        con.execute(
            "INSERT INTO tag (tag_id, dataset_id, name, kind, created_at) VALUES ($1,$2,$3,$4,$5)",
            [as_uuid_str(tag_id), as_uuid_str(dataset_id), name, kind, dt.datetime.now()],
        )
    return tag_id


def tag_number(con, tag_id) -> int:
    """The small integer that stands for the tag in ``sample.tag_numbers``."""
    return con.execute(
        "SELECT tag_number FROM tag WHERE tag_id = $1", [as_uuid_str(tag_id)]
    ).fetchone()[0]


def tag_sample_ids(con, dataset_id, tag_name: str, sample_ids: SampleIds) -> int:
    """Add tag ``tag_name`` to the given samples (idempotent). Returns how many were added.

    One atomic unit (creating the tag and tagging): runs in its own transaction, or joins the
    caller's."""
    sub_sql, sub_params = ids_subquery(sample_ids)
    with transaction() as tx:
        number = tag_number(tx, get_or_create_tag_id(tx, dataset_id, tag_name))
        tag, ds = f"${len(sub_params) + 1}", f"${len(sub_params) + 2}"  # after the subquery's
        result = tx.execute(
            f"""UPDATE sample SET tag_numbers = list_append(tag_numbers, {tag})
                WHERE dataset_id = {ds} AND sample_id IN ({sub_sql})
                  AND NOT list_contains(tag_numbers, {tag})""",
            [*sub_params, number, as_uuid_str(dataset_id)],
        ).fetchone()
    return result[0] if result else 0


def untag_sample_ids(con, dataset_id, tag_name: str, sample_ids: SampleIds) -> int:
    """Remove tag ``tag_name`` from the given samples. Returns how many were removed.

    Runs in its own transaction, or joins the caller's (a write to sample rows: one writer)."""
    sub_sql, sub_params = ids_subquery(sample_ids)
    tag, ds = f"${len(sub_params) + 1}", f"${len(sub_params) + 2}"  # after the subquery's
    with transaction() as tx:
        tag_id = get_tag_id(tx, dataset_id, tag_name)
        if tag_id is None:
            return 0
        result = tx.execute(
            f"""UPDATE sample SET tag_numbers = list_filter(tag_numbers, lambda n: n <> {tag})
                WHERE dataset_id = {ds} AND sample_id IN ({sub_sql})
                  AND list_contains(tag_numbers, {tag})""",
            [*sub_params, tag_number(tx, tag_id), as_uuid_str(dataset_id)],
        ).fetchone()
    return result[0] if result else 0


def tagged_subquery(tag_id) -> tuple[str, list]:
    """(sql, params) of a SELECT of the sample_ids that carry the tag."""
    return (
        """SELECT sample_id FROM sample
               WHERE list_contains(tag_numbers, (SELECT tag_number FROM tag WHERE tag_id = $1))""",
        [as_uuid_str(tag_id)],
    )


def clear_tag(con, tag_id) -> None:
    """Take the tag off every sample that has it (the tag itself stays). Runs in its own
    transaction, or joins the caller's."""
    with transaction() as tx:
        tx.execute(
            """UPDATE sample SET tag_numbers = list_filter(tag_numbers, lambda n: n <> $1)
               WHERE list_contains(tag_numbers, $1)""",
            [tag_number(tx, tag_id)],
        )


def tag_names_frame(con, dataset_id) -> pl.DataFrame:
    """tag_number → name of a dataset's sample tags."""
    return query_frame(
        """SELECT tag_number, name FROM tag
           WHERE dataset_id = $1 AND kind = 'sample'""",
        [as_uuid_str(dataset_id)],
        con=con,
    )


def tag_numbers_to_names(
    frame: pl.DataFrame, names: pl.DataFrame, column: str = "tag_numbers"
) -> pl.DataFrame:
    """Replace the lists of tag numbers in ``column`` by sorted lists of names, as ``tags``."""
    # Vectorised over the flat values and cut back into lists by counts: polars' per-list
    # lookups and list.sort on strings are far too slow at 100,000 rows.
    lists = frame[column].to_arrow()
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lists = lists.fill_null([])
    numbers = lists.flatten().to_numpy(zero_copy_only=False)
    offsets = np.asarray(lists.offsets, np.int64)
    offsets = offsets - offsets[0]
    ranked = names.sort("name")
    n_names = max(len(ranked), 1)
    # int32 throughout when it fits: numpy sorts int32 faster than int64 here.
    index = np.int32 if len(frame) * n_names < 2**31 else np.int64
    rows = np.repeat(np.arange(len(frame), dtype=index), np.diff(offsets))
    max_number = cast("int | None", ranked["tag_number"].max())  # an integer column
    rank_of = np.full((max_number or 0) + 1, -1, index)
    rank_of[ranked["tag_number"].to_numpy()] = np.arange(len(ranked), dtype=index)
    ranks = np.where(numbers < len(rank_of), rank_of[np.minimum(numbers, len(rank_of) - 1)], -1)
    known = ranks >= 0  # a number whose tag is gone (or of another kind) is left out
    if not known.all():
        rows, ranks = rows[known], ranks[known]
        offsets = np.zeros(len(frame) + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=len(frame)), out=offsets[1:])
    # One sort of row * n_names + rank: by row, then by name within a row.
    ranks = np.sort(rows * index(n_names) + ranks.astype(index)) % index(n_names)
    # Gathered by polars and handed over as Arrow string views: no copy of the strings
    # (a pyarrow take into a large_utf8 array and its conversion back cost more).
    values = ranked["name"].gather(ranks).to_arrow(compat_level=pl.CompatLevel.newest())
    tags = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values)
    return frame.with_columns(pl.Series("tags", tags)).drop(column)


def list_tags(con, dataset_id) -> pl.DataFrame:
    """Tag names of a dataset with their sample counts, by name."""
    return query_frame(
        """SELECT t.name, count(st.tag_number) AS count FROM tag t
           LEFT JOIN (SELECT unnest(tag_numbers) AS tag_number FROM sample WHERE dataset_id = $1)
             st ON st.tag_number = t.tag_number
           WHERE t.dataset_id = $1 AND t.kind = 'sample'
           GROUP BY t.name ORDER BY t.name""",
        [as_uuid_str(dataset_id)],
        con=con,
    )


def tag_names(con, dataset_id) -> list[str]:
    """The names of a dataset's sample tags, sorted."""
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT name FROM tag WHERE dataset_id = $1 AND kind = 'sample' ORDER BY name",
            [as_uuid_str(dataset_id)],
        ).fetchall()
    ]


def sample_tag_names(con, sample_id) -> set[str]:
    """The names of one sample's tags."""
    rows = con.execute(
        """SELECT t.name FROM sample s JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
           WHERE s.sample_id = $1 AND t.dataset_id = s.dataset_id""",
        [as_uuid_str(sample_id)],
    ).fetchall()
    return {r[0] for r in rows}


def tagged_count(con, dataset_id, tag: str) -> int:
    """How many samples of the dataset carry the sample tag ``tag``."""
    return con.execute(
        """SELECT count(*) FROM sample s JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
           WHERE t.dataset_id = $1 AND t.name = $2 AND t.kind = 'sample'""",
        [as_uuid_str(dataset_id), tag],
    ).fetchall()[0][0]


def sample_tag_number(con, dataset_id, name: str) -> int | None:
    """The tag number of the dataset's sample tag ``name``; None when there is no such tag."""
    row = con.execute(
        "SELECT tag_number FROM tag WHERE dataset_id = $1 AND kind = 'sample' AND name = $2",
        [as_uuid_str(dataset_id), name],
    ).fetchone()
    return row[0] if row else None


def rename_tag(con, dataset_id, old: str, new: str) -> int:
    """Rename the dataset's sample tag ``old`` to ``new`` (its samples keep it: they hold the
    tag's number, not its name). Returns how many samples carry it. Runs in its own
    transaction, or joins the caller's."""
    validate_tag_name(new)
    with transaction() as tx:
        if get_tag_id(tx, dataset_id, old) is None:
            raise LightlyStudioError(
                f"No tag {old!r} in this dataset; tags: {_known(tx, dataset_id)}."
            )
        if old == new:
            return tagged_count(tx, dataset_id, old)
        if get_tag_id(tx, dataset_id, new) is not None:
            raise LightlyStudioError(
                f"Cannot rename tag {old!r} to {new!r}: a tag {new!r} exists already."
            )
        tx.execute(
            "UPDATE tag SET name = $3 WHERE dataset_id = $1 AND name = $2 AND kind = 'sample'",
            [as_uuid_str(dataset_id), old, new],
        )
        return tagged_count(tx, dataset_id, new)


def delete_tag(con, dataset_id, name: str) -> int:
    """Take the sample tag ``name`` off every sample and delete it, in one transaction (or the
    caller's). Returns how many samples carried it."""
    with transaction() as tx:
        tag_id = get_tag_id(tx, dataset_id, name)
        if tag_id is None:
            raise LightlyStudioError(
                f"No tag {name!r} in this dataset; tags: {_known(tx, dataset_id)}."
            )
        number = tag_number(tx, tag_id)
        row = tx.execute(
            """UPDATE sample SET tag_numbers = list_filter(tag_numbers, lambda n: n <> $2)
               WHERE dataset_id = $1 AND list_contains(tag_numbers, $2)""",
            [as_uuid_str(dataset_id), number],
        ).fetchone()
        tx.execute("DELETE FROM tag WHERE tag_id = $1", [as_uuid_str(tag_id)])
    return int(row[0]) if row else 0


def create_tag(con, dataset_id, name: str) -> bool:
    """Create the sample tag ``name`` without tagging any sample; False when it existed."""
    with transaction() as tx:
        existed = get_tag_id(tx, dataset_id, name) is not None
        get_or_create_tag_id(tx, dataset_id, name)
    return not existed


def _known(con, dataset_id) -> str:
    return ", ".join(repr(n) for n in tag_names(con, dataset_id)) or "none"


# -- what an undo of a tag change needs ----------------------------------------------------------


def tag_snapshot(con, dataset_id, name: str) -> dict | None:
    """The tag row (tag_id and tag_number as stored) and the ids of the samples carrying it:
    what ``restore_tag`` needs to bring it back after ``delete_tag``. None when no such tag."""
    row = con.execute(
        """SELECT CAST(tag_id AS VARCHAR), tag_number, created_at FROM tag
           WHERE dataset_id = $1 AND kind = 'sample' AND name = $2""",
        [as_uuid_str(dataset_id), name],
    ).fetchone()
    if row is None:
        return None
    ids = query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id FROM sample
           WHERE dataset_id = $1 AND list_contains(tag_numbers, $2)""",
        [as_uuid_str(dataset_id), row[1]],
        con=con,
    )["sample_id"]
    return {"tag_id": row[0], "name": name, "tag_number": row[1], "created_at": row[2], "ids": ids}


def restore_tag(con, dataset_id, snapshot: dict) -> int:
    """Bring back a tag deleted by ``delete_tag`` from its ``tag_snapshot``: the same tag row
    (same number) on the samples that still exist. Refused when the name is taken again.
    Returns how many samples carry it. Runs in its own transaction, or joins the caller's."""
    with transaction() as tx:
        if get_tag_id(tx, dataset_id, snapshot["name"]) is not None:
            raise LightlyStudioError(
                f"Cannot bring back tag {snapshot['name']!r}: a tag of that name exists again."
            )
        tx.execute(
            """INSERT INTO tag (tag_id, dataset_id, name, kind, created_at, tag_number)
               VALUES (CAST($1 AS UUID), $2, $3, 'sample', $4, $5)""",
            [
                snapshot["tag_id"],
                as_uuid_str(dataset_id),
                snapshot["name"],
                snapshot["created_at"],
                snapshot["tag_number"],
            ],
        )
        sub_sql, sub_params = ids_subquery(snapshot["ids"])
        number, ds = f"${len(sub_params) + 1}", f"${len(sub_params) + 2}"
        row = tx.execute(
            f"""UPDATE sample SET tag_numbers = list_append(tag_numbers, {number})
                WHERE dataset_id = {ds} AND sample_id IN ({sub_sql})
                  AND NOT list_contains(tag_numbers, {number})""",
            [*sub_params, snapshot["tag_number"], as_uuid_str(dataset_id)],
        ).fetchone()
    return int(row[0]) if row else 0


def untagged_among(con, dataset_id, name: str, sample_ids: SampleIds) -> list[str]:
    """Those of ``sample_ids`` (of the dataset) that do not carry tag ``name`` (yet)."""
    sub_sql, sub_params = ids_subquery(sample_ids)
    n = len(sub_params)
    return query_frame(
        f"""SELECT CAST(sample_id AS VARCHAR) AS sample_id FROM sample
            WHERE dataset_id = ${n + 1} AND sample_id IN ({sub_sql})
              AND NOT list_contains(tag_numbers, coalesce((SELECT tag_number FROM tag
                  WHERE dataset_id = ${n + 1} AND kind = 'sample' AND name = ${n + 2}), -1))""",
        [*sub_params, as_uuid_str(dataset_id), name],
        con=con,
    )["sample_id"].to_list()
