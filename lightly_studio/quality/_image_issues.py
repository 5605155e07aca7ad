"""Image checks with CleanVision's definitions, stored as sample metadata.

Each check ``<issue>`` stores two metadata keys on every sample it looked at:
``<issue>_score`` (float in [0, 1]; lower is worse, as in CleanVision) and
``is_<issue>_issue`` (bool). CleanVision's column names, so results read the same. An image
that cannot be decoded gets ``is_corrupt_issue = True`` and no scores of the checks that need
its pixels; the other images are checked as usual.

Definitions (CleanVision 0.3.7, ``issue_managers/image_property.py``, default parameters):

- dark: score = 99th percentile of per-pixel brightness
  sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255; issue when score < 0.32.
- light: score = 1 - 5th percentile of that brightness; issue when score < 0.05.
- low_information: score = min(1, 0.1 * entropy of the PIL histogram); issue when < 0.3.
- blurry: on a copy at most 64 px on the long side, in grayscale:
  b = 1 - exp(-0.01 * std(FIND_EDGES without its 1 px border)),
  s = 1 - exp(-0.01 * std(histogram)), s = 0 where s <= 0.30 (CleanVision: 0.18);
  score = min(1, b + s); issue when score < 0.17 (CleanVision: 0.29). Both thresholds are
  CleanVision's recalibrated for the border-free edge statistic (docs/quality.md).
- odd_aspect_ratio: score = min(w/h, h/w); issue when score < 0.35.
- odd_size: size = sqrt(w * h); with q1, q3 its quartiles over the checked images and
  [lo, hi] = [q1 - 3 IQR, q3 + 3 IQR], score = 1 - clip(|size - (lo+hi)/2| / (hi - lo), 0, 1);
  issue when score < 0.5 (when hi == lo: normalised by the midpoint, issue when score < 1).
- grayscale: stored in PIL mode "L"; score 0 when grayscale, else 1.
- exact_duplicates: images with the same decoded pixels; near_duplicates: images whose 64-bit
  perceptual hashes (imagehash.phash, hash size 8) differ in at most
  ``near_duplicate_hamming`` bits (0 by default: CleanVision's equal hashes), or, when
  the dataset has
  embeddings, whose cosine distance is at most ``near_duplicate_distance``; sets equal to an
  exact-duplicate set are left out. Score 1 / (size of the set), 1 outside sets; issue when in
  a set. The set's number is stored as ``<issue>_set`` (int), so a set can be looked up.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.embed import _ann
from lightly_studio.errors import LightlyStudioError
from lightly_studio.quality._image_stats import image_stats, perceptual_hashes
from lightly_studio.store import embeddings as embeddings_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store.metadata import clear_values, set_metadata_values

logger = logging.getLogger("lightly_studio")

IMAGE_ISSUES = (
    "blurry",
    "dark",
    "light",
    "low_information",
    "odd_aspect_ratio",
    "odd_size",
    "grayscale",
    "exact_duplicates",
    "near_duplicates",
)
CORRUPT = "corrupt"
# CleanVision's default thresholds (ImagePropertyIssueManager.get_default_params).
THRESHOLDS = {
    "dark": 0.32,
    "light": 0.05,
    "odd_aspect_ratio": 0.35,
    "low_information": 0.3,
    # CleanVision's is 0.29; see BLURRY_COLOR_THRESHOLD and docs/quality.md for why ours is lower.
    "blurry": 0.17,
}
LOW_INFORMATION_NORMALIZING = 0.1
BLURRY_NORMALIZING = 0.01
# CleanVision's blur threshold (0.29) and colour threshold (0.18) are set for its edge statistic,
# which counts PIL's unfiltered 1 px border as edges. Without the border a blurred copy's edge
# term drops from CleanVision's 0.2-0.4 to 0.05-0.17 while a sharp photo's stays within ~5 %,
# so 0.29 sits among soft-but-untouched photos (5 road signs in the example data). And at 0.18
# the "plain image" term (std of the grey histogram) lifts blurred photos with a large sky or
# road above any threshold: a blur makes the histogram narrower still. Measured on the example
# data (docs/quality.md): 0.17 / 0.30 find every blurred COCO copy, and no untouched image.
BLURRY_COLOR_THRESHOLD = 0.3
ODD_SIZE_IQR_FACTOR = 3.0
# Cosine distance below which two embedded images count as near duplicates.
NEAR_DUPLICATE_DISTANCE = 0.005
# Bits (of 64) in which the perceptual hashes of near duplicates may differ. 0 is
# CleanVision's definition (equal hashes). A 3/4-size copy moves 1-2 bits for some images; in
# the example data distinct images are >= 18 bits apart in COCO but 2-4 in the road-sign set
# (augmented copies of one photo), so a looser radius is the caller's choice.
NEAR_DUPLICATE_HAMMING = 0
_NEEDS_PIXELS = {"blurry", "dark", "light", "low_information", "grayscale", "exact_duplicates"}


def score_key(issue: str) -> str:
    """The metadata key of an issue's score: ``<issue>_score``."""
    return f"{issue}_score"


