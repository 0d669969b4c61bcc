"""The ``ultralytics val`` definition of detection mAP, so gam-gui's numbers sit beside a training log.

Written from reading the package's validator (8.3.253 and 8.4.190) and checked against it on a real
YOLOv8n-GAM checkpoint (``tests/data/ultralytics_ref``); no code is taken from it. What it does:

* **Input geometry.** Images are sorted by aspect ratio and cut into batches of ``batch`` (16 for
  ``yolo val``; a training log uses twice the training batch); each batch gets one shape,
  ``ceil(ratio * imgsz / stride + pad) * stride`` with ``pad`` 0.5, so a square data set at 640 is
  read at 672 x 672. Each image is resized (long side to ``imgsz``, sides rounded *up*, bilinear, small
  images enlarged too) and centred on a grey (114) canvas of its batch's shape.
  :func:`rect_batch_shapes` and :func:`letterbox_plan` give the loader exactly that.
* **NMS.** ``conf`` 0.001 (strictly above), IoU 0.7, every class above ``conf`` of a box is its own
  detection (multi-label), classes kept apart by a 7,680-pixel offset, at most 300 per image.
* **Matching** happens in the letterboxed input, where boxes are *not* clipped. IoU does not change
  under the per-axis scale and shift back to original pixels, so this module compares in original
  pixels and asks the evaluation not to clip (``clip_boxes = False``).

  - 8.4.x (``"ultralytics"``): detections best score first; each takes, at each IoU threshold, the
    unclaimed ground-truth box of its class it overlaps most, and is right when that overlap reaches the
    threshold (greedy, like COCO without crowd regions or area ranges).
  - 8.3.x and YOLOv5 ``val.py`` (``"ultralytics-8.3"``): at each threshold every detection is paired
    with its best-overlapping box; a box paired with several detections goes to the best-scored one;
    a detection that loses its box does not try its second-best one.
* **AP.** Per class with ground truth: cumulative precision/recall over detections sorted by score,
  the running-max envelope, then the trapezoid integral of the envelope sampled at 101 recall points
  (linear interpolation between the curve's points, unlike COCO's step lookup). 8.3.x ends the curve at
  recall 1 with precision falling *linearly* to 0 from the last point reached (a bonus triangle for weak
  models); 8.4.x drops precision to 0 right after the last recall reached. mAP50-95 averages the ten
  thresholds, then the classes that have ground truth; a class without detections counts as 0.
* **Precision/recall** are read where the box-filtered (101 of 1,000 points) mean F1 over classes
  peaks, each class's curves interpolated linearly between detection scores.

The releases changed one rule at a time (read from the published wheels): unclipped matching in the
letterboxed input from 8.3.175 (8.3.150 and older clipped boxes to the image), the AP tail drop from
8.4.50 (8.4.25 still linear), greedy matching from 8.4.180 (8.4.170 not yet). Detections with equal
scores are ordered stably here; the package's sort leaves their order to numpy, which only matters for
exact ties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from gam_gui.metrics.protocols import ImageRecord, Protocol, box_iou, register_protocol, score_order

#: the ten IoU thresholds as the package holds them (float32 values of linspace(0.5, 0.95, 10))
ULTRA_IOU = np.linspace(0.5, 0.95, 10).astype(np.float32).astype(np.float64)
#: grey value of the letterbox padding
PAD_VALUE = 114
#: ultralytics' small constant in recall and F1 denominators
EPS = 1e-16
_TRAPZ = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
_AP_X = np.linspace(0.0, 1.0, 101)


# -- input geometry ---------------------------------------------------------------------------------

def check_imgsz(imgsz: int, stride: int = 32) -> int:
    """``imgsz`` rounded up to a multiple of the model's largest stride (at least one stride), as
    ultralytics does before validating."""
    return max(int(math.ceil(int(imgsz) / stride) * stride), int(stride))


def rect_batch_shapes(hw: np.ndarray, imgsz: int, batch: int = 16, stride: int = 32,
                      pad: float = 0.5) -> np.ndarray:
    """(n, 2) int: the (H, W) input each image is padded to under ultralytics' rectangular val batches,
    in the order of ``hw`` (each image's ORIGINAL (height, width)). Images are sorted by h/w and cut into
    consecutive batches of ``batch``; a batch of wide images gets H = its largest h/w times ``imgsz``, a
    batch of tall ones W = ``imgsz`` over its smallest h/w, a mixed batch a square; then
    ``ceil(side / stride + pad) * stride``. Which images share a batch is all that matters, so the
    forward passes may be grouped differently."""
    hw = np.asarray(hw, np.float64).reshape(-1, 2)
    n = len(hw)
    out = np.zeros((n, 2), np.int64)
    if not n:
        return out
    ar = hw[:, 0] / hw[:, 1]
    order = ar.argsort()
    ar_sorted = ar[order]
    bi = np.floor(np.arange(n) / int(batch)).astype(int)
    shapes = np.ones((bi[-1] + 1, 2))
    for b in range(bi[-1] + 1):
        a = ar_sorted[bi == b]
        lo, hi = a.min(), a.max()
        if hi < 1:
            shapes[b] = [hi, 1]
        elif lo > 1:
            shapes[b] = [1, 1 / lo]
    batch_shapes = np.ceil(shapes * int(imgsz) / stride + pad).astype(int) * stride
    out[order] = batch_shapes[bi]
    return out


@dataclass(frozen=True)
class LetterboxPlan:
    """How one image becomes the network's input under ultralytics val, and how boxes map back.

    ``resized`` (h1, w1): after the long-side resize; ``unpadded`` (h2, w2): after the letterbox's own
    resize (equal to ``resized`` with rectangular batch shapes); ``top``/``bottom``/``left``/``right``:
    the grey borders; ``shape`` (H, W) the input. ``gain`` (gx, gy): input pixels per original pixel, as
    the package maps labels (``resized / original * letterbox ratio``)."""

    original: tuple[int, int]
    resized: tuple[int, int]
    unpadded: tuple[int, int]
    top: int
    bottom: int
    left: int
    right: int
    shape: tuple[int, int]
    gain: tuple[float, float]

    def apply(self, img: np.ndarray) -> np.ndarray:
        """BGR uint8 HxWx3 (original size) -> BGR uint8 of :attr:`shape`."""
        h1, w1 = self.resized
        if img.shape[:2] != (h1, w1):
            img = cv2.resize(img, (w1, h1), interpolation=cv2.INTER_LINEAR)
        h2, w2 = self.unpadded
        if (h2, w2) != (h1, w1):
            img = cv2.resize(img, (w2, h2), interpolation=cv2.INTER_LINEAR)
        return cv2.copyMakeBorder(img, self.top, self.bottom, self.left, self.right, cv2.BORDER_CONSTANT,
                                  value=(PAD_VALUE, PAD_VALUE, PAD_VALUE))

    def to_original(self, boxes: np.ndarray) -> np.ndarray:
        """xyxy boxes in input pixels -> original pixels, NOT clipped (ultralytics scores unclipped boxes)."""
        b = np.array(boxes, np.float64).reshape(-1, 4)
        b[:, [0, 2]] = (b[:, [0, 2]] - self.left) / self.gain[0]
        b[:, [1, 3]] = (b[:, [1, 3]] - self.top) / self.gain[1]
        return b

    def to_input(self, boxes: np.ndarray) -> np.ndarray:
        """xyxy boxes in original pixels -> input pixels (the inverse of :meth:`to_original`)."""
        b = np.array(boxes, np.float64).reshape(-1, 4)
        b[:, [0, 2]] = b[:, [0, 2]] * self.gain[0] + self.left
        b[:, [1, 3]] = b[:, [1, 3]] * self.gain[1] + self.top
        return b


def letterbox_plan(h0: int, w0: int, shape_hw: tuple[int, int] | np.ndarray, imgsz: int) -> LetterboxPlan:
    """The resize and padding ultralytics' val loader applies to an ``h0`` x ``w0`` image whose batch
    shape is ``shape_hw`` (from :func:`rect_batch_shapes`, or (imgsz, imgsz) without rect). The same
    float arithmetic as the package (ceil of the scaled sides, Python's round for the borders), so the
    input tensor is the same pixel for pixel."""
    h0, w0, imgsz = int(h0), int(w0), int(imgsz)
    H, W = (int(v) for v in shape_hw)
    h1, w1 = h0, w0
    r0 = imgsz / max(h0, w0)
    if r0 != 1:
        w1, h1 = min(math.ceil(w0 * r0), imgsz), min(math.ceil(h0 * r0), imgsz)
    r = min(H / h1, W / w1, 1.0)  # the val letterbox never enlarges
    w2, h2 = max(round(w1 * r), 1), max(round(h1 * r), 1)
    dw, dh = (W - w2) / 2, (H - h2) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    return LetterboxPlan(original=(h0, w0), resized=(h1, w1), unpadded=(h2, w2), top=top, bottom=bottom,
                         left=left, right=right, shape=(top + h2 + bottom, left + w2 + right),
                         gain=(w1 / w0 * r, h1 / h0 * r))


# -- AP and P/R ---------------------------------------------------------------------------------------

def smooth(y: np.ndarray, f: float = 0.05) -> np.ndarray:
    """Box filter of odd width ``round(len * f * 2) // 2 + 1``, the ends padded with the end values."""
    y = np.asarray(y, np.float64)
    nf = round(len(y) * f * 2) // 2 + 1
    ends = np.ones(nf // 2)
    padded = np.concatenate((ends * y[0], y, ends * y[-1]))
    return np.convolve(padded, np.ones(nf) / nf, mode="valid")


def envelope_ap(recall: np.ndarray, precision: np.ndarray, tail: str = "drop") -> np.ndarray:
    """AP per column of (k, T) recall/precision curves (rows: detections best score first): the trapezoid
    integral of the precision envelope sampled at 101 recall points. ``tail="drop"`` (8.4.x): precision is
    0 past the last recall reached; ``"linear"`` (8.3.x, YOLOv5): it falls linearly from the last point to 0
    at recall 1."""
    recall = np.asarray(recall, np.float64).reshape(len(recall), -1).T  # (T, k): rows contiguous, faster scans
    precision = np.asarray(precision, np.float64).reshape(-1, recall.shape[0]).T
    T = recall.shape[0]
    zero, one = np.zeros((T, 1)), np.ones((T, 1))
    if tail == "drop":
        last = recall[:, -1:] if recall.shape[1] else one
        mrec = np.concatenate((zero, recall, last, one), 1)
        mpre = np.concatenate((one, precision, zero, zero), 1)
    else:
        mrec = np.concatenate((zero, recall, one), 1)
        mpre = np.concatenate((one, precision, zero), 1)
    mpre = np.maximum.accumulate(mpre[:, ::-1], 1)[:, ::-1]
    return np.array([_TRAPZ(np.interp(_AP_X, mrec[t], mpre[t]), _AP_X) for t in range(T)])


def curves_of(tp_sorted: np.ndarray, n_gt: float) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision), each (k, T), of TP flags already in score order."""
    t = np.ascontiguousarray(np.asarray(tp_sorted, bool).T)
    tpc = np.cumsum(t, 1, dtype=np.float64)
    fpc = np.arange(1, t.shape[1] + 1, dtype=np.float64) - tpc
    return (tpc / (n_gt + EPS)).T, (tpc / np.maximum(tpc + fpc, EPS)).T


def _expanded(tp: np.ndarray, conf: np.ndarray, pred_w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The class's detections best score first, each repeated by its image's multiplicity (a bootstrap
    resample holds that image that many times, and ultralytics would see that many equal detections)."""
    tp = np.asarray(tp, bool)
    tp = tp[:, None] if tp.ndim == 1 else tp
    conf = np.asarray(conf, np.float64)
    order = score_order(conf)
    if pred_w is not None:
        w = np.rint(np.asarray(pred_w, np.float64)[order]).astype(np.int64)
        order = np.repeat(order, np.maximum(w, 0))
    return tp[order], conf[order]


def class_curves(tp: np.ndarray, conf: np.ndarray, n_gt: float,
                 pred_w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(recall (k, T), precision (k, T), scores (k,)) of one class, detections best score first."""
    t, s = _expanded(tp, conf, pred_w)
    recall, precision = curves_of(t, n_gt)
    return recall, precision, s


# -- the protocol -------------------------------------------------------------------------------------

def match_greedy(iou: np.ndarray, thresholds: np.ndarray = ULTRA_IOU) -> np.ndarray:
    """8.4.x: ``iou`` (n_gt, k) with other classes zeroed, detections best score first -> (k, T) TP."""
    n, k = iou.shape
    T = len(thresholds)
    correct = np.zeros((k, T), bool)
    claimed = np.zeros((n, T), bool)
    cols = np.arange(T)
    for j in np.flatnonzero((iou >= thresholds.min()).any(0)):
        free = np.where(claimed, 0.0, iou[:, j, None])
        best = free.argmax(0)
        correct[j] = free[best, cols] >= thresholds
        claimed[best, cols] |= correct[j]
    return correct


def match_best_iou(iou: np.ndarray, thresholds: np.ndarray = ULTRA_IOU) -> np.ndarray:
    """8.3.x / YOLOv5: per threshold, each detection's best box, each box to its best-scored claimant."""
    correct = np.zeros((iou.shape[1], len(thresholds)), bool)
    for t, thr in enumerate(thresholds):
        gi, di = np.nonzero(iou >= thr)
        if len(gi) > 1:
            by_iou = iou[gi, di].argsort()[::-1]
            gi, di = gi[by_iou], di[by_iou]
            _, first = np.unique(di, return_index=True)  # best box per detection; now in detection order
            gi, di = gi[first], di[first]
            _, first = np.unique(gi, return_index=True)  # per box, the first (best-scored) detection
            gi, di = gi[first], di[first]
        correct[di, t] = True
    return correct


class UltralyticsProtocol(Protocol):
    """``ultralytics val`` as in the current release (8.4.x); see the module docstring.

    Inference settings the evaluation reads: ``conf``, ``iou``, ``max_det``, ``multi_label``, ``rect``,
    ``pad``, ``batch`` (which images share a rectangular shape), ``stride``, ``clip_boxes`` (False: map
    predictions back without clipping), ``max_nms`` and ``max_wh`` (the NMS's class offset)."""

    name = "ultralytics"
    version = "8.4"
    conf = 0.001
    iou = 0.7
    max_det = 300
    multi_label = True
    rect = True
    pad = 0.5
    batch = 16
    stride = 32
    clip_boxes = False
    max_nms = 30000
    max_wh = 7680
    #: how the precision curve ends past the last recall reached (see :func:`envelope_ap`)
    ap_tail = "drop"

    def effective_max_det(self, max_gt_per_image: int) -> int:
        """8.4.x raises the default ``max_det`` to the largest ground-truth count of any image."""
        return max(self.max_det, int(max_gt_per_image))

    # -- the network input ---------------------------------------------------------------------
    def input_shapes(self, sizes_hw: np.ndarray, imgsz: int, stride: int) -> np.ndarray:
        """Each image's rectangular batch shape (:func:`rect_batch_shapes` with ``batch`` and ``pad``).
        Unreadable images ((0, 0): ultralytics drops them before sorting) take no part in the sort and
        get the square; with all sizes unknown (rect off) every image gets the square."""
        sizes = np.asarray(sizes_hw, np.int64).reshape(-1, 2)
        side = check_imgsz(imgsz, stride)
        out = np.full((len(sizes), 2), side, np.int64)
        ok = (sizes > 0).all(1)
        if ok.any():
            out[ok] = rect_batch_shapes(sizes[ok], side, self.batch, max(int(stride), 32), self.pad)
        return out

    def letterbox(self, image: np.ndarray, shape_hw: tuple[int, int], imgsz: int,
                  stride: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """The package's resize-then-pad (:func:`letterbox_plan`) and its per-axis map back."""
        plan = letterbox_plan(image.shape[0], image.shape[1], shape_hw, check_imgsz(imgsz, stride))
        return plan.apply(image), (plan.gain[0], plan.gain[1], float(plan.left), float(plan.top))

    # -- scoring ----------------------------------------------------------------------------------
    def class_iou(self, rec: ImageRecord, order: np.ndarray) -> np.ndarray:
        """(n_gt, k) IoU of the ground truth with the detections in ``order``, 0 across classes."""
        if not len(order) or not len(rec.gt_cls):
            return np.zeros((len(rec.gt_cls), len(order)))
        iou = box_iou(rec.gt_boxes, rec.pred_boxes[order])
        iou[rec.gt_cls[:, None] != rec.pred_cls[order][None, :]] = 0.0
        return iou

    def match_matrix(self, iou: np.ndarray) -> np.ndarray:
        return match_greedy(iou)

    def match(self, rec: ImageRecord) -> np.ndarray:
        order = self.keep(rec)
        if not len(order) or not len(rec.gt_cls):
            return np.zeros((len(order), len(ULTRA_IOU)), bool)
        return self.match_matrix(self.class_iou(rec, order))

    def ap(self, tp: np.ndarray, conf: np.ndarray, pred_w: np.ndarray, n_gt: float,
           ignore: np.ndarray | None = None) -> np.ndarray:
        T = len(ULTRA_IOU)
        if n_gt <= 0:
            return np.full(T, np.nan)
        weights = None if pred_w is None or np.all(np.asarray(pred_w) == 1) else pred_w
        t, _ = _expanded(tp, conf, weights)
        if not len(t):
            return np.zeros(T)
        return envelope_ap(*curves_of(t, n_gt), self.ap_tail)

    def ap_batch(self, tp: np.ndarray, conf: np.ndarray, weights: np.ndarray, n_gt: np.ndarray,
                 ignore: np.ndarray | None = None) -> np.ndarray:
        """:meth:`ap` under each row of bootstrap ``weights`` (R, k): the detections are sorted once and
        each resample repeats them by its image multiplicities (the same numbers as :meth:`ap`)."""
        T = len(ULTRA_IOU)
        weights = np.asarray(weights, np.float64).reshape(-1, len(conf))
        out = np.full((len(weights), T), np.nan)
        order = score_order(conf)
        tp_sorted = np.asarray(tp, bool).reshape(len(conf), T)[order]
        counts = np.maximum(np.rint(weights[:, order]), 0).astype(np.int64)
        for r, (w, n) in enumerate(zip(counts, np.asarray(n_gt, np.float64), strict=True)):
            if n <= 0:
                continue
            t = np.repeat(tp_sorted, w, 0)
            out[r] = envelope_ap(*curves_of(t, float(n)), self.ap_tail) if len(t) else 0.0
        return out

    def pr(self, tp50: np.ndarray, conf: np.ndarray, n_gt: float, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Precision and recall at each confidence of ``grid``, interpolated linearly between detection
        scores (precision 1 and recall 0 above the best score); zeros for a class without detections."""
        grid = np.asarray(grid, np.float64)
        if not len(conf):
            return np.zeros(len(grid)), np.zeros(len(grid))
        recall, precision, s = class_curves(np.asarray(tp50, bool).reshape(-1, 1), conf, n_gt)
        p = np.interp(-grid, -s, precision[:, 0], left=1.0)
        r = np.interp(-grid, -s, recall[:, 0], left=0.0)
        return p, r

    def best_f1(self, prec: np.ndarray, rec: np.ndarray) -> int:
        """Index of the peak of the box-filtered mean F1 over classes (filter fraction 0.1)."""
        prec, rec = np.nan_to_num(np.asarray(prec, np.float64)), np.nan_to_num(np.asarray(rec, np.float64))
        f1 = 2 * prec * rec / (prec + rec + EPS)
        return int(smooth(f1.mean(0), 0.1).argmax())


class Ultralytics83Protocol(UltralyticsProtocol):
    """``ultralytics val`` as in 8.3.x (and the AP of YOLOv5's ``val.py``): best-IoU-then-best-score
    matching and the linear tail of the precision curve."""

    name = "ultralytics-8.3"
    version = "8.3"
    ap_tail = "linear"

    def effective_max_det(self, max_gt_per_image: int) -> int:
        return self.max_det

    def match_matrix(self, iou: np.ndarray) -> np.ndarray:
        return match_best_iou(iou)


register_protocol("ultralytics", UltralyticsProtocol)
register_protocol("ultralytics-8.3", Ultralytics83Protocol)
