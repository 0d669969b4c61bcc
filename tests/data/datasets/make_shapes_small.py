"""Regenerate ``tests/data/datasets/shapes_small``: a user-layout dataset in both YOLO and COCO form.

Ten 128 px JPEGs of the shapes validation set (the first 8 labelled and the first 2 empty images
from seed VAL_SEED0 on), labelled as a user's data would be:
``data.yaml`` with an ``{id: name}`` dict, ``images/val`` + ``labels/val``, two background images (one
without a label file, one with an empty file) and two bad label files (``000003.txt``: a class outside
names and a malformed row; ``000006.txt``: a duplicate row and a zero-width row). The same ground
truth (the good rows only) as COCO: ``annotations/instances_val.json``, category ids 1..5.

    python tests/data/datasets/make_shapes_small.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2

from gam_gui.data.shapes import CLASS_NAMES, VAL_SEED0, labels_to_xyxy, render_sample
from gam_gui.datasets.shapes import format_label

OUT = Path(__file__).resolve().parent / "shapes_small"
SIZE = 128


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "images" / "val").mkdir(parents=True)
    (OUT / "labels" / "val").mkdir(parents=True)
    (OUT / "annotations").mkdir()
    images, anns = [], []
    backgrounds = labelled = 0
    seed, k = VAL_SEED0, 0
    while k < 10:
        smp = render_sample(seed, SIZE)
        seed += 1
        if not len(smp.labels):
            if backgrounds == 2:
                continue
            backgrounds += 1
        elif labelled == 8:
            continue
        else:
            labelled += 1
        name = f"{k:06d}"
        ok, enc = cv2.imencode(".jpg", smp.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        enc.tofile(str(OUT / "images" / "val" / f"{name}.jpg"))
        rows = [format_label(r) for r in smp.labels]
        if k == 3:
            rows += ["9 0.5 0.5 0.1 0.1", "0 0.5 0.5"]
        if k == 6:
            rows += [rows[0], "1 0.5 0.5 0 0.1"]
        if len(smp.labels) or backgrounds == 2:  # the first background has no label file, the second an empty one
            (OUT / "labels" / "val" / f"{name}.txt").write_text("".join(r + "\n" for r in rows))
        images.append({"id": k, "file_name": f"{name}.jpg", "width": SIZE, "height": SIZE})
        for r, box in zip(smp.labels, labels_to_xyxy(smp.labels, SIZE, SIZE), strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            anns.append({"id": len(anns) + 1, "image_id": k, "category_id": int(r[0]) + 1,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        k += 1
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES))
    (OUT / "data.yaml").write_text(f"# tests/data/datasets/make_shapes_small.py\nval: images/val\nnames:\n{names}\n")
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(CLASS_NAMES)]
    (OUT / "annotations" / "instances_val.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": cats}, indent=0))


if __name__ == "__main__":
    main()
