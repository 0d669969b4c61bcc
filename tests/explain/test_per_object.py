"""Per-object explanations point at the object: with default settings, a CAM targeted at one of several
objects of the same class (a click in the window, ``--target i``) peaks inside that object's box."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from gam_gui.analysis import Settings, analyze, analyze_with
from gam_gui.data.shapes import render_sample

IMGSZ = 256


def crowded_frames(model, n_frames: int = 3, seed0: int = 9000):
    """Generated frames where some class is detected at least twice, with those detections' indices."""
    out = []
    for seed in range(seed0, seed0 + 200):
        img = render_sample(seed, 256, max_objects=10).image
        dets = analyze(model, img, "none", imgsz=IMGSZ).detections
        counts = Counter(d.cls for d in dets)
        same = [i for i, d in enumerate(dets) if counts[d.cls] >= 2]
        if same:
            out.append((img, dets, same))
        if len(out) == n_frames:
            return out
    pytest.fail("no generated frame with two detections of one class")


def inside(cam: np.ndarray, xyxy) -> bool:
    py, px = np.unravel_index(int(np.argmax(cam)), cam.shape)
    x1, y1, x2, y2 = xyxy
    return bool(x1 <= px <= x2 and y1 <= py <= y2)


def test_default_per_object_cam_peaks_inside_the_clicked_object(trained_model):
    hits = total = 0
    for img, dets, same in crowded_frames(trained_model):
        for i in same:
            res = analyze_with(trained_model, img, Settings(target=i, imgsz=IMGSZ))  # what a click runs
            assert res.method_key == "hirescam" and not res.class_level and res.detections == dets
            hits += inside(res.cam, dets[i].xyxy)
            total += 1
    assert total >= 10 and hits / total >= 0.95, f"{hits}/{total}"


def test_auto_is_grad_cam_for_several_and_class_level_is_reported(trained_model):
    img, dets, same = crowded_frames(trained_model, 1)[0]
    several = analyze_with(trained_model, img, Settings(imgsz=IMGSZ))
    assert several.method_key == "gradcam" and several.method == "Grad-CAM" and not several.note
    one = analyze(trained_model, img, "gradcam", target=same[0], imgsz=IMGSZ)
    assert one.class_level and "every similar object" in one.note
    lo, hi = one.cam_range
    assert 0 <= lo < hi  # the method's own values, before the map was scaled to [0, 1]


def test_one_forward_gives_every_methods_per_object_maps_as_analyze_does(trained_model):
    """The pointing game and the faithfulness evaluation share one forward per image across methods
    (issue 25.8); each map must still be the one a click shows (``analyze(..., target=i).cam``)."""
    import torch

    from gam_gui.faithfulness.maps import frame_maps
    from gam_gui.train.pointing import pointing_game

    img, dets, _ = crowded_frames(trained_model, 1)[0]
    calls: list[int] = []
    hook = trained_model.register_forward_pre_hook(lambda _m, a: calls.append(1))
    try:
        fm = frame_maps(trained_model, img, ["gradcam", "hirescam", "eigencam", "auto"], imgsz=IMGSZ)
    finally:
        hook.remove()
    assert len(calls) == 1 and fm.detections == dets
    assert fm.maps_in["auto"] is fm.maps_in["hirescam"]  # auto is HiResCAM for one object: made once
    for i in (0, len(dets) - 1):
        for method in ("gradcam", "hirescam", "eigencam"):
            want = analyze(trained_model, img, method, target=i, imgsz=IMGSZ).cam
            np.testing.assert_allclose(fm.frame_map(method, i), want, atol=1e-5)
    # the pointing game over an image iterable: arrays, (image, boxes, classes) tuples, unreadable samples skipped
    class Unreadable:
        image = None

    with torch.enable_grad():
        r = pointing_game(trained_model, imgsz=IMGSZ, methods=("hirescam",),
                          images=[img, (img, np.zeros((0, 4)), np.zeros(0)), Unreadable()], progress=False)
    hits = sum(inside(fm.frame_map("hirescam", i), d.xyxy) for i, d in enumerate(dets))
    assert r["images"] == 2 and r["detections"] == 2 * len(dets)
    assert r["hirescam"] == round(hits / len(dets), 4)
