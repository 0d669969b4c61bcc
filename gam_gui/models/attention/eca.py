"""Efficient channel attention (Wang et al. 2020): SE without the MLP, a 1-D conv across channels.

``EfficientChannelAttention(c, b=1, gamma=2)`` (kernel from the channel count, ``conv1``), ``ECA(c1, c2,
k_size=3)`` / ``eca_layer`` (``conv``) and ``ECAAttention(kernel_size=3)`` (``gap``, ``conv`` with bias):
all compute ``x * sigmoid(conv1d(mean_HW(x) along C))``; the kernel and bias come from the file.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


def eca_kernel(c: int, b: int = 1, gamma: int = 2) -> int:
    """The odd kernel size ECA picks for ``c`` channels: ``|log2(c) + b| / gamma``, made odd."""
    t = int(abs((math.log(c, 2) + b) / gamma))
    return t if t % 2 else t + 1


class EfficientChannelAttention(AttentionBlock):
    """``EfficientChannelAttention(c, b=1, gamma=2)``."""

    def __init__(self, c: int, b: int = 1, gamma: int = 2) -> None:
        super().__init__()
        k = eca_kernel(c, b, gamma)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv1d(1, 1, kernel_size=k, padding=k // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, 1) in (0, 1)."""
        conv = self._modules.get("conv1") or self._modules["conv"]
        v = x.mean((2, 3))[:, None, :]  # (B, 1, C): the channels are the sequence
        v = F.conv1d(v, conv.weight, conv.bias, padding=conv.padding)
        return torch.sigmoid(v)[:, 0, :, None, None]


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "channel", block.gate(x), seen)), seen


def _structure(conv: str, pool: str) -> R.Structure:
    return R.Structure("eca", f"a 1-D conv ({conv}) across the pooled channels",
                       {f"{pool}?": (nn.AdaptiveAvgPool2d,), conv: (nn.Conv1d,), "sigmoid?": (nn.Sigmoid,)},
                       {f"{conv}.weight": (1, 1, "K"), f"{conv}.bias?": (1,)})


STRUCTURES = tuple(_structure(c, p) for c in ("conv1", "conv") for p in ("avg_pool", "gap"))
GATES = (R.Gate("channel", "channel", "C", "how much each channel is kept, from its neighbours' means",
                mean_dims=()),)
ENTRY = R.BlockEntry(
    kind="ECA", classes={"EfficientChannelAttention": EfficientChannelAttention, "ECA": EfficientChannelAttention,
                         "ECAAttention": EfficientChannelAttention, "eca_layer": EfficientChannelAttention},
    helpers={}, signature="EfficientChannelAttention(c, b=1, gamma=2) | ECA(c1, c2, k_size=3)", yaml_style="c1",
    structures=STRUCTURES, gates=GATES, run=_run, work=R.copies(1),
    doc="out = x * sigmoid(conv1d_C(mean_HW(x)))")
ENTRIES = (ENTRY,)
