"""The dataset browser (issue 22): File > Open dataset..., the TP/FP/FN list, ground truth in the
detections panel, explaining a false negative, View > Dataset summary, a 5,000-image dataset.

A 4-image YOLO-layout shapes dataset (128 px) and the shipped model; every wait is on a state.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import QSettings, Qt, QTimer
from PyQt5.QtWidgets import QMessageBox

from gam_gui.datasets import Dataset, Sample, export_shapes
from gam_gui.datasets.core import LabelTable
from gam_gui.inference import Detection, detect
from gam_gui.render_gt import (
    FN_COLOUR,
    FP_COLOUR,
    GroundTruth,
    best_overlap,
    draw_ground_truth,
    ground_truth_at,
    match_detections,
)
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui.dataset_model import COL_ERRORS, COL_FN


@pytest.fixture(scope="module")
def data_yaml(tmp_path_factory) -> Path:
    return export_shapes(tmp_path_factory.mktemp("ds") / "shapes", 4, hard=True, render_size=128)


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("GAM_GUI_WEIGHTS", raising=False)  # the shipped model
    monkeypatch.setattr(mw_mod, "find_sample", lambda: None)
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: QMessageBox.Ok))
    qs = QSettings(str(tmp_path / "gam-gui.ini"), QSettings.IniFormat)
    w = mw_mod.start_window(qsettings=qs)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.model_info is not None, timeout=30000)
    yield w
    w.close()
    assert not w.datasets.thread.isRunning()  # the dataset worker stopped with the window


def open_and_score(qtbot, w, spec) -> object:
    c = w.datasets
    t0 = time.perf_counter()
    c.open_dataset(str(spec))
    assert time.perf_counter() - t0 < 0.5  # the open runs on the dataset thread
    qtbot.waitUntil(lambda: c.dataset is not None and not c.scoring, timeout=60000)
    return c


# -- Qt-free ---------------------------------------------------------------------------------------
def test_match_and_draw_ground_truth():
    gt = GroundTruth("a.png", np.array([[10, 10, 50, 50], [60, 60, 90, 90]], np.float32), np.array([0, 1]),
                     ("circle", "square"))
    dets = [Detection((11, 11, 50, 49), 0.9, 0, "circle"), Detection((50, 60, 70, 80), 0.6, 1, "square")]
    m = match_detections(gt.boxes, gt.classes, dets)
    assert (m.tp, m.fp, m.fn) == (1, 1, 1)
    assert m.det_tp.tolist() == [True, False] and m.gt_found.tolist() == [True, False]
    # the wrong class at the right place is no match
    assert match_detections(gt.boxes[:1], [1], dets[:1]).fn == 1
    img, _ = draw_ground_truth(np.zeros((100, 100, 3), np.uint8), dets, gt, shown_width=400)
    px = img.reshape(-1, 3)
    assert (px == FN_COLOUR).all(1).any() and (px == FP_COLOUR).all(1).any()
    assert ground_truth_at(gt, 70, 70, only=~m.gt_found) == 1
    assert ground_truth_at(gt, 20, 20, only=~m.gt_found) is None
    o = best_overlap(gt.boxes[1], dets)
    assert o is not None and o.index == 1 and 0 < o.iou < 0.5
    assert best_overlap([95, 95, 99, 99], dets) is None


def test_pipeline_draws_ground_truth_and_explains_a_box(data_yaml):
    """The Qt-free pipeline (the window's and the export's): a view's ground truth is drawn in the
    detections panel and the figure, and its ``explain`` box makes the CAM that box's class there."""
    from gam_gui.analysis import Settings
    from gam_gui.checkpoints import load_model
    from gam_gui.datasets import open_dataset
    from gam_gui.pipeline import FramePipeline, ViewState
    from gam_gui.sources import Frame

    model = load_model(None, device="cpu")
    s = open_dataset(data_yaml)[0]
    frame = Frame(s.image, 0, 0.0, Path(s.path).name)
    gt = GroundTruth(s.path, s.boxes, s.classes, ("a", "b", "c", "d", "e"))
    settings = Settings(imgsz=160, conf=0.9)  # a high conf: some objects are missed
    pipe = FramePipeline(model, lenient=True)
    out = pipe.step(frame, ViewState(settings=settings, ground_truth=gt))
    m = match_detections(gt.boxes, gt.classes, out.result.detections)
    assert m.fn > 0
    assert (out.panels()[0].image.reshape(-1, 3) == FN_COLOUR).all(1).any()
    assert (out.figure().reshape(-1, 3) == FN_COLOUR).all(1).any()  # what Save/Export write
    plain = pipe.step(frame, ViewState(settings=settings))
    assert not (plain.panels()[0].image.reshape(-1, 3) == FN_COLOUR).all(1).any()
    j = int(np.flatnonzero(~m.gt_found)[0])
    import dataclasses

    at = pipe.step(frame, ViewState(settings=settings, ground_truth=dataclasses.replace(gt, explain=j)))
    assert at.result.target == f"class {gt.name(int(gt.classes[j]))} @ GT #{j}"
    assert at.result.method_key == "hirescam" and not np.array_equal(at.result.cam, plain.result.cam)
    other = Frame(s.image, 0, 0.0, "another.png")  # the ground truth of another image is not drawn
    assert not (pipe.step(other, ViewState(settings=settings, ground_truth=gt)).panels()[0].image.reshape(-1, 3)
                == FN_COLOUR).all(1).any()


