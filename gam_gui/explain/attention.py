"""GAM channel and spatial attention maps, captured by forward hooks during the detection forward.

Blocks are found by structure (children ``channel_attention`` and ``spatial_attention``), so the
project's GAM, the ``GAM_Attention``/``GAMAttention`` copies and unknown classes pickled from other
code all work. The hooks keep references (no copies, no arithmetic) to each block's two attention
tensors and to its input, its spatial branch's input and its output; reducing them to gate maps,
gain maps or one channel's feature map happens after the forward, outside the autograd graph, and
only for what a panel shows.

Cost: the reduction over channels runs at feature-map resolution right after the forward (well under
a millisecond). Bringing a map to the frame (crop the letterbox padding, resize, normalise) is done
the first time :attr:`GamMaps.channel` / :attr:`GamMaps.spatial` is read: a panel shows one layer of
one kind at a time, and six frame-sized maps per frame would cost more than the rest of the
analysis outside the forward.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from gam_gui import validate as V
from gam_gui.models.gam import GAM, VARIANTS, is_gam_block

REDUCTIONS = ("mean", "max")
#: What the two GAM panels show (``Settings.gam_view``): the gates, or next to a gate what a part of the
#: block did to the feature energy (``gain`` the whole block, ``channel-gain`` / ``spatial-gain`` one
#: branch; see :meth:`GamMaps.gain`); and the heatmaps' colour scales. Declared in :mod:`gam_gui.validate`
#: (the CLI's choices, without importing torch).
GAM_VIEWS, SCALES = V.GAM_VIEWS, V.SCALES
#: The gains :meth:`GamMaps.gain` makes: the whole block, the channel branch, the spatial branch.
GAIN_KINDS = ("block", "channel", "spatial")


class GamMaps:
    """What one GAM block did to one frame. Maps are HxW float32 in [0, 1] over the original frame.

    Built either from finished arrays (``channel``, ``spatial``, ``channel_weights``), or lazily:
    from feature-resolution maps (``channel_small``, ``spatial_small``) plus an ``align`` function
    (input-space map -> frame map), or from the block's recorded attention tensors (``source``, see
    :func:`reduce_attention`) plus ``align``. Whatever is missing is computed on first access and
    kept: a panel shows one block at a time, and reducing and resizing all of them for every frame
    would cost more than the rest of the analysis outside the forward. ``channel_small`` /
    ``spatial_small`` cover the whole network input (letterbox padding included).

    The frame-sized maps are normalised for drawing; :meth:`value_range` keeps what they were before
    (a colour scale must say what the colours stand for). With ``features`` (the block's input ``x``,
    the channel-attended ``y = x * c(x)`` and the output, as recorded by :class:`GamRecorder`) it also
    gives gain maps (:meth:`gain`) and one channel's feature map before and after the block
    (:meth:`channel_feature`), made on demand at feature resolution.
    """

    __slots__ = ("index", "name", "variant", "feature_shape", "extra", "_channel_small", "_spatial_small",
                 "_weights", "_source", "_align", "_channel", "_spatial", "_lock", "_ranges", "_features",
                 "_gains")

    def __init__(self, index: int, name: str, variant: str, channel: np.ndarray | None = None,
                 spatial: np.ndarray | None = None, channel_weights: np.ndarray | None = None,
                 feature_shape: tuple[int, int] = (0, 0), extra: dict | None = None, *,
                 channel_small: np.ndarray | None = None, spatial_small: np.ndarray | None = None,
                 align: Callable[[np.ndarray], np.ndarray] | None = None,
                 source: tuple[torch.Tensor, torch.Tensor, str] | None = None,
                 features: dict[str, torch.Tensor] | None = None,
                 ranges: dict[str, tuple[float, float]] | None = None,
                 gains: dict[str, np.ndarray] | None = None) -> None:
        if source is None and ((channel is None and channel_small is None)
                               or (spatial is None and spatial_small is None)):
            raise TypeError("GamMaps needs channel and spatial maps (frame-sized, or small ones with align)")
        if align is None and (channel is None or spatial is None):
            raise TypeError("GamMaps: small maps need an align function")
        self.index = index  # layer index in the model's layer list
        self.name = name  # e.g. "model.18"
        self.variant = variant
        self.feature_shape = feature_shape  # (h, w) of the block's feature map
        self.extra = extra if extra is not None else {}
        self._channel_small = channel_small
        self._spatial_small = spatial_small
        if channel_weights is None and source is None:
            channel_weights = np.zeros(0, np.float32)
        self._weights = channel_weights
        self._source = source
        self._align = align
        self._channel = channel
        self._spatial = spatial
        self._lock = threading.RLock()
        self._ranges: dict[str, tuple[float, float]] = dict(ranges or {})
        for kind, m in (("channel", channel), ("spatial", spatial)):
            if m is not None and kind not in self._ranges:  # finished maps: they are what is drawn
                self._ranges[kind] = _finite_range(m)
        self._features = features
        self._gains: dict[str, np.ndarray] = dict(gains or {})

    def _reduce(self) -> None:
        with self._lock:
            if self._source is None:
                return
            ch, sp, reduction = self._source
            c_small, s_small, weights = reduce_attention(ch, sp, self.feature_shape, self.variant, reduction)
            if self._channel_small is None:
                self._channel_small = c_small
            if self._spatial_small is None:
                self._spatial_small = s_small
            if self._weights is None:
                self._weights = weights
            self._source = None

    @property
    def channel_weights(self) -> np.ndarray:
        """(C,) per-channel mean of the channel attention, for a bar chart."""
        if self._weights is None:
            self._reduce()
        return self._weights

    @channel_weights.setter
    def channel_weights(self, value: np.ndarray) -> None:
        self._weights = value

    @property
    def channel_small(self) -> np.ndarray | None:
        if self._channel_small is None and self._source is not None:
            self._reduce()
        return self._channel_small

    @property
    def spatial_small(self) -> np.ndarray | None:
        if self._spatial_small is None and self._source is not None:
            self._reduce()
        return self._spatial_small

    def _frame_sized(self, kind: str) -> np.ndarray:
        """The frame-sized ``kind`` ("channel" or "spatial") map, made once: a panel and an exporter
        may read it from different threads."""
        m = getattr(self, "_" + kind)
        if m is None:
            with self._lock:
                m = getattr(self, "_" + kind)
                if m is None:
                    m, lo, hi = frame_map_range(getattr(self, kind + "_small"), self._align)
                    self._ranges[kind] = (lo, hi)
                    setattr(self, "_" + kind, m)
        return m

    def value_range(self, kind: str) -> tuple[float, float]:
        """(min, max) of the ``kind`` ("channel" or "spatial") map over the frame before it was
        normalised to [0, 1]: ``lo + map * (hi - lo)`` is the gate value at each pixel."""
        self._frame_sized(kind)
        return self._ranges.get(kind, (0.0, 1.0))

    def raw(self, kind: str) -> np.ndarray:
        """The ``kind`` map over the frame in its own units (the gate values, not normalised)."""
        m = self._frame_sized(kind)
        lo, hi = self.value_range(kind)
        return (m * np.float32(hi - lo) + np.float32(lo)).astype(np.float32, copy=False)

    @property
    def channel_signed(self) -> bool:
        """Whether the channel gate can be negative: the seed variant's channel branch has no sigmoid."""
        return not VARIANTS.get(self.variant, VARIANTS["seed"])[0]

    @property
    def has_features(self) -> bool:
        """Whether gain maps and per-channel feature maps can be made (the block's input and output
        were recorded, or the gains were carried over from a pickle)."""
        return self._features is not None or bool(self._gains)

    def gain_small(self, kind: str = "block") -> np.ndarray | None:
        """log2 of a per-pixel feature-energy ratio at feature resolution (None without features).

        ``block``: ``||out|| / ||x||``; ``channel``: ``||x * c|| / ||x||``; ``spatial``:
        ``||out|| / ||x * c||``, norms over channels. log2, so block = channel + spatial, and 0 means
        the block (or branch) passed the features on at their strength."""
        if kind not in GAIN_KINDS:
            raise ValueError(f"unknown gain {kind!r}; choose one of {', '.join(GAIN_KINDS)}")
        key = kind + "_small"
        if key not in self._gains:
            with self._lock:
                if key not in self._gains:
                    f = self._features
                    if f is None or "x" not in f or "out" not in f or (kind != "block" and "y" not in f):
                        return None
                    num, den = {"block": ("out", "x"), "channel": ("y", "x"), "spatial": ("out", "y")}[kind]
                    self._gains[key] = log2_energy_ratio(f[num], f[den])
        return self._gains[key]

    def gain(self, kind: str = "block") -> np.ndarray | None:
        """:meth:`gain_small` over the frame (log2, not normalised), made once."""
        if kind not in self._gains:
            small = self.gain_small(kind)
            if small is None:
                return None
            with self._lock:
                if kind not in self._gains:
                    if self._align is None:
                        return None
                    self._gains[kind] = np.asarray(self._align(small), np.float32)
        return self._gains[kind]

    @property
    def channels(self) -> int:
        """Feature channels of the block (0 when unknown)."""
        f = self._features
        if f is not None and "x" in f:
            return int(f["x"].shape[1])
        return len(self.channel_weights)

    def channel_feature(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Channel ``k`` of the block's input and of its output over the frame, in feature units (None
        without recorded features). Made on demand: a user drills into one channel at a time."""
        f = self._features
        if f is None or self._align is None:
            return None
        c = int(f["x"].shape[1])
        if not 0 <= int(k) < c:
            raise IndexError(f"channel {k} does not exist ({c} channels)")
        with torch.no_grad():
            before = f["x"][0, int(k)].float().cpu().numpy()
            after = f["out"][0, int(k)].float().cpu().numpy()
        return (np.asarray(self._align(np.nan_to_num(before)), np.float32),
                np.asarray(self._align(np.nan_to_num(after)), np.float32))

    @property
    def channel(self) -> np.ndarray:
        """Channel attention reduced over channels, over the frame, in [0, 1]."""
        return self._frame_sized("channel")

    @channel.setter
    def channel(self, value: np.ndarray) -> None:
        self._channel = value

    @property
    def spatial(self) -> np.ndarray:
        """Spatial attention reduced over channels, over the frame, in [0, 1]."""
        return self._frame_sized("spatial")

    @spatial.setter
    def spatial(self, value: np.ndarray) -> None:
        self._spatial = value

    @property
    def materialized(self) -> bool:
        """Whether both frame-sized maps exist already (for tests and benchmarks)."""
        return self._channel is not None and self._spatial is not None

    def __repr__(self) -> str:
        return (f"GamMaps(index={self.index}, name={self.name!r}, variant={self.variant!r}, "
                f"feature_shape={self.feature_shape})")

    def __getstate__(self) -> dict[str, Any]:
        # Pickling (e.g. a Result sent to another process) carries finished maps, not the closure.
        gains = {k: g for k in GAIN_KINDS if (g := self.gain(k)) is not None}
        return {"index": self.index, "name": self.name, "variant": self.variant, "channel": self.channel,
                "spatial": self.spatial, "channel_weights": self.channel_weights,
                "feature_shape": self.feature_shape, "extra": self.extra,
                "ranges": {k: self.value_range(k) for k in ("channel", "spatial")}, "gains": gains}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)


def frame_map_range(small: np.ndarray, align: Callable[[np.ndarray], np.ndarray]
                    ) -> tuple[np.ndarray, float, float]:
    """A feature-resolution map -> the frame, normalised to [0, 1] (all zeros when constant), and the
    (min, max) the frame-sized map had before normalisation.

    NaNs are cleaned on the small map, and the min-max normalisation is done in place on the one
    frame-sized array the resize returns.
    """
    m = align(np.nan_to_num(np.asarray(small, np.float32)))
    m = np.asarray(m, np.float32)
    lo, hi, _, _ = cv2.minMaxLoc(m)
    if not hi > lo:
        return np.zeros_like(m), float(lo), float(hi)
    lo32 = np.float32(lo)
    np.subtract(m, lo32, out=m)
    # the same float32 difference the maximum gets, so the maximum becomes exactly 1
    np.divide(m, np.float32(hi) - lo32, out=m)
    return m, float(lo), float(hi)


def _finite_range(m: np.ndarray) -> tuple[float, float]:
    a = np.nan_to_num(np.asarray(m, np.float32))
    return (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)


def log2_energy_ratio(num: torch.Tensor, den: torch.Tensor) -> np.ndarray:
    """Per pixel of the first image, ``log2(||num|| / ||den||)`` with norms over channels, as an HxW
    float32 array. A small floor (1e-6 of the mean energy) keeps pixels with no energy at 0."""
    with torch.no_grad():
        a = num[0].float().norm(dim=0)
        b = den[0].float().norm(dim=0)
        eps = 1e-6 * float(torch.maximum(a.mean(), b.mean())) + 1e-12
        return torch.log2((a + eps) / (b + eps)).cpu().numpy().astype(np.float32, copy=False)


def find_gam_blocks(model: nn.Module) -> list[tuple[int, str, nn.Module]]:
    """(layer index, qualified name, module) of each GAM block, outermost first.

    A stacked ``nn.Sequential`` of GAM blocks (scaled ``n`` > 1) reports its last block, whose output
    is what the layer passes on.
    """
    out = []
    layers = getattr(model, "model", None)
    if isinstance(layers, nn.Sequential):
        for i, layer in enumerate(layers):
            blocks = [(n, m) for n, m in layer.named_modules() if is_gam_block(m)]
            if blocks:
                n, m = blocks[-1]
                out.append((int(getattr(layer, "i", i)), f"model.{i}" + (f".{n}" if n else ""), m))
        return out
    for n, m in model.named_modules():
        if is_gam_block(m):
            out.append((-1, n, m))
    return out


def block_variant(m: nn.Module) -> str:
    """The forward variant of a block: its own when it is one of ours, the seed's otherwise."""
    return m.gam_variant if isinstance(m, GAM) else "seed"


