"""Image panels (captioned, aspect-preserving, clickable boxes), their grid and the channel bar chart.

Panels paint QImages the GUI thread converted from the worker's arrays; they map between widget and
frame coordinates themselves, so a click or hover on a box finds the detection under the cursor.
"""

from __future__ import annotations

import math
import re

import numpy as np
from PyQt5.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QPoint, QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PyQt5.QtWidgets import QGridLayout, QSizePolicy, QToolTip, QWidget

from gam_gui import render, render_attention
from gam_gui.inference import Detection
from gam_gui.render import PANEL_TITLES, PANELS
from gam_gui.ui.plain import plain_tooltip

CAPTION_H = 38  # the smallest caption (a title and one subtitle line); longer ones wrap and grow
CAPTION_PAD, CAPTION_MARGIN = 2, 8
MAX_TITLE_LINES, MAX_SUBTITLE_LINES = 2, 4
#: A heatmap panel's colour bar below the frame, as a share of the frame's height (about; for layout).
BAR_SHARE = 0.15
BACKGROUND = QColor(24, 24, 28)
CAPTION_BG = QColor(40, 40, 46)

#: The captions ``gam_gui.render`` writes (English: figures are drawn with OpenCV's ASCII fonts), marked
#: here for Qt's translation tools under the context "render" so the window can show them translated.
#: ``tests/ui/test_gui_i18n.py`` checks that this list covers ``render.CAPTION_STRINGS``.
RENDER_STRINGS = (
    QT_TRANSLATE_NOOP("render", "Detections"), QT_TRANSLATE_NOOP("render", "CAM"),
    QT_TRANSLATE_NOOP("render", "GAM channel"), QT_TRANSLATE_NOOP("render", "GAM spatial"),
    QT_TRANSLATE_NOOP("render", "Frame"),
    QT_TRANSLATE_NOOP("render", "{n} object  conf {conf}  iou {iou}"),
    QT_TRANSLATE_NOOP("render", "{n} objects  conf {conf}  iou {iou}"),
    QT_TRANSLATE_NOOP("render", "L{layers}  target: {target}"),
    QT_TRANSLATE_NOOP("render", "L{layers}  target: {target}  ({note})"),
    QT_TRANSLATE_NOOP("render", "off"),
    QT_TRANSLATE_NOOP("render", "layer {layer}  {reduction} over {channels} ch  ({variant})"),
    QT_TRANSLATE_NOOP("render", "layer {layer}  {reduction}"),
    QT_TRANSLATE_NOOP("render", "this model has no GAM layers"),
    QT_TRANSLATE_NOOP("render", "no model loaded: File > Open weights"),
    # CAM target descriptions (``gam_gui.explain.cams.TargetSpec.label``) and channel reductions.
    QT_TRANSLATE_NOOP("render", "all detections"), QT_TRANSLATE_NOOP("render", "class scores"),
    QT_TRANSLATE_NOOP("render", "box outputs"), QT_TRANSLATE_NOOP("render", "detection #{0}"),
    QT_TRANSLATE_NOOP("render", "class {0}"), QT_TRANSLATE_NOOP("render", "mean"),
    QT_TRANSLATE_NOOP("render", "max"),
    # GAM variants (``models.gam.VARIANTS``) as the GAM channel caption names them.
    QT_TRANSLATE_NOOP("render", "seed"), QT_TRANSLATE_NOOP("render", "paper"),
    QT_TRANSLATE_NOOP("render", "paper-shuffle"),
    # The A/B comparison's fixed captions (``render.compare_panels``).
    QT_TRANSLATE_NOOP("render", "A vs B: boxes"), QT_TRANSLATE_NOOP("render", "CAM A - CAM B"),
    # Gain views, the channel drill-down and the one-line panel descriptions (``render.PANEL_HELP``).
    QT_TRANSLATE_NOOP("render", "GAM block gain"), QT_TRANSLATE_NOOP("render", "GAM channel-branch gain"),
    QT_TRANSLATE_NOOP("render", "GAM spatial-branch gain"), QT_TRANSLATE_NOOP("render", "GAM channel drill-down"),
    QT_TRANSLATE_NOOP("render", "layer {layer}  log2 {formula}"),
    QT_TRANSLATE_NOOP("render", "layer {layer}  channel {channel}: before | after the block, weight {weight}"),
    QT_TRANSLATE_NOOP("render", "no block input/output recorded for this frame"),
    QT_TRANSLATE_NOOP("render", "The model's detections: class, score; click a box to explain that object."),
    QT_TRANSLATE_NOOP("render", "Where the CAM method finds evidence for the target: the colour map's top colour "
                                "is the most on this frame."),
    QT_TRANSLATE_NOOP("render", "Channel gate c(x) of the GAM block, reduced over channels per pixel. Seed "
                                "variant: no sigmoid, so signed: red > 0 (amplifies), blue < 0 (flips the sign), "
                                "white 0."),
    QT_TRANSLATE_NOOP("render", "Channel gate sigmoid(c(x)) of the GAM block, reduced over channels per pixel, "
                                "in [0, 1]."),
    QT_TRANSLATE_NOOP("render", "Spatial gate s(x*c) of the GAM block, reduced over channels per pixel, in "
                                "[0, 1]: how much of the channel-gated features each pixel passes on."),
    QT_TRANSLATE_NOOP("render", "What the whole block did: log2 ||out|| / ||in|| per pixel over channels; red: "
                                "features made stronger, blue: weaker, white: unchanged (gain 1)."),
    QT_TRANSLATE_NOOP("render", "What the channel branch did: log2 ||x*c|| / ||x|| per pixel; red: stronger, "
                                "blue: weaker."),
    QT_TRANSLATE_NOOP("render", "What the spatial branch did: log2 ||out|| / ||x*c|| per pixel; red: stronger, "
                                "blue: weaker."),
    QT_TRANSLATE_NOOP("render", "One channel's feature map before (left) and after (right) the GAM block, on one "
                                "blue-white-red scale (0 white); click the bar again to go back."),
)
#: The six panels of an A/B comparison (``render.compare_panels``), three to a row, and the titles they
#: show before the first compared frame arrives.
COMPARE_PANELS = ("detections_a", "detections_b", "matches", "cam_a", "cam_b", "cam_diff")
COMPARE_TITLES = {"detections_a": "A", "detections_b": "B", "matches": "A vs B: boxes", "cam_a": "A",
                  "cam_b": "B", "cam_diff": "CAM A - CAM B"}