# -- the window --------------------------------------------------------------------------------------
def test_list_counts_sort_filter_select_and_explain_fn(qtbot, win, data_yaml):
    c = open_and_score(qtbot, win, data_yaml)
    ds, model = c.dataset, c.model
    assert model.rowCount() == len(ds) == 4 and model.scored() == 4
    conf, iou, imgsz, _ = c.window_settings()
    for i in range(len(ds)):  # the counts are the COCO matching of what the window's settings detect
        s = ds[i]
        m = match_detections(s.boxes, s.classes, detect(c.worker.model, s.image, conf, iou, imgsz))
        assert model.counts[i].tolist() == [m.tp, m.fp, m.fn]
    c.sort_worst_first()
    errors = [int(model.data(model.index(r, COL_ERRORS))) for r in range(4)]
    assert errors == sorted(errors, reverse=True)
    c.chk_fn.setChecked(True)
    assert model.rowCount() == int((model.counts[:, 2] > 0).sum())
    assert all(int(model.data(model.index(r, COL_FN))) > 0 for r in range(model.rowCount()))
    c.chk_fn.setChecked(False)
    c.class_combo.setCurrentIndex(c.class_combo.findData(2))
    shown = {model.image_of(r) for r in range(model.rowCount())}
    assert shown == {i for i in range(4) if 2 in set(ds[i].classes.tolist()) | model.pred_classes[i]}
    c.class_combo.setCurrentIndex(0)

    # the image with the most false negatives, through the normal pipeline, ground truth drawn
    c.sort_worst_first()
    target = int(np.argmax(model.counts[:, 2]))
    assert model.counts[target, 2] > 0
    c.table.selectRow(model.row_of(target))
    name = Path(ds.paths[target]).name
    qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None and win.last.frame.name == name,
                    timeout=30000)
    det_panel = win.last.panels[0].image.reshape(-1, 3)
    assert (det_panel == FN_COLOUR).all(1).any()  # FNs orange
    if model.counts[target, 1]:
        assert (det_panel == FP_COLOUR).all(1).any()  # FPs red
    assert "FN" in win.statusBar().currentMessage()

    # clicking a false negative: the CAM of its class at its place, and how close the model came
    gt = c.gt
    m = match_detections(gt.boxes, gt.classes, win.last.result.detections)
    j = int(np.flatnonzero(~m.gt_found)[0])
    x1, y1, x2, y2 = gt.boxes[j]
    c.panel_clicked("detections", float(x1 + x2) / 2, float(y1 + y2) / 2)
    assert win.worker.view().ground_truth.explain == j
    qtbot.waitUntil(lambda: win.last.result is not None and "@ GT #" in win.last.result.target,
                    timeout=30000)
    assert win.last.result.target == f"class {gt.name(int(gt.classes[j]))} @ GT #{j}"
    assert win.last.result.cam is not None and win.last.result.cam.max() > 0
    msg = win.statusBar().currentMessage()
    assert msg.startswith("FN ") and ("IoU" in msg or "no detection overlaps" in msg)

    # a new conf in the controls: the list is scored again at it
    from gam_gui.ui.controls import CONF_SCALE

    before = model.counts.copy()
    win.controls.conf.setValue(int(round(0.6 * CONF_SCALE)))
    qtbot.waitUntil(lambda: c.scored_with[0] == pytest.approx(0.6) and not c.scoring and model.scored() == 4,
                    timeout=30000)
    s = ds[target]
    m = match_detections(s.boxes, s.classes, detect(c.worker.model, s.image, 0.6, iou, imgsz))
    assert model.counts[target].tolist() == [m.tp, m.fp, m.fn]
    assert (model.counts[:, :2].sum(1) <= before[:, :2].sum(1)).all()  # fewer detections at a higher conf


class CheapDataset(Dataset):
    """5,000 images that are never decoded from disk: each ``[i]`` makes a 32 x 32 picture."""

    def __init__(self, n: int) -> None:
        paths = [f"/nonexistent/img_{i:05d}.png" for i in range(n)]
        rows = [[[i % 3, 0.5, 0.5, 0.4, 0.4]] for i in range(n)]
        super().__init__(names=["circle", "square", "triangle"], split="val", source="/nonexistent/data.yaml",
                         kind="yolo", paths=paths, image_ids=list(range(n)),
                         labels=LabelTable.build(rows, [0] * n, [[] for _ in range(n)]))
        self.decoded = 0

    def __getitem__(self, i: int) -> Sample:
        self.decoded += 1
        img = np.full((32, 32, 3), 40 * (i % 5), np.uint8)
        return Sample(i, self.paths[i], i, img, np.array([[6, 6, 26, 26]], np.float32), np.array([i % 3]), 32, 32)


