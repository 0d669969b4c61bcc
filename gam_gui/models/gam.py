"""The GAM block (Liu et al. 2021) in the variants that circulate in YOLO code bases.

A pickled checkpoint stores a block's weights and attributes but never its ``forward``, and the
variants in the wild differ exactly in ``forward``: the seed recipe has no sigmoid on the channel
branch and shuffles the spatial attention, the paper (and the ``GAM_Attention`` copy) puts a sigmoid
on the channel branch and does not shuffle. One class with an explicit ``variant`` attribute keeps
the difference visible on a loaded model and lets a caller override it.
"""

from __future__ import annotations

import threading

import torch
from torch import nn

#: Per-thread ablation overrides, ``id(block) -> callable(block, x) -> output``, set only by
#: :func:`gam_gui.ablation.ablated`. Thread-local, so an ablated forward in one thread (the GUI worker
#: comparing with an ablation) never changes what another thread's forward of the same model computes,
#: and nothing is written on the block itself that an exception could leave behind.
ABLATION = threading.local()

#: variant name -> (sigmoid on the channel branch, channel shuffle after the spatial sigmoid)
VARIANTS: dict[str, tuple[bool, bool]] = {
    "seed": (False, True),  # the recipe this project implements: class GAM / GAMAttention
    "paper": (True, False),  # the paper's figure; class GAM_Attention in the attention collections
    "paper-shuffle": (True, True),  # sigmoid on both branches plus the seed's shuffle
}


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet channel shuffle: interleave ``groups`` groups of channels."""
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class GAM(nn.Module):
    """Global Attention Mechanism block, constructor as in the seed: ``GAM(c1, c2, group=True, rate=4)``.

    Children are named ``channel_attention`` and ``spatial_attention`` as in every circulating copy,
    so that pickled checkpoints map onto this class and the attention hooks find them by structure.
    """

    default_variant = "seed"

    def __init__(self, c1: int, c2: int, group: bool | int = True, rate: int = 4) -> None:
        super().__init__()
        hidden = int(c1 / rate)
        self.channel_attention = nn.Sequential(
            nn.Linear(c1, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, c1),
        )
        g = rate if group else 1
        self.spatial_attention = nn.Sequential(
            nn.Conv2d(c1, c1 // rate, kernel_size=7, padding=3, groups=g),
            nn.BatchNorm2d(c1 // rate),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1 // rate, c2, kernel_size=7, padding=3, groups=g),
            nn.BatchNorm2d(c2),
        )
        self.variant = self.default_variant

    # Pickles made by other code bases have no ``variant``: fall back to the class default.
    @property
    def gam_variant(self) -> str:
        return self.__dict__.get("variant", self.default_variant)

    def channel_gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel attention tensor (B, C, H, W) that multiplies ``x``."""
        b, c, h, w = x.shape
        att = self.channel_attention(x.permute(0, 2, 3, 1).reshape(b, -1, c)).view(b, h, w, c)
        att = att.permute(0, 3, 1, 2)
        if VARIANTS[self.gam_variant][0]:
            att = att.sigmoid()
        return att

    def spatial_gate(self, x: torch.Tensor) -> torch.Tensor:
        """The spatial attention tensor (B, C2, H, W) that multiplies the channel-attended features."""
        att = self.spatial_attention(x).sigmoid()
        if VARIANTS[self.gam_variant][1]:
            att = channel_shuffle(att, 4)
        return att

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        override = getattr(ABLATION, "blocks", None)
        if override and id(self) in override:
            return override[id(self)](self, x)
        x = x * self.channel_gate(x)
        return x * self.spatial_gate(x)


class GAMAttention(GAM):
    """The "air" collection's name for the seed's block: same constructor and forward."""


class GAM_Attention(GAM):  # noqa: N801 - the class name users' checkpoints pickle
    """The widely copied ``GAM_Attention(in_channels, rate=4)``: sigmoid on the channel branch,
    ungrouped spatial convs, no shuffle, output channels equal to input channels."""

    default_variant = "paper"

    def __init__(self, in_channels: int, rate: int = 4) -> None:
        super().__init__(in_channels, in_channels, group=False, rate=rate)


def is_gam_block(module: nn.Module) -> bool:
    """Recognise a GAM block by structure, whatever class it was pickled as: both branches are
    Sequentials. (ultralytics' CBAM has children of the same names, but they are its own
    ChannelAttention/SpatialAttention layers, and it is a different block: see gam_gui.models.attention.)"""
    if isinstance(module, GAM):
        return True
    children = dict(module.named_children())
    return isinstance(children.get("channel_attention"), nn.Sequential) and isinstance(
        children.get("spatial_attention"), nn.Sequential
    )
