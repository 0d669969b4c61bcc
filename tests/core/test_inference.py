"""detect(): letterbox, forward, NMS and scale-back on frames of any shape and colour layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gam_gui
from gam_gui.images import ImageError, to_bgr
from gam_gui.inference import Letterbox, letterbox, non_max_suppression


@pytest.mark.parametrize("shape", [(120, 300), (300, 120), (97, 97), (1, 1), (480, 640)])
def test_letterbox_round_trip(shape):
    img = np.zeros(shape + (3,), np.uint8)
    out, lb = letterbox(img, 320, 32)
    assert out.shape[0] % 32 == 0 and out.shape[1] % 32 == 0
    assert max(out.shape[:2]) <= 320 + 31
    # a box in frame pixels -> input pixels -> back
    h, w = shape
    box = torch.tensor([[0.1 * w, 0.2 * h, 0.9 * w, 0.7 * h]])
    inp = box * lb.gain + torch.tensor([lb.pad[0], lb.pad[1], lb.pad[0], lb.pad[1]])
    assert torch.allclose(lb.to_frame(inp), box, atol=1e-3)


def test_map_to_frame_undoes_padding():
    """A peak placed where a frame point lands in the letterboxed input maps back onto that point."""
    frame = np.zeros((100, 300, 3), np.uint8)
    _, lb = letterbox(frame, 320, 32)
    fx, fy = 240, 20  # a point of the frame
    ix, iy = fx * lb.gain + lb.pad[0], fy * lb.gain + lb.pad[1]
    ih, iw = lb.input_shape
    m = np.zeros((ih // 8, iw // 8), np.float32)  # a stride-8 feature map
    m[int(iy // 8), int(ix // 8)] = 1
    back = lb.map_to_frame(m)
    assert back.shape == (100, 300)
    py, px = np.unravel_index(np.argmax(back), back.shape)
    assert abs(px - fx) <= 8 / lb.gain and abs(py - fy) <= 8 / lb.gain


def test_nms_is_class_aware_and_sorted():
    pred = torch.zeros(1, 4, 7)
    # two overlapping boxes of different classes survive; same class -> only the best
    pred[0, 0] = torch.tensor([50, 50, 20, 20, 0.9, 1.0, 0.0])
    pred[0, 1] = torch.tensor([51, 51, 20, 20, 0.8, 1.0, 0.0])
    pred[0, 2] = torch.tensor([51, 51, 20, 20, 0.95, 0.0, 1.0])
    pred[0, 3] = torch.tensor([10, 10, 5, 5, 0.1, 1.0, 0.0])
    det = non_max_suppression(pred, 0.25, 0.45)[0]
    assert det[:, 4].tolist() == pytest.approx([0.95, 0.9])
    assert det[:, 5].tolist() == [1.0, 0.0]
    assert det[:, 6].tolist() == [2.0, 0.0]  # the prediction rows they came from


def torch_nms_reference(pred, conf, iou):
    """The same selection written with torch ops only, as YOLOv5 writes it (the oracle)."""
    import torchvision

    out = []
    for x in pred:
        idx = torch.arange(x.shape[0])
        keep = x[:, 4] > conf
        x, idx = x[keep], idx[keep]
        score, c = (x[:, 5:] * x[:, 4:5]).max(1) if x.shape[1] > 5 else (x[:, 4], torch.zeros(len(x), dtype=torch.long))
        keep = score > conf
        x, score, c, idx = x[keep], score[keep], c[keep], idx[keep]
        boxes = torch.cat((x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2), 1)
        k = torchvision.ops.batched_nms(boxes, score, c, iou)[:300]
        out.append(torch.cat((boxes[k], score[k, None], c[k, None].float(), idx[k, None].float()), 1))
    return out


@pytest.mark.parametrize("nc, n, conf", [(3, 500, 0.3), (0, 400, 0.5), (80, 6000, 0.05), (5, 50, 0.99)])
def test_nms_equals_the_torch_formulation_bit_for_bit(nc, n, conf):
    g = torch.Generator().manual_seed(nc + n)
    pred = torch.rand(2, n, 5 + nc, generator=g)
    pred[..., :2] *= 200
    pred[..., 2:4] *= 40
    pred[0, : n // 4, 4:] = 0.7  # ties in objectness and class scores
    for got, ref in zip(non_max_suppression(pred, conf, 0.45), torch_nms_reference(pred, conf, 0.45), strict=True):
        assert got.shape == ref.shape and torch.equal(got, ref)
    assert sum(len(d) for d in non_max_suppression(pred, conf, 0.45)) > 0 or conf > 0.9


def test_detect_returns_frame_pixel_records(tiny_model, frame):
    dets = gam_gui.detect(tiny_model, frame, conf=0.001, iou=0.45, imgsz=256)
    assert dets and isinstance(dets[0], gam_gui.Detection)
    h, w = frame.shape[:2]
    scores = [d.score for d in dets]
    assert scores == sorted(scores, reverse=True)
    for d in dets:
        x1, y1, x2, y2 = d.xyxy
        assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
        assert d.name == tiny_model.names[d.cls]
    # gray and BGRA inputs give the same result as their BGR equivalent
    gray = frame[:, :, 1].copy()
    assert gam_gui.detect(tiny_model, gray, conf=0.001, imgsz=256) == \
        gam_gui.detect(tiny_model, to_bgr(gray), conf=0.001, imgsz=256)
    bgra = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
    assert gam_gui.detect(tiny_model, bgra, conf=0.001, imgsz=256) == dets


def test_detect_rejects_non_images(tiny_model):
    with pytest.raises(ImageError):
        gam_gui.detect(tiny_model, np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageError):
        gam_gui.detect(tiny_model, "not an array")


def test_letterbox_dataclass_content_box():
    lb = Letterbox(0.5, (0.0, 16.0), (100, 200), (96, 128))
    assert lb.content_box() == (0, 16, 100, 66)
