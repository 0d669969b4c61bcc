"""Save, record and export what the window shows: File > Save panels as PNG, individual panels, detections
(JSON), Record and Export, each writing the figure of the frame on screen
(:meth:`gam_gui.pipeline.FrameOutput.figure`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from PyQt5.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from gam_gui.export import TABLES, ExportError, atomic_write_bytes, write_png
from gam_gui.jsonio import dumps as json_dumps
from gam_gui.ui.plain import message
from gam_gui.ui.window_part import WindowPart
from gam_gui.ui.worker import FrameResult


class OutputController(WindowPart):
    """Save, record and export what the window shows; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def composite(self) -> Any:
        """The side-by-side figure of the current frame as shown (visible panels; the ablation overlay or
        the six compare panels included), as a BGR array."""
        w = self.w
        fr = self.need_result()
        if fr is None:
            return None
        return fr.output.showing(w.visible_panels()).figure()

    def save_composite(self, path: Path) -> bool:
        w = self.w
        img = self.composite()
        if img is None:
            return False
        try:
            write_png(path, img, overwrite=True)
        except (ExportError, OSError) as e:
            w.show_error(self.tr("Cannot save"), str(e))
            return False
        w.show_status(self.tr("saved {0}").format(path), 5000)
        return True

    def save_composite_dialog(self) -> None:
        if self.need_result() is None:
            return
        p = self.save_path(self.tr("Save panels as PNG"), f"{self.stem()}_panels.png", self.tr("PNG images (*.png)"),
                            ".png")
        if p is not None:
            self.save_composite(p)

    def save_panels(self, folder: Path) -> list[Path]:
        """Each visible panel as ``<stem>_<panel>.png`` in ``folder`` (asks before replacing)."""
        w = self.w
        fr = self.need_result()
        if fr is None:
            return []
        full = fr.output.panels()  # at the frame's resolution: the display copies may be smaller
        chosen = [p for p in full if p.key in w.grid.shown_keys()]
        paths = [folder / f"{self.stem()}_{p.key}.png" for p in chosen]
        if not self.confirm_overwrite(paths):
            return []
        try:
            for panel, path in zip(chosen, paths, strict=True):
                write_png(path, panel.image, overwrite=True)
        except (ExportError, OSError) as e:
            w.show_error(self.tr("Cannot save"), str(e))
            return []
        w.show_status(self.tr("saved {0} panel(s) to {1}").format(len(paths), folder), 5000)
        return paths

    def save_panels_dialog(self) -> None:
        w = self.w
        if self.need_result() is None:
            return
        folder = QFileDialog.getExistingDirectory(w, self.tr("Save panels into folder"), w.last_folder())
        if folder:
            self.save_panels(Path(folder))

    def detections_json(self) -> dict | None:
        w = self.w
        fr = self.need_result()
        if fr is None:
            return None
        r = fr.result
        return {"source": fr.source.spec if fr.source else "", "frame": fr.frame.index, "name": fr.frame.name,
                "timestamp": round(fr.frame.timestamp, 3), "model": w.model_info.path if w.model_info else "",
                "settings": asdict(fr.settings), "method": r.method, "layers": list(r.layers), "target": r.target,
                "note": r.note, "timings_ms": r.timings, "detections": [d.to_dict() for d in r.detections],
                **({"ablation": fr.ablation.to_dict()} if fr.ablation is not None else {}),
                **({"compare": {"a": fr.names[0], "b": fr.names[1], **fr.compare.to_dict()}}
                   if fr.compare is not None else {})}

    def save_detections(self, path: Path) -> bool:
        w = self.w
        data = self.detections_json()
        if data is None:
            return False
        try:
            atomic_write_bytes(path, json_dumps(data, indent=1).encode(), overwrite=True)
        except (ExportError, OSError) as e:
            w.show_error(self.tr("Cannot save"), str(e))
            return False
        w.show_status(self.tr("saved {0}").format(path), 5000)
        return True

    def save_detections_dialog(self) -> None:
        if self.need_result() is None:
            return
        p = self.save_path(self.tr("Save detections"), f"{self.stem()}_detections.json", self.tr("JSON (*.json)"),
                            ".json")
        if p is not None:
            self.save_detections(p)

    def start_recording(self, path: Path, fps: float = 0.0) -> None:
        w = self.w
        w.cmd_record.emit(str(path), float(fps))

    def stop_recording(self) -> None:
        w = self.w
        w.cmd_stop_record.emit()

    def toggle_recording(self, on: bool) -> None:
        w = self.w
        if not on:
            self.stop_recording()
            return
        w.act_record.blockSignals(True)
        w.act_record.setChecked(False)  # checked again when the worker confirms
        w.act_record.blockSignals(False)
        if w.source_info is None:
            w.show_status(self.tr("open a video or camera first"), 4000)
            return
        name = f"{Path(w.source_info.label).stem or 'recording'}_panels.mp4"
        p = self.save_path(self.tr("Record panels to MP4"), name, self.tr("MP4 video (*.mp4)"), ".mp4")
        if p is not None:
            self.start_recording(p)
            if not w.playing and w.source_info.kind not in ("image",):
                w.play()

    def export_source_dialog(self) -> None:
        w = self.w
        info = w.source_info
        if info is None or info.live or w.model_info is None:
            w.show_status(self.tr("open a file or folder and a model first"), 4000)
            return
        folder = QFileDialog.getExistingDirectory(w, self.tr("Export panels into folder"), w.last_folder())
        if not folder:
            return
        out = Path(folder)
        table = TABLES[w.worker.view().mode]  # the view shown: detections, ablation or compare
        targets = [out / f"{table}.json", out / f"{table}.csv"]
        if not self.confirm_overwrite(targets):
            return
        video = info.kind == "video" and QMessageBox.question(
            w, self.tr("Export video"), self.tr("Write one MP4 of the panels (Yes) or a PNG per frame (No)?"),
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes) == QMessageBox.Yes
        self.export_source(info.spec, out, video=video)

    def export_source(self, spec: str, out: Path, video: bool = False) -> None:
        """Export every frame of ``spec`` on a background thread, with a cancellable progress dialog.

        The export uses its own copy of the model, so the window keeps working meanwhile."""
        w = self.w
        from gam_gui.ui.export_job import ExportJob, ExportView

        if w.export_job is not None:
            w.show_status(self.tr("an export is running already"), 4000)
            return
        dlg = QProgressDialog(self.tr("Exporting..."), self.tr("Cancel"), 0, 0, w)
        dlg.setWindowTitle(self.tr("Export"))
        dlg.setMinimumDuration(0)
        view = w.worker.view()  # what the window shows: the same pipeline writes it
        shown = ExportView(view.settings, w.visible_panels(), dict(view.ablation), view.name_a,
                           w.compare_path if view.model_b is not None else "", view.names[1])
        job = ExportJob(w.model_path or None, w.controls.device_value(), spec, out, shown, video=video)
        w.export_job = job
        job.progress.connect(lambda done, total: (dlg.setMaximum(total or 0), dlg.setValue(done)))
        dlg.canceled.connect(job.cancel)

        def finished(ok: bool, msg: str) -> None:
            job.wait()  # the thread is quitting; join it before dropping the last reference
            w.export_job = None
            dlg.reset()
            dlg.deleteLater()
            if ok:
                w.show_status(msg, 8000)
            else:
                w.show_error(self.tr("Export"), msg)

        job.done.connect(finished)
        job.start()
        dlg.show()

    def save_path(self, title: str, name: str, filt: str, suffix: str) -> Path | None:
        w = self.w
        path, _ = QFileDialog.getSaveFileName(w, title, str(Path(w.last_folder()) / name), filt,
                                              options=QFileDialog.DontConfirmOverwrite)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != suffix:
            p = p.with_name(p.name + suffix)
        return p if self.confirm_overwrite([p]) else None

    def confirm_overwrite(self, paths: list[Path]) -> bool:
        """Ask before replacing existing files; True when nothing exists or the user agreed."""
        w = self.w
        existing = [p for p in paths if p.exists()]
        if not existing:
            return True
        names = "\n".join(str(p) for p in existing[:8]) + ("\n..." if len(existing) > 8 else "")
        answer = message(w, QMessageBox.Question, self.tr("Replace files?"),
                         self.tr("These files exist already:\n{0}\n\nReplace them?").format(names),
                         QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def stem(self) -> str:
        w = self.w
        fr = w.last
        if fr is None:
            return "gam_gui"
        stem = Path(fr.frame.name).stem or "frame"
        if fr.source is not None and fr.source.kind not in ("image", "folder"):
            stem += f"_f{fr.frame.index:06d}"
        return stem

    def need_result(self) -> FrameResult | None:
        w = self.w
        if w.last is None or w.last.output is None:
            w.show_status(self.tr("nothing analysed to save yet"), 4000)
            return None
        return w.last

    def on_recording(self, on: bool, path: str) -> None:
        w = self.w
        w.recording = on
        w.act_record.blockSignals(True)
        w.act_record.setChecked(on)
        w.act_record.blockSignals(False)
        msg = self.tr("recording to {0}") if on else (self.tr("saved {0}") if path else self.tr("recording stopped"))
        w.show_status(msg.format(path), 5000)
