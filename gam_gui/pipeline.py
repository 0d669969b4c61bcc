"""One frame in, the figure out: the viewing logic the window and the export share, with no Qt.

:meth:`FramePipeline.step` takes a frame and a :class:`ViewState` (what the user chose) and returns a
:class:`FrameOutput` (what to show). Everything between is decided here, once, for every caller:

* **view precedence**: with a comparison model set, the frame is a two-model comparison
  (:func:`gam_gui.compare.compare`, six panels) and the ablation is not run; else, with blocks
  ablated, the frame's analysis is followed by one ablated forward (:func:`gam_gui.ablation.ablate`
  with ``before=`` the detections just found); else the normal four panels;
* **caches**: a frame shown again with settings that change only the drawing (colours, the GAM block
  shown) reuses its analysis, ablation and comparison; the key is :meth:`Settings.analysis_key`, so a
  new analysis setting is part of it without a list to keep in step;
* **CAM cadence**: while frames flow (a playing video), the CAM is made on every ``cam_every``-th
  analysed frame and reused between them;
* **following**: on sources whose frames follow each other in time (``sequential``), a detection
  index as the target names an *object*, followed by :class:`~gam_gui.tracking.TargetTracker` (each
  frame explains the detection of the same class that overlaps it most); after a second without it
  the target is lost and all detections are explained;
* **the target of a measurement** (:meth:`FramePipeline.measure`) and **the figure**
  (:meth:`FrameOutput.figure`, :func:`gam_gui.render.compose_panels`).

The window's worker (threads, timers, recording) and :func:`gam_gui.export.export` (files) are its
two callers, so File > Export, Save and Record write what the window shows in every view.

``lenient`` pipelines (the window) turn a missing detection into "explain all detections" with a
note and an ablation that fails into the normal view with a message; strict ones (the export) raise,
so the frame is reported as skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from gam_gui import faithfulness, render
from gam_gui import validate as V
from gam_gui.ablation import AblationResult, ablate, ablated
from gam_gui.ablation_modes import parse_blocks
from gam_gui.analysis import Result, Settings, analyze_with
from gam_gui.compare import CompareResult, compare
from gam_gui.explain.blocks import block_indices
from gam_gui.explain.cams import TargetMissingError, TargetSpec
from gam_gui.explain.engine import explainer  # noqa: F401 - part of this module's namespace (tests use it)
from gam_gui.inference import Detection
from gam_gui.matching import KEPT
from gam_gui.render_gt import GroundTruth, draw_ground_truth
from gam_gui.sources import Frame
from gam_gui.tracking import FOLLOWED, MISSING, TargetTracker, TrackUpdate

__all__ = ["COMPARE_COLUMNS", "Click", "FrameOutput", "FramePipeline", "Measurement", "ModelB", "TargetSpec",
           "ViewState"]

LOGGER = logging.getLogger(__name__)
#: The columns of the comparison figure: detections A | B | matches over CAM A | B | A - B.
COMPARE_COLUMNS = 3
#: A figure's panels are at most this wide (a 4K frame's figure stays manageable).
FIGURE_MAX_WIDTH = 960
NORMAL, ABLATION, COMPARE = "normal", "ablation", "compare"
#: Which model an ablation view's CAM and GAM maps come from.
TRAINED, ABLATED = "trained", "ablated"
MAPS_OF = (TRAINED, ABLATED)


@dataclass(frozen=True)
class Click:
    """A box the user clicked, on the frame shown at time ``t`` (seconds): the object to follow.

    The box is kept, not only its index, so that clicking another object with the same index
    restarts the following."""

    detection: Detection
    t: float


@dataclass(frozen=True, eq=False)
class ModelB:
    """The second model of a comparison and its name (compared by identity)."""

    model: nn.Module
    name: str = "B"


@dataclass(frozen=True)
class ViewState:
    """What the user chose to see; checked once, here, when it is made.

    ``settings``: the analysis and drawing settings; ``target``: the same ``settings.target``, typed
    (given, it replaces the settings' one); ``cam_every``: the CAM cadence while frames flow;
    ``panels``: the visible panels of the normal and ablation views (a comparison has its six);
    ``ablation``: GAM layer -> mode of the blocks to ablate (empty: off); ``model_b``: the comparison
    model (None: off); ``name_a``: model A's name in a comparison; ``click``: the last clicked box.
    """

    settings: Settings = field(default_factory=Settings)
    cam_every: int = 1
    panels: tuple[str, ...] = render.PANELS
    ablation: Mapping[int, str] = field(default_factory=dict)
    model_b: ModelB | None = None
    name_a: str = "A"
    click: Click | None = None
    target: TargetSpec | None = None
    #: with an ablation: the CAM and GAM panels of the model as ``trained`` or as ``ablated``
    maps_of: str = TRAINED
    #: a dataset image's ground truth (File > Open dataset...): drawn in the detections panel with
    #: TP/FP/FN colours; its ``explain`` box makes the CAM that of its class at its place
    ground_truth: GroundTruth | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the checked values replace the given ones
        if self.maps_of not in MAPS_OF:
            raise ValueError(f"maps_of {self.maps_of!r} is unknown; choose one of {', '.join(MAPS_OF)}")
        set_(self, "cam_every", V.check_count(self.cam_every, "cam_every"))
        keys = tuple(self.panels) or render.PANELS
        unknown = [k for k in keys if k not in render.PANELS]
        if unknown:
            raise ValueError(f"panel {unknown[0]!r} is unknown; choose from {', '.join(render.PANELS)}")
        set_(self, "panels", keys)
        set_(self, "ablation", {k: m.label for k, m in sorted(parse_blocks(dict(self.ablation)).items())})
        if self.target is None:
            set_(self, "target", TargetSpec.parse(self.settings.target))
        elif self.target.setting != self.settings.target:
            set_(self, "settings", self.settings.updated(target=self.target.setting))

    @property
    def mode(self) -> str:
        """Which view wins: a comparison over an ablation over the normal panels."""
        if self.model_b is not None:
            return COMPARE
        return ABLATION if self.ablation else NORMAL

    @property
    def names(self) -> tuple[str, str]:
        return self.name_a, self.model_b.name if self.model_b is not None else "B"

    def updated(self, **changes: Any) -> ViewState:
        """A copy with ``changes`` (checked again); a new ``settings`` brings its own target."""
        if "settings" in changes and "target" not in changes:
            changes["target"] = None
        return dataclasses.replace(self, **changes)


@dataclass
class FrameOutput:
    """One frame as the view shows it: the analysis (``result``: model A's in a comparison), the
    ablation or comparison when that view is on, and how to draw it.

    ``settings``: what the shown analysis was made with (the followed object's index as the target).
    ``note``: one line for the user (a lost or missing target); ``lost_s``: set on the frame where
    the followed object was declared lost (seconds missing); ``warning``: a failure that fell back
    to the normal view (an ablation the model cannot run), said once per distinct message.
    """

    frame: Frame
    view: ViewState
    settings: Settings
    result: Result
    ablation: AblationResult | None = None
    compare: CompareResult | None = None
    lost_s: float | None = None
    warning: str = ""
    scales: render.ScaleMemory | None = None
    names: tuple[str, str] = ("A", "B")  # the two models' names in a comparison
    #: the ablated model's analysis of this frame, when the view asks for its maps (``maps_of``)
    maps: Result | None = None
    _figure: np.ndarray | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        if self.compare is not None:
            return COMPARE
        return ABLATION if self.ablation is not None else NORMAL

    @property
    def maps_of(self) -> str:
        """Which model the CAM and GAM panels show: ``ablated`` or ``trained``."""
        return ABLATED if self.maps is not None else TRAINED

    @property
    def target(self) -> TargetSpec:
        """The target the shown CAM explains (the followed object's index in this frame)."""
        return TargetSpec.parse(self.settings.target)

    @property
    def highlight(self) -> int | None:
        """The detection drawn highlighted: the target object, when this frame has it (none in a
        comparison: an index means nothing across two models' lists)."""
        i = self.target.index
        return i if i is not None and self.compare is None and i < len(self.result.detections) else None

    def panels(self, shown_width: int | None = None) -> list[render.Panel]:
        """Every panel of this view at the frame's resolution, captions included: the six of a
        comparison, the four with the ablation overlay, or the normal four. ``shown_width``: how wide
        a panel is shown (sizes the box labels)."""
        image, s = self.frame.image, self.settings
        if self.compare is not None:
            return render.compare_panels(image, self.compare, s, *self.names, shown_width)
        if self.ablation is not None:
            maps = self.maps or self.result
            return render.ablation_panels(image, maps, self.ablation, s, shown_width, self.scales)
        out = render.panels(image, self.result, s, self.highlight, shown_width, self.scales)
        gt = self.view.ground_truth
        if gt is not None and gt.applies_to(self.frame.name) and out and out[0].key == "detections":
            out[0] = dataclasses.replace(out[0], image=draw_ground_truth(image, self.result.detections, gt,
                                                                         shown_width)[0])
        return out

    def figure(self, layout: str | None = None) -> np.ndarray:
        """The composed figure of what is shown: the visible panels side by side (``layout`` row or
        grid), or a comparison's six three to a row (``layout`` None: the window's arrangement).
        The default figure is made once per frame (a recording and a saved PNG share it)."""
        if layout is None and self._figure is not None:
            return self._figure
        width = min(self.frame.image.shape[1], FIGURE_MAX_WIDTH)
        chosen = self.panels(width)
        if self.compare is not None:
            fig = render.compose_panels(chosen, width, "row" if layout == "row" else "grid", COMPARE_COLUMNS)
        else:
            shown = [p for p in chosen if p.key in self.view.panels] or chosen[:1]
            fig = render.compose_panels(shown, width, layout or "row")
        if layout is None:
            self._figure = fig
        return fig

    def showing(self, panels: tuple[str, ...]) -> FrameOutput:
        """This frame with other panels visible (the window hid or showed one since it was made)."""
        if tuple(panels) == self.view.panels:
            return self
        return dataclasses.replace(self, view=self.view.updated(panels=tuple(panels)), _figure=None)

    def fields(self) -> dict:
        """What a JSON record of this frame carries (``gam-gui export``'s ``frames`` entries)."""
        if self.compare is not None:
            a, b = self.names
            return {"models": {"a": a, "b": b}, "compare": self.compare.to_dict()}
        res = self.result
        out = {"method": res.method, "target": res.target, "note": res.note, "timings_ms": res.timings,
               "detections": [d.to_dict() for d in res.detections]}
        if self.ablation is not None:
            out["ablation"] = self.ablation.to_dict()
        if self.maps is not None:
            out["maps"] = {"of": ABLATED, "method": self.maps.method, "target": self.maps.target,
                           "note": self.maps.note}
        return out


@dataclass
class Measurement:
    """A faithfulness measurement of a frame's target (:meth:`FramePipeline.measure`)."""

    score: faithfulness.FaithfulnessScore
    method: str  # the CAM method's display name
    index: int  # the measured detection's index in its frame
    frame_index: int


class FramePipeline:
    """The viewing logic of one model over one source's frames; see the module docstring.

    Not thread-safe: one owner (the window's worker thread, an export loop) calls it.
    """

    def __init__(self, model: nn.Module, sequential: bool = False, lenient: bool = False) -> None:
        self.model = model
        self.lenient = bool(lenient)
        self.sequential = bool(sequential)
        #: the heatmaps' colour ranges held over the source's frames (``Settings.scale`` "fixed")
        self.scales = render.ScaleMemory()
        #: analyses made (cache hits not counted)
        self.analyzed = 0
        self._frame: Frame | None = None  # the frame the caches and the tracker's answer belong to
        self._cache: dict[str, tuple[tuple, Any]] = {}
        self._last_cam: Result | None = None
        self._ablation_error = ""
        self._tracker = TargetTracker()
        self._click: Click | None = None  # the last click taken from a view (each is used once)
        self._follow_index: int | None = None  # the target index the tracker was started for
        self._lost_index: int | None = None  # the target index whose object was lost ("all" until it changes)
        self._tracked: int | None = None  # the followed object's index on the last frame it was in
        self._track: TrackUpdate | None = None  # the tracker's answer for ``_frame``
        self._last_seen: tuple[Result, float] | None = None  # the last analysis and its frame's time
        self.last: FrameOutput | None = None

    # -- the owner's events ------------------------------------------------------------------------
    def new_source(self, sequential: bool) -> None:
        """A new source: caches, cadence, held colour ranges and following start again."""
        self.sequential = bool(sequential)
        self.analyzed = 0
        self.scales.reset()
        self._frame = self._last_cam = self.last = None
        self._cache.clear()
        self._reset_tracking()

    def new_model(self, model: nn.Module) -> None:
        self.model = model
        self._frame = self._last_cam = None
        self._cache.clear()

    # -- one frame ---------------------------------------------------------------------------------
    def step(self, frame: Frame, view: ViewState, moving: bool = False) -> FrameOutput:
        """``frame`` as ``view`` shows it. ``moving``: frames are flowing (a playing video), so the CAM
        cadence applies; the same frame stepped again (new settings) reuses what still holds."""
        if frame is not self._frame:
            self._frame, self._track = frame, None
            self._cache.clear()
        click_is_new = view.click is not None and view.click is not self._click
        self._click = view.click
        s = view.settings
        if self.lenient and s.gam_layer is not None and s.gam_layer not in block_indices(self.model):
            s = s.updated(gam_layer=None)  # a choice made for the previous model, until the controls catch up
        if view.model_b is not None:
            cmp = self._compare(frame, s, view.model_b.model)
            out = self._output(frame, view, s, cmp.a, compare=cmp)
        else:
            out = self._analyse(frame, s, view, moving, click_is_new)
            gt = view.ground_truth
            if gt is not None and gt.explain is not None and gt.applies_to(frame.name) and not view.ablation:
                out.result = self._at_place(frame, s, out.result, gt)
            if view.ablation:
                out.ablation = self._ablate(frame, out, view.ablation)
                if out.ablation is not None and view.maps_of == ABLATED:
                    out.maps = self._ablated_maps(frame, out, view.ablation)
        self.last = out
        return out

    def _analyse(self, frame: Frame, s: Settings, view: ViewState, moving: bool, click_is_new: bool) -> FrameOutput:
        cadence = view.cam_every if moving else 1
        index = view.target.index
        if index is None or not self.sequential:
            if self._follow_index is not None or self._tracker.active:
                self._reset_tracking()
            out = self._output(frame, view, s, self._analysis(frame, s, cadence))
        else:
            out = self._followed(frame, s, view, index, cadence, click_is_new)
        self._last_seen = (out.result, frame.timestamp)
        return out

    def _followed(self, frame: Frame, s: Settings, view: ViewState, index: int, cadence: int,
                  click_is_new: bool) -> FrameOutput:
        """The analysis of a frame of a sequential source whose target is an object: the frame is
        analysed with the index the object had on the previous frame (usually still right); only
        when the tracker picks another index is the CAM made again."""
        if click_is_new and view.click is not None:
            self._tracker.start(view.click.detection, view.click.t)
            self._follow_index, self._lost_index, self._tracked, self._track = index, None, None, None
        elif index != self._follow_index:  # chosen in the controls (or the click is on its way)
            self._lost_index = self._tracked = self._track = None
            self._follow_index = index
            last = self._last_seen
            if last is not None and index < len(last[0].detections):
                self._tracker.start(last[0].detections[index], last[1])
            else:
                self._tracker.stop()
        if self._lost_index == index:
            shown = s.updated(target="all")
            res = self._analysis(frame, shown, cadence)
            res.note = res.note or "the followed object was lost"
            return self._output(frame, view, shown, res)
        if not self._tracker.active:  # nothing followed yet: start on the first frame that has the index
            res = self._analysis(frame, s, cadence)
            if index < len(res.detections):
                self._tracker.start(res.detections[index], frame.timestamp)
                self._tracked, self._track = index, TrackUpdate(index, FOLLOWED)
            return self._output(frame, view, s, res)
        if self._track is not None:  # this frame again (a new setting): the tracker has answered
            shown = s.updated(target=self._track.index if self._track.index is not None else "all")
            return self._output(frame, view, shown, self._analysis(frame, shown, cadence))
        guess = s.updated(target=self._tracked if self._tracked is not None else index)
        try:
            res = self._analysis(frame, guess, cadence)
        except TargetMissingError:  # only a guess: the frame has fewer detections now; the tracker decides
            guess = s.updated(target="all")
            res = self._analysis(frame, guess, cadence)
        upd = self._track = self._tracker.update(res.detections, frame.timestamp)
        shown = s.updated(target=upd.index if upd.index is not None else "all")
        if shown.target != guess.target:
            res = self._analysis(frame, shown, cadence)
        out = self._output(frame, view, shown, res)
        if upd.index is not None:
            self._tracked = upd.index
        elif upd.how == MISSING:
            res.note = f"followed object not in this frame ({upd.missing_s:.1f} s)"
        else:  # lost
            self._lost_index = index
            res.note = "the followed object was lost"
            out.lost_s = upd.missing_s
            LOGGER.info("the followed detection has been missing for %.1f s: explaining all detections",
                        upd.missing_s)
        return out

    def _output(self, frame: Frame, view: ViewState, s: Settings, result: Result, **kw: Any) -> FrameOutput:
        return FrameOutput(frame, view, s, result, scales=self.scales, names=view.names, **kw)

    def _reset_tracking(self) -> None:
        self._tracker.stop()
        self._follow_index = self._lost_index = self._tracked = None
        self._track = self._last_seen = None

    def _cached(self, kind: str, key: tuple) -> Any:
        hit = self._cache.get(kind)
        return hit[1] if hit is not None and hit[0] == key else None

    def _analysis(self, frame: Frame, s: Settings, cadence: int) -> Result:
        """``analyze_with`` for this frame, cached per frame and analysis settings; with a cadence above
        one the CAM of the last frame that made one is reused between every ``cadence``-th frame."""
        key = s.analysis_key()
        res = self._cached("analysis", key)
        if res is not None:
            return res
        last = self._last_cam
        reuse_cam = (cadence > 1 and s.method != "none" and last is not None and last.cam is not None
                     and last.cam.shape[:2] == frame.image.shape[:2] and self.analyzed % cadence != 0)
        run = s.updated(method="none") if reuse_cam else s
        try:
            res = analyze_with(self.model, frame.image, run)
        except TargetMissingError as e:
            if not self.lenient:
                raise
            # The clicked object is gone (a new frame, a higher threshold): explain all detections.
            res = analyze_with(self.model, frame.image, run.updated(target="all"))
            res.note = f"detection #{e.index} is not in this frame"
        res.read_gam(s.gam_layer)  # the shown block's maps, timed (the status bar and the JSON report them)
        if reuse_cam:
            res = dataclasses.replace(res, cam=last.cam, method=last.method, layers=last.layers,
                                      target=last.target, note=f"CAM every {cadence} frames",
                                      method_key=last.method_key, cam_range=last.cam_range)
        elif res.cam is not None:
            self._last_cam = res
        self.analyzed += 1
        self._cache["analysis"] = (key, res)
        return res

    def _at_place(self, frame: Frame, s: Settings, res: Result, gt: GroundTruth) -> Result:
        """``res`` with the CAM of ground-truth box ``gt.explain``'s class at its place (a missed object:
        the prediction row that covers the box best, :func:`gam_gui.report.failures.explain_at`)."""
        from gam_gui.inference import model_stride
        from gam_gui.report.failures import CAM_METHOD, explain_at

        j = int(gt.explain)  # type: ignore[arg-type]
        key = (s.analysis_key(), id(gt), j)
        hit = self._cached("place", key)
        if hit is None:
            box, c = np.asarray(gt.boxes[j], np.float64), int(gt.classes[j])
            place = explain_at(self.model, frame.image, V.round_imgsz(s.imgsz, model_stride(self.model)), box, c,
                               s.conf, s.gam_layer)
            hit = dataclasses.replace(res, cam=place.cam, method="HiResCAM", method_key=CAM_METHOD, cam_range=None,
                                      target=f"class {gt.name(c)} @ GT #{j}", note="")
            self._cache["place"] = (key, hit)
        return hit

    def _ablate(self, frame: Frame, out: FrameOutput, spec: Mapping[int, str]) -> AblationResult | None:
        """The ablation of this frame (one extra forward: ``before`` is the analysis just made). A
        lenient pipeline returns None when it fails, with the message in ``_ablation_error`` the
        first time (not at every frame of a playing video)."""
        s = out.settings
        key = (s.analysis_key(), tuple(spec.items()))
        abl = self._cached("ablation", key)
        if abl is not None:
            return abl
        try:
            abl = ablate(self.model, frame.image, spec, conf=s.conf, iou=s.iou, imgsz=s.imgsz,
                         before=out.result.detections)
        except Exception as e:
            if not self.lenient:
                raise
            msg = str(e) or type(e).__name__
            LOGGER.warning("ablation failed: %s", msg)
            first = msg != self._ablation_error
            self._ablation_error = msg
            out.warning = msg if first else ""
            return None
        self._ablation_error = ""
        self._cache["ablation"] = (key, abl)
        return abl

    def _ablated_maps(self, frame: Frame, out: FrameOutput, spec: Mapping[int, str]) -> Result:
        """The ablated model's analysis of this frame, for its CAM and GAM panels. The CAM's target is
        the trained model's target object as the ablation's match table pairs it: a kept box is
        explained under its new index; a lost one is not pretended: all detections, with a note."""
        abl, s, note = out.ablation, out.settings, ""
        k = out.target.index
        if k is not None and k < len(out.result.detections):
            a = out.result.detections[k]
            m = next((m for m in abl.matches if m.a is not None and m.a == a), None)
            if m is not None and m.status == KEPT and m.b is not None:
                s = s.updated(target=abl.after.index(m.b))
            else:
                s, note = s.updated(target="all"), "the target is lost under the ablation: all detections"
        key = (s.analysis_key(), tuple(spec.items()))
        res = self._cached("maps", key)
        if res is None:
            with ablated(self.model, spec):
                res = analyze_with(self.model, frame.image, s)
            res.read_gam(s.gam_layer)
            res.note = "; ".join(filter(None, (note, res.note)))
            self._cache["maps"] = (key, res)
        return res

    def _compare(self, frame: Frame, s: Settings, model_b: nn.Module) -> CompareResult:
        """Both models on this frame with the same settings (cached per frame and analysis settings)."""
        key = (s.analysis_key(), id(self.model), id(model_b))
        cmp = self._cached("compare", key)
        if cmp is not None:
            return cmp
        try:
            cmp = compare(self.model, model_b, frame.image, s)
        except TargetMissingError:
            if not self.lenient:
                raise
            # The clicked detection is not in both models' lists: explain all detections of each.
            cmp = compare(self.model, model_b, frame.image, s.updated(target="all"))
        cmp.a.read_gam(s.gam_layer)  # the chart shows model A's block
        self.analyzed += 1
        self._cache["compare"] = (key, cmp)
        return cmp

    # -- measuring ---------------------------------------------------------------------------------
    @staticmethod
    def measure_target(out: FrameOutput) -> int | None:
        """The detection a measurement of ``out`` scores: the clicked or followed one, else the
        strongest (of the chosen class for a class target); None when the frame has none."""
        dets = out.result.detections
        if not dets:
            return None
        t = out.target
        if t.index is not None and t.index < len(dets):
            return t.index
        if t.cls is not None:
            return next((i for i, d in enumerate(dets) if d.cls == t.cls), 0)
        return 0

    def measure(self, out: FrameOutput, steps: int, baseline: str,
                tie_orders: int = faithfulness.DEFAULT_TIE_ORDERS,
                progress: Callable[[int, int], None] | None = None) -> Measurement:
        """Faithfulness of ``out``'s CAM for its target (:func:`gam_gui.faithfulness.measure`), with
        ``tie_orders`` random orders of tied pixels (the window asks for its own number) and
        ``progress(done, total)`` after each batch.

        ``ValueError`` (with ``reason``: ``compare``, ``method`` or ``detections``) when there is
        nothing it could mean."""
        if out.compare is not None:
            raise MeasureError("compare", "measuring is not available while comparing two models")
        if out.settings.method == "none":
            raise MeasureError("method", "choose a CAM method to measure")
        index = self.measure_target(out)
        if index is None:
            raise MeasureError("detections", "no detection to measure on this frame")
        s = out.settings.updated(target=index)
        res = analyze_with(self.model, out.frame.image, s)
        score = faithfulness.measure(self.model, out.frame.image, res.cam, res.detections[index], steps=steps,
                                     baseline=baseline, imgsz=s.imgsz, tie_orders=tie_orders, progress=progress)
        return Measurement(score, res.method, index, out.frame.index)


class MeasureError(ValueError):
    """Nothing to measure on this frame; ``reason`` says why (``compare``, ``method``, ``detections``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
