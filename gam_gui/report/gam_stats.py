"""What each GAM block does on the user's data, measured over the ground-truth boxes (section 4).

For every image, the tensors a :class:`~gam_gui.explain.attention.GamRecorder` kept during the
detection forward are read at the block's own feature resolution (no resize to the frame: cheaper,
and no interpolation between inside and outside). A feature cell is *inside* a box when its centre
falls in it (the cell holding the box centre when no centre does: a box smaller than a cell still
counts), *outside* when it lies on the frame's content and in no box of any class.

Per block and class, over that class's boxes (each object weighs the same):

* the spatial gate (sigmoid, mean over channels, 0–1) inside the box; outside, the image's mean
  over its background cells, averaged over images;
* the block gain ``log2(||out|| / ||x||)`` (bits; 0 = features passed on at their strength), the
  quantity of ``benchmarks/measure_gain.py`` and the window's gain view;
* the channel attention per channel inside the box, whose largest means are the block's "top
  channels" for that class (the seed variant has no sigmoid on the channel branch, so its values
  are not bounded to 0–1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from gam_gui.explain.attention import log2_energy_ratio
from gam_gui.inference import Letterbox
from gam_gui.models.gam import VARIANTS

TOP_CHANNELS = 5


@dataclass
class BlockInfo:
    """A GAM block as the report names it: its layer ``index``, module ``name`` and forward ``variant``."""

    index: int
    name: str
    variant: str

    @property
    def label(self) -> str:
        return f"layer {self.index}"


@dataclass
class _Acc:
    n: int = 0
    sp: float = 0.0
    sp2: float = 0.0
    gain: float = 0.0
    gain2: float = 0.0
    ch: np.ndarray | None = None

    def add(self, sp: float, gain: float, ch: np.ndarray | None) -> None:
        self.n += 1
        self.sp += sp
        self.sp2 += sp * sp
        self.gain += gain
        self.gain2 += gain * gain
        if ch is not None:
            self.ch = ch.astype(np.float64) if self.ch is None else self.ch + ch

    def mean(self, what: str) -> float:
        return getattr(self, what) / self.n if self.n else float("nan")

    def half_width(self, what: str) -> float:
        """Half the width of a normal-approximation 95% interval of the mean (NaN under 2 values)."""
        if self.n < 2:
            return float("nan")
        m = getattr(self, what) / self.n
        var = max(0.0, (getattr(self, what + "2") - self.n * m * m) / (self.n - 1))
        return 1.96 * float(np.sqrt(var / self.n))


@dataclass
class GamRow:
    """One (block, class) row of the section-4 table."""

    block: BlockInfo
    cls: int
    name: str
    boxes: int
    spatial_in: float
    spatial_in_hw: float
    spatial_out: float
    gain_in: float
    gain_in_hw: float
    gain_out: float
    top_channels: list[tuple[int, float]] = field(default_factory=list)


def cell_centres(lb: Letterbox, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame coordinates (x, y) of each feature cell's centre, and the cells on the frame's content."""
    h, w = hw
    ih, iw = lb.input_shape
    xs = ((np.arange(w) + 0.5) * iw / w - lb.pad[0]) / lb.gain
    ys = ((np.arange(h) + 0.5) * ih / h - lb.pad[1]) / lb.gain
    fx, fy = np.meshgrid(xs, ys)
    fh, fw = lb.frame_shape
    content = (fx >= 0) & (fx < fw) & (fy >= 0) & (fy < fh)
    return fx, fy, content


def box_cells(fx: np.ndarray, fy: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Cells whose centre is in ``box`` (xyxy, frame pixels); the nearest cell to its centre when none is."""
    x1, y1, x2, y2 = (float(v) for v in box)
    m = (fx >= x1) & (fx <= x2) & (fy >= y1) & (fy <= y2)
    if not m.any():
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        k = int(np.argmin((fx - cx) ** 2 + (fy - cy) ** 2))
        m.flat[k] = True
    return m


class GamStats:
    """Accumulates section 4 over the images of one model (see the module docstring)."""

    def __init__(self, blocks: list[BlockInfo], names: list[str]) -> None:
        self.blocks = blocks
        self.names = names
        self.inside = {(b.name, c): _Acc() for b in blocks for c in range(len(names))}
        self.outside = {b.name: _Acc() for b in blocks}
        #: (dataset index, mean over blocks of inside - outside spatial gate) per image with boxes
        self.contrast: list[tuple[int, float]] = []

    def add(self, index: int, records: dict[str, dict], lb: Letterbox, boxes: np.ndarray, classes: np.ndarray) -> None:
        """One image: ``records`` as :attr:`GamRecorder.records` held them after the forward."""
        diffs = []
        for b in self.blocks:
            rec = records.get(b.name)
            if not rec or "spatial" not in rec:
                continue
            with torch.no_grad():
                sp = rec["spatial"][0].float().sigmoid().mean(0).cpu().numpy()
                h, w = sp.shape
                gain = (log2_energy_ratio(rec["out"], rec["x"]) if "x" in rec and "out" in rec
                        else np.zeros_like(sp))
                ch = None
                if "channel" in rec:
                    c = rec["channel"][0].float().reshape(h * w, -1)
                    if VARIANTS.get(b.variant, VARIANTS["seed"])[0]:
                        c = c.sigmoid()
                    ch = c.cpu().numpy().reshape(h, w, -1)
            fx, fy, content = cell_centres(lb, (h, w))
            any_box = np.zeros((h, w), bool)
            ins = []
            for box, k in zip(boxes, classes, strict=True):
                m = box_cells(fx, fy, box)
                any_box |= m
                sp_in = float(sp[m].mean())
                self.inside[(b.name, int(k))].add(sp_in, float(gain[m].mean()),
                                                  ch[m].mean(0) if ch is not None else None)
                ins.append(sp_in)
            out = content & ~any_box
            if out.any():
                sp_out = float(sp[out].mean())
                self.outside[b.name].add(sp_out, float(gain[out].mean()), ch[out].mean(0) if ch is not None else None)
                if ins:
                    diffs.append(float(np.mean(ins)) - sp_out)
        if diffs:
            self.contrast.append((index, float(np.mean(diffs))))

    def rows(self) -> list[GamRow]:
        """One row per block and class with at least one box."""
        out = []
        for b in self.blocks:
            o = self.outside[b.name]
            for c, name in enumerate(self.names):
                a = self.inside[(b.name, c)]
                if not a.n:
                    continue
                top: list[tuple[int, float]] = []
                if a.ch is not None:
                    m = a.ch / a.n
                    idx = np.argsort(-m, kind="stable")[:TOP_CHANNELS]
                    top = [(int(i), float(m[i])) for i in idx]
                out.append(GamRow(b, c, name, a.n, a.mean("sp"), a.half_width("sp"), o.mean("sp"),
                                  a.mean("gain"), a.half_width("gain"), o.mean("gain"), top))
        return out

    def typical(self, k: int = 3) -> list[int]:
        """Dataset indices of ``k`` images whose inside-outside contrast is nearest the median: what
        the blocks typically do, not their best or worst case."""
        if not self.contrast:
            return []
        vals = np.array([v for _, v in self.contrast])
        med = float(np.median(vals))
        order = np.argsort(np.abs(vals - med), kind="stable")[:k]
        return sorted(self.contrast[i][0] for i in order)
