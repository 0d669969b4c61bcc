"""The window's reading aids: Help > How to read the panels, tooltips on every panel caption, the
channel chart's labels, and the channel drill-down (click a bar: that channel before and after the
block in the GAM channel panel, until the bar is clicked again). Tiny untrained model, 160x120 frame."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QPoint, QSettings, Qt

from gam_gui import render
from gam_gui.data.shapes import render_sample
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui.convert import qimage_to_bgr
from gam_gui.ui.help import HelpDialog
from gam_gui.ui.main_window import start_window


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import torch

    from gam_gui.checkpoints import save_model
    from gam_gui.models.yolov5 import DetectionModel

    root = tmp_path_factory.mktemp("help")
    torch.manual_seed(0)
    weights = save_model(DetectionModel("yolov5n_GAM", nc=5), root / "tiny.pt", imgsz=160)
    img = root / "one.jpg"
    cv2.imwrite(str(img), render_sample(3, (120, 160)).image)
    return weights, img


@pytest.fixture
def win(qtbot, tmp_path, files, monkeypatch):
    weights, img = files
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "qs"))
    qs = QSettings(str(tmp_path / "gam-gui.ini"), QSettings.IniFormat)
    qs.setValue("controls/conf", 0.001)
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(weights))
    monkeypatch.setattr(mw_mod, "find_sample", lambda: img)
    w = start_window(qsettings=qs, threads=1)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.last is not None and w.last.result is not None, timeout=30000)
    yield w
    w.close()


def test_help_menu_opens_the_reading_guide(qtbot, win):
    assert win.act_help_panels in win.menus["help"].actions()
    win.act_help_panels.trigger()
    dlg = win.help_dialog
    assert isinstance(dlg, HelpDialog)
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    text = dlg.browser.toPlainText()
    for needle in ("GAM spatial", "HiResCAM", "Grad-CAM", "seed", "paper", "log2"):
        assert needle in text, needle
    assert "README.md#how-to-read-the-panels" in dlg.browser.toHtml()
    win.act_help_panels.trigger()  # a second time: the same page, not a second one
    assert win.help_dialog is dlg


def test_every_panel_caption_has_a_tooltip(win):
    for key in render.PANELS:
        panel = win.grid.panels[key]
        assert panel.help, key
        assert panel.help in panel.caption_tooltip()
    assert "log2" not in win.grid.panels["gam_spatial"].help  # the gates view: the spatial gate's line
    chart = win.chart
    assert "orange" in chart.legend() and "channel" in chart.axis_label()
    assert "signed" in chart.axis_label()  # the seed variant's channel gate has no sigmoid


def test_clicking_a_bar_shows_that_channel_until_clicked_again(qtbot, win):
    chart = win.chart
    chart.resize(640, 140)
    normal = qimage_to_bgr(win.grid.panels["gam_channel"].image)
    k = 5
    pos = chart.bar_center(k).toPoint()
    assert chart.bar_at(pos.x()) == k
    assert str(k) in chart.bar_tooltip(k) and f"{float(chart.weights[k]):.4f}" in chart.bar_tooltip(k)
    qtbot.mouseClick(chart, Qt.LeftButton, pos=pos)
    panel = win.grid.panels["gam_channel"]
    assert win.drill_channel == k and chart.selected == k
    assert panel.title == render.TITLE_DRILL and f"channel {k}:" in panel.subtitle
    g = win.last.result.gam_for(win.last.settings.gam_layer)
    expect = render.channel_drill_panel(win.last.frame.image, g, k, win.shown_width)
    assert np.array_equal(qimage_to_bgr(panel.image), expect.image)
    other = render.channel_drill_panel(win.last.frame.image, g, k + 1, win.shown_width)
    assert not np.array_equal(expect.image, other.image)  # the picture depends on the channel
    # the next frame keeps the drill-down
    win.reanalyse()
    start = win.frames_painted
    qtbot.waitUntil(lambda: win.frames_painted > start, timeout=20000)
    assert win.grid.panels["gam_channel"].title == render.TITLE_DRILL
    # clicking the same bar again clears it (where it is now: the layout may have resized the chart)
    qtbot.mouseClick(chart, Qt.LeftButton, pos=chart.bar_center(k).toPoint())
    assert win.drill_channel is None and chart.selected is None
    assert win.grid.panels["gam_channel"].title != render.TITLE_DRILL
    assert np.array_equal(qimage_to_bgr(win.grid.panels["gam_channel"].image), normal)
    assert chart.bar_at(QPoint(0, 0).x()) is None


def test_help_explains_ablation_compare_and_faithfulness(qtbot, win):
    """Issue 25.12: a section for each, with what to click and how to read it."""
    win.act_help_panels.trigger()
    text = win.help_dialog.browser.toPlainText()
    for needle in ("Ablation", "Compare with ablation", "kept", "lost", "Maps of",  # ablation
                   "Compare with...", "Stop comparing", "CAM A - CAM B",  # compare
                   "Faithfulness", "Measure", "deletion AUC", "insertion AUC", "Sanity check"):  # faithfulness
        assert needle in text, needle


def test_drill_down_fills_its_panel_without_an_empty_canvas(win):
    """Issue 25.9: before | after side by side, each half the frame's width; the picture is cropped to
    them (it used to be the frame's size with both maps at half size in the middle)."""
    fr = win.last
    g = fr.result.gam_for(fr.settings.gam_layer)
    h, w = fr.frame.image.shape[:2]
    p = render.channel_drill_panel(fr.frame.image, g, 3, w)
    bar = render.color_bar_height((h, w), w)
    maps_h = p.image.shape[0] - bar
    assert p.image.shape[1] == w and maps_h < 0.75 * h  # no empty band above and below the maps
    tile = p.image[maps_h - 2, : w // 2 - 2]
    assert (np.abs(tile.astype(int) - 40).max(axis=1) > 3).mean() > 0.9  # the bottom row of the maps is picture
