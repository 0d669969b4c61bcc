"""The panels: painting each frame the worker sends (latest frame wins), the channel chart's drill-down
into one channel, showing and hiding panels, the panel width the box labels are sized for, and clicking
a box to make it the CAM target.
"""

from __future__ import annotations

from PyQt5.QtCore import QTimer

from gam_gui import render
from gam_gui.explain.attention import GamMaps
from gam_gui.ui.convert import bgr_to_qimage
from gam_gui.ui.panels import detection_at, frame_caption, panel_caption, panel_help, view_action_title
from gam_gui.ui.window_part import WindowPart
from gam_gui.ui.worker import FrameResult, channel_weights


class ViewController(WindowPart):
    """The panels; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def on_frame(self, fr: FrameResult) -> None:
        """Latest-frame-wins on the GUI side too: frames that arrive faster than the GUI paints
        replace each other, and only the newest is converted and painted."""
        win = self.w
        if win.closed:
            return
        scheduled = win.unpainted is not None
        win.unpainted = fr
        if not scheduled:
            QTimer.singleShot(0, self.paint_latest)

    def paint_latest(self) -> None:
        win = self.w
        fr, win.unpainted = win.unpainted, None
        if fr is None or win.closed:
            return
        self.paint(fr)

    def paint(self, fr: FrameResult) -> None:
        """Show one FrameResult: convert its panels to QImages, update chart, labels and status."""
        win = self.w
        win.last = fr
        h, w = fr.frame.image.shape[:2]
        win.grid.set_aspect(w / max(1, h))
        # Compare panels get no hover boxes: a box index means nothing across two models' lists.
        dets = fr.result.detections if fr.result is not None and fr.compare is None else []
        win.grid.set_compare(fr.compare is not None)
        visible = set(win.grid.shown_keys())
        for panel in fr.panels:
            widget = win.grid.panel(panel.key)
            if widget is None:
                continue
            widget.set_detections(dets)
            if panel.key in visible:
                widget.set_image(bgr_to_qimage(panel.image), *frame_caption(panel, fr), (w, h), panel_help(panel),
                                 scale=panel.scale)
            title = view_action_title(panel, fr)  # View menu: the method or map the panel shows now
            if title and panel.key in win.panel_actions:
                win.panel_actions[panel.key].setText(self.tr("{0} panel").format(title))
        weights, title = channel_weights(fr, fr.settings.gam_layer)
        g = shown_gam(fr)
        # only a seed-variant GAM's channel gate is signed; every other kind's channel gate is a sigmoid's
        win.chart.set_weights(weights, title, g.channel_signed if g is not None else False)
        if win.chart.selected != win.drill_channel:  # the chart dropped a channel the new block lacks
            win.drill_channel = win.chart.selected
        self.paint_drill(fr)
        win.sources.update_frame_label(fr)
        win.model.update_status(fr)
        if self.width_changed():  # labels of the next frames fit the panel (a resize re-renders this one)
            win.shown_width = self.shown_panel_width()
            win.worker.set_shown_width(win.shown_width)
        win.frames_painted += 1
        win.frame_painted.emit(fr)

    def set_drill_channel(self, channel: int | None) -> None:
        """Show channel ``channel`` of the shown GAM block before and after the block in the GAM channel
        panel (None: the normal panel again), until cleared; on every frame while it is set."""
        win = self.w
        win.drill_channel = channel
        win.chart.set_selected(channel)
        fr = win.last
        if fr is None:
            return
        if channel is None:  # the frame's own GAM channel panel again
            panel = next((p for p in fr.panels if p.key == "gam_channel"), None)
            widget = win.grid.panel("gam_channel")
            if panel is not None and widget is not None and "gam_channel" in win.grid.shown_keys():
                h, w = fr.frame.image.shape[:2]
                if fr.compare is None and fr.result is not None:
                    widget.set_detections(fr.result.detections)
                widget.set_image(bgr_to_qimage(panel.image), *frame_caption(panel, fr), (w, h), panel_help(panel),
                                 scale=panel.scale)
            return
        self.paint_drill(fr)
        g = shown_gam(fr)
        if g is None and fr.result is not None and fr.result.block_for(fr.settings.gam_layer) is not None:
            win.show_status(self.tr("The channel drill-down needs a GAM block (its recorder keeps the block's input "
                                    "and output); the attention panels show this block's gates"), 6000)
        if g is not None and channel < len(g.channel_weights):
            win.show_status(self.tr("GAM channel panel: channel {0} of layer {1} (weight {2:+.3f}); click the bar "
                                 "again to go back").format(channel, g.index, float(g.channel_weights[channel])), 6000)

    def paint_drill(self, fr: FrameResult) -> None:
        """The drill-down panel of ``fr`` (rendered here: one channel at feature resolution, cheap)."""
        win = self.w
        k = win.drill_channel
        widget = win.grid.panel("gam_channel")
        if k is None or fr.result is None or fr.compare is not None or widget is None \
                or "gam_channel" not in win.grid.shown_keys():
            return
        g = shown_gam(fr)  # the drill-down needs the block's input and output: GAM's recorder keeps them
        if g is None or k >= len(g.channel_weights):
            return
        panel = render.channel_drill_panel(fr.frame.image, g, k, win.shown_width)
        # Two feature maps side by side, not the frame: no boxes to hover, its own size and aspect.
        widget.set_detections([])
        widget.set_image(bgr_to_qimage(panel.image), *panel_caption(panel), None, panel_help(panel), scale=panel.scale)

    def panel_toggled(self, key: str, on: bool) -> None:
        win = self.w
        if not on and len(win.visible_panels()) == 1 and key in win.visible_panels():
            win.panel_actions[key].blockSignals(True)
            win.panel_actions[key].setChecked(True)  # keep at least one panel
            win.panel_actions[key].blockSignals(False)
            return
        win.grid.set_visible(key, on)
        win.push_settings()
        if on and win.last is not None:
            self.paint(win.last)

    def shown_panel_width(self) -> int | None:
        """How wide the first shown panel shows its picture (the worker sizes box labels for it)."""
        win = self.w
        panel = win.grid.panel(win.grid.shown_keys()[0])
        if not panel.isVisible() or panel.image.isNull():
            return None
        return max(1, int(panel.image_rect().width()))

    def width_changed(self) -> bool:
        """Whether the panel's shown width moved more than 10 % from the one the worker sizes labels for."""
        win = self.w
        w, old = self.shown_panel_width(), win.shown_width
        return w is not None and (old is None or abs(w - old) > 0.1 * old)

    def grid_resized(self) -> None:
        """After the panels changed size (window, dock, splitter), re-render when the box labels would
        be noticeably off (the analysis itself is cached, so this only redraws)."""
        win = self.w
        if self.width_changed():
            win.reanalyse()

    def panel_clicked(self, key: str, x: float, y: float) -> None:
        """Clicking a box makes that detection the CAM target."""
        win = self.w
        fr = win.last
        if fr is None or fr.result is None or fr.compare is not None:
            return  # in a comparison a box index would name different objects in A and B
        k = detection_at(fr.result.detections, (x, y))
        if k is None:
            return
        d = fr.result.detections[k]
        # No index here: on a video the object is followed and its index changes from frame to frame;
        # the permanent target label (shown_target) says the index of the frame on screen.
        win.show_status(self.tr("CAM target: the {0} you clicked (score {1:.3f}); followed on a video").format(
            d.name, d.score), 5000)
        win.controls.set_target_index(k)


def shown_gam(fr: FrameResult) -> GamMaps | None:
    """The GAM maps of the block the panels show, when that block is a GAM (None for another kind)."""
    if fr.result is None:
        return None
    b = fr.result.block_for(fr.settings.gam_layer)
    if b is not None:
        return b.gam
    return fr.result.gam_for(fr.settings.gam_layer)
