"""How far to trust a map for one detection: deletion and insertion curves, energy in box, pointing.

A map is *faithful* to a detection when the pixels it ranks highest are the ones the detector needs:
removing them first (deletion) should make the detection's score collapse early, and inserting them
first into a blank frame (insertion) should bring it back early. So a faithful map has a **low
deletion AUC and a high insertion AUC**. Two cheaper, model-free checks go with them: the fraction
of the map's mass inside the detection's box (*energy in box*) and whether the map's peak lies in
the box (*pointing*).

What comes from pytorch-grad-cam and what was written here, and why:

* the perturb-then-rescore loop is the library's
  :class:`~pytorch_grad_cam.metrics.perturbation_confidence.PerturbationConfidenceMetric`: it applies
  a perturbation per image of a batch, runs the model once on the whole batch under ``no_grad`` and
  scores each output with a target callable. Here the batch is the 2N perturbed copies of one frame
  and the "CAM" handed to each perturbation is that step's keep-mask;
* the target is written here (:class:`TrackedScore`): the library's metrics are for classifiers
  (one score per image from a logit), while a detection has to be *found again* in each perturbed
  frame. Its score there is the best box of the same class with IoU >= 0.5 to the original box, 0
  when there is none;
* the step masks and baselines are written here: the library's ``RemoveMostRelevantFirst`` makes one
  binary mask at one percentile, a deletion curve needs N nested masks from one ranking; its
  ``cam_mult_image`` multiplies the image by the map, which is not a removal. Its ROAD imputation
  (``NoisyLinearImputer``) solves a sparse linear system per step with one unknown per removed pixel
  (up to 147,456 at 384 px), far above the cost of the forward it would feed; so the baselines are a
  Gaussian blur of the frame (``blur``, as RISE does) or its mean colour (``mean``);
* energy in box and pointing are a few lines of numpy.

One measurement costs one batched forward of ``2 * steps`` images (the original, ``steps - 1``
deletion steps, the full baseline and ``steps - 1`` insertion steps); ``benchmarks/bench_faithfulness.py``
measures it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torchvision
from pytorch_grad_cam.metrics.perturbation_confidence import PerturbationConfidenceMetric
from torch import nn

from gam_gui.heads import HeadAdapter, adapter_for
from gam_gui.inference import Detection, Letterbox, model_stride, preprocess
from gam_gui.validate import round_imgsz

LOGGER = logging.getLogger(__name__)

BASELINES = ("blur", "mean")
#: A perturbed frame's box counts as the same detection at this IoU (the ablation's pairing rule).
TRACK_IOU = 0.5
DEFAULT_STEPS = 16


@dataclass
class FaithfulnessScore:
    """The faithfulness of one map for one detection.

    ``fractions[k]`` is the share of the frame's pixels removed (deletion) or inserted (insertion)
    at step k, from 0 to 1; ``deletion[k]`` / ``insertion[k]`` the detection's tracked score in that
    frame. ``deletion[0]`` and ``insertion[-1]`` are the unperturbed frame. The AUCs are the
    trapezoid areas under those curves over [0, 1] (scores, not normalised).
    """

    detection: Detection
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float
    energy_in_box: float
    pointing: bool
    steps: int
    baseline: str
    ms: float

    def to_dict(self) -> dict:
        r = lambda a: [round(float(v), 5) for v in a]  # noqa: E731
        return {"detection": self.detection.to_dict(), "fractions": r(self.fractions),
                "deletion": r(self.deletion), "insertion": r(self.insertion),
                "deletion_auc": round(self.deletion_auc, 5), "insertion_auc": round(self.insertion_auc, 5),
                "energy_in_box": round(self.energy_in_box, 5), "pointing": self.pointing, "steps": self.steps,
                "baseline": self.baseline, "ms": round(self.ms, 1)}


def _box_pixels(box: Sequence[float], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel rows/columns a box covers (any pixel it touches), clipped to the map."""
    h, w = shape
    x1, y1, x2, y2 = box
    c1, r1 = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
    c2, r2 = min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))
    return c1, r1, max(c1, c2), max(r1, r2)


