"""Ids as store functions bind them: one coercion of a sample/dataset id, and id sets as SQL.

Client-given ids are checked at the API edge (``api/_spec.uuid_param``); these helpers are for
values that are already ids (``uuid.UUID``, their strings, DuckDB's UUID values).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import polars as pl

# Sample ids as the tag / metadata functions accept them: a list or Series of ids, or an
# (sql, params) subquery whose rows (column ``sample_id``) are the samples.
SampleIds = tuple | list | pl.Series | Iterable


def as_uuid(value: Any) -> uuid.UUID:
    """``value`` (a UUID, or anything whose str() is one) as a ``uuid.UUID``."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_uuid_str(value: Any) -> str:
    """``value`` as the string DuckDB binds to a UUID parameter (checked to be a UUID)."""
    return str(as_uuid(value))


def ids_subquery(sample_ids: SampleIds) -> tuple[str, list]:
    """Turn ids (list, Series) or an (sql, params) subquery into (sql, params)."""
    if isinstance(sample_ids, tuple) and len(sample_ids) == 2 and isinstance(sample_ids[0], str):
        return sample_ids
    if isinstance(sample_ids, pl.Series):
        ids = sample_ids.cast(pl.Utf8).to_list()
    else:
        ids = [str(i) for i in sample_ids]
    return "SELECT unnest($1::UUID[]) AS sample_id", [ids]
