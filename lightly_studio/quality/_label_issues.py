"""Label issues: cleanlab on class probabilities or detections, plus geometric box and mask
checks that need no model. Scores land per annotation in ``annotation_issue_score`` (store/
issues.py) and, summed per sample, as sample metadata ``label_issue_count``.

Issues (score in [0, 1], lower is worse):

- ``wrong_label`` (classification): cleanlab.rank.get_label_quality_scores (self-confidence)
  of the given label; flagged by cleanlab.filter.find_label_issues. Class probabilities come
  from the predictions of ``pred_annotation_source`` (its confidences, spread over the other
  classes where a sample has fewer predictions than classes), or, without predictions, from
  a logistic regression on the stored embeddings, cross-validated (5 folds) so every
  probability is out of sample.
- ``bad_location``, ``swapped_label`` (given boxes) and ``overlooked`` (predicted boxes that
  no given box matches): cleanlab.object_detection.rank's per-box scores, flagged at
  score <= BOX_ISSUE_THRESHOLD (0.5). cleanlab's own rule (score <= 0.8 x the class's AP)
  flagged 42 of 101 planted errors on the example set, where the AP is low; 0.5 finds 99 of
  101 and flags 23 of 799 untouched boxes (tests/quality/test_label_issues.py).
- ``box_outside_image``, ``tiny_box`` (sqrt(area) < 4 px), ``duplicate_box`` (IoU >= 0.9
  with a box of the same label on the same image): SQL over the stored boxes.
- ``empty_mask`` (a mask with no foreground), ``mask_outside_box`` (share of the mask's
  bounding box inside the annotation's box, grown by 1 px; flagged below 0.9).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import polars as pl

from lightly_studio import embed
from lightly_studio.db import get_connection, transaction
from lightly_studio.errors import LightlyStudioError
from lightly_studio.shapes import rle
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import embeddings as embeddings_store
from lightly_studio.store import issues as issues_store
from lightly_studio.store.metadata import set_metadata_values

# A box whose cleanlab score is at most this is flagged (see the module docstring).
BOX_ISSUE_THRESHOLD = 0.5

logger = logging.getLogger("lightly_studio")

TINY_BOX_PX = 4.0
DUPLICATE_BOX_IOU = 0.9
MASK_INSIDE_BOX = 0.9
CV_FOLDS = 5
LABEL_ISSUE_COUNT = "label_issue_count"
LABEL_QUALITY_SCORE = "label_quality_score"
GEOMETRY_ISSUES = ["box_outside_image", "tiny_box", "duplicate_box"]
MASK_ISSUES = ["empty_mask", "mask_outside_box"]
DETECTION_ISSUES = ["bad_location", "swapped_label", "overlooked"]


def _cleanlab() -> Any:
    try:
        import cleanlab  # heavy: loaded only when label issues run
    except ImportError as exc:
        raise LightlyStudioError(
            "Label issues need cleanlab: pip install 'lightly-studio[quality]'."
        ) from exc
    return cleanlab


def compute_label_issues(
    dataset: Any,
    annotation_source: str = "ground_truth",
    pred_annotation_source: str | None = None,
    embedding_model_name: str | None = None,
) -> pl.DataFrame:
    """Score the annotations of ``annotation_source`` for label issues and store the scores.

    Returns every stored score of this run (annotation_id, sample_id, file_name, label,
    annotation_type, source, issue, score, is_issue), worst first.
    """
    con = get_connection()
    given = annotations_store.annotations_frame(con, dataset.dataset_id, source=annotation_source)
    if given.height == 0:
        raise LightlyStudioError(
            f"Dataset {dataset.name!r} has no annotations of source {annotation_source!r}."
        )
    predicted = None
    if pred_annotation_source is not None:
        predicted = annotations_store.annotations_frame(
            con, dataset.dataset_id, source=pred_annotation_source
        )
        if predicted.height == 0:
            raise LightlyStudioError(
                f"Dataset {dataset.name!r} has no annotations of source "
                f"{pred_annotation_source!r} (the predictions)."
            )
    parts: list[pl.DataFrame] = []
    per_sample: list[pl.DataFrame] = []
    issues: list[str] = []
    classified = given.filter(pl.col("annotation_type") == "classification")
    boxed = given.filter(pl.col("annotation_type") != "classification")
    if classified.height and boxed.height and not _has_class_probabilities(dataset, predicted):
        # wrong_label needs class probabilities; the box and mask checks need none: say so and
        # run those rather than failing them all (a classification-only dataset still raises).
        message = (
            "wrong_label: skipped, it needs class probabilities: pass pred_annotation_source= "
            "(predicted classifications) or run dataset.compute_embeddings() first. The box "
            "and mask checks ran."
        )
        logger.warning(message)
        warnings.warn(message, stacklevel=3)
        classified = classified.clear()
    if classified.height:
        scores, quality = _classification_scores(
            dataset, classified, predicted, embedding_model_name
        )
        parts.append(scores)
        per_sample.append(quality)
        issues.append("wrong_label")
    if boxed.height:
        parts.append(
            issues_store.box_geometry_scores(
                con, dataset.dataset_id, annotation_source, TINY_BOX_PX, DUPLICATE_BOX_IOU
            )
        )
        issues += GEOMETRY_ISSUES
        masked = boxed.filter(pl.col("segmentation_mask").is_not_null())
        if masked.height:
            parts.append(_mask_scores(con, dataset, masked))
            issues += MASK_ISSUES
        if predicted is not None:
            pred_boxes = predicted.filter(pl.col("annotation_type") != "classification")
            if pred_boxes.height:
                scores, quality = _detection_scores(con, dataset, boxed, pred_boxes)
                parts.append(scores)
                per_sample.append(quality)
                issues += DETECTION_ISSUES
    frame = (
        pl.concat([p.select(list(issues_store.ISSUE_SCORE_SCHEMA)) for p in parts])
        if parts
        else pl.DataFrame(schema=issues_store.ISSUE_SCORE_SCHEMA)
    )
    counts = (
        frame.join(
            pl.concat([given, predicted]) if predicted is not None else given,
            on="annotation_id",
        )
        .group_by("sample_id")
        .agg(pl.col("is_issue").sum().cast(pl.Int64).alias("value"))
    )
    annotated = given.select(pl.col("sample_id").unique())
    counts = annotated.join(counts, on="sample_id", how="left").with_columns(
        pl.col("value").fill_null(0)
    )
    with transaction() as tx:
        issues_store.replace_annotation_issue_scores(tx, dataset.dataset_id, issues, frame)
        set_metadata_values(tx, dataset.dataset_id, LABEL_ISSUE_COUNT, counts)
        if per_sample:
            quality = pl.concat(per_sample).group_by("sample_id").agg(pl.col("value").min())
            set_metadata_values(tx, dataset.dataset_id, LABEL_QUALITY_SCORE, quality)
    found = issues_store.annotation_issue_scores(con, dataset.dataset_id)
    return found.filter(pl.col("issue").is_in(issues))


def _has_class_probabilities(dataset: Any, predicted: pl.DataFrame | None) -> bool:
    """Whether wrong_label can run: predicted classifications, or embeddings to train a
    cross-validated classifier on."""
    if predicted is not None and (predicted["annotation_type"] == "classification").any():
        return True
    return bool(embeddings_store.model_rows(get_connection(), dataset.dataset_id))


# -- classification -----------------------------------------------------------------------------


def _classification_scores(
    dataset: Any,
    classified: pl.DataFrame,
    predicted: pl.DataFrame | None,
    embedding_model_name: str | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    _cleanlab()
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    pred_cls = (
        predicted.filter(pl.col("annotation_type") == "classification")
        if predicted is not None
        else None
    )
    names = set(classified["label"].to_list())
    if pred_cls is not None and pred_cls.height:
        names |= set(pred_cls["label"].to_list())
    classes = sorted(names)
    index = {name: i for i, name in enumerate(classes)}
    labels = classified["label"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    sample_ids = classified["sample_id"].to_list()
    if pred_cls is not None and pred_cls.height:
        probs = _probabilities_from_predictions(sample_ids, pred_cls, index)
    else:
        probs = _cross_validated_probabilities(
            dataset, sample_ids, labels, len(classes), embedding_model_name
        )
    scores = get_label_quality_scores(labels, probs)
    # n_jobs=1: cleanlab's default forks a multiprocessing pool. A fork of this process copies
    # its DuckDB connection, server threads and open pipes, and a worker left behind keeps
    # those pipes open (it hung our test run at exit, holding the browser driver's stdin).
    flagged = find_label_issues(labels, probs, n_jobs=1)
    frame = pl.DataFrame(
        {
            "annotation_id": classified["annotation_id"],
            "issue": "wrong_label",
            "score": scores.astype(np.float64),
            "is_issue": flagged.astype(bool),
        }
    )
    quality = pl.DataFrame({"sample_id": sample_ids, "value": scores.astype(np.float64)})
    return frame, quality


def _probabilities_from_predictions(
    sample_ids: list[str], predicted: pl.DataFrame, index: dict[str, int]
) -> np.ndarray:
    """Rows of class probabilities per sample from its prediction annotations: each
    prediction's confidence (1 when it has none) in its class's column; what remains of 1 is
    spread evenly over the classes the sample has no prediction of."""
    k = len(index)
    row_of = {sid: i for i, sid in enumerate(dict.fromkeys(sample_ids))}
    probs = np.zeros((len(row_of), k))
    known = predicted.filter(pl.col("sample_id").is_in(list(row_of)))
    rows = np.array([row_of[s] for s in known["sample_id"].to_list()], dtype=np.int64)
    cols = known["label"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    conf = known["confidence"].fill_null(1.0).to_numpy()
    np.maximum.at(probs, (rows, cols), conf)
    total = probs.sum(axis=1, keepdims=True)
    over = total[:, 0] > 1
    probs[over] /= total[over]
    rest = np.clip(1 - probs.sum(axis=1), 0, None)
    empty = probs == 0
    spread = np.where(empty.any(axis=1), rest / np.maximum(empty.sum(axis=1), 1), 0)
    probs = np.where(empty, spread[:, None], probs)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs[[row_of[s] for s in sample_ids]]


def _cross_validated_probabilities(
    dataset: Any, sample_ids: list[str], labels: np.ndarray, k: int, model_name: str | None
) -> np.ndarray:
    con = get_connection()
    if not embeddings_store.model_rows(con, dataset.dataset_id):
        raise LightlyStudioError(
            "Label issues of classifications need class probabilities: pass "
            "pred_annotation_source= (a source of predictions), or compute embeddings first "
            "(dataset.compute_embeddings()) so a cross-validated classifier can provide them."
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    unique_ids = list(dict.fromkeys(sample_ids))
    ids, vectors = embed.get_embeddings(dataset, unique_ids, model_name=model_name)
    row_of = {str(s): i for i, s in enumerate(ids)}
    missing = [s for s in sample_ids if s not in row_of]
    if missing:
        raise LightlyStudioError(
            f"{len(missing)} classified samples have no embedding (e.g. {missing[0]}); run "
            "dataset.compute_embeddings() first."
        )
    x = vectors[[row_of[s] for s in sample_ids]]
    counts = np.bincount(labels)
    folds = int(min(CV_FOLDS, max(2, counts[counts > 0].min())))
    if (counts[counts > 0] < CV_FOLDS).any():
        logger.warning(
            "Some classes have fewer than %d labelled samples; their probabilities are rough.",
            CV_FOLDS,
        )
    probs = np.zeros((len(labels), k))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    present = np.unique(labels)
    fitted = cross_val_predict(
        # Standardised (unit vectors have tiny coordinates), weakly regularised: cleanlab
        # thresholds each class at its mean self-confidence, so soft probabilities hide
        # label errors (planted swaps found: C=0.1 7/10, C=1 9/10, C=10 10/10; the
        # probabilities are out of fold, so a sharper fit does not see its own labels).
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=10.0)),
        x,
        labels,
        cv=splitter,
        method="predict_proba",
    )
    probs[:, present] = fitted
    # Classes that only predictions know get a tiny share, so each row sums to 1.
    probs = np.clip(probs, 1e-6, None)
    return probs / probs.sum(axis=1, keepdims=True)


# -- detection ----------------------------------------------------------------------------------


def _xyxy(frame: pl.DataFrame) -> np.ndarray:
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    return np.stack([x, y, x + frame["width"].to_numpy(), y + frame["height"].to_numpy()], 1)


def _detection_scores(
    con, dataset: Any, boxed: pl.DataFrame, predicted: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    _cleanlab()
    from cleanlab.object_detection import rank as od_rank

    classes = sorted(set(boxed["label"].to_list()) | set(predicted["label"].to_list()))
    index = {name: i for i, name in enumerate(classes)}
    samples = sorted(set(boxed["sample_id"].to_list()) | set(predicted["sample_id"].to_list()))
    number = {sid: n for n, sid in enumerate(samples)}

    def by_sample(frame: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
        """The frame sorted by sample (stable), and each sample's row range in it: one sort
        instead of a polars frame per sample (those cost more than cleanlab's scoring)."""
        frame = frame.with_columns(
            pl.col("sample_id").replace_strict(number, return_dtype=pl.Int64).alias("_sample"),
            pl.col("label").replace_strict(index, return_dtype=pl.Int64).alias("_class"),
        ).sort("_sample", maintain_order=True)
        bounds = np.searchsorted(frame["_sample"].to_numpy(), np.arange(len(samples) + 1))
        return frame, bounds

    given, given_at = by_sample(boxed)
    pred, pred_at = by_sample(predicted.with_columns(pl.col("confidence").fill_null(1.0)))
    given_boxes = _xyxy(given).reshape(-1, 4).astype(np.float32)
    given_classes = given["_class"].to_numpy().astype(np.int64)
    given_all_ids = given["annotation_id"].to_list()
    pred_boxes = np.concatenate(
        [_xyxy(pred).reshape(-1, 4), pred["confidence"].to_numpy().reshape(-1, 1)], 1
    ).astype(np.float32)
    pred_classes = pred["_class"].to_numpy()
    pred_all_ids = np.asarray(pred["annotation_id"].to_list(), dtype=object)
    labels: list[dict[str, Any]] = []
    predictions: list[list[np.ndarray]] = []
    given_ids: list[list[str]] = []
    pred_ids: list[list[str]] = []
    class_bounds = np.arange(1, len(classes))
    for n in range(len(samples)):
        g = slice(given_at[n], given_at[n + 1])
        p = slice(pred_at[n], pred_at[n + 1])
        labels.append({"bboxes": given_boxes[g], "labels": given_classes[g]})
        cls = pred_classes[p]
        # cleanlab takes one array per class and scores predicted boxes class by class: one
        # stable sort by class gives both (80 boolean masks per image cost 2x the sort).
        order = np.argsort(cls, kind="stable")
        predictions.append(
            np.split(pred_boxes[p][order], np.searchsorted(cls[order], class_bounds))
        )
        given_ids.append(given_all_ids[g])
        pred_ids.append(pred_all_ids[p][order].tolist())
    # cleanlab's scoring functions each rebuild the label x prediction IoU and distance
    # matrices box pair by box pair in Python (and get_label_quality_scores all three again):
    # 85 % of the time at 10,000 boxes. They are built once here, vectorised, and handed to
    # cleanlab's public per-box functions as their auxiliary inputs.
    auxiliary = _auxiliary_inputs(od_rank, labels, predictions)
    per_box = {
        "bad_location": od_rank.compute_badloc_box_scores(auxiliary_inputs=auxiliary),
        "swapped_label": _swap_box_scores(od_rank, auxiliary),
        "overlooked": _overlooked_box_scores(od_rank, auxiliary),
    }
    ids_of = {"bad_location": given_ids, "swapped_label": given_ids, "overlooked": pred_ids}
    rows: list[tuple] = []
    for issue, per_image in per_box.items():
        ids_per_image = ids_of[issue]
        for n, scores in enumerate(per_image):
            ids = ids_per_image[n]
            if len(ids) == 0 or len(scores) == 0:
                continue
            scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=1.0)
            if len(scores) != len(ids):
                logger.warning(
                    "cleanlab scored %d of %d boxes of one image; skipped.", len(scores), len(ids)
                )
                continue
            flags = scores <= BOX_ISSUE_THRESHOLD
            rows.extend(zip(ids, [issue] * len(ids), scores.tolist(), flags.tolist(), strict=True))
    frame = pl.DataFrame(rows, schema=issues_store.ISSUE_SCORE_SCHEMA, orient="row")
    image_scores = _image_quality_scores(od_rank, per_box)
    quality = pl.DataFrame({"sample_id": samples, "value": np.asarray(image_scores, np.float64)})
    return frame, quality


