"""End-to-end frame rate of the video pipeline, with and without CAM.

Per frame: decode (:class:`gam_gui.sources.VideoSource`), :func:`gam_gui.analysis.analyze_with`,
:func:`gam_gui.render.compose` (the four-panel figure, what an export writes and the GUI paints in
pieces). Each decoded frame goes through every configuration in turn (round-robin), so background
load hits them alike; the decode time is measured once and charged to every configuration.

Prints, per configuration: median ms per frame and the frame rate that gives (1000 / median), the
throughput over the whole run (frames / total seconds), and the median analysis and compose times.
The pipeline itself never queues: the GUI worker skips frames whose time has passed (see
``gam_gui.ui.worker``), so a configuration slower than the video's frame rate shows up as dropped
frames there, not as latency.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_video.py --imgsz 640 320``
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=None, help="checkpoint (default: $GAM_GUI_WEIGHTS or the shipped model)")
    p.add_argument("--video", default=str(ROOT / "resources" / "sample.mp4"))
    p.add_argument("--imgsz", type=int, nargs="+", default=[640, 320])
    p.add_argument("--methods", nargs="+", default=["none", "gradcam", "eigencam"])
    p.add_argument("--frames", type=int, default=0, help="frames per size (0: the whole video)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)  # OpenCV's pool too: its idle workers spin and count as CPU time

    import gam_gui
    from gam_gui.analysis import Settings, analyze_with
    from gam_gui.render import compose
    from gam_gui.sources import VideoSource

    model = gam_gui.load_model(args.weights, device="cpu")
    print(f"# gam-gui video pipeline benchmark  {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"# cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} torch={torch.__version__} threads={args.threads}")
    for size in args.imgsz:
        configs = {m: Settings(method=m, imgsz=size) for m in args.methods}
        decode: list[float] = []
        total = {m: [] for m in configs}
        analysis = {m: [] for m in configs}
        render = {m: [] for m in configs}
        with VideoSource(args.video) as src:
            label = f"{src.label} {src.count} frames @ {src.fps:.0f} fps"
            n = 0
            warm = True
            while True:
                t0 = time.perf_counter()
                fr = src.read()
                t_dec = time.perf_counter() - t0
                if fr is None or (args.frames and n >= args.frames):
                    break
                shape = fr.image.shape
                for m, s in configs.items():
                    t1 = time.perf_counter()
                    res = analyze_with(model, fr.image, s)
                    t2 = time.perf_counter()
                    compose(fr.image, res, s)
                    t3 = time.perf_counter()
                    if not warm:
                        analysis[m].append(t2 - t1)
                        render[m].append(t3 - t2)
                        total[m].append(t_dec + t3 - t1)
                if not warm:
                    decode.append(t_dec)
                warm = False
                n += 1
        print(f"\n## imgsz {size}: {label}, frames {shape[1]}x{shape[0]}, {len(decode)} timed "
              f"(decode median {statistics.median(decode) * 1e3:.1f} ms)")
        print(f"{'config':<12} {'ms/frame':>9} {'fps':>7} {'thru fps':>9} {'analyze ms':>11} {'compose ms':>11}")
        for m in configs:
            med = statistics.median(total[m])
            print(f"{m:<12} {med * 1e3:9.1f} {1 / med:7.1f} {len(total[m]) / sum(total[m]):9.1f} "
                  f"{statistics.median(analysis[m]) * 1e3:11.1f} {statistics.median(render[m]) * 1e3:11.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
