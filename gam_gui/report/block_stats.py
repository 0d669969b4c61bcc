"""What every attention block does on the user's data (section 4, issue 27), over the ground-truth boxes.

One forward per image records every block of the registry (:mod:`gam_gui.models.attention`): GAM
blocks through their own :class:`~gam_gui.explain.attention.GamRecorder`, every other kind through
the registry's gate table (:func:`gam_gui.models.attention.recording`), whose callback receives the
block's input and output, so each block's gain ``log2(||out|| / ||in||)`` (bits, norms over channels,
0 = the features passed on at their strength) is computed at the same cells as its gates.

Gates are reduced as the window's panels reduce them (:func:`gam_gui.explain.blocks.reduce_gate`,
mean over channels) and read at the block's feature resolution with the cell rules of
:mod:`gam_gui.report.gam_stats` (inside a box: the cells whose centre falls in it; outside: the
frame's cells in no box). Per block:

* each gate with positions (spatial, height, width, energy, branches, GAM's channel map): its mean
  inside the boxes (each object weighs the same) against its mean over the background;
* the block gain, the same way;
* each gate without positions (SE's, ECA's and CBAM's channel gates, SK's branch weights): the
  spread of its per-channel weights averaged over the images (the share below the middle of the
  gate's declared range, min, median, max), since it weighs every cell of a channel the same and
  has no inside or outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from gam_gui.explain.attention import GamRecorder
from gam_gui.explain.blocks import BlockRecorder, GateMap
from gam_gui.explain.engine import explainer
from gam_gui.inference import Detection, Letterbox, model_names, non_max_suppression, preprocess, to_detections
from gam_gui.report.gam_stats import box_cells, cell_centres

#: the name the block gain carries beside the gates in rows and JSON
GAIN = "gain"


@dataclass
class GateInfo:
    """A gate's declaration as the report prints it: name, kind, meaning and range (None: unbounded)."""

    name: str
    kind: str
    meaning: str
    low: float | None
    high: float | None

    @property
    def range_text(self) -> str:
        if self.low is None or self.high is None:
            return "unbounded"
        return f"{self.low:g}–{self.high:g}"

    @property
    def middle(self) -> float | None:
        return None if self.low is None or self.high is None else (self.low + self.high) / 2


GAIN_INFO = GateInfo(GAIN, "gain", "log2(||out|| / ||in||) per feature cell: 0 = passed on unchanged, +1 = doubled",
                     None, None)


@dataclass
class BlockDesc:
    """An attention block as the section names it: layer ``index``, dotted ``name``, ``kind``, ``variant``."""

    index: int
    name: str
    kind: str
    variant: str

    @property
    def shows_variant(self) -> bool:
        """Whether the variant says more than the kind (``SimAM simam`` would not)."""
        return bool(self.variant) and self.variant.lower() != self.kind.lower()

    @property
    def short(self) -> str:
        """``CBAM (ultralytics)``, ``SimAM``: the kind, and the variant where it tells the forward apart."""
        return self.kind + (f" ({self.variant})" if self.shows_variant else "")

    @property
    def label(self) -> str:
        return f"layer {self.index} · {self.short}"


@dataclass
class BlockSnap:
    """One block on one image: its gates (reduced, feature resolution) and its gain map (or None)."""

    block: BlockDesc
    gates: dict[str, GateMap]
    gain: np.ndarray | None


def gate_info(g: GateMap) -> GateInfo:
    d = g.gate
    return GateInfo(d.name, d.kind, d.meaning, d.low, d.high)


class AllBlocksRecorder(BlockRecorder):
    """The analysis' :class:`~gam_gui.explain.blocks.BlockRecorder` (every block's gates and gain),
    with GAM's recorder riding inside; :meth:`snaps` gives one :class:`BlockSnap` per block in layer
    order, at feature resolution, as the report's statistics need them."""

    def __init__(self, model: nn.Module) -> None:
        self.gam = GamRecorder(model, explainer(model).gam_blocks)
        super().__init__(model, self.gam)

    def snaps(self, lb: Letterbox) -> list[BlockSnap]:
        out = []
        for b in self.maps(lb.map_to_frame, gam=self.gam.maps(lb.map_to_frame)):
            gain = b.gam.gain_small("block") if b.gam is not None else b.gain_small
            out.append(BlockSnap(BlockDesc(b.index, b.name, b.kind, b.variant), b.gates, gain))
        return out


