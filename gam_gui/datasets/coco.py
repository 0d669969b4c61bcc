"""COCO detection JSON (``instances_val2017.json``) plus its image folder.

Categories are matched to the model's classes by name; without a model, the classes are the
categories in id order. ``bbox`` ``[x, y, w, h]`` becomes xyxy pixels. ``iscrowd`` annotations are
kept out of the ground truth (pycocotools ignores detections inside them rather than scoring them)
and exposed as :attr:`Sample.crowd_boxes` / ``crowd_classes``. ``Sample.image_id`` is the json's
image id, so a results file written with it scores against the user's own json.

Where the images are, first folder that holds the first images' ``file_name``:
``images_dir`` when given, else the json's folder, ``<json folder>/images``,
``<json folder>/../images/<name>``, ``<json folder>/../<name>``, ``<json folder>/../images/<split>``,
``<json folder>/../images``, ``<json folder>/..``, where ``<name>`` is the json's stem without its
``instances_`` prefix (``val2017`` for ``annotations/instances_val2017.json``: the COCO download layout).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gam_gui.datasets.core import (
    LOGGER,
    Dataset,
    DatasetError,
    LabelTable,
    Notes,
    Sample,
)

#: A box edge this many pixels outside the image is worth a warning (closer is float rounding in the json).
EDGE_TOLERANCE_PX = 0.5
#: Images probed to find the image folder.
PROBE = 8


def read_coco_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{e.lineno}: not JSON ({e.msg})", field="data", path=path, line=e.lineno) from None
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise DatasetError(f"{path}: cannot be read ({why})", field="data", path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DatasetError(f"{path}: not a COCO detection json (no 'images' list)", field="images", path=path)
    if not isinstance(data.get("categories"), list) or not data["categories"]:
        raise DatasetError(f"{path}: no 'categories' (the class names)", field="categories", path=path)
    return data


def candidate_dirs(json_path: str, split: str) -> list[str]:
    here = os.path.dirname(os.path.abspath(json_path))
    up = os.path.dirname(here)
    stem = os.path.splitext(os.path.basename(json_path))[0]
    name = stem[len("instances_"):] if stem.startswith("instances_") else stem
    cands = [here, os.path.join(here, "images"), os.path.join(up, "images", name), os.path.join(up, name),
             os.path.join(up, "images", split), os.path.join(up, "images"), up]
    out: list[str] = []
    for c in cands:
        if c not in out:
            out.append(c)
    return out


def find_image_dir(json_path: str, file_names: list[str], split: str, images_dir: str | None) -> str:
    """The folder the json's ``file_name`` entries are relative to (see the module docstring)."""
    probe = file_names[:PROBE]
    if images_dir is not None:
        if not os.path.isdir(images_dir):
            raise DatasetError(f"images_dir {images_dir}: no such folder", field="images_dir", path=str(images_dir))
        return os.path.abspath(images_dir)
    cands = candidate_dirs(json_path, split)
    best, hits = None, 0
    for c in cands:
        n = sum(os.path.isfile(os.path.join(c, f)) for f in probe)
        if n > hits:
            best, hits = c, n
    if best is None:
        tried = ", ".join(cands[:4]) + ", ..."
        raise DatasetError(f"{json_path}: cannot find its images (e.g. {probe[0] if probe else '?'}; looked in "
                           f"{tried}); give the image folder (images_dir)", field="images_dir", path=json_path)
    return best


