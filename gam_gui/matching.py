"""Pair two detection lists of the same frame: before/after an ablation, or model A/model B.

The pairing is the one a reader checks by eye: same class, IoU >= 0.5, the strongest detections
choosing first. What is left over on either side is reported as lost (only in ``a``) or new (only in
``b``), so a table of matches accounts for every box of both lists exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gam_gui.inference import Detection

KEPT, LOST, NEW = "kept", "lost", "new"
MATCH_IOU = 0.5


@dataclass(frozen=True)
class Match:
    """One row of a match table.

    ``a`` is the detection before the change (or of model A), ``b`` after it (or of model B);
    ``status`` is ``"kept"`` when both exist, ``"lost"`` when only ``a`` does, ``"new"`` when only
    ``b`` does. ``iou`` is the IoU of the pair (``None`` for lost/new).
    """

    status: str
    cls: int
    name: str
    a: Detection | None
    b: Detection | None
    iou: float | None = None

    @property
    def score_a(self) -> float | None:
        return None if self.a is None else self.a.score

    @property
    def score_b(self) -> float | None:
        return None if self.b is None else self.b.score

    @property
    def delta(self) -> float | None:
        """Score after minus score before; a lost box counts as falling to 0, a new one as rising from 0."""
        return (self.score_b or 0.0) - (self.score_a or 0.0)

    def label(self) -> str:
        """``cross 0.94 -> 0.61`` (kept), ``cross 0.94 -> lost``, ``cross new 0.40``."""
        if self.status == KEPT:
            return f"{self.name} {self.score_a:.2f} -> {self.score_b:.2f}"
        if self.status == LOST:
            return f"{self.name} {self.score_a:.2f} -> lost"
        return f"{self.name} new {self.score_b:.2f}"

    def to_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 5)  # noqa: E731
        return {"status": self.status, "cls": self.cls, "name": self.name,
                "box_a": None if self.a is None else [round(v, 2) for v in self.a.xyxy],
                "box_b": None if self.b is None else [round(v, 2) for v in self.b.xyxy],
                "score_a": r(self.score_a), "score_b": r(self.score_b), "delta": r(self.delta),
                "iou": r(self.iou)}


class MatchTable:
    """A match table's rows by status, for the result types that carry one (``matches``)."""

    matches: list[Match]

    @property
    def kept(self) -> list[Match]:
        return [m for m in self.matches if m.status == KEPT]

    @property
    def lost(self) -> list[Match]:
        return [m for m in self.matches if m.status == LOST]

    @property
    def new(self) -> list[Match]:
        return [m for m in self.matches if m.status == NEW]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 4) x (m, 4) xyxy -> (n, m) IoU."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_detections(a: list[Detection], b: list[Detection], iou_thr: float = MATCH_IOU) -> list[Match]:
    """Greedy pairing by score: the detections of ``a`` take, strongest first (ties: list order),
    the unpaired same-class detection of ``b`` with the highest IoU >= ``iou_thr`` (ties: the
    stronger, then the earlier one). Kept pairs come first in ``a``'s score order, then lost, then new.
    """
    if not 0.0 <= iou_thr <= 1.0:
        raise ValueError(f"iou_thr must be in [0, 1], got {iou_thr}")
    ba = np.array([d.xyxy for d in a], np.float64).reshape(-1, 4)
    bb = np.array([d.xyxy for d in b], np.float64).reshape(-1, 4)
    ious = box_iou(ba, bb)
    order_a = sorted(range(len(a)), key=lambda i: -a[i].score)
    # candidates of b in preference order for equal IoU: stronger first, then list order
    pref_b = {j: r for r, j in enumerate(sorted(range(len(b)), key=lambda j: -b[j].score))}
    taken: set[int] = set()
    kept, lost = [], []
    for i in order_a:
        best, best_key = None, None
        for j in range(len(b)):
            if j in taken or b[j].cls != a[i].cls or ious[i, j] < iou_thr:
                continue
            key = (ious[i, j], -pref_b[j])
            if best_key is None or key > best_key:
                best, best_key = j, key
        if best is None:
            lost.append(Match(LOST, a[i].cls, a[i].name, a[i], None))
        else:
            taken.add(best)
            kept.append(Match(KEPT, a[i].cls, a[i].name, a[i], b[best], float(ious[i, best])))
    new = [Match(NEW, b[j].cls, b[j].name, None, b[j]) for j in sorted(range(len(b)), key=lambda j: -b[j].score)
           if j not in taken]
    return kept + lost + new


def summarize(matches: list[Match], words: tuple[str, str, str] = (KEPT, LOST, NEW)) -> str:
    """``3 kept (mean -0.21), 1 lost, 0 new``: the status-bar line of a match table."""
    kept = [m for m in matches if m.status == KEPT]
    n_lost = sum(m.status == LOST for m in matches)
    n_new = sum(m.status == NEW for m in matches)
    mean = f" (mean {np.mean([m.delta for m in kept]):+.2f})" if kept else ""
    return f"{len(kept)} {words[0]}{mean}, {n_lost} {words[1]}, {n_new} {words[2]}"
