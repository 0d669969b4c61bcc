"""Where the model fails (section 5): the worst misses and false alarms, each explained at its place.

Failures are counted at the display threshold (``--conf``, 0.25 by default), as a user sees them:
detections scoring at least ``conf`` are matched to the ground truth greedily by score (same class,
IoU >= 0.5, each object once).

* A **false negative** (FN) is an object no such detection claims. The worst are those the model
  barely sees: ranked by the best score any same-class prediction reaches on it at IoU >= 0.5
  (lowest first), then by the best IoU of a same-class detection (lowest first).
* A **false positive** (FP) is a detection that claims no object. The worst are the most confident
  (highest score first), then the ones farthest from any object (lowest IoU).

Each row shows the object's neighbourhood: detections and ground truth, the CAM for that class at
that place, one attention block's gate and its block gain there. "At that place" means the CAM targets the
prediction row whose box overlaps the object best (IoU >= 0.3, highest confidence for that class;
the best-overlapping row when none does), with HiResCAM, so it shows what supports (or fails to
support) that class there, whether or not the row survived the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchvision
from torch import nn

from gam_gui.explain.engine import explainer
from gam_gui.faithfulness.maps import to_frame_unit
from gam_gui.inference import Detection, model_names, non_max_suppression, preprocess, to_detections
from gam_gui.metrics import box_iou
from gam_gui.report.collect import ImageResult

MATCH_IOU = 0.5
PLACE_IOU = 0.3
CAM_METHOD = "hirescam"
GT_COLOUR, TP_COLOUR, FP_COLOUR, FN_COLOUR = "#00c800", "#1f77b4", "#d62728", "#ff7f0e"


@dataclass
class Failure:
    """One failure: ``kind`` ``FN``, ``FP`` or ``A only`` / ``B only`` (found by one model only),
    the image, the box (frame pixels), the class, and the numbers that ranked it."""

    kind: str
    index: int
    path: str
    box: np.ndarray
    cls: int
    score: float  # FN: best same-class score at IoU >= 0.5 (any score); FP: its score
    iou: float  # FN: best IoU of a same-class detection >= conf; FP: best IoU with any object
    other: float = float("nan")  # found by one: the other model's score on it (NaN: none)
    other_cls: int = -1  # FP: the class of the object it overlaps most (-1: none)


def match_at(gt_boxes: np.ndarray, gt_cls: np.ndarray, boxes: np.ndarray, scores: np.ndarray, cls: np.ndarray,
             conf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching of the detections scoring >= ``conf``: (kept indices, their matched object or
    -1, each object's matching detection score or NaN)."""
    keep = np.flatnonzero(scores >= conf)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    det_gt = np.full(len(keep), -1)
    gt_score = np.full(len(gt_boxes), np.nan)
    if len(keep) and len(gt_boxes):
        iou = box_iou(boxes[keep], gt_boxes)
        iou[cls[keep][:, None] != gt_cls[None, :]] = 0
        for i in range(len(keep)):
            cand = np.flatnonzero((iou[i] >= MATCH_IOU) & np.isnan(gt_score))
            if len(cand):
                j = cand[np.argmax(iou[i, cand])]
                gt_score[j] = scores[keep[i]]
                det_gt[i] = j
    return keep, det_gt, gt_score


def find_failures(images: list[ImageResult], conf: float, key: str = "a") -> tuple[list[Failure], list[Failure]]:
    """All FNs and FPs of model ``key``, each list worst first (see the module docstring)."""
    fns, fps = [], []
    for im in images:
        boxes, scores, cls = im.pred[key]
        keep, det_gt, gt_score = match_at(im.gt_boxes, im.gt_cls, boxes, scores, cls, conf)
        iou_all = box_iou(im.gt_boxes, boxes) if len(boxes) and len(im.gt_boxes) else np.zeros((len(im.gt_boxes),
                                                                                                  len(boxes)))
        for j in np.flatnonzero(np.isnan(gt_score)):
            same = cls == im.gt_cls[j]
            near = same & (iou_all[j] >= MATCH_IOU)
            best_score = float(scores[near].max()) if near.any() else 0.0
            strong = same & (scores >= conf)
            best_iou = float(iou_all[j][strong].max()) if strong.any() else 0.0
            fns.append(Failure("FN", im.index, im.path, im.gt_boxes[j], int(im.gt_cls[j]), best_score, best_iou))
        for i, g in zip(keep, det_gt, strict=True):
            if g >= 0:
                continue
            ious = iou_all[:, i] if len(im.gt_boxes) else np.zeros(0)
            k = int(np.argmax(ious)) if len(ious) else -1
            fps.append(Failure("FP", im.index, im.path, boxes[i], int(cls[i]), float(scores[i]),
                               float(ious[k]) if k >= 0 else 0.0, other_cls=int(im.gt_cls[k]) if k >= 0 and
                               ious[k] > 0 else -1))
    fns.sort(key=lambda f: (f.score, f.iou))
    fps.sort(key=lambda f: (-f.score, f.iou))
    return fns, fps


