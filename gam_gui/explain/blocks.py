"""The gates of every attention block in a model (issue 27), recorded during the detection forward.

GAM blocks keep their own recorder (:class:`gam_gui.explain.attention.GamRecorder`, with gains and
per-channel features); this module records every other kind of the registry
(:mod:`gam_gui.models.attention`) through its thread-local gate table, and presents both the same
way: one :class:`BlockMaps` per block with its layer ``index``, ``kind``, ``variant`` and its gates by
name. Each gate is reduced once after the forward, at feature resolution, to what a panel draws: a
map over the feature grid (mean or max over channels) and, where the gate has channels, one weight
per channel for the channel chart. Bringing a map to the frame is done on first access.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.explain.attention import GamMaps, frame_map_range, log2_energy_ratio
from gam_gui.models import attention
from gam_gui.models.attention import BlockEntry, Gate


@dataclass
class GateMap:
    """One gate of one block for one frame.

    ``small``: (h, w) over the block's feature grid (None for a gate without positions: SE's channel
    gate, SK's branch weights); ``weights``: (C,) mean per channel (None without channels);
    ``branch_weights``: (K, C) for SK's ``branches``; ``gate``: the registry's declaration (meaning,
    range)."""

    gate: Gate
    _small: np.ndarray | None
    _weights: np.ndarray | None = None
    branch_weights: np.ndarray | None = None
    _align: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    #: for GAM: reads (small, weights) from its GamMaps when first asked (GamMaps reduce lazily)
    _lazy: Callable[[], tuple[np.ndarray | None, np.ndarray | None]] | None = field(default=None, repr=False)
    _frame: tuple[np.ndarray, float, float] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _load(self) -> None:
        if self._lazy is not None:
            with self._lock:
                if self._lazy is not None:
                    self._small, self._weights = self._lazy()
                    self._lazy = None

    @property
    def small(self) -> np.ndarray | None:
        self._load()
        return self._small

    @property
    def weights(self) -> np.ndarray | None:
        self._load()
        return self._weights

    def frame(self) -> tuple[np.ndarray, float, float] | None:
        """(map over the frame normalised to [0, 1], lo, hi): ``lo + map * (hi - lo)`` is the gate."""
        small = self.small
        if small is None or self._align is None:
            return None
        with self._lock:
            if self._frame is None:
                self._frame = frame_map_range(small, self._align)
        return self._frame


@dataclass
class BlockMaps:
    """What one attention block did to one frame: its layer ``index``, dotted ``name``, ``kind`` and
    ``variant`` (from the registry), and its ``gates`` by name. ``gam``: GAM's own maps (gains, channel
    features) for a GAM block."""

    index: int
    name: str
    kind: str
    variant: str
    gates: dict[str, GateMap]
    gam: GamMaps | None = None
    #: log2(||out|| / ||in||) per pixel at feature resolution (norms over channels): what the whole
    #: block did, computable for every kind (None when its output's shape differs from its input's)
    gain_small: np.ndarray | None = None
    _align: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    _gain: np.ndarray | None = field(default=None, repr=False)

    def gain(self) -> np.ndarray | None:
        """The block's gain (log2, not normalised) over the frame, made once; None when unknown."""
        if self.gam is not None:
            return self.gam.gain("block")
        if self._gain is None and self.gain_small is not None and self._align is not None:
            self._gain = np.asarray(self._align(self.gain_small), np.float32)
        return self._gain

    @property
    def gate_order(self) -> list[str]:
        """The names of the gates this block recorded, in the registry's order."""
        try:
            order = [g.name for g in attention.entry(self.kind).gates]
        except KeyError:  # a plugin's kind unregistered since
            order = []
        return [n for n in order if n in self.gates] + [n for n in self.gates if n not in order]

    def label(self) -> str:
        """``layer 5: CBAM (ultralytics)``: how the window and the CLI name the block."""
        return f"layer {self.index}: {self.kind}" + (f" ({self.variant})" if self.variant else "")


def reduce_gate(gate: Gate, t: torch.Tensor, hw: tuple[int, int], reduction: str = "mean") -> GateMap:
    """One recorded gate (batch item 0) as a map over the (h, w) feature grid and per-channel weights."""
    t = t.detach()[0].float()
    h, w = hw
    if t.dim() == 4:  # SK: (K, C, 1, 1)
        return GateMap(gate, None, t.mean(0).flatten().cpu().numpy(), t.flatten(1).cpu().numpy())
    c, gh, gw = t.shape
    weights = None if c == 1 else t.mean((1, 2)).cpu().numpy()
    if gh == 1 and gw == 1:
        return GateMap(gate, None, weights)
    over = t.amax(0) if reduction == "max" else t.mean(0)  # (gh, gw)
    small = over.expand(h, w) if (gh, gw) != (h, w) else over  # a row or column gate spans the grid
    return GateMap(gate, small.contiguous().cpu().numpy().astype(np.float32), weights)


#: a block's output and input norms over channels, (h, w) each (its gain is their log2 ratio)
Norms = tuple[torch.Tensor, torch.Tensor]


