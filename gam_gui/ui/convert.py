"""numpy <-> QImage, copying, so an image never points into an array that may be freed or reused.

``QImage(data, ...)`` only wraps the buffer: when the numpy array goes away (the worker renders the
next frame) the QImage would paint freed memory. Every conversion here ends with ``.copy()``.
"""

from __future__ import annotations

import numpy as np
from PyQt5.QtGui import QImage


def bgr_to_qimage(img: np.ndarray) -> QImage:
    """uint8 BGR (or gray) HxW[x3] array -> an independent QImage (RGB888 or Grayscale8)."""
    if img is None or not isinstance(img, np.ndarray) or img.size == 0:
        return QImage()
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        a = np.ascontiguousarray(img)
        h, w = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format_Grayscale8).copy()
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"not a BGR image (shape {img.shape})")
    rgb = np.ascontiguousarray(img[:, :, 2::-1])  # BGR(A) -> RGB, contiguous
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


def qimage_to_bgr(image: QImage) -> np.ndarray:
    """A QImage -> uint8 BGR array (for tests and for saving what a widget shows)."""
    if image.isNull():
        return np.zeros((0, 0, 3), np.uint8)
    img = image.convertToFormat(QImage.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    ptr = img.constBits()
    ptr.setsize(h * bpl)
    arr = np.frombuffer(ptr, np.uint8).reshape(h, bpl)[:, : w * 3].reshape(h, w, 3)
    return np.ascontiguousarray(arr[:, :, ::-1])
