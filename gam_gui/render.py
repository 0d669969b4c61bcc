"""Turn a frame and its :class:`~gam_gui.analysis.Result` into pictures: the GUI and the CLI share this.

Everything returns uint8 BGR numpy arrays; nothing here knows about Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gam_gui.analysis import Result, Settings
from gam_gui.inference import Detection

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


def draw_detections(frame: np.ndarray, dets: list[Detection], highlight: int | None = None) -> np.ndarray:
    """Boxes with class name and score; the ``highlight`` detection (the CAM target) drawn thicker."""
    out = frame.copy()
    h, w = out.shape[:2]
    fs = _font_scale(h, w)
    lw = max(1, int(round(min(h, w) / 300)))
    for k, d in enumerate(dets):
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        col = class_colour(d.cls)
        t = lw * 3 if k == highlight else lw
        cv2.rectangle(out, (x1, y1), (x2, y2), col, t, cv2.LINE_AA)
        label = f"{d.name} {d.score:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, fs, max(1, lw))
        ty = y1 - 2 if y1 - th - base - 2 >= 0 else y1 + th + base + 2
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw + 2, ty + 1), col, -1)
        cv2.putText(out, label, (x1 + 1, ty - base + 1), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255),
                    max(1, lw), cv2.LINE_AA)
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


@dataclass
class Panel:
    key: str
    image: np.ndarray  # BGR, the frame's size
    title: str
    subtitle: str


def panels(frame: np.ndarray, result: Result, settings: Settings | None = None,
           highlight: int | None = None) -> list[Panel]:
    """The four panels of one frame, in display order, with their captions."""
    s = settings or Settings()
    n = len(result.detections)
    out = [Panel("detections", draw_detections(frame, result.detections, highlight), "Detections",
                 f"{n} object{'s' if n != 1 else ''}  conf {s.conf:.3g}  iou {s.iou:.2f}")]
    if result.cam is not None:
        layers = "+".join(map(str, result.layers))
        sub = f"L{layers}  target: {result.target}" + (f"  ({result.note})" if result.note else "")
        out.append(Panel("cam", draw_boxes_only(overlay(frame, result.cam, s.colormap, s.alpha), result.detections),
                         result.method, sub))
    else:
        out.append(Panel("cam", message_panel(frame, "CAM off (method: none)"), "CAM", "off"))
    g = result.gam_for(s.gam_layer)
    if g is None:
        out.append(Panel("gam_channel", message_panel(frame, NO_GAM_TEXT), "GAM channel", "-"))
        out.append(Panel("gam_spatial", message_panel(frame, NO_GAM_TEXT), "GAM spatial", "-"))
    else:
        sub = f"layer {g.index}  {s.reduction} over {len(g.channel_weights)} ch  ({g.variant})"
        out.append(Panel("gam_channel", overlay(frame, g.channel, s.colormap, s.alpha), "GAM channel", sub))
        out.append(Panel("gam_spatial", overlay(frame, g.spatial, s.colormap, s.alpha), "GAM spatial",
                         f"layer {g.index}  {s.reduction}"))
    return out


def draw_boxes_only(img: np.ndarray, dets: list[Detection]) -> np.ndarray:
    """Thin class-coloured outlines, to relate a heatmap to the objects without hiding it."""
    out = img.copy()
    for d in dets:
        x1, y1, x2, y2 = (int(round(v)) for v in d.xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), class_colour(d.cls), 1, cv2.LINE_AA)
    return out


def captioned(panel: Panel, width: int) -> np.ndarray:
    """Scale a panel to ``width`` and put a two-line caption bar above it."""
    h, w = panel.image.shape[:2]
    scale = width / w
    img = cv2.resize(panel.image, (width, max(1, int(round(h * scale)))),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    fs = max(0.4, min(0.8, width / 700))
    bar_h = int(44 * fs / 0.5)
    bar = np.full((bar_h, width, 3), 32, np.uint8)
    cv2.putText(bar, panel.title, (6, int(bar_h * 0.42)), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), 1,
                cv2.LINE_AA)
    sub = panel.subtitle
    sfs = fs * 0.8
    while sub and cv2.getTextSize(sub, cv2.FONT_HERSHEY_SIMPLEX, sfs, 1)[0][0] > width - 10:
        sub = sub[:-2]
    cv2.putText(bar, sub, (6, int(bar_h * 0.85)), cv2.FONT_HERSHEY_SIMPLEX, sfs, (200, 200, 200), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def compose(frame: np.ndarray, result: Result, settings: Settings | None = None, keys: tuple[str, ...] = PANELS,
            layout: str = "row", panel_width: int | None = None, highlight: int | None = None) -> np.ndarray:
    """The side-by-side figure: detections | CAM | GAM channel | GAM spatial (``layout='grid'``: 2x2).

    ``panel_width`` defaults to the frame width, capped to keep a figure of a 4K frame manageable.
    """
    chosen = [p for p in panels(frame, result, settings, highlight) if p.key in keys]
    if not chosen:
        raise ValueError(f"no panels chosen; choose from {', '.join(PANELS)}")
    width = panel_width or min(frame.shape[1], 960)
    tiles = [captioned(p, width) for p in chosen]
    gap = 4
    if layout == "grid" and len(tiles) > 2:
        rows = [tiles[i : i + 2] for i in range(0, len(tiles), 2)]
        if len(rows[-1]) == 1:
            rows[-1].append(np.full_like(rows[-1][0], 0))
        return _stack([_stack(r, gap, axis=1) for r in rows], gap, axis=0)
    if layout not in ("row", "grid"):
        raise ValueError(f"unknown layout {layout!r}; use row or grid")
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
