"""One frame in, everything the panels show out: detections, a CAM and the GAM maps, from one forward.

The detection forward is the CAM's forward: the chosen layers are recorded by pytorch-grad-cam's
activation recorder (:class:`~gam_gui.explain.cams.LayerCapture`) and the GAM hooks ride along, NMS
runs on that same output, and the backward (when the method needs gradients) starts from the kept
detections and only covers the head side of the first chosen layer. So ``analyze`` costs one forward
plus a partial backward, and its detections are exactly those of :func:`gam_gui.detect` for the same
frame and thresholds. The forward runs in inference mode up to the first chosen layer (see
:func:`_forward`). :func:`per_detection_cams` gives one CAM per detection from the same single
forward and one batched backward. ``benchmarks/RESULTS.md`` has the measured costs.

What does not depend on the frame (the GAM blocks, the head's level convs, the CAM objects) is found
once per model and cached (:class:`_Plan`): walking the model's ~300 modules per frame costs more than
the whole analysis outside the forward.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import cv2
import numpy as np
import torch
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

from gam_gui import validate as V
from gam_gui.explain.attention import GAM_VIEWS, REDUCTIONS, SCALES, GamMaps, GamRecorder, find_gam_blocks
from gam_gui.explain.cams import (
    DISPLAY_NAMES,
    METHODS,
    HeadCapture,
    LayerCapture,
    TargetSpec,
    YoloTarget,
    cam_images,
    canonical_method,
    head_gradients,
    head_levels,
    head_logit_scales,
    renormalize_in_boxes,
    target_gradients,
    uses_gradients,
)
from gam_gui.inference import (
    Detection,
    Letterbox,
    model_names,
    model_stride,
    non_max_suppression,
    preprocess,
    to_detections,
)

LOGGER = logging.getLogger(__name__)
#: Targets per batched backward: bounds the memory of per-detection CAMs (K gradients per layer).
BOX_CHUNK = 16


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
    scale: str = "per-frame"  # heatmap colours: each frame's range, or "fixed" (held over a video's frames)
    gam_view: str = "gates"  # GAM panels: gates, or a gain beside a gate (gain, channel-gain, spatial-gain)

    def __post_init__(self) -> None:
        """Refuse values that cannot work on any model (:mod:`gam_gui.validate`, the CLI's rules): a
        wrong setting must fail here, where it was made, not as an odd picture later. What depends on
        the model (layer indices, the GAM block, the stride rounding) is checked by the analysis."""
        self.conf = V.check_unit(self.conf, "conf")
        self.iou = V.check_unit(self.iou, "iou")
        self.alpha = V.check_unit(self.alpha, "alpha")
        self.imgsz = V.check_imgsz(self.imgsz, "imgsz")
        V.check_method(self.method, "method")
        V.check_target(self.target, "target")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction {self.reduction!r} is unknown; choose one of {', '.join(REDUCTIONS)}")
        if self.colormap not in V.COLORMAP_NAMES:
            raise ValueError(f"colormap {self.colormap!r} is unknown; choose one of {', '.join(V.COLORMAP_NAMES)}")
        if self.gam_layer is not None:
            self.gam_layer = V.check_count(self.gam_layer, "gam_layer", 0)
        if self.scale not in SCALES:
            raise ValueError(f"scale {self.scale!r} is unknown; choose one of {', '.join(SCALES)}")
        if self.gam_view not in GAM_VIEWS:
            raise ValueError(f"gam_view {self.gam_view!r} is unknown; choose one of {', '.join(GAM_VIEWS)}")

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
    #: with ``analyze(..., per_detection=...)``: one CAM per chosen detection (see ``extra["detection_indices"]``)
    detection_cams: list[np.ndarray] | None = None

    def gam_for(self, layer: int | None) -> GamMaps | None:
        if not self.gam:
            return None
        if layer is None:
            return self.gam[0]
        return next((g for g in self.gam if g.index == layer), self.gam[0])

    def read_gam(self, layer: int | None) -> GamMaps | None:
        """:meth:`gam_for`, with the block's channel and spatial maps and channel weights made now and
        their time added to ``timings`` (``gam`` and ``total``).

        ``analyze`` leaves the maps to be made when first read (most blocks are never shown); a
        display or an export that shows one block calls this, so that the time it reports for the
        GAM maps is what they cost rather than the near-zero of the lazy objects.
        """
        g = self.gam_for(layer)
        if g is None or g.materialized:
            return g
        t0 = time.perf_counter()
        g.channel, g.spatial, g.channel_weights  # noqa: B018 - made on first access
        dt = (time.perf_counter() - t0) * 1000
        for k in ("gam", "total"):
            self.timings[k] = round(self.timings.get(k, 0.0) + dt, 2)
        return g


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
    gam = gam_layers(model)
    if gam:
        return gam
    f = getattr(_layers(model)[-1], "f", -1)
    return tuple(f) if isinstance(f, (list, tuple)) else (len(_layers(model)) - 2,)


def gam_layers(model: nn.Module) -> tuple[int, ...]:
    """Indices of the model's GAM blocks, in layer order."""
    return tuple(i for i, _, _ in find_gam_blocks(model) if i >= 0)


def resolve_layers(model: nn.Module, layers: Any, name: str = "layers") -> tuple[int, ...]:
    """The layers a CAM averages: the default ones for ``None``/empty, else valid indices (negative
    ones count from the end) or ``ValueError`` naming the valid range."""
    seq = _layers(model)
    if layers is None or layers == () or layers == []:
        return default_layers(model)
    if isinstance(layers, (int, np.integer)):
        layers = (int(layers),)
    return V.check_layer_indices(layers, len(seq), name)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


class _Plan:
    """What analysis needs to know about one model, found once instead of once per frame.

    Holds no reference to the model itself (only to submodules), so the weak cache entry goes away
    with the model. ``lock`` serialises analyses of one model: the hooks are per model.
    """

    def __init__(self, model: nn.Module) -> None:
        seq = _layers(model)
        self.key = tuple(map(id, seq))
        self.gam_blocks = find_gam_blocks(model)
        self.default_layers = default_layers(model)
        self.levels = head_levels(model)
        self.logit_scales = head_logit_scales(model) if self.levels else None
        self.cams: dict[tuple[str, tuple[int, ...]], BaseCAM] = {}
        self.no_inference_prefix: set[tuple[int, ...]] = set()  # layer choices that need no_grad (see _forward)
        self.lock = threading.RLock()

    def cam(self, model: nn.Module, key: str, idx: tuple[int, ...]) -> BaseCAM:
        """The method's pytorch-grad-cam object for these layers, built once (its constructor walks
        the whole model for ``model.eval()``); its own hooks are released at once, each analysis
        plugs in a fresh :class:`LayerCapture`."""
        cam = self.cams.get((key, idx))
        if cam is None:
            seq = _layers(model)
            cam = METHODS[key](model=model, target_layers=[seq[i] for i in idx])
            cam.activations_and_grads.release()
            cam.activations_and_grads.model = None
            cam.model = None  # never used after construction: the forward is gam-gui's
            self.cams[(key, idx)] = cam
        return cam


_PLANS: weakref.WeakKeyDictionary[nn.Module, _Plan] = weakref.WeakKeyDictionary()
_PLANS_LOCK = threading.Lock()


def _plan(model: nn.Module) -> _Plan:
    """The cached plan of ``model``, rebuilt when its layer list was changed."""
    key = tuple(map(id, _layers(model)))
    with _PLANS_LOCK:
        plan = _PLANS.get(model)
        if plan is None or plan.key != key:
            plan = _PLANS[model] = _Plan(model)
        return plan


def analyze(model: nn.Module, image: np.ndarray, method: str = "gradcam", layers: Any = None,
            target: str | int = "all", conf: float = 0.25, iou: float = 0.45, imgsz: int = 640,
            reduction: str = "mean", renorm_boxes: bool = False,
            per_detection: bool | Sequence[int] = False, **_render_opts: Any) -> Result:
    """Detect, explain and read the GAM attention of one uint8 BGR frame.

    ``method``: one of :data:`gam_gui.explain.cams.METHODS` (case-insensitive) or ``none``;
    ``layers``: layer indices whose CAMs are averaged (default: the GAM blocks);
    ``target``: ``all``, ``class``, ``box``, a detection index, or ``cls:<id>``;
    ``per_detection``: also one CAM per detection (``True``: every detection, or a list of detection
    indices) in ``Result.detection_cams``, from the same forward and one batched backward.
    Extra keyword arguments (rendering options of :class:`Settings`) are accepted and ignored.
    """
    return _analyze(model, image, method, layers, target, conf, iou, imgsz, reduction, renorm_boxes,
                    single=True, per_detection=per_detection)


def per_detection_cams(model: nn.Module, image: np.ndarray, indices: Sequence[int] | None = None,
                       method: str = "gradcam", layers: Any = None, mode: str = "all", conf: float = 0.25,
                       iou: float = 0.45, imgsz: int = 640) -> list[np.ndarray]:
    """One CAM per detection (``indices`` into the detection list, default all of them), each equal to
    ``analyze(..., target=i).cam``, i.e. to pytorch-grad-cam's map for that box alone.

    One forward serves all of them; the gradients come from one batched backward
    (``torch.autograd.grad(..., is_grads_batched=True)``) split at the head's levels, and each map is
    made by the method's own ``get_cam_image`` / ``compute_cam_per_layer``. Maps are HxW float32 in
    [0, 1] over the original frame. ``mode``: ``all``, ``class`` or ``box`` (what each target scores).
    """
    if mode not in ("all", "class", "box"):
        raise ValueError(f"unknown target mode {mode!r}; use all, class or box")
    res = _analyze(model, image, method, layers, mode, conf, iou, imgsz, "mean", False, single=False,
                   per_detection=True if indices is None else list(indices))
    return res.detection_cams or []


def _analyze(model: nn.Module, image: np.ndarray, method: str, layers: Any, target: str | int, conf: float,
             iou: float, imgsz: int, reduction: str, renorm_boxes: bool, single: bool,
             per_detection: bool | Sequence[int]) -> Result:
    t_all = time.perf_counter()
    conf, iou = V.check_unit(conf, "conf"), V.check_unit(iou, "iou")
    imgsz = V.round_imgsz(imgsz, model_stride(model))
    key = canonical_method(method)
    spec = TargetSpec.parse(target)
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown channel reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    plan = _plan(model)
    no_layers = layers is None or (isinstance(layers, (tuple, list)) and not layers)
    idx = plan.default_layers if no_layers else resolve_layers(model, layers)
    names = model_names(model)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    x, lb = preprocess(model, image, imgsz)
    timings["preprocess"] = _ms(t0)

    has_cam = METHODS[key] is not None
    boxes_wanted = has_cam and per_detection is not False and per_detection is not None
    use_cam = has_cam and (single or boxes_wanted)
    grads = use_cam and uses_gradients(key)
    order = tuple(sorted(idx))  # execution order, as the recorder appends activations
    note = ""
    cam_map: np.ndarray | None = None
    box_maps: list[np.ndarray] | None = None
    box_idx: list[int] = []
    with plan.lock:
        cam = plan.cam(model, key, order) if use_cam else None
        seq = _layers(model)
        cap = LayerCapture(model, [seq[i] for i in order], track=grads) if cam is not None else None
        head = HeadCapture(plan.levels, plan.logit_scales) if grads and plan.levels else None
        recorder = GamRecorder(model, plan.gam_blocks)
        try:
            t0 = time.perf_counter()
            out = _forward(model, x, recorder, cap, plan, order, grads)
            timings["forward"] = _ms(t0)

            t0 = time.perf_counter()
            pred = out.detach()
            det = non_max_suppression(pred, conf, iou)[0]
            detections = to_detections(det, lb, names)
            timings["postprocess"] = _ms(t0)

            t0 = time.perf_counter()
            if cam is not None:
                cam.activations_and_grads = cap
                if single:
                    rows, classes, note = _select(pred[0], det, spec)
                    tgt = YoloTarget(rows, classes, spec.mode)
                    cam_map = _to_frame_unit(_single_cam(cam, cap, head, x, out, tgt), lb)
                    if renorm_boxes:
                        cam_map = renormalize_in_boxes(cam_map, [d.xyxy for d in detections])
                if boxes_wanted:
                    box_idx = _box_indices(per_detection, len(det))
                    box_maps = _box_cams(cam, cap, head, x, out, det, box_idx, spec.mode, lb)
            timings["cam"] = _ms(t0)
        finally:
            if cap is not None:
                cap.release()
                cap.model = None
            if head is not None:
                head.release()
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
        extra={"detection_indices": box_idx} if boxes_wanted else {},
        detection_cams=box_maps,
    )


