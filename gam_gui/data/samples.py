"""The sample media shipped in ``resources/``: a few still images and a short video with moving shapes.

Deterministic, so ``python -m gam_gui.data.samples`` regenerates exactly what is committed.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import cv2
import numpy as np

from gam_gui.data.shapes import _background, _distractors, _draw_shape, _outline, render_sample
from gam_gui.video_out import VideoRecorder

LOGGER = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def make_images(out: Path, n: int = 6, size: tuple[int, int] = (480, 640), seed0: int = 90_000_000) -> list[Path]:
    """Still images with several objects each, picked from the generator (seeds far from train/val)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    seed = seed0
    while len(paths) < n:
        smp = render_sample(seed, size)
        seed += 1
        if not 2 <= len(smp.labels) <= 6:
            continue
        p = out / f"shapes_{len(paths) + 1:02d}.jpg"
        cv2.imwrite(str(p), smp.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(p)
    return paths


def make_video(path: Path, seconds: float = 12.0, fps: float = 15.0, size: tuple[int, int] = (288, 512),
               seed: int = 91_000_000) -> Path:
    """Shapes drifting and turning on a textured desk, seen by a hand-held camera (pan, zoom, shake)."""
    rng = np.random.default_rng(seed)
    h, w = size
    H, W = int(h * 1.4), int(w * 1.4)  # the scene is larger than the view, so the camera can pan
    scene = np.clip(_background(H, W, rng), 0, 255).astype(np.uint8)
    _distractors(scene, rng)
    objs = []
    for k in range(6):
        cls = k % 5
        objs.append({
            "pts": _outline(cls, rng),
            "c": rng.uniform([0.2 * W, 0.2 * H], [0.8 * W, 0.8 * H]),
            "v": rng.normal(0, 12, 2),
            "size": rng.uniform(0.2, 0.32) * h,
            "ang": rng.uniform(0, 2 * np.pi),
            "spin": rng.normal(0, 0.6),
            "seed": int(rng.integers(1 << 30)),
        })
    frames = int(seconds * fps)
    writer = VideoRecorder(path, fps, overwrite=True)  # H.264 where PyAV has it, so browsers play the sample
    ok = False
    try:
        for f in range(frames):
            t = f / fps
            img = scene.copy()
            for o in objs:
                c = o["c"] + o["v"] * t
                c = np.abs((c - 0.15 * np.array([W, H])) % (2 * 0.7 * np.array([W, H])) - 0.7 * np.array([W, H])) \
                    + 0.15 * np.array([W, H])  # bounce inside the scene
                a = o["ang"] + o["spin"] * t
                rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
                pts = o["pts"] @ rot.T * o["size"] / 2 + c
                _draw_shape(img, pts, np.random.default_rng(o["seed"]))  # same colours every frame
            # hand-held camera: slow pan and zoom plus a little shake
            zoom = 1.0 + 0.12 * math.sin(t * 0.5)
            cx = W / 2 + 0.12 * W * math.sin(t * 0.35) + rng.normal(0, 1.5)
            cy = H / 2 + 0.10 * H * math.cos(t * 0.27) + rng.normal(0, 1.5)
            rot_deg = 3 * math.sin(t * 0.4)
            M = cv2.getRotationMatrix2D((cx, cy), rot_deg, zoom * w / (W / 1.4))
            M[:, 2] += np.array([w / 2 - cx, h / 2 - cy])
            view = cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            # camera softness and a light flicker; no per-frame noise, which would bloat the file
            view = cv2.GaussianBlur(view, (0, 0), 0.8)
            view = cv2.convertScaleAbs(view, alpha=1.0 + 0.04 * math.sin(t * 3.1), beta=0)
            writer.write(view)
        ok = True
    finally:
        writer.close(keep=ok)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate the sample images and video in resources/.")
    ap.add_argument("--out", default=str(RESOURCES))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    imgs = make_images(out / "samples")
    vid = make_video(out / "sample.mp4")
    LOGGER.info("wrote %d images and %s", len(imgs), vid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
