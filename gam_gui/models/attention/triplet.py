"""Triplet attention (Misra et al. 2021): three rotations of the tensor, each gated on the plane it
shows by a 7x7 conv on [max, mean] pooled along the third axis; the three results are averaged.

``TripletAttention(no_spatial=False)`` with ``cw``, ``hc`` (and ``hw``) ``AttentionGate``s (older:
``SpatialGate``), each ``compress`` (``ZPool``/``ChannelPool``: max then mean) and a ``BasicConv``
(conv, BN, no ReLU). Gates: ``branch-cw`` (CxW), ``branch-hc`` (CxH), ``branch-hw`` (HxW); ``out = x *
mean(gates)``; without ``hw`` (``no_spatial``) only the first two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock


class BasicConv(nn.Module):
    """Conv, optional BN, optional ReLU (``bn``/``relu`` are None when absent, as in the original)."""

    def __init__(self, in_planes: int, out_planes: int, kernel_size: int, padding: int = 0, relu: bool = True,
                 bn: bool = True, bias: bool = False) -> None:
        super().__init__()
        self.out_channels = out_planes
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size, padding=padding, bias=bias)
        self.bn = nn.BatchNorm2d(out_planes, eps=1e-5, momentum=0.01) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        x = F.conv2d(x, m["conv"].weight, m["conv"].bias, padding=m["conv"].padding)
        if isinstance(m.get("bn"), nn.BatchNorm2d):
            bn = m["bn"]
            x = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        return F.relu(x) if isinstance(m.get("relu"), nn.ReLU) else x


class ZPool(nn.Module):
    """[max, mean] over dimension 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)


class AttentionGate(nn.Module):
    """``sigmoid(BasicConv(ZPool(x)))``, kernel 7."""

    def __init__(self) -> None:
        super().__init__()
        self.compress = ZPool()
        self.conv = BasicConv(2, 1, 7, padding=3, relu=False)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self._modules["conv"](ZPool.forward(self, x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class TripletAttention(AttentionBlock):
    """``TripletAttention(no_spatial=False)``; a leading channel count (YOLO registration) is ignored."""

    def __init__(self, *args: object, no_spatial: bool = False) -> None:
        super().__init__()
        if args and isinstance(args[-1], bool):
            no_spatial = args[-1]
        self.cw = AttentionGate()
        self.hc = AttentionGate()
        self.no_spatial = no_spatial
        if not no_spatial:
            self.hw = AttentionGate()


def _run(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    m = block._modules
    seen: dict[str, torch.Tensor] = {}
    raw = {"branch-cw": m["cw"].gate(x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3),  # (B, C, 1, W)
           "branch-hc": m["hc"].gate(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)}  # (B, C, H, 1)
    if "hw" in m:
        raw["branch-hw"] = m["hw"].gate(x)  # (B, 1, H, W)
    parts = []
    for name in ("branch-hw", "branch-cw", "branch-hc"):
        if name in raw:
            g = policy(name, raw[name])
            if g is not None:
                seen[name] = g
                parts.append(x * g)
    if not parts:
        return x, seen
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total * (1 / len(parts)), seen


def _structure(variant: str, gate_cls: tuple[type, ...], pool_cls: tuple[type, ...],
               branches: tuple[str, ...]) -> R.Structure:
    mods: dict[str, tuple[type, ...]] = {}
    params: dict[str, tuple[int | str, ...]] = {}
    for b in branches:
        mods.update({b: gate_cls, f"{b}.compress": pool_cls, f"{b}.conv": (BasicConv,), f"{b}.conv.conv": (nn.Conv2d,),
                     f"{b}.conv.bn?": (nn.BatchNorm2d,)})
        params.update({f"{b}.conv.conv.weight": (1, 2, "K", "K"), f"{b}.conv.conv.bias?": (1,),
                       f"{b}.conv.bn.weight?": (1,), f"{b}.conv.bn.bias?": (1,)})
    flag = variant == "no-spatial"
    return R.Structure(variant, f"{len(branches)} rotation gates ({', '.join(branches)})", mods, params,
                       attrs={"no_spatial?": lambda v, flag=flag: v is flag})


def _structures() -> tuple[R.Structure, ...]:
    out = []
    for gate_cls, pool_cls in (((AttentionGate,), (ZPool,)),):
        out.append(_structure("three-branch", gate_cls, pool_cls, ("cw", "hc", "hw")))
        out.append(_structure("no-spatial", gate_cls, pool_cls, ("cw", "hc")))
    return tuple(out)


GATES = (R.Gate("branch-hw", "branches", "HxW", "the plain rotation's gate: how much each position is kept"),
         R.Gate("branch-cw", "branches", "CxW", "the C-W rotation's gate: each channel in each column"),
         R.Gate("branch-hc", "branches", "CxH", "the H-C rotation's gate: each channel in each row"))
def _work(block: nn.Module, shape: tuple[int, ...]) -> int:
    """Per branch a rotated contiguous copy, the gated copy and its rotation back (measured: about 6
    inputs for three branches, 4 without ``hw``)."""
    return R.copies(6 if "hw" in block._modules else 4)(block, shape)


ENTRY = R.BlockEntry(
    kind="TripletAttention", classes={"TripletAttention": TripletAttention},
    helpers={"AttentionGate": AttentionGate, "SpatialGate": AttentionGate, "ZPool": ZPool, "ChannelPool": ZPool,
             "BasicConv": BasicConv},
    signature="TripletAttention(no_spatial=False)", yaml_style="none", structures=_structures(), gates=GATES,
    run=_run, doc="out = x * mean(branch gates), each branch on one rotation of the tensor",
    absent_gates={"no-spatial": ("branch-hw",)}, work=_work)
ENTRIES = (ENTRY,)
