"""The main window: menus, the control dock, the panel grid, transport controls and the status bar.

All model work happens in :class:`~gam_gui.ui.worker.AnalysisWorker` on a QThread; this class sends
it commands through queued signals and paints the :class:`~gam_gui.ui.worker.FrameResult` it gets
back. Errors end up in the status bar or a message box; the window stays usable.

Two extra views answer "what does GAM change?": the Ablation group of the dock (blocks switched off,
the detections panel showing what was kept, lost or gained) and ``View > Compare with...`` (a second
model on the same frames, six panels). While a comparison runs, the ablation is not shown.

This module builds the widgets, actions and menus and wires them, and the worker's signals, to the
window's features, each a controller in its own module (:mod:`~gam_gui.ui.window_part`): sources and
playback, the model and its controls, saving/recording/export, compare, the panels, remembered
state, help; the Faithfulness dock installs itself (:mod:`~gam_gui.ui.measure`).
"""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from pathlib import Path
from typing import Any

from PyQt5.QtCore import (
    QCoreApplication,
    QSettings,
    Qt,
    QThread,
    QTimer,
    pyqtSignal,
)
from PyQt5.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QActionGroup,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import gam_gui
from gam_gui import render
from gam_gui import validate as V
from gam_gui.checkpoints import DEFAULT_WEIGHTS
from gam_gui.sources import Source
from gam_gui.ui import i18n
from gam_gui.ui.compare_controller import CompareController
from gam_gui.ui.controls import AblationPanel, ControlPanel
from gam_gui.ui.dataset_controller import install_datasets
from gam_gui.ui.help import HelpDialog
from gam_gui.ui.help_controller import HelpController
from gam_gui.ui.measure import install_measure
from gam_gui.ui.model_controller import ModelController
from gam_gui.ui.output_controller import OutputController
from gam_gui.ui.panels import (
    ChannelBarChart,
    PanelGrid,
    tr_render,
)
from gam_gui.ui.plain import message, plain_label
from gam_gui.ui.settings_schema import SettingsReader
from gam_gui.ui.sources_controller import SourcesController
from gam_gui.ui.state_controller import StateController
from gam_gui.ui.view_controller import ViewController
from gam_gui.ui.window_part import (  # noqa: F401 - the window's public names (tests, other modules)
    EMPTY_HINT,
    NO_MODEL_HINT,
    absolute,
    key_sequences,
    match_summary,
    shortcut_owners,
    shown_target,
)
from gam_gui.ui.worker import (
    THREADS_ENV,
    AnalysisWorker,
    FrameResult,
    ModelInfo,
    SourceInfo,
    configure_analysis_threads,
)

LOGGER = logging.getLogger(__name__)

ORGANISATION = APPLICATION = "gam-gui"
REPO_ROOT = Path(gam_gui.__file__).resolve().parent.parent
WEIGHT_SUFFIXES = {".pt", ".pth"}
MAX_RECENT = 10
#: View > Compare with... starts in the shipped weights and preselects the baseline without GAM.
WEIGHTS_DIR = DEFAULT_WEIGHTS.parent
BASELINE_WEIGHTS = ("yolov5n_shapes.pt",)


#: The controllers" methods the window offers as its own (menus, the command line, tests).
PUBLIC_API = {
    "output": ("composite", "save_composite", "save_composite_dialog", "save_panels", "save_panels_dialog",
               "detections_json", "save_detections", "save_detections_dialog", "start_recording", "stop_recording",
               "toggle_recording", "export_source_dialog", "export_source", "confirm_overwrite"),
    "sources": ("open_dialog", "open_folder_dialog", "open_camera_dialog", "open_stream_dialog", "open_weights_dialog",
                "recent_files", "open_dropped"),
    "compare": ("compare_with", "stop_comparing"),
    "help": ("show_panel_help", "about_text", "choose_language"),
    "model": ("load_weights",),
    "view": ("paint", "set_drill_channel", "shown_panel_width"),
    "state": ("save_state",),
}


