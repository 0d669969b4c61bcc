"""Turn a frame and its :class:`~gam_gui.analysis.Result` into pictures: the GUI and the CLI share this.

Everything returns uint8 BGR numpy arrays; nothing here knows about Qt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from gam_gui.ablation import AblationResult
from gam_gui.analysis import Result, Settings
from gam_gui.compare import CompareResult
from gam_gui.explain.attention import GamMaps
from gam_gui.inference import Detection
from gam_gui.labels import (  # noqa: F401 - part of render's public API (callers and tests use render.X)
    DEFAULT_SHOWN_WIDTH,
    FONT,
    LABEL_FRACTION,
    MIN_LABEL_PX,
    LabelBox,
    LabelStyle,
    class_color,
    draw_labels,
    label_style,
    layout_labels,
    text_color,
)
from gam_gui.matching import LOST, NEW, Match

COLORMAPS: dict[str, int] = {
    "jet": cv2.COLORMAP_JET,
    "turbo": cv2.COLORMAP_TURBO,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "magma": cv2.COLORMAP_MAGMA,
    "plasma": cv2.COLORMAP_PLASMA,
    "hot": cv2.COLORMAP_HOT,
    "bone": cv2.COLORMAP_BONE,
}
PANELS = ("detections", "cam", "gam_channel", "gam_spatial")
PANEL_TITLES = {"detections": "Detections", "cam": "Grad-CAM", "gam_channel": "GAM channel",
                "gam_spatial": "GAM spatial"}
NO_GAM_TEXT = "this model has no GAM layers"
CAPTION_GREY = 32
def colorize(m: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """A [0, 1] map -> BGR heatmap."""
    if cmap not in COLORMAPS:
        raise ValueError(f"unknown colormap {cmap!r}; choose one of {', '.join(COLORMAPS)}")
    u8 = np.clip(np.nan_to_num(m) * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(u8, COLORMAPS[cmap])


def _font_scale(h: int, w: int) -> float:
    return max(0.35, min(1.2, min(h, w) / 900))


def draw_detections(frame: np.ndarray, dets: list[Detection], highlight: int | None = None,
                    shown_width: int | None = None) -> np.ndarray:
    """Boxes with class name and score; the ``highlight`` detection (the CAM target) drawn thicker.

    All boxes are drawn before any label, so no box line crosses a label; labels are sized by
    :func:`label_style` for a picture shown ``shown_width`` pixels wide and placed by
    :func:`layout_labels`.
    """
    out = frame.copy()
    h, w = out.shape[:2]
    style = label_style((h, w), shown_width)
    lw = max(1, int(round(style.height / 12)))
    for k, d in enumerate(dets):
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), class_color(d.cls), lw * 3 if k == highlight else lw, cv2.LINE_AA)
    draw_labels(out, layout_labels(dets, (h, w), style), style)
    return out


def message_panel(frame: np.ndarray, text: str) -> np.ndarray:
    """A dimmed frame with a centred message (e.g. 'this model has no GAM layers')."""
    out = (frame.astype(np.float32) * 0.3).astype(np.uint8)
    h, w = out.shape[:2]
    fs = _font_scale(h, w) * 1.1
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
    if tw > w * 0.95:
        fs *= w * 0.95 / tw
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
    cv2.putText(out, text, ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


#: Caption strings of the panels: titles and subtitle templates (``str.format`` fields). Figures use
#: them in English (OpenCV's fonts draw ASCII only); the window translates them (``gam_gui.ui.panels``).
TITLE_DETECTIONS, TITLE_CAM, TITLE_GAM_CHANNEL, TITLE_GAM_SPATIAL, TITLE_FRAME = (
    "Detections", "CAM", "GAM channel", "GAM spatial", "Frame")
SUB_OBJECTS_ONE = "{n} object  conf {conf}  iou {iou}"
SUB_OBJECTS = "{n} objects  conf {conf}  iou {iou}"
SUB_CAM = "L{layers}  target: {target}"
SUB_CAM_NOTE = "L{layers}  target: {target}  ({note})"
SUB_CAM_OFF = "off"
SUB_GAM_CHANNEL = "layer {layer}  {reduction} over {channels} ch  ({variant})"
SUB_GAM_SPATIAL = "layer {layer}  {reduction}"
TITLE_GAIN_BLOCK, TITLE_GAIN_CHANNEL, TITLE_GAIN_SPATIAL, TITLE_DRILL = (
    "GAM block gain", "GAM channel-branch gain", "GAM spatial-branch gain", "GAM channel drill-down")
SUB_GAIN = "layer {layer}  log2 {formula}"
SUB_DRILL = "layer {layer}  channel {channel}: before | after the block, weight {weight}"
NO_FEATURES_TEXT = "no block input/output recorded for this frame"
#: One line per panel kind saying what it shows (figures: nowhere; the window: the caption's tooltip).
PANEL_HELP = {
    "detections": "The model's detections: class, score; click a box to explain that object.",
    "cam": "Where the CAM method finds evidence for the target: the colour map's top colour is the most on "
           "this frame.",
    "channel_gate": "Channel gate c(x) of the GAM block, reduced over channels per pixel. Seed variant: no "
                    "sigmoid, so signed: red > 0 (amplifies), blue < 0 (flips the sign), white 0.",
    "channel_gate_unit": "Channel gate sigmoid(c(x)) of the GAM block, reduced over channels per pixel, in [0, 1].",
    "spatial_gate": "Spatial gate s(x*c) of the GAM block, reduced over channels per pixel, in [0, 1]: "
                    "how much of the channel-gated features each pixel passes on.",
    "gain_block": "What the whole block did: log2 ||out|| / ||in|| per pixel over channels; red: features "
                  "made stronger, blue: weaker, white: unchanged (gain 1).",
    "gain_channel": "What the channel branch did: log2 ||x*c|| / ||x|| per pixel; red: stronger, blue: weaker.",
    "gain_spatial": "What the spatial branch did: log2 ||out|| / ||x*c|| per pixel; red: stronger, blue: weaker.",
    "drill": "One channel's feature map before (left) and after (right) the GAM block, on one blue-white-red "
             "scale (0 white); click the bar again to go back.",
}
CAPTION_STRINGS = (TITLE_DETECTIONS, TITLE_CAM, TITLE_GAM_CHANNEL, TITLE_GAM_SPATIAL, TITLE_FRAME, SUB_OBJECTS_ONE,
                   SUB_OBJECTS, SUB_CAM, SUB_CAM_NOTE, SUB_CAM_OFF, SUB_GAM_CHANNEL, SUB_GAM_SPATIAL,
                   TITLE_GAIN_BLOCK, TITLE_GAIN_CHANNEL, TITLE_GAIN_SPATIAL, TITLE_DRILL, SUB_GAIN, SUB_DRILL,
                   NO_FEATURES_TEXT, *PANEL_HELP.values())


@dataclass(frozen=True)
class ColorScale:
    """What a heatmap panel's colours stand for: ``lo`` and ``hi`` are the values at the two ends of the
    colour bar (for a ``signed`` map ``-hi ... hi``, 0 at the centre colour), ``drawn`` the range of the
    values drawn on this frame, in the quantity's own units (before any normalisation)."""

    label: str  # e.g. "spatial gate, mean over 64 ch"
    lo: float
    hi: float
    drawn: tuple[float, float]
    signed: bool = False
    fixed: bool = False  # lo/hi held over the frames of a video (Settings.scale == "fixed")
    colormap: str = "jet"  # sequential maps; signed ones use DIVERGING_LUT
    #: a map shown normalised (a CAM: 1 = this frame's peak): the peak in the method's own units
    raw_peak: float | None = None
    #: significant digits of its numbers: more than 3 where 3 would write a varying map's ends alike
    digits: int = 3

    def fmt(self, v: float) -> str:
        """One of its numbers as its texts write it."""
        return format_value(v, self.signed, self.digits)

    def end_labels(self) -> tuple[str, str]:
        """The values at the bar's two ends (the scale's, not the frame's: those are ticks)."""
        return self.fmt(self.lo), self.fmt(self.hi)

    def text(self) -> str:
        """The colour bar's text: ``label: lo ... hi`` (the drawn values; ``fixed`` adds the held range)."""
        fmt = self.fmt
        if self.raw_peak is not None:  # normalised to its peak: 0 ... 1 says nothing more
            return self.label
        text = f"{self.label}: {fmt(self.drawn[0])} ... {fmt(self.drawn[1])}"
        if self.fixed:
            text += f" (fixed {fmt(self.lo)} ... {fmt(self.hi)})"
        return text


