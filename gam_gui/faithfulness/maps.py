"""Every method's per-detection maps of one frame from **one** forward.

:func:`gam_gui.analysis.per_detection_cams` runs a forward per call, so scoring four methods cost
four forwards per image. Here one forward (graph recorded from the GAM blocks on) serves every
method; each gradient method adds one batched backward over the frame's detections, EigenCAM none.
The maps equal ``per_detection_cams(model, image, method=m)`` (a test checks it). The pointing game
and the faithfulness evaluation use it, and the sanity check asks it for a randomised copy's maps
of the *trained* model's detections (``rows``, ``classes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.explain.cams import AUTO, canonical_method, resolve_method, uses_gradients
from gam_gui.explain.engine import explainer
from gam_gui.heads import det_classes, det_rows
from gam_gui.inference import (
    Detection,
    Letterbox,
    model_names,
    model_stride,
    non_max_suppression,
    preprocess,
    to_detections,
)
from gam_gui.validate import round_imgsz


@dataclass
class FrameMaps:
    """One frame's detections and, per method key, one map per detection at the network input
    (before any normalisation; ``lb`` maps input to frame)."""

    detections: list[Detection]
    lb: Letterbox
    rows: torch.Tensor
    classes: torch.Tensor
    maps_in: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def frame_map(self, method: str, i: int) -> np.ndarray:
        """Detection ``i``'s map of ``method`` over the original frame, in [0, 1] (as ``analyze`` shows it)."""
        return to_frame_unit(self.maps_in[method][i], self.lb)


def to_frame_unit(cam_in: np.ndarray, lb: Letterbox) -> np.ndarray:
    """An input-size map -> the original frame, shifted to a minimum of 0 over the input and scaled
    to a maximum of 1 (what :func:`gam_gui.analysis.analyze` returns as ``cam``)."""
    cam_in = np.nan_to_num(np.asarray(cam_in, np.float32))
    m = lb.map_to_frame(cam_in - np.float32(cam_in.min()))
    np.maximum(m, 0, out=m)
    mx = float(m.max()) if m.size else 0.0
    if mx > 0:
        m /= np.float32(mx)
    return m


def method_key(method: str) -> str:
    """The method that makes a one-object map (``auto``: HiResCAM)."""
    key = canonical_method(method)
    return resolve_method(key, one_object=True) if key == AUTO else key


def frame_maps(model: nn.Module, image: np.ndarray, methods: Sequence[str], conf: float = 0.25, iou: float = 0.45,
               imgsz: int = 640, rows: torch.Tensor | None = None, classes: torch.Tensor | None = None) -> FrameMaps:
    """One forward, NMS, and one map per detection for each of ``methods`` (keys of
    :data:`gam_gui.explain.cams.METHODS` or ``auto``; a method repeated under two names is made
    once). ``rows``/``classes``: score these prediction rows instead of this model's detections
    (``detections`` is then empty)."""
    eng = explainer(model)
    x, lb = preprocess(model, image, round_imgsz(imgsz, model_stride(model)))
    keys = {m: method_key(m) for m in methods}
    grads = any(uses_gradients(k) for k in keys.values())
    layers = tuple(sorted(eng.default_layers))
    with eng.run(model, layers, grads) as run:
        pred = run.forward(x)
        dets: list[Detection] = []
        if rows is None:
            det = non_max_suppression(pred.detach(), conf, iou, adapter=eng.adapter)[0]
            dets = to_detections(det, lb, model_names(model))
            rows, classes = det_rows(det), det_classes(det)
        out = FrameMaps(dets, lb, rows, classes)
        made: dict[str, list[np.ndarray]] = {}
        for name, key in keys.items():
            if key not in made:
                made[key] = [b.maps[0] for b in run.box_cams(key, rows, classes, "all")] if len(rows) else []
            out.maps_in[name] = made[key]
    return out
