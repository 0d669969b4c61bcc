"""What every registered block shares: a forward that runs the entry's ``run`` with a gate policy,
the thread-local tables that ablate a block or record its gates for one call, and the ablation modes.

A block's forward is ``run(block, x, policy)``: the block computes each gate and hands it to
``policy(name, gate)``, which returns the gate to apply (the gate itself when the block runs as
trained) or None (skip it). Every ablation mode is a policy, so modes are defined once here for every
kind: ``off`` (the input), ``<gate>-only`` (the other gates skipped), ``mean-gate`` (each gate replaced
by its mean over its extent: the scale stays, the "where" goes), ``drop-top-k`` (the block as trained,
then the k channels with the largest mean channel gate zeroed in its output).

Ablation and recording go through thread-local tables keyed by ``id(block)`` (GAM's
:data:`gam_gui.models.gam.ABLATION` for ablation, so :func:`gam_gui.ablation.ablated` reaches every
kind), never through attributes on the block: another thread's forward of the same model is unaffected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gam_gui.models.attention.registry import BlockEntry, Policy, entry_of
from gam_gui.models.gam import ABLATION

#: Per-thread gate recorders, ``id(block) -> callable(block, gates)``, set by :func:`recording`.
GATES = threading.local()


def keep(name: str, gate: torch.Tensor) -> torch.Tensor:
    """The policy of the block as trained."""
    return gate


class AttentionBlock(nn.Module):
    """Base of the registry's safe classes: ``forward`` runs the entry's ``run`` (forwards are never
    pickled; this is the code that runs for every file naming the class)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        override = getattr(ABLATION, "blocks", None)
        if override and id(self) in override:
            return override[id(self)](self, x)
        e = entry_of(self)
        if e is None:  # a subclass registered nowhere: nothing safe to run
            raise TypeError(f"{type(self).__name__} is not a registered attention block")
        out, gates = e.run(self, x, keep)
        rec = getattr(GATES, "blocks", None)
        if rec and id(self) in rec:
            rec[id(self)](self, x, gates, out)
        return out


def gate_or_none(policy: Policy, name: str, gate: torch.Tensor, seen: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """Apply ``policy`` to one gate and remember what was applied (the recorded gate)."""
    g = policy(name, gate)
    if g is not None:
        seen[name] = g
    return g


def times(x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
    """``x * g``, or ``x`` when the gate is skipped."""
    return x if g is None else x * g


@dataclass(frozen=True)
class Mode:
    """One ablation mode: ``name`` (``off``, ``channel-only``, ``mean-gate``, ``drop-top-k`` ...), ``k``
    for ``drop-top-k``. Anything with ``name`` and ``k`` attributes (ablation_modes.AblationMode) works."""

    name: str
    k: int = 8


def _mode_name(mode: Any) -> tuple[str, int]:
    if isinstance(mode, str):
        return mode, 8
    return str(mode.name), int(getattr(mode, "k", 8))


def mode_policy(e: BlockEntry, mode: Any) -> Policy | None:
    """The policy of ``mode`` for a block of entry ``e`` (None for ``off``); ValueError for a mode the
    entry does not declare."""
    name, _ = _mode_name(mode)
    if name == "on":
        return keep
    if name not in e.modes and name != "off":
        raise ValueError(f"{e.kind} has no ablation mode {name!r}; its modes: {', '.join(e.modes)}")
    if name == "drop-top-k":
        return keep
    if name == "off":
        return None
    if name == "mean-gate":
        dims = {g.name: g.mean_dims for g in e.gates}

        def mean(gname: str, gate: torch.Tensor) -> torch.Tensor:
            d = tuple(x for x in dims.get(gname, ()) if x < gate.dim())
            return gate.mean(d, keepdim=True) if d else gate
        return mean
    only = name[: -len("-only")]

    def only_policy(gname: str, gate: torch.Tensor) -> torch.Tensor | None:
        return gate if gname == only else None
    return only_policy


def channel_weights(e: BlockEntry, gates: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    """(B, C') mean of the entry's channel gate over everything but batch and channel, or None."""
    g = e.channel_gate
    if g is None or g.name not in gates:
        return None
    t = gates[g.name]
    return t.mean(tuple(range(2, t.dim()))) if t.dim() > 2 else t


def apply_mode(block: nn.Module, x: torch.Tensor, mode: Any, entry: BlockEntry | None = None) -> torch.Tensor:
    """The block's output under ``mode`` (a name or an ``AblationMode``); ``on`` is the block as trained."""
    e = entry or entry_of(block)
    if e is None:
        raise TypeError(f"{type(block).__name__} is not a registered attention block")
    name, k = _mode_name(mode)
    policy = mode_policy(e, mode)
    if policy is None:
        return x
    out, gates = e.run(block, x, policy)
    if name != "drop-top-k":
        return out
    w = channel_weights(e, gates)
    if w is None:
        raise ValueError(f"{e.kind} has no channel gate to rank channels by (drop-top-k)")
    top = w.topk(min(k, w.shape[1]), dim=1).indices
    if e.output_channels is not None:
        top = e.output_channels(block, top, out.shape[1])
    keep_mask = torch.ones(out.shape[:2], dtype=out.dtype, device=out.device).scatter_(1, top, 0.0)
    return out * keep_mask[:, :, None, None]


@contextmanager
def recording(blocks: Mapping[int, Callable[..., None]]) -> Iterator[None]:
    """Within the ``with``, each listed block (``id(block) -> callback(block, x, gates, out)``) hands
    its gates to its callback on every forward, in this thread only."""
    prev = getattr(GATES, "blocks", None)
    GATES.blocks = {**(prev or {}), **blocks}
    try:
        yield
    finally:
        GATES.blocks = prev


@contextmanager
def ablating(blocks: Mapping[nn.Module, Any]) -> Iterator[None]:
    """Within the ``with``, each block runs ``apply_mode(block, x, mode)``, in this thread only."""
    prev = getattr(ABLATION, "blocks", None)
    table = dict(prev or {})
    for block, mode in blocks.items():
        e = entry_of(block)
        if e is None:
            raise TypeError(f"{type(block).__name__} is not a registered attention block")
        mode_policy(e, mode)  # unknown modes fail here, before any forward

        def run(b: nn.Module, x: torch.Tensor, mode: Any = mode, e: BlockEntry = e) -> torch.Tensor:
            return apply_mode(b, x, mode, e)
        table[id(block)] = run
    ABLATION.blocks = table
    try:
        yield
    finally:
        ABLATION.blocks = prev
