"""Reading and normalising still images: everything becomes a uint8 BGR array or a clear ImageError."""

from __future__ import annotations

import os
import struct
from pathlib import Path

#: Frames above this many pixels are refused rather than risking memory exhaustion (about 100 MP).
MAX_PIXELS = 100_000_000
#: Image files above this size are refused before reading: 100 MP of 8-bit BGR uncompressed is 300 MB.
MAX_IMAGE_BYTES = 512 * 2**20
# OpenCV's own decoder limit (default 1 G pixels) is read once, when cv2 is first imported: lower it to
# ours for the usual import order, as a second line of defence. It is not relied upon (an earlier
# ``import cv2`` keeps OpenCV's default): decode_image checks every header itself first.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

# A damaged file makes FFmpeg and OpenCV print their own lines on stderr ("moov atom not found",
# "VIDEOIO(FFMPEG): backend is generally available but can't be used ...") before gam-gui's one
# message says what is wrong with it. FFmpeg's level is read when OpenCV first uses it; a user who
# wants those lines sets either variable.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2  # noqa: E402 - after the limit above is in the environment
import numpy as np  # noqa: E402

if "OPENCV_LOG_LEVEL" not in os.environ:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # the sources say what went wrong, once

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
    """Read an image file as uint8 BGR, or raise :class:`ImageError` saying what is wrong.

    The file's size is checked before any byte is read (:data:`MAX_IMAGE_BYTES`): a sparse file of
    gigabytes costs nothing to make and would otherwise be read into memory whole.
    """
    p = Path(path)
    try:
        if not p.exists():
            raise ImageError(f"{p}: no such file")
        if p.is_dir():
            raise ImageError(f"{p}: is a folder, not an image")
        size = p.stat().st_size
        if size == 0:  # also a FIFO or a device node: never read those
            raise ImageError(f"{p}: empty file (0 bytes)")
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"{p}: the file is too large for an image ({size / 2**20:,.0f} MiB; "
                             f"max {MAX_IMAGE_BYTES // 2**20} MiB)")
        data = np.fromfile(str(p), dtype=np.uint8, count=size)  # no more than stat said, even if it grew
    except OSError as e:  # permission denied, a file removed after it was listed ...
        raise ImageError(f"{p}: cannot be read ({e.strerror or e})") from e
    return decode_image(data, str(p))


def check_analysable(image: np.ndarray, imgsz: int, label: str = "image") -> None:
    """Raise :class:`ImageError` for a frame too thin to analyse at ``imgsz``.

    The letterbox scales the long side to ``imgsz``; a 1x10000 image's short side would become 0 px
    and OpenCV's resize would fail deep inside the analysis with an assertion nobody can act on.
    """
    h, w = image.shape[:2]
    if h < 1 or w < 1:
        raise ImageError(f"{label}: empty image ({w}x{h})")
    r = max(1, int(imgsz)) / max(h, w)
    if min(h, w) * r < 1:
        raise ImageError(f"{label}: a {w}x{h} image is too thin to analyse at {imgsz} px (its short side would "
                         f"shrink below 1 pixel; crop it, or pad it towards a square)")


def image_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(width, height) from the header of any format OpenCV decodes here, without decoding; None if unknown.

    Lets :func:`decode_image` refuse a huge image before its pixels are allocated: a few kilobytes
    of PNG can claim 40000 x 40000 pixels (4.8 GB once decoded as BGR, twice that at 16 bits).
    OpenCV's own limit cannot be relied on: it is read once, when ``cv2`` is first imported, so an
    application that imported ``cv2`` before gam-gui keeps OpenCV's default of 1 G pixels.
    Formats: PNG, JPEG, GIF, BMP, WebP, TIFF/BigTIFF, PNM/PAM/PFM, Sun raster, Radiance HDR,
    JPEG 2000 (JP2 and raw codestream) and AVIF (the largest ``ispe`` of the file).
    """
    if isinstance(data, np.ndarray):
        data = data.reshape(-1) if data.dtype == np.uint8 else np.frombuffer(data.tobytes(), np.uint8)
    b = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
    try:
        for parse in _PARSERS:
            size = parse(b)
            if size is not None:
                return size
    except (struct.error, IndexError, KeyError, ValueError):  # a damaged header: the size is unknown
        return None
    return None


def _png(b: memoryview) -> tuple[int, int] | None:
    if bytes(b[:8]) == b"\x89PNG\r\n\x1a\n" and bytes(b[12:16]) == b"IHDR":
        return struct.unpack_from(">II", b, 16)
    return None


def _gif(b: memoryview) -> tuple[int, int] | None:
    return struct.unpack_from("<HH", b, 6) if bytes(b[:6]) in (b"GIF87a", b"GIF89a") else None


def _bmp(b: memoryview) -> tuple[int, int] | None:
    if bytes(b[:2]) != b"BM" or len(b) < 26:
        return None
    if struct.unpack_from("<I", b, 14)[0] == 12:  # OS/2 core header: 16-bit sizes
        return struct.unpack_from("<HH", b, 18)
    w, h = struct.unpack_from("<ii", b, 18)
    return abs(w), abs(h)


def _webp(b: memoryview) -> tuple[int, int] | None:
    if bytes(b[:4]) != b"RIFF" or bytes(b[8:12]) != b"WEBP":
        return None
    chunk = bytes(b[12:16])
    if chunk == b"VP8X":
        return 1 + int.from_bytes(b[24:27], "little"), 1 + int.from_bytes(b[27:30], "little")
    if chunk == b"VP8L":
        bits = int.from_bytes(b[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 ":
        w, h = struct.unpack_from("<HH", b, 26)
        return w & 0x3FFF, h & 0x3FFF
    raise ValueError("unknown WebP chunk")


def _jpeg(b: memoryview) -> tuple[int, int] | None:
    if bytes(b[:2]) != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(b):  # the whole file: EXIF/ICC segments can push the frame header past 64 KB
        if b[i] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = b[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker == 0xDA:  # start of scan before any frame header
            raise ValueError("no frame header")
        length = struct.unpack_from(">H", b, i + 2)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            h, w = struct.unpack_from(">HH", b, i + 5)
            return w, h
        i += 2 + length
    raise ValueError("no frame header")


def _tiff(b: memoryview) -> tuple[int, int] | None:
    head = bytes(b[:4])
    if head not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return None
    e = "<" if head[:2] == b"II" else ">"
    big = head[2:] in (b"+\x00", b"\x00+")
    off = struct.unpack_from(e + "Q", b, 8)[0] if big else struct.unpack_from(e + "I", b, 4)[0]
    n = struct.unpack_from(e + ("Q" if big else "H"), b, off)[0]
    entry, first = (20, off + 8) if big else (12, off + 2)
    size: dict[int, int] = {}
    for k in range(min(int(n), 4096)):
        p = first + k * entry
        tag, typ = struct.unpack_from(e + "HH", b, p)
        if tag in (256, 257):
            vp = p + (12 if big else 8)
            fmt = {3: "H", 4: "I", 16: "Q"}.get(typ)
            if fmt is None:
                raise ValueError("odd TIFF size type")
            size[tag] = struct.unpack_from(e + fmt, b, vp)[0]
    if 256 not in size or 257 not in size:
        raise ValueError("TIFF without a size")
    return size[256], size[257]


def _tokens(b: memoryview, start: int, count: int) -> list[bytes]:
    """``count`` whitespace-separated header tokens from ``start``, skipping ``#`` comments (PNM)."""
    text = bytes(b[start:start + 4096])
    out: list[bytes] = []
    for line in text.split(b"\n"):
        out += line.split(b"#", 1)[0].split()
        if len(out) >= count:
            return out[:count]
    raise ValueError("short header")


