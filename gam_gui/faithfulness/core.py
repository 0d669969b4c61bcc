"""How far to trust a map for one detection: deletion and insertion curves, energy in box, pointing.

A map is *faithful* to a detection when the pixels it ranks highest are the ones the detector needs:
removing them first (deletion) should make the detection's score collapse early, and inserting them
first into a blank frame (insertion) should bring it back early. So a faithful map has a **low
deletion AUC and a high insertion AUC**. Two cheaper, model-free checks go with them: the fraction
of the map's mass inside the detection's box (*energy in box*) and whether the map's peak lies in
the box (*pointing*).

Three things keep the curves about the map rather than about the frame:

* **ties**: pixels with equal values (the zeros of a ReLU map such as HiResCAM, the inside of a box)
  are ranked in a seeded random order, and each curve is the mean over ``tie_orders`` orders. A
  stable sort would take them in raster order, so the curve would measure where the object sits in
  the frame. Random orders were chosen over breaking ties by a slight blur of the map: a blur leaves
  the pixels beyond its kernel exactly tied (most of a ReLU map), and it adds an order ("near the
  peak first") that the map does not state. Perturbed frames are keyed by their mask and each
  distinct one runs once, so a map without ties costs one order whatever ``tie_orders`` is;
* **leakage**: ``feather`` softens each mask with a Gaussian of that many input pixels, and the
  ``road`` baseline fills removed pixels from their kept neighbours
  (:func:`gam_gui.faithfulness.impute.linear_impute`), so the hole does not keep the removed
  set's shape. ``blur`` (a Gaussian blur of the frame, as RISE does) and ``mean`` (its mean colour)
  are kept for comparison;
* **yardsticks**: :func:`measure` scores two reference maps on the same detection in the same
  batches, ``random`` (seeded uniform noise) and ``box`` (uniform in the box, 0 outside), and flags
  a map that does not beat them on both curves.

What comes from pytorch-grad-cam and what was written here, and why:

* the perturb-then-rescore loop is the library's
  :class:`~pytorch_grad_cam.metrics.perturbation_confidence.PerturbationConfidenceMetric`: it applies
  a perturbation per image of a batch, runs the model once on the whole batch under ``no_grad`` and
  scores each output with a target callable. Here the "CAM" handed to each perturbation is that
  frame's keep-mask stacked on its fill;
* the target is written here (:class:`TrackedScore`): the library's metrics are for classifiers
  (one score per image from a logit), while a detection has to be *found again* in each perturbed
  frame. Its score there is the best box of the same class with IoU >= 0.5 to the original box, 0
  when there is none;
* the step masks, baselines and ROAD-style fill are written here: the library's
  ``RemoveMostRelevantFirst`` makes one binary mask at one percentile (a curve needs nested masks
  from one ranking), and its ``NoisyLinearImputer`` solves a system with one unknown per removed
  pixel, far above the cost of the forward it would feed.

Cost: every distinct perturbed frame is one image of a batched forward (batches of ``max_batch``).
One map without ties: ``2 * steps`` images, less the two frames it shares with every map of the
same detection (the original and the full baseline). A map with ties: up to ``tie_orders`` times
that. ``benchmarks/bench_faithfulness.py`` measures it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torchvision
from pytorch_grad_cam.metrics.perturbation_confidence import PerturbationConfidenceMetric
from torch import nn

from gam_gui.faithfulness.impute import linear_impute
from gam_gui.heads import HeadAdapter, adapter_for
from gam_gui.inference import Detection, Letterbox, model_stride, preprocess
from gam_gui.validate import round_imgsz

LOGGER = logging.getLogger(__name__)

BASELINES = ("blur", "mean", "road")
#: A perturbed frame's box counts as the same detection at this IoU (the ablation's pairing rule).
TRACK_IOU = 0.5
DEFAULT_STEPS = 16
#: More points than this make no better curve, only a larger batch (``--steps 3000`` used 5.9 GB).
MAX_STEPS = 128
DEFAULT_TIE_ORDERS = 4
MAX_TIE_ORDERS = 64
#: The reference maps scored beside every map (:func:`reference_maps`).
REFERENCES = ("random", "box")
FLAG_RANDOM = "no better than a random map"
FLAG_BOX = "no more than the box"


@dataclass
class FaithfulnessScore:
    """The faithfulness of one map for one detection.

    ``fractions[k]`` is the share of the frame's pixels removed (deletion) or inserted (insertion)
    at step k, from 0 to 1; ``deletion[k]`` / ``insertion[k]`` the detection's tracked score in that
    frame, the mean over the tie orders. ``deletion[0]`` and ``insertion[-1]`` are the unperturbed
    frame. The AUCs are the trapezoid areas under those curves over [0, 1] (scores, not
    normalised). ``tied_fraction``: the share of the map's pixels (at the network input) whose
    value another pixel shares. ``references``: the ``random`` and ``box`` maps' scores on the same
    detection (empty when not asked for), ``flags`` what the map failed against them.
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
    tie_orders: int = 1
    tied_fraction: float = 0.0
    feather: float = 0.0
    references: dict[str, FaithfulnessScore] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        r = lambda a: [round(float(v), 5) for v in a]  # noqa: E731
        out = {"detection": self.detection.to_dict(), "fractions": r(self.fractions),
               "deletion": r(self.deletion), "insertion": r(self.insertion),
               "deletion_auc": round(self.deletion_auc, 5), "insertion_auc": round(self.insertion_auc, 5),
               "energy_in_box": round(self.energy_in_box, 5), "pointing": self.pointing, "steps": self.steps,
               "baseline": self.baseline, "ms": round(self.ms, 1), "tie_orders": self.tie_orders,
               "tied_fraction": round(self.tied_fraction, 5), "feather": self.feather, "flags": list(self.flags)}
        if self.references:
            out["references"] = {k: v.to_dict() for k, v in self.references.items()}
        return out


