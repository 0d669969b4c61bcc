"""The *Faithfulness* dock: measure how far the current CAM can be trusted for its target.

*Measure* asks the worker (on its thread: the 2 x steps perturbed frames are one batched forward)
for :func:`gam_gui.faithfulness.measure` of the clicked or followed detection, else the strongest
one, and shows the numbers and the deletion and insertion curves. :func:`install_measure` is the one
call the main window makes: it adds the dock and its View-menu action, and connects the window to
the worker's object following (a clicked box is followed on video; a lost one sets the target back
to "all" and says so in the status bar).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5.QtCore import QCoreApplication, QObject, QPointF, QRectF, Qt, pyqtSignal, pyqtSlot
from PyQt5.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt5.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gam_gui.faithfulness import BASELINES, DEFAULT_STEPS, MAX_TIE_ORDERS, REFERENCES
from gam_gui.progress import Eta
from gam_gui.ui.measure_request import WINDOW_TIE_ORDERS, MeasureRequest
from gam_gui.ui.panels import detection_at
from gam_gui.ui.worker import Measurement

LOGGER = logging.getLogger(__name__)
DELETION_COLOUR = QColor(220, 60, 50)
INSERTION_COLOUR = QColor(40, 160, 70)
#: The reference maps' curves: the same colours, faint, dashed (random) or dotted (box).
REFERENCE_ALPHA = 90
REFERENCE_STYLES = {"random": Qt.DashLine, "box": Qt.DotLine}


@dataclass
class SanityJob:
    """What the *Sanity check* button hands to the worker's thread: the shown frame and its settings."""

    model: Any
    image: np.ndarray
    method: str
    imgsz: int
    conf: float


class SanityRunner(QObject):
    """Runs :func:`gam_gui.faithfulness.sanity.sanity_check` on the analysis worker's thread (moved
    there by :func:`install_measure`), so the window stays responsive and the model is never used by
    two threads at once: its slot runs between the worker's own."""

    done = pyqtSignal(object)  # the check's dict
    failed = pyqtSignal(str)

    @pyqtSlot(object)
    def run(self, job: SanityJob) -> None:
        from gam_gui.faithfulness.sanity import sanity_check

        try:
            res = sanity_check(job.model, [job.image], [job.method], imgsz=job.imgsz, conf=job.conf)
        except Exception as e:  # noqa: BLE001 - a failed check is a message, not a crash
            LOGGER.warning("sanity check failed: %s", e)
            self.failed.emit(QCoreApplication.translate("MeasureDock", "sanity check failed: {0}").format(
                str(e) or type(e).__name__))
            return
        self.done.emit(res)


