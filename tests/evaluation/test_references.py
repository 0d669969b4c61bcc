"""gam-gui's metrics against the packages users trust, through references computed with those packages.

* ``tests/data/coco_ref``: a COCO ground truth and results file with COCOeval's corners (background
  images, category ids that are not 0..n-1, a category without ground truth and one without
  detections, equal scores, a crowd region, > 100 detections of one class in one image) and
  pycocotools 2.0.11's numbers for them (``make_reference.py`` there rebuilds all three).
* ``tests/data/ultralytics_ref``: ``units.json``, the package's own matching and AP functions on seeded
  cases (``recipe/make_unit_refs.py``); and a YOLOv8n-GAM ``best.pt`` trained by the ``ultralytics`` trainer with a
  GAM block pasted in as users do, its validation images in the YOLO layout (mixed aspect ratios, so the
  rectangular batches matter), and what ``model.val`` printed for it with ultralytics 8.4.190 and
  8.3.253 (``make_reference.md`` there says how they were made).

No package is needed at test time; the references are plain JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gam_gui.metrics import ImageRecord
from gam_gui.metrics import ultralytics_protocol as up
from gam_gui.metrics.scorer import Scorer

DATA = Path(__file__).parents[1] / "data"
COCO = DATA / "coco_ref"
ULTRA = DATA / "ultralytics_ref"


# -- pycocotools ----------------------------------------------------------------------------------------

def coco_records(gt: dict, dets: list[dict]) -> tuple[list[str], list[ImageRecord]]:
    """COCO json (ground truth, results) -> class names in category order and one record per image."""
    cats = [c["id"] for c in gt["categories"]]
    names = [c["name"] for c in gt["categories"]]
    index = {c: i for i, c in enumerate(cats)}

    def xyxy(b: list[float]) -> list[float]:
        return [b[0], b[1], b[0] + b[2], b[1] + b[3]]

    recs = []
    for im in gt["images"]:
        anns = [a for a in gt["annotations"] if a["image_id"] == im["id"]]
        ds = [d for d in dets if d["image_id"] == im["id"]]
        recs.append(ImageRecord(
            im["id"], im["file_name"], im["width"], im["height"],
            np.array([xyxy(a["bbox"]) for a in anns]).reshape(-1, 4), [index[a["category_id"]] for a in anns],
            np.array([xyxy(d["bbox"]) for d in ds]).reshape(-1, 4), [d["score"] for d in ds],
            [index[d["category_id"]] for d in ds], gt_crowd=[bool(a.get("iscrowd", 0)) for a in anns]))
    return names, recs


def test_coco_protocol_matches_pycocotools() -> None:
    gt = json.loads((COCO / "gt.json").read_text())
    dets = json.loads((COCO / "predictions.json").read_text())
    ref = json.loads((COCO / "reference.json").read_text())
    names, recs = coco_records(gt, dets)
    # the corners are really in the case
    assert any(not len(r.gt_cls) and len(r.pred_cls) for r in recs), "a background image with detections"
    assert max(np.bincount(r.pred_cls, minlength=len(names)).max() for r in recs) > 100
    assert any(r.gt_crowd is not None for r in recs)
    assert len({d["score"] for d in dets}) < len(dets), "equal scores"
    sc = Scorer(names, "coco")
    for i, r in enumerate(recs):
        sc.add(r, index=i)
    m = sc.metrics()
    assert m.map50_95 == pytest.approx(ref["map50_95"], abs=0.002)
    assert m.map50 == pytest.approx(ref["map50"], abs=0.002)
    rows = {r["class"]: r for r in m.per_class}
    for name, want in ref["per_class"].items():
        if want["ap50"] is None:  # no ground truth: pycocotools has no AP for it, nor has gam-gui
            assert not np.isfinite(rows[name]["ap50"])
            continue
        assert rows[name]["ap50"] == pytest.approx(want["ap50"], abs=0.002), name
        assert rows[name]["ap50_95"] == pytest.approx(want["ap50_95"], abs=0.002), name


# -- ultralytics val ------------------------------------------------------------------------------------

def ultra_runs() -> list[dict]:
    return json.loads((ULTRA / "reference.json").read_text())["runs"]


def eval_json(capsys: pytest.CaptureFixture, *args: str) -> dict:
    from gam_gui import cli

    capsys.readouterr()
    rc = cli.main(["eval", "--weights", str(ULTRA / "best.pt"), "--data", str(ULTRA / "data.yaml"), "--workers", "0",
                   "--device", "cpu", *args])
    assert rc == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("protocol", "imgsz"), [("ultralytics", None), ("ultralytics-8.3", 224)])
def test_eval_matches_ultralytics_val(capsys: pytest.CaptureFixture, one_torch_thread: None, protocol: str,
                                      imgsz: int | None) -> None:
    """``gam-gui eval --protocol P`` on a real ultralytics-trained YOLOv8n-GAM best.pt gives what
    ``model.val`` printed: 8.4.190's rules at 160 px (images shrunk or kept), 8.3.253's at 224 (enlarged).
    Without ``--imgsz`` eval runs at the file's training size (``train_args.imgsz``: 160), as ``yolo val`` does."""
    ref = next(r for r in ultra_runs() if r["protocol"] == protocol and r["imgsz"] == (imgsz or 160))
    got = eval_json(capsys, "--protocol", protocol, *(("--imgsz", str(imgsz)) if imgsz else ()))
    assert got["protocol"] == protocol and got["images"] == 40 and got["imgsz"] == (imgsz or 160)
    assert got["map50"] == pytest.approx(ref["map50"], abs=0.005)
    assert got["map50_95"] == pytest.approx(ref["map50_95"], abs=0.005)
    assert got["precision"] == pytest.approx(ref["precision"], abs=0.005)
    assert got["recall"] == pytest.approx(ref["recall"], abs=0.005)
    for row in got["per_class"]:
        assert row["ap50"] == pytest.approx(ref["per_class_ap50"][row["class"]], abs=0.005), row["class"]
        assert row["ap50_95"] == pytest.approx(ref["per_class_ap50_95"][row["class"]], abs=0.005), row["class"]


