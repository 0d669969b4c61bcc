"""The analysis worker: capture, ``analyze_with`` and rendering to arrays, on its own ``QThread``.

The GUI thread never runs the model: it sends commands to :class:`AnalysisWorker` through queued
signals and receives a :class:`FrameResult` (numpy panels) per analysed frame, which it only converts
to QImages and paints. Nothing here touches a widget.

Latency rules:

* live sources (camera, stream, a live :class:`~gam_gui.sources.GeneratorSource`) are read by a
  :class:`_Grabber` thread that keeps only the newest frame; the worker takes it whenever it is free,
  so a slow CAM drops frames instead of building a queue;
* a video plays on a clock at its own frame rate; when the analysis falls behind, the frames whose
  time has passed are skipped (counted in ``dropped``) instead of being analysed late.

Settings are a lock-protected snapshot (:meth:`AnalysisWorker.set_settings`, callable from any thread):
every frame reads the newest one, so a change applies to the next frame. The ablation choice travels
in the same snapshot; a second model (:meth:`AnalysisWorker.load_model_b`) lives here like the first.

Views, by precedence: with a model B set, each frame is a two-model comparison
(:func:`gam_gui.compare.compare`, six panels) and the ablation is not run; else, with blocks ablated,
the frame's normal analysis is followed by one ablated forward (:func:`gam_gui.ablation.ablate` with
``before=`` the detections just found) and the detections panel becomes the match overlay.

A clicked object is *followed* on a video, camera or stream (:class:`~gam_gui.tracking.TargetTracker`):
the target index of the settings names the object clicked, and each new frame explains the detection
of the same class that overlaps it most (or the nearest one). The frame is analysed with the index
the object had on the previous frame, which is usually still right; only when the tracker picks
another index is the CAM made again. After a second without the object the CAM explains all
detections and :attr:`AnalysisWorker.target_lost` tells the window. Images and folders keep the
index as it is: their frames are unrelated.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PyQt5.QtCore import QCoreApplication, QObject, QTimer, pyqtSignal, pyqtSlot

from gam_gui import faithfulness, render
from gam_gui.ablation import AblationResult, ablate
from gam_gui.analysis import LayerInfo, Result, Settings, analyze_with, default_layers, list_layers
from gam_gui.checkpoints import CheckpointError, default_weights_path, load_model
from gam_gui.compare import CompareResult, compare
from gam_gui.export import ExportError, VideoRecorder
from gam_gui.inference import Detection
from gam_gui.sources import FolderSource, Frame, Source, SourceError, VideoSource, open_source
from gam_gui.tracking import FOLLOW_KINDS, MISSING, TargetTracker, TrackUpdate

LOGGER = logging.getLogger(__name__)

#: The Settings fields that change what ``analyze_with`` computes (the others only change rendering).
ANALYSIS_FIELDS = ("method", "layers", "target", "conf", "iou", "imgsz", "reduction", "renorm_boxes")
NO_MODEL_TEXT = "no model loaded: File > Open weights"
#: Environment variable that sets the analysis threads of the window (``gam-gui --threads`` wins).
THREADS_ENV = "GAM_GUI_THREADS"
#: Panels are sent to the GUI at most this large (long side): painting a 4K frame four times per
#: frame would make the GUI thread the bottleneck. Exports re-render at full resolution.
DISPLAY_MAX = 1280


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure_analysis_threads(threads: int | None = None) -> int:
    """Set torch's and OpenCV's thread pools for the window's analysis and return the count.

    Default: one CPU fewer than the process may use, so the GUI thread always has a core. With all
    cores busy in the model, the OS has to park the GUI thread behind OpenMP workers that spin at
    every barrier: on 2 cores the event loop then stalled 24-25 ms at the 99th percentile while a
    video played with Grad-CAM on, against 14 ms with one analysis thread
    (``benchmarks/bench_gui_stall.py``), which also played more frames per second.
    ``threads`` (``gam-gui --threads``) or ``$GAM_GUI_THREADS`` override it; a set
    ``OMP_NUM_THREADS`` is respected when neither is given. Process-wide: call it on the GUI thread
    before the worker starts (torch's worker threads read the count when they first run).
    """
    import torch

    if threads is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        if env:
            try:
                threads = int(env)
            except ValueError:
                LOGGER.warning("%s=%r is not a number; using the default", THREADS_ENV, env)
        if threads is None and os.environ.get("OMP_NUM_THREADS"):
            return torch.get_num_threads()
    if threads is None or threads < 1:
        threads = max(1, usable_cpus() - 1)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    LOGGER.info("analysis threads: %d", threads)
    return threads


@dataclass
class ModelInfo:
    """What the controls need to know about a loaded model (the model itself stays in the worker)."""

    path: str
    name: str
    names: dict[int, str]
    layers: list[LayerInfo]
    gam_layers: tuple[int, ...]
    default_layers: tuple[int, ...]
    imgsz: int | None
    device: str
    gam_variant: str = ""  # which GAM forward the loader inferred for each block, and why


@dataclass
class SourceInfo:
    label: str
    kind: str
    live: bool
    count: int | None
    fps: float | None
    spec: str


@dataclass
class FrameResult:
    """One analysed (or, without a model, raw) frame, ready to paint."""

    frame: Frame
    result: Result | None
    settings: Settings
    panels: list[render.Panel]  # display copies, at most DISPLAY_MAX on the long side
    highlight: int | None
    source: SourceInfo | None
    position: int  # the source's next frame
    latest_index: int  # newest frame index the source had produced when this was emitted
    produced: int  # frames the source produced so far (live) or frame index + 1 (files)
    analysed: int  # frames the model analysed so far on this source
    dropped: int  # frames skipped to keep up
    playing: bool
    fps: float  # analysed frames per second over the last few frames (0 when not playing)
    extra: dict = field(default_factory=dict)
    ablation: AblationResult | None = None  # the ablation shown on this frame (its match table)
    compare: CompareResult | None = None  # the A/B comparison shown instead of the normal panels
    names: tuple[str, str] = ("A", "B")  # the two models' names in a comparison


@dataclass
class Measurement:
    """A faithfulness measurement of the current frame's target (:meth:`AnalysisWorker.measure`)."""

    score: faithfulness.FaithfulnessScore
    method: str  # the CAM method's display name
    index: int  # the measured detection's index in its frame
    frame_index: int


class _Grabber:
    """Reads a live source on a plain thread and keeps only the newest frame (latest-frame-wins).

    A camera's ``read`` blocks until its next frame; a source that does not block (a generator) is
    paced at its ``fps`` (or 120 fps when it has none), so this never spins.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._latest: Frame | None = None
        self.produced = 0
        self.latest_index = -1
        self.error = ""
        self.ended = False
        self._thread = threading.Thread(target=self._run, name=f"gam-gui grabber ({source.label})", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        fps = self.source.fps
        interval = 1.0 / fps if fps and fps > 0 else 1.0 / 120
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                f = self.source.read()
            except SourceError as e:
                self.error = str(e)
                break
            except Exception as e:  # noqa: BLE001 - a driver fault ends the stream, not the app
                LOGGER.exception("live source failed")
                self.error = f"{self.source.label}: {e}"
                break
            if f is None:
                self.ended = True
                break
            with self._lock:
                self._latest = f
                self.produced += 1
                self.latest_index = f.index
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                self._stop.wait(rest)

    def take(self) -> Frame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            f, self._latest = self._latest, None
            return f

    def stop(self, timeout: float = 6.0) -> bool:
        """Stop and join; False when the read is still blocked after ``timeout`` (a dead stream)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()


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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._settings = Settings()
        self._cam_every = 1
        self._panel_keys: tuple[str, ...] = render.PANELS
        self._ablation: dict[int, str] = {}
        self.stopping = threading.Event()
        self.model: Any = None
        self.model_info: ModelInfo | None = None
        self.source: Source | None = None
        self.source_info: SourceInfo | None = None
        self._grabber: _Grabber | None = None
        self._frame: Frame | None = None
        self._frame_seq = 0
        self._cached: tuple[int, tuple, Result] | None = None
        self._cached_ablation: tuple[tuple, AblationResult] | None = None
        self._cached_compare: tuple[tuple, CompareResult] | None = None
        self._ablation_error = ""
        self.model_b: Any = None
        self.model_b_name = ""
        self._last_cam: Result | None = None
        self._playing = False
        self.loop = True
        self._clock = (0.0, 0)
        self._analysed = 0
        self._dropped = 0
        self._times: collections.deque[float] = collections.deque(maxlen=30)
        self._recorder: VideoRecorder | None = None
        self._shown_width: int | None = None
        #: A video file starts playing when it has opened, as in media players (benchmarks turn it off).
        self.autoplay = True
        #: the heatmaps' colour ranges held over the frames of the open source (Settings.scale "fixed")
        self.scales = render.ScaleMemory()
        self._pending_seek: int | None = None
        self._tracker = TargetTracker()
        self._click: tuple[Detection, float] | None = None  # a clicked box not yet followed (GUI thread sets it)
        self._follow_index: int | None = None  # the target setting the tracker was started for
        self._lost_index: int | None = None  # the target setting whose object was lost ("all" until it changes)
        self._tracked: int | None = None  # the followed object's index on the last frame it was in
        self._track: tuple[int, TrackUpdate] | None = None  # (frame seq, the tracker's answer for that frame)
        self._last_seen: tuple[Result, float] | None = None  # the last analysis and its frame's time
        self._last_settings: Settings | None = None  # what it was made with (the followed index as target)
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
                     panel_keys: tuple[str, ...] | None = None, ablation: Mapping[int, str] | None = None) -> None:
        """Replace the settings snapshot (any thread); the next analysed frame uses it.

        ``ablation``: GAM layer -> mode (:data:`gam_gui.ablation.MODES`) of the blocks to ablate; ``{}``
        turns the ablation view off, ``None`` leaves the current choice.
        """
        with self._lock:
            self._settings = settings
            if cam_every is not None:
                self._cam_every = max(1, int(cam_every))
            if panel_keys is not None:
                self._panel_keys = tuple(panel_keys) or render.PANELS
            if ablation is not None:
                self._ablation = {int(k): str(v) for k, v in ablation.items()}

    def follow(self, detection: Detection, t: float) -> None:
        """Follow ``detection``, clicked on the frame shown at time ``t`` (any thread): the box, not only
        its index, so that clicking another object with the same index restarts the tracking."""
        with self._lock:
            self._click = (detection, float(t))

    def set_shown_width(self, width: int | None) -> None:
        """How wide the window shows a panel (any thread): box labels are sized for it."""
        with self._lock:
            self._shown_width = int(width) if width else None

    def snapshot(self) -> tuple[Settings, int, tuple[str, ...]]:
        with self._lock:
            return self._settings, self._cam_every, self._panel_keys

    def ablation_snapshot(self) -> dict[int, str]:
        """The blocks to ablate (a copy; empty when the ablation view is off)."""
        with self._lock:
            return dict(self._ablation)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def analysed(self) -> int:
        return self._analysed

    # -- model -------------------------------------------------------------------------------------
    @pyqtSlot(str, str)
    def load_model(self, path: str, device: str) -> None:
        """Load a checkpoint ('' = the default model) on ``device`` ('' = CUDA when available)."""
        shown = path or str(default_weights_path())
        self.model_loading.emit(shown)
        try:
            model = load_model(path or None, device=device or None)
            meta = getattr(model, "meta", {}) or {}
            imgsz = int(meta.get("imgsz") or 0) or None
            layers = list_layers(model, imgsz or 320)
            info = ModelInfo(path=shown, name=Path(shown).stem, names=dict(getattr(model, "names", {}) or {}),
                             layers=layers, gam_layers=tuple(x.index for x in layers if x.is_gam),
                             default_layers=default_layers(model), imgsz=imgsz,
                             device=str(next(model.parameters()).device),
                             gam_variant=str(getattr(model, "variant_reason", "") or ""))
        except CheckpointError as e:
            self.model_failed.emit(str(e))
            return
        except Exception as e:  # noqa: BLE001 - any failure is a message; the old model stays usable
            LOGGER.exception("loading %s failed", shown)
            self.model_failed.emit(f"{shown}: {e}")
            return
        self.model, self.model_info = model, info
        self._cached = self._last_cam = self._cached_ablation = self._cached_compare = None
        self.model_loaded.emit(info)

    @pyqtSlot(str, str)
    def load_model_b(self, path: str, device: str) -> None:
        """Load a second checkpoint to compare with (any file :func:`load_model` reads); while it is set,
        every frame is analysed by both models. A refused file is a message; the view stays as it was."""
        self.compare_loading.emit(path)
        try:
            model = load_model(path, device=device or None)
        except CheckpointError as e:
            self.compare_failed.emit(str(e))
            return
        except Exception as e:  # noqa: BLE001 - any failure is a message; the window keeps running
            LOGGER.exception("loading %s failed", path)
            self.compare_failed.emit(f"{path}: {e}")
            return
        self.model_b, self.model_b_name = model, Path(path).stem
        self._cached_compare = None
        self.compare_loaded.emit(self.model_b_name)

    @pyqtSlot()
    def stop_compare(self) -> None:
        """Drop model B: the next frames show the normal (or ablation) view again."""
        if self.model_b is None:
            return
        self.model_b, self.model_b_name = None, ""
        self._cached_compare = None
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
        self._analysed = self._dropped = 0
        self._last_cam = None
        self.scales.reset()
        self._times.clear()
        self.source_opened.emit(self.source_info)
        for msg in src.errors:
            self.error.emit(msg)
        if src.live:
            self._grabber = _Grabber(src)
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
        self._cached = self._cached_ablation = self._cached_compare = None
        self._reset_tracking()

    def _reset_tracking(self) -> None:
        self._tracker.stop()
        self._follow_index = self._lost_index = self._tracked = None
        self._track = self._last_seen = None

    def _new_frame(self, frame: Frame) -> None:
        self._frame = frame
        self._frame_seq += 1

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

    # -- analysis ----------------------------------------------------------------------------------
    def _analyse(self, frame: Frame, s: Settings, cam_every: int) -> tuple[Result, Settings]:
        """The frame's analysis and the settings it was made with (the followed object's index as the
        target on a video; see the module docstring)."""
        if s.gam_layer is not None and self.model_info is not None and s.gam_layer not in self.model_info.gam_layers:
            s = s.updated(gam_layer=None)  # a choice made for the previous model, until the controls catch up
        with self._lock:
            click, self._click = self._click, None
        src = self.source
        if not isinstance(s.target, int) or src is None or src.kind not in FOLLOW_KINDS:
            if self._follow_index is not None or self._tracker.active:
                self._reset_tracking()
            res = self._analysis(frame, s, cam_every)
        else:
            res, s = self._analyse_followed(frame, s, cam_every, click)
        self._last_seen, self._last_settings = (res, frame.timestamp), s
        return res, s

    def _analyse_followed(self, frame: Frame, s: Settings, cam_every: int,
                          click: tuple[Detection, float] | None) -> tuple[Result, Settings]:
        if click is not None:
            self._tracker.start(*click)
            self._follow_index, self._lost_index, self._tracked, self._track = s.target, None, None, None
        elif s.target != self._follow_index:  # chosen in the controls (or the click's box is on its way)
            self._lost_index, self._tracked, self._track = None, None, None
            self._follow_index = s.target
            last = self._last_seen
            if last is not None and s.target < len(last[0].detections):
                self._tracker.start(last[0].detections[s.target], last[1])
            else:
                self._tracker.stop()
        if self._lost_index == s.target:
            shown = s.updated(target="all")
            res = self._analysis(frame, shown, cam_every)
            res.note = res.note or "the followed object was lost"
            return res, shown
        if not self._tracker.active:
            return self._analysis(frame, s, cam_every), s
        if self._track is not None and self._track[0] == self._frame_seq:  # this frame again (a new setting)
            upd = self._track[1]
            shown = s.updated(target=upd.index if upd.index is not None else "all")
            return self._analysis(frame, shown, cam_every), shown
        guess = s.updated(target=self._tracked if self._tracked is not None else s.target)
        res = self._analysis(frame, guess, cam_every)
        upd = self._tracker.update(res.detections, frame.timestamp)
        self._track = (self._frame_seq, upd)
        shown = s.updated(target=upd.index if upd.index is not None else "all")
        if shown.target != guess.target:
            res = self._analysis(frame, shown, cam_every)
        if upd.index is not None:
            self._tracked = upd.index
        elif upd.how == MISSING:
            res.note = f"followed object not in this frame ({upd.missing_s:.1f} s)"
        else:  # lost
            self._lost_index = s.target
            res.note = "the followed object was lost"
            self.target_lost.emit(upd.missing_s)
        return res, shown

    def _analysis(self, frame: Frame, s: Settings, cam_every: int) -> Result:
        """``analyze_with`` for this frame, cached per frame and analysis settings, with the CAM reused
        on frames between every ``cam_every``-th of a playing source."""
        key = tuple(getattr(s, f) for f in ANALYSIS_FIELDS)
        if self._cached is not None and self._cached[0] == self._frame_seq and self._cached[1] == key:
            return self._cached[2]
        last = self._last_cam
        reuse_cam = (self._playing and cam_every > 1 and s.method != "none" and last is not None
                     and last.cam is not None and last.cam.shape[:2] == frame.image.shape[:2]
                     and self._analysed % cam_every != 0)
        run = s.updated(method="none") if reuse_cam else s
        try:
            res = analyze_with(self.model, frame.image, run)
        except ValueError as e:
            if not (isinstance(s.target, int) and "does not exist" in str(e)):
                raise
            # The clicked object is gone (a new frame, a higher threshold): explain all detections.
            res = analyze_with(self.model, frame.image, run.updated(target="all"))
            res.note = f"detection #{s.target} is not in this frame"
        res.read_gam(s.gam_layer)  # the shown block's maps, timed (the status bar reports them)
        if reuse_cam:
            res = dataclasses.replace(res, cam=last.cam, method=last.method, layers=last.layers,
                                      target=last.target, note=f"CAM every {cam_every} frames")
        elif res.cam is not None:
            self._last_cam = res
        self._analysed += 1
        self._cached = (self._frame_seq, key, res)
        return res

    @pyqtSlot(int, str)
    def measure(self, steps: int, baseline: str) -> None:
        """Faithfulness of the current frame's CAM for its target (:func:`gam_gui.faithfulness.measure`):
        the clicked or followed detection, else the strongest one (of the chosen class for ``cls:``)."""
        last, s, frame = self._last_seen, self._last_settings, self._frame
        if self.model is None or frame is None or last is None or s is None:
            self.measure_failed.emit(self.tr("nothing to measure: open a source and a model first"))
            return
        if self.model_b is not None:
            self.measure_failed.emit(self.tr("measuring is not available while comparing two models"))
            return
        if s.method == "none":
            self.measure_failed.emit(self.tr("choose a CAM method to measure"))
            return
        dets = last[0].detections
        if not dets:
            self.measure_failed.emit(self.tr("no detection to measure on this frame"))
            return
        index = 0
        if isinstance(s.target, int) and s.target < len(dets):
            index = s.target
        elif isinstance(s.target, str) and s.target.startswith("cls:"):
            cls = int(s.target[4:])
            index = next((i for i, d in enumerate(dets) if d.cls == cls), 0)
        try:
            res = analyze_with(self.model, frame.image, s.updated(target=index))
            score = faithfulness.measure(self.model, frame.image, res.cam, res.detections[index], steps=steps,
                            baseline=baseline, imgsz=s.imgsz)
        except Exception as e:  # noqa: BLE001 - a failed measurement is a message, not a crash
            LOGGER.warning("measuring failed: %s", e)
            self.measure_failed.emit(self.tr("measuring failed: {0}").format(str(e) or type(e).__name__))
            return
        self.measured.emit(Measurement(score, res.method, index, frame.index))

    def _ablate(self, frame: Frame, s: Settings, result: Result, spec: dict[int, str]) -> AblationResult | None:
        """The ablation of this frame (one extra forward: ``before`` is the analysis just made), or
        None when it fails: the message is shown once, the normal view stays and playback goes on.
        ``ablate`` restores the blocks whatever happens inside it."""
        key = (self._frame_seq, tuple(getattr(s, f) for f in ANALYSIS_FIELDS), tuple(sorted(spec.items())))
        if self._cached_ablation is not None and self._cached_ablation[0] == key:
            return self._cached_ablation[1]
        try:
            abl = ablate(self.model, frame.image, spec, conf=s.conf, iou=s.iou, imgsz=s.imgsz,
                         before=result.detections)
        except Exception as e:  # noqa: BLE001 - a bad spec or block is a message, not a crash
            msg = str(e) or type(e).__name__
            LOGGER.warning("ablation failed: %s", msg)
            if msg != self._ablation_error:  # once, not at every frame of a playing video
                self.error.emit(self.tr("ablation failed: {0}").format(msg))
            self._ablation_error = msg
            return None
        self._ablation_error = ""
        self._cached_ablation = (key, abl)
        return abl

    def _compare(self, frame: Frame, s: Settings) -> CompareResult:
        """Both models on this frame with the same settings (cached per frame and analysis settings)."""
        key = (self._frame_seq, tuple(getattr(s, f) for f in ANALYSIS_FIELDS), id(self.model), id(self.model_b))
        if self._cached_compare is not None and self._cached_compare[0] == key:
            return self._cached_compare[1]
        try:
            cmp = compare(self.model, self.model_b, frame.image, s)
        except ValueError as e:
            if not (isinstance(s.target, int) and "does not exist" in str(e)):
                raise
            # The clicked detection is not in both models' lists: explain all detections of each.
            cmp = compare(self.model, self.model_b, frame.image, s.updated(target="all"))
        cmp.a.read_gam(s.gam_layer)  # the chart shows model A's block
        self._analysed += 1
        self._cached_compare = (key, cmp)
        return cmp

    def _process(self) -> None:
        """Analyse (when a model is loaded) and render the current frame, then emit it."""
        frame = self._frame
        if frame is None or self.stopping.is_set():
            return
        s, cam_every, keys = self.snapshot()
        spec = self.ablation_snapshot()
        result = abl = cmp = None
        names = (self.model_info.name if self.model_info is not None else "A", self.model_b_name or "B")
        err = ""
        if self.model is not None:
            try:
                if self.model_b is not None:
                    cmp = self._compare(frame, s)
                    result = cmp.a
                else:
                    result, s = self._analyse(frame, s, cam_every)
            except Exception as e:  # noqa: BLE001 - a bad setting or frame is a message, not a crash
                LOGGER.warning("analysis failed: %s", e)
                err = str(e) or type(e).__name__
                self.error.emit(self.tr("analysis failed: {0}").format(err))
                self._set_playing(False)
            if result is not None and cmp is None and spec:
                abl = self._ablate(frame, s, result, spec)
        highlight = s.target if isinstance(s.target, int) and result is not None and cmp is None \
            and s.target < len(result.detections) else None
        try:
            with self._lock:
                shown = self._shown_width
            panels = figure_panels(frame.image, result, s, highlight, shown, abl, cmp, names, self.scales) \
                if result is not None \
                else _raw_panels(frame, NO_MODEL_TEXT if self.model is None else f"analysis failed: {err}")
        except Exception as e:  # noqa: BLE001
            LOGGER.exception("rendering failed")
            self.error.emit(self.tr("rendering failed: {0}").format(e))
            return
        panels = [_display_copy(p) for p in panels]
        if self._recorder is not None and result is not None:
            try:  # what the window shows: the ablation overlay or the comparison included
                self._recorder.write(figure(frame.image, result, s, keys, highlight, abl, cmp, names, self.scales))
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
            frame=frame, result=result, settings=s, panels=panels, highlight=highlight, source=self.source_info,
            position=src.position if src is not None else 0,
            latest_index=g.latest_index if g is not None else frame.index,
            produced=g.produced if g is not None else frame.index + 1,
            analysed=self._analysed, dropped=self._dropped, playing=self._playing, fps=fps,
            extra={"error": err} if err else {}, ablation=abl, compare=cmp, names=names))

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
        self.model = self.model_b = None


