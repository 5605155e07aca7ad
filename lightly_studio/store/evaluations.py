"""Evaluation runs: every statement over ``evaluation_run``, ``evaluation_sample`` and
``evaluation_match`` (migration 0004).

A run is written only by :func:`replace_run`, which deletes an earlier run of the same name
and inserts the new run with all its rows as one unit: a failed write leaves the old run.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import polars as pl

from lightly_studio.db import query_frame, transaction
from lightly_studio.store._ids import as_uuid_str

# The per-sample metric columns, in the order they are stored and shown.
SAMPLE_METRICS = ("tp", "fp", "fn", "precision", "recall", "miou", "disagreement")
OUTCOMES = ("tp", "mismatch", "fp", "fn", "ignored")

SAMPLE_SCHEMA: dict[str, Any] = {
    "sample_id": pl.Utf8,
    "tp": pl.Int32,
    "fp": pl.Int32,
    "fn": pl.Int32,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "miou": pl.Float64,
    "disagreement": pl.Float64,
}
MATCH_SCHEMA: dict[str, Any] = {
    "sample_id": pl.Utf8,
    "gt_annotation_id": pl.Utf8,
    "pred_annotation_id": pl.Utf8,
    "gt_label": pl.Utf8,
    "pred_label": pl.Utf8,
    "iou": pl.Float64,
    "confidence": pl.Float64,
    "outcome": pl.Utf8,
}

_RUN_COLUMNS = """CAST(run_id AS VARCHAR) AS run_id, name, task, gt_source, pred_source,
    CAST(config AS VARCHAR) AS config, CAST(metrics AS VARCHAR) AS metrics, sample_count,
    gt_annotation_count, pred_annotation_count, created_at"""


def decode_run(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["config"] = json.loads(row["config"])
    row["metrics"] = json.loads(row["metrics"])
    return row


def find_run(con, dataset_id: uuid.UUID | str, name: str) -> dict[str, Any] | None:
    """The run called ``name`` in the dataset (config and metrics decoded), or None."""
    frame = query_frame(
        f"SELECT {_RUN_COLUMNS} FROM evaluation_run WHERE dataset_id = $1 AND name = $2",
        [as_uuid_str(dataset_id), name],
        con,
    )
    return decode_run(frame.row(0, named=True)) if frame.height else None


def list_runs(con, dataset_id: uuid.UUID | str) -> pl.DataFrame:
    """The dataset's runs, newest first (config and metrics as JSON text)."""
    return query_frame(
        f"SELECT {_RUN_COLUMNS} FROM evaluation_run WHERE dataset_id = $1 "
        "ORDER BY created_at DESC, name",
        [as_uuid_str(dataset_id)],
        con,
    )


def _delete(con, run_id: str) -> None:
    for table in ("evaluation_match", "evaluation_sample", "evaluation_run"):
        con.execute(f"DELETE FROM {table} WHERE run_id = $1", [run_id])


def replace_run(
    con,
    dataset_id: uuid.UUID | str,
    run: dict[str, Any],
    samples: pl.DataFrame,
    matches: pl.DataFrame,
) -> str:
    """Store a run (keys: name, task, gt_source, pred_source, config, metrics, sample_count,
    gt_annotation_count, pred_annotation_count) with its per-sample rows (``SAMPLE_SCHEMA``)
    and match rows (``MATCH_SCHEMA``), replacing the dataset's run of that name. One atomic
    unit: runs in its own transaction, or joins the caller's. Returns the new run id."""
    run_id = str(uuid.uuid4())
    dataset = as_uuid_str(dataset_id)
    samples = samples.select([pl.col(c).cast(t) for c, t in SAMPLE_SCHEMA.items()])
    matches = matches.select([pl.col(c).cast(t) for c, t in MATCH_SCHEMA.items()])
    with transaction():
        earlier = find_run(con, dataset, run["name"])
        if earlier is not None:
            _delete(con, earlier["run_id"])
        con.execute(
            """INSERT INTO evaluation_run VALUES ($1, $2, $3, $4, $5, $6, $7::JSON, $8::JSON,
                   $9, $10, $11, $12)""",
            [
                run_id,
                dataset,
                run["name"],
                run["task"],
                run["gt_source"],
                run["pred_source"],
                json.dumps(run["config"]),
                json.dumps(run["metrics"]),
                run["sample_count"],
                run["gt_annotation_count"],
                run["pred_annotation_count"],
                dt.datetime.now(),
            ],
        )
        con.register("_evaluation_samples", samples)
        con.register("_evaluation_matches", matches)
        try:
            con.execute(
                """INSERT INTO evaluation_sample SELECT $1::UUID, CAST(sample_id AS UUID), tp,
                       fp, fn, "precision", recall, miou, disagreement FROM _evaluation_samples""",
                [run_id],
            )
            con.execute(
                """INSERT INTO evaluation_match SELECT $1::UUID, CAST(sample_id AS UUID),
                       CAST(gt_annotation_id AS UUID), CAST(pred_annotation_id AS UUID),
                       gt_label, pred_label, iou, confidence, outcome FROM _evaluation_matches""",
                [run_id],
            )
        finally:
            con.unregister("_evaluation_samples")
            con.unregister("_evaluation_matches")
    return run_id


def delete_run(con, dataset_id: uuid.UUID | str, name: str) -> bool:
    """Delete the run called ``name`` and its rows. Returns whether there was one."""
    found = find_run(con, dataset_id, name)
    if found is None:
        return False
    _delete(con, found["run_id"])
    return True


def sample_metrics(con, run_id: str) -> pl.DataFrame:
    """The run's per-sample rows (sample_id as text, then ``SAMPLE_METRICS``)."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, tp, fp, fn, "precision", recall,
                  miou, disagreement
           FROM evaluation_sample WHERE run_id = $1""",
        [run_id],
        con,
    )


def match_rows(
    con, run_id: str, sample_id: str | None = None, sample_ids: list[str] | None = None
) -> pl.DataFrame:
    """The run's match rows (``MATCH_SCHEMA``; ids as text), of one sample, of the samples
    in ``sample_ids``, or all."""
    where = "run_id = $1"
    params: list[Any] = [run_id]
    if sample_id is not None:
        where += " AND sample_id = $2"
        params.append(as_uuid_str(sample_id))
    elif sample_ids is not None:
        where += " AND sample_id IN (SELECT unnest(CAST($2 AS UUID[])))"
        params.append([as_uuid_str(i) for i in sample_ids])
    return query_frame(
        f"""SELECT CAST(sample_id AS VARCHAR) AS sample_id,
                   CAST(gt_annotation_id AS VARCHAR) AS gt_annotation_id,
                   CAST(pred_annotation_id AS VARCHAR) AS pred_annotation_id,
                   gt_label, pred_label, iou, confidence, outcome
            FROM evaluation_match WHERE {where}""",
        params,
        con,
    )


def confusion_counts(con, run_id: str) -> pl.DataFrame:
    """gt_label, pred_label (NULL: background), n: the run's confusion matrix as rows."""
    return query_frame(
        """SELECT gt_label, pred_label, count(*) AS n FROM evaluation_match
           WHERE run_id = $1 AND outcome <> 'ignored' GROUP BY ALL""",
        [run_id],
        con,
    )
