"""The analysis worker: capture and the frame pipeline on its own ``QThread``, with its signals.

The GUI thread never runs the model: it sends commands to :class:`AnalysisWorker` through queued
signals and receives a :class:`FrameResult` (numpy panels) per analysed frame, which it only converts
to QImages and paints. Nothing here touches a widget, and nothing here decides what a frame shows:
that is :class:`gam_gui.pipeline.FramePipeline` (view precedence, caches, CAM cadence, following,
the figure), which the export runs too. This module keeps the threads, the timers, the grabbing of
live sources, the recording and the signals.

Latency rules:

* live sources (camera, stream, a live :class:`~gam_gui.sources.GeneratorSource`) are read by a
  :class:`~gam_gui.ui.grabber.Grabber` thread that keeps only the newest frame; the worker takes it
  whenever it is free, so a slow CAM drops frames instead of building a queue;
* a video plays on a clock at its own frame rate; when the analysis falls behind, the frames whose
  time has passed are skipped (counted in ``dropped``) instead of being analysed late.

The view is one lock-protected :class:`~gam_gui.pipeline.ViewState` (set from any thread): every
frame reads the newest one, so a change applies to the next frame.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QTimer, pyqtSignal, pyqtSlot

from gam_gui.analysis import Settings
from gam_gui.checkpoints import CheckpointError, default_weights_path, load_model
from gam_gui.inference import Detection
from gam_gui.pipeline import Click, FrameOutput, FramePipeline, MeasureError, Measurement, ModelB, ViewState
from gam_gui.sources import FolderSource, Frame, Source, SourceError, VideoSource, open_source
from gam_gui.tracking import FOLLOW_KINDS
from gam_gui.ui.frame_result import (
    NO_MODEL_TEXT,
    FrameResult,
    ModelInfo,
    SourceInfo,
    channel_weights,
    display_copy,
    raw_panels,
)
from gam_gui.ui.grabber import Grabber
from gam_gui.ui.measure_request import MeasureCancelledError, MeasureRequest
from gam_gui.ui.threads import THREADS_ENV, configure_analysis_threads, usable_cpus
from gam_gui.video_out import ExportError, VideoRecorder

__all__ = ["THREADS_ENV", "AnalysisWorker", "FrameResult", "Measurement", "ModelInfo", "SourceInfo",
           "channel_weights", "configure_analysis_threads", "usable_cpus"]

LOGGER = logging.getLogger(__name__)


class AnalysisWorker(QObject):
    """Lives on a QThread; see the module docstring. Slots are called through queued signals."""

    frame_ready = pyqtSignal(object)  # FrameResult
    model_loading = pyqtSignal(str)
    model_loaded = pyqtSignal(object)  # ModelInfo
    model_failed = pyqtSignal(str)
    source_opened = pyqtSignal(object)  # SourceInfo
    source_failed = pyqtSignal(str)
    source_closed = pyqtSignal()
    playing_changed = pyqtSignal(bool)
    ended = pyqtSignal()
    error = pyqtSignal(str)
    recording_changed = pyqtSignal(bool, str)
    compare_loading = pyqtSignal(str)
    compare_loaded = pyqtSignal(str)  # model B's name
    compare_failed = pyqtSignal(str)
    compare_stopped = pyqtSignal()
    #: The followed object has been missing for longer than the tracker's timeout (seconds missing);
    #: the worker explains all detections until the target setting changes or another box is clicked.
    target_lost = pyqtSignal(float)
    measured = pyqtSignal(object)  # Measurement
    measure_failed = pyqtSignal(str)
    measure_progress = pyqtSignal(int, int)  # perturbed frames (done, total) of the running measurement

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._view = ViewState()
        self.stopping = threading.Event()
        self.model: Any = None
        self.model_info: ModelInfo | None = None
        self.pipeline: FramePipeline | None = None  # made with the first model
        self.source: Source | None = None
        self.source_info: SourceInfo | None = None
        self._grabber: Grabber | None = None
        self._frame: Frame | None = None
        self._playing = False
        self.loop = True
        self._clock = (0.0, 0)
        self._dropped = 0
        self._times: collections.deque[float] = collections.deque(maxlen=30)
        self._recorder: VideoRecorder | None = None
        self._shown_width: int | None = None
        #: A video file starts playing when it has opened, as in media players (benchmarks turn it off).
        self.autoplay = True
        self._pending_seek: int | None = None
        # The timer slots are pyqtSlots: a plain Python callable would get a proxy object living on the
        # thread that made the connection (the GUI thread), and the analysis would run there.
        self._play_timer = QTimer(self)
        self._play_timer.setSingleShot(True)
        self._play_timer.timeout.connect(self._tick)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._do_refresh)

    # -- thread-safe state shared with the GUI thread ------------------------------------------------
    def set_settings(self, settings: Settings, cam_every: int | None = None,
                     panel_keys: tuple[str, ...] | None = None, ablation: Mapping[int, str] | None = None,
                     maps_of: str | None = None) -> None:
        """Replace the settings (any thread); the next analysed frame uses them. ``None`` leaves the
        cadence, the visible panels, the ablation or ``maps_of`` as they are.

        ``ablation``: GAM layer -> mode (:data:`gam_gui.ablation.MODES`) of the blocks to ablate; ``{}``
        turns the ablation view off. ``maps_of``: the ablation view's CAM and GAM panels of the model
        as ``trained`` or ``ablated``.
        """
        given = {"cam_every": cam_every, "panels": panel_keys, "ablation": ablation, "maps_of": maps_of}
        self._update_view(settings=settings, **{k: v for k, v in given.items() if v is not None})

    def _update_view(self, **changes: Any) -> None:
        with self._lock:
            self._view = self._view.updated(**changes)

    def follow(self, detection: Detection, t: float) -> None:
        """Follow ``detection``, clicked on the frame shown at time ``t`` (any thread): the box, not only
        its index, so that clicking another object with the same index restarts the tracking."""
        self._update_view(click=Click(detection, float(t)))

    def set_ground_truth(self, gt: Any) -> None:
        """The shown dataset image's :class:`~gam_gui.render_gt.GroundTruth` (any thread), or None."""
        self._update_view(ground_truth=gt)

    def set_shown_width(self, width: int | None) -> None:
        """How wide the window shows a panel (any thread): box labels are sized for it."""
        with self._lock:
            self._shown_width = int(width) if width else None

    def view(self) -> ViewState:
        """The current view (any thread)."""
        with self._lock:
            return self._view

    @property
    def model_b(self) -> Any:
        """The comparison's model B, or None."""
        b = self.view().model_b
        return b.model if b is not None else None

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def analyzed(self) -> int:
        return self.pipeline.analyzed if self.pipeline is not None else 0

    # -- model -------------------------------------------------------------------------------------
    @pyqtSlot(str, str)
    def load_model(self, path: str, device: str) -> None:
        """Load a checkpoint ('' = the default model) on ``device`` ('' = CUDA when available)."""
        shown = path or str(default_weights_path())
        self.model_loading.emit(shown)
        loaded = self._load(path or None, shown, device, self.model_failed)
        if loaded is None:
            return  # the old model stays usable
        self.model, self.model_info = loaded
        if self.pipeline is None:
            kind = self.source.kind if self.source is not None else ""
            self.pipeline = FramePipeline(self.model, sequential=kind in FOLLOW_KINDS, lenient=True)
        else:
            self.pipeline.new_model(self.model)
        self._update_view(name_a=self.model_info.name)
        self.model_loaded.emit(self.model_info)

    @pyqtSlot(str, str)
    def load_model_b(self, path: str, device: str) -> None:
        """Load a second checkpoint to compare with (any file :func:`load_model` reads); while it is set,
        every frame is analysed by both models. A refused file is a message; the view stays as it was."""
        self.compare_loading.emit(path)
        loaded = self._load(path, path, device, self.compare_failed, describe=False)
        if loaded is not None:
            self._update_view(model_b=ModelB(loaded[0], Path(path).stem))
            self.compare_loaded.emit(Path(path).stem)

    def _load(self, path: str | None, shown: str, device: str, failed: Any,
              describe: bool = True) -> tuple[Any, ModelInfo | None] | None:
        """The model (and its description) or None, with any failure sent as a message on ``failed``."""
        try:
            model = load_model(path, device=device or None)
            return model, ModelInfo.of(model, shown) if describe else None
        except CheckpointError as e:
            failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - any failure is a message; the window keeps running
            LOGGER.exception("loading %s failed", shown)
            failed.emit(f"{shown}: {e}")
        return None

    @pyqtSlot()
    def stop_compare(self) -> None:
        """Drop model B: the next frames show the normal (or ablation) view again."""
        if self.model_b is None:
            return
        self._update_view(model_b=None)
        self.compare_stopped.emit()

    # -- sources -----------------------------------------------------------------------------------
    @pyqtSlot(object)
    def open_source(self, spec: Any) -> None:
        """Open an image/folder/video path, ``camera:N``, a URL, or a ready :class:`Source`.

        The old source is kept until the new one has opened, so a bad file changes nothing.
        """
        try:
            src = spec if isinstance(spec, Source) else open_source(spec)
        except SourceError as e:
            self.source_failed.emit(str(e))
            return
        except Exception as e:  # noqa: BLE001
            LOGGER.exception("opening %s failed", spec)
            self.source_failed.emit(f"{spec}: {e}")
            return
        first = None
        if not src.live:
            try:
                first = src.read()
            except SourceError as e:
                src.close()
                self.source_failed.emit(str(e))
                return
            if first is None:
                src.close()
                self.source_failed.emit(self.tr("{0}: has no readable frame").format(src.label))
                return
        self._close_source(emit=False)
        self.source = src
        self.source_info = SourceInfo(src.label, src.kind, bool(src.live), src.count, src.fps,
                                      spec.label if isinstance(spec, Source) else str(spec))
        self._dropped = 0
        if self.pipeline is not None:
            self.pipeline.new_source(src.kind in FOLLOW_KINDS)
        self._update_view(click=None)  # a box clicked on the old source is nothing to follow here
        self._times.clear()
        self.source_opened.emit(self.source_info)
        for msg in src.errors:
            self.error.emit(msg)
        if src.live:
            self._grabber = Grabber(src)
            self._grabber.start()
            self._set_playing(True)
        else:
            self._new_frame(first)
            self._process()
            if self.autoplay and src.kind == "video":
                self._set_playing(True)

    @pyqtSlot()
    def close_source(self) -> None:
        self._close_source(emit=True)

    def _close_source(self, emit: bool) -> None:
        self._set_playing(False)
        self._stop_recording(keep=True)
        if self._grabber is not None:
            if not self._grabber.stop():
                LOGGER.warning("%s: the reader did not stop in time", self.source.label if self.source else "?")
            self._grabber = None
        if self.source is not None:
            try:
                self.source.close()
            except Exception:  # noqa: BLE001 - closing must not fail shutdown
                LOGGER.exception("closing the source failed")
            self.source = None
            self.source_info = None
            if emit:
                self.source_closed.emit()
        self._frame = None
        if self.pipeline is not None:
            self.pipeline.new_source(False)

    def _new_frame(self, frame: Frame) -> None:
        self._frame = frame

    # -- transport ---------------------------------------------------------------------------------
    @pyqtSlot()
    def play(self) -> None:
        src = self.source
        if src is None or src.kind == "image" or self.stopping.is_set():
            return
        if not src.live and src.count and src.position >= src.count:
            self._seek_to(0)
        self._set_playing(True)

    @pyqtSlot()
    def pause(self) -> None:
        self._set_playing(False)

    @pyqtSlot()
    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    @pyqtSlot(bool)
    def set_loop(self, loop: bool) -> None:
        self.loop = bool(loop)

    @pyqtSlot(int)
    def step(self, delta: int) -> None:
        """Pause and show the next (``delta`` > 0) or an earlier frame (files) / the newest (live)."""
        self._set_playing(False)
        src = self.source
        if src is None or src.kind == "image":
            return
        try:
            if src.live:
                f = self._grabber.take() if self._grabber else None
                if f is None:
                    return
                self._new_frame(f)
            elif delta > 0 and (self._frame is None or src.position == self._frame.index + 1):
                f = src.read()
                if f is None:
                    self.ended.emit()
                    return
                self._new_frame(f)
            else:
                cur = self._frame.index if self._frame is not None else 0
                if not self._seek_to(cur + delta):
                    return
        except SourceError as e:
            self.error.emit(str(e))
            return
        self._process()

    @pyqtSlot(int)
    def seek(self, index: int) -> None:
        """Show frame ``index`` (coalesced: while a slider is dragged only the newest request runs)."""
        self._pending_seek = int(index)
        self._refresh_timer.start(0)

    @pyqtSlot()
    def stop(self) -> None:
        """Files: pause and go back to the first frame. Live: release the camera or stream."""
        src = self.source
        if src is None:
            return
        if src.live:
            self._close_source(emit=True)
            return
        self._set_playing(False)
        try:
            if self._seek_to(0):
                self._process()
        except SourceError as e:
            self.error.emit(str(e))

    @pyqtSlot()
    def refresh(self) -> None:
        """Re-analyse the current frame with the newest settings (coalesced; a playing source
        picks the settings up with its next frame anyway)."""
        if not self._playing or (self.source is not None and self.source.kind == "image"):
            self._refresh_timer.start(0)

    def _seek_to(self, index: int) -> bool:
        """Make the frame at ``index`` the current one; False when the source cannot seek."""
        src = self.source
        if src is None or src.live:
            return False
        if isinstance(src, FolderSource):
            self._new_frame(src.read_at(index))
            return True
        n = src.count or 0
        index = max(0, min(index, n - 1)) if n else max(0, index)
        src.seek(index)
        f = src.read()
        if f is None:
            return False
        self._new_frame(f)
        if self._playing:
            self._clock = (time.monotonic(), src.position)
        return True

    def _set_playing(self, playing: bool) -> None:
        playing = bool(playing) and self.source is not None and not self.stopping.is_set()
        if playing:
            self._clock = (time.monotonic(), self.source.position)
            self._times.clear()
            self._play_timer.start(0)
        else:
            self._play_timer.stop()
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    @pyqtSlot()
    def _do_refresh(self) -> None:
        if self.stopping.is_set():
            return
        if self._pending_seek is not None:
            idx, self._pending_seek = self._pending_seek, None
            try:
                if not self._seek_to(idx):
                    return
            except SourceError as e:
                self.error.emit(str(e))
                return
        if self._frame is not None:
            self._process()

    @pyqtSlot()
    def _tick(self) -> None:
        src = self.source
        if not self._playing or src is None or self.stopping.is_set():
            return
        if src.live:
            g = self._grabber
            f = g.take() if g else None
            if f is None:
                if g is None or g.error or g.ended:
                    self._set_playing(False)
                    if g is not None and g.error:
                        self.error.emit(g.error)
                    else:
                        self.ended.emit()
                    return
                self._play_timer.start(5)
                return
            if self._frame is not None and f.index > self._frame.index + 1:
                self._dropped += f.index - self._frame.index - 1
            self._new_frame(f)
            self._process()
            if self._playing:
                self._play_timer.start(0)
            return
        fps = src.fps or (1.0 if src.kind == "folder" else 25.0)
        t0, i0 = self._clock
        due_index = i0 + int((time.monotonic() - t0) * fps)
        try:
            behind = due_index - src.position
            if behind > 0:
                self._skip(src, behind, due_index)
            f = src.read()
        except SourceError as e:
            self.error.emit(str(e))
            self._set_playing(False)
            return
        if f is None:
            if self.loop and src.count:
                src.seek(0)
                self._clock = (time.monotonic(), 0)
                self._play_timer.start(0)
            else:
                self._set_playing(False)
                self.ended.emit()
            return
        self._new_frame(f)
        self._process()
        if self._playing:
            due = t0 + (f.index + 1 - i0) / fps
            self._play_timer.start(max(0, int((due - time.monotonic()) * 1000)))

    def _skip(self, src: Source, n: int, target: int) -> None:
        """Drop ``n`` frames whose time has passed: decode-and-discard, or seek when far behind."""
        if isinstance(src, VideoSource) and n > max(30, 2 * (src.fps or 25)):
            src.seek(target)
        else:
            for _ in range(n):
                if src.read() is None:
                    break
        self._dropped += n

    # -- one frame ---------------------------------------------------------------------------------
    def _process(self) -> None:
        """Run the pipeline on the current frame (when a model is loaded), render it, record it and
        emit it."""
        frame = self._frame
        if frame is None or self.stopping.is_set():
            return
        view = self.view()
        out: FrameOutput | None = None
        err = ""
        if self.model is not None and self.pipeline is not None:
            try:
                out = self.pipeline.step(frame, view, moving=self._playing)
            except Exception as e:  # noqa: BLE001 - a bad setting or frame is a message, not a crash
                LOGGER.warning("analysis failed: %s", e)
                err = str(e) or type(e).__name__
                self.error.emit(self.tr("analysis failed: {0}").format(err))
                self._set_playing(False)
        if out is not None and out.warning:
            self.error.emit(self.tr("ablation failed: {0}").format(out.warning))
        if out is not None and out.lost_s is not None:
            self.target_lost.emit(out.lost_s)
        try:
            with self._lock:
                shown = self._shown_width
            panels = out.panels(shown) if out is not None \
                else raw_panels(frame, NO_MODEL_TEXT if self.model is None else f"analysis failed: {err}")
        except Exception as e:  # noqa: BLE001
            LOGGER.exception("rendering failed")
            self.error.emit(self.tr("rendering failed: {0}").format(e))
            return
        panels = [display_copy(p) for p in panels]
        if self._recorder is not None and out is not None:
            try:  # what the window shows: the ablation overlay or the comparison included
                self._recorder.write(out.figure())
            except (ExportError, ValueError) as e:
                self.error.emit(str(e))
                self._stop_recording(keep=True)
        now = time.monotonic()
        if self._playing:
            self._times.append(now)
        fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) \
            if len(self._times) > 1 and self._times[-1] > self._times[0] else 0.0
        g = self._grabber
        src = self.source
        self.frame_ready.emit(FrameResult(
            frame=frame, result=out.result if out else None, settings=out.settings if out else view.settings,
            panels=panels, highlight=out.highlight if out else None, source=self.source_info,
            position=src.position if src is not None else 0,
            latest_index=g.latest_index if g is not None else frame.index,
            produced=g.produced if g is not None else frame.index + 1,
            analyzed=self.analyzed, dropped=self._dropped, playing=self._playing, fps=fps,
            extra={"error": err} if err else {}, ablation=out.ablation if out else None,
            compare=out.compare if out else None, names=view.names, output=out,
            maps_of=out.maps_of if out else "trained"))

    @pyqtSlot(object)
    def measure(self, request: MeasureRequest) -> None:
        """Faithfulness of the current frame's CAM for its target (:meth:`FramePipeline.measure`),
        reporting ``measure_progress`` after each batch; the request's ``cancel`` token stops it."""
        out = self.pipeline.last if self.pipeline is not None else None
        if self.model is None or self._frame is None or out is None or out.frame is not self._frame:
            self.measure_failed.emit(self.tr("nothing to measure: open a source and a model first"))
            return

        def progress(done: int, total: int) -> None:
            if request.cancel.is_set() or self.stopping.is_set():
                raise MeasureCancelledError(done)
            self.measure_progress.emit(done, total)

        try:
            m = self.pipeline.measure(out, request.steps, request.baseline, request.tie_orders, progress)
        except MeasureCancelledError:
            self.measure_failed.emit(self.tr("measurement cancelled"))
            return
        except MeasureError as e:
            if e.reason == "compare":
                msg = self.tr("measuring is not available while comparing two models")
            elif e.reason == "method":
                msg = self.tr("choose a CAM method to measure")
            else:
                msg = self.tr("no detection to measure on this frame")
            self.measure_failed.emit(msg)
            return
        except Exception as e:  # noqa: BLE001 - a failed measurement is a message, not a crash
            LOGGER.warning("measuring failed: %s", e)
            self.measure_failed.emit(self.tr("measuring failed: {0}").format(str(e) or type(e).__name__))
            return
        self.measured.emit(m)

    # -- recording ---------------------------------------------------------------------------------
    @pyqtSlot(str, float)
    def start_recording(self, path: str, fps: float) -> None:
        """Record the composed panels of every analysed frame to an MP4 (the GUI asked about overwriting)."""
        self._stop_recording(keep=True)
        src_fps = self.source.fps if self.source is not None else None
        try:
            self._recorder = VideoRecorder(Path(path), fps or src_fps or 25.0, overwrite=True)
        except ExportError as e:
            self.error.emit(str(e))
            return
        self.recording_changed.emit(True, path)

    @pyqtSlot()
    def stop_recording(self) -> None:
        self._stop_recording(keep=True)

    def _stop_recording(self, keep: bool) -> None:
        rec, self._recorder = self._recorder, None
        if rec is None:
            return
        try:
            kept = rec.close(keep=keep)
        except Exception as e:  # noqa: BLE001
            self.error.emit(self.tr("recording failed: {0}").format(e))
            kept = False
        self.recording_changed.emit(False, str(rec.path) if kept else "")

    # -- shutdown ----------------------------------------------------------------------------------
    @pyqtSlot()
    def shutdown(self) -> None:
        """Stop playing, finish a recording, stop the reader thread and release the source."""
        self.stopping.set()
        self._play_timer.stop()
        self._refresh_timer.stop()
        self._close_source(emit=False)
        self.model = self.pipeline = None
        self._update_view(model_b=None)