def format_value(v: float, signed: bool = False, digits: int = 3) -> str:
    """A colour bar's number as its text shows it (``digits`` significant digits; ``signed``: a + on
    positives)."""
    return _fmt_signed(v, digits) if signed else _fmt(v, digits)


def _fmt(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:.{digits - 1}e}"


def _fmt_signed(v: float, digits: int = 3) -> str:
    return ("+" if v > 0 else "") + _fmt(v, digits)


def digits_for(lo: float, hi: float, most: int = 6) -> int:
    """Significant digits (3 at least) that write ``lo`` and ``hi`` differently when they differ: a
    gate that varies from 0.5097 to 0.5104 must not read "0.51 ... 0.51"."""
    d = 3
    while d < most and lo != hi and _fmt(lo, d) == _fmt(hi, d):
        d += 1
    return d


class ScaleMemory:
    """The colour range of each heatmap held over the frames of one video (``Settings.scale = 'fixed'``):
    a running envelope per panel quantity, so that a colour means the same value on every frame.
    The owner (the window's worker, an export) calls :meth:`reset` when the source changes."""

    def __init__(self) -> None:
        self._env: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hold(self, key: str, lo: float, hi: float) -> tuple[float, float]:
        """The envelope of ``key`` widened by (lo, hi)."""
        with self._lock:
            old = self._env.get(key)
            env = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
            self._env[key] = env
            return env

    def reset(self) -> None:
        with self._lock:
            self._env.clear()


