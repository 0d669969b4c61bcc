"""Cheap per-iteration augmentation over a pool of rendered samples (mosaic, affine, flips, colour)."""

from __future__ import annotations

import cv2
import numpy as np

from gam_gui.data.shapes import labels_to_xyxy


def mosaic(images: list[np.ndarray], labels: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tile four samples into a 2x2 canvas of ``2*size``; returns image, classes, xyxy boxes."""
    canvas = np.empty((2 * size, 2 * size, 3), np.uint8)
    cls, boxes = [], []
    for k, (im, lb) in enumerate(zip(images, labels, strict=True)):
        ox, oy = (k % 2) * size, (k // 2) * size
        canvas[oy : oy + size, ox : ox + size] = cv2.resize(im, (size, size)) if im.shape[0] != size else im
        b = labels_to_xyxy(lb, size, size) + np.array([ox, oy, ox, oy], np.float32)
        cls.append(lb[:, 0])
        boxes.append(b)
    return canvas, np.concatenate(cls), np.concatenate(boxes).reshape(-1, 4)


def random_affine(img: np.ndarray, cls: np.ndarray, boxes: np.ndarray, out: int, rng: np.random.Generator,
                  scale: tuple[float, float] = (0.6, 1.4), translate: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Scale and shift ``img`` into an ``out`` x ``out`` canvas; returns the image and (n, 5) labels
    ``cls cx cy w h`` normalised. Boxes mostly pushed outside are dropped."""
    h, w = img.shape[:2]
    s = rng.uniform(*scale) * out / max(h, w)
    tx = out / 2 - s * w / 2 + rng.uniform(-translate, translate) * out
    ty = out / 2 - s * h / 2 + rng.uniform(-translate, translate) * out
    M = np.array([[s, 0, tx], [0, s, ty]], np.float32)
    border = tuple(int(v) for v in rng.integers(60, 200, 3))
    # constant border: a reflected border would mirror shapes without labels
    res = cv2.warpAffine(img, M, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)
    if not len(boxes):
        return res, np.zeros((0, 5), np.float32)
    b = boxes * s + np.array([tx, ty, tx, ty], np.float32)
    area0 = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    bc = b.copy()
    bc[:, [0, 2]] = bc[:, [0, 2]].clip(0, out)
    bc[:, [1, 3]] = bc[:, [1, 3]].clip(0, out)
    bw, bh = bc[:, 2] - bc[:, 0], bc[:, 3] - bc[:, 1]
    keep = (bw > 3) & (bh > 3) & (bw * bh > 0.6 * area0)
    bc, c = bc[keep], cls[keep]
    lb = np.stack([c, (bc[:, 0] + bc[:, 2]) / 2 / out, (bc[:, 1] + bc[:, 3]) / 2 / out,
                   (bc[:, 2] - bc[:, 0]) / out, (bc[:, 3] - bc[:, 1]) / out], 1).astype(np.float32)
    return res, lb


def flip_and_color(img: np.ndarray, lb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lb = lb.copy()
    if rng.random() < 0.5:
        img = img[:, ::-1]
        lb[:, 1] = 1 - lb[:, 1]
    if rng.random() < 0.5:
        img = img[::-1]
        lb[:, 2] = 1 - lb[:, 2]
    if rng.random() < 0.5:  # HSV jitter
        hsv = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + rng.integers(-12, 13)) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.5, 1.5), 0, 255)
        hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.6, 1.4), 0, 255)
        img = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    if rng.random() < 0.1:
        img = cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img), lb
