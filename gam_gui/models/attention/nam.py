"""NAM, normalization-based attention (Liu et al. 2021): BatchNorm's scale factors as channel weights.

``NAMAttention(channels)`` holds ``Channel_Att`` with ``bn2`` (BatchNorm2d); the gate is
``sigmoid(|gamma| / sum|gamma| * BN(x))`` per channel and pixel, and ``out = x * gate``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


class Channel_Att(nn.Module):  # noqa: N801 - the class name users' checkpoints pickle
    """NAM's channel half: ``bn2`` and the gate made from its scale factors."""

    def __init__(self, channels: int, t: int = 16) -> None:
        super().__init__()
        self.channels = channels
        self.bn2 = nn.BatchNorm2d(channels, affine=True)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        bn = self._modules["bn2"]
        y = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        share = bn.weight.abs() / bn.weight.abs().sum()
        return torch.sigmoid(y * share[:, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class NAMAttention(AttentionBlock):
    """``NAMAttention(channels, out_channels=None, no_spatial=True)``."""

    def __init__(self, channels: int, out_channels: int | None = None, no_spatial: bool = True) -> None:
        super().__init__()
        self.Channel_Att = Channel_Att(channels)


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "channel", block._modules["Channel_Att"].gate(x), seen)), seen


STRUCTURES = (R.Structure(
    "nam", "a BatchNorm whose scale factors weight the normalised features (Channel_Att.bn2)",
    {"Channel_Att": (Channel_Att,), "Channel_Att.bn2": (nn.BatchNorm2d,)},
    {"Channel_Att.bn2.weight": ("C",), "Channel_Att.bn2.bias": ("C",)},
    attrs={}),)
GATES = (R.Gate("channel", "channel", "CxHxW", "how much each channel is kept at each position, weighted by "
                "the channel's BN scale"),)
ENTRY = R.BlockEntry(
    kind="NAM", classes={"NAMAttention": NAMAttention, "NAM": NAMAttention}, helpers={"Channel_Att": Channel_Att},
    signature="NAMAttention(channels, out_channels=None, no_spatial=True)", yaml_style="c1", structures=STRUCTURES,
    gates=GATES, run=_run, work=R.copies(4), doc="out = x * sigmoid(share_c * BN(x))")
ENTRIES = (ENTRY,)
