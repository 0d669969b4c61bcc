"""GAM channel and spatial attention maps, captured by forward hooks during the detection forward.

Blocks are found by structure (children ``channel_attention`` and ``spatial_attention``), so the
project's GAM, the ``GAM_Attention``/``GAMAttention`` copies and unknown classes pickled from other
code all work. The hooks only keep the two small attention tensors of each block; reducing them to
maps happens after the forward, outside the autograd graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.models.gam import GAM, VARIANTS, channel_shuffle, is_gam_block

REDUCTIONS = ("mean", "max")


@dataclass
class GamMaps:
    """What one GAM block did to one frame. Maps are HxW float32 in [0, 1] over the original frame."""

    index: int  # layer index in the model's layer list
    name: str  # e.g. "model.18"
    variant: str
    channel: np.ndarray
    spatial: np.ndarray
    channel_weights: np.ndarray  # (C,) per-channel mean of the channel attention, for a bar chart
    feature_shape: tuple[int, int] = (0, 0)  # (h, w) of the block's feature map
    extra: dict = field(default_factory=dict)


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
    """Context manager: hooks every GAM block of ``model`` and records its attention tensors."""

    def __init__(self, model: nn.Module) -> None:
        self.blocks = find_gam_blocks(model)
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self.records: dict[str, dict[str, torch.Tensor]] = {}

    def __enter__(self) -> GamRecorder:
        for _, name, m in self.blocks:
            rec: dict[str, torch.Tensor] = {}
            self.records[name] = rec

            def pre(mod, args, rec=rec):
                rec["shape"] = args[0].shape

            def ch_hook(mod, args, out, rec=rec):
                rec["channel"] = out.detach()

            def sp_hook(mod, args, out, rec=rec):
                rec["spatial"] = out.detach()

            self._handles += [
                m.register_forward_pre_hook(pre),
                m.channel_attention.register_forward_hook(ch_hook),
                m.spatial_attention.register_forward_hook(sp_hook),
            ]
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def maps(self, align, reduction: str = "mean") -> list[GamMaps]:
        """Reduce the recorded tensors to frame-aligned maps; ``align`` maps an input-space map to
        the original frame (``Letterbox.map_to_frame``)."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"unknown channel reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
        out = []
        for index, name, m in self.blocks:
            rec = self.records.get(name, {})
            if "channel" not in rec or "spatial" not in rec:
                continue
            b, c, h, w = rec["shape"]
            variant = block_variant(m)
            sig_ch, shuffle = VARIANTS.get(variant, VARIANTS["seed"])
            ch = rec["channel"][0].float().view(h, w, c).permute(2, 0, 1)  # (C, H, W)
            if sig_ch:
                ch = ch.sigmoid()
            sp = rec["spatial"][0:1].float().sigmoid()
            if shuffle and sp.shape[1] % 4 == 0:
                sp = channel_shuffle(sp, 4)
            sp = sp[0]
            red = (lambda t: t.mean(0)) if reduction == "mean" else (lambda t: t.amax(0))
            out.append(GamMaps(
                index=index,
                name=name,
                variant=variant,
                channel=_normalise(align(red(ch).cpu().numpy())),
                spatial=_normalise(align(red(sp).cpu().numpy())),
                channel_weights=ch.mean((1, 2)).cpu().numpy().astype(np.float32),
                feature_shape=(int(h), int(w)),
            ))
        return out


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.nan_to_num(m.astype(np.float32))
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
