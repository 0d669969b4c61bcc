"""Frame sources with one interface: an image, a folder, a video file, a camera, a stream URL.

``read()`` returns the next :class:`Frame` or ``None`` at the end; faults raise :class:`SourceError`
with a message meant for the user. Live sources (camera, stream) have no length and cannot seek.
"""

from __future__ import annotations

import glob
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gam_gui.images import MAX_PIXELS, ImageError, is_image_path, read_image, to_bgr

LOGGER = logging.getLogger(__name__)
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif"}
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
#: How long opening or reading a stream may block before it counts as "not answering".
STREAM_TIMEOUT_MS = 5000


class SourceError(RuntimeError):
    """A source that cannot be opened or stopped delivering frames."""


@dataclass
class Frame:
    image: np.ndarray  # uint8 BGR
    index: int
    timestamp: float  # seconds from the start (video) or since opening (live)
    name: str  # file name or source label


class Source:
    kind = "source"
    live = False

    def __init__(self, label: str) -> None:
        self.label = label
        self.errors: list[str] = []  # per-item problems that were skipped (folder mode)

    def read(self) -> Frame | None:
        raise NotImplementedError

    def __len__(self) -> int:
        return 0

    @property
    def count(self) -> int | None:
        return None if self.live else len(self)

    @property
    def fps(self) -> float | None:
        return None

    @property
    def position(self) -> int:
        """Index of the next frame ``read`` returns."""
        return 0

    def seek(self, index: int) -> None:
        raise SourceError(f"{self.label}: cannot seek in a {self.kind}")

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            f = self.read()
            if f is None:
                return
            yield f


class ImageSource(Source):
    kind = "image"

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(Path(path).name)
        self.path = Path(path)
        try:
            self.image = read_image(self.path)
        except ImageError as e:
            raise SourceError(str(e)) from e
        self._done = False

    def read(self) -> Frame | None:
        if self._done:
            return None
        self._done = True
        return Frame(self.image, 0, 0.0, self.path.name)

    def __len__(self) -> int:
        return 1

    @property
    def position(self) -> int:
        return int(self._done)

    def seek(self, index: int) -> None:
        self._done = index > 0


class FolderSource(Source):
    """The images of a folder in name order; unreadable files are skipped and listed in ``errors``."""

    kind = "folder"

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(Path(path).name)
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: no such folder")
        try:
            self.files = sorted(p for p in self.path.iterdir() if is_image_path(p) and p.is_file())
        except OSError as e:
            raise SourceError(f"{self.path}: cannot list the folder ({e.strerror or e})") from e
        if not self.files:
            raise SourceError(f"{self.path}: no images in this folder ({', '.join(sorted(_suffixes()))})")
        self._i = 0

    def read(self) -> Frame | None:
        while self._i < len(self.files):
            p = self.files[self._i]
            i = self._i
            self._i += 1
            try:
                return Frame(read_image(p), i, float(i), p.name)
            except ImageError as e:
                self.errors.append(str(e))
                LOGGER.info("skipped %s", e)  # listed in ``errors``; the CLI and the GUI show them once
        return None

    def read_at(self, index: int) -> Frame:
        """One file by position, raising :class:`SourceError` for a bad one (for GUI navigation)."""
        index = max(0, min(index, len(self.files) - 1))
        self._i = index + 1
        p = self.files[index]
        try:
            return Frame(read_image(p), index, float(index), p.name)
        except ImageError as e:
            raise SourceError(str(e)) from e

    def __len__(self) -> int:
        return len(self.files)

    @property
    def position(self) -> int:
        return self._i

    def seek(self, index: int) -> None:
        self._i = max(0, min(int(index), len(self.files)))


def _cv_msg(e: BaseException) -> str:
    """The short reason of an OpenCV error (its ``msg``), not the whole multi-line dump."""
    return (getattr(e, "msg", None) or str(e)).strip().splitlines()[-1][:200] if str(e).strip() else type(e).__name__


def _suffixes() -> set[str]:
    from gam_gui.images import IMAGE_SUFFIXES

    return IMAGE_SUFFIXES


def _check_frame_size(cap: cv2.VideoCapture, label: str) -> None:
    """Refuse a video or stream whose declared frame size is over :data:`MAX_PIXELS` before any frame
    is decoded (a 16000x12000 MJPEG would cost gigabytes per frame). Opening costs no frame buffers."""
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    if w * h > MAX_PIXELS:
        cap.release()
        raise SourceError(f"{label}: {w}x{h} frames are too large (max {MAX_PIXELS // 1_000_000} MP)")


