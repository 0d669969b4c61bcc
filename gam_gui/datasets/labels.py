"""YOLO label files (``class cx cy w h`` normalised, one row a line) and the class-name mapping.

The rules follow the ultralytics trainer where it has one, at the granularity of a row rather than a
file: ultralytics ignores a whole image when one row of its label file is bad; here the bad row is
dropped, warned (``file:line: reason``) and counted, and the image stays (``bad_labels="image"``
restores ultralytics' rule). An image with no label file, or an empty one, is a background image.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gam_gui.datasets.core import DatasetError, Notes

#: A box edge this far outside [0, 1] is rounding: no "clipped" warning (the box is clipped all the same).
TOLERANCE = 1e-4
#: Coordinates may stray this far outside [0, 1] before the row counts as not normalised (ultralytics' margin).
RANGE_TOLERANCE = 0.01


def label_path(image_path: str) -> str:
    """ultralytics' images -> labels rule: the last ``/images/`` of the path becomes ``/labels/`` and
    the suffix ``.txt`` (``data/images/val/a.jpg`` -> ``data/labels/val/a.txt``); a path with no
    ``images`` folder keeps its label beside the image."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    head, sep, tail = image_path.rpartition(sa)
    swapped = head + sb + tail if sep else image_path
    return swapped.rsplit(".", 1)[0] + ".txt"


@dataclass
class ParsedLabels:
    """One label file: kept rows (class index into the final names, cx, cy, w, h), rows dropped, notes."""

    rows: list[list[float]] = field(default_factory=list)
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    bad_file: bool = False