def _auxiliary_inputs(od_rank: Any, labels: list[dict], predictions: list[list[np.ndarray]]):
    """cleanlab.object_detection.rank's per-image auxiliary inputs (_get_valid_inputs_for_
    compute_scores with its default alpha), with the IoU and centre-distance matrices computed
    as arrays instead of per box pair; the same values to float rounding."""
    alpha = od_rank.ALPHA
    per_image = []
    min_similarity = 1.0
    for label, prediction in zip(labels, predictions, strict=True):
        lab_boxes, lab_labels = label["bboxes"], label["labels"]
        pred_boxes, pred_labels, pred_probs = od_rank._separate_prediction(prediction)
        a = np.asarray(lab_boxes, dtype=np.float64).reshape(-1, 4)[:, None, :]
        b = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)[None, :, :]
        iou = _iou_matrix(od_rank, lab_boxes, pred_boxes)
        centre_a = (a[..., :2] + a[..., 2:]) / 2
        centre_b = (b[..., :2] + b[..., 2:]) / 2
        closeness = np.exp(-np.linalg.norm(centre_a - centre_b, axis=-1) * od_rank.EUC_FACTOR)
        # cleanlab stores 1 - closeness and takes it back: far-apart pairs round to (near) 0,
        # which sets the dataset's smallest non-zero similarity below.
        closeness = 1 - (1 - closeness)
        similarity = iou * alpha + (1 - alpha) * closeness
        nonzero = similarity[similarity != 0]
        if nonzero.size:
            min_similarity = min(min_similarity, float(nonzero.min()))
        per_image.append(
            {
                "pred_labels": pred_labels,
                "pred_label_probs": pred_probs,
                "pred_bboxes": pred_boxes,
                "lab_labels": lab_labels,
                "lab_bboxes": lab_boxes,
                "similarity_matrix": similarity,
                "iou_matrix": iou,
            }
        )
    # cleanlab takes the smallest non-zero similarity over the whole dataset.
    for entry in per_image:
        entry["min_possible_similarity"] = min_similarity
    return per_image


