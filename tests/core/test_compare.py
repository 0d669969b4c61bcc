"""A/B comparison of two models on one frame: the same settings for both, every box accounted for,
and a CAM difference that is exactly A - B."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gam_gui.analysis import Settings
from gam_gui.compare import compare
from gam_gui.images import read_image

SAMPLE = Path(__file__).parents[2] / "resources" / "samples" / "shapes_01.jpg"


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


def test_signed_colours_put_zero_at_white_and_keep_the_sign():
    from gam_gui.render import colorize_signed

    m = np.array([[-1.0, 0.0, 1.0, 0.5]], np.float32)
    bgr = colorize_signed(m, 1.0)[0]
    assert tuple(bgr[1]) == (255, 255, 255)
    assert bgr[0][0] > bgr[0][2] and bgr[2][2] > bgr[2][0]  # negative blue, positive red
    # the same value keeps its colour whatever else is in the frame (fixed centre, no min-max stretch)
    assert tuple(colorize_signed(np.array([[0.0, 0.2]]), 1.0)[0][0]) == (255, 255, 255)


def test_match_overlay_draws_lost_dashed_red_and_new_green():
    from gam_gui.inference import Detection
    from gam_gui.matching import match_detections
    from gam_gui.render import LOST_COLOUR, NEW_COLOUR, draw_matches

    frame = np.full((200, 300, 3), 128, np.uint8)
    lost = Detection((20.0, 20.0, 80.0, 80.0), 0.9, 0, "circle")
    new = Detection((150.0, 100.0, 250.0, 180.0), 0.7, 1, "square")
    img = draw_matches(frame, match_detections([lost], [new]))
    bottom_edge = img[80, 20:81]  # the label sits above the box, the bottom edge is the box's alone
    red = np.abs(bottom_edge.astype(int) - LOST_COLOUR).sum(1) < 60
    assert 0.2 < red.mean() < 0.9  # dashed: coloured and uncoloured stretches along the edge
    left_edge = img[110:180, 150]
    assert (np.abs(left_edge.astype(int) - NEW_COLOUR).sum(1) < 60).mean() > 0.9  # solid green


def test_compare_panels_show_both_models_and_the_difference(trained_model):
    from gam_gui.render import compare_panels, compose_panels

    img = read_image(SAMPLE)
    res = compare(trained_model, trained_model, img, imgsz=128)
    ps = compare_panels(img, res, name_a="GAM", name_b="GAM again")
    assert [p.key for p in ps] == ["detections_a", "detections_b", "matches", "cam_a", "cam_b", "cam_diff"]
    assert ps[0].title == "A: GAM" and "CAM A - CAM B" in ps[-1].title
    fig = compose_panels(ps, 320, "grid", 3)
    assert fig.shape[1] == 3 * 320 + 2 * 4


def test_compare_with_a_model_without_the_chosen_gam_block(trained_model):
    """The GAM block shown is chosen on model A; a baseline without GAM still runs (its panels say so)."""
    import torch

    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    baseline = prepare_for_inference(DetectionModel("yolov5n", nc=5), "cpu")
    res = compare(trained_model, baseline, read_image(SAMPLE), imgsz=128, gam_layer=22, method="none")
    assert res.a.gam_for(22).index == 22 and res.b.gam == []
