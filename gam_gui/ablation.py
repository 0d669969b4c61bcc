"""Switch GAM blocks off (or keep one branch, or flatten their gates) and see what the detections lose.

A map of a gate says where a block attends; only an intervention says whether that matters. An
ablation is a per-call override of the block's ``forward``, held in a thread-local table
(:data:`gam_gui.models.gam.ABLATION`): nothing is written on the model, no copy is made, a forward
in another thread (the GUI worker's normal analysis, an export) is unaffected, and leaving the
``with`` block, by an exception too, restores the previous table.

Modes, for a block computing ``y = x * c(x)`` then ``out = y * s(y)``:

* ``on``: as trained.
* ``off``: the block returns its input.
* ``channel-only``: ``x * c(x)`` (the spatial gate skipped).
* ``spatial-only``: ``x * s(x)`` (the channel gate skipped).
* ``drop-top-k`` (``drop-top-8``, ``drop-top-16``, ...; plain ``drop-top-k`` means k = 8): the block as
  trained, then the k channels with the largest mean channel attention zeroed in its output.
* ``mean-gate``: each gate replaced by its per-channel mean over the network input: the scale the
  block applies is kept, the "where" is removed (``s`` is computed on the mean-gated ``y``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gam_gui.ablation_modes import (  # noqa: F401 - the rules, re-exported as this module's public API
    ABLATION_MODES,
    DEFAULT_TOP_K,
    MODES,
    AblationMode,
    AblationSpecError,
    describe,
    parse_blocks,
)
from gam_gui.inference import Detection, detect
from gam_gui.matching import Match, MatchTable, match_detections, summarize
from gam_gui.models import attention
from gam_gui.models.gam import ABLATION, GAM, is_gam_block


def apply_mode(mode: AblationMode, block: GAM, x: torch.Tensor) -> torch.Tensor:
    """The block's output under ``mode`` (``on`` is the block's own forward)."""
    if mode.name == "off":
        return x
    if mode.name == "channel-only":
        return x * block.channel_gate(x)
    if mode.name == "spatial-only":
        return x * block.spatial_gate(x)
    if mode.name == "mean-gate":
        y = x * block.channel_gate(x).mean((2, 3), keepdim=True)
        return y * block.spatial_gate(y).mean((2, 3), keepdim=True)
    if mode.name == "drop-top-k":
        c = block.channel_gate(x)
        y = x * c
        out = y * block.spatial_gate(y)
        k = min(mode.k, out.shape[1])
        top = c.mean((2, 3)).topk(k, dim=1).indices  # (B, k)
        keep = torch.ones(out.shape[:2], dtype=out.dtype, device=out.device).scatter_(1, top, 0.0)
        return out * keep[:, :, None, None]
    y = x * block.channel_gate(x)
    return y * block.spatial_gate(y)


def gam_layers(model: nn.Module) -> dict[int, list[GAM]]:
    """Layer index -> the GAM blocks in that layer (a stacked layer has several; all are ablated)."""
    out: dict[int, list[GAM]] = {}
    layers = getattr(model, "model", None)
    if not isinstance(layers, nn.Sequential):
        return out
    for i, layer in enumerate(layers):
        blocks = [m for m in layer.modules() if is_gam_block(m)]
        if blocks:
            out[int(getattr(layer, "i", i))] = blocks
    return out


def attention_layers(model: nn.Module) -> dict[int, list[nn.Module]]:
    """Layer index -> the attention blocks of the registry in that layer (GAM and every other kind),
    plus GAM-shaped blocks of unknown classes (found by structure, refused when ablated)."""
    out: dict[int, list[nn.Module]] = {}
    for found in attention.find_blocks(model):
        out.setdefault(found.index, []).append(found.block)
    for layer, blocks in gam_layers(model).items():
        out.setdefault(layer, [])
        out[layer] += [b for b in blocks if attention.entry_of(b) is None]
    return dict(sorted(out.items()))


def block_modes(block: nn.Module) -> tuple[str, ...]:
    """The ablation modes a block has (its registry entry's; GAM's for a GAM)."""
    e = attention.entry_of(block)
    if e is None:
        return ABLATION_MODES
    return e.modes_for(str(block.__dict__.get("variant", "")))


def resolve_blocks(model: nn.Module, blocks: Iterable[str] | Mapping[int, str | AblationMode]
                   ) -> dict[int, AblationMode]:
    """Parse and check against the model: every layer named must hold attention blocks that have the
    mode asked for (the error lists the blocks, or the block's modes)."""
    spec = parse_blocks(blocks)
    available = attention_layers(model)
    only_gam = all(isinstance(b, GAM) or attention.entry_of(b) is None for bs in available.values() for b in bs)
    what = "GAM block" if only_gam else "attention block"
    names = ", ".join(map(str, available)) or "none"
    for layer, mode in spec.items():
        if layer not in available:
            raise ValueError(f"layer {layer} is not a{'n' if what[0] == 'a' else ''} {what}; {what}s: {names}")
        foreign = [type(b).__name__ for b in available[layer] if attention.entry_of(b) is None]
        if foreign:
            raise ValueError(f"layer {layer}: {foreign[0]} is not gam-gui's GAM class and cannot be ablated")
        for b in available[layer]:
            modes = block_modes(b)
            if mode.name not in ("on", *modes):
                kind = attention.entry_of(b).kind
                raise ValueError(f"layer {layer} ({kind}) has no ablation mode {mode.label!r}; "
                                 f"its modes: {', '.join(modes)}")
    return spec


@contextmanager
def ablated(model: nn.Module, blocks: Iterable[str] | Mapping[int, str | AblationMode]
            ) -> Iterator[dict[int, AblationMode]]:
    """Run the model with these blocks ablated, in this thread only, for the ``with`` body.

    Nested uses combine (the inner one wins for a block named twice); the table in force before is
    restored on exit, whatever happened inside.
    """
    spec = resolve_blocks(model, blocks)
    layers = attention_layers(model)
    previous = getattr(ABLATION, "blocks", None)
    table: dict[int, Callable[[nn.Module, torch.Tensor], torch.Tensor]] = dict(previous or {})
    for layer, mode in spec.items():
        for b in layers[layer]:
            if mode.name == "on":
                table.pop(id(b), None)
            elif isinstance(b, GAM):
                table[id(b)] = functools.partial(apply_mode, mode)
            else:  # every other kind: its registry entry's modes (gam_gui.models.attention.base)
                table[id(b)] = functools.partial(_apply_registry_mode, mode)
    ABLATION.blocks = table
    try:
        yield spec
    finally:
        ABLATION.blocks = previous


@dataclass
class AblationResult(MatchTable):
    """The detections of one frame with and without an ablation, and how they pair up.

    ``before``/``after``: :class:`~gam_gui.inference.Detection` lists, best first. ``matches``: one
    :class:`~gam_gui.matching.Match` per box of either side (``a`` = before, ``b`` = after; status
    kept / lost / new). ``blocks``: layer -> mode label. ``timings``: ms of the ablated forward (and of
    the reference one when this call ran it).
    """

    before: list[Detection]
    after: list[Detection]
    matches: list[Match]
    blocks: dict[int, str]
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """``3 kept (mean -0.21), 1 lost, 0 new``."""
        return summarize(self.matches)

    def describe_blocks(self) -> str:
        return ", ".join(f"{k}:{v}" for k, v in sorted(self.blocks.items())) or "none"

    def to_dict(self) -> dict:
        return {"blocks": {str(k): v for k, v in sorted(self.blocks.items())}, "summary": self.summary(),
                "before": [d.to_dict() for d in self.before], "after": [d.to_dict() for d in self.after],
                "matches": [m.to_dict() for m in self.matches],
                "timings": {k: round(v, 2) for k, v in self.timings.items()}}


def ablate(model: nn.Module, image: np.ndarray, blocks: Iterable[str] | Mapping[int, str | AblationMode],
           conf: float = 0.25, iou: float = 0.45, imgsz: int | None = None,
           before: list[Detection] | None = None) -> AblationResult:
    """Detect on ``image`` as trained and with ``blocks`` ablated, and pair the two lists.

    Pass ``before`` (the detections of an analysis already run on this frame with the same conf, iou
    and imgsz) to pay for one forward only: that is what the GUI and ``gam-gui ablate`` do.
    """
    spec = resolve_blocks(model, blocks)
    imgsz = int(imgsz or getattr(model, "meta", {}).get("imgsz", 640) or 640)
    timings: dict[str, float] = {}
    if before is None:
        t0 = time.perf_counter()
        before = detect(model, image, conf=conf, iou=iou, imgsz=imgsz)
        timings["reference"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    with ablated(model, spec):
        after = detect(model, image, conf=conf, iou=iou, imgsz=imgsz)
    timings["ablated"] = (time.perf_counter() - t0) * 1e3
    return AblationResult(list(before), after, match_detections(before, after),
                          {k: m.label for k, m in spec.items()}, timings)


def _apply_registry_mode(mode: AblationMode, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return attention.apply_mode(block, x, mode)


def every_ablation(model: nn.Module, top_k: int = DEFAULT_TOP_K) -> list[dict[int, AblationMode]]:
    """One single-block ablation per attention block and mode (what ``eval --ablate-each`` runs): GAM's
    five modes, and each other kind's own (``off``, ``<gate>-only``, ``mean-gate``, ``drop-top-k``)."""
    out = []
    for layer, blocks in attention_layers(model).items():
        modes = [m for m in dict.fromkeys(m for b in blocks for m in block_modes(b))
                 if all(m in block_modes(b) for b in blocks)]
        for name in modes:
            out.append({layer: AblationMode(name, top_k) if name == "drop-top-k" else AblationMode(name)})
    return out
