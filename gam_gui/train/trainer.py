"""Train the default YOLOv5n-GAM on procedurally rendered shapes, on the CPU or CUDA.

Design choices for a 2-core CPU: samples are rendered once into an in-memory pool (in parallel) and
re-used with cheap augmentation (mosaic, scale/shift, flips, colour) instead of being re-rendered;
AdamW with a linear warm-up and a cosine decay converges much faster from scratch than SGD; gradient
clipping plus a non-finite-loss guard (skip the step, and after a streak reload the last checkpoint
at half the learning rate) keep the seed's unbounded GAM channel branch from diverging.

Resumable: ``runs/<name>/last.pt`` has the full state; ``--export-resume`` writes a small fp16 EMA
snapshot (``weights/train_state.pt``) that can be committed and resumed from on another machine.
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gam_gui.checkpoints import save_model
from gam_gui.data.shapes import CLASS_NAMES, labels_to_xyxy, render_sample
from gam_gui.inference import model_stride
from gam_gui.models.yolov5 import DetectionModel
from gam_gui.progress import Progress
from gam_gui.train.augment import flip_and_color, mosaic, random_affine
from gam_gui.train.evaluate import TRAIN_SEED_LIMIT, evaluate
from gam_gui.train.loss import YoloLoss
from gam_gui.validate import round_imgsz

LOGGER = logging.getLogger("gam_gui.train")


def _render(args: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    smp = render_sample(args[0], args[1])
    return smp.image, smp.labels


def build_pool(n: int, size: int, seed: int, workers: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Render ``n`` training samples (seeds ``seed..seed+n``) into memory."""
    assert seed + n <= TRAIN_SEED_LIMIT, "training seeds must stay below the validation seeds"
    jobs = [(seed + i, size) for i in range(n)]
    t0 = time.time()
    if workers > 1:
        with mp.get_context("spawn" if os.name == "nt" else "fork").Pool(workers) as pool:
            out = pool.map(_render, jobs, chunksize=64)
    else:
        out = [_render(j) for j in jobs]
    images = np.stack([o[0] for o in out])
    labels = [o[1] for o in out]
    LOGGER.info("rendered %d training images at %d px in %.0f s", n, size, time.time() - t0)
    return images, labels


class Batcher:
    """Random augmented batches from the pool; deterministic for a seed and an iteration."""

    def __init__(self, images: np.ndarray, labels: list[np.ndarray], imgsz: int, mosaic_p: float = 0.4) -> None:
        self.images, self.labels, self.imgsz, self.mosaic_p = images, labels, imgsz, mosaic_p

    def batch(self, bs: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        ims, tg = [], []
        n = len(self.images)
        for b in range(bs):
            if rng.random() < self.mosaic_p:
                idx = rng.integers(0, n, 4)
                img, cls, boxes = mosaic([self.images[i] for i in idx], [self.labels[i] for i in idx],
                                         self.images.shape[1])
                img, lb = random_affine(img, cls, boxes, self.imgsz, rng, scale=(1.2, 2.0), translate=0.2)
            else:
                i = int(rng.integers(0, n))
                im, lb0 = self.images[i], self.labels[i]
                h, w = im.shape[:2]
                boxes = labels_to_xyxy(lb0, w, h)
                img, lb = random_affine(im, lb0[:, 0], boxes.reshape(-1, 4), self.imgsz, rng)
            img, lb = flip_and_color(img, lb, rng)
            ims.append(img[:, :, ::-1].transpose(2, 0, 1))
            tg.append(np.concatenate([np.full((len(lb), 1), b, np.float32), lb], 1))
        x = torch.from_numpy(np.ascontiguousarray(np.stack(ims))).float().div_(255)
        return x, torch.from_numpy(np.concatenate(tg, 0))


class ModelEMA:
    """Exponential moving average of the weights, with the YOLOv5 ramp-up of the decay."""

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000, updates: int = 0) -> None:
        self.ema = copy.deepcopy(model).eval()
        self.updates, self.decay_max, self.tau = updates, decay, tau
        for p in self.ema.parameters():
            p.requires_grad_(False)

    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay_max * (1 - math.exp(-self.updates / self.tau))
        with torch.no_grad():
            msd = model.state_dict()
            for k, v in self.ema.state_dict().items():
                if v.dtype.is_floating_point:
                    v.mul_(d).add_(msd[k].detach(), alpha=1 - d)


def make_optimizer(model: nn.Module, lr: float, wd: float) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for mod in model.modules():
        for name, p in mod.named_parameters(recurse=False):
            if name == "weight" and not isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm)):
                decay.append(p)
            else:
                no_decay.append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.937, 0.999))


