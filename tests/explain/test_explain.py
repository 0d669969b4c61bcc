"""analyze(): CAM methods through pytorch-grad-cam, YOLO targets, GAM maps, alignment and rendering."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_grad_cam import EigenCAM, GradCAM

import gam_gui
from gam_gui.analysis import Settings, analyze, list_layers, resolve_layers
from gam_gui.explain.cams import METHODS, YoloTarget, canonical_method, top_component_projection
from gam_gui.inference import non_max_suppression, preprocess
from gam_gui.models.yolov5 import DetectionModel
from gam_gui.render import NO_GAM_TEXT, compose, panels

IMGSZ = 256


def stock_cam(cam_cls, model, frame, layers, rows_from="all", conf=0.001, iou=0.45):
    """What a user gets from pytorch-grad-cam's own call, aligned the same way."""
    x, lb = preprocess(model, frame, IMGSZ)
    with torch.no_grad():
        det = non_max_suppression(model(x), conf, iou)[0]
    rows, classes = det[:, 6].long(), det[:, 5].long()
    if rows_from != "all":
        rows, classes = rows[rows_from : rows_from + 1], classes[rows_from : rows_from + 1]
    with cam_cls(model=model, target_layers=[model.model[i] for i in layers]) as cam:
        grayscale = cam(input_tensor=x, targets=[YoloTarget(rows, classes)])[0]
    m = np.maximum(lb.map_to_frame(grayscale), 0)
    return m / m.max()


def test_gradcam_equals_pytorch_grad_cam(tiny_model, frame):
    res = analyze(tiny_model, frame, "gradcam", layers=[18, 22, 26], conf=0.001, imgsz=IMGSZ)
    ref = stock_cam(GradCAM, tiny_model, frame, [18, 22, 26])
    assert res.cam.shape == frame.shape[:2] and res.cam.dtype == np.float32
    assert np.abs(res.cam - ref).max() < 1e-4


def test_single_layer_and_detection_target_equal_library(trained_model, frame):
    res = analyze(trained_model, frame, "GradCAM", layers=[18], target=1, conf=0.001, imgsz=IMGSZ)
    ref = stock_cam(GradCAM, trained_model, frame, [18], rows_from=1)
    assert res.cam.max() == pytest.approx(1.0)
    assert np.abs(res.cam - ref).max() < 1e-4


def test_fast_eigencam_equals_library(tiny_model, frame):
    res = analyze(tiny_model, frame, "eigencam", layers=[18], conf=0.001, imgsz=IMGSZ)
    ref = stock_cam(EigenCAM, tiny_model, frame, [18])
    assert np.abs(res.cam - ref).max() < 1e-3
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    a = np.random.default_rng(0).normal(size=(1, 16, 20, 30)).astype(np.float32)
    assert np.allclose(top_component_projection(a), get_2d_projection(a), atol=1e-4)


def test_detections_equal_detect(tiny_model, frame):
    res = analyze(tiny_model, frame, "gradcam", conf=0.01, imgsz=IMGSZ)
    assert res.detections == gam_gui.detect(tiny_model, frame, conf=0.01, imgsz=IMGSZ)
    assert set(res.timings) >= {"preprocess", "forward", "postprocess", "cam", "gam", "total"}


@pytest.mark.parametrize("method", [m for m in METHODS if m != "none"])
def test_every_method_gives_an_aligned_unit_map(tiny_model, frame, method):
    res = analyze(tiny_model, frame, method, conf=0.001, imgsz=IMGSZ)
    assert res.cam.shape == frame.shape[:2]
    assert res.cam.min() >= 0 and res.cam.max() == pytest.approx(1.0)
    assert np.isfinite(res.cam).all()


def test_method_names_and_errors(tiny_model, frame):
    assert canonical_method("GradCAM++") == "gradcam++"
    assert analyze(tiny_model, frame, "none", imgsz=IMGSZ).cam is None
    with pytest.raises(ValueError, match="gradcam, gradcam\\+\\+"):
        analyze(tiny_model, frame, "scorecam-ish", imgsz=IMGSZ)
    with pytest.raises(ValueError, match="target"):
        analyze(tiny_model, frame, target="biggest", imgsz=IMGSZ)
    with pytest.raises(ValueError, match="out of range"):
        analyze(tiny_model, frame, layers=[99], imgsz=IMGSZ)


def test_index_target_equals_all_with_one_detection(tiny_model, frame):
    dets = gam_gui.detect(tiny_model, frame, conf=0.001, imgsz=IMGSZ)
    # a threshold between the best and second-best score keeps exactly one detection
    conf = (dets[0].score + dets[1].score) / 2
    one_all = analyze(tiny_model, frame, target="all", conf=conf, imgsz=IMGSZ)
    assert len(one_all.detections) == 1
    one_idx = analyze(tiny_model, frame, target=0, conf=conf, imgsz=IMGSZ)
    assert np.abs(one_all.cam - one_idx.cam).max() < 1e-5
    many = analyze(tiny_model, frame, target="all", conf=0.001, imgsz=IMGSZ)
    assert np.abs(many.cam - one_idx.cam).max() > 1e-3  # the target really changes the map