_NUMBERED = re.compile(r"^(detection #|class )(.+)$")


#: The colour bars' labels (``render.ColorScale.label``) as patterns, with the template the window
#: translates (context "render"): the bar's text is then in the window's language (issue 25.11).
SCALE_LABELS = (
    (re.compile(r"^([a-z][\w-]*) gate, (mean|max) over (\d+) ch$"),
     QT_TRANSLATE_NOOP("render", "{0} gate, {1} over {2} ch")),
    (re.compile(r"^([a-z][\w-]*) gate, one weight per channel$"),
     QT_TRANSLATE_NOOP("render", "{0} gate, one weight per channel")),
    (re.compile(r"^([a-z][\w-]*) gate$"), QT_TRANSLATE_NOOP("render", "{0} gate")),
    (re.compile(r"^(.+), 1 = this frame's peak$"), QT_TRANSLATE_NOOP("render", "{0}, 1 = this frame's peak")),
    (re.compile(r"^(.+), 1 = each box's peak$"), QT_TRANSLATE_NOOP("render", "{0}, 1 = each box's peak")),
    (re.compile(r"^(.+), raw units$"), QT_TRANSLATE_NOOP("render", "{0}, raw units")),
    (re.compile(r"^log2 (.+)$"), QT_TRANSLATE_NOOP("render", "log2 {0}")),
    (re.compile(r"^channel (\d+), before \| after$"), QT_TRANSLATE_NOOP("render", "channel {0}, before | after")),
)
SCALE_WORDS = (QT_TRANSLATE_NOOP("render", "channel"), QT_TRANSLATE_NOOP("render", "spatial"))
#: ``{label}: {lo} ... {hi}`` and its held range, as ``render.ColorScale.text`` writes them.
SCALE_TEXT = QT_TRANSLATE_NOOP("render", "{0}: this frame {1} ... {2}")
SCALE_FIXED = QT_TRANSLATE_NOOP("render", " (held over the video: {0} ... {1})")
RAW_PEAK = QT_TRANSLATE_NOOP("render", "raw peak of the map on this frame: {0}")


def tr_render(text: str) -> str:
    """A caption string of ``gam_gui.render`` in the window's language (unchanged when untranslated)."""
    return QCoreApplication.translate("render", text)


def _tr_value(key: str, value: str) -> str:
    if key in ("reduction", "variant", "gate", "range"):
        return tr_render(value)
    if key == "target":
        m = _NUMBERED.match(value)
        return tr_render(m.group(1) + "{0}").format(m.group(2)) if m else tr_render(value)
    return value


def panel_caption(panel: render.Panel) -> tuple[str, str]:
    """A rendered panel's title and subtitle in the window's language.

    The subtitle template is translated and filled with the panel's values (a translation with
    broken fields falls back to the English subtitle rather than failing to paint)."""
    title = tr_render(panel.title)
    values = {k: _tr_value(k, v) for k, v in panel.values.items()}
    if "subtitle_template" in values:  # a subtitle inside another (render_attention.flat)
        try:
            values["subtitle"] = tr_render(values["subtitle_template"]).format(**values)
        except (KeyError, IndexError, ValueError):
            pass
    if getattr(panel, "title_template", ""):  # a title made from the values too ("CBAM spatial gate ...")
        try:
            title = tr_render(panel.title_template).format(**values)
        except (KeyError, IndexError, ValueError):
            title = panel.title
    if not panel.template:
        return title, tr_render(panel.subtitle)
    try:
        return title, tr_render(panel.template).format(**values)
    except (KeyError, IndexError, ValueError):
        return title, panel.subtitle


