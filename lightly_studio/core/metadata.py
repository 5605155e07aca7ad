"""Sample metadata: typed key/value pairs, one row per (sample, key).

A key's value type is fixed per dataset by the first value stored under it, so queries can
compare it like a column. An int key accepts ints; a float key accepts floats and ints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import polars as pl

from lightly_studio.core.tags import ids_subquery, shift_params
from lightly_studio.db._connection import query_frame
from lightly_studio.errors import MetadataTypeError

if TYPE_CHECKING:
    from lightly_studio.core.sample import Sample

VALUE_COLUMN = {
    "int": "v_int",
    "float": "v_float",
    "str": "v_str",
    "bool": "v_bool",
    "datetime": "v_datetime",
    "json": "v_json",
}


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


def metadata_key_type(con, dataset_id, key: str) -> str | None:
    row = con.execute(
        "SELECT value_type FROM metadata_key WHERE dataset_id = $1 AND key = $2",
        [str(dataset_id), key],
    ).fetchone()
    return row[0] if row else None


def metadata_keys(con, dataset_id) -> dict[str, str]:
    """All metadata keys of a dataset with their value types, by key name."""
    rows = con.execute(
        "SELECT key, value_type FROM metadata_key WHERE dataset_id = $1 ORDER BY key",
        [str(dataset_id)],
    ).fetchall()
    return dict(rows)


def _ensure_key(con, dataset_id, key: str, value_type: str, where: str) -> str:
    if not isinstance(key, str) or not key:
        raise MetadataTypeError(f"Metadata keys must be non-empty strings, got {key!r}.")
    key_type = metadata_key_type(con, dataset_id, key)
    if key_type is None:
        con.execute("INSERT INTO metadata_key VALUES ($1, $2, $3)",
                    [str(dataset_id), key, value_type])
        return value_type
    if not _accepts(key_type, value_type):
        raise MetadataTypeError(
            f"Metadata key {key!r} holds {key_type} values in this dataset; "
            f"cannot store a {value_type} value ({where})."
        )
    return key_type


def set_metadata_value(con, dataset_id, sample_id, key: str, value: Any) -> None:
    from lightly_studio.db import transaction

    with transaction() as tx:
        key_type = _ensure_key(tx, dataset_id, key, value_type_of(value), f"sample {sample_id}")
        tx.execute("DELETE FROM metadata WHERE sample_id = $1 AND key = $2",
                   [str(sample_id), key])
        tx.execute(
            f"INSERT INTO metadata (sample_id, key, {VALUE_COLUMN[key_type]}) VALUES ($1, $2, $3)",
            [str(sample_id), key, _to_db(value, key_type)],
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
    from lightly_studio.db import transaction

    dtype = frame.schema["value"]
    value_type = None
    for types, name in _POLARS_TYPE:
        if isinstance(types, tuple) and any(dtype == t for t in types) or dtype == types:
            value_type = name
            break
    if value_type is None:
        if isinstance(dtype, pl.Datetime):
            value_type = "datetime"
        else:
            raise MetadataTypeError(f"Cannot store metadata of polars type {dtype} for {key!r}.")
    rows = frame.select(pl.col("sample_id").cast(pl.Utf8), "value").drop_nulls("value")
    with transaction() as tx:
        key_type = _ensure_key(tx, dataset_id, key, value_type, "bulk update")
        column = VALUE_COLUMN[key_type]
        tx.register("_metadata_values", rows)
        try:
            tx.execute(
                """DELETE FROM metadata WHERE key = $1
                   AND sample_id IN (SELECT CAST(sample_id AS UUID) FROM _metadata_values)""",
                [key],
            )
            tx.execute(
                f"""INSERT INTO metadata (sample_id, key, {column})
                    SELECT CAST(sample_id AS UUID), $1, value FROM _metadata_values""",
                [key],
            )
        finally:
            tx.unregister("_metadata_values")
    return rows.height


def get_metadata_values(con, dataset_id, key: str, sample_ids_subquery=None) -> pl.DataFrame:
    """Values of ``key``: frame with sample_id (str) and value; samples without it are absent."""
    key_type = metadata_key_type(con, dataset_id, key)
    if key_type is None:
        return pl.DataFrame(schema={"sample_id": pl.Utf8, "value": pl.Null})
    column = VALUE_COLUMN[key_type]
    sql = (f"SELECT CAST(m.sample_id AS VARCHAR) AS sample_id, m.{column} AS value "
           f"FROM metadata m JOIN sample s ON s.sample_id = m.sample_id "
           f"WHERE s.dataset_id = $1 AND m.key = $2")
    params: list = [str(dataset_id), key]
    if sample_ids_subquery is not None:
        sub_sql, sub_params = ids_subquery(sample_ids_subquery)
        sql += f" AND m.sample_id IN ({shift_params(sub_sql, sub_params, 2)})"
        params += sub_params
    frame = query_frame(sql, params, con=con)
    if key_type == "json":
        frame = frame.with_columns(pl.col("value").map_elements(json.loads,
                                                                return_dtype=pl.Object))
    return frame


class SampleMetadata(MutableMapping):
    """Dict-like view of one sample's metadata; every write is stored at once."""

    def __init__(self, sample: Sample) -> None:
        self._sample = sample

    def _con(self):
        from lightly_studio.db import get_connection

        return get_connection()

    def _rows(self) -> dict[str, Any]:
        rows = self._con().execute(
            """SELECT m.key, k.value_type, m.v_int, m.v_float, m.v_str, m.v_bool, m.v_datetime,
                      m.v_json
               FROM metadata m JOIN metadata_key k ON k.key = m.key AND k.dataset_id = $2
               WHERE m.sample_id = $1 ORDER BY m.key""",
            [str(self._sample.sample_id), str(self._sample.dataset_id)],
        ).fetchall()
        columns = list(VALUE_COLUMN)
        return {row[0]: _from_db(row[2 + columns.index(row[1])], row[1]) for row in rows}

    def __getitem__(self, key: str) -> Any:
        rows = self._rows()
        if key not in rows:
            raise KeyError(key)
        return rows[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if value is None:
            raise MetadataTypeError(
                f"Metadata value for {key!r} is None; use `del sample.metadata[{key!r}]`.")
        set_metadata_value(self._con(), self._sample.dataset_id, self._sample.sample_id,
                           key, value)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._con().execute("DELETE FROM metadata WHERE sample_id = $1 AND key = $2",
                            [str(self._sample.sample_id), key])

    def __contains__(self, key: object) -> bool:
        row = self._con().execute(
            "SELECT 1 FROM metadata WHERE sample_id = $1 AND key = $2",
            [str(self._sample.sample_id), key],
        ).fetchone()
        return row is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return f"SampleMetadata({self._rows()!r})"