def _iou_matrix(od_rank: Any, boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of every pair of xyxy boxes, as cleanlab's _get_overlap_matrix computes it."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)[None, :, :]
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.where((width < 0) | (height < 0), 0.0, width * height)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area_a + area_b - inter, od_rank.EPSILON)


def _swap_box_scores(od_rank: Any, auxiliary: list[dict]) -> list[np.ndarray]:
    """cleanlab.object_detection.rank.compute_swap_box_scores (default parameters, overlapping
    label check on). cleanlab's version recomputes the IoU matrix per image and compares the
    given boxes pair by pair in Python; this is its per-box rule on the precomputed arrays."""
    high = od_rank.HIGH_PROBABILITY_THRESHOLD
    out = []
    for entry in auxiliary:
        lab_labels = np.asarray(entry["lab_labels"])
        pred_labels = np.asarray(entry["pred_labels"])
        probs = np.asarray(entry["pred_label_probs"])
        similarity = entry["similarity_matrix"]
        floor = entry["min_possible_similarity"]
        # A given box that overlaps (IoU >= 0.95) a given box of another class scores lowest.
        own = _iou_matrix(od_rank, entry["lab_bboxes"], entry["lab_bboxes"])
        np.fill_diagonal(own, 0)
        other_class = lab_labels[:, None] != lab_labels[None, :]
        overlapping = ((own >= od_rank.LABEL_OVERLAP_THRESHOLD) & other_class).any(axis=1)
        scores = np.empty(len(lab_labels))
        for row, label in enumerate(lab_labels):
            confident_other = (pred_labels != label) & (probs > high)
            if overlapping[row]:
                scores[row] = floor
            elif not confident_other.any():
                scores[row] = 1.0
            else:
                closest = similarity[row, confident_other].max()
                scores[row] = max(floor, 1 - closest)
        out.append(scores)
    return out