def _pnm(b: memoryview) -> tuple[int, int] | None:
    head = bytes(b[:2])
    if head in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6", b"PF", b"Pf"):
        w, h = _tokens(b, 2, 2)
        return int(w), int(h)
    if head == b"P7":
        fields = dict(line.split(None, 1) for line in bytes(b[3:4096]).split(b"\n") if b" " in line)
        return int(fields[b"WIDTH"]), int(fields[b"HEIGHT"])
    return None


def _sun(b: memoryview) -> tuple[int, int] | None:
    return struct.unpack_from(">II", b, 4) if bytes(b[:4]) == b"\x59\xa6\x6a\x95" else None


def _hdr(b: memoryview) -> tuple[int, int] | None:
    if not (bytes(b[:10]) == b"#?RADIANCE" or bytes(b[:6]) == b"#?RGBE"):
        return None
    lines = bytes(b[:65536]).split(b"\n")
    for k, line in enumerate(lines):
        if not line.strip() and k + 1 < len(lines):
            t = lines[k + 1].split()
            if len(t) == 4:
                dims = {t[0][-1:]: int(t[1]), t[2][-1:]: int(t[3])}
                return dims[b"X"], dims[b"Y"]
    raise ValueError("no resolution line")


def _jpeg2000(b: memoryview) -> tuple[int, int] | None:
    head = bytes(b[:12])
    if head != b"\x00\x00\x00\x0cjP  \r\n\x87\n" and head[:4] != b"\xff\x4f\xff\x51":
        return None
    data = bytes(b)
    sizes = []
    i = data.find(b"ihdr")
    if i >= 4:
        h, w = struct.unpack_from(">II", data, i + 4)
        sizes.append((w, h))
    i = data.find(b"\xff\x4f\xff\x51")  # the codestream's SIZ: what the decoder really allocates
    if i >= 0:
        xs, ys, xo, yo = struct.unpack_from(">IIII", data, i + 8)
        sizes.append((max(0, xs - xo), max(0, ys - yo)))
    if not sizes:
        raise ValueError("JPEG 2000 without a size")
    return max(sizes, key=lambda s: s[0] * s[1])


def _avif(b: memoryview) -> tuple[int, int] | None:
    if bytes(b[4:8]) != b"ftyp" or bytes(b[8:12]) not in (b"avif", b"avis", b"mif1", b"msf1", b"heic"):
        return None
    data = bytes(b[:1 << 20])
    sizes, i = [], data.find(b"ispe")
    while i >= 0:
        sizes.append(struct.unpack_from(">II", data, i + 8))
        i = data.find(b"ispe", i + 4)
    if not sizes:
        raise ValueError("AVIF without a size")
    return max(sizes, key=lambda s: s[0] * s[1])


_PARSERS = (_png, _jpeg, _gif, _bmp, _webp, _tiff, _pnm, _sun, _hdr, _jpeg2000, _avif)


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
    if buf.size > MAX_IMAGE_BYTES:
        raise ImageError(f"{label}: too large for an image ({buf.size / 2**20:,.0f} MiB; "
                         f"max {MAX_IMAGE_BYTES // 2**20} MiB)")
    # Read the header first so a huge image is refused before its pixels are allocated. A format whose
    # size cannot be read is not decoded at all: OpenCV's own pixel limit may not be in force (see image_size).
    size = image_size(buf)
    if size is None:
        raise ImageError(f"{label}: not a readable image (corrupt, truncated or unsupported format)")
    if size[0] * size[1] > MAX_PIXELS:
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