def test_ultralytics_ap_tail_and_bootstrap_weights() -> None:
    """One class, 4 objects, detections right/wrong/right/wrong: recall stops at 0.5 with precision 0.5.
    8.4.x integrates the envelope (1 up to recall 0.25, 2/3 up to 0.5) and stops; 8.3.x adds the linear
    fall from 0.5 to 0 at recall 1, a triangle of 0.125. A bootstrap weight of 2 is the image twice."""
    new, old = up.UltralyticsProtocol(), up.Ultralytics83Protocol()
    tp = np.repeat(np.array([[1], [0], [1], [0]], bool), 10, 1)
    conf = np.array([0.9, 0.8, 0.7, 0.6])
    ones = np.ones(4)
    ap_new, ap_old = new.ap(tp, conf, ones, 4.0), old.ap(tp, conf, ones, 4.0)
    assert ap_new[0] == pytest.approx(0.25 + 0.25 * 2 / 3, abs=0.01)
    assert ap_old[0] - ap_new[0] == pytest.approx(0.125, abs=0.006)
    assert np.isnan(new.ap(tp, conf, ones, 0.0)).all() and (new.ap(tp[:0], conf[:0], ones[:0], 3.0) == 0).all()
    w = np.array([2.0, 1.0, 0.0, 1.0])
    twice = np.repeat(np.arange(4), w.astype(int))
    for proto in (new, old):
        assert np.array_equal(proto.ap(tp, conf, w, 5.0), proto.ap(tp[twice], conf[twice], np.ones(len(twice)), 5.0))