def _overlooked_box_scores(od_rank: Any, auxiliary: list[dict]) -> list[np.ndarray]:
    """cleanlab.object_detection.rank.compute_overlooked_box_scores (default parameters) as
    array operations per image: cleanlab's version recomputes the IoU matrix in Python."""
    out = []
    for entry in auxiliary:
        lab_labels = np.asarray(entry["lab_labels"])
        pred_labels = np.asarray(entry["pred_labels"])
        probs = np.asarray(entry["pred_label_probs"], dtype=np.float64)
        similarity = entry["similarity_matrix"].reshape(len(lab_labels), len(pred_labels))
        same_class = lab_labels[:, None] == pred_labels[None, :]
        # The most similar given box of the predicted class; without one, a floor that
        # shrinks with the prediction's confidence.
        best = np.where(same_class, similarity, -np.inf).max(axis=0, initial=-np.inf)
        scores = np.where(
            same_class.any(axis=0), best, entry["min_possible_similarity"] * (1 - probs)
        )
        # Only confident predictions that overlap no given box can be overlooked objects.
        overlapping = (entry["iou_matrix"].reshape(similarity.shape) > 0).any(axis=0)
        scores[(probs < od_rank.HIGH_PROBABILITY_THRESHOLD) | overlapping] = np.nan
        out.append(scores)
    return out


