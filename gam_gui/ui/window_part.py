"""What the main window's feature controllers share: the window they serve, its translation
context, and the helpers the window and the controllers both use.

Each feature of the window (sources and playback, the model and its controls, saving and export,
comparison, help) is a :class:`WindowPart` in its own module under ``ui/``; :mod:`gam_gui.ui.main_window`
builds the widgets, creates the parts and wires actions and worker signals to them in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PyQt5.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QWidget

from gam_gui.matching import KEPT, LOST, NEW, Match

if TYPE_CHECKING:
    from gam_gui.ui.main_window import MainWindow
    from gam_gui.ui.worker import FrameResult

WEIGHT_SUFFIXES = {".pt", ".pth"}
MAX_RECENT = 10
# English source strings (tests compare with them); the window shows them through self.tr().
EMPTY_HINT = QT_TRANSLATE_NOOP("MainWindow", "Open an image, folder or video (Ctrl+O), a camera, or drop a file here")
NO_MODEL_HINT = QT_TRANSLATE_NOOP("MainWindow", "No model loaded: File > Open weights... (or drop a .pt file here)")


class WindowPart:
    """One feature of the main window. ``self.tr`` translates in the part's own class context
    (``ModelController``, ...), where ``pylupdate5`` files a ``self.tr("...")`` of that class, so
    the .ts file needs no second copy of the strings under ``MainWindow``."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)


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
