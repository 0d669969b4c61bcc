"""The COCO protocol: what pycocotools' ``COCOeval`` (``iouType="bbox"``) computes, area range
"all", at most 100 detections per image and class.

Per image and class the detections are taken best score first (a stable sort), capped at 100, and
matched greedily: each detection takes the free ground-truth box it overlaps most at or above the
threshold, preferring ordinary boxes over crowd regions; a crowd region may take any number of
detections, and a detection that lands on one is ignored (neither true nor false positive). A
crowd region's overlap is intersection over the detection's own area. Over the dataset, each class's
detections are sorted by score, precision is made non-increasing from the right, and read at the
101 recall points 0, 0.01, ..., 1 (0 past the last recall reached); AP is their mean, and mAP the
mean over the classes that have ground truth (pycocotools' ``-1`` entries excluded).

These are the same rules, written from the COCO evaluation's description, so that ``gam-gui eval
--protocol coco`` and pycocotools run on its ``predictions.json`` agree (tested to 0.002).
"""

from __future__ import annotations

import numpy as np

from gam_gui.metrics.protocols import (
    IOU_THRESHOLDS,
    ImageMatch,
    ImageRecord,
    Protocol,
    register_protocol,
    score_order,
)

#: recall points of the 101-point interpolation
RECALL_POINTS = np.linspace(0.0, 1.0, int(np.round(1.0 / 0.01)) + 1)
#: detections kept per image and class (COCOeval's ``maxDets[-1]``)
MAX_DETS = 100
EPS = np.spacing(1)


