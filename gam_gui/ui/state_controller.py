"""What the window remembers between sessions: geometry, dock layout, controls, visible panels, chart and
loop, every value read back through :mod:`gam_gui.ui.settings_schema` (a value the window cannot use
falls back to its default with a notice).
"""

from __future__ import annotations

from gam_gui.ui.settings_schema import SettingsReader, blob, panel_setting
from gam_gui.ui.window_part import WindowPart


class StateController(WindowPart):
    """What the window remembers between sessions; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def restore(self) -> None:
        """Read the settings back, every value through :mod:`gam_gui.ui.settings_schema` (the CLI's
        rules): a value the window cannot use falls back to its default with a one-line notice in
        :attr:`settings_notices`, the status bar and the log, instead of stopping the window."""
        w = self.w
        qs = w.qsettings
        read = SettingsReader(qs)
        geo = blob(qs, "window/geometry")
        if geo is not None:
            w.restoreGeometry(geo)
        state = blob(qs, "window/state")
        if state is not None:
            w.restoreState(state)
        controls = w.controls.restore(qs)
        # A stored size is kept over the model's own only when it was valid.
        w.keep_imgsz = read.has("controls/imgsz") and "controls/imgsz" not in controls.bad_keys()
        for key, a in w.panel_actions.items():
            on = read.get(panel_setting(key))
            a.blockSignals(True)
            a.setChecked(on)
            a.blockSignals(False)
            w.grid.set_visible(key, on)
        if not w.visible_panels():
            w.panel_actions["detections"].setChecked(True)
        chart = read.get("view/chart")
        w.act_chart.setChecked(chart)
        w.chart.setVisible(chart)
        loop = read.get("playback/loop")
        w.act_loop.blockSignals(True)
        w.act_loop.setChecked(loop)
        w.act_loop.blockSignals(False)
        w.settings_notices = controls.notices + read.notices
        if w.settings_notices:
            w.show_status(w.settings_notices[0] if len(w.settings_notices) == 1 else
                         self.tr("{0} settings were ignored (see the log); the first: {1}").format(
                             len(w.settings_notices), w.settings_notices[0]), 15000)

    def save_state(self) -> None:
        w = self.w
        qs = w.qsettings
        qs.setValue("window/geometry", w.saveGeometry())
        qs.setValue("window/state", w.saveState())
        w.controls.save(qs)
        for key, a in w.panel_actions.items():
            qs.setValue(f"view/panel_{key}", a.isChecked())
        qs.setValue("view/chart", w.act_chart.isChecked())
        qs.setValue("playback/loop", w.act_loop.isChecked())
        qs.sync()