def parse_label_file(path: str, class_map: Sequence[int | None], n_file_classes: int, notes: Notes,
                     clip: bool = True) -> ParsedLabels:
    """Read one YOLO label file. ``class_map[c]`` is the index in the final names of the file's class
    ``c`` (``None``: a class the names list lacks, so the row is skipped). A missing file is a
    background image; an unreadable one is warned and also treated as having no labels (counted as
    one skipped row, so that the run's ``skipped`` shows it)."""
    out = ParsedLabels()
    try:
        with open(path, encoding="utf-8", errors="strict") as f:
            text = f.read()
    except FileNotFoundError:
        return out
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
        out.notes.append(notes.warn(f"{path}: unreadable label file ({why}); no labels used for its image"))
        out.skipped, out.bad_file = 1, True
        return out
    seen: dict[tuple[float, ...], int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row, reason = _parse_row(line, class_map, n_file_classes)
        if reason is not None:
            out.notes.append(notes.warn(f"{path}:{lineno}: {reason}; row skipped"))
            out.skipped += 1
            continue
        assert row is not None
        key = tuple(row)
        if key in seen:
            out.notes.append(notes.warn(f"{path}:{lineno}: duplicate of line {seen[key]}; dropped"))
            continue
        seen[key] = lineno
        cx, cy, w, h = row[1:]
        if cx - w / 2 < -TOLERANCE or cy - h / 2 < -TOLERANCE or cx + w / 2 > 1 + TOLERANCE \
                or cy + h / 2 > 1 + TOLERANCE:
            tail = "; clipped" if clip else ""
            out.notes.append(notes.warn(f"{path}:{lineno}: box reaches outside the image{tail}"))
        out.rows.append(row)
    return out


def _parse_row(line: str, class_map: Sequence[int | None], n_file_classes: int,
               ) -> tuple[list[float] | None, str | None]:
    parts = line.split()
    if len(parts) != 5 and not (len(parts) >= 7 and len(parts) % 2 == 1):
        return None, f"malformed row ({len(parts)} values; expected 'class cx cy w h')"
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None, "malformed row (not numbers; expected 'class cx cy w h')"
    if not all(math.isfinite(v) for v in values):
        return None, "malformed row (NaN or infinite value)"
    c = values[0]
    if c != int(c) or c < 0:
        return None, f"malformed row (class {parts[0]!r} is not a non-negative integer)"
    c = int(c)
    if c >= n_file_classes:
        return None, f"class {c} outside names (0-{n_file_classes - 1})"
    if len(parts) == 5:
        cx, cy, w, h = values[1:]
        if w <= 0 or h <= 0:
            return None, f"non-positive size (w={parts[3]}, h={parts[4]})"
    else:  # a polygon (segmentation label): its bounding box, as ultralytics' segments2boxes
        xs, ys = values[1::2], values[2::2]
        if min(xs + ys) < -RANGE_TOLERANCE or max(xs + ys) > 1 + RANGE_TOLERANCE:
            return None, "coordinates not normalised to [0, 1] (pixel coordinates?)"
        x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        if w <= 0 or h <= 0:
            return None, "non-positive size (a polygon without area)"
    if min(cx, cy) < -RANGE_TOLERANCE or max(cx, cy, w, h) > 1 + RANGE_TOLERANCE:
        return None, "coordinates not normalised to [0, 1] (pixel coordinates?)"
    mapped = class_map[c]
    if mapped is None:
        return None, f"class {c} is not among the model's classes"
    # float32 values, as ultralytics and the shapes generator hold labels: exact duplicates compare equal
    return [float(mapped), *(float(np.float32(v)) for v in (cx, cy, w, h))], None


# names -------------------------------------------------------------------------------------------
def normalise_names(raw: object, nc: object, source: str) -> list[str]:
    """``names`` as a list, or an ``{id: name}`` dict (ids 0..n-1, int or numeric strings), checked
    against ``nc`` when both are given. Raises :class:`DatasetError` naming the field."""
    if isinstance(raw, dict):
        try:
            items = {int(k): str(v) for k, v in raw.items()}
        except (TypeError, ValueError):
            raise DatasetError(f"{source}: names: dict keys must be class ids (0, 1, ...)", field="names",
                               path=source) from None
        missing = [i for i in range(len(items)) if i not in items]
        if missing:
            raise DatasetError(f"{source}: names: class ids must run 0..{len(items) - 1}; {missing[0]} is missing",
                               field="names", path=source)
        names = [items[i] for i in range(len(items))]
    elif isinstance(raw, (list, tuple)):
        names = [str(v) for v in raw]
    else:
        raise DatasetError(f"{source}: names must be a list or an {{id: name}} mapping", field="names", path=source)
    if not names:
        raise DatasetError(f"{source}: names is empty", field="names", path=source)
    if nc is not None:
        try:
            n = int(nc)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise DatasetError(f"{source}: nc must be an integer, got {nc!r}", field="nc", path=source) from None
        if n != len(names):
            raise DatasetError(f"{source}: nc is {n} but names lists {len(names)} classes", field="nc", path=source)
    return names


def _default_like(names: Sequence[str]) -> bool:
    """Names a checkpoint gets when it carries none: ``0``, ``class0``, ``class_0``, ..."""
    return all(n in (str(i), f"class{i}", f"class_{i}") for i, n in enumerate(names))


def map_names(data_names: Sequence[str], model_names: Sequence[str] | None, source: str,
              ) -> tuple[list[str], list[int | None]]:
    """(final names, map from the dataset's class ids to indices in them).

    Without ``model_names`` the dataset's own names are used. With them, classes are matched by name
    (case-sensitive), so a dataset that is a subset of the model's classes, in any order, maps
    correctly; a dataset class the model lacks is an error naming it. A model with placeholder names
    (``class0`` ...) and as many classes is matched by index, with a notice.
    """
    if model_names is None:
        return list(data_names), list(range(len(data_names)))
    model_names = [str(n) for n in model_names]
    index = {n: i for i, n in enumerate(model_names)}
    missing = [n for n in data_names if n not in index]
    if missing and _default_like(model_names) and len(model_names) == len(data_names):
        from gam_gui.datasets.core import LOGGER

        LOGGER.info("the model's class names are placeholders; its classes are matched to %s's by index", source)
        return list(data_names), list(range(len(data_names)))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DatasetError(f"{source}: class {missing[0]!r}{more} is not one of the model's classes "
                           f"({', '.join(model_names[:8])}{', ...' if len(model_names) > 8 else ''})",
                           field="names", path=source)
    return model_names, [index[n] for n in data_names]