def detect_all_blocks(model: nn.Module, image: np.ndarray, conf: float, iou: float, imgsz: int,
                      max_det: int = 300) -> tuple[list[Detection], dict[str, dict], list[BlockSnap], Letterbox]:
    """One forward: the detections, GAM's recorded tensors (:attr:`GamRecorder.records`, for the GAM
    table), every block's :class:`BlockSnap`, and the letterbox."""
    eng = explainer(model)
    x, lb = preprocess(model, image, imgsz)
    rec = AllBlocksRecorder(model)
    with eng.run(model, None, False) as run:
        pred = run.forward(x, rec)
    det = non_max_suppression(pred.detach(), conf, iou, max_det=max_det, adapter=eng.adapter)[0]
    gam_records = dict(rec.gam.records)
    snaps = rec.snaps(lb)
    rec.gam.records.clear()
    return to_detections(det, lb, model_names(model)), gam_records, snaps, lb


@dataclass
class _Mean:
    n: int = 0
    s: float = 0.0
    s2: float = 0.0

    def add(self, v: float) -> None:
        self.n += 1
        self.s += v
        self.s2 += v * v

    @property
    def mean(self) -> float:
        return self.s / self.n if self.n else float("nan")

    @property
    def half_width(self) -> float:
        """Half the width of a normal-approximation 95% interval of the mean (NaN under 2 values)."""
        if self.n < 2:
            return float("nan")
        m = self.s / self.n
        var = max(0.0, (self.s2 - self.n * m * m) / (self.n - 1))
        return 1.96 * float(np.sqrt(var / self.n))


@dataclass
class MapRow:
    """A gate with positions (or the block gain) of one block, inside vs outside the objects."""

    block: BlockDesc
    gate: GateInfo
    boxes: int
    inside: float
    inside_hw: float
    outside: float
    #: class name -> (boxes, mean inside)
    per_class: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def difference(self) -> float:
        return self.inside - self.outside


@dataclass
class ChannelRow:
    """A gate without positions: the spread of its per-channel weights, averaged over the images."""

    block: BlockDesc
    gate: GateInfo
    images: int
    channels: int
    below_middle: float | None  # share of channels under the middle of the declared range
    minimum: float
    median: float
    maximum: float
    #: SK's branches: each branch's mean weight (over channels), else None
    branches: list[float] | None = None