def flag_key(issue: str) -> str:
    """The metadata key of an issue's flag: ``is_<issue>_issue``."""
    return f"is_{issue}_issue"


def set_key(issue: str) -> str:
    """The metadata key of a duplicate set's number: ``<issue>_set``."""
    return f"{issue}_set"


@dataclass
class _Result:
    score: np.ndarray  # float, NaN where the check did not run on the image
    flag: np.ndarray  # bool
    sets: np.ndarray | None = None  # int set number, -1 outside sets (duplicates only)


def _check_names(checks: Any) -> list[str]:
    if checks is None:
        return list(IMAGE_ISSUES)
    if isinstance(checks, str):
        checks = [checks]
    unknown = [c for c in checks if c not in IMAGE_ISSUES]
    if unknown:
        raise LightlyStudioError(
            f"Unknown image check(s) {unknown}; the checks are {', '.join(IMAGE_ISSUES)}."
        )
    return list(dict.fromkeys(checks))


def _below(score: np.ndarray, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(score, nan=np.inf) < threshold


def odd_size_scores(width: np.ndarray, height: np.ndarray) -> _Result:
    size = np.sqrt(width.astype(np.float64)) * np.sqrt(height.astype(np.float64))
    q1, q3 = np.percentile(size, [25, 75])
    iqr = q3 - q1
    lo, hi = q1 - ODD_SIZE_IQR_FACTOR * iqr, q3 + ODD_SIZE_IQR_FACTOR * iqr
    mid, gap = (lo + hi) / 2, hi - lo
    norm, threshold = (gap, 0.5) if gap > 0 else (mid, 1.0)
    score = 1 - np.clip(np.abs(size - mid) / norm, 0, 1)
    return _Result(score, score < threshold)


def _sets_from_keys(keys: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Set number per image (-1: alone) of the images sharing a key with another."""
    frame = pl.DataFrame({"key": keys, "row": np.arange(len(keys))}).filter(pl.Series(valid))
    grouped = frame.group_by("key").agg(pl.col("row")).filter(pl.col("row").list.len() > 1)
    sets = np.full(len(keys), -1, dtype=np.int64)
    for number, rows in enumerate(sorted(grouped["row"].to_list(), key=min)):
        sets[rows] = number
    return sets


def _union_sets(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of ``pairs`` (int[m, 2]) as set numbers; -1 for singletons."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(pairs) == 0:
        return np.full(n, -1, dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    labels = np.where(sizes[labels] > 1, labels, -1)
    # Number sets by their first image, so numbers do not depend on scipy's labelling.
    out = np.full(n, -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for row in np.nonzero(labels >= 0)[0]:
        out[row] = seen.setdefault(int(labels[row]), len(seen))
    return out


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (np.bitwise_count needs numpy 2)."""
    return np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def hash_pairs(hashes: np.ndarray, valid: np.ndarray, max_bits: int) -> np.ndarray:
    """Pairs (i < j) of valid 64-bit hashes that differ in at most ``max_bits`` bits.

    Pigeonhole: split the hash into ``max_bits + 1`` bit ranges; two hashes within
    ``max_bits`` agree on at least one range. Candidates are the pairs that share a range's
    value (a join per range), then checked on the whole hash: near-linear, not n^2.
    """
    rows = np.nonzero(valid)[0]
    values = hashes[rows].astype(np.uint64)
    parts = max_bits + 1
    bounds = np.linspace(0, 64, parts + 1).astype(int)
    candidates = []
    for lo, hi in itertools.pairwise(bounds):
        mask = np.uint64((1 << (hi - lo)) - 1)
        chunk = pl.DataFrame({"k": (values >> np.uint64(lo)) & mask, "i": np.arange(len(rows))})
        joined = chunk.join(chunk, on="k", suffix="_b").filter(pl.col("i") < pl.col("i_b"))
        candidates.append(joined.select("i", "i_b"))
    pairs = pl.concat(candidates).unique()
    i, j = pairs["i"].to_numpy(), pairs["i_b"].to_numpy()
    close = _popcount(values[i] ^ values[j]) <= max_bits
    return np.stack([rows[i[close]], rows[j[close]]], axis=1).astype(np.int64).reshape(-1, 2)


def embedding_pairs(vectors: np.ndarray, max_distance: float, block: int = 4096) -> np.ndarray:
    """Pairs (i < j) of L2-normalised rows with cosine distance <= max_distance: exact, in
    blocked matrix products, up to the approximate-search size; a range search on a faiss
    index above it (n^2 products stop being affordable there)."""
    n = len(vectors)
    if n >= _ann.ANN_MIN_VECTORS:
        index = _ann.build(vectors, np.arange(n, dtype=np.uint64))
        return index.range_pairs(vectors, 1 - max_distance)
    out = []
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        i, j = np.nonzero(sims >= 1 - max_distance)
        i = i + start
        keep = i < j
        out.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def _duplicate_result(sets: np.ndarray) -> _Result:
    sizes = np.bincount(sets[sets >= 0]) if (sets >= 0).any() else np.zeros(0)
    score = np.ones(len(sets))
    member = sets >= 0
    score[member] = 1.0 / sizes[sets[member]]
    return _Result(score, member, sets)


def _embedding_rows(dataset: Any, sample_ids: list[str], model_name: str | None):
    """(rows into sample_ids, vectors) of the embedded samples, or None without embeddings."""
    con = get_connection()
    models = embeddings_store.model_rows(con, dataset.dataset_id)
    if not models:
        return None
    if model_name is None:
        model = models[-1]
    else:
        found = [m for m in models if m.name == model_name]
        if not found:
            names = ", ".join(repr(m.name) for m in models)
            raise LightlyStudioError(
                f"No embeddings of model {model_name!r} in this dataset (models: {names})."
            )
        model = found[0]
    matrix = embeddings_store.load_matrix(con, dataset.dataset_id, model)
    index = pl.DataFrame({"sample_id": sample_ids, "row": np.arange(len(sample_ids))})
    stored = pl.DataFrame({"sample_id": matrix.ids, "vrow": np.arange(len(matrix.ids))})
    joined = index.join(stored, on="sample_id", how="inner")
    return joined["row"].to_numpy(), matrix.vectors[joined["vrow"].to_numpy()]


def compute_image_issues(
    dataset: Any,
    checks: Any = None,
    query: Any = None,
    embedding_model_name: str | None = None,
    near_duplicate_distance: float = NEAR_DUPLICATE_DISTANCE,
    near_duplicate_hamming: int = NEAR_DUPLICATE_HAMMING,
    workers: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> pl.DataFrame:
    """Run the image checks on the dataset's images (or those of ``query``), store each
    check's score and flag as metadata, and return what was flagged: a frame with columns
    sample_id, issue, score (one row per flagged image and issue; ``corrupt`` for images that
    could not be decoded). ``engine="ray"`` reads the images on a Ray cluster (docs/scaling.md)."""
    names = _check_names(checks)
    con = get_connection()
    if query is None:
        rows = samples_store.dataset_sample_sizes(con, dataset.dataset_id, ["image"])
    else:
        rows = samples_store.export_rows(con, query.sample_ids_subquery())
    empty = pl.DataFrame(schema={"sample_id": pl.Utf8, "issue": pl.Utf8, "score": pl.Float64})
    if rows.height == 0:
        return empty
    sample_ids = rows["sample_id"].to_list()
    width, height = rows["width"].to_numpy(), rows["height"].to_numpy()
    need_pixels = bool(_NEEDS_PIXELS & set(names)) or "near_duplicates" in names
    n = rows.height
    results: dict[str, _Result] = {}
    error: list[str | None] = [None] * n
    if need_pixels:
        stats = image_stats(
            rows["file_path_abs"].to_list(), workers=workers, engine=engine, ray_address=ray_address
        )
        error = stats.error
        decoded = np.array([e is None for e in error])
        if "dark" in names:
            score = stats.brightness_perc_99
            results["dark"] = _Result(score, _below(score, THRESHOLDS["dark"]))
        if "light" in names:
            score = 1 - stats.brightness_perc_5
            results["light"] = _Result(score, _below(score, THRESHOLDS["light"]))
        if "low_information" in names:
            score = np.minimum(LOW_INFORMATION_NORMALIZING * stats.entropy, 1)
            results["low_information"] = _Result(
                score, _below(score, THRESHOLDS["low_information"])
            )
        if "blurry" in names:
            blur = 1 - np.exp(-stats.blurriness * BLURRY_NORMALIZING)
            std = 1 - np.exp(-stats.blurriness_grayscale_std * BLURRY_NORMALIZING)
            std[std <= BLURRY_COLOR_THRESHOLD] = 0
            score = np.minimum(blur + std, 1)
            results["blurry"] = _Result(score, _below(score, THRESHOLDS["blurry"]))
        if "grayscale" in names:
            score = np.where(decoded, np.where(stats.is_grayscale_mode, 0.0, 1.0), np.nan)
            results["grayscale"] = _Result(score, stats.is_grayscale_mode & decoded)
        exact = _sets_from_keys(stats.pixel_hash, decoded)
        if "exact_duplicates" in names:
            results["exact_duplicates"] = _duplicate_result(exact)
            results["exact_duplicates"].score[~decoded] = np.nan
        if "near_duplicates" in names:
            phash = perceptual_hashes(stats.phash_image)
            pairs = [hash_pairs(phash, decoded, near_duplicate_hamming)]
            embedded = _embedding_rows(dataset, sample_ids, embedding_model_name)
            if embedded is None:
                message = (
                    "near_duplicates: the dataset has no embeddings, so near duplicates come "
                    "from the perceptual hash alone; run dataset.compute_embeddings() to also "
                    "find them by embedding distance."
                )
                logger.warning(message)
                warnings.warn(message, stacklevel=3)
            else:
                rows_of, vectors = embedded
                found = embedding_pairs(vectors, near_duplicate_distance)
                pairs.append(rows_of[found].reshape(-1, 2))
            near = _union_sets(n, np.concatenate(pairs))
            near = _drop_exact_sets(near, exact)
            results["near_duplicates"] = _duplicate_result(near)
            results["near_duplicates"].score[~decoded] = np.nan
    if "odd_aspect_ratio" in names:
        score = np.minimum(width / height, height / width).astype(np.float64)
        results["odd_aspect_ratio"] = _Result(score, score < THRESHOLDS["odd_aspect_ratio"])
    if "odd_size" in names:
        results["odd_size"] = odd_size_scores(width, height)
    return _store_and_report(dataset, sample_ids, names, results, error, need_pixels)


def _drop_exact_sets(near: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """CleanVision leaves out near-duplicate sets that are exactly an exact-duplicate set."""
    out = near.copy()
    for number in np.unique(near[near >= 0]):
        members = near == number
        exact_numbers = np.unique(exact[members])
        if (
            len(exact_numbers) == 1
            and exact_numbers[0] >= 0
            and np.array_equal(exact == exact_numbers[0], members)
        ):
            out[members] = -1
    return out


def _store_and_report(
    dataset: Any,
    sample_ids: list[str],
    names: list[str],
    results: dict[str, _Result],
    error: list[str | None],
    decoded_pixels: bool,
) -> pl.DataFrame:
    ids = pl.Series("sample_id", sample_ids, dtype=pl.Utf8)
    corrupt = np.array([e is not None for e in error])
    report = []
    with transaction() as tx:
        for issue in names:
            result = results[issue]
            checked = ~np.isnan(result.score)
            frame = pl.DataFrame({"sample_id": ids, "score": result.score, "flag": result.flag})
            frame = frame.filter(pl.Series(checked))
            set_metadata_values(
                tx, dataset.dataset_id, score_key(issue), frame.select("sample_id", value="score")
            )
            set_metadata_values(
                tx, dataset.dataset_id, flag_key(issue), frame.select("sample_id", value="flag")
            )
            if result.sets is not None:
                sets = pl.DataFrame({"sample_id": ids, "value": result.sets}).filter(
                    pl.Series(checked & (result.sets >= 0))
                )
                # Forget old set numbers of the re-checked images: a rerun may dissolve a set.
                clear_values(tx, dataset.dataset_id, set_key(issue), ids.filter(pl.Series(checked)))
                set_metadata_values(tx, dataset.dataset_id, set_key(issue), sets)
            report.append(
                frame.filter(pl.col("flag")).select(
                    "sample_id", pl.lit(issue).alias("issue"), "score"
                )
            )
        if decoded_pixels:
            flags = pl.DataFrame({"sample_id": ids, "value": corrupt})
            set_metadata_values(tx, dataset.dataset_id, flag_key(CORRUPT), flags)
        for i in np.nonzero(corrupt)[0]:
            logger.warning("Image %s could not be decoded: %s", sample_ids[i], error[i])
    report.append(
        pl.DataFrame(
            {
                "sample_id": ids.filter(pl.Series(corrupt)),
                "issue": CORRUPT,
                "score": np.zeros(int(corrupt.sum())),
            },
            schema={"sample_id": pl.Utf8, "issue": pl.Utf8, "score": pl.Float64},
        )
    )
    return pl.concat(report, how="vertical_relaxed")
