"""The model and the analysis controls: loading weights (File > Open weights, the device), what the window
does while a model loads and when it fails, and the status bar line of each analysed frame.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gam_gui import render
from gam_gui.ui.controls import cuda_available
from gam_gui.ui.panels import ablation_note, tr_render
from gam_gui.ui.plain import plain_tooltip
from gam_gui.ui.window_part import NO_MODEL_HINT, WindowPart, absolute, match_summary, shown_target
from gam_gui.ui.worker import FrameResult, ModelInfo

LOGGER = logging.getLogger(__name__)


class ModelController(WindowPart):
    """The model and the analysis controls; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def load_weights(self, path: str | Path | None = None, device: str | None = None) -> None:
        """Load a checkpoint on the worker thread (None: the default model); progress in the status bar."""
        w = self.w
        w.model_path = str(path) if path else ""
        if device:
            if device.startswith("cuda") and not cuda_available():
                w.show_status(self.tr("CUDA is not available; using the CPU instead of {0}").format(device))
                device = "cpu"
            w.controls.set_device(device.split(":")[0])
        w.model_requested = True
        w.loading_model = True
        w.cmd_load_model.emit(w.model_path, device or w.controls.device_value())

    def on_model_loading(self, path: str) -> None:
        w = self.w
        w.progress.setVisible(True)
        w.controls.weights_button.setEnabled(False)
        w.show_status(self.tr("loading model {0} ...").format(path), 0)

    def finish_loading(self) -> None:
        w = self.w
        w.loading_model = False
        w.startup_load = False
        w.progress.setVisible(False)
        w.controls.weights_button.setEnabled(True)
        if w.pending_source is not None:
            spec, w.pending_source = w.pending_source, None
            w.open_source(spec)

    def on_model_loaded(self, info: ModelInfo) -> None:
        w = self.w
        w.model_info = info
        restored_for = w.setting("controls/imgsz_weights")
        keep = w.keep_imgsz and restored_for == info.path
        w.keep_imgsz = False
        w.controls.set_model_info(info)
        w.ablation.set_layers(info.blocks or info.gam_layers)
        if not keep:
            w.controls.set_imgsz(info.imgsz or 640)
        w.qsettings.setValue("controls/imgsz_weights", info.path)
        if w.model_path:
            w.qsettings.setValue("paths/last_weights", str(absolute(w.model_path)))
        w.device_label.setText(self.tr("device: {0}").format(info.device))
        w.model_label.setText(self.tr("model: {0}").format(info.name))
        w.model_label.setToolTip(plain_tooltip(info.path))
        gam = self.tr("{0} GAM blocks").format(len(info.gam_layers)) if info.gam_layers else self.tr("no GAM blocks")
        others = len(info.blocks) - len(info.gam_layers)
        if others > 0:
            gam += self.tr(", {0} other attention blocks").format(others)
        w.show_status(self.tr("loaded {0}: {1} classes, {2}").format(info.name, len(info.names), gam), 5000)
        if not info.gam_layers and not info.blocks:
            for key in ("gam_channel", "gam_spatial"):
                w.grid.panels[key].set_placeholder(tr_render(render.NO_GAM_TEXT))
        w.push_settings()  # before a waiting source opens: its first frame uses this model's controls
        self.finish_loading()
        w.reanalyse()

    def on_model_failed(self, msg: str) -> None:
        w = self.w
        startup = w.startup_load
        w.startup_load = False
        w.controls.set_model_failed()
        if w.model_info is None:
            for p in w.grid.panels.values():
                if p.image.isNull():
                    p.set_placeholder(self.w.tr(NO_MODEL_HINT))  # declared in the MainWindow context
        if startup:
            w.show_status(self.tr("no model: {0}").format(msg), 0)
            w.errors.append(msg)
            LOGGER.warning("%s", msg)
        else:
            w.show_error(self.tr("Cannot load the weights"), msg)
        self.finish_loading()

    def device_changed(self, device: str) -> None:
        w = self.w
        if w.model_info is not None or w.model_requested:
            self.load_weights(w.model_path or None, device)

    def update_status(self, fr: FrameResult) -> None:
        w = self.w
        r = fr.result
        summary = ""
        if fr.compare is not None:
            summary = self.tr("A vs B: {0}").format(match_summary(fr.compare.matches, comparison=True))
        elif fr.ablation is not None:
            summary = self.tr("ablation {0}: {1}").format(fr.ablation.describe_blocks(),
                                                          match_summary(fr.ablation.matches))
            note = ablation_note(fr)  # the target lost under the ablation, which model the maps are of
            if note:
                summary += "  " + note
        w.summary_label.setText(summary)
        w.summary_label.setVisible(bool(summary))
        target = shown_target(fr)
        w.target_label.setText(self.tr("target: detection #{0} ({1})").format(*target) if target else "")
        w.target_label.setVisible(target is not None)
        if r is None:
            w.timings_label.setText("")
            w.fps_label.setText("")
            return
        w.fps_label.setText(f"{fr.fps:.1f} fps" if fr.playing and fr.fps else "")
        if fr.compare is not None:
            ct = fr.compare.timings
            w.timings_label.setText(self.tr("A {0:.0f} ms | B {1:.0f} ms | total {2:.0f} ms").format(
                ct.get("a", 0), ct.get("b", 0), ct.get("total", 0)))
            return
        t = r.timings
        infer = t.get("preprocess", 0) + t.get("forward", 0) + t.get("postprocess", 0)
        text = self.tr("inference {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | total {3:.0f} ms").format(
            infer, t.get("cam", 0), t.get("gam", 0), t.get("total", 0))
        if fr.ablation is not None:
            text += self.tr(" | ablation {0:.0f} ms").format(fr.ablation.timings.get("ablated", 0))
        w.timings_label.setText(text)
