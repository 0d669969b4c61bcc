"""The window on a checkpoint from the ``ultralytics`` package trainer (YOLOv8n-GAM, mid-training
stand-in, the blogs' grouped GAM_Attention): it loads without the package, marks the GAM blocks, says
which GAM forward was inferred and why, and shows a CAM and the GAM maps."""

from __future__ import annotations

import pytest
import standins_v8 as sv8
from PyQt5.QtCore import QSettings
from test_yolov8 import tiny

from gam_gui.models.yolov5 import DetectionModel
from gam_gui.ui.main_window import start_window


@pytest.fixture
def package_checkpoint(tmp_path):
    m = DetectionModel(tiny("yolov8n-GAM"))
    sv8.seed_weights(m, seed=7)
    path = tmp_path / "last.pt"
    sv8.write_package_checkpoint(m.eval(), path)
    return path


def test_window_explains_a_yolo11_gam_package_checkpoint(qtbot, tmp_path, package_checkpoint, frame):
    import cv2

    img = tmp_path / "frame.png"
    cv2.imwrite(str(img), frame)
    win = start_window(path=str(img), weights=str(package_checkpoint), threads=1,
                       qsettings=QSettings(str(tmp_path / "qs.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None, timeout=30000)
        res = win.last.result
        gam_rows = [win.controls.layers.item(i).text() for i in range(win.controls.layers.count())
                    if "GAM" in win.controls.layers.item(i).text()]
        assert len(gam_rows) == 3  # the three GAM blocks of yolov8n-GAM
        assert "GAM forward" not in win.controls.gam_label.toolTip()  # the loader's own words, not the CLI's
        assert "seed" in win.controls.gam_label.toolTip()  # grouped spatial convs: the seed's forward
        assert res.cam is not None and res.cam.shape == frame.shape[:2]
        assert [g.index for g in res.gam] == [16, 20, 24]
        assert res.read_gam(16).spatial.shape == frame.shape[:2]
    finally:
        win.close()
    assert not win.thread.isRunning()
