"""``--data DIR``: a bare folder of images whose YOLO label files sit in a ``labels/`` sibling.

Where the images are: ``DIR/images/<split>`` when it exists, else ``DIR/images``, else ``DIR``
itself (searched recursively). Where the labels are: by the images -> labels rule when the image
folder is called ``images`` (``x/images/a.jpg`` -> ``x/labels/a.txt``); otherwise in a ``labels``
folder beside the image folder (``photos/a.jpg`` -> ``labels/a.txt``), or inside it; a file with no
label is a background image. Class names: the model's (``model_names``), matched by name to a
``classes.txt`` (one name a line, as LabelImg writes it) when there is one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from gam_gui.datasets.core import Dataset, DatasetError
from gam_gui.datasets.labels import label_path
from gam_gui.datasets.yolo import labelled_dataset, list_images


def image_folder(root: str, split: str) -> str:
    for cand in (os.path.join(root, "images", split), os.path.join(root, "images")):
        if os.path.isdir(cand):
            return cand
    return root


def label_rule(img_root: str) -> Callable[[str], str]:
    """How an image path under ``img_root`` maps to its label file (see the module docstring)."""
    marker = f"{os.sep}images{os.sep}"
    if marker in img_root + os.sep:
        return label_path
    parent = os.path.dirname(img_root.rstrip(os.sep))
    for labels in (os.path.join(parent, "labels"), os.path.join(img_root, "labels")):
        if os.path.isdir(labels):
            def rule(p: str, labels: str = labels) -> str:
                return os.path.join(labels, os.path.relpath(p, img_root)).rsplit(".", 1)[0] + ".txt"
            return rule
    return label_path


def read_classes_txt(root: str, img_root: str) -> list[str] | None:
    seen = []
    parent = os.path.dirname(img_root.rstrip(os.sep))
    for cand in (os.path.join(root, "classes.txt"), os.path.join(parent, "labels", "classes.txt"),
                 os.path.join(parent, "classes.txt"), os.path.join(img_root, "classes.txt")):
        if cand in seen:
            continue
        seen.append(cand)
        if os.path.isfile(cand):
            try:
                with open(cand, encoding="utf-8") as f:
                    names = [ln.strip() for ln in f if ln.strip()]
            except (OSError, UnicodeDecodeError):
                raise DatasetError(f"{cand}: cannot be read", field="names", path=cand) from None
            if not names:
                raise DatasetError(f"{cand}: no class names in it", field="names", path=cand)
            return names
    return None


def open_folder(folder: str, split: str = "val", limit: int | None = None,
                model_names: Sequence[str] | None = None, bad_labels: str = "row", clip_boxes: bool = True,
                ) -> Dataset:
    root = os.path.abspath(folder)
    img_root = image_folder(root, split)
    data_names = read_classes_txt(root, img_root)
    if data_names is None:
        if model_names is None:
            raise DatasetError(f"{folder}: a folder of images needs class names: give the model (its names are "
                               "used) or a classes.txt", field="names", path=folder)
        data_names = [str(n) for n in model_names]
    paths = list_images([img_root], root, "data", folder)
    return labelled_dataset(paths, data_names, model_names, kind="folder", source=folder, split=split,
                            limit=limit, bad_labels=bad_labels, label_of=label_rule(img_root), clip_boxes=clip_boxes)
