"""The two attention panels for a block of any kind (issue 27): its gates and its gain, drawn like GAM's.

``Settings.gam_layer`` names the block shown (any attention block's layer index; None: the first) and
``Settings.gate`` the gate of the first panel (None: the block's first gate). What the two panels show
(:func:`panel_plan`):

- a GAM block: GAM's own panels (:func:`gam_gui.render.gam_panel`, ``Settings.gam_view``), drawn by
  :mod:`gam_gui.render`, which calls this module for the other kinds;
- another kind: the chosen gate, then in the ``gates`` view the block's next gate (cyclically, so
  every gate of EMA or TripletAttention can be reached) or, for a one-gate block and in every gain
  view, the block's gain ``log2 ||out|| / ||in||`` per pixel (what the block did, for any kind).

A gate with positions (CBAM's spatial gate, CoordAtt's row and column gates, SimAM's energy) is a
heatmap over the frame, reduced over channels like GAM's, with its colour bar. A gate without
positions (SE, ECA and CBAM's channel gates: one weight per channel; SK's branch weights) cannot be a
heatmap: it is drawn as what it is, one bar per channel on the gate's own range, coloured on the
same colour bar. Nothing is made up to fill a map.

Everything returns uint8 BGR pictures; nothing here knows about Qt.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from gam_gui import heatmap
from gam_gui.analysis import Settings
from gam_gui.explain.blocks import BlockMaps, GateMap
from gam_gui.labels import FONT, class_color, label_style

#: Caption templates (``str.format`` fields; the window translates them, ``gam_gui.ui.panels``).
TITLE_GATE = "{kind} {gate} gate (layer {layer})"
TITLE_BLOCK_GAIN = "{kind} block gain (layer {layer})"
SUB_GATE_MAP = "{reduction} over {channels} ch; gate range {range}"
SUB_GATE_PIXEL = "one value per pixel; gate range {range}"
#: added to a subtitle when the gate is nearly constant on the frame (:data:`MIN_SPAN_FRACTION`)
SUB_FLAT = "{subtitle}; nearly constant here: the colours span 1 % of its range"
SUB_GATE_BARS = "one weight per channel ({channels} ch), no positions: one bar per channel; gate range {range}"
SUB_GATE_BRANCHES = "weight of each branch per channel ({channels} ch, {branches} branches), no positions"
SUB_BLOCK_GAIN = "log2 ||out|| / ||in|| per pixel"
NO_GAIN_TEXT = "the block's output has another shape than its input: no gain"
UNBOUNDED = "unbounded"
#: Tooltips (the window translates them; a gate's own meaning from the registry follows them).
HELP_GATE_MAP = ("A gate of the shown attention block over the frame, reduced over channels per pixel "
                 "(the colour bar: its values on this frame). What it means:")
HELP_GATE_BARS = ("A gate without positions: one weight per channel, drawn as bars (x: channel, height and "
                  "colour: the weight on the colour bar). It scales a whole channel everywhere, so it has "
                  "no heatmap; the channel chart shows the same weights. What it means:")
HELP_BLOCK_GAIN = ("What the whole block did: log2 ||out|| / ||in|| per pixel, norms over channels; red: "
                   "features made stronger, blue: weaker, white: unchanged (gain 1).")
#: Tooltips made of a translatable lead-in and the registry's meaning of the gate.
HELP_PREFIXES = (HELP_GATE_MAP, HELP_GATE_BARS)
CAPTION_STRINGS = (TITLE_GATE, TITLE_BLOCK_GAIN, SUB_GATE_MAP, SUB_GATE_PIXEL, SUB_FLAT, SUB_GATE_BARS,
                   SUB_GATE_BRANCHES, SUB_BLOCK_GAIN, NO_GAIN_TEXT, UNBOUNDED, HELP_GATE_MAP, HELP_GATE_BARS,
                   HELP_BLOCK_GAIN)
#: The second panel of a block when it shows the block's gain rather than a gate.
GAIN = "gain"


def gate_range(gm: GateMap) -> str:
    """The declared range of a gate as a caption says it: ``0..1``, ``0.5..1``, ``unbounded``."""
    lo, hi = gm.gate.low, gm.gate.high
    if lo is None and hi is None:
        return UNBOUNDED
    return f"{'-inf' if lo is None else heatmap.format_value(lo)}..{'inf' if hi is None else heatmap.format_value(hi)}"


#: A gate whose values on a frame span less than this fraction of its declared range is drawn on a
#: colour span that wide around them: noise of 1e-6 stretched over the whole colour map would look
#: like structure (a barely trained CoordAtt's row gate varies in its sixth digit).
MIN_SPAN_FRACTION = 0.01


def min_span(gm: GateMap, lo: float, hi: float) -> tuple[float, float] | None:
    """The colour span of a gate whose drawn values ``lo..hi`` are nearly constant (None: the drawn range)."""
    if gm.gate.low is None or gm.gate.high is None:
        return None
    least = MIN_SPAN_FRACTION * (gm.gate.high - gm.gate.low)
    if hi - lo >= least:
        return None
    mid = (lo + hi) / 2
    return mid - least / 2, mid + least / 2


def panel_plan(block: BlockMaps, s: Settings) -> tuple[str, str]:
    """What a non-GAM block's two panels show: (gate name, gate name or :data:`GAIN`)."""
    order = block.gate_order
    if not order:
        return GAIN, GAIN
    first = s.gate if s.gate in order else order[0]
    if s.gam_view != "gates" or len(order) == 1:
        return first, GAIN
    return first, order[(order.index(first) + 1) % len(order)]


