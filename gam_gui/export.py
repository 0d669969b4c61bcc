"""Headless export: the side-by-side panels of an image, a folder or a video, plus detections as JSON/CSV.

Files are written under a temporary name and renamed when complete, so an interrupted or failed
export never leaves half a file under the final name, and nothing existing is replaced unless
``overwrite`` is set.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from torch import nn

from gam_gui.analysis import Settings, analyze_with
from gam_gui.render import compose
from gam_gui.sources import Source, SourceError, open_source

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
        if self.writer is None:
            h, w = img.shape[:2]
            self.size = (w - w % 2, h - h % 2)  # codecs want even sizes
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
            if not self.writer.isOpened():
                raise ExportError(f"cannot write video {self.path} (no MP4 encoder available)")
        if (img.shape[1], img.shape[0]) != self.size:
            img = cv2.resize(img, self.size)
        self.writer.write(img)
        self.frames += 1

    def close(self, keep: bool = True) -> bool:
        if self.writer is not None:
            self.writer.release()
        if keep and self.frames and self.tmp.exists():
            os.replace(self.tmp, self.path)
            return True
        if self.tmp.exists():
            self.tmp.unlink()
        return False


def _rows(frame_name: str, index: int, dets) -> list[dict]:
    return [{"frame": index, "name": frame_name, **d.to_dict()} for d in dets]


def export(source: str | os.PathLike | Source, out_dir: str | os.PathLike, model: nn.Module,
           settings: Settings | None = None, video: bool = False, every: int = 1, overwrite: bool = False,
           layout: str = "row", max_frames: int | None = None,
           progress: Callable[[int, int | None], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> ExportSummary:
    """Write panels and detections for every (``every``-th) frame of ``source`` into ``out_dir``.

    Images and folders give one ``<name>_panels.png`` each; a video gives one PNG per exported frame,
    or with ``video`` a single ``<name>_panels.mp4``. ``detections.json`` and ``detections.csv`` list
    every box. Bad files in a folder are reported in ``skipped`` and the rest is processed.
    """
    s = settings or Settings()
    every = max(1, int(every))
    out = Path(out_dir)
    try:
        src = source if isinstance(source, Source) else open_source(source)
    except SourceError as e:
        raise ExportError(str(e)) from e
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(str(out))
    json_path, csv_path = out / "detections.json", out / "detections.csv"
    for p in (json_path, csv_path):
        if p.exists() and not overwrite:
            src.close()
            raise ExportError(f"{p} exists; not overwriting it (use --overwrite)")
    stem = Path(str(getattr(src, "path", src.label))).stem or "frame"
    recorder = None
    if video and src.kind in ("video", "camera", "stream"):
        recorder = VideoRecorder(out / f"{stem}_panels.mp4", (src.fps or 25.0) / every, overwrite)
    records: list[dict] = []
    total = src.count
    done = 0
    ok = False
    try:
        for frame in src:
            if cancelled and cancelled():
                summary.cancelled = True
                break
            if frame.index % every:
                continue
            res = analyze_with(model, frame.image, s)
            fig = compose(frame.image, res, s, layout=layout)
            if recorder is not None:
                recorder.write(fig)
            else:
                name = (f"{Path(frame.name).stem}_panels.png" if src.kind in ("image", "folder")
                        else f"{stem}_f{frame.index:06d}_panels.png")
                write_png(out / name, fig, overwrite)
                summary.files.append(str(out / name))
            records.append({"frame": frame.index, "name": frame.name, "timestamp": round(frame.timestamp, 3),
                            "method": res.method, "target": res.target, "note": res.note,
                            "timings_ms": res.timings, "detections": [d.to_dict() for d in res.detections]})
            done += 1
            summary.frames = done
            if progress:
                progress(frame.index + 1, total)
            if max_frames and done >= max_frames:
                break
        ok = True
    except SourceError as e:
        summary.skipped.append(str(e))
        ok = done > 0
    finally:
        if recorder is not None:
            if recorder.close(keep=ok):
                summary.files.append(str(recorder.path))
        src.close()
    summary.skipped.extend(src.errors)
    meta = {"source": str(source if not isinstance(source, Source) else source.label),
            "settings": asdict(s), "frames": records, "skipped": summary.skipped}
    atomic_write_bytes(json_path, json.dumps(meta, indent=1).encode(), overwrite)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["frame", "name", "x1", "y1", "x2", "y2", "score", "cls", "class_name"])
    for r in records:
        for d in r["detections"]:
            w.writerow([r["frame"], r["name"], *d["xyxy"], d["score"], d["cls"], d["name"]])
    atomic_write_bytes(csv_path, buf.getvalue().encode(), overwrite)
    summary.files += [str(json_path), str(csv_path)]
    return summary