#: The panels drawn from one model's maps (the CAM and the GAM gates or gains): in the ablation view
#: their caption says which model, the trained one or the ablated one (issue 25.6).
MAP_PANELS = ("cam", "gam_channel", "gam_spatial")


def maps_of(fr: object) -> str:
    """Which model a frame's CAM and GAM maps come from: ``trained`` or ``ablated`` (the worker sets
    ``FrameResult.maps_of`` when it can show the ablated model's maps; without it, the trained one)."""
    return "ablated" if getattr(fr, "maps_of", "trained") == "ablated" else "trained"


def target_lost_under_ablation(fr: object) -> bool:
    """Whether the CAM's target (a detection of the trained model) has no match under the ablation."""
    abl, result, k = getattr(fr, "ablation", None), getattr(fr, "result", None), getattr(fr, "highlight", None)
    if abl is None or result is None or k is None or not 0 <= k < len(result.detections):
        return False
    target = result.detections[k]
    return any(m.status == "lost" and m.a is not None and m.a.xyxy == target.xyxy and m.a.cls == target.cls
               for m in abl.matches)


def frame_caption(panel: render.Panel, fr: object) -> tuple[str, str]:
    """:func:`panel_caption` as the window shows it for frame ``fr``: in the ablation view the map
    panels say which model they come from, and a target the ablation lost is said to be lost."""
    title, subtitle = panel_caption(panel)
    abl = getattr(fr, "ablation", None)
    if abl is not None and panel.key == "detections":  # the ablation's match table, in the window's language
        title = QCoreApplication.translate("panels", "Ablation {0}").format(abl.describe_blocks())
        return title, match_counts(abl.matches)
    if abl is None or panel.key not in MAP_PANELS:
        return title, subtitle
    model = (QCoreApplication.translate("panels", "trained model") if maps_of(fr) == "trained"
             else QCoreApplication.translate("panels", "ablated model"))
    title = QCoreApplication.translate("panels", "{0} - {1}").format(title, model)
    if panel.key == "cam" and maps_of(fr) == "ablated" and target_lost_under_ablation(fr):
        subtitle = QCoreApplication.translate("panels", "target lost under the ablation: no box to explain")
    return title, subtitle


def match_counts(matches: list) -> str:
    """``3 kept (mean -0.21), 1 lost, 0 new`` in the window's language (the words of the status bar)."""
    kept = [m.delta for m in matches if m.status == "kept"]
    n_lost = sum(m.status == "lost" for m in matches)
    n_new = sum(m.status == "new" for m in matches)
    if kept:
        return QCoreApplication.translate("MainWindow", "{0} kept (mean {1}), {2} lost, {3} new").format(
            len(kept), f"{sum(kept) / len(kept):+.2f}", n_lost, n_new)
    return QCoreApplication.translate("MainWindow", "{0} kept, {1} lost, {2} new").format(0, n_lost, n_new)


def ablation_note(fr: object) -> str:
    """The status bar's words after the ablation's match table: which model the maps are of, and
    whether the CAM's target survived the ablation."""
    if getattr(fr, "ablation", None) is None:
        return ""
    parts = [QCoreApplication.translate("panels", "maps: trained model") if maps_of(fr) == "trained"
             else QCoreApplication.translate("panels", "maps: ablated model")]
    if target_lost_under_ablation(fr):
        parts.append(QCoreApplication.translate("panels", "the CAM's target is lost under the ablation"))
    return "; ".join(parts)


def view_action_title(panel: render.Panel, fr: object) -> str | None:
    """The name the View menu gives panel ``panel.key`` while it shows ``panel`` (the CAM method, a
    gate or a gain), or None to keep the current name (detections, a comparison)."""
    if getattr(fr, "compare", None) is not None or panel.key not in MAP_PANELS:
        return None
    return panel_caption(panel)[0]


def scale_label(label: str) -> str:
    """A colour bar's label in the window's language (unchanged when no pattern matches)."""
    for pattern, template in SCALE_LABELS:
        m = pattern.match(label)
        if m:
            return tr_render(template).format(*(tr_render(g) for g in m.groups()))
    return label


def scale_text(scale: render.ColorScale) -> str:
    """The colour bar's text (what is drawn, this frame's range, a held range) in the window's language."""
    def fmt(v: float) -> str:
        return render.format_value(v, scale.signed, getattr(scale, "digits", 3))

    if scale.raw_peak is not None:  # normalised to its peak: the label says it all
        return scale_label(scale.label)
    text = tr_render(SCALE_TEXT).format(scale_label(scale.label), fmt(scale.drawn[0]), fmt(scale.drawn[1]))
    if scale.fixed:
        text += tr_render(SCALE_FIXED).format(fmt(scale.lo), fmt(scale.hi))
    return text


