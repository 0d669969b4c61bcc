"""The window's answers to "what does GAM change?" (issue 13), driven like a user would (pytest-qt,
offscreen): the Ablation group (a mode per GAM block, the match overlay in the detections panel, the
summary in the status bar, the normal view back when it is turned off, blocks restored after a
failure, live on a playing video) and View > Compare with... (six panels, the compare summary, a
refused file, back to four panels, a model without GAM).

The ablation uses the shipped model (an untrained one has no detections worth keeping or losing) at
imgsz 320 with the CAM off; the comparison uses the tiny models of ``test_gui``. Fixtures come from
``test_gui`` (window start-up and shutdown checks, throwaway settings, recorded message boxes).
"""
# ruff: noqa: F811 - the fixtures imported from test_gui are requested by name as arguments

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PyQt5.QtWidgets import QFileDialog
from test_gui import (  # noqa: F401 - fixtures used by name (dialogs and threads are autouse)
    dialogs,
    env,
    media,
    model_path,
    open_window,
    panel_pixels,
    qs,
    threads,
    wait_frame,
)

from gam_gui import ablation as ablation_mod
from gam_gui import render
from gam_gui.ablation import MODES
from gam_gui.checkpoints import DEFAULT_WEIGHTS, save_model
from gam_gui.data.shapes import render_sample
from gam_gui.models.gam import ABLATION
from gam_gui.models.yolov5 import DetectionModel
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui.panels import COMPARE_PANELS


@pytest.fixture
def shapes_image(tmp_path) -> Path:
    p = tmp_path / "shapes.png"
    cv2.imwrite(str(p), render_sample(7, (240, 320)).image)
    return p


@pytest.fixture
def no_gam_weights(tmp_path) -> Path:
    """An untrained YOLOv5n without GAM, saved under the baseline's name (model B of a comparison)."""
    torch.manual_seed(1)
    return save_model(DetectionModel("yolov5n", nc=5), tmp_path / "weights" / "yolov5n_shapes.pt", imgsz=64)


