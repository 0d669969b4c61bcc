"""The *Faithfulness* dock: measure how far the current CAM can be trusted for its target.

*Measure* asks the worker (on its thread: the 2 x steps perturbed frames are one batched forward)
for :func:`gam_gui.faithfulness.measure` of the clicked or followed detection, else the strongest
one, and shows the numbers and the deletion and insertion curves. :func:`install_measure` is the one
call the main window makes: it adds the dock and its View-menu action, and connects the window to
the worker's object following (a clicked box is followed on video; a lost one sets the target back
to "all" and says so in the status bar).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PyQt5.QtCore import QCoreApplication, QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt5.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gam_gui.faithfulness import BASELINES, DEFAULT_STEPS
from gam_gui.ui.panels import detection_at
from gam_gui.ui.worker import Measurement

DELETION_COLOUR = QColor(220, 60, 50)
INSERTION_COLOUR = QColor(40, 160, 70)


class CurvePlot(QWidget):
    """Deletion and insertion curves: score (0..1) against the fraction of pixels removed/inserted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fractions: np.ndarray | None = None
        self.curves: list[tuple[np.ndarray, QColor, str]] = []
        self.setMinimumSize(220, 150)

    def set_curves(self, fractions: Sequence[float] | None, deletion: Sequence[float] = (),
                   insertion: Sequence[float] = ()) -> None:
        self.fractions = None if fractions is None else np.asarray(fractions, np.float64)
        self.curves = [] if fractions is None else [
            (np.asarray(deletion, np.float64), DELETION_COLOUR, self.tr("deletion")),
            (np.asarray(insertion, np.float64), INSERTION_COLOUR, self.tr("insertion"))]
        self.update()

    def plot_rect(self) -> QRectF:
        return QRectF(34, 8, max(10, self.width() - 44), max(10, self.height() - 34))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = self.plot_rect()
        p.fillRect(self.rect(), self.palette().base())
        p.setPen(QPen(self.palette().mid().color(), 1))
        p.drawRect(r)
        p.setPen(self.palette().text().color())
        for v in (0.0, 0.5, 1.0):
            y = r.bottom() - v * r.height()
            p.drawText(QRectF(0, y - 8, 30, 16), Qt.AlignRight | Qt.AlignVCenter, f"{v:.1f}")
            p.drawText(QRectF(r.left() + v * r.width() - 15, r.bottom() + 2, 30, 14), Qt.AlignCenter, f"{v:.1f}")
        p.drawText(QRectF(r.left(), r.bottom() + 14, r.width(), 14), Qt.AlignCenter,
                   self.tr("fraction of pixels removed / inserted"))
        if self.fractions is None:
            p.drawText(r, Qt.AlignCenter, self.tr("no measurement"))
            return
        for n, (ys, colour, name) in enumerate(self.curves):
            pts = QPolygonF([QPointF(r.left() + f * r.width(), r.bottom() - float(np.clip(y, 0, 1)) * r.height())
                             for f, y in zip(self.fractions, ys)])
            path = QPainterPath()
            path.addPolygon(pts)
            p.setPen(QPen(colour, 2))
            p.drawPath(path)
            p.drawText(QRectF(r.right() - 100, r.top() + 4 + 16 * n, 96, 14), Qt.AlignRight, name)