class BlockRecorder:
    """Context manager: every non-GAM attention block of ``model`` hands its gates over during the
    forward (this thread only); :meth:`maps` reduces them afterwards."""

    def __init__(self, model: nn.Module, inner: AbstractContextManager | None = None) -> None:
        self.found = [f for f in attention.find_blocks(model) if f.entry.kind != "GAM"]
        #: id(block) -> ((h, w), its gates, (||out||, ||in||) per pixel or None)
        self.records: dict[int, tuple[tuple[int, int], dict[str, torch.Tensor], Norms | None]] = {}
        self.inner = inner  # another recorder that rides along (GAM's)
        self._ctx: AbstractContextManager | None = None

    def __enter__(self) -> BlockRecorder:
        self.records.clear()
        if self.inner is not None:
            self.inner.__enter__()

        def keep(found_id: int) -> Callable[..., None]:
            def cb(block: nn.Module, x: torch.Tensor, gates: dict[str, torch.Tensor], out: torch.Tensor) -> None:
                # the block's gain needs only two (h, w) norms: kept instead of the features themselves,
                # on the model's device (no synchronisation inside the forward; maps() brings them over)
                gain = None
                if isinstance(out, torch.Tensor) and out.shape[2:] == x.shape[2:] and x.dim() == 4:
                    with torch.no_grad():
                        gain = (out.detach()[0].float().norm(dim=0), x.detach()[0].float().norm(dim=0))
                self.records[found_id] = (tuple(x.shape[2:]), {k: v.detach() for k, v in gates.items()}, gain)
            return cb

        self._ctx = attention.recording({id(f.block): keep(id(f.block)) for f in self.found})
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._ctx is not None:
                self._ctx.__exit__(*exc)
                self._ctx = None
        finally:
            if self.inner is not None:
                self.inner.__exit__(*exc)

    def maps(self, align: Callable[[np.ndarray], np.ndarray] | None, reduction: str = "mean",
             gam: list[GamMaps] | None = None) -> list[BlockMaps]:
        """Every block's gates, GAM blocks (from their :class:`GamMaps`) included, in layer order."""
        out: list[BlockMaps] = []
        for f in self.found:
            rec = self.records.get(id(f.block))
            if rec is None:
                continue
            hw, gates, gain = rec
            variant = str(f.block.__dict__.get("variant", ""))
            maps = {}
            for name, t in gates.items():
                g = reduce_gate(f.entry.gate(name), t, hw, reduction)
                g._align = align
                maps[name] = g
            out.append(BlockMaps(f.index, f.name, f.entry.kind, variant, maps,
                                 gain_small=None if gain is None else norm_ratio(*gain), _align=align))
        for g in gam or []:
            out.append(gam_block_maps(g, attention.entry("GAM"), align))
        self.records.clear()
        return sorted(out, key=lambda b: b.index)


def gam_block_maps(g: GamMaps, entry: BlockEntry, align: Callable[[np.ndarray], np.ndarray] | None) -> BlockMaps:
    """A GAM block's maps in the common shape (its gates are GamMaps' channel and spatial maps)."""
    gates = {"channel": GateMap(entry.gate("channel"), None, _align=align,
                                _lazy=lambda: (g.channel_small, g.channel_weights)),
             "spatial": GateMap(entry.gate("spatial"), None, _align=align, _lazy=lambda: (g.spatial_small, None))}
    return BlockMaps(g.index, g.name, "GAM", g.variant, gates, gam=g, _align=align)


def norm_ratio(out_norm: torch.Tensor, in_norm: torch.Tensor) -> np.ndarray:
    """``log2(||out|| / ||in||)`` per pixel from the two (h, w) norms over channels, with the floor
    :func:`gam_gui.explain.attention.log2_energy_ratio` uses (pixels without energy read 0)."""
    return log2_energy_ratio(out_norm[None, None], in_norm[None, None])


#: model -> its attention blocks as (layer index, kind, variant), found once per model
_INDEX_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def block_list(model: nn.Module) -> tuple[tuple[int, str, str], ...]:
    """The model's attention blocks (every kind, GAM included) as (layer index, kind, variant), in
    layer order, one per layer (what ``Settings.gam_layer`` may name). Found once per model."""
    try:
        hit = _INDEX_CACHE.get(model)
    except TypeError:
        hit = None
    if hit is not None:
        return hit
    seen: dict[int, tuple[int, str, str]] = {}
    for f in attention.find_blocks(model):
        if f.index >= 0 and f.index not in seen:
            variant = f.block.__dict__.get("variant") or getattr(f.block, "gam_variant", "") or ""
            seen[f.index] = (f.index, f.entry.kind, str(variant))
    out = tuple(sorted(seen.values()))
    try:
        _INDEX_CACHE[model] = out
    except TypeError:
        pass
    return out


def block_indices(model: nn.Module) -> tuple[int, ...]:
    """The layer indices of :func:`block_list`."""
    return tuple(i for i, _, _ in block_list(model))


def block_word(model: nn.Module) -> str:
    """``GAM block`` for a model whose blocks are all GAM (or that has none), else ``attention block``
    (the words the errors about a block choice use)."""
    return "GAM block" if all(k == "GAM" for _, k, _ in block_list(model)) else "attention block"
