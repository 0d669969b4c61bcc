"""The one dataset shape every score reads: a map-style :class:`Dataset` of :class:`Sample` objects.

Every layout (YOLO ``data.yaml``, COCO JSON, a bare folder, the generated shapes) is turned into the
same thing at open time: a sorted list of image paths plus, per image, a few parsed label rows held
in one compact array. Pixels are decoded only in ``__getitem__``, one image at a time, so memory does
not grow with the dataset, and the object pickles cheaply into DataLoader worker processes (it
holds strings and numpy arrays, nothing open). Label problems are found and logged once, at open, in
the calling process; an image that cannot be decoded is reported by ``__getitem__`` through
:attr:`Sample.skip_reason` (and logged once per process).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOGGER = logging.getLogger("gam_gui.datasets")

#: Image suffixes accepted in folders and lists, as the ultralytics trainer accepts them (case-insensitive).
IMG_FORMATS = frozenset({"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"})
#: ultralytics refuses images whose sides are below this many pixels; so do we (same counts).
MIN_IMAGE_SIDE = 10
#: Warnings logged per dataset open before the rest go to DEBUG (a broken dataset must not flood the terminal).
MAX_WARNINGS = 100


class DatasetError(ValueError):
    """A dataset that cannot be used at all: the CLI prints the one-line message and exits 1.

    ``field`` names what is wrong (``"data"``, ``"names"``, ``"val"``, ``"images_dir"`` ...), ``path``
    the file or folder concerned, ``line`` the line in that file when known. Callers branch on these
    attributes, never on the message.
    """

    def __init__(self, message: str, field: str | None = None, path: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(message.splitlines()[0] if message else "bad dataset")
        self.field = field
        self.path = path
        self.line = line


@dataclass
class Sample:
    """One image and its ground truth, in pixels of ``image`` (which is ``None`` when skipped)."""

    index: int
    path: str
    image_id: int | str
    image: np.ndarray | None
    boxes: np.ndarray  # (n, 4) float32 xyxy pixels, clipped to the image
    classes: np.ndarray  # (n,) int64 indices into Dataset.names
    width: int
    height: int
    skipped_rows: int = 0
    skip_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    #: COCO ``iscrowd`` regions (pycocotools ignores detections inside them); never part of boxes/classes.
    crowd_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    crowd_classes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None


@dataclass
class SkipCounter:
    """What was skipped: whole images and single label rows. Mergeable, so shards add up exactly.

    ``add`` takes samples; the rows a dataset dropped that belong to no image (a COCO annotation
    whose ``image_id`` is not among the images) and the image entries it could not use (a COCO image
    without a ``file_name``) are in :attr:`Dataset.unattached_skipped_rows` / ``unattached_skipped_images``:
    add them once per run (:meth:`add_dataset`), not once per shard.
    """

    images: int = 0
    label_rows: int = 0

    def add(self, sample: Sample) -> None:
        if sample.skip_reason is not None:
            self.images += 1
        self.label_rows += int(sample.skipped_rows)

    def add_dataset(self, dataset: Dataset) -> None:
        self.images += int(dataset.unattached_skipped_images)
        self.label_rows += int(dataset.unattached_skipped_rows)

    def merge(self, other: SkipCounter) -> SkipCounter:
        return SkipCounter(self.images + other.images, self.label_rows + other.label_rows)

    def to_json(self) -> dict[str, int]:
        return {"images": self.images, "label_rows": self.label_rows}


def count_skipped(samples: Iterable[Sample], dataset: Dataset | None = None) -> dict[str, int]:
    """``{"images": k, "label_rows": m}`` for the eval JSON's ``skipped`` key (``dataset``: also its
    rows attached to no image)."""
    c = SkipCounter()
    for s in samples:
        c.add(s)
    if dataset is not None:
        c.add_dataset(dataset)
    return c.to_json()


class Notes:
    """Collects the open-time warnings of one dataset: logs the first :data:`MAX_WARNINGS`, the
    rest at DEBUG, and keeps each image's own notes for :attr:`Sample.notes`."""

    def __init__(self) -> None:
        self.logged = 0
        self.hidden = 0

    def warn(self, message: str) -> str:
        if self.logged < MAX_WARNINGS:
            LOGGER.warning("%s", message)
            self.logged += 1
        else:
            self.hidden += 1
            LOGGER.debug("%s", message)
        return message

    def finish(self) -> None:
        if self.hidden:
            LOGGER.warning("... and %d more dataset warnings (shown with --log-level DEBUG)", self.hidden)


# label arrays ------------------------------------------------------------------------------------
#: How the 4 numbers of a stored row are meant: ``"cxcywh"`` normalised (YOLO) or ``"xyxy"`` pixels (COCO).
COORDS = ("cxcywh", "xyxy")