def test_targets_class_box_cls_and_no_detection(tiny_model, frame):
    a = analyze(tiny_model, frame, target="class", conf=0.001, imgsz=IMGSZ)
    b = analyze(tiny_model, frame, target="box", conf=0.001, imgsz=IMGSZ)
    assert np.abs(a.cam - b.cam).max() > 1e-3
    dets = gam_gui.detect(tiny_model, frame, conf=0.001, imgsz=IMGSZ)
    c = analyze(tiny_model, frame, target=f"cls:{dets[0].cls}", conf=0.001, imgsz=IMGSZ)
    assert c.note == "" and "class" in c.target
    none = analyze(tiny_model, frame, conf=0.999, imgsz=IMGSZ)
    assert none.detections == [] and "strongest raw prediction" in none.note
    assert none.cam is not None and none.cam.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="the frame has"):
        analyze(tiny_model, frame, target=5, conf=0.999, imgsz=IMGSZ)


def test_renorm_in_boxes_zeroes_outside(trained_model, frame):
    dets = gam_gui.detect(trained_model, frame, conf=0.001, imgsz=IMGSZ)
    res = analyze(trained_model, frame, conf=dets[2].score - 1e-6, renorm_boxes=True, imgsz=IMGSZ)
    assert len(res.detections) == 3
    mask = np.zeros(frame.shape[:2], bool)
    for d in res.detections:
        x1, y1, x2, y2 = d.xyxy
        mask[int(np.floor(y1)) : int(np.ceil(y2)), int(np.floor(x1)) : int(np.ceil(x2))] = True
    assert res.cam[~mask].max() == 0 and res.cam[mask].max() == pytest.approx(1.0)


def test_gam_maps(trained_model, frame):
    tiny_model = trained_model
    res = analyze(tiny_model, frame, "none", imgsz=IMGSZ)
    assert [g.index for g in res.gam] == [18, 22, 26]
    for g in res.gam:
        for m in (g.channel, g.spatial):
            assert m.shape == frame.shape[:2] and m.dtype == np.float32
            assert m.min() >= 0 and m.max() <= 1 and m.max() > m.min()
        assert g.channel_weights.ndim == 1 and g.channel_weights.size in (64, 128, 256)
    other = analyze(tiny_model, np.ascontiguousarray(frame[::-1]), "none", imgsz=IMGSZ)
    assert np.abs(other.gam[0].spatial - res.gam[0].spatial).max() > 0.05
    mx = analyze(tiny_model, frame, "none", reduction="max", imgsz=IMGSZ)
    assert np.abs(mx.gam[0].channel - res.gam[0].channel).max() > 1e-3


def test_model_without_gam(frame):
    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.models.yolov5 import load_yaml

    d = load_yaml("yolov5n_GAM")
    d["head"] = [r for r in d["head"] if r[2] != "GAM"]
    d["head"][-1][0] = [17, 20, 23]
    m = prepare_for_inference(DetectionModel(d, nc=5), "cpu")
    assert resolve_layers(m, None) == (17, 20, 23)
    res = analyze(m, frame, conf=0.001, imgsz=IMGSZ)
    assert res.gam == [] and res.cam is not None
    ps = panels(frame, res, Settings())
    assert [p.key for p in ps] == ["detections", "cam", "gam_channel", "gam_spatial"]
    assert ps[2].subtitle == "-"
    assert NO_GAM_TEXT  # the panel carries this text, drawn into the image
    assert compose(frame, res).shape[0] > frame.shape[0]


def test_list_layers(tiny_model):
    layers = list_layers(tiny_model, 256)
    assert len(layers) == 28
    assert [x.index for x in layers if x.is_gam] == [18, 22, 26]
    assert layers[18].shape == (64, 32, 32) and layers[18].type == "GAM"


def test_no_hooks_or_grads_leak(tiny_model, frame):
    tiny_model.zero_grad(set_to_none=True)  # the stock-library comparisons above leave weight grads
    before = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in tiny_model.modules())
    for method in ("gradcam", "eigencam", "none"):
        analyze(tiny_model, frame, method, conf=0.01, imgsz=IMGSZ)
    after = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in tiny_model.modules())
    assert before == after
    assert all(p.grad is None for p in tiny_model.parameters())
    assert all(p.requires_grad for p in tiny_model.parameters())


def test_compose_any_aspect(tiny_model):
    from gam_gui.data.shapes import render_sample

    for shape in [(90, 400), (400, 90), (64, 64)]:
        img = render_sample(3, shape).image
        res = analyze(tiny_model, img, conf=0.01, imgsz=IMGSZ)
        row = compose(img, res, Settings(), layout="row")
        grid = compose(img, res, Settings(), layout="grid")
        assert row.ndim == 3 and row.dtype == np.uint8
        assert row.shape[1] > grid.shape[1] and grid.shape[0] > row.shape[0]


def one_object_frame(model, shape=(200, 360)):
    """A non-square rendered frame holding one shape that the model finds (first such seed)."""
    from gam_gui.data.shapes import render_sample
    from gam_gui.train.evaluate import box_iou

    for seed in range(200):
        smp = render_sample(50_000_000 + seed, shape)
        if len(smp.labels) != 1:
            continue
        dets = gam_gui.detect(model, smp.image, conf=0.25, imgsz=320)
        if len(dets) == 1 and box_iou(np.array([dets[0].xyxy]), smp.boxes_xyxy())[0, 0] > 0.5:
            return smp.image, dets[0]
    pytest.fail("no single-object frame found")


def test_cam_peak_lies_inside_its_box_on_non_square_frame(trained_model):
    for shape in [(200, 360), (360, 200)]:
        img, det = one_object_frame(trained_model, shape)
        res = analyze(trained_model, img, "gradcam", target=0, conf=0.25, imgsz=320)
        assert res.detections[0] == det
        py, px = np.unravel_index(np.argmax(res.cam), res.cam.shape)
        x1, y1, x2, y2 = det.xyxy
        assert x1 <= px <= x2 and y1 <= py <= y2, (shape, (px, py), det.xyxy)
