"""Deletion/insertion on a detector whose answer is known, and the model-free scores on hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gam_gui.faithfulness import (
    FaithfulnessScore,
    TrackedScore,
    auc,
    energy_in_box,
    measure,
    pointing,
    step_masks,
)
from gam_gui.inference import Detection

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SIZE = 64
REGION = (8, 8, 24, 24)  # x1, y1, x2, y2 of the only pixels the toy detector looks at (1/16 of the frame)


class RegionDetector(nn.Module):
    """A "detector" in YOLOv5's output layout that only looks at REGION: one prediction, box REGION,
    class 0, objectness sigmoid(20 * (mean brightness of REGION - 0.5)); a second, far prediction of
    class 1 that never matches."""

    stride = torch.tensor([32.0])
    names = {0: "square", 1: "other"}

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(len(x))
        x1, y1, x2, y2 = REGION
        obj = torch.sigmoid(20 * (x[:, :, y1:y2, x1:x2].mean((1, 2, 3)) - 0.5))
        b = len(x)
        row = torch.stack([torch.full((b,), (x1 + x2) / 2), torch.full((b,), (y1 + y2) / 2),
                           torch.full((b,), float(x2 - x1)), torch.full((b,), float(y2 - y1)), obj,
                           torch.ones(b), torch.zeros(b)], 1)
        far = torch.tensor([56.0, 56.0, 8.0, 8.0, 0.9, 0.0, 1.0]).expand(b, 7)
        return torch.stack([row, far], 1)


@pytest.fixture()
def scene():
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    x1, y1, x2, y2 = REGION
    img[y1:y2, x1:x2] = 255
    right = np.zeros((SIZE, SIZE), np.float32)
    right[y1:y2, x1:x2] = 1.0  # the map that names the region the detector uses
    right += np.linspace(0, 0.1, SIZE * SIZE, dtype=np.float32).reshape(SIZE, SIZE)  # a strict order elsewhere
    wrong = 1.0 - right  # the region last
    det = Detection(tuple(map(float, REGION)), 0.99, 0, "square")
    return img, right, wrong, det


@pytest.mark.parametrize("baseline", ["blur", "mean"])
def test_deletion_insertion_on_a_detector_with_a_known_answer(scene, baseline):
    img, right, wrong, det = scene
    model = RegionDetector()
    good = measure(model, img, right, det, steps=16, baseline=baseline, imgsz=SIZE)
    bad = measure(model, img, wrong, det, steps=16, baseline=baseline, imgsz=SIZE)
    assert isinstance(good, FaithfulnessScore)
    assert model.calls == [32, 32]  # one batched forward of 2 * steps frames per measurement
    assert good.deletion[0] > 0.99 and good.insertion[-1] > 0.99  # the unperturbed frame
    # deletion in the right order kills the score at the first step; the wrong order keeps it
    assert good.deletion[1] < 0.1  # from 0.99: the blurred region still scores ~0.08
    assert bad.deletion[1] > 0.99 and bad.deletion[14] > 0.99
    # insertion: the right order restores it at the first step, the wrong order only at the end
    assert good.insertion[0] < 0.1 and good.insertion[1] > 0.99
    assert bad.insertion[14] < 0.1
    assert good.deletion_auc < 0.15 and bad.deletion_auc > 0.9
    assert good.insertion_auc > 0.9 and bad.insertion_auc < 0.15
    assert len(good.fractions) == len(good.deletion) == len(good.insertion) == 17
    assert good.pointing and not bad.pointing
    x1, y1, x2, y2 = REGION
    assert good.energy_in_box == pytest.approx(right[y1:y2, x1:x2].sum() / right.sum())
    assert bad.energy_in_box == 0.0  # the region is where the wrong map is at or below 0
    assert good.to_dict()["deletion_auc"] == round(good.deletion_auc, 5)


def test_chunked_batches_give_the_same_curves(scene):
    img, right, _, det = scene
    model = RegionDetector()
    one = measure(model, img, right, det, steps=8, imgsz=SIZE)
    chunked = measure(model, img, right, det, steps=8, imgsz=SIZE, max_batch=5)
    assert model.calls == [16, 5, 5, 5, 1]
    np.testing.assert_allclose(one.deletion, chunked.deletion, atol=1e-6)
    np.testing.assert_allclose(one.insertion, chunked.insertion, atol=1e-6)


def test_tracked_score_needs_the_same_class_and_overlap():
    pred = torch.tensor([[16.0, 16.0, 16.0, 16.0, 0.8, 0.9, 0.1],   # class 0 at the box: 0.72
                         [16.0, 16.0, 16.0, 16.0, 0.9, 0.1, 0.95],  # class 1 at the box
                         [50.0, 50.0, 16.0, 16.0, 0.99, 1.0, 0.0]])  # class 0, elsewhere
    assert float(TrackedScore((8, 8, 24, 24), 0)(pred)) == pytest.approx(0.72)
    assert float(TrackedScore((8, 8, 24, 24), 1)(pred)) == pytest.approx(0.855)
    assert float(TrackedScore((8, 8, 24, 24), 2)(pred)) == 0.0
    assert float(TrackedScore((30, 30, 40, 40), 1)(pred)) == 0.0  # class 1 exists, but not there


def test_tracked_score_reads_the_anchor_free_layout_through_the_head_adapter():
    """A YOLOv8/YOLO11 output is (4 + nc, N) per image, class scores without objectness."""
    from test_yolov8 import tiny

    from gam_gui.heads import AnchorFreeAdapter, adapter_for
    from gam_gui.models.yolov5 import DetectionModel

    cols = torch.tensor([[16.0, 50.0], [16.0, 50.0], [16.0, 16.0], [16.0, 16.0],  # xywh
                         [0.7, 0.99],    # class 0
                         [0.2, 0.0]])    # class 1
    adapter = adapter_for(DetectionModel(tiny("yolov8n-GAM")))
    assert isinstance(adapter, AnchorFreeAdapter)
    assert float(TrackedScore((8, 8, 24, 24), 0, adapter=adapter)(cols)) == pytest.approx(0.7)
    assert float(TrackedScore((8, 8, 24, 24), 1, adapter=adapter)(cols)) == 0.0  # its best class is 0


def test_energy_in_box_and_pointing_on_hand_made_maps():
    cam = np.zeros((40, 60), np.float32)
    cam[10:20, 10:20] = 1.0  # 100 units inside
    cam[30:35, 40:50] = 2.0  # 100 units outside, and the peak
    assert energy_in_box(cam, (10, 10, 20, 20)) == pytest.approx(0.5)
    assert energy_in_box(cam, (0, 0, 60, 40)) == pytest.approx(1.0)
    assert energy_in_box(np.zeros((4, 4)), (0, 0, 2, 2)) == 0.0
    assert not pointing(cam, (10, 10, 20, 20))
    assert pointing(cam, (40, 30, 50, 35))
    cam[15, 15] = 3.0
    assert pointing(cam, (10, 10, 20, 20))


def test_step_masks_are_nested_and_follow_the_ranking():
    cam = np.arange(12, dtype=np.float32).reshape(3, 4)
    masks, fr = step_masks(cam, 4)
    assert fr.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert [int(m.sum()) for m in masks] == [0, 3, 6, 9, 12]
    assert masks[1].ravel().tolist() == [False] * 9 + [True] * 3  # the three highest first
    assert all((masks[k] <= masks[k + 1]).all() for k in range(4))
    assert auc(np.array([0, 0.5, 1]), np.array([1, 1, 0])) == pytest.approx(0.75)


def test_measure_refuses_bad_arguments(scene):
    img, right, _, det = scene
    with pytest.raises(ValueError, match="baseline"):
        measure(RegionDetector(), img, right, det, baseline="road")
    with pytest.raises(ValueError, match="steps"):
        measure(RegionDetector(), img, right, det, steps=0)
    with pytest.raises(ValueError, match="map"):
        measure(RegionDetector(), img, right[:10], det)


def test_eval_faithfulness_prints_a_table_per_method_and_json(capsys):
    """``gam-gui eval --faithfulness`` on one validation image at a small size: the table on stderr,
    the scores in the JSON, the same numbers in both."""
    import json

    from gam_gui.train.evaluate import main

    assert main(["--images", "1", "--imgsz", "128", "--faithfulness", "--methods", "gradcam", "hirescam",
                 "--steps", "2", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    fa = json.loads(out)["extra"]["faithfulness"]
    assert fa["detections"] > 0 and fa["steps"] == 2 and fa["imgsz"] == 128
    assert list(fa["methods"]) == ["gradcam", "hirescam"]
    for method, r in fa["methods"].items():
        assert 0 <= r["pointing"] <= 1 and 0 <= r["energy_in_box"] <= 1
        row = f"| {method} | {r['pointing']:.3f} | {r['energy_in_box']:.3f} | {r['deletion_auc']:.3f} | " \
              f"{r['insertion_auc']:.3f} |"
        assert row in err
