"""The metric code on hand-built cases: COCO matching and AP, the mergeable scorer, the paired
bootstrap, strict JSON (numpy only, no model: milliseconds each)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gam_gui.jsonio import dumps
from gam_gui.metrics import ImageRecord, get_protocol
from gam_gui.metrics.bootstrap import paired_bootstrap, resample_weights, weighted_maps
from gam_gui.metrics.coco import MAX_DETS, coco_ap, coco_ap_batch
from gam_gui.metrics.protocols import IOU_THRESHOLDS, UnknownProtocolError
from gam_gui.metrics.scorer import Scorer, ScorerFormatError, confusion_matrix

NAMES = ["a", "b", "c", "d"]
T = len(IOU_THRESHOLDS)


def rec(gt, gc, pb, ps, pc, crowd=None, image_id=0) -> ImageRecord:
    return ImageRecord(image_id, f"{image_id}.jpg", 200, 150, gt, gc, pb, ps, pc, gt_crowd=crowd)


def synthetic(seed: int, n_images: int = 60, nc: int = 4, jitter: float = 2.0) -> list[ImageRecord]:
    """Random ground truth, jittered and random detections, class confusions, crowd regions and one
    image with more than 100 detections of a class. tests/data/coco_synthetic_ref.json holds what
    pycocotools 2.0 (COCOeval bbox) makes of the same records (see make_coco_reference below)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_images):
        n = int(rng.integers(0, 6))
        xy = rng.uniform(0, 150, (n, 2))
        gb = np.concatenate([xy, xy + rng.uniform(5, 60, (n, 2))], 1)
        gc = rng.integers(0, nc, n)
        crowd = rng.random(n) < 0.15
        k = int(rng.integers(0, 130 if i == 3 else 10))
        src = rng.integers(0, max(n, 1), k)
        pb = (gb[src] if n else rng.uniform(0, 150, (k, 4))) + rng.normal(0, jitter, (k, 4))
        pb[:, 2:] = np.maximum(pb[:, 2:], pb[:, :2] + 1)
        pc = gc[src] if n else rng.integers(0, nc, k)
        pc = np.where(rng.random(k) < 0.15, rng.integers(0, nc, k), pc)
        ps = np.round(rng.random(k), 4)
        out.append(rec(gb, gc, np.round(pb, 2), ps, pc, crowd, image_id=i + 1))
    return out