def colormap_lut(cmap: str) -> np.ndarray:
    """The 256-entry BGR table of a named OpenCV colour map (as :func:`colorize` uses it)."""
    return colorize(np.linspace(0, 1, 256, dtype=np.float32)[None, :], cmap).reshape(256, 1, 3)


def _heat(raw: np.ndarray, scale: ColorScale) -> np.ndarray:
    """BGR colours of the values ``raw`` on ``scale``."""
    if scale.signed:
        return colorize_signed(raw, scale.hi)
    span = scale.hi - scale.lo
    unit = (raw - np.float32(scale.lo)) / np.float32(span) if span > 0 else np.zeros_like(raw)
    return colorize(unit, scale.colormap)


def make_scale(label: str, raw_range: tuple[float, float], signed: bool, s: Settings,
                memory: ScaleMemory | None, key: str, span: tuple[float, float] | None = None) -> ColorScale:
    """The scale of a map whose values span ``raw_range`` on this frame; ``span``: the range the colours
    cover when it is not the drawn one (a CAM normalised over the network input, not the frame)."""
    lo, hi = float(raw_range[0]), float(raw_range[1])
    slo, shi = span if span is not None else (lo, hi)
    fixed = s.scale == "fixed" and memory is not None
    if signed:
        lim = max(abs(slo), abs(shi))
        if fixed:
            lim = memory.hold(key, -lim, lim)[1]
        return ColorScale(label, -lim, lim, (lo, hi), True, fixed, s.colormap, digits=digits_for(lo, hi))
    elo, ehi = memory.hold(key, slo, shi) if fixed else (slo, shi)
    return ColorScale(label, elo, ehi, (lo, hi), False, fixed, s.colormap, digits=digits_for(lo, hi))


def heat_panel(frame: np.ndarray, raw: np.ndarray, scale: ColorScale, alpha: float,
               shown_width: int | None = None, dets: list[Detection] | None = None) -> np.ndarray:
    """A heatmap of ``raw`` (frame-sized, in its own units) over the frame, with its colour bar.

    A signed map is drawn over a grey copy of the frame (its white centre must read as 0, not as
    the picture)."""
    heat = _heat(raw, scale)
    if heat.shape[:2] != frame.shape[:2]:
        heat = cv2.resize(heat, (frame.shape[1], frame.shape[0]))
    base = frame
    a = float(np.clip(alpha, 0.0, 1.0))
    if scale.signed:
        base = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        a = max(a, 0.65)
    img = cv2.addWeighted(base, 1 - a, heat, a, 0)
    if dets:
        img = draw_boxes_only(img, dets)
    return draw_scale_bar(img, scale, shown_width)


def draw_scale_bar(img: np.ndarray, scale: ColorScale, shown_width: int | None = None) -> np.ndarray:
    """:func:`draw_color_bar` for a :class:`ColorScale`: below the picture, the ramp from ``lo`` to
    ``hi`` labelled with those ends, ticks where this frame's min and max (and a signed map's 0) fall
    on it, and the text."""
    lut = DIVERGING_LUT if scale.signed else colormap_lut(scale.colormap)
    return draw_color_bar(img, scale.lo, scale.hi, scale.text(), lut, shown_width,
                           ticks=(*scale.drawn, *((0.0,) if scale.signed else ())), text=scale.text(),
                           ends=scale.end_labels())


@dataclass
class Panel:
    """One panel picture with its caption. ``subtitle`` is ``template.format(**values)`` when a
    template is given, so a translated template can be filled with the same values."""

    key: str
    image: np.ndarray  # BGR, the frame's size
    title: str
    subtitle: str
    template: str = ""
    values: dict[str, str] = field(default_factory=dict)
    scale: ColorScale | None = None  # a heatmap's colour scale (drawn in the picture too)
    help: str = ""  # one line saying what the panel shows (PANEL_HELP), for a tooltip
    #: the title's template when the title is made from ``values`` too ("{kind} {gate} gate (layer {layer})")
    title_template: str = ""


def _panel(key: str, image: np.ndarray, title: str, template: str, scale: ColorScale | None = None,
           help: str = "", **values: object) -> Panel:  # noqa: A002 - the field's name
    vals = {k: str(v) for k, v in values.items()}
    return Panel(key, image, title, template.format(**vals), template, vals, scale, help)


def make_panel(key: str, image: np.ndarray, title: str, template: str, scale: ColorScale | None = None,
               help: str = "", **values: object) -> Panel:  # noqa: A002 - the field's name
    """A panel whose title and subtitle are both templates filled with ``values`` (so the window can
    translate both and fill them with the same values)."""
    p = _panel(key, image, title.format(**{k: str(v) for k, v in values.items()}), template, scale, help, **values)
    p.title_template = title if "{" in title else ""
    return p


def heat_colors(values: np.ndarray, scale: ColorScale) -> np.ndarray:
    """(N, 3) BGR colours of the N values on ``scale`` (as a heatmap would colour them)."""
    v = np.asarray(values, np.float32).reshape(1, -1)
    return _heat(v, scale).reshape(-1, 3)


