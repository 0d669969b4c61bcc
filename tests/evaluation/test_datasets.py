"""gam_gui.datasets: every layout users have, read the way their trainer reads it, and bad data warned,
skipped and counted (issue 21). Images are tiny PNGs written to tmp_path."""

from __future__ import annotations

import json
import logging
import multiprocessing
import operator
import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from gam_gui.cli import main as cli_main
from gam_gui.datasets import (
    DatasetError,
    SkipCounter,
    count_skipped,
    ensure_usable,
    export_shapes,
    open_dataset,
    shapes_dataset,
)
from gam_gui.datasets.coco import coco_ground_truth

NAMES = ["cat", "dog", "bird"]


def write_image(path: Path, w: int = 40, h: int = 30, value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), value, np.uint8)
    img[h // 3:, : w // 2] = (10, 200, 30)  # some content
    assert cv2.imwrite(str(path), img)
    return path


def write_labels(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r + "\n" for r in rows))


def yolo_tree(root: Path, split: str = "val", n: int = 3) -> None:
    """root/images/<split>/{0..n-1}.png, labels for all but the last (a background image)."""
    for i in range(n):
        write_image(root / "images" / split / f"{i}.png", value=i * 20)
        if i < n - 1:
            write_labels(root / "labels" / split / f"{i}.txt", [f"{i % 3} 0.5 0.5 0.5 0.4"])


def write_yaml(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


# the YOLO layout ---------------------------------------------------------------------------------
def test_yolo_names_list_folder_split_background_and_pixels(tmp_path):
    yolo_tree(tmp_path)
    y = write_yaml(tmp_path / "data.yaml", f"path: {tmp_path}\ntrain: images/train\nval: images/val\n"
                                           f"names: {NAMES}\n")
    ds = open_dataset(y)
    assert ds.kind == "yolo" and ds.split == "val" and ds.names == NAMES and len(ds) == 3
    assert ds.describe() == {"source": y, "kind": "yolo", "split": "val", "images": 3, "names": NAMES}
    s0, s1, s2 = ds
    assert s0.image.shape == (30, 40, 3) and (s0.width, s0.height) == (40, 30)
    np.testing.assert_allclose(s0.boxes, [[10, 9, 30, 21]], atol=1e-4)  # cx .5 w .5 of 40 px; cy .5 h .4 of 30
    assert s0.boxes.dtype == np.float32 and s0.classes.dtype == np.int64 and s1.classes.tolist() == [1]
    assert s2.boxes.shape == (0, 4) and s2.skip_reason is None  # no label file: background, not an error
    assert [s.image_id for s in (s0, s1, s2)] == [0, 1, 2]  # integer stems
    assert count_skipped(ds) == {"images": 0, "label_rows": 0}


def test_names_dict_nc_and_relative_path(tmp_path, monkeypatch):
    yolo_tree(tmp_path / "set")
    y = write_yaml(tmp_path / "cfg" / "data.yaml",
                   "path: ../set\nval: images/val\nnc: 3\nnames:\n  0: cat\n  '1': dog\n  2: bird\n")
    monkeypatch.chdir(tmp_path / "set" / "images")  # relative to the yaml, not to the working directory
    ds = open_dataset(y)
    assert ds.names == NAMES and len(ds) == 3
    with pytest.raises(DatasetError) as e:
        open_dataset(write_yaml(tmp_path / "bad.yaml", "path: set\nval: images/val\nnc: 2\nnames: [a, b, c]\n"))
    assert e.value.field == "nc"


def test_txt_lists_and_lists_of_entries(tmp_path):
    yolo_tree(tmp_path, "a", 2)
    yolo_tree(tmp_path, "b", 2)
    (tmp_path / "val.txt").write_text(f"./images/a/0.png\nimages/b/1.png\n{tmp_path}/images/a/1.png\nnotes.md\n")
    y = write_yaml(tmp_path / "data.yaml", "val: val.txt\ntest: [images/a, val.txt]\nnames: [cat, dog, bird]\n")
    ds = open_dataset(y)  # no path: the yaml's folder
    assert [Path(p).relative_to(tmp_path).as_posix() for p in ds.paths] == \
        ["images/a/0.png", "images/a/1.png", "images/b/1.png"]  # sorted
    assert len(ds[2].boxes) == 0 and len(ds[0].boxes) == 1
    test = open_dataset(y, split="test")
    assert len(test) == 3  # images/a (2) + the list, each image once
    assert test.image_ids == list(range(3))  # stems 0, 1, 1 collide: indices instead


def test_limit_takes_the_first_images_in_path_order(tmp_path):
    for stem in ("b", "c", "a", "d"):
        write_image(tmp_path / "images" / "val" / f"{stem}.jpg")
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat]\n")
    ds = open_dataset(y, limit=2)
    assert [Path(p).name for p in ds.paths] == ["a.jpg", "b.jpg"]
    assert ds.image_ids == [0, 1] and ds.describe()["images"] == 2


