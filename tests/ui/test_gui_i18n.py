"""The Simplified Chinese window: the .ts covers every string the code marks for translation, the
shipped .qm is compiled from the current .ts, and ``run(lang="zh_CN")`` really shows Chinese menus and
controls; how the language is chosen (argument, remembered choice, system locale)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PyQt5.QtCore import QCoreApplication, QLocale, QSettings, QTimer, QTranslator
from PyQt5.QtWidgets import QApplication, QComboBox, QGroupBox, QLabel, QMessageBox

from gam_gui import render
from gam_gui.ui import i18n

UI = Path(i18n.__file__).resolve().parent.parent
FIELD = re.compile(r"\{[^{}]*\}")


def messages(ts: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    """(context, source) -> (translation, finished) of a Qt Linguist .ts file."""
    out = {}
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.findtext("name")
        for m in ctx.iter("message"):
            tr = m.find("translation")
            finished = tr.get("type") not in ("unfinished", "obsolete", "vanished")
            out[(name, m.findtext("source"))] = (tr.text or "", finished)
    return out


def pylupdate5() -> str | None:
    exe = Path(sys.executable).with_name("pylupdate5")
    return str(exe) if exe.exists() else shutil.which("pylupdate5")


@pytest.fixture
def qs(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "gam-gui.ini"), QSettings.IniFormat)


def test_ts_translates_every_marked_string(tmp_path):
    """pylupdate5 (shipped with PyQt5) extracts the strings now in the code; each one must have a
    finished translation in the committed .ts, with the same str.format fields."""
    exe = pylupdate5()
    if exe is None:
        pytest.skip("pylupdate5 is not installed (it comes with PyQt5's wheel)")
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in UI.glob("*.py")) + [str(UI / "i18n" / "__init__.py")]
    subprocess.run([exe, "-noobsolete", *sources, "-ts", str(fresh)], check=True, capture_output=True)
    extracted = messages(fresh)
    committed = messages(i18n.ts_path("zh_CN"))
    assert len(extracted) > 150  # menus, actions, controls, dialogs, status messages, captions
    missing = [k for k in extracted if k not in committed]
    assert not missing, f"strings without a translation in {i18n.ts_path('zh_CN').name}: {missing}"
    unfinished = [k for k in extracted if not committed[k][1] or not committed[k][0].strip()]
    assert not unfinished, unfinished
    for (ctx, src), (text, _) in committed.items():
        assert sorted(FIELD.findall(src)) == sorted(FIELD.findall(text)), (ctx, src, text)
    # The captions render.py writes are translatable in the window.
    assert {s for s in render.CAPTION_STRINGS} <= {src for ctx, src in extracted if ctx == "render"}
    assert ("MainWindow", "&File") in extracted and ("ControlPanel", "Channel reduction:") in extracted


def test_window_parts_translate_in_the_context_pylupdate_files_them_under():
    """A controller's ``self.tr("...")`` is extracted under its class name; it must be looked up there
    (it used to be looked up under MainWindow, so the .ts needed a second copy of every string)."""
    from gam_gui.ui.model_controller import ModelController

    app = QApplication.instance() or QApplication([])
    translators = i18n.install("zh_CN", app)
    try:
        part = ModelController.__new__(ModelController)
        assert part.tr("no GAM blocks") == messages(i18n.ts_path("zh_CN"))[("ModelController", "no GAM blocks")][0]
        assert part.tr("no GAM blocks") != "no GAM blocks"
    finally:
        i18n.uninstall(translators, app)


def test_shipped_qm_is_compiled_from_the_current_ts():
    """Every message of the .ts, looked up in the shipped .qm, gives the .ts translation: a string
    added or changed in the .ts without running lrelease fails here."""
    qm = i18n.qm_path("zh_CN")
    assert qm.is_file() and qm.stat().st_size > 1000
    t = QTranslator()
    assert t.load(str(qm))
    stale = [(ctx, src) for (ctx, src), (text, _) in messages(i18n.ts_path("zh_CN")).items()
             if t.translate(ctx, src) != text]
    assert not stale, f"run lrelease on {i18n.ts_path('zh_CN').name}: {stale[:5]}"


def test_language_choice_order(qs):
    assert i18n.resolve_language("zh_CN", qs) == "zh_CN"
    assert i18n.resolve_language("zh-CN", qs) == "zh_CN"
    assert i18n.resolve_language(None, qs, QLocale("zh_CN")) == "zh_CN"  # the system locale
    assert i18n.resolve_language(None, qs, QLocale("zh_TW")) == "en"  # traditional script: not this catalogue
    assert i18n.resolve_language(None, qs, QLocale("de_DE")) == "en"
    i18n.remember_language(qs, "zh_CN")  # View > Language beats the locale ...
    assert i18n.resolve_language(None, qs, QLocale("en_US")) == "zh_CN"
    assert i18n.resolve_language("en", qs) == "en"  # ... and --lang beats both
    qs.setValue(i18n.SETTINGS_KEY, "klingon")  # a broken settings file is ignored
    assert i18n.resolve_language(None, qs, QLocale("en_GB")) == "en"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.resolve_language("fr", qs)


def test_run_in_chinese_shows_translated_menus_and_controls(qtbot, qs, tiny_weights, monkeypatch):
    """``run(lang="zh_CN")`` as ``gam-gui --lang zh_CN`` calls it; View > Language remembers a choice."""
    from gam_gui.ui import app as app_mod
    from gam_gui.ui import main_window as mw_mod

    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(tiny_weights))
    monkeypatch.setattr(mw_mod, "find_sample", lambda: None)
    informed: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda _p, _t, text, *a, **k: informed.append(text)))
    seen: dict = {}

    def inspect():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, mw_mod.MainWindow) and w.isVisible()]
        if not wins:
            QTimer.singleShot(50, inspect)
            return
        win = wins[0]
        seen["menus"] = [a.text() for a in win.menuBar().actions()]
        seen["dock"] = win.dock.windowTitle()
        seen["groups"] = [g.title() for g in win.controls.findChildren(QGroupBox)]
        seen["labels"] = {lab.text() for lab in win.controls.findChildren(QLabel)}
        combos = {c: [c.itemText(i) for i in range(c.count())] for c in win.controls.findChildren(QComboBox)}
        seen["reduction"] = combos[win.controls.reduction]
        seen["target"] = combos[win.controls.target]
        seen["play"] = win.act_play.text()
        seen["language_menu"] = [a.text() for a in win.language_menu.actions()]
        seen["checked"] = [c for c, a in win.language_actions.items() if a.isChecked()]
        win.language_actions["en"].trigger()
        seen["remembered"] = qs.value(i18n.SETTINGS_KEY)
        win.close()

    QTimer.singleShot(0, inspect)
    old = signal.getsignal(signal.SIGINT)
    try:
        assert app_mod.run(qsettings=qs, lang="zh_CN") == 0
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen["menus"] == ["文件(&F)", "播放(&P)", "视图(&V)", "帮助(&H)"]
    assert seen["dock"] == "控制面板"
    assert seen["groups"] == ["模型", "检测", "解释（CAM）", "显示"]
    assert {"置信度：", "图像尺寸：", "通道合并：", "叠加透明度："} <= seen["labels"]
    assert seen["reduction"] == ["均值", "最大值"]
    assert seen["target"][0] == "全部检测框"
    assert seen["play"] == "播放 / 暂停(&P)"
    assert seen["language_menu"] == ["English", "简体中文"] and seen["checked"] == ["zh_CN"]
    assert seen["remembered"] == "en" and informed and "English" in informed[0]
    # run() removed its translators again: an embedding program keeps its language.
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"
    assert i18n.active_language() == "en"


def test_panel_captions_are_translated_with_their_values():
    import numpy as np

    from gam_gui.ui.panels import panel_caption, scale_text

    p = render._panel("cam", np.zeros((4, 4, 3), np.uint8), render.TITLE_GAM_CHANNEL, render.SUB_CAM,
                      layers="18+22", target="detection #3")
    assert panel_caption(p) == ("GAM channel", "L18+22  target: detection #3")  # no translator: English
    t = QTranslator()
    assert t.load(str(i18n.qm_path("zh_CN")))
    app = QCoreApplication.instance() or QApplication([])
    app.installTranslator(t)
    try:
        assert panel_caption(p) == ("GAM 通道", "L18+22  目标：检测框 #3")
        # the colour bar's text, as the window draws it (issue 25.11: it stayed English)
        scale = render.ColorScale("spatial gate, mean over 64 ch", 0.3, 0.6, (0.34, 0.6))
        assert scale_text(scale) == "空间门控，64 个通道的均值：本帧 0.34 ... 0.6"
        g = render._panel("gam_channel", np.zeros((4, 4, 3), np.uint8), render.TITLE_GAM_CHANNEL,
                          render.SUB_GAM_CHANNEL, layer=18, reduction="mean", channels=64, variant="seed")
        assert "seed 变体" in panel_caption(g)[1]
    finally:
        app.removeTranslator(t)


def _captions_fit(qtbot, win, label: str) -> None:
    """At 1366x768 and 1600x900: every caption line of every panel shown fits its panel (long ones
    wrap), captions leave the picture most of the panel, and the dock's note gets its wrapped height."""
    from PyQt5.QtGui import QFontMetrics

    for size in ((1366, 768), (1600, 900)):
        win.resize(*size)
        qtbot.waitUntil(lambda size=size: win.width() == size[0], timeout=3000)
        QApplication.processEvents()
        for key in win.grid.shown_keys():
            panel = win.grid.panel(key)
            room = panel.caption_room()
            for font, lines in ((panel.title_font(), panel.title_lines()),
                                (panel.subtitle_font(), panel.subtitle_lines())):
                fm = QFontMetrics(font)
                assert all(fm.horizontalAdvance(line) <= room for line in lines), (label, size, key, lines)
            assert panel.caption_height() < panel.height() / 2, (label, size, key)
        note = win.ablation.note
        assert note.isVisible() and note.height() >= note.heightForWidth(note.width()), (label, size)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_caption_fits_or_wraps_at_laptop_sizes(qtbot, qs, tiny_weights, monkeypatch, lang, frame, tmp_path):
    """Issue 25.9, in English and Chinese: the ablation view, then a comparison (six panels, the
    longest captions: "kept: B's box, A -> B score; ...")."""
    import cv2

    from gam_gui.ui import main_window as mw_mod

    img = tmp_path / "one.png"
    cv2.imwrite(str(img), frame)
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(tiny_weights))
    monkeypatch.setattr(mw_mod, "find_sample", lambda: img)
    app = QApplication.instance()
    translators = i18n.install(lang, app)
    try:
        qs.setValue("controls/conf", 0.001)
        win = mw_mod.start_window(qsettings=qs, threads=1)
        qtbot.addWidget(win)
        qtbot.waitUntil(lambda: win.last is not None and win.last.result is not None, timeout=30000)
        win.ablation.set_mode(win.model_info.gam_layers[0], "off")
        qtbot.waitUntil(lambda: win.last.ablation is not None, timeout=30000)
        win.ablation.set_comparing(True)  # the dock's longest note
        if lang == "zh_CN":  # texts set after start-up, by the window's parts, are translated too
            assert win.timings_label.text().startswith("推理 ") and win.device_label.text().startswith("设备")
            assert win.summary_label.text().startswith("消融 ")
        _captions_fit(qtbot, win, f"{lang} ablation")
        win.compare_with(tiny_weights)
        qtbot.waitUntil(lambda: win.last.compare is not None and win.grid.compare, timeout=30000)
        _captions_fit(qtbot, win, f"{lang} compare")
        matches = win.grid.panel("matches")
        assert len(matches.subtitle_lines()) > 1 and not matches.subtitle_elided  # wrapped, not cut
        win.close()
    finally:
        i18n.uninstall(translators, app)
