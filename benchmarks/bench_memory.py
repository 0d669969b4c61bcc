"""Memory over a long run: RSS while ``analyze`` runs thousands of times with CAM on.

Cycles through Grad-CAM, EigenCAM, no CAM and per-detection CAMs (every 10th frame) on a set of
small rendered frames at a small input size, so every code path that registers hooks, builds an
autograd graph or keeps a CAM object is exercised. Prints RSS (from /proc) at the start, after the
warm-up, every few hundred frames and at the end, plus the hook count of the model and the number
of live tensors, which must not grow.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_memory.py --frames 2000 --imgsz 192``
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def live_tensors() -> int:
    import torch

    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isinstance() on some lazy torch module objects warns
        for o in gc.get_objects():
            try:
                if isinstance(o, torch.Tensor):
                    n += 1
            except ReferenceError:
                pass
    return n


def hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=None, help="checkpoint (default: $GAM_GUI_WEIGHTS or the shipped model)")
    p.add_argument("--frames", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--imgsz", type=int, default=192)
    p.add_argument("--every", type=int, default=250, help="print RSS every N frames")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    import gam_gui
    from gam_gui.analysis import analyze, per_detection_cams
    from gam_gui.data.shapes import render_sample

    model = gam_gui.load_model(args.weights, device="cpu")
    frames = [render_sample(1000 + i, (180, 240)).image for i in range(16)]
    methods = ["gradcam", "eigencam", "gradcam", "none", "gradcam++"]
    print(f"# gam-gui memory benchmark  {datetime.datetime.now().isoformat(timespec='seconds')}  "
          f"frames={args.frames} imgsz={args.imgsz} torch={torch.__version__}")
    h0 = hooks(model)
    gc.collect()
    start = rss_mb()
    print(f"start            rss {start:8.1f} MB  hooks {h0}  tensors {live_tensors()}")
    t0 = time.perf_counter()
    warm = None
    for i in range(args.frames):
        img = frames[i % len(frames)]
        if i % 10 == 9:
            per_detection_cams(model, img, None, "gradcam", conf=0.05, imgsz=args.imgsz)
        else:
            res = analyze(model, img, methods[i % len(methods)], conf=0.05, imgsz=args.imgsz)
            for g in res.gam[:1]:
                g.channel, g.spatial, g.channel_weights  # noqa: B018 - what the panels and chart draw
        n = i + 1
        if n == args.warmup:
            gc.collect()
            warm = rss_mb()
            print(f"after warm-up    rss {warm:8.1f} MB  ({n} frames)  tensors {live_tensors()}")
        elif n % args.every == 0 or n == args.frames:
            print(f"frame {n:>5}      rss {rss_mb():8.1f} MB  {n / (time.perf_counter() - t0):5.1f} frames/s")
            sys.stdout.flush()
    gc.collect()
    end = rss_mb()
    print(f"end              rss {end:8.1f} MB  hooks {hooks(model)}  tensors {live_tensors()}")
    base = warm if warm is not None else start
    print(f"growth after warm-up: {end - base:+.1f} MB over {args.frames - args.warmup} frames "
          f"(from start: {end - start:+.1f} MB); hooks {'unchanged' if hooks(model) == h0 else 'CHANGED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
