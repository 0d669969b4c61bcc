"""The registry of attention blocks (see :mod:`gam_gui.models.attention.registry`): GAM's variants,
CBAM (ultralytics' and the tutorials'), SE, ECA, CoordAtt, SimAM, EMA, TripletAttention,
ShuffleAttention, NAM and SKAttention, each a safe re-implementation with its structures, gates and
ablation modes. Importing this package registers them; a plugin registers more
(:mod:`gam_gui.plugins`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import nn

from gam_gui.models.attention import cbam, coordatt, eca, ema, nam, se, shuffle, simam, sk, triplet
from gam_gui.models.attention import gam as gam_entry
from gam_gui.models.attention.base import (
    GATES,
    AttentionBlock,
    Mode,
    ablating,
    apply_mode,
    keep,
    mode_policy,
    recording,
)
from gam_gui.models.attention.registry import (
    GATE_KINDS,
    LOADER_MAPPED,
    MODULE_PATHS,
    YAML_STYLES,
    BlockEntry,
    BlockStructureError,
    Gate,
    Identified,
    RegistryError,
    Structure,
    check_block,
    class_paths,
    copies,
    entries,
    entry,
    entry_for_name,
    entry_of,
    how_to_add,
    identify,
    on_register,
    package_paths,
    register,
    unregister,
)

__all__ = [
    "GATES", "GATE_KINDS", "MODULE_PATHS", "YAML_STYLES", "AttentionBlock", "BlockEntry", "BlockStructureError",
    "Found", "Gate", "Identified", "Mode", "RegistryError", "Structure", "ablating", "apply_mode", "check_block",
    "class_paths", "copies", "entries", "entry", "entry_for_name", "entry_of", "find_blocks", "how_to_add", "identify",
    "keep", "mode_policy", "package_paths", "recording", "register", "unregister",
]

def _register_with_builder(e: BlockEntry) -> None:
    """Let model YAMLs name the entry's classes, built the way the tutorials register them."""
    from gam_gui.models import yolov5

    if e.kind in LOADER_MAPPED:  # GAM: the builder has its own rules for its names
        return
    for name, cls in e.classes.items():
        yolov5.register_block(name, cls, channels=e.yaml_style == "c1-c2", prepend_input=e.yaml_style == "c1",
                              as_written_fallback=True)


on_register(_register_with_builder)
for _module in (gam_entry, cbam, se, eca, coordatt, simam, ema, triplet, shuffle, nam, sk):
    for _entry in _module.ENTRIES:
        register(_entry)


@dataclass(frozen=True)
class Found:
    """One attention block in a model: ``index`` (its layer), ``name`` (dotted), the block, its entry."""

    index: int
    name: str
    block: nn.Module
    entry: BlockEntry


def find_blocks(model: nn.Module) -> list[Found]:
    """Every outermost registered block in ``model``'s layer list (a CBAM's own ChannelAttention is
    part of the CBAM, not a block of its own), in layer order."""
    layers = getattr(model, "model", None)
    out: list[Found] = []
    if not isinstance(layers, nn.Sequential):
        return out

    def walk(prefix: str, m: nn.Module) -> Iterator[tuple[str, nn.Module]]:
        if entry_of(m) is not None:
            yield prefix, m
            return
        for name, child in m._modules.items():
            if child is not None:
                yield from walk(f"{prefix}.{name}", child)

    for i, layer in enumerate(layers):
        index = getattr(layer, "i", i)
        for name, block in walk(f"model.{i}", layer):
            out.append(Found(int(index) if isinstance(index, int) else i, name, block, entry_of(block)))
    return out
