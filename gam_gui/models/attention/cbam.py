"""CBAM (Woo et al. 2018): a channel gate, then a spatial gate on the channel-gated features.

Two layouts circulate under the same three class names, and they compute different channel gates:

* ultralytics (``ultralytics.nn.modules.conv``): ``ChannelAttention`` is one 1x1 conv with bias on the
  average-pooled features (``pool``, ``fc``, ``act``); ``SpatialAttention`` has ``cv1``;
* the tutorials' (``models.common``): a shared two-layer MLP without bias (``f1``/``relu``/``f2``, or a
  ``sharedMLP``/``fc``/``mlp`` Sequential) applied to the average- and to the max-pooled features,
  summed, then a sigmoid; the spatial conv is ``conv`` or ``conv1``.

Both spatial gates are ``sigmoid(conv([mean over C, max over C]))``. The variant is decided from the
structure; the inner classes' own forwards follow ultralytics (``x * gate``), which is what a
standalone ``ChannelAttention``/``SpatialAttention`` layer in a YAML computes there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gam_gui.models.attention import registry as R
from gam_gui.models.attention.base import AttentionBlock, gate_or_none, times

_MLP_NAMES = ("sharedMLP", "fc", "mlp", "shared_mlp")
_CONV_NAMES = ("cv1", "conv", "conv1")


class ChannelAttention(AttentionBlock):
    """CBAM's channel half. ``ChannelAttention(c1)`` is ultralytics'; ``ChannelAttention(c1, ratio)``
    builds the tutorials' shared MLP (``f1``/``f2``)."""

    def __init__(self, channels: int, ratio: int | None = None) -> None:
        super().__init__()
        if ratio is None:
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Conv2d(channels, channels, 1, 1, 0, bias=True)
            self.act = nn.Sigmoid()
        else:
            self.avg_pool = nn.AdaptiveAvgPool2d(1)
            self.max_pool = nn.AdaptiveMaxPool2d(1)
            self.f1 = nn.Conv2d(channels, channels // ratio, 1, bias=False)
            self.relu = nn.ReLU()
            self.f2 = nn.Conv2d(channels // ratio, channels, 1, bias=False)
            self.sigmoid = nn.Sigmoid()

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, 1) in (0, 1)."""
        mods = self._modules
        avg = x.mean((2, 3), keepdim=True)
        if isinstance(mods.get("fc"), nn.Conv2d):
            fc = mods["fc"]
            return torch.sigmoid(F.conv2d(avg, fc.weight, fc.bias))
        if "f1" in mods:
            layers = [mods["f1"], mods["f2"]]
        else:
            seq = next(mods[n] for n in _MLP_NAMES if n in mods)
            layers = [m for m in seq if isinstance(m, nn.Conv2d)]
        mx = x.amax((2, 3), keepdim=True)

        def mlp(v: torch.Tensor) -> torch.Tensor:
            return F.conv2d(F.relu(F.conv2d(v, layers[0].weight, layers[0].bias)), layers[1].weight, layers[1].bias)
        return torch.sigmoid(mlp(avg) + mlp(mx))


class SpatialAttention(AttentionBlock):
    """CBAM's spatial half: ``SpatialAttention(kernel_size=7)`` (ultralytics' layout, ``cv1``)."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size not in (3, 7):  # as ultralytics requires; a channel count here is a misread YAML row
            raise ValueError(f"SpatialAttention kernel size must be 3 or 7, got {kernel_size!r}")
        self.cv1 = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.act = nn.Sigmoid()

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) in (0, 1)."""
        conv = next(self._modules[n] for n in _CONV_NAMES if n in self._modules)
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return torch.sigmoid(F.conv2d(pooled, conv.weight, conv.bias, padding=conv.padding))


class CBAM(AttentionBlock):
    """``CBAM(c1, kernel_size=7)`` as ultralytics ships it; ``CBAM(c1, c2, ratio, kernel_size)`` of the
    tutorials is built by :func:`tutorial_cbam`."""

    def __init__(self, c1: int, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(c1)
        self.spatial_attention = SpatialAttention(kernel_size)


def tutorial_cbam(c1: int, c2: int | None = None, ratio: int = 16, kernel_size: int = 7) -> CBAM:
    """The tutorials' ``CBAM(c1, c2, ratio=16, kernel_size=7)`` (shared MLP, ``conv`` spatial)."""
    block = CBAM.__new__(CBAM)
    AttentionBlock.__init__(block)
    block.channel_attention = ChannelAttention(c1, ratio)
    sa = SpatialAttention.__new__(SpatialAttention)
    AttentionBlock.__init__(sa)
    sa.conv1 = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
    sa.sigmoid = nn.Sigmoid()
    block.spatial_attention = sa
    return block


def _run_cbam(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    y = times(x, gate_or_none(policy, "channel", block.channel_attention.gate(x), seen))
    out = times(y, gate_or_none(policy, "spatial", block.spatial_attention.gate(y), seen))
    return out, seen


def _run_channel(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "channel", block.gate(x), seen)), seen