def test_model_names_map_by_name_and_refuse_unknown_classes(tmp_path):
    yolo_tree(tmp_path)
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat, dog, bird]\n")
    ds = open_dataset(y, model_names=["bird", "fish", "cat", "dog"])
    assert ds.names == ["bird", "fish", "cat", "dog"]
    assert ds[0].classes.tolist() == [2] and ds[1].classes.tolist() == [3]  # cat, dog in the model's order
    with pytest.raises(DatasetError) as e:
        open_dataset(y, model_names=["cat", "dog"])
    assert e.value.field == "names" and "bird" in str(e.value)


def test_bad_rows_are_warned_with_file_and_line_skipped_and_counted(tmp_path, caplog):
    write_image(tmp_path / "images" / "val" / "a.png")
    lbl = tmp_path / "labels" / "val" / "a.txt"
    write_labels(lbl, ["0 0.5 0.5 0.2 0.2",  # good
                       "1 0.5 0.5 0.2",  # malformed
                       "7 0.5 0.5 0.2 0.2",  # class outside names
                       "1 0.5 0.5 0 0.2",  # non-positive size
                       "x 0.5 0.5 0.2 0.2",  # malformed
                       "2 120 80 30 30",  # pixel coordinates
                       "2 0.3 0.3 0.1 0.1"])  # good
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat, dog, bird]\n")
    with caplog.at_level(logging.WARNING, logger="gam_gui.datasets"):
        ds = open_dataset(y)
    s = ds[0]
    assert s.classes.tolist() == [0, 2] and s.skipped_rows == 5 and s.skip_reason is None
    logged = [r.getMessage() for r in caplog.records]
    for line, why in ((2, "malformed"), (3, "class 7 outside names"), (4, "non-positive size"), (5, "malformed"),
                      (6, "not normalised")):
        assert any(m.startswith(f"{lbl}:{line}: ") and why in m for m in logged), (line, logged)
    assert len(s.notes) == 5
    assert count_skipped(ds) == {"images": 0, "label_rows": 5}
    assert not any("Traceback" in m for m in logged)
    # ultralytics' rule on request: the whole image goes
    strict = open_dataset(y, bad_labels="image")
    assert strict[0].skip_reason is not None and count_skipped(strict) == {"images": 1, "label_rows": 5}


def test_clipping_and_duplicates_are_handled_without_skipping(tmp_path, caplog):
    write_image(tmp_path / "images" / "val" / "a.png", w=40, h=30)
    lbl = tmp_path / "labels" / "val" / "a.txt"
    write_labels(lbl, ["0 0.9 0.5 0.4 0.2", "1 0.25 0.5 0.5 0.5", "1 0.25 0.5 0.5 0.5"])
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat, dog]\n")
    with caplog.at_level(logging.WARNING, logger="gam_gui.datasets"):
        s = open_dataset(y)[0]
    np.testing.assert_allclose(s.boxes[0], [28, 12, 40, 18], atol=1e-4)  # x2 = 44 clipped to 40
    assert s.classes.tolist() == [0, 1] and s.skipped_rows == 0
    logged = " | ".join(r.getMessage() for r in caplog.records)
    assert f"{lbl}:1: box reaches outside the image; clipped" in logged
    assert f"{lbl}:3: duplicate of line 2; dropped" in logged
    kept = open_dataset(y, clip_boxes=False)[0]  # as ultralytics' validator scores them
    np.testing.assert_allclose(kept.boxes[0], [28, 12, 44, 18], atol=1e-4)


