"""What the shipped model's GAM blocks do inside and outside the objects: gates and log2 gains.

For the first N validation images (``gam_gui.data.shapes.VAL_SEED0``), every GAM block's channel
gate and spatial gate (mean over channels) and its log2 energy gains (block, channel branch, spatial
branch; :meth:`gam_gui.explain.attention.GamMaps.gain`) are averaged over the pixels inside the
ground-truth boxes and over the pixels outside them. Prints a Markdown table (the README's).

    python benchmarks/measure_gain.py --images 50 --imgsz 384
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

import gam_gui
from gam_gui.data.shapes import VAL_SEED0, render_sample

LOGGER = logging.getLogger("measure_gain")
QUANTITIES = ("channel gate", "spatial gate", "log2 block gain", "log2 channel-branch gain",
              "log2 spatial-branch gain")


def measure(model, n_images: int, imgsz: int) -> dict[int, dict[str, tuple[float, float]]]:
    """layer -> quantity -> (mean inside the boxes, mean outside), pixels of all images pooled."""
    sums: dict[int, dict[str, np.ndarray]] = {}
    for k in range(n_images):
        smp = render_sample(VAL_SEED0 + k, 320)
        res = gam_gui.analyze(model, smp.image, method="none", imgsz=imgsz)
        inside = np.zeros(smp.image.shape[:2], bool)
        for x1, y1, x2, y2 in smp.boxes_xyxy().round().astype(int):
            inside[max(0, y1):y2, max(0, x1):x2] = True
        if not inside.any() or inside.all():
            continue
        for g in res.gam:
            maps = {"channel gate": g.raw("channel"), "spatial gate": g.raw("spatial"),
                    "log2 block gain": g.gain("block"), "log2 channel-branch gain": g.gain("channel"),
                    "log2 spatial-branch gain": g.gain("spatial")}
            acc = sums.setdefault(g.index, {q: np.zeros(4) for q in QUANTITIES})
            for q, m in maps.items():
                acc[q] += (m[inside].sum(), inside.sum(), m[~inside].sum(), (~inside).sum())
    return {i: {q: (a[0] / a[1], a[2] / a[3]) for q, a in acc.items()} for i, acc in sums.items()}


def table(stats: dict[int, dict[str, tuple[float, float]]]) -> str:
    rows = ["| layer | " + " | ".join(QUANTITIES) + " |", "|---|" + "---|" * len(QUANTITIES)]
    for i, st in sorted(stats.items()):
        rows.append(f"| {i} | " + " | ".join(f"{st[q][0]:+.2f} / {st[q][1]:+.2f}" for q in QUANTITIES) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50)
    ap.add_argument("--imgsz", type=int, default=384)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stats = measure(gam_gui.load_model(), args.images, args.imgsz)
    LOGGER.info("inside / outside the ground-truth boxes, %d validation images at %d px:\n%s", args.images,
                args.imgsz, table(stats))


if __name__ == "__main__":
    main()
