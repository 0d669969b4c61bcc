"""View > Compare with...: a second model (B) on the same frames; the worker runs both and the window shows
six panels until Stop comparing.
"""

from __future__ import annotations

from pathlib import Path

from gam_gui.ui.window_part import WindowPart


class CompareController(WindowPart):
    """View > Compare with; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def compare_with(self, path: str | Path) -> None:
        """Compare the loaded model (A) with checkpoint ``path`` (B) on every frame: loaded on the worker
        thread; a refused file is a message box and the view stays as it was."""
        w = self.w
        w.compare_path = str(path)
        w.cmd_compare.emit(str(path), w.controls.device_value())

    def stop_comparing(self) -> None:
        """Back to the normal (or ablation) view of the loaded model."""
        w = self.w
        w.cmd_stop_compare.emit()

    def on_compare_loading(self, path: str) -> None:
        w = self.w
        w.progress.setVisible(True)
        w.show_status(self.tr("loading model B {0} ...").format(path), 0)

    def on_compare_loaded(self, name: str) -> None:
        w = self.w
        w.progress.setVisible(w.loading_model)
        w.comparing = name
        w.act_stop_compare.setEnabled(True)
        w.ablation.set_comparing(True)
        a = w.model_info.name if w.model_info is not None else "-"
        w.show_status(self.tr("comparing A: {0} with B: {1}").format(a, name), 5000)
        w.reanalyse()

    def on_compare_failed(self, msg: str) -> None:
        w = self.w
        w.progress.setVisible(w.loading_model)
        w.show_error(self.tr("Cannot load the model to compare with"), msg)

    def on_compare_stopped(self) -> None:
        w = self.w
        w.comparing = ""
        w.act_stop_compare.setEnabled(False)
        w.ablation.set_comparing(False)
        w.show_status(self.tr("comparison stopped"), 3000)
        w.reanalyse()
