"""Safe output files: exclusive temporary files, no-clobber commits, signal clean-up, and the one MP4 writer.

Every file an export, a recording or the sample generator writes goes through here, so that
the same three promises hold everywhere:

* A temporary file is created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW`` via :func:`tempfile.mkstemp`)
  with a random name in the output folder: a link planted at a temporary name is never followed, and a
  temporary file a crash left behind is never reused or tripped over.
* A link at the final name, even a dangling one, is an existing file: without ``overwrite`` it is refused,
  with ``overwrite`` the link itself is replaced (``rename`` never follows its destination).
* While :func:`cleanup_on_signals` is active, SIGTERM and SIGHUP remove the temporary files in flight and
  end the process with 128 + the signal number (143, 129); Ctrl-C unwinds as ``KeyboardInterrupt``.

:class:`VideoRecorder` writes H.264 (yuv420p) MP4 with PyAV, whose wheels bundle FFmpeg with libx264
(an in-process library: no ``ffmpeg`` binary to find, no pipe to a child to clean up), which browsers
and slide software play. Without PyAV or its H.264 encoder it falls back to OpenCV's MPEG-4 Part 2
(``mp4v``) with a logged notice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

LOGGER = logging.getLogger(__name__)

#: The H.264 encoder PyAV must provide for :class:`VideoRecorder` to write H.264.
H264_ENCODER = "libx264"


class ExportError(RuntimeError):
    """An export that cannot start or finish; the message is meant for the user."""


# --- temporary files and commits -----------------------------------------------------------------------

_IN_FLIGHT: set[str] = set()  # temporary files being written, removed on SIGTERM/SIGHUP
_LOCK = threading.Lock()
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read it back: mkstemp makes 0600 files, the outputs get the usual 0666 & ~umask


def exists(path: Path) -> bool:
    """True for anything at ``path``, a dangling symbolic link included (``Path.exists`` follows links)."""
    return os.path.lexists(path)


def refuse_existing(path: Path, overwrite: bool) -> None:
    """Raise :class:`ExportError` when ``path`` is taken (a link counts) and ``overwrite`` is not set."""
    if not overwrite and exists(path):
        raise ExportError(f"{path} exists; not overwriting it (use --overwrite)")


def make_temp(path: Path) -> tuple[int, Path]:
    """An exclusively created, randomly named hidden ``.part`` file next to ``path``: (fd, temp path).

    The name keeps a short prefix of the final name (at most 64 bytes, so a long final name still
    fits the file system's name limit) and the final suffix, so a player recognises the container.
    """
    stem = os.fsdecode(os.fsencode(path.name)[:64])
    try:
        fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    except OSError as e:
        raise ExportError(f"cannot write {path} ({e.strerror or e})") from e
    tmp = Path(name)
    with _LOCK:
        _IN_FLIGHT.add(name)
    if hasattr(os, "fchmod"):  # POSIX
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666 & ~_UMASK)
    return fd, tmp


def discard_temp(tmp: Path) -> None:
    """Remove a temporary file (if still there) and forget it."""
    with _LOCK:
        _IN_FLIGHT.discard(str(tmp))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


def commit(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished ``tmp`` to ``path``; never follows a link at ``path``.

    With ``overwrite`` a ``rename`` replaces whatever entry is there (a link is replaced, its target is
    untouched). Without it, a hard link claims the name atomically and fails if anything (a dangling
    link too) is there; on a file system without hard links the check and the rename are separate steps.
    """
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path, follow_symlinks=False)
            except FileExistsError:
                raise ExportError(f"{path} exists; not overwriting it (use --overwrite)") from None
            except (OSError, NotImplementedError):  # no hard links here (FAT, some network file systems)
                refuse_existing(path, overwrite)
                os.replace(tmp, path)
    except ExportError:
        raise
    except OSError as e:  # disk full, permission denied, a folder at that name, the folder removed meanwhile
        raise ExportError(f"cannot write {path} ({e.strerror or e})") from e
    finally:
        discard_temp(tmp)