def attention_panels(frame: np.ndarray, block: BlockMaps, s: Settings, shown_width: int | None = None,
                     scales: heatmap.ScaleMemory | None = None) -> list[heatmap.Panel]:
    """The two attention panels (keys ``gam_channel`` and ``gam_spatial``) of a non-GAM ``block`` (GAM's
    own are :func:`gam_gui.render.gam_panel`'s): see :func:`panel_plan`."""
    out = []
    for key, what in zip(("gam_channel", "gam_spatial"), panel_plan(block, s), strict=True):
        if what == GAIN:
            out.append(gain_panel(frame, block, s, shown_width, scales, key))
        else:
            out.append(gate_panel(frame, block, what, s, shown_width, scales, key))
    return out


def gate_panel(frame: np.ndarray, block: BlockMaps, name: str, s: Settings, shown_width: int | None = None,
               scales: heatmap.ScaleMemory | None = None, key: str = "gam_channel") -> heatmap.Panel:
    """Gate ``name`` of ``block``: a heatmap where it has positions, else one bar per channel."""
    gm = block.gates[name]
    values = {"kind": block.kind, "gate": name, "layer": block.index, "range": gate_range(gm)}
    framed = gm.frame()
    if framed is None:
        return bars_panel(frame, block, gm, s, shown_width, scales, key, values)
    m, lo, hi = framed
    raw = (m * np.float32(hi - lo) + np.float32(lo)).astype(np.float32, copy=False)
    nch = 0 if gm.weights is None else len(gm.weights)
    label = f"{name} gate, {s.reduction} over {nch} ch" if nch else f"{name} gate"
    signed = lo < 0 and (gm.gate.low is None or gm.gate.low < 0)
    span = min_span(gm, lo, hi)
    scale = heatmap.make_scale(label, (lo, hi), signed, s, scales, f"{key}|{block.kind}|{name}|{block.index}", span)
    img = heatmap.heat_panel(frame, raw, scale, s.alpha, shown_width)
    template = SUB_GATE_MAP if nch else SUB_GATE_PIXEL
    p = heatmap.make_panel(key, img, TITLE_GATE, template, scale, f"{HELP_GATE_MAP} {gm.gate.meaning}",
                          reduction=s.reduction, channels=nch, **values)
    return flat(p) if span is not None and not scale.fixed else p


