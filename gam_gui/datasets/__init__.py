"""Datasets in the layouts users have, streamed one image at a time: one interface for every score.

``open_dataset(spec, split, limit, model_names)`` accepts

- a YOLO ``data.yaml`` (:mod:`gam_gui.datasets.yolo`),
- a COCO ``instances_*.json`` (:mod:`gam_gui.datasets.coco`),
- a folder: its ``data.yaml`` when it has one, else a bare folder of images with a ``labels/``
  sibling (:mod:`gam_gui.datasets.folder`),

and ``shapes_dataset(n)`` gives the generated shapes validation set through the same
:class:`Dataset` (:mod:`gam_gui.datasets.shapes`). A :class:`Dataset` is map-style (``len``,
``[i]`` -> :class:`Sample`), decodes one image per ``[i]`` and pickles into DataLoader workers.
Bad data follows ultralytics' convention (warn ``file:line: reason``, skip, count, go on); a dataset
that cannot be used at all raises :class:`DatasetError` (``field``, ``path``) with a one-line message.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from gam_gui.datasets.coco import coco_ground_truth
from gam_gui.datasets.core import (
    IMG_FORMATS,
    Dataset,
    DatasetError,
    Sample,
    SkipCounter,
    count_skipped,
)
from gam_gui.datasets.shapes import export_shapes, shapes_dataset

__all__ = ["IMG_FORMATS", "SPLITS", "Dataset", "DatasetError", "Sample", "SkipCounter", "coco_ground_truth",
           "count_skipped", "ensure_usable", "export_shapes", "open_dataset", "shapes_dataset"]

SPLITS = ("val", "test", "train")
BAD_LABELS = ("row", "image")


def open_dataset(spec: str | os.PathLike, split: str = "val", limit: int | None = None,
                 model_names: Sequence[str] | None = None, *, images_dir: str | os.PathLike | None = None,
                 bad_labels: str = "row", clip_boxes: bool = True) -> Dataset:
    """Open ``spec`` (a data.yaml, a COCO json or a folder) at ``split``, limited to its first
    ``limit`` images in path order; class indices follow ``model_names`` when given (matched by name).

    ``images_dir``: a COCO json's image folder, when it is not found next to the json.
    ``bad_labels``: ``"row"`` drops a bad label row and keeps its image (default); ``"image"`` skips
    the whole image, as the ultralytics trainer does.
    ``clip_boxes``: boxes reaching outside the image are clipped to it (default, with a warning at
    open); False keeps them as written, as ultralytics' validator scores them.
    """
    source = os.fspath(spec)
    if bad_labels not in BAD_LABELS:
        raise ValueError(f"bad_labels must be one of {BAD_LABELS}")
    if limit is not None and int(limit) < 1:
        raise ValueError("limit must be at least 1")
    if not source:
        raise DatasetError("--data is empty", field="data", path=source)
    if not os.path.exists(source):
        raise DatasetError(f"{source}: no such file or folder", field="data", path=source)
    low = source.lower()
    if os.path.isdir(source):
        yaml_path = os.path.join(source, "data.yaml")
        if os.path.isfile(yaml_path):
            from gam_gui.datasets.yolo import open_yolo

            return open_yolo(yaml_path, split, limit, model_names, bad_labels, source=source, clip_boxes=clip_boxes)
        from gam_gui.datasets.folder import open_folder

        return open_folder(source, split, limit, model_names, bad_labels, clip_boxes)
    if low.endswith((".yaml", ".yml")):
        from gam_gui.datasets.yolo import open_yolo

        return open_yolo(source, split, limit, model_names, bad_labels, clip_boxes=clip_boxes)
    if low.endswith(".json"):
        from gam_gui.datasets.coco import open_coco

        return open_coco(source, split, limit, model_names, images_dir=images_dir, clip_boxes=clip_boxes)
    raise DatasetError(f"{source}: not a dataset (expected a data.yaml, a COCO .json or a folder of images)",
                       field="data", path=source)


def ensure_usable(dataset: Dataset, usable: int, skipped_images: int = 0) -> None:
    """Raise the one-line :class:`DatasetError` for a split in which no image could be used (every
    image corrupt or missing): call it after the pass, with the number of samples scored."""
    if usable <= 0:
        raise DatasetError(f"{dataset.source}: split {dataset.split} has no usable image "
                           f"({skipped_images} of {len(dataset)} skipped)", field=dataset.split,
                           path=dataset.source)