def panel_help(panel: render.Panel) -> str:
    """A rendered panel's one-line description in the window's language (its caption's tooltip), with
    the raw peak of a map shown normalised (a CAM's raw units are in no bar: issue 25.5)."""
    text = tr_render(panel.help) if panel.help else ""
    for prefix in render_attention.HELP_PREFIXES:  # a registry gate's meaning follows: translate the lead-in
        if panel.help.startswith(prefix + " "):
            text = tr_render(prefix) + " " + panel.help[len(prefix) + 1:]
    peak = getattr(panel.scale, "raw_peak", None)
    if peak is not None:
        text = "\n".join(t for t in (text, tr_render(RAW_PEAK).format(f"{peak:.4g}")) if t)
    return text


class ImagePanel(QWidget):
    """One captioned picture. ``clicked`` gives the panel key and the click in FRAME pixels."""

    clicked = pyqtSignal(str, float, float)

    def __init__(self, key: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.title = title
        self.subtitle = ""
        self.placeholder = ""
        self.image = QImage()
        self.frame_size = (0, 0)  # (w, h) of the frame the image shows; the image may be a smaller copy
        self.detections: list[Detection] = []
        self._hover: int | None = None
        self._mouse: QPointF | None = None  # the pointer over the panel (widget coordinates), None when outside
        self.subtitle_elided = False
        self.help = ""  # what the panel shows, in one line: the caption's tooltip
        self.scale: render.ColorScale | None = None  # a heatmap's colour scale (its bar drawn by Qt)
        self.bar_text = ""  # the bar's text as last drawn (translated)
        self.setMouseTracking(True)
        self.setMinimumSize(120, 100)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(320, 260)

    def set_image(self, image: QImage, title: str, subtitle: str, frame_size: tuple[int, int] | None = None,
                  help_text: str | None = None, scale: render.ColorScale | None = None) -> None:
        """Show ``image``; ``frame_size`` (w, h) is the frame it depicts, for mapping clicks to frame pixels;
        ``help_text``: what the panel shows (the caption's tooltip; None keeps the current one);
        ``scale``: the colour scale of a heatmap, whose bar below the frame the panel then draws itself,
        in the window's language, over the English one baked into the image."""
        self.scale = scale
        self.image, self.title, self.subtitle, self.placeholder = image, title, subtitle, ""
        if help_text is not None:
            self.help = help_text
        self.frame_size = frame_size or (image.width(), image.height())
        self._update_hover()
        self.update()

    def set_placeholder(self, text: str) -> None:
        """An empty state with a hint (no source, no model)."""
        self.image, self.placeholder, self.subtitle, self.scale = QImage(), text, "", None
        self.detections = []
        self._hover = None
        self.update()

    def set_detections(self, detections: list[Detection]) -> None:
        """The boxes of the frame now shown. The hover box is found again under the pointer: an index
        kept from the previous frame would name another object on this one (issue 25.4)."""
        self.detections = list(detections)
        self._update_hover()

    @property
    def hover(self) -> int | None:
        """The detection under the pointer on the frame shown, or None."""
        return self._hover

    def _update_hover(self) -> bool:
        k = self.detection_at(self._mouse) if self._mouse is not None else None
        if k == self._hover:
            return False
        self._hover = k
        self.update()
        return True

    # -- geometry ----------------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        """Where the whole image is drawn: the area under the caption, aspect preserved, centred. The
        image may be taller than the frame it shows: a heatmap's colour bar is drawn below it."""
        top = self.caption_height()
        area = QRectF(0, top, self.width(), max(1, self.height() - top))
        if self.image.isNull():
            return area
        iw, ih = max(1, self.image.width()), max(1, self.image.height())
        scale = min(area.width() / iw, area.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)

    def image_rect(self) -> QRectF:
        """Where the frame is drawn: the top of :meth:`picture_rect`, without the colour bar below it
        (clicks and hover boxes map to frame pixels inside it only)."""
        r = self.picture_rect()
        if self.image.isNull():
            return r
        fw, fh = self.frame_size
        frame_h = self.image.width() * fh / max(1, fw)  # the frame's height in image pixels
        share = min(1.0, frame_h / max(1, self.image.height()))
        return QRectF(r.x(), r.y(), r.width(), r.height() * share)

    def widget_to_frame(self, pos: QPoint | QPointF) -> tuple[float, float] | None:
        """Widget coordinates -> frame pixels, or None outside the picture."""
        if self.image.isNull():
            return None
        r = self.image_rect()
        if not r.contains(QPointF(pos)):
            return None
        sx = self.frame_size[0] / r.width()
        sy = self.frame_size[1] / r.height()
        return (pos.x() - r.x()) * sx, (pos.y() - r.y()) * sy

    def frame_to_widget(self, x: float, y: float) -> QPointF:
        r = self.image_rect()
        if self.image.isNull():
            return QPointF(r.x(), r.y())
        return QPointF(r.x() + x * r.width() / self.frame_size[0], r.y() + y * r.height() / self.frame_size[1])

    def detection_at(self, pos: QPoint | QPointF) -> int | None:
        """The smallest detection box under ``pos`` (widget coordinates)."""
        p = self.widget_to_frame(pos)
        return detection_at(self.detections, p) if p is not None else None

    # -- the caption: wrapped, never cut (issue 25.9) -----------------------------------------------------
    def title_font(self) -> QFont:
        f = QFont(self.font())
        f.setBold(True)
        return f

    def subtitle_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(max(6.0, f.pointSizeF() * 0.85))
        return f

    def caption_room(self) -> int:
        """The width the caption's lines may take."""
        return max(20, self.width() - 2 * CAPTION_MARGIN)

    def title_lines(self) -> list[str]:
        return wrap_lines(self.title, QFontMetrics(self.title_font()), self.caption_room(), MAX_TITLE_LINES)

    def subtitle_lines(self) -> list[str]:
        lines = wrap_lines(self.subtitle, QFontMetrics(self.subtitle_font()), self.caption_room(),
                           MAX_SUBTITLE_LINES)
        self.subtitle_elided = "".join(lines).replace(" ", "") != self.subtitle.replace(" ", "")
        return lines

    def caption_height(self) -> int:
        """The caption's height: its wrapped lines, at least :data:`CAPTION_H`."""
        n_title, n_sub = len(self.title_lines()), len(self.subtitle_lines())
        need = (2 * CAPTION_PAD + n_title * QFontMetrics(self.title_font()).height()
                + n_sub * QFontMetrics(self.subtitle_font()).height())
        return max(CAPTION_H, need)

    # -- painting and mouse --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        top = self.caption_height()
        p.fillRect(QRect(0, 0, self.width(), top), CAPTION_BG)
        y = CAPTION_PAD
        for font, colour, lines in ((self.title_font(), QColor(240, 240, 240), self.title_lines()),
                                    (self.subtitle_font(), QColor(190, 190, 195), self.subtitle_lines())):
            p.setFont(font)
            p.setPen(colour)
            step = QFontMetrics(font).height()
            for line in lines:
                p.drawText(QRect(CAPTION_MARGIN, y, self.width() - 2 * CAPTION_MARGIN, step),
                           Qt.AlignLeft | Qt.AlignVCenter, line)
                y += step
        p.setFont(self.font())
        if self.image.isNull():
            p.setPen(QColor(170, 170, 175))
            area = QRect(10, top, self.width() - 20, self.height() - top)
            p.drawText(area, Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            return
        p.setRenderHint(QPainter.SmoothPixmapTransform)
        whole, frame = self.picture_rect(), self.image_rect()
        if self.scale is not None and whole.height() - frame.height() >= 12:
            share = frame.height() / whole.height()
            p.drawImage(frame, self.image, QRectF(0, 0, self.image.width(), self.image.height() * share))
            self._paint_bar(p, QRectF(whole.x(), frame.bottom(), whole.width(), whole.bottom() - frame.bottom()))
        else:
            p.drawImage(whole, self.image)
        if self._hover is not None and self._hover < len(self.detections):
            x1, y1, x2, y2 = self.detections[self._hover].xyxy
            a, b = self.frame_to_widget(x1, y1), self.frame_to_widget(x2, y2)
            p.setPen(QPen(QColor(255, 255, 255), 2, Qt.DashLine))
            p.drawRect(QRectF(a, b))

    def _paint_bar(self, p: QPainter, r: QRectF) -> None:
        """The colour bar below the frame: the ramp with ticks at this frame's min/max (and a signed
        map's 0), the scale's two end values under its ends, and the translated text."""
        sc = self.scale
        p.fillRect(r, QColor(32, 32, 32))
        pad = max(2.0, r.height() * 0.08)
        bar_h = max(4.0, r.height() * 0.22)
        ramp = QRectF(r.x() + pad, r.y() + pad, max(1.0, r.width() - 2 * pad), bar_h)
        lut = render.DIVERGING_LUT if sc.signed else render.colormap_lut(sc.colormap)
        rgb = np.ascontiguousarray(lut.reshape(1, 256, 3)[:, :, ::-1])
        strip = QImage(rgb.data, 256, 1, 768, QImage.Format_RGB888).copy()
        p.drawImage(ramp, strip)
        if sc.hi > sc.lo:
            for v in (*sc.drawn, *((0.0,) if sc.signed else ())):
                if math.isfinite(v):
                    x = ramp.left() + (min(max(v, sc.lo), sc.hi) - sc.lo) / (sc.hi - sc.lo) * ramp.width()
                    p.setPen(QPen(QColor(0, 0, 0), 3))
                    p.drawLine(QPointF(x, ramp.top()), QPointF(x, ramp.bottom()))
                    p.setPen(QPen(QColor(255, 255, 255), 1))
                    p.drawLine(QPointF(x, ramp.top()), QPointF(x, ramp.bottom()))
        rows = max(1.0, (r.bottom() - ramp.bottom() - pad) / 3)
        f = QFont(self.font())
        f.setPixelSize(int(max(8, min(14, rows * 0.8))))
        p.setFont(f)
        p.setPen(QColor(235, 235, 235))
        lo_txt, hi_txt = sc.end_labels()
        row1 = QRectF(ramp.left(), ramp.bottom(), ramp.width(), rows)
        p.drawText(row1, Qt.AlignLeft | Qt.AlignVCenter, lo_txt)
        p.drawText(row1, Qt.AlignRight | Qt.AlignVCenter, hi_txt)
        row2 = QRectF(ramp.left(), ramp.bottom() + rows, ramp.width(), 2 * rows)
        text = scale_text(sc)
        self.bar_text = text
        lines = wrap_lines(text, p.fontMetrics(), int(row2.width()), 2)
        p.drawText(row2, Qt.AlignLeft | Qt.AlignTop, "\n".join(lines))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._mouse = QPointF(event.pos())
        self._update_hover()
        k = self._hover
        if k is None:
            tip = self.caption_tooltip() if event.pos().y() < self.caption_height() else ""
            if tip:
                QToolTip.showText(event.globalPos(), plain_tooltip(tip), self)
            else:
                QToolTip.hideText()
            self.unsetCursor()
        else:
            self.setCursor(Qt.PointingHandCursor)
            QToolTip.showText(event.globalPos(), plain_tooltip(self.tooltip_for(k)), self)
        super().mouseMoveEvent(event)

    def caption_tooltip(self) -> str:
        """The caption's tooltip: the whole subtitle when it was cut, and what the panel shows."""
        parts = [self.subtitle] if self.subtitle_elided else []
        if self.help:
            parts.append(self.help)
        return "\n".join(parts)

    def tooltip_for(self, k: int) -> str:
        d = self.detections[k]
        return self.tr("#{0} {1} (class {2})  score {3:.3f}\nclick: explain this object").format(
            k, d.name, d.cls, d.score)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._mouse = None
        if self._hover is not None:
            self._hover = None
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.LeftButton:
            p = self.widget_to_frame(event.pos())
            if p is not None:
                self.clicked.emit(self.key, p[0], p[1])
        super().mousePressEvent(event)


def wrap_lines(text: str, fm: QFontMetrics, room: int, max_lines: int) -> list[str]:
    """``text`` in lines no wider than ``room`` pixels: broken at spaces, or anywhere in a word (or a
    Chinese sentence, which has no spaces) wider than a line; past ``max_lines`` the last line ends
    in an ellipsis (the caption's tooltip then has the whole text)."""
    if not text:
        return []
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\S+\s*|\s+", text):
        if fm.horizontalAdvance((line + token).rstrip()) <= room:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        for ch in token:  # a token wider than a line: break it where it must
            if fm.horizontalAdvance((line + ch).rstrip()) > room and line.strip():
                lines.append(line.rstrip())
                line = ""
            line += ch if line or not ch.isspace() else ""
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = [*lines[: max_lines - 1], fm.elidedText(rest, Qt.ElideRight, room)]
    return lines


def detection_at(detections: list[Detection], point: tuple[float, float]) -> int | None:
    """Index of the smallest box containing ``point`` (frame pixels), so nested objects stay clickable."""
    x, y = point
    best, best_area = None, math.inf
    for k, d in enumerate(detections):
        x1, y1, x2, y2 = d.xyxy
        if x1 <= x <= x2 and y1 <= y <= y2:
            area = (x2 - x1) * (y2 - y1)
            if area < best_area:
                best, best_area = k, area
    return best


class PanelGrid(QWidget):
    """The visible panels in the column count that shows the pictures largest: a row of four when
    wide, 2x2 when narrow (or a column when very tall).

    In compare mode (:meth:`set_compare`) it shows the six panels of an A/B comparison instead,
    3x2 in a usual window (a row of six or a column when that is clearly larger); the normal
    panels' visibility is kept for when the comparison ends."""

    #: Emitted after every resize (the window re-renders box labels for the new size).
    resized = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels = {k: ImagePanel(k, tr_render(PANEL_TITLES[k]), self) for k in PANELS}
        self.compare_panels = {k: ImagePanel(k, tr_render(COMPARE_TITLES[k]), self) for k in COMPARE_PANELS}
        self.visible = {k: True for k in PANELS}
        self.compare = False
        self.aspect = 4 / 3  # frame width / height
        self._cols = 0
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._relayout(force=True)

    def visible_keys(self) -> tuple[str, ...]:
        """The normal panels the user chose to see (View > ... panel)."""
        return tuple(k for k in PANELS if self.visible[k])

    def panel(self, key: str) -> ImagePanel | None:
        """The panel widget of ``key``, normal or compare (None for an unknown key)."""
        return self.panels.get(key) or self.compare_panels.get(key)

    def shown_keys(self) -> tuple[str, ...]:
        """The panels on screen now: the comparison's six in compare mode, else the visible ones."""
        return COMPARE_PANELS if self.compare else self.visible_keys()

    def set_compare(self, on: bool) -> None:
        """Show the six A/B panels (True) or the normal ones (False)."""
        if bool(on) != self.compare:
            self.compare = bool(on)
            self._relayout(force=True)

    def set_visible(self, key: str, on: bool) -> None:
        self.visible[key] = bool(on)
        self._relayout(force=True)

    def set_aspect(self, aspect: float) -> None:
        if aspect > 0 and abs(aspect - self.aspect) > 1e-3:
            self.aspect = aspect
            self._relayout()

    @property
    def columns(self) -> int:
        return self._cols

    def best_columns(self, width: int, height: int, n: int) -> int:
        """The column count that makes each picture largest in a ``width`` x ``height`` area."""
        if n <= 1:
            return 1
        best, best_scale = n, -1.0
        sp = self._layout.spacing()
        # A row, two rows (2x2 for four, 3x2 for six), or a column: never a ragged 3 + 1.
        for cols in sorted({n, math.ceil(n / 2), 1}, reverse=True):
            rows = math.ceil(n / cols)
            cw = (width - sp * (cols - 1)) / cols
            ch = ((height - sp * (rows - 1)) / rows - CAPTION_H) / (1 + BAR_SHARE)
            scale = min(cw / self.aspect, ch) if ch > 0 else 0
            if scale > best_scale * 1.02:  # prefer more columns unless fewer are clearly better
                best, best_scale = cols, scale
        return best

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._relayout()
        self.resized.emit()

    def _relayout(self, force: bool = False) -> None:
        keys = self.shown_keys()
        cols = self.best_columns(max(1, self.width()), max(1, self.height()), len(keys))
        if cols == self._cols and not force:
            return
        self._cols = cols
        for k, panel in (*self.panels.items(), *self.compare_panels.items()):
            self._layout.removeWidget(panel)
            panel.setVisible(k in keys)
        for c in range(len(COMPARE_PANELS)):
            self._layout.setColumnStretch(c, 0)
            self._layout.setRowStretch(c, 0)
        for i, k in enumerate(keys):
            r, c = divmod(i, cols)
            self._layout.addWidget(self.panel(k), r, c)
            self._layout.setColumnStretch(c, 1)
            self._layout.setRowStretch(r, 1)


class ChannelBarChart(QWidget):
    """Per-channel attention of one GAM block as bars from 0 (signed values go down), with its axis and
    colours labelled. Hovering a bar shows its channel and weight; clicking one emits
    ``channel_clicked`` (the window then shows that channel's feature maps), clicking it again emits
    ``channel_clicked(-1)`` (back to the normal panel)."""

    channel_clicked = pyqtSignal(int)
    #: bar colours: the three largest weights, the others, and the channel drilled into
    TOP_COLOUR, BAR_COLOUR, SELECTED_COLOUR = QColor(255, 150, 40), QColor(70, 140, 210), QColor(250, 250, 250)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: np.ndarray | None = None
        self.title = self.tr("Channel attention")
        self.selected: int | None = None
        self.signed = True  # whether the weights can be negative (seed variant): said in the axis label
        self.setMouseTracking(True)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setToolTip(self.legend())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(600, 140)

    def set_weights(self, weights: np.ndarray | None, title: str, signed: bool | None = None) -> None:
        self.weights = None if weights is None else np.asarray(weights, np.float32).ravel()
        self.title = title
        if signed is not None:
            self.signed = bool(signed)
        if self.selected is not None and (self.weights is None or self.selected >= len(self.weights)):
            self.selected = None
        self.update()

    def set_selected(self, channel: int | None) -> None:
        self.selected = channel
        self.update()

    def axis_label(self) -> str:
        if self.signed:
            return self.tr("y: mean channel gate over the pixels (no sigmoid: signed; < 0 flips the feature)")
        return self.tr("y: mean channel gate over the pixels (sigmoid: 0 to 1)")

    def legend(self) -> str:
        return self.tr("orange: the 3 largest weights; blue: the others; white: the channel shown in the GAM "
                       "channel panel. x: channel index. Click a bar to see that channel before and after the "
                       "block, click it again to go back.")

    def _title_h(self) -> int:
        return QFontMetrics(self.font()).height() + 2

    def _plot_rect(self) -> QRectF:
        """The bars' area: below the title row with room for the top value's label (half a line above
        the plot) so that it never touches the title (issue 25.11), above the two axis rows."""
        top = self._title_h() + QFontMetrics(self.font()).height() // 2 + 2
        return QRectF(44, top, max(1, self.width() - 52), max(1, self.height() - top - 34))

    def bar_at(self, x: float) -> int | None:
        if self.weights is None or not len(self.weights):
            return None
        r = self._plot_rect()
        if not r.left() <= x < r.right():
            return None
        return min(len(self.weights) - 1, int((x - r.left()) / r.width() * len(self.weights)))

    def bar_center(self, i: int) -> QPointF:
        """Where bar ``i`` is, in widget coordinates (for tests and the drill-down's hint)."""
        r = self._plot_rect()
        n = len(self.weights) if self.weights is not None else 1
        return QPointF(r.left() + (i + 0.5) * r.width() / n, r.center().y())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        p.setPen(QColor(230, 230, 230))
        p.drawText(QRect(8, 0, self.width() - 16, self._title_h()), Qt.AlignLeft | Qt.AlignVCenter,
                   p.fontMetrics().elidedText(self.title, Qt.ElideRight, self.width() - 16))
        w = self.weights
        r = self._plot_rect()
        if w is None or not len(w):
            p.setPen(QColor(150, 150, 155))
            p.drawText(r, Qt.AlignCenter, self.tr("no channel gate to show: the title says why"))
            return
        # Signed weights are possible (a GAM whose channel attention has no sigmoid): bars grow from 0.
        top, bottom = max(float(w.max()), 0.0), min(float(w.min()), 0.0)
        if top - bottom < 1e-9:
            top = bottom + 1.0
        span = top - bottom

        def y_of(v: float) -> float:
            return r.bottom() - (v - bottom) / span * r.height()

        zero = y_of(0.0)
        p.setPen(QColor(170, 170, 175))
        p.drawText(QRectF(0, r.top() - 7, 40, 14), Qt.AlignRight | Qt.AlignVCenter, f"{top:.2f}")
        p.drawText(QRectF(0, zero - 7, 40, 14), Qt.AlignRight | Qt.AlignVCenter, "0")
        if bottom < 0:
            p.drawText(QRectF(0, r.bottom() - 7, 40, 14), Qt.AlignRight | Qt.AlignVCenter, f"{bottom:.2f}")
        p.setPen(QColor(120, 120, 126))
        p.drawLine(QPointF(r.left(), zero), QPointF(r.right(), zero))
        bw = r.width() / len(w)
        hi_idx = set(np.argsort(w)[-3:].tolist()) if float(w.max()) > float(w.min()) else set()
        p.setPen(Qt.NoPen)
        for i, v in enumerate(w):
            y = y_of(float(v))
            top_y, h = min(y, zero), max(1.0, abs(y - zero))
            col = self.SELECTED_COLOUR if i == self.selected else (self.TOP_COLOUR if i in hi_idx else self.BAR_COLOUR)
            p.setBrush(col)
            p.drawRect(QRectF(r.left() + i * bw, top_y, max(1.0, bw - (1 if bw > 3 else 0)), h))
        # x axis: first and last channel index; the axis, sign and colours in words below
        p.setPen(QColor(170, 170, 175))
        f = QFont(self.font())
        f.setPointSizeF(max(6.0, f.pointSizeF() * 0.85))
        p.setFont(f)
        p.drawText(QRectF(r.left(), r.bottom() + 1, 60, 14), Qt.AlignLeft | Qt.AlignVCenter, "0")
        p.drawText(QRectF(r.right() - 60, r.bottom() + 1, 60, 14), Qt.AlignRight | Qt.AlignVCenter, str(len(w) - 1))
        p.drawText(QRectF(r.left() + 60, r.bottom() + 1, r.width() - 120, 14), Qt.AlignCenter,
                   self.tr("channel index"))
        key = self.axis_label() + "   " + self.tr("orange: 3 largest; white: shown channel (click a bar)")
        p.drawText(QRectF(8, r.bottom() + 16, self.width() - 16, 16), Qt.AlignLeft | Qt.AlignVCenter,
                   p.fontMetrics().elidedText(key, Qt.ElideRight, self.width() - 16))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        i = self.bar_at(event.pos().x())
        if i is None:
            QToolTip.showText(event.globalPos(), self.legend(), self)
        else:
            QToolTip.showText(event.globalPos(), self.bar_tooltip(i), self)
        super().mouseMoveEvent(event)

    def bar_tooltip(self, i: int) -> str:
        return self.tr("channel {0}: {1:.4f}\nclick: show this channel before and after the block").format(
            i, float(self.weights[i]))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.LeftButton:
            i = self.bar_at(event.pos().x())
            if i is not None:
                self.selected = None if i == self.selected else i
                self.update()
                self.channel_clicked.emit(-1 if self.selected is None else i)
        super().mousePressEvent(event)