def find_sample(root: Path = REPO_ROOT) -> Path | None:
    """The sample the window opens with: the first ``resources/samples/*.jpg``, else ``resources/sample.mp4``."""
    jpgs = sorted((root / "resources" / "samples").glob("*.jpg"))
    if jpgs:
        return jpgs[0]
    mp4 = root / "resources" / "sample.mp4"
    return mp4 if mp4.exists() else None


def compare_start_path(folder: Path | None = None) -> Path:
    """Where View > Compare with... opens: the shipped baseline (the model without GAM) when
    present, else the weights folder (default: the shipped one)."""
    folder = Path(folder) if folder is not None else WEIGHTS_DIR
    for name in BASELINE_WEIGHTS:
        if (folder / name).is_file():
            return folder / name
    return folder if folder.is_dir() else Path.home()












def default_qsettings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


class MainWindow(QMainWindow):
    """See the module docstring. ``qsettings`` defaults to QSettings("gam-gui", "gam-gui")."""

    # Commands to the worker (queued: the worker lives on another thread).
    cmd_load_model = pyqtSignal(str, str)
    cmd_open = pyqtSignal(object)
    cmd_close = pyqtSignal()
    cmd_play = pyqtSignal()
    cmd_pause = pyqtSignal()
    cmd_toggle = pyqtSignal()
    cmd_step = pyqtSignal(int)
    cmd_seek = pyqtSignal(int)
    cmd_stop = pyqtSignal()
    cmd_loop = pyqtSignal(bool)
    cmd_refresh = pyqtSignal()
    cmd_record = pyqtSignal(str, float)
    cmd_stop_record = pyqtSignal()
    cmd_shutdown = pyqtSignal()
    cmd_compare = pyqtSignal(str, str)
    cmd_stop_compare = pyqtSignal()

    #: Emitted after each painted frame (tests wait on it).
    frame_painted = pyqtSignal(object)
    #: The analysis thread's class (a test replaces it with one that cannot start).
    thread_class = QThread

    def __init__(self, qsettings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("gam-gui: GAM attention in YOLO"))
        self.setAcceptDrops(True)
        self.qsettings = qsettings or default_qsettings()
        self.last: FrameResult | None = None
        self.model_info: ModelInfo | None = None
        self.source_info: SourceInfo | None = None
        self.model_path = ""  # '' = the default model
        self.frames_painted = 0
        self.errors: list[str] = []
        self.playing = False
        self.recording = False
        self.closed = False
        self.pending_source: Any = None
        self.model_requested = False
        self.loading_model = False
        self.startup_load = False
        self.keep_imgsz = False
        self.export_job = None
        self.unpainted: FrameResult | None = None
        self.shown_width: int | None = None
        self.comparing = ""  # model B's name while View > Compare with... is on
        self.compare_path = ""  # model B's file (an export loads its own copy)
        self.drill_channel: int | None = None  # the channel chart's clicked bar, shown in the GAM channel panel
        self.help_dialog: HelpDialog | None = None
        # The features, each a controller in its own module; their public methods are the window's API.
        self.sources, self.model, self.output = SourcesController(self), ModelController(self), OutputController(self)
        self.compare, self.help = CompareController(self), HelpController(self)
        self.view, self.state = ViewController(self), StateController(self)
        for part, names in PUBLIC_API.items():
            for name in names:
                setattr(self, name, getattr(getattr(self, part), name))

        self._build_ui()
        self._build_actions()
        self._build_menus()
        self.state.restore()

        self.thread = self.thread_class(self)
        self.thread.setObjectName("gam-gui analysis")
        self.worker = AnalysisWorker()
        self.worker.moveToThread(self.thread)
        self._connect_worker()
        self.measure_dock = install_measure(self)  # Faithfulness dock; object following's feedback
        self.datasets = install_datasets(self)  # File > Open dataset...: the list, ground truth, FN clicks
        self.thread.start()
        if not self.thread.isRunning():  # no thread left (a thread or memory limit): say so, do not crash
            self._thread_failed()
        # A script that never closes the window (or dies with an exception) still stops the thread
        # before the interpreter destroys it ("QThread: Destroyed while thread is still running").
        atexit.register(_shutdown_at_exit, weakref.ref(self))
        self.push_settings()

    def _thread_failed(self) -> None:
        """The analysis thread could not start (the OS refused a thread: too many threads, or a memory
        limit). The window stays open and says why, rather than segfaulting on the first command."""
        msg = self.tr("The analysis thread could not start (the system refused a new thread: too many "
                      "threads or a memory limit). Start gam-gui again with fewer --threads.")
        self.errors.append(msg)
        LOGGER.error("%s", msg)
        for p in self.grid.panels.values():
            p.set_placeholder(msg)
        self.show_status(msg, 0)
        for a in (self.act_open, self.act_open_folder, self.act_camera, self.act_stream, self.act_weights,
                  self.act_compare, self.act_export):
            a.setEnabled(False)

    # -- construction ------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.grid = PanelGrid()
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(250)
        self._resize_timer.timeout.connect(self.view.grid_resized)
        self.grid.resized.connect(self._resize_timer.start)
        for p in (*self.grid.panels.values(), *self.grid.compare_panels.values()):
            p.clicked.connect(self.view.panel_clicked)
            p.set_placeholder(self.tr(EMPTY_HINT))
        self.chart = ChannelBarChart()
        self.chart.channel_clicked.connect(lambda k: self.set_drill_channel(None if k < 0 else k))

        self.transport = QWidget()
        t = QHBoxLayout(self.transport)
        t.setContentsMargins(4, 2, 4, 2)
        self.btn_prev, self.btn_play, self.btn_step, self.btn_stop = (QToolButton() for _ in range(4))
        for b in (self.btn_prev, self.btn_play, self.btn_step, self.btn_stop):
            t.addWidget(b)
        self.seek_slider = QSlider(Qt.Horizontal)
        self.seek_slider.setEnabled(False)
        self.seek_slider.setTracking(True)
        self.seek_slider.valueChanged.connect(self._seek_slider_moved)
        t.addWidget(self.seek_slider, 1)
        self.frame_label = plain_label(QLabel("-"))  # a file name: never rich text
        self.frame_label.setMinimumWidth(180)
        t.addWidget(self.frame_label)
        self.btn_loop = QToolButton()
        t.addWidget(self.btn_loop)

        top = QWidget()
        v = QVBoxLayout(top)
        v.setContentsMargins(4, 4, 4, 0)
        v.setSpacing(2)
        v.addWidget(self.grid, 1)
        v.addWidget(self.transport)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.chart)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 130])
        self.setCentralWidget(self.splitter)

        self.controls = ControlPanel()
        self.controls.changed.connect(self._controls_changed)
        self.controls.open_weights_requested.connect(self.open_weights_dialog)
        self.controls.device_changed.connect(self.model.device_changed)
        self.ablation = AblationPanel()
        self.ablation.changed.connect(self._controls_changed)
        dock_body = QWidget()
        dv = QVBoxLayout(dock_body)
        dv.setContentsMargins(0, 0, 0, 0)
        dv.setSpacing(0)
        dv.addWidget(self.controls)
        ab = QWidget()
        av = QVBoxLayout(ab)
        av.setContentsMargins(6, 0, 6, 6)
        av.addWidget(self.ablation)
        dv.addWidget(ab)
        dv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(dock_body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.dock = QDockWidget(self.tr("Controls"), self)
        self.dock.setObjectName("controls")
        self.dock.setWidget(scroll)
        self.dock.setMinimumWidth(300)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.dock)

        sb = self.statusBar()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        # Plain text: the model's name and the ablation summary come from files (issue 26.6).
        self.fps_label, self.timings_label, self.device_label, self.model_label, self.target_label = (
            plain_label(QLabel()) for _ in range(5))
        self.target_label.setToolTip(self.tr("The CAM's target on the frame shown (the caption of the CAM panel "
                                             "says the same)"))
        self.summary_label = plain_label(QLabel())  # the ablation's or the comparison's match table in one line
        self.summary_label.setVisible(False)
        sb.addPermanentWidget(self.progress)
        for lab in (self.summary_label, self.target_label, self.fps_label, self.timings_label, self.device_label,
                    self.model_label):
            lab.setStyleSheet("QLabel { padding: 0 8px; border-left: 1px solid palette(mid); }")
            sb.addPermanentWidget(lab)
        self.device_label.setText(self.tr("device: {0}").format("-"))
        self.model_label.setText(self.tr("model: {0}").format("-"))
        self.resize(1500, 850)

    def _action(self, text: str, slot, shortcuts: tuple = (), tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcuts:
            a.setShortcuts(key_sequences(shortcuts))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({a.shortcut().toString()})" if shortcuts else tip)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)  # shortcuts work even with the menu bar hidden
        return a

    def _build_actions(self) -> None:
        A = self._action
        self.act_open = A(self.tr("&Open image or video..."), self.open_dialog, (QKeySequence.Open,),
                          self.tr("Open an image or video"))
        self.act_open_folder = A(self.tr("Open &folder..."), self.open_folder_dialog, ("Ctrl+Shift+O",),
                                 self.tr("Open a folder of images"))
        self.act_camera = A(self.tr("Open &camera..."), self.open_camera_dialog, ("Ctrl+Shift+C",),
                            self.tr("Open a webcam"))
        self.act_stream = A(self.tr("Open &stream URL..."), self.open_stream_dialog, ("Ctrl+Shift+U",),
                            self.tr("Open an rtsp/http stream"))
        self.act_weights = A(self.tr("Open &weights..."), self.open_weights_dialog, ("Ctrl+Shift+W",),
                             self.tr("Load a detector checkpoint (.pt)"))
        self.act_save = A(self.tr("&Save panels as PNG..."), self.save_composite_dialog, (QKeySequence.Save,),
                          self.tr("Save the side-by-side panels as one PNG"))
        self.act_save_panels = A(self.tr("Save individual &panels..."), self.save_panels_dialog, ("Ctrl+Shift+S",),
                                 self.tr("Save each visible panel as its own PNG"))
        self.act_save_json = A(self.tr("Save &detections (JSON)..."), self.save_detections_dialog, ("Ctrl+J",),
                               self.tr("Save the current detections as JSON"))
        self.act_record = A(self.tr("&Record panels to MP4"), self.toggle_recording, ("Ctrl+R",),
                            self.tr("Record the panels of the playing source to an MP4"), checkable=True)
        self.act_export = A(self.tr("&Export whole source..."), self.export_source_dialog, ("Ctrl+E",),
                            self.tr("Export the panels of every frame of the current file or folder"))
        # The platform's Quit keys plus Ctrl+Q where the platform has none (Windows); on Linux both are
        # Ctrl+Q, and a key bound twice is "ambiguous" to Qt and fires nothing (issue 25.1).
        self.act_quit = A(self.tr("&Quit"), self.close, (QKeySequence.Quit, "Ctrl+Q"), self.tr("Quit gam-gui"))
        # Space plays/pauses wherever the focus is in the window, except in a control that uses Space
        # itself (a text field, check box or combo box: see controls.WheelGuard).
        self.act_play = A(self.tr("&Play / Pause"), self.toggle_play, ("Space",), self.tr("Play or pause"))
        self.act_step = A(self.tr("&Step forward"), lambda: self.step(1), ("Right", "."),
                          self.tr("Next frame or image"))
        self.act_back = A(self.tr("Step &back"), lambda: self.step(-1), ("Left", ","),
                          self.tr("Previous frame or image"))
        self.act_next = A(self.tr("&Next image"), lambda: self.step(1), ("PgDown",),
                          self.tr("Next image of the folder"))
        self.act_prev = A(self.tr("P&revious image"), lambda: self.step(-1), ("PgUp",),
                          self.tr("Previous image of the folder"))
        self.act_stop = A(self.tr("S&top"), self.stop, ("Ctrl+.",),
                          self.tr("Stop: back to the first frame; release a camera"))
        self.act_loop = A(self.tr("&Loop video"), self._loop_toggled, ("Ctrl+L",),
                          self.tr("Start a video again at its end"),
                          checkable=True)
        self.act_reanalyze = A(self.tr("Re-&analyse"), self._controls_changed, ("F5",),
                               self.tr("Analyse the current frame again"))
        self.panel_actions: dict[str, QAction] = {}
        for i, key in enumerate(render.PANELS):
            title = tr_render(render.PANEL_TITLES[key])
            a = A(self.tr("{0} panel").format(title), lambda on, k=key: self.view.panel_toggled(k, on),
                  (f"Ctrl+{i + 1}",), self.tr("Show or hide the {0} panel").format(title), checkable=True)
            a.blockSignals(True)
            a.setChecked(True)
            a.blockSignals(False)
            self.panel_actions[key] = a
        self.act_chart = A(self.tr("Channel &chart"), self.chart.setVisible, ("Ctrl+5",),
                           self.tr("Show or hide the bar chart"),
                           checkable=True)
        self.act_chart.blockSignals(True)
        self.act_chart.setChecked(True)
        self.act_chart.blockSignals(False)
        self.act_compare = A(self.tr("&Compare with..."), self.compare_dialog, ("Ctrl+Shift+B",),
                             self.tr("Run a second model on the same frames and show both side by side "
                                     "(the ablation view is off meanwhile)"))
        self.act_stop_compare = A(self.tr("Stop c&omparing"), self.stop_comparing, (),
                                  self.tr("Back to the normal view of one model"))
        self.act_stop_compare.setEnabled(False)
        self.act_about = A(self.tr("&About gam-gui"), self.help.about)
        self.act_help_panels = A(self.tr("How to &read the panels"), self.show_panel_help, ("F1",),
                                 self.tr("What each panel and colour means, the GAM variants, which CAM method "
                                         "to use"))
        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in i18n.LANGUAGES.items():  # each language's name in itself: findable in any language
            a = QAction(name, self.language_group)
            a.setCheckable(True)
            a.setChecked(code == i18n.active_language())
            a.triggered.connect(lambda _=False, c=code: self.choose_language(c))
            self.language_actions[code] = a
        self.btn_prev.setDefaultAction(self.act_back)
        self.btn_play.setDefaultAction(self.act_play)
        self.btn_step.setDefaultAction(self.act_step)
        self.btn_stop.setDefaultAction(self.act_stop)
        self.btn_loop.setDefaultAction(self.act_loop)
        self.btn_prev.setText("<<")
        self.act_play.setIconText(self.tr("Play"))
        self.act_step.setIconText(">>")
        self.act_back.setIconText("<<")
        self.act_stop.setIconText(self.tr("Stop"))
        self.act_loop.setIconText(self.tr("Loop"))
        self.sources.update_transport()

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.menus: dict[str, Any] = {}
        m = self.menus["file"] = mb.addMenu(self.tr("&File"))
        for a in (self.act_open, self.act_open_folder, self.act_camera, self.act_stream):
            m.addAction(a)
        self.recent_menu = m.addMenu(self.tr("Open &recent"))
        self.recent_menu.aboutToShow.connect(self.sources.fill_recent)
        m.addSeparator()
        m.addAction(self.act_weights)
        m.addSeparator()
        for a in (self.act_save, self.act_save_panels, self.act_save_json, self.act_record, self.act_export):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = self.menus["playback"] = mb.addMenu(self.tr("&Playback"))
        for a in (self.act_play, self.act_step, self.act_back, self.act_next, self.act_prev, self.act_stop):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_loop)
        m.addAction(self.act_reanalyze)
        m = self.menus["view"] = mb.addMenu(self.tr("&View"))
        for a in self.panel_actions.values():
            m.addAction(a)
        m.addAction(self.act_chart)
        m.addAction(self.dock.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_compare)
        m.addAction(self.act_stop_compare)
        m.addSeparator()
        self.language_menu = m.addMenu(self.tr("&Language"))
        for a in self.language_actions.values():
            self.language_menu.addAction(a)
        m = self.menus["help"] = mb.addMenu(self.tr("&Help"))
        m.addAction(self.act_help_panels)
        m.addSeparator()
        m.addAction(self.act_about)

    def _connect_worker(self) -> None:
        w = self.worker
        self.cmd_load_model.connect(w.load_model)
        self.cmd_open.connect(w.open_source)
        self.cmd_close.connect(w.close_source)
        self.cmd_play.connect(w.play)
        self.cmd_pause.connect(w.pause)
        self.cmd_toggle.connect(w.toggle_play)
        self.cmd_step.connect(w.step)
        self.cmd_seek.connect(w.seek)
        self.cmd_stop.connect(w.stop)
        self.cmd_loop.connect(w.set_loop)
        self.cmd_refresh.connect(w.refresh)
        self.cmd_record.connect(w.start_recording)
        self.cmd_stop_record.connect(w.stop_recording)
        self.cmd_shutdown.connect(w.shutdown, Qt.BlockingQueuedConnection)
        self.cmd_compare.connect(w.load_model_b)
        self.cmd_stop_compare.connect(w.stop_compare)
        w.compare_loading.connect(self.compare.on_compare_loading)
        w.compare_loaded.connect(self.compare.on_compare_loaded)
        w.compare_failed.connect(self.compare.on_compare_failed)
        w.compare_stopped.connect(self.compare.on_compare_stopped)
        w.frame_ready.connect(self.view.on_frame)
        w.model_loading.connect(self.model.on_model_loading)
        w.model_loaded.connect(self.model.on_model_loaded)
        w.model_failed.connect(self.model.on_model_failed)
        w.source_opened.connect(self.sources.on_source_opened)
        w.source_failed.connect(self.sources.on_source_failed)
        w.source_closed.connect(self.sources.on_source_closed)
        w.playing_changed.connect(self._on_playing)
        w.ended.connect(lambda: self.statusBar().showMessage(self.tr("end of source"), 3000))
        w.error.connect(self._on_worker_error)
        w.recording_changed.connect(self.output.on_recording)
        self.cmd_loop.emit(self.act_loop.isChecked())

    # -- public API (menus, CLI, tests) --------------------------------------------------------------



    def open_path(self, path: str | Path) -> None:
        """Open an image, a folder or a video file (errors come back as a message box)."""
        p = absolute(path)  # a later change of folder cannot break it (nor the recent entry)
        self.sources.remember_path(p)
        self.open_source(str(p))

    def open_source(self, spec: str | int | Source) -> None:
        """Open any source spec (path, ``camera:N``, URL) or a ready Source object on the worker."""
        if self.closed:
            return
        if self.loading_model:
            self.pending_source = spec  # analyse it once the model is there
            return
        self.show_status(self.tr("opening {0} ...").format(spec.label if isinstance(spec, Source) else spec))
        self.cmd_open.emit(spec)

    def open_camera(self, index: int | str) -> None:
        self.open_source(f"camera:{index}")

    def play(self) -> None:
        self.cmd_play.emit()

    def pause(self) -> None:
        self.cmd_pause.emit()

    def toggle_play(self) -> None:
        self.cmd_toggle.emit()

    def step(self, delta: int = 1) -> None:
        self.cmd_step.emit(int(delta))

    def seek(self, index: int) -> None:
        self.cmd_seek.emit(int(index))

    def stop(self) -> None:
        self.cmd_stop.emit()

    def close_source(self) -> None:
        self.cmd_close.emit()

    def reanalyse(self) -> None:
        self.push_settings()
        self.cmd_refresh.emit()

    def visible_panels(self) -> tuple[str, ...]:
        return self.grid.visible_keys()

    def shutdown(self) -> None:
        """Stop the worker (source released, recording finished), quit and join its thread. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if getattr(self, "datasets", None) is not None:
            self.datasets.shutdown()
        if self.export_job is not None:
            self.export_job.cancel()
            self.export_job.wait()
        self.worker.stopping.set()
        if self.thread.isRunning():
            self.cmd_shutdown.emit()  # blocks until the worker has released everything
            self.thread.quit()
            if not self.thread.wait(15000):
                LOGGER.error("the analysis thread did not stop within 15 s")

    # -- worker feedback ---------------------------------------------------------------------------

















    def _on_playing(self, playing: bool) -> None:
        self.playing = playing
        self.act_play.setIconText(self.tr("Pause") if playing else self.tr("Play"))
        if not playing and self.recording:
            pass  # a recording continues across pauses; frames are written when analysed
        self.sources.update_transport()

    def _on_worker_error(self, msg: str) -> None:
        self.errors.append(msg)
        LOGGER.warning("%s", msg)
        self.show_status(msg, 8000)


    # -- UI state ----------------------------------------------------------------------------------
    def show_status(self, msg: str, timeout: int = 4000) -> None:
        self.statusBar().showMessage(msg, timeout)

    def show_error(self, title: str, msg: str) -> None:
        """A problem the user caused or must know about: logged, in the status bar and in a dialog."""
        self.errors.append(msg)
        LOGGER.warning("%s: %s", title, msg)
        self.show_status(msg, 10000)
        message(self, QMessageBox.Warning, title, msg)  # plain text: the message may quote a file




    def _loop_toggled(self, on: bool) -> None:
        self.cmd_loop.emit(bool(on))


    def _seek_slider_moved(self, value: int) -> None:
        self.seek(value)

    def push_settings(self) -> None:
        self.worker.set_settings(self.controls.settings(), self.controls.cam_every.value(), self.visible_panels(),
                                 **self.ablation.worker_options())
        self.shown_width = self.shown_panel_width()
        self.worker.set_shown_width(self.shown_width)




    def _controls_changed(self) -> None:
        self.reanalyse()



    # -- dialogs -----------------------------------------------------------------------------------
    def last_folder(self) -> str:
        return self.setting("paths/last_folder") or str(Path.home())

    def setting(self, key: str) -> Any:
        """One stored value through the settings schema (a bad one: its default, and a notice)."""
        read = SettingsReader(self.qsettings)
        value = read.get(key)
        if read.notices:
            self.show_status(read.notices[0], 10000)
        return value








    def compare_dialog(self) -> None:
        """View > Compare with...: choose model B, starting at the shipped baseline without GAM."""
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Compare with model"), str(compare_start_path()),
                                              self.tr("Checkpoints (*.pt *.pth);;All files (*)"))
        if path:
            self.compare_with(path)






















    # -- drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        self.open_dropped(files)


    # -- persistence and shutdown ------------------------------------------------------------------


    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.closed:
            self.save_state()
        self.shutdown()
        super().closeEvent(event)


def analysis_threads(threads: int | None) -> int | None:
    """``threads`` or ``$GAM_GUI_THREADS`` checked by the CLI's rule and capped at the CPUs (issue 26.9).

    None: neither is set (the default count). A bad variable is a logged notice and the default (0);
    a bad ``threads`` from a caller raises ValueError, as the CLI's option does."""
    if threads is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        if not env:
            return None
        try:
            threads = V.check_threads(env, THREADS_ENV)
        except ValueError as e:
            LOGGER.warning("%s; using the default", e)
            return 0
    else:
        threads = V.check_threads(threads)
    return V.cap_threads(threads)


