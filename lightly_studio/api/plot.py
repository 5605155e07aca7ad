"""Embedding plot data: 2-D coordinates as one Float32 buffer, colours, index -> id mapping.

Points are sent once, in a fixed order; the view refers to points by index, and the
server keeps that order under a token so a lasso of 1,000,000 points travels as a Uint32
buffer of indices rather than as strings. ``plot_select`` turns such a buffer into an id set
registered server-side: the 468k ids of a large lasso never cross the wire.

``plot_points`` is cached per dataset and model: ``compute_projection`` re-joins every stored
coordinate with the embeddings, while a cheap fingerprint of the projection and embedding
tables tells whether anything changed since.

Video datasets: videos (the mean of their frames' embeddings) and frames are fitted in one
projection, so a video sits among its frames; the plot shows one collection at a time
(``kind``: the videos by default, ``"frame"`` for the frames), as the grid does, and a lasso
selects samples of that collection only.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import polars as pl

from lightly_studio import embed as _embed  # a lazy package: torch and pacmap load on first use
from lightly_studio.api import _contracts as c
from lightly_studio.api import _registry
from lightly_studio.api._methods import Result, method
from lightly_studio.api._progress import report
from lightly_studio.api._spec import (
    dataset_of,
    optional_text,
    query_from_spec,
    register_ids,
    set_query_from_spec,
    show,
)
from lightly_studio.db import get_connection
from lightly_studio.errors import EmbeddingError, QueryError
from lightly_studio.store import evaluations as evaluation_store
from lightly_studio.store import projections
from lightly_studio.store import samples as sample_store
from lightly_studio.store import tags as tag_store
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.metadata import get_metadata_values, metadata_keys

RAMP_STEPS = 10  # colours of a numeric metadata key's ramp (the legend shows each step's value)
_CACHE_MAX = 4  # plots kept (each ~100 MB of id strings at 1,000,000 points)
_cache: dict[tuple, dict] = {}
_cache_lock = threading.Lock()


def _fingerprint(dataset_id: str) -> tuple:
    """Changes whenever the dataset's samples, embeddings or stored projections change."""
    return projections.fingerprint(get_connection(), dataset_id)


@method("plot_points", c.PlotPointsParams, c.PlotPointsResult, buffers_out=True)
def plot_points(params: dict) -> tuple[Any, list[bytes]]:
    """xy of every projected sample (Float32, interleaved) and a token for its order."""
    dataset = dataset_of(params.get("dataset_id"))
    did = str(dataset.dataset_id)
    kind = optional_text(params.get("kind"), "kind")
    # Checks the kind (an image dataset has no frames) before any work.
    collection = query_from_spec({"dataset_id": did, "kind": kind})
    key = (
        did,
        optional_text(params.get("embedding_model"), "embedding_model"),
        kind or dataset.sample_kind,
    )
    before = _fingerprint(did)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None or hit["fingerprint"] != before:
        report(0, 1, "computing projection")
        try:
            compute_projection = _embed.compute_projection
        except ImportError as exc:
            raise EmbeddingError("Embeddings are not available in this installation.") from exc
        frame = compute_projection(dataset, embedding_model_name=key[1])
        report(1, 1, "projection ready")
        frame = frame.select(pl.col("sample_id").cast(pl.Utf8), "x", "y")
        if hasattr(dataset, "frames"):  # a video dataset: its videos or its frames
            wanted = sample_store.subquery_ids(get_connection(), collection.sample_ids_subquery())
            frame = frame.filter(
                pl.col("sample_id").is_in(wanted["sample_id"].cast(pl.Utf8).implode())
            )
        xy = np.empty((frame.height, 2), dtype=np.float32)
        xy[:, 0] = frame["x"].to_numpy()
        xy[:, 1] = frame["y"].to_numpy()
        # compute_projection may have stored coordinates (a first fit, new samples placed):
        # the fingerprint after it is the one later calls compare with.
        hit = {
            "fingerprint": _fingerprint(did),
            "ids": frame["sample_id"],
            "xy": xy.tobytes(),
            "token": None,
        }
        with _cache_lock:
            _cache.pop(key, None)
            while len(_cache) >= _CACHE_MAX:
                _cache.pop(next(iter(_cache)))
            _cache[key] = hit
    token = hit["token"]
    try:
        _registry.lookup(token, "plot")
    except QueryError:  # new, or dropped from the registry by newer handles
        token = hit["token"] = _registry.register("plot", {"dataset_id": did, "ids": hit["ids"]})
    return {"token": token, "count": len(hit["ids"])}, [hit["xy"]]


def _plot(token: object) -> dict:
    return _registry.lookup(token, "plot")


