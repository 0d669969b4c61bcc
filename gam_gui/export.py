"""Headless export: the side-by-side panels of an image, a folder or a video, plus detections as JSON/CSV.

Files are written through :mod:`gam_gui.video_out`: each goes to an exclusively created, randomly named
temporary file and is renamed when complete, so an interrupted or failed export never leaves half a file
under the final name, a link planted in the output folder is never written through, and nothing existing
(a link included) is replaced unless ``overwrite`` is set. SIGTERM during an export removes the
temporary files in flight and exits 143.

File names in ``detections.json``/``.csv`` are written with :func:`escape_name`, so that any name a
folder can hold (bytes that are not UTF-8 included) is written as valid UTF-8 and read back exactly
with :func:`unescape_name`.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from gam_gui.analysis import Settings
from gam_gui.explain.cams import TargetMissingError
from gam_gui.images import ImageError, check_analysable
from gam_gui.jsonio import dumps as json_dumps
from gam_gui.pipeline import ABLATION, COMPARE, NORMAL, FramePipeline, ViewState
from gam_gui.sources import FolderSource, Frame, Source, SourceError, open_source
from gam_gui.text import escape_text
from gam_gui.tracking import FOLLOW_KINDS
from gam_gui.video_out import (
    ExportError,
    VideoRecorder,
    atomic_write_bytes,
    cleanup_on_signals,
    refuse_existing,
)

__all__ = ["TABLES", "ExportError", "ExportSummary", "VideoRecorder", "atomic_write_bytes", "encode_png",
           "escape_name", "export", "unescape_name", "write_png"]

LOGGER = logging.getLogger(__name__)


@dataclass
class ExportSummary:
    out_dir: str
    frames: int = 0
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0  # wall time of the whole export, opening the source to the last file


def escape_name(name: str) -> str:
    """A file name as valid UTF-8 text that :func:`unescape_name` turns back into the same name.

    ``\\`` becomes ``\\\\``; a byte that is not UTF-8 (a lone surrogate U+DC80-U+DCFF from
    ``os.fsdecode``'s surrogateescape) becomes ``\\xNN``; any other lone surrogate (possible in
    Windows names) becomes ``\\uNNNN``. Every other name is written unchanged.
    """
    if "\\" not in name and not any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        return name
    out = []
    for c in name:
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(c)
    return "".join(out)


def unescape_name(text: str) -> str:
    """The inverse of :func:`escape_name`: ``os.fsencode(unescape_name(escape_name(n)))`` gives n's bytes."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out.append(c)
            i += 1
        elif text.startswith("\\\\", i):
            out.append("\\")
            i += 2
        elif text.startswith("\\x", i):
            out.append(chr(0xDC00 + int(text[i + 2:i + 4], 16)))
            i += 4
        elif text.startswith("\\u", i):
            out.append(chr(int(text[i + 2:i + 6], 16)))
            i += 6
        else:
            raise ValueError(f"not an escaped name: {text[:200]!r}")
    return "".join(out)


def encode_png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ExportError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: Path, img: np.ndarray, overwrite: bool = False) -> None:
    atomic_write_bytes(path, encode_png(img), overwrite)


def check_out_dir(out_dir: str | os.PathLike, source: str | os.PathLike | Source) -> Path:
    """The output folder as a Path, or ``ValueError`` for one that cannot be right whatever the flags.

    An empty name would silently mean the current folder. The folder being exported must not be the
    output folder: its panels would be listed as inputs by the next run (even with ``--overwrite``).
    """
    if not str(out_dir).strip():
        raise ValueError("the output folder name is empty (give --out a folder)")
    out = Path(out_dir)
    folder = source.path if isinstance(source, FolderSource) else None
    if folder is None and not isinstance(source, Source):
        with contextlib.suppress(OSError, ValueError):
            folder = Path(source) if Path(source).is_dir() else None
    if folder is not None and _same_dir(out, folder):
        raise ValueError(f"the output folder {out} is the source folder: the next export would read its own "
                         "panels back as inputs (choose another --out)")
    return out