def box_pixels(box: Sequence[float], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel columns/rows ``(c1, r1, c2, r2)`` a box covers (any pixel it touches), clipped to the map."""
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
    c1, r1, c2, r2 = box_pixels(box, m.shape[:2])
    return float(m[r1:r2, c1:c2].sum() / total)


def pointing(cam: np.ndarray, box: Sequence[float]) -> bool:
    """Whether the map's peak (first maximum in raster order) lies inside ``box``; edges count, as
    in :func:`gam_gui.train.pointing.pointing_game`."""
    py, px = np.unravel_index(int(np.argmax(cam)), cam.shape[:2])
    x1, y1, x2, y2 = box
    return bool(x1 <= px <= x2 and y1 <= py <= y2)


def reference_maps(shape: tuple[int, int], box: Sequence[float], seed: int = 0) -> dict[str, np.ndarray]:
    """The two yardsticks for a detection's map over a frame of ``shape`` (h, w): ``random``,
    seeded uniform noise (what a map that knows nothing scores), and ``box``, 1 inside the
    detection's box and 0 outside (what a map that only knows the box scores)."""
    h, w = shape[:2]
    rnd = np.random.default_rng([int(seed), 7919]).random((h, w), dtype=np.float32)
    b = np.zeros((h, w), np.float32)
    x1, y1, x2, y2 = box
    c1, r1 = max(0, int(np.ceil(x1))), max(0, int(np.ceil(y1)))  # pixels inside the box (its peak is in it)
    c2, r2 = min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))
    if c2 <= c1 or r2 <= r1:  # a box thinner than a pixel: the pixels it touches
        c1, r1, c2, r2 = box_pixels(box, (h, w))
    b[r1:r2, c1:c2] = 1.0
    return {"random": rnd, "box": b}


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


def baseline_fill(img: np.ndarray, kind: str) -> np.ndarray:
    """What removed pixels become for the mask-independent baselines: the frame blurred beyond
    recognition of its shapes, or its mean colour (``road`` depends on the mask: :func:`linear_impute`)."""
    if kind == "blur":
        sigma = max(img.shape[:2]) / 8
        return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    if kind == "mean":
        return np.broadcast_to(img.reshape(-1, img.shape[2]).mean(0), img.shape).astype(np.float32)
    raise ValueError(f"baseline {kind!r} has no fixed fill; choose one of blur, mean")


