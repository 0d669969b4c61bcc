"""Write the shapes data the reference checkpoint is trained and validated on (YOLO layout)."""
import sys
from pathlib import Path

import cv2
import numpy as np

from gam_gui.data.shapes import CLASS_NAMES, render_sample

SIZES = [(160, 160), (120, 160), (160, 120), (144, 176), (208, 144), (240, 240), (96, 160), (200, 200)]


def write(out: Path, split: str, n: int, seed0: int) -> None:
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed0)
    for i in range(n):
        h, w = SIZES[int(rng.integers(len(SIZES)))]
        smp = render_sample(seed0 + i, (h, w))
        stem = f"{seed0 + i:06d}"
        cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), smp.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows = [f"{int(r[0])} {r[1]:.6f} {r[2]:.6f} {r[3]:.6f} {r[4]:.6f}" for r in smp.labels]
        if rows or i % 2:  # some background images have no label file at all, some an empty one
            (out / "labels" / split / f"{stem}.txt").write_text("".join(r + "\n" for r in rows))


out = Path(sys.argv[1])
write(out, "train", int(sys.argv[2]), 100000)
write(out, "val", int(sys.argv[3]), 200000)
names = "".join(f"  {i}: {n}\n" for i, n in enumerate(CLASS_NAMES))
(out / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}")
