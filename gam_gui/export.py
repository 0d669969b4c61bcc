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
import json
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

from gam_gui.analysis import Result, Settings, analyze_with
from gam_gui.images import ImageError, check_analysable
from gam_gui.inference import detect
from gam_gui.render import ScaleMemory, compose
from gam_gui.sources import FolderSource, Frame, Source, SourceError, open_source
from gam_gui.tracking import FOLLOW_KINDS, IndexFollower
from gam_gui.video_out import (
    ExportError,
    VideoRecorder,
    atomic_write_bytes,
    cleanup_on_signals,
    refuse_existing,
)

__all__ = ["AblationView", "CompareView", "ExportError", "ExportSummary", "PanelsView", "VideoRecorder",
           "atomic_write_bytes", "encode_png", "escape_name",
           "export", "unescape_name", "write_png"]

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


class PanelsView:
    """What :func:`export` makes of one frame: here the four panels and the detections
    (``detections.json``/``.csv``); :class:`AblationView` and :class:`CompareView` make other figures
    and tables from the same frame loop."""

    table = "detections"

    def frame(self, model: nn.Module, image: np.ndarray, s: Settings, layout: str) -> tuple[np.ndarray, dict]:
        """The figure of one frame and the fields its JSON record carries."""
        res = analyze_with(model, image, s)
        res.read_gam(s.gam_layer)  # timed into res.timings, which the JSON records
        # Settings.scale "fixed": one colour range held over the frames this view exports
        scales = self.__dict__.setdefault("scales", ScaleMemory())
        return compose(image, res, s, layout=layout, scales=scales), self._fields(res)

    @staticmethod
    def _fields(res: Result) -> dict:
        return {"method": res.method, "target": res.target, "note": res.note, "timings_ms": res.timings,
                "detections": [d.to_dict() for d in res.detections]}

    def csv(self, records: list[dict]) -> bytes:
        return _csv(["frame", "name", "x1", "y1", "x2", "y2", "score", "cls", "class_name"],
                    [[r["frame"], r["name"], *d["xyxy"], d["score"], d["cls"], escape_name(str(d["name"]))]
                     for r in records for d in r["detections"]])


_MATCH_HEADER = ["frame", "name", "status", "cls", "class_name", "score_a", "score_b", "delta", "iou",
                 "a_x1", "a_y1", "a_x2", "a_y2", "b_x1", "b_y1", "b_x2", "b_y2"]


def _match_rows(records: list[dict], key: str) -> list[list]:
    return [[r["frame"], r["name"], m["status"], m["cls"], escape_name(str(m["name"])), m["score_a"], m["score_b"],
             m["delta"], m["iou"], *(m["box_a"] or [""] * 4), *(m["box_b"] or [""] * 4)]
            for r in records for m in r[key]["matches"]]


class AblationView(PanelsView):
    """Each frame as trained and with GAM blocks ablated (:func:`gam_gui.ablation.ablate`): the
    panels with the ablation overlay, and ``ablation.json``/``.csv`` (one row per match; ``a`` is
    before the ablation, ``b`` after)."""

    table = "ablation"

    def __init__(self, blocks: dict) -> None:
        self.blocks = blocks

    def frame(self, model: nn.Module, image: np.ndarray, s: Settings, layout: str) -> tuple[np.ndarray, dict]:
        from gam_gui.ablation import ablate
        from gam_gui.render import ablation_panels, compose_panels

        res = analyze_with(model, image, s)
        res.read_gam(s.gam_layer)
        ab = ablate(model, image, self.blocks, conf=s.conf, iou=s.iou, imgsz=s.imgsz, before=res.detections)
        width = min(image.shape[1], 960)
        fig = compose_panels(ablation_panels(image, res, ab, s, shown_width=width), width, layout)
        return fig, {**self._fields(res), "ablation": ab.to_dict()}

    def csv(self, records: list[dict]) -> bytes:
        return _csv(_MATCH_HEADER, _match_rows(records, "ablation"))


class CompareView(PanelsView):
    """Each frame through model A (the one given to :func:`export`) and ``model_b`` with the same
    settings (:func:`gam_gui.compare.compare`): detections, CAMs and their difference in a 3x2
    figure, and ``compare.json``/``.csv`` (one row per match: both / a_only / b_only)."""

    table = "compare"

    def __init__(self, model_b: nn.Module, name_a: str = "A", name_b: str = "B") -> None:
        self.model_b, self.name_a, self.name_b = model_b, name_a, name_b

    def frame(self, model: nn.Module, image: np.ndarray, s: Settings, layout: str) -> tuple[np.ndarray, dict]:
        from gam_gui.compare import compare
        from gam_gui.render import compare_panels, compose_panels

        cmp = compare(model, self.model_b, image, s)
        width = min(image.shape[1], 960)
        fig = compose_panels(compare_panels(image, cmp, s, self.name_a, self.name_b, shown_width=width), width,
                             "row" if layout == "row" else "grid", columns=3)
        return fig, {"models": {"a": self.name_a, "b": self.name_b}, "compare": cmp.to_dict()}

    def csv(self, records: list[dict]) -> bytes:
        return _csv(_MATCH_HEADER, _match_rows(records, "compare"))


