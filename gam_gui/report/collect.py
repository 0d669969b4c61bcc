"""The report's one pass over the dataset: every image decoded once, every model run on it.

Per image: model A's forward with the GAM hooks riding along (its detections at the protocol's
settings for the scores, its gates and gains for section 4), then each ablation of A and the
baseline B with :func:`gam_gui.inference.detect` at the same settings. Records go into
:class:`gam_gui.metrics.scorer.Scorer` objects (E's), one per configuration, so that every interval
is a paired bootstrap over the same images. What is kept per image is small (boxes and scores, no
pixels): the failures section re-reads the few images it draws.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from gam_gui.ablation import ablated, describe
from gam_gui.datasets import Dataset, Sample, SkipCounter, ensure_usable
from gam_gui.explain.attention import GamRecorder
from gam_gui.explain.engine import explainer
from gam_gui.inference import Detection, detect, model_names, non_max_suppression, preprocess, to_detections
from gam_gui.metrics import ImageRecord, Protocol
from gam_gui.metrics.scorer import Scorer
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
    images: list[ImageResult] = field(default_factory=list)
    skipped: SkipCounter = field(default_factory=SkipCounter)
    #: detections at ``conf`` per image of A, for the faithfulness work estimate
    det_counts: dict[int, int] = field(default_factory=dict)


def record(sample: Sample, dets: list[Detection]) -> ImageRecord:
    """An ImageRecord (E's) of one sample and one model's detections."""
    gb, gc, crowd = sample.boxes, sample.classes, None
    if len(sample.crowd_boxes):  # COCO iscrowd regions: neither found nor missed (pycocotools' rule)
        gb = np.concatenate((gb, sample.crowd_boxes))
        gc = np.concatenate((gc, sample.crowd_classes))
        crowd = np.r_[np.zeros(len(sample.boxes), bool), np.ones(len(sample.crowd_boxes), bool)]
    return ImageRecord(
        image_id=sample.image_id, path=sample.path, width=sample.width, height=sample.height,
        gt_boxes=gb, gt_cls=gc, gt_crowd=crowd,
        pred_boxes=np.array([d.xyxy for d in dets], np.float64).reshape(-1, 4),
        pred_scores=np.array([d.score for d in dets], np.float64), pred_cls=np.array([d.cls for d in dets], np.int64))


def _kept(rec: ImageRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = rec.pred_scores >= KEEP_SCORE
    return rec.pred_boxes[k].astype(np.float32), rec.pred_scores[k].astype(np.float32), rec.pred_cls[k]


def gam_blocks(model: nn.Module) -> list[BlockInfo]:
    """The GAM blocks of ``model`` (layer index, module name, forward variant), in layer order."""
    from gam_gui.explain.attention import block_variant

    return [BlockInfo(i, name, block_variant(m)) for i, name, m in explainer(model).gam_blocks if i >= 0]


def detect_recorded(model: nn.Module, image: np.ndarray, conf: float, iou: float, imgsz: int,
                    max_det: int = 300) -> tuple[list[Detection], dict[str, dict], Any]:
    """Detections of one frame plus the GAM blocks' recorded tensors (:attr:`GamRecorder.records`)
    from the same forward, and the letterbox; the same detections as :func:`detect`."""
    eng = explainer(model)
    x, lb = preprocess(model, image, imgsz)
    rec = GamRecorder(model, eng.gam_blocks)
    with eng.run(model, None, False) as run:
        pred = run.forward(x, rec)
    det = non_max_suppression(pred.detach(), conf, iou, max_det=max_det, adapter=eng.adapter)[0]
    records = dict(rec.records)
    rec.records.clear()
    return to_detections(det, lb, model_names(model)), records, lb


def run_pass(dataset: Dataset, a: ModelRun, b: ModelRun | None, ablations: list[dict], protocol: Protocol,
             conf: float, with_gam: bool, tick: Callable[[str, float], None]) -> PassOutput:
    """Score A (as trained and under each ablation) and B on every usable image of ``dataset``.

    ``tick(part, units)`` is called after each model run on an image (``part``: ``"a"``,
    ``"ablation"``, ``"baseline"``) with the work done, in image forwards.
    """
    names = list(dataset.names)
    blocks = gam_blocks(a.model) if with_gam else []
    out = PassOutput(Scorer(names, protocol), Scorer(names, protocol) if b is not None else None,
                     [(describe(spec), spec, Scorer(names, protocol)) for spec in ablations],
                     GamStats(blocks, names) if blocks else None)
    p = protocol
    usable = 0
    for i in range(len(dataset)):
        sample = dataset[i]
        out.skipped.add(sample)
        if sample.skip_reason is not None:
            tick("a", 1.0 + len(ablations) + (b is not None))
            continue
        usable += 1
        with torch.no_grad():
            dets, recs, lb = detect_recorded(a.model, sample.image, p.conf, p.iou, a.imgsz, p.max_det)
        rec_a = record(sample, dets)
        out.scorer_a.add(rec_a, index=i)
        out.det_counts[i] = sum(d.score >= conf for d in dets)
        if out.gam is not None:
            out.gam.add(i, recs, lb, sample.boxes, sample.classes)
        del recs
        tick("a", 1.0)
        preds = {"a": _kept(rec_a)}
        for _label, spec, scorer in out.ablations:
            with ablated(a.model, spec) if spec else nullcontext():
                scorer.add(record(sample, detect(a.model, sample.image, p.conf, p.iou, a.imgsz)), index=i)
            tick("ablation", 1.0)
        if b is not None and out.scorer_b is not None:
            rec_b = record(sample, detect(b.model, sample.image, p.conf, p.iou, b.imgsz))
            out.scorer_b.add(rec_b, index=i)
            preds["b"] = _kept(rec_b)
            tick("baseline", 1.0)
        out.images.append(ImageResult(i, sample.path, sample.width, sample.height, sample.boxes.astype(np.float32),
                                      sample.classes.astype(np.int64), preds))
    out.skipped.add_dataset(dataset)
    ensure_usable(dataset, usable, out.skipped.images)
    return out
