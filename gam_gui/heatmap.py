"""The drawing primitives of a heatmap panel, shared by :mod:`gam_gui.render` (detections, CAM, GAM) and
:mod:`gam_gui.render_attention` (the other attention blocks): colour maps, the colour scale of a panel
and its bar below the picture, a heatmap over the frame, a captioned :class:`Panel`.

``gam_gui.render`` re-exports every name here (its callers use ``render.X``). Everything returns uint8
BGR numpy arrays; nothing here knows about Qt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from gam_gui.labels import FONT, LabelStyle, class_color, label_style

if TYPE_CHECKING:
    from gam_gui.analysis import Settings
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


def colorize(m: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """A [0, 1] map -> BGR heatmap."""
    if cmap not in COLORMAPS:
        raise ValueError(f"unknown colormap {cmap!r}; choose one of {', '.join(COLORMAPS)}")
    u8 = np.clip(np.nan_to_num(m) * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(u8, COLORMAPS[cmap])


def _font_scale(h: int, w: int) -> float:
    return max(0.35, min(1.2, min(h, w) / 900))


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


def make_panel(key: str, image: np.ndarray, title: str, template: str, scale: ColorScale | None = None,
               help: str = "", **values: object) -> Panel:  # noqa: A002 - the field's name
    """A panel whose title and subtitle are both templates filled with ``values`` (so the window can
    translate both and fill them with the same values)."""
    vals = {k: str(v) for k, v in values.items()}
    return Panel(key, image, title.format(**vals), template.format(**vals), template, vals, scale, help,
                 title if "{" in title else "")


def heat_colors(values: np.ndarray, scale: ColorScale) -> np.ndarray:
    """(N, 3) BGR colours of the N values on ``scale`` (as a heatmap would colour them)."""
    v = np.asarray(values, np.float32).reshape(1, -1)
    return _heat(v, scale).reshape(-1, 3)


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
