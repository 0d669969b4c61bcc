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
#: What ``gam-gui eval --pointing`` compares when no ``--methods`` are given.
POINTING_METHODS = ("gradcam", "hirescam", "layercam")


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


#: What ``gam-gui eval --faithfulness`` compares when no ``--methods`` are given.
FAITHFULNESS_METHODS = ("gradcam", "hirescam", "layercam", "eigencam")
FAITHFULNESS_COLUMNS = ("pointing", "energy_in_box", "deletion_auc", "insertion_auc")


def faithfulness_eval(model: nn.Module, n_images: int = 100, imgsz: int = 384, conf: float = 0.25,
                      methods: tuple[str, ...] = FAITHFULNESS_METHODS, steps: int = 16, baseline: str = "blur",
                      seed0: int = VAL_SEED0, render_size: int = 320, progress: bool | None = None) -> dict:
    """Per method, the mean over every detection (at ``conf``) of the validation images of its
    pointing, energy in box, deletion AUC and insertion AUC (:mod:`gam_gui.faithfulness`), each map
    targeted at that one detection as a click in the window does (``target=i``; all of a frame's maps
    from one batched backward, :func:`gam_gui.analysis.per_detection_cams`).

    Costs one batched forward of 2 * ``steps`` images per detection and method: far more than the mAP.
    """
    from gam_gui.analysis import per_detection_cams
    from gam_gui.faithfulness import measure
    from gam_gui.inference import detect

    sums = {m: np.zeros(len(FAITHFULNESS_COLUMNS)) for m in methods}
    total, ms = 0, []
    with Progress(n_images, desc=f"faithfulness ({', '.join(methods)})", unit="img", force=progress) as bar:
        for k in range(n_images):
            img = render_sample(seed0 + k, render_size).image
            dets = detect(model, img, conf=conf, imgsz=imgsz)
            total += len(dets)
            done: list[tuple[list[np.ndarray], list]] = []  # maps measured on this image (``auto`` = HiResCAM's)
            for method in methods:
                maps = per_detection_cams(model, img, method=method, conf=conf, imgsz=imgsz) if dets else []
                if len(maps) != len(dets):  # the CAM's forward found other boxes: a bug, not a data point
                    raise RuntimeError(f"image {k}: {len(maps)} maps for {len(dets)} detections")
                same = next((sc for m0, sc in done if all(np.array_equal(a, b) for a, b in zip(m0, maps))), None)
                scores = same or [measure(model, img, cam, d, steps=steps, baseline=baseline, imgsz=imgsz)
                                  for cam, d in zip(maps, dets)]
                done.append((maps, scores))
                for s in scores:
                    sums[method] += (s.pointing, s.energy_in_box, s.deletion_auc, s.insertion_auc)
                    if same is None:
                        ms.append(s.ms)
            bar.update()
    out: dict = {"images": n_images, "detections": total, "imgsz": imgsz, "conf": conf, "steps": steps,
                 "baseline": baseline, "ms_per_measurement": round(float(np.median(ms)), 1) if ms else None,
                 "methods": {}}
    for method in methods:
        row = sums[method] / total if total else np.full(len(FAITHFULNESS_COLUMNS), np.nan)
        out["methods"][method] = {c: round(float(v), 4) for c, v in zip(FAITHFULNESS_COLUMNS, row)}
        LOGGER.info("faithfulness %s: %s", method, out["methods"][method])
    return out


def faithfulness_table(res: dict) -> str:
    """A markdown table of :func:`faithfulness_eval`'s result, one row per method."""
    lines = ["| method | pointing | energy in box | deletion AUC (lower is better) | insertion AUC (higher is "
             "better) |", "|---|---|---|---|---|"]
    for method, r in res["methods"].items():
        lines.append(f"| {method} | {r['pointing']:.3f} | {r['energy_in_box']:.3f} | {r['deletion_auc']:.3f} | "
                     f"{r['insertion_auc']:.3f} |")
    return "\n".join(lines)