def _category_map(cats: list[Any], model_names: Sequence[str] | None, path: str,
                  ) -> tuple[list[str], dict[int, int | None], list[int | None]]:
    """(names, category id -> class index or None (a category the model lacks), class -> category id)."""
    by_id: dict[int, str] = {}
    for k, c in enumerate(cats):
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise DatasetError(f"{path}: categories[{k}] lacks an id or a name", field="categories", path=path)
        try:
            by_id[int(c["id"])] = str(c["name"])
        except (TypeError, ValueError):
            raise DatasetError(f"{path}: categories[{k}]: id {c['id']!r} is not an integer", field="categories",
                               path=path) from None
    ids = sorted(by_id)
    if model_names is None:
        return [by_id[i] for i in ids], {cid: k for k, cid in enumerate(ids)}, list(ids)
    model_names = [str(n) for n in model_names]
    index = {n: i for i, n in enumerate(model_names)}
    placeholders = all(n in (str(i), f"class{i}", f"class_{i}") for i, n in enumerate(model_names))
    if placeholders and len(model_names) == len(ids) and not any(by_id[i] in index for i in ids):
        LOGGER.info("the model's class names are placeholders; its classes are matched to %s's categories by "
                    "id order", path)
        return [by_id[i] for i in ids], {cid: k for k, cid in enumerate(ids)}, list(ids)
    cat_to_cls = {cid: index.get(by_id[cid]) for cid in ids}
    cls_to_cat: list[int | None] = [None] * len(model_names)
    for cid in ids:
        c = cat_to_cls[cid]
        if c is not None and cls_to_cat[c] is None:
            cls_to_cat[c] = cid
    if not any(v is not None for v in cat_to_cls.values()):
        raise DatasetError(f"{path}: none of its categories ({', '.join(by_id[i] for i in ids[:6])}, ...) is one of "
                           f"the model's classes", field="categories", path=path)
    return model_names, cat_to_cls, cls_to_cat


def open_coco(json_path: str, split: str = "val", limit: int | None = None,
              model_names: Sequence[str] | None = None, images_dir: str | os.PathLike | None = None,
              clip_boxes: bool = True) -> Dataset:
    """A COCO json as a :class:`Dataset` (``coords="xyxy"``; ``image_id`` = the json's id)."""
    data = read_coco_json(json_path)
    names, cat_to_cls, cls_to_cat = _category_map(data["categories"], model_names, json_path)
    notes = Notes()
    unattached_images = 0
    images: dict[Any, dict[str, Any]] = {}
    for k, im in enumerate(data["images"]):
        if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
            notes.warn(f"{json_path}: images[{k}] lacks an id or a file_name; ignored")
            unattached_images += 1
            continue
        if im["id"] in images:
            raise DatasetError(f"{json_path}: images[{k}]: image id {im['id']!r} appears twice", field="images",
                               path=json_path)
        images[im["id"]] = im
    if not images:
        raise DatasetError(f"{json_path}: no images listed", field="images", path=json_path)
    folder = find_image_dir(json_path, [im["file_name"] for im in images.values()], split,
                            None if images_dir is None else os.fspath(images_dir))
    order = sorted(images, key=lambda i: os.path.join(folder, images[i]["file_name"]))
    if limit is not None:
        order = order[:limit]
    position = {iid: n for n, iid in enumerate(order)}
    per_image: list[list[list[float]]] = [[] for _ in order]
    crowd: list[list[list[float]]] = [[] for _ in order]
    skipped = [0] * len(order)
    image_notes: list[list[str]] = [[] for _ in order]
    seen: list[set[tuple[float, ...]]] = [set() for _ in order]
    unattached_rows = 0
    warned_categories: set[int] = set()
    anns = data.get("annotations")
    if anns is None:
        LOGGER.warning("%s: no 'annotations': every image is a background image", json_path)
        anns = []
    for k, ann in enumerate(anns):
        where = f"{json_path}: annotations[{k}]" + (f" (id {ann.get('id')})" if isinstance(ann, dict) else "")
        if not isinstance(ann, dict):
            unattached_rows += 1
            notes.warn(f"{where}: not an object; skipped")
            continue
        iid = ann.get("image_id")
        if iid not in images:
            unattached_rows += 1
            notes.warn(f"{where}: image_id {iid!r} is not among the images; skipped")
            continue
        n = position.get(iid)
        if n is None:  # beyond --images N
            continue
        row, reason = _annotation_row(ann, cat_to_cls, images[iid])
        if reason == "category":
            skipped[n] += 1
            cid = ann.get("category_id")
            if cid in cat_to_cls and cid not in warned_categories:  # a category the model lacks: once per category
                warned_categories.add(cid)
                image_notes[n].append(notes.warn(f"{where}: category {cid} is not among the model's classes; its "
                                                 "annotations are skipped"))
            elif cid not in cat_to_cls:
                image_notes[n].append(notes.warn(f"{where}: category_id {cid!r} is not among the categories; "
                                                 "skipped"))
            continue
        if reason is not None:
            skipped[n] += 1
            image_notes[n].append(notes.warn(f"{where}: {reason}; skipped"))
            continue
        assert row is not None
        if ann.get("iscrowd"):
            crowd[n].append(row)
            continue
        key = tuple(row)
        if key in seen[n]:
            image_notes[n].append(notes.warn(f"{where}: exact duplicate of an earlier annotation; dropped"))
            continue
        seen[n].add(key)
        if _outside(row, images[iid]):
            image_notes[n].append(notes.warn(f"{where}: box reaches outside the image" + ("; clipped" if clip_boxes
                                                                                         else "")))
        per_image[n].append(row)
    paths = [os.path.join(folder, images[i]["file_name"]) for i in order]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        notes.warn(f"{json_path}: {len(missing)} listed image(s) are not in {folder} (e.g. {missing[0]}); "
                   "they are skipped")
    notes.finish()
    return Dataset(names=names, split=split, source=json_path, kind="coco", paths=paths, image_ids=list(order),
                   labels=LabelTable.build(per_image, skipped, image_notes, crowd), coords="xyxy",
                   category_ids=cls_to_cat, unattached_skipped_rows=unattached_rows,
                   unattached_skipped_images=unattached_images, clip_boxes=clip_boxes)