def panels(frame: np.ndarray, result: Result, settings: Settings | None = None,
           highlight: int | None = None, shown_width: int | None = None,
           scales: ScaleMemory | None = None) -> list[Panel]:
    """The four panels of one frame, in display order, with their captions and colour scales.

    ``shown_width``: how wide the panels will be shown (a figure's panel width, a window panel's
    width), which sizes the box labels (:func:`label_style`); default: the window's usual size.
    ``scales``: the held ranges of a video when ``settings.scale`` is ``fixed`` (else each frame's own).
    """
    s = settings or Settings()
    n = len(result.detections)
    out = [_panel("detections", draw_detections(frame, result.detections, highlight, shown_width), TITLE_DETECTIONS,
                  SUB_OBJECTS_ONE if n == 1 else SUB_OBJECTS, help=PANEL_HELP["detections"], n=n,
                  conf=f"{s.conf:.3g}", iou=f"{s.iou:.2f}")]
    if result.cam is not None:
        out.append(_cam_panel(frame, result, s, shown_width, scales))
    else:
        out.append(_panel("cam", message_panel(frame, "CAM off (method: none)"), TITLE_CAM, SUB_CAM_OFF,
                          help=PANEL_HELP["cam"]))
    from gam_gui.render_attention import attention_panels  # it draws with this module's helpers

    out += attention_panels(frame, result, s, shown_width, scales)  # the chosen block, of any kind
    return out


#: What the two GAM panels show in each ``Settings.gam_view``: a gain goes beside a gate, in the panel
#: of the branch it measures (the whole block's gain in the spatial panel: the block ends there).
GAM_VIEW_PANELS = {"gates": ("channel_gate", "spatial_gate"), "gain": ("channel_gate", "gain_block"),
                   "channel-gain": ("gain_channel", "spatial_gate"), "spatial-gain": ("channel_gate", "gain_spatial")}


def _cam_panel(frame: np.ndarray, result: Result, s: Settings, shown_width: int | None,
               scales: ScaleMemory | None) -> Panel:
    """The CAM over the frame with its colour bar. A CAM's raw units (gradient x activation) mean
    nothing to a reader ("0 ... 0.00471"), so per frame the map is shown normalised, 1 = this frame's
    peak, with the raw peak kept in ``scale.raw_peak`` (the window's tooltip). Only a scale held over
    a video (``fixed``) is in raw units, as the same colour must mean the same value on every frame."""
    layers = "+".join(map(str, result.layers))
    raw_range = getattr(result, "cam_range", None)
    known = raw_range is not None and not s.renorm_boxes and bool(np.all(np.isfinite(raw_range)))
    cam = np.asarray(result.cam, np.float32)
    if known and s.scale == "fixed" and scales is not None:
        label, rlo, rhi = f"{result.method}, raw units", float(raw_range[0]), float(raw_range[1])
        raw = cam * np.float32(rhi - rlo) + np.float32(rlo)
        drawn = (float(raw.min()), float(raw.max())) if raw.size else (rlo, rhi)
        scale = make_scale(label, drawn, False, s, scales, f"cam|{label}|{layers}|{result.target}", (rlo, rhi))
    else:
        label = f"{result.method}, 1 = " + ("each box's peak" if s.renorm_boxes else "this frame's peak")
        raw = cam
        drawn = (float(cam.min()), float(cam.max())) if cam.size else (0.0, 1.0)
        scale = ColorScale(label, 0.0, 1.0, drawn, False, False, s.colormap,
                            float(raw_range[1]) if known else None)
    img = heat_panel(frame, raw, scale, s.alpha, shown_width, result.detections)
    if result.note:
        return _panel("cam", img, result.method, SUB_CAM_NOTE, scale, PANEL_HELP["cam"], layers=layers,
                      target=result.target, note=result.note)
    return _panel("cam", img, result.method, SUB_CAM, scale, PANEL_HELP["cam"], layers=layers,
                  target=result.target)


