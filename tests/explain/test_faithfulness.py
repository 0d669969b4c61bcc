"""Deletion/insertion on a detector whose answer is known, and the model-free scores on hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gam_gui.faithfulness import (
    FLAG_RANDOM,
    MAX_STEPS,
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
    good = measure(model, img, right, det, steps=16, baseline=baseline, imgsz=SIZE, references=False)
    bad = measure(model, img, wrong, det, steps=16, baseline=baseline, imgsz=SIZE, references=False)
    assert isinstance(good, FaithfulnessScore)
    # one batched forward of the 2 * steps distinct frames per measurement; no ties, so the 4 tie
    # orders are one order and cost nothing more
    assert model.calls == [32, 32]
    assert good.tied_fraction == 0.0 and good.tie_orders == 1
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
    one = measure(model, img, right, det, steps=8, imgsz=SIZE, references=False)
    chunked = measure(model, img, right, det, steps=8, imgsz=SIZE, max_batch=5, references=False)
    assert model.calls == [16, 5, 5, 5, 1]
    np.testing.assert_allclose(one.deletion, chunked.deletion, atol=1e-6)
    np.testing.assert_allclose(one.insertion, chunked.insertion, atol=1e-6)


def test_progress_follows_the_batches_and_raising_in_it_stops_the_measurement(scene):
    img, right, _, det = scene
    seen: list[tuple[int, int]] = []
    model = RegionDetector()
    measure(model, img, right, det, steps=8, imgsz=SIZE, max_batch=5, references=False,
            progress=lambda d, t: seen.append((d, t)))
    assert len(seen) == len(model.calls) + 1 and seen[-1] == (18, 18)  # one call per batch, then the end
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    class StopError(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise StopError

    model = RegionDetector()
    with pytest.raises(StopError):
        measure(model, img, right, det, steps=8, imgsz=SIZE, max_batch=5, references=False, progress=stop)
    assert model.calls == [5]  # nothing ran after the first batch


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
        measure(RegionDetector(), img, right, det, baseline="nope")
    with pytest.raises(ValueError, match="steps"):
        measure(RegionDetector(), img, right, det, steps=0)
    with pytest.raises(ValueError, match="steps"):
        measure(RegionDetector(), img, right, det, steps=MAX_STEPS + 1)
    with pytest.raises(ValueError, match="tie_orders"):
        measure(RegionDetector(), img, right, det, tie_orders=0)
    with pytest.raises(ValueError, match="map"):
        measure(RegionDetector(), img, right[:10], det)


def test_eval_faithfulness_prints_a_table_per_method_and_json(capsys):
    """``gam-gui eval --faithfulness --sanity`` on one validation image at a small size: the table on
    stderr; the scores, intervals, tied fractions, both reference rows and the sanity check's rank
    correlations in strict JSON; the same numbers in both."""
    import json

    from gam_gui.faithfulness.sanity import FLAG, INSENSITIVE
    from gam_gui.train.evaluate import main

    assert main(["--images", "1", "--imgsz", "128", "--faithfulness", "--sanity", "--methods", "hirescam",
                 "eigencam", "--steps", "2", "--tie-orders", "2", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    fa = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))["extra"]["faithfulness"]
    assert fa["detections"] > 0 and fa["steps"] == 2 and fa["imgsz"] == 128 and fa["tie_orders"] == 2
    assert list(fa["methods"]) == ["hirescam", "eigencam", "random", "box"]
    for method, r in fa["methods"].items():
        assert 0 <= r["pointing"] <= 1 and 0 <= r["energy_in_box"] <= 1 and 0 <= r["tied_fraction"] <= 1
        for key in ("deletion_auc", "insertion_auc"):
            lo, hi = r["ci95"][key]
            assert lo <= r[key] <= hi
        assert f"| {method} | {r['pointing']:.3f} | {r['energy_in_box']:.3f} | {r['deletion_auc']:.3f} [" in err
    assert fa["methods"]["box"]["tied_fraction"] == 1.0
    sanity = fa["sanity"]
    assert set(sanity) == {"hirescam", "eigencam"} and "rank corr, head random" in err
    for r in sanity.values():
        assert -1 <= r["rank_corr"] <= 1 and r["ci95"][0] <= r["rank_corr"] <= r["ci95"][1]
        assert (FLAG in r["flags"]) == (r["rank_corr"] > INSENSITIVE)
        assert r["cascade"][0]["randomized"] == "head" and r["cascade"][-1]["rank_corr"] == r["rank_corr"]
    # EigenCAM ignores the head: randomising the head alone leaves its map as it was
    assert sanity["eigencam"]["cascade"][0]["rank_corr"] == pytest.approx(1.0)


class PlacedDetector(nn.Module):
    """A toy detector for an object anywhere: one prediction at ``box``, class 0, whose confidence
    is (how red the box still is) x (how much of the checkerboard texture is left in the band of
    rows around it). The texture term makes the score depend on pixels outside the box, so the
    order in which a map's tied outside pixels come back shows in the curves."""

    stride = torch.tensor([32.0])
    names = {0: "square"}

    def __init__(self, box: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.box = box

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, y1, x2, y2 = self.box
        red = (x[:, 2, y1:y2, x1:x2] - x[:, 1, y1:y2, x1:x2]).mean((1, 2)).clamp(0, 1)  # BGR -> RGB order: R is 0
        band = x[:, 1, max(0, y1 - 8) : y2 + 8, :]
        texture = ((band - 0.5).abs() * 2).mean((1, 2)).clamp(0, 1)
        b = len(x)
        row = torch.stack([torch.full((b,), (x1 + x2) / 2), torch.full((b,), (y1 + y2) / 2),
                           torch.full((b,), float(x2 - x1)), torch.full((b,), float(y2 - y1)), red * texture,
                           torch.ones(b)], 1)
        return row[:, None, :]


def placed_scene(top: bool):
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    img[..., 1] = img[..., 0] = ((np.indices((SIZE, SIZE)).sum(0) % 2) * 255).astype(np.uint8)  # checkerboard
    box = (28, 4, 36, 12) if top else (28, 52, 36, 60)
    x1, y1, x2, y2 = box
    img[y1:y2, x1:x2] = (0, 0, 255)  # a red object (BGR)
    cam = np.zeros((SIZE, SIZE), np.float32)
    cam[y1:y2, x1:x2] = 1.0  # the box-indicator map: everything else is one big tie
    return img, cam, Detection(tuple(map(float, box)), 0.99, 0, "square"), box


def test_a_box_indicator_map_scores_the_same_at_the_top_or_the_bottom_of_the_frame():
    """Issue 23: with ties in raster order the insertion curve of the top object brought its
    surroundings back first. With random tie orders both placements get the same curves."""
    curves = {}
    for top in (True, False):
        img, cam, det, box = placed_scene(top)
        s = measure(PlacedDetector(box), img, cam, det, steps=8, baseline="mean", imgsz=SIZE, tie_orders=4,
                    references=False)
        assert s.tied_fraction == 1.0 and s.tie_orders == 4
        curves[top] = s
    np.testing.assert_allclose(curves[True].insertion, curves[False].insertion, atol=0.06)
    np.testing.assert_allclose(curves[True].deletion, curves[False].deletion, atol=0.06)
    assert abs(curves[True].insertion_auc - curves[False].insertion_auc) < 0.03
    # the raster order the old stable sort used does favour the top object: its band comes back first
    _, cam, _, _ = placed_scene(True)
    raster, _ = step_masks(cam, 8)
    rnd, _ = step_masks(cam, 8, np.random.default_rng(0))
    assert raster[2][:12].mean() > 0.9 and rnd[2][:12].mean() < 0.4


def test_references_are_measured_beside_the_map_and_flag_a_bad_one(scene):
    img, right, wrong, det = scene
    model = RegionDetector()
    bad = measure(model, img, wrong, det, steps=8, imgsz=SIZE, tie_orders=2)
    assert set(bad.references) == {"random", "box"}
    box = bad.references["box"]
    assert box.tied_fraction == 1.0 and box.energy_in_box == 1.0 and box.pointing
    assert bad.references["random"].tied_fraction < 0.01
    assert FLAG_RANDOM in bad.flags
    good = measure(model, img, right, det, steps=8, imgsz=SIZE, tie_orders=2)
    assert FLAG_RANDOM not in good.flags
    assert good.to_dict()["references"]["box"]["deletion_auc"] == round(good.references["box"].deletion_auc, 5)
    # one forward per batch: every map's distinct frames together (the box map's 2 orders included)
    assert len(model.calls) == 4 and sum(model.calls[2:]) <= 2 + 14 + 14 * 2 + 14 * 2


def test_road_fill_imputes_a_hole_from_its_neighbours_and_leaves_no_shape():
    from gam_gui.faithfulness.impute import linear_impute

    img = np.full((96, 96, 3), 0.2, np.float32)
    img[:, 48:] = 0.8  # two halves
    img[40:56, 20:28] = img[44:52, 12:36] = 0.0  # a black cross in the left half
    keep = np.ones((96, 96), bool)
    keep[40:56, 20:28] = keep[44:52, 12:36] = False  # remove exactly the cross
    fill = linear_impute(img, keep)
    hole = fill[~keep]
    assert np.abs(hole - 0.2).max() < 0.05  # the cross becomes its background: no cross left
    assert abs(float(fill[10, 90, 0]) - 0.8) < 0.05
    assert np.allclose(linear_impute(img, np.zeros((96, 96), bool)), img.mean((0, 1)))


def test_summary_rows_carry_intervals_and_a_method_without_detection_is_null():
    from gam_gui import jsonio
    from gam_gui.faithfulness.summary import bootstrap_ci, flag_rows, summary_row

    assert bootstrap_ci([]) is None
    lo, hi = bootstrap_ci([0.1, 0.2, 0.3, 0.9])
    assert lo <= 0.375 <= hi
    empty = summary_row([])
    assert empty["deletion_auc"] is None and empty["note"] and empty["ci95"]["deletion_auc"] is None
    rows = {"m": empty, "random": empty, "box": empty}
    flag_rows(rows)
    assert jsonio.dumps(rows).count("null") >= 6


def test_eval_steps_above_the_maximum_is_a_usage_error_naming_steps(capsys):
    from gam_gui.faithfulness import MAX_STEPS
    from gam_gui.train.args import MAX_FAITHFULNESS_STEPS
    from gam_gui.train.evaluate import main

    assert MAX_FAITHFULNESS_STEPS == MAX_STEPS
    with pytest.raises(SystemExit) as e:
        main(["--faithfulness", "--steps", "3000"])
    assert e.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_the_randomisation_cascade_works_on_copies(trained_model):
    from gam_gui.faithfulness.sanity import cascade, rank_corr

    before = {k: v.clone() for k, v in trained_model.state_dict().items()}
    stages = cascade(trained_model)
    assert [s[0] for s in stages][:2] == ["head", "layers 26..head"] and len(stages) == 4
    assert all(v.equal(before[k]) for k, v in trained_model.state_dict().items())
    head = list(stages[0][1].state_dict().items())[-1]
    assert not head[1].equal(before[head[0]])
    assert rank_corr(np.arange(9.0), np.arange(9.0) ** 2) == pytest.approx(1.0)
    assert np.isnan(rank_corr(np.ones(4), np.arange(4.0)))


def test_a_user_dataset_goes_through_and_shards_merge_to_the_same_result(trained_model):
    """Samples of a user-layout dataset (YOLO data.yaml) are scored like the shapes set; two halves'
    details, concatenated, give exactly the whole run's result (what ``eval --shard`` merges)."""
    from pathlib import Path

    from gam_gui.datasets import open_dataset
    from gam_gui.faithfulness.dataset import faithfulness_from_details, faithfulness_on_images

    ds = open_dataset(Path(__file__).parents[1] / "data/datasets/shapes_small/data.yaml", limit=2)
    kw = {"imgsz": 160, "methods": ("auto",), "steps": 4, "tie_orders": 2, "sanity": False}
    whole_details: dict = {}
    with torch.enable_grad():
        whole = faithfulness_on_images(trained_model, ds, details=whole_details, **kw)
        parts = [{}, {}]
        for i, d in enumerate(parts):
            faithfulness_on_images(trained_model, [ds[i]], details=d, **kw)
    assert whole["images"] == 2 and whole["detections"] > 0
    auto, rnd = whole["methods"]["auto"], whole["methods"]["random"]
    assert auto["deletion_auc"] < rnd["deletion_auc"] and auto["insertion_auc"] > rnd["insertion_auc"]
    merged = {"scores": {k: parts[0]["scores"][k] + parts[1]["scores"][k] for k in parts[0]["scores"]},
              "images": 2, "ms": parts[0]["ms"] + parts[1]["ms"]}
    again = faithfulness_from_details(merged, imgsz=160, conf=0.25, steps=4, baseline="blur", tie_orders=2,
                                      feather=0.0, sanity=False)
    assert again["methods"] == whole["methods"]
