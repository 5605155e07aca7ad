"""Metadata moves from the key/value table `metadata` onto the sample row.

Each (dataset, key) gets its own typed column of `sample`, named ``meta_<n>`` and recorded in
``metadata_key.column_name``; a sample without a value of the key has NULL there.

Why: reading the metadata of 100,000 samples out of 1,000,000 from the key/value table was a
semi-join over its 5,000,000 rows plus a pivot, ~135 ms of the ~300 ms of ``to_polars``; a
metadata filter or sort was a join (or a correlated subquery) per key. As columns, metadata
comes with the row, and a filter is a plain column predicate with min/max skipping.
(benchmarks/bench_query.py.) Columns are added with ALTER TABLE as keys appear: DuckDB adds a
NULL column without rewriting the table, and an UPDATE of such a column is in place.

A data-dependent migration (one column per stored key), hence Python rather than SQL. It runs
inside the migration's transaction: all of it is applied, or none.
"""

# Frozen copies, not imports: a migration must keep doing what it did when the code moves on.
SQL_TYPE = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "json": "JSON",
}
VALUE_COLUMN = {
    "int": "v_int",
    "float": "v_float",
    "str": "v_str",
    "bool": "v_bool",
    "datetime": "v_datetime",
    "json": "v_json",
}


def migrate(con) -> None:
    con.execute("CREATE SEQUENCE metadata_column_seq START 1")
    con.execute("ALTER TABLE metadata_key ADD COLUMN column_name VARCHAR")
    keys = con.execute(
        "SELECT dataset_id, key, value_type FROM metadata_key ORDER BY dataset_id, key"
    ).fetchall()
    for dataset_id, key, value_type in keys:
        number = con.execute("SELECT nextval('metadata_column_seq')").fetchone()[0]
        column = f"meta_{number}"
        con.execute(f"ALTER TABLE sample ADD COLUMN {column} {SQL_TYPE[value_type]}")
        con.execute(
            f"""UPDATE sample s SET {column} = m.{VALUE_COLUMN[value_type]} FROM metadata m
                WHERE m.sample_id = s.sample_id AND m.key = $1 AND s.dataset_id = $2""",
            [key, dataset_id],
        )
        con.execute(
            "UPDATE metadata_key SET column_name = $1 WHERE dataset_id = $2 AND key = $3",
            [column, dataset_id, key],
        )
    con.execute("DROP TABLE metadata")
