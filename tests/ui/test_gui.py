"""The window, driven like a user would (pytest-qt, offscreen): panels, sources, controls, worker
latency, clicking boxes, export, persistence and clean shutdown.

Every test uses a tiny untrained YOLOv5n-GAM (seeded) and 160x120 frames at imgsz 160, so the file
stays fast on two CPU cores. Dialogs are monkeypatched: a modal box would block the test.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QPoint, QSettings, Qt
from PyQt5.QtWidgets import QMessageBox, QToolTip

from gam_gui import pipeline as pipeline_mod
from gam_gui import render
from gam_gui.data.shapes import render_sample
from gam_gui.sources import GeneratorSource
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui import threads as threads_mod
from gam_gui.ui import worker as worker_mod
from gam_gui.ui.convert import bgr_to_qimage, qimage_to_bgr
from gam_gui.ui.main_window import EMPTY_HINT, NO_MODEL_HINT, MainWindow, find_sample, start_window
from gam_gui.ui.panels import detection_at

FRAME_HW = (120, 160)
LOW_CONF = 0.001  # an untrained model's scores are tiny


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    import torch

    from gam_gui.checkpoints import save_model
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    m = DetectionModel("yolov5n_GAM", nc=5)
    return save_model(m, tmp_path_factory.mktemp("weights") / "tiny_gam.pt", imgsz=160)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    img = root / "one.jpg"
    cv2.imwrite(str(img), render_sample(3, FRAME_HW).image)
    folder = root / "folder"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"img_{i}.png"), render_sample(10 + i, FRAME_HW).image)
    (folder / "img_9_broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    video = root / "clip.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 20.0, (FRAME_HW[1], FRAME_HW[0]))
    assert w.isOpened()
    for i in range(40):
        w.write(render_sample(100 + i % 5, FRAME_HW).image)
    w.release()
    bad = root / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    bad_pt = root / "bad.pt"
    bad_pt.write_bytes(b"PK\x03\x04 truncated")
    return {"image": img, "folder": folder, "video": video, "bad": bad, "bad_pt": bad_pt, "root": root}


@pytest.fixture
def qs(tmp_path) -> QSettings:
    """A throwaway settings file: tests never touch the user's gam-gui settings."""
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "qsettings"))
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "qsettings"))
    s = QSettings(str(tmp_path / "gam-gui.ini"), QSettings.IniFormat)
    s.setValue("controls/conf", LOW_CONF)
    return s


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Record message boxes instead of blocking on them; ``answers`` feeds QMessageBox.question."""
    calls: dict[str, list] = {"warning": [], "information": [], "question": [], "answers": []}

    def warning(parent, title, text, *a, **k):
        calls["warning"].append((title, text))
        return QMessageBox.Ok

    def information(parent, title, text, *a, **k):
        calls["information"].append((title, text))
        return QMessageBox.Ok

    def question(parent, title, text, *a, **k):
        calls["question"].append((title, text))
        return calls["answers"].pop(0) if calls["answers"] else QMessageBox.No

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(information))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return calls


@pytest.fixture(autouse=True)
def threads(monkeypatch):
    """Each window sets the process's torch/OpenCV thread counts: give them back after the test, and
    start from no thread settings in the environment."""
    import torch

    monkeypatch.delenv(worker_mod.THREADS_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    saved = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(saved[0])
    cv2.setNumThreads(saved[1])


@pytest.fixture
def env(monkeypatch, model_path):
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(model_path))


def _real_threads() -> list[threading.Thread]:
    # Python 3.11 keeps a _DummyThread for every foreign (Qt) thread that ever ran Python code; those
    # are bookkeeping, not running threads.
    return [t for t in threading.enumerate() if not isinstance(t, threading._DummyThread) and t.is_alive()]


BAD_QT_MESSAGES = ("QThread: Destroyed", "Timers cannot", "QObject::", "Cannot create children", "QBasicTimer")


@pytest.fixture
def open_window(qtbot, qs, env, media, monkeypatch, qtlog):
    """start_window(...) that closes itself after the test; waits for the first painted frame.

    Also checks that no analysis ever ran on the GUI thread."""
    monkeypatch.setattr(mw_mod, "find_sample", lambda: media["image"])
    made: list[MainWindow] = []
    on_gui_thread: list[bool] = []
    real = pipeline_mod.analyze_with

    def checked(model, image, settings):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(model, image, settings)

    monkeypatch.setattr(pipeline_mod, "analyze_with", checked)

    def make(wait: bool = True, **kw) -> MainWindow:
        win = start_window(qsettings=kw.pop("qsettings", qs), **kw)
        qtbot.addWidget(win)
        made.append(win)
        if wait:
            qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None, timeout=20000)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.thread.isRunning()
    assert on_gui_thread and not any(on_gui_thread), "analysis ran on the GUI thread"
    bad = [r.message for r in qtlog.records if any(b in r.message for b in BAD_QT_MESSAGES)]
    assert not bad, bad  # no cross-thread timer or object misuse, no thread destroyed while running


def wait_frame(qtbot, win: MainWindow, pred=lambda fr: True, timeout: int = 10000):
    """Wait for a painted frame, after the current one, that satisfies ``pred``."""
    start = win.frames_painted
    qtbot.waitUntil(lambda: win.frames_painted > start and win.last is not None and pred(win.last),
                    timeout=timeout)
    return win.last


def panel_pixels(win: MainWindow, key: str) -> np.ndarray:
    return qimage_to_bgr(win.grid.panels[key].image)


# -- tests -------------------------------------------------------------------------------------------
def test_window_opens_with_default_model_and_sample_analysed(open_window, model_path):
    win = open_window()
    fr = win.last
    assert fr.frame.name == "one.jpg"
    assert win.model_info.path == str(model_path)
    assert win.model_info.gam_layers == (18, 22, 26)
    assert win.controls.imgsz.value() == 160  # from the checkpoint's metadata
    for key, panel in win.grid.panels.items():
        assert not panel.image.isNull(), key
        assert panel.image.width() == FRAME_HW[1] and panel.frame_size == (FRAME_HW[1], FRAME_HW[0])
        # a heatmap's colour bar is below the frame, not over it: the panel maps clicks to the frame only
        assert panel.image.height() == FRAME_HW[0] + (0 if key == "detections" else
                                                      render.color_bar_height(FRAME_HW, win.worker._shown_width))
        assert panel.image_rect().height() < panel.picture_rect().height() or key == "detections"
    titles = {k: p.title for k, p in win.grid.panels.items()}
    assert titles == {"detections": "Detections", "cam": "Grad-CAM", "gam_channel": "GAM channel",
                      "gam_spatial": "GAM spatial"}
    assert win.panel_actions["cam"].text() == "Grad-CAM panel"  # the View menu names the method shown
    assert "objects" in win.grid.panels["detections"].subtitle
    assert "target: all detections" in win.grid.panels["cam"].subtitle
    assert win.chart.weights is not None and len(win.chart.weights) == 64  # GAM block 18 has 64 channels
    assert "cpu" in win.device_label.text() and "tiny_gam" in win.model_label.text()
    assert "total" in win.timings_label.text()
    assert win.controls.layers.count() == 27 and "[GAM]" in win.controls.layers.item(18).text()
    # Box labels of the next frames are sized for the panel as shown.
    assert win.worker._shown_width == win.shown_panel_width() > 0
    # The menus show the shortcuts of the common actions.
    assert win.act_open.shortcut().toString() == "Ctrl+O"
    assert win.act_play.shortcut().toString() == "Space"
    assert [s.toString() for s in win.act_step.shortcuts()] == ["Right", "."]
    assert win.act_save.shortcut().toString() == "Ctrl+S"
    assert "Ctrl+Q" in [s.toString() for s in win.act_quit.shortcuts()]


def test_analysis_threads_leave_a_core_to_the_gui(monkeypatch, caplog):
    import torch

    for cpus, want in ((1, 1), (2, 1), (8, 7)):
        monkeypatch.setattr(threads_mod, "usable_cpus", lambda cpus=cpus: cpus)
        assert worker_mod.configure_analysis_threads() == want
        assert torch.get_num_threads() == want and cv2.getNumThreads() == want
    assert worker_mod.configure_analysis_threads(3) == 3 and torch.get_num_threads() == 3
    monkeypatch.setenv(worker_mod.THREADS_ENV, "2")
    assert worker_mod.configure_analysis_threads() == 2 and torch.get_num_threads() == 2
    assert worker_mod.configure_analysis_threads(1) == 1  # the command line wins over the environment
    monkeypatch.setenv(worker_mod.THREADS_ENV, "lots")
    assert worker_mod.configure_analysis_threads() == 7  # a bad value is reported, the default used
    assert "not a number" in caplog.text
    monkeypatch.delenv(worker_mod.THREADS_ENV)
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's OpenMP setting is left alone
    assert worker_mod.configure_analysis_threads() == 2 and torch.get_num_threads() == 2


def test_window_runs_the_analysis_with_a_core_fewer(open_window):
    import torch

    open_window()
    assert torch.get_num_threads() == max(1, worker_mod.usable_cpus() - 1)


def test_empty_state_without_sample_or_model(qtbot, qs, monkeypatch, tmp_path, dialogs):
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(tmp_path / "not_trained_yet.pt"))
    monkeypatch.setattr(mw_mod, "find_sample", lambda: None)
    win = start_window(qsettings=qs)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.loading_model, timeout=10000)
    texts = {p.placeholder for p in win.grid.panels.values()}
    assert texts == {NO_MODEL_HINT} or texts == {EMPTY_HINT}
    assert win.grid.panels["detections"].placeholder == NO_MODEL_HINT
    assert dialogs["warning"] == []  # a missing default model is a hint at startup, not an error box
    assert any("not_trained_yet.pt" in e for e in win.errors)
    win.close()
    assert not win.thread.isRunning()


def test_find_sample(tmp_path):
    assert find_sample(tmp_path) is None
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "sample.mp4").write_bytes(b"x")
    assert find_sample(tmp_path) == tmp_path / "resources" / "sample.mp4"
    (tmp_path / "resources" / "samples").mkdir()
    for n in ("b.jpg", "a.jpg"):
        (tmp_path / "resources" / "samples" / n).write_bytes(b"x")
    assert find_sample(tmp_path).name == "a.jpg"


def test_open_image_folder_and_video(qtbot, open_window, media):
    win = open_window()
    win.open_path(media["folder"])
    fr = wait_frame(qtbot, win, lambda fr: fr.frame.name == "img_0.png")
    assert fr.source.kind == "folder" and fr.source.count == 4
    assert win.frame_label.text().startswith("image 1 / 4")
    # a repaint of the current frame (the panel width settling) may come first: wait for the step's frame
    win.step(1)
    wait_frame(qtbot, win, lambda fr: fr.frame.name == "img_1.png")
    assert win.frame_label.text().startswith("image 2 / 4")
    win.step(-1)
    wait_frame(qtbot, win, lambda fr: fr.frame.name == "img_0.png")

    win.open_path(media["video"])
    fr = wait_frame(qtbot, win, lambda fr: fr.source.kind == "video")
    assert fr.frame.index == 0 and fr.source.count == 40 and fr.source.fps == pytest.approx(20, abs=0.5)
    assert win.seek_slider.isEnabled() and win.seek_slider.maximum() == 39
    qtbot.waitUntil(lambda: win.playing, timeout=5000)  # a video plays when opened, as in players
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    win.seek(25)
    assert wait_frame(qtbot, win, lambda fr: fr.frame.index == 25).result is not None

    win.open_path(media["image"])
    fr = wait_frame(qtbot, win, lambda fr: fr.source.kind == "image")
    assert fr.frame.name == "one.jpg" and not win.act_play.isEnabled()
    assert win.recent_files()[:3] == [str(media["image"]), str(media["video"]), str(media["folder"])]
    assert win.qsettings.value("paths/last_folder") == str(media["image"].parent)


def test_confidence_slider_changes_detections_shown(qtbot, open_window):
    win = open_window()
    low = len(win.last.result.detections)
    assert low > 0
    win.controls.conf.setValue(600)  # 0.6: an untrained model has nothing that confident
    fr = wait_frame(qtbot, win, lambda fr: fr.settings.conf == pytest.approx(0.6))
    assert len(fr.result.detections) < low
    assert win.controls.conf_label.text() == "0.600"
    assert win.grid.panels["detections"].subtitle.startswith(f"{len(fr.result.detections)} object")
    win.controls.set_conf(LOW_CONF)
    assert len(wait_frame(qtbot, win, lambda fr: fr.settings.conf == LOW_CONF).result.detections) == low


def test_cam_method_and_layer_change_the_cam_panel(qtbot, open_window):
    win = open_window()
    before = panel_pixels(win, "cam")
    c = win.controls
    c.method.setCurrentIndex(c.method.findData("eigencam"))
    wait_frame(qtbot, win, lambda fr: fr.result.method == "EigenCAM")
    eigen = panel_pixels(win, "cam")
    assert win.grid.panels["cam"].title == "EigenCAM"
    assert np.abs(eigen.astype(int) - before.astype(int)).mean() > 1.0

    c.layers.item(17).setSelected(True)  # a C3 layer instead of the GAM blocks
    wait_frame(qtbot, win, lambda fr: fr.result.layers == (17,))
    assert "L17" in win.grid.panels["cam"].subtitle
    assert np.abs(panel_pixels(win, "cam").astype(int) - eigen.astype(int)).mean() > 1.0
    c.layers_default.click()
    assert wait_frame(qtbot, win, lambda fr: fr.result.layers == (18, 22, 26)).settings.layers is None

    # Display-only settings re-render without a new analysis.
    n = win.worker.analyzed
    c.colormap.setCurrentIndex(c.colormap.findData("inferno"))
    wait_frame(qtbot, win, lambda fr: fr.settings.colormap == "inferno")
    assert win.worker.analyzed == n

    c.method.setCurrentIndex(c.method.findData("none"))
    wait_frame(qtbot, win, lambda fr: fr.result.cam is None)
    assert win.grid.panels["cam"].subtitle == "off"


def test_video_plays_pauses_steps_and_stops(qtbot, open_window, media):
    win = open_window()
    win.act_loop.setChecked(True)  # a slow machine may reach the end before 6 frames are painted
    win.open_path(media["video"])
    wait_frame(qtbot, win, lambda fr: fr.source.kind == "video")
    start = win.frames_painted
    # It starts playing by itself.
    qtbot.waitUntil(lambda: win.playing and win.frames_painted >= start + 6, timeout=15000)
    assert win.last.frame.index >= 5
    assert win.act_play.iconText() == "Pause"
    win.act_play.trigger()  # the Space action pauses ...
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    win.act_play.trigger()  # ... and plays again
    qtbot.waitUntil(lambda: win.playing, timeout=5000)
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    qtbot.wait(200)
    idx = win.last.frame.index
    painted = win.frames_painted
    qtbot.wait(300)
    assert win.frames_painted == painted  # paused means paused
    win.act_step.trigger()
    assert wait_frame(qtbot, win).frame.index == idx + 1
    win.act_back.trigger()
    assert wait_frame(qtbot, win).frame.index == idx
    win.act_stop.trigger()
    fr = wait_frame(qtbot, win, lambda fr: fr.frame.index == 0)
    assert not fr.playing and not win.playing
    # Played to the end without loop: playback stops by itself (the last frames may be dropped
    # when the analysis is slower than 20 fps).
    win.act_loop.setChecked(False)
    win.seek(30)
    wait_frame(qtbot, win, lambda fr: fr.frame.index == 30)
    win.play()
    qtbot.waitUntil(lambda: win.playing, timeout=5000)
    qtbot.waitUntil(lambda: not win.playing, timeout=10000)
    assert win.last.frame.index > 30


def test_live_source_drops_frames_instead_of_queueing(qtbot, open_window, monkeypatch):
    """A camera stand-in at 100 fps with a 0.25 s analysis: latest-frame-wins, bounded lag."""
    real = pipeline_mod.analyze_with

    def slow(model, image, settings):
        time.sleep(0.25)
        return real(model, image, settings)

    win = open_window()
    monkeypatch.setattr(pipeline_mod, "analyze_with", slow)
    frame = render_sample(5, FRAME_HW).image

    def camera():
        while True:
            yield frame

    src = GeneratorSource(camera, label="fake camera", live=True, fps=100)
    shown: list = []
    win.frame_painted.connect(lambda fr: shown.append(fr) if fr.source and fr.source.live else None)
    win.open_source(src)
    qtbot.waitUntil(lambda: len(shown) >= 8, timeout=20000)
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    idx = [fr.frame.index for fr in shown]
    produced = shown[-1].produced
    analysed = shown[-1].analyzed
    assert idx == sorted(idx)
    assert max(np.diff(idx)) > 5, idx  # frames were skipped, not queued
    assert analysed <= len(shown) + 1 and analysed * 4 < produced, (analysed, produced)
    lags = [fr.latest_index - fr.frame.index for fr in shown]
    # One analysis (0.25 s at 100 fps = 25 frames) plus scheduling slack; a queue would grow every frame.
    assert max(lags[2:]) < 80, lags
    assert shown[-1].dropped > 0 and "dropped" in win.frame_label.text()
    win.stop()  # live: releases the camera
    qtbot.waitUntil(lambda: src.closed and win.source_info is None, timeout=10000)
    assert not any(t.name.startswith("gam-gui grabber") for t in _real_threads())


def test_cam_every_n_frames_reuses_the_cam_on_live_video(qtbot, open_window):
    win = open_window()
    win.controls.cam_every.setValue(3)
    frame = render_sample(6, FRAME_HW).image
    src = GeneratorSource(lambda: iter([frame] * 100000), label="cam", live=True, fps=30)
    shown: list = []
    win.frame_painted.connect(lambda fr: shown.append(fr) if fr.source and fr.source.live else None)
    win.open_source(src)
    qtbot.waitUntil(lambda: len(shown) >= 6, timeout=20000)
    # A setting changed while running applies to the next frames without any explicit refresh.
    win.controls.colormap.setCurrentIndex(win.controls.colormap.findData("magma"))
    qtbot.waitUntil(lambda: shown[-1].settings.colormap == "magma", timeout=10000)
    win.close_source()
    qtbot.waitUntil(lambda: src.closed, timeout=10000)
    notes = [fr.result.note for fr in shown]
    assert any("CAM every 3 frames" in n for n in notes)
    assert all(fr.result.cam is not None for fr in shown)


def test_clicking_a_box_retargets_the_cam_and_hover_shows_it(qtbot, open_window):
    win = open_window()
    win.resize(1400, 800)
    qtbot.wait(50)
    panel = win.grid.panels["detections"]
    dets = win.last.result.detections
    assert dets
    # A detection whose centre picks itself (the smallest box containing the point).
    k, centre = next((k, ((d.xyxy[0] + d.xyxy[2]) / 2, (d.xyxy[1] + d.xyxy[3]) / 2)) for k, d in enumerate(dets)
                     if detection_at(dets, ((d.xyxy[0] + d.xyxy[2]) / 2, (d.xyxy[1] + d.xyxy[3]) / 2)) == k)
    pos = panel.frame_to_widget(*centre).toPoint()
    fx, fy = panel.widget_to_frame(pos)
    assert abs(fx - centre[0]) < 2 and abs(fy - centre[1]) < 2
    assert panel.detection_at(pos) == k
    qtbot.mouseMove(panel, pos)
    qtbot.waitUntil(lambda: dets[k].name in QToolTip.text() and f"{dets[k].score:.3f}" in QToolTip.text(),
                    timeout=3000)
    before = panel_pixels(win, "cam")
    qtbot.mouseClick(panel, Qt.LeftButton, pos=pos)
    fr = wait_frame(qtbot, win, lambda fr: fr.settings.target == k)
    assert fr.result.target == f"detection #{k}" and fr.highlight == k
    assert win.controls.target.currentData() == "clicked" and win.controls.target_index.value() == k
    assert f"target: detection #{k}" in win.grid.panels["cam"].subtitle
    assert np.abs(panel_pixels(win, "cam").astype(int) - before.astype(int)).mean() > 0.5
    # A click outside every box changes nothing.
    n = win.frames_painted
    qtbot.mouseClick(panel, Qt.LeftButton, pos=QPoint(2, 2))
    qtbot.wait(300)
    assert win.frames_painted == n


def test_closing_during_playback_stops_everything(qtbot, qs, env, media, tmp_path, monkeypatch):
    monkeypatch.setattr(mw_mod, "find_sample", lambda: media["image"])
    baseline = len(_real_threads())
    win = start_window(path=str(media["video"]), qsettings=qs)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None, timeout=20000)
    win.act_loop.setChecked(True)
    rec = tmp_path / "rec.mp4"
    win.start_recording(rec)
    qtbot.waitUntil(lambda: win.recording, timeout=5000)
    win.play()
    start = win.frames_painted
    qtbot.waitUntil(lambda: win.playing and win.frames_painted >= start + 4, timeout=15000)
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 10
    assert not win.thread.isRunning() and win.thread.isFinished()
    assert win.worker.source is None
    assert rec.exists() and rec.stat().st_size > 0  # the recording was finished, not lost
    cap = cv2.VideoCapture(str(rec))
    assert cap.isOpened() and cap.read()[0]
    cap.release()
    assert len(_real_threads()) <= baseline

    # A live source is released on close too.
    win2 = start_window(qsettings=qs)
    qtbot.addWidget(win2)
    qtbot.waitUntil(lambda: win2.model_info is not None, timeout=20000)
    src = GeneratorSource(lambda: iter([render_sample(1, FRAME_HW).image] * 100000), live=True, fps=30)
    win2.open_source(src)
    qtbot.waitUntil(lambda: win2.last is not None and win2.last.source is not None and win2.last.source.live,
                    timeout=20000)
    win2.close()
    assert src.closed and not win2.thread.isRunning()
    assert len(_real_threads()) <= baseline


def test_bad_files_show_an_error_and_the_window_stays_usable(qtbot, open_window, media, dialogs):
    win = open_window()
    win.open_path(media["bad"])
    qtbot.waitUntil(lambda: len(dialogs["warning"]) == 1, timeout=10000)
    title, text = dialogs["warning"][0]
    assert title == "Cannot open" and "bad.jpg" in text
    assert win.last.frame.name == "one.jpg"  # the previous picture stays
    assert "bad.jpg" in win.statusBar().currentMessage()

    win.load_weights(media["bad_pt"])
    qtbot.waitUntil(lambda: len(dialogs["warning"]) == 2, timeout=10000)
    assert "bad.pt" in dialogs["warning"][1][1]
    assert win.model_info.name == "tiny_gam" and win.controls.weights_button.isEnabled()

    # A bad image inside a folder: stepping onto it reports it, the folder keeps working.
    win.open_path(media["folder"])
    wait_frame(qtbot, win, lambda fr: fr.source.kind == "folder")
    win.seek(3)
    qtbot.waitUntil(lambda: any("img_9_broken.jpg" in e for e in win.errors), timeout=10000)
    win.seek(2)
    assert wait_frame(qtbot, win).frame.name == "img_2.png"
    win.controls.conf.setValue(500)
    assert wait_frame(qtbot, win).settings.conf == 0.5


def test_export_png_panels_json_and_never_overwrite_without_asking(qtbot, open_window, tmp_path, dialogs,
                                                                     monkeypatch):
    win = open_window()
    out = tmp_path / "out"
    out.mkdir()
    png = out / "panels.png"
    assert win.save_composite(png)
    img = cv2.imread(str(png))
    assert img.shape[1] > 4 * FRAME_HW[1]  # four panels side by side
    saved = win.save_panels(out)
    assert sorted(p.name for p in saved) == ["one_cam.png", "one_detections.png", "one_gam_channel.png",
                                             "one_gam_spatial.png"]
    assert cv2.imread(str(saved[0])).shape[:2] == FRAME_HW
    js = out / "dets.json"
    assert win.save_detections(js)
    data = json.loads(js.read_text())
    assert data["name"] == "one.jpg" and len(data["detections"]) == len(win.last.result.detections)
    assert data["settings"]["conf"] == LOW_CONF

    # The Save action asks before replacing an existing file: "No" keeps it untouched.
    monkeypatch.setattr(mw_mod.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(png), "")))
    png.write_bytes(b"keep me")
    win.act_save.trigger()
    assert dialogs["question"] and png.read_bytes() == b"keep me"
    dialogs["answers"].append(QMessageBox.Yes)
    win.act_save.trigger()
    assert cv2.imread(str(png)) is not None
    assert win.save_panels(out) == []  # every file exists, the (recorded) answer is No
    assert len(dialogs["question"]) == 3


def test_export_whole_folder_in_background(qtbot, open_window, media, tmp_path):
    win = open_window()
    win.open_path(media["folder"])
    wait_frame(qtbot, win, lambda fr: fr.source.kind == "folder")
    out = tmp_path / "exp"
    win.export_source(str(media["folder"]), out)
    qtbot.waitUntil(lambda: win.export_job is None, timeout=30000)
    assert sorted(p.name for p in out.glob("*.png")) == ["img_0_panels.png", "img_1_panels.png", "img_2_panels.png"]
    assert (out / "detections.json").exists()


def test_settings_persist_each_under_its_own_key(qtbot, open_window, qs):
    win = open_window()
    c = win.controls
    c.conf.setValue(123)
    c.iou.setValue(60)
    c.method.setCurrentIndex(c.method.findData("gradcam++"))
    c.colormap.setCurrentIndex(c.colormap.findData("viridis"))
    c.alpha.setValue(70)
    c.cam_every.setValue(4)
    c.reduction.setCurrentIndex(c.reduction.findData("max"))
    c.renorm.setChecked(True)
    c.layers.item(22).setSelected(True)
    c.gam_layer.setCurrentIndex(c.gam_layer.findData(22))
    c.target.setCurrentIndex(c.target.findData("cls"))
    c.target_class.setCurrentIndex(2)
    win.panel_actions["gam_spatial"].setChecked(False)
    assert "gam_spatial" not in win.visible_panels() and not win.grid.panels["gam_spatial"].isVisible()
    wait_frame(qtbot, win, lambda fr: fr.settings.target == "cls:2" and fr.settings.gam_layer == 22)
    assert "layer 22" in win.chart.title
    win.close()
    qs.sync()
    for key, value in {"controls/conf": 0.123, "controls/iou": 0.6, "controls/method": "gradcam++",
                       "controls/colormap": "viridis", "controls/alpha": 0.7, "controls/cam_every": 4,
                       "controls/reduction": "max", "controls/layers": "22", "controls/gam_layer": 22,
                       "controls/target_mode": "cls", "controls/target_class": 2,
                       "controls/imgsz": 160, "controls/device": "cpu",
                       "window/geometry": None, "view/panel_gam_spatial": None}.items():
        assert qs.contains(key), key
        if value is not None:
            got = qs.value(key)
            assert (float(got) == pytest.approx(value)) if isinstance(value, float) else str(got) == str(value), key
    assert str(qs.value("view/panel_gam_spatial")).lower() == "false"

    win2 = open_window()
    s = win2.last.settings
    assert (s.conf, s.iou, s.method, s.colormap, s.alpha, s.reduction, s.renorm_boxes, s.layers, s.gam_layer,
            s.target) == (0.123, 0.6, "gradcam++", "viridis", 0.7, "max", True, (22,), 22, "cls:2")
    assert win2.controls.cam_every.value() == 4
    assert "gam_spatial" not in win2.visible_panels()


def test_panels_wrap_to_a_grid_when_narrow_and_toggle(qtbot, open_window):
    win = open_window()
    g = win.grid
    g.set_aspect(4 / 3)
    assert g.best_columns(1600, 300, 4) == 4
    assert g.best_columns(700, 700, 4) == 2
    assert g.best_columns(200, 1500, 4) == 1
    win.resize(1900, 560)
    qtbot.waitUntil(lambda: g.columns == 4, timeout=3000)
    win.resize(900, 900)
    qtbot.waitUntil(lambda: g.columns == 2, timeout=3000)
    r = g.panels["cam"].image_rect()
    assert r.width() / r.height() == pytest.approx(160 / 120, rel=0.02)  # aspect preserved
    for key in ("gam_channel", "gam_spatial"):
        win.panel_actions[key].setChecked(False)
    assert win.visible_panels() == ("detections", "cam")
    win.panel_actions["cam"].setChecked(False)
    win.panel_actions["detections"].setChecked(False)  # the last panel stays
    assert win.visible_panels() == ("detections",)
    win.act_chart.setChecked(False)
    assert not win.chart.isVisible()


def test_drop_weights_and_media(qtbot, open_window, model_path, media):
    win = open_window()
    win.open_dropped([Path(model_path), media["video"]])
    fr = wait_frame(qtbot, win, lambda fr: fr.source.kind == "video" and fr.result is not None)
    assert fr.frame.name == "clip.mp4" and win.model_info.path == str(model_path)
    assert win.qsettings.value("paths/last_weights") == str(model_path)


def test_convert_roundtrip_copies_the_buffer():
    a = np.random.default_rng(0).integers(0, 255, (7, 9, 3), dtype=np.uint8)
    q = bgr_to_qimage(a)
    a[:] = 0  # the image must not share the array's memory
    back = qimage_to_bgr(q)
    assert back.shape == (7, 9, 3) and back.any()
    gray = bgr_to_qimage(np.full((4, 5), 77, np.uint8))
    assert gray.width() == 5 and qimage_to_bgr(gray)[0, 0].tolist() == [77, 77, 77]


def test_run_opens_and_quits(qtbot, qs, env, media, monkeypatch):
    """``gam-gui PATH`` end to end: run() opens the window and returns 0 when it closes."""
    import signal

    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from gam_gui.ui import app as app_mod

    old = signal.getsignal(signal.SIGINT)
    seen: list[MainWindow] = []
    real_start = app_mod.start_window

    def start(**kw):
        win = real_start(**kw)
        seen.append(win)
        return win

    monkeypatch.setattr(app_mod, "start_window", start)

    def close_when_ready():
        if seen and seen[0].last is not None and seen[0].last.result is not None:
            QApplication.instance().closeAllWindows()
        else:
            QTimer.singleShot(100, close_when_ready)

    QTimer.singleShot(100, close_when_ready)
    try:
        assert app_mod.run(path=str(media["image"]), qsettings=qs) == 0
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen[0].last.frame.name == "one.jpg" and not seen[0].thread.isRunning()


def test_panel_maps_a_smaller_display_copy_to_frame_pixels(qtbot):
    """Big frames reach the GUI as smaller copies; clicks still map to the frame's own pixels."""
    from gam_gui.inference import Detection
    from gam_gui.ui.panels import ImagePanel

    panel = ImagePanel("detections", "Detections")
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.set_image(bgr_to_qimage(np.zeros((60, 80, 3), np.uint8)), "t", "s", frame_size=(1600, 1200))
    panel.set_detections([Detection((700.0, 500.0, 900.0, 700.0), 0.9, 1, "circle")])
    pos = panel.frame_to_widget(800, 600)
    x, y = panel.widget_to_frame(pos)
    assert abs(x - 800) < 1e-6 and abs(y - 600) < 1e-6
    assert panel.detection_at(pos) == 0 and panel.detection_at(panel.frame_to_widget(100, 100)) is None
    r = panel.image_rect()
    assert r.width() / r.height() == pytest.approx(4 / 3)
    assert panel.widget_to_frame(QPoint(1, 1)) is None  # the caption bar is no part of the picture


