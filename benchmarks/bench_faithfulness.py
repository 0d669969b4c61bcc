"""Cost of one faithfulness measurement (:func:`gam_gui.faithfulness.measure`) against one forward.

One measurement runs the model once on a batch of 2 x ``steps`` perturbed copies of the frame (the
original, the deletion steps, the full baseline, the insertion steps), so its cost is about 2 x
``steps`` single-image forwards, less what batching saves. Each round times, in alternating order,
one plain single-image forward (``model(x)`` under ``no_grad`` on the letterboxed tensor), one
batched forward of ``steps`` images (the issue's yardstick) and one measurement of the strongest
detection's HiResCAM map (the map itself is made before timing); the ratios are taken within the
round, so background load hits all three alike. Prints ms per measurement and the median ratios.

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
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import torch

    import gam_gui
    from gam_gui.data.shapes import render_sample
    from gam_gui.faithfulness import measure
    from gam_gui.inference import preprocess

    torch.set_num_threads(args.threads)
    model = gam_gui.load_model(args.weights, device="cpu")
    img = render_sample(args.seed, 320).image
    res = gam_gui.analyze(model, img, method="hirescam", target=0, imgsz=args.imgsz)
    x, _ = preprocess(model, img, args.imgsz)
    xb = x.expand(args.steps, -1, -1, -1).contiguous()

    def forward() -> None:
        with torch.no_grad():
            model(x)

    def batched() -> None:
        with torch.no_grad():
            model(xb)

    def measured() -> None:
        measure(model, img, res.cam, res.detections[0], steps=args.steps, imgsz=args.imgsz)

    variants = {"forward": forward, "batched": batched, "measure": measured}
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
    r1 = statistics.median(m / f for m, f in zip(times["measure"], times["forward"]))
    rb = statistics.median(m / b for m, b in zip(times["measure"], times["batched"]))
    LOGGER.info("imgsz %d, %d steps (%d images per measurement), %d thread(s), %d rounds, %s",
                args.imgsz, args.steps, 2 * args.steps, args.threads, args.repeat, res.detections[0].name)
    LOGGER.info("forward (1 image)        %8.1f ms", med["forward"])
    LOGGER.info("forward (%d images)      %8.1f ms", args.steps, med["batched"])
    LOGGER.info("measurement              %8.1f ms = %.1f x one forward, %.2f x one batched forward of %d",
                med["measure"], r1, rb, args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
