"""Coordinate attention (Hou et al. 2021): a gate per channel and row, and one per channel and column.

``CoordAtt(inp, oup, reduction=32)``: rows and columns are average-pooled, concatenated, passed through
a shared 1x1 conv + BN + h-swish (``conv1``/``bn1``/``act``), split again and turned into two sigmoid
gates by ``conv_h`` and ``conv_w``; ``out = x * a_w * a_h``. The activation is the tutorials'
``h_swish`` (with its ``h_sigmoid``), or torch's Hardswish / ReLU / SiLU in some copies.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times


class h_sigmoid(nn.Module):  # noqa: N801 - the class name users' checkpoints pickle
    """``relu6(x + 3) / 6``."""

    def __init__(self, inplace: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU6(inplace=inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3) / 6


class h_swish(nn.Module):  # noqa: N801 - the class name users' checkpoints pickle
    """``x * relu6(x + 3) / 6``."""

    def __init__(self, inplace: bool = True) -> None:
        super().__init__()
        self.sigmoid = h_sigmoid(inplace=inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (F.relu6(x + 3) / 6)


def _act(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if isinstance(m, h_swish | nn.Hardswish):
        return x * (F.relu6(x + 3) / 6)
    if isinstance(m, nn.ReLU):
        return F.relu(x)
    if isinstance(m, nn.SiLU):
        return F.silu(x)
    raise TypeError(f"CoordAtt activation {type(m).__name__} is not supported")


class CoordAtt(AttentionBlock):
    """``CoordAtt(inp, oup, reduction=32)``."""

    def __init__(self, inp: int, oup: int | None = None, reduction: int = 32) -> None:
        super().__init__()
        oup = inp if oup is None else oup
        mip = max(8, inp // reduction)
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.conv1 = nn.Conv2d(inp, mip, 1)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = h_swish()
        self.conv_h = nn.Conv2d(mip, oup, 1)
        self.conv_w = nn.Conv2d(mip, oup, 1)

    def gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, 1) and (B, C, 1, W), each in (0, 1)."""
        m = self._modules
        h, w = x.shape[2:]
        rows = x.mean(3, keepdim=True)  # (B, C, H, 1)
        cols = x.mean(2, keepdim=True).transpose(2, 3)  # (B, C, W, 1)
        y = F.conv2d(torch.cat([rows, cols], 2), m["conv1"].weight, m["conv1"].bias)
        bn = m["bn1"]
        y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        y = _act(m["act"], y)
        y_h, y_w = y[:, :, :h], y[:, :, h:].transpose(2, 3)
        a_h = torch.sigmoid(F.conv2d(y_h, m["conv_h"].weight, m["conv_h"].bias))
        a_w = torch.sigmoid(F.conv2d(y_w, m["conv_w"].weight, m["conv_w"].bias))
        return a_h, a_w


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    a_h, a_w = block.gates(x)
    g_w = gate_or_none(policy, "width", a_w, seen)
    g_h = gate_or_none(policy, "height", a_h, seen)
    return times(times(x, g_w), g_h), seen


_ACTS = (h_swish, nn.Hardswish, nn.ReLU, nn.SiLU)


def _same_channels(block: nn.Module, s: dict[str, int]) -> str:
    return "" if s.get("O") == s.get("C") else f"its gates have {s.get('O')} channels for {s.get('C')} input channels"


STRUCTURES = (R.Structure(
    "coordatt", "row and column pooling, shared conv1/bn1/act, conv_h and conv_w sigmoid gates",
    {"pool_h?": (nn.AdaptiveAvgPool2d,), "pool_w?": (nn.AdaptiveAvgPool2d,), "conv1": (nn.Conv2d,),
     "bn1": (nn.BatchNorm2d,), "act": _ACTS, "act.sigmoid?": (h_sigmoid,), "act.sigmoid.relu?": (nn.ReLU6,),
     "conv_h": (nn.Conv2d,), "conv_w": (nn.Conv2d,)},
    {"conv1.weight": ("M", "C", 1, 1), "conv1.bias?": ("M",), "bn1.weight": ("M",), "bn1.bias": ("M",),
     "conv_h.weight": ("O", "M", 1, 1), "conv_h.bias?": ("O",), "conv_w.weight": ("O", "M", 1, 1),
     "conv_w.bias?": ("O",)}, relation=_same_channels),)
GATES = (R.Gate("height", "height", "CxH", "how much each channel is kept in each row", mean_dims=(2,)),
         R.Gate("width", "width", "CxW", "how much each channel is kept in each column", mean_dims=(3,)))
ENTRY = R.BlockEntry(
    kind="CoordAtt", classes={"CoordAtt": CoordAtt, "CoordAttention": CoordAtt, "CA": CoordAtt},
    helpers={"h_swish": h_swish, "h_sigmoid": h_sigmoid}, signature="CoordAtt(inp, oup, reduction=32)",
    yaml_style="c1-c2", structures=STRUCTURES, gates=GATES, run=_run, work=R.copies(2),
    doc="out = x * a_w * a_h")
ENTRIES = (ENTRY,)
