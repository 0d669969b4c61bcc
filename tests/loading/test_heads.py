"""The head adapters (gam_gui.heads): the anchor-free ultralytics layout through NMS, CAM targets and
the closed-form start of the backward, each checked against pytorch-grad-cam's own call or autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import perturbed
from pytorch_grad_cam import GradCAM, HiResCAM

import gam_gui
from gam_gui.analysis import analyze, per_detection_cams
from gam_gui.explain import engine as engine_mod
from gam_gui.explain.cams import HeadCapture, YoloTarget, head_gradients
from gam_gui.heads import AnchorAdapter, AnchorFreeAdapter, adapter_for, det_classes, det_rows
from gam_gui.inference import non_max_suppression, preprocess

IMGSZ = 96
LOW = 1e-7  # an untrained anchor-free head's class scores are tiny (its bias starts near -10)


@pytest.fixture(scope="module")
def v8():
    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    return prepare_for_inference(perturbed(DetectionModel("yolov8n-GAM", nc=3)), "cpu")


@pytest.fixture(scope="module")
def img():
    from gam_gui.data.shapes import render_sample

    return render_sample(5, (96, 128)).image


def stock(cls, model, img, rows, classes, mode="all"):
    """pytorch-grad-cam's own call on the model's raw (B, 4 + nc, N) output, frame-aligned, unit-scaled."""
    x, lb = preprocess(model, img, IMGSZ)
    layers = [model.model[i] for i in gam_gui.analysis.default_layers(model)]
    with cls(model=model, target_layers=layers) as cam:
        g = cam(input_tensor=x, targets=[YoloTarget(rows, classes, mode, adapter_for(model))])[0]
    model.zero_grad(set_to_none=True)
    m = np.maximum(lb.map_to_frame(g), 0)
    return m / m.max() if m.max() > 0 else m


def dets(model, img):
    x, _ = preprocess(model, img, IMGSZ)
    a = adapter_for(model)
    with torch.no_grad():
        return non_max_suppression(a.rows(model(x)), LOW, 0.45, adapter=a)[0], x


def test_adapter_kinds(v8, tiny_model):
    assert isinstance(adapter_for(v8), AnchorFreeAdapter) and not adapter_for(v8).objectness
    assert isinstance(adapter_for(tiny_model), AnchorAdapter) and adapter_for(tiny_model).objectness
    assert adapter_for(torch.nn.Linear(2, 2)).score_convs == []  # no layer list: no head structure


def test_anchor_free_nms_reads_class_scores_without_objectness():
    a = AnchorFreeAdapter.__new__(AnchorFreeAdapter)  # the layout alone, no head
    # rows: xywh, 2 class scores; an objectness reading would take 0.9 / 0.05 as objectness
    rows = torch.tensor([[[50, 50, 20, 20, 0.9, 0.2], [52, 50, 20, 20, 0.05, 0.8], [10, 10, 4, 4, 0.1, 0.1]]])
    det = non_max_suppression(rows, 0.25, 0.45, adapter=a)[0]
    assert det_rows(det).tolist() == [0, 1]  # overlapping but of different classes: both kept
    assert det_classes(det).tolist() == [0, 1]
    np.testing.assert_allclose(det[:, 4].numpy(), [0.9, 0.8])
    np.testing.assert_allclose(det[0, :4].numpy(), [40, 40, 60, 60])


def test_detect_and_analyze_agree_on_anchor_free(v8, img):
    res = analyze(v8, img, "none", conf=LOW, imgsz=IMGSZ)
    assert len(res.detections) >= 4
    assert res.detections == gam_gui.detect(v8, img, conf=LOW, imgsz=IMGSZ)


@pytest.mark.parametrize("mode", ["all", "class"])
def test_closed_form_class_score_gradient_equals_autograd(v8, img, mode):
    det, x = dets(v8, img)
    a = adapter_for(v8)
    head = HeadCapture(a)
    try:
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)
            pred = a.rows(v8(x))
            target = YoloTarget(det_rows(det), det_classes(det), mode, a)
            auto = torch.autograd.grad(target.scores(pred[0]).sum(), head.inputs, retain_graph=True)
        closed = head_gradients(target, pred, head.inputs, head)
    finally:
        head.release()
    assert sum(float(t.abs().max() > 0) for t in auto) >= 2  # targets on more than one level
    for t, c in zip(auto, closed, strict=True):
        c = torch.zeros_like(t) if c is None else c
        assert torch.allclose(t, c, rtol=1e-5, atol=1e-6 * float(t.abs().max()) + 1e-30)


@pytest.mark.parametrize("mode", ["all", "box"])
def test_anchor_free_cam_equals_library(v8, img, mode):
    det, _ = dets(v8, img)
    res = analyze(v8, img, "gradcam", target=mode, conf=LOW, imgsz=IMGSZ)
    ref = stock(GradCAM, v8, img, det_rows(det), det_classes(det), mode)
    assert res.method_key == "gradcam" and np.abs(res.cam - ref).max() < 1e-5


def test_anchor_free_per_detection_cams_equal_library_and_autograd_route(v8, img, monkeypatch):
    det, _ = dets(v8, img)
    idx = [0, 1, len(det) - 1]
    fast = per_detection_cams(v8, img, idx, "hirescam", conf=LOW, imgsz=IMGSZ)
    for k, m in zip(idx, fast, strict=True):
        ref = stock(HiResCAM, v8, img, det_rows(det)[k : k + 1], det_classes(det)[k : k + 1])
        assert np.abs(m - ref).max() < 1e-5
    monkeypatch.setattr(engine_mod.explainer(v8).adapter, "logit_scales", None)  # no closed form
    slow = per_detection_cams(v8, img, idx, "hirescam", conf=LOW, imgsz=IMGSZ)
    assert len(fast) > 0
    for a, b in zip(fast, slow, strict=True):
        assert np.abs(a - b).max() < 1e-5
