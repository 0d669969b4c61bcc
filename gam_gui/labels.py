"""Box labels: how large they are for the size a picture is shown at, where each goes so that it hides
the least, and drawing them. :mod:`gam_gui.render` draws boxes and figures with these."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from gam_gui.inference import Detection

# A fixed, colour-blind-friendly-ish palette (BGR), indexed by class id.
_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
            (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0), (168, 153, 44), (255, 194, 0),
            (147, 69, 52), (255, 115, 100), (236, 24, 0), (255, 56, 132), (133, 0, 82), (255, 56, 203)]


def class_color(cls: int) -> tuple[int, int, int]:
    return _PALETTE[int(cls) % len(_PALETTE)]


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
        out.append(LabelBox(k, text, rect, colours[k] if colours is not None else class_color(d.cls)))
    return out


def text_color(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light label colours, white on dark ones (BGR luma)."""
    b, g, r = bg
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 150 else (255, 255, 255)


def draw_labels(out: np.ndarray, labels: list[LabelBox], style: LabelStyle) -> None:
    for lab in reversed(labels):  # the best detection's label ends up on top where overlap is unavoidable
        x1, y1, x2, y2 = lab.rect
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), lab.colour, -1)
        base = cv2.getTextSize(lab.text, FONT, style.scale, style.thickness)[1]
        cv2.putText(out, lab.text, (x1 + style.pad, y2 - style.pad - base), FONT, style.scale,
                    text_color(lab.colour), style.thickness, cv2.LINE_AA)
