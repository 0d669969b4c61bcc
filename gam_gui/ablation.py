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


def resolve_blocks(model: nn.Module, blocks: Iterable[str] | Mapping[int, str | AblationMode]
                   ) -> dict[int, AblationMode]:
    """Parse and check against the model: every layer named must hold GAM blocks (the error lists them)."""
    spec = parse_blocks(blocks)
    available = gam_layers(model)
    names = ", ".join(map(str, available)) or "none"
    for layer in spec:
        if layer not in available:
            raise ValueError(f"layer {layer} is not a GAM block; GAM blocks: {names}")
        foreign = [type(b).__name__ for b in available[layer] if not isinstance(b, GAM)]
        if foreign:
            raise ValueError(f"layer {layer}: {foreign[0]} is not gam-gui's GAM class and cannot be ablated")
    return spec


@contextmanager
def ablated(model: nn.Module, blocks: Iterable[str] | Mapping[int, str | AblationMode]
            ) -> Iterator[dict[int, AblationMode]]:
    """Run the model with these blocks ablated, in this thread only, for the ``with`` body.

    Nested uses combine (the inner one wins for a block named twice); the table in force before is
    restored on exit, whatever happened inside.
    """
    spec = resolve_blocks(model, blocks)
    layers = gam_layers(model)
    previous = getattr(ABLATION, "blocks", None)
    table: dict[int, Callable[[GAM, torch.Tensor], torch.Tensor]] = dict(previous or {})
    for layer, mode in spec.items():
        for b in layers[layer]:
            if mode.name == "on":
                table.pop(id(b), None)
            else:
                table[id(b)] = functools.partial(apply_mode, mode)
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


def every_ablation(model: nn.Module, top_k: int = DEFAULT_TOP_K) -> list[dict[int, AblationMode]]:
    """One single-block ablation per GAM block and mode (what ``eval --ablate-each`` runs)."""
    out = []
    for layer in gam_layers(model):
        for name in ABLATION_MODES:
            out.append({layer: AblationMode(name, top_k) if name == "drop-top-k" else AblationMode(name)})
    return out
