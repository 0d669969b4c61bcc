"""File > Open dataset...: the dataset browser of the main window.

A dock lists the split's images with their TP/FP/FN counts (:mod:`gam_gui.ui.dataset_model`),
scored in the background by :class:`~gam_gui.ui.dataset_worker.DatasetWorker` at the window's
``conf`` (scored again when it changes), sortable worst first and filtered by class, "has FN" and
"has FP". Selecting an image opens it through the normal pipeline with its ground truth in the view
(:class:`~gam_gui.render_gt.GroundTruth`: drawn dashed, TPs in the class colour, FPs red, FNs
orange); clicking a false negative makes the CAM that of its class at its place and says in the
status bar how close the model came. View > Dataset summary shows a saved eval or runs one.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt5.QtCore import QCoreApplication, QItemSelectionModel, Qt, QThread, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QAction,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gam_gui import dataset_browse as B
from gam_gui.render_gt import GroundTruth, best_overlap, ground_truth_at, match_detections
from gam_gui.ui.dataset_model import COL_ERRORS, DatasetTableModel
from gam_gui.ui.dataset_summary import DatasetSummaryDialog
from gam_gui.ui.dataset_worker import DatasetWorker
from gam_gui.ui.plain import plain_label

if TYPE_CHECKING:
    from gam_gui.ui.main_window import MainWindow
    from gam_gui.ui.worker import FrameResult

LOGGER = logging.getLogger(__name__)


translate = QCoreApplication.translate  # literal ("DatasetBrowser", "...") calls: pylupdate5 finds them


class DatasetController(QWidget):
    """The dock's body and the browser's logic (a QWidget: it owns the signals to its worker)."""

    cmd_open = pyqtSignal(str, str, str)  # spec, split, weights
    cmd_score = pyqtSignal(float, float, int, str)  # conf, iou, imgsz, weights
    cmd_eval = pyqtSignal(str)  # output folder
    cmd_shutdown = pyqtSignal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.w = window
        self.dataset: Any = None
        self.gt: GroundTruth | None = None
        self.current: int | None = None  # the image shown (dataset index)
        self.scoring = False
        self.pending = 0  # scoring runs asked for and not finished: only the newest one's results count
        self.scored_with: tuple[float, float, int, str] | None = None
        self.closed = False
        self.summary_dialog: DatasetSummaryDialog | None = None
        self.eval_folder: str | None = None
        self.status_text = ""  # the last FN explanation said in the status bar
        self._build()
        self.thread = QThread(self)
        self.thread.setObjectName("gam-gui dataset")
        self.worker = DatasetWorker()
        self.worker.moveToThread(self.thread)
        self.cmd_open.connect(self.worker.open_data)
        self.cmd_score.connect(self.worker.score)
        self.cmd_eval.connect(self.worker.run_eval)
        self.cmd_shutdown.connect(self.worker.shutdown)
        wk = self.worker
        wk.opened.connect(self.on_opened)
        wk.open_failed.connect(self.on_failed)
        wk.scored.connect(self.on_scored)
        wk.score_progress.connect(self.on_progress)
        wk.score_finished.connect(self.on_score_finished)
        wk.eval_progress.connect(self.on_eval_progress)
        wk.eval_done.connect(self.on_eval_done)
        wk.eval_failed.connect(self.on_eval_failed)
        wk.eval_cancelled.connect(self.on_eval_cancelled)
        self.thread.start()

    # -- widgets -----------------------------------------------------------------------------------
    def _build(self) -> None:
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        self.info = plain_label(QLabel(translate("DatasetBrowser", "No dataset open: File > Open dataset...")))
        self.info.setWordWrap(True)
        v.addWidget(self.info)
        self.hint = QLabel(translate("DatasetBrowser", "In the detections panel: ground truth dashed (orange: "
                                     "missed, FN), TP in the class colour, FP in red. Click an orange box to "
                                     "see the CAM of its class there."))
        self.hint.setWordWrap(True)
        v.addWidget(self.hint)
        row = QHBoxLayout()
        row.addWidget(QLabel(translate("DatasetBrowser", "Class:")))
        self.class_combo = QComboBox()
        self.class_combo.addItem(translate("DatasetBrowser", "all classes"), None)
        row.addWidget(self.class_combo, 1)
        v.addLayout(row)
        row = QHBoxLayout()
        self.chk_fn = QCheckBox(translate("DatasetBrowser", "has FN"))
        self.chk_fn.setToolTip(translate("DatasetBrowser", "Only images with an object the model missed"))
        self.chk_fp = QCheckBox(translate("DatasetBrowser", "has FP"))
        self.chk_fp.setToolTip(translate("DatasetBrowser", "Only images with a detection that matches no object"))
        self.btn_worst = QPushButton(translate("DatasetBrowser", "Worst first"))
        self.btn_worst.setToolTip(translate("DatasetBrowser", "Sort by FN + FP, most first"))
        for x in (self.chk_fn, self.chk_fp, self.btn_worst):
            row.addWidget(x)
        v.addLayout(row)
        self.model = DatasetTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, 5):  # fixed: ResizeToContents would read all 5,000 rows at each update
            hh.setSectionResizeMode(c, QHeaderView.Fixed)
            hh.resizeSection(c, 46 if c < 4 else 72)
        self.table.sortByColumn(0, Qt.AscendingOrder)
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.btn_cancel = QPushButton(translate("DatasetBrowser", "Cancel"))
        self.btn_cancel.setToolTip(translate("DatasetBrowser", "Stop scoring the images (the counts so far stay)"))
        self.btn_cancel.setVisible(False)
        row.addWidget(self.progress, 1)
        row.addWidget(self.btn_cancel)
        v.addLayout(row)
        self.btn_summary = QPushButton(translate("DatasetBrowser", "Dataset summary..."))
        v.addWidget(self.btn_summary)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.row_selected(cur.row()))
        self.class_combo.currentIndexChanged.connect(self.filters_changed)
        self.chk_fn.toggled.connect(self.filters_changed)
        self.chk_fp.toggled.connect(self.filters_changed)
        self.btn_worst.clicked.connect(self.sort_worst_first)
        self.btn_cancel.clicked.connect(self.cancel)
        self.btn_summary.clicked.connect(self.show_summary)

    # -- opening -----------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.w,
            translate("DatasetBrowser", "Open dataset"),
            self.w.last_folder(),
            translate("DatasetBrowser", "Datasets (*.yaml *.yml *.json);;All files (*)"),
        )
        if path:
            self.open_dataset(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.w, translate("DatasetBrowser", "Open dataset folder"), self.w.last_folder()
        )
        if path:
            self.open_dataset(path)

    def open_dataset(self, spec: str | Path, split: str = "val") -> None:
        """Open a data.yaml, a COCO json or a folder (on the dataset thread); the list fills when open."""
        self.dock.show()
        self.info.setText(translate("DatasetBrowser", "opening {0} ...").format(spec))
        self.w.show_status(translate("DatasetBrowser", "opening dataset {0} ...").format(spec))
        self.cancel()
        self.worker.device = self.w.controls.device_value()
        self.cmd_open.emit(str(spec), split, self.w.model_path or "")

    def on_opened(self, dataset: Any) -> None:
        self.dataset = dataset
        self.current = None
        self.gt = None
        self.model.set_dataset(dataset)
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem(translate("DatasetBrowser", "all classes"), None)
        for c, name in enumerate(dataset.names):
            self.class_combo.addItem(f"{c}: {name}", c)
        self.class_combo.blockSignals(False)
        self.info.setText(
            translate("DatasetBrowser", "{0}: {1} images ({2}), {3} classes").format(
                Path(dataset.source).name, len(dataset), dataset.split, len(dataset.names)
            )
        )
        self.w.show_status(
            translate("DatasetBrowser", "dataset open: {0} images; scoring them in the background").format(len(dataset))
        )
        self.start_scoring()

    def on_failed(self, msg: str) -> None:
        self.info.setText(translate("DatasetBrowser", "Cannot open the dataset: {0}").format(msg))
        self.w.show_error(translate("DatasetBrowser", "Cannot open the dataset"), msg)

    # -- scoring -----------------------------------------------------------------------------------
    def window_settings(self) -> tuple[float, float, int, str]:
        """What the counts depend on: the window's conf, iou, imgsz and model ('' = the default)."""
        s = self.w.controls.settings()
        return float(s.conf), float(s.iou), int(s.imgsz), self.w.model_path or ""

    def start_scoring(self) -> None:
        if self.dataset is None or self.closed:
            return
        self.worker.score_cancel.set()  # a scoring in progress ends; this one starts after it
        self.scored_with = self.window_settings()
        self.pending += 1
        self.model.clear_counts()
        self.scoring = True
        self.progress.setRange(0, max(1, len(self.dataset)))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.btn_cancel.setVisible(True)
        self.worker.device = self.w.controls.device_value()
        self.cmd_score.emit(*self.scored_with)

    def on_scored(self, items: list) -> None:
        if self.pending > 1:  # the tail of a run that a newer one replaces
            return
        self.model.add_scores(items)
        if self.model.has_fn or self.model.has_fp or self.model.sort_column != 0:
            self.apply_keeping_selection()

    def on_progress(self, done: int, total: int) -> None:
        if self.pending > 1:
            return
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(translate("DatasetBrowser", "scored {0} / {1}").format(done, total))

    def on_score_finished(self, cancelled: bool) -> None:
        self.pending = max(0, self.pending - 1)
        if self.pending:  # a newer run is queued behind this one
            return
        self.scoring = False
        self.progress.setVisible(False)
        self.btn_cancel.setVisible(False)
        self.apply_keeping_selection()
        n = self.model.scored()
        self.w.show_status(
            (
                translate("DatasetBrowser", "scoring cancelled after {0} images")
                if cancelled
                else translate("DatasetBrowser", "all {0} images scored")
            ).format(n),
            5000,
        )

    def resume_scoring(self) -> None:
        """After an eval (which took the thread), score the list again if its scoring was cut short."""
        if self.dataset is not None and not self.scoring and self.model.scored() < len(self.dataset):
            self.start_scoring()

    def cancel(self) -> None:
        """Stop scoring (from the GUI thread: the loop sees the event between images)."""
        self.worker.score_cancel.set()

    # -- the list ----------------------------------------------------------------------------------
    def filters_changed(self) -> None:
        self.model.class_filter = self.class_combo.currentData()
        self.model.has_fn, self.model.has_fp = self.chk_fn.isChecked(), self.chk_fp.isChecked()
        self.apply_keeping_selection()

    def sort_worst_first(self) -> None:
        self.table.sortByColumn(COL_ERRORS, Qt.DescendingOrder)

    def apply_keeping_selection(self) -> None:
        self.table.selectionModel().blockSignals(True)
        try:
            self.model.apply()
            row = self.model.row_of(self.current) if self.current is not None else None
            if row is not None:
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
                )
            else:
                self.table.clearSelection()
        finally:
            self.table.selectionModel().blockSignals(False)

    def row_selected(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.show_image(self.model.image_of(row))

    def ground_truth(self, i: int) -> GroundTruth:
        """Image ``i``'s ground truth in pixels, from its labels and its header size (no decoding)."""
        from gam_gui.datasets.core import header_size, to_pixels

        ds = self.dataset
        h, w = header_size(ds.paths[i])
        boxes, cls = to_pixels(ds.labels.image_rows(i), ds.coords, w, h, ds.clip_boxes)
        return GroundTruth(ds.paths[i], boxes, cls, tuple(ds.names))

    def show_image(self, i: int) -> None:
        """Show dataset image ``i`` in the panels, with its ground truth."""
        if self.dataset is None:
            return
        self.current = i
        self.gt = self.ground_truth(i)
        self.w.worker.set_ground_truth(self.gt)
        self.w.open_source(self.dataset.paths[i])

    def on_frame(self, fr: FrameResult) -> None:
        """After each painted frame: the image's counts in the status bar; score again at a new conf."""
        if (
            self.dataset is not None
            and not self.closed
            and self.scored_with is not None
            and self.window_settings() != self.scored_with
        ):
            self.start_scoring()
        gt = self.gt
        if gt is None or fr.result is None or not gt.applies_to(fr.frame.name) or gt.explain is not None:
            return
        m = match_detections(gt.boxes, gt.classes, fr.result.detections)
        self.w.show_status(
            translate("DatasetBrowser", "{0}: {1} TP, {2} FP, {3} FN (IoU 0.5, conf {4})").format(
                Path(gt.path).name, m.tp, m.fp, m.fn, f"{fr.settings.conf:.2f}"
            ),
            8000,
        )

    def panel_clicked(self, key: str, x: float, y: float) -> None:
        """A click on a false negative explains it: the CAM of its class at its place."""
        fr, gt = self.w.last, self.gt
        if gt is None or fr is None or fr.result is None or fr.compare is not None or not gt.applies_to(fr.frame.name):
            return
        m = match_detections(gt.boxes, gt.classes, fr.result.detections)
        j = ground_truth_at(gt, x, y, only=~m.gt_found)
        if j is None:
            if gt.explain is not None:  # back to the normal CAM
                self.set_explain(None)
            return
        self.set_explain(j)
        name = gt.name(int(gt.classes[j]))
        o = best_overlap(gt.boxes[j], fr.result.detections)
        if o is None:
            msg = translate("DatasetBrowser", "FN {0}: CAM of {0} at this object; no detection overlaps").format(name)
        else:
            msg = translate(
                "DatasetBrowser", "FN {0}: CAM of {0} at this object; best overlapping detection: {1} {2}, IoU {3}"
            ).format(name, o.detection.name, f"{o.detection.score:.2f}", f"{o.iou:.2f}")
        self.status_text = msg
        self.w.show_status(msg, 0)

    def set_explain(self, j: int | None) -> None:
        if self.gt is None:
            return
        self.gt = dataclasses.replace(self.gt, explain=j)
        self.w.worker.set_ground_truth(self.gt)
        self.w.reanalyse()

    # -- the summary -------------------------------------------------------------------------------
    def show_summary(self) -> None:
        """View > Dataset summary: the saved eval of this dataset, or a button that runs it."""
        if self.dataset is None:
            self.w.show_status(translate("DatasetBrowser", "Open a dataset first: File > Open dataset..."), 5000)
            return
        if self.summary_dialog is None:
            d = self.summary_dialog = DatasetSummaryDialog(self.w)
            d.run_requested.connect(self.run_eval)
            d.folder_requested.connect(self.choose_eval_folder)
            d.cancel_requested.connect(self.worker.eval_cancel.set)
        self.load_summary()
        self.summary_dialog.show()
        self.summary_dialog.raise_()

    def load_summary(self, path: str | Path | None = None) -> bool:
        d = self.summary_dialog
        if d is None or self.dataset is None:
            return False
        extra = [self.eval_folder] if self.eval_folder else []
        path = path or B.find_metrics(self.dataset.source, extra)
        if path is not None:
            try:
                d.show_summary(B.read_summary(path))
                return True
            except (OSError, ValueError) as e:
                self.w.show_status(translate("DatasetBrowser", "Cannot read {0}: {1}").format(path, e), 8000)
        d.show_none(str(self.eval_target()))
        return False

    def eval_target(self) -> Path:
        return Path(self.eval_folder) if self.eval_folder else B.default_eval_folder(self.dataset.source)

    def choose_eval_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.w,
            translate("DatasetBrowser", "Folder of an eval run (with metrics.json)"),
            str(B.data_folder(self.dataset.source)),
        )
        if folder:
            self.eval_folder = folder
            if not (Path(folder) / "metrics.json").is_file():
                self.w.show_status(translate("DatasetBrowser", "No metrics.json in {0}").format(folder), 8000)
            self.load_summary(Path(folder) / "metrics.json" if (Path(folder) / "metrics.json").is_file() else None)

    def run_eval(self, out: str | Path | None = None) -> None:
        if self.dataset is None or self.summary_dialog is None:
            return
        out = Path(out) if out else self.eval_target()
        if not B.writable(out):
            folder = QFileDialog.getExistingDirectory(
                self.w, translate("DatasetBrowser", "Where to save the eval"), str(Path.home())
            )
            if not folder:
                return
            out = Path(folder)
        self.cancel()  # the list's scoring waits; the eval has the thread
        self.summary_dialog.set_running(True)
        self.cmd_eval.emit(str(out))

    def on_eval_progress(self, done: int, total: int) -> None:
        if self.summary_dialog is not None:
            self.summary_dialog.set_progress(done, total)

    def on_eval_done(self, path: str) -> None:
        self.resume_scoring()
        self.eval_folder = str(Path(path).parent)  # Dataset summary reads this run from now on
        if self.summary_dialog is not None:
            self.summary_dialog.set_running(False)
            self.load_summary(path)
        self.w.show_status(translate("DatasetBrowser", "eval saved: {0}").format(path), 8000)

    def on_eval_failed(self, msg: str) -> None:
        self.resume_scoring()
        if self.summary_dialog is not None:
            self.summary_dialog.set_running(False)
        self.w.show_error(translate("DatasetBrowser", "The eval failed"), msg)

    def on_eval_cancelled(self) -> None:
        self.resume_scoring()
        if self.summary_dialog is not None:
            self.summary_dialog.set_running(False)
        self.w.show_status(translate("DatasetBrowser", "eval cancelled"), 5000)

    # -- shutdown ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the scoring and the eval and join the thread (the window is closing). Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.worker.stopping.set()
        self.worker.cancel()
        if self.thread.isRunning():
            self.thread.quit()
            if not self.thread.wait(15000):
                LOGGER.error("the dataset thread did not stop within 15 s")