def tied_fraction(cam: np.ndarray) -> float:
    """The share of the map's pixels whose exact value another pixel shares."""
    v = np.asarray(cam, np.float32).ravel()
    if v.size < 2:
        return 0.0
    _, counts = np.unique(v, return_counts=True)
    return float(counts[counts > 1].sum() / v.size)


def pixel_ranks(cam: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Each pixel's rank (0 = highest value). Equal values are ordered by ``rng`` (a random
    permutation), or by raster order when ``rng`` is None."""
    v = -np.asarray(cam, np.float32).ravel()
    if rng is None:
        order = np.argsort(v, kind="stable")
    else:
        perm = rng.permutation(v.size)
        order = perm[np.argsort(v[perm], kind="stable")]
    rank = np.empty(v.size, np.int64)
    rank[order] = np.arange(v.size)
    return rank.reshape(np.shape(cam))


def step_masks(cam: np.ndarray, steps: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For k = 0..steps, the boolean mask of the ``round(k / steps * P)`` highest-ranked of the map's
    P pixels, and the fractions k / steps. Ties are ordered by ``rng`` (:func:`pixel_ranks`)."""
    rank = pixel_ranks(cam, rng).ravel()
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * rank.size).astype(np.int64)
    return (rank[None, :] < counts[:, None]).reshape((steps + 1,) + np.shape(cam)), fractions