def test_rect_batch_shapes_and_letterbox_follow_ultralytics() -> None:
    """The loader geometry on the reference images: what ultralytics' val loader builds (rectangular
    batch shapes from the sorted aspect ratios, ``ceil(side/32 + 0.5) * 32``; long side to imgsz with
    sides rounded up, small images enlarged; centred grey borders), and boxes map back unclipped."""
    hw = np.array([[160, 160], [120, 160], [208, 144], [96, 160], [240, 240]])
    # one batch of all five: mixed ratios -> the square imgsz + half a stride each side
    assert up.rect_batch_shapes(hw, 160, batch=16).tolist() == [[192, 192]] * 5
    # batches of two, by h/w: (96x160, 120x160) wide -> H = ceil(0.75*5 + 0.5)*32; (160x160, 240x240) square;
    # (208x144) tall -> W = ceil(160/1.444/32 + 0.5)*32
    shapes = up.rect_batch_shapes(hw, 160, batch=2)
    assert shapes.tolist() == [[192, 192], [160, 192], [192, 128], [160, 192], [192, 192]]
    assert up.check_imgsz(150) == 160
    # 120x160 at 224: enlarged to 168x224 (224/160 = 1.4), centred in its batch shape 192x256
    plan = up.letterbox_plan(120, 160, up.rect_batch_shapes([[120, 160]], 224)[0], 224)
    assert (plan.resized, plan.unpadded, plan.shape) == ((168, 224), (168, 224), (192, 256))
    assert (plan.top, plan.bottom, plan.left, plan.right) == (12, 12, 16, 16)
    out = plan.apply(np.full((120, 160, 3), 7, np.uint8))
    assert out.shape == (192, 256, 3) and out[0, 0, 0] == up.PAD_VALUE and out[96, 128, 0] == 7
    # a shape smaller than the resized image: the letterbox scales down (never up), borders rounded apart
    small = up.letterbox_plan(120, 160, (128, 192), 224)
    assert (small.unpadded, small.left, small.right) == ((128, 171), 10, 11)
    box = np.array([[-5.0, 10.0, 170.0, 60.0]])  # reaches past the image: kept as is
    assert np.allclose(plan.to_original(plan.to_input(box)), box)


def test_matching_ap_and_pr_equal_the_package_functions() -> None:
    """The package's own ``match_predictions`` (120 crowded images, 21 of which the two versions match
    differently) and ``ap_per_class`` (12 data sets: AP per class and threshold, and P/R at its smoothed
    best F1), recorded from 8.4.190 and 8.3.253, against the two protocols."""
    units = json.loads((ULTRA / "units.json").read_text())
    bit = 1 << np.arange(10)
    for version, proto in (("8.4.190", up.UltralyticsProtocol()), ("8.3.253", up.Ultralytics83Protocol())):
        for c, want in zip(units["inputs"]["matching"], units[version]["matching_tp"], strict=True):
            k = len(c["det"])
            rec = ImageRecord(0, "x.jpg", 100, 100, c["gt"], c["gt_cls"], c["det"], np.arange(k, 0, -1) / k,
                              c["det_cls"])
            assert (proto.match(rec) @ bit).tolist() == want, version
        for inp, want in zip(units["inputs"]["ap"], units[version]["ap"], strict=True):
            tp = (np.array(inp["tp"])[:, None] & bit) > 0
            conf, pcls, tcls = np.array(inp["conf"]), np.array(inp["pred_cls"]), np.array(inp["target_cls"])
            prec, rec_ = [], []
            for i, c in enumerate(want["classes"]):
                sel, n = pcls == c, float((tcls == c).sum())
                assert np.allclose(proto.ap(tp[sel], conf[sel], np.ones(sel.sum()), n), want["ap"][i], atol=1e-9)
                p, r = proto.pr(tp[sel, 0], conf[sel], n, np.linspace(0, 1, 1000))
                prec.append(p)
                rec_.append(r)
            best = proto.best_f1(np.array(prec), np.array(rec_))
            assert np.allclose(np.array(prec)[:, best], want["p"], atol=1e-9)
            assert np.allclose(np.array(rec_)[:, best], want["r"], atol=1e-9)
