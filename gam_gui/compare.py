"""Two models on the same frame with the same settings: the A/B answer to "does GAM help here?".

Each model runs the ordinary :func:`~gam_gui.analysis.analyze_with` (one after the other, in the
caller's thread), so what is compared is exactly what each model shows on its own. The detections are
paired with :func:`~gam_gui.matching.match_detections` (A = ``a``, B = ``b``: kept = found by both,
lost = A only, new = B only), and the CAMs are subtracted: both maps are in [0, 1] over the frame,
normalised per model, so the difference says where A's explanation is relatively stronger (> 0) or
weaker (< 0) than B's, not which model has larger gradients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from gam_gui.analysis import Result, Settings, analyze_with
from gam_gui.explain.blocks import block_indices
from gam_gui.matching import KEPT, LOST, NEW, Match, MatchTable, match_detections, summarize

#: how a compare table names the three statuses
COMPARE_WORDS = ("both", "A only", "B only")


@dataclass
class CompareResult(MatchTable):
    """Model A's and model B's analysis of one frame, their match table and the CAM difference.

    ``diff``: HxW float32 in [-1, 1], CAM A - CAM B (``None`` when either has no CAM).
    """

    a: Result
    b: Result
    matches: list[Match]
    diff: np.ndarray | None
    timings: dict[str, float] = field(default_factory=dict)

    # the comparison's words for the match table's kept / lost / new
    both = MatchTable.kept
    a_only = MatchTable.lost
    b_only = MatchTable.new

    def summary(self) -> str:
        """``3 both (mean -0.05), 1 A only, 0 B only``: B's score minus A's over the shared boxes."""
        return summarize(self.matches, COMPARE_WORDS)

    def diff_range(self) -> tuple[float, float]:
        if self.diff is None or not self.diff.size:
            return 0.0, 0.0
        return float(self.diff.min()), float(self.diff.max())

    def to_dict(self) -> dict:
        rows = []
        for m in self.matches:
            d = m.to_dict()
            d["status"] = {KEPT: "both", LOST: "a_only", NEW: "b_only"}[m.status]
            rows.append(d)
        lo, hi = self.diff_range()
        return {"summary": self.summary(), "a": [d.to_dict() for d in self.a.detections],
                "b": [d.to_dict() for d in self.b.detections], "matches": rows,
                "cam_diff_range": [round(lo, 4), round(hi, 4)],
                "timings": {k: round(v, 2) for k, v in self.timings.items()}}


def compare(model_a: nn.Module, model_b: nn.Module, image: np.ndarray, settings: Settings | None = None,
            **changes) -> CompareResult:
    """Analyse ``image`` with both models (the same :class:`Settings`, or keyword overrides of it).

    ``settings.layers`` applies to both when given; left ``None``, each model uses its own default
    (the GAM blocks of a GAM model, the layers feeding Detect of one without).
    """
    s = (settings or Settings()).updated(**changes) if changes else (settings or Settings())
    t0 = time.perf_counter()
    ra = analyze_with(model_a, image, s)
    t1 = time.perf_counter()
    # the attention block shown is chosen on A; B shows the same layer where it has a block there,
    # else its own first (a baseline without GAM, another layout); a gate B's block lacks falls back
    rb = analyze_with(model_b, image, s if s.gam_layer in block_indices(model_b) else s.updated(gam_layer=None))
    t2 = time.perf_counter()
    diff = None
    if ra.cam is not None and rb.cam is not None and ra.cam.shape == rb.cam.shape:
        diff = (ra.cam.astype(np.float32) - rb.cam.astype(np.float32)).clip(-1.0, 1.0)
    matches = match_detections(ra.detections, rb.detections)
    timings = {"a": (t1 - t0) * 1e3, "b": (t2 - t1) * 1e3, "total": (time.perf_counter() - t0) * 1e3}
    return CompareResult(ra, rb, matches, diff, timings)
