"""The generated shapes validation set through the dataset interface, and its export as a YOLO layout.

``shapes_dataset(n)`` renders the same images, from the same seeds, as ``gam-gui eval`` has always
scored (``VAL_SEED0``, or ``HARD_SEED0`` for the hard slice), so eval has one path for every data.
``export_shapes`` writes them as ``images/val/000000.png`` + ``labels/val/000000.txt`` + ``data.yaml``:
PNG (lossless) and labels printed to float32 round-trip precision, so ``--data`` on the export reads
back bit-identical pixels and boxes, and the README tables can be re-measured through ``--data``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from gam_gui.datasets.core import Dataset, DatasetError, LabelTable, Sample, to_pixels

LOGGER = logging.getLogger("gam_gui.datasets")


def _seed0(difficulty: object) -> int:
    from gam_gui.data.shapes import HARD, HARD_SEED0, VAL_SEED0

    return HARD_SEED0 if difficulty == HARD else VAL_SEED0


class ShapesDataset(Dataset):
    """``n`` rendered validation images; ``__getitem__`` renders image ``i`` from seed ``seed0 + i``."""

    def __init__(self, n: int, difficulty: object, render_size: int, seed0: int) -> None:
        from gam_gui.data.shapes import CLASS_NAMES, HARD

        slice_name = "hard" if difficulty == HARD else "validation"
        paths = [f"shapes/{slice_name}/{k:06d}.png" for k in range(n)]
        empty = LabelTable.build([[] for _ in range(n)], [0] * n, [[] for _ in range(n)])
        super().__init__(names=list(CLASS_NAMES), split="val", source=f"shapes:{slice_name}", kind="shapes",
                         paths=paths, image_ids=list(range(n)), labels=empty)
        self.difficulty = difficulty
        self.render_size = int(render_size)
        self.seed0 = int(seed0)

    def __getitem__(self, i: int) -> Sample:
        from gam_gui.data.shapes import render_sample

        i = self.position(i)
        smp = render_sample(self.seed0 + i, self.render_size, difficulty=self.difficulty)  # type: ignore[arg-type]
        h, w = smp.image.shape[:2]
        boxes, cls = to_pixels(smp.labels, "cxcywh", w, h)
        return Sample(i, self.paths[i], i, smp.image, boxes, cls, w, h)

    def image_sizes(self) -> np.ndarray:
        return np.full((len(self), 2), self.render_size, np.int64)

    def describe(self) -> dict:
        d = super().describe()
        d["render_size"] = self.render_size
        d["seed0"] = self.seed0
        return d


def shapes_dataset(n: int, difficulty: object = None, render_size: int = 320, seed0: int | None = None) -> Dataset:
    """Today's generated validation set (``difficulty=HARD``: the hard slice) as a :class:`Dataset`:
    image ``k`` is ``render_sample(seed0 + k, render_size, difficulty=difficulty)``, ``seed0`` the
    slice's own (``VAL_SEED0`` / ``HARD_SEED0`` of :mod:`gam_gui.data.shapes`)."""
    from gam_gui.data.shapes import NORMAL

    difficulty = NORMAL if difficulty is None else difficulty
    if int(n) < 1:
        raise ValueError("n must be at least 1")
    return ShapesDataset(int(n), difficulty, render_size, _seed0(difficulty) if seed0 is None else seed0)


def format_label(row: np.ndarray) -> str:
    """``cls cx cy w h`` with each float32 coordinate printed to the shortest text that reads back
    to the same float32 (bit-exact boxes after a round trip)."""
    vals = " ".join(np.format_float_positional(np.float32(v), unique=True, trim="-") for v in row[1:5])
    return f"{int(row[0])} {vals}"


def export_shapes(out: str | Path, n: int, hard: bool = False, render_size: int = 320, overwrite: bool = False,
                  progress: bool | None = None) -> Path:
    """Write the first ``n`` validation images (``hard``: the hard slice) as a YOLO-layout dataset in
    ``out``; returns the ``data.yaml`` path. Refuses an ``out`` that already has a ``data.yaml``
    unless ``overwrite``."""
    import cv2

    from gam_gui.data.shapes import CLASS_NAMES, HARD, NORMAL
    from gam_gui.progress import Progress

    out = Path(out)
    yaml_path = out / "data.yaml"
    if yaml_path.exists() and not overwrite:
        raise DatasetError(f"{yaml_path} already exists (use --overwrite to replace it)", field="out",
                           path=str(yaml_path))
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: not a folder", field="out", path=str(out))
    ds = shapes_dataset(n, HARD if hard else NORMAL, render_size)
    img_dir, lbl_dir = out / "images" / "val", out / "labels" / "val"
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    from gam_gui.data.shapes import render_sample

    with Progress(n, desc="export-dataset", unit="img", force=progress) as bar:
        for k in range(n):
            smp = render_sample(ds.seed0 + k, render_size, difficulty=ds.difficulty)  # type: ignore[attr-defined]
            ok, enc = cv2.imencode(".png", smp.image)
            if not ok:
                raise DatasetError(f"could not encode image {k} as PNG", field="out", path=str(img_dir))
            enc.tofile(str(img_dir / f"{k:06d}.png"))
            rows = [format_label(r) for r in smp.labels]
            (lbl_dir / f"{k:06d}.txt").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
            bar.update()
    slice_name = "hard" if hard else "validation"
    names = "\n".join(f"  {i}: {nm}" for i, nm in enumerate(CLASS_NAMES))
    yaml_path.write_text(
        f"# gam-gui export-dataset: the first {n} images of the shapes {slice_name} set "
        f"(seeds {ds.seed0}..{ds.seed0 + n - 1}, {render_size} px)\n"  # type: ignore[attr-defined]
        "# no 'path': the dataset root is this file's folder (for ultralytics too), so the folder can move\n"
        "val: images/val\n"
        "# ultralytics requires a train entry; it points at the same images (never train on them)\n"
        "train: images/val\n"
        f"names:\n{names}\n", encoding="utf-8")
    LOGGER.info("wrote %d images to %s", n, out)
    return yaml_path