def coco_files(records: list[ImageRecord], nc: int = 4) -> tuple[dict, list]:
    """The records as a COCO ground-truth dict and a results list (what pycocotools reads)."""
    images, anns, dets = [], [], []
    for r in records:
        images.append({"id": r.image_id, "width": r.width, "height": r.height, "file_name": r.path})
        for b, c, cr in zip(r.gt_boxes, r.gt_cls, r.crowd, strict=True):
            anns.append({"id": len(anns) + 1, "image_id": r.image_id, "category_id": int(c) + 1,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                         "area": float((b[2] - b[0]) * (b[3] - b[1])), "iscrowd": int(cr)})
        for b, c, s in zip(r.pred_boxes, r.pred_cls, r.pred_scores, strict=True):
            dets.append({"image_id": r.image_id, "category_id": int(c) + 1,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": float(s)})
    return {"images": images, "annotations": anns,
            "categories": [{"id": c + 1, "name": str(c)} for c in range(nc)]}, dets


def scored(records: list[ImageRecord], protocol: str = "coco") -> Scorer:
    s = Scorer(NAMES, protocol)
    for k, r in enumerate(records):
        s.add(r, index=k)
    return s


# -- COCO protocol ---------------------------------------------------------------------------------
def test_coco_ap_by_hand():
    tp = np.ones((4, T), bool)
    assert coco_ap(tp, np.array([0.9, 0.8, 0.7, 0.6]), np.ones(4), 4)[0] == pytest.approx(1.0)
    # a false positive ranked first, then the only object: precision 1/2 at every recall point
    tp = np.array([[False], [True]]).repeat(T, 1)
    assert coco_ap(tp, np.array([0.9, 0.8]), np.ones(2), 1) == pytest.approx(np.full(T, 0.5))
    # recall 1/2 at precision 1, never more: 51 of the 101 points (0 .. 0.5) read precision 1
    tp = np.array([[True], [False]]).repeat(T, 1)
    assert coco_ap(tp, np.array([0.9, 0.8]), np.ones(2), 2)[0] == pytest.approx(51 / 101)
    assert np.isnan(coco_ap(tp, np.array([0.9, 0.8]), np.ones(2), 0)).all()  # no ground truth: no AP
    assert (coco_ap(np.zeros((0, T), bool), np.zeros(0), np.zeros(0), 3) == 0).all()  # missed everything


def test_coco_matching_greedy_crowd_and_per_class_cap():
    p = get_protocol("coco")
    box = [0, 0, 10, 10]
    # two detections of one object: the better-scored one is the match, the other a false positive
    m = p.evaluate_image(rec([box], [1], [box, box], [0.6, 0.9], [1, 1]))
    assert m.keep.tolist() == [1, 0] and m.tp[:, 0].tolist() == [True, False] and m.gt_score.tolist() == [0.9]
    # a detection of another class matches nothing
    assert not p.evaluate_image(rec([box], [1], [box], [0.9], [2])).tp.any()
    # IoU 0.58: a true positive at 0.5 and 0.55 only
    m = p.evaluate_image(rec([[0, 0, 10, 10]], [0], [[0, 0, 10, 5.8]], [0.9], [0]))
    assert m.tp[0].tolist() == [True, True] + [False] * (T - 2)
    # a detection inside a crowd region is ignored (neither right nor wrong), even several of them
    m = p.evaluate_image(rec([[0, 0, 100, 100]], [0], [[10, 10, 30, 30], [50, 50, 70, 70]], [0.9, 0.8], [0, 0],
                             crowd=[True]))
    assert m.ignore is not None and m.ignore.all() and not m.tp.any() and m.gt_counted.tolist() == [False]
    # at most 100 detections per image and class count
    many = np.tile([[50, 50, 60, 60]], (MAX_DETS + 20, 1))
    m = p.evaluate_image(rec([box], [0], many, np.linspace(1, 0.1, len(many)), np.zeros(len(many), int)))
    assert len(m.keep) == MAX_DETS


def test_coco_equals_pycocotools_reference(tmp_path):
    """mAP on random records with crowd regions, confusions and > 100 detections per class equals
    what pycocotools computed on the same data (tests/data/coco_synthetic_ref.json, written by
    make_coco_reference with pycocotools 2.0.x)."""
    from pathlib import Path

    ref = json.loads((Path(__file__).parents[1] / "data" / "coco_synthetic_ref.json").read_text())
    for seed, (map50, map50_95) in ref["seeds"].items():
        m = scored(synthetic(int(seed))).metrics()
        assert m.map50 == pytest.approx(map50, abs=1e-9) and m.map50_95 == pytest.approx(map50_95, abs=1e-9)


def make_coco_reference(path: str) -> None:  # pragma: no cover - run by hand with pycocotools installed
    """Write tests/data/coco_synthetic_ref.json: pycocotools' mAP@0.5 and mAP@0.5:0.95 on synthetic()."""
    import contextlib
    import io
    import tempfile

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    out = {}
    for seed in (0, 1, 2):
        gt, dt = coco_files(synthetic(seed))
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()):
            Path = __import__("pathlib").Path
            (Path(d) / "gt.json").write_text(json.dumps(gt))
            coco = COCO(str(Path(d) / "gt.json"))
            e = COCOeval(coco, coco.loadRes(dt), "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
        out[str(seed)] = [float(e.stats[1]), float(e.stats[0])]
    with open(path, "w") as f:
        json.dump({"source": "pycocotools COCOeval bbox on tests/test_metrics.py::synthetic(seed)", "seeds": out}, f)


def test_unknown_protocol_is_a_value_error_with_its_name():
    with pytest.raises(UnknownProtocolError) as e:
        get_protocol("voc")
    assert e.value.name == "voc" and "coco" in e.value.known


# -- the scorer ------------------------------------------------------------------------------------
def test_shards_merge_to_exactly_one_run_in_any_order():
    records = synthetic(3, n_images=30)
    single = scored(records).metrics()
    a, b, c = Scorer(NAMES), Scorer(NAMES), Scorer(NAMES)
    for k, r in enumerate(records):
        (a if k < 10 else b if k < 20 else c).add(r, index=k)
    merged = c.merge(a).merge(b).metrics()  # any order: images are kept in dataset order
    assert dumps(merged) == dumps(single)
    with pytest.raises(ValueError):
        scored(records[:2]).merge(scored(records[:2]))  # the same images twice


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_scorer_files_round_trip_exactly(tmp_path, suffix):
    s = scored(synthetic(4, n_images=12))
    s.save(tmp_path / f"s{suffix}")
    back = Scorer.load(tmp_path / f"s{suffix}")
    assert dumps(back.metrics()) == dumps(s.metrics())
    assert np.array_equal(back.arrays().pred_score, s.arrays().pred_score)
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ScorerFormatError) as e:
        Scorer.load(tmp_path / "bad.json")
    assert e.value.field == "format"


def test_metrics_precision_recall_and_strict_json():
    box = [0, 0, 10, 10]
    s = Scorer(NAMES)
    s.add(rec([box, [20, 20, 30, 30]], [0, 1], [box, [50, 50, 60, 60]], [0.9, 0.8], [0, 1]))
    m = s.metrics()
    assert m.map50 == pytest.approx(0.5) and m.instances == 2 and m.images == 1
    assert m.precision == pytest.approx(0.5) and m.recall == pytest.approx(0.5)  # class a: 1/1, class b: 0/1
    rows = {r["class"]: r for r in m.per_class}
    assert rows["a"]["ap50"] == pytest.approx(1.0) and rows["b"]["ap50"] == 0 and rows["a"]["instances"] == 1
    text = dumps(m.summary())
    assert "NaN" not in text
    loaded = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert loaded["per_class_ap50"]["c"] is None  # a class without ground truth has no AP


def test_confusion_matrix_rows_predicted_columns_true():
    r = rec([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]], [0, 1, 2],
            [[0, 0, 10, 10], [20, 20, 30, 30], [70, 70, 80, 80], [40, 40, 50, 50]], [0.9, 0.9, 0.9, 0.1],
            [0, 2, 1, 2])
    m = confusion_matrix(r, 4)
    assert m[0, 0] == 1  # right
    assert m[2, 1] == 1  # a b predicted as c
    assert m[1, 4] == 1  # a detection on background
    assert m[4, 2] == 1  # c missed (its detection scores below 0.25)
    assert m.sum() == 4


