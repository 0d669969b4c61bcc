"""The window's defects of issues 25 and 26, each driven as a user meets it.

Shortcuts bound twice (25.1, under the real xcb platform on Xvfb), recent files stored absolute
(25.3), the hover box and the target after a frame change (25.4), a clicked target forgotten at
start (25.10), file-borne text shown as plain text (26.6), hostile settings (26.8) and the analysis
thread count (26.9). Tiny untrained model, 160x120 frames; the whole file runs in about 20 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import QEvent, QPointF, QSettings, Qt
from PyQt5.QtGui import QImage, QKeySequence, QMouseEvent
from PyQt5.QtWidgets import QMessageBox
from test_gui import env, media, model_path, open_window, qs, wait_frame  # noqa: F401 - fixtures

from gam_gui import cli
from gam_gui import validate as V
from gam_gui.inference import Detection
from gam_gui.ui import main_window as mw_mod
from gam_gui.ui import plain
from gam_gui.ui.main_window import MainWindow, key_sequences, shortcut_owners, shown_target
from gam_gui.ui.panels import ImagePanel
from gam_gui.ui.settings_schema import SCHEMA, SettingsReader

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_thread_env(monkeypatch):
    import cv2
    import torch

    monkeypatch.delenv("GAM_GUI_THREADS", raising=False)
    saved = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(saved[0])
    cv2.setNumThreads(saved[1])


@pytest.fixture(autouse=True)
def boxes(monkeypatch) -> list[tuple]:
    """Message boxes recorded (format, title, text) instead of shown: a modal box would block."""
    shown: list[tuple] = []

    def exec_(box):
        shown.append((box.textFormat(), box.windowTitle(), box.text()))
        return QMessageBox.Ok

    monkeypatch.setattr(QMessageBox, "exec_", exec_)
    return shown


@pytest.fixture
def window(qtbot, qs):  # noqa: F811 - the fixture imported above
    """A bare window (no model, no source) that is closed after the test."""
    made: list[MainWindow] = []

    def make(settings: QSettings | None = None) -> MainWindow:
        win = MainWindow(settings or qs)
        qtbot.addWidget(win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.thread.isRunning()


# -- 25.1 shortcuts ------------------------------------------------------------------------------------
def test_a_standard_key_and_its_text_are_bound_once(qapp):
    keys = key_sequences((QKeySequence.Quit, "Ctrl+Q"))
    texts = [k.toString(QKeySequence.PortableText) for k in keys]
    assert texts.count("Ctrl+Q") == 1, texts


def test_no_shortcut_is_bound_twice_offscreen(window):
    owners = shortcut_owners(window())
    twice = {k: v for k, v in owners.items() if len(v) > 1}
    assert not twice, twice
    assert "Ctrl+Q" in owners and "F1" in owners


XCB_PROBE = r"""
import json, sys
from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import QApplication
app = QApplication([])
from gam_gui.ui.main_window import MainWindow, shortcut_owners
win = MainWindow(QSettings(sys.argv[1], QSettings.IniFormat))
win.show()
QTest.qWaitForWindowExposed(win)
owners = shortcut_owners(win)
win.activateWindow()
QTest.qWait(100)
QTest.keyClick(win, Qt.Key_Q, Qt.ControlModifier)
QTest.qWait(200)
print(json.dumps({"platform": app.platformName(), "owners": owners, "closed_by_ctrl_q": not win.isVisible()}))
win.close()
"""


@pytest.mark.slow  # a fresh interpreter under Xvfb: about 5 s on a quiet 2-core machine
def test_no_shortcut_is_bound_twice_under_xcb_and_ctrl_q_quits(tmp_path):
    """Under the real X11 platform (Qt's key bindings there are the ones that clashed): every key has
    one owner, and Ctrl+Q closes the window instead of printing "Ambiguous shortcut overload"."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("no X server: xvfb-run is not installed (apt-get install xvfb)")
    run_env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run_env.pop("DISPLAY", None)
    p = subprocess.run([xvfb, "-a", "-s", "-screen 0 1366x768x24", sys.executable, "-c", XCB_PROBE,
                        str(tmp_path / "s.ini")], capture_output=True, text=True, timeout=120, env=run_env, cwd=REPO)
    if p.returncode != 0 and "could not connect to display" in p.stderr + p.stdout:
        pytest.skip(f"Xvfb could not start: {p.stderr.strip()[-200:]}")
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["platform"] == "xcb"
    twice = {k: v for k, v in out["owners"].items() if len(v) > 1}
    assert not twice, twice
    assert "Ambiguous shortcut" not in p.stderr, p.stderr[-1000:]
    assert out["closed_by_ctrl_q"]


# -- 25.3 recent files ---------------------------------------------------------------------------------
def test_recent_files_are_absolute_and_missing_ones_dropped_with_a_notice(window, qs, media, tmp_path,  # noqa: F811
                                                                          monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    img = folder / "pic.jpg"
    shutil.copy(media["image"], img)
    gone = folder / "gone.jpg"
    shutil.copy(media["image"], gone)
    monkeypatch.chdir(tmp_path)
    win = window()
    win.open_path("work/gone.jpg")
    win.open_path("work/../work/pic.jpg")  # relative, with ..: stored resolved
    stored = [str(x) for x in qs.value("paths/recent")]
    assert stored == [str(img.resolve()), str(gone.resolve())]
    assert all(Path(x).is_absolute() for x in stored)
    assert Path(str(qs.value("paths/last_folder"))).is_absolute()
    qs.setValue("paths/recent", [*stored, "resources/samples/shapes_02.jpg"])  # an older gam-gui's relative entry
    gone.unlink()
    monkeypatch.chdir(REPO)  # launched from another folder
    assert win.recent_files() == [str(img.resolve())]
    assert "removed 2 recent entries" in win.statusBar().currentMessage()
    assert [str(x) for x in qs.value("paths/recent")] == [str(img.resolve())]
    win.sources.fill_recent()
    entries = [a.text() for a in win.recent_menu.actions() if a.text()]
    assert any(str(img.resolve()) in t for t in entries)


# -- 25.4 hover and target -------------------------------------------------------------------------------
def _det(x1: float, y1: float, x2: float, y2: float, name: str) -> Detection:
    return Detection((x1, y1, x2, y2), 0.9, 0, name)


def test_hover_box_follows_the_pointer_not_an_old_index(qtbot):
    panel = ImagePanel("detections", "Detections")
    qtbot.addWidget(panel)
    panel.resize(400, 338)
    img = QImage(400, 300, QImage.Format_RGB888)
    img.fill(0)
    panel.set_image(img, "t", "s", (400, 300))
    panel.set_detections([_det(10, 10, 100, 100, "square"), _det(200, 150, 300, 250, "cross")])
    pos = panel.frame_to_widget(50, 50)
    panel.mouseMoveEvent(QMouseEvent(QEvent.MouseMove, pos, Qt.NoButton, Qt.NoButton, Qt.NoModifier))
    assert panel.hover == 0
    # The next frame: the square moved away, the cross is now first in the list but not under the pointer.
    panel.set_detections([_det(200, 150, 300, 250, "cross"), _det(300, 10, 390, 100, "square")])
    assert panel.hover is None
    # Another frame: a circle is under the pointer, at index 1.
    panel.set_detections([_det(200, 150, 300, 250, "cross"), _det(20, 20, 90, 90, "circle")])
    assert panel.hover == 1
    panel.leaveEvent(QEvent(QEvent.Leave))
    panel.set_detections([_det(20, 20, 90, 90, "circle")])
    assert panel.hover is None


def test_status_target_and_caption_name_the_same_detection(qtbot, open_window, media):  # noqa: F811
    win = open_window()
    win.open_path(media["video"])
    fr = wait_frame(qtbot, win, lambda fr: fr.source is not None and fr.source.kind == "video"
                    and fr.result is not None and len(fr.result.detections) >= 2)
    k = len(fr.result.detections) - 1
    d = fr.result.detections[k]
    panel = win.grid.panels["detections"]
    centre = panel.frame_to_widget((d.xyxy[0] + d.xyxy[2]) / 2, (d.xyxy[1] + d.xyxy[3]) / 2).toPoint()
    win.view.panel_clicked("detections", *panel.widget_to_frame(centre))
    assert "#" not in win.statusBar().currentMessage()  # no index that the next frame would contradict
    checked = 0
    for _ in range(4):
        fr = wait_frame(qtbot, win, lambda fr: fr.result is not None and fr.settings.method != "none")
        target = shown_target(fr)
        caption = win.grid.panels["cam"].subtitle
        if target is None:
            assert not win.target_label.isVisible() and "detection #" not in caption
        else:
            index, name = target
            assert f"detection #{index}" in caption, caption
            assert win.target_label.text() == f"target: detection #{index} ({name})"
            checked += 1
        win.step(1)
    assert checked


# -- 25.10 and 26.8 settings ---------------------------------------------------------------------------
def test_a_clicked_target_is_not_remembered_into_the_next_start(window, qs):  # noqa: F811
    qs.setValue("controls/target_mode", "clicked")
    qs.setValue("controls/target_index", 3)
    win = window()
    assert win.controls.target.currentData() == "all"
    assert not win.settings_notices  # not a bad value: just not meaningful at start
    qs.setValue("controls/target_mode", "cls")
    assert window().controls.target.currentData() == "cls"  # a class is not tied to a frame


HOSTILE = {
    "controls": {"iou": "nan", "conf": "inf", "alpha": "1e400", "target_index": str(2 ** 31 + 5),
                 "imgsz": str(2 ** 40), "layers": "9" * 5000, "cam_every": "-3", "method": "<img src=x>",
                 "target_class": "1" * 400, "gam_layer": "1e9", "renorm_boxes": "perhaps"},
    "view": {"chart": "sometimes", "panel_cam": "2"},
    "window": {"geometry": "not a geometry", "state": "x"},
    "playback": {"loop": "nan"},
}


def _write_ini(path: Path, groups: dict) -> QSettings:
    path.write_text("".join(f"[{g}]\n" + "".join(f"{k}={v}\n" for k, v in kv.items()) for g, kv in groups.items()))
    return QSettings(str(path), QSettings.IniFormat)


def test_hostile_settings_fall_back_to_defaults_with_one_line_notices(window, tmp_path):
    win = window(_write_ini(tmp_path / "hostile.ini", HOSTILE))
    c = win.controls
    s = c.settings()
    assert (s.iou, s.conf, s.alpha, s.imgsz) == (0.45, 0.25, 0.5, 640)
    assert c.target_index.value() == 0 and c.cam_every.value() == 1 and s.layers is None
    assert s.method == SCHEMA["controls/method"].default and not s.renorm_boxes
    assert win.act_chart.isChecked() and win.act_loop.isChecked()
    bad = {n.split("=", 1)[0].removeprefix("settings: ") for n in win.settings_notices}
    expected = {f"{g}/{k}" for g, kv in HOSTILE.items() for k in kv if g != "window"}
    assert bad == expected, bad ^ expected
    assert all("\n" not in n and len(n) < 400 for n in win.settings_notices)
    assert "settings were ignored" in win.statusBar().currentMessage()


def test_schema_uses_the_cli_rules():
    """The same words as the command line's --iou / --imgsz errors (one rule for both)."""
    class Store(dict):
        def contains(self, k):
            return k in self

        def value(self, k, default=None):
            return self.get(k, default)

    r = SettingsReader(Store({"controls/iou": "2", "controls/imgsz": "0"}))
    assert r.get("controls/iou") == 0.45 and r.get("controls/imgsz") == 640
    with pytest.raises(ValueError) as iou:
        V.check_unit("2", "iou")
    with pytest.raises(ValueError) as imgsz:
        V.check_imgsz("0", "imgsz")
    assert str(iou.value) in r.notices[0] and str(imgsz.value) in r.notices[1]


# -- 26.6 plain text -----------------------------------------------------------------------------------
PAYLOAD = '<img src="/dev/zero"><b>bold</b>'


def test_file_borne_text_is_plain_in_labels_tooltips_and_dialogs(window, boxes):
    from types import SimpleNamespace

    win = window()
    info = SimpleNamespace(name=PAYLOAD, device="cpu", path=f"/tmp/{PAYLOAD}.pt", names={0: PAYLOAD},
                           gam_layers=(1,), gam_variant=f"seed: {PAYLOAD}", layers=[], default_layers=())
    win.controls.set_model_info(info)
    for label in (win.controls.model_label, win.controls.classes_label, win.controls.gam_label):
        assert label.textFormat() == Qt.PlainText
        assert "<img" not in label.toolTip()
    assert "&lt;img" in win.controls.gam_label.toolTip()
    for label in (win.model_label, win.frame_label, win.summary_label, win.target_label):
        assert label.textFormat() == Qt.PlainText
    win.show_error("Cannot load the weights", f"{PAYLOAD}: not a checkpoint")
    assert boxes == [(Qt.PlainText, "Cannot load the weights", f"{PAYLOAD}: not a checkpoint")]
    assert plain.plain_tooltip(PAYLOAD).count("<img") == 0
    assert plain.menu_text("a&b") == "a&&b"


# -- 26.9 threads --------------------------------------------------------------------------------------
def test_threads_are_capped_at_the_cpus_and_absurd_counts_refused(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("gam_gui.ui.app.run", lambda **kw: calls.append(kw) or 0)
    with pytest.raises(SystemExit) as e:
        cli.main(["--threads", "10000"])
    assert e.value.code == 2 and "at most" in capsys.readouterr().err
    assert cli.main(["--threads", str(V.MAX_THREADS)]) == 0
    assert calls[-1]["threads"] == V.usable_cpus()
    monkeypatch.setenv("GAM_GUI_THREADS", "10000")
    assert cli.main([]) == 2
    assert "GAM_GUI_THREADS" in capsys.readouterr().err
    monkeypatch.setenv("GAM_GUI_THREADS", "1")
    assert cli.main([]) == 0 and calls[-1]["threads"] == 1
    monkeypatch.setenv("GAM_GUI_THREADS", "lots")
    assert mw_mod.analysis_threads(None) == 0  # the window's own start: the default, with a notice
    assert mw_mod.analysis_threads(V.MAX_THREADS) == V.usable_cpus()


def test_a_worker_thread_that_cannot_start_is_reported_not_a_crash(window, monkeypatch):
    from PyQt5.QtCore import QThread

    class NoThread(QThread):
        def start(self, *a):  # the OS refused the thread: QThread stays not running
            return None

    monkeypatch.setattr(MainWindow, "thread_class", NoThread)
    win = window()
    assert not win.thread.isRunning()
    assert win.errors and "could not start" in win.errors[0]
    assert "could not start" in win.grid.panels["detections"].placeholder
    assert not win.act_open.isEnabled()
    win.load_weights(None)  # queued to a worker that never runs: nothing happens, nothing crashes
    win.close()


def test_payload_in_panel_tooltip_is_escaped(qtbot):
    panel = ImagePanel("detections", "Detections")
    qtbot.addWidget(panel)
    panel.set_detections([_det(0, 0, 10, 10, PAYLOAD)])
    assert PAYLOAD in panel.tooltip_for(0)
    assert "<img" not in plain.plain_tooltip(panel.tooltip_for(0))


def test_panel_draws_the_bar_below_the_frame_and_maps_clicks_to_the_frame_only(qtbot):
    """A heatmap panel's picture is the frame plus its colour-bar strip: clicks map to the frame part,
    and with the scale given the panel writes the bar's text itself (in the window's language)."""
    import numpy as np

    from gam_gui import render
    from gam_gui.ui.convert import bgr_to_qimage
    from gam_gui.ui.panels import scale_text

    frame = np.full((120, 160, 3), 90, np.uint8)
    scale = render.ColorScale("spatial gate, mean over 64 ch", 0.3, 0.6, (0.34, 0.6))
    img = render.draw_scale_bar(frame, scale, 160)
    panel = ImagePanel("gam_spatial", "GAM spatial")
    qtbot.addWidget(panel)
    panel.resize(320, 400)
    panel.set_image(bgr_to_qimage(img), "GAM spatial", "layer 18  mean", (160, 120), "help", scale=scale)
    whole, frame_rect = panel.picture_rect(), panel.image_rect()
    assert frame_rect.height() / whole.height() == pytest.approx(120 / img.shape[0], rel=1e-3)
    below = frame_rect.bottomLeft() + QPointF(5, 3)
    assert panel.widget_to_frame(below) is None  # the bar is not the frame
    assert panel.widget_to_frame(frame_rect.center()) == pytest.approx((80, 60), abs=1)
    panel.grab()  # paints
    assert panel.bar_text == scale_text(scale) == "spatial gate, mean over 64 ch: this frame 0.34 ... 0.6"


# -- 25.13 a slim Linux: what to install ----------------------------------------------------------------
def test_missing_xcb_libraries_are_named_with_the_apt_line(monkeypatch, capsys):
    from gam_gui.ui import app as app_mod
    from gam_gui.ui import platform_check as pc

    def load(name):
        if name in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(f"{name}: cannot open shared object file")
        return object()

    display = {"DISPLAY": ":0"}
    problem = pc.platform_problem(display, "linux", load)
    assert problem.missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert problem.packages == ["libxcb-icccm4", "libxcb-keysyms1"]
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in problem.message()
    assert pc.platform_problem(display, "linux", lambda name: object()) is None
    assert pc.platform_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", load) is None
    assert pc.platform_problem({}, "linux", load).no_display
    assert pc.platform_problem(display, "darwin", load) is None
    # run() says it on one line and returns 1 instead of letting Qt abort the process
    monkeypatch.setattr(app_mod.QApplication, "instance", staticmethod(lambda: None))
    monkeypatch.setattr(app_mod, "platform_problem", lambda: problem)
    assert app_mod.run(qsettings=QSettings(), lang="en") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "libxcb-icccm4" in err
