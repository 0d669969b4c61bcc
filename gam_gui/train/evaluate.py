"""mAP@0.5 and mAP@0.5:0.95 (COCO-style 101-point interpolation) on the fixed-seed validation set."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.data.shapes import CLASS_NAMES, render_sample
from gam_gui.inference import detect

LOGGER = logging.getLogger(__name__)

#: Validation images are rendered from seeds VAL_SEED0 .. VAL_SEED0 + n; the trainer's pool is
#: drawn from seeds below TRAIN_SEED_LIMIT, so the two never meet.
VAL_SEED0 = 10_000_000
TRAIN_SEED_LIMIT = VAL_SEED0
IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


@dataclass
class EvalResult:
    map50: float
    map50_95: float
    per_class_ap50: dict[str, float]
    images: int
    instances: int
    imgsz: int
    seconds: float
    extra: dict = field(default_factory=dict)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of xyxy boxes (n, 4) x (m, 4)."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), 2)
    area_a = np.prod(a[:, 2:] - a[:, :2], 1)
    area_b = np.prod(b[:, 2:] - b[:, :2], 1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def match(pred_boxes: np.ndarray, pred_cls: np.ndarray, gt_boxes: np.ndarray, gt_cls: np.ndarray) -> np.ndarray:
    """(n_pred, 10) bool: is prediction i a true positive at each IoU threshold (greedy by score,
    predictions assumed sorted best first, each ground truth matched once)."""
    tp = np.zeros((len(pred_boxes), len(IOU_THRESHOLDS)), bool)
    if not len(pred_boxes) or not len(gt_boxes):
        return tp
    iou = box_iou(pred_boxes, gt_boxes)
    iou[pred_cls[:, None] != gt_cls[None, :]] = 0
    for t, thr in enumerate(IOU_THRESHOLDS):
        used = np.zeros(len(gt_boxes), bool)
        for i in range(len(pred_boxes)):
            cand = np.where((iou[i] >= thr) & ~used)[0]
            if len(cand):
                j = cand[np.argmax(iou[i, cand])]
                used[j] = True
                tp[i, t] = True
    return tp


def average_precision(tp: np.ndarray, conf: np.ndarray, n_gt: int) -> np.ndarray:
    """AP per IoU threshold with COCO's 101-point interpolated precision envelope."""
    if n_gt == 0:
        return np.full(tp.shape[1], np.nan)
    if not len(tp):
        return np.zeros(tp.shape[1])
    order = np.argsort(-conf, kind="stable")
    tp = tp[order]
    tpc = np.cumsum(tp, 0)
    fpc = np.cumsum(~tp, 0)
    recall = tpc / n_gt
    precision = tpc / np.maximum(tpc + fpc, 1)
    rs = np.linspace(0, 1, 101)
    ap = np.zeros(tp.shape[1])
    for t in range(tp.shape[1]):
        env = np.maximum.accumulate(precision[::-1, t])[::-1]
        idx = np.searchsorted(recall[:, t], rs, side="left")
        q = np.where(idx < len(env), env[np.minimum(idx, len(env) - 1)], 0.0)
        ap[t] = q.mean()
    return ap


def evaluate(model: nn.Module, n_images: int = 500, imgsz: int = 320, conf: float = 0.001, iou: float = 0.6,
             seed0: int = VAL_SEED0, render_size: int = 320) -> EvalResult:
    """Run ``detect`` on the validation set and compute mAP."""
    t0 = time.time()
    model.eval()
    nc = len(CLASS_NAMES)
    tps: list[list[np.ndarray]] = [[] for _ in range(nc)]
    confs: list[list[np.ndarray]] = [[] for _ in range(nc)]
    n_gt = np.zeros(nc, int)
    for k in range(n_images):
        smp = render_sample(seed0 + k, render_size)
        gt_boxes, gt_cls = smp.boxes_xyxy(), smp.labels[:, 0].astype(int)
        dets = detect(model, smp.image, conf=conf, iou=iou, imgsz=imgsz)
        pb = np.array([d.xyxy for d in dets], np.float32).reshape(-1, 4)
        pc = np.array([d.cls for d in dets], int)
        ps = np.array([d.score for d in dets], np.float32)
        tp = match(pb, pc, gt_boxes, gt_cls)
        for c in range(nc):
            n_gt[c] += int((gt_cls == c).sum())
            sel = pc == c
            tps[c].append(tp[sel])
            confs[c].append(ps[sel])
    aps = np.array([
        average_precision(np.concatenate(tps[c]), np.concatenate(confs[c]), n_gt[c]) for c in range(nc)
    ])
    valid = n_gt > 0
    return EvalResult(
        map50=float(np.mean(aps[valid, 0])),
        map50_95=float(np.mean(aps[valid].mean(1))),
        per_class_ap50={CLASS_NAMES[c]: round(float(aps[c, 0]), 4) for c in range(nc)},
        images=n_images,
        instances=int(n_gt.sum()),
        imgsz=imgsz,
        seconds=round(time.time() - t0, 1),
    )


def main(argv: list[str] | None = None) -> int:
    from gam_gui.checkpoints import load_model

    ap = argparse.ArgumentParser(description="Evaluate a model on the fixed-seed shapes validation set.")
    ap.add_argument("--weights", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--imgsz", type=int, default=None, help="inference size (default: the model's own, else 320)")
    ap.add_argument("--pointing", action="store_true", help="also run the Grad-CAM pointing game")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_grad_enabled(False)
    model = load_model(args.weights, device="cpu")
    args.imgsz = args.imgsz or int(getattr(model, "meta", {}).get("imgsz", 320))
    res = evaluate(model, args.images, args.imgsz)
    if args.pointing:
        from gam_gui.train.pointing import pointing_game

        torch.set_grad_enabled(True)
        res.extra["pointing_game"] = pointing_game(model, args.images, args.imgsz,
                                                   methods=("gradcam", "hirescam", "layercam"))
    print(json.dumps(asdict(res), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