def found_by_one(images: list[ImageResult], conf: float) -> tuple[list[Failure], list[Failure]]:
    """Objects A finds and B misses, and the reverse, each ranked by the finder's score (highest first)."""
    a_only, b_only = [], []
    for im in images:
        if "b" not in im.pred:
            continue
        sa = match_at(im.gt_boxes, im.gt_cls, *im.pred["a"], conf)[2]
        sb = match_at(im.gt_boxes, im.gt_cls, *im.pred["b"], conf)[2]
        for j in range(len(im.gt_boxes)):
            fa, fb = bool(np.isfinite(sa[j])), bool(np.isfinite(sb[j]))
            if fa == fb:
                continue
            score, iou = best_on(im.gt_boxes[j], int(im.gt_cls[j]), *im.pred["b" if fa else "a"])
            f = Failure("A only" if fa else "B only", im.index, im.path, im.gt_boxes[j], int(im.gt_cls[j]),
                        float(sa[j] if fa else sb[j]), iou, other=score)
            (a_only if fa else b_only).append(f)
    a_only.sort(key=lambda f: -f.score)
    b_only.sort(key=lambda f: -f.score)
    return a_only, b_only


def best_on(box: np.ndarray, cls: int, boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray
            ) -> tuple[float, float]:
    """(best score of a same-class prediction at IoU >= 0.5 with ``box``, 0 when none; best IoU of
    any same-class prediction)."""
    same = classes == cls
    if not same.any():
        return 0.0, 0.0
    iou = box_iou(np.asarray(box)[None], boxes[same])[0]
    near = iou >= MATCH_IOU
    return (float(scores[same][near].max()) if near.any() else 0.0), float(iou.max())


@dataclass
class PlaceView:
    """What one model shows at one place: its detections, the CAM (0–1 over the frame) and, for a
    model with attention blocks, one block's gate (its spatial gate where it has one, else its first
    gate with positions) and gain (log2) over the frame."""

    detections: list[Detection]
    cam: np.ndarray
    gate: np.ndarray | None
    gain: np.ndarray | None
    block: int | None
    #: "GAM spatial", "CoordAtt height", ...: which block kind and gate ``gate`` is
    gate_name: str = ""


