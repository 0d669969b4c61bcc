"""GAM's three variants as registry entries. The block itself stays :class:`gam_gui.models.gam.GAM`
(its forward, variants and the loader's variant decision are unchanged); this module only declares its
structure, gates and modes, and runs it with a gate policy for ablation.

GAM is the one kind whose variant the structure cannot always decide (``paper-shuffle`` looks like
``seed``): the loader decides it from the class name or the structure (``record_gam_variants``), so
the structures here keep the variant the block already runs (:data:`registry.KEEP_VARIANT`).
"""

from __future__ import annotations

import torch
from torch import nn

from gam_gui.models import gam
from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import gate_or_none, times


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    y = times(x, gate_or_none(policy, "channel", block.channel_gate(x), seen))
    return times(y, gate_or_none(policy, "spatial", block.spatial_gate(y), seen)), seen


def _same_channels(block: nn.Module, s: dict[str, int]) -> str:
    return "" if s.get("O") == s.get("C") else f"its spatial gate has {s.get('O')} channels for {s.get('C')} inputs"


STRUCTURES = (R.Structure(
    R.KEEP_VARIANT, "an MLP channel branch and a 7x7 conv spatial branch",
    {"channel_attention": (nn.Sequential,), "channel_attention.0": (nn.Linear,), "channel_attention.1": (nn.ReLU,),
     "channel_attention.2": (nn.Linear,), "spatial_attention": (nn.Sequential,), "spatial_attention.0": (nn.Conv2d,),
     "spatial_attention.1": (nn.BatchNorm2d,), "spatial_attention.2": (nn.ReLU,), "spatial_attention.3": (nn.Conv2d,),
     "spatial_attention.4": (nn.BatchNorm2d,)},
    {"channel_attention.0.weight": ("H", "C"), "channel_attention.0.bias?": ("H",),
     "channel_attention.2.weight": ("C", "H"), "channel_attention.2.bias?": ("C",),
     "spatial_attention.0.weight": ("S", "Cg", 7, 7), "spatial_attention.0.bias?": ("S",),
     "spatial_attention.1.weight": ("S",), "spatial_attention.1.bias": ("S",),
     "spatial_attention.3.weight": ("O", "Sg", 7, 7), "spatial_attention.3.bias?": ("O",),
     "spatial_attention.4.weight": ("O",), "spatial_attention.4.bias": ("O",)},
    relation=_same_channels),)
GATES = (R.Gate("channel", "channel", "CxHxW", "the MLP's weight for each channel at each pixel; signed and "
                "unbounded in the seed variant (no sigmoid), in [0, 1] in the paper's", low=None, high=None),
         R.Gate("spatial", "spatial", "CxHxW", "the 7x7 convs' weight for each position (per channel)"))
ENTRY = R.BlockEntry(
    kind="GAM", classes={"GAM": gam.GAM, "GAMAttention": gam.GAMAttention, "GAM_Attention": gam.GAM_Attention},
    helpers={}, signature="GAM(c1, c2, group=True, rate=4) | GAM_Attention(in_channels, rate=4)", yaml_style="c1-c2",
    structures=STRUCTURES, gates=GATES, run=_run,
    modes=("off", "channel-only", "spatial-only", "drop-top-k", "mean-gate"), work=R.copies(6),
    doc="out = y * s(y), y = x * c(x); variants: " + ", ".join(gam.VARIANTS))
ENTRIES = (ENTRY,)