def flat(p: heatmap.Panel) -> heatmap.Panel:
    """``p`` with its subtitle saying the gate is nearly constant: the template becomes :data:`SUB_FLAT`,
    the first subtitle its ``subtitle`` value and the first template ``subtitle_template`` (the window
    translates both parts)."""
    p.values["subtitle"] = p.subtitle
    p.values["subtitle_template"] = p.template
    p.subtitle = SUB_FLAT.format(subtitle=p.subtitle)
    p.template = SUB_FLAT
    return p


def bars_panel(frame: np.ndarray, block: BlockMaps, gm: GateMap, s: Settings, shown_width: int | None,
               scales: heatmap.ScaleMemory | None, key: str, values: dict) -> heatmap.Panel:
    """A gate without positions, the frame's size: one bar per channel (SK: stacked branch weights)."""
    h, w = frame.shape[:2]
    help_text = f"{HELP_GATE_BARS} {gm.gate.meaning}"
    if gm.branch_weights is not None:
        img = branch_chart(gm.branch_weights, (h, w), shown_width)
        return heatmap.make_panel(key, img, TITLE_GATE, SUB_GATE_BRANCHES, None, help_text,
                                 channels=gm.branch_weights.shape[1], branches=gm.branch_weights.shape[0], **values)
    weights = np.asarray(gm.weights if gm.weights is not None else np.zeros(0), np.float32)
    drawn = (float(weights.min()), float(weights.max())) if weights.size else (0.0, 0.0)
    low, high = gm.gate.low, gm.gate.high
    axis = (low if low is not None else min(drawn[0], 0.0), high if high is not None else drawn[1])
    label = f"{values['gate']} gate, one weight per channel"
    scale = heatmap.make_scale(label, drawn, False, s, scales, f"{key}|{block.kind}|{values['gate']}|{block.index}",
                              min_span(gm, *drawn))
    img = weight_chart(weights, (h, w), scale, axis, shown_width)
    img = heatmap.draw_scale_bar(img, scale, shown_width)
    p = heatmap.make_panel(key, img, TITLE_GATE, SUB_GATE_BARS, scale, help_text, channels=len(weights), **values)
    return flat(p) if min_span(gm, *drawn) is not None and not scale.fixed else p


def _chart_frame(hw: tuple[int, int], shown_width: int | None) -> tuple[np.ndarray, int, int, int, int, object]:
    h, w = hw
    style = label_style((h, w), shown_width)
    img = np.full((h, w, 3), 40, np.uint8)
    left = style.pad + cv2.getTextSize("0.00", FONT, style.scale, style.thickness)[0][0] + style.pad
    top, bottom, right = style.height, h - style.height - style.pad, w - style.pad
    return img, left, top, right, bottom, style