def _forward(model: nn.Module, x: torch.Tensor, recorder: GamRecorder, cap: LayerCapture | None, plan: _Plan,
             order: tuple[int, ...], grads: bool) -> torch.Tensor:
    """The one forward, in inference mode up to the first chosen layer (about 5 % faster than
    ``no_grad`` on this model), recording the graph from there when the method needs gradients.

    A layer choice whose graph would have to keep a tensor made in inference mode (e.g. a head
    input from before the first chosen layer, which the head's conv would save for its weight
    gradient) makes PyTorch refuse; the forward is then redone under ``no_grad`` and the choice
    remembered, so that it costs one extra forward once.
    """
    if grads and cap is not None and order in plan.no_inference_prefix:
        with recorder, torch.no_grad():
            try:
                return model(x)
            finally:
                cap.end_forward()
    try:
        with recorder, torch.inference_mode():
            try:
                return model(x)
            finally:
                if cap is not None:
                    cap.end_forward()
    except RuntimeError as e:
        if not grads or "nference tensor" not in str(e):
            raise
        LOGGER.debug("layers %s: inference-mode prefix refused (%s); using no_grad", order, e)
        plan.no_inference_prefix.add(order)
        cap.clear()
        return _forward(model, x, recorder, cap, plan, order, grads)