def _indices(params: dict, buffers: list[bytes] | None, n: int) -> np.ndarray:
    if buffers:
        if len(buffers[0]) % 4:
            raise QueryError(
                f"The indices buffer must hold Uint32 values, got {len(buffers[0])} bytes."
            )
        idx = np.frombuffer(buffers[0], dtype=np.uint32)
    else:
        raw = params.get("indices") or []
        if not isinstance(raw, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in raw
        ):
            raise QueryError(f"indices must be a list of point indices, got {show(raw)}.")
        if any(not 0 <= i < n for i in raw):  # before numpy: a huge int would overflow int64
            raise QueryError(f"Point index out of range (the plot has {n} points).")
        idx = np.asarray(raw, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise QueryError(f"Point index out of range (the plot has {n} points).")
    return idx


NAMES_MAX = 1000


@method("plot_ids", c.PlotIdsParams, c.PlotIdsResult, buffers_in=True)
def plot_ids(params: dict, buffers: list[bytes] | None = None) -> tuple[Any, list[bytes]]:
    """Sample ids of point indices (a lasso, a click, a hover); with ``names``, their file
    names too (a hover card, at most ``NAMES_MAX`` points)."""
    plot = _plot(params.get("token"))
    idx = _indices(params, buffers, len(plot["ids"]))
    ids = plot["ids"].gather(idx).to_list()
    if not params.get("names"):
        return {"sample_ids": ids}, []
    # The hover card's caption: file names of a few points (one per hovered point).
    if len(ids) > NAMES_MAX:
        raise QueryError(f"names are given for at most {NAMES_MAX} points, got {len(ids)}.")
    rows = sample_store.rows_by_ids(get_connection(), ids)
    names = dict(zip(rows["sample_id"].cast(pl.Utf8), rows["file_name"], strict=True))
    return {"sample_ids": ids, "file_names": [names.get(i) for i in ids]}, []


@method("plot_select", c.PlotIndicesIn, c.IdSetResult, buffers_in=True)
def plot_select(params: dict, buffers: list[bytes] | None = None) -> tuple[Any, list[bytes]]:
    """Register the samples of point indices (a lasso: a Uint32 buffer) as an id set.

    Returns ``{"ids": <token for a spec's "ids">, "count": n}``; the id strings stay here
    (``selected_ids`` resolves the token in Python)."""
    plot = _plot(params.get("token"))
    idx = _indices(params, buffers, len(plot["ids"]))
    if not idx.size:
        return {"ids": None, "count": 0}, []
    return {"ids": register_ids(plot["ids"].gather(idx)), "count": int(idx.size)}, []


def selected_ids(token: str | None) -> list[str]:
    """The ids registered by ``plot_select`` (empty for no selection)."""
    return [] if token is None else _registry.lookup(token, "ids").values.to_list()


@method("plot_indices", c.PlotIndicesParams, c.PlotCountResult, buffers_out=True)
def plot_indices(params: dict) -> tuple[Any, list[bytes]]:
    """Point indices of the samples of a spec (highlight a grid filter in the plot)."""
    plot = _plot(params.get("token"))
    query = set_query_from_spec(params.get("spec") or {})
    wanted = sample_store.subquery_ids(get_connection(), query.sample_ids_subquery())
    mask = plot["ids"].is_in(wanted["sample_id"].implode()).to_numpy()
    return {"count": int(mask.sum())}, [np.flatnonzero(mask).astype(np.uint32).tobytes()]


@method("plot_colors", c.PlotColorsParams, c.PlotColorsResult, buffers_out=True)
def plot_colors(params: dict) -> tuple[Any, list[bytes]]:
    """One category per point (Uint8 buffer) and the legend, for colour by tag / label / a
    metadata key. Category 0 is "none"."""
    plot = _plot(params.get("token"))
    by = optional_text(params.get("by"), "by") or ""
    ids = plot["ids"]
    con = get_connection()
    cats = np.zeros(len(ids), dtype=np.uint8)
    order = pl.DataFrame({"sample_id": ids, "i": np.arange(len(ids))})
    if by.startswith("tag:"):
        query = query_from_spec({"dataset_id": plot["dataset_id"], "tags": [by[4:]]})
        tagged = sample_store.subquery_ids(con, query.sample_ids_subquery())
        cats[ids.is_in(tagged["sample_id"].implode()).to_numpy()] = 1
        return {"legend": ["untagged", by[4:]]}, [cats.tobytes()]
    if by == "label":
        ann = annotations_frame(con, plot["dataset_id"])
        # The most frequent label of each sample colours its point.
        top = (
            ann.group_by("sample_id", "label")
            .len()
            .sort(["sample_id", "len", "label"], descending=[False, True, False])
            .unique("sample_id", keep="first")
        )
        legend = sorted(top["label"].unique().to_list())[:254]
        codes = {name: i + 1 for i, name in enumerate(legend)}
        joined = order.join(top, on="sample_id", how="inner")
        cats[joined["i"].to_numpy()] = np.array(
            [codes.get(lb, 255) for lb in joined["label"].to_list()], dtype=np.uint8
        )
        return {"legend": ["no label", *legend]}, [cats.tobytes()]
    if by.startswith("metadata:"):
        values = get_metadata_values(con, plot["dataset_id"], by[9:])
        values = values.with_columns(pl.col("sample_id").cast(pl.Utf8))
        joined = order.join(values, on="sample_id", how="inner")
        v = joined["value"]
        if v.dtype.is_numeric():
            # A ramp of RAMP_STEPS colours from min to max; samples without a finite value
            # stay category 0 ("none").
            arr = v.cast(pl.Float64).to_numpy()
            finite = np.isfinite(arr)
            if not finite.any():
                return {"legend": ["none"], "continuous": True}, [cats.tobytes()]
            lo, hi = float(arr[finite].min()), float(arr[finite].max())
            scaled = np.zeros(finite.sum()) if hi == lo else (arr[finite] - lo) / (hi - lo)
            steps = RAMP_STEPS - 1
            cats[joined["i"].to_numpy()[finite]] = 1 + np.round(scaled * steps).astype(np.uint8)
            return {
                "legend": [
                    "none",
                    *[f"{lo + (hi - lo) * k / steps:.3g}" for k in range(RAMP_STEPS)],
                ],
                "continuous": True,
            }, [cats.tobytes()]
        legend = sorted(str(x) for x in v.unique().to_list())[:254]
        codes = {name: i + 1 for i, name in enumerate(legend)}
        cats[joined["i"].to_numpy()] = np.array(
            [codes.get(str(x), 255) for x in v.to_list()], dtype=np.uint8
        )
        return {"legend": ["none", *legend]}, [cats.tobytes()]
    if by.startswith("evaluation:"):
        return _colors_by_evaluation(con, plot["dataset_id"], by[11:], order, cats)
    if by in ("", "none"):
        return {"legend": ["all"]}, [cats.tobytes()]
    if by == "source":
        return _colors_by_source(con, plot["dataset_id"], order, cats)
    raise QueryError(
        f"Cannot colour by {by!r}; use tag:<name>, label, source, metadata:<key> "
        "or evaluation:<run>."
    )


def _colors_by_source(con, dataset_id: str, order: pl.DataFrame, cats: np.ndarray) -> Result:
    """Colour by annotation source: the sources a sample's annotations come from (one
    category per combination seen, e.g. "ground_truth + model")."""
    ann = annotations_frame(con, dataset_id)
    per_sample = ann.group_by("sample_id").agg(
        pl.col("source").unique().sort().str.join(" + ").alias("sources")
    )
    legend = sorted(per_sample["sources"].unique().to_list())[:254]
    codes = {name: i + 1 for i, name in enumerate(legend)}
    joined = order.join(per_sample, on="sample_id", how="inner")
    cats[joined["i"].to_numpy()] = np.array(
        [codes.get(x, 255) for x in joined["sources"].to_list()], dtype=np.uint8
    )
    return {"legend": ["no annotations", *legend]}, [cats.tobytes()]


# Evaluation status of a sample in a run, from its per-sample counts (evaluation_sample):
# the legend after "not evaluated", and their colours (the grid's TP / FP / FN colours).
EVALUATION_STATUS = ("correct", "false positives", "false negatives", "false pos. + neg.")
EVALUATION_COLORS = ("#8a94a0", "#16a34a", "#dc2626", "#d97706", "#7c3aed")


def _colors_by_evaluation(
    con, dataset_id: str, run_name: str, order: pl.DataFrame, cats: np.ndarray
) -> Result:
    """Colour by a run's outcome per sample: correct (no FP, no FN), false positives only,
    false negatives only, both; samples outside the run are "not evaluated"."""
    run = evaluation_store.find_run(con, dataset_id, run_name)
    if run is None:
        raise QueryError(f"No evaluation run {run_name!r} in this dataset.")
    rows = evaluation_store.sample_metrics(con, str(run["run_id"]))
    status = rows.select(
        "sample_id",
        (
            1
            + (pl.col("fp").fill_null(0) > 0).cast(pl.UInt8)
            + 2 * (pl.col("fn").fill_null(0) > 0).cast(pl.UInt8)
        ).alias("status"),
    )
    joined = order.join(status, on="sample_id", how="inner")
    cats[joined["i"].to_numpy()] = joined["status"].to_numpy().astype(np.uint8)
    return {
        "legend": ["not evaluated", *EVALUATION_STATUS],
        "colors": list(EVALUATION_COLORS),
    }, [cats.tobytes()]


@method("field_choices", c.FieldChoicesParams, c.FieldChoicesResult)
def field_choices(params: dict) -> Result:
    """Tag names and metadata keys with their type: what the plot can be coloured by (numeric
    keys get a colour ramp, the others one colour per value) and the grid sorted by (numeric
    keys). Cheap: no aggregation."""
    dataset = dataset_of(params.get("dataset_id"))
    con = get_connection()
    keys = metadata_keys(con, dataset.dataset_id)
    return {
        "tags": tag_store.tag_names(con, dataset.dataset_id),
        "evaluations": sorted(
            evaluation_store.list_runs(con, dataset.dataset_id)["name"].to_list()
        ),
        "metadata": [
            {"key": k, "type": t, "numeric": t in ("int", "float")}
            for k, t in sorted(keys.items())
            if t in ("int", "float", "str", "bool")
        ],
    }, []