def test_channel_chart_draws_signed_weights_from_zero(qtbot):
    from gam_gui.ui.panels import ChannelBarChart

    chart = ChannelBarChart()
    qtbot.addWidget(chart)
    chart.resize(300, 140)
    chart.set_weights(np.array([-0.5, 1.0, 0.2, -0.1], np.float32), "layer 18")
    img = qimage_to_bgr(chart.grab().toImage())
    r = chart._plot_rect()
    zero_y = int(r.bottom() - 0.5 / 1.5 * r.height())
    col_x = [int(r.left() + (i + 0.5) * r.width() / 4) for i in range(4)]

    def coloured(x, y0, y1):  # bar pixels (blue or orange), not the dark background
        return int((img[y0:y1, x].max(axis=1) > 120).sum())

    assert coloured(col_x[0], zero_y + 3, int(r.bottom()) - 1) > 10  # negative bar below zero
    assert coloured(col_x[0], int(r.top()) + 1, zero_y - 3) == 0
    assert coloured(col_x[1], int(r.top()) + 1, zero_y - 3) > 10  # positive bar above zero
    assert chart.bar_at(col_x[2]) == 2 and chart.bar_at(1) is None


def test_wheel_over_an_unfocused_control_scrolls_the_dock_not_the_setting(qtbot):
    """The issue: scrolling the Controls dock turned "Channel reduction" from mean to max."""
    from PyQt5.QtCore import QPointF
    from PyQt5.QtGui import QWheelEvent
    from PyQt5.QtWidgets import QApplication, QScrollArea

    from gam_gui.ui.controls import ControlPanel

    controls = ControlPanel(devices=[("cpu", "CPU")])
    scroll = QScrollArea()
    scroll.setWidget(controls)
    scroll.setWidgetResizable(True)
    scroll.resize(320, 300)  # shorter than the controls: the dock can scroll
    qtbot.addWidget(scroll)
    scroll.show()
    qtbot.waitExposed(scroll)
    changed: list[int] = []
    controls.changed.connect(lambda: changed.append(1))

    def wheel(widget, steps: int = -1) -> None:
        pos = QPointF(widget.width() / 2, widget.height() / 2)
        ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                         Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(widget, ev)

    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    for w in (controls.reduction, controls.imgsz, controls.alpha, controls.colormap):
        assert w.focusPolicy() == Qt.StrongFocus  # a click or Tab focuses them, the wheel does not
    values = (controls.reduction.currentIndex(), controls.imgsz.value(), controls.alpha.value(),
              controls.colormap.currentIndex())
    for w in (controls.reduction, controls.imgsz, controls.alpha, controls.colormap):
        assert not w.hasFocus()
        wheel(w)
    assert (controls.reduction.currentIndex(), controls.imgsz.value(), controls.alpha.value(),
            controls.colormap.currentIndex()) == values
    assert not changed and controls.settings().reduction == "mean"
    assert bar.value() > 0  # the wheel scrolled the dock instead
    # A focused control still takes the wheel.
    controls.reduction.setFocus()
    qtbot.waitUntil(controls.reduction.hasFocus, timeout=2000)
    wheel(controls.reduction)
    assert controls.settings().reduction == "max" and changed


