"""Cost of faithfulness measurements (:func:`gam_gui.faithfulness.measure`) against one forward.

A measurement runs the model on the distinct perturbed copies of the frame (the original, the
deletion steps, the full baseline, the insertion steps), in batches. Each round times, in
alternating order: one plain single-image forward (``model(x)`` under ``no_grad`` on the letterboxed
tensor), one batched forward of ``steps`` images (the yardstick), the measurement of the strongest
detection's HiResCAM map with one tie order and no references (what a measurement cost before
issue 23), and the default measurement (``--tie-orders 4`` and the ``random`` and ``box`` maps); the
ratios are taken within the round, so background load hits all alike. Then, once each: the ROAD
fill of one mask against one single-image forward, the sanity check of one image, and the
pointing game (three methods) per image.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_faithfulness.py --imgsz 384 --repeat 5``
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOGGER = logging.getLogger("bench_faithfulness")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=None, help="checkpoint (default: the shipped model)")
    p.add_argument("--imgsz", type=int, default=384)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=10_000_000, help="validation image (rendered shapes) seed")
    p.add_argument("--pointing-images", type=int, default=10, help="images for the pointing game's cost")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import numpy as np
    import torch

    import gam_gui
    from gam_gui.data.shapes import render_sample
    from gam_gui.faithfulness import measure
    from gam_gui.faithfulness.impute import linear_impute
    from gam_gui.faithfulness.sanity import sanity_check
    from gam_gui.inference import preprocess
    from gam_gui.train.pointing import pointing_game

    torch.set_num_threads(args.threads)
    model = gam_gui.load_model(args.weights, device="cpu")
    img = render_sample(args.seed, 320).image
    res = gam_gui.analyze(model, img, method="hirescam", target=0, imgsz=args.imgsz)
    x, _ = preprocess(model, img, args.imgsz)
    xb = x.expand(args.steps, -1, -1, -1).contiguous()
    frames: dict[str, int] = {}

    def forward() -> None:
        with torch.no_grad():
            model(x)

    def batched() -> None:
        with torch.no_grad():
            model(xb)

    def counted(name: str, **kw: object) -> callable:
        def f() -> None:
            calls: list[int] = []
            h = model.register_forward_pre_hook(lambda _m, a: calls.append(len(a[0])))
            try:
                measure(model, img, res.cam, res.detections[0], steps=args.steps, imgsz=args.imgsz, **kw)
            finally:
                h.remove()
            frames[name] = sum(calls)
        return f

    variants = {"forward": forward, "batched": batched,
                "measure_1": counted("measure_1", tie_orders=1, references=False),
                "measure_default": counted("measure_default")}
    for f in variants.values():  # warm-up
        f()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.repeat):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for k in order:
            t0 = time.perf_counter()
            variants[k]()
            times[k].append((time.perf_counter() - t0) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

    LOGGER.info("imgsz %d, %d steps, %d thread(s), %d rounds, %s", args.imgsz, args.steps, args.threads,
                args.repeat, res.detections[0].name)
    LOGGER.info("forward (1 image)        %8.1f ms", med["forward"])
    LOGGER.info("forward (%d images)      %8.1f ms", args.steps, med["batched"])
    for k, what in (("measure_1", "1 tie order, no references"), ("measure_default", "4 tie orders + random + box")):
        LOGGER.info("measurement (%s) %8.1f ms, %d frames = %.1f x one forward, %.2f x one batched forward of %d",
                    what, med[k], frames[k], ratio(k, "forward"), ratio(k, "batched"), args.steps)
    content = x[0].permute(1, 2, 0).numpy()
    keep = np.random.default_rng(0).random(content.shape[:2]) > 0.5
    t0 = time.perf_counter()
    for _ in range(5):
        linear_impute(content, keep)
    road = (time.perf_counter() - t0) / 5 * 1000
    LOGGER.info("road fill of one mask    %8.1f ms = %.2f x one single-image forward", road, road / med["forward"])
    with torch.enable_grad():
        t0 = time.perf_counter()
        sanity_check(model, [img], ["hirescam"], imgsz=args.imgsz)
        LOGGER.info("sanity check, 1 image, 1 method  %8.1f ms (%d detections)", (time.perf_counter() - t0) * 1000,
                    len(res.detections))
        t0 = time.perf_counter()
        pointing_game(model, args.pointing_images, args.imgsz, methods=("gradcam", "hirescam", "layercam"),
                      progress=False)
        LOGGER.info("pointing game, 3 methods  %8.1f ms per image (%d images)",
                    (time.perf_counter() - t0) * 1000 / args.pointing_images, args.pointing_images)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
