"""What a causal test costs: an ablation next to the analysis, and the A/B compare view's frame rate.

Prints, from one interleaved run (ratios are what to read on a shared machine):

* ``analyze`` (Grad-CAM, all detections) on a sample frame, and the extra ``ablate(..., before=...)``
  that the GUI and ``gam-gui ablate`` add: one more forward with the ablation, plus the match table;
* ``compare`` of two models (CAM on both) over the frames of ``sample.mp4``, as frames per second.

    python benchmarks/bench_ablation.py [--imgsz 384] [--rounds 15] [--b weights/yolov5n_shapes.pt]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from gam_gui import load_model, read_image
from gam_gui.ablation import ablate
from gam_gui.analysis import Settings, analyze_with
from gam_gui.compare import compare
from gam_gui.inference import preprocess
from gam_gui.sources import open_source

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgsz", type=int, default=384)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--b", default=str(ROOT / "weights" / "yolov5n_shapes.pt"),
                    help="model B for the compare figure (default: the shipped baseline)")
    ap.add_argument("--frames", type=int, default=60, help="frames of sample.mp4 for the compare fps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model()
    img = read_image(ROOT / "resources" / "samples" / "shapes_01.jpg")
    s = Settings(imgsz=args.imgsz, method="gradcam")
    for _ in range(3):
        analyze_with(model, img, s)
    x, _ = preprocess(model, img, s.imgsz)
    t_fw, t_an, t_ab = [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x)
        t1 = time.perf_counter()
        res = analyze_with(model, img, s)
        t2 = time.perf_counter()
        ablate(model, img, {18: "off"}, conf=s.conf, iou=s.iou, imgsz=s.imgsz, before=res.detections)
        t3 = time.perf_counter()
        t_fw.append(t1 - t0)
        t_an.append(t2 - t1)
        t_ab.append(t3 - t2)
    fw, an, ab = (statistics.median(t) * 1e3 for t in (t_fw, t_an, t_ab))
    print(f"imgsz {args.imgsz}, {args.rounds} rounds, {args.threads} thread(s), medians")
    print(f"plain forward model(x)        {fw:7.1f} ms")
    print(f"analyze (Grad-CAM)            {an:7.1f} ms   {an / fw:.2f}x forward")
    print(f"ablate 18:off, before given   {ab:7.1f} ms   {ab / fw:.2f}x forward, {ab / an:.2f}x analyze "
          f"(analyze + ablation = {1 + ab / an:.2f}x analyze)")

    b_path = Path(args.b)
    if not b_path.exists():
        print(f"compare: skipped, {b_path} not found (pass --b WEIGHTS)")
        return
    model_b = load_model(b_path)
    n, t0 = 0, time.perf_counter()
    with open_source(ROOT / "resources" / "sample.mp4") as src:
        for frame in src:
            compare(model, model_b, frame.image, s)
            n += 1
            if n >= args.frames:
                break
    dt = time.perf_counter() - t0
    print(f"compare view, sample.mp4, A = shipped GAM model, B = {b_path.name}, CAM on both: "
          f"{n / dt:.1f} fps over {n} frames")


if __name__ == "__main__":
    main()
