"""Score a model on a dataset: batched forward passes, images decoded on DataLoader workers, one
:class:`~gam_gui.metrics.scorer.Scorer` per model configuration (as trained, and each ablation).

The protocol decides the network input of every image (a square, or ultralytics' rectangular
batch shapes) and the NMS settings; images of the same input shape are batched together (the shape
never depends on who an image is batched with here, so batching cannot change a number). Workers
decode and letterbox; the main process runs the network once per configuration on each batch and
keeps only the scorers' small per-image arrays, so memory does not grow with the dataset.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.datasets import Dataset, Sample, SkipCounter
from gam_gui.heads import DET_CLS, DET_SCORE, adapter_for
from gam_gui.inference import model_device, model_names, model_stride, non_max_suppression
from gam_gui.metrics.protocols import ImageRecord, Protocol, get_protocol
from gam_gui.metrics.scorer import Scorer

LOGGER = logging.getLogger(__name__)


def default_batch(device: torch.device | str | None) -> int:
    """16 images per batch on a CPU, 32 on a GPU."""
    return 32 if torch.device(device or "cpu").type == "cuda" else 16


def default_workers() -> int:
    """Decoding processes: one per spare core (at least one, at most four); the network keeps the rest."""
    n = os.cpu_count() or 1
    return max(1, min(4, n - 1))


@dataclass
class Prepared:
    """One image after a worker has decoded and letterboxed it (``image`` is ``None`` when skipped)."""

    sample: Sample  # its ``image`` dropped: only the ground truth and the bookkeeping travel back
    image: np.ndarray | None  # (3, H, W) uint8 RGB, the network input
    mapping: tuple[float, float, float, float]  # gain_x, gain_y, left, top


class LetterboxedDataset:
    """``dataset[i]`` decoded and letterboxed to its protocol input shape (picklable for workers)."""

    def __init__(self, dataset: Dataset, shapes: np.ndarray, protocol: Protocol, imgsz: int, stride: int) -> None:
        self.dataset, self.shapes, self.protocol = dataset, shapes, protocol
        self.imgsz, self.stride = imgsz, stride

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Prepared:
        smp = self.dataset[i]
        if smp.image is None:
            return Prepared(smp, None, (1.0, 1.0, 0.0, 0.0))
        img = smp.image
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, 2)
        elif img.shape[2] == 4:
            img = img[:, :, :3]
        out, mapping = self.protocol.letterbox(img, tuple(int(v) for v in self.shapes[i]), self.imgsz, self.stride)
        smp.image = None
        chw = np.ascontiguousarray(out[:, :, ::-1].transpose(2, 0, 1))
        return Prepared(smp, chw, mapping)


def collate(items: list[Prepared]) -> list[Prepared]:
    return items




def shape_batches(indices: Sequence[int], shapes: np.ndarray, batch: int) -> list[list[int]]:
    """``indices`` cut into batches of at most ``batch`` images of one input shape each, in index
    order within a shape; batches ordered by their first image."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i in indices:
        groups.setdefault((int(shapes[i][0]), int(shapes[i][1])), []).append(int(i))
    out = [g[k:k + batch] for g in groups.values() for k in range(0, len(g), batch)]
    return sorted(out, key=lambda b: b[0])


def records_from(det: torch.Tensor, prep: Prepared, clip: bool) -> ImageRecord:
    """One image's NMS rows (input pixels) -> an :class:`ImageRecord` in the image's pixels."""
    smp = prep.sample
    d = det.detach().cpu().numpy().astype(np.float64) if len(det) else np.zeros((0, 7))
    gx, gy, left, top = prep.mapping
    b = d[:, :4].copy()
    b[:, [0, 2]] = (b[:, [0, 2]] - left) / gx
    b[:, [1, 3]] = (b[:, [1, 3]] - top) / gy
    if clip:
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, smp.width)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, smp.height)
    crowd_b = getattr(smp, "crowd_boxes", np.zeros((0, 4)))
    crowd_c = getattr(smp, "crowd_classes", np.zeros(0, np.int64))
    gt_b = np.concatenate([np.asarray(smp.boxes, np.float64).reshape(-1, 4), np.asarray(crowd_b).reshape(-1, 4)])
    gt_c = np.concatenate([np.asarray(smp.classes, np.int64), np.asarray(crowd_c, np.int64)])
    crowd = np.r_[np.zeros(len(smp.classes), bool), np.ones(len(crowd_c), bool)]
    return ImageRecord(smp.image_id, smp.path, smp.width, smp.height, gt_b, gt_c, b, d[:, DET_SCORE],
                       d[:, DET_CLS].astype(np.int64), gt_crowd=crowd)


@dataclass
class DatasetScore:
    """What :func:`score_dataset` returns: one scorer per configuration, and what was skipped."""

    scorers: list[Scorer]
    skipped: SkipCounter = field(default_factory=SkipCounter)
    imgsz: int = 0
    forward_seconds: float = 0.0
    indices: list[int] = field(default_factory=list)  # the images scored (a shard's), in dataset order