@dataclass
class LabelTable:
    """Every image's rows in one array: row ``k`` of image ``i`` is ``rows[offsets[i] + k]``.

    ``rows`` is (N, 5) float32: class index (into the dataset's final names), then 4 coordinates.
    One array pickles in one piece, which keeps DataLoader workers cheap to start.
    """

    rows: np.ndarray
    offsets: np.ndarray  # (n_images + 1,) int64
    skipped: np.ndarray  # (n_images,) int32: rows dropped per image
    notes: list[list[str]]  # per image: the warnings logged for it
    crowd: np.ndarray | None = None  # (M, 5) like rows, for COCO iscrowd regions
    crowd_offsets: np.ndarray | None = None

    @classmethod
    def build(cls, per_image: list[list[list[float]]], skipped: list[int], notes: list[list[str]],
              crowd: list[list[list[float]]] | None = None) -> LabelTable:
        def pack(lists: list[list[list[float]]]) -> tuple[np.ndarray, np.ndarray]:
            counts = np.array([len(x) for x in lists], np.int64)
            offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
            flat = [r for x in lists for r in x]
            return np.array(flat, np.float32).reshape(-1, 5), offsets

        rows, offsets = pack(per_image)
        table = cls(rows, offsets, np.array(skipped, np.int32), notes)
        if crowd is not None:
            table.crowd, table.crowd_offsets = pack(crowd)
        return table

    def image_rows(self, i: int) -> np.ndarray:
        return self.rows[self.offsets[i]:self.offsets[i + 1]]

    def crowd_rows(self, i: int) -> np.ndarray:
        if self.crowd is None or self.crowd_offsets is None:
            return np.zeros((0, 5), np.float32)
        return self.crowd[self.crowd_offsets[i]:self.crowd_offsets[i + 1]]


def to_pixels(rows: np.ndarray, coords: str, w: int, h: int, clip: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(n, 5) stored rows -> ((n, 4) float32 xyxy clipped to the image unless not ``clip``, (n,) int64 classes).

    Normalised rows go through the same float32 arithmetic as the shapes generator's
    ``labels_to_xyxy``, so an exported shapes set reads back to bit-identical boxes.
    """
    cls = rows[:, 0].astype(np.int64)
    if coords == "cxcywh":
        xy, half = rows[:, 1:3], rows[:, 3:5] / 2
        boxes = (np.concatenate((xy - half, xy + half), 1) * np.float32([w, h, w, h])).astype(np.float32)
    else:
        boxes = rows[:, 1:5].astype(np.float32)
    if clip:
        boxes = np.clip(boxes, 0, np.float32([w, h, w, h])).astype(np.float32)
    boxes = boxes.reshape(-1, 4)
    return boxes, cls


# image decoding ----------------------------------------------------------------------------------
_REPORTED: set[str] = set()  # image paths already reported as skipped in this process


def load_image(path: str) -> tuple[np.ndarray | None, str | None]:
    """Decode one image as uint8 BGR, as ultralytics does (``cv2.IMREAD_COLOR``: EXIF orientation
    applied, alpha dropped, 16 bit scaled), after gam-gui's size checks (a few KB of PNG may claim
    gigapixels). Returns ``(image, None)`` or ``(None, reason)``."""
    import cv2

    from gam_gui.images import MAX_IMAGE_BYTES, MAX_PIXELS, image_size

    try:
        if not os.path.exists(path):
            return None, "missing image (no such file)"
        size = os.path.getsize(path)
        if size == 0:
            return None, "empty image file (0 bytes)"
        if size > MAX_IMAGE_BYTES:
            return None, f"image file too large ({size / 2**20:,.0f} MiB)"
        buf = np.fromfile(path, dtype=np.uint8, count=size)
    except OSError as e:
        return None, f"unreadable image ({e.strerror or e})"
    dims = image_size(buf)
    if dims is None:
        return None, "corrupt or unsupported image (cannot read its size)"
    if dims[0] * dims[1] > MAX_PIXELS:
        return None, f"image too large ({dims[0]}x{dims[1]})"
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except (cv2.error, MemoryError) as e:
        return None, f"corrupt image ({type(e).__name__})"
    if img is None:
        return None, "corrupt image (cannot be decoded)"
    if min(img.shape[:2]) < MIN_IMAGE_SIDE:
        return None, f"image smaller than {MIN_IMAGE_SIDE} px ({img.shape[1]}x{img.shape[0]})"
    return img, None


def header_size(path: str) -> tuple[int, int]:
    """``(height, width)`` of an image file as decoded with its EXIF orientation, from its header."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
            try:
                if im.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated by 90 degrees
                    w, h = h, w
            except Exception:  # noqa: BLE001 - a damaged EXIF block: the stored size stands
                pass
            return int(h), int(w)
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - PIL cannot open it; the header parser below may
        pass
    from gam_gui.images import image_size

    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return 0, 0
    dims = image_size(head)
    return (int(dims[1]), int(dims[0])) if dims else (0, 0)


def report_skip(path: str, reason: str) -> str:
    """Log an image skipped by ``__getitem__`` once per process; return the ``file: reason`` note."""
    note = f"{path}: {reason}; image skipped"
    if path not in _REPORTED:
        _REPORTED.add(path)
        LOGGER.warning("%s", note)
    return note