def test_corrupt_and_empty_images_are_skipped_and_counted(tmp_path, caplog):
    yolo_tree(tmp_path, n=2)
    (tmp_path / "images" / "val" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "images" / "val" / "3.jpg").write_bytes(b"")
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat, dog, bird]\n")
    ds = open_dataset(y)
    with caplog.at_level(logging.WARNING, logger="gam_gui.datasets"):
        samples = list(ds)
    bad = [s for s in samples if s.skip_reason]
    assert [Path(s.path).name for s in bad] == ["2.png", "3.jpg"] and all(s.image is None for s in bad)
    assert any(m.startswith(str(tmp_path / "images" / "val" / "2.png") + ": ") for m in caplog.messages)
    counter = SkipCounter()
    for s in samples[:2]:
        counter.add(s)
    other = SkipCounter()
    for s in samples[2:]:
        other.add(s)
    assert counter.merge(other).to_json() == count_skipped(samples) == {"images": 2, "label_rows": 0}
    ensure_usable(ds, usable=2)
    with pytest.raises(DatasetError) as e:
        ensure_usable(ds, usable=0, skipped_images=4)
    assert e.value.field == "val"


@pytest.mark.parametrize("text, field", [
    (None, "data"),  # no such file
    ("names: [a\nval: x\n", "data"),  # not YAML
    ("- just\n- a list\n", "data"),
    ("val: images/val\n", "names"),
    ("train: images/val\nnames: [cat]\n", "val"),  # no val entry
    ("val: images/nowhere\nnames: [cat]\n", "val"),  # points at nothing
    ("val: empty\nnames: [cat]\n", "val"),  # a folder with no image
    ("val: images/val\nnames: {0: cat, 2: dog}\n", "names"),  # id 1 missing
    ("path: nowhere\nval: images/val\nnames: [cat]\n", "path"),
])
def test_unusable_data_yaml_is_one_line_error_naming_the_field(tmp_path, text, field):
    yolo_tree(tmp_path)
    (tmp_path / "empty").mkdir()
    y = tmp_path / "data.yaml"
    if text is not None:
        y.write_text(text)
    with pytest.raises(DatasetError) as e:
        open_dataset(str(y))
    assert e.value.field == field and "\n" not in str(e.value)
    if text is not None and "names: [a" in text:
        assert e.value.line == 2 and f"{y}:2: not YAML" in str(e.value)


def test_download_key_is_ignored_and_test_split(tmp_path, caplog):
    yolo_tree(tmp_path, "test", 2)
    y = write_yaml(tmp_path / "data.yaml", "val: images/val\ntest: images/test\nnames: [cat, dog, bird]\n"
                                           "download: |\n  import os; os.system('touch PWNED')\n")
    with caplog.at_level(logging.INFO, logger="gam_gui.datasets"):
        ds = open_dataset(y, split="test")
    assert len(ds) == 2 and not (tmp_path / "PWNED").exists()
    assert any("download" in m and "ignored" in m for m in caplog.messages)
    with pytest.raises(DatasetError) as e:
        open_dataset(write_yaml(tmp_path / "dl.yaml", "val: nowhere\nnames: [a]\ndownload: https://x/y.zip\n"))
    assert e.value.field == "val" and "never run" in str(e.value)


