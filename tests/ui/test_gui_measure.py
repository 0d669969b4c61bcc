"""The window follows a clicked object through a video and reports its loss; the Faithfulness dock
measures the current target (pytest-qt, offscreen, the shipped model at 160 px on generated frames)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from moving_scene import ALONE, BOTH, FPS, a_centre, frame, frames, is_a
from PyQt5.QtCore import QSettings, Qt

from gam_gui.checkpoints import default_weights_path
from gam_gui.sources import GeneratorSource
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui.main_window import MainWindow, start_window


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "qsettings"))
    qs = QSettings(str(tmp_path / "gam-gui.ini"), QSettings.IniFormat)
    qs.setValue("controls/imgsz", 160)
    qs.setValue("controls/conf", 0.25)
    qs.setValue("controls/method", "hirescam")
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(default_weights_path()))
    monkeypatch.setattr(mw_mod, "find_sample", lambda: None)
    made: list[MainWindow] = []

    def make(images, fps: float = FPS) -> MainWindow:
        win = start_window(qsettings=qs, threads=1)
        qtbot.addWidget(win)
        made.append(win)
        win.resize(1400, 800)
        qtbot.waitUntil(lambda: win.model_info is not None, timeout=30000)
        win.worker.autoplay = False  # click on the first frame, then play
        win.open_source(GeneratorSource(iter(images), label="moving", live=False, fps=fps))
        qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None, timeout=30000)
        return win

    yield make
    for win in made:
        win.close()


def test_a_clicked_object_is_followed_through_a_video_and_its_loss_reported(qtbot, window):
    extra = [frame(ALONE + BOTH)] * 8  # more frames without A: the loss is seen even if frames are dropped
    win = window(frames() + extra)
    dets = win.last.result.detections
    assert len(dets) == 1 and is_a(dets[0].xyxy, 0)
    panel = win.grid.panels["detections"]
    qtbot.waitUntil(lambda: not panel.image.isNull(), timeout=5000)
    qtbot.mouseClick(panel, Qt.LeftButton, pos=panel.frame_to_widget(*a_centre(0)).toPoint())
    qtbot.waitUntil(lambda: win.last.settings.target == 0 and win.last.result.target == "detection #0",
                    timeout=20000)
    emitted, messages = [], []
    win.worker.frame_ready.connect(emitted.append, Qt.DirectConnection)
    win.statusBar().messageChanged.connect(messages.append)
    win.play()
    lost = lambda: [fr for fr in emitted if fr.result.note == "the followed object was lost"]  # noqa: E731
    qtbot.waitUntil(lambda: win.controls.target.currentData() == "all" and bool(lost()), timeout=90000)
    assert any("out of view" in m for m in messages), messages
    both = [fr for fr in emitted if ALONE <= fr.frame.index < ALONE + BOTH]
    assert both, "no frame with both circles was analysed"
    for fr in emitted:
        i = fr.frame.index
        if i < ALONE + BOTH:  # A is in view: the CAM explains A, whatever its index
            k = fr.highlight
            assert k is not None and is_a(fr.result.detections[k].xyxy, i), (i, fr.result.detections, k)
            assert fr.result.target == f"detection #{k}" and fr.settings.target == k
    # with the stronger B in view, A is detection 1: the index the user clicked (0) would name B
    assert all(fr.highlight == 1 for fr in both)
    after = [fr for fr in emitted if fr.frame.index >= ALONE + BOTH]
    assert after and all(fr.highlight is None for fr in after)
    assert lost()[0].frame.timestamp - (ALONE + BOTH - 1) / FPS > 1.0  # lost only after a second without A


def test_measure_shows_the_numbers_and_curves_of_the_target(qtbot, window):
    win = window([frame(ALONE)], fps=0)
    dock = win.measure_dock
    assert dock.isHidden()
    dock.show()
    dets = win.last.result.detections
    assert len(dets) == 2
    dock.steps.setValue(8)  # two reference maps, 8 points a curve
    assert dock.tie_orders.value() == 1  # the window's default (eval --faithfulness keeps 4)
    dock.tie_orders.setValue(3)
    progress: list[tuple[int, int]] = []
    win.worker.measure_progress.connect(lambda d, t: progress.append((d, t)))
    qtbot.mouseClick(dock.button, Qt.LeftButton)
    assert dock.progress.isVisible() and dock.cancel.isEnabled() and not dock.button.isEnabled()
    qtbot.waitUntil(lambda: dock.last is not None, timeout=60000)
    m = dock.last
    assert m.score.tie_orders == 3  # HiResCAM's zeros are tied: the spin box's orders were averaged
    assert progress and progress[-1][0] == progress[-1][1] > 0  # per batch, ending at the total
    assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:], strict=False))
    assert dock.progress.isHidden() and not dock.cancel.isEnabled()
    assert m.index == 0 and m.score.detection == dets[0]  # target "all": the strongest detection
    assert m.method == "HiResCAM" and len(m.score.deletion) == m.score.steps + 1 == 9
    text = dock.numbers.text()
    assert f"deletion AUC {m.score.deletion_auc:.3f}" in text and f"insertion AUC {m.score.insertion_auc:.3f}" in text
    assert f"energy in box {m.score.energy_in_box:.1%}" in text
    assert m.score.insertion_auc > m.score.deletion_auc  # HiResCAM on a plain circle: a faithful map
    assert dock.plot.fractions is not None and len(dock.plot.curves) == 2
    # the random and box maps' curves, faint behind the map's, and their AUCs in the numbers
    assert set(m.score.references) == {"random", "box"} and len(dock.plot.faint) == 4
    box = m.score.references["box"]
    assert f"box map: deletion AUC {box.deletion_auc:.3f}" in text and "tied pixels" in text
    assert all(f in text for f in m.score.flags)
    assert dock.button.isEnabled()
    # the clicked object is measured next
    panel = win.grid.panels["detections"]
    d1 = dets[1]
    qtbot.mouseClick(panel, Qt.LeftButton,
                     pos=panel.frame_to_widget((d1.xyxy[0] + d1.xyxy[2]) / 2, (d1.xyxy[1] + d1.xyxy[3]) / 2).toPoint())
    qtbot.waitUntil(lambda: win.last.settings.target == 1, timeout=20000)
    dock.steps.setValue(4)
    qtbot.mouseClick(dock.button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.last is not m, timeout=60000)
    assert dock.last.index == 1 and dock.last.score.detection == d1 and dock.last.score.steps == 4


def test_sanity_check_button_reports_the_rank_correlation_on_the_worker_thread(qtbot, window):
    win = window([frame(ALONE)], fps=0)
    dock = win.measure_dock
    dock.show()
    weights = {k: v.clone() for k, v in win.worker.model.state_dict().items()}
    qtbot.mouseClick(dock.sanity_button, Qt.LeftButton)
    assert not dock.sanity_button.isEnabled()  # running
    qtbot.waitUntil(lambda: dock.last_sanity is not None, timeout=60000)
    r = dock.last_sanity["hirescam"]
    assert r["detections"] == len(win.last.result.detections) == 2
    assert -1 <= r["rank_corr"] <= 1 and r["ci95"][0] <= r["rank_corr"] <= r["ci95"][1]
    assert len(r["cascade"]) >= 2 and r["cascade"][0]["randomized"] == "head"
    assert f"{r['rank_corr']:.2f}" in dock.sanity_text.text() and dock.sanity_button.isEnabled()
    assert all(v.equal(weights[k]) for k, v in win.worker.model.state_dict().items())  # a copy was randomised


def test_cancel_stops_a_measurement_and_the_next_one_runs(qtbot, window):
    win = window([frame(ALONE)], fps=0)
    dock = win.measure_dock
    dock.show()
    dock.steps.setValue(16)
    dock.tie_orders.setValue(8)  # long enough to be cancelled after its first batch
    started: list[int] = []
    win.worker.measure_progress.connect(lambda d, t: started.append(d))
    qtbot.mouseClick(dock.button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(started), timeout=60000)
    assert "frames" in dock.progress.format()
    qtbot.mouseClick(dock.cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.button.isEnabled(), timeout=60000)
    assert dock.last is None and dock.numbers.text() == "measurement cancelled"
    assert dock.progress.isHidden()
    dock.steps.setValue(4)
    dock.tie_orders.setValue(1)
    qtbot.mouseClick(dock.button, Qt.LeftButton)  # a fresh request: the old cancel does not reach it
    qtbot.waitUntil(lambda: dock.last is not None, timeout=60000)
    assert dock.last.score.steps == 4 and dock.last.score.tie_orders == 1
