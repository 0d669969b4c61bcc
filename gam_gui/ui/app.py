"""``gam-gui`` (the window): QApplication setup and :func:`run`, which ``gam_gui.cli`` calls."""

from __future__ import annotations

import logging
import signal
import sys

from PyQt5.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PyQt5.QtWidgets import QApplication

from gam_gui.ui import i18n
from gam_gui.ui.main_window import APPLICATION, ORGANISATION, MainWindow, default_qsettings, start_window
from gam_gui.ui.platform_check import platform_problem

LOGGER = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once (tests and embedding code may have made one already)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
        QCoreApplication.setAttribute(Qt.AA_UseHighDpiPixmaps, True)
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    return app


def run(path: str | None = None, weights: str | None = None, camera: int | None = None,
        device: str | None = None, qsettings: QSettings | None = None, threads: int | None = None,
        lang: str | None = None, data: str | None = None) -> int:
    """Open the window (default model and the sample, or ``path`` / ``camera``) and run until it closes.

    ``lang``: ``"en"`` or ``"zh_CN"`` (``gam-gui --lang``); None = the choice remembered from
    View > Language, else the system locale. An unknown code raises ValueError before any window opens.
    ``data``: a dataset (data.yaml, COCO json or folder) opened in the Dataset dock.
    """
    code = i18n.resolve_language(lang, qsettings or default_qsettings())
    if QApplication.instance() is None:  # Qt would abort the process; say what is missing instead
        problem = platform_problem()
        if problem is not None:
            sys.stderr.write(f"gam-gui: error: {problem.message()}\n")
            return 1
    app = application()
    translators = i18n.install(code, app)
    try:
        return _run_window(app, path=path, weights=weights, camera=camera, device=device, qsettings=qsettings,
                           threads=threads, data=data)
    finally:
        i18n.uninstall(translators, app)  # an embedding program keeps its own language afterwards


def _run_window(app: QApplication, **kw) -> int:
    win: MainWindow = start_window(**kw)
    app.aboutToQuit.connect(win.shutdown)
    # Ctrl+C in the terminal closes the window cleanly instead of being swallowed by the Qt loop.
    signal.signal(signal.SIGINT, lambda *_: win.close())
    keepalive = QTimer()
    keepalive.timeout.connect(lambda: None)  # lets Python run its signal handlers
    keepalive.start(250)
    code = app.exec_()
    keepalive.stop()
    win.shutdown()
    return int(code)
