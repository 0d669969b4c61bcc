"""Turn a frame and its :class:`~gam_gui.analysis.Result` into pictures: the GUI and the CLI share this.

Everything returns uint8 BGR numpy arrays; nothing here knows about Qt.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from gam_gui.ablation import AblationResult
from gam_gui.analysis import Result, Settings
from gam_gui.compare import CompareResult
from gam_gui.inference import Detection
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
# A fixed, colour-blind-friendly-ish palette (BGR), indexed by class id.
_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
            (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0), (168, 153, 44), (255, 194, 0),
            (147, 69, 52), (255, 115, 100), (236, 24, 0), (255, 56, 132), (133, 0, 82), (255, 56, 203)]


def class_colour(cls: int) -> tuple[int, int, int]:
    return _PALETTE[int(cls) % len(_PALETTE)]


def colorize(m: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """A [0, 1] map -> BGR heatmap."""
    if cmap not in COLORMAPS:
        raise ValueError(f"unknown colormap {cmap!r}; choose one of {', '.join(COLORMAPS)}")
    u8 = np.clip(np.nan_to_num(m) * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(u8, COLORMAPS[cmap])


def overlay(frame: np.ndarray, m: np.ndarray, cmap: str = "jet", alpha: float = 0.5) -> np.ndarray:
    """Blend a heatmap over the frame; ``alpha`` is the heatmap's weight."""
    heat = colorize(m, cmap)
    if heat.shape[:2] != frame.shape[:2]:
        heat = cv2.resize(heat, (frame.shape[1], frame.shape[0]))
    a = float(np.clip(alpha, 0.0, 1.0))
    return cv2.addWeighted(frame, 1 - a, heat, a, 0)


def _font_scale(h: int, w: int) -> float:
    return max(0.35, min(1.2, min(h, w) / 900))


FONT = cv2.FONT_HERSHEY_SIMPLEX
#: A box label's text (ascender to descender) is never shorter than this on screen or in a figure;
#: its filled box adds a padding above and below.
MIN_LABEL_PX = 11
#: ... and, on large pictures, at least this fraction of the shown picture's short side.
LABEL_FRACTION = 0.03
#: The width a window panel is assumed to be shown at when the caller does not know it.
DEFAULT_SHOWN_WIDTH = 320


@dataclass(frozen=True)
class LabelStyle:
    """Font scale, stroke thickness and padding of box labels, and the text and label box heights
    they give (all in frame pixels)."""

    scale: float
    thickness: int
    pad: int
    height: int  # the filled label box
    text_height: int  # the text in it, ascender to descender


def label_style(frame_hw: tuple[int, int], shown_width: int | None = None) -> LabelStyle:
    """Box-label size for a frame of ``frame_hw`` that is shown ``shown_width`` pixels wide.

    The rule: a label's text is at least ``MIN_LABEL_PX`` tall as shown (and in frame pixels, so
    an enlarged small frame does not blow up a blurred few-pixel label), and at least
    ``LABEL_FRACTION`` of the shown picture's short side, so labels on a big figure stay in
    proportion. A fixed fraction of the frame alone made labels 7 px tall in a window panel
    showing a 640x480 video at a quarter of the window.
    """
    h, w = int(frame_hw[0]), int(frame_hw[1])
    shown = max(1, int(shown_width or min(w, DEFAULT_SHOWN_WIDTH)))
    per_shown = w / shown  # frame pixels per shown pixel
    need = max(MIN_LABEL_PX * max(1.0, per_shown), LABEL_FRACTION * min(h, w))
    return _style_for_height(int(math.ceil(need)))


