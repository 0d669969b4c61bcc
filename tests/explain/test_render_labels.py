"""Box labels and panel captions of the rendered figures: readable size, no label hiding another,
captions wrapped instead of cut (render.py is Qt-free; these tests need no window)."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from gam_gui import render
from gam_gui.inference import Detection


def det(xyxy, cls=0, score=0.9, name="circle") -> Detection:
    return Detection(tuple(float(v) for v in xyxy), score, cls, name)


def intersects(a, b) -> bool:
    """Rects (x1, y1, x2, y2) with exclusive ends share at least one pixel."""
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize(("frame_hw", "shown"), [((480, 640), 290), ((480, 640), None), ((120, 160), 640),
                                                 ((1080, 1920), 960), ((2160, 3840), 320), ((720, 1280), 1280)])
def test_label_is_at_least_11_px_as_shown_and_in_the_frame(frame_hw, shown):
    h, w = frame_hw
    style = render.label_style(frame_hw, shown)
    shown_w = shown or min(w, render.DEFAULT_SHOWN_WIDTH)
    labels = render.layout_labels([det((w * 0.3, h * 0.3, w * 0.6, h * 0.6))], frame_hw, style)
    x1, y1, x2, y2 = labels[0].rect
    assert y2 - y1 == style.height > style.text_height
    text_h = cv2.getTextSize("Ag", render.FONT, style.scale, style.thickness)
    assert style.text_height == text_h[0][1] + text_h[1]  # what OpenCV draws, ascender to descender
    assert style.text_height * shown_w / w >= render.MIN_LABEL_PX  # on screen / in the figure
    assert style.text_height >= render.MIN_LABEL_PX  # and never a few blurred pixels of an enlarged small frame
    assert style.text_height >= render.LABEL_FRACTION * min(h, w) - 1  # in proportion on big pictures


def test_label_size_follows_the_shown_size_not_only_the_frame():
    """The issue's case: a 640x480 video in a quarter-window panel had 7 px labels."""
    small = render.label_style((480, 640), 290)
    big = render.label_style((480, 640), 640)
    assert small.text_height * 290 / 640 >= render.MIN_LABEL_PX
    assert small.height > big.height and small.scale > big.scale


def test_drawn_label_fills_its_rectangle_above_the_box():
    frame = np.full((240, 320, 3), 128, np.uint8)
    d = det((100, 100, 200, 180), cls=0)
    out = render.draw_detections(frame, [d])
    (lab,) = render.layout_labels([d], (240, 320), render.label_style((240, 320)))
    x1, y1, x2, y2 = lab.rect
    assert y2 <= 100  # above the box: the object stays visible
    colour = render.class_color(0)
    assert tuple(out[y1, x1]) == colour and tuple(out[y2 - 1, x2 - 1]) == colour
    inside = out[y1:y2, x1:x2].reshape(-1, 3)
    assert (inside != colour).any(axis=1).sum() > 20  # the text is there


def test_overlapping_boxes_get_labels_that_do_not_cover_each_other():
    hw = (240, 320)
    dets = [det((100, 100, 200, 200), 0, 0.9), det((108, 92, 208, 192), 1, 0.8, "triangle"),
            det((104, 96, 204, 206), 2, 0.7, "square"), det((100, 100, 200, 200), 3, 0.6, "star")]
    labels = render.layout_labels(dets, hw, render.label_style(hw))
    for a, b in itertools.combinations(labels, 2):
        assert not intersects(a.rect, b.rect), (a, b)
    for lab in labels:
        x1, y1, x2, y2 = lab.rect
        assert 0 <= x1 < x2 <= hw[1] and 0 <= y1 < y2 <= hw[0]


def test_label_avoids_a_neighbouring_box_when_there_is_room():
    """A box right under another: its label goes below instead of over the neighbour."""
    hw = (300, 300)
    upper, lower = det((60, 40, 160, 100), 0), det((60, 102, 160, 180), 1, 0.8, "square")
    labels = render.layout_labels([upper, lower], hw, render.label_style(hw))
    assert labels[0].rect[3] <= 40  # the upper box's label above it
    x1, y1, x2, y2 = labels[1].rect
    assert not intersects(labels[1].rect, (59, 39, 162, 102))  # not over the upper box
    assert not intersects(labels[0].rect, labels[1].rect)


def test_boxes_never_cross_a_label():
    """All boxes are drawn before any label: a label over another box keeps its own colours."""
    hw = (200, 200)
    d0, d1 = det((40, 40, 160, 160), 0), det((30, 60, 170, 190), 5, 0.5, "cross")  # d1's outline crosses d0's
    frame = np.full((*hw, 3), 128, np.uint8)
    out = render.draw_detections(frame, [d0, d1])
    for lab in render.layout_labels([d0, d1], hw, render.label_style(hw)):
        x1, y1, x2, y2 = lab.rect
        px = out[y1:y2, x1:x2].reshape(-1, 3).astype(int)
        text = render.text_color(lab.colour)
        # Every pixel is the label colour, the text colour or antialiased between the two.
        lo = np.minimum(lab.colour, text) - 1
        hi = np.maximum(lab.colour, text) + 1
        assert ((px >= lo) & (px <= hi)).all(), lab


def test_long_caption_wraps_to_more_lines_inside_the_panel():
    width = 240
    short = render.caption_layout("Grad-CAM", "L18  target: all", width)
    long_sub = "L18+22+26  target: all detections  (no detections: CAM of the strongest raw prediction)"
    long = render.caption_layout("Grad-CAM", long_sub, width)
    assert len(short.subtitle) == 1 and len(long.subtitle) >= 2
    assert " ".join(long.subtitle).split() == long_sub.split()  # nothing cut off
    bar = render.caption_bar("Grad-CAM", long_sub, width)
    assert bar.shape[0] == long.height > short.height
    room = width - 2 * long.margin
    for line in long.subtitle:
        assert cv2.getTextSize(line, render.FONT, long.scale * 0.8, 1)[0][0] <= room
    # No text pixel in the right margin: nothing was drawn past the panel's edge.
    assert (bar[:, width - long.margin + 1:] == render.CAPTION_GREY).all()
    # The last line is really drawn (the bar is not just taller).
    last = bar[long.height - long.margin - long.line_h:long.height - long.margin]
    assert (last != render.CAPTION_GREY).any()


def test_a_word_wider_than_the_line_is_broken():
    lines = render.wrap_text("x" * 80, 0.5, 1, 100)
    assert len(lines) > 1 and "".join(lines) == "x" * 80
    assert render.wrap_text("", 0.5, 1, 100) == []


def test_panels_carry_their_caption_template():
    """The window translates a panel's subtitle template and fills it with the same values."""
    from gam_gui.analysis import Result, Settings

    frame = np.zeros((60, 80, 3), np.uint8)
    res = Result(detections=[det((5, 5, 30, 30))], cam=None, gam=[], timings={}, method="none", layers=(),
                 target="all")
    ps = render.panels(frame, res, Settings())
    assert ps[0].template == render.SUB_OBJECTS_ONE and ps[0].subtitle == ps[0].template.format(**ps[0].values)
    assert ps[0].subtitle.startswith("1 object ")
    assert set(render.CAPTION_STRINGS) >= {p.title for p in ps} | {p.template for p in ps if p.template}