def test_cli_reports_a_bad_dataset_in_one_line(tmp_path, capsys):
    (tmp_path / "data.yaml").write_text("val: images/val\nnames: [cat]\n")
    export_shapes(tmp_path / "out", 1)
    assert cli_main(["export-dataset", "--out", str(tmp_path / "out"), "--images", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exists" in err


# folder and COCO ---------------------------------------------------------------------------------
def test_bare_folder_with_labels_sibling(tmp_path):
    yolo_tree(tmp_path / "ds", "", 3)  # ds/images/{0,1,2}.png, ds/labels/{0,1}.txt
    ds = open_dataset(str(tmp_path / "ds" / "images"), model_names=NAMES)
    assert ds.kind == "folder" and len(ds) == 3 and ds.names == NAMES
    assert ds[1].classes.tolist() == [1] and len(ds[2].boxes) == 0
    assert len(open_dataset(str(tmp_path / "ds"), model_names=NAMES)) == 3  # the folder above works too
    # a folder not called images, labels beside it; names from classes.txt matched to the model's
    for i in range(2):
        write_image(tmp_path / "shots" / "photos" / f"p{i}.png")
    write_labels(tmp_path / "shots" / "labels" / "p0.txt", ["1 0.5 0.5 0.2 0.2"])
    (tmp_path / "shots" / "classes.txt").write_text("dog\ncat\n")
    f = open_dataset(str(tmp_path / "shots" / "photos"), model_names=NAMES)
    assert f[0].classes.tolist() == [0] and f.image_ids == [0, 1]  # classes.txt id 1 = cat = model class 0
    with pytest.raises(DatasetError) as e:
        open_dataset(str(tmp_path / "ds" / "images"))
    assert e.value.field == "names"


def coco_files(tmp_path: Path) -> Path:
    """COCO download layout: annotations/instances_val2017.json + val2017/*.png."""
    for name in ("000000000009.png", "000000000025.png", "000000000030.png"):
        write_image(tmp_path / "val2017" / name, w=64, h=48)
    data = {
        "images": [{"id": 9, "file_name": "000000000009.png", "width": 64, "height": 48},
                   {"id": 25, "file_name": "000000000025.png", "width": 64, "height": 48},
                   {"id": 30, "file_name": "000000000030.png", "width": 64, "height": 48},
                   {"id": 31, "file_name": "000000000031.png", "width": 64, "height": 48}],  # not on disk
        "categories": [{"id": 18, "name": "dog"}, {"id": 17, "name": "cat"}, {"id": 90, "name": "toothbrush"}],
        "annotations": [
            {"id": 1, "image_id": 9, "category_id": 17, "bbox": [4, 6, 20, 10], "iscrowd": 0},
            {"id": 2, "image_id": 9, "category_id": 18, "bbox": [30, 10, 40, 20], "iscrowd": 0},  # to x 70 > 64
            {"id": 3, "image_id": 9, "category_id": 18, "bbox": [0, 0, 30, 30], "iscrowd": 1},
            {"id": 4, "image_id": 25, "category_id": 90, "bbox": [1, 1, 5, 5], "iscrowd": 0},  # model lacks it
            {"id": 5, "image_id": 25, "category_id": 17, "bbox": [1, 1, 0, 5], "iscrowd": 0},  # zero width
            {"id": 6, "image_id": 77, "category_id": 17, "bbox": [1, 1, 5, 5], "iscrowd": 0},  # no such image
            {"id": 7, "image_id": 31, "category_id": 17, "bbox": [1, 1, 5, 5], "iscrowd": 0},  # image missing
        ],
    }
    p = tmp_path / "annotations" / "instances_val2017.json"
    p.parent.mkdir()
    p.write_text(json.dumps(data))
    return p


def test_coco_categories_by_name_crowd_and_missing_images(tmp_path, caplog):
    p = coco_files(tmp_path)
    with caplog.at_level(logging.WARNING, logger="gam_gui.datasets"):
        ds = open_dataset(str(p), model_names=NAMES)  # cat=0, dog=1, bird=2
    assert ds.kind == "coco" and ds.names == NAMES and ds.category_ids == [17, 18, None]
    assert ds.image_ids == [9, 25, 30, 31] and Path(ds.paths[0]).parent == tmp_path / "val2017"
    s9, s25, s30, s31 = ds
    np.testing.assert_allclose(s9.boxes, [[4, 6, 24, 16], [30, 10, 64, 30]])  # xywh -> xyxy, clipped
    assert s9.classes.tolist() == [0, 1]
    np.testing.assert_allclose(s9.crowd_boxes, [[0, 0, 30, 30]]) and s9.crowd_classes.tolist() == [1]
    assert len(s25.boxes) == 0 and s25.skipped_rows == 2 and len(s30.boxes) == 0
    assert s31.skip_reason is not None and s31.image is None
    assert count_skipped(ds, ds) == {"images": 1, "label_rows": 3}  # + the annotation of image 77
    assert any("annotations[1] (id 2): box reaches outside the image; clipped" in m for m in caplog.messages)
    assert any("image_id 77" in m for m in caplog.messages)
    gt = coco_ground_truth(ds, ds)
    assert [im["id"] for im in gt["images"]] == [9, 25, 30]
    assert sorted((a["category_id"], a["iscrowd"]) for a in gt["annotations"]) == [(17, 0), (18, 0), (18, 1)]
    # no model: the categories in id order
    own = open_dataset(str(p))
    assert own.names == ["cat", "dog", "toothbrush"] and own.category_ids == [17, 18, 90]


def test_coco_image_folder_given_or_missing(tmp_path):
    p = coco_files(tmp_path)
    os.rename(tmp_path / "val2017", tmp_path / "pics")
    with pytest.raises(DatasetError) as e:
        open_dataset(str(p))
    assert e.value.field == "images_dir"
    ds = open_dataset(str(p), images_dir=tmp_path / "pics", limit=2)
    assert len(ds) == 2 and ds[0].image is not None


# shapes, export, workers -------------------------------------------------------------------------
def test_shapes_dataset_and_its_export_read_back_identically(tmp_path):
    from gam_gui.data.shapes import VAL_SEED0, render_sample

    sh = shapes_dataset(3, render_size=96)
    ref = render_sample(VAL_SEED0 + 1, 96)
    assert np.array_equal(sh[1].image, ref.image) and np.array_equal(sh[1].boxes, ref.boxes_xyxy())
    assert sh.kind == "shapes" and sh.image_sizes().tolist() == [[96, 96]] * 3
    assert cli_main(["export-dataset", "--out", str(tmp_path / "x"), "--images", "3", "--render-size", "96"]) == 0
    back = open_dataset(str(tmp_path / "x" / "data.yaml"))
    assert back.names == sh.names and back.image_ids == [0, 1, 2]
    for a, b in zip(back, sh, strict=True):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
        assert np.array_equal(a.classes, b.classes)
    assert back.image_sizes().tolist() == [[96, 96]] * 3


def test_dataset_pickles_into_a_spawned_worker(tmp_path):
    yolo_tree(tmp_path)
    ds = open_dataset(write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat, dog, bird]\n"))
    clone = pickle.loads(pickle.dumps(ds))
    assert clone.paths == ds.paths and np.array_equal(clone[1].boxes, ds[1].boxes)
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # as a DataLoader worker gets it
        s = pool.apply(operator.getitem, (ds, 1))
    assert np.array_equal(s.image, ds[1].image) and s.classes.tolist() == [1]


FIXTURE = Path(__file__).parents[1] / "data" / "datasets" / "shapes_small"


def test_committed_fixture_reads_the_same_as_yolo_and_as_coco():
    from gam_gui.data.shapes import CLASS_NAMES

    yolo = open_dataset(str(FIXTURE / "data.yaml"), model_names=list(CLASS_NAMES))
    coco = open_dataset(str(FIXTURE / "annotations" / "instances_val.json"), model_names=list(CLASS_NAMES))
    assert yolo.paths == coco.paths and yolo.image_ids == coco.image_ids == list(range(10))
    assert coco.category_ids == [1, 2, 3, 4, 5] and yolo.category_ids == [0, 1, 2, 3, 4]
    ys, cs = list(yolo), list(coco)
    for a, b in zip(ys, cs, strict=True):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-4)
        assert a.classes.tolist() == b.classes.tolist()
    assert [len(s.boxes) for s in ys[8:]] == [0, 0]  # backgrounds: no label file, an empty one
    assert count_skipped(ys) == {"images": 0, "label_rows": 3}  # 000003: 2 bad rows, 000006: 1 (+1 duplicate)
    assert [s.skipped_rows for s in ys] == [0, 0, 0, 2, 0, 0, 1, 0, 0, 0]


def test_image_sizes_follow_exif_orientation_like_the_decoded_image(tmp_path):
    from PIL import Image

    write_image(tmp_path / "images" / "val" / "a.png", w=40, h=30)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    Image.new("RGB", (40, 30), (9, 99, 199)).save(tmp_path / "images" / "val" / "b.jpg", exif=exif)
    ds = open_dataset(write_yaml(tmp_path / "data.yaml", "val: images/val\nnames: [cat]\n"))
    assert ds.image_sizes().tolist() == [[30, 40], [40, 30]] == [list(s.image.shape[:2]) for s in ds]
