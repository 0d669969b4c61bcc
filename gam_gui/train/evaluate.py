"""mAP@0.5 and mAP@0.5:0.95 (COCO-style 101-point interpolation) on the fixed-seed validation set."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.data.shapes import CLASS_NAMES, HARD, NORMAL, Difficulty, render_sample
from gam_gui.inference import detect
from gam_gui.progress import Progress
from gam_gui.validate import round_imgsz

LOGGER = logging.getLogger(__name__)

#: Validation images are rendered from seeds VAL_SEED0 .. VAL_SEED0 + n; the trainer's pool is
#: drawn from seeds below TRAIN_SEED_LIMIT, so the two never meet.
VAL_SEED0 = 10_000_000
TRAIN_SEED_LIMIT = VAL_SEED0
#: The held-out hard slice (:data:`gam_gui.data.shapes.HARD`) uses its own seeds, far from both.
HARD_SEED0 = VAL_SEED0 + 5_000_000
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


class MapAccumulator:
    """Per-class true positives and scores over images, then mAP: one per model configuration, so
    that several configurations (ablations) are scored on the same rendered images."""

    def __init__(self, nc: int = len(CLASS_NAMES)) -> None:
        self.nc = nc
        self.tps: list[list[np.ndarray]] = [[] for _ in range(nc)]
        self.confs: list[list[np.ndarray]] = [[] for _ in range(nc)]
        self.n_gt = np.zeros(nc, int)
        self.images = 0

    def add(self, dets: list, gt_boxes: np.ndarray, gt_cls: np.ndarray) -> None:
        pb = np.array([d.xyxy for d in dets], np.float32).reshape(-1, 4)
        pc = np.array([d.cls for d in dets], int)
        ps = np.array([d.score for d in dets], np.float32)
        tp = match(pb, pc, gt_boxes, gt_cls)
        for c in range(self.nc):
            self.n_gt[c] += int((gt_cls == c).sum())
            sel = pc == c
            self.tps[c].append(tp[sel])
            self.confs[c].append(ps[sel])
        self.images += 1

    def result(self, imgsz: int, seconds: float) -> EvalResult:
        aps = np.array([
            average_precision(np.concatenate(self.tps[c]), np.concatenate(self.confs[c]), self.n_gt[c])
            for c in range(self.nc)
        ])
        valid = self.n_gt > 0
        return EvalResult(
            map50=float(np.mean(aps[valid, 0])),
            map50_95=float(np.mean(aps[valid].mean(1))),
            per_class_ap50={CLASS_NAMES[c]: round(float(aps[c, 0]), 4) for c in range(self.nc)},
            images=self.images,
            instances=int(self.n_gt.sum()),
            imgsz=imgsz,
            seconds=round(seconds, 1),
        )


def evaluate(model: nn.Module, n_images: int = 500, imgsz: int = 320, conf: float = 0.001, iou: float = 0.6,
             seed0: int | None = None, render_size: int = 320, progress: bool | None = None,
             difficulty: Difficulty = NORMAL) -> EvalResult:
    """Run ``detect`` on the validation set (or the hard slice) and compute mAP (``progress``: see
    :mod:`gam_gui.progress`)."""
    return evaluate_configs(model, [None], n_images, imgsz, conf, iou, seed0, render_size, progress, difficulty)[0]


def evaluate_configs(model: nn.Module, configs: list, n_images: int = 500, imgsz: int = 320,
                     conf: float = 0.001, iou: float = 0.6, seed0: int | None = None,
                     render_size: int = 320, progress: bool | None = None,
                     difficulty: Difficulty = NORMAL) -> list[EvalResult]:
    """mAP of ``model`` under each configuration on the same validation images, each image rendered
    once: ``None`` is the model as trained, anything else a GAM ablation
    (:func:`gam_gui.ablation.ablated`'s ``blocks``). ``seed0`` defaults to the slice's own seeds."""
    if seed0 is None:
        seed0 = HARD_SEED0 if difficulty == HARD else VAL_SEED0
    from contextlib import nullcontext

    from gam_gui.ablation import ablated

    t0 = time.time()
    model.eval()
    accs = [MapAccumulator() for _ in configs]
    desc = "mAP" if len(configs) == 1 else f"mAP x {len(configs)} configurations"
    with Progress(n_images, desc=desc, unit="img", force=progress) as bar:
        for k in range(n_images):
            smp = render_sample(seed0 + k, render_size, difficulty=difficulty)
            gt_boxes, gt_cls = smp.boxes_xyxy(), smp.labels[:, 0].astype(int)
            for cfg, acc in zip(configs, accs):
                with nullcontext() if cfg is None else ablated(model, cfg):
                    acc.add(detect(model, smp.image, conf=conf, iou=iou, imgsz=imgsz), gt_boxes, gt_cls)
            bar.update()
    seconds = time.time() - t0
    return [acc.result(imgsz, seconds) for acc in accs]


def run(args: argparse.Namespace) -> int:
    """``gam-gui eval``: mAP, then the parts asked for, one progress bar each; prints JSON whose
    ``seconds`` is the whole command (model loading included) and ``extra["seconds_by_part"]`` each part."""
    from gam_gui.checkpoints import load_model
    from gam_gui.inference import model_stride

    t0 = getattr(args, "started", None) or time.perf_counter()  # ``gam-gui eval``: its start, imports included
    model = load_model(args.weights, device="cpu")  # detect() runs without autograd on its own
    imgsz = round_imgsz(args.imgsz or int(getattr(model, "meta", {}).get("imgsz", 320) or 320),
                        model_stride(model), "--imgsz")
    difficulty = HARD if getattr(args, "hard", False) else NORMAL
    ablations = _ablations(model, args)
    results = evaluate_configs(model, [None, *ablations], args.images, imgsz, progress=args.progress,
                               difficulty=difficulty)
    res = results[0]
    res.extra["slice"] = "hard" if difficulty == HARD else "validation"
    parts = {"mAP": res.seconds}
    if ablations:
        from gam_gui.ablation import describe

        rows = [{"ablation": describe(spec), "map50": r.map50, "map50_95": r.map50_95,
                 "delta_map50": r.map50 - res.map50, "delta_map50_95": r.map50_95 - res.map50_95,
                 "per_class_ap50": r.per_class_ap50} for spec, r in zip(ablations, results[1:])]
        res.extra["ablations"] = rows
        print(ablation_table(res, rows), file=sys.stderr)
    if args.pointing:
        from gam_gui.train.pointing import POINTING_METHODS, pointing_game

        t1 = time.perf_counter()
        with torch.enable_grad():  # the CAMs need it, whatever the caller's mode
            res.extra["pointing_game"] = pointing_game(
                model, args.images, imgsz, methods=tuple(getattr(args, "methods", None) or POINTING_METHODS),
                progress=args.progress)
        parts["pointing_game"] = round(time.perf_counter() - t1, 1)
    if getattr(args, "faithfulness", False):
        from gam_gui.train.pointing import FAITHFULNESS_METHODS, faithfulness_eval, faithfulness_table

        t1 = time.perf_counter()
        with torch.enable_grad():
            fa = faithfulness_eval(model, args.images, imgsz, methods=tuple(args.methods or FAITHFULNESS_METHODS),
                                   steps=args.steps, baseline=args.baseline, progress=args.progress)
        res.extra["faithfulness"] = fa
        print(faithfulness_table(fa), file=sys.stderr)
        parts["faithfulness"] = round(time.perf_counter() - t1, 1)
    res.extra["seconds_by_part"] = parts
    res.seconds = round(time.perf_counter() - t0, 1)
    print(json.dumps(asdict(res), indent=2))
    return 0


def _ablations(model: nn.Module, args: argparse.Namespace) -> list[dict]:
    """The ablations asked for (``--ablate``, then ``--ablate-each``), checked against the model."""
    from gam_gui.ablation import every_ablation, resolve_blocks
    from gam_gui.validate import UsageError

    out = []
    for specs in getattr(args, "ablate", None) or []:
        try:
            out.append(resolve_blocks(model, specs))
        except ValueError as e:
            raise UsageError("--ablate", str(e)) from None
    if getattr(args, "ablate_each", False):
        if not out and not every_ablation(model):
            raise UsageError("--ablate-each", "this model has no GAM blocks to ablate")
        out += every_ablation(model)
    return out


def ablation_table(ref: EvalResult, rows: list[dict]) -> str:
    """A markdown table: what each ablation costs in mAP against the model as trained."""
    lines = ["| ablation | mAP@0.5 | change | mAP@0.5:0.95 | change |", "|---|---|---|---|---|",
             f"| none (as trained) | {ref.map50:.3f} | | {ref.map50_95:.3f} | |"]
    for r in rows:
        lines.append(f"| {r['ablation']} | {r['map50']:.3f} | {r['delta_map50']:+.3f} | {r['map50_95']:.3f} | "
                     f"{r['delta_map50_95']:+.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m gam_gui.train.evaluate`` = ``gam-gui eval`` (the options live in :mod:`gam_gui.cli`,
    so that ``--help`` needs no torch)."""
    from gam_gui.cli import eval_parser

    args = eval_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run(args)

if __name__ == "__main__":
    raise SystemExit(main())