def _frame_ok(img: np.ndarray | None) -> bool:
    """A decoded frame within the pixel cap (a stream may switch to a larger size after opening)."""
    return img is not None and img.size > 0 and img.shape[0] * img.shape[1] <= MAX_PIXELS


class VideoSource(Source):
    """A video file. A damaged stretch is skipped (up to ``max_skip`` frames) rather than ending
    playback, so a file with a corrupt middle still plays to its end."""

    kind = "video"

    def __init__(self, path: str | os.PathLike, max_skip: int = 50) -> None:
        super().__init__(Path(path).name)
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path}: empty file (0 bytes)")
        try:
            self.cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        except cv2.error as e:
            raise SourceError(f"{self.path}: not a readable video ({_cv_msg(e)})") from e
        if not self.cap.isOpened():
            self.cap.release()
            raise SourceError(f"{self.path}: not a readable video (corrupt or unsupported format)")
        _check_frame_size(self.cap, str(self.path))
        self._count = max(0, int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        self._fps = float(self.cap.get(cv2.CAP_PROP_FPS)) or 25.0
        if not (0 < self._fps < 1000):
            self._fps = 25.0
        self._pos = 0
        self.max_skip = max_skip
        first = self._grab()
        if first is None:
            self.cap.release()
            raise SourceError(f"{self.path}: no frame could be decoded (corrupt or truncated video)")
        self._pending: np.ndarray | None = first
        self.frame_shape = first.shape[:2]

    def _grab(self) -> np.ndarray | None:
        """The next decoded frame as uint8 BGR, or None for a frame the decoder could not deliver."""
        try:
            ok, img = self.cap.read()
            return to_bgr(img) if ok and _frame_ok(img) else None
        except (cv2.error, ImageError) as e:
            LOGGER.debug("%s: bad frame near %d: %s", self.path.name, self._pos, e)
            return None

    def read(self) -> Frame | None:
        if self._pending is not None:
            img, self._pending = self._pending, None
        else:
            img = self._grab()
            skipped = 0
            while img is None and self._count and self._pos + skipped < self._count - 1 and skipped < self.max_skip:
                skipped += 1
                img = self._grab()
            if img is None:
                return None
            if skipped:
                self.errors.append(f"{self.path.name}: skipped {skipped} undecodable frame(s) near {self._pos}")
                self._pos += skipped
        i = self._pos
        self._pos += 1
        return Frame(img, i, i / self._fps, self.path.name)

    def __len__(self) -> int:
        return self._count

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def position(self) -> int:
        return self._pos

    def seek(self, index: int) -> None:
        index = max(0, min(int(index), max(self._count - 1, 0)))
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._pending = None
        self._pos = index

    def close(self) -> None:
        self.cap.release()


class CaptureSource(Source):
    """A live camera or stream through OpenCV; stops with a SourceError after ``max_failures``
    consecutive failed reads (a camera unplugged mid-stream, a stream that went silent)."""

    live = True

    def __init__(self, cap: cv2.VideoCapture, label: str, kind: str, max_failures: int = 10) -> None:
        super().__init__(label)
        self.kind = kind
        self.cap = cap
        self.max_failures = max_failures
        self._i = 0
        self._t0 = time.monotonic()
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        self._fps = fps if 0 < fps < 1000 else None

    def read(self) -> Frame | None:
        problem = ""
        for _ in range(self.max_failures):
            try:
                ok, img = self.cap.read()
                if ok and _frame_ok(img):
                    image = to_bgr(img)
                    i = self._i
                    self._i += 1
                    return Frame(image, i, time.monotonic() - self._t0, self.label)
                if ok and img is not None and img.size:
                    h, w = img.shape[:2]
                    problem = f" (last problem: a {w}x{h} frame, over {MAX_PIXELS // 1_000_000} MP)"
            except (cv2.error, ImageError) as e:  # a driver fault or a malformed frame counts as a failed read
                problem = f" (last problem: {_cv_msg(e)})"
            time.sleep(0.02)
        raise SourceError(f"{self.label}: stopped delivering frames{problem}")

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def position(self) -> int:
        return self._i

    def close(self) -> None:
        self.cap.release()


def open_camera(index: int | str) -> CaptureSource:
    """Open a camera by index (``0``) or device path (``/dev/video0``)."""
    label = f"camera {index}"
    if isinstance(index, str) and index.startswith("/dev/") and not os.path.exists(index):
        raise SourceError(f"{label}: no such device")
    if isinstance(index, int) and sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{index}"):
        raise SourceError(f"{label}: no such camera (no /dev/video{index})")
    backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    try:
        cap = cv2.VideoCapture(index, backend)
    except cv2.error as e:
        raise SourceError(f"{label}: cannot be opened ({_cv_msg(e)})") from e
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"{label}: cannot be opened (missing, busy, or no permission)")
    _check_frame_size(cap, label)
    return CaptureSource(cap, label, "camera")


