"""The YOLO layout as the ultralytics trainer and YOLOv5/YOLOv7 read it: a ``data.yaml`` naming the
dataset root (``path``), each split's images (a folder, a ``.txt`` list, or a list of either) and
the class ``names``; each image's labels found by the images -> labels rule.

The YAML is read with ``yaml.safe_load`` and nothing in it runs: the ``download:`` key that
ultralytics executes (a URL or a Python snippet) is ignored, with a notice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gam_gui.datasets.core import (
    LOGGER,
    Dataset,
    DatasetError,
    LabelTable,
    Notes,
    image_ids_for,
    is_image_file,
)
from gam_gui.datasets.labels import label_path, map_names, normalise_names, parse_label_file

#: A data.yaml is a few lines; anything this large is not one (and would cost memory to parse).
MAX_YAML_BYTES = 4 * 2**20


def read_data_yaml(path: str) -> dict[str, Any]:
    """The parsed ``data.yaml`` as a dict with ``names`` checked, or a one-line :class:`DatasetError`."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{path}: no such file" if not p.exists() else f"{path}: not a file",
                           field="data", path=path)
    try:
        if p.stat().st_size > MAX_YAML_BYTES:
            raise DatasetError(f"{path}: too large for a data.yaml", field="data", path=path)
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise DatasetError(f"{path}: cannot be read ({why})", field="data", path=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or type(e).__name__
        where = f"{path}:{line}" if line else path
        raise DatasetError(f"{where}: not YAML ({problem})", field="data", path=path, line=line) from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: not a data.yaml (expected a mapping with names and train/val/test)",
                           field="data", path=path)
    if "names" not in data or data["names"] is None:
        raise DatasetError(f"{path}: no 'names' (the class names, a list or {{id: name}})", field="names",
                           path=path)
    if "validation" in data and "val" not in data:  # ultralytics accepts this spelling
        data["val"] = data.pop("validation")
    if data.get("download") is not None:
        LOGGER.info("%s: its 'download' entry is ignored (gam-gui never downloads or runs anything from a "
                    "data.yaml)", path)
    return data


def dataset_root(data: dict[str, Any], yaml_path: str) -> Path:
    """``path``: absolute, or relative to the yaml's folder; absent: the yaml's folder. A relative
    ``path`` not found there is looked for where the trainers look: the working directory
    (ultralytics) and the folder above the yaml's (YOLOv5/YOLOv7 resolve it from the repository root,
    their yamls sitting in ``data/``). Raises :class:`DatasetError` (field ``path``) when it is nowhere."""
    here = Path(yaml_path).resolve().parent
    raw = data.get("path")
    if raw in (None, ""):
        return here
    if not isinstance(raw, (str, os.PathLike)):
        raise DatasetError(f"{yaml_path}: path must be a folder, got {raw!r}", field="path", path=yaml_path)
    p = Path(str(raw)).expanduser()
    cands = [p] if p.is_absolute() else [here / p, Path.cwd() / p, here.parent / p]
    for c in cands:
        if c.is_dir():
            if c != cands[0]:
                LOGGER.info("%s: path %s taken as %s", yaml_path, raw, c.resolve())
            return c.resolve()
    raise DatasetError(f"{yaml_path}: path {raw} is not a folder (looked at {cands[0]})", field="path",
                       path=str(cands[0]))


def split_entries(data: dict[str, Any], split: str, yaml_path: str) -> list[str]:
    raw = data.get(split)
    if raw in (None, "", []):
        raise DatasetError(f"{yaml_path}: no '{split}' entry (the images of split {split})", field=split,
                           path=yaml_path)
    entries = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(e, (str, os.PathLike)) for e in entries):
        raise DatasetError(f"{yaml_path}: {split} must be a path or a list of paths", field=split, path=yaml_path)
    return [str(e) for e in entries]


