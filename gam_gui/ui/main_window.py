"""The main window: menus, the control dock, the panel grid, transport controls and the status bar.

All model work happens in :class:`~gam_gui.ui.worker.AnalysisWorker` on a QThread; this class sends
it commands through queued signals and paints the :class:`~gam_gui.ui.worker.FrameResult` it gets
back. Errors end up in the status bar or a message box; the window stays usable.

Two extra views answer "what does GAM change?": the Ablation group of the dock (blocks switched off,
the detections panel showing what was kept, lost or gained) and ``View > Compare with...`` (a second
model on the same frames, six panels). While a comparison runs, the ablation is not shown.
"""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PyQt5.QtCore import (
    PYQT_VERSION_STR,
    QT_TRANSLATE_NOOP,
    QT_VERSION_STR,
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
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
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
from gam_gui.export import TABLES, ExportError, atomic_write_bytes, write_png
from gam_gui.images import IMAGE_SUFFIXES
from gam_gui.jsonio import dumps as json_dumps
from gam_gui.matching import KEPT, LOST, NEW, Match
from gam_gui.sources import VIDEO_SUFFIXES, Source, list_cameras
from gam_gui.ui import i18n
from gam_gui.ui.controls import AblationPanel, ControlPanel, cuda_available
from gam_gui.ui.convert import bgr_to_qimage
from gam_gui.ui.help import HelpDialog
from gam_gui.ui.measure import install_measure
from gam_gui.ui.panels import (
    ChannelBarChart,
    PanelGrid,
    ablation_note,
    detection_at,
    frame_caption,
    panel_caption,
    panel_help,
    tr_render,
    view_action_title,
)
from gam_gui.ui.plain import menu_text, message, plain_label, plain_tooltip
from gam_gui.ui.settings_schema import SettingsReader, blob, panel_setting
from gam_gui.ui.worker import (
    THREADS_ENV,
    AnalysisWorker,
    FrameResult,
    ModelInfo,
    SourceInfo,
    channel_weights,
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
# English source strings (tests compare with them); the window shows them through self.tr().
EMPTY_HINT = QT_TRANSLATE_NOOP("MainWindow", "Open an image, folder or video (Ctrl+O), a camera, or drop a file here")
NO_MODEL_HINT = QT_TRANSLATE_NOOP("MainWindow", "No model loaded: File > Open weights... (or drop a .pt file here)")


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


def match_summary(matches: list[Match], comparison: bool = False) -> str:
    """A match table in one line, in the window's language: ``3 kept (mean -0.21), 1 lost, 0 new``, or
    for two models ``3 both (mean -0.05), 1 A only, 0 B only`` (the English text is the core's
    ``summary()``)."""
    kept = [m.delta for m in matches if m.status == KEPT]
    n_lost = sum(m.status == LOST for m in matches)
    n_new = sum(m.status == NEW for m in matches)
    translate = QCoreApplication.translate
    if comparison:
        if kept:
            return translate("MainWindow", "{0} both (mean {1}), {2} A only, {3} B only").format(
                len(kept), f"{sum(kept) / len(kept):+.2f}", n_lost, n_new)
        return translate("MainWindow", "{0} both, {1} A only, {2} B only").format(0, n_lost, n_new)
    if kept:
        return translate("MainWindow", "{0} kept (mean {1}), {2} lost, {3} new").format(
            len(kept), f"{sum(kept) / len(kept):+.2f}", n_lost, n_new)
    return translate("MainWindow", "{0} kept, {1} lost, {2} new").format(0, n_lost, n_new)


def absolute(p: str | Path) -> Path:
    """``p`` made absolute and resolved (symlinks, ``..``) where that is possible."""
    p = Path(p).expanduser()
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p.absolute()


def key_sequences(shortcuts: tuple) -> list[QKeySequence]:
    """Each shortcut (text or ``QKeySequence.StandardKey``, which may stand for several keys) once:
    a key listed twice on one action makes Qt report an ambiguous shortcut and fire nothing."""
    out: list[QKeySequence] = []
    seen: set[str] = set()
    for s in shortcuts:
        keys = QKeySequence.keyBindings(s) if isinstance(s, QKeySequence.StandardKey) else [QKeySequence(s)]
        for k in keys:
            text = k.toString(QKeySequence.PortableText)
            if text and text not in seen:
                seen.add(text)
                out.append(k)
    return out


def shortcut_owners(root: QWidget) -> dict[str, list[str]]:
    """Every key sequence bound under ``root`` (actions and QShortcuts) -> the names of what it
    triggers; a key with two owners is ambiguous and fires neither (the test for issue 25.1)."""
    from PyQt5.QtWidgets import QShortcut

    owners: dict[str, list[str]] = {}
    for a in root.findChildren(QAction):
        for k in a.shortcuts():
            owners.setdefault(k.toString(QKeySequence.PortableText), []).append(a.text() or a.objectName())
    for sc in root.findChildren(QShortcut):
        if sc.isEnabled() and not sc.key().isEmpty():
            owners.setdefault(sc.key().toString(QKeySequence.PortableText), []).append(sc.objectName() or "shortcut")
    return owners


def shown_target(fr: FrameResult) -> tuple[int, str] | None:
    """The detection the CAM of frame ``fr`` explains, as (index, class name), or None (all detections,
    a class, a comparison). The one source for the status bar's target; the CAM panel's caption is
    rendered from the same settings (``fr.highlight`` is the index the frame was analysed with, which
    on a video is the followed object's index on *this* frame, not the index once clicked)."""
    r, k = fr.result, fr.highlight
    if r is None or k is None or fr.compare is not None or not 0 <= k < len(r.detections):
        return None
    return k, r.detections[k].name


def default_qsettings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


class MainWindow(QMainWindow):
    """See the module docstring. ``qsettings`` defaults to QSettings("gam-gui", "gam-gui")."""

    # Commands to the worker (queued: the worker lives on another thread).
    _cmd_load_model = pyqtSignal(str, str)
    _cmd_open = pyqtSignal(object)
    _cmd_close = pyqtSignal()
    _cmd_play = pyqtSignal()
    _cmd_pause = pyqtSignal()
    _cmd_toggle = pyqtSignal()
    _cmd_step = pyqtSignal(int)
    _cmd_seek = pyqtSignal(int)
    _cmd_stop = pyqtSignal()
    _cmd_loop = pyqtSignal(bool)
    _cmd_refresh = pyqtSignal()
    _cmd_record = pyqtSignal(str, float)
    _cmd_stop_record = pyqtSignal()
    _cmd_shutdown = pyqtSignal()
    _cmd_compare = pyqtSignal(str, str)
    _cmd_stop_compare = pyqtSignal()

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
        self._closed = False
        self._pending_source: Any = None
        self._model_requested = False
        self._loading_model = False
        self._startup_load = False
        self._keep_imgsz = False
        self._export_job = None
        self._unpainted: FrameResult | None = None
        self._shown_width: int | None = None
        self.comparing = ""  # model B's name while View > Compare with... is on
        self.compare_path = ""  # model B's file (an export loads its own copy)
        self.drill_channel: int | None = None  # the channel chart's clicked bar, shown in the GAM channel panel
        self.help_dialog: HelpDialog | None = None

        self._build_ui()
        self._build_actions()
        self._build_menus()
        self._restore()

        self.thread = self.thread_class(self)
        self.thread.setObjectName("gam-gui analysis")
        self.worker = AnalysisWorker()
        self.worker.moveToThread(self.thread)
        self._connect_worker()
        self.measure_dock = install_measure(self)  # Faithfulness dock; object following's feedback
        self.thread.start()
        if not self.thread.isRunning():  # no thread left (a thread or memory limit): say so, do not crash
            self._thread_failed()
        # A script that never closes the window (or dies with an exception) still stops the thread
        # before the interpreter destroys it ("QThread: Destroyed while thread is still running").
        atexit.register(_shutdown_at_exit, weakref.ref(self))
        self._push_settings()

    def _thread_failed(self) -> None:
        """The analysis thread could not start (the OS refused a thread: too many threads, or a memory
        limit). The window stays open and says why, rather than segfaulting on the first command."""
        msg = self.tr("The analysis thread could not start (the system refused a new thread: too many "
                      "threads or a memory limit). Start gam-gui again with fewer --threads.")
        self.errors.append(msg)
        LOGGER.error("%s", msg)
        for p in self.grid.panels.values():
            p.set_placeholder(msg)
        self._status(msg, 0)
        for a in (self.act_open, self.act_open_folder, self.act_camera, self.act_stream, self.act_weights,
                  self.act_compare, self.act_export):
            a.setEnabled(False)

    # -- construction ------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.grid = PanelGrid()
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(250)
        self._resize_timer.timeout.connect(self._grid_resized)
        self.grid.resized.connect(self._resize_timer.start)
        for p in (*self.grid.panels.values(), *self.grid.compare_panels.values()):
            p.clicked.connect(self._panel_clicked)
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
        self.controls.device_changed.connect(self._device_changed)
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
        self.act_reanalyse = A(self.tr("Re-&analyse"), self._controls_changed, ("F5",),
                               self.tr("Analyse the current frame again"))
        self.panel_actions: dict[str, QAction] = {}
        for i, key in enumerate(render.PANELS):
            title = tr_render(render.PANEL_TITLES[key])
            a = A(self.tr("{0} panel").format(title), lambda on, k=key: self._panel_toggled(k, on),
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
        self.act_about = A(self.tr("&About gam-gui"), self._about)
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
        self._update_transport()

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.menus: dict[str, Any] = {}
        m = self.menus["file"] = mb.addMenu(self.tr("&File"))
        for a in (self.act_open, self.act_open_folder, self.act_camera, self.act_stream):
            m.addAction(a)
        self.recent_menu = m.addMenu(self.tr("Open &recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
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
        m.addAction(self.act_reanalyse)
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
        self._cmd_load_model.connect(w.load_model)
        self._cmd_open.connect(w.open_source)
        self._cmd_close.connect(w.close_source)
        self._cmd_play.connect(w.play)
        self._cmd_pause.connect(w.pause)
        self._cmd_toggle.connect(w.toggle_play)
        self._cmd_step.connect(w.step)
        self._cmd_seek.connect(w.seek)
        self._cmd_stop.connect(w.stop)
        self._cmd_loop.connect(w.set_loop)
        self._cmd_refresh.connect(w.refresh)
        self._cmd_record.connect(w.start_recording)
        self._cmd_stop_record.connect(w.stop_recording)
        self._cmd_shutdown.connect(w.shutdown, Qt.BlockingQueuedConnection)
        self._cmd_compare.connect(w.load_model_b)
        self._cmd_stop_compare.connect(w.stop_compare)
        w.compare_loading.connect(self._on_compare_loading)
        w.compare_loaded.connect(self._on_compare_loaded)
        w.compare_failed.connect(self._on_compare_failed)
        w.compare_stopped.connect(self._on_compare_stopped)
        w.frame_ready.connect(self._on_frame)
        w.model_loading.connect(self._on_model_loading)
        w.model_loaded.connect(self._on_model_loaded)
        w.model_failed.connect(self._on_model_failed)
        w.source_opened.connect(self._on_source_opened)
        w.source_failed.connect(self._on_source_failed)
        w.source_closed.connect(self._on_source_closed)
        w.playing_changed.connect(self._on_playing)
        w.ended.connect(lambda: self.statusBar().showMessage(self.tr("end of source"), 3000))
        w.error.connect(self._on_worker_error)
        w.recording_changed.connect(self._on_recording)
        self._cmd_loop.emit(self.act_loop.isChecked())

    # -- public API (menus, CLI, tests) --------------------------------------------------------------
    def load_weights(self, path: str | Path | None = None, device: str | None = None) -> None:
        """Load a checkpoint on the worker thread (None: the default model); progress in the status bar."""
        self.model_path = str(path) if path else ""
        if device:
            if device.startswith("cuda") and not cuda_available():
                self._status(self.tr("CUDA is not available; using the CPU instead of {0}").format(device))
                device = "cpu"
            self.controls.set_device(device.split(":")[0])
        self._model_requested = True
        self._loading_model = True
        self._cmd_load_model.emit(self.model_path, device or self.controls.device_value())

    def compare_with(self, path: str | Path) -> None:
        """Compare the loaded model (A) with checkpoint ``path`` (B) on every frame: loaded on the worker
        thread; a refused file is a message box and the view stays as it was."""
        self.compare_path = str(path)
        self._cmd_compare.emit(str(path), self.controls.device_value())

    def stop_comparing(self) -> None:
        """Back to the normal (or ablation) view of the loaded model."""
        self._cmd_stop_compare.emit()

    def open_path(self, path: str | Path) -> None:
        """Open an image, a folder or a video file (errors come back as a message box)."""
        p = absolute(path)  # a later change of folder cannot break it (nor the recent entry)
        self._remember_path(p)
        self.open_source(str(p))

    def open_source(self, spec: str | int | Source) -> None:
        """Open any source spec (path, ``camera:N``, URL) or a ready Source object on the worker."""
        if self._closed:
            return
        if self._loading_model:
            self._pending_source = spec  # analyse it once the model is there
            return
        self._status(self.tr("opening {0} ...").format(spec.label if isinstance(spec, Source) else spec))
        self._cmd_open.emit(spec)

    def open_camera(self, index: int | str) -> None:
        self.open_source(f"camera:{index}")

    def play(self) -> None:
        self._cmd_play.emit()

    def pause(self) -> None:
        self._cmd_pause.emit()

    def toggle_play(self) -> None:
        self._cmd_toggle.emit()

    def step(self, delta: int = 1) -> None:
        self._cmd_step.emit(int(delta))

    def seek(self, index: int) -> None:
        self._cmd_seek.emit(int(index))

    def stop(self) -> None:
        self._cmd_stop.emit()

    def close_source(self) -> None:
        self._cmd_close.emit()

    def reanalyse(self) -> None:
        self._push_settings()
        self._cmd_refresh.emit()

    def visible_panels(self) -> tuple[str, ...]:
        return self.grid.visible_keys()

    def shutdown(self) -> None:
        """Stop the worker (source released, recording finished), quit and join its thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._export_job is not None:
            self._export_job.cancel()
            self._export_job.wait()
        self.worker.stopping.set()
        if self.thread.isRunning():
            self._cmd_shutdown.emit()  # blocks until the worker has released everything
            self.thread.quit()
            if not self.thread.wait(15000):
                LOGGER.error("the analysis thread did not stop within 15 s")

    # -- worker feedback ---------------------------------------------------------------------------
    def _on_frame(self, fr: FrameResult) -> None:
        """Latest-frame-wins on the GUI side too: frames that arrive faster than the GUI paints
        replace each other, and only the newest is converted and painted."""
        if self._closed:
            return
        scheduled = self._unpainted is not None
        self._unpainted = fr
        if not scheduled:
            QTimer.singleShot(0, self._paint_latest)

    def _paint_latest(self) -> None:
        fr, self._unpainted = self._unpainted, None
        if fr is None or self._closed:
            return
        self.paint(fr)

    def paint(self, fr: FrameResult) -> None:
        """Show one FrameResult: convert its panels to QImages, update chart, labels and status."""
        self.last = fr
        h, w = fr.frame.image.shape[:2]
        self.grid.set_aspect(w / max(1, h))
        # Compare panels get no hover boxes: a box index means nothing across two models' lists.
        dets = fr.result.detections if fr.result is not None and fr.compare is None else []
        self.grid.set_compare(fr.compare is not None)
        visible = set(self.grid.shown_keys())
        for panel in fr.panels:
            widget = self.grid.panel(panel.key)
            if widget is None:
                continue
            widget.set_detections(dets)
            if panel.key in visible:
                widget.set_image(bgr_to_qimage(panel.image), *frame_caption(panel, fr), (w, h), panel_help(panel))
            title = view_action_title(panel, fr)  # View menu: the method or map the panel shows now
            if title and panel.key in self.panel_actions:
                self.panel_actions[panel.key].setText(self.tr("{0} panel").format(title))
        weights, title = channel_weights(fr, fr.settings.gam_layer)
        g = fr.result.gam_for(fr.settings.gam_layer) if fr.result is not None else None
        self.chart.set_weights(weights, title, g.channel_signed if g is not None else None)
        if self.chart.selected != self.drill_channel:  # the chart dropped a channel the new block lacks
            self.drill_channel = self.chart.selected
        self._paint_drill(fr)
        self._update_frame_label(fr)
        self._update_status(fr)
        if self._width_changed():  # labels of the next frames fit the panel (a resize re-renders this one)
            self._shown_width = self.shown_panel_width()
            self.worker.set_shown_width(self._shown_width)
        self.frames_painted += 1
        self.frame_painted.emit(fr)

    def set_drill_channel(self, channel: int | None) -> None:
        """Show channel ``channel`` of the shown GAM block before and after the block in the GAM channel
        panel (None: the normal panel again), until cleared; on every frame while it is set."""
        self.drill_channel = channel
        self.chart.set_selected(channel)
        fr = self.last
        if fr is None:
            return
        if channel is None:  # the frame's own GAM channel panel again
            panel = next((p for p in fr.panels if p.key == "gam_channel"), None)
            widget = self.grid.panel("gam_channel")
            if panel is not None and widget is not None and "gam_channel" in self.grid.shown_keys():
                h, w = fr.frame.image.shape[:2]
                if fr.compare is None and fr.result is not None:
                    widget.set_detections(fr.result.detections)
                widget.set_image(bgr_to_qimage(panel.image), *frame_caption(panel, fr), (w, h), panel_help(panel))
            return
        self._paint_drill(fr)
        g = fr.result.gam_for(fr.settings.gam_layer) if fr.result is not None else None
        if g is not None and channel < len(g.channel_weights):
            self._status(self.tr("GAM channel panel: channel {0} of layer {1} (weight {2:+.3f}); click the bar "
                                 "again to go back").format(channel, g.index, float(g.channel_weights[channel])), 6000)

    def _paint_drill(self, fr: FrameResult) -> None:
        """The drill-down panel of ``fr`` (rendered here: one channel at feature resolution, cheap)."""
        k = self.drill_channel
        widget = self.grid.panel("gam_channel")
        if k is None or fr.result is None or fr.compare is not None or widget is None \
                or "gam_channel" not in self.grid.shown_keys():
            return
        g = fr.result.gam_for(fr.settings.gam_layer)
        if g is None or k >= len(g.channel_weights):
            return
        panel = render.channel_drill_panel(fr.frame.image, g, k, self._shown_width)
        # Two feature maps side by side, not the frame: no boxes to hover, its own size and aspect.
        widget.set_detections([])
        widget.set_image(bgr_to_qimage(panel.image), *panel_caption(panel), None, panel_help(panel))

    def show_panel_help(self) -> None:
        """Help > How to read the panels: a non-modal page (kept, so it stays where the user put it)."""
        if self.help_dialog is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()
        self.help_dialog.activateWindow()

    def _on_model_loading(self, path: str) -> None:
        self.progress.setVisible(True)
        self.controls.weights_button.setEnabled(False)
        self._status(self.tr("loading model {0} ...").format(path), 0)

    def _finish_loading(self) -> None:
        self._loading_model = False
        self._startup_load = False
        self.progress.setVisible(False)
        self.controls.weights_button.setEnabled(True)
        if self._pending_source is not None:
            spec, self._pending_source = self._pending_source, None
            self.open_source(spec)

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model_info = info
        restored_for = self.setting("controls/imgsz_weights")
        keep = self._keep_imgsz and restored_for == info.path
        self._keep_imgsz = False
        self.controls.set_model_info(info)
        self.ablation.set_layers(info.gam_layers)
        if not keep:
            self.controls.set_imgsz(info.imgsz or 640)
        self.qsettings.setValue("controls/imgsz_weights", info.path)
        if self.model_path:
            self.qsettings.setValue("paths/last_weights", str(absolute(self.model_path)))
        self.device_label.setText(self.tr("device: {0}").format(info.device))
        self.model_label.setText(self.tr("model: {0}").format(info.name))
        self.model_label.setToolTip(plain_tooltip(info.path))
        gam = self.tr("{0} GAM blocks").format(len(info.gam_layers)) if info.gam_layers else self.tr("no GAM blocks")
        self._status(self.tr("loaded {0}: {1} classes, {2}").format(info.name, len(info.names), gam), 5000)
        if not info.gam_layers:
            for key in ("gam_channel", "gam_spatial"):
                self.grid.panels[key].set_placeholder(tr_render(render.NO_GAM_TEXT))
        self._push_settings()  # before a waiting source opens: its first frame uses this model's controls
        self._finish_loading()
        self.reanalyse()

    def _on_model_failed(self, msg: str) -> None:
        startup = self._startup_load
        self._startup_load = False
        self.controls.set_model_failed()
        if self.model_info is None:
            for p in self.grid.panels.values():
                if p.image.isNull():
                    p.set_placeholder(self.tr(NO_MODEL_HINT))
        if startup:
            self._status(self.tr("no model: {0}").format(msg), 0)
            self.errors.append(msg)
            LOGGER.warning("%s", msg)
        else:
            self.show_error(self.tr("Cannot load the weights"), msg)
        self._finish_loading()

    def _on_compare_loading(self, path: str) -> None:
        self.progress.setVisible(True)
        self._status(self.tr("loading model B {0} ...").format(path), 0)

    def _on_compare_loaded(self, name: str) -> None:
        self.progress.setVisible(self._loading_model)
        self.comparing = name
        self.act_stop_compare.setEnabled(True)
        self.ablation.set_comparing(True)
        a = self.model_info.name if self.model_info is not None else "-"
        self._status(self.tr("comparing A: {0} with B: {1}").format(a, name), 5000)
        self.reanalyse()

    def _on_compare_failed(self, msg: str) -> None:
        self.progress.setVisible(self._loading_model)
        self.show_error(self.tr("Cannot load the model to compare with"), msg)

    def _on_compare_stopped(self) -> None:
        self.comparing = ""
        self.act_stop_compare.setEnabled(False)
        self.ablation.set_comparing(False)
        self._status(self.tr("comparison stopped"), 3000)
        self.reanalyse()

    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source_info = info
        self.last = None
        self._status(self.tr("opened {0} ({1})").format(info.label, info.kind), 4000)
        self.setWindowTitle(f"gam-gui: {info.label}")
        self._update_transport()

    def _on_source_failed(self, msg: str) -> None:
        self.show_error(self.tr("Cannot open"), msg)

    def _on_source_closed(self) -> None:
        self.source_info = None
        self._status(self.tr("source closed"), 3000)
        self._update_transport()

    def _on_playing(self, playing: bool) -> None:
        self.playing = playing
        self.act_play.setIconText(self.tr("Pause") if playing else self.tr("Play"))
        if not playing and self.recording:
            pass  # a recording continues across pauses; frames are written when analysed
        self._update_transport()

    def _on_worker_error(self, msg: str) -> None:
        self.errors.append(msg)
        LOGGER.warning("%s", msg)
        self._status(msg, 8000)

    def _on_recording(self, on: bool, path: str) -> None:
        self.recording = on
        self.act_record.blockSignals(True)
        self.act_record.setChecked(on)
        self.act_record.blockSignals(False)
        msg = self.tr("recording to {0}") if on else (self.tr("saved {0}") if path else self.tr("recording stopped"))
        self._status(msg.format(path), 5000)

    # -- UI state ----------------------------------------------------------------------------------
    def _status(self, msg: str, timeout: int = 4000) -> None:
        self.statusBar().showMessage(msg, timeout)

    def show_error(self, title: str, msg: str) -> None:
        """A problem the user caused or must know about: logged, in the status bar and in a dialog."""
        self.errors.append(msg)
        LOGGER.warning("%s: %s", title, msg)
        self._status(msg, 10000)
        message(self, QMessageBox.Warning, title, msg)  # plain text: the message may quote a file

    def _update_transport(self) -> None:
        info = self.source_info
        seekable = info is not None and not info.live and info.kind in ("video", "folder") and bool(info.count)
        playable = info is not None and info.kind != "image"
        self.act_play.setEnabled(playable)
        self.act_step.setEnabled(playable)
        self.act_back.setEnabled(seekable)
        self.act_next.setEnabled(info is not None and info.kind == "folder")
        self.act_prev.setEnabled(info is not None and info.kind == "folder")
        self.act_stop.setEnabled(playable)
        self.seek_slider.setEnabled(seekable)
        if seekable:
            self.seek_slider.blockSignals(True)
            self.seek_slider.setRange(0, max(0, (info.count or 1) - 1))
            self.seek_slider.blockSignals(False)
        self.act_record.setEnabled(info is not None or self.recording)
        self.act_export.setEnabled(info is not None and not info.live)

    def _update_frame_label(self, fr: FrameResult) -> None:
        info = fr.source
        if info is None:
            self.frame_label.setText(fr.frame.name)
            return
        if info.live:
            self.frame_label.setText(self.tr("live frame {0}  (dropped {1})").format(fr.frame.index, fr.dropped))
        elif info.kind == "folder":
            self.frame_label.setText(self.tr("image {0} / {1}: {2}").format(fr.frame.index + 1, info.count,
                                                                           fr.frame.name))
        elif info.kind == "image":
            self.frame_label.setText(fr.frame.name)
        else:
            text = self.tr("frame {0} / {1}").format(fr.frame.index + 1, info.count or "?")
            if fr.dropped:
                text += self.tr("  (dropped {0})").format(fr.dropped)
            self.frame_label.setText(text)
        if self.seek_slider.isEnabled() and not self.seek_slider.isSliderDown():
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(fr.frame.index)
            self.seek_slider.blockSignals(False)

    def _update_status(self, fr: FrameResult) -> None:
        r = fr.result
        summary = ""
        if fr.compare is not None:
            summary = self.tr("A vs B: {0}").format(match_summary(fr.compare.matches, comparison=True))
        elif fr.ablation is not None:
            summary = self.tr("ablation {0}: {1}").format(fr.ablation.describe_blocks(),
                                                          match_summary(fr.ablation.matches))
            note = ablation_note(fr)  # the target lost under the ablation, which model the maps are of
            if note:
                summary += "  " + note
        self.summary_label.setText(summary)
        self.summary_label.setVisible(bool(summary))
        target = shown_target(fr)
        self.target_label.setText(self.tr("target: detection #{0} ({1})").format(*target) if target else "")
        self.target_label.setVisible(target is not None)
        if r is None:
            self.timings_label.setText("")
            self.fps_label.setText("")
            return
        self.fps_label.setText(f"{fr.fps:.1f} fps" if fr.playing and fr.fps else "")
        if fr.compare is not None:
            ct = fr.compare.timings
            self.timings_label.setText(self.tr("A {0:.0f} ms | B {1:.0f} ms | total {2:.0f} ms").format(
                ct.get("a", 0), ct.get("b", 0), ct.get("total", 0)))
            return
        t = r.timings
        infer = t.get("preprocess", 0) + t.get("forward", 0) + t.get("postprocess", 0)
        text = self.tr("inference {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | total {3:.0f} ms").format(
            infer, t.get("cam", 0), t.get("gam", 0), t.get("total", 0))
        if fr.ablation is not None:
            text += self.tr(" | ablation {0:.0f} ms").format(fr.ablation.timings.get("ablated", 0))
        self.timings_label.setText(text)

    def _loop_toggled(self, on: bool) -> None:
        self._cmd_loop.emit(bool(on))

    def _panel_toggled(self, key: str, on: bool) -> None:
        if not on and len(self.visible_panels()) == 1 and key in self.visible_panels():
            self.panel_actions[key].blockSignals(True)
            self.panel_actions[key].setChecked(True)  # keep at least one panel
            self.panel_actions[key].blockSignals(False)
            return
        self.grid.set_visible(key, on)
        self._push_settings()
        if on and self.last is not None:
            self.paint(self.last)

    def _seek_slider_moved(self, value: int) -> None:
        self.seek(value)

    def _push_settings(self) -> None:
        self.worker.set_settings(self.controls.settings(), self.controls.cam_every.value(), self.visible_panels(),
                                 **self.ablation.worker_options())
        self._shown_width = self.shown_panel_width()
        self.worker.set_shown_width(self._shown_width)

    def shown_panel_width(self) -> int | None:
        """How wide the first shown panel shows its picture (the worker sizes box labels for it)."""
        panel = self.grid.panel(self.grid.shown_keys()[0])
        if not panel.isVisible() or panel.image.isNull():
            return None
        return max(1, int(panel.image_rect().width()))

    def _width_changed(self) -> bool:
        """Whether the panel's shown width moved more than 10 % from the one the worker sizes labels for."""
        w, old = self.shown_panel_width(), self._shown_width
        return w is not None and (old is None or abs(w - old) > 0.1 * old)

    def _grid_resized(self) -> None:
        """After the panels changed size (window, dock, splitter), re-render when the box labels would
        be noticeably off (the analysis itself is cached, so this only redraws)."""
        if self._width_changed():
            self.reanalyse()

    def _controls_changed(self) -> None:
        self.reanalyse()

    def _device_changed(self, device: str) -> None:
        if self.model_info is not None or self._model_requested:
            self.load_weights(self.model_path or None, device)

    def _panel_clicked(self, key: str, x: float, y: float) -> None:
        """Clicking a box makes that detection the CAM target."""
        fr = self.last
        if fr is None or fr.result is None or fr.compare is not None:
            return  # in a comparison a box index would name different objects in A and B
        k = detection_at(fr.result.detections, (x, y))
        if k is None:
            return
        d = fr.result.detections[k]
        # No index here: on a video the object is followed and its index changes from frame to frame;
        # the permanent target label (shown_target) says the index of the frame on screen.
        self._status(self.tr("CAM target: the {0} you clicked (score {1:.3f}); followed on a video").format(
            d.name, d.score), 5000)
        self.controls.set_target_index(k)

    # -- dialogs -----------------------------------------------------------------------------------
    def _last_folder(self) -> str:
        return self.setting("paths/last_folder") or str(Path.home())

    def setting(self, key: str) -> Any:
        """One stored value through the settings schema (a bad one: its default, and a notice)."""
        read = SettingsReader(self.qsettings)
        value = read.get(key)
        if read.notices:
            self._status(read.notices[0], 10000)
        return value

    def _remember_path(self, p: Path) -> None:
        """Remember an opened file or folder as an absolute, resolved path (issue 25.3: a relative
        entry broke as soon as gam-gui was started from another folder)."""
        p = absolute(p)
        folder = p if p.is_dir() else p.parent
        self.qsettings.setValue("paths/last_folder", str(folder))
        recent = [x for x in self.recent_files(prune=False) if x != str(p)]
        self.qsettings.setValue("paths/recent", [str(p), *recent][:MAX_RECENT])

    def recent_files(self, prune: bool = True) -> list[str]:
        """File > Open recent: absolute paths, newest first. With ``prune``, entries that no longer
        exist (or were stored relative by an older gam-gui and do not resolve) are dropped from the
        list and named in one status-bar notice."""
        stored = [str(x) for x in self.setting("paths/recent")]
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
            self.qsettings.setValue("paths/recent", keep)
            self._status(self.tr("removed {0} recent entries that no longer exist: {1}").format(
                len(gone), ", ".join(gone)), 8000)
        return keep

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files):
            a = self.recent_menu.addAction(f"&{(i + 1) % 10} {menu_text(f)}")
            a.triggered.connect(lambda _=False, f=f: self.open_path(f))
        if not files:
            self.recent_menu.addAction(self.tr("(none)")).setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(self.tr("Clear list"), lambda: self.qsettings.setValue("paths/recent", []))

    def open_dialog(self) -> None:
        exts = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open image or video"), self._last_folder(),
                                              self.tr("Images and videos ({0});;All files (*)").format(exts))
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Open a folder of images"), self._last_folder())
        if path:
            self.open_path(path)

    def open_camera_dialog(self) -> None:
        cams = list_cameras()
        if not cams:
            QMessageBox.information(self, self.tr("No camera"), self.tr("No camera was found (no /dev/video* device)."))
            return
        labels = [label for _, label in cams]
        label, ok = QInputDialog.getItem(self, self.tr("Open camera"), self.tr("Camera:"), labels, 0, False)
        if ok and label:
            self.open_camera(cams[labels.index(label)][0])

    def open_stream_dialog(self) -> None:
        last = self.setting("paths/last_stream") or "rtsp://"
        url, ok = QInputDialog.getText(self, self.tr("Open stream"), self.tr("Stream URL (rtsp://, http://, ...):"),
                                       text=last)
        if ok and url.strip():
            self.qsettings.setValue("paths/last_stream", url.strip())
            self.open_source(url.strip())

    def compare_dialog(self) -> None:
        """View > Compare with...: choose model B, starting at the shipped baseline without GAM."""
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Compare with model"), str(compare_start_path()),
                                              self.tr("Checkpoints (*.pt *.pth);;All files (*)"))
        if path:
            self.compare_with(path)

    def open_weights_dialog(self) -> None:
        start = self.setting("paths/last_weights") or self._last_folder()
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open weights"), start,
                                              self.tr("Checkpoints (*.pt *.pth);;All files (*)"))
        if path:
            self.load_weights(path)

    def _save_path(self, title: str, name: str, filt: str, suffix: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(self._last_folder()) / name), filt,
                                              options=QFileDialog.DontConfirmOverwrite)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != suffix:
            p = p.with_name(p.name + suffix)
        return p if self.confirm_overwrite([p]) else None

    def confirm_overwrite(self, paths: list[Path]) -> bool:
        """Ask before replacing existing files; True when nothing exists or the user agreed."""
        existing = [p for p in paths if p.exists()]
        if not existing:
            return True
        names = "\n".join(str(p) for p in existing[:8]) + ("\n..." if len(existing) > 8 else "")
        answer = message(self, QMessageBox.Question, self.tr("Replace files?"),
                         self.tr("These files exist already:\n{0}\n\nReplace them?").format(names),
                         QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def _stem(self) -> str:
        fr = self.last
        if fr is None:
            return "gam_gui"
        stem = Path(fr.frame.name).stem or "frame"
        if fr.source is not None and fr.source.kind not in ("image", "folder"):
            stem += f"_f{fr.frame.index:06d}"
        return stem

    def _need_result(self) -> FrameResult | None:
        if self.last is None or self.last.output is None:
            self._status(self.tr("nothing analysed to save yet"), 4000)
            return None
        return self.last

    def composite(self) -> Any:
        """The side-by-side figure of the current frame as shown (visible panels; the ablation overlay or
        the six compare panels included), as a BGR array."""
        fr = self._need_result()
        if fr is None:
            return None
        return fr.output.showing(self.visible_panels()).figure()

    def save_composite(self, path: Path) -> bool:
        img = self.composite()
        if img is None:
            return False
        try:
            write_png(path, img, overwrite=True)
        except (ExportError, OSError) as e:
            self.show_error(self.tr("Cannot save"), str(e))
            return False
        self._status(self.tr("saved {0}").format(path), 5000)
        return True

    def save_composite_dialog(self) -> None:
        if self._need_result() is None:
            return
        p = self._save_path(self.tr("Save panels as PNG"), f"{self._stem()}_panels.png", self.tr("PNG images (*.png)"),
                            ".png")
        if p is not None:
            self.save_composite(p)

    def save_panels(self, folder: Path) -> list[Path]:
        """Each visible panel as ``<stem>_<panel>.png`` in ``folder`` (asks before replacing)."""
        fr = self._need_result()
        if fr is None:
            return []
        full = fr.output.panels()  # at the frame's resolution: the display copies may be smaller
        chosen = [p for p in full if p.key in self.grid.shown_keys()]
        paths = [folder / f"{self._stem()}_{p.key}.png" for p in chosen]
        if not self.confirm_overwrite(paths):
            return []
        try:
            for panel, path in zip(chosen, paths, strict=True):
                write_png(path, panel.image, overwrite=True)
        except (ExportError, OSError) as e:
            self.show_error(self.tr("Cannot save"), str(e))
            return []
        self._status(self.tr("saved {0} panel(s) to {1}").format(len(paths), folder), 5000)
        return paths

    def save_panels_dialog(self) -> None:
        if self._need_result() is None:
            return
        folder = QFileDialog.getExistingDirectory(self, self.tr("Save panels into folder"), self._last_folder())
        if folder:
            self.save_panels(Path(folder))

    def detections_json(self) -> dict | None:
        fr = self._need_result()
        if fr is None:
            return None
        r = fr.result
        return {"source": fr.source.spec if fr.source else "", "frame": fr.frame.index, "name": fr.frame.name,
                "timestamp": round(fr.frame.timestamp, 3), "model": self.model_info.path if self.model_info else "",
                "settings": asdict(fr.settings), "method": r.method, "layers": list(r.layers), "target": r.target,
                "note": r.note, "timings_ms": r.timings, "detections": [d.to_dict() for d in r.detections],
                **({"ablation": fr.ablation.to_dict()} if fr.ablation is not None else {}),
                **({"compare": {"a": fr.names[0], "b": fr.names[1], **fr.compare.to_dict()}}
                   if fr.compare is not None else {})}

    def save_detections(self, path: Path) -> bool:
        data = self.detections_json()
        if data is None:
            return False
        try:
            atomic_write_bytes(path, json_dumps(data, indent=1).encode(), overwrite=True)
        except (ExportError, OSError) as e:
            self.show_error(self.tr("Cannot save"), str(e))
            return False
        self._status(self.tr("saved {0}").format(path), 5000)
        return True

    def save_detections_dialog(self) -> None:
        if self._need_result() is None:
            return
        p = self._save_path(self.tr("Save detections"), f"{self._stem()}_detections.json", self.tr("JSON (*.json)"),
                            ".json")
        if p is not None:
            self.save_detections(p)

    def start_recording(self, path: Path, fps: float = 0.0) -> None:
        self._cmd_record.emit(str(path), float(fps))

    def stop_recording(self) -> None:
        self._cmd_stop_record.emit()

    def toggle_recording(self, on: bool) -> None:
        if not on:
            self.stop_recording()
            return
        self.act_record.blockSignals(True)
        self.act_record.setChecked(False)  # checked again when the worker confirms
        self.act_record.blockSignals(False)
        if self.source_info is None:
            self._status(self.tr("open a video or camera first"), 4000)
            return
        name = f"{Path(self.source_info.label).stem or 'recording'}_panels.mp4"
        p = self._save_path(self.tr("Record panels to MP4"), name, self.tr("MP4 video (*.mp4)"), ".mp4")
        if p is not None:
            self.start_recording(p)
            if not self.playing and self.source_info.kind not in ("image",):
                self.play()

    def export_source_dialog(self) -> None:
        info = self.source_info
        if info is None or info.live or self.model_info is None:
            self._status(self.tr("open a file or folder and a model first"), 4000)
            return
        folder = QFileDialog.getExistingDirectory(self, self.tr("Export panels into folder"), self._last_folder())
        if not folder:
            return
        out = Path(folder)
        table = TABLES[self.worker.view().mode]  # the view shown: detections, ablation or compare
        targets = [out / f"{table}.json", out / f"{table}.csv"]
        if not self.confirm_overwrite(targets):
            return
        video = info.kind == "video" and QMessageBox.question(
            self, self.tr("Export video"), self.tr("Write one MP4 of the panels (Yes) or a PNG per frame (No)?"),
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes) == QMessageBox.Yes
        self.export_source(info.spec, out, video=video)

    def export_source(self, spec: str, out: Path, video: bool = False) -> None:
        """Export every frame of ``spec`` on a background thread, with a cancellable progress dialog.

        The export uses its own copy of the model, so the window keeps working meanwhile."""
        from gam_gui.ui.export_job import ExportJob, ExportView

        if self._export_job is not None:
            self._status(self.tr("an export is running already"), 4000)
            return
        dlg = QProgressDialog(self.tr("Exporting..."), self.tr("Cancel"), 0, 0, self)
        dlg.setWindowTitle(self.tr("Export"))
        dlg.setMinimumDuration(0)
        view = self.worker.view()  # what the window shows: the same pipeline writes it
        shown = ExportView(view.settings, self.visible_panels(), dict(view.ablation), view.name_a,
                           self.compare_path if view.model_b is not None else "", view.names[1])
        job = ExportJob(self.model_path or None, self.controls.device_value(), spec, out, shown, video=video)
        self._export_job = job
        job.progress.connect(lambda done, total: (dlg.setMaximum(total or 0), dlg.setValue(done)))
        dlg.canceled.connect(job.cancel)

        def finished(ok: bool, msg: str) -> None:
            job.wait()  # the thread is quitting; join it before dropping the last reference
            self._export_job = None
            dlg.reset()
            dlg.deleteLater()
            if ok:
                self._status(msg, 8000)
            else:
                self.show_error(self.tr("Export"), msg)

        job.done.connect(finished)
        job.start()
        dlg.show()

    def about_text(self) -> str:
        """What Help > About says: the versions a bug report needs, and the device the model runs on."""
        import platform

        import torch

        device = self.model_info.device if self.model_info is not None else self.controls.device_value()
        cuda = torch.cuda.get_device_name(0) if device.startswith("cuda") and cuda_available() else ""
        return "\n".join([
            self.tr("gam-gui {0}").format(gam_gui.__version__),
            "",
            self.tr("gam-gui shows what the GAM attention in a YOLO-GAM detector does: detections, a Grad-CAM "
                    "explanation and the GAM channel and spatial attention, side by side."),
            self.tr("Click a box to explain that object. Space plays or pauses, Right/'.' steps."),
            "",
            self.tr("Device: {0}").format(f"{device} ({cuda})" if cuda else device),
            f"torch {torch.__version__}, Qt {QT_VERSION_STR}, PyQt5 {PYQT_VERSION_STR}, "
            f"Python {platform.python_version()}",
        ])

    def _about(self) -> None:
        QMessageBox.about(self, self.tr("About gam-gui"), self.about_text())

    def choose_language(self, code: str) -> None:
        """View > Language: remember the choice; it applies when gam-gui starts again (every text of
        the window is set once, when it is built)."""
        i18n.remember_language(self.qsettings, code)
        for c, a in self.language_actions.items():
            a.setChecked(c == code)
        if code == i18n.active_language():
            self._status(self.tr("the window is already in {0}").format(i18n.LANGUAGES[code]), 5000)
            return
        msg = self.tr("The window will be in {0} the next time gam-gui starts.").format(i18n.LANGUAGES[code])
        self._status(msg, 8000)
        QMessageBox.information(self, self.tr("Language"), msg)

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

    def open_dropped(self, files: list[Path]) -> None:
        """A dropped ``.pt`` loads as weights; anything else opens as a source (the first of each)."""
        weights = [f for f in files if f.suffix.lower() in WEIGHT_SUFFIXES]
        media = [f for f in files if f.suffix.lower() not in WEIGHT_SUFFIXES]
        if weights:
            self.load_weights(weights[0])
        if media:
            self.open_path(media[0])

    # -- persistence and shutdown ------------------------------------------------------------------
    def _restore(self) -> None:
        """Read the settings back, every value through :mod:`gam_gui.ui.settings_schema` (the CLI's
        rules): a value the window cannot use falls back to its default with a one-line notice in
        :attr:`settings_notices`, the status bar and the log, instead of stopping the window."""
        qs = self.qsettings
        read = SettingsReader(qs)
        geo = blob(qs, "window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = blob(qs, "window/state")
        if state is not None:
            self.restoreState(state)
        controls = self.controls.restore(qs)
        # A stored size is kept over the model's own only when it was valid.
        self._keep_imgsz = read.has("controls/imgsz") and "controls/imgsz" not in controls.bad_keys()
        for key, a in self.panel_actions.items():
            on = read.get(panel_setting(key))
            a.blockSignals(True)
            a.setChecked(on)
            a.blockSignals(False)
            self.grid.set_visible(key, on)
        if not self.visible_panels():
            self.panel_actions["detections"].setChecked(True)
        chart = read.get("view/chart")
        self.act_chart.setChecked(chart)
        self.chart.setVisible(chart)
        loop = read.get("playback/loop")
        self.act_loop.blockSignals(True)
        self.act_loop.setChecked(loop)
        self.act_loop.blockSignals(False)
        self.settings_notices = controls.notices + read.notices
        if self.settings_notices:
            self._status(self.settings_notices[0] if len(self.settings_notices) == 1 else
                         self.tr("{0} settings were ignored (see the log); the first: {1}").format(
                             len(self.settings_notices), self.settings_notices[0]), 15000)

    def save_state(self) -> None:
        qs = self.qsettings
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        self.controls.save(qs)
        for key, a in self.panel_actions.items():
            qs.setValue(f"view/panel_{key}", a.isChecked())
        qs.setValue("view/chart", self.act_chart.isChecked())
        qs.setValue("playback/loop", self.act_loop.isChecked())
        qs.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self._closed:
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
                 threads: int | None = None) -> MainWindow:
    """A shown main window that loads the model and opens ``path``, camera ``camera`` or the sample.

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
        win._startup_load = True  # a missing default model is a hint, not an error dialog
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
            win._status(QCoreApplication.translate("MainWindow", "no sample found: {0}").format(win.tr(EMPTY_HINT)), 0)
    return win