def export(source: str | os.PathLike | Source, out_dir: str | os.PathLike, model: nn.Module,
           settings: Settings | None = None, video: bool = False, every: int = 1, overwrite: bool = False,
           layout: str = "row", max_frames: int | None = None,
           progress: Callable[[int, int | None], None] | None = None,
           cancelled: Callable[[], bool] | None = None, max_failures: int = 5,
           view: PanelsView | None = None) -> ExportSummary:
    """Write panels and detections for every (``every``-th) frame of ``source`` into ``out_dir``.

    ``view`` chooses what a frame becomes: the panels and ``detections.*`` (default), an ablation
    (:class:`AblationView`: ``ablation.*``) or an A/B comparison (:class:`CompareView`: ``compare.*``).

    Images and folders give one ``<name>_panels.png`` each; a video gives one PNG per exported frame,
    or with ``video`` a single ``<name>_panels.mp4`` (H.264 where available, see
    :mod:`gam_gui.video_out`). ``detections.json`` and ``detections.csv`` list every box; they are
    written only when at least one frame was exported (an export of nothing leaves no files). Bad
    files in a folder are reported in ``skipped`` and the rest is processed. ``progress(done, total)``
    is called after each exported frame and once more with ``(n, n)`` when the source is finished.

    A frame whose analysis fails (an exception, out of memory on a huge frame) is reported in
    ``skipped`` and the export goes on: one bad frame must not cost the others. After
    ``max_failures`` failures in a row (the model or the settings cannot work) the export stops
    with an :class:`ExportError`, as it does when writing fails. A stopped export leaves no partial
    file: the video is only moved to its final name when complete, each PNG is written atomically,
    and the PNGs written before the failure are kept with their detections.

    ``ValueError`` for an empty ``out_dir`` or one that is the source folder itself.
    """
    t0 = time.monotonic()
    s = settings or Settings()
    every = max(1, int(every))
    out = check_out_dir(out_dir, source)
    with cleanup_on_signals():
        try:
            src = source if isinstance(source, Source) else open_source(source)
        except SourceError as e:
            raise ExportError(str(e)) from e
        summary = _export(src, source, out, model, s, video, every, overwrite, layout, max_frames, progress,
                          cancelled, max_failures, view or PanelsView())
    summary.seconds = round(time.monotonic() - t0, 3)
    return summary


def _export(src: Source, source: object, out: Path, model: nn.Module, s: Settings, video: bool, every: int,
            overwrite: bool, layout: str, max_frames: int | None,
            progress: Callable[[int, int | None], None] | None, cancelled: Callable[[], bool] | None,
            max_failures: int, view: PanelsView) -> ExportSummary:
    t0 = time.monotonic()
    summary = ExportSummary(str(out))
    json_path, csv_path = out / f"{view.table}.json", out / f"{view.table}.csv"
    recorder: VideoRecorder | None = None
    records: list[dict] = []
    failure = ""  # why the export stopped early, if it did
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(f"{out}: cannot create the output folder ({e.strerror or e})") from e
        for p in (json_path, csv_path):
            refuse_existing(p, overwrite)
        stem = Path(str(getattr(src, "path", src.label))).stem or "frame"
        if video and src.kind in ("video", "camera", "stream"):
            recorder = VideoRecorder(out / f"{stem}_panels.mp4", (src.fps or 25.0) / every, overwrite)
        failure = _run(src, model, s, out, stem, recorder, records, summary, every, overwrite, layout,
                       max_frames, progress, cancelled, max(1, int(max_failures)), view)
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
    if not records:  # nothing exported: no detections files that would describe nothing
        return summary
    meta = {"source": escape_name(str(source if not isinstance(source, Source) else source.label)),
            "settings": asdict(s), "seconds": round(time.monotonic() - t0, 3), "frames": records,
            "skipped": [escape_name(m) for m in summary.skipped]}
    # names are escaped already; "backslashreplace" only guards odd class names stored in a model file
    text = json.dumps(meta, indent=1, default=str, ensure_ascii=False)
    atomic_write_bytes(json_path, text.encode("utf-8", "backslashreplace"), overwrite)
    atomic_write_bytes(csv_path, view.csv(records), overwrite)
    summary.files += [str(json_path), str(csv_path)]
    if failure:
        raise ExportError(f"{failure}; the {len(records)} frame(s) exported before were kept")
    return summary


def _run(src: Source, model: nn.Module, s: Settings, out: Path, stem: str, recorder: VideoRecorder | None,
         records: list[dict], summary: ExportSummary, every: int, overwrite: bool, layout: str,
         max_frames: int | None, progress: Callable[[int, int | None], None] | None,
         cancelled: Callable[[], bool] | None, max_failures: int, view: PanelsView) -> str:
    """The frame loop of :func:`export`; returns why it stopped early ("" when it did not)."""
    total = src.count
    used: set[str] = set()
    in_a_row = 0
    follow = IndexFollower(s.target) if isinstance(s.target, int) and src.kind in FOLLOW_KINDS else None
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
            check_analysable(frame.image, s.imgsz, frame.name)
            fs = s if follow is None else s.updated(target=follow.target(
                detect(model, frame.image, s.conf, s.iou, s.imgsz), frame.timestamp))  # the clicked object, followed
            fig, fields = view.frame(model, frame.image, fs, layout)
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
    h, w = frame.image.shape[:2]
    where = f"{frame.name} (frame {frame.index})"
    if isinstance(e, MemoryError) or "out of memory" in str(e).lower():
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return f"{where}: out of memory analysing a {w}x{h} frame (try a smaller --imgsz or --device cpu)"
    msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return f"{where}: analysis failed: {type(e).__name__}{': ' + msg if msg else ''}"
