"""Reading and normalising still images: everything becomes a uint8 BGR array or a clear ImageError."""

from __future__ import annotations

import os
import struct
from pathlib import Path

#: Frames above this many pixels are refused rather than risking memory exhaustion (about 100 MP).
MAX_PIXELS = 100_000_000
# OpenCV's own decoder limit (default 1 G pixels) is read once, when cv2 is first imported (here, in the
# usual import order): lower it to ours so formats whose header image_size() does not parse (TIFF ...)
# are refused before their pixels are allocated too. An earlier ``import cv2`` keeps OpenCV's default.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402 - after the limit above is in the environment
import numpy as np  # noqa: E402

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for the user."""


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Gray, BGR, BGRA, 16-bit, float or bool images -> contiguous uint8 BGR.

    Floats in [0, 1] are scaled to [0, 255] (NaN -> 0, infinities clipped); other integer types are
    clipped to [0, 255]. Complex, object and string arrays, and 2 or 5+ channels, are refused.
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", None)
        raise ImageError(f"not an image array (shape {shape})")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ImageError(f"unsupported channel count {image.shape[2]}")
    kind = image.dtype.kind
    if image.dtype == np.uint8:
        pass
    elif image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif kind == "f":
        finite = np.isfinite(image)
        peak = float(image.max(where=finite, initial=0.0))
        scale = 255.0 if peak <= 1.0 else 1.0
        with np.errstate(invalid="ignore", over="ignore"):
            image = np.clip(np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0) * scale,
                            0, 255).astype(np.uint8)
    elif kind == "b":
        image = image.astype(np.uint8) * 255
    elif kind in "iu":
        image = np.clip(image, 0, 255).astype(np.uint8)
    else:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    # OpenCV wants C-contiguous memory (a transposed or flipped view is not)
    image = np.ascontiguousarray(image)
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as uint8 BGR, or raise :class:`ImageError` saying what is wrong."""
    p = Path(path)
    try:
        if not p.exists():
            raise ImageError(f"{p}: no such file")
        if p.is_dir():
            raise ImageError(f"{p}: is a folder, not an image")
        size = p.stat().st_size
        if size == 0:  # also a FIFO or a device node: never read those
            raise ImageError(f"{p}: empty file (0 bytes)")
        data = np.fromfile(str(p), dtype=np.uint8)
    except OSError as e:  # permission denied, a file removed after it was listed ...
        raise ImageError(f"{p}: cannot be read ({e.strerror or e})") from e
    return decode_image(data, str(p))


def image_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF, BMP or WebP header, without decoding; None if unknown.

    Lets :func:`decode_image` refuse a huge image before its pixels are allocated: a few kilobytes
    of PNG can claim 40000 x 40000 pixels (4.8 GB once decoded as BGR, twice that at 16 bits).
    """
    b = bytes(data[:65536]) if isinstance(data, np.ndarray) else bytes(data[:65536])
    try:
        if b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR":
            w, h = struct.unpack(">II", b[16:24])
            return w, h
        if b[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", b[6:10])
            return w, h
        if b[:2] == b"BM" and len(b) >= 26:
            if struct.unpack("<I", b[14:18])[0] == 12:  # OS/2 core header: 16-bit sizes
                return struct.unpack("<HH", b[18:22])
            w, h = struct.unpack("<ii", b[18:26])
            return abs(w), abs(h)
        if b[:4] == b"RIFF" and b[8:12] == b"WEBP":
            chunk = b[12:16]
            if chunk == b"VP8X":
                return 1 + int.from_bytes(b[24:27], "little"), 1 + int.from_bytes(b[27:30], "little")
            if chunk == b"VP8L":
                bits = int.from_bytes(b[21:25], "little")
                return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", b[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if b[:2] == b"\xff\xd8":
            i = 2
            while i + 9 < len(b):
                if b[i] != 0xFF:
                    return None
                marker = b[i + 1]
                if marker == 0xFF:  # fill byte
                    i += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    i += 2
                    continue
                length = struct.unpack(">H", b[i + 2:i + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                    h, w = struct.unpack(">HH", b[i + 5:i + 9])
                    return w, h
                i += 2 + length
    except (struct.error, IndexError):
        return None
    return None


def decode_image(data: bytes | np.ndarray, label: str = "image") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) into uint8 BGR."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        buf = np.frombuffer(data, np.uint8)
    elif isinstance(data, np.ndarray):
        buf = data.reshape(-1) if data.dtype == np.uint8 else np.frombuffer(data.tobytes(), np.uint8)
    else:
        raise ImageError(f"{label}: expected encoded image bytes, got {type(data).__name__}")
    if buf.size == 0:
        raise ImageError(f"{label}: empty file (0 bytes)")
    # Read the header first so a huge image is refused before its pixels are allocated.
    size = image_size(buf)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageError(f"{label}: {size[0]}x{size[1]} is too large (max {MAX_PIXELS // 1_000_000} MP)")
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error as e:
        raise ImageError(f"{label}: cannot be decoded as an image ({e.msg.strip() if hasattr(e, 'msg') else e})") from e
    except MemoryError as e:
        raise ImageError(f"{label}: not enough memory to decode this image") from e
    if img is None:
        raise ImageError(f"{label}: not a readable image (corrupt, truncated or unsupported format)")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ImageError(f"{label}: {img.shape[1]}x{img.shape[0]} is too large (max {MAX_PIXELS // 1_000_000} MP)")
    return to_bgr(img)


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
