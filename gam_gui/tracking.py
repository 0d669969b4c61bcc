"""Follow one clicked object through a video: which detection of the next frame is "the same one".

Detections are re-sorted by score on every frame, so a detection *index* names a different object as
soon as another one becomes stronger. :class:`TargetTracker` keeps the clicked object's class and
last box instead and, on each frame, picks the detection of that class with the highest IoU with the
last box, or, when none overlaps it, the one whose centre is nearest (within ``max_jump`` box
diagonals, so that an object that left the view is not replaced by a look-alike on the other side
of the frame). When no detection qualifies for more than ``timeout`` seconds of the video's own
time, the target is *lost*: the tracker stops and says so once, and the caller goes back to "all".

Qt-free and model-free: :class:`gam_gui.pipeline.FramePipeline` uses it for the window and for
``gam-gui export --target i`` on a video alike.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gam_gui.inference import Detection
from gam_gui.matching import box_iou

LOGGER = logging.getLogger(__name__)
#: Seconds a followed object may be missing before the target goes back to "all".
LOST_AFTER_S = 1.0
#: Source kinds whose frames follow each other in time: a chosen object is followed on them.
FOLLOW_KINDS = ("video", "camera", "stream")
#: How far (in diagonals of the last box) the nearest-centre rule may jump when nothing overlaps.
MAX_JUMP = 1.0

FOLLOWED, NEAREST, MISSING, LOST, IDLE = "iou", "nearest", "missing", "lost", "idle"


@dataclass(frozen=True)
class TrackUpdate:
    """The tracker's answer for one frame.

    ``index``: the followed object's index in this frame's detections, or None (not in this frame,
    or nothing followed). ``how``: ``"iou"`` (overlapping box), ``"nearest"`` (nearest centre, no
    overlap), ``"missing"`` (not found, still followed), ``"lost"`` (missing for more than the
    timeout: reported on exactly one update, after which the tracker is idle) or ``"idle"``.
    ``missing_s``: seconds since the object was last seen (0 when it is in this frame).
    """

    index: int | None
    how: str
    missing_s: float = 0.0

    @property
    def lost(self) -> bool:
        return self.how == LOST


class TargetTracker:
    """Follows one object across frames; see the module docstring. Not thread-safe (one owner)."""

    def __init__(self, timeout: float = LOST_AFTER_S, max_jump: float = MAX_JUMP) -> None:
        self.timeout = float(timeout)
        self.max_jump = float(max_jump)
        self.cls: int | None = None
        self.box: tuple[float, float, float, float] | None = None
        self.last_seen: float = 0.0

    @property
    def active(self) -> bool:
        return self.box is not None

    def start(self, detection: Detection, t: float) -> None:
        """Follow ``detection`` (seen at time ``t``, seconds)."""
        self.cls, self.box, self.last_seen = int(detection.cls), tuple(map(float, detection.xyxy)), float(t)

    def stop(self) -> None:
        self.cls = self.box = None

    def update(self, detections: Sequence[Detection], t: float) -> TrackUpdate:
        """The followed object's index among this frame's ``detections`` at time ``t`` (seconds).

        A jump back in time (a seek, a looping video) counts its distance as elapsed time: after a
        long jump the object is as good as unseen."""
        if self.box is None:
            return TrackUpdate(None, IDLE)
        same = [i for i, d in enumerate(detections) if d.cls == self.cls]
        k, how = self._pick(detections, same)
        if k is not None:
            self.box, self.last_seen = tuple(map(float, detections[k].xyxy)), float(t)
            return TrackUpdate(k, how)
        missing = abs(float(t) - self.last_seen)
        if missing > self.timeout:
            self.stop()
            return TrackUpdate(None, LOST, missing)
        return TrackUpdate(None, MISSING, missing)

    def _pick(self, detections: Sequence[Detection], same: list[int]) -> tuple[int | None, str]:
        if not same:
            return None, MISSING
        boxes = np.array([detections[i].xyxy for i in same], np.float64).reshape(-1, 4)
        ref = np.array([self.box], np.float64)
        ious = box_iou(ref, boxes)[0]
        j = int(np.argmax(ious))  # first of equal IoUs: the stronger detection (lists are best first)
        if ious[j] > 0:
            return same[j], FOLLOWED
        c = (ref[0, :2] + ref[0, 2:]) / 2
        dist = np.hypot(*(((boxes[:, :2] + boxes[:, 2:]) / 2) - c).T)
        j = int(np.argmin(dist))
        diag = math.hypot(ref[0, 2] - ref[0, 0], ref[0, 3] - ref[0, 1])
        if dist[j] <= self.max_jump * max(diag, 1.0):
            return same[j], NEAREST
        return None, MISSING