def energy_in_box(cam: np.ndarray, box: Sequence[float]) -> float:
    """Fraction of the map's mass inside ``box`` (xyxy, pixels of the map); 0 for an empty map.
    Negative values count as 0: a map's mass is where it points, not where it is below its floor."""
    m = np.clip(np.asarray(cam, np.float64), 0, None)
    total = m.sum()
    if not total > 0:
        return 0.0
    c1, r1, c2, r2 = _box_pixels(box, m.shape[:2])
    return float(m[r1:r2, c1:c2].sum() / total)


def pointing(cam: np.ndarray, box: Sequence[float]) -> bool:
    """Whether the map's peak (first maximum in raster order) lies inside ``box``; edges count, as
    in :func:`gam_gui.train.pointing.pointing_game`."""
    py, px = np.unravel_index(int(np.argmax(cam)), cam.shape[:2])
    x1, y1, x2, y2 = box
    return bool(x1 <= px <= x2 and y1 <= py <= y2)


class TrackedScore:
    """The score of one detection in a perturbed frame: the best prediction of the same class (its
    best class, as NMS picks it) whose box has IoU >= ``iou`` with the original box, 0 when none.

    Called with one image's slice of the model's output, as pytorch-grad-cam's metrics call a target
    with one output of a batch; the head's adapter reads its layout (YOLOv5/v7 rows, or the
    anchor-free YOLOv8/YOLO11 columns) and its confidences. No NMS is needed: the
    strongest matching row is the one NMS would keep among them.
    """

    def __init__(self, box_input: Sequence[float], cls: int, iou: float = TRACK_IOU,
                 adapter: HeadAdapter | None = None) -> None:
        self.box = torch.tensor([list(box_input)], dtype=torch.float32)
        self.cls = int(cls)
        self.iou = float(iou)
        self.adapter = adapter or HeadAdapter()

    def __call__(self, pred: torch.Tensor) -> torch.Tensor:
        pred = self.adapter.image_rows(pred.detach().float())
        best, c = self.adapter.confidences(pred).max(1)
        keep = c == self.cls if self.adapter.num_classes(pred) > 0 else torch.ones_like(c, dtype=torch.bool)
        rows, best = pred[keep], best[keep]
        if not len(rows):
            return torch.zeros(())
        boxes = self.adapter.boxes_xyxy(rows)
        iou = torchvision.ops.box_iou(self.box.to(boxes.device), boxes)[0]
        ok = iou >= self.iou
        return best[ok].max().cpu() if ok.any() else torch.zeros(())


def _baseline(img: np.ndarray, kind: str) -> np.ndarray:
    """What removed pixels become: the frame blurred beyond recognition of its shapes, or its mean colour."""
    if kind == "blur":
        sigma = max(img.shape[:2]) / 8
        return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    if kind == "mean":
        return np.broadcast_to(img.reshape(-1, img.shape[2]).mean(0), img.shape).astype(np.float32)
    raise ValueError(f"baseline {kind!r} is unknown; choose one of {', '.join(BASELINES)}")


def step_masks(cam: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """For k = 0..steps, the boolean mask of the ``round(k / steps * P)`` highest-ranked of the map's
    P pixels, and the fractions k / steps. Ties keep raster order (a stable sort), so a flat map
    gives a deterministic (if meaningless) order."""
    h, w = cam.shape
    order = np.argsort(-np.asarray(cam, np.float32).ravel(), kind="stable")
    rank = np.empty(h * w, np.int64)
    rank[order] = np.arange(h * w)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * h * w).astype(np.int64)
    return (rank[None, :] < counts[:, None]).reshape(steps + 1, h, w), fractions