# the dataset -------------------------------------------------------------------------------------
class Dataset:
    """Map-style dataset (usable as a ``torch.utils.data.Dataset``): ``len``, ``[i]`` -> :class:`Sample`.

    Attributes: ``names`` (class names, the model's order when ``model_names`` was given),
    ``split``, ``source`` (the ``--data`` argument), ``kind`` (``yolo``, ``coco``, ``folder``,
    ``shapes``), ``paths`` (sorted, already limited by ``--images``), ``image_ids``,
    ``category_ids`` (per class index: the id a COCO results file uses; ``None`` for a model class
    the COCO file lacks), ``unattached_skipped_rows`` / ``unattached_skipped_images`` (see
    :class:`SkipCounter`), ``skip_images_with_bad_rows`` (``bad_labels="image"``), ``clip_boxes``
    (False: boxes reaching outside the image are kept as written, as ultralytics' validator keeps them).
    """

    def __init__(self, *, names: list[str], split: str, source: str, kind: str, paths: list[str],
                 image_ids: list[int | str], labels: LabelTable, coords: str = "cxcywh",
                 category_ids: list[int | None] | None = None, unattached_skipped_rows: int = 0,
                 unattached_skipped_images: int = 0, skip_images_with_bad_rows: bool = False,
                 clip_boxes: bool = True) -> None:
        if coords not in COORDS:
            raise ValueError(f"coords must be one of {COORDS}")
        self.names = list(names)
        self.split = split
        self.source = source
        self.kind = kind
        self.paths = list(paths)
        self.image_ids = list(image_ids)
        self.labels = labels
        self.coords = coords
        self.category_ids = list(category_ids) if category_ids is not None else list(range(len(self.names)))
        self.unattached_skipped_rows = int(unattached_skipped_rows)
        self.unattached_skipped_images = int(unattached_skipped_images)
        self.skip_images_with_bad_rows = skip_images_with_bad_rows
        self.clip_boxes = clip_boxes

    def __len__(self) -> int:
        return len(self.paths)

    def position(self, i: int) -> int:
        """``i`` as a position in path order (negative counts from the end); IndexError outside."""
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"sample {i} out of range ({len(self)} images)")
        return i

    def __getitem__(self, i: int) -> Sample:
        i = self.position(i)
        path = self.paths[i]
        rows = self.labels.image_rows(i)
        notes = list(self.labels.notes[i])
        skipped = int(self.labels.skipped[i])
        image, reason = self._decode(i)
        if reason is None and skipped and self.skip_images_with_bad_rows:
            reason = f"its labels have {skipped} bad row(s) (bad_labels='image', ultralytics' rule)"
        if reason is not None:
            notes.append(report_skip(path, reason))
            return Sample(i, path, self.image_ids[i], None, np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                          0, 0, skipped, reason, notes)
        assert image is not None
        h, w = image.shape[:2]
        boxes, cls = to_pixels(rows, self.coords, w, h, self.clip_boxes)
        crowd_boxes, crowd_cls = to_pixels(self.labels.crowd_rows(i), self.coords, w, h, self.clip_boxes)
        return Sample(i, path, self.image_ids[i], image, boxes, cls, w, h, skipped, None, notes,
                      crowd_boxes, crowd_cls)

    def _decode(self, i: int) -> tuple[np.ndarray | None, str | None]:
        return load_image(self.paths[i])

    def __iter__(self) -> Iterator[Sample]:
        for i in range(len(self)):
            yield self[i]

    def image_sizes(self) -> np.ndarray:
        """(n, 2) int64 ``(height, width)`` of every image, read from the file headers without decoding
        pixels and turned by the EXIF orientation as the decoded image will be (ultralytics' rectangular
        val batches need every aspect ratio before the first batch); ``(0, 0)`` for an unreadable file."""
        return np.array([header_size(p) for p in self.paths], np.int64).reshape(-1, 2)

    def describe(self) -> dict[str, Any]:
        """What the eval JSON's ``data`` key says about the data."""
        return {"source": self.source, "kind": self.kind, "split": self.split, "images": len(self),
                "names": list(self.names)}

    def __repr__(self) -> str:
        return f"Dataset(kind={self.kind!r}, split={self.split!r}, images={len(self)}, source={self.source!r})"


def image_ids_for(paths: list[str]) -> list[int | str]:
    """Image ids for a results file: every file stem as an integer when all stems are integers and
    distinct (``000123.jpg`` -> 123, as ultralytics writes them), else each image's index in the
    sorted list. All or nothing, so that an integer stem can never collide with another's index."""
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    if stems and all(s.isascii() and s.isdigit() for s in stems):
        ints = [int(s) for s in stems]
        if len(set(ints)) == len(ints):
            return list(ints)
    return list(range(len(paths)))


def is_image_file(path: str) -> bool:
    return path.rsplit(".", 1)[-1].lower() in IMG_FORMATS if "." in os.path.basename(path) else False