def _run_spatial(block: nn.Module, x: torch.Tensor, policy: R.Policy) -> tuple[torch.Tensor, dict]:
    seen: dict[str, torch.Tensor] = {}
    return times(x, gate_or_none(policy, "spatial", block.gate(x), seen)), seen


_ACT = (nn.Sigmoid,)
_POOL_AVG, _POOL_MAX = (nn.AdaptiveAvgPool2d,), (nn.AdaptiveMaxPool2d,)
_CONV, _RELU = (nn.Conv2d,), (nn.ReLU,)


def _channel_structures(prefix: str) -> list[R.Structure]:
    p = f"{prefix}." if prefix else ""
    ultra = R.Structure(
        "ultralytics", "one 1x1 conv with bias on the average-pooled features (ultralytics' ChannelAttention)",
        {f"{p}pool": _POOL_AVG, f"{p}fc": _CONV, f"{p}act": _ACT},
        {f"{p}fc.weight": ("C", "C", 1, 1), f"{p}fc.bias": ("C",)})
    out = [ultra, R.Structure(
        "shared-mlp", "a shared two-layer MLP on average- and max-pooled features, summed (the tutorials')",
        {f"{p}avg_pool?": _POOL_AVG, f"{p}max_pool?": _POOL_MAX, f"{p}f1": _CONV, f"{p}relu?": _RELU,
         f"{p}relu1?": _RELU, f"{p}f2": _CONV, f"{p}sigmoid?": _ACT},
        {f"{p}f1.weight": ("R", "C", 1, 1), f"{p}f2.weight": ("C", "R", 1, 1),
         f"{p}f1.bias?": ("R",), f"{p}f2.bias?": ("C",)})]
    for name in _MLP_NAMES:
        out.append(R.Structure(
            "shared-mlp", f"a shared two-layer MLP ({name}) on average- and max-pooled features (the tutorials')",
            {f"{p}avg_pool?": _POOL_AVG, f"{p}max_pool?": _POOL_MAX, f"{p}{name}": (nn.Sequential,),
             f"{p}{name}.0": _CONV, f"{p}{name}.1": _RELU, f"{p}{name}.2": _CONV, f"{p}sigmoid?": _ACT},
            {f"{p}{name}.0.weight": ("R", "C", 1, 1), f"{p}{name}.2.weight": ("C", "R", 1, 1),
             f"{p}{name}.0.bias?": ("R",), f"{p}{name}.2.bias?": ("C",)}))
    return out


def _spatial_structures(prefix: str) -> list[R.Structure]:
    p = f"{prefix}." if prefix else ""
    return [R.Structure("any", f"a {name} conv on [mean, max] over channels", {f"{p}{name}": _CONV, f"{p}act?": _ACT,
                                                                              f"{p}sigmoid?": _ACT},
                        {f"{p}{name}.weight": (1, 2, "K", "K"), f"{p}{name}.bias?": (1,)})
            for name in _CONV_NAMES]


def _combine(prefix_ch: str, prefix_sp: str) -> tuple[R.Structure, ...]:
    out = []
    for ch in _channel_structures(prefix_ch):
        for sp in _spatial_structures(prefix_sp):
            if ch.variant == "ultralytics" and "cv1" not in str(list(sp.modules)):
                continue  # ultralytics' CBAM always pairs its fc with cv1
            out.append(R.Structure(
                ch.variant, ch.reason,
                {"channel_attention": (ChannelAttention,), "spatial_attention": (SpatialAttention,), **ch.modules,
                 **sp.modules}, {**ch.params, **sp.params}))
    return tuple(out)


_CHANNEL = R.Gate("channel", "channel", "C", "how much each channel is kept, from its pooled statistics",
                  mean_dims=())
_SPATIAL = R.Gate("spatial", "spatial", "HxW", "how much each position is kept, from the mean and max over channels")

CBAM_ENTRY = R.BlockEntry(
    kind="CBAM", classes={"CBAM": CBAM}, helpers={},
    signature="CBAM(c1, kernel_size=7) (ultralytics) | CBAM(c1, c2, ratio=16, kernel_size=7) (tutorials)",
    yaml_style="c1", structures=_combine("channel_attention", "spatial_attention"),
    gates=(_CHANNEL, _SPATIAL), run=_run_cbam, work=R.copies(2),
    doc="out = y * s(y), y = x * c(x); c from pooled statistics, s from [mean, max] over channels")
CHANNEL_ENTRY = R.BlockEntry(
    kind="ChannelAttention", classes={"ChannelAttention": ChannelAttention}, helpers={},
    signature="ChannelAttention(channels)", yaml_style="c1", structures=tuple(_channel_structures("")),
    gates=(_CHANNEL,), run=_run_channel, work=R.copies(1), doc="out = x * c(x)")
SPATIAL_ENTRY = R.BlockEntry(
    kind="SpatialAttention", classes={"SpatialAttention": SpatialAttention}, helpers={},
    signature="SpatialAttention(kernel_size=7)", yaml_style="none", structures=tuple(_spatial_structures("")),
    gates=(_SPATIAL,), run=_run_spatial, work=R.copies(1), doc="out = x * s(x)")
ENTRIES = (CBAM_ENTRY, CHANNEL_ENTRY, SPATIAL_ENTRY)