def auc(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area under ``y(x)`` (numpy's ``trapezoid`` is 2.0+, ``trapz`` gone in 2.4)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def _blend(image: torch.Tensor, keep: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """The perturbation handed to pytorch-grad-cam's metric: the frame where ``keep`` is 1, the
    baseline elsewhere (``keep`` arrives in the metric's "cam" slot)."""
    keep = keep.to(image.dtype)
    return image * keep + baseline * (1 - keep)


class _Perturbation:
    def __init__(self, baseline: torch.Tensor) -> None:
        self.baseline = baseline

    def __call__(self, image: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return _blend(image, keep, self.baseline)


def _to_input(cam: np.ndarray, lb: Letterbox) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A frame-space map -> the same map over the frame's pixels inside the network input (the
    padding is never perturbed: it is not part of the frame)."""
    x1, y1, x2, y2 = lb.content_box()
    m = cv2.resize(np.ascontiguousarray(cam, np.float32), (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
    return m, (x1, y1, x2, y2)


def measure(model: nn.Module, image: np.ndarray, cam: np.ndarray, detection: Detection, steps: int = DEFAULT_STEPS,
            baseline: str = "blur", imgsz: int = 640, max_batch: int = 32) -> FaithfulnessScore:
    """Deletion and insertion curves, their AUCs, energy in box and pointing of ``cam`` (HxW over the
    original frame, e.g. ``analyze(..., target=i).cam``) for ``detection`` (one of that frame's
    detections at the same ``imgsz``).

    The 2 * ``steps`` perturbed frames run in batches of at most ``max_batch`` (one batch by default
    for ``steps`` <= 16) through pytorch-grad-cam's perturbation metric; see the module docstring.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if baseline not in BASELINES:
        raise ValueError(f"baseline {baseline!r} is unknown; choose one of {', '.join(BASELINES)}")
    if cam.shape[:2] != image.shape[:2]:
        raise ValueError(f"the map is {cam.shape[1]}x{cam.shape[0]}, the frame {image.shape[1]}x{image.shape[0]}")
    t0 = time.perf_counter()
    x, lb = preprocess(model, image, round_imgsz(imgsz, model_stride(model)))
    cam_in, (cx1, cy1, cx2, cy2) = _to_input(cam, lb)
    masks, fractions = step_masks(cam_in, steps)

    content = x[0, :, cy1:cy2, cx1:cx2].permute(1, 2, 0).cpu().numpy()
    base_c = torch.from_numpy(np.ascontiguousarray(_baseline(content, baseline).transpose(2, 0, 1)))
    base = x[0].cpu().clone()
    base[:, cy1:cy2, cx1:cx2] = base_c
    # keep-masks over the whole input (padding always kept): deletion keeps what is not yet removed,
    # insertion keeps what was inserted; [original, deletion 1..N-1, baseline, insertion 1..N-1]
    keep = np.ones((2 * steps,) + tuple(x.shape[2:]), np.float32)
    body = np.concatenate((~masks[:steps], masks[1:steps]))  # deletion 0..N-1 (0: original), insertion 1..N-1
    keep[: steps, cy1:cy2, cx1:cx2] = body[:steps]
    keep[steps, cy1:cy2, cx1:cx2] = 0.0  # everything removed = nothing inserted
    keep[steps + 1 :, cy1:cy2, cx1:cx2] = body[steps:]

    g, p = np.float32(lb.gain), lb.pad
    bx = detection.xyxy
    box_in = (bx[0] * g + p[0], bx[1] * g + p[1], bx[2] * g + p[0], bx[3] * g + p[1])
    target = TrackedScore(box_in, detection.cls, adapter=adapter_for(model))
    metric = PerturbationConfidenceMetric(_Perturbation(base))
    scores: list[np.ndarray] = []
    with torch.no_grad():
        for s in range(0, 2 * steps, max(1, int(max_batch))):
            chunk = keep[s : s + max_batch]
            batch = x.expand(len(chunk), -1, -1, -1)
            scores.append(metric(batch, chunk, [target] * len(chunk), model, return_diff=False))
    out = np.concatenate(scores).astype(np.float64)
    deletion = np.concatenate((out[:steps], out[steps : steps + 1]))
    insertion = np.concatenate((out[steps:], out[:1]))
    return FaithfulnessScore(
        detection=detection, fractions=fractions, deletion=deletion, insertion=insertion,
        deletion_auc=auc(fractions, deletion), insertion_auc=auc(fractions, insertion),
        energy_in_box=energy_in_box(cam, detection.xyxy), pointing=pointing(cam, detection.xyxy),
        steps=steps, baseline=baseline, ms=(time.perf_counter() - t0) * 1000)
