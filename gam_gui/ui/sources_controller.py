"""Sources and playback: the File > Open dialogs, Open recent, dropped files, and the transport bar
(buttons, seek slider, frame label) as the source and the frame change.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from gam_gui.images import IMAGE_SUFFIXES
from gam_gui.sources import VIDEO_SUFFIXES, list_cameras
from gam_gui.ui.plain import menu_text
from gam_gui.ui.window_part import MAX_RECENT, WEIGHT_SUFFIXES, WindowPart, absolute
from gam_gui.ui.worker import FrameResult, SourceInfo


class SourcesController(WindowPart):
    """Sources and playback; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def open_dialog(self) -> None:
        w = self.w
        exts = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(w, self.tr("Open image or video"), w.last_folder(),
                                              self.tr("Images and videos ({0});;All files (*)").format(exts))
        if path:
            w.open_path(path)

    def open_folder_dialog(self) -> None:
        w = self.w
        path = QFileDialog.getExistingDirectory(w, self.tr("Open a folder of images"), w.last_folder())
        if path:
            w.open_path(path)

    def open_camera_dialog(self) -> None:
        w = self.w
        cams = list_cameras()
        if not cams:
            QMessageBox.information(w, self.tr("No camera"), self.tr("No camera was found (no /dev/video* device)."))
            return
        labels = [label for _, label in cams]
        label, ok = QInputDialog.getItem(w, self.tr("Open camera"), self.tr("Camera:"), labels, 0, False)
        if ok and label:
            w.open_camera(cams[labels.index(label)][0])

    def open_stream_dialog(self) -> None:
        w = self.w
        last = w.setting("paths/last_stream") or "rtsp://"
        url, ok = QInputDialog.getText(w, self.tr("Open stream"), self.tr("Stream URL (rtsp://, http://, ...):"),
                                       text=last)
        if ok and url.strip():
            w.qsettings.setValue("paths/last_stream", url.strip())
            w.open_source(url.strip())

    def open_weights_dialog(self) -> None:
        w = self.w
        start = w.setting("paths/last_weights") or w.last_folder()
        path, _ = QFileDialog.getOpenFileName(w, self.tr("Open weights"), start,
                                              self.tr("Checkpoints (*.pt *.pth);;All files (*)"))
        if path:
            w.load_weights(path)

    def remember_path(self, p: Path) -> None:
        """Remember an opened file or folder as an absolute, resolved path (issue 25.3: a relative
        entry broke as soon as gam-gui was started from another folder)."""
        w = self.w
        p = absolute(p)
        folder = p if p.is_dir() else p.parent
        w.qsettings.setValue("paths/last_folder", str(folder))
        recent = [x for x in self.recent_files(prune=False) if x != str(p)]
        w.qsettings.setValue("paths/recent", [str(p), *recent][:MAX_RECENT])

    def recent_files(self, prune: bool = True) -> list[str]:
        """File > Open recent: absolute paths, newest first. With ``prune``, entries that no longer
        exist (or were stored relative by an older gam-gui and do not resolve) are dropped from the
        list and named in one status-bar notice."""
        w = self.w
        stored = [str(x) for x in w.setting("paths/recent")]
        if not prune:
            return stored
        keep, gone = [], []
        for x in stored:
            p = Path(x)
            try:
                ok = p.is_absolute() and p.exists()
            except (OSError, ValueError):
                ok = False
            (keep if ok else gone).append(x)
        if gone:
            w.qsettings.setValue("paths/recent", keep)
            w.show_status(self.tr("removed {0} recent entries that no longer exist: {1}").format(
                len(gone), ", ".join(gone)), 8000)
        return keep

    def fill_recent(self) -> None:
        w = self.w
        w.recent_menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files):
            a = w.recent_menu.addAction(f"&{(i + 1) % 10} {menu_text(f)}")
            a.triggered.connect(lambda _=False, f=f: w.open_path(f))
        if not files:
            w.recent_menu.addAction(self.tr("(none)")).setEnabled(False)
        else:
            w.recent_menu.addSeparator()
            w.recent_menu.addAction(self.tr("Clear list"), lambda: w.qsettings.setValue("paths/recent", []))

    def open_dropped(self, files: list[Path]) -> None:
        """A dropped ``.pt`` loads as weights; anything else opens as a source (the first of each)."""
        w = self.w
        weights = [f for f in files if f.suffix.lower() in WEIGHT_SUFFIXES]
        media = [f for f in files if f.suffix.lower() not in WEIGHT_SUFFIXES]
        if weights:
            w.load_weights(weights[0])
        if media:
            w.open_path(media[0])

    def update_transport(self) -> None:
        w = self.w
        info = w.source_info
        seekable = info is not None and not info.live and info.kind in ("video", "folder") and bool(info.count)
        playable = info is not None and info.kind != "image"
        w.act_play.setEnabled(playable)
        w.act_step.setEnabled(playable)
        w.act_back.setEnabled(seekable)
        w.act_next.setEnabled(info is not None and info.kind == "folder")
        w.act_prev.setEnabled(info is not None and info.kind == "folder")
        w.act_stop.setEnabled(playable)
        w.seek_slider.setEnabled(seekable)
        if seekable:
            w.seek_slider.blockSignals(True)
            w.seek_slider.setRange(0, max(0, (info.count or 1) - 1))
            w.seek_slider.blockSignals(False)
        w.act_record.setEnabled(info is not None or w.recording)
        w.act_export.setEnabled(info is not None and not info.live)

    def update_frame_label(self, fr: FrameResult) -> None:
        w = self.w
        info = fr.source
        if info is None:
            w.frame_label.setText(fr.frame.name)
            return
        if info.live:
            w.frame_label.setText(self.tr("live frame {0}  (dropped {1})").format(fr.frame.index, fr.dropped))
        elif info.kind == "folder":
            w.frame_label.setText(self.tr("image {0} / {1}: {2}").format(fr.frame.index + 1, info.count,
                                                                           fr.frame.name))
        elif info.kind == "image":
            w.frame_label.setText(fr.frame.name)
        else:
            text = self.tr("frame {0} / {1}").format(fr.frame.index + 1, info.count or "?")
            if fr.dropped:
                text += self.tr("  (dropped {0})").format(fr.dropped)
            w.frame_label.setText(text)
        if w.seek_slider.isEnabled() and not w.seek_slider.isSliderDown():
            w.seek_slider.blockSignals(True)
            w.seek_slider.setValue(fr.frame.index)
            w.seek_slider.blockSignals(False)

    def on_source_opened(self, info: SourceInfo) -> None:
        w = self.w
        w.source_info = info
        w.last = None
        w.show_status(self.tr("opened {0} ({1})").format(info.label, info.kind), 4000)
        w.setWindowTitle(f"gam-gui: {info.label}")
        self.update_transport()

    def on_source_failed(self, msg: str) -> None:
        w = self.w
        w.show_error(self.tr("Cannot open"), msg)

    def on_source_closed(self) -> None:
        w = self.w
        w.source_info = None
        w.show_status(self.tr("source closed"), 3000)
        self.update_transport()