def explain_at(model: nn.Module, image: np.ndarray, imgsz: int, box: np.ndarray, cls: int, conf: float,
               block: int | None = None) -> PlaceView:
    """One forward and one backward: the detections at ``conf``, the CAM of class ``cls`` at the
    prediction row that best covers ``box`` (see the module docstring) and attention block ``block``'s
    maps (the first block when ``block`` is None or not found)."""
    from gam_gui.report.block_stats import AllBlocksRecorder

    eng = explainer(model)
    x, lb = preprocess(model, image, imgsz)
    layers = tuple(sorted(eng.default_layers))
    recorder = AllBlocksRecorder(model)
    with torch.enable_grad(), eng.run(model, layers, True) as run:
        pred = run.forward(x, recorder)
        rows = pred.detach()[0].float()
        det = non_max_suppression(pred.detach(), conf, 0.45, adapter=eng.adapter)[0]
        dets = to_detections(det, lb, model_names(model))
        g, p = float(lb.gain), lb.pad
        box_in = torch.tensor([[box[0] * g + p[0], box[1] * g + p[1], box[2] * g + p[0], box[3] * g + p[1]]],
                              dtype=torch.float32)
        iou = torchvision.ops.box_iou(box_in, eng.adapter.boxes_xyxy(rows))[0]
        confs = eng.adapter.confidences(rows)
        c = min(int(cls), confs.shape[1] - 1)
        near = iou >= PLACE_IOU
        r = int(torch.where(near, confs[:, c], torch.full_like(confs[:, c], -1.0)).argmax()) if near.any() \
            else int(iou.argmax())
        target = run.target(torch.tensor([r]), torch.tensor([c]), "all")
        cam = to_frame_unit(run.cam(CAM_METHOD, target).maps[0], lb)
    gate = gain = None
    gate_name = ""
    snaps = recorder.snaps(lb)
    chosen = next((s for s in snaps if s.block.index == block), snaps[0] if snaps else None)
    if chosen is not None:
        placed = [(n, g) for n, g in chosen.gates.items() if g.small is not None]
        name, g = next(((n, g) for n, g in placed if n == "spatial"), placed[0] if placed else (None, None))
        if g is not None:
            gate, gate_name = lb.map_to_frame(np.asarray(g.small, np.float32)), f"{chosen.block.kind} {name}"
        if chosen.gain is not None:
            gain = lb.map_to_frame(np.asarray(chosen.gain, np.float32))
    return PlaceView(dets, cam, gate, gain, chosen.block.index if chosen is not None else None, gate_name)


def crop_window(box: np.ndarray, shape: tuple[int, int], factor: float = 3.0, minimum: int = 96) -> tuple[int, ...]:
    """(x1, y1, x2, y2) of a square around ``box``, ``factor`` times its larger side (at least
    ``minimum`` pixels), shifted to stay inside the frame."""
    h, w = shape
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = int(min(max(factor * max(box[2] - box[0], box[3] - box[1]), minimum), max(h, w)))
    x1 = int(np.clip(cx - side / 2, 0, max(0, w - side)))
    y1 = int(np.clip(cy - side / 2, 0, max(0, h - side)))
    return x1, y1, min(w, x1 + side), min(h, y1 + side)


def _boxes_in(win: tuple[int, ...], gt_boxes: np.ndarray, gt_cls: np.ndarray, dets: list[Detection],
              names: list[str], focus: np.ndarray, conf: float, focus_color: str) -> list[tuple]:
    """Boxes drawn on a detections panel, shifted into the crop: ground truth dashed green, the
    failure's box dashed orange (FN) or red (FP), detections solid blue with class and score."""
    x1, y1 = win[0], win[1]
    out = []
    shift = np.array([x1, y1, x1, y1], np.float32)
    for b in gt_boxes:
        out.append((np.asarray(b) - shift, GT_COLOUR, True, ""))
    for d in dets:
        if d.score >= conf:
            name = names[d.cls] if d.cls < len(names) else d.cls
            out.append((np.asarray(d.xyxy) - shift, TP_COLOUR, False, f"{name} {d.score:.2f}"))
    out.append((np.asarray(focus) - shift, focus_color, True, ""))
    return out


def panels_for(view: PlaceView, image: np.ndarray, win: tuple[int, ...], gt_boxes: np.ndarray, gt_cls: np.ndarray,
               names: list[str], focus: np.ndarray, conf: float, who: str, cls_name: str,
               with_gam: bool = True, focus_color: str = FN_COLOUR) -> list[dict]:
    """The panels of one model at one place (see :func:`gam_gui.report.figures.failure_rows`)."""
    x1, y1, x2, y2 = win
    crop = image[y1:y2, x1:x2]
    sl = (slice(y1, y2), slice(x1, x2))
    ps = [{"title": f"{who}: detections + truth", "image": crop, "kind": "image",
           "boxes": _boxes_in(win, gt_boxes, gt_cls, view.detections, names, focus, conf, focus_color)},
          {"title": f"{who}: CAM for '{cls_name}'", "image": crop, "kind": "cam", "map": view.cam[sl]}]
    if with_gam and view.gate is not None:
        ps.append({"title": f"{who}: {view.gate_name} gate, layer {view.block}", "image": crop, "kind": "gate",
                   "map": view.gate[sl]})
    if with_gam and view.gain is not None:
        ps.append({"title": f"{who}: block gain, layer {view.block}", "image": crop, "kind": "gain",
                   "map": view.gain[sl]})
    return ps
