"""The window's dataset browser without Qt: scoring images one by one, the saved eval it can show,
and running that eval.

The window's dataset list (:mod:`gam_gui.ui.dataset_controller`) calls these on its worker thread;
they never touch a widget. Cancelling is a :class:`threading.Event` the caller sets: each loop looks
at it between images (between batches for the eval), so a cancel takes effect within one image.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from gam_gui.datasets import Dataset
from gam_gui.inference import detect
from gam_gui.render_gt import ImageMatchCounts, match_detections

LOGGER = logging.getLogger(__name__)
#: where "Run eval" writes by default: this folder next to the data
EVAL_FOLDER = "gam-gui-eval"


class EvalCancelledError(Exception):
    """The user cancelled a running eval (``done`` images were scored)."""

    def __init__(self, done: int = 0) -> None:
        super().__init__(f"cancelled after {done} image(s)")
        self.done = done


@dataclass
class ImageScore:
    """One image of the list once scored: its index in the dataset and the match (None: skipped)."""

    index: int
    match: ImageMatchCounts | None
    reason: str = ""  # why it was skipped


def score_images(model: nn.Module, dataset: Dataset, conf: float, iou: float, imgsz: int,
                 cancel: threading.Event, order: list[int] | None = None) -> Iterator[ImageScore]:
    """Detect on each image (``order``: the indices, default all) and match it to its ground truth
    (:func:`gam_gui.render_gt.match_detections`); stops quietly when ``cancel`` is set."""
    for i in (range(len(dataset)) if order is None else order):
        if cancel.is_set():
            return
        sample = dataset[i]
        if sample.image is None:
            yield ImageScore(i, None, sample.skip_reason or "")
            continue
        dets = detect(model, sample.image, conf, iou, imgsz)
        yield ImageScore(i, match_detections(sample.boxes, sample.classes, dets))


def label_classes(dataset: Dataset, i: int) -> frozenset[int]:
    """The classes of image ``i``'s labels, read from the label table (no image decoded)."""
    labels = getattr(dataset, "labels", None)
    if labels is None:
        return frozenset()
    return frozenset(int(c) for c in labels.image_rows(i)[:, 0])


@dataclass
class Summary:
    """What View > Dataset summary shows: the per-class rows and ablation rows of a saved eval."""

    path: str
    map50: float | None
    map50_95: float | None
    images: int
    per_class: list[dict] = field(default_factory=list)
    ablations: list[dict] = field(default_factory=list)


def data_folder(source: str) -> Path:
    """The folder a dataset spec lives in (the folder itself, or a file's folder)."""
    p = Path(source)
    return p if p.is_dir() else p.parent


def _same_data(meta: dict, source: str) -> bool:
    data = meta.get("data") or {}
    src = data.get("source") if isinstance(data, dict) else None
    if not src:
        return False
    try:
        a, b = Path(src).resolve(), Path(source).resolve()
        return a == b or data_folder(str(a)).resolve() == data_folder(str(b)).resolve()
    except OSError:
        return False


def find_metrics(source: str, extra: list[str | Path] = ()) -> Path | None:
    """The newest ``metrics.json`` of an eval of ``source``: in the data's folder, one folder below
    it (``gam-gui-eval/``, ``runs/``...), or in the ``extra`` folders; None when there is none."""
    base = data_folder(source)
    candidates = [base / "metrics.json", *base.glob("*/metrics.json"), *base.glob("*/*/metrics.json")]
    candidates += [Path(e) / "metrics.json" for e in extra]
    found = []
    for c in candidates:
        try:
            if c.is_file() and c.stat().st_size < 50_000_000:
                found.append((c.stat().st_mtime, c))
        except OSError:
            continue
    for _, c in sorted(found, key=lambda t: t[0], reverse=True):
        try:
            meta = read_json(c)
        except (OSError, ValueError):
            continue
        if _same_data(meta, source) or Path(c).parent in [Path(e) for e in extra]:
            return c
    return None


def read_json(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an eval's metrics.json")
    return data


def read_summary(path: str | Path) -> Summary:
    """A saved eval's ``metrics.json`` as a :class:`Summary` (ValueError when it is not one)."""
    d = read_json(path)
    rows = d.get("per_class")
    if not isinstance(rows, list):
        raise ValueError(f"{path}: no per-class table")
    extra = d.get("extra") if isinstance(d.get("extra"), dict) else {}
    abl = extra.get("ablations") if isinstance(extra.get("ablations"), list) else []

    def num(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) else None

    return Summary(str(path), num(d.get("map50")), num(d.get("map50_95")), int(d.get("images") or 0),
                   [r for r in rows if isinstance(r, dict)], [r for r in abl if isinstance(r, dict)])


def run_eval(model: nn.Module, dataset: Dataset, imgsz: int, weights: str, out: str | Path,
             cancel: threading.Event, progress: Callable[[int, int], None] | None = None,
             ablate_each: bool = True, batch: int = 8) -> Path:
    """``gam-gui eval --data ... [--ablate-each] --out out`` on an open dataset: the same scorers,
    report and files (``metrics.json`` among them). Raises :class:`EvalCancelledError` when ``cancel`` is
    set (seen between batches of ``batch`` images)."""
    from gam_gui.ablation import describe, every_ablation
    from gam_gui.evaluation.report import EvalRun, build_report, write_outputs
    from gam_gui.evaluation.runner import score_dataset
    from gam_gui.evaluation.scoring import settings_for

    ablations = every_ablation(model) if ablate_each else []
    configs = [None, *ablations]

    def tick(done: int, total: int) -> None:
        if cancel.is_set():
            raise EvalCancelledError(done)
        if progress is not None:
            progress(done, total)

    score = score_dataset(model, dataset, "coco", imgsz, configs, batch=batch, workers=0, progress=tick)
    skipped = score.skipped
    skipped.add_dataset(dataset)
    args = argparse.Namespace(weights=weights or None, protocol="coco", resamples=1000, seed=0, hard=False)
    settings = settings_for(args, dataset, imgsz, ["as trained", *(describe(a) for a in ablations)])
    run = EvalRun(settings, score.scorers, skipped.to_json(), {}, score.indices)
    report, metrics = build_report(run)
    out = Path(out)
    write_outputs(out, run, report, metrics)
    LOGGER.info("eval of %s written to %s", dataset.source, out)
    return out / "metrics.json"


def default_eval_folder(source: str) -> Path:
    return data_folder(source) / EVAL_FOLDER


def writable(folder: str | Path) -> bool:
    p = Path(folder)
    while not p.exists() and p != p.parent:
        p = p.parent
    return os.access(p, os.W_OK)


__all__ = ["EVAL_FOLDER", "EvalCancelledError", "ImageScore", "Summary", "data_folder", "default_eval_folder",
           "find_metrics", "label_classes", "read_summary", "run_eval", "score_images", "writable"]