def list_images(entries: Sequence[str], root: Path, field: str, source: str) -> list[str]:
    """Image paths of a split, sorted as strings (ultralytics' order), duplicates removed.

    Each entry, relative to ``root``: a folder (searched recursively), a ``.txt`` list (one image a
    line: absolute, or relative to the list's folder, else to ``root``; ``./x.jpg`` is relative to the
    list's folder, as ultralytics reads it) or one image file.
    """
    found: list[str] = []
    for entry in entries:
        p = Path(entry).expanduser()
        if not p.is_absolute():
            p = root / entry
            if not p.exists() and entry.startswith("../"):  # YOLOv5-style yamls, as ultralytics accepts
                p = root / entry[3:]
        if p.is_dir():
            found += _walk_images(p)
        elif p.is_file() and p.suffix.lower() == ".txt":
            found += _read_list(p, root, field)
        elif p.is_file() and is_image_file(str(p)):
            found.append(os.path.abspath(p))
        elif p.exists():
            raise DatasetError(f"{source}: {field}: {p} is neither a folder, a .txt list nor an image",
                               field=field, path=str(p))
        else:
            raise DatasetError(f"{source}: {field}: {p} does not exist", field=field, path=str(p))
    unique = sorted(set(found))
    if len(unique) < len(found):
        LOGGER.warning("%s: %s lists %d image(s) more than once; each is used once", source, field,
                       len(found) - len(unique))
    if not unique:
        raise DatasetError(f"{source}: {field}: no images in {', '.join(entries)}", field=field, path=source)
    return unique


def _walk_images(folder: Path) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(os.path.abspath(folder), followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        out += [os.path.join(dirpath, f) for f in filenames if is_image_file(f)]
    return out


def _read_list(txt: Path, root: Path, field: str) -> list[str]:
    try:
        lines = txt.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise DatasetError(f"{txt}: cannot be read ({why})", field=field, path=str(txt)) from None
    out = []
    base = txt.resolve().parent
    for line in lines:
        s = line.strip()
        if not s or not is_image_file(s):
            continue
        if s.startswith("./"):
            p = base / s[2:]
        elif os.path.isabs(s):
            p = Path(s)
        else:
            p = base / s
            if not p.exists() and (root / s).exists():
                p = root / s
        out.append(os.path.abspath(p))
    return out


def labelled_dataset(paths: list[str], data_names: list[str], model_names: Sequence[str] | None, *, kind: str,
                     source: str, split: str, limit: int | None, bad_labels: str = "row",
                     label_of: Any = label_path, clip_boxes: bool = True) -> Dataset:
    """A :class:`Dataset` over sorted image paths whose labels are YOLO txt files (``label_of(path)``)."""
    names, class_map = map_names(data_names, model_names, source)
    ids = image_ids_for(paths)  # on the full list: --images N keeps the ids a full run gives
    if limit is not None:
        paths, ids = paths[:limit], ids[:limit]
    notes = Notes()
    per_image, skipped, image_notes = [], [], []
    any_label = False
    for p in paths:
        lp = label_of(p)
        parsed = parse_label_file(lp, class_map, len(data_names), notes, clip_boxes)
        any_label = any_label or parsed.rows != [] or parsed.skipped > 0 or os.path.exists(lp)
        per_image.append(parsed.rows)
        skipped.append(parsed.skipped)
        image_notes.append(parsed.notes)
    notes.finish()
    if not any_label:
        LOGGER.warning("%s: no label file found for any of the %d image(s) of %s (looked for e.g. %s); "
                       "every image is a background image", source, len(paths), split, label_of(paths[0]))
    return Dataset(names=names, split=split, source=source, kind=kind, paths=paths, image_ids=ids,
                   labels=LabelTable.build(per_image, skipped, image_notes), coords="cxcywh",
                   skip_images_with_bad_rows=bad_labels == "image", clip_boxes=clip_boxes)


def open_yolo(yaml_path: str, split: str = "val", limit: int | None = None,
              model_names: Sequence[str] | None = None, bad_labels: str = "row", source: str | None = None,
              clip_boxes: bool = True) -> Dataset:
    """A split of a YOLO-layout dataset described by ``data.yaml``."""
    data = read_data_yaml(yaml_path)
    data_names = normalise_names(data["names"], data.get("nc"), yaml_path)
    root = dataset_root(data, yaml_path)
    try:
        entries = split_entries(data, split, yaml_path)
        paths = list_images(entries, root, split, yaml_path)
    except DatasetError as e:
        if data.get("download") is None or e.field != split:
            raise
        raise DatasetError(f"{e} (the yaml's 'download' entry is never run: fetch the data yourself)",
                           field=e.field, path=e.path) from None
    return labelled_dataset(paths, data_names, model_names, kind="yolo", source=source or yaml_path, split=split,
                            limit=limit, bad_labels=bad_labels, clip_boxes=clip_boxes)