class BlockStats:
    """Accumulates section 4 for every attention block over the images of one model."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.blocks: dict[int, BlockDesc] = {}
        self.infos: dict[tuple[int, str], GateInfo] = {}
        self.order: dict[int, list[str]] = {}  # gate names of each block, first seen order
        self.inside: dict[tuple[int, str, int], _Mean] = {}
        self.pooled: dict[tuple[int, str], _Mean] = {}
        self.outside: dict[tuple[int, str], _Mean] = {}
        self.weights: dict[tuple[int, str], tuple[int, np.ndarray, np.ndarray | None]] = {}
        #: (dataset index, mean over blocks and maps of (inside − outside) / range width) per image with boxes
        self.contrast: list[tuple[int, float]] = []

    def _maps(self, s: BlockSnap) -> list[tuple[GateInfo, np.ndarray]]:
        out = []
        for g in s.gates.values():
            small = g.small
            if small is not None:
                out.append((gate_info(g), np.asarray(small, np.float32)))
        if s.gain is not None:
            out.append((GAIN_INFO, np.asarray(s.gain, np.float32)))
        return out

    def add(self, index: int, snaps: list[BlockSnap], lb: Letterbox, boxes: np.ndarray, classes: np.ndarray) -> None:
        """One image's snaps (from :func:`detect_all_blocks`) against its ground truth."""
        diffs = []
        for s in snaps:
            b = s.block.index
            self.blocks.setdefault(b, s.block)
            names = self.order.setdefault(b, [])
            for name, g in s.gates.items():
                if name not in names:
                    names.append(name)
                self.infos.setdefault((b, name), gate_info(g))
                w = g.weights
                if g.small is None and w is not None:
                    n, acc, br = self.weights.get((b, name), (0, np.zeros_like(w, np.float64), None))
                    bw = g.branch_weights
                    if bw is not None:
                        br = bw.mean(1).astype(np.float64) + (br if br is not None else 0.0)
                    self.weights[(b, name)] = (n + 1, acc + w, br)
            if s.gain is not None and GAIN not in names:
                names.append(GAIN)
                self.infos.setdefault((b, GAIN), GAIN_INFO)
            for info, m in self._maps(s):
                fx, fy, content = cell_centres(lb, m.shape)
                any_box = np.zeros(m.shape, bool)
                ins = []
                for box, k in zip(boxes, classes, strict=True):
                    cells = box_cells(fx, fy, box)
                    any_box |= cells
                    v = float(m[cells].mean())
                    self.inside.setdefault((b, info.name, int(k)), _Mean()).add(v)
                    self.pooled.setdefault((b, info.name), _Mean()).add(v)
                    ins.append(v)
                bg = content & ~any_box
                if bg.any():
                    out = float(m[bg].mean())
                    self.outside.setdefault((b, info.name), _Mean()).add(out)
                    if ins and info.name != GAIN:
                        width = (info.high - info.low) if info.middle is not None else 1.0
                        diffs.append((float(np.mean(ins)) - out) / (width or 1.0))
        if diffs:
            self.contrast.append((index, float(np.mean(diffs))))

    def map_rows(self) -> list[MapRow]:
        """One row per block and gate with positions (the gain last), in layer order."""
        rows = []
        for b in sorted(self.blocks):
            for name in self.order[b]:
                pooled = self.pooled.get((b, name))
                if pooled is None:
                    continue
                per = {cname: (self.inside[(b, name, c)].n, self.inside[(b, name, c)].mean)
                       for c, cname in enumerate(self.names) if (b, name, c) in self.inside}
                o = self.outside.get((b, name), _Mean())
                rows.append(MapRow(self.blocks[b], self.infos[(b, name)], pooled.n, pooled.mean, pooled.half_width,
                                   o.mean, per))
        return rows

    def channel_rows(self) -> list[ChannelRow]:
        """One row per gate without positions, in layer order."""
        rows = []
        for b in sorted(self.blocks):
            for name in self.order[b]:
                if (b, name) not in self.weights:
                    continue
                n, acc, br = self.weights[(b, name)]
                w = acc / n
                info = self.infos[(b, name)]
                mid = info.middle
                below = float((w < mid).mean()) if mid is not None and w.size else None
                rows.append(ChannelRow(self.blocks[b], info, n, int(w.size), below, float(w.min()),
                                       float(np.median(w)), float(w.max()),
                                       [float(v) for v in br / n] if br is not None else None))
        return rows

    def typical(self) -> int | None:
        """The dataset index of the image whose inside-outside contrast is nearest the median."""
        if not self.contrast:
            return None
        vals = np.array([v for _, v in self.contrast])
        k = int(np.argmin(np.abs(vals - float(np.median(vals)))))
        return self.contrast[k][0]


def frame_panels(snaps: list[BlockSnap], lb: Letterbox) -> list[dict[str, Any]]:
    """Each block's maps brought to the frame, for the side-by-side figure: ``{"label", "lines" (the label
    on short lines), "maps": [(title,
    kind ("gate"|"gain"|"weights"), array, GateInfo)]}`` per block."""
    out = []
    for s in snaps:
        maps: list[tuple[str, str, np.ndarray, GateInfo]] = []
        for name, g in s.gates.items():
            info = gate_info(g)
            if g.small is not None:
                maps.append((name, "gate", lb.map_to_frame(np.asarray(g.small, np.float32)), info))
            elif g.weights is not None:
                maps.append((name, "weights", np.asarray(g.weights, np.float32), info))
        if s.gain is not None:
            maps.append(("block gain", "gain", lb.map_to_frame(np.asarray(s.gain, np.float32)), GAIN_INFO))
        lines = [f"layer {s.block.index}", s.block.kind] + ([f"({s.block.variant})"] if s.block.shows_variant else [])
        out.append({"label": s.block.label, "lines": lines, "maps": maps})
    return out
