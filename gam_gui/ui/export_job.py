"""Whole-source export (``gam_gui.export.export``) on a background QThread, cancellable.

The job loads its own copy of the model (and of the comparison's model B): the analysis worker keeps
using its models (with their hooks) at the same time, and one model must not run two analyses at
once. It exports the view the window shows (:class:`ExportView`: visible panels, ablation,
comparison), through the same :class:`gam_gui.pipeline.FramePipeline` as the window.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PyQt5.QtCore import QObject, QThread, pyqtSignal

from gam_gui import render
from gam_gui.analysis import Settings
from gam_gui.checkpoints import CheckpointError, load_model
from gam_gui.export import ExportError, export
from gam_gui.pipeline import ModelB, ViewState

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportView:
    """What the window shows, by file: the :class:`ViewState` is rebuilt with the job's own models."""

    settings: Settings = field(default_factory=Settings)
    panels: tuple[str, ...] = render.PANELS
    ablation: dict[int, str] = field(default_factory=dict)
    name_a: str = "A"
    model_b_path: str = ""  # '' = no comparison
    name_b: str = "B"


class ExportJob(QObject):
    """``progress(done, total)`` while running, ``done(ok, message)`` at the end (cancelled counts as ok)."""

    progress = pyqtSignal(int, int)
    done = pyqtSignal(bool, str)

    def __init__(self, weights: str | None, device: str, spec: str, out: Path, view: ExportView | Settings,
                 video: bool = False) -> None:
        super().__init__()
        self.weights, self.device, self.spec, self.out = weights, device, spec, Path(out)
        self.view = view if isinstance(view, ExportView) else ExportView(view)
        self.video = video
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("gam-gui export")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, ms: int = 30000) -> bool:
        return self._thread.wait(ms)

    def _state(self) -> ViewState:
        v = self.view
        b = ModelB(load_model(v.model_b_path, device=self.device or None), v.name_b) if v.model_b_path else None
        return ViewState(v.settings, panels=v.panels, ablation=v.ablation, model_b=b, name_a=v.name_a)

    def _run(self) -> None:
        ok, msg = False, ""
        try:
            model = load_model(self.weights, device=self.device or None)
            summary = export(self.spec, self.out, model, video=self.video, overwrite=True, view=self._state(),
                             progress=lambda d, t: self.progress.emit(int(d), int(t or 0)),
                             cancelled=self._cancel.is_set)
            ok = True
            msg = (f"export cancelled after {summary.frames} frame(s)" if summary.cancelled
                   else f"exported {summary.frames} frame(s) to {summary.out_dir} in {summary.seconds:.1f} s")
            if summary.skipped:
                msg += f"; skipped {len(summary.skipped)}"
        except (CheckpointError, ExportError, ValueError, OSError) as e:
            msg = str(e)
        except Exception as e:  # noqa: BLE001 - the window must survive any export failure
            LOGGER.exception("export failed")
            msg = f"export failed: {e}"
        finally:
            self._thread.quit()
        self.done.emit(ok, msg)
