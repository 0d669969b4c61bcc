"""The report's pass over the dataset: the scores of every model configuration, then the GAM maps.

Scoring is E's :func:`gam_gui.evaluation.runner.score_dataset` (the batches, letterbox and NMS of
``gam-gui eval --data``): model A as trained and under each ablation on the same images, then the
baseline B; every configuration has its own :class:`gam_gui.metrics.scorer.Scorer`, so every
interval is a paired bootstrap over the same images. Section 4 then needs one forward of A per
image with every attention block recorded (:mod:`gam_gui.report.block_stats`). What is kept per
image is small (boxes and scores, no pixels): the failures section re-reads the few images it draws.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.ablation import describe
from gam_gui.datasets import Dataset, Sample, SkipCounter, ensure_usable
from gam_gui.explain.engine import explainer
from gam_gui.metrics import ImageRecord, Protocol
from gam_gui.metrics.scorer import Scorer
from gam_gui.models import attention
from gam_gui.report.block_stats import BlockStats, detect_all_blocks
from gam_gui.report.gam_stats import BlockInfo, GamStats

LOGGER = logging.getLogger(__name__)
#: predictions below this score are not kept for the failure lists (they never count as found)
KEEP_SCORE = 0.01


@dataclass
class ModelRun:
    """A model as the report runs it: the network, a label (its file stem), its checkpoint path
    and its input size."""

    model: nn.Module
    label: str
    path: str
    imgsz: int


@dataclass
class ImageResult:
    """One image's ground truth and predictions (A, and B when there is a baseline) at score >= KEEP_SCORE."""

    index: int
    path: str
    width: int
    height: int
    gt_boxes: np.ndarray
    gt_cls: np.ndarray
    pred: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # "a"/"b" -> boxes, scores, classes


@dataclass
class PassOutput:
    scorer_a: Scorer
    scorer_b: Scorer | None
    ablations: list[tuple[str, dict, Scorer]]
    gam: GamStats | None
    #: every attention block's gates and gains (section 4); None without attention blocks
    blocks: BlockStats | None = None
    images: list[ImageResult] = field(default_factory=list)
    skipped: SkipCounter = field(default_factory=SkipCounter)
    #: detections at ``conf`` per image of A, for the faithfulness work estimate
    det_counts: dict[int, int] = field(default_factory=dict)


def _kept(rec: ImageRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = rec.pred_scores >= KEEP_SCORE
    return rec.pred_boxes[k].astype(np.float32), rec.pred_scores[k].astype(np.float32), rec.pred_cls[k]


def gam_blocks(model: nn.Module) -> list[BlockInfo]:
    """The GAM blocks of ``model`` (layer index, module name, forward variant), in layer order."""
    from gam_gui.explain.attention import block_variant

    return [BlockInfo(i, name, block_variant(m)) for i, name, m in explainer(model).gam_blocks if i >= 0]


def run_pass(dataset: Dataset, a: ModelRun, b: ModelRun | None, ablations: list[dict], protocol: Protocol,
             conf: float, with_gam: bool, tick: Callable[[str, float], None], batch: int | None = None,
             workers: int | None = None) -> PassOutput:
    """Score A (as trained and under each ablation) and B on every usable image of ``dataset``, with
    :func:`gam_gui.evaluation.runner.score_dataset` (E's: the batches, letterbox and NMS of
    ``gam-gui eval --data``, so the report's numbers are eval's); then, for section 4, one hooked
    forward of A per image with every attention block recorded (:func:`detect_all_blocks`).

    ``tick(part, units)`` reports the work done, in image forwards (``part``: ``"a"``, ``"ablation"``,
    ``"baseline"``, ``"gam"``).
    """
    from gam_gui.evaluation.runner import score_dataset

    names = list(dataset.names)
    configs = [None, *ablations]
    results: dict[int, ImageResult] = {}

    def keep_a(sample: Sample, recs: list[ImageRecord]) -> None:
        results[sample.index] = ImageResult(sample.index, sample.path, sample.width, sample.height,
                                            np.asarray(sample.boxes, np.float32), np.asarray(sample.classes, np.int64),
                                            {"a": _kept(recs[0])})

    def keep_b(sample: Sample, recs: list[ImageRecord]) -> None:
        if sample.index in results:
            results[sample.index].pred["b"] = _kept(recs[0])

    def progress(part: str, per_image: float) -> Callable[[int, int], None]:
        last = [0]

        def report(done: int, total: int) -> None:
            tick(part, (done - last[0]) * per_image)
            last[0] = done
        return report

    sa = score_dataset(a.model, dataset, protocol, a.imgsz, configs, batch, workers,
                       progress=progress("a", float(len(configs))), on_image=keep_a)
    sb = (score_dataset(b.model, dataset, protocol, b.imgsz, [None], batch, workers,
                        progress=progress("baseline", 1.0), on_image=keep_b) if b is not None else None)
    usable = len(results)
    ensure_usable(dataset, usable, sa.skipped.images)
    skipped = sa.skipped
    skipped.add_dataset(dataset)
    blocks = gam_blocks(a.model) if with_gam else []
    any_blocks = with_gam and bool(attention.find_blocks(a.model))
    out = PassOutput(sa.scorers[0], sb.scorers[0] if sb is not None else None,
                     [(describe(spec), spec, sc) for spec, sc in zip(ablations, sa.scorers[1:], strict=True)],
                     GamStats(blocks, names) if blocks else None, BlockStats(names) if any_blocks else None,
                     [results[i] for i in sorted(results)], skipped)
    for im in out.images:
        out.det_counts[im.index] = int((im.pred["a"][1] >= conf).sum())
    if out.blocks is not None:
        for im in out.images:
            sample = dataset[im.index]
            if sample.image is not None:
                with torch.no_grad():
                    _dets, recs, snaps, lb = detect_all_blocks(a.model, sample.image, 0.25, 0.45, a.imgsz)
                if out.gam is not None:
                    out.gam.add(im.index, recs, lb, sample.boxes, sample.classes)
                out.blocks.add(im.index, snaps, lb, sample.boxes, sample.classes)
                del recs, snaps
            tick("gam", 1.0)
    return out