def gam_panel(frame: np.ndarray, g: GamMaps, shows: str, s: Settings, shown_width: int | None = None,
              scales: ScaleMemory | None = None, key: str = "gam_channel") -> Panel:
    """One GAM panel: ``shows`` is ``channel_gate``, ``spatial_gate``, ``gain_block``, ``gain_channel``
    or ``gain_spatial`` (see :data:`GAM_VIEW_PANELS`), drawn in its own units with its colour bar."""
    nch = len(g.channel_weights)
    if shows in ("channel_gate", "spatial_gate"):
        kind = shows.split("_")[0]
        signed = kind == "channel" and g.channel_signed
        label = f"{kind} gate, {s.reduction} over {nch} ch"
        raw = g.raw(kind)
        scale = make_scale(label, g.value_range(kind), signed, s, scales, f"{key}|{label}|{g.index}")
        img = heat_panel(frame, raw, scale, s.alpha, shown_width)
        if kind == "channel":
            return _panel(key, img, TITLE_GAM_CHANNEL, SUB_GAM_CHANNEL, scale,
                          PANEL_HELP["channel_gate" if signed else "channel_gate_unit"], layer=g.index,
                          reduction=s.reduction, channels=nch, variant=g.variant)
        return _panel(key, img, TITLE_GAM_SPATIAL, SUB_GAM_SPATIAL, scale, PANEL_HELP["spatial_gate"],
                      layer=g.index, reduction=s.reduction)
    which = shows.split("_")[1]
    title, formula = {"block": (TITLE_GAIN_BLOCK, "||out|| / ||in||"),
                      "channel": (TITLE_GAIN_CHANNEL, "||x*c|| / ||x||"),
                      "spatial": (TITLE_GAIN_SPATIAL, "||out|| / ||x*c||")}[which]
    raw = g.gain(which)
    if raw is None:
        return Panel(key, message_panel(frame, NO_FEATURES_TEXT), title, "-", help=PANEL_HELP[shows])
    label = f"log2 {formula}"
    drawn = (float(raw.min()), float(raw.max())) if raw.size else (0.0, 0.0)
    scale = make_scale(label, drawn, True, s, scales, f"{key}|{label}|{g.index}")
    img = heat_panel(frame, raw, scale, s.alpha, shown_width)
    return _panel(key, img, title, SUB_GAIN, scale, PANEL_HELP[shows], layer=g.index, formula=formula)


def channel_drill_panel(frame: np.ndarray, g: GamMaps, channel: int, shown_width: int | None = None,
                        key: str = "gam_channel") -> Panel:
    """Channel ``channel`` of GAM block ``g``: its feature map before (left) and after (right) the
    block, side by side (each half the frame's width, the picture cropped to them) on one
    blue-white-red scale (0 white), and its channel weight."""
    feats = g.channel_feature(channel)
    weights = g.channel_weights
    weight = float(weights[channel]) if 0 <= channel < len(weights) else float("nan")
    if feats is None:
        return Panel(key, message_panel(frame, NO_FEATURES_TEXT), TITLE_DRILL, "-", help=PANEL_HELP["drill"])
    before, after = feats
    lo = float(min(before.min(), after.min()))
    hi = float(max(before.max(), after.max()))
    lim = max(abs(lo), abs(hi))
    scale = ColorScale(f"channel {channel}, before | after", -lim, lim, (lo, hi), True)
    h, w = frame.shape[:2]
    gap = max(2, w // 80)
    hw = max(1, (w - gap) // 2)
    hh = max(1, int(round(h * hw / w)))
    style = label_style((h, w), shown_width)
    y0 = style.height  # one row for "before" / "after", then the two maps; no empty canvas (issue 25.9)
    canvas = np.full((y0 + hh, w, 3), 40, np.uint8)
    grey = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    for x0, m, text in ((0, before, "before"), (w - hw, after, "after")):
        tile = cv2.addWeighted(grey, 0.35, colorize_signed(m, lim), 0.65, 0)
        canvas[y0:y0 + hh, x0:x0 + hw] = cv2.resize(tile, (hw, hh), interpolation=cv2.INTER_AREA)
        cv2.putText(canvas, text, (x0 + style.pad, y0 - style.pad - 1), FONT, style.scale,
                    (255, 255, 255), style.thickness, cv2.LINE_AA)
    img = draw_scale_bar(canvas, scale, shown_width)
    return _panel(key, img, TITLE_DRILL, SUB_DRILL, scale, PANEL_HELP["drill"], layer=g.index, channel=channel,
                  weight=_fmt_signed(weight))


def draw_boxes_only(img: np.ndarray, dets: list[Detection]) -> np.ndarray:
    """Thin class-coloured outlines, to relate a heatmap to the objects without hiding it."""
    out = img.copy()
    for d in dets:
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), class_color(d.cls), 1, cv2.LINE_AA)
    return out


