"""COCO detection matching and metrics, vectorised over images, classes and IoU thresholds.

The rules are pycocotools' ``COCOeval`` (``evaluateImg`` + ``accumulate`` + ``summarize``),
reproduced step for step so the twelve ``stats`` agree to floating-point rounding:

- Detections of one (image, class) are ranked by score, descending, ties by input order
  (``kind="mergesort"``); only the first ``maxDets`` count for a statistic.
- A detection takes, among the ground truths of its (image, class) it may still take (not
  matched yet at this IoU threshold, or crowd), the one with the highest IoU >= the threshold;
  ground truths outside the area range (or crowd) are taken only when no other qualifies; on
  equal IoU the later ground truth wins (COCOeval's ``>=`` scan).
- A detection matched to an ignored ground truth is ignored, as is an unmatched detection
  outside the area range.
- Precision is interpolated at 101 recall points; AP/AR are means over the entries that exist.

Where COCOeval loops over detections in Python, this module loops over detection *ranks*
(at most the largest number of detections of one image and class) and handles every
(image, class) and every IoU threshold of a rank at once with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# COCOeval's parameters (Params.setDetParams), computed the same way so comparisons with the
# thresholds are bit-identical.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETS = (1, 10, 100)
AREA_RANGES = ((0, 1e5**2), (0, 32**2), (32**2, 96**2), (96**2, 1e5**2))  # all, S, M, L
STAT_NAMES = (
    "mAP",
    "mAP50",
    "mAP75",
    "mAP_small",
    "mAP_medium",
    "mAP_large",
    "mAR1",
    "mAR10",
    "mAR100",
    "mAR_small",
    "mAR_medium",
    "mAR_large",
)


@dataclass
class Objects:
    """Ground truths or detections as parallel arrays (one entry per object)."""

    image: np.ndarray  # int, the image's index in evaluation order
    group: np.ndarray  # int, what matching keeps apart: (image, class), or image alone
    area: np.ndarray  # float, box area or mask pixel count
    score: np.ndarray | None = None  # detections only
    crowd: np.ndarray | None = None  # ground truths only


@dataclass
class Pairs:
    """Every (detection, ground truth) of the same group, with their IoU."""

    dt: np.ndarray
    gt: np.ndarray
    iou: np.ndarray


def pairs_within_groups(dt_group: np.ndarray, gt_group: np.ndarray) -> tuple[np.ndarray, ...]:
    """Indices (dt, gt) of every pair of objects in the same group, grouped by detection."""
    gt_order = np.argsort(gt_group, kind="mergesort")
    sorted_groups = gt_group[gt_order]
    start = np.searchsorted(sorted_groups, dt_group, side="left")
    stop = np.searchsorted(sorted_groups, dt_group, side="right")
    counts = stop - start
    dt_index = np.repeat(np.arange(len(dt_group)), counts)
    first = np.repeat(start - np.cumsum(counts) + counts, counts)
    gt_index = gt_order[first + np.arange(counts.sum())]
    return dt_index, gt_index


def box_iou(dt_boxes: np.ndarray, gt_boxes: np.ndarray, gt_crowd: np.ndarray) -> np.ndarray:
    """IoU of row-aligned xywh boxes, as pycocotools' ``bbIou`` computes it (for a crowd
    ground truth: intersection over the detection's area)."""
    dx, dy, dw, dh = dt_boxes.T
    gx, gy, gw, gh = gt_boxes.T
    w = np.minimum(dx + dw, gx + gw) - np.maximum(dx, gx)
    h = np.minimum(dy + dh, gy + gh) - np.maximum(dy, gy)
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    union = np.where(gt_crowd, dw * dh, dw * dh + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def rank_in_group(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, rank): detections sorted by group then score descending (ties: input order),
    and each detection's 0-based rank within its group."""
    order = np.lexsort((np.arange(len(group)), -score, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1] if len(order) else np.array([])
    rank_sorted = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = rank_sorted
    return order, rank


def greedy_match(
    pairs: Pairs,
    dt_rank: np.ndarray,
    n_gt: int,
    gt_ignore: np.ndarray,
    gt_crowd: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """COCOeval's matching for every threshold at once: the matched ground truth of each
    detection, shape (len(thresholds), n_dt), -1 where none.

    ``gt_ignore``: per ground truth, for this area range (crowd or outside the range).
    """
    n_dt = len(dt_rank)
    matched_gt = np.full((len(thresholds), n_dt), -1, dtype=np.int64)
    if len(pairs.dt) == 0:
        return matched_gt
    # Rank first; within a detection its candidates in COCOeval's order of preference, the
    # preferred one last: ignored ground truths first, then by IoU, then the later ground truth.
    order = np.lexsort((pairs.gt, pairs.iou, ~gt_ignore[pairs.gt], pairs.dt, dt_rank[pairs.dt]))
    p_dt, p_gt, p_iou = pairs.dt[order], pairs.gt[order], pairs.iou[order]
    rank = dt_rank[p_dt]
    bounds = np.searchsorted(rank, np.arange(rank.max() + 2), side="left")
    taken = np.zeros((len(thresholds), n_gt), dtype=bool)
    reusable = gt_crowd  # a crowd region may absorb any number of detections
    above = p_iou[None, :] >= thresholds[:, None]
    for r in range(len(bounds) - 1):
        lo, hi = bounds[r], bounds[r + 1]
        if lo == hi:
            continue
        gts = p_gt[lo:hi]
        dts = p_dt[lo:hi]
        candidate = above[:, lo:hi] & (~taken[:, gts] | reusable[gts])
        position = np.where(candidate, np.arange(hi - lo), -1)
        starts = np.r_[0, np.flatnonzero(np.diff(dts)) + 1]
        best = np.maximum.reduceat(position, starts, axis=1)  # (T, detections of rank r)
        t_idx, seg = np.nonzero(best >= 0)
        chosen = best[t_idx, seg]
        matched_gt[t_idx, dts[starts[seg]]] = gts[chosen]
        taken[t_idx, gts[chosen]] = True
    return matched_gt


@dataclass
class CocoResult:
    """COCOeval's ``precision`` (T, R, K, A, M) and ``recall`` (T, K, A, M) arrays, and the
    twelve ``stats``."""

    precision: np.ndarray
    recall: np.ndarray
    stats: np.ndarray

    def class_ap(self, k: int) -> float:
        """AP of class k over IoU .50:.95 (area all, 100 detections); -1 without ground truth."""
        return _mean_valid(self.precision[:, :, k, 0, 2])


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def coco_metrics(
    gt: Objects,
    dt: Objects,
    gt_class: np.ndarray,
    dt_class: np.ndarray,
    n_classes: int,
    pairs: Pairs,
    dt_rank: np.ndarray,
) -> CocoResult:
    """COCOeval's accumulate + summarize over per-(image, class) groups (``pairs`` formed
    within those groups, ``dt_rank`` within them)."""
    assert gt.crowd is not None and dt.score is not None
    n_t, n_r, n_a, n_m = len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS), len(AREA_RANGES), 3
    precision = -np.ones((n_t, n_r, n_classes, n_a, n_m))
    recall = -np.ones((n_t, n_classes, n_a, n_m))
    # Per class, detections in COCOeval's accumulation order: score descending, ties by image
    # order, then by rank within the image.
    dt_order = np.lexsort((dt_rank, dt.image, -dt.score, dt_class))
    class_bounds = np.searchsorted(dt_class[dt_order], np.arange(n_classes + 1), side="left")
    for a, (low, high) in enumerate(AREA_RANGES):
        gt_ignore = gt.crowd | (gt.area < low) | (gt.area > high)
        matched = greedy_match(pairs, dt_rank, len(gt.area), gt_ignore, gt.crowd, IOU_THRESHOLDS)
        outside = (dt.area < low) | (dt.area > high)
        dt_ignore = np.where(matched >= 0, gt_ignore[np.maximum(matched, 0)], outside[None, :])
        npig_by_class = np.bincount(gt_class[~gt_ignore], minlength=n_classes)
        for k in range(n_classes):
            if npig_by_class[k] == 0:
                continue
            npig = npig_by_class[k]
            in_class = dt_order[class_bounds[k] : class_bounds[k + 1]]
            for m, max_det in enumerate(MAX_DETS):
                chosen = in_class[dt_rank[in_class] < max_det]
                dtm = matched[:, chosen] >= 0
                ignored = dt_ignore[:, chosen]
                tp_sum = np.cumsum(dtm & ~ignored, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(~dtm & ~ignored, axis=1).astype(dtype=float)
                nd = len(chosen)
                if nd == 0:
                    recall[:, k, a, m] = 0
                    precision[:, :, k, a, m] = 0
                    continue
                rc = tp_sum / npig
                pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
                recall[:, k, a, m] = rc[:, -1]
                # The precision envelope: the best precision at this recall or beyond.
                envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
                for t in range(n_t):
                    inds = np.searchsorted(rc[t], RECALL_THRESHOLDS, side="left")
                    q = np.zeros(n_r)
                    valid = inds < nd
                    q[valid] = envelope[t, inds[valid]]
                    precision[t, :, k, a, m] = q
    return CocoResult(precision, recall, summarize(precision, recall))


def summarize(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """COCOeval.summarize's twelve numbers for bbox/segm."""

    def ap(t: int | None = None, a: int = 0) -> float:
        s = precision[:, :, :, a, 2]
        return _mean_valid(s if t is None else s[t])

    def ar(m: int, a: int = 0) -> float:
        return _mean_valid(recall[:, :, a, m])

    t50 = int(np.where(IOU_THRESHOLDS == 0.5)[0][0])
    t75 = int(np.where(IOU_THRESHOLDS == 0.75)[0][0])
    return np.array(
        [
            *(ap(), ap(t50), ap(t75), ap(None, 1), ap(None, 2), ap(None, 3)),
            *(ar(0), ar(1), ar(2), ar(2, 1), ar(2, 2), ar(2, 3)),
        ]
    )