def lr_at(it: int, total: int, lr: float, warmup: int, lrf: float) -> float:
    if it < warmup:
        return lr * (0.02 + 0.98 * it / warmup)
    t = (it - warmup) / max(1, total - warmup)
    return lr * (lrf + (1 - lrf) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def train(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = DetectionModel(args.cfg, nc=len(CLASS_NAMES))
    model.names = dict(enumerate(CLASS_NAMES))
    args.imgsz = round_imgsz(args.imgsz, model_stride(model), "--imgsz")
    if args.gam_variant:
        for m in model.modules():
            if hasattr(m, "variant"):
                m.variant = args.gam_variant
    model.to(dev).train()
    opt = make_optimizer(model, args.lr, args.wd)
    ema = ModelEMA(model)
    it0, best = 0, -1.0
    last = out / "last.pt"
    if args.resume and last.exists():
        st = torch.load(last, map_location=dev, weights_only=True)
        model.load_state_dict(st["model"])
        ema.ema.load_state_dict(st["ema"])
        ema.updates = st["ema_updates"]
        opt.load_state_dict(st["optimizer"])
        it0, best = st["iter"], st.get("best", -1.0)
        LOGGER.info("resumed from %s at iteration %d", last, it0)
    elif args.resume_from:
        st = torch.load(args.resume_from, map_location=dev, weights_only=True)
        sd = {k: v.float() if v.is_floating_point() else v for k, v in st["state_dict"].items()}
        model.load_state_dict(sd)
        ema.ema.load_state_dict(sd)
        it0 = int(st.get("meta", {}).get("iter", 0))
        ema.updates = it0
        LOGGER.info("resumed weights from snapshot %s at iteration %d (fresh optimizer)", args.resume_from, it0)
    images, labels = build_pool(args.pool, args.render_size, args.seed * 1_000_000, args.workers)
    batcher = Batcher(images, labels, args.imgsz)
    loss_fn = YoloLoss(model, args.imgsz)
    bad_streak, t_start, seen = 0, time.time(), 0
    lr_scale = 1.0
    warmup = args.warmup if it0 == 0 or not args.resume_from else min(args.warmup, 100) + it0
    # one bar over the iterations (shown on a terminal or with --progress); the log lines stay
    bar = Progress(args.iters, desc="train", unit="it", force=getattr(args, "progress", None))
    bar.set(it0)
    for it in range(it0, args.iters):
        rng = np.random.default_rng([args.seed, it])
        x, targets = batcher.batch(args.batch, rng)
        x, targets = x.to(dev, non_blocking=True), targets.to(dev)
        lr = lr_at(it, args.iters, args.lr, warmup, args.lrf) * lr_scale
        for g in opt.param_groups:
            g["lr"] = lr
        loss, parts = loss_fn(model(x), targets)
        if not torch.isfinite(loss):
            bad_streak += 1
            opt.zero_grad(set_to_none=True)
            LOGGER.warning("iteration %d: non-finite loss, step skipped (%d in a row)", it, bad_streak)
            if bad_streak >= 5 and last.exists():
                st = torch.load(last, map_location=dev, weights_only=True)
                model.load_state_dict(st["model"])
                opt = make_optimizer(model, args.lr, args.wd)
                lr_scale *= 0.5
                bad_streak = 0
                LOGGER.warning("reloaded %s, learning rate scale now %.3g", last, lr_scale)
            bar.update(1)
            continue
        bad_streak = 0
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        ema.update(model)
        seen += args.batch
        bar.update(1)
        if (it + 1) % args.log_every == 0:
            el = time.time() - t_start
            ips = seen / el
            eta = (args.iters - it - 1) * args.batch / max(ips, 1e-9)
            LOGGER.info("it %d/%d  loss box %.4f obj %.4f cls %.4f  lr %.2e  %.1f img/s  eta %.0f min",
                        it + 1, args.iters, *parts.tolist(), lr, ips, eta / 60)
        final = it + 1 == args.iters
        if (it + 1) % args.save_every == 0 or final:
            st = {"model": model.state_dict(), "ema": ema.ema.state_dict(), "ema_updates": ema.updates,
                  "optimizer": opt.state_dict(), "iter": it + 1, "best": best}
            torch.save(st, out / "last.pt.part")
            os.replace(out / "last.pt.part", last)
            snap = copy.deepcopy(ema.ema).cpu()
            save_model(snap, out / "ema_snapshot.pt", iter=it + 1, imgsz=args.imgsz, cfg=str(args.cfg))
            if args.export_resume:
                save_model(snap, args.export_resume, iter=it + 1, imgsz=args.imgsz, cfg=str(args.cfg))
        if (it + 1) % args.eval_every == 0 or final:
            snap = copy.deepcopy(ema.ema).float().eval()
            res = evaluate(snap, n_images=args.eval_images if not final else args.final_eval_images,
                           imgsz=args.imgsz, progress=False)  # the training bar is the one shown
            LOGGER.info("eval it %d: mAP@0.5 %.4f  mAP@0.5:0.95 %.4f  %s", it + 1, res.map50, res.map50_95,
                        res.per_class_ap50)
            if res.map50 >= best:
                best = res.map50
                save_model(snap.cpu(), out / "best.pt", iter=it + 1, imgsz=args.imgsz, map50=res.map50,
                           map50_95=res.map50_95, cfg=str(args.cfg))
    bar.close()
    return out / "best.pt"


def main(argv: list[str] | None = None) -> int:
    """``python -m gam_gui.train.trainer`` = ``gam-gui train`` (the options live in :mod:`gam_gui.cli`,
    so that ``--help`` needs no torch)."""
    from gam_gui.train.args import train_parser

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = train_parser().parse_args(argv)
    best = train(args)
    LOGGER.info("done: %s", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
