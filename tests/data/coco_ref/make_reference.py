"""Writes the pycocotools reference for tests/test_references.py (run by hand; needs pycocotools).

    python tests/data/coco_ref/make_reference.py tests/data/coco_ref      # gt.json, predictions.json, reference.json

The case is built to hit COCOeval's corners: background images with false positives, category ids that
are not 0..n-1, a category with detections but no ground truth, one with ground truth but no
detections, equal scores (within and across images), a crowd region, and an image with more than 100
detections of one class (pycocotools keeps the best 100 per image and category). ``make_case`` also
builds the larger random cases of the live comparison (``--live N``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

CATEGORIES = [(1, "circle"), (3, "triangle"), (7, "square"), (12, "star"), (20, "cross")]
NO_GT = 12  # "star": detections only
NO_DT = 20  # "cross": ground truth only


def _box(rng: np.random.Generator, w: int, h: int) -> list[float]:
    bw, bh = rng.uniform(4, w / 2), rng.uniform(4, h / 2)
    return [round(float(rng.uniform(0, w - bw)), 2), round(float(rng.uniform(0, h - bh)), 2),
            round(float(bw), 2), round(float(bh), 2)]


def _near(rng: np.random.Generator, b: list[float], jitter: float) -> list[float]:
    x, y, w, h = (v + rng.normal(0, jitter * max(b[2], b[3])) for v in b)
    return [round(float(x), 2), round(float(y), 2), round(float(max(w, 1.0)), 2), round(float(max(h, 1.0)), 2)]


def make_case(seed: int, n_images: int = 14, crowded: bool = True) -> tuple[dict, list[dict]]:
    """(COCO ground truth dict, COCO results list) for a random scene set with the corners above."""
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    gt_cats = [c for c, _ in CATEGORIES if c != NO_GT]
    dt_cats = [c for c, _ in CATEGORIES if c != NO_DT]
    for i in range(n_images):
        img_id = 1000 + 7 * i  # ids that are not positions
        w, h = int(rng.integers(120, 640)), int(rng.integers(120, 640))
        images.append({"id": img_id, "width": w, "height": h, "file_name": f"{img_id}.jpg"})
        background = i % 5 == 4
        many = i == 2
        n_gt = 0 if background else int(rng.integers(40, 60) if many else rng.integers(1, 9))
        for _ in range(n_gt):
            c = 1 if many else int(rng.choice(gt_cats))
            b = _box(rng, w, h)
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": c, "bbox": b,
                         "area": b[2] * b[3], "iscrowd": 0})
            for _ in range(int(rng.choice([0, 1, 1, 1, 2, 3]))):  # hits, duplicates, near misses
                if c == NO_DT:
                    break
                dc = c if rng.random() < 0.85 else int(rng.choice(dt_cats))
                jitter = rng.choice([0.01, 0.03, 0.06, 0.3])
                dets.append({"image_id": img_id, "category_id": dc, "bbox": _near(rng, b, jitter),
                             "score": round(float(rng.beta(4, 2)), int(rng.choice([2, 6])))})
        if crowded and i == 1:  # a crowd region and detections inside it
            b = [10.0, 10.0, w / 2, h / 2]
            anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": 3, "bbox": b,
                         "area": b[2] * b[3], "iscrowd": 1})
            for _ in range(4):
                box = [20.0 + 5 * rng.random(), 20.0, w / 6, h / 6]
                dets.append({"image_id": img_id, "category_id": 3, "bbox": box,
                             "score": round(float(rng.random()), 3)})
        n_fp = int(rng.integers(60, 80) if many else rng.integers(0, 6))
        for _ in range(n_fp):  # false positives anywhere, some at tied scores
            score = 0.5 if rng.random() < 0.2 else round(float(rng.beta(2, 4)), 4)
            dets.append({"image_id": img_id, "category_id": 1 if many else int(rng.choice(dt_cats)),
                         "bbox": _box(rng, w, h), "score": score})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": n} for c, n in CATEGORIES]}
    return gt, dets


def pycocotools_stats(gt: dict, dets: list[dict]) -> dict:
    """COCOeval's AP@[.5:.95], AP@.5 and per-category AP / AP50 (None where a category has no ground truth)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        res = coco.loadRes(json.loads(json.dumps(dets)))
        ev = COCOeval(coco, res, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]  # [T, R, K, area, maxDets]
    per_class = {}
    for k, cat in enumerate(ev.params.catIds):
        name = next(n for c, n in CATEGORIES if c == cat)
        p = prec[:, :, k, 0, -1]
        p50 = prec[0, :, k, 0, -1]
        per_class[name] = {"ap50_95": float(p[p > -1].mean()) if (p > -1).any() else None,
                           "ap50": float(p50[p50 > -1].mean()) if (p50 > -1).any() else None}
    return {"map50_95": float(ev.stats[0]), "map50": float(ev.stats[1]), "per_class": per_class}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args()
    gt, dets = make_case(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gt.json").write_text(json.dumps(gt, separators=(",", ":")))
    (args.out / "predictions.json").write_text(json.dumps(dets, separators=(",", ":")))
    import pycocotools

    version = getattr(pycocotools, "__version__", "2.0.11")
    ref = {"pycocotools": version, "seed": args.seed, **pycocotools_stats(gt, dets)}
    (args.out / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps(ref))


if __name__ == "__main__":
    main()