class CurvePlot(QWidget):
    """Deletion and insertion curves: score (0..1) against the fraction of pixels removed/inserted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fractions: np.ndarray | None = None
        self.curves: list[tuple[np.ndarray, QColor, str]] = []
        #: the reference maps' curves, drawn faintly behind: (values, colour, pen style, name)
        self.faint: list[tuple[np.ndarray, QColor, Qt.PenStyle, str]] = []
        self.setMinimumSize(220, 150)

    def set_curves(self, fractions: Sequence[float] | None, deletion: Sequence[float] = (),
                   insertion: Sequence[float] = (), references: dict | None = None) -> None:
        """The map's two curves and, faintly behind them, each reference's (``{name: score}``)."""
        self.fractions = None if fractions is None else np.asarray(fractions, np.float64)
        self.curves = [] if fractions is None else [
            (np.asarray(deletion, np.float64), DELETION_COLOUR, self.tr("deletion")),
            (np.asarray(insertion, np.float64), INSERTION_COLOUR, self.tr("insertion"))]
        self.faint = []
        for name, ref in (references or {}).items():
            if fractions is None or len(ref.fractions) != len(self.fractions):
                continue
            style = REFERENCE_STYLES.get(name, Qt.DashLine)
            for ys, colour in ((ref.deletion, DELETION_COLOUR), (ref.insertion, INSERTION_COLOUR)):
                faint = QColor(colour)
                faint.setAlpha(REFERENCE_ALPHA)
                self.faint.append((np.asarray(ys, np.float64), faint, style, name))
        self.update()

    def plot_rect(self) -> QRectF:
        fh = self.fontMetrics().height()
        return QRectF(34 + fh, 8, max(10, self.width() - 44 - fh), max(10, self.height() - 12 - 2 * fh - 8))

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
            p.drawText(QRectF(r.left() - 32, y - 8, 30, 16), Qt.AlignRight | Qt.AlignVCenter, f"{v:.1f}")
            p.drawText(QRectF(r.left() + v * r.width() - 15, r.bottom() + 2, 30, self.fontMetrics().height()),
                       Qt.AlignCenter, f"{v:.1f}")
        fh = self.fontMetrics().height()
        p.drawText(QRectF(0, r.bottom() + 2 + fh, self.width(), fh + 2), Qt.AlignCenter,
                   self.tr("fraction of pixels removed / inserted"))
        p.save()  # the y-axis label, read bottom to top
        p.translate(2, r.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-r.height() / 2, 0, r.height(), fh + 2), Qt.AlignCenter, self.tr("detection score"))
        p.restore()
        if self.fractions is None:
            p.drawText(r, Qt.AlignCenter, self.tr("no measurement"))
            return
        def path(ys: np.ndarray) -> QPainterPath:
            pts = QPolygonF([QPointF(r.left() + f * r.width(), r.bottom() - float(np.clip(y, 0, 1)) * r.height())
                             for f, y in zip(self.fractions, ys, strict=True)])
            out = QPainterPath()
            out.addPolygon(pts)
            return out

        for ys, colour, style, _ in self.faint:  # behind the map's curves
            p.setPen(QPen(colour, 1.5, style))
            p.drawPath(path(ys))
        for n, (ys, colour, name) in enumerate(self.curves):
            p.setPen(QPen(colour, 2))
            p.drawPath(path(ys))
            p.drawText(QRectF(r.right() - 100, r.top() + 4 + 16 * n, 96, 14), Qt.AlignRight, name)
        if self.faint:
            p.setPen(self.palette().mid().color())
            p.drawText(QRectF(r.right() - 160, r.top() + 36, 156, 14), Qt.AlignRight,
                       self.tr("faint: random - - -, box ..."))


class MeasureDock(QDockWidget):
    """The dock: Measure button, steps and baseline, the numbers and the two curves."""

    #: a :class:`MeasureRequest`: queued to :meth:`gam_gui.ui.worker.AnalysisWorker.measure`.
    measure_requested = pyqtSignal(object)

    #: the :class:`SanityJob` to run: queued to :meth:`SanityRunner.run` on the worker's thread.
    sanity_requested = pyqtSignal(object)

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
        labels = {"blur": self.tr("blurred frame"), "mean": self.tr("mean colour"),
                  "road": self.tr("kept neighbours (ROAD)")}
        for key, label in ((b, labels.get(b, b)) for b in BASELINES):
            self.baseline.addItem(label, key)
        self.baseline.setToolTip(self.tr("What removed pixels are replaced with; ROAD fills them from the kept "
                                         "pixels around them, so the hole does not keep the object's shape"))
        form.addRow(self.tr("Baseline:"), self.baseline)
        self.tie_orders = QSpinBox()
        self.tie_orders.setRange(1, MAX_TIE_ORDERS)
        self.tie_orders.setValue(WINDOW_TIE_ORDERS)
        self.tie_orders.setToolTip(self.tr(
            "Pixels with equal map values (the zeros of HiResCAM, the inside of the box map) are taken in a "
            "random order; each curve is the mean over this many orders. Each order costs about one more "
            "measurement; eval --faithfulness uses 4"))
        form.addRow(self.tr("Tie orders:"), self.tie_orders)
        v.addLayout(form)
        row = QHBoxLayout()
        self.button = QPushButton(self.tr("Measure"))
        self.button.setToolTip(self.tr("Measure the current CAM for its target: the clicked object, "
                                       "else the strongest detection"))
        self.button.clicked.connect(self.request)
        row.addWidget(self.button, 1)
        self.cancel = QPushButton(self.tr("Cancel"))
        self.cancel.setToolTip(self.tr("Stop the measurement after the batch that is running"))
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.request_cancel)
        row.addWidget(self.cancel)
        v.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setToolTip(self.tr("Perturbed frames scored so far, out of those the measurement needs, "
                                         "and the time left at the rate so far"))
        self.progress.hide()
        v.addWidget(self.progress)
        self._eta: Eta | None = None
        self._request: MeasureRequest | None = None
        self.sanity_button = QPushButton(self.tr("Sanity check"))
        self.sanity_button.setToolTip(self.tr(
            "Re-initialise the model's weights from the head down to the attention blocks (on a copy) and compare "
            "each detection's map before and after: a map that barely changes does not depend on the model"))
        self.sanity_button.clicked.connect(self.request_sanity)
        v.addWidget(self.sanity_button)
        self.sanity_text = QLabel("")
        self.sanity_text.setWordWrap(True)
        self.sanity_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.last_sanity: dict | None = None
        #: set by :func:`install_measure`: () -> the SanityJob of the shown frame, or an error message
        self.sanity_job: Callable[[], SanityJob | str] | None = None
        self.numbers = QLabel(self.tr("Click Measure to score the current map."))
        self.numbers.setWordWrap(True)
        self.numbers.setTextInteractionFlags(Qt.TextSelectableByMouse)
        v.addWidget(self.numbers)
        self.plot = CurvePlot()
        v.addWidget(self.plot, 1)
        v.addWidget(self.sanity_text)
        hint = QLabel(self.tr("Faithful maps: low deletion AUC (the score falls when the top pixels go), "
                              "high insertion AUC (it comes back when they alone are shown)."))
        hint.setWordWrap(True)
        v.addWidget(hint)
        self.setWidget(body)

    def request(self) -> None:
        self.button.setEnabled(False)
        self.cancel.setEnabled(True)
        self.numbers.setText(self.tr("measuring ..."))
        self._eta = None
        self.progress.setRange(0, 0)  # busy until the first batch says how many frames there are
        self.progress.setFormat(self.tr("preparing ..."))
        self.progress.show()
        self._request = MeasureRequest(int(self.steps.value()), str(self.baseline.currentData()),
                                       int(self.tie_orders.value()))
        self.measure_requested.emit(self._request)

    def request_cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.progress.setFormat(self.tr("cancelling ..."))
        if self._request is not None:
            self._request.cancel.set()  # read by the worker between batches

    def show_progress(self, done: int, total: int) -> None:
        """Perturbed frames scored so far, with the time left from their mean rate (:class:`Eta`)."""
        if self._eta is None or self._eta.total != total:
            self._eta = Eta(total)
            self._eta.start()
        self._eta.step(max(0, done - self._eta.n))
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        left = self._eta.remaining()
        eta = self.tr("{0:.0f} s left").format(left) if left is not None else self.tr("estimating")
        self.progress.setFormat(self.tr("{0}/{1} frames, {2}").format(done, total, eta))

    def _finished(self) -> None:
        self.button.setEnabled(True)
        self.cancel.setEnabled(False)
        self.progress.hide()

    def show_measurement(self, m: Measurement) -> None:
        self.last = m
        s = m.score
        d = s.detection
        self._finished()
        text = self.tr(
            "{0}, detection #{1} ({2}, {3:.2f}) on frame {4}\n"
            "deletion AUC {5:.3f}   insertion AUC {6:.3f}\n"
            "energy in box {7:.1%}   pointing: {8}\n"
            "{9} steps, {10} baseline, {11:.0f} ms").format(
                m.method, m.index, d.name, d.score, m.frame_index, s.deletion_auc, s.insertion_auc,
                s.energy_in_box, self.tr("hit") if s.pointing else self.tr("miss"), s.steps, s.baseline, s.ms)
        text += "\n" + self.tr("tied pixels {0:.0%} (curves: mean of {1} random orders)").format(
            s.tied_fraction, s.tie_orders)
        names = {"random": self.tr("random map"), "box": self.tr("box map")}
        for name in REFERENCES:
            ref = s.references.get(name)
            if ref is not None:
                text += "\n" + self.tr("{0}: deletion AUC {1:.3f}   insertion AUC {2:.3f}").format(
                    names[name], ref.deletion_auc, ref.insertion_auc)
        flags = {"no better than a random map": self.tr("no better than a random map"),
                 "no more than the box": self.tr("no more than the box")}
        for f in s.flags:
            text += "\n\u26a0 " + flags.get(f, f)
        self.numbers.setText(text)
        self.plot.set_curves(s.fractions, s.deletion, s.insertion, s.references)

    def request_sanity(self) -> None:
        job = self.sanity_job() if self.sanity_job is not None else self.tr("nothing to check")
        if isinstance(job, str):
            self.sanity_text.setText(job)
            return
        self.sanity_button.setEnabled(False)
        self.sanity_text.setText(self.tr("sanity check: randomising the weights ..."))
        self.sanity_requested.emit(job)

    def show_sanity(self, res: dict) -> None:
        """The randomisation check's result for the shown method: the rank correlation at each stage."""
        self.last_sanity = res
        self.sanity_button.setEnabled(True)
        lines = []
        for method, r in res.items():
            if r["rank_corr"] is None:
                lines.append(self.tr("{0}: no detection to check").format(method))
                continue
            lo, hi = r["ci95"]
            lines.append(self.tr("{0}: rank correlation trained vs randomised {1:.2f} [{2:.2f}, {3:.2f}] over "
                                 "{4} detection(s)").format(method, r["rank_corr"], lo, hi, r["detections"]))
            lines.append("  " + ", ".join(f"{c['randomized']}: {c['rank_corr']:.2f}" for c in r["cascade"]
                                          if c["rank_corr"] is not None))
            if r["flags"]:
                lines.append("\u26a0 " + self.tr("insensitive to the model (above 0.5: the map barely changes "
                                                 "when the weights are destroyed)"))
        self.sanity_text.setText("\n".join(lines))

    def show_sanity_failure(self, msg: str) -> None:
        self.sanity_button.setEnabled(True)
        self.sanity_text.setText(msg)

    def show_failure(self, msg: str) -> None:
        self._finished()
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
    worker.measure_progress.connect(dock.show_progress)
    worker.measured.connect(dock.show_measurement)
    worker.measure_failed.connect(dock.show_failure)
    runner = SanityRunner()
    runner.moveToThread(worker.thread())
    dock.sanity_runner = runner  # kept alive with the dock
    dock.sanity_requested.connect(runner.run)  # queued onto the worker's thread
    runner.done.connect(dock.show_sanity)
    runner.failed.connect(dock.show_sanity_failure)

    def job() -> SanityJob | str:
        fr = window.last
        if worker.model is None or fr is None or fr.result is None:
            return QCoreApplication.translate("MeasureDock", "nothing to check: open a source and a model first")
        if fr.settings.method == "none":
            return QCoreApplication.translate("MeasureDock", "choose a CAM method to check")
        if not fr.result.detections:
            return QCoreApplication.translate("MeasureDock", "no detection to check on this frame")
        return SanityJob(worker.model, fr.frame.image.copy(), fr.settings.method, fr.settings.imgsz,
                         fr.settings.conf)

    dock.sanity_job = job
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