def wrap_text(text: str, scale: float, thickness: int, max_width: int) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``max_width`` pixels in :data:`FONT`;
    a word wider than a line is broken between characters. No lines for empty text."""

    def width(t: str) -> int:
        return cv2.getTextSize(t, FONT, scale, thickness)[0][0]

    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if width(trial.rstrip()) <= max_width:
            line = trial
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = word
        while line and width(line) > max_width:  # one word wider than the line
            cut = len(line) - 1
            while cut > 1 and width(line[:cut]) > max_width:
                cut -= 1
            cut = max(1, cut)  # a single character wider than the line still goes on a line of its own
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class CaptionLayout:
    """A panel caption cut into lines that fit the panel width, and the bar height they need."""

    title: list[str]
    subtitle: list[str]
    scale: float
    line_h: int
    margin: int

    @property
    def height(self) -> int:
        return self.margin * 2 + self.line_h * (len(self.title) + len(self.subtitle))


def caption_layout(title: str, subtitle: str, width: int) -> CaptionLayout:
    """Wrap a caption to ``width``: text that does not fit goes on more lines instead of being cut."""
    fs = max(0.5, min(0.8, width / 700))  # the subtitle (0.8 of it) stays >= ~11 px per line
    margin = max(3, int(round(6 * fs / 0.5)))
    (_, th), base = cv2.getTextSize("Ag", FONT, fs, 1)
    line_h = th + base + max(2, int(round(4 * fs / 0.5)))
    room = max(1, width - 2 * margin)
    return CaptionLayout(wrap_text(title, fs, 1, room), wrap_text(subtitle, fs * 0.8, 1, room), fs, line_h, margin)


def caption_bar(title: str, subtitle: str, width: int, min_height: int = 0) -> np.ndarray:
    """The caption bar above a figure panel: the title, then the subtitle, wrapped to ``width``."""
    lay = caption_layout(title, subtitle, width)
    bar = np.full((max(lay.height, min_height), width, 3), CAPTION_GREY, np.uint8)
    y = lay.margin
    for lines, fs, colour in ((lay.title, lay.scale, (255, 255, 255)),
                              (lay.subtitle, lay.scale * 0.8, (200, 200, 200))):
        for line in lines:
            base = cv2.getTextSize(line, FONT, fs, 1)[1]
            y += lay.line_h
            cv2.putText(bar, line, (lay.margin, y - base - 1), FONT, fs, colour, 1, cv2.LINE_AA)
    return bar


def captioned(panel: Panel, width: int, min_bar_height: int = 0) -> np.ndarray:
    """Scale a panel to ``width`` and put its caption bar (wrapped, at least ``min_bar_height`` tall) above."""
    h, w = panel.image.shape[:2]
    scale = width / w
    img = cv2.resize(panel.image, (width, max(1, int(round(h * scale)))),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return np.vstack([caption_bar(panel.title, panel.subtitle, width, min_bar_height), img])


def compose(frame: np.ndarray, result: Result, settings: Settings | None = None, keys: tuple[str, ...] = PANELS,
            layout: str = "row", panel_width: int | None = None, highlight: int | None = None,
            scales: ScaleMemory | None = None) -> np.ndarray:
    """The side-by-side figure: detections | CAM | GAM channel | GAM spatial (``layout='grid'``: 2x2).

    ``panel_width`` defaults to the frame width, capped to keep a figure of a 4K frame manageable;
    ``scales``: the held colour ranges of a video (``settings.scale == 'fixed'``).
    """
    if not any(k in PANELS for k in keys):
        raise ValueError(f"no panels chosen; choose from {', '.join(PANELS)}")
    width = panel_width or min(frame.shape[1], 960)
    chosen = [p for p in panels(frame, result, settings, highlight, shown_width=width, scales=scales)
              if p.key in keys]
    return compose_panels(chosen, width, layout)


def compose_panels(chosen: list[Panel], width: int, layout: str = "row", columns: int = 2) -> np.ndarray:
    """Captioned panels ``width`` wide, side by side (``row``) or ``columns`` to a row (``grid``)."""
    if layout not in ("row", "grid"):
        raise ValueError(f"unknown layout {layout!r}; use row or grid")
    bar_h = max(caption_layout(p.title, p.subtitle, width).height for p in chosen)  # one height: tiles line up
    tiles = [captioned(p, width, bar_h) for p in chosen]
    # Heatmap panels carry their colour bar below the picture; the others are padded to line up.
    tall = max(t.shape[0] for t in tiles)
    tiles = [t if t.shape[0] == tall else np.vstack([t, np.full((tall - t.shape[0], *t.shape[1:]), 255, np.uint8)])
             for t in tiles]
    gap = 4
    if layout == "grid" and len(tiles) > columns:
        rows = [tiles[i : i + columns] for i in range(0, len(tiles), columns)]
        while len(rows[-1]) < columns:
            rows[-1].append(np.full_like(rows[-1][0], 0))
        return _stack([_stack(r, gap, axis=1) for r in rows], gap, axis=0)
    return _stack(tiles, gap, axis=1)


def _stack(parts: list[np.ndarray], gap: int, axis: int) -> np.ndarray:
    out = []
    for k, p in enumerate(parts):
        if k:
            shape = list(p.shape)
            shape[axis] = gap
            out.append(np.full(shape, 255, np.uint8))
        out.append(p)
    return np.concatenate(out, axis)


def channel_bar_chart(weights: np.ndarray, width: int = 640, height: int = 120) -> np.ndarray:
    """Per-channel attention as a bar chart image (for the CLI; the GUI draws its own widget)."""
    img = np.full((height, width, 3), 255, np.uint8)
    if weights is None or not len(weights):
        return img
    w = np.asarray(weights, np.float32)
    lo, hi = float(w.min()), float(w.max())
    norm = (w - lo) / (hi - lo) if hi > lo else np.full_like(w, 0.5)
    bw = width / len(w)
    for i, v in enumerate(norm):
        x1, x2 = int(i * bw), max(int(i * bw) + 1, int((i + 1) * bw) - 1)
        cv2.rectangle(img, (x1, height - 1 - int(v * (height - 10))), (x2, height - 1), (180, 120, 40), -1)
    return img


#: Colours (BGR) of a comparison's detections panel: boxes only in the reference (lost) and only in the
#: changed run (new); boxes in both keep their class colour.
LOST_COLOUR, NEW_COLOUR = (40, 40, 230), (60, 200, 60)


def _dashed_rect(img: np.ndarray, xyxy: tuple[int, int, int, int], colour: tuple[int, int, int], thickness: int,
                 dash: int) -> None:
    x1, y1, x2, y2 = xyxy
    for (ax, ay), (bx, by) in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        length = max(abs(bx - ax), abs(by - ay))
        for s in range(0, max(length, 1), 2 * dash):
            e = min(s + dash, length)
            t0, t1 = s / max(length, 1), e / max(length, 1)
            cv2.line(img, (int(ax + (bx - ax) * t0), int(ay + (by - ay) * t0)),
                     (int(ax + (bx - ax) * t1), int(ay + (by - ay) * t1)), colour, thickness, cv2.LINE_8)


def draw_matches(frame: np.ndarray, matches: list[Match], shown_width: int | None = None) -> np.ndarray:
    """The detections panel of an ablation or an A/B comparison, from a match table.

    Kept boxes are drawn where the changed run (after / B) put them, in their class colour, labelled
    ``cross 0.94 -> 0.61``; lost boxes (only before / A) dashed red, ``cross 0.94 -> lost``; new boxes
    (only after / B) green, ``cross new 0.40``.
    """
    out = frame.copy()
    h, w = out.shape[:2]
    style = label_style((h, w), shown_width)
    lw = max(1, int(round(style.height / 12)))
    dets, texts, colours = [], [], []
    for m in matches:
        d = m.b if m.b is not None else m.a
        box = tuple(int(round(v)) for v in d.xyxy)
        if m.status == LOST:
            colour = LOST_COLOUR
            _dashed_rect(out, box, colour, lw + 1, max(5, style.height // 2))
        else:
            colour = NEW_COLOUR if m.status == NEW else class_color(m.cls)
            cv2.rectangle(out, box[:2], box[2:], colour, lw + (1 if m.status == NEW else 0), cv2.LINE_AA)
        dets.append(d)
        texts.append(m.label())
        colours.append(colour)
    draw_labels(out, layout_labels(dets, (h, w), style, texts, colours), style)
    return out


def _diverging_lut() -> np.ndarray:
    """256-entry BGR table: blue (most negative) - white (0, at the middle) - red (most positive)."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    blue, white, red = np.array([180, 60, 30.0]), np.array([255, 255, 255.0]), np.array([30, 40, 200.0])
    lut = np.where(t < 0, white + (blue - white) * -t, white + (red - white) * t)
    lut[127:129] = white  # the two middle entries, where 0 lands, are exactly white
    return np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(256, 1, 3)