@functools.lru_cache(maxsize=64)
def _style_for_height(need: int) -> LabelStyle:
    (_, th), base = cv2.getTextSize("Ag", FONT, 1.0, 1)
    pad = max(1, need // 8)
    scale = max(0.2, need / (th + base))
    while True:
        thickness = max(1, int(round(scale * 1.6)))
        (_, th), base = cv2.getTextSize("Ag", FONT, scale, thickness)
        if th + base >= need:
            return LabelStyle(scale, thickness, pad, th + base + 2 * pad, th + base)
        scale *= 1.04


@dataclass
class LabelBox:
    """Where one detection's label goes: ``rect`` is (x1, y1, x2, y2), x2/y2 exclusive, frame pixels."""

    index: int  # the detection's index
    text: str
    rect: tuple[int, int, int, int]
    colour: tuple[int, int, int]


def _overlap(rect: tuple[int, int, int, int], boxes: np.ndarray) -> np.ndarray:
    """Intersection areas of one rect with each row (x1, y1, x2, y2, exclusive ends) of ``boxes``."""
    if not len(boxes):
        return np.zeros(0)
    iw = np.minimum(rect[2], boxes[:, 2]) - np.maximum(rect[0], boxes[:, 0])
    ih = np.minimum(rect[3], boxes[:, 3]) - np.maximum(rect[1], boxes[:, 1])
    return np.clip(iw, 0, None) * np.clip(ih, 0, None)


def layout_labels(dets: list[Detection], frame_hw: tuple[int, int], style: LabelStyle,
                  texts: list[str] | None = None, colours: list[tuple[int, int, int]] | None = None
                  ) -> list[LabelBox]:
    """Place each detection's label, best detection first, where it hides the least.

    ``texts``/``colours``: per detection, instead of ``name score`` in the class colour.

    Candidates, in order of preference: above the box, below it, inside at the top, inside at the
    bottom (left-aligned, then right-aligned). The first candidate that overlaps neither an already
    placed label nor another box wins; failing that, the first that overlaps no label; failing
    that, the one that overlaps placed labels least. Labels of overlapping boxes therefore stop
    covering each other wherever the frame leaves room.
    """
    H, W = int(frame_hw[0]), int(frame_hw[1])
    boxes = np.array([[round(v) for v in d.xyxy] for d in dets], np.int64).reshape(-1, 4)
    grown = boxes + np.array([-1, -1, 2, 2])  # the outline, drawn on the edge pixels, counts as the box
    placed = np.zeros((0, 4), np.int64)
    out: list[LabelBox] = []
    for k, d in enumerate(dets):
        text = texts[k] if texts is not None else f"{d.name} {d.score:.2f}"
        (tw, _), _ = cv2.getTextSize(text, FONT, style.scale, style.thickness)
        lw, lh = min(W, tw + 2 * style.pad + 1), min(H, style.height)
        x1, y1, x2, y2 = (int(v) for v in boxes[k])
        others = np.delete(grown, k, axis=0)
        best: tuple | None = None
        for order, (x, y) in enumerate(((x1, y1 - lh), (x1, y2 + 1), (x1, y1), (x1, y2 - lh + 1),
                                        (x2 - lw + 1, y1 - lh), (x2 - lw + 1, y2 + 1), (x2 - lw + 1, y1),
                                        (x2 - lw + 1, y2 - lh + 1))):
            if y < 0 or y + lh > H:
                continue
            x = min(max(0, x), W - lw)
            rect = (x, y, x + lw, y + lh)
            key = (int(_overlap(rect, placed).sum()), bool(_overlap(rect, others).any()), order)
            if best is None or key < best[0]:
                best = (key, rect)
        if best is None:  # a label taller than the room above, below and inside: clamp it in
            x, y = min(max(0, x1), W - lw), min(max(0, y1), H - lh)
            rect = (x, y, x + lw, y + lh)
        else:
            rect = best[1]
        placed = np.vstack([placed, np.array(rect, np.int64)[None]])
        out.append(LabelBox(k, text, rect, colours[k] if colours is not None else class_colour(d.cls)))
    return out


def _text_colour(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light label colours, white on dark ones (BGR luma)."""
    b, g, r = bg
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 150 else (255, 255, 255)


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
        cv2.rectangle(out, (x1, y1), (x2, y2), class_colour(d.cls), lw * 3 if k == highlight else lw, cv2.LINE_AA)
    _draw_labels(out, layout_labels(dets, (h, w), style), style)
    return out


def _draw_labels(out: np.ndarray, labels: list[LabelBox], style: LabelStyle) -> None:
    for lab in reversed(labels):  # the best detection's label ends up on top where overlap is unavoidable
        x1, y1, x2, y2 = lab.rect
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), lab.colour, -1)
        base = cv2.getTextSize(lab.text, FONT, style.scale, style.thickness)[1]
        cv2.putText(out, lab.text, (x1 + style.pad, y2 - style.pad - base), FONT, style.scale,
                    _text_colour(lab.colour), style.thickness, cv2.LINE_AA)


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
CAPTION_STRINGS = (TITLE_DETECTIONS, TITLE_CAM, TITLE_GAM_CHANNEL, TITLE_GAM_SPATIAL, TITLE_FRAME, SUB_OBJECTS_ONE,
                   SUB_OBJECTS, SUB_CAM, SUB_CAM_NOTE, SUB_CAM_OFF, SUB_GAM_CHANNEL, SUB_GAM_SPATIAL)


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


def _panel(key: str, image: np.ndarray, title: str, template: str, **values: object) -> Panel:
    vals = {k: str(v) for k, v in values.items()}
    return Panel(key, image, title, template.format(**vals), template, vals)


def panels(frame: np.ndarray, result: Result, settings: Settings | None = None,
           highlight: int | None = None, shown_width: int | None = None) -> list[Panel]:
    """The four panels of one frame, in display order, with their captions.

    ``shown_width``: how wide the panels will be shown (a figure's panel width, a window panel's
    width), which sizes the box labels (:func:`label_style`); default: the window's usual size.
    """
    s = settings or Settings()
    n = len(result.detections)
    out = [_panel("detections", draw_detections(frame, result.detections, highlight, shown_width), TITLE_DETECTIONS,
                  SUB_OBJECTS_ONE if n == 1 else SUB_OBJECTS, n=n, conf=f"{s.conf:.3g}", iou=f"{s.iou:.2f}")]
    if result.cam is not None:
        layers = "+".join(map(str, result.layers))
        img = draw_boxes_only(overlay(frame, result.cam, s.colormap, s.alpha), result.detections)
        if result.note:
            out.append(_panel("cam", img, result.method, SUB_CAM_NOTE, layers=layers, target=result.target,
                              note=result.note))
        else:
            out.append(_panel("cam", img, result.method, SUB_CAM, layers=layers, target=result.target))
    else:
        out.append(_panel("cam", message_panel(frame, "CAM off (method: none)"), TITLE_CAM, SUB_CAM_OFF))
    g = result.gam_for(s.gam_layer)
    if g is None:
        out.append(Panel("gam_channel", message_panel(frame, NO_GAM_TEXT), TITLE_GAM_CHANNEL, "-"))
        out.append(Panel("gam_spatial", message_panel(frame, NO_GAM_TEXT), TITLE_GAM_SPATIAL, "-"))
    else:
        out.append(_panel("gam_channel", overlay(frame, g.channel, s.colormap, s.alpha), TITLE_GAM_CHANNEL,
                          SUB_GAM_CHANNEL, layer=g.index, reduction=s.reduction, channels=len(g.channel_weights),
                          variant=g.variant))
        out.append(_panel("gam_spatial", overlay(frame, g.spatial, s.colormap, s.alpha), TITLE_GAM_SPATIAL,
                          SUB_GAM_SPATIAL, layer=g.index, reduction=s.reduction))
    return out


def draw_boxes_only(img: np.ndarray, dets: list[Detection]) -> np.ndarray:
    """Thin class-coloured outlines, to relate a heatmap to the objects without hiding it."""
    out = img.copy()
    for d in dets:
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), class_colour(d.cls), 1, cv2.LINE_AA)
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
            layout: str = "row", panel_width: int | None = None, highlight: int | None = None) -> np.ndarray:
    """The side-by-side figure: detections | CAM | GAM channel | GAM spatial (``layout='grid'``: 2x2).

    ``panel_width`` defaults to the frame width, capped to keep a figure of a 4K frame manageable.
    """
    if not any(k in PANELS for k in keys):
        raise ValueError(f"no panels chosen; choose from {', '.join(PANELS)}")
    width = panel_width or min(frame.shape[1], 960)
    chosen = [p for p in panels(frame, result, settings, highlight, shown_width=width) if p.key in keys]
    return compose_panels(chosen, width, layout)


def compose_panels(chosen: list[Panel], width: int, layout: str = "row", columns: int = 2) -> np.ndarray:
    """Captioned panels ``width`` wide, side by side (``row``) or ``columns`` to a row (``grid``)."""
    if layout not in ("row", "grid"):
        raise ValueError(f"unknown layout {layout!r}; use row or grid")
    bar_h = max(caption_layout(p.title, p.subtitle, width).height for p in chosen)  # one height: tiles line up
    tiles = [captioned(p, width, bar_h) for p in chosen]
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
            colour = NEW_COLOUR if m.status == NEW else class_colour(m.cls)
            cv2.rectangle(out, box[:2], box[2:], colour, lw + (1 if m.status == NEW else 0), cv2.LINE_AA)
        dets.append(d)
        texts.append(m.label())
        colours.append(colour)
    _draw_labels(out, layout_labels(dets, (h, w), style, texts, colours), style)
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


def draw_colour_bar(img: np.ndarray, lo: float, hi: float, caption: str, lut: np.ndarray = DIVERGING_LUT,
                    shown_width: int | None = None) -> np.ndarray:
    """A colour scale along the bottom of ``img``: the gradient, its two end values, and a caption
    saying what is drawn (``CAM A - CAM B: -0.62 ... +0.81``)."""
    out = img.copy()
    h, w = out.shape[:2]
    style = label_style((h, w), shown_width)
    bar_h = max(4, style.height // 2)
    y0 = h - bar_h - style.height - 2
    if y0 < 0:
        return out
    ramp = cv2.resize(lut.reshape(1, 256, 3), (w - 2 * style.pad, bar_h), interpolation=cv2.INTER_LINEAR)
    out[y0 + style.height: y0 + style.height + bar_h, style.pad: w - style.pad] = ramp
    text = f"{caption}: {lo:+.2f} ... {hi:+.2f}"
    cv2.rectangle(out, (0, y0), (w - 1, y0 + style.height), (32, 32, 32), -1)
    base = cv2.getTextSize(text, FONT, style.scale, style.thickness)[1]
    cv2.putText(out, text, (style.pad, y0 + style.height - style.pad - base), FONT, style.scale, (255, 255, 255),
                style.thickness, cv2.LINE_AA)
    return out


def ablation_panels(frame: np.ndarray, result: Result, ablation: AblationResult, settings: Settings | None = None,
                    shown_width: int | None = None) -> list[Panel]:
    """The usual panels with the detections panel showing what the ablation changed (see
    :func:`draw_matches`); the CAM and GAM panels are those of the model as trained."""
    out = panels(frame, result, settings, shown_width=shown_width)
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
        img = draw_colour_bar(img, -lim, lim, "CAM A - CAM B", shown_width=shown_width)
        out.append(Panel("cam_diff", img, "CAM A - CAM B",
                         f"red: A's map stronger, blue: B's; white 0; drawn {lo:+.2f} ... {hi:+.2f}"))
    return out