def _box_indices(per_detection: bool | Sequence[int], n: int) -> list[int]:
    if per_detection is True:
        return list(range(n))
    out = [int(i) for i in per_detection]  # type: ignore[union-attr]
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise ValueError(f"detection #{bad[0]} does not exist ({n} detections)")
    return out


def _numpy(ts: list[torch.Tensor | None]) -> list[np.ndarray | None]:
    return [None if t is None else t.detach().cpu().numpy() for t in ts]


def _single_cam(cam: BaseCAM, cap: LayerCapture, head: HeadCapture | None, x: torch.Tensor, out: torch.Tensor,
                target: YoloTarget) -> np.ndarray:
    """The CAM of one (summed) target at input size, before its final normalisation (:func:`cam_images`)."""
    grads: list[np.ndarray | None] = []
    if cam.uses_gradients:
        grads = _numpy(head_gradients(target, out[0:1], cap.outputs, head))
    return cam_images(cam, x, [target], _numpy(cap.activations), grads, 1)[0]


def _box_cams(cam: BaseCAM, cap: LayerCapture, head: HeadCapture | None, x: torch.Tensor, out: torch.Tensor,
              det: torch.Tensor, box_idx: list[int], mode: str, lb: Letterbox) -> list[np.ndarray]:
    """One frame-aligned unit CAM per detection in ``box_idx`` (repeats computed once), from batched
    backward passes of at most ``BOX_CHUNK`` targets."""
    if not box_idx:
        return []
    acts = _numpy(cap.activations)
    unique = list(dict.fromkeys(box_idx))
    if not cam.uses_gradients:  # EigenCAM: the map does not depend on the target; compute it once
        rows, classes = det[unique[:1], 6].long(), det[unique[:1], 5].long()
        m = _to_frame_unit(cam_images(cam, x, [YoloTarget(rows, classes, mode)], acts, [], 1)[0], lb)
        return [m] + [m.copy() for _ in box_idx[1:]]
    done: dict[int, np.ndarray] = {}
    for s in range(0, len(unique), BOX_CHUNK):
        chunk = unique[s : s + BOX_CHUNK]
        rows, classes = det[chunk, 6].long(), det[chunk, 5].long()
        target = YoloTarget(rows, classes, mode)
        for members, grads in target_gradients(target, out[0:1], cap.outputs, head):
            if not members:
                continue
            maps = cam_images(cam, x, [target], acts, _numpy(grads), len(members))
            for i, m in zip(members, maps):
                done[chunk[i]] = _to_frame_unit(m, lb)
    return [done[i] if n == box_idx.index(i) else done[i].copy() for n, i in enumerate(box_idx)]