def open_stream(url: str, timeout_ms: int = STREAM_TIMEOUT_MS) -> CaptureSource:
    """Open an rtsp/http stream with bounded open and read timeouts (never hangs the caller)."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    try:
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    except cv2.error as e:
        raise SourceError(f"{url}: cannot be opened ({_cv_msg(e)})") from e
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"{url}: the stream did not answer within {timeout_ms / 1000:.0f} s or cannot be read")
    _check_frame_size(cap, url)
    return CaptureSource(cap, url, "stream", max_failures=3)


class GeneratorSource(Source):
    """Frames from any iterable (tests, synthetic feeds); ``live`` makes it behave like a camera."""

    def __init__(self, frames: Iterable[np.ndarray] | Callable[[], Iterable[np.ndarray]], label: str = "generator",
                 live: bool = True, fps: float | None = None) -> None:
        super().__init__(label)
        self.kind = "camera" if live else "video"
        self.live = live
        self._it = iter(frames() if callable(frames) else frames)
        self._i = 0
        self._fps = fps
        self.closed = False

    def read(self) -> Frame | None:
        """The next frame; a fault of the feed (or a frame that is not an image) ends it with a SourceError."""
        try:
            img = next(self._it)
        except StopIteration:
            return None
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - whatever the feed raises, the caller gets one error type
            raise SourceError(f"{self.label}: the feed failed after {self._i} frame(s): {type(e).__name__}: {e}") \
                from e
        try:
            image = to_bgr(img)
        except ImageError as e:
            raise SourceError(f"{self.label}: frame {self._i} is not an image ({e})") from e
        i = self._i
        self._i += 1
        return Frame(image, i, i / (self._fps or 30.0), self.label)

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def position(self) -> int:
        return self._i

    def close(self) -> None:
        self.closed = True


def list_cameras(probe: int = 4) -> list[tuple[int | str, str]]:
    """Cameras that exist: the ``/dev/video*`` nodes on Linux (no device is opened), else the first
    ``probe`` indices that open."""
    if sys.platform.startswith("linux"):
        out: list[tuple[int | str, str]] = []
        for dev in sorted(glob.glob("/dev/video*"), key=lambda p: int("".join(filter(str.isdigit, p)) or 0)):
            num = "".join(filter(str.isdigit, dev))
            name_file = Path(f"/sys/class/video4linux/video{num}/name")
            name = name_file.read_text().strip() if name_file.exists() else dev
            out.append((int(num) if num else dev, f"{name} ({dev})"))
        return out
    found = []
    for i in range(probe):
        cap = cv2.VideoCapture(i)
        if cap.isOpened():
            found.append((i, f"camera {i}"))
        cap.release()
    return found


def open_source(spec: str | int | os.PathLike) -> Source:
    """Open whatever ``spec`` names: an image, a folder, a video file, ``camera:N``/an int, or a URL."""
    if isinstance(spec, int):
        return open_camera(spec)
    s = str(spec)
    if s.startswith("camera:"):
        rest = s[7:]
        return open_camera(int(rest) if rest.isdigit() else rest)
    if s.lower().startswith(STREAM_PREFIXES):
        return open_stream(s)
    p = Path(s)
    try:
        is_dir, exists = p.is_dir(), p.exists()
    except (OSError, ValueError) as e:  # a name too long, a NUL byte ...
        raise SourceError(f"{s[:200]!r}: not a usable path ({e})") from e
    if is_dir:
        return FolderSource(p)
    if not exists:
        raise SourceError(f"{p}: no such file or folder")
    if is_image_path(p):
        return ImageSource(p)
    if p.suffix.lower() in VIDEO_SUFFIXES or p.suffix == "":
        return VideoSource(p)
    # Unknown extension: try it as an image, then as a video.
    try:
        return ImageSource(p)
    except SourceError:
        try:
            return VideoSource(p)
        except SourceError:
            raise SourceError(f"{p}: neither an image nor a video that can be read") from None