def install_datasets(win: MainWindow) -> DatasetController:
    """The dataset browser: its dock (tabbed under the controls), File > Open dataset..., View >
    Dataset summary, the panels' clicks and the painted frames."""
    c = DatasetController(win)
    dock = c.dock = QDockWidget(translate("DatasetBrowser", "Dataset"), win)
    dock.setObjectName("dataset")
    dock.setWidget(c)
    win.addDockWidget(Qt.LeftDockWidgetArea, dock)
    win.tabifyDockWidget(win.dock, dock)
    win.dock.raise_()
    dock.hide()
    c.act_open = QAction(translate("DatasetBrowser", "Open &dataset..."), win)
    c.act_open.setStatusTip(
        translate("DatasetBrowser", "Open a data.yaml or a COCO json: its images with TP/FP/FN, ground truth drawn")
    )
    c.act_open.triggered.connect(c.open_dialog)
    c.act_open_folder = QAction(translate("DatasetBrowser", "Open dataset f&older..."), win)
    c.act_open_folder.setStatusTip(
        translate("DatasetBrowser", "Open a dataset folder (with a data.yaml, or images and labels/)")
    )
    c.act_open_folder.triggered.connect(c.open_folder_dialog)
    c.act_summary = QAction(translate("DatasetBrowser", "Dataset &summary"), win)
    c.act_summary.setStatusTip(translate("DatasetBrowser", "Per-class AP and ablation table of the open dataset"))
    c.act_summary.triggered.connect(c.show_summary)
    file_menu, view_menu = win.menus["file"], win.menus["view"]
    file_menu.insertAction(win.recent_menu.menuAction(), c.act_open)
    file_menu.insertAction(win.recent_menu.menuAction(), c.act_open_folder)
    view_menu.insertAction(win.act_compare, c.act_summary)
    view_menu.insertAction(win.act_compare, dock.toggleViewAction())
    view_menu.insertSeparator(win.act_compare)
    for p in (*win.grid.panels.values(), *win.grid.compare_panels.values()):
        p.clicked.connect(c.panel_clicked)
    win.frame_painted.connect(c.on_frame)
    return c


__all__ = ["DatasetController", "install_datasets"]
