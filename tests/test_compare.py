"""A/B comparison of two models on one frame: the same settings for both, every box accounted for,
and a CAM difference that is exactly A - B."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gam_gui.analysis import Settings
from gam_gui.compare import compare
from gam_gui.images import read_image

SAMPLE = Path(__file__).parents[1] / "resources" / "samples" / "shapes_01.jpg"


def test_compare_two_checkpoints(trained_model, tiny_loaded):
    img = read_image(SAMPLE)
    s = Settings(imgsz=192, method="gradcam", conf=0.05)
    res = compare(trained_model, tiny_loaded, img, s)
    assert res.a.detections and res.a.cam is not None and res.b.cam is not None
    assert len(res.both) + len(res.a_only) == len(res.a.detections)
    assert len(res.both) + len(res.b_only) == len(res.b.detections)
    assert np.allclose(res.diff, res.a.cam - res.b.cam, atol=1e-6)
    lo, hi = res.diff_range()
    assert -1.0 <= lo <= hi <= 1.0 and hi > lo
    d = res.to_dict()
    assert {m["status"] for m in d["matches"]} <= {"both", "a_only", "b_only"}
    assert d["summary"] == res.summary()


def test_compare_a_model_with_itself_is_all_shared_and_zero(trained_model):
    img = read_image(SAMPLE)
    res = compare(trained_model, trained_model, img, imgsz=192, method="hirescam")
    assert res.a.detections and not res.a_only and not res.b_only
    assert all(m.delta == 0 for m in res.both)
    assert np.abs(res.diff).max() < 1e-5
    assert res.summary().startswith(f"{len(res.both)} both (mean +0.00), 0 A only, 0 B only")