def atomic_write_bytes(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` through an exclusive temporary file; no partial file under ``path`` ever."""
    path = Path(path)
    refuse_existing(path, overwrite)
    fd, tmp = make_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as e:
        discard_temp(tmp)
        raise ExportError(f"cannot write {path} ({e.strerror or e})") from e
    except BaseException:
        discard_temp(tmp)
        raise
    commit(tmp, path, overwrite)


def _remove_in_flight() -> None:
    with _LOCK:
        names = list(_IN_FLIGHT)
        _IN_FLIGHT.clear()
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _on_signal(signum: int, frame: object) -> None:
    _remove_in_flight()
    raise SystemExit(128 + signum)  # unwinds through the exporters' clean-up, then exits 143 (SIGTERM)


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While active, SIGTERM/SIGHUP remove in-flight temporary files and exit with 128 + signum.

    Installed only from the main thread and only over the default action, so an application that
    handles these signals itself (or ignores them) keeps its own behaviour; restored on exit.
    """
    installed: list[tuple[int, object]] = []
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(sig) is signal.SIG_DFL:
                    signal.signal(sig, _on_signal)
                    installed.append((sig, signal.SIG_DFL))
    try:
        yield
    finally:
        for sig, old in installed:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)


# --- the MP4 writer -----------------------------------------------------------------------------------

_H264: bool | None = None


def h264_available() -> bool:
    """True when PyAV is installed and its FFmpeg has the libx264 encoder (checked once)."""
    global _H264
    if _H264 is None:
        try:
            import av

            av.codec.Codec(H264_ENCODER, "w")
            _H264 = True
        except Exception as e:  # noqa: BLE001 - no PyAV, a build without libx264, a broken install
            LOGGER.warning("no H.264 encoder (%s: %s): writing MPEG-4 Part 2 (mp4v) MP4, which browsers "
                           "may not play; install PyAV ('pip install av') for H.264", type(e).__name__, e)
            _H264 = False
    return _H264


def even_size(w: int, h: int) -> tuple[int, int]:
    """The frame size a yuv420p encoder accepts: width and height rounded up to even numbers."""
    return max(2, w + w % 2), max(2, h + h % 2)


class VideoRecorder:
    """An MP4 of BGR frames, written to an exclusive temporary file and moved into place on ``close``.

    The first frame fixes the size (rounded up to even by padding the right/bottom edge with its
    last row/column, as yuv420p needs); later frames of another size are resized to it. ``codec`` is
    ``"h264"`` (PyAV + libx264, yuv420p) or ``"mp4v"`` (OpenCV's fallback).
    """

    def __init__(self, path: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 20) -> None:
        self.path = Path(path)
        refuse_existing(self.path, overwrite)
        self.overwrite = overwrite
        self.fps = float(fps) if fps and 0 < fps < 1000 else 25.0
        self.crf = int(crf)
        self.codec = "h264" if h264_available() else "mp4v"
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._fd, self.tmp = make_temp(self.path)
        self._fh: BinaryIO | None = None
        self._container = None
        self._stream = None
        self._cv: cv2.VideoWriter | None = None

    def _open(self, w: int, h: int) -> None:
        self.size = even_size(w, h)
        if self.codec == "h264":
            import av

            self._fh = os.fdopen(self._fd, "w+b")
            self._fd = -1
            self._container = av.open(self._fh, mode="w", format="mp4")
            rate = Fraction(self.fps).limit_denominator(1001)
            stream = self._container.add_stream(H264_ENCODER, rate=rate)
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(self.crf), "preset": "veryfast"}
            self._stream = stream
        else:
            os.close(self._fd)  # OpenCV opens by name: the name is ours, created exclusively above
            self._fd = -1
            self._cv = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
            if not self._cv.isOpened():
                raise ExportError(f"cannot write video {self.path} (no MP4 encoder available)")

    def _fit(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        assert self.size is not None
        if (w, h) == self.size:
            return img
        if even_size(w, h) == self.size:  # the first frame's size: pad the odd edge
            return cv2.copyMakeBorder(img, 0, self.size[1] - h, 0, self.size[0] - w, cv2.BORDER_REPLICATE)
        return cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)

    def write(self, img: np.ndarray) -> None:
        """Append one uint8 BGR frame; an encoder failure raises :class:`ExportError` (discard the file)."""
        try:
            if self.size is None:
                self._open(img.shape[1], img.shape[0])
            img = np.ascontiguousarray(self._fit(img))
            if self._cv is not None:
                self._cv.write(img)
            else:
                import av

                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
        except ExportError:
            raise
        except Exception as e:  # cv2.error, av.FFmpegError, OSError (disk full) ...
            raise ExportError(f"cannot write video {self.path}: the encoder failed ({_short(e)})") from e
        self.frames += 1

    def _finish(self) -> None:
        try:
            if self._stream is not None:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        finally:
            self._stream = None
            try:
                if self._container is not None:
                    self._container.close()
            finally:
                self._container = None
                if self._fh is not None:
                    self._fh.close()
                    self._fh = None
                if self._cv is not None:
                    self._cv.release()
                    self._cv = None
                if self._fd >= 0:
                    os.close(self._fd)
                    self._fd = -1

    def close(self, keep: bool = True) -> bool:
        """Finish the file and move it to its final name (``keep``), or delete it; True when kept."""
        try:
            self._finish()
            if keep and self.frames:
                commit(self.tmp, self.path, self.overwrite)
                return True
            return False
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - the encoder's flush or the container's trailer failed
            raise ExportError(f"cannot finish video {self.path} ({_short(e)})") from e
        finally:
            discard_temp(self.tmp)


def _short(e: BaseException) -> str:
    msg = (getattr(e, "msg", None) or str(e) or type(e).__name__).strip().splitlines()
    return msg[-1][:200] if msg else type(e).__name__