def _same_dir(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError, ValueError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        return a.resolve() == b.resolve()
    return False


def _csv(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8", "backslashreplace")


#: The table each view writes: ``<table>.json`` and ``<table>.csv``.
TABLES = {NORMAL: "detections", ABLATION: "ablation", COMPARE: "compare"}
_DETECTION_HEADER = ["frame", "name", "x1", "y1", "x2", "y2", "score", "cls", "class_name"]
_MATCH_HEADER = ["frame", "name", "status", "cls", "class_name", "score_a", "score_b", "delta", "iou",
                 "a_x1", "a_y1", "a_x2", "a_y2", "b_x1", "b_y1", "b_x2", "b_y2"]


def _class_text(name: object) -> str:
    """A class name (from the model file) for a CSV cell: escaped, control characters written as escapes."""
    return escape_text(escape_name(str(name)))


def table_csv(mode: str, records: list[dict]) -> bytes:
    """The CSV of a view's records: one row per box (``detections``), or per match of an ablation
    (``a`` before, ``b`` after) or a comparison (``both`` / ``a_only`` / ``b_only``)."""
    if mode == NORMAL:
        return _csv(_DETECTION_HEADER, [[r["frame"], r["name"], *d["xyxy"], d["score"], d["cls"],
                                         _class_text(d["name"])] for r in records for d in r["detections"]])
    key = TABLES[mode]
    return _csv(_MATCH_HEADER, [[r["frame"], r["name"], m["status"], m["cls"], _class_text(m["name"]),
                                 m["score_a"], m["score_b"], m["delta"], m["iou"], *(m["box_a"] or [""] * 4),
                                 *(m["box_b"] or [""] * 4)] for r in records for m in r[key]["matches"]])


class _LazyFolder:
    """The output folder, made when the first file is about to be written (a failed run leaves no
    empty folder behind) and removed again by :meth:`discard` when this run made it and it is empty."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.made: list[Path] = []  # the folders this run created, innermost first

    def ensure(self) -> Path:
        if not self.made and not self.path.is_dir():
            missing = [p for p in (self.path, *self.path.parents) if not p.exists()]
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ExportError(f"{self.path}: cannot create the output folder ({e.strerror or e})") from e
            self.made = missing
        return self.path

    def discard(self) -> None:
        for p in self.made:
            with contextlib.suppress(OSError):
                p.rmdir()  # only when empty
        self.made = []


def export(source: str | os.PathLike | Source, out_dir: str | os.PathLike, model: nn.Module,
           settings: Settings | None = None, video: bool = False, every: int = 1, overwrite: bool = False,
           layout: str | None = None, max_frames: int | None = None,
           progress: Callable[[int, int | None], None] | None = None,
           cancelled: Callable[[], bool] | None = None, max_failures: int = 5,
           view: ViewState | None = None, opened: Source | None = None) -> ExportSummary:
    """Write the figure and the table rows of every (``every``-th) frame of ``source`` into ``out_dir``.

    ``view`` (:class:`gam_gui.pipeline.ViewState`) chooses what a frame becomes, as in the window: the
    visible panels and ``detections.*`` (default), an ablation (``ablation.*``) or an A/B comparison
    (``compare.*``); ``settings``, when given, replaces the view's. ``layout``: ``row`` or ``grid``; None
    arranges the figure as the window does (panels in a row, a comparison three to a row).
    ``opened``: ``source`` already opened (the CLI opens it before the model loads, so a bad file is
    reported at once).

    Images and folders give one ``<name>_panels.png`` each; a video gives one PNG per exported frame,
    or with ``video`` a single ``<name>_panels.mp4`` (H.264 where available, see
    :mod:`gam_gui.video_out`). The JSON and CSV list every box; they are written only when at least
    one frame was exported (an export of nothing leaves no files, and no folder it made). Bad files
    in a folder are reported in ``skipped`` and the rest is processed. ``progress(done, total)`` is
    called after each exported frame and once more with ``(n, n)`` when the source is finished.

    A frame whose analysis fails (an exception, out of memory on a huge frame, a target index the
    frame does not have) is reported in ``skipped`` and the export goes on: one bad frame must not
    cost the others. After ``max_failures`` failures in a row (the model or the settings cannot
    work) the export stops with an :class:`ExportError`, as it does when writing fails. A stopped
    export leaves no partial file: the video is only moved to its final name when complete, each PNG
    is written atomically, and the PNGs written before the failure are kept with their detections.

    ``ValueError`` for an empty ``out_dir`` or one that is the source folder itself.
    """
    t0 = time.monotonic()
    state = view or ViewState(settings or Settings())
    if view is not None and settings is not None:
        state = view.updated(settings=settings)
    every = max(1, int(every))
    out = check_out_dir(out_dir, opened or source)
    with cleanup_on_signals():
        try:
            src = opened or (source if isinstance(source, Source) else open_source(source))
        except SourceError as e:
            raise ExportError(str(e)) from e
        summary = _export(src, source, _LazyFolder(out), model, state, video, every, overwrite, layout, max_frames,
                          progress, cancelled, max_failures)
    summary.seconds = round(time.monotonic() - t0, 3)
    return summary


def _export(src: Source, source: object, folder: _LazyFolder, model: nn.Module, view: ViewState, video: bool,
            every: int, overwrite: bool, layout: str | None, max_frames: int | None,
            progress: Callable[[int, int | None], None] | None, cancelled: Callable[[], bool] | None,
            max_failures: int) -> ExportSummary:
    t0 = time.monotonic()
    out = folder.path
    summary = ExportSummary(str(out))
    table = TABLES[view.mode]
    json_path, csv_path = out / f"{table}.json", out / f"{table}.csv"
    records: list[dict] = []
    writer = _FrameWriter(src, folder, video, every, overwrite, layout, summary)
    failure = ""  # why the export stopped early, if it did
    try:
        for p in (json_path, csv_path):
            refuse_existing(p, overwrite)
        if writer.video:  # a name that exists is refused before any work, as for the tables
            refuse_existing(writer.video_path, overwrite)
        pipeline = FramePipeline(model, sequential=src.kind in FOLLOW_KINDS)
        failure = _run(src, pipeline, view, writer, records, summary, every, max_frames, progress, cancelled,
                       max(1, int(max_failures)))
    except BaseException:
        # an encoder failure, a refused overwrite, an interrupt: the unfinished video goes, nothing else
        writer.discard()
        if not summary.files:
            folder.discard()
        src.close()
        raise
    if writer.finish(keep=not failure and summary.frames > 0):
        summary.files.append(str(writer.video_path))
    src.close()
    summary.skipped.extend(src.errors)
    if failure and (writer.video or not records):
        if not summary.files:
            folder.discard()
        raise ExportError(f"{failure}; nothing was written" if not records else f"{failure}; the video was discarded")
    if not records:  # nothing exported: no detections files that would describe nothing
        folder.discard()
        return summary
    meta = {"source": escape_name(str(source if not isinstance(source, Source) else source.label)),
            "settings": asdict(view.settings), "seconds": round(time.monotonic() - t0, 3), "frames": records,
            "skipped": [escape_name(m) for m in summary.skipped]}
    # names are escaped already; "backslashreplace" only guards odd class names stored in a model file
    text = json_dumps(meta, indent=1, ensure_ascii=False)
    folder.ensure()
    atomic_write_bytes(json_path, text.encode("utf-8", "backslashreplace"), overwrite)
    atomic_write_bytes(csv_path, table_csv(view.mode, records), overwrite)
    summary.files += [str(json_path), str(csv_path)]
    if failure:
        raise ExportError(f"{failure}; the {len(records)} frame(s) exported before were kept")
    return summary


class _FrameWriter:
    """Where the figures go: one PNG per frame, or one MP4 opened with the first figure."""

    def __init__(self, src: Source, folder: _LazyFolder, video: bool, every: int, overwrite: bool, layout: str | None,
                 summary: ExportSummary) -> None:
        self.src, self.folder, self.overwrite, self.layout, self.summary = src, folder, overwrite, layout, summary
        self.stem = Path(str(getattr(src, "path", src.label))).stem or "frame"
        self.video = video and src.kind in ("video", "camera", "stream")
        self.video_path = folder.path / f"{self.stem}_panels.mp4"
        self.fps = (src.fps or 25.0) / every
        self.recorder: VideoRecorder | None = None
        self.used: set[str] = set()

    def write(self, frame: Frame, fig: np.ndarray) -> None:
        if self.video:
            if self.recorder is None:
                self.folder.ensure()
                self.recorder = VideoRecorder(self.video_path, self.fps, self.overwrite)
            self.recorder.write(fig)
            return
        name = _panel_name(self.src, frame, self.stem, self.used)
        write_png(self.folder.ensure() / name, fig, self.overwrite)
        self.summary.files.append(str(self.folder.path / name))

    def finish(self, keep: bool) -> bool:
        """Close the video (kept only when ``keep``); whether a video file was kept."""
        rec, self.recorder = self.recorder, None
        return rec is not None and rec.close(keep=keep)

    def discard(self) -> None:
        with contextlib.suppress(ExportError):
            self.finish(keep=False)


def _run(src: Source, pipeline: FramePipeline, view: ViewState, writer: _FrameWriter, records: list[dict],
         summary: ExportSummary, every: int, max_frames: int | None,
         progress: Callable[[int, int | None], None] | None, cancelled: Callable[[], bool] | None,
         max_failures: int) -> str:
    """The frame loop of :func:`export`; returns why it stopped early ("" when it did not)."""
    total = src.count
    in_a_row = 0
    while True:
        try:
            frame = src.read()
        except SourceError as e:  # a source that dies mid-way keeps what it delivered
            summary.skipped.append(str(e))
            return ""
        if frame is None:
            if progress and src.position:  # the bar ends at N/N, whatever the estimate or the skips were
                progress(src.position, src.position)
            return ""
        if cancelled and cancelled():
            summary.cancelled = True
            return ""
        if frame.index % every:
            continue
        try:
            check_analysable(frame.image, view.settings.imgsz, frame.name)
            shown = pipeline.step(frame, view, moving=True)
            fig, fields = shown.figure(writer.layout), shown.fields()
        except Exception as e:  # noqa: BLE001 - one frame's failure is reported, not fatal
            in_a_row += 1
            reason = _frame_failure(frame, e)
            summary.skipped.append(reason)
            LOGGER.info("skipped %s", reason)  # the caller reports ``skipped`` (the CLI prints each once)
            if in_a_row >= max_failures:
                return f"stopped after {in_a_row} frames in a row failed (last: {reason})"
            continue
        in_a_row = 0
        writer.write(frame, fig)
        records.append({"frame": frame.index, "name": escape_name(frame.name), "timestamp": round(frame.timestamp, 3),
                        **fields})
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
    if isinstance(e, ImageError):  # says what is wrong with the image itself, with its name
        return str(e)
    if isinstance(e, TargetMissingError):  # "target 9: the frame has 4 detections (0-3)"
        return f"{frame.name}: {e}"
    h, w = frame.image.shape[:2]
    where = f"{frame.name} (frame {frame.index})"
    if isinstance(e, (MemoryError, torch.OutOfMemoryError)):  # torch's: CUDA (and other devices) out of memory
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return f"{where}: out of memory analysing a {w}x{h} frame (try a smaller --imgsz or --device cpu)"
    msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return f"{where}: analysis failed: {type(e).__name__}{': ' + msg if msg else ''}"
