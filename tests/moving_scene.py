"""A generated video for the object-following tests: circle A moves right on its own, then a larger,
stronger circle B appears (so A's detection index changes from 0 to 1), then A leaves the view."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FPS = 5.0
HW = (240, 320)
B_CENTRE, B_RADIUS = (230, 110), 48
A_RADIUS, A_Y = 26, 160
ALONE, BOTH, GONE = 3, 4, 7  # frames with A alone, with A and B, with B alone (1.4 s)


def a_centre(i: int) -> tuple[int, int] | None:
    """Circle A's centre on frame ``i`` (None once it has left)."""
    return (40 + 8 * i, A_Y) if i < ALONE + BOTH else None


def frame(i: int) -> np.ndarray:
    img = np.full((*HW, 3), 235, np.uint8)
    if i >= ALONE:
        cv2.circle(img, B_CENTRE, B_RADIUS, (40, 40, 40), -1, cv2.LINE_AA)
    c = a_centre(i)
    if c is not None:
        cv2.circle(img, c, A_RADIUS, (70, 70, 70), -1, cv2.LINE_AA)
    return img


def frames() -> list[np.ndarray]:
    return [frame(i) for i in range(ALONE + BOTH + GONE)]


def write_video(path: Path) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (HW[1], HW[0]))
    assert w.isOpened()
    for img in frames():
        w.write(img)
    w.release()
    return path


def is_a(xyxy, i: int) -> bool:
    """Whether a box is circle A's on frame ``i`` (its centre within A's radius of A's centre)."""
    c = a_centre(i)
    if c is None:
        return False
    return abs((xyxy[0] + xyxy[2]) / 2 - c[0]) < A_RADIUS and abs((xyxy[1] + xyxy[3]) / 2 - c[1]) < A_RADIUS
