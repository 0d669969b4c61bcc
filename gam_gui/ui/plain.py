"""Showing text that came from a file (or from an error about a file) as plain text, never as HTML.

Why: Qt guesses. A QLabel, a QMessageBox and every tooltip render their text as rich text when it
*looks* like HTML (``Qt::mightBeRichText``), and rich text loads ``<img src="...">`` from disk. A
checkpoint's class names, ``variant_reason`` or dict keys, and a file name, can carry such markup:
with a FIFO as the image the window hung, with ``/dev/zero`` it grew by 2 GB (issue 26.6). So:

* labels that can show such text are set to ``Qt.PlainText`` (:func:`plain_label`);
* tooltips have no plain mode, so their text is escaped and wrapped (:func:`plain_tooltip`);
* message boxes are built with ``Qt.PlainText`` (:func:`message`);
* menu entries double ``&`` so a file name does not grow a shortcut (:func:`menu_text`).
"""

from __future__ import annotations

import html

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QMessageBox, QWidget

#: The longest file-borne text shown in one place (a 2 MB class name is cut, not laid out).
MAX_SHOWN = 4000


def clip(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` as a string of at most ``limit`` characters (an ellipsis marks a cut)."""
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"


def plain_tooltip(text: object) -> str:
    """A tooltip that shows ``text`` literally: escaped HTML, white space and line breaks kept."""
    s = clip(text)
    if not s:
        return ""
    return "<p style='white-space:pre-wrap'>" + html.escape(s, quote=False) + "</p>"


def plain_label(label: QLabel) -> QLabel:
    """Make ``label`` render its text literally (returns it, for chaining)."""
    label.setTextFormat(Qt.PlainText)
    return label


def menu_text(text: object) -> str:
    """A file name as a menu entry: ``&`` doubled so it shows as itself, not as a shortcut mark."""
    return clip(text, 300).replace("&", "&&")


def message(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: object,
            buttons: QMessageBox.StandardButtons = QMessageBox.Ok,
            default: QMessageBox.StandardButton = QMessageBox.NoButton) -> int:
    """A modal message box whose text is plain (``QMessageBox.warning`` and friends guess the format).

    Goes through the static ``QMessageBox`` functions when they have been replaced (tests record
    dialogs that way), so a test sees the same title and text a user would."""
    text = clip(text)
    static = {QMessageBox.Warning: "warning", QMessageBox.Information: "information",
              QMessageBox.Question: "question", QMessageBox.Critical: "critical"}.get(icon)
    fn = getattr(QMessageBox, static, None) if static else None
    if fn is not None and not _is_builtin(fn):
        return fn(parent, title, text, buttons, default)
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.PlainText)
    if default != QMessageBox.NoButton:
        box.setDefaultButton(default)
    return box.exec_()


def _is_builtin(fn: object) -> bool:
    """Whether ``fn`` is Qt's own static function (not a stand-in a test put there)."""
    return type(fn).__name__ in ("builtin_function_or_method", "method_descriptor")
