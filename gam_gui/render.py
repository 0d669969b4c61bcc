"""Turn a frame and its :class:`~gam_gui.analysis.Result` into pictures: the GUI and the CLI share this.

Everything returns uint8 BGR numpy arrays; nothing here knows about Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gam_gui.ablation import AblationResult
from gam_gui.analysis import Result, Settings
from gam_gui.compare import CompareResult
from gam_gui.explain.attention import GamMaps
from gam_gui.heatmap import (  # noqa: F401 - part of render's public API (callers and tests use render.X)
    COLORMAPS,
    DIVERGING_LUT,
    ColorScale,
    Panel,
    ScaleMemory,
    color_bar_height,
    colorize,
    colorize_signed,
    colormap_lut,
    digits_for,
    draw_boxes_only,
    draw_color_bar,
    draw_scale_bar,
    format_value,
    heat_colors,
    heat_panel,
    make_panel,
    make_scale,
    message_panel,
    wrap_text,
)
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
from gam_gui.render_attention import attention_panels

PANELS = ("detections", "cam", "gam_channel", "gam_spatial")
PANEL_TITLES = {"detections": "Detections", "cam": "Grad-CAM", "gam_channel": "GAM channel",
                "gam_spatial": "GAM spatial"}
NO_GAM_TEXT = "this model has no GAM layers"
CAPTION_GREY = 32


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


def _panel(key: str, image: np.ndarray, title: str, template: str, scale: ColorScale | None = None,
           help: str = "", **values: object) -> Panel:  # noqa: A002 - the field's name
    vals = {k: str(v) for k, v in values.items()}
    return Panel(key, image, title, template.format(**vals), template, vals, scale, help)


def _fmt(v: float, digits: int = 3) -> str:
    return format_value(v, False, digits)


def _fmt_signed(v: float, digits: int = 3) -> str:
    return format_value(v, True, digits)


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
    block = result.block_for(s.gam_layer)
    if block is not None and block.gam is None:  # another kind of attention block: its gates, its gain
        out += attention_panels(frame, block, s, shown_width, scales)
        return out
    g = block.gam if block is not None else result.gam_for(s.gam_layer)
    if g is None:
        out.append(Panel("gam_channel", message_panel(frame, NO_GAM_TEXT), TITLE_GAM_CHANNEL, "-"))
        out.append(Panel("gam_spatial", message_panel(frame, NO_GAM_TEXT), TITLE_GAM_SPATIAL, "-"))
    else:
        shows = GAM_VIEW_PANELS[s.gam_view]
        out.append(gam_panel(frame, g, shows[0], s, shown_width, scales, key="gam_channel"))
        out.append(gam_panel(frame, g, shows[1], s, shown_width, scales, key="gam_spatial"))
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