DIVERGING_LUT = _diverging_lut()


def colorize_signed(m: np.ndarray, limit: float) -> np.ndarray:
    """A signed map -> BGR on the blue-white-red scale, 0 always white, +-``limit`` the full colours
    (a fixed centre: a min-max stretch would move 0 from frame to frame)."""
    lim = float(limit) if limit and np.isfinite(limit) and limit > 0 else 1.0
    u8 = np.clip(np.round((np.nan_to_num(m) / lim + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return cv2.LUT(cv2.cvtColor(u8, cv2.COLOR_GRAY2BGR), DIVERGING_LUT)


def color_bar_height(frame_hw: tuple[int, int], shown_width: int | None = None) -> int:
    """Height of the colour-bar strip :func:`draw_color_bar` adds below a ``frame_hw`` picture: the
    ramp, a row with the scale's end values, and two rows of text. A function of the sizes alone, so
    every heatmap panel of a frame (and of every frame of a video) gets the same strip."""
    style = label_style(frame_hw, shown_width)
    return max(4, style.height // 2) + 3 * style.height + 2 * style.pad


def draw_color_bar(img: np.ndarray, lo: float, hi: float, caption: str, lut: np.ndarray = DIVERGING_LUT,
                    shown_width: int | None = None, ticks: tuple[float, ...] = (), text: str | None = None,
                    ends: tuple[str, str] | None = None) -> np.ndarray:
    """``img`` with a colour-bar strip added BELOW it (the picture itself is never covered, issue
    25.5): the gradient from ``lo`` to ``hi`` with white ticks at ``ticks`` values (the frame's
    min/max, 0 of a signed map), the scale's end values under its two ends (``ends``: their text;
    default ``lo`` and ``hi``), and up to two lines saying what is drawn (default ``CAM A - CAM B:
    -0.62 ... +0.81``), made smaller down to a floor where the panel is narrow."""
    h, w = img.shape[:2]
    style = label_style((h, w), shown_width)
    strip = np.full((color_bar_height((h, w), shown_width), w, 3), 32, np.uint8)
    if w <= 2 * style.pad + 2:
        return np.vstack([img, strip])
    bar_h = max(4, style.height // 2)
    x1, x2 = style.pad, w - style.pad
    yb = style.pad
    strip[yb: yb + bar_h, x1:x2] = cv2.resize(lut.reshape(1, 256, 3), (x2 - x1, bar_h),
                                              interpolation=cv2.INTER_LINEAR)
    if hi > lo:
        for v in ticks:
            if np.isfinite(v):
                x = int(round(x1 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x2 - x1 - 1)))
                cv2.line(strip, (x, yb), (x, yb + bar_h - 1), (0, 0, 0), max(1, style.thickness + 1))
                cv2.line(strip, (x, yb), (x, yb + bar_h - 1), (255, 255, 255), 1)
    lo_txt, hi_txt = ends if ends is not None else (_fmt_signed(lo) if lo < 0 else _fmt(lo), _fmt_signed(hi)
                                                    if lo < 0 else _fmt(hi))
    room = w - 2 * style.pad
    row1 = yb + bar_h + style.height - style.pad
    _put_fitted(strip, lo_txt, (x1, row1), style, room // 2, "left")
    _put_fitted(strip, hi_txt, (x2, row1), style, room // 2, "right")
    text = text if text is not None else f"{caption}: {lo:+.2f} ... {hi:+.2f}"
    lines = wrap_text(text, style.scale, style.thickness, room)
    if len(lines) > 2:  # two lines at most: the rest shrinks onto the second
        lines = [lines[0], " ".join(lines[1:])]
    for k, line in enumerate(lines):
        _put_fitted(strip, line, (x1, row1 + (k + 1) * style.height), style, room, "left")
    return np.vstack([img, strip])


def _put_fitted(img: np.ndarray, text: str, at: tuple[int, int], style: LabelStyle, room: int, align: str) -> None:
    """``text`` with its baseline at ``at`` (its left or right end there), shrunk to ``room`` pixels down
    to 55 % of the label size (below that a long text is cut with "..")."""
    fs, th = style.scale, style.thickness
    tw = cv2.getTextSize(text, FONT, fs, th)[0][0]
    if tw > room:
        fs = max(style.scale * 0.55, fs * room / max(1, tw))
        th = max(1, th if fs >= style.scale * 0.8 else 1)
        while len(text) > 3 and cv2.getTextSize(text, FONT, fs, th)[0][0] > room:
            text = text[:-3] + ".."
        tw = cv2.getTextSize(text, FONT, fs, th)[0][0]
    x = at[0] if align == "left" else at[0] - tw
    cv2.putText(img, text, (x, at[1]), FONT, fs, (255, 255, 255), th, cv2.LINE_AA)


def ablation_panels(frame: np.ndarray, result: Result, ablation: AblationResult, settings: Settings | None = None,
                    shown_width: int | None = None, scales: ScaleMemory | None = None) -> list[Panel]:
    """The usual panels with the detections panel showing what the ablation changed (see
    :func:`draw_matches`); the CAM and GAM panels are those of the model as trained."""
    out = panels(frame, result, settings, shown_width=shown_width, scales=scales)
    out[0] = Panel("detections", draw_matches(frame, ablation.matches, shown_width),
                   f"Ablation {ablation.describe_blocks()}", ablation.summary())
    return out


def compare_panels(frame: np.ndarray, cmp: CompareResult, settings: Settings | None = None,
                   name_a: str = "A", name_b: str = "B", shown_width: int | None = None) -> list[Panel]:
    """Detections A | detections B | the match table drawn on B's boxes, then CAM A | CAM B | CAM A - CAM B."""
    s = settings or Settings()
    pa = panels(frame, cmp.a, s, shown_width=shown_width)
    pb = panels(frame, cmp.b, s, shown_width=shown_width)
    out = [Panel("detections_a", pa[0].image, f"A: {name_a}", pa[0].subtitle),
           Panel("detections_b", pb[0].image, f"B: {name_b}", pb[0].subtitle),
           Panel("matches", draw_matches(frame, cmp.matches, shown_width), "A vs B: boxes",
                 f"{cmp.summary()}  (kept: B's box, A -> B score; red dashed: A only; green: B only)"),
           Panel("cam_a", pa[1].image, f"A: {pa[1].title}", pa[1].subtitle),
           Panel("cam_b", pb[1].image, f"B: {pb[1].title}", pb[1].subtitle)]
    if cmp.diff is None:
        out.append(Panel("cam_diff", message_panel(frame, "no CAM difference (method: none)"), "CAM A - CAM B", "-"))
    else:
        lo, hi = cmp.diff_range()
        lim = max(abs(lo), abs(hi), 1e-6)
        grey = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        img = cv2.addWeighted(grey, 0.35, colorize_signed(cmp.diff, lim), 0.65, 0)
        img = draw_color_bar(img, -lim, lim, "CAM A - CAM B", shown_width=shown_width)
        out.append(Panel("cam_diff", img, "CAM A - CAM B",
                         f"red: A's map stronger, blue: B's; white 0; drawn {lo:+.2f} ... {hi:+.2f}"))
    return out
