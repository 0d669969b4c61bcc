"""Ground truth beside the detections, with no Qt: the dataset browser's matching and drawing.

One image is scored as the COCO protocol scores it (:class:`gam_gui.metrics.coco.CocoProtocol`, IoU
0.5, the detections the window shows, i.e. those at the window's ``conf``): each detection is a true
positive (TP) or a false positive (FP), each ground-truth object found or a false negative (FN).
The detections panel then shows the ground truth dashed, TPs in their class colour, FPs in red and
FNs in orange, each labelled, so that a user sees at a glance where the model fails.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from gam_gui.inference import Detection
from gam_gui.labels import class_color, draw_labels, label_style, layout_labels
from gam_gui.metrics import ImageRecord, box_iou
from gam_gui.metrics.coco import CocoProtocol

__all__ = ["FN_COLOUR", "FP_COLOUR", "GT_COLOUR", "GroundTruth", "ImageMatchCounts", "Overlap", "best_overlap",
           "draw_ground_truth", "ground_truth_at", "match_detections"]

#: BGR colours: false positives red, false negatives orange, found objects' ground truth white.
FP_COLOUR = (40, 40, 230)
FN_COLOUR = (0, 140, 255)
GT_COLOUR = (235, 235, 235)
_PROTOCOL = CocoProtocol()


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """One image's ground truth as the view draws it (frame pixels, xyxy).

    ``path``: the image it belongs to (a frame named otherwise is drawn without it); ``explain``: the
    index of the box whose class the CAM explains at its place (a clicked false negative), or None.
    """

    path: str
    boxes: np.ndarray
    classes: np.ndarray
    names: tuple[str, ...] = ()
    explain: int | None = None

    def name(self, c: int) -> str:
        return self.names[c] if 0 <= c < len(self.names) else str(c)

    def applies_to(self, frame_name: str) -> bool:
        """Whether this is the ground truth of the frame ``frame_name`` (a file name or path)."""
        return bool(frame_name) and os.path.basename(str(frame_name)) == os.path.basename(self.path)


@dataclass
class ImageMatchCounts:
    """How one image scored: per detection TP or not, per object found or not, and the counts."""

    det_tp: np.ndarray  # (k,) bool, per detection
    gt_found: np.ndarray  # (n,) bool, per ground-truth box
    classes: frozenset[int] = field(default_factory=frozenset)  # classes in the truth or the detections

    @property
    def tp(self) -> int:
        return int(self.det_tp.sum())

    @property
    def fp(self) -> int:
        return int(len(self.det_tp) - self.det_tp.sum())

    @property
    def fn(self) -> int:
        return int(len(self.gt_found) - self.gt_found.sum())


def match_detections(gt_boxes: np.ndarray, gt_cls: np.ndarray, detections: Sequence[Detection]) -> ImageMatchCounts:
    """Score ``detections`` against the ground truth with the COCO protocol's matching at IoU 0.5
    (greedy by score, same class, each object claimed once)."""
    gt_boxes = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    gt_cls = np.asarray(gt_cls, np.int64).reshape(-1)
    boxes = np.array([d.xyxy for d in detections], np.float64).reshape(-1, 4)
    scores = np.array([d.score for d in detections], np.float64)
    cls = np.array([d.cls for d in detections], np.int64)
    rec = ImageRecord(0, "", 0, 0, gt_boxes, gt_cls, boxes, scores, cls)
    m = _PROTOCOL.evaluate_image(rec)
    det_tp = np.zeros(len(detections), bool)
    if len(m.keep):
        det_tp[m.keep] = m.tp[:, 0]
    found = np.isfinite(m.gt_score)
    return ImageMatchCounts(det_tp, found, frozenset(int(c) for c in np.concatenate([gt_cls, cls])))


@dataclass(frozen=True)
class Overlap:
    """The detection that overlaps a box most: its index, the detection and the IoU."""

    index: int
    detection: Detection
    iou: float


def best_overlap(box: Sequence[float], detections: Sequence[Detection]) -> Overlap | None:
    """The detection (any class) with the highest IoU with ``box``; None when none overlaps it."""
    if not detections:
        return None
    iou = box_iou(np.asarray(box, np.float64)[None], np.array([d.xyxy for d in detections], np.float64))[0]
    k = int(np.argmax(iou))
    return Overlap(k, detections[k], float(iou[k])) if iou[k] > 0 else None


def ground_truth_at(gt: GroundTruth, x: float, y: float, only: np.ndarray | None = None) -> int | None:
    """The ground-truth box under the point (the smallest one when they nest); ``only``: a mask of
    the boxes that may be picked (e.g. the false negatives)."""
    b = np.asarray(gt.boxes, np.float64).reshape(-1, 4)
    inside = (b[:, 0] <= x) & (x <= b[:, 2]) & (b[:, 1] <= y) & (y <= b[:, 3])
    if only is not None:
        inside &= np.asarray(only, bool)
    idx = np.flatnonzero(inside)
    if not len(idx):
        return None
    area = (b[idx, 2] - b[idx, 0]) * (b[idx, 3] - b[idx, 1])
    return int(idx[np.argmin(area)])


def _dashed(img: np.ndarray, box: tuple[int, int, int, int], colour: tuple[int, int, int], thickness: int,
            dash: int) -> None:
    x1, y1, x2, y2 = box
    for (ax, ay), (bx, by) in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        n = max(abs(bx - ax), abs(by - ay), 1)
        for s in range(0, n, 2 * dash):
            t0, t1 = s / n, min(s + dash, n) / n
            cv2.line(img, (int(ax + (bx - ax) * t0), int(ay + (by - ay) * t0)),
                     (int(ax + (bx - ax) * t1), int(ay + (by - ay) * t1)), colour, thickness, cv2.LINE_8)


def draw_ground_truth(frame: np.ndarray, detections: Sequence[Detection], gt: GroundTruth,
                      shown_width: int | None = None) -> tuple[np.ndarray, ImageMatchCounts]:
    """The detections panel with the ground truth: truth boxes dashed (white when found, orange when
    missed: ``FN name``), detections solid (``TP name 0.91`` in the class colour, ``FP name 0.40`` in
    red); the box whose CAM is shown (``gt.explain``) thicker. Returns the picture and the match."""
    m = match_detections(gt.boxes, gt.classes, detections)
    out = frame.copy()
    h, w = out.shape[:2]
    style = label_style((h, w), shown_width)
    lw = max(1, int(round(style.height / 12)))
    dash = max(4, style.height // 2)
    items: list[Detection] = []
    texts: list[str] = []
    colours: list[tuple[int, int, int]] = []
    boxes, classes = np.asarray(gt.boxes).reshape(-1, 4), np.asarray(gt.classes).reshape(-1)
    for j, (box, c) in enumerate(zip(boxes, classes, strict=True)):
        found = bool(m.gt_found[j])
        colour = GT_COLOUR if found else FN_COLOUR
        r = tuple(int(round(v)) for v in box)
        _dashed(out, r, colour, lw + (2 if j == gt.explain else 0) + (0 if found else 1), dash)
        if not found:  # a found object's label would repeat its TP's
            items.append(Detection(tuple(float(v) for v in box), 0.0, int(c), gt.name(int(c))))
            texts.append(f"FN {gt.name(int(c))}")
            colours.append(colour)
    for d, tp in zip(detections, m.det_tp, strict=True):
        colour = class_color(d.cls) if tp else FP_COLOUR
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, lw + (0 if tp else 1), cv2.LINE_AA)
        items.append(d)
        texts.append(f"{'TP' if tp else 'FP'} {d.name} {d.score:.2f}")
        colours.append(colour)
    if items:
        draw_labels(out, layout_labels(items, (h, w), style, texts, colours), style)
    return out, m
