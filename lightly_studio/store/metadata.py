"""Sample metadata: typed values by key, stored as columns of the sample row.

A key's value type is fixed per dataset by the first value stored under it, so queries can
compare it like a column. An int key accepts ints; a float key accepts floats and ints.
Each (dataset, key) has its own column of table `sample` (``meta_<n>``, recorded in
``metadata_key.column_name``), added when the key first gets a value; NULL means the sample
has no value of the key. Why columns: see migration 0003.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple

import polars as pl

from lightly_studio.db import query_frame, transaction
from lightly_studio.errors import MetadataTypeError
from lightly_studio.store._ids import as_uuid_str, ids_subquery

SQL_TYPE = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "json": "JSON",
}


class MetadataKey(NamedTuple):
    """A dataset's metadata key: its value type and the sample column holding its values."""

    value_type: str
    column: str


def value_type_of(value: Any) -> str:
    """The metadata type name of a Python value (numpy scalars included)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "bool"
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return "int"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, (list, tuple, dict)):
        return "json"
    raise MetadataTypeError(
        f"Metadata values must be str, int, float, bool, datetime, list or dict; "
        f"got {type(value).__name__}."
    )


def _accepts(key_type: str, value_type: str) -> bool:
    return key_type == value_type or (key_type == "float" and value_type == "int")


def _to_db(value: Any, key_type: str) -> Any:
    if key_type == "json":
        return json.dumps(value)
    if key_type == "float":
        return float(value)
    if key_type == "int":
        return int(value)
    if key_type == "bool":
        return bool(value)
    return value


def _from_db(value: Any, key_type: str) -> Any:
    if value is not None and key_type == "json":
        return json.loads(value)
    return value


def metadata_key(con, dataset_id, key: str) -> MetadataKey | None:
    row = con.execute(
        "SELECT value_type, column_name FROM metadata_key WHERE dataset_id = $1 AND key = $2",
        [as_uuid_str(dataset_id), key],
    ).fetchone()
    return MetadataKey(*row) if row else None


def metadata_columns(con, dataset_id) -> dict[str, MetadataKey]:
    """All metadata keys of a dataset with their types and columns, by key name."""
    rows = con.execute(
        """SELECT key, value_type, column_name FROM metadata_key WHERE dataset_id = $1
           ORDER BY key""",
        [as_uuid_str(dataset_id)],
    ).fetchall()
    return {key: MetadataKey(value_type, column) for key, value_type, column in rows}


def metadata_keys(con, dataset_id) -> dict[str, str]:
    """All metadata keys of a dataset with their value types, by key name."""
    return {key: found.value_type for key, found in metadata_columns(con, dataset_id).items()}


def all_metadata_column_names(con) -> list[str]:
    """The metadata columns of every dataset (for fingerprints of the whole table)."""
    return [
        r[0]
        for r in con.execute("SELECT column_name FROM metadata_key ORDER BY column_name").fetchall()
    ]


def _ensure_key(con, dataset_id, key: str, value_type: str, where: str) -> MetadataKey:
    """The key's column, added (in the caller's transaction) when the key is new."""
    if not isinstance(key, str) or not key:
        raise MetadataTypeError(f"Metadata keys must be non-empty strings, got {key!r}.")
    found = metadata_key(con, dataset_id, key)
    if found is None:
        number = con.execute("SELECT nextval('metadata_column_seq')").fetchone()[0]
        found = MetadataKey(value_type, f"meta_{int(number)}")
        con.execute(f"ALTER TABLE sample ADD COLUMN {found.column} {SQL_TYPE[value_type]}")
        con.execute(
            "INSERT INTO metadata_key (dataset_id, key, value_type, column_name) "
            "VALUES ($1, $2, $3, $4)",
            [as_uuid_str(dataset_id), key, value_type, found.column],
        )
        return found
    if not _accepts(found.value_type, value_type):
        raise MetadataTypeError(
            f"Metadata key {key!r} holds {found.value_type} values in this dataset; "
            f"cannot store a {value_type} value ({where})."
        )
    return found


def set_metadata_value(con, dataset_id, sample_id, key: str, value: Any) -> None:
    """Store one sample's value of ``key`` (adding the key's column when new). One atomic unit:
    runs in its own transaction, or joins the caller's."""
    with transaction() as tx:
        found = _ensure_key(tx, dataset_id, key, value_type_of(value), f"sample {sample_id}")
        tx.execute(
            f"UPDATE sample SET {found.column} = $1 WHERE sample_id = $2 AND dataset_id = $3",
            [_to_db(value, found.value_type), as_uuid_str(sample_id), as_uuid_str(dataset_id)],
        )


_POLARS_TYPE = [
    (pl.Boolean, "bool"),
    ((pl.Float32, pl.Float64), "float"),
    ((pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64), "int"),
    (pl.Utf8, "str"),
    (pl.Datetime, "datetime"),
]


