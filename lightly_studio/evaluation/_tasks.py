"""The four evaluation tasks: from annotation frames to run metrics, per-sample rows and
per-annotation match rows (``store.evaluations.SAMPLE_SCHEMA`` / ``MATCH_SCHEMA``).

Inputs are frames as ``store.annotations.annotations_frame`` returns them, plus ``samples``
(sample_id, width, height) in evaluation order. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.errors import EvaluationError
from lightly_studio.evaluation import _coco
from lightly_studio.store.evaluations import MATCH_SCHEMA, SAMPLE_SCHEMA


@dataclass
class TaskResult:
    metrics: dict[str, Any]
    samples: pl.DataFrame
    matches: pl.DataFrame


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r else 0.0


def _per_sample_counts(samples: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """tp/fp/fn and their ratios per sample from match rows (a mismatch is an FP and an FN)."""
    o = pl.col("outcome")
    counts = matches.group_by("sample_id").agg(
        (o == "tp").sum().alias("tp"),
        o.is_in(["fp", "mismatch"]).sum().alias("fp"),
        o.is_in(["fn", "mismatch"]).sum().alias("fn"),
    )
    frame = samples.select("sample_id").join(counts, on="sample_id", how="left")
    frame = frame.with_columns(pl.col("tp", "fp", "fn").fill_null(0))
    tp, fp, fn = pl.col("tp"), pl.col("fp"), pl.col("fn")
    return frame.with_columns(
        pl.when(tp + fp > 0).then(tp / (tp + fp)).alias("precision"),
        pl.when(tp + fn > 0).then(tp / (tp + fn)).alias("recall"),
        pl.lit(None, dtype=pl.Float64).alias("miou"),
        pl.when(tp + fp + fn > 0)
        .then((fp + fn) / (tp + fp + fn))
        .otherwise(0.0)
        .alias("disagreement"),
    )


def _class_counts(matches: pl.DataFrame) -> dict[str, dict[str, int]]:
    o = pl.col("outcome")
    gt = (
        matches.filter(o.is_in(["tp", "fn", "mismatch"]))
        .group_by(label="gt_label")
        .agg((o == "tp").sum().alias("tp"), o.is_in(["fn", "mismatch"]).sum().alias("fn"))
    )
    pred = (
        matches.filter(o.is_in(["fp", "mismatch"]))
        .group_by(label="pred_label")
        .agg(pl.len().alias("fp"))
    )
    out: dict[str, dict[str, int]] = {}
    for row in gt.iter_rows(named=True):
        out.setdefault(row["label"], {"tp": 0, "fp": 0, "fn": 0}).update(tp=row["tp"], fn=row["fn"])
    for row in pred.iter_rows(named=True):
        out.setdefault(row["label"], {"tp": 0, "fp": 0, "fn": 0})["fp"] = row["fp"]
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": _f1(p, r)}


# --- masks ---------------------------------------------------------------------------------------


def _coco_rles(runs: list, width: int, height: int) -> list:
    """Our row-wise RLEs as pycocotools RLE objects of the *transposed* image: a row-wise
    run-length encoding of an H x W mask is exactly COCO's column-major encoding of the W x H
    transpose, and IoU and area do not change under transposing both masks. No decoding."""
    from pycocotools import mask as mask_utils  # lazy: not needed for boxes

    return mask_utils.frPyObjects(
        [{"size": [int(width), int(height)], "counts": list(r)} for r in runs],
        int(width),
        int(height),
    )


def check_masks(frame: pl.DataFrame, samples: pl.DataFrame, side: str) -> pl.DataFrame:
    """Rows with their mask's pixel count (``area``); EvaluationError for a missing mask or one
    whose runs do not cover its image."""
    sizes = samples.select("sample_id", img_w="width", img_h="height")
    frame = frame.join(sizes, on="sample_id", maintain_order="left")
    total = pl.col("segmentation_mask").list.sum()
    bad = frame.filter(
        pl.col("segmentation_mask").is_null() | (total != pl.col("img_w") * pl.col("img_h"))
    )
    if bad.height:
        row = bad.row(0, named=True)
        covered = sum(row["segmentation_mask"] or [])
        raise EvaluationError(
            f"{side} annotation {row['annotation_id']} on sample {row['sample_id']}: its mask "
            f"covers {covered} pixels, the image has {row['img_w']} x {row['img_h']} = "
            f"{row['img_w'] * row['img_h']}; masks must be of the image's size."
        )
    return frame.drop("img_w", "img_h").with_columns(
        pl.col("segmentation_mask").list.gather_every(2, offset=1).list.sum().alias("area")
    )


# --- object detection and instance segmentation ----------------------------------------------


def evaluate_objects(
    samples: pl.DataFrame,
    gt: pl.DataFrame,
    pred: pl.DataFrame,
    iou_threshold: float,
    classwise: bool,
    masks: bool,
) -> TaskResult:
    """COCO metrics (always per class, as COCOeval) and the run's matches at
    ``iou_threshold`` (per class when ``classwise``, else across classes)."""
    index = samples.select("sample_id").with_row_index("image")
    if masks:
        gt, pred = (
            check_masks(gt, samples, "ground truth"),
            check_masks(pred, samples, "prediction"),
        )
    else:
        gt = gt.with_columns((pl.col("width") * pl.col("height")).alias("area"))
        pred = pred.with_columns((pl.col("width") * pl.col("height")).alias("area"))
    gt = gt.join(index, on="sample_id", maintain_order="left")
    pred = pred.join(index, on="sample_id", maintain_order="left")
    classes = sorted(set(gt["label"].to_list()) | set(pred["label"].to_list()))
    class_of = {name: i for i, name in enumerate(classes)}
    n_classes = max(len(classes), 1)
    g_img = gt["image"].to_numpy().astype(np.int64)
    d_img = pred["image"].to_numpy().astype(np.int64)
    g_cls = gt["label"].replace_strict(class_of, return_dtype=pl.Int64).to_numpy()
    d_cls = pred["label"].replace_strict(class_of, return_dtype=pl.Int64).to_numpy()
    crowd = gt["iscrowd"].fill_null(False).to_numpy().astype(bool)
    score = pred["confidence"].to_numpy().astype(np.float64)
    gt_obj = _coco.Objects(g_img, g_img * n_classes + g_cls, gt["area"].to_numpy(), crowd=crowd)
    dt_obj = _coco.Objects(d_img, d_img * n_classes + d_cls, pred["area"].to_numpy(), score=score)
    iou_of = _mask_iou(samples, gt, pred, crowd) if masks else _box_iou(gt, pred, crowd)

    def pairs_for(dt_group: np.ndarray, gt_group: np.ndarray) -> _coco.Pairs:
        d, g = _coco.pairs_within_groups(dt_group, gt_group)
        return _coco.Pairs(d, g, iou_of(d, g))

    class_pairs = pairs_for(dt_obj.group, gt_obj.group)
    _, class_rank = _coco.rank_in_group(dt_obj.group, score)
    coco = _coco.coco_metrics(gt_obj, dt_obj, g_cls, d_cls, n_classes, class_pairs, class_rank)

    # The run's own matching: one threshold, no area range, every prediction.
    if classwise:
        pairs, rank = class_pairs, class_rank
    else:
        pairs = pairs_for(d_img, g_img)
        _, rank = _coco.rank_in_group(d_img, score)
    matched = _coco.greedy_match(
        pairs, rank, len(g_img), crowd, crowd, np.array([iou_threshold], dtype=np.float64)
    )[0]
    matches = _object_matches(gt, pred, matched, pairs, crowd, g_cls, d_cls)
    sample_rows = _per_sample_counts(samples, matches)
    totals = _prf(*(int(sample_rows[c].sum()) for c in ("tp", "fp", "fn")))
    per_class_counts = _class_counts(matches)
    t50 = int(np.where(_coco.IOU_THRESHOLDS == 0.5)[0][0])
    per_class: dict[str, Any] = {}
    for k, name in enumerate(classes):
        ap = coco.class_ap(k)
        ap50 = _coco._mean_valid(coco.precision[t50, :, k, 0, 2])
        counts = per_class_counts.get(name, {"tp": 0, "fp": 0, "fn": 0})
        per_class[name] = {
            "AP": None if ap < 0 else ap,
            "AP50": None if ap50 < 0 else ap50,
            "gt_count": int(((g_cls == k) & ~crowd).sum()),
            "pred_count": int((d_cls == k).sum()),
            **_prf(counts["tp"], counts["fp"], counts["fn"]),
        }
    metrics: dict[str, Any] = {
        name: (None if value < 0 else float(value))
        for name, value in zip(_coco.STAT_NAMES, coco.stats, strict=True)
    }
    metrics.update(totals)
    metrics["iou_threshold"] = iou_threshold
    metrics["per_class"] = per_class
    return TaskResult(metrics, sample_rows, matches)


def _box_iou(gt: pl.DataFrame, pred: pl.DataFrame, crowd: np.ndarray):
    g_box = gt.select("x", "y", "width", "height").to_numpy().astype(np.float64)
    d_box = pred.select("x", "y", "width", "height").to_numpy().astype(np.float64)

    def iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        return _coco.box_iou(d_box[d], g_box[g], crowd[g])

    return iou


def _mask_iou(samples: pl.DataFrame, gt: pl.DataFrame, pred: pl.DataFrame, crowd: np.ndarray):
    """IoU of mask pairs through pycocotools (``maskUtils.iou``, crowd rules included), one
    call per image with every pair of its masks."""
    from pycocotools import mask as mask_utils  # lazy: only instance segmentation needs it

    g_img, d_img = gt["image"].to_numpy(), pred["image"].to_numpy()
    g_masks, d_masks = gt["segmentation_mask"].to_list(), pred["segmentation_mask"].to_list()
    sizes = samples.select("width", "height").rows()

    def iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = np.zeros(len(d))
        if not len(d):
            return out
        image = d_img[d]
        for img in np.unique(image):
            at = np.flatnonzero(image == img)
            dd, gg = np.unique(d[at]), np.unique(g[at])
            w, h = sizes[int(img)]
            ious = np.asarray(
                mask_utils.iou(
                    _coco_rles([d_masks[i] for i in dd], w, h),
                    _coco_rles([g_masks[i] for i in gg], w, h),
                    [int(crowd[i]) for i in gg],
                )
            ).reshape(len(dd), len(gg))
            out[at] = ious[np.searchsorted(dd, d[at]), np.searchsorted(gg, g[at])]
        return out

    del g_img
    return iou


def _object_matches(
    gt: pl.DataFrame,
    pred: pl.DataFrame,
    matched: np.ndarray,
    pairs: _coco.Pairs,
    crowd: np.ndarray,
    g_cls: np.ndarray,
    d_cls: np.ndarray,
) -> pl.DataFrame:
    """One row per matched pair, unmatched prediction and unmatched ground truth."""
    n_gt = len(crowd)
    hit = matched >= 0
    pair_key = pairs.dt * max(n_gt, 1) + pairs.gt
    order = np.argsort(pair_key)
    d_hit = np.flatnonzero(hit)
    g_hit = matched[d_hit]
    iou = pairs.iou[order[np.searchsorted(pair_key[order], d_hit * max(n_gt, 1) + g_hit)]]
    outcome = np.where(
        crowd[g_hit], "ignored", np.where(g_cls[g_hit] == d_cls[d_hit], "tp", "mismatch")
    )
    gt_taken = np.zeros(n_gt, dtype=bool)
    gt_taken[g_hit] = True
    g_rest = np.flatnonzero(~gt_taken)
    d_rest = np.flatnonzero(~hit)

    def rows(side: pl.DataFrame, at: np.ndarray, **columns: Any) -> pl.DataFrame:
        return side[at].select(
            [
                (value if isinstance(value, pl.Expr) else pl.lit(value)).alias(name)
                for name, value in columns.items()
            ]
        )

    pairs_gt = gt[g_hit].select(gt_annotation_id="annotation_id", gt_label="label")
    matched_rows = pl.concat(
        [
            rows(
                pred,
                d_hit,
                sample_id=pl.col("sample_id"),
                pred_annotation_id=pl.col("annotation_id"),
                pred_label=pl.col("label"),
                confidence=pl.col("confidence"),
            ),
            pairs_gt,
            pl.DataFrame({"iou": iou, "outcome": outcome.astype(str)}),
        ],
        how="horizontal",
    )
    unmatched_pred = rows(
        pred,
        d_rest,
        sample_id=pl.col("sample_id"),
        pred_annotation_id=pl.col("annotation_id"),
        pred_label=pl.col("label"),
        confidence=pl.col("confidence"),
        outcome="fp",
    )
    unmatched_gt = rows(
        gt,
        g_rest,
        sample_id=pl.col("sample_id"),
        gt_annotation_id=pl.col("annotation_id"),
        gt_label=pl.col("label"),
        outcome=pl.Series(np.where(crowd[g_rest], "ignored", "fn").astype(str)),
    )
    return pl.concat(
        [
            f.with_columns(
                [
                    pl.lit(None, dtype=t).alias(c)
                    for c, t in MATCH_SCHEMA.items()
                    if c not in f.columns
                ]
            ).select([pl.col(c).cast(t) for c, t in MATCH_SCHEMA.items()])
            for f in (matched_rows, unmatched_pred, unmatched_gt)
        ]
    )


# --- classification --------------------------------------------------------------------------


def _one_per_sample(frame: pl.DataFrame, side: str, source: str) -> None:
    dup = frame.group_by("sample_id").len().filter(pl.col("len") > 1)
    if dup.height:
        raise EvaluationError(
            f"Sample {dup['sample_id'][0]} has {dup['len'][0]} {side} classifications of source "
            f"{source!r} (and {dup.height - 1} more samples have several); classification "
            "evaluation expects at most one per sample and source."
        )


def evaluate_classification(
    samples: pl.DataFrame, gt: pl.DataFrame, pred: pl.DataFrame, gt_source: str, pred_source: str
) -> TaskResult:
    """Accuracy, macro/micro precision/recall/F1 and per-class figures of one label per sample.

    A sample with a ground truth but no prediction counts as wrong (an FN of its class); a
    prediction on a sample without ground truth is an FP of the predicted class.
    """
    _one_per_sample(gt, "ground-truth", gt_source)
    _one_per_sample(pred, "predicted", pred_source)
    joined = (
        samples.select("sample_id")
        .join(
            gt.select("sample_id", gt_annotation_id="annotation_id", gt_label="label"),
            on="sample_id",
            how="left",
        )
        .join(
            pred.select(
                "sample_id", "confidence", pred_annotation_id="annotation_id", pred_label="label"
            ),
            on="sample_id",
            how="left",
        )
    )
    has_gt, has_pred = pl.col("gt_label").is_not_null(), pl.col("pred_label").is_not_null()
    same = pl.col("gt_label") == pl.col("pred_label")
    matches = joined.filter(has_gt | has_pred).with_columns(
        pl.when(has_gt & has_pred & same)
        .then(pl.lit("tp"))
        .when(has_gt & has_pred)
        .then(pl.lit("mismatch"))
        .when(has_pred)
        .then(pl.lit("fp"))
        .otherwise(pl.lit("fn"))
        .alias("outcome"),
        pl.lit(None, dtype=pl.Float64).alias("iou"),
    )
    matches = matches.select([pl.col(c).cast(t) for c, t in MATCH_SCHEMA.items()])
    sample_rows = _per_sample_counts(samples, matches)
    labelled = joined.filter(has_gt)
    correct = labelled.select(same.fill_null(False).sum()).item()
    classes = sorted(
        set(gt["label"].to_list()) | set(pred["label"].to_list())
    )  # classes present on either side
    gt_counts = dict(gt.group_by("label").len().iter_rows())
    pred_counts = dict(pred.group_by("label").len().iter_rows())
    tp_counts = dict(
        matches.filter(pl.col("outcome") == "tp").group_by("gt_label").len().iter_rows()
    )
    per_class: dict[str, Any] = {}
    for name in classes:
        tp = tp_counts.get(name, 0)
        per_class[name] = {
            "gt_count": gt_counts.get(name, 0),
            "pred_count": pred_counts.get(name, 0),
            **_prf(tp, pred_counts.get(name, 0) - tp, gt_counts.get(name, 0) - tp),
        }

    def macro(key: str) -> float | None:
        values = [c[key] if c[key] is not None else 0.0 for c in per_class.values()]
        return float(np.mean(values)) if values else None

    tp_all = sum(tp_counts.values())
    micro_p, micro_r = _ratio(tp_all, pred.height), _ratio(tp_all, gt.height)
    metrics = {
        "accuracy": _ratio(correct, labelled.height),
        "macro_precision": macro("precision"),
        "macro_recall": macro("recall"),
        "macro_f1": macro("f1"),
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": _f1(micro_p, micro_r),
        "tp": tp_all,
        "fp": int(sample_rows["fp"].sum()),
        "fn": int(sample_rows["fn"].sum()),
        "per_class": per_class,
    }
    return TaskResult(metrics, sample_rows, matches)


# --- semantic segmentation -------------------------------------------------------------------


def evaluate_semantic(samples: pl.DataFrame, gt: pl.DataFrame, pred: pl.DataFrame) -> TaskResult:
    """Per-class IoU of the class masks of each sample. A sample's ``miou`` is the mean over
    the classes present in either of its masks; the run's ``mIoU`` is the mean over classes of
    their IoU with intersections and unions summed over all samples."""
    from pycocotools import mask as mask_utils  # lazy: only segmentation needs it

    gt = check_masks(gt, samples, "ground truth")
    pred = check_masks(pred, samples, "prediction")
    for frame, side in ((gt, "ground-truth"), (pred, "predicted")):
        dup = frame.group_by("sample_id", "label").len().filter(pl.col("len") > 1)
        if dup.height:
            raise EvaluationError(
                f"Sample {dup['sample_id'][0]} has {dup['len'][0]} {side} semantic masks of "
                f"class {dup['label'][0]!r}; semantic segmentation expects one mask per class."
            )
    pairs = gt.select(
        "sample_id",
        "width",
        "height",
        "label",
        gt_annotation_id="annotation_id",
        gt_mask="segmentation_mask",
        gt_area="area",
    ).join(
        pred.select(
            "sample_id",
            "label",
            "confidence",
            pred_annotation_id="annotation_id",
            pred_mask="segmentation_mask",
            pred_area="area",
            pred_width="width",
            pred_height="height",
        ),
        on=["sample_id", "label"],
        how="full",
        coalesce=True,
    )
    intersections = []
    for row in pairs.select(
        "gt_mask",
        "pred_mask",
        pl.coalesce("width", "pred_width"),
        pl.coalesce("height", "pred_height"),
    ).iter_rows():
        gm, pm, w, h = row
        if gm is None or pm is None:
            intersections.append(0)
            continue
        merged = mask_utils.merge(_coco_rles([gm, pm], w, h), intersect=True)
        intersections.append(int(mask_utils.area(merged)))
    pairs = (
        pairs.with_columns(
            pl.Series("inter", intersections, dtype=pl.Int64),
            pl.col("gt_area").fill_null(0),
            pl.col("pred_area").fill_null(0),
        )
        .with_columns((pl.col("gt_area") + pl.col("pred_area") - pl.col("inter")).alias("union"))
        .with_columns(
            pl.when(pl.col("union") > 0)
            .then(pl.col("inter") / pl.col("union"))
            .otherwise(0.0)
            .alias("iou")
        )
    )
    matches = pairs.select(
        "sample_id",
        "gt_annotation_id",
        "pred_annotation_id",
        pl.when(pl.col("gt_annotation_id").is_not_null()).then(pl.col("label")).alias("gt_label"),
        pl.when(pl.col("pred_annotation_id").is_not_null())
        .then(pl.col("label"))
        .alias("pred_label"),
        "iou",
        "confidence",
        pl.when(pl.col("gt_annotation_id").is_null())
        .then(pl.lit("fp"))
        .when(pl.col("pred_annotation_id").is_null())
        .then(pl.lit("fn"))
        .otherwise(pl.lit("tp"))
        .alias("outcome"),
    ).select([pl.col(c).cast(t) for c, t in MATCH_SCHEMA.items()])
    per_sample = pairs.group_by("sample_id").agg(pl.col("iou").mean().alias("miou"))
    sample_rows = (
        samples.select("sample_id")
        .join(per_sample, on="sample_id", how="left")
        .with_columns(
            pl.lit(None, dtype=pl.Int32).alias("tp"),
            pl.lit(None, dtype=pl.Int32).alias("fp"),
            pl.lit(None, dtype=pl.Int32).alias("fn"),
            pl.lit(None, dtype=pl.Float64).alias("precision"),
            pl.lit(None, dtype=pl.Float64).alias("recall"),
            (1.0 - pl.col("miou")).alias("disagreement"),
        )
        .select(list(SAMPLE_SCHEMA))
    )
    by_class = (
        pairs.group_by("label")
        .agg(
            pl.col("inter").sum(),
            pl.col("union").sum(),
            pl.col("gt_area").sum(),
            pl.col("pred_area").sum(),
        )
        .sort("label")
    )
    per_class = {
        row["label"]: {
            "iou": _ratio(row["inter"], row["union"]),
            "gt_pixels": int(row["gt_area"]),
            "pred_pixels": int(row["pred_area"]),
        }
        for row in by_class.iter_rows(named=True)
    }
    ious = [c["iou"] for c in per_class.values() if c["iou"] is not None]
    sample_mious = sample_rows["miou"].drop_nulls()
    metrics = {
        "mIoU": float(np.mean(ious)) if ious else None,
        "mean_sample_mIoU": float(sample_mious.mean()) if len(sample_mious) else None,  # type: ignore[arg-type]
        "per_class": per_class,
    }
    return TaskResult(metrics, sample_rows, matches)
