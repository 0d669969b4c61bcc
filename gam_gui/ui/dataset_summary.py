"""View > Dataset summary: the per-class AP table and the ablation table of a saved eval of the open
dataset (``gam-gui eval --data ... --out DIR``), or a button that runs that eval on the dataset
worker's thread, with progress and cancel. The dialog only shows; the controller
(:mod:`gam_gui.ui.dataset_controller`) finds the files and runs the eval.
"""

from __future__ import annotations

import math
from typing import Any

from PyQt5.QtCore import QCoreApplication, pyqtSignal
from PyQt5.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gam_gui.dataset_browse import Summary
from gam_gui.ui.plain import plain_label

translate = QCoreApplication.translate  # literal ("DatasetBrowser", "...") calls: pylupdate5 finds them


def fmt(v: Any, digits: int = 3, signed: bool = False) -> str:
    if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def change(row: dict, key: str) -> str:
    """``+0.012 [-0.004, +0.030]``: a change with its 95 % interval when there is one."""
    text = fmt(row.get("delta_" + key), signed=True)
    ci = (row.get("ci95") or {}).get(key) if isinstance(row.get("ci95"), dict) else None
    if isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
        text += f" [{ci[0]:+.3f}, {ci[1]:+.3f}]"
    return text


class DatasetSummaryDialog(QDialog):
    """The two tables, where they came from, and Run eval / Open eval folder / Cancel."""

    run_requested = pyqtSignal()
    folder_requested = pyqtSignal()
    cancel_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("DatasetBrowser", "Dataset summary"))
        self.resize(760, 560)
        v = QVBoxLayout(self)
        self.source_label = plain_label(QLabel())
        self.source_label.setWordWrap(True)
        v.addWidget(self.source_label)
        v.addWidget(QLabel(translate("DatasetBrowser", "Per class (COCO protocol)")))
        self.per_class = self._table([translate("DatasetBrowser", "Class"), "AP50", "AP50-95", "P", "R", "n"])
        v.addWidget(self.per_class, 3)
        v.addWidget(
            QLabel(translate("DatasetBrowser", "Ablation: each GAM block switched off (change and its 95% interval)"))
        )
        self.ablation = self._table(
            [
                translate("DatasetBrowser", "Ablation"),
                "mAP50",
                translate("DatasetBrowser", "change [95% CI]"),
                "mAP50-95",
                translate("DatasetBrowser", "change [95% CI]"),
            ]
        )
        v.addWidget(self.ablation, 2)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        row.addWidget(self.progress, 1)
        self.btn_folder = QPushButton(translate("DatasetBrowser", "Open eval folder..."))
        self.btn_folder.setToolTip(
            translate("DatasetBrowser", "Show the metrics.json of an eval run you saved elsewhere")
        )
        self.btn_run = QPushButton(translate("DatasetBrowser", "Run eval"))
        self.btn_run.setToolTip(
            translate(
                "DatasetBrowser",
                "Score the dataset with the model and its ablations (in the background) "
                "and save the result next to the data",
            )
        )
        self.btn_cancel = QPushButton(translate("DatasetBrowser", "Cancel"))
        self.btn_cancel.setEnabled(False)
        for b in (self.btn_folder, self.btn_run, self.btn_cancel):
            row.addWidget(b)
        v.addLayout(row)
        self.btn_run.clicked.connect(self.run_requested)
        self.btn_folder.clicked.connect(self.folder_requested)
        self.btn_cancel.clicked.connect(self.cancel_requested)

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QTableWidget.NoEditTriggers)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        return t

    def show_none(self, folder: str) -> None:
        self.source_label.setText(
            translate(
                "DatasetBrowser", "No saved eval of this dataset was found. Run eval scores it here and saves it to {0}"
            ).format(folder)
        )
        self.per_class.setRowCount(0)
        self.ablation.setRowCount(0)

    def show_summary(self, s: Summary) -> None:
        self.source_label.setText(
            translate("DatasetBrowser", "From {0}: {1} images, mAP50 {2}, mAP50-95 {3}").format(
                s.path, s.images, fmt(s.map50), fmt(s.map50_95)
            )
        )
        self.per_class.setRowCount(len(s.per_class))
        for i, r in enumerate(s.per_class):
            cells = [
                str(r.get("class", i)),
                fmt(r.get("ap50")),
                fmt(r.get("ap50_95")),
                fmt(r.get("precision")),
                fmt(r.get("recall")),
                str(r.get("instances", "-")),
            ]
            for j, text in enumerate(cells):
                self.per_class.setItem(i, j, QTableWidgetItem(text))
        self.ablation.setRowCount(len(s.ablations))
        for i, r in enumerate(s.ablations):
            cells = [
                str(r.get("ablation", "")),
                fmt(r.get("map50")),
                change(r, "map50"),
                fmt(r.get("map50_95")),
                change(r, "map50_95"),
            ]
            for j, text in enumerate(cells):
                self.ablation.setItem(i, j, QTableWidgetItem(text))
        if not s.ablations:
            self.ablation.setRowCount(1)
            self.ablation.setItem(
                0, 0, QTableWidgetItem(translate("DatasetBrowser", "none in this run (eval without --ablate-each)"))
            )

    def set_running(self, running: bool) -> None:
        self.btn_run.setEnabled(not running)
        self.btn_folder.setEnabled(not running)
        self.btn_cancel.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(translate("DatasetBrowser", "eval: {0} / {1} images").format(done, total))
