"""One frame in, everything the panels show out: detections, a CAM and the GAM maps, from one forward.

The detection forward is the CAM's forward: pytorch-grad-cam's activation hooks and the GAM hooks
ride along, NMS runs on that same output, and the backward (when the method needs gradients) starts
from the kept detections. So ``analyze`` costs one forward plus a partial backward, and its
detections are exactly those of :func:`gam_gui.detect` for the same frame and thresholds.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from gam_gui.explain.attention import REDUCTIONS, GamMaps, GamRecorder, find_gam_blocks
from gam_gui.explain.cams import (
    DISPLAY_NAMES,
    METHODS,
    TargetSpec,
    YoloTarget,
    canonical_method,
    gradient_from,
    renormalize_in_boxes,
    uses_gradients,
)
from gam_gui.inference import Detection, model_names, non_max_suppression, preprocess, to_detections

LOGGER = logging.getLogger(__name__)


@dataclass
class Settings:
    """Every knob of an analysis and its rendering; the GUI, the CLI and tests share this one type."""

    method: str = "gradcam"
    layers: tuple[int, ...] | None = None  # None: the GAM blocks, else the layers feeding Detect
    target: str | int = "all"
    conf: float = 0.25
    iou: float = 0.45
    imgsz: int = 640
    reduction: str = "mean"  # GAM maps: over channels
    renorm_boxes: bool = False
    colormap: str = "jet"
    alpha: float = 0.5
    gam_layer: int | None = None  # which GAM block the panels show (None: the first)

    def updated(self, **changes: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)


@dataclass
class Result:
    """What one frame's analysis produced. All maps are HxW float32 in [0, 1] over the ORIGINAL frame."""

    detections: list[Detection]
    cam: np.ndarray | None
    gam: list[GamMaps]
    timings: dict[str, float]  # ms: preprocess, forward, postprocess, cam, gam, total
    method: str
    layers: tuple[int, ...]
    target: str  # human-readable
    note: str = ""  # e.g. "no detections: CAM of the strongest raw prediction"
    image_shape: tuple[int, int] = (0, 0)
    extra: dict = field(default_factory=dict)

    def gam_for(self, layer: int | None) -> GamMaps | None:
        if not self.gam:
            return None
        if layer is None:
            return self.gam[0]
        return next((g for g in self.gam if g.index == layer), self.gam[0])


@dataclass(frozen=True)
class LayerInfo:
    index: int
    type: str
    shape: tuple[int, ...]  # output shape (C, H, W) for the probed input size
    is_gam: bool
    source: Any  # the layer's "from"

    def label(self) -> str:
        shp = "x".join(map(str, self.shape)) if self.shape else "-"
        return f"{self.index:>2}  {self.type:<14} {shp}" + ("  [GAM]" if self.is_gam else "")


def _layers(model: nn.Module) -> nn.Sequential:
    seq = getattr(model, "model", None)
    if not isinstance(seq, nn.Sequential):
        raise TypeError("not a YOLO layer-list model (no .model Sequential)")
    return seq


def list_layers(model: nn.Module, imgsz: int = 320) -> list[LayerInfo]:
    """Every layer with its index, type and output shape, for a layer picker (GAM blocks marked)."""
    seq = _layers(model)
    gam_idx = {i for i, _, _ in find_gam_blocks(model)}
    shapes: dict[int, tuple[int, ...]] = {}
    handles = []
    for i, m in enumerate(seq):
        def hook(mod, args, out, i=i):
            if isinstance(out, torch.Tensor):
                shapes[i] = tuple(out.shape[1:])
        handles.append(m.register_forward_hook(hook))
    try:
        s = int(max(getattr(model, "stride", torch.tensor([32])).max(), 32))
        sz = max(s, int(np.ceil(imgsz / s) * s))
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, 3, sz, sz, device=p.device, dtype=p.dtype))
    finally:
        for h in handles:
            h.remove()
    out = []
    for i, m in enumerate(seq):
        typ = str(getattr(m, "type", type(m).__name__)).split(".")[-1]
        out.append(LayerInfo(i, typ, shapes.get(i, ()), i in gam_idx, getattr(m, "f", -1)))
    return out


def default_layers(model: nn.Module) -> tuple[int, ...]:
    """The GAM blocks when there are any, else the layers that feed the detection head."""
    gam = [i for i, _, _ in find_gam_blocks(model) if i >= 0]
    if gam:
        return tuple(gam)
    f = getattr(_layers(model)[-1], "f", -1)
    return tuple(f) if isinstance(f, (list, tuple)) else (len(_layers(model)) - 2,)


