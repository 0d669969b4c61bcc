"""Help: how to read the panels (F1), About, and View > Language.
"""

from __future__ import annotations

from PyQt5.QtCore import PYQT_VERSION_STR, QT_VERSION_STR
from PyQt5.QtWidgets import QMessageBox

import gam_gui
from gam_gui.ui import i18n
from gam_gui.ui.controls import cuda_available
from gam_gui.ui.help import HelpDialog
from gam_gui.ui.window_part import WindowPart


class HelpController(WindowPart):
    """Help; wired by :class:`gam_gui.ui.main_window.MainWindow`."""

    def show_panel_help(self) -> None:
        """Help > How to read the panels: a non-modal page (kept, so it stays where the user put it)."""
        w = self.w
        if w.help_dialog is None:
            w.help_dialog = HelpDialog(w)
        w.help_dialog.show()
        w.help_dialog.raise_()
        w.help_dialog.activateWindow()

    def about_text(self) -> str:
        """What Help > About says: the versions a bug report needs, and the device the model runs on."""
        w = self.w
        import platform

        import torch

        device = w.model_info.device if w.model_info is not None else w.controls.device_value()
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

    def about(self) -> None:
        w = self.w
        QMessageBox.about(w, self.tr("About gam-gui"), self.about_text())

    def choose_language(self, code: str) -> None:
        """View > Language: remember the choice; it applies when gam-gui starts again (every text of
        the window is set once, when it is built)."""
        w = self.w
        i18n.remember_language(w.qsettings, code)
        for c, a in w.language_actions.items():
            a.setChecked(c == code)
        if code == i18n.active_language():
            w.show_status(self.tr("the window is already in {0}").format(i18n.LANGUAGES[code]), 5000)
            return
        msg = self.tr("The window will be in {0} the next time gam-gui starts.").format(i18n.LANGUAGES[code])
        w.show_status(msg, 8000)
        QMessageBox.information(w, self.tr("Language"), msg)
