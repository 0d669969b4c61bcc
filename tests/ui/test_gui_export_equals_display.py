"""File > Export and File > Save write the figure the window shows, in the ablation view (with a
hidden panel) and in the comparison view: one pipeline makes both (issue 24)."""
# ruff: noqa: F811 - the fixtures imported from test_gui are requested by name as arguments

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from test_gui import (  # noqa: F401 - fixtures used by name (dialogs and threads are autouse)
    dialogs,
    env,
    media,
    model_path,
    open_window,
    qs,
    threads,
    wait_frame,
)

from gam_gui.checkpoints import save_model
from gam_gui.models.yolov5 import DetectionModel
from gam_gui.video_out import VideoRecorder


def exported_and_saved(qtbot, win, out: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """What File > Export writes for the open image, what File > Save writes, and the export's table."""
    win.export_source(win.source_info.spec, out)
    qtbot.waitUntil(lambda: win.export_job is None, timeout=60000)
    assert not win.errors, win.errors
    saved = out / "saved.png"
    assert win.save_composite(saved)
    tables = [p for p in out.glob("*.json")]
    assert len(tables) == 1, tables
    return (cv2.imread(str(out / "one_panels.png")), cv2.imread(str(saved)),
            {"name": tables[0].stem, **json.loads(tables[0].read_text())})


def test_export_save_and_record_equal_the_display_in_the_ablation_view(qtbot, open_window, qs, tmp_path,
                                                                       monkeypatch):
    qs.setValue("controls/conf", 0.02)  # some boxes from the untrained model
    recorded: list[np.ndarray] = []
    monkeypatch.setattr(VideoRecorder, "write", lambda self, img: recorded.append(img.copy()))
    win = open_window()
    win.panel_actions["gam_spatial"].setChecked(False)  # a hidden panel stays out of every file
    win.ablation.set_mode(22, "off")
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is not None and "gam_spatial" not in fr.output.view.panels)
    shown = win.composite()
    exported, saved, table = exported_and_saved(qtbot, win, tmp_path / "ablation")
    assert np.array_equal(exported, shown) and np.array_equal(saved, shown)
    win.start_recording(tmp_path / "rec.mp4")  # Record writes each analysed frame's figure
    qtbot.waitUntil(lambda: win.recording, timeout=10000)
    win.reanalyse()
    qtbot.waitUntil(lambda: bool(recorded), timeout=10000)
    win.stop_recording()
    qtbot.waitUntil(lambda: not win.recording, timeout=10000)
    assert np.array_equal(recorded[0], shown)
    four = fr.output.showing(("detections", "cam", "gam_channel", "gam_spatial")).figure()
    assert shown.shape[1] < four.shape[1]  # three panels, not four
    assert table["name"] == "ablation" and table["frames"][0]["ablation"]["blocks"] == {"22": "off"}


def test_export_and_save_equal_the_display_in_the_compare_view(qtbot, open_window, qs, tmp_path):
    qs.setValue("controls/conf", 0.02)
    torch.manual_seed(1)
    b = save_model(DetectionModel("yolov5n", nc=5), tmp_path / "b" / "baseline.pt", imgsz=64)
    win = open_window()
    win.compare_with(b)
    fr = wait_frame(qtbot, win, lambda fr: fr.compare is not None, timeout=20000)
    shown = win.composite()
    assert shown.shape[1] > 2 * fr.frame.image.shape[1]  # three panels to a row, as on screen
    exported, saved, table = exported_and_saved(qtbot, win, tmp_path / "compare")
    assert np.array_equal(exported, shown) and np.array_equal(saved, shown)
    assert table["name"] == "compare" and table["frames"][0]["models"] == {"a": "tiny_gam", "b": "baseline"}
