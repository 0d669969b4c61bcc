"""Shuffle attention (SA-Net, Zhang & Yang 2021): per group, half the channels get a channel gate and
half a spatial gate, then the channels are shuffled.

``ShuffleAttention(channel=512, reduction=16, G=8)``: the input is viewed as ``G`` groups; in each, the
first half ``x0`` gets ``sigmoid(cweight * mean(x0) + cbias)`` and the second ``x1`` gets
``sigmoid(sweight * GroupNorm(x1) + sbias)``; the halves are concatenated and shuffled by 2.
Gates (in the input's channel order, half the channels each): ``channel`` (C/2) and ``spatial``
(C/2 x H x W, drawn reduced over channels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times
from gam_gui.models.gam import channel_shuffle


class ShuffleAttention(AttentionBlock):
    """``ShuffleAttention(channel=512, reduction=16, G=8)``."""

    def __init__(self, channel: int = 512, reduction: int = 16, G: int = 8) -> None:  # noqa: N803
        super().__init__()
        self.G = G
        self.channel = channel
        c = channel // (2 * G)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.gn = nn.GroupNorm(c, c)
        self.cweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.cbias = nn.Parameter(torch.ones(1, c, 1, 1))
        self.sweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.sbias = nn.Parameter(torch.ones(1, c, 1, 1))
        self.sigmoid = nn.Sigmoid()


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    p, gn = block._parameters, block._modules["gn"]
    b, c, h, w = x.shape
    g = vars(block)["G"]
    gx = x.reshape(b * g, c // g, h, w)
    x0, x1 = gx.chunk(2, dim=1)
    cg = torch.sigmoid(p["cweight"] * x0.mean((2, 3), keepdim=True) + p["cbias"])  # (bG, c', 1, 1)
    sg = torch.sigmoid(p["sweight"] * F.group_norm(x1, gn.num_groups, gn.weight, gn.bias, gn.eps) + p["sbias"])
    half = c // 2
    c_rec = gate_or_none(policy, "channel", cg.reshape(b, half, 1, 1), seen)
    s_rec = gate_or_none(policy, "spatial", sg.reshape(b, half, h, w), seen)
    y0 = times(x0, None if c_rec is None else c_rec.reshape(b * g, -1, *c_rec.shape[2:]))
    y1 = times(x1, None if s_rec is None else s_rec.reshape(b * g, -1, *s_rec.shape[2:]))
    out = torch.cat([y0, y1], 1).reshape(b, c, h, w)
    return channel_shuffle(out, 2), seen


def output_channels(block: nn.Module, top: torch.Tensor, c: int) -> torch.Tensor:
    """Output channel of each channel-gate index (group, j): before the shuffle it is group * C/G + j;
    the shuffle by 2 sends channel p to (p mod C/2) * 2 + p div C/2."""
    g = vars(block)["G"]
    per = c // (2 * g)
    pre = (top // per) * (c // g) + top % per
    return (pre % (c // 2)) * 2 + pre // (c // 2)


def _fits(block: nn.Module, s: dict[str, int]) -> str:
    ch = vars(block).get("channel")
    if ch is not None and ch != 2 * vars(block)["G"] * s["P"]:
        return "its channel count disagrees with its groups and weights"
    if block._modules["gn"].num_groups == s["P"]:
        return ""
    return "its group norm's group count disagrees with its weights"


STRUCTURES = (R.Structure(
    "sa", "per-group channel half (cweight/cbias) and spatial half (GroupNorm, sweight/sbias), shuffled by 2",
    {"avg_pool?": (nn.AdaptiveAvgPool2d,), "gn": (nn.GroupNorm,), "sigmoid?": (nn.Sigmoid,)},
    {"gn.weight": ("P",), "gn.bias": ("P",), "cweight": (1, "P", 1, 1), "cbias": (1, "P", 1, 1),
     "sweight": (1, "P", 1, 1), "sbias": (1, "P", 1, 1)},
    attrs={"G": R.small_int(1, 1024), "channel?": R.small_int(1, 1 << 16)}, relation=_fits),)
GATES = (R.Gate("channel", "channel", "C/2", "how much each channel of the channel halves is kept", mean_dims=()),
         R.Gate("spatial", "spatial", "C/2xHxW", "how much each position of the spatial halves is kept"))
ENTRY = R.BlockEntry(
    kind="ShuffleAttention", classes={"ShuffleAttention": ShuffleAttention}, helpers={},
    signature="ShuffleAttention(channel=512, reduction=16, G=8)", yaml_style="c1", structures=STRUCTURES,
    gates=GATES, run=_run, output_channels=output_channels, work=R.copies(4.5),
    doc="halves of each group gated by channel and by position, then channel-shuffled")
ENTRIES = (ENTRY,)
