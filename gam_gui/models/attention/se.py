"""Squeeze-and-excitation (Hu et al. 2018): one gate per channel from the average-pooled features.

Circulates as ``SEAttention(channel, reduction=16)`` (``avg_pool`` + ``fc`` Sequential of two bias-free
Linear layers, ReLU, Sigmoid) and as ``SE(c1, c2, ratio=16)`` (``l1``/``relu``/``l2``/``sig``). Both
compute ``x * sigmoid(W2 relu(W1 mean(x)))``; biases are used when a file has them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


class SEAttention(AttentionBlock):
    """``SEAttention(channel=512, reduction=16)``."""

    def __init__(self, channel: int = 512, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channel // reduction, channel, bias=False), nn.Sigmoid())

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, 1) in (0, 1)."""
        mods = self._modules
        first, second = (mods["fc"][0], mods["fc"][2]) if "fc" in mods else (mods["l1"], mods["l2"])
        v = x.mean((2, 3))
        v = F.linear(F.relu(F.linear(v, first.weight, first.bias)), second.weight, second.bias)
        return torch.sigmoid(v)[:, :, None, None]


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "channel", block.gate(x), seen)), seen


_LIN = (nn.Linear,)
STRUCTURES = (
    R.Structure("se", "avg-pool, two Linear layers with ReLU, sigmoid (SEAttention's fc)",
                {"avg_pool?": (nn.AdaptiveAvgPool2d,), "fc": (nn.Sequential,), "fc.0": _LIN, "fc.1": (nn.ReLU,),
                 "fc.2": _LIN, "fc.3": (nn.Sigmoid,)},
                {"fc.0.weight": ("R", "C"), "fc.2.weight": ("C", "R"), "fc.0.bias?": ("R",), "fc.2.bias?": ("C",)}),
    R.Structure("se", "avg-pool, l1, ReLU, l2, sigmoid (the YOLOv5 tutorials' SE)",
                {"avgpool?": (nn.AdaptiveAvgPool2d,), "avg_pool?": (nn.AdaptiveAvgPool2d,), "l1": _LIN,
                 "relu?": (nn.ReLU,), "l2": _LIN, "sig?": (nn.Sigmoid,), "sigmoid?": (nn.Sigmoid,)},
                {"l1.weight": ("R", "C"), "l2.weight": ("C", "R"), "l1.bias?": ("R",), "l2.bias?": ("C",)}),
)
GATES = (R.Gate("channel", "channel", "C", "how much each channel is kept, from its spatial mean", mean_dims=()),)
ENTRY = R.BlockEntry(
    kind="SE", classes={"SEAttention": SEAttention, "SE": SEAttention, "SELayer": SEAttention}, helpers={},
    signature="SEAttention(channel=512, reduction=16) | SE(c1, c2, ratio=16)", yaml_style="c1",
    structures=STRUCTURES, gates=GATES, run=_run, work=R.copies(1), doc="out = x * sigmoid(MLP(mean_HW(x)))")
ENTRIES = (ENTRY,)
