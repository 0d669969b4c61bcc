"""``gam-gui eval --data``, ``--shard`` + ``merge``, ``compare --data`` and ``--ray`` end to end on a tiny
YOLO-layout dataset written in tmp_path, with the shipped models on 4 images at 128 px."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gam_gui import cli

BASELINE = "weights/yolov5n_shapes.pt"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The first 4 shapes validation images at 128 px as a YOLO layout (data.yaml, images/, labels/)."""
    from gam_gui.datasets import export_shapes

    return export_shapes(tmp_path_factory.mktemp("ds") / "shapes", 4, render_size=128)


def run(argv: list[str], capsys) -> tuple[int, dict | None, str]:
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    strict = None
    if rc == 0 and out.strip().startswith("{"):
        strict = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    return rc, strict, err


def eval_argv(data, *more: str) -> list[str]:
    return ["eval", "--data", str(data), "--imgsz", "128", "--workers", "0", "--no-progress", *more]


def without_timings(d: dict) -> dict:
    d = json.loads(json.dumps(d))
    d.pop("seconds", None)
    d.get("extra", {}).pop("seconds_by_part", None)
    return d


def test_eval_data_json_and_out_files(dataset, tmp_path, capsys, one_torch_thread):
    out = tmp_path / "out"
    rc, res, err = run(eval_argv(dataset, "--out", str(out), "--dpi", "60"), capsys)
    assert rc == 0, err
    assert {"map50", "map50_95", "per_class_ap50", "images", "instances", "precision", "recall", "per_class",
            "skipped", "protocol", "data"} <= set(res)
    assert res["protocol"] == "coco" and res["images"] == 4 and res["data"]["kind"] == "yolo"
    assert res["skipped"] == {"images": 0, "label_rows": 0}
    assert res["map50"] > 0.5 and 0 < res["precision"] <= 1 and 0 < res["recall"] <= 1
    assert sum(r["instances"] for r in res["per_class"]) == res["instances"]
    for name in ("predictions.json", "images.json", "metrics.json", "pr_curve.png", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 0, name
    preds = json.loads((out / "predictions.json").read_text())
    images = json.loads((out / "images.json").read_text())
    assert {p["image_id"] for p in preds} <= {im["id"] for im in images} == {0, 1, 2, 3}  # integer file stems
    assert set(preds[0]) == {"image_id", "category_id", "bbox", "score"} and len(preds[0]["bbox"]) == 4
    assert all(p["bbox"][2] >= 0 and p["bbox"][3] >= 0 for p in preds)  # x, y, w, h
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["map50"] == res["map50"] and len(metrics["confusion_matrix"]["matrix"]) == 6


def test_two_shards_merge_to_the_single_run(dataset, tmp_path, capsys, one_torch_thread):
    """Every number of a 2-shard run (mAP, per class, ablation and its interval, predictions) equals
    the single run's, to the last digit."""
    more = ["--batch", "2", "--ablate", "18:off", "--resamples", "50"]
    rc, single, err = run(eval_argv(dataset, *more, "--out", str(tmp_path / "single")), capsys)
    assert rc == 0, err
    shards = []
    for i in (1, 0):
        rc, res, err = run(eval_argv(dataset, *more, "--shard", f"{i}/2", "--out", str(tmp_path / "sh")), capsys)
        assert rc == 0, err
        assert res["images"] == 2
        shards.append(res["file"])
    rc, merged, err = run(["merge", *shards, "--out", str(tmp_path / "merged")], capsys)
    assert rc == 0, err
    assert without_timings(merged) == without_timings(single)
    assert merged["extra"]["ablations"][0]["ci95"] == single["extra"]["ablations"][0]["ci95"]
    preds = [(tmp_path / d / "predictions.json").read_bytes() for d in ("merged", "single")]
    assert preds[0] == preds[1]
    rc, _, err = run(["merge", shards[0]], capsys)  # a missing part is an error naming it
    assert rc == 1 and "missing shard(s) 0/2" in err


def test_compare_data_json_shape_and_interval(dataset, tmp_path, capsys, one_torch_thread):
    rc, res, err = run(["compare", "--data", str(dataset), "--b", BASELINE, "--imgsz", "128", "--workers", "0",
                        "--resamples", "200", "--no-progress", "--out", str(tmp_path / "cmp"), "--figures", "2"],
                       capsys)
    assert rc == 0, err
    assert {"a", "b", "diff", "ci95", "resamples", "images", "per_class", "found_by_one"} <= set(res)
    assert res["resamples"] == 200 and res["images"] == 4
    for key in ("map50", "map50_95"):
        assert res["diff"][key] == pytest.approx(res["a"][key] - res["b"][key])
        lo, hi = res["ci95"][key]
        assert lo <= hi
    objs = res["found_by_one"]["objects"]
    assert all({"image", "box", "class", "score_a", "score_b", "found_by"} <= set(o) for o in objs)
    assert len(list((tmp_path / "cmp" / "objects").glob("*.png"))) == min(2, len(objs))
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["diff"] == res["diff"]


def test_compare_same_model_has_zero_interval(dataset, capsys, one_torch_thread):
    rc, res, err = run(["compare", "--data", str(dataset), "--b", "weights/yolov5n_gam_shapes.pt", "--imgsz", "128",
                        "--workers", "0", "--resamples", "100", "--no-progress"], capsys)
    assert rc == 0, err
    assert res["diff"] == {"map50": 0.0, "map50_95": 0.0}
    assert res["ci95"] == {"map50": [0.0, 0.0], "map50_95": [0.0, 0.0]}
    assert res["found_by_one"]["objects"] == []


def test_eval_data_errors_are_one_line(tmp_path, capsys):
    rc, _, err = run(["eval", "--data", str(tmp_path / "missing.yaml"), "--no-progress"], capsys)
    assert rc == 1 and err.count("\n") == 1 and "missing.yaml" in err
    with pytest.raises(SystemExit) as e:
        cli.main(["eval", "--shard", "2/2", "--no-progress"])
    assert e.value.code == 2 and "--shard" in capsys.readouterr().err
    rc, _, err = run(["eval", "--shard", "0/2", "--no-progress"], capsys)  # a shard file needs a folder
    assert rc == 2 and "--shard needs --out" in err


def test_eval_help_imports_no_torch():
    code = ("import sys, contextlib, io\nfrom gam_gui import cli\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    cli.main(['eval', '--help'])\nprint('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr


def test_ray_shards_equal_the_serial_run(dataset, capsys, one_torch_thread):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'gam-gui[cluster]')")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rc, on_ray, err = run(eval_argv(dataset, "--batch", "2", "--ray", "--ray-shards", "2"), capsys)
    finally:
        ray.shutdown()
    assert rc == 0, err
    rc, serial, err = run(eval_argv(dataset, "--batch", "2"), capsys)
    assert rc == 0, err
    assert without_timings(on_ray) == without_timings(serial)


def test_multi_label_candidates_keep_every_class_above_conf():
    from gam_gui.heads import ANCHOR_LAYOUT
    from gam_gui.inference import multi_label_candidates

    rows = np.array([[10, 10, 4, 4, 0.9, 0.5, 0.4, 0.001],  # obj 0.9: scores 0.45, 0.36, 0.0009
                     [20, 20, 4, 4, 0.0005, 0.9, 0.9, 0.9]], np.float32)  # objectness below conf
    idx, score, cls = multi_label_candidates(ANCHOR_LAYOUT, rows, 0.001)
    assert idx.tolist() == [0, 0] and cls.tolist() == [0, 1] and np.allclose(score, [0.45, 0.36])


def test_faithfulness_shards_merge_to_the_single_run(dataset, tmp_path, capsys, one_torch_thread):
    more = ["--images", "2", "--batch", "1", "--faithfulness", "--methods", "gradcam", "--steps", "4",
            "--tie-orders", "1"]
    rc, single, err = run(eval_argv(dataset, *more), capsys)
    assert rc == 0, err
    files = []
    for i in (0, 1):
        rc, res, err = run(eval_argv(dataset, *more, "--shard", f"{i}/2", "--out", str(tmp_path)), capsys)
        assert rc == 0, err
        files.append(res["file"])
    rc, merged, err = run(["merge", *files], capsys)
    assert rc == 0, err
    a, b = merged["extra"]["faithfulness"], single["extra"]["faithfulness"]
    assert a["detections"] == b["detections"] > 0
    a.pop("ms_per_detection"), b.pop("ms_per_detection")  # a timing
    assert a == b
