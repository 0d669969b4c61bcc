"""Reading and normalising still images: everything becomes a uint8 BGR array or a clear ImageError."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
#: Frames above this many pixels are refused rather than risking memory exhaustion (about 100 MP).
MAX_PIXELS = 100_000_000


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for the user."""


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Gray, BGR, BGRA, 16-bit or float images -> contiguous uint8 BGR."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", None)
        raise ImageError(f"not an image array (shape {shape})")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ImageError(f"unsupported channel count {image.shape[2]}")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        scale = 255.0 if float(np.nanmax(image, initial=0.0)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image) * scale, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as uint8 BGR, or raise :class:`ImageError` saying what is wrong."""
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file")
    if p.is_dir():
        raise ImageError(f"{p}: is a folder, not an image")
    size = p.stat().st_size
    if size == 0:
        raise ImageError(f"{p}: empty file (0 bytes)")
    data = np.fromfile(str(p), dtype=np.uint8)
    return decode_image(data, str(p))


def decode_image(data: bytes | np.ndarray, label: str = "image") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) into uint8 BGR."""
    buf = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray)) else data
    if buf.size == 0:
        raise ImageError(f"{label}: empty file (0 bytes)")
    # Read the header first so a huge image is refused before its pixels are allocated.
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error as e:
        raise ImageError(f"{label}: cannot be decoded as an image ({e.msg.strip() if hasattr(e, 'msg') else e})") from e
    if img is None:
        raise ImageError(f"{label}: not a readable image (corrupt, truncated or unsupported format)")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ImageError(f"{label}: {img.shape[1]}x{img.shape[0]} is too large (max {MAX_PIXELS // 1_000_000} MP)")
    return to_bgr(img)


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
