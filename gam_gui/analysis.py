"""One frame in, everything the panels show out: detections, a CAM and the GAM maps, from one forward.

This module only composes: the explanation engine (:func:`gam_gui.explain.engine.explainer`) runs
the one forward that serves detection and explanation alike, with the GAM hooks riding along; NMS
runs on that same output (through the head's adapter, :mod:`gam_gui.heads`); the engine then makes
the CAM from the kept detections, with a backward that only covers the head side of the first
chosen layer. So ``analyze`` costs one forward plus a partial backward, and its detections are
exactly those of :func:`gam_gui.detect` for the same frame and thresholds.
:func:`per_detection_cams` gives one CAM per detection from the same single forward and one
batched backward. ``benchmarks/RESULTS.md`` has the measured costs.

The method ``auto`` (the default) is Grad-CAM when the target is several detections and HiResCAM
when it is one object: Grad-CAM pools each channel's gradient over the whole map, so its map for
one object lights every object of that class; HiResCAM weighs each position by its own gradient
and peaks on the object explained (:attr:`Result.class_level` says which kind ran).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from gam_gui import validate as V
from gam_gui.explain.attention import GAM_VIEWS, REDUCTIONS, SCALES, GamMaps, GamRecorder, find_gam_blocks
from gam_gui.explain.blocks import BlockMaps, BlockRecorder, block_indices, block_word
from gam_gui.explain.cams import (
    AUTO,
    CLASS_LEVEL,
    DISPLAY_NAMES,
    METHODS,
    TargetMissingError,
    TargetSpec,
    canonical_method,
    renormalize_in_boxes,
    resolve_method,
    uses_gradients,
)
from gam_gui.explain.engine import default_layers, explainer, gam_layers, layer_list  # noqa: F401 - public API
from gam_gui.heads import HeadAdapter, det_classes, det_rows
from gam_gui.inference import (
    Detection,
    Letterbox,
    model_names,
    model_stride,
    non_max_suppression,
    preprocess,
    to_detections,
)
from gam_gui.models import attention

LOGGER = logging.getLogger(__name__)
#: Field metadata of the :class:`Settings` that only change the drawing, not the analysis.
RENDER_ONLY = {"render": True}
#: What ``Result.note`` says when a class-level method explains one object.
CLASS_LEVEL_NOTE = "class-level method: lights every similar object"


@dataclass
class Settings:
    """Every knob of an analysis and its rendering; the GUI, the CLI and tests share this one type."""

    method: str = "auto"  # auto: Grad-CAM for several detections, HiResCAM for one object
    layers: tuple[int, ...] | None = None  # None: the GAM blocks, else the layers feeding Detect
    target: str | int = "all"
    conf: float = 0.25
    iou: float = 0.45
    imgsz: int = 640
    reduction: str = "mean"  # GAM maps: over channels
    renorm_boxes: bool = False
    # The fields below only change how a result is drawn (metadata ``render``): a cached analysis stays
    # valid when they change (:meth:`analysis_key`).
    colormap: str = field(default="jet", metadata=RENDER_ONLY)
    alpha: float = field(default=0.5, metadata=RENDER_ONLY)
    #: which attention block (any kind, by layer index) the two attention panels and the channel chart
    #: show (None: the first); its maps are read lazily from any analysis
    gam_layer: int | None = field(default=None, metadata=RENDER_ONLY)
    #: which gate of that block the first attention panel shows (None: its first; a name the block
    #: lacks falls back to it); the second shows the next gate or the block's gain (render_attention)
    gate: str | None = field(default=None, metadata=RENDER_ONLY)
    #: heatmap colours: each frame's range, or "fixed" (held over a video's frames)
    scale: str = field(default="per-frame", metadata=RENDER_ONLY)
    #: GAM panels: gates, or a gain beside a gate (gain, channel-gain, spatial-gain)
    gam_view: str = field(default="gates", metadata=RENDER_ONLY)

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
        if self.gate is not None and not V.is_gate_name(self.gate):
            raise ValueError(f"gate {str(self.gate)[:40]!r} is not a gate name (letters, digits, '-', '_')")
        if self.gam_view not in GAM_VIEWS:
            raise ValueError(f"gam_view {self.gam_view!r} is unknown; choose one of {', '.join(GAM_VIEWS)}")

    def analysis_key(self) -> tuple:
        """The values that change what :func:`analyze_with` computes: every field not marked
        render-only, so a field added later is part of the key unless it says otherwise."""
        return tuple(getattr(self, f.name) for f in fields(self) if not f.metadata.get("render"))

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
    #: the method that ran (``auto`` resolved), as :data:`gam_gui.explain.cams.METHODS` names it
    method_key: str = "none"
    #: (min, max) of the method's own map before any normalisation (after its ReLU, before
    #: pytorch-grad-cam's ``scale_cam_image`` and gam-gui's scaling to [0, 1]), over the chosen
    #: layers; None without a CAM. With one layer, ``cam`` 0..1 spans this range linearly (up to
    #: the resize); with several, ``cam`` is the mean of per-layer normalised maps and this is the
    #: union of the layers' ranges.
    cam_range: tuple[float, float] | None = None
    #: every attention block's gates (GAM and the registry's other kinds), in layer order: each with
    #: its layer ``index``, ``kind``, ``variant`` and ``gates`` by name (gam_gui.explain.blocks)
    attention: list[BlockMaps] = field(default_factory=list)

    @property
    def class_level(self) -> bool:
        """Whether the method that ran is class-level: for one object its map lights every similar
        object (Grad-CAM, Grad-CAM++, XGrad-CAM pool the gradient over the map; EigenCAM ignores
        the target), so a caption should say so."""
        return self.method_key in CLASS_LEVEL

    def gam_for(self, layer: int | None) -> GamMaps | None:
        if not self.gam:
            return None
        if layer is None:
            return self.gam[0]
        return next((g for g in self.gam if g.index == layer), self.gam[0])

    def block_for(self, layer: int | None) -> BlockMaps | None:
        """The attention block (any kind) at ``layer`` (None, or a layer without one: the first)."""
        if not self.attention:
            return None
        if layer is None:
            return self.attention[0]
        return next((b for b in self.attention if b.index == layer), self.attention[0])

    def read_gam(self, layer: int | None) -> GamMaps | None:
        """:meth:`gam_for`, with the block's channel and spatial maps and channel weights made now and
        their time added to ``timings`` (``gam`` and ``total``).

        ``analyze`` leaves the maps to be made when first read (most blocks are never shown); a
        display or an export that shows one block calls this, so that the time it reports for the
        GAM maps is what they cost rather than the near-zero of the lazy objects.
        """
        b = self.block_for(layer)
        if b is not None and b.gam is None:  # another kind: its gates' frame maps, timed the same way
            t0 = time.perf_counter()
            for gm in b.gates.values():
                gm.frame()
            dt = (time.perf_counter() - t0) * 1000
            for k in ("gam", "total"):
                self.timings[k] = round(self.timings.get(k, 0.0) + dt, 2)
            return None
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
    #: the attention blocks in the layer, as "kind variant" (gam_gui.models.attention), and whether the
    #: layer is a good CAM target (an attention block, or a layer the detection head reads)
    blocks: tuple[str, ...] = ()
    suggested: bool = False

    def label(self) -> str:
        shp = "x".join(map(str, self.shape)) if self.shape else "-"
        others = [b for b in self.blocks if not b.startswith("GAM ")]
        return (f"{self.index:>2}  {self.type:<14} {shp}" + ("  (suggested for CAM)" if self.suggested else "")
                + "".join(f"  [{b}]" for b in others) + ("  [GAM]" if self.is_gam else ""))


def list_layers(model: nn.Module, imgsz: int = 320) -> list[LayerInfo]:
    """Every layer with its index, type and output shape, for a layer picker (GAM blocks marked)."""
    seq = layer_list(model)
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
    blocks: dict[int, list[str]] = {}
    for found in attention.find_blocks(model):
        variant = found.block.__dict__.get("variant") or getattr(found.block, "gam_variant", "")
        blocks.setdefault(found.index, []).append(f"{found.entry.kind} {variant}".strip())
    head_from = getattr(seq[-1], "f", None) if len(seq) else None
    feeds_head = {x % len(seq) for x in (head_from if isinstance(head_from, (list, tuple)) else [head_from])
                  if isinstance(x, int) and not isinstance(x, bool)}
    out = []
    for i, m in enumerate(seq):
        typ = str(getattr(m, "type", type(m).__name__)).split(".")[-1]
        out.append(LayerInfo(i, typ, shapes.get(i, ()), i in gam_idx, getattr(m, "f", -1), tuple(blocks.get(i, ())),
                             i in blocks or i in feeds_head))
    return out


def resolve_layers(model: nn.Module, layers: Any, name: str = "layers") -> tuple[int, ...]:
    """The layers a CAM averages: the default ones for ``None``/empty, else valid indices (negative
    ones count from the end) or ``ValueError`` naming the valid range."""
    return explainer(model).layers(layers, name)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def analyze(model: nn.Module, image: np.ndarray, method: str = AUTO, layers: Any = None,
            target: str | int = "all", conf: float = 0.25, iou: float = 0.45, imgsz: int = 640,
            reduction: str = "mean", renorm_boxes: bool = False,
            per_detection: bool | Sequence[int] = False, **_render_opts: Any) -> Result:
    """Detect, explain and read the GAM attention of one uint8 BGR frame.

    ``method``: one of :data:`gam_gui.explain.cams.METHOD_CHOICES` (case-insensitive): ``auto`` (the
    default) is HiResCAM when the target is one object and Grad-CAM otherwise, ``none`` no CAM;
    ``layers``: layer indices whose CAMs are averaged (default: the GAM blocks);
    ``target``: ``all``, ``class``, ``box``, a detection index, or ``cls:<id>``;
    ``per_detection``: also one CAM per detection (``True``: every detection, or a list of detection
    indices) in ``Result.detection_cams``, from the same forward and one batched backward.
    Extra keyword arguments (rendering options of :class:`Settings`) are accepted and ignored.
    """
    conf, iou = V.check_unit(conf, "conf"), V.check_unit(iou, "iou")
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown channel reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    return _analyze(model, image, canonical_method(method), layers, TargetSpec.parse(target), conf, iou, imgsz,
                    reduction, renorm_boxes, single=True, per_detection=per_detection)


def per_detection_cams(model: nn.Module, image: np.ndarray, indices: Sequence[int] | None = None,
                       method: str = AUTO, layers: Any = None, mode: str = "all", conf: float = 0.25,
                       iou: float = 0.45, imgsz: int = 640) -> list[np.ndarray]:
    """One CAM per detection (``indices`` into the detection list, default all of them), each equal to
    ``analyze(..., target=i).cam``, i.e. to pytorch-grad-cam's map for that box alone (``auto``:
    HiResCAM, as for any one object).

    One forward serves all of them; the gradients come from one batched backward
    (``torch.autograd.grad(..., is_grads_batched=True)``) split at the head's levels, and each map is
    made by the method's own ``get_cam_image`` / ``compute_cam_per_layer``. Maps are HxW float32 in
    [0, 1] over the original frame. ``mode``: ``all``, ``class`` or ``box`` (what each target scores).
    """
    if mode not in ("all", "class", "box"):
        raise ValueError(f"unknown target mode {mode!r}; use all, class or box")
    conf, iou = V.check_unit(conf, "conf"), V.check_unit(iou, "iou")
    res = _analyze(model, image, canonical_method(method), layers, TargetSpec(mode), conf, iou, imgsz, "mean",
                   False, single=False, per_detection=True if indices is None else list(indices))
    return res.detection_cams or []


def _analyze(model: nn.Module, image: np.ndarray, chosen: str, layers: Any, spec: TargetSpec, conf: float,
             iou: float, imgsz: int, reduction: str, renorm_boxes: bool, single: bool,
             per_detection: bool | Sequence[int]) -> Result:
    """The analysis proper. Its callers have checked the values that do not depend on the model
    (:class:`Settings`, :func:`analyze`); what does is resolved here through the model's explainer,
    once per choice."""
    t_all = time.perf_counter()
    imgsz = V.round_imgsz(imgsz, model_stride(model))
    eng = explainer(model)
    idx = eng.layers(layers)
    names = model_names(model)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    x, lb = preprocess(model, image, imgsz)
    timings["preprocess"] = _ms(t0)

    has_cam = chosen == AUTO or METHODS[chosen] is not None
    boxes_wanted = has_cam and per_detection is not False and per_detection is not None
    use_cam = has_cam and (single or boxes_wanted)
    grads = use_cam and (chosen == AUTO or uses_gradients(chosen))
    order = tuple(sorted(idx))  # execution order, as the recorder appends activations
    note = ""
    ran = "none"
    cam_map: np.ndarray | None = None
    cam_range: tuple[float, float] | None = None
    box_maps: list[np.ndarray] | None = None
    box_idx: list[int] = []
    extra: dict = {}
    recorder = GamRecorder(model, eng.gam_blocks)
    blocks = BlockRecorder(model, recorder)  # every other attention block's gates, GAM's recorder inside
    with eng.run(model, order if use_cam else None, grads) as run:
        t0 = time.perf_counter()
        pred = run.forward(x, blocks)
        timings["forward"] = _ms(t0)

        t0 = time.perf_counter()
        det = non_max_suppression(pred.detach(), conf, iou, adapter=eng.adapter)[0]
        detections = to_detections(det, lb, names)
        timings["postprocess"] = _ms(t0)
        if single and spec.index is not None and spec.index >= len(det):  # with or without a CAM to make
            raise TargetMissingError(spec.index, len(det))

        t0 = time.perf_counter()
        if use_cam and single:
            rows, classes, note = _select(eng.adapter, pred.detach()[0], det, spec)
            ran = resolve_method(chosen, one_object=len(rows) == 1)
            b = run.cam(ran, run.target(rows, classes, spec.mode))
            cam_map, cam_range = _to_frame_unit(b.maps[0], lb), b.range(0)
            if renorm_boxes:
                cam_map = renormalize_in_boxes(cam_map, [d.xyxy for d in detections])
            if len(rows) == 1 and ran in CLASS_LEVEL:
                note = "; ".join(filter(None, (note, CLASS_LEVEL_NOTE)))
        if boxes_wanted:
            box_idx = _box_indices(per_detection, len(det))
            box_key = resolve_method(chosen, one_object=True)
            sel = torch.tensor(box_idx, dtype=torch.long)
            batches = run.box_cams(box_key, det_rows(det)[sel], det_classes(det)[sel], spec.mode)
            box_maps = [_to_frame_unit(b.maps[0], lb) for b in batches]
            extra = {"detection_indices": box_idx, "detection_methods": DISPLAY_NAMES[box_key],
                     "detection_cam_ranges": [b.range(0) for b in batches]}
            if not single:
                ran = box_key
        timings["cam"] = _ms(t0)
    del x
    t0 = time.perf_counter()
    gam = recorder.maps(lb.map_to_frame, reduction)
    attention_maps = blocks.maps(lb.map_to_frame, reduction, gam)
    timings["gam"] = _ms(t0)
    timings["total"] = _ms(t_all)
    return Result(
        detections=detections,
        cam=cam_map,
        gam=gam,
        timings=timings,
        method=DISPLAY_NAMES[ran],
        layers=idx,
        target=spec.label(names),
        note=note,
        image_shape=tuple(lb.frame_shape),
        extra=extra,
        detection_cams=box_maps,
        method_key=ran,
        cam_range=cam_range,
        attention=attention_maps,
    )


def _box_indices(per_detection: bool | Sequence[int], n: int) -> list[int]:
    if per_detection is True:
        return list(range(n))
    out = [int(i) for i in per_detection]  # type: ignore[union-attr]
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise TargetMissingError(bad[0], n)
    return out


def analyze_with(model: nn.Module, image: np.ndarray, settings: Settings) -> Result:
    """:func:`analyze` driven by a :class:`Settings` (what the GUI and CLI call); ``settings.gam_layer``
    must be one of the model's attention blocks (any kind)."""
    s = settings
    V.check_gam_layer(s.gam_layer, block_indices(model), "gam_layer", block_word(model))
    return _analyze(model, image, canonical_method(s.method), s.layers, TargetSpec.parse(s.target), s.conf, s.iou,
                    s.imgsz, s.reduction, s.renorm_boxes, single=True, per_detection=False)


def _select(adapter: HeadAdapter, pred: torch.Tensor, det: torch.Tensor,
            spec: TargetSpec) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Rows (prediction indices) and classes the CAM target scores, plus a note for the user."""
    if len(det):
        rows, classes = det_rows(det), det_classes(det)
        if spec.index is not None:
            if spec.index >= len(det):
                raise TargetMissingError(spec.index, len(det))
            return rows[spec.index : spec.index + 1], classes[spec.index : spec.index + 1], ""
        if spec.cls is not None:
            sel = classes == spec.cls
            if sel.any():
                return rows[sel], classes[sel], ""
            note = f"no detection of class {spec.cls}: CAM of its strongest raw prediction"
            conf = adapter.confidences(pred)
            score = conf[:, spec.cls] if spec.cls < conf.shape[1] else conf.max(1).values
            return score.argmax().view(1), torch.tensor([spec.cls]), note
        return rows, classes, ""
    if spec.index is not None:
        raise TargetMissingError(spec.index, 0)
    best = adapter.confidences(pred).max(1)
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