def test_ablation_per_block_overlay_summary_restore_and_failure(qtbot, open_window, qs, monkeypatch, shapes_image,
                                                               media):
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("the shipped model is not there")
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(DEFAULT_WEIGHTS))
    for key, value in (("controls/conf", 0.25), ("controls/method", "none"), ("controls/imgsz", 320),
                       ("controls/imgsz_weights", str(DEFAULT_WEIGHTS))):
        qs.setValue(key, value)
    win = open_window()
    win.open_path(shapes_image)
    fr = wait_frame(qtbot, win, lambda fr: fr.frame.name == "shapes.png" and fr.result is not None)
    assert fr.result.detections and fr.ablation is None
    ab = win.ablation
    # One combo per GAM block of the loaded model, every mode offered, all "on": the normal view.
    assert sorted(ab.combos) == [18, 22, 26]
    assert [ab.combos[22].itemData(i) for i in range(ab.combos[22].count())] == list(MODES)
    assert set(ab.modes().values()) == {"on"} and ab.spec() == {} and not ab.enabled.isChecked()
    assert win.summary_label.text() == ""

    # A block off: the detections panel becomes the match overlay, the status bar sums it up, and
    # the frame's analysis is reused (the ablation costs one extra forward, no new analysis).
    analysed = win.worker.analyzed
    ab.combos[22].setCurrentIndex(ab.combos[22].findData("off"))
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is not None)
    assert ab.enabled.isChecked() and ab.spec() == {22: "off"}
    assert fr.ablation.blocks == {22: "off"} and fr.ablation.before == fr.result.detections
    assert win.worker.analyzed == analysed
    det = win.grid.panels["detections"]
    assert det.title == "Ablation 22:off" and det.subtitle == fr.ablation.summary()
    assert win.summary_label.text().startswith(f"ablation 22:off: {fr.ablation.summary()}  maps: trained model")
    # The map panels say which model they are of (issue 25.6); the View menu names what they show.
    assert win.grid.panels["cam"].title.endswith("trained model")
    assert win.panel_actions["cam"].text() == f"{fr.panels[1].title} panel"
    assert "ablation" in win.timings_label.text()
    overlay = panel_pixels(win, "detections")
    # What is shown is what is saved and recorded.
    shown = win.composite()
    assert np.array_equal(shown, fr.output.figure())
    assert not np.array_equal(shown, render.compose(fr.frame.image, fr.result, fr.settings))
    assert win.detections_json()["ablation"]["summary"] == fr.ablation.summary()
    # "Maps of: ablated model": the CAM and GAM panels come from the ablated model and say so; a target
    # the ablation lost is said to be lost (issue 25.6).
    assert ab.maps_of.isEnabled()
    ab.maps_of.setCurrentIndex(ab.maps_of.findData("ablated"))
    fr = wait_frame(qtbot, win, lambda fr: fr.maps_of == "ablated" and fr.ablation is not None)
    assert all(win.grid.panels[k].title.endswith("ablated model") for k in ("cam", "gam_channel", "gam_spatial"))
    assert "maps: ablated model" in win.summary_label.text()
    ab.set_mode(18, "off")  # the first block off too: boxes are lost
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is not None and fr.ablation.blocks == {18: "off", 22: "off"})
    lost = [m for m in fr.ablation.matches if m.status == "lost"]
    assert lost
    k = next(i for i, d in enumerate(fr.result.detections) if d.xyxy == lost[0].a.xyxy)
    win.controls.set_target_index(k)  # a box the ablation lost: the window says the target is lost
    fr = wait_frame(qtbot, win, lambda fr: fr.highlight == k and fr.maps_of == "ablated")
    assert "the CAM's target is lost under the ablation" in win.summary_label.text()
    win.controls.target.setCurrentIndex(win.controls.target.findData("all"))
    ab.set_mode(18, "on")
    ab.maps_of.setCurrentIndex(ab.maps_of.findData("trained"))
    wait_frame(qtbot, win, lambda fr: fr.maps_of == "trained" and fr.ablation is not None
               and fr.ablation.blocks == {22: "off"} and fr.settings.target == "all")

    # Back to "on": the normal detections panel again.
    ab.combos[22].setCurrentIndex(ab.combos[22].findData("on"))
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is None)
    assert det.title == "Detections" and "object" in det.subtitle
    assert win.summary_label.text() == "" and not np.array_equal(panel_pixels(win, "detections"), overlay)
    # Unchecking restores the normal view and keeps the chosen modes for next time.
    ab.set_mode(18, "mean-gate")
    assert wait_frame(qtbot, win, lambda fr: fr.ablation is not None).ablation.blocks == {18: "mean-gate"}
    ab.enabled.setChecked(False)
    assert wait_frame(qtbot, win, lambda fr: fr.ablation is None).result is not None
    assert ab.modes()[18] == "mean-gate" and det.title == "Detections"

    # A failure inside the ablated forward: a message, the normal view, the blocks restored in the
    # worker thread (no override table left), and the window goes on.
    real_detect, real_panels = ablation_mod.detect, render.panels
    seen: list[tuple[bool, object]] = []

    def failing(*a, **k):
        if getattr(ABLATION, "blocks", None):
            raise RuntimeError("boom inside the ablated forward")
        return real_detect(*a, **k)

    def watching(*a, **k):
        seen.append((threading.current_thread() is threading.main_thread(), getattr(ABLATION, "blocks", None)))
        return real_panels(*a, **k)

    monkeypatch.setattr(ablation_mod, "detect", failing)
    monkeypatch.setattr(render, "panels", watching)
    painted = win.frames_painted  # the message and the frame arrive together: count from before both
    ab.set_mode(18, "spatial-only")  # checks the box again; not cached for this frame
    qtbot.waitUntil(lambda: any("ablation failed: boom" in e for e in win.errors)
                    and win.frames_painted > painted and win.last.result is not None, timeout=20000)
    fr = win.last
    assert fr.ablation is None and det.title == "Detections"
    assert seen and seen[-1] == (False, None)
    assert getattr(ABLATION, "blocks", None) is None  # nor in this thread
    monkeypatch.setattr(ablation_mod, "detect", real_detect)
    ab.set_mode(26, "off")
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is not None)
    assert fr.ablation.blocks == {18: "spatial-only", 26: "off"}

    # Live on a playing video, like any other setting.
    win.open_path(media["video"])
    fr = wait_frame(qtbot, win, lambda fr: fr.source.kind == "video" and fr.playing and fr.frame.index > 0,
                    timeout=20000)
    assert fr.ablation is not None and win.grid.panels["detections"].title.startswith("Ablation ")
    ab.reset_modes()
    assert wait_frame(qtbot, win, lambda fr: fr.ablation is None).source.kind == "video"


