"""EMA, efficient multi-scale attention (Ouyang et al. 2023).

``EMA(channels, factor=32)`` (also ``EMA(c1, c2, factor)`` in YOLOv8 registrations): the channels are
split into ``groups`` groups; in each, row and column gates (CoordAtt-like, ``conv1x1`` on the pooled
rows and columns) reweight the features, a GroupNorm follows, a parallel ``conv3x3`` branch sees the raw
group, and the two branches' pooled descriptors, softmaxed, weight each other's pixels; the sum is the
per-group spatial gate: ``out = group_x * sigmoid(weights)``.

Gates: ``height`` (CxH) and ``width`` (CxW), which shape the branch the spatial weights come from, and
``spatial`` (HxW per group, drawn per channel), the one that multiplies the output.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


class EMA(AttentionBlock):
    """``EMA(channels, c2=None, factor=32)``."""

    def __init__(self, channels: int, c2: int | None = None, factor: int = 32) -> None:
        super().__init__()
        self.groups = factor
        cg = channels // factor
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, kernel_size=1, stride=1, padding=0)
        self.conv3x3 = nn.Conv2d(cg, cg, kernel_size=3, stride=1, padding=1)


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    m = block._modules
    seen: dict[str, torch.Tensor] = {}
    b, c, h, w = x.shape
    g = vars(block)["groups"]
    cg = c // g
    gx = x.reshape(b * g, cg, h, w)
    rows = gx.mean(3, keepdim=True)  # (bg, cg, h, 1)
    cols = gx.mean(2, keepdim=True).transpose(2, 3)  # (bg, cg, w, 1)
    hw = F.conv2d(torch.cat([rows, cols], 2), m["conv1x1"].weight, m["conv1x1"].bias)
    a_h = hw[:, :, :h].sigmoid()
    a_w = hw[:, :, h:].transpose(2, 3).sigmoid()
    g_h = gate_or_none(policy, "height", a_h.reshape(b, c, h, 1), seen)
    g_w = gate_or_none(policy, "width", a_w.reshape(b, c, 1, w), seen)
    g_h = None if g_h is None else g_h.reshape(b * g, cg, -1, 1)
    g_w = None if g_w is None else g_w.reshape(b * g, cg, 1, -1)
    gn = m["gn"]
    x1 = F.group_norm(times(times(gx, g_h), g_w), gn.num_groups, gn.weight, gn.bias, gn.eps)
    x2 = F.conv2d(gx, m["conv3x3"].weight, m["conv3x3"].bias, padding=1)
    d1 = torch.softmax(x1.mean((2, 3))[:, None, :], -1)  # (bg, 1, cg)
    d2 = torch.softmax(x2.mean((2, 3))[:, None, :], -1)
    weights = (d1 @ x2.reshape(b * g, cg, -1) + d2 @ x1.reshape(b * g, cg, -1)).reshape(b * g, 1, h, w)
    spatial = weights.sigmoid().reshape(b, g, 1, h, w).expand(b, g, cg, h, w).reshape(b, c, h, w)
    s = gate_or_none(policy, "spatial", spatial, seen)
    return times(x, s), seen


def _groups_fit(block: nn.Module, s: dict[str, int]) -> str:
    if block._modules["gn"].num_groups == s.get("G"):
        return ""
    return "its group norm's group count disagrees with its weights"


STRUCTURES = (R.Structure(
    "ema", "grouped row/column gates (conv1x1), GroupNorm, a 3x3 branch and cross-spatial softmax weights",
    {"softmax?": (nn.Softmax,), "agp?": (nn.AdaptiveAvgPool2d,), "pool_h?": (nn.AdaptiveAvgPool2d,),
     "pool_w?": (nn.AdaptiveAvgPool2d,), "gn": (nn.GroupNorm,), "conv1x1": (nn.Conv2d,), "conv3x3": (nn.Conv2d,)},
    {"gn.weight": ("G",), "gn.bias": ("G",), "conv1x1.weight": ("G", "G", 1, 1), "conv1x1.bias?": ("G",),
     "conv3x3.weight": ("G", "G", 3, 3), "conv3x3.bias?": ("G",)},
    attrs={"groups": R.small_int(1, 1024)}, relation=_groups_fit),)
GATES = (R.Gate("height", "height", "CxH", "row gate inside each group (shapes the branch the weights come from)",
                mean_dims=(2,)),
         R.Gate("width", "width", "CxW", "column gate inside each group", mean_dims=(3,)),
         R.Gate("spatial", "spatial", "HxW per group", "how much each position is kept in each channel group"))
ENTRY = R.BlockEntry(
    kind="EMA", classes={"EMA": EMA, "EMA_attention": EMA, "EMAttention": EMA}, helpers={},
    signature="EMA(channels, c2=None, factor=32)", yaml_style="c1", structures=STRUCTURES, gates=GATES, run=_run,
    modes=("off", "spatial-only", "mean-gate"), work=R.copies(6.5),
    doc="out = x * sigmoid(cross-spatial weights) per group")
ENTRIES = (ENTRY,)