def auc(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area under ``y(x)`` (numpy's ``trapezoid`` is 2.0+, ``trapz`` gone in 2.4)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def check_steps(steps: int) -> int:
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")
    return int(steps)


class _Perturbation:
    """The perturbation handed to pytorch-grad-cam's metric: its "cam" slot carries the keep-mask
    (channel 0) stacked on the fill (channels 1..): the frame where the mask is 1, the fill elsewhere."""

    def __call__(self, image: torch.Tensor, packed: torch.Tensor) -> torch.Tensor:
        keep = packed[:1].to(image.dtype)
        return image * keep + packed[1:].to(image.dtype) * (1 - keep)


def _to_input(cam: np.ndarray, lb: Letterbox) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A frame-space map -> the same map over the frame's pixels inside the network input (the
    padding is never perturbed: it is not part of the frame)."""
    x1, y1, x2, y2 = lb.content_box()
    m = cv2.resize(np.ascontiguousarray(cam, np.float32), (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
    return m, (x1, y1, x2, y2)


class _Runner:
    """Distinct perturbed frames of one detection, keyed by their mask, scored in batches."""

    def __init__(self, model: nn.Module, x: torch.Tensor, content_box: tuple[int, int, int, int],
                 target: TrackedScore, baseline: str, feather: float, max_batch: int,
                 progress: Callable[[int], None] | None = None) -> None:
        self.model, self.x, self.box, self.target = model, x, content_box, target
        self.progress = progress  # called with the number of masks asked for so far, after each batch
        self.asked = 0
        x1, y1, x2, y2 = content_box
        self.content = np.ascontiguousarray(x[0, :, y1:y2, x1:x2].permute(1, 2, 0).cpu().numpy())
        self.baseline, self.feather = baseline, float(feather)
        self.fixed = None if baseline == "road" else baseline_fill(self.content, baseline)
        self.max_batch = max(1, int(max_batch))
        self.scores: dict[bytes, float] = {}
        self.pending: dict[bytes, np.ndarray] = {}
        self.metric = PerturbationConfidenceMetric(_Perturbation())
        self.frames = 0

    def key(self, keep: np.ndarray) -> bytes:
        self.asked += 1
        k = hashlib.blake2b(np.packbits(keep).tobytes(), digest_size=16).digest()
        if k not in self.scores and k not in self.pending:
            self.pending[k] = keep
            if len(self.pending) >= self.max_batch:
                self.flush()
        return k

    def _packed(self, keep: np.ndarray) -> np.ndarray:
        x1, y1, x2, y2 = self.box
        c = self.x.shape[1]
        out = np.zeros((c + 1,) + tuple(self.x.shape[2:]), np.float32)
        out[0] = 1.0  # the padding is always kept
        soft = keep.astype(np.float32)
        if self.feather > 0:
            soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=self.feather, sigmaY=self.feather,
                                    borderType=cv2.BORDER_REFLECT)
        out[0, y1:y2, x1:x2] = soft
        fill = self.fixed if self.fixed is not None else linear_impute(self.content, keep)
        out[1:, y1:y2, x1:x2] = fill.transpose(2, 0, 1)
        return out

    def flush(self) -> None:
        if not self.pending:
            return
        keys = list(self.pending)
        packed = np.stack([self._packed(self.pending[k]) for k in keys])
        batch = self.x.expand(len(keys), -1, -1, -1)
        with torch.no_grad():
            out = self.metric(batch, packed, [self.target] * len(keys), self.model, return_diff=False)
        self.scores.update(zip(keys, np.asarray(out, np.float64).tolist(), strict=True))
        self.frames += len(keys)
        self.pending.clear()
        if self.progress is not None:
            self.progress(self.asked)


def measure_maps(model: nn.Module, image: np.ndarray, maps: Mapping[str, np.ndarray], detection: Detection,
                 steps: int = DEFAULT_STEPS, baseline: str = "blur", imgsz: int = 640, max_batch: int = 32,
                 tie_orders: int = DEFAULT_TIE_ORDERS, feather: float = 0.0, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, FaithfulnessScore]:
    """:func:`measure` for several maps of one detection (HxW over the frame each), their distinct
    perturbed frames run together in batches of at most ``max_batch``: equal masks (the original
    frame, the full baseline, the steps of a map without ties under every order, two equal maps)
    run once. Returns one score per map, without references or flags.

    ``progress(done, total)`` after each batch, in perturbed frames asked for (``total`` counts the
    shared ones once per map, so the last call may jump): the window's progress bar. It may raise to
    stop the measurement (the window's *Cancel*); nothing is kept then."""
    steps = check_steps(steps)
    if baseline not in BASELINES:
        raise ValueError(f"baseline {baseline!r} is unknown; choose one of {', '.join(BASELINES)}")
    if not 1 <= int(tie_orders) <= MAX_TIE_ORDERS:
        raise ValueError(f"tie_orders must be between 1 and {MAX_TIE_ORDERS}, got {tie_orders}")
    if not 0 <= float(feather) <= 64:
        raise ValueError(f"feather must be between 0 and 64 pixels, got {feather}")
    for cam in maps.values():
        if cam.shape[:2] != image.shape[:2]:
            raise ValueError(f"the map is {cam.shape[1]}x{cam.shape[0]}, the frame {image.shape[1]}x{image.shape[0]}")
    t0 = time.perf_counter()
    x, lb = preprocess(model, image, round_imgsz(imgsz, model_stride(model)))
    g, p = np.float32(lb.gain), lb.pad
    bx = detection.xyxy
    box_in = (bx[0] * g + p[0], bx[1] * g + p[1], bx[2] * g + p[0], bx[3] * g + p[1])
    target = TrackedScore(box_in, detection.cls, adapter=adapter_for(model))
    runner: _Runner | None = None
    fractions = np.linspace(0.0, 1.0, steps + 1)
    plans: dict[str, tuple[list[list[bytes]], list[list[bytes]], int, float, np.ndarray]] = {}
    inputs = {name: _to_input(cam, lb) for name, cam in maps.items()}
    ties = {name: tied_fraction(cam_in) for name, (cam_in, _) in inputs.items()}
    total = sum(2 * (steps + 1) * (int(tie_orders) if t > 0 else 1) for t in ties.values())
    tick = None if progress is None else (lambda asked: progress(min(asked, total), total))
    for name, cam in maps.items():
        cam_in, content_box = inputs[name]
        if runner is None:
            runner = _Runner(model, x, content_box, target, baseline, feather, max_batch, tick)
        tied = ties[name]
        orders = int(tie_orders) if tied > 0 else 1
        dels, ins = [], []
        for o in range(orders):
            rank = pixel_ranks(cam_in, np.random.default_rng([int(seed), o]) if tied > 0 else None)
            counts = np.round(fractions * rank.size).astype(np.int64)
            inserted = [rank < n for n in counts]
            dels.append([runner.key(~m) for m in inserted])
            ins.append([runner.key(m) for m in inserted])
        plans[name] = (dels, ins, orders, tied, cam)
    assert runner is not None
    runner.flush()
    if progress is not None:
        progress(total, total)
    ms = (time.perf_counter() - t0) * 1000
    out = {}
    for name, (dels, ins, orders, tied, cam) in plans.items():
        deletion = np.mean([[runner.scores[k] for k in d] for d in dels], 0)
        insertion = np.mean([[runner.scores[k] for k in i] for i in ins], 0)
        out[name] = FaithfulnessScore(
            detection=detection, fractions=fractions, deletion=deletion, insertion=insertion,
            deletion_auc=auc(fractions, deletion), insertion_auc=auc(fractions, insertion),
            energy_in_box=energy_in_box(cam, detection.xyxy), pointing=pointing(cam, detection.xyxy),
            steps=steps, baseline=baseline, ms=ms, tie_orders=orders, tied_fraction=tied, feather=float(feather))
    LOGGER.debug("measured %d map(s): %d distinct frames in %.0f ms", len(maps), runner.frames, ms)
    return out


def reference_flags(deletion_auc: float, insertion_auc: float,
                    references: Mapping[str, tuple[float, float]]) -> list[str]:
    """What a map with these AUCs fails against the references' ``(deletion_auc, insertion_auc)``:
    :data:`FLAG_RANDOM` unless it beats ``random`` on both curves, :data:`FLAG_BOX` unless it beats
    ``box`` on both (lower deletion and higher insertion AUC)."""
    flags = []
    for name, flag in (("random", FLAG_RANDOM), ("box", FLAG_BOX)):
        ref = references.get(name)
        if ref is None or not all(np.isfinite((deletion_auc, insertion_auc, *ref))):
            continue
        if not (deletion_auc < ref[0] and insertion_auc > ref[1]):
            flags.append(flag)
    return flags


def measure(model: nn.Module, image: np.ndarray, cam: np.ndarray, detection: Detection, steps: int = DEFAULT_STEPS,
            baseline: str = "blur", imgsz: int = 640, max_batch: int = 32, tie_orders: int = DEFAULT_TIE_ORDERS,
            feather: float = 0.0, seed: int = 0, references: bool = True,
            progress: Callable[[int, int], None] | None = None) -> FaithfulnessScore:
    """Deletion and insertion curves, their AUCs, energy in box and pointing of ``cam`` (HxW over the
    original frame, e.g. ``analyze(..., target=i).cam``) for ``detection`` (one of that frame's
    detections at the same ``imgsz``), each curve the mean over ``tie_orders`` random orders of the
    map's tied pixels (seeded by ``seed``). ``references``: also score the ``random`` and ``box``
    maps (:func:`reference_maps`) in the same batches and flag what the map fails against them.
    See the module docstring for ``baseline``, ``feather`` and the cost; :func:`measure_maps` for
    ``progress``.
    """
    maps = {"map": cam}
    if references:
        maps.update(reference_maps(image.shape[:2], detection.xyxy, seed))
    res = measure_maps(model, image, maps, detection, steps=steps, baseline=baseline, imgsz=imgsz,
                       max_batch=max_batch, tie_orders=tie_orders, feather=feather, seed=seed,
                       progress=progress)
    score = res.pop("map")
    score.references = res
    score.flags = reference_flags(score.deletion_auc, score.insertion_auc,
                                  {k: (v.deletion_auc, v.insertion_auc) for k, v in res.items()})
    return score