class MeasureDock(QDockWidget):
    """The dock: Measure button, steps and baseline, the numbers and the two curves."""

    #: (steps, baseline): queued to :meth:`gam_gui.ui.worker.AnalysisWorker.measure`.
    measure_requested = pyqtSignal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Faithfulness"))
        self.setObjectName("faithfulness")
        self.last: Measurement | None = None
        body = QWidget()
        v = QVBoxLayout(body)
        form = QFormLayout()
        self.steps = QSpinBox()
        self.steps.setRange(2, 64)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip(self.tr("Points per curve; the model runs once on 2 x steps perturbed frames"))
        form.addRow(self.tr("Steps:"), self.steps)
        self.baseline = QComboBox()
        for key, label in ((BASELINES[0], self.tr("blurred frame")), (BASELINES[1], self.tr("mean colour"))):
            self.baseline.addItem(label, key)
        self.baseline.setToolTip(self.tr("What removed pixels are replaced with"))
        form.addRow(self.tr("Baseline:"), self.baseline)
        v.addLayout(form)
        self.button = QPushButton(self.tr("Measure"))
        self.button.setToolTip(self.tr("Measure the current CAM for its target: the clicked object, "
                                       "else the strongest detection"))
        self.button.clicked.connect(self.request)
        v.addWidget(self.button)
        self.numbers = QLabel(self.tr("Click Measure to score the current map."))
        self.numbers.setWordWrap(True)
        self.numbers.setTextInteractionFlags(Qt.TextSelectableByMouse)
        v.addWidget(self.numbers)
        self.plot = CurvePlot()
        v.addWidget(self.plot, 1)
        hint = QLabel(self.tr("Faithful maps: low deletion AUC (the score falls when the top pixels go), "
                              "high insertion AUC (it comes back when they alone are shown)."))
        hint.setWordWrap(True)
        v.addWidget(hint)
        self.setWidget(body)

    def request(self) -> None:
        self.button.setEnabled(False)
        self.numbers.setText(self.tr("measuring ..."))
        self.measure_requested.emit(int(self.steps.value()), str(self.baseline.currentData()))

    def show_measurement(self, m: Measurement) -> None:
        self.last = m
        s = m.score
        d = s.detection
        self.button.setEnabled(True)
        self.numbers.setText(self.tr(
            "{0}, detection #{1} ({2}, {3:.2f}) on frame {4}\n"
            "deletion AUC {5:.3f}   insertion AUC {6:.3f}\n"
            "energy in box {7:.1%}   pointing: {8}\n"
            "{9} steps, {10} baseline, {11:.0f} ms").format(
                m.method, m.index, d.name, d.score, m.frame_index, s.deletion_auc, s.insertion_auc,
                s.energy_in_box, self.tr("hit") if s.pointing else self.tr("miss"), s.steps, s.baseline, s.ms))
        self.plot.set_curves(s.fractions, s.deletion, s.insertion)

    def show_failure(self, msg: str) -> None:
        self.button.setEnabled(True)
        self.numbers.setText(msg)


def install_measure(window: QMainWindow) -> MeasureDock:
    """Give the main window its Faithfulness dock (right side, hidden until chosen in View) and the
    object following's feedback; the window's one call into this module."""
    dock = MeasureDock(window)
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    dock.hide()
    action = dock.toggleViewAction()
    action.setText(QCoreApplication.translate("MeasureDock", "&Faithfulness"))
    action.setStatusTip(QCoreApplication.translate("MeasureDock",
                                                   "Measure how faithful the current CAM is to its target"))
    window.menus["view"].addAction(action)
    worker = window.worker
    dock.measure_requested.connect(worker.measure)  # queued: the worker lives on its own thread
    worker.measured.connect(dock.show_measurement)
    worker.measure_failed.connect(dock.show_failure)
    _connect_following(window)
    return dock


def _connect_following(window: QMainWindow) -> None:
    """A clicked box is handed to the worker (it follows that box on video, whatever its index);
    a lost object sets the target control back to "all" and is reported in the status bar."""
    def clicked(key: str, x: float, y: float) -> None:
        fr = window.last
        if fr is None or fr.result is None or fr.compare is not None:
            return
        k = detection_at(fr.result.detections, (x, y))
        if k is not None:
            window.worker.follow(fr.result.detections[k], fr.frame.timestamp)

    def lost(missing_s: float) -> None:
        window.statusBar().showMessage(QCoreApplication.translate(
            "MeasureDock", "the followed object has been out of view for {0:.1f} s: the CAM explains all "
            "detections again").format(missing_s), 8000)
        controls = window.controls
        controls.target.setCurrentIndex(controls.target.findData("all"))

    for panel in window.grid.panels.values():
        panel.clicked.connect(clicked)
    window.worker.target_lost.connect(lost)
