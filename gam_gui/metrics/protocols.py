"""What a detection metric needs from one image, and the protocol that scores it.

A *protocol* is one definition of mAP as a trainer or a toolkit computes it: how predictions are
kept (``max_det``, per-class limits), how they are matched to ground truth (greedy by score, crowd
regions), how AP is integrated (COCO's 101 recall points, ultralytics' interpolated curve), and the
inference settings that go with it (``conf``, NMS ``iou``, multi-label NMS, rectangular batches).
Each protocol is registered under a name (``coco``, ``ultralytics``) so the evaluation code, the
shards and the bootstrap never need to know which one they run.

Everything here is numpy: no torch, so scoring shards and merging them is cheap anywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: the ten IoU thresholds 0.50, 0.55, ..., 0.95 of mAP@0.5:0.95 (the same values as pycocotools)
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)
#: protocols shipped with gam-gui, and the module that registers each (imported on first use)
BUILTIN_PROTOCOLS = {"coco": "gam_gui.metrics.coco", "ultralytics": "gam_gui.metrics.ultralytics_protocol",
                     "ultralytics-8.3": "gam_gui.metrics.ultralytics_protocol"}
PROTOCOL_NAMES = tuple(BUILTIN_PROTOCOLS)


class UnknownProtocolError(ValueError):
    """``get_protocol`` was given a name no module registers; ``name`` and ``known`` say which."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown protocol {name!r} (known: {', '.join(known)})")
        self.name = name
        self.known = known


def _boxes(a: object) -> np.ndarray:
    return np.asarray(a, np.float64).reshape(-1, 4)


@dataclass
class ImageRecord:
    """One image's predictions and ground truth, in pixels of the original image (xyxy).

    ``gt_crowd`` marks COCO ``iscrowd`` regions: they count as no object, and a prediction matched
    to one is neither right nor wrong (pycocotools' ignore rule). ``None``: no crowd regions.
    """

    image_id: int | str
    path: str
    width: int
    height: int
    gt_boxes: np.ndarray
    gt_cls: np.ndarray
    pred_boxes: np.ndarray
    pred_scores: np.ndarray
    pred_cls: np.ndarray
    gt_crowd: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.gt_boxes = _boxes(self.gt_boxes)
        self.gt_cls = np.asarray(self.gt_cls, np.int64).reshape(-1)
        self.pred_boxes = _boxes(self.pred_boxes)
        self.pred_scores = np.asarray(self.pred_scores, np.float64).reshape(-1)
        self.pred_cls = np.asarray(self.pred_cls, np.int64).reshape(-1)
        if self.gt_crowd is not None:
            self.gt_crowd = np.asarray(self.gt_crowd, bool).reshape(-1)
            if not self.gt_crowd.any():
                self.gt_crowd = None
        if len(self.gt_boxes) != len(self.gt_cls) or not (
                len(self.pred_boxes) == len(self.pred_scores) == len(self.pred_cls)):
            raise ValueError(f"{self.path}: boxes, classes and scores differ in length")

    @property
    def crowd(self) -> np.ndarray:
        """(n,) bool, all False when the image has no crowd regions."""
        return self.gt_crowd if self.gt_crowd is not None else np.zeros(len(self.gt_cls), bool)