def coco_iou(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """(d, g) overlap as COCO computes it for boxes: IoU, or intersection over the detection's area
    for a crowd region."""
    dt, gt = np.asarray(dt, np.float64).reshape(-1, 4), np.asarray(gt, np.float64).reshape(-1, 4)
    w = np.minimum(dt[:, None, 2], gt[None, :, 2]) - np.maximum(dt[:, None, 0], gt[None, :, 0])
    h = np.minimum(dt[:, None, 3], gt[None, :, 3]) - np.maximum(dt[:, None, 1], gt[None, :, 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    da = ((dt[:, 2] - dt[:, 0]) * (dt[:, 3] - dt[:, 1]))[:, None]
    ga = ((gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]))[None, :]
    union = np.where(np.asarray(crowd, bool)[None, :], da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def match_class(ious: np.ndarray, gt_ignore: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching of one image's detections of one class (rows of ``ious``, best score first)
    to its ground truth (columns): (d, T) matched, (d, T) ignored, (g, T) index of the detection
    that took each ground-truth box (-1: none), for each IoU threshold."""
    nd, ng = ious.shape
    T = len(IOU_THRESHOLDS)
    dt_m = np.zeros((nd, T), bool)
    dt_ig = np.zeros((nd, T), bool)
    gt_by = np.full((ng, T), -1)
    # ordinary boxes first, crowd regions after (the search stops at the first crowd region once an
    # ordinary box is found)
    gorder = np.argsort(gt_ignore, kind="mergesort")
    ious, ig = ious[:, gorder], gt_ignore[gorder]
    for t, thr in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(ng, bool)
        for d in range(nd):
            best, m = min(thr, 1 - 1e-10), -1
            for g in range(ng):
                if taken[g] and not ig[g]:
                    continue
                if m > -1 and not ig[m] and ig[g]:
                    break
                if ious[d, g] < best:
                    continue
                best, m = ious[d, g], g
            if m == -1:
                continue
            dt_m[d, t] = True
            dt_ig[d, t] = ig[m]
            taken[m] = True
            if not ig[m]:
                gt_by[gorder[m], t] = d
    return dt_m, dt_ig, gt_by


def coco_ap(tp: np.ndarray, conf: np.ndarray, pred_w: np.ndarray, n_gt: float,
            ignore: np.ndarray | None = None) -> np.ndarray:
    """(T,) AP of one class, COCO's 101-point interpolation, each prediction counted ``pred_w``
    times (so that a bootstrap resample needs no copies); NaN when ``n_gt == 0``."""
    tp = np.asarray(tp, bool).reshape(len(conf), len(IOU_THRESHOLDS))
    T = tp.shape[1]
    if n_gt <= 0:
        return np.full(T, np.nan)
    if not len(conf):
        return np.zeros(T)
    order = score_order(conf)
    tp, w = tp[order], np.asarray(pred_w, np.float64)[order]
    fp = ~tp
    if ignore is not None:
        ig = np.asarray(ignore, bool)[order]
        tp, fp = tp & ~ig, fp & ~ig
    tpc = np.cumsum(tp * w[:, None], 0)
    fpc = np.cumsum(fp * w[:, None], 0)
    recall = tpc / n_gt
    precision = tpc / (tpc + fpc + EPS)
    ap = np.zeros(T)
    n = len(conf)
    for t in range(T):
        env = np.maximum.accumulate(precision[::-1, t])[::-1]
        idx = np.searchsorted(recall[:, t], RECALL_POINTS, side="left")
        ap[t] = np.where(idx < n, env[np.minimum(idx, n - 1)], 0.0).mean()
    return ap


def coco_ap_batch(tp: np.ndarray, conf: np.ndarray, weights: np.ndarray, n_gt: np.ndarray,
                  ignore: np.ndarray | None = None) -> np.ndarray:
    """(R, T) :func:`coco_ap` under R integer weightings at once (bootstrap multiplicities), equal to
    it to the last digit.

    Interpolated precision is read only where recall rises, so only the rows that are a true
    positive (or ignored) at some threshold need their precision: the other rows, false positives
    at every threshold (most of them at conf 0.001), enter only as a count before each of those
    rows, summed once per image and segment. The recall points are found with one ``searchsorted``
    on the rows laid end to end: with integer weights the true-positive count is an integer, so
    "recall >= r" is "count >= the smallest integer v with v / n_gt >= r", the same division as
    :func:`coco_ap`."""
    W = np.asarray(weights, np.float64)
    n_gt = np.asarray(n_gt, np.float64)
    R, k = W.shape
    tp = np.asarray(tp, bool).reshape(k, len(IOU_THRESHOLDS))
    T = tp.shape[1]
    out = np.zeros((R, T))
    out[n_gt <= 0] = np.nan
    if not k or R == 0:
        return out
    order = score_order(conf)
    tp = tp[order]
    ig = np.asarray(ignore, bool)[order] if ignore is not None else np.zeros_like(tp)
    fp = ~tp & ~ig
    tp = tp & ~ig
    special = np.flatnonzero(tp.any(1) | ig.any(1))
    M = len(special)
    if not M:
        return out
    cols = np.asarray(order)  # column of W for each sorted row
    # false positives before each special row: per (segment, column) counts, summed per resample
    pure = np.flatnonzero(~(tp.any(1) | ig.any(1)))
    seg = np.searchsorted(special, pure)  # special rows before each pure false positive
    pure, seg = pure[seg < M], seg[seg < M]  # the tail after the last special row never counts
    before = np.zeros((R, M))
    if len(pure):
        key = seg * k + cols[pure]
        uniq, counts = np.unique(key, return_counts=True)
        useg, ucol = uniq // k, uniq % k
        contrib = W[:, ucol] * counts  # (R, nnz), columns grouped by segment (keys sorted)
        starts = np.flatnonzero(np.r_[True, useg[1:] != useg[:-1]])
        before[:, useg[starts]] = np.add.reduceat(contrib, starts, axis=1)
        before = np.cumsum(before, 1)
    Wsp = W[:, cols[special]]
    n_safe = np.where(n_gt > 0, n_gt, 1.0)
    # v[r, p]: the smallest integer count whose recall reaches RECALL_POINTS[p] in row r
    v = np.ceil(RECALL_POINTS[None, :] * n_safe[:, None])
    for _ in range(2):
        v = np.where((v - 1 >= 0) & ((v - 1) / n_safe[:, None] >= RECALL_POINTS[None, :]), v - 1, v)
        v = np.where(v / n_safe[:, None] < RECALL_POINTS[None, :], v + 1, v)
    big = float(W.sum(1).max()) + 2.0
    offs = (np.arange(R) * big)[:, None]
    rows = np.arange(R)[:, None]
    for t in range(T):
        tpc = np.cumsum(Wsp * tp[special, t], 1)
        fpc = np.cumsum(Wsp * fp[special, t], 1) + before
        precision = tpc / (tpc + fpc + EPS)
        env = np.maximum.accumulate(precision[:, ::-1], 1)[:, ::-1]
        idx = np.searchsorted((tpc + offs).ravel(), (v + offs).ravel(), side="left").reshape(R, -1) - rows * M
        q = np.where(idx < M, env[rows, np.minimum(idx, M - 1)], 0.0)
        out[:, t] = np.where(n_gt > 0, q.mean(1), np.nan)
    return out


class CocoProtocol(Protocol):
    """pycocotools' ``COCOeval`` for boxes (see the module docstring). Inference as YOLOv5's and
    ultralytics' validation run it: ``conf`` 0.001, NMS IoU 0.6, up to 300 detections."""

    name = "coco"
    conf = 0.001
    iou = 0.6
    max_det = 300
    multi_label = False
    rect = False
    pad = 0.0

    def keep(self, rec: ImageRecord) -> np.ndarray:
        return self.evaluate_image(rec).keep

    def match(self, rec: ImageRecord) -> np.ndarray:
        return self.evaluate_image(rec).tp

    def evaluate_image(self, rec: ImageRecord) -> ImageMatch:
        crowd = rec.crowd
        keep, tps, igs = [], [], []
        gt_score = np.full(len(rec.gt_cls), np.nan)
        for c in np.union1d(np.unique(rec.pred_cls), np.unique(rec.gt_cls)):
            d = np.flatnonzero(rec.pred_cls == c)
            d = d[score_order(rec.pred_scores[d])][:MAX_DETS]
            g = np.flatnonzero(rec.gt_cls == c)
            if not len(d):
                continue
            ious = coco_iou(rec.pred_boxes[d], rec.gt_boxes[g], crowd[g])
            dt_m, dt_ig, gt_by = match_class(ious, crowd[g])
            keep.append(d)
            tps.append(dt_m & ~dt_ig)
            igs.append(dt_ig)
            found = gt_by[:, 0] >= 0
            gt_score[g[found]] = rec.pred_scores[d[gt_by[found, 0]]]
        T = len(IOU_THRESHOLDS)
        keep_a = np.concatenate(keep) if keep else np.zeros(0, np.int64)
        ig = np.concatenate(igs) if igs else np.zeros((0, T), bool)
        return ImageMatch(keep=keep_a, tp=np.concatenate(tps) if tps else np.zeros((0, T), bool),
                          ignore=ig if ig.any() else None, gt_score=gt_score, gt_counted=~crowd)

    def ap(self, tp: np.ndarray, conf: np.ndarray, pred_w: np.ndarray, n_gt: float,
           ignore: np.ndarray | None = None) -> np.ndarray:
        return coco_ap(tp, conf, pred_w, n_gt, ignore)

    def ap_batch(self, tp: np.ndarray, conf: np.ndarray, weights: np.ndarray, n_gt: np.ndarray,
                 ignore: np.ndarray | None = None) -> np.ndarray:
        W = np.asarray(weights, np.float64)
        if W.size and not np.array_equal(W, np.round(W)):
            return np.stack([coco_ap(tp, conf, w, float(n), ignore) for w, n in zip(W, n_gt, strict=True)])
        return coco_ap_batch(tp, conf, W, n_gt, ignore)


register_protocol("coco", CocoProtocol)