def _annotation_row(ann: dict[str, Any], cat_to_cls: dict[int, int | None], image: dict[str, Any],
                    ) -> tuple[list[float] | None, str | None]:
    try:
        cid = int(ann.get("category_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, "category"
    if cat_to_cls.get(cid) is None:
        return None, "category"
    bbox = ann.get("bbox")
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return None, "malformed bbox (expected [x, y, w, h])"
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return None, "malformed bbox (not numbers)"
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return None, "malformed bbox (NaN or infinite value)"
    if w <= 0 or h <= 0:
        return None, f"non-positive size (w={w:g}, h={h:g})"
    return [float(cat_to_cls[cid]), *(float(np.float32(v)) for v in (x, y, x + w, y + h))], None  # type: ignore[arg-type]


def _outside(row: list[float], image: dict[str, Any]) -> bool:
    x1, y1, x2, y2 = row[1:]
    try:
        W, H = float(image.get("width", math.inf)), float(image.get("height", math.inf))
    except (TypeError, ValueError):
        W = H = math.inf
    t = EDGE_TOLERANCE_PX
    return x1 < -t or y1 < -t or x2 > W + t or y2 > H + t


def coco_ground_truth(samples: Iterable[Sample], dataset: Dataset) -> dict[str, Any]:
    """A COCO ground-truth dict (``images``, ``annotations``, ``categories``) of the samples as the
    tool reads them (skipped images left out, bad rows dropped, boxes clipped, crowd regions with
    ``iscrowd: 1``): what pycocotools needs to score the tool's ``predictions.json`` on any layout.
    Category ids are :attr:`Dataset.category_ids`."""
    images, anns = [], []
    cats = [{"id": cid, "name": dataset.names[c]} for c, cid in enumerate(dataset.category_ids) if cid is not None]
    for s in samples:
        if s.skip_reason is not None:
            continue
        images.append({"id": s.image_id, "file_name": s.path, "width": s.width, "height": s.height})
        for boxes, classes, crowd in ((s.boxes, s.classes, 0), (s.crowd_boxes, s.crowd_classes, 1)):
            for b, c in zip(boxes.tolist(), classes.tolist(), strict=True):
                cid = dataset.category_ids[c]
                if cid is None:
                    continue
                w, h = b[2] - b[0], b[3] - b[1]
                anns.append({"id": len(anns) + 1, "image_id": s.image_id, "category_id": cid,
                             "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": crowd})
    return {"images": images, "annotations": anns, "categories": cats}