def weight_chart(weights: np.ndarray, hw: tuple[int, int], scale: heatmap.ColorScale, axis: tuple[float, float],
                 shown_width: int | None = None) -> np.ndarray:
    """One bar per channel on the axis ``axis`` (the gate's declared range), each bar coloured by its
    value on ``scale``; the axis ends are written on the left, "channel 0 ... C-1" below."""
    img, left, top, bottom_right, bottom, style = _chart_frame(hw, shown_width)
    right = bottom_right
    lo, hi = float(axis[0]), float(axis[1])
    if not hi > lo:
        hi = lo + 1.0
    n = len(weights)
    cv2.rectangle(img, (left, top), (right, bottom), (90, 90, 90), 1)
    if n:
        colours = heatmap.heat_colors(weights, scale)
        bw = (right - left) / n
        for i, v in enumerate(weights):
            x1 = int(left + i * bw)
            x2 = max(x1 + 1, int(left + (i + 1) * bw) - (1 if bw > 3 else 0))
            y = int(round(bottom - (min(max(float(v), lo), hi) - lo) / (hi - lo) * (bottom - top)))
            cv2.rectangle(img, (x1, y), (x2 - 1, bottom), tuple(int(c) for c in colours[i]), -1)
    white = (255, 255, 255)
    for v, y in ((hi, top), (lo, bottom)):
        text = heatmap.format_value(v)
        tw = cv2.getTextSize(text, FONT, style.scale, style.thickness)[0][0]
        cv2.putText(img, text, (left - style.pad - tw, y + style.height // 3), FONT, style.scale, white,
                    style.thickness, cv2.LINE_AA)
    cv2.putText(img, f"channel 0 ... {max(0, n - 1)}", (left, bottom + style.height), FONT, style.scale * 0.9,
                white, style.thickness, cv2.LINE_AA)
    return img


def branch_chart(branch_weights: np.ndarray, hw: tuple[int, int], shown_width: int | None = None) -> np.ndarray:
    """SK's branch weights (K, C): per channel a bar split into its K branches' shares (they sum to 1),
    each branch in its own colour, named below."""
    img, left, top, right, bottom, style = _chart_frame(hw, shown_width)
    k, n = branch_weights.shape
    for v, y in ((1.0, top), (0.0, bottom)):  # the shares of a channel sum to 1
        text = heatmap.format_value(v)
        tw = cv2.getTextSize(text, FONT, style.scale, style.thickness)[0][0]
        cv2.putText(img, text, (left - style.pad - tw, y + style.height // 3), FONT, style.scale, (255, 255, 255),
                    style.thickness, cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (right, bottom), (90, 90, 90), 1)
    bw = (right - left) / max(1, n)
    for i in range(n):
        x1 = int(left + i * bw)
        x2 = max(x1 + 1, int(left + (i + 1) * bw) - (1 if bw > 3 else 0))
        y = float(bottom)
        for b in range(k):
            share = float(np.clip(branch_weights[b, i], 0.0, 1.0)) * (bottom - top)
            cv2.rectangle(img, (x1, int(round(y - share))), (x2 - 1, int(round(y))), branch_colour(b), -1)
            y -= share
    x = left
    for b in range(k):
        text = f"branch {b}"
        cv2.putText(img, text, (x, bottom + style.height), FONT, style.scale * 0.9, branch_colour(b),
                    style.thickness, cv2.LINE_AA)
        x += cv2.getTextSize(text, FONT, style.scale * 0.9, style.thickness)[0][0] + 2 * style.pad
    return img


#: Colours (BGR) of SK's kernel branches: far apart in hue, so neighbouring shares stay distinct.
BRANCH_COLOURS = ((200, 120, 30), (30, 140, 240), (60, 180, 60), (160, 60, 170), (40, 40, 210), (170, 170, 40))


def branch_colour(b: int) -> tuple[int, int, int]:
    """The colour of branch ``b`` (after six, the class colours)."""
    return BRANCH_COLOURS[b] if b < len(BRANCH_COLOURS) else class_color(b)


def gain_panel(frame: np.ndarray, block: BlockMaps, s: Settings, shown_width: int | None = None,
               scales: heatmap.ScaleMemory | None = None, key: str = "gam_spatial") -> heatmap.Panel:
    """The block's gain ``log2 ||out|| / ||in||`` per pixel over the frame (signed, 0 white)."""
    values = {"kind": block.kind, "layer": block.index}
    raw = block.gain()
    if raw is None:
        return heatmap.make_panel(key, heatmap.message_panel(frame, NO_GAIN_TEXT), TITLE_BLOCK_GAIN, "-",
                                 None, HELP_BLOCK_GAIN, **values)
    label = "log2 ||out|| / ||in||"
    drawn = (float(raw.min()), float(raw.max())) if raw.size else (0.0, 0.0)
    if not all(math.isfinite(v) for v in drawn):
        drawn = (0.0, 0.0)
    scale = heatmap.make_scale(label, drawn, True, s, scales, f"{key}|{label}|{block.kind}|{block.index}")
    img = heatmap.heat_panel(frame, raw, scale, s.alpha, shown_width)
    return heatmap.make_panel(key, img, TITLE_BLOCK_GAIN, SUB_BLOCK_GAIN, scale, HELP_BLOCK_GAIN, **values)
