"""Cost of explaining one frame, as ratios to the plain forward pass it explains.

Every variant runs on the same model, the same preprocessed input and in the same process. Each
round times every variant right next to a plain forward (in alternating order), and the ratio is
taken within that pair, so that background load and drifts in machine speed hit both alike; the
script prints, per variant, the median wall-clock and CPU (process) times, the median of the
per-pair ratios and their interquartile range. On a shared machine the CPU-time ratios are the
steadier figure: a process that is preempted does not accumulate CPU time. By default everything
runs on one thread (torch, the BLAS behind numpy, OpenCV) so that wall and CPU time describe the
same work.

Variants (per input size):

* ``forward``: ``model(x)`` under ``torch.no_grad()`` on the letterboxed tensor (the denominator);
* ``analyze none``: ``gam_gui.analyze(method="none")``: preprocess, forward, NMS, the GAM
  attention tensors (reduced and resized only when read); ``+ shown GAM maps`` also reads the
  channel and spatial maps and channel weights of the one block the GUI shows; ``+ all GAM maps``
  reads them for all three blocks;
* ``analyze <method>``: detections + that CAM (all detections as the target) + GAM maps;
* ``per-detection x10``: :func:`gam_gui.analysis.per_detection_cams` for 10 detections;
* ``stock ...``: pytorch-grad-cam's own call as a user writes it (the anchor): construct the CAM
  object, call it with a :class:`~gam_gui.explain.cams.YoloTarget` (its own forward and backward);
  ``stock per-box x10`` makes that call once per box.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_analysis.py --sizes 320 640 --repeat 7``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=None,
                   help="checkpoint (default: $GAM_GUI_WEIGHTS or the shipped model; 'yaml' builds an "
                        "untrained YOLOv5n-GAM from the YAML)")
    p.add_argument("--image", default="shapes:5",
                   help="an image file, or shapes:SEED for a rendered 640x480 frame with up to 16 shapes "
                        "(default shapes:5: about 20 detections at conf 0.25, on all three levels)")
    p.add_argument("--conf", type=float, default=0.25, help="lowered if fewer than --boxes detections remain")
    p.add_argument("--sizes", type=int, nargs="+", default=[320, 640])
    p.add_argument("--repeat", type=int, default=7, help="rounds (each round runs every variant once)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    p.add_argument("--boxes", type=int, default=10, help="detections for the per-detection variants")
    p.add_argument("--methods", nargs="+", default=None, help="CAM methods (default: all)")
    p.add_argument("--no-stock", action="store_true", help="skip the pytorch-grad-cam anchors (slow at 640)")
    p.add_argument("--stock-perbox-max", type=int, default=640,
                   help="largest size at which the stock per-box variant runs (it costs ~20 forwards)")
    return p.parse_args(argv)


def run_size(args: argparse.Namespace, model, image: np.ndarray, methods: list[str], layers: list, size: int) -> None:
    """One input size: every variant, round-robin, then the table."""
    import torch
    from pytorch_grad_cam import EigenCAM, GradCAM

    from gam_gui.analysis import analyze, per_detection_cams
    from gam_gui.explain.cams import YoloTarget
    from gam_gui.inference import non_max_suppression, preprocess

    x, _ = preprocess(model, image, size)
    with torch.no_grad():
        det_all = non_max_suppression(model(x), 0.001, 0.45)[0]
    if len(det_all) < args.boxes:
        raise SystemExit(f"only {len(det_all)} detections at conf 0.001; need {args.boxes}")
    # The GUI's threshold, lowered only when it keeps fewer than --boxes detections.
    conf = min(args.conf, float(det_all[args.boxes - 1, 4]) - 1e-6)
    det = non_max_suppression(model(x).detach(), conf, 0.45)[0]
    rows, classes = det[:, 6].long(), det[:, 5].long()
    box_idx = list(range(args.boxes))

    def stock(cls, targets):
        with cls(model=model, target_layers=layers) as cam:
            return cam(input_tensor=x, targets=targets)

    def plain_forward():
        with torch.no_grad():
            model(x)

    def none_all_maps():
        r = analyze(model, image, "none", conf=conf, imgsz=size)
        for g in r.gam:
            g.channel, g.spatial, g.channel_weights  # noqa: B018

    def none_shown_maps():
        r = analyze(model, image, "none", conf=conf, imgsz=size)
        g = r.gam_for(None)
        g.channel, g.spatial, g.channel_weights  # noqa: B018 - what the GUI's panels and chart draw

    variants: dict[str, Callable[[], object]] = {
        "forward": plain_forward,
        "analyze none": lambda: analyze(model, image, "none", conf=conf, imgsz=size),
        "analyze none + shown GAM maps": none_shown_maps,
        "analyze none + all GAM maps": none_all_maps,
    }
    for m in methods:
        variants[f"analyze {m}"] = lambda m=m: analyze(model, image, m, conf=conf, imgsz=size)
    variants[f"per-detection gradcam x{args.boxes}"] = lambda: per_detection_cams(
        model, image, box_idx, "gradcam", conf=conf, imgsz=size)
    if not args.no_stock:
        variants["stock GradCAM (all boxes)"] = lambda: stock(GradCAM, [YoloTarget(rows, classes)])
        variants["stock EigenCAM"] = lambda: stock(EigenCAM, [YoloTarget(rows, classes)])
        if size <= args.stock_perbox_max:
            variants[f"stock GradCAM per-box x{args.boxes}"] = lambda: [
                stock(GradCAM, [YoloTarget(rows[k : k + 1], classes[k : k + 1])]) for k in box_idx]

    # Each variant is timed next to its own plain forward (order alternating between rounds), and
    # its ratio is taken within that pair: drifts in machine speed (a neighbour's load, frequency)
    # cancel. Reported: the median of the per-pair ratios, and their interquartile range.
    names = [k for k in variants if k != "forward"]
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    rw: dict[str, list[float]] = {k: [] for k in names}
    rc: dict[str, list[float]] = {k: [] for k in names}

    def timed(fn: Callable[[], object]) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - t0, time.process_time() - c0

    for r in range(args.warmup + args.repeat):
        for name in names:
            if r % 2:
                (vw, vc), (fw, fc) = timed(variants[name]), timed(plain_forward)
            else:
                (fw, fc), (vw, vc) = timed(plain_forward), timed(variants[name])
            if r >= args.warmup:
                wall["forward"].append(fw)
                cpu["forward"].append(fc)
                wall[name].append(vw)
                cpu[name].append(vc)
                rw[name].append(vw / fw)
                rc[name].append(vc / fc)
        model.zero_grad(set_to_none=True)  # the stock calls leave weight gradients behind
    head = model.model[-1]
    ends, total = [], 0
    for st in head.stride.tolist():
        total += head.na * (x.shape[2] // int(st)) * (x.shape[3] // int(st))
        ends.append(total)
    levels = [next(j for j, e in enumerate(ends) if r < e) for r in rows[: args.boxes].tolist()]
    per_level = "/".join(str(levels.count(j)) for j in range(len(ends)))
    print(f"\n## imgsz {size}: input {tuple(x.shape[2:])}, conf {conf:.4g} -> {len(det)} detections; "
          f"the {args.boxes} per-detection boxes by level (stride 8/16/32): {per_level}")
    print(f"{'variant':<34} {'wall ms':>8} {'x fwd':>6} {'(IQR)':>11}  {'cpu ms':>8} {'x fwd':>6} {'(IQR)':>11}")
    fw, fc = statistics.median(wall["forward"]), statistics.median(cpu["forward"])
    print(f"{'forward':<34} {fw * 1e3:8.1f} {1:6.2f} {'':>11}  {fc * 1e3:8.1f} {1:6.2f}")
    for name in names:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        qw, qc = np.percentile(rw[name], [25, 75]), np.percentile(rc[name], [25, 75])
        print(f"{name:<34} {w * 1e3:8.1f} {statistics.median(rw[name]):6.2f} {f'{qw[0]:.2f}-{qw[1]:.2f}':>11}  "
              f"{c * 1e3:8.1f} {statistics.median(rc[name]):6.2f} {f'{qc[0]:.2f}-{qc[1]:.2f}':>11}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # numpy's BLAS too, for the stock call as much as for ours
    import cv2

    cv2.setNumThreads(args.threads)  # OpenCV's pool too: its idle workers spin and count as CPU time

    import gam_gui
    from gam_gui.analysis import default_layers
    from gam_gui.explain.cams import METHODS

    if args.weights == "yaml":
        from gam_gui.checkpoints import prepare_for_inference
        from gam_gui.models.yolov5 import DetectionModel

        torch.manual_seed(0)
        model = prepare_for_inference(DetectionModel("yolov5n_GAM", nc=5), "cpu")
    else:
        model = gam_gui.load_model(args.weights, device="cpu")
    if args.image.startswith("shapes:"):
        from gam_gui.data.shapes import render_sample

        image = render_sample(int(args.image.split(":", 1)[1]), (480, 640), max_objects=16).image
    else:
        image = cv2.imread(args.image)
    if image is None:
        raise SystemExit(f"cannot read {args.image}")
    methods = args.methods or [m for m in METHODS if m != "none"]
    layers = [model.model[i] for i in default_layers(model)]

    print(f"# gam-gui analysis benchmark  {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"# {platform.node()}  {platform.processor() or platform.machine()}  cpus={os.cpu_count()}  "
          f"load={os.getloadavg()[0]:.2f}  torch={torch.__version__}  threads={args.threads}")
    from gam_gui.checkpoints import default_weights_path

    print(f"# weights={args.weights or default_weights_path()}  image={args.image} {image.shape[1]}x{image.shape[0]}  "
          f"layers={default_layers(model)}  repeat={args.repeat}")

    for size in args.sizes:
        run_size(args, model, image, methods, layers, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
