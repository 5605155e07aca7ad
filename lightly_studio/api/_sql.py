"""Dissolved into ``lightly_studio.store`` (aggregates, samples, datasets) (#25)."""

from __future__ import annotations

import polars as pl

from lightly_studio.db import query_frame


def _frame(con, sql: str, params: list) -> pl.DataFrame:
    # moved to lightly_studio.db.query_frame; re-exported until callers move (#25)
    return query_frame(sql, params, con)