def plan_batches(dataset: Dataset, protocol: Protocol, imgsz: int, stride: int, batch: int,
                 shard: tuple[int, int] | None = None) -> tuple[np.ndarray, list[list[int]]]:
    """Every image's input shape, and the batches to run: all of them, or the ``shard`` = (i, n)
    i-th of n near-equal runs of whole batches. A shard cuts between the single run's batches, so
    each image meets the network in exactly the same batch (floating-point results of a batched
    forward depend on the batch), and shards merge into the single run to the last digit."""
    sizes = dataset.image_sizes() if protocol.rect else np.zeros((len(dataset), 2), np.int64)
    shapes = protocol.input_shapes(sizes, imgsz, stride)
    batches = shape_batches(range(len(dataset)), shapes, batch)
    if shard is not None:
        i, n = shard
        batches = batches[len(batches) * i // n: len(batches) * (i + 1) // n]
    return shapes, batches


def iter_prepared(dataset: Dataset, protocol: Protocol, imgsz: int, stride: int, shapes: np.ndarray,
                  batches: list[list[int]], workers: int) -> Iterator[list[Prepared]]:
    """Batches of :class:`Prepared` images (decoded on ``workers`` processes; 0: in this one)."""
    wrapped = LetterboxedDataset(dataset, shapes, protocol, imgsz, stride)
    if workers <= 0 or len(batches) <= 1:
        for b in batches:
            yield [wrapped[i] for i in b]
        return
    import cv2

    # OpenCV's thread pool does not survive fork (a forked worker may wait forever on a lock a pool
    # thread held): decode single-threaded, as ultralytics does; the workers are the parallelism.
    cv2.setNumThreads(0)
    loader = torch.utils.data.DataLoader(wrapped, batch_sampler=batches, num_workers=workers, collate_fn=collate,
                                         persistent_workers=False, prefetch_factor=4)
    yield from loader


def score_dataset(model: nn.Module, dataset: Dataset, protocol: str | Protocol = "coco", imgsz: int = 640,
                  configs: Sequence[object] = (None,), batch: int | None = None, workers: int | None = None,
                  shard: tuple[int, int] | None = None, progress: Callable[[int, int], None] | None = None,
                  on_image: Callable[[Sample, list[ImageRecord]], None] | None = None) -> DatasetScore:
    """Run ``model`` over ``dataset`` (or its ``shard`` (i, n), see :func:`plan_batches`) under ``protocol`` once per
    configuration (``None`` = as trained, else :func:`gam_gui.ablation.ablated` blocks) and score it.

    ``progress(done, total)`` after each batch; ``on_image(sample, records)`` per image (its pixels
    dropped), e.g. for a failure list. Returns a :class:`DatasetScore`.
    """
    import time

    from gam_gui.ablation import ablated

    p = get_protocol(protocol)
    stride = model_stride(model)
    batch = batch or default_batch(model_device(model))
    workers = default_workers() if workers is None else workers
    names = model_names(model)
    class_names = dataset.names if dataset.names else [names[k] for k in sorted(names)]
    scorers = [Scorer(class_names, p) for _ in configs]
    skipped = SkipCounter()
    adapter = adapter_for(model)
    device = model_device(model)
    shapes, batches = plan_batches(dataset, p, imgsz, stride, batch, shard)
    max_det = p.max_det
    raise_max_det = getattr(p, "effective_max_det", None)
    labels = getattr(dataset, "labels", None)
    if callable(raise_max_det) and labels is not None and len(labels.offsets) > 1:
        max_det = int(raise_max_det(int(np.diff(labels.offsets).max())))  # the whole dataset's: shards agree
    total = sum(len(b) for b in batches)
    done, fwd = 0, 0.0
    model.eval()
    for items in iter_prepared(dataset, p, imgsz, stride, shapes, batches, workers):
        for it in items:
            skipped.add(it.sample)
        ok = [it for it in items if it.image is not None]
        per_image: list[list[ImageRecord]] = [[] for _ in ok]
        if ok:
            x = torch.from_numpy(np.stack([it.image for it in ok])).to(device).float().div_(255.0)
            for cfg, sc in zip(configs, scorers, strict=True):
                t0 = time.perf_counter()
                with torch.no_grad(), nullcontext() if cfg is None else ablated(model, cfg):
                    pred = adapter.rows(model(x))
                fwd += time.perf_counter() - t0
                dets = non_max_suppression(pred, p.conf, p.iou, max_det, adapter=adapter, multi_label=p.multi_label)
                for k, (det, it) in enumerate(zip(dets, ok, strict=True)):
                    rec = records_from(det, it, p.clip_boxes)
                    sc.add(rec, index=it.sample.index)
                    per_image[k].append(rec)
        if on_image is not None:
            for it, recs in zip(ok, per_image, strict=True):
                on_image(it.sample, recs)
        done += len(items)
        if progress is not None:
            progress(done, total)
    return DatasetScore(scorers, skipped, imgsz, fwd, sorted(i for b in batches for i in b))
