"""Headless export: the side-by-side panels of an image, a folder or a video, plus detections as JSON/CSV.

Files are written under a temporary name and renamed when complete, so an interrupted or failed
export never leaves half a file under the final name, and nothing existing is replaced unless
``overwrite`` is set.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from gam_gui.analysis import Settings, analyze_with
from gam_gui.render import compose
from gam_gui.sources import Frame, Source, SourceError, open_source

LOGGER = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """An export that cannot start or finish; the message is meant for the user."""


@dataclass
class ExportSummary:
    out_dir: str
    frames: int = 0
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False


def atomic_write_bytes(path: Path, data: bytes, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise ExportError(f"{path} exists; not overwriting it (use --overwrite)")
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:  # disk full, permission denied, the folder removed meanwhile
        raise ExportError(f"cannot write {path} ({e.strerror or e})") from e
    finally:
        if tmp.exists():
            tmp.unlink()


def encode_png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ExportError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: Path, img: np.ndarray, overwrite: bool = False) -> None:
    atomic_write_bytes(path, encode_png(img), overwrite)


class VideoRecorder:
    """An MP4 of composed panels, written to a temporary file and moved into place on ``close``."""

    def __init__(self, path: Path, fps: float, overwrite: bool = False) -> None:
        if path.exists() and not overwrite:
            raise ExportError(f"{path} exists; not overwriting it (use --overwrite)")
        self.path = path
        self.tmp = path.with_name(f".{path.stem}.part{path.suffix}")
        self.fps = fps if fps and fps > 0 else 25.0
        self.writer: cv2.VideoWriter | None = None
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, img: np.ndarray) -> None:
        """Append one frame; an encoder failure raises :class:`ExportError` (the caller discards the file)."""
        try:
            if self.writer is None:
                h, w = img.shape[:2]
                self.size = (max(2, w - w % 2), max(2, h - h % 2))  # codecs want even sizes
                self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
                if not self.writer.isOpened():
                    raise ExportError(f"cannot write video {self.path} (no MP4 encoder available)")
            if (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size)
            self.writer.write(img)
        except cv2.error as e:
            raise ExportError(f"cannot write video {self.path}: the encoder failed ({e})") from e
        self.frames += 1

    def close(self, keep: bool = True) -> bool:
        """Finish the file and move it to its final name (``keep``), or delete it; True when kept."""
        try:
            if self.writer is not None:
                self.writer.release()
                self.writer = None
            if keep and self.frames and self.tmp.exists():
                os.replace(self.tmp, self.path)
                return True
            return False
        except (cv2.error, OSError) as e:
            raise ExportError(f"cannot finish video {self.path} ({e})") from e
        finally:
            if self.tmp.exists():
                self.tmp.unlink()


def _rows(frame_name: str, index: int, dets) -> list[dict]:
    return [{"frame": index, "name": frame_name, **d.to_dict()} for d in dets]


def export(source: str | os.PathLike | Source, out_dir: str | os.PathLike, model: nn.Module,
           settings: Settings | None = None, video: bool = False, every: int = 1, overwrite: bool = False,
           layout: str = "row", max_frames: int | None = None,
           progress: Callable[[int, int | None], None] | None = None,
           cancelled: Callable[[], bool] | None = None, max_failures: int = 5) -> ExportSummary:
    """Write panels and detections for every (``every``-th) frame of ``source`` into ``out_dir``.

    Images and folders give one ``<name>_panels.png`` each; a video gives one PNG per exported frame,
    or with ``video`` a single ``<name>_panels.mp4``. ``detections.json`` and ``detections.csv`` list
    every box. Bad files in a folder are reported in ``skipped`` and the rest is processed.

    A frame whose analysis fails (an exception, out of memory on a huge frame) is reported in
    ``skipped`` and the export goes on: one bad frame must not cost the others. After
    ``max_failures`` failures in a row (the model or the settings cannot work) the export stops
    with an :class:`ExportError`, as it does when writing fails. A stopped export leaves no partial
    file: the video is only moved to its final name when complete, each PNG is written atomically,
    and the PNGs written before the failure are kept with their detections.
    """
    s = settings or Settings()
    every = max(1, int(every))
    out = Path(out_dir)
    try:
        src = source if isinstance(source, Source) else open_source(source)
    except SourceError as e:
        raise ExportError(str(e)) from e
    summary = ExportSummary(str(out))
    json_path, csv_path = out / "detections.json", out / "detections.csv"
    recorder: VideoRecorder | None = None
    records: list[dict] = []
    failure = ""  # why the export stopped early, if it did
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(f"{out}: cannot create the output folder ({e.strerror or e})") from e
        for p in (json_path, csv_path):
            if p.exists() and not overwrite:
                raise ExportError(f"{p} exists; not overwriting it (use --overwrite)")
        stem = Path(str(getattr(src, "path", src.label))).stem or "frame"
        if video and src.kind in ("video", "camera", "stream"):
            recorder = VideoRecorder(out / f"{stem}_panels.mp4", (src.fps or 25.0) / every, overwrite)
        failure = _run(src, model, s, out, stem, recorder, records, summary, every, overwrite, layout,
                       max_frames, progress, cancelled, max(1, int(max_failures)))
    except BaseException:
        # an encoder failure, a refused overwrite, an interrupt: the unfinished video goes, nothing else
        with contextlib.suppress(ExportError):
            if recorder is not None:
                recorder.close(keep=False)
        src.close()
        raise
    if recorder is not None and recorder.close(keep=not failure and summary.frames > 0):
        summary.files.append(str(recorder.path))
    src.close()
    summary.skipped.extend(src.errors)
    if failure and (recorder is not None or not records):
        raise ExportError(f"{failure}; nothing was written" if not records else f"{failure}; the video was discarded")
    meta = {"source": str(source if not isinstance(source, Source) else source.label),
            "settings": asdict(s), "frames": records, "skipped": summary.skipped}
    atomic_write_bytes(json_path, json.dumps(meta, indent=1, default=str).encode(), overwrite)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["frame", "name", "x1", "y1", "x2", "y2", "score", "cls", "class_name"])
    for r in records:
        for d in r["detections"]:
            w.writerow([r["frame"], r["name"], *d["xyxy"], d["score"], d["cls"], d["name"]])
    atomic_write_bytes(csv_path, buf.getvalue().encode(), overwrite)
    summary.files += [str(json_path), str(csv_path)]
    if failure:
        raise ExportError(f"{failure}; the {len(records)} frame(s) exported before were kept")
    return summary


def _run(src: Source, model: nn.Module, s: Settings, out: Path, stem: str, recorder: VideoRecorder | None,
         records: list[dict], summary: ExportSummary, every: int, overwrite: bool, layout: str,
         max_frames: int | None, progress: Callable[[int, int | None], None] | None,
         cancelled: Callable[[], bool] | None, max_failures: int) -> str:
    """The frame loop of :func:`export`; returns why it stopped early ("" when it did not)."""
    total = src.count
    used: set[str] = set()
    in_a_row = 0
    while True:
        try:
            frame = src.read()
        except SourceError as e:  # a source that dies mid-way keeps what it delivered
            summary.skipped.append(str(e))
            return ""
        if frame is None:
            return ""
        if cancelled and cancelled():
            summary.cancelled = True
            return ""
        if frame.index % every:
            continue
        try:
            res = analyze_with(model, frame.image, s)
            res.read_gam(s.gam_layer)  # timed into res.timings, which the JSON records
            fig = compose(frame.image, res, s, layout=layout)
        except Exception as e:  # noqa: BLE001 - one frame's failure is reported, not fatal
            in_a_row += 1
            reason = _frame_failure(frame, e)
            summary.skipped.append(reason)
            LOGGER.info("skipped %s", reason)  # the caller reports ``skipped`` (the CLI prints each once)
            if in_a_row >= max_failures:
                return f"stopped after {in_a_row} frames in a row failed (last: {reason})"
            continue
        in_a_row = 0
        if recorder is not None:
            recorder.write(fig)
        else:
            name = _panel_name(src, frame, stem, used)
            write_png(out / name, fig, overwrite)
            summary.files.append(str(out / name))
        records.append({"frame": frame.index, "name": frame.name, "timestamp": round(frame.timestamp, 3),
                        "method": res.method, "target": res.target, "note": res.note,
                        "timings_ms": res.timings, "detections": [d.to_dict() for d in res.detections]})
        summary.frames = len(records)
        if progress:
            progress(frame.index + 1, total)
        if max_frames and len(records) >= max_frames:
            return ""


def _panel_name(src: Source, frame: Frame, stem: str, used: set[str]) -> str:
    """``<name>_panels.png``, unique within this export: ``a.jpg`` and ``a.png`` of one folder must not
    write (or, with overwrite, replace) the same file."""
    if src.kind in ("image", "folder"):
        p = Path(frame.name)
        name = f"{p.stem}_panels.png"
        if name in used:
            name = f"{p.stem}_{p.suffix.lstrip('.') or frame.index}_panels.png"
        n = 2
        while name in used:
            name = f"{p.stem}_{n}_panels.png"
            n += 1
    else:
        name = f"{stem}_f{frame.index:06d}_panels.png"
    used.add(name)
    return name


def _frame_failure(frame: Frame, e: BaseException) -> str:
    """What went wrong with one frame, for ``skipped``; frees what an out-of-memory left behind."""
    h, w = frame.image.shape[:2]
    where = f"{frame.name} (frame {frame.index})"
    if isinstance(e, MemoryError) or "out of memory" in str(e).lower():
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return f"{where}: out of memory analysing a {w}x{h} frame (try a smaller --imgsz or --device cpu)"
    msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return f"{where}: analysis failed: {type(e).__name__}{': ' + msg if msg else ''}"