#: The columns of the comparison figure: detections A | B | matches over CAM A | B | A - B.
COMPARE_COLUMNS = 3


def figure_panels(image: np.ndarray, result: Result, settings: Settings, highlight: int | None = None,
                  shown_width: int | None = None, ablation: AblationResult | None = None,
                  comparison: CompareResult | None = None, names: tuple[str, str] = ("A", "B"),
                  scales: render.ScaleMemory | None = None) -> list[render.Panel]:
    """The panels of one frame as the window shows them: the six of a comparison, the four with the
    ablation overlay, or the normal four (the window, a recording and a saved figure share this)."""
    if comparison is not None:
        return render.compare_panels(image, comparison, settings, names[0], names[1], shown_width)
    if ablation is not None:
        return render.ablation_panels(image, result, ablation, settings, shown_width, scales)
    return render.panels(image, result, settings, highlight, shown_width, scales)


def figure(image: np.ndarray, result: Result, settings: Settings, keys: tuple[str, ...] = render.PANELS,
           highlight: int | None = None, ablation: AblationResult | None = None,
           comparison: CompareResult | None = None, names: tuple[str, str] = ("A", "B"),
           scales: render.ScaleMemory | None = None) -> np.ndarray:
    """The composed figure of what the window shows (a recorded frame, File > Save panels as PNG).

    ``keys``: the visible panels of the normal and ablation views; a comparison always has its six,
    three to a row."""
    width = min(image.shape[1], 960)
    chosen = figure_panels(image, result, settings, highlight, width, ablation, comparison, names, scales)
    if comparison is not None:
        return render.compose_panels(chosen, width, "grid", COMPARE_COLUMNS)
    return render.compose_panels([p for p in chosen if p.key in keys] or chosen[:1], width)