class GamRecorder:
    """Context manager: hooks every GAM block of ``model`` and records its attention tensors.

    ``blocks`` (from :func:`find_gam_blocks`) may be passed in by a caller that caches them: walking
    every module of the model costs about as much as reducing the maps.
    """

    def __init__(self, model: nn.Module, blocks: list[tuple[int, str, nn.Module]] | None = None) -> None:
        self.blocks = find_gam_blocks(model) if blocks is None else blocks
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self.records: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> GamRecorder:
        for _, name, m in self.blocks:
            rec: dict[str, Any] = {}
            self.records[name] = rec

            # No pre-hook: the feature map's size is the spatial output's. The block's input, the
            # spatial branch's input (x * c) and the block's output are kept by reference (no copy,
            # no arithmetic) for the gain maps and the channel drill-down, made only when shown.
            def ch_hook(mod, args, out, rec=rec):
                rec["channel"] = out.detach()

            def sp_hook(mod, args, out, rec=rec):
                rec["spatial"] = out.detach()
                if args and isinstance(args[0], torch.Tensor):
                    rec["y"] = args[0].detach()

            def block_hook(mod, args, out, rec=rec):
                if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
                    rec["x"] = args[0].detach()
                    rec["out"] = out.detach()

            self._handles += [
                m.channel_attention.register_forward_hook(ch_hook),
                m.spatial_attention.register_forward_hook(sp_hook),
                m.register_forward_hook(block_hook),
            ]
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def maps(self, align: Callable[[np.ndarray], np.ndarray], reduction: str = "mean",
             lazy: bool = True) -> list[GamMaps]:
        """The recorded tensors as :class:`GamMaps`; ``align`` maps an input-space map to the
        original frame (``Letterbox.map_to_frame``). With ``lazy`` the reduction over channels and
        the frame-sized maps are made on first access (see :class:`GamMaps`); the recorder lets go of
        the tensors either way."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown channel reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
        out = []
        for index, name, m in self.blocks:
            rec = self.records.get(name, {})
            if "channel" not in rec or "spatial" not in rec:
                continue
            h, w = rec["spatial"].shape[-2:]
            features = {k: rec[k] for k in ("x", "y", "out") if k in rec} if "x" in rec else None
            g = GamMaps(index=index, name=name, variant=block_variant(m), feature_shape=(int(h), int(w)),
                        align=align, source=(rec["channel"], rec["spatial"], reduction), features=features)
            if not lazy:
                g.channel, g.spatial  # noqa: B018 - materialise now
            out.append(g)
        self.records.clear()
        return out


def reduce_attention(channel: torch.Tensor, spatial: torch.Tensor, hw: tuple[int, int], variant: str,
                     reduction: str = "mean") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(channel map, spatial map, per-channel weights) of one block for the first image.

    ``channel``: the channel-attention MLP output, (B, H*W, C) before any sigmoid; ``spatial``: the
    spatial branch's output (B, C2, H, W) before its sigmoid. The seed's channel shuffle only permutes
    channels, so it cannot change a reduction over channels and is skipped; a ``max`` commutes with
    the (monotonic) sigmoid, so it is taken before it, on far fewer values.
    """
    h, w = int(hw[0]), int(hw[1])
    sig_ch, _shuffle = VARIANTS.get(variant, VARIANTS["seed"])
    with torch.no_grad():
        return _reduce(channel, spatial, h, w, sig_ch, reduction)


def _reduce(channel: torch.Tensor, spatial: torch.Tensor, h: int, w: int, sig_ch: bool,
            reduction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ch = channel[0].float().reshape(h * w, -1)  # (HW, C)
    sp = spatial[0].float()  # (C2, H, W)
    if sig_ch:
        ch = ch.sigmoid()
    weights = ch.mean(0).cpu().numpy().astype(np.float32)
    if reduction == "mean":
        ch_map = ch.mean(1)
        sp_map = sp.sigmoid().mean(0)
    else:
        ch_map = ch.amax(1)
        sp_map = sp.amax(0).sigmoid()
    return (ch_map.reshape(h, w).cpu().numpy().astype(np.float32, copy=False),
            sp_map.cpu().numpy().astype(np.float32, copy=False), weights)

