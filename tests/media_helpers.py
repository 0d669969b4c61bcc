"""Small helpers the media tests share (tests/ is on sys.path, see conftest)."""

from __future__ import annotations

from pathlib import Path

import cv2


def count_frames(path: Path) -> int:
    """Frames OpenCV (the app's own reader) actually decodes from a video file."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n
