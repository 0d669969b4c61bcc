"""The dataset list: a lazy table over a dataset's image paths, sorted and filtered with numpy.

:class:`DatasetTableModel` holds only the paths and one row of counts per image (-1 until scored):
nothing is decoded to list 5,000 images, and the view asks only for the rows it shows. Sorting
(worst first: most FN + FP) and the filters (a class, "has FN", "has FP") are one numpy pass over
all images that gives the shown order (``rows``: view row -> image index), rather than a Qt proxy
calling Python once per comparison; they are applied when asked and in bulk while images are scored.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PyQt5.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt
from PyQt5.QtGui import QColor

from gam_gui.dataset_browse import ImageScore

#: columns: file name, TP, FP, FN, FN + FP
COL_IMAGE, COL_TP, COL_FP, COL_FN, COL_ERRORS = range(5)


class DatasetTableModel(QAbstractTableModel):
    """One row per shown image of the dataset; counts filled in as images are scored."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: Any = None
        self.paths: list[str] = []
        self.counts = np.full((0, 3), -1, np.int64)
        self.rows = np.zeros(0, np.int64)  # view row -> image index
        self.pred_classes: dict[int, frozenset[int]] = {}
        self.skipped: dict[int, str] = {}
        self.sort_column, self.sort_order = COL_IMAGE, Qt.AscendingOrder
        self.class_filter: int | None = None
        self.has_fn = self.has_fp = False
        self._label_img = np.zeros(0, np.int64)  # per label row: its image
        self._label_cls = np.zeros(0, np.int64)

    def set_dataset(self, dataset: Any) -> None:
        self.beginResetModel()
        self.dataset = dataset
        self.paths = list(dataset.paths) if dataset is not None else []
        n = len(self.paths)
        self.counts = np.full((n, 3), -1, np.int64)
        self.rows = np.arange(n, dtype=np.int64)
        self.pred_classes.clear()
        self.skipped.clear()
        labels = getattr(dataset, "labels", None)
        if labels is not None and len(labels.offsets) == n + 1:
            self._label_img = np.repeat(np.arange(n, dtype=np.int64), np.diff(labels.offsets))
            self._label_cls = labels.rows[:, 0].astype(np.int64)
        else:
            self._label_img = self._label_cls = np.zeros(0, np.int64)
        self.endResetModel()

    def clear_counts(self) -> None:
        self.counts[:] = -1
        self.pred_classes.clear()
        self.skipped.clear()
        self.apply()

    def add_scores(self, items: list[ImageScore]) -> None:
        """Counts of scored images (one dataChanged for the batch)."""
        if not items:
            return
        for it in items:
            if it.match is None:
                self.skipped[it.index] = it.reason
                continue
            self.counts[it.index] = (it.match.tp, it.match.fp, it.match.fn)
            self.pred_classes[it.index] = it.match.classes
        if len(self.rows):
            self.dataChanged.emit(self.index(0, COL_TP), self.index(len(self.rows) - 1, COL_ERRORS))

    def scored(self) -> int:
        return int((self.counts[:, 0] >= 0).sum()) + len(self.skipped)

    def image_of(self, row: int) -> int:
        return int(self.rows[row])

    def row_of(self, image: int) -> int | None:
        hit = np.flatnonzero(self.rows == image)
        return int(hit[0]) if len(hit) else None

    def with_class(self, cls: int) -> np.ndarray:
        """(n,) bool: images whose labels or scored detections have class ``cls``."""
        out = np.zeros(len(self.paths), bool)
        out[self._label_img[self._label_cls == cls]] = True
        for i, cs in self.pred_classes.items():
            if cls in cs:
                out[i] = True
        return out

    def set_filters(self, cls: int | None = None, has_fn: bool = False, has_fp: bool = False) -> None:
        self.class_filter, self.has_fn, self.has_fp = cls, bool(has_fn), bool(has_fp)
        self.apply()

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Qt's sort (a header click): numbers with unscored images last, ties in file order."""
        self.sort_column, self.sort_order = column, order
        self.apply()

    def order(self) -> np.ndarray:
        """The shown image indices for the current sort and filters (one numpy pass)."""
        n = len(self.paths)
        keep = np.ones(n, bool)
        tp, fp, fn = self.counts[:, 0], self.counts[:, 1], self.counts[:, 2]
        if self.has_fn:
            keep &= fn > 0
        if self.has_fp:
            keep &= fp > 0
        if self.class_filter is not None:
            keep &= self.with_class(self.class_filter)
        idx = np.flatnonzero(keep)
        c = self.sort_column
        if c == COL_IMAGE:
            return idx[::-1] if self.sort_order == Qt.DescendingOrder else idx
        key = (fn + fp if c == COL_ERRORS else self.counts[:, c - 1])[idx]
        desc = self.sort_order == Qt.DescendingOrder
        scored = tp[idx] >= 0
        primary = np.where(scored, -key if desc else key, np.iinfo(np.int64).max)  # unscored last
        return idx[np.lexsort((idx, primary))]

    def apply(self) -> None:
        """Sort and filter again (a reset: the controller selects the shown image again)."""
        self.layoutAboutToBeChanged.emit()
        self.rows = self.order()
        self.layoutChanged.emit()

    # -- Qt's model API ----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else 5

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Horizontal:
            return None
        translate = QCoreApplication.translate
        if role == Qt.DisplayRole:
            return [translate("DatasetBrowser", "Image"), "TP", "FP", "FN", translate("DatasetBrowser", "Errors")][
                section
            ]
        if role == Qt.ToolTipRole:
            return [
                translate("DatasetBrowser", "The image file"),
                translate("DatasetBrowser", "True positives: detections that match an object (IoU >= 0.5)"),
                translate("DatasetBrowser", "False positives: detections that match no object"),
                translate("DatasetBrowser", "False negatives: objects no detection found"),
                translate("DatasetBrowser", "FN + FP: sort on this column for the worst images first"),
            ][section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r, c = int(self.rows[index.row()]), index.column()
        if c == COL_IMAGE:
            if role == Qt.DisplayRole:
                return os.path.basename(self.paths[r])
            if role == Qt.ToolTipRole:
                reason = self.skipped.get(r)
                return self.paths[r] + (f"\n{reason}" if reason else "")
            return None
        tp, fp, fn = (int(v) for v in self.counts[r])
        value = {COL_TP: tp, COL_FP: fp, COL_FN: fn, COL_ERRORS: fn + fp if tp >= 0 else -1}[c]
        if role == Qt.DisplayRole:
            if r in self.skipped:
                return QCoreApplication.translate("DatasetBrowser", "skipped") if c == COL_ERRORS else ""
            return "" if value < 0 else str(value)
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ForegroundRole and value > 0 and c in (COL_FP, COL_FN):
            return QColor(200, 40, 40) if c == COL_FP else QColor(220, 110, 0)
        return None
