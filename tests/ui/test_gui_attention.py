"""The window with a model stacking several kinds of attention blocks (issue 27): the block choice lists
every block as "layer N: Kind (variant)", the two attention panels and the channel chart follow the
chosen block, the layer list marks the blocks as suggested for CAM, and the Ablation group offers
each block its own modes from the registry, and ablating a non-GAM block runs.

The model is the real ultralytics 8.4 file of ``tests/loading`` (CBAM, CoordAtt, GAM, SimAM, EMA, SE,
TripletAttention), analysed at imgsz 160 with the CAM off. Fixtures come from ``test_gui``.
"""
# ruff: noqa: F811 - the fixtures imported from test_gui are requested by name as arguments

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import cv2
import pytest
from test_gui import (  # noqa: F401 - fixtures used by name (dialogs and threads are autouse)
    dialogs,
    media,
    open_window,
    qs,
    threads,
    wait_frame,
)

from gam_gui.data.shapes import render_sample

STACK = Path(__file__).resolve().parents[1] / "data" / "attention_ref" / "v8_stack_best.pt"
BLOCKS = {5: "CBAM", 8: "CoordAtt", 11: "GAM", 15: "SimAM", 19: "EMA", 23: "SE", 27: "TripletAttention"}


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(STACK))


@pytest.fixture
def shapes_image(tmp_path) -> Path:
    p = tmp_path / "shapes.png"
    cv2.imwrite(str(p), render_sample(3, (120, 160)).image)
    return p


def _captions(win) -> tuple[str, str]:
    return win.grid.panels["gam_channel"].title, win.grid.panels["gam_spatial"].title


def test_stack_model_blocks_panels_chart_layers_and_ablation(qtbot, open_window, qs, shapes_image):
    for key, value in (("controls/method", "none"), ("controls/imgsz", 160),
                       ("controls/imgsz_weights", str(STACK))):
        qs.setValue(key, value)
    win = open_window()
    win.open_path(shapes_image)
    wait_frame(qtbot, win, lambda fr: fr.frame.name == "shapes.png" and fr.result is not None)
    c = win.controls

    # Every block listed with its kind and variant; the layer list marks them (and Detect's inputs).
    items = {c.gam_layer.itemData(i): c.gam_layer.itemText(i) for i in range(1, c.gam_layer.count())}
    assert sorted(items) == sorted(BLOCKS)
    assert all(f"layer {i}: {kind}" in items[i] for i, kind in BLOCKS.items())
    assert items[5] == "layer 5: CBAM (ultralytics)"
    rows = {int(c.layers.item(r).data(0x0100)): c.layers.item(r).text() for r in range(c.layers.count())}
    assert "suggested for CAM" in rows[8] and "[CoordAtt coordatt]" in rows[8]
    assert "suggested for CAM" not in rows[12]

    # Switching the block changes the panels' captions; the gate choice offers that block's gates.
    seen = {}
    for layer, gates in ((5, ["channel", "spatial"]), (8, ["height", "width"]), (23, ["channel"])):
        c.gam_layer.setCurrentIndex(c.gam_layer.findData(layer))
        kind = BLOCKS[layer]
        fr = wait_frame(qtbot, win, lambda fr, layer=layer: fr.settings.gam_layer == layer)
        qtbot.waitUntil(lambda kind=kind: _captions(win)[0].startswith(kind), timeout=10000)
        seen[layer] = _captions(win)
        assert [c.gate.itemData(i) for i in range(c.gate.count())] == gates
        assert c.gate.isEnabled() == (len(gates) > 1)
        if layer == 8:  # CoordAtt: no channel gate, and the chart says so
            assert win.chart.weights is None and "no channel gate" in win.chart.title
        else:  # CBAM and SE: their channel gate's weights, one per channel
            assert win.chart.weights is not None and len(win.chart.weights) == 16
            assert f"{kind} channel gate at layer {layer}" in win.chart.title
        assert fr.panels[2].scale is not None and fr.panels[3].scale is not None  # a colour bar on both
    assert seen[5] == ("CBAM channel gate (layer 5)", "CBAM spatial gate (layer 5)")
    assert seen[8] == ("CoordAtt height gate (layer 8)", "CoordAtt width gate (layer 8)")
    assert seen[23] == ("SE channel gate (layer 23)", "SE block gain (layer 23)")
    # The gate choice reaches every gate (EMA has three).
    c.gam_layer.setCurrentIndex(c.gam_layer.findData(19))
    wait_frame(qtbot, win, lambda fr: fr.settings.gam_layer == 19)
    c.gate.setCurrentIndex(c.gate.findData("spatial"))
    wait_frame(qtbot, win, lambda fr: fr.settings.gate == "spatial")
    qtbot.waitUntil(lambda: _captions(win)[0] == "EMA spatial gate (layer 19)", timeout=10000)

    # The Ablation group: each block with its own modes; ablating CoordAtt runs.
    ab = win.ablation
    assert sorted(ab.combos) == sorted(BLOCKS)
    modes = {layer: [cb.itemData(i) for i in range(cb.count())] for layer, cb in ab.combos.items()}
    assert modes[8] == ["on", "off", "height-only", "width-only", "mean-gate"]
    assert modes[23] == ["on", "off", "drop-top-k"] and "channel-only" in modes[11]
    assert ab.combos[8].itemText(2) == "height only"
    ab.set_mode(8, "height-only")
    fr = wait_frame(qtbot, win, lambda fr: fr.ablation is not None, timeout=20000)
    assert "8" in fr.ablation.describe_blocks() and not win.errors


def test_attention_captions_are_marked_for_translation():
    """Every caption render_attention writes is marked under "render" (the window translates it; the
    .ts test then requires a translation)."""
    from gam_gui import render_attention
    from gam_gui.ui.attention_captions import ATTENTION_STRINGS

    assert set(render_attention.CAPTION_STRINGS) <= set(ATTENTION_STRINGS)
