"""The two attention panels for every kind of block (issue 27), on the real ultralytics 8.4 file that stacks
CBAM, CoordAtt, GAM, SimAM, EMA, SE and TripletAttention: every gate of every block is reachable, each
panel has a colour bar and a caption naming the kind and the gate, a gate without positions is drawn as
bars (not a made-up map), and ``gam-gui export --gam-layer`` works for a non-GAM block."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gam_gui import render, render_attention
from gam_gui.analysis import Settings, analyze_with
from gam_gui.data.shapes import render_sample

STACK = Path(__file__).resolve().parents[1] / "data" / "attention_ref" / "v8_stack_best.pt"


@pytest.fixture(scope="module")
def stack():
    from gam_gui.checkpoints import load_model

    model = load_model(STACK, device="cpu")
    image = render_sample(5, (96, 128)).image
    return model, image, analyze_with(model, image, Settings(method="none", imgsz=128))


def test_every_gate_of_every_block_has_a_captioned_panel_with_a_colour_bar(stack) -> None:
    model, image, res = stack
    assert [(b.index, b.kind) for b in res.attention] == [
        (5, "CBAM"), (8, "CoordAtt"), (11, "GAM"), (15, "SimAM"), (19, "EMA"), (23, "SE"), (27, "TripletAttention")]
    for b in res.attention:
        if b.kind == "GAM":
            titles = [p.title for p in render.panels(image, res, Settings(gam_layer=b.index))[2:]]
            assert titles == ["GAM channel", "GAM spatial"]
            continue
        shown = set()
        for gate in b.gate_order:
            first, second = render.panels(image, res, Settings(gam_layer=b.index, gate=gate))[2:]
            assert first.title == f"{b.kind} {gate} gate (layer {b.index})"
            shown.update({first.title, second.title})
            for p in (first, second):
                assert p.scale is not None and p.image.shape[0] > image.shape[0]  # the bar below the picture
                assert p.image.shape[1] == image.shape[1]
            gm = b.gates[gate]
            assert "gate range 0..1" in first.subtitle or "gate range 0.5..1" in first.subtitle
            lo, hi = first.scale.drawn
            if gm.small is not None:  # a heatmap: the drawn values are the gate's over the frame
                m, flo, fhi = gm.frame()
                assert (lo, hi) == (flo, fhi) and gm.gate.low <= lo <= hi <= gm.gate.high
            else:  # no positions: one bar per channel, the scale spans the channel weights
                assert "no positions" in first.subtitle
                assert (lo, hi) == (float(gm.weights.min()), float(gm.weights.max()))
        # Each gate is reachable as the first panel; a one-gate block shows its gain beside it.
        assert {f"{b.kind} {g} gate (layer {b.index})" for g in b.gate_order} <= shown
        if len(b.gate_order) == 1:
            assert f"{b.kind} block gain (layer {b.index})" in shown


def test_gain_panel_is_the_blocks_energy_ratio_and_near_constant_gates_are_not_stretched(stack) -> None:
    model, image, res = stack
    se = res.block_for(23)
    gain = render_attention.panel_plan(se, Settings())
    assert gain == ("channel", render_attention.GAIN)
    p = render.panels(image, res, Settings(gam_layer=23))[3]
    raw = se.gain()
    assert p.scale.signed and p.scale.drawn == (float(raw.min()), float(raw.max()))
    # SE scales each channel by the same factor everywhere: the gain is nearly flat, and below 0
    # (its gates are < 1), which is what the panel shows
    assert raw.max() < 0
    # a gate varying less than 1 % of its range is drawn on a 1 % span, and its ends are written apart
    co = res.block_for(8).gates["height"]
    _, lo, hi = co.frame()
    scale = render.panels(image, res, Settings(gam_layer=8))[2].scale
    assert 0 < hi - lo < 0.01  # this file's CoordAtt row gate varies in the 6th digit
    assert scale.hi - scale.lo == pytest.approx(0.01, rel=1e-3)
    assert scale.fmt(lo) != scale.fmt(hi)


def test_gam_view_gain_and_gate_fallback(stack) -> None:
    model, image, res = stack
    ema = res.block_for(19)
    assert render_attention.panel_plan(ema, Settings(gate="width")) == ("width", "spatial")
    assert render_attention.panel_plan(ema, Settings(gate="spatial")) == ("spatial", "height")
    assert render_attention.panel_plan(ema, Settings(gate="width", gam_view="gain")) == ("width", "gain")
    assert render_attention.panel_plan(ema, Settings(gate="nothere")) == ("height", "width")
    with pytest.raises(ValueError, match="gate"):
        Settings(gate="bad gate!")


def test_export_with_a_non_gam_block(tmp_path, stack, capsys) -> None:
    from gam_gui.cli import main

    src = tmp_path / "in.png"
    cv2.imwrite(str(src), stack[1])
    out = tmp_path / "out"
    rc = main(["export", "--weights", str(STACK), "--source", str(src), "--out", str(out), "--gam-layer", "8",
               "--gate", "width", "--imgsz", "128", "--method", "none", "--device", "cpu", "--no-progress"])
    assert rc == 0
    fig = cv2.imread(str(out / "in_panels.png"))
    assert fig is not None and fig.shape[1] > 3 * 128
    assert not np.array_equal(fig[:, -10:], np.full_like(fig[:, -10:], 255))
    # a layer without a block: a usage error naming the blocks
    assert main(["export", "--weights", str(STACK), "--source", str(src), "--out", str(tmp_path / "o2"),
                 "--gam-layer", "12", "--imgsz", "128", "--device", "cpu", "--no-progress"]) == 2
    assert "--gam-layer 12 is not an attention block; attention blocks: 5, 8, 11, 15, 19, 23, 27" in \
        capsys.readouterr().err


def test_gates_without_positions_are_bars_not_maps() -> None:
    """SK's branch weights (K, C) and an ECA channel gate (C) have no positions: drawn as bars (SK:
    each channel's bar split into its branches' shares), never as a heatmap; the other panel is the
    block's gain."""
    import torch

    from gam_gui.explain.blocks import BlockMaps, reduce_gate
    from gam_gui.models import attention

    frame = np.full((48, 64, 3), 90, np.uint8)

    def align(m: np.ndarray) -> np.ndarray:
        return cv2.resize(m, (64, 48), interpolation=cv2.INTER_LINEAR)

    gain = np.linspace(-1, 1, 48, dtype=np.float32).reshape(6, 8)
    torch.manual_seed(0)
    sk = reduce_gate(attention.entry("SKAttention").gate("branches"), torch.softmax(torch.randn(1, 2, 8, 1, 1), 1),
                     (6, 8))
    eca = reduce_gate(attention.entry("ECA").gate("channel"), torch.rand(1, 8, 1, 1), (6, 8))
    assert sk.small is None and eca.small is None and sk.branch_weights.shape == (2, 8)
    for kind, gm, words in (("SKAttention", sk, "2 branches"), ("ECA", eca, "one weight per channel (8 ch)")):
        b = BlockMaps(3, "model.3", kind, "", {gm.gate.name: gm}, gain_small=gain, _align=align)
        first, second = render_attention.attention_panels(frame, b, Settings())
        assert first.title == f"{kind} {gm.gate.name} gate (layer 3)" and words in first.subtitle
        assert first.image.shape[1] == 64 and not np.array_equal(first.image[:48], frame)
        assert second.title == f"{kind} block gain (layer 3)" and second.scale.signed
        assert second.scale.drawn == pytest.approx((-1.0, 1.0), abs=1e-3)