def test_compare_view_six_panels_summary_and_back(qtbot, open_window, qs, monkeypatch, media, dialogs,
                                                   no_gam_weights):
    qs.setValue("controls/conf", 0.02)  # fewer boxes of the untrained models: a quick match table
    monkeypatch.setattr(mw_mod, "WEIGHTS_DIR", no_gam_weights.parent)
    asked: list[str] = []

    def choose(parent, title, start, filt, *a, **k):
        asked.append(start)
        return str(no_gam_weights), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    win = open_window()
    win.ablation.set_mode(22, "off")
    wait_frame(qtbot, win, lambda fr: fr.ablation is not None)

    # View > Compare with... starts at the shipped baseline; the comparison wins over the ablation.
    assert win.act_compare in win.menus["view"].actions() and not win.act_stop_compare.isEnabled()
    win.act_compare.trigger()
    assert asked == [str(no_gam_weights)]
    fr = wait_frame(qtbot, win, lambda fr: fr.compare is not None, timeout=20000)
    assert fr.ablation is None and fr.names == ("tiny_gam", "yolov5n_shapes")
    assert win.grid.shown_keys() == COMPARE_PANELS and win.grid.columns == 3
    assert all(win.grid.panel(k).isVisible() and not win.grid.panel(k).image.isNull() for k in COMPARE_PANELS)
    assert not any(win.grid.panels[k].isVisible() for k in render.PANELS)
    assert win.grid.panel("detections_a").title == "A: tiny_gam"
    assert win.grid.panel("detections_b").title == "B: yolov5n_shapes"
    assert win.grid.panel("cam_diff").title == "CAM A - CAM B"
    assert win.summary_label.text() == f"A vs B: {fr.compare.summary()}"
    assert win.act_stop_compare.isEnabled() and win.ablation.note.text().startswith("while two models")
    assert win.composite().shape[1] == 3 * 160 + 2 * 4  # three 160 px panels to a row, 4 px gaps

    # A refused file is a message; the comparison goes on with the model B it had.
    win.compare_with(media["bad_pt"])
    qtbot.waitUntil(lambda: bool(dialogs["warning"]), timeout=10000)
    assert dialogs["warning"][-1][0] == "Cannot load the model to compare with" and win.comparing == "yolov5n_shapes"

    # A video plays in compare mode.
    win.open_path(media["video"])
    fr = wait_frame(qtbot, win, lambda fr: fr.source.kind == "video" and fr.playing and fr.frame.index > 0,
                    timeout=20000)
    assert fr.compare is not None
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)

    # Stop comparing: the four panels and the ablation view come back. Wait for that state itself (the
    # worker has dropped model B and a frame without a comparison is painted), not for "a frame": a
    # compared frame already on its way may be painted first (issue 25.14).
    win.act_stop_compare.trigger()
    qtbot.waitUntil(lambda: not win.comparing and win.last is not None and win.last.compare is None
                    and win.last.ablation is not None and not win.grid.compare, timeout=30000)
    fr = win.last
    assert fr.ablation is not None and fr.ablation.blocks == {22: "off"}
    assert win.grid.shown_keys() == render.PANELS and win.grid.columns in (2, 4)
    assert all(win.grid.panels[k].isVisible() for k in render.PANELS)
    assert not any(win.grid.panel(k).isVisible() for k in COMPARE_PANELS)
    assert not win.act_stop_compare.isEnabled() and win.summary_label.text().startswith("ablation 22:off")

    # A model without GAM: no block to ablate, the group says so.
    win.load_weights(no_gam_weights)
    qtbot.waitUntil(lambda: win.model_info.name == "yolov5n_shapes" and not win.loading_model, timeout=30000)
    qtbot.waitUntil(lambda: win.last.result is not None and win.last.ablation is None
                    and win.ablation.combos == {}, timeout=30000)
    ab = win.ablation
    assert ab.combos == {} and not ab.enabled.isEnabled() and ab.spec() == {}
    assert ab.note.text() == "this model has no GAM blocks to ablate"

    win.close()
    assert not win.thread.isRunning() and win.worker.model_b is None


def test_compare_dialog_prefers_the_baseline(tmp_path):
    assert mw_mod.compare_start_path(tmp_path / "missing") == Path.home()
    assert mw_mod.compare_start_path(tmp_path) == tmp_path
    (tmp_path / "yolov5n_shapes.pt").write_bytes(b"x")
    assert mw_mod.compare_start_path(tmp_path) == tmp_path / "yolov5n_shapes.pt"
