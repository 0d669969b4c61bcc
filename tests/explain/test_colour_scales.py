"""Colour scales on the heatmap panels: the numbers on a bar are the drawn values' range, signed maps
put 0 at the diverging map's centre colour, ``fixed`` holds the range over frames, and every heatmap
panel of an exported figure has its colour bar."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gam_gui import render
from gam_gui.analysis import Settings, analyze_with

HEAT_KEYS = ("cam", "gam_channel", "gam_spatial")


@pytest.fixture(scope="module")
def analyzed(tiny_model, frame):
    s = Settings(imgsz=128, conf=0.001, gam_layer=None)
    return analyze_with(tiny_model, frame, s), s


def test_bar_numbers_are_the_drawn_arrays_range(analyzed, frame):
    res, s = analyzed
    g = res.gam_for(None)
    for view in ("gates", "gain", "channel-gain", "spatial-gain"):
        sv = s.updated(gam_view=view)
        out = {p.key: p for p in render.panels(frame, res, sv)}
        for key, shows in zip(("gam_channel", "gam_spatial"), render.GAM_VIEW_PANELS[view], strict=True):
            p = out[key]
            if shows.endswith("_gate"):
                raw = g.raw(shows.split("_")[0])
            else:
                raw = g.gain(shows.split("_")[1])
            assert p.scale is not None, (view, key)
            assert p.scale.drawn == pytest.approx((float(raw.min()), float(raw.max())), rel=1e-5, abs=1e-6)
            lo_txt = (render._fmt_signed if p.scale.signed else render._fmt)(float(raw.min()))
            assert f": {lo_txt} ... " in p.scale.text()
    # a gate in its own units: the raw map is what the block multiplies by, not the [0, 1] stretch
    lo, hi = g.value_range("spatial")
    assert 0.0 <= lo < hi <= 1.0  # a sigmoid gate
    assert g.raw("spatial").min() == pytest.approx(lo, abs=1e-6)


def test_signed_maps_put_zero_at_the_centre_colour(analyzed, frame):
    white = render.DIVERGING_LUT[128, 0]
    assert tuple(white) == (255, 255, 255) and tuple(render.DIVERGING_LUT[127, 0]) == (255, 255, 255)
    for lim in (0.1, 3.0):
        m = np.array([[0.0, -lim, lim]], np.float32)
        c = render.colorize_signed(m, lim)
        assert tuple(c[0, 0]) == tuple(white)
        assert c[0, 1, 0] > c[0, 1, 2] and c[0, 2, 2] > c[0, 2, 0]  # blue below 0, red above
    res, s = analyzed
    assert res.gam_for(None).variant == "seed" and res.gam_for(None).channel_signed


def test_mean_and_max_share_one_diverging_scale_and_say_so(tiny_model, frame):
    """Switching the reduction changes the values, never what a colour means: both are signed maps
    with 0 at white, and the bar names the reduction and its range."""
    scales = {}
    for red in ("mean", "max"):
        s = Settings(imgsz=128, conf=0.001, reduction=red, method="none")
        res = analyze_with(tiny_model, frame, s)
        p = next(p for p in render.panels(frame, res, s) if p.key == "gam_channel")
        raw = res.gam_for(None).raw("channel")
        assert p.scale.signed and p.scale.lo == -p.scale.hi == -max(abs(raw.min()), abs(raw.max()))
        assert p.scale.label.startswith(f"channel gate, {red} over ")
        scales[red] = p.scale
    assert scales["max"].drawn[1] > scales["mean"].drawn[1]  # max over channels >= their mean


def test_fixed_scale_holds_the_widest_range_over_frames(tiny_model, frame):
    s = Settings(imgsz=128, conf=0.001, scale="fixed", method="none")
    memory = render.ScaleMemory()
    dark = (frame * 0.3).astype(np.uint8)
    first = {p.key: p.scale for p in render.panels(frame, analyze_with(tiny_model, frame, s), s, scales=memory)}
    second = {p.key: p.scale for p in render.panels(dark, analyze_with(tiny_model, dark, s), s, scales=memory)}
    sp1, sp2 = first["gam_spatial"], second["gam_spatial"]
    assert sp2.fixed and sp2.lo == pytest.approx(min(sp1.drawn[0], sp2.drawn[0]))
    assert sp2.hi == pytest.approx(max(sp1.drawn[1], sp2.drawn[1]))
    assert "fixed" in sp2.text()
    memory.reset()
    again = {p.key: p.scale for p in render.panels(dark, analyze_with(tiny_model, dark, s), s, scales=memory)}
    assert (again["gam_spatial"].lo, again["gam_spatial"].hi) == pytest.approx(sp2.drawn)
    # per frame: each frame's own range
    pf = {p.key: p.scale for p in render.panels(dark, analyze_with(tiny_model, dark, s), s.updated(scale="per-frame"),
                                                  scales=memory)}
    assert (pf["gam_spatial"].lo, pf["gam_spatial"].hi) == pytest.approx(pf["gam_spatial"].drawn)


def _bar_row_found(tile: np.ndarray, lut: np.ndarray, pad_max: int = 12) -> bool:
    """Whether some row near the bottom of ``tile`` is the colour ramp of ``lut`` (ticks aside)."""
    h, w = tile.shape[:2]
    for pad in range(1, pad_max + 1):
        ramp = cv2.resize(lut.reshape(1, 256, 3), (w - 2 * pad, 1), interpolation=cv2.INTER_LINEAR)[0]
        for y in range(h - 1, max(0, h - 60), -1):
            diff = np.abs(tile[y, pad:w - pad].astype(int) - ramp.astype(int)).max(axis=1)
            if np.median(diff) <= 2 and (diff <= 2).mean() > 0.9:
                return True
    return False


@pytest.mark.parametrize("view", ["gates", "gain"])
def test_every_heatmap_panel_of_an_export_has_a_colour_bar(tiny_model, frame, view):
    s = Settings(imgsz=128, conf=0.001, gam_view=view, colormap="viridis")
    res = analyze_with(tiny_model, frame, s)
    w = frame.shape[1]
    fig = render.compose(frame, res, s, panel_width=w)  # panels at the frame's size: no resampling
    chosen = render.panels(frame, res, s, shown_width=w)
    gap = 4
    for i, p in enumerate(chosen):
        tile = fig[-frame.shape[0]:, i * (w + gap): i * (w + gap) + w]
        if p.key not in HEAT_KEYS:
            assert p.scale is None
            continue
        lut = render.DIVERGING_LUT if p.scale.signed else render.colormap_lut("viridis")
        assert _bar_row_found(tile, lut), (view, p.key)
    # and the detections panel has none (what the check finds is really a colour bar)
    assert not _bar_row_found(fig[-frame.shape[0]:, :w], render.colormap_lut("viridis"))


def test_cli_export_takes_the_scale_and_the_gam_view(tmp_path, tiny_weights, frame):
    from gam_gui import cli

    src = tmp_path / "one.png"
    cv2.imwrite(str(src), frame)
    out = tmp_path / "out"
    assert cli.main(["export", "--source", str(src), "--out", str(out), "--weights", str(tiny_weights),
                     "--conf", "0.001", "--scale", "fixed", "--gam-view", "spatial-gain", "--no-progress"]) == 0
    fig = cv2.imread(str(out / "one_panels.png"))
    assert fig is not None and fig.shape[1] > 3 * frame.shape[1]
    for bad in (["--scale", "sometimes"], ["--gam-view", "gains"]):
        with pytest.raises(SystemExit) as e:
            cli.main(["export", "--source", str(src), "--out", str(out), *bad])
        assert e.value.code == 2


def test_the_bar_is_below_the_picture_never_over_it(analyzed, frame):
    """Issue 25.5: every row of the picture is the heatmap (an object at the bottom edge stays
    visible); the strip under it holds the ramp, and the scale's ends label the bar's ends."""
    res, s = analyzed
    h, w = frame.shape[:2]
    for p in render.panels(frame, res, s, shown_width=w):
        if p.key not in HEAT_KEYS:
            assert p.image.shape[:2] == (h, w)
            continue
        assert p.image.shape[0] == h + render.color_bar_height((h, w), w), p.key
        raw = res.cam if p.key == "cam" else None
        if raw is not None:  # the CAM's picture, drawn again without any bar, is the panel's top part
            bare = cv2.addWeighted(frame, 1 - s.alpha, render.colorize(np.asarray(raw, np.float32), s.colormap),
                                   s.alpha, 0)
            bare = render.draw_boxes_only(bare, res.detections)
            assert np.array_equal(p.image[:h], bare)
        lut = render.DIVERGING_LUT if p.scale.signed else render.colormap_lut(s.colormap)
        assert _bar_row_found(p.image[h:], lut), p.key
        assert not _bar_row_found(p.image[:h], lut), p.key


def test_signed_bar_ends_are_the_scale_ends_and_the_frame_range_is_ticks():
    """A symmetric signed scale ends at -0.224 and +0.224 even when this frame's values are
    -0.0343 ... +0.224 (those are the ticks): the ends' text says the ends."""
    scale = render.ColorScale("channel gate", -0.224, 0.224, (-0.0343, 0.224), signed=True)
    assert scale.end_labels() == ("-0.224", "+0.224")
    img = np.zeros((120, 160, 3), np.uint8)
    out = render.draw_scale_bar(img, scale, 160)
    strip = out[120:]
    style = render.label_style((120, 160), 160)
    ramp_rows = strip[style.pad: style.pad + max(4, style.height // 2)]
    white_cols = np.where((ramp_rows == 255).all(axis=2).all(axis=0))[0]
    x1, x2 = style.pad, 160 - style.pad
    want = int(round(x1 + (-0.0343 + 0.224) / 0.448 * (x2 - x1 - 1)))
    assert np.any(np.abs(white_cols - want) <= 1), (white_cols, want)  # the frame's minimum is a tick


def test_cam_is_shown_relative_to_its_peak_with_the_raw_peak_kept(analyzed, frame):
    res, s = analyzed
    cam = next(p for p in render.panels(frame, res, s) if p.key == "cam")
    assert (cam.scale.lo, cam.scale.hi) == (0.0, 1.0) and "1 = this frame's peak" in cam.scale.label
    assert cam.scale.raw_peak == pytest.approx(res.cam_range[1])
    held = next(p for p in render.panels(frame, res, s.updated(scale="fixed"), scales=render.ScaleMemory())
                if p.key == "cam")
    assert "raw units" in held.scale.label and held.scale.hi == pytest.approx(res.cam_range[1])