def _display_copy(panel: render.Panel) -> render.Panel:
    h, w = panel.image.shape[:2]
    scale = DISPLAY_MAX / max(h, w)
    if scale >= 1:
        return panel
    img = cv2.resize(panel.image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return dataclasses.replace(panel, image=img)


def _raw_panels(frame: Frame, text: str) -> list[render.Panel]:
    """The frame alone, for when there is nothing to analyse it with."""
    img = frame.image
    dim = render.message_panel(img, text)
    return [render.Panel("detections", img, "Frame", text), render.Panel("cam", dim, "Grad-CAM", "-"),
            render.Panel("gam_channel", dim, "GAM channel", "-"), render.Panel("gam_spatial", dim, "GAM spatial", "-")]


def channel_weights(fr: FrameResult | None, gam_layer: int | None) -> tuple[np.ndarray | None, str]:
    """The per-channel attention the bar chart shows, and its caption."""
    if fr is None or fr.result is None:
        return None, QCoreApplication.translate("ChannelBarChart", "Channel attention")
    g = fr.result.gam_for(gam_layer)
    if g is None:
        return None, QCoreApplication.translate("ChannelBarChart", "Channel attention: {0}").format(
            QCoreApplication.translate("render", render.NO_GAM_TEXT))
    return g.channel_weights, QCoreApplication.translate(
        "ChannelBarChart", "Channel attention, GAM layer {0} ({1} channels)").format(g.index, len(g.channel_weights))
