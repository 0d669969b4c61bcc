"""The dataset browser's worker: opening a dataset, scoring its images and running its eval, on a
``QThread`` of its own, so the window and the analysis worker stay responsive.

It loads its own copy of the window's model (a small file; two threads never share one model's
hooks). Long loops check a :class:`threading.Event` between images: :meth:`DatasetWorker.cancel`
is called from the GUI thread directly (a queued slot would wait for the loop to end).
Nothing here touches a widget; results go out through queued signals, in batches (at most a few a
second), so a 5,000-image scoring does not flood the GUI thread's event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from gam_gui import dataset_browse as B

LOGGER = logging.getLogger(__name__)
#: results are sent to the GUI thread at most this often (seconds)
BATCH_SECONDS = 0.2


class DatasetWorker(QObject):
    """Lives on its own QThread; slots are called through queued signals."""

    opened = pyqtSignal(object)  # Dataset
    open_failed = pyqtSignal(str)
    scored = pyqtSignal(object)  # list[ImageScore]
    score_progress = pyqtSignal(int, int)  # done, total
    score_finished = pyqtSignal(bool)  # cancelled
    eval_progress = pyqtSignal(int, int)
    eval_done = pyqtSignal(str)  # the metrics.json written
    eval_failed = pyqtSignal(str)
    eval_cancelled = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.score_cancel = threading.Event()
        self.eval_cancel = threading.Event()
        self.stopping = threading.Event()
        self.dataset: Any = None
        self.model: Any = None
        self.weights = ""
        #: the device the window analyses on (set by the GUI thread before each command)
        self.device = "cpu"
        self.model_device = ""
        self.imgsz = 320
        self.eval_batch = 8  # images per forward of the eval: a cancel is seen between batches

    def cancel(self) -> None:
        """Stop the scoring and the eval (any thread)."""
        self.score_cancel.set()
        self.eval_cancel.set()

    def _model(self, weights: str) -> Any:
        """The window's model (``weights``, '' = the default) on the window's device, loaded once."""
        from gam_gui.checkpoints import load_model

        device = self.device
        if self.model is None or (weights, device) != (self.weights, self.model_device):
            self.model = load_model(weights or None, device=device)
            self.weights, self.model_device = weights, device
        return self.model

    @pyqtSlot(str, str, str)
    def open_data(self, spec: str, split: str, weights: str) -> None:
        """Open ``spec`` at ``split``, class indices in the order of the model ``weights`` ('' = default)."""
        from gam_gui.datasets import DatasetError, open_dataset
        from gam_gui.evaluation.scoring import class_names

        try:
            model = self._model(weights)
            self.dataset = open_dataset(spec, split, model_names=class_names(model))
        except (DatasetError, OSError, ValueError) as e:
            self.open_failed.emit(str(e) or type(e).__name__)
            return
        except Exception as e:  # noqa: BLE001 - a broken checkpoint or file is a message, not a crash
            LOGGER.exception("opening %s failed", spec)
            self.open_failed.emit(str(e) or type(e).__name__)
            return
        self.opened.emit(self.dataset)

    @pyqtSlot(float, float, int, str)
    def score(self, conf: float, iou: float, imgsz: int, weights: str) -> None:
        """Score every image of the open dataset at ``conf`` (the window's threshold) with the model
        ``weights`` ('' = the default one): the window's model, loaded again if it changed."""
        self.score_cancel.clear()
        ds = self.dataset
        if ds is None or self.stopping.is_set():
            self.score_finished.emit(True)
            return
        self.imgsz = imgsz
        try:
            model = self._model(weights)
        except Exception as e:  # noqa: BLE001
            self.open_failed.emit(str(e) or type(e).__name__)
            self.score_finished.emit(True)
            return
        total, done, batch, last = len(ds), 0, [], time.monotonic()
        try:
            for item in B.score_images(model, ds, conf, iou, imgsz, self.score_cancel):
                batch.append(item)
                done += 1
                now = time.monotonic()
                if now - last >= BATCH_SECONDS:
                    self.scored.emit(batch)
                    self.score_progress.emit(done, total)
                    batch, last = [], now
        except Exception as e:  # noqa: BLE001 - one bad image must not kill the thread
            LOGGER.exception("scoring failed")
            self.open_failed.emit(str(e) or type(e).__name__)
        if batch:
            self.scored.emit(batch)
        self.score_progress.emit(done, total)
        self.score_finished.emit(done < total)

    @pyqtSlot(str)
    def run_eval(self, out: str) -> None:
        """``eval --data ... --ablate-each --out out`` on the open dataset."""
        self.eval_cancel.clear()
        if self.dataset is None or self.stopping.is_set():
            self.eval_cancelled.emit()
            return
        try:
            from gam_gui.evaluation.scoring import model_imgsz

            model = self._model(self.weights)
            path = B.run_eval(model, self.dataset, model_imgsz(model, None), self.weights, out, self.eval_cancel,
                              lambda d, t: self.eval_progress.emit(d, t), batch=self.eval_batch)
        except B.EvalCancelledError:
            self.eval_cancelled.emit()
            return
        except Exception as e:  # noqa: BLE001
            LOGGER.exception("eval failed")
            self.eval_failed.emit(str(e) or type(e).__name__)
            return
        self.eval_done.emit(str(path))

    @pyqtSlot()
    def shutdown(self) -> None:
        self.stopping.set()
        self.cancel()
        self.model = self.dataset = None