# -- the paired bootstrap --------------------------------------------------------------------------
def test_bootstrap_identical_models_give_zero_and_seeds_reproduce():
    s = scored(synthetic(5, n_images=40))
    r = paired_bootstrap(s, s, resamples=200, seed=1)
    assert r.diff == {"map50": 0.0, "map50_95": 0.0}
    assert r.ci95 == {"map50": [0.0, 0.0], "map50_95": [0.0, 0.0]}
    other = scored(synthetic(5, n_images=40, jitter=4.0))
    r1, r2 = paired_bootstrap(s, other, 200, seed=7), paired_bootstrap(s, other, 200, seed=7)
    assert r1.ci95 == r2.ci95 and r1.resamples == 200 and r1.images == 40
    lo, hi = r1.ci95["map50_95"]
    assert lo <= r1.diff["map50_95"] <= hi and lo < hi  # sharper boxes: a real, uncertain gain
    assert paired_bootstrap(s, other, 200, seed=8).ci95 != r1.ci95


def test_weighted_resample_equals_duplicated_images():
    """A resample counts each image as often as it was drawn: the vectorised AP equals scoring a
    dataset in which the drawn images really are repeated."""
    records = synthetic(6, n_images=25)
    s = scored(records)
    W = resample_weights(len(records), 3, seed=2)
    m50, m95 = weighted_maps(s, W)
    for r, w in enumerate(W):
        dup = Scorer(NAMES)
        k = 0
        for rec_, count in zip(records, w.astype(int), strict=True):
            for _ in range(count):
                dup.add(rec_, index=k)
                k += 1
        m = dup.metrics()
        assert (m50[r], m95[r]) == (m.map50, m.map50_95)


def test_ap_batch_equals_ap_per_row():
    rng = np.random.default_rng(0)
    k = 300
    tp = rng.random((k, T)) < np.linspace(0.7, 0.1, T)
    ig = rng.random((k, T)) < 0.05
    conf = rng.random(k)
    W = rng.integers(0, 3, (20, k)).astype(float)
    n_gt = W.sum(1) * 0.4 + 1
    n_gt = np.round(n_gt)
    batch = coco_ap_batch(tp, conf, W, n_gt, ig)
    rows = np.stack([coco_ap(tp, conf, w, n, ig) for w, n in zip(W, n_gt, strict=True)])
    assert np.array_equal(batch, rows)