def set_metadata_values(con, dataset_id, key: str, frame: pl.DataFrame) -> int:
    """Store ``key`` for many samples at once: frame columns sample_id, value.

    Existing values of the key on those samples are replaced. One transaction.
    """
    dtype = frame.schema["value"]
    value_type = None
    for types, name in _POLARS_TYPE:
        if (isinstance(types, tuple) and any(dtype == t for t in types)) or dtype == types:
            value_type = name
            break
    if value_type is None:
        if isinstance(dtype, pl.Datetime):
            value_type = "datetime"
        else:
            raise MetadataTypeError(f"Cannot store metadata of polars type {dtype} for {key!r}.")
    # The last value given for a sample wins, as if they were set one after the other.
    rows = (
        frame.select(pl.col("sample_id").cast(pl.Utf8), "value")
        .drop_nulls("value")
        .unique(subset="sample_id", keep="last", maintain_order=True)
    )
    with transaction() as tx:
        found = _ensure_key(tx, dataset_id, key, value_type, "bulk update")
        tx.register("_metadata_values", rows)
        try:
            tx.execute(
                f"""UPDATE sample s SET {found.column} = v.value FROM _metadata_values v
                    WHERE s.sample_id = CAST(v.sample_id AS UUID) AND s.dataset_id = $1""",
                [as_uuid_str(dataset_id)],
            )
        finally:
            tx.unregister("_metadata_values")
    return rows.height


def get_metadata_values(con, dataset_id, key: str, sample_ids_subquery=None) -> pl.DataFrame:
    """Values of ``key``: frame with sample_id (str) and value; samples without it are absent."""
    found = metadata_key(con, dataset_id, key)
    if found is None:
        return pl.DataFrame(schema={"sample_id": pl.Utf8, "value": pl.Null})
    # The subquery's own $1…$n come first; the dataset id follows them.
    sub_sql, params = (
        ids_subquery(sample_ids_subquery) if sample_ids_subquery is not None else ("", [])
    )
    sql = (
        f"SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.{found.column} AS value "
        f"FROM sample s WHERE s.dataset_id = ${len(params) + 1} "
        f"AND s.{found.column} IS NOT NULL"
    )
    if sub_sql:
        sql += f" AND s.sample_id IN ({sub_sql})"
    params = [*params, as_uuid_str(dataset_id)]
    frame = query_frame(sql, params, con=con)
    if found.value_type == "json":
        frame = frame.with_columns(pl.col("value").map_elements(json.loads, return_dtype=pl.Object))
    return frame


# -- one sample's values ------------------------------------------------------------------------


def sample_values(con, dataset_id, sample_id) -> dict[str, Any]:
    """Every metadata value of one sample, by key (keys it has no value of are left out)."""
    keys = metadata_columns(con, dataset_id)
    if not keys:
        return {}
    row = con.execute(
        f"SELECT {', '.join(k.column for k in keys.values())} FROM sample WHERE sample_id = $1",
        [as_uuid_str(sample_id)],
    ).fetchone()
    if row is None:
        return {}
    return {
        key: _from_db(value, found.value_type)
        for (key, found), value in zip(keys.items(), row, strict=True)
        if value is not None
    }


def clear_value(con, dataset_id, sample_id, key: str) -> bool:
    """Remove one sample's value of ``key``; False when it had none. Runs in its own
    transaction, or joins the caller's (a write to the sample row: one writer at a time)."""
    found = metadata_key(con, dataset_id, key)
    if found is None:
        return False
    with transaction() as tx:
        cleared = tx.execute(
            f"UPDATE sample SET {found.column} = NULL "
            f"WHERE sample_id = $1 AND {found.column} IS NOT NULL",
            [as_uuid_str(sample_id)],
        ).fetchone()
    assert cleared is not None  # an UPDATE always answers one row: its row count
    return bool(cleared[0])


def has_value(con, dataset_id, sample_id, key: str) -> bool:
    """Whether one sample has a value of ``key``."""
    found = metadata_key(con, dataset_id, key)
    if found is None:
        return False
    row = con.execute(
        f"SELECT 1 FROM sample WHERE sample_id = $1 AND {found.column} IS NOT NULL",
        [as_uuid_str(sample_id)],
    ).fetchone()
    return row is not None


def set_metadata_json_values(con, dataset_id, key: str, frame: pl.DataFrame) -> int:
    """Store JSON values of ``key`` for many samples at once: frame columns sample_id, value
    (JSON text). Existing values on those samples are replaced. One transaction."""
    rows = frame.select(pl.col("sample_id").cast(pl.Utf8), pl.col("value").cast(pl.Utf8))
    rows = rows.drop_nulls("value").unique(subset="sample_id", keep="last", maintain_order=True)
    with transaction() as tx:
        found = _ensure_key(tx, dataset_id, key, "json", "bulk update")
        tx.register("_metadata_json_values", rows)
        try:
            tx.execute(
                f"""UPDATE sample s SET {found.column} = CAST(v.value AS JSON)
                    FROM _metadata_json_values v
                    WHERE s.sample_id = CAST(v.sample_id AS UUID) AND s.dataset_id = $1""",
                [as_uuid_str(dataset_id)],
            )
        finally:
            tx.unregister("_metadata_json_values")
    return rows.height


def clear_values(con, dataset_id, key: str, sample_ids: pl.Series) -> None:
    """Remove the values of ``key`` of many samples (ids as text). Runs in its own
    transaction, or joins the caller's."""
    found = metadata_key(con, dataset_id, key)
    if found is None or sample_ids.len() == 0:
        return
    with transaction() as tx:
        tx.execute(
            f"""UPDATE sample SET {found.column} = NULL
                WHERE dataset_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
            [as_uuid_str(dataset_id), sample_ids.to_list()],
        )