@dataclass
class ImageMatch:
    """How a protocol scored one image.

    ``keep``: indices into the record's predictions that count, in the order of the other rows;
    ``tp``: (k, 10) true positive at each IoU threshold; ``ignore``: (k, 10) neither TP nor FP
    (matched to a crowd region), ``None`` when nothing is ignored; ``gt_score``: (n,) the score of
    the prediction matched to each ground-truth box at IoU 0.5 (NaN: missed), for "found by one
    model, missed by the other"; ``gt_counted``: (n,) the boxes that count as objects (not crowd).
    """

    keep: np.ndarray
    tp: np.ndarray
    ignore: np.ndarray | None
    gt_score: np.ndarray
    gt_counted: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of xyxy boxes (n, 4) x (m, 4)."""
    a, b = _boxes(a), _boxes(b)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), 2)
    area_a = np.prod(a[:, 2:] - a[:, :2], 1)
    area_b = np.prod(b[:, 2:] - b[:, :2], 1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def score_order(scores: np.ndarray) -> np.ndarray:
    """Indices best score first; ties keep their order (a stable sort, as pycocotools' mergesort)."""
    return np.argsort(-np.asarray(scores, np.float64), kind="mergesort")


def greedy_gt_scores(rec: ImageRecord, order: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(n,) score of the prediction that claims each ground-truth box at ``threshold`` IoU, greedy
    by score (each box claimed once, the best-overlapping free box of the prediction's class);
    NaN for boxes no prediction claims."""
    out = np.full(len(rec.gt_cls), np.nan)
    if not len(order) or not len(rec.gt_cls):
        return out
    iou = box_iou(rec.pred_boxes[order], rec.gt_boxes)
    iou[rec.pred_cls[order][:, None] != rec.gt_cls[None, :]] = 0
    for i, j in enumerate(order):
        cand = np.where((iou[i] >= threshold) & np.isnan(out))[0]
        if len(cand):
            out[cand[np.argmax(iou[i, cand])]] = rec.pred_scores[j]
    return out


class Protocol:
    """One definition of mAP. Subclasses set the class attributes and implement :meth:`match` and
    :meth:`ap`; the rest has defaults that hold for most protocols.

    ``conf``, ``iou``, ``max_det`` and ``multi_label`` are the NMS settings the protocol's trainer
    validates with; ``rect`` and ``pad`` its letterbox (rectangular batches padded by ``pad``
    stride); ``imgsz_square`` is ``not rect``.
    """

    name: str = "base"
    conf: float = 0.001
    iou: float = 0.6
    max_det: int = 300
    multi_label: bool = False
    rect: bool = False
    pad: float = 0.0
    #: whether predictions mapped back to the image are clipped to it (ultralytics scores unclipped boxes)
    clip_boxes: bool = True

    # -- the network input ---------------------------------------------------------------------
    def input_shapes(self, sizes_hw: np.ndarray, imgsz: int, stride: int) -> np.ndarray:
        """(n, 2) network input (height, width) for images of ``sizes_hw`` (n, 2) (0, 0: unreadable),
        given all at once because a protocol with rectangular batches shapes an image by the aspect
        ratios of the images batched with it. Default: every image in the same ``imgsz`` square
        (rounded up to the stride)."""
        side = int(np.ceil(imgsz / stride) * stride)
        return np.full((len(sizes_hw), 2), side, np.int64)

    def letterbox(self, image: np.ndarray, shape_hw: tuple[int, int], imgsz: int,
                  stride: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """``image`` (BGR) resized and padded to ``shape_hw``, and how to map input pixels back:
        ``(gain_x, gain_y, left, top)`` with ``x_image = (x_input - left) / gain_x``. Default:
        gam-gui's own letterbox (as ``detect`` runs it) into the square."""
        from gam_gui.inference import letterbox

        out, lb = letterbox(image, int(max(shape_hw)), stride, auto=False)
        return out, (lb.gain, lb.gain, float(lb.pad[0]), float(lb.pad[1]))

    # -- scoring ----------------------------------------------------------------------------------
    def keep(self, rec: ImageRecord) -> np.ndarray:
        """Indices of the predictions that count, best score first (default: all of them)."""
        return score_order(rec.pred_scores)

    def match(self, rec: ImageRecord) -> np.ndarray:
        """(k, 10) bool: is each kept prediction (in :meth:`keep`'s order) a true positive at each
        IoU threshold of :data:`IOU_THRESHOLDS`."""
        raise NotImplementedError

    def evaluate_image(self, rec: ImageRecord) -> ImageMatch:
        """The image's scoring: kept predictions, their TP flags, ignored ones, and for each
        ground-truth box the score that found it. Protocols with ignore rules override this."""
        keep = self.keep(rec)
        return ImageMatch(keep=keep, tp=np.asarray(self.match(rec), bool).reshape(len(keep), len(IOU_THRESHOLDS)),
                          ignore=None, gt_score=greedy_gt_scores(rec, keep), gt_counted=~rec.crowd)

    def ap(self, tp: np.ndarray, conf: np.ndarray, pred_w: np.ndarray, n_gt: float,
           ignore: np.ndarray | None = None) -> np.ndarray:
        """(10,) AP for ONE class from its predictions' TP flags (k, 10), scores (k,) and weights
        (k,: each prediction's image multiplicity, ones outside a bootstrap); ``n_gt`` the weighted
        number of ground-truth objects; ``ignore`` (k, 10) or ``None``: predictions that count
        neither way (only protocols whose :meth:`evaluate_image` reports some get them). NaN when
        ``n_gt == 0``."""
        raise NotImplementedError

    def ap_batch(self, tp: np.ndarray, conf: np.ndarray, weights: np.ndarray, n_gt: np.ndarray,
                 ignore: np.ndarray | None = None) -> np.ndarray:
        """(R, 10) AP for one class under R weightings at once (the bootstrap): ``weights`` (R, k),
        ``n_gt`` (R,). The default calls :meth:`ap` per row; protocols may vectorise it."""
        if not len(weights):
            return np.zeros((0, len(IOU_THRESHOLDS)))
        extra = () if ignore is None else (ignore,)
        return np.stack([self.ap(tp, conf, w, float(n), *extra) for w, n in zip(weights, n_gt, strict=True)])

    def pr(self, tp50: np.ndarray, conf: np.ndarray, n_gt: float, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Precision and recall of one class at IoU 0.5 when keeping predictions scoring at least
        each confidence of ``grid``: (len(grid),) each. Default: exact counts (precision 1 where
        nothing is kept, as nothing kept is wrong)."""
        order = score_order(conf)
        s, t = np.asarray(conf, np.float64)[order], np.asarray(tp50, bool)[order]
        tpc = np.concatenate(([0.0], np.cumsum(t)))
        # predictions with score >= g are the first k of the sorted list
        k = np.searchsorted(-s, -np.asarray(grid, np.float64), side="right")
        tp_k = tpc[k]
        precision = np.where(k > 0, tp_k / np.maximum(k, 1), 1.0)
        recall = tp_k / n_gt if n_gt > 0 else np.full(len(grid), np.nan)
        return precision, recall


_REGISTRY: dict[str, Callable[[], Protocol]] = {}


def register_protocol(name: str, factory: Callable[[], Protocol]) -> None:
    """Make ``get_protocol(name)`` return ``factory()`` (a module registers its protocol on import)."""
    _REGISTRY[name] = factory


def get_protocol(name: str | Protocol) -> Protocol:
    """The protocol called ``name`` (a :class:`Protocol` is returned as it is); importing its module
    on first use. Raises :class:`UnknownProtocolError` (a ``ValueError``) for an unknown name."""
    if isinstance(name, Protocol):
        return name
    if name not in _REGISTRY and name in BUILTIN_PROTOCOLS:
        importlib.import_module(BUILTIN_PROTOCOLS[name])
    if name not in _REGISTRY:
        raise UnknownProtocolError(str(name), tuple(sorted(set(_REGISTRY) | set(BUILTIN_PROTOCOLS))))
    return _REGISTRY[name]()