def test_space_plays_and_pauses_but_not_inside_a_control_that_uses_it(qtbot, qs, monkeypatch):
    from PyQt5.QtTest import QTest
    from PyQt5.QtWidgets import QApplication

    monkeypatch.setattr(MainWindow, "toggle_play", lambda self: toggles.append(1))
    toggles: list[int] = []
    win = MainWindow(qs)  # no model and no source: only the window's key handling is tested
    qtbot.addWidget(win)
    win.show()
    QApplication.setActiveWindow(win)
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.act_play.setEnabled(True)
    try:
        win.grid.setFocus()
        QTest.keyClick(win.grid, Qt.Key_Space)
        assert toggles == [1]  # Space anywhere in the window: play/pause
        c = win.controls
        c.renorm.setFocus()
        qtbot.waitUntil(c.renorm.hasFocus, timeout=2000)
        QTest.keyClick(c.renorm, Qt.Key_Space)
        assert toggles == [1] and c.renorm.isChecked()  # the focused check box keeps its Space
        c.imgsz.setFocus()
        qtbot.waitUntil(c.imgsz.hasFocus, timeout=2000)
        QTest.keyClick(c.imgsz, Qt.Key_Space)
        assert toggles == [1]  # typing in a spin box is not play/pause
        c.conf.setFocus()  # a slider has no use for Space: it stays the window's
        qtbot.waitUntil(c.conf.hasFocus, timeout=2000)
        QTest.keyClick(c.conf, Qt.Key_Space)
        assert toggles == [1, 1]
    finally:
        win.close()
    assert not win.thread.isRunning()


def test_about_shows_version_torch_qt_and_device(qtbot, qs, dialogs):
    import torch
    from PyQt5.QtCore import QT_VERSION_STR

    import gam_gui

    win = MainWindow(qs)
    qtbot.addWidget(win)
    try:
        text = win.about_text()
    finally:
        win.close()
    assert f"gam-gui {gam_gui.__version__}" in text
    assert f"torch {torch.__version__}" in text and f"Qt {QT_VERSION_STR}" in text
    assert "Device: cpu" in text  # no model yet: the device the controls will load it on