def test_5000_images_stay_responsive_and_cancel(qtbot, win, monkeypatch):
    import gam_gui.datasets as datasets_mod

    big = CheapDataset(5000)
    monkeypatch.setattr(datasets_mod, "open_dataset", lambda *a, **k: big)
    c = win.datasets
    t0 = time.perf_counter()
    c.open_dataset("/nonexistent/data.yaml")
    assert time.perf_counter() - t0 < 0.5
    qtbot.waitUntil(lambda: c.dataset is big and c.model.scored() > 20, timeout=30000)
    assert c.model.rowCount() == 5000
    # the event loop keeps ticking while the images are scored
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 40, timeout=10000)
    timer.stop()
    assert max(np.diff(ticks)) < 0.5
    t1 = time.perf_counter()
    c.sort_worst_first()
    c.chk_fp.setChecked(True)
    c.chk_fp.setChecked(False)
    assert time.perf_counter() - t1 < 0.5  # numpy sort and filter over 5,000 rows
    c.btn_cancel.click()
    qtbot.waitUntil(lambda: not c.scoring, timeout=10000)
    done = c.model.scored()
    assert 0 < done < 5000 and big.decoded <= done + 1  # nothing decoded beyond what was scored
    assert "cancelled" in win.statusBar().currentMessage()


def test_summary_runs_the_eval_then_reads_it(qtbot, win, data_yaml, tmp_path, monkeypatch):
    import shutil

    import gam_gui.ablation as ablation_mod

    every = ablation_mod.every_ablation
    monkeypatch.setattr(ablation_mod, "every_ablation", lambda m: every(m)[:2])  # two rows keep the test fast

    ds_dir = tmp_path / "shapes"
    shutil.copytree(data_yaml.parent, ds_dir)
    c = open_and_score(qtbot, win, ds_dir / "data.yaml")
    c.show_summary()
    d = c.summary_dialog
    assert d.per_class.rowCount() == 0 and "No saved eval" in d.source_label.text()
    # Cancel: pressed before the eval's first batch is done, nothing is written
    cancelled: list[bool] = []
    c.worker.eval_cancelled.connect(lambda: cancelled.append(True))
    c.worker.eval_batch = 1  # four batches: the cancel after the first is seen before the second
    c.worker.eval_progress.connect(lambda *_: c.worker.eval_cancel.set(), Qt.DirectConnection)
    c.run_eval(tmp_path / "cancelled")
    assert d.btn_cancel.isEnabled()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=30000)
    c.worker.eval_progress.disconnect()
    c.worker.eval_progress.connect(c.on_eval_progress)
    assert not (tmp_path / "cancelled" / "metrics.json").exists() and not d.btn_cancel.isEnabled()
    c.run_eval()
    qtbot.waitUntil(lambda: not d.btn_cancel.isEnabled(), timeout=60000)
    assert (ds_dir / "gam-gui-eval" / "metrics.json").is_file()
    assert d.per_class.rowCount() == len(c.dataset.names)
    assert d.ablation.rowCount() == 2 and d.ablation.item(0, 2).text()[0] in "+-"
    d.close()
    c.summary_dialog = None
    c.show_summary()  # a saved eval is found next to the data
    assert c.summary_dialog.per_class.rowCount() == len(c.dataset.names)
    assert "metrics.json" in c.summary_dialog.source_label.text()
    c.summary_dialog.close()


def test_start_window_with_data_and_the_menus(qtbot, tmp_path, monkeypatch, data_yaml):
    """``start_window(data=...)`` (the window command's dataset) opens it in the dock; the menus have
    the dataset's actions."""
    monkeypatch.delenv("GAM_GUI_WEIGHTS", raising=False)
    monkeypatch.setattr(mw_mod, "find_sample", lambda: None)
    w = mw_mod.start_window(qsettings=QSettings(str(tmp_path / "q.ini"), QSettings.IniFormat), data=str(data_yaml))
    qtbot.addWidget(w)
    try:
        c = w.datasets
        qtbot.waitUntil(lambda: c.dataset is not None and c.model.rowCount() == 4, timeout=30000)
        assert c.dock.isVisible()
        assert "Open &dataset..." in [a.text() for a in w.menus["file"].actions()]
        assert "Dataset &summary" in [a.text() for a in w.menus["view"].actions()]
        assert c.dock.toggleViewAction() in w.menus["view"].actions()
    finally:
        w.close()
    assert not w.datasets.thread.isRunning()
