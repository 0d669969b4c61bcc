"""Selective kernel attention (Li et al. 2019): branches with different kernels, mixed per channel by
softmax weights computed from their sum.

``SKAttention(channel=512, kernels=[1, 3, 5, 7], reduction=16, group=1, L=32)``: ``convs`` (conv, BN,
ReLU per kernel), ``fc`` (C -> d) on the pooled sum, ``fcs`` (d -> C per branch), softmax over the
branches. Gate ``branches`` (K x C): the weight of each branch in each channel; ``out = sum_k w_k * U_k``.
``off`` returns the input (the block keeps the channel count).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock

MAX_BRANCHES = 8


class SKAttention(AttentionBlock):
    """``SKAttention(channel=512, kernels=(1, 3, 5, 7), reduction=16, group=1, L=32)``."""

    def __init__(self, channel: int = 512, kernels: tuple[int, ...] | list[int] = (1, 3, 5, 7), reduction: int = 16,
                 group: int = 1, L: int = 32) -> None:  # noqa: N803
        super().__init__()
        self.d = max(L, channel // reduction)
        self.convs = nn.ModuleList(
            nn.Sequential(_named(conv=nn.Conv2d(channel, channel, k, padding=k // 2, groups=group),
                                 bn=nn.BatchNorm2d(channel), relu=nn.ReLU())) for k in kernels)
        self.fc = nn.Linear(channel, self.d)
        self.fcs = nn.ModuleList(nn.Linear(self.d, channel) for _ in kernels)
        self.softmax = nn.Softmax(dim=0)


def _named(**layers: nn.Module) -> dict[str, nn.Module]:
    from collections import OrderedDict
    return OrderedDict(layers)


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    m = block._modules
    feats = []
    for seq in m["convs"]:
        conv, bn = seq._modules["conv"], seq._modules["bn"]
        y = F.conv2d(x, conv.weight, conv.bias, padding=conv.padding, groups=conv.groups)
        y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        feats.append(F.relu(y))
    u = feats[0]
    for f in feats[1:]:
        u = u + f
    z = F.linear(u.mean(-1).mean(-1), m["fc"].weight, m["fc"].bias)  # the order the original pools in
    logits = torch.stack([F.linear(z, fc.weight, fc.bias) for fc in m["fcs"]], 1)  # (B, K, C)
    w = torch.softmax(logits, 1)[..., None, None]  # (B, K, C, 1, 1)
    seen: dict[str, torch.Tensor] = {}
    g = policy("branches", w)
    if g is None:
        return x, seen
    seen["branches"] = g
    return (g * torch.stack(feats, 1)).sum(1), seen


def _structures() -> tuple[R.Structure, ...]:
    out = []
    for k in range(2, MAX_BRANCHES + 1):
        mods: dict[str, tuple[type, ...]] = {"convs": (nn.ModuleList,), "fc": (nn.Linear,), "fcs": (nn.ModuleList,),
                                             "softmax?": (nn.Softmax,)}
        params: dict[str, tuple[int | str, ...]] = {"fc.weight": ("D", "C"), "fc.bias?": ("D",)}
        for i in range(k):
            mods.update({f"convs.{i}": (nn.Sequential,), f"convs.{i}.conv": (nn.Conv2d,),
                         f"convs.{i}.bn": (nn.BatchNorm2d,), f"convs.{i}.relu": (nn.ReLU,), f"fcs.{i}": (nn.Linear,)})
            params.update({f"convs.{i}.conv.weight": ("C", f"G{i}", f"K{i}", f"K{i}"), f"convs.{i}.conv.bias?": ("C",),
                           f"convs.{i}.bn.weight": ("C",), f"convs.{i}.bn.bias": ("C",),
                           f"fcs.{i}.weight": ("C", "D"), f"fcs.{i}.bias?": ("C",)})
        out.append(R.Structure(f"sk-{k}", f"{k} kernel branches mixed per channel by softmax", mods, params))
    return tuple(out)


GATES = (R.Gate("branches", "branches", "KxC", "the weight of each kernel branch in each channel (sums to 1)",
                mean_dims=(2,)),)
def _work(block: nn.Module, shape: tuple[int, ...]) -> int:
    """Each kernel branch keeps its conv, BN and ReLU outputs, its stacked copy and its weighted copy
    (about 6 inputs' worth, measured), plus the sum."""
    convs = block._modules.get("convs")
    k = len(convs) if isinstance(convs, nn.ModuleList) else 1
    return R.copies(6 * k + 1)(block, shape)


ENTRY = R.BlockEntry(
    kind="SKAttention", classes={"SKAttention": SKAttention}, helpers={},
    signature="SKAttention(channel=512, kernels=[1, 3, 5, 7], reduction=16, group=1, L=32)", yaml_style="c1",
    structures=_structures(), gates=GATES, run=_run, work=_work, doc="out = sum_k softmax_k(w) * branch_k(x)")
ENTRIES = (ENTRY,)