def _image_quality_scores(od_rank: Any, per_box: dict[str, list[np.ndarray]]) -> np.ndarray:
    """cleanlab.object_detection.rank.get_label_quality_scores from the per-box scores: each
    subtype pooled per image (softmin), then the weighted geometric mean cleanlab uses."""
    weights = {
        "overlooked": od_rank.CUSTOM_SCORE_WEIGHT_OVERLOOKED,
        "bad_location": od_rank.CUSTOM_SCORE_WEIGHT_BADLOC,
        "swapped_label": od_rank.CUSTOM_SCORE_WEIGHT_SWAP,
    }
    total = sum(
        weight * np.log(od_rank.TINY_VALUE + od_rank.pool_box_scores_per_image(per_box[issue]))
        for issue, weight in weights.items()
    )
    return np.exp(total)


# -- masks --------------------------------------------------------------------------------------


def _mask_scores(con, dataset: Any, masked: pl.DataFrame) -> pl.DataFrame:
    from lightly_studio.store.samples import sample_sizes

    sizes = sample_sizes(con, dataset.dataset_id, masked["sample_id"].unique().to_list())
    widths = dict(zip(sizes["sample_id"], sizes["img_width"], strict=True))
    rows = []
    for ann_id, sid, runs, x, y, w, h in masked.select(
        "annotation_id", "sample_id", "segmentation_mask", "x", "y", "width", "height"
    ).iter_rows():
        box = rle.bbox_from_rle(runs, widths[sid])
        if box is None:
            rows.append((ann_id, "empty_mask", 0.0, True))
            rows.append((ann_id, "mask_outside_box", 1.0, False))
            continue
        rows.append((ann_id, "empty_mask", 1.0, False))
        mx, my, mw, mh = box
        if x is None:
            continue
        ix = max(0.0, min(mx + mw, x + w + 1) - max(mx, x - 1))
        iy = max(0.0, min(my + mh, y + h + 1) - max(my, y - 1))
        inside = ix * iy / (mw * mh)
        rows.append((ann_id, "mask_outside_box", inside, inside < MASK_INSIDE_BOX))
    return pl.DataFrame(rows, schema=issues_store.ISSUE_SCORE_SCHEMA, orient="row")


def annotation_issues(dataset: Any, issue: str | None = None, flagged_only: bool = False):
    """The stored label-issue scores of the dataset's annotations, worst first."""
    return issues_store.annotation_issue_scores(
        get_connection(), dataset.dataset_id, issue=issue, flagged_only=flagged_only
    )