def _shutdown_at_exit(ref: weakref.ref) -> None:
    win = ref()
    if win is not None:
        try:
            win.shutdown()
        except RuntimeError:  # the C++ side is gone already
            pass


def start_window(path: str | None = None, weights: str | None = None, camera: int | None = None,
                 device: str | None = None, qsettings: QSettings | None = None,
                 threads: int | None = None, data: str | None = None) -> MainWindow:
    """A shown main window that loads the model and opens ``path``, camera ``camera`` or the sample;
    ``data``: a dataset opened in the Dataset dock too (File > Open dataset...).

    Without ``weights`` the last weights of the previous session are loaded when the file still
    exists, else the default model (``GAM_GUI_WEIGHTS`` or the shipped one). ``threads``: analysis
    threads (default: one CPU fewer than available, see :func:`configure_analysis_threads`).
    """
    configure_analysis_threads(analysis_threads(threads))
    win = MainWindow(qsettings)
    win.show()
    if weights is None:
        last = win.setting("paths/last_weights")
        weights = last if last and Path(last).is_file() else None
        win.startup_load = True  # a missing default model is a hint, not an error dialog
    win.load_weights(weights, device)
    if camera is not None:
        win.open_camera(camera)
    elif path:
        win.open_path(path)
    else:
        sample = find_sample()
        if sample is not None:
            win.open_source(str(sample))
        else:
            win.show_status(QCoreApplication.translate("MainWindow", "no sample found: {0}").format(
                win.tr(EMPTY_HINT)), 0)
    if data:
        win.datasets.open_dataset(data)
    return win

