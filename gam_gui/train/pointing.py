"""Heatmap sanity: the pointing game. For each detection, is the peak of its own CAM inside its box?"""

from __future__ import annotations

import logging

import numpy as np
from torch import nn

from gam_gui.analysis import analyze
from gam_gui.data.shapes import render_sample
from gam_gui.progress import Progress
from gam_gui.train.evaluate import VAL_SEED0

LOGGER = logging.getLogger(__name__)


def pointing_game(model: nn.Module, n_images: int = 500, imgsz: int = 320, conf: float = 0.25,
                  methods: tuple[str, ...] = ("gradcam",), seed0: int = VAL_SEED0, render_size: int = 320,
                  progress: bool | None = None) -> dict:
    """Per method: the fraction of detections (at ``conf``) whose CAM, targeted at that detection,
    peaks inside that detection's box. ``progress``: a bar per image (see :mod:`gam_gui.progress`);
    this part costs one CAM per detection and method, far more than the mAP."""
    hits = dict.fromkeys(methods, 0)
    total = 0
    with Progress(n_images, desc=f"pointing game ({', '.join(methods)})", unit="img", force=progress) as bar:
        for k in range(n_images):
            img = render_sample(seed0 + k, render_size).image
            base = analyze(model, img, "none", conf=conf, imgsz=imgsz)
            for i, d in enumerate(base.detections):
                x1, y1, x2, y2 = d.xyxy
                total += 1
                for method in methods:
                    cam = analyze(model, img, method, target=i, conf=conf, imgsz=imgsz).cam
                    py, px = np.unravel_index(int(np.argmax(cam)), cam.shape)
                    hits[method] += int(x1 <= px <= x2 and y1 <= py <= y2)
            bar.update()
    out = {"images": n_images, "detections": total, "imgsz": imgsz}
    for method in methods:
        out[method] = round(hits[method] / total, 4) if total else float("nan")
        LOGGER.info("pointing game %s: %d/%d = %.4f", method, hits[method], total, out[method])
    return out