def resolve_layers(model: nn.Module, layers: Any) -> tuple[int, ...]:
    seq = _layers(model)
    if layers is None or layers == () or layers == []:
        return default_layers(model)
    if isinstance(layers, (int, np.integer)):
        layers = (int(layers),)
    out = []
    for x in layers:
        i = int(x)
        if i < 0:
            i += len(seq)
        if not 0 <= i < len(seq) - 1:
            raise ValueError(f"layer {x} is out of range: choose 0..{len(seq) - 2} (the head is {len(seq) - 1})")
        out.append(i)
    return tuple(dict.fromkeys(out))


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def analyze(model: nn.Module, image: np.ndarray, method: str = "gradcam", layers: Any = None,
            target: str | int = "all", conf: float = 0.25, iou: float = 0.45, imgsz: int = 640,
            reduction: str = "mean", renorm_boxes: bool = False, **_render_opts: Any) -> Result:
    """Detect, explain and read the GAM attention of one uint8 BGR frame.

    ``method``: one of :data:`gam_gui.explain.cams.METHODS` (case-insensitive) or ``none``;
    ``layers``: layer indices whose CAMs are averaged (default: the GAM blocks);
    ``target``: ``all``, ``class``, ``box``, a detection index, or ``cls:<id>``.
    Extra keyword arguments (rendering options of :class:`Settings`) are accepted and ignored.
    """
    t_all = time.perf_counter()
    key = canonical_method(method)
    spec = TargetSpec.parse(target)
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown channel reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    idx = resolve_layers(model, layers)
    seq = _layers(model)
    names = model_names(model)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    x, lb = preprocess(model, image, imgsz)
    timings["preprocess"] = _ms(t0)

    cam_cls = METHODS[key]
    note = ""
    cam_map: np.ndarray | None = None
    recorder = GamRecorder(model)
    grads = cam_cls is not None and uses_gradients(key)
    target_layers = [seq[i] for i in idx]
    with contextlib.nullcontext() if not grads else gradient_from(model, target_layers), recorder:
        cam = cam_cls(model=model, target_layers=target_layers) if cam_cls is not None else None
        try:
            t0 = time.perf_counter()
            if cam is not None:
                with torch.set_grad_enabled(grads):
                    out = cam.activations_and_grads(x)
            else:
                with torch.no_grad():
                    out = model(x)
            timings["forward"] = _ms(t0)

            t0 = time.perf_counter()
            det = non_max_suppression(out.detach(), conf, iou)[0]
            detections = to_detections(det, lb, names)
            timings["postprocess"] = _ms(t0)

            t0 = time.perf_counter()
            if cam is not None:
                rows, classes, note = _select(out.detach()[0], det, spec)
                targets = [YoloTarget(rows, classes, spec.mode)]
                if grads:
                    loss = sum(t(o) for t, o in zip(targets, out))
                    loss.backward()
                per_layer = cam.compute_cam_per_layer(x, targets, False)
                cam_in = cam.aggregate_multi_layers(per_layer)[0]
                cam_map = _unit(lb.map_to_frame(cam_in))
                if renorm_boxes:
                    cam_map = renormalize_in_boxes(cam_map, [d.xyxy for d in detections])
            timings["cam"] = _ms(t0)
        finally:
            if cam is not None:
                cam.activations_and_grads.release()
            del x
    t0 = time.perf_counter()
    gam = recorder.maps(lb.map_to_frame, reduction)
    timings["gam"] = _ms(t0)
    timings["total"] = _ms(t_all)
    return Result(
        detections=detections,
        cam=cam_map,
        gam=gam,
        timings=timings,
        method=DISPLAY_NAMES[key],
        layers=idx,
        target=spec.label(names),
        note=note,
        image_shape=tuple(lb.frame_shape),
    )


def analyze_with(model: nn.Module, image: np.ndarray, settings: Settings) -> Result:
    """:func:`analyze` driven by a :class:`Settings` (what the GUI and CLI call)."""
    return analyze(model, image, method=settings.method, layers=settings.layers, target=settings.target,
                   conf=settings.conf, iou=settings.iou, imgsz=settings.imgsz, reduction=settings.reduction,
                   renorm_boxes=settings.renorm_boxes)


def _select(pred: torch.Tensor, det: torch.Tensor, spec: TargetSpec) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Rows (prediction indices) and classes the CAM target scores, plus a note for the user."""
    if len(det):
        rows, classes = det[:, 6].long(), det[:, 5].long()
        if spec.index is not None:
            if spec.index >= len(det):
                raise ValueError(f"target detection #{spec.index} does not exist ({len(det)} detections)")
            return rows[spec.index : spec.index + 1], classes[spec.index : spec.index + 1], ""
        if spec.cls is not None:
            sel = classes == spec.cls
            if sel.any():
                return rows[sel], classes[sel], ""
            note = f"no detection of class {spec.cls}: CAM of its strongest raw prediction"
            score = pred[:, 4] * pred[:, 5 + spec.cls] if pred.shape[1] > 5 + spec.cls else pred[:, 4]
            r = score.argmax()
            return r.view(1), torch.tensor([spec.cls]), note
        return rows, classes, ""
    if spec.index is not None:
        raise ValueError(f"target detection #{spec.index} does not exist (no detections)")
    scores = pred[:, 5:] * pred[:, 4:5] if pred.shape[1] > 5 else pred[:, 4:5]
    best = scores.max(1)
    r = best.values.argmax()
    return r.view(1), best.indices[r].view(1), "no detections: CAM of the strongest raw prediction"


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.nan_to_num(np.maximum(m, 0).astype(np.float32))
    mx = float(m.max())
    return m / mx if mx > 0 else m