def analyze_with(model: nn.Module, image: np.ndarray, settings: Settings) -> Result:
    """:func:`analyze` driven by a :class:`Settings` (what the GUI and CLI call); ``settings.gam_layer``
    must be one of the model's GAM blocks."""
    V.check_gam_layer(settings.gam_layer, [i for i, _, _ in _plan(model).gam_blocks if i >= 0])
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


def _to_frame_unit(cam_in: np.ndarray, lb: Letterbox) -> np.ndarray:
    """An input-size CAM (from :func:`cam_images`, before its final normalisation) -> the original
    frame, shifted to a minimum of 0 over the network input and scaled to a maximum of 1.

    Equals the library's last step (``scale_cam_image``) followed by the alignment and a clip-and-scale
    to a maximum of 1, up to rounding: the shift and the scale commute with the crop and the bilinear
    resize. Done in place on the one frame-sized array (a 4K frame is 8 M pixels per pass).
    """
    cam_in = np.asarray(cam_in, np.float32)
    lo, hi = cam_in.min(), cam_in.max()  # NaN and inf propagate into these
    if not (np.isfinite(lo) and np.isfinite(hi)):
        cam_in = np.nan_to_num(cam_in)
        lo = cam_in.min()
    if cam_in.size < lb.frame_shape[0] * lb.frame_shape[1]:  # shift where there are fewer pixels
        # x - min >= +0 exactly, and a bilinear resize (non-negative weights) keeps it so
        m = lb.map_to_frame(cam_in - np.float32(lo))
    else:
        m = lb.map_to_frame(cam_in)
        np.subtract(m, np.float32(lo), out=m)
        np.maximum(m, 0, out=m)  # the resize may undershoot the minimum by an ulp
    mx = cv2.minMaxLoc(m)[1]
    if mx > 0:
        np.divide(m, np.float32(mx), out=m)
    return m
