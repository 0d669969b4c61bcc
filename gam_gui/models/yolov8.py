"""YOLOv8 / YOLO11 blocks with the attribute layout of the ``ultralytics`` package (8.x).

A checkpoint written by the ``ultralytics`` trainer pickles whole modules by class path
(``ultralytics.nn.modules.block.C2f``, ``ultralytics.nn.modules.head.Detect`` ...); unpickling restores
their ``__dict__`` onto the classes here, so attribute and child names (``cv1``, ``cv2``, ``cv3``, ``m``,
``dfl``, ``qkv``, ``pe`` ...) are part of the file format, and a model built here from a YAML has the
package's state_dict keys. The ``forward`` methods compute what the package's do, with one deliberate
difference that does not change the numbers: the detection head recomputes its anchor points on every
call and never caches them on itself (the package keeps ``anchors``/``strides``/``shape`` on the head),
so Grad-CAM can differentiate through it and a pickled head's stale caches are irrelevant.

Importing this module registers the blocks with the YAML builder; YAMLs without ``anchors`` (the
anchor-free YOLOv8/YOLO11 family) get :class:`Detect`, :class:`SPPF` and :class:`Bottleneck` from here
instead of the YOLOv5 ones of the same names.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gam_gui.models import yolov5 as _yolo
from gam_gui.models.common import C3, Conv
from gam_gui.models.common import SPPF as SPPF_V5
from gam_gui.models.common import Bottleneck as BottleneckV5


class DWConv(Conv):
    """Depth-wise convolution: a :class:`Conv` with ``groups = gcd(c1, c2)``."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, d: int = 1, act: Any = True) -> None:
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), d=d, act=act)


class Bottleneck(BottleneckV5):
    """The package's bottleneck: kernel sizes ``k`` for its two convs (YOLOv5's is fixed at 1 and 3)."""

    def __init__(self, c1: int, c2: int, shortcut: bool = True, g: int = 1, k: tuple = (3, 3), e: float = 0.5) -> None:
        nn.Module.__init__(self)
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0], 1)
        self.cv2 = Conv(c_, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2


class C2f(nn.Module):
    """CSP bottleneck with two convolutions (YOLOv8): every bottleneck's output is kept and concatenated."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5) -> None:
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, k=((3, 3), (3, 3)), e=1.0) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class C3k(C3):
    """C3 whose bottlenecks use ``k`` x ``k`` kernels for both convs (inside YOLO11's C3k2)."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5,
                 k: int = 3) -> None:
        super().__init__(c1, c2, n, shortcut, g, e)
        c_ = int(c2 * e)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, k=(k, k), e=1.0) for _ in range(n)))


class C3k2(C2f):
    """YOLO11's C2f with C3k (``c3k``) or plain bottlenecks; ``attn`` adds a PSABlock (ultralytics 8.4)."""

    def __init__(self, c1: int, c2: int, n: int = 1, c3k: bool = False, e: float = 0.5, attn: bool = False,
                 g: int = 1, shortcut: bool = True) -> None:
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(
            nn.Sequential(Bottleneck(self.c, self.c, shortcut, g),
                          PSABlock(self.c, attn_ratio=0.5, num_heads=max(self.c // 64, 1)))
            if attn else C3k(self.c, self.c, 2, shortcut, g) if c3k else Bottleneck(self.c, self.c, shortcut, g)
            for _ in range(n)
        )


class SPPF(SPPF_V5):
    """YOLOv5's fast SPP, honouring the ``n`` (pooling repeats) and ``add`` (residual) attributes that
    ultralytics 8.4 pickles (3 and False for every YOLOv8/YOLO11 model)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(self.__dict__.get("n", 3)))
        out = self.cv2(torch.cat(y, 1))
        return out + x if self.__dict__.get("add", False) else out


class Attention(nn.Module):
    """Multi-head self-attention over the pixels of a feature map, with a depth-wise positional conv."""

    def __init__(self, dim: int, num_heads: int = 8, attn_ratio: float = 0.5) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim**-0.5
        h = dim + self.key_dim * num_heads * 2
        self.qkv = Conv(dim, h, 1, act=False)
        self.proj = Conv(dim, dim, 1, act=False)
        self.pe = Conv(dim, dim, 3, 1, g=dim, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        n = h * w
        q, k, v = self.qkv(x).view(b, self.num_heads, self.key_dim * 2 + self.head_dim, n).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q * self.scale).transpose(-2, -1) @ k).softmax(dim=-1)
        x = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(x)


class PSABlock(nn.Module):
    """Attention then a 1x1 feed-forward pair, each with a residual when ``add``."""

    def __init__(self, c: int, attn_ratio: float = 0.5, num_heads: int = 4, shortcut: bool = True) -> None:
        super().__init__()
        self.attn = Attention(c, attn_ratio=attn_ratio, num_heads=num_heads)
        self.ffn = nn.Sequential(Conv(c, c * 2, 1), Conv(c * 2, c, 1, act=False))
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x) if self.add else self.attn(x)
        return x + self.ffn(x) if self.add else self.ffn(x)


class C2PSA(nn.Module):
    """YOLO11's CSP block of PSABlocks: half the channels go through attention, half pass."""

    def __init__(self, c1: int, c2: int, n: int = 1, e: float = 0.5) -> None:
        super().__init__()
        if c1 != c2:
            raise ValueError(f"C2PSA keeps its channel count (got {c1} -> {c2})")
        self.c = int(c1 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv(2 * self.c, c1, 1)
        self.m = nn.Sequential(*(PSABlock(self.c, attn_ratio=0.5, num_heads=max(self.c // 64, 1)) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


class DFL(nn.Module):
    """Distribution focal loss integral (arXiv 2006.04388): each box side is the expectation of a
    softmax over ``c1`` bins, computed as a fixed 1x1 conv with weights 0..c1-1 (a stored parameter)."""

    def __init__(self, c1: int = 16) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


class Detect(nn.Module):
    """Anchor-free detection head of YOLOv8 / YOLO11 (DFL box regression, no objectness).

    Output contract, eval mode: one tensor (B, 4 + nc, N), the package's ``model(x)[0]``: rows 0-3 are
    box centre x, y, width, height in input pixels, rows 4.. the class scores after sigmoid; N runs over
    the levels in order (level ``i`` contributes its H_i x W_i cells row by row, one prediction each).
    Training mode returns the raw per-level maps (B, 4 * reg_max + nc, H_i, W_i).

    Per level ``i``, ``cv2[i]`` is the box branch (4 * reg_max logits) and ``cv3[i]`` the class branch
    (nc logits); ``dfl`` turns the box logits into distances. ``legacy`` (YOLOv8 and older YAMLs) builds
    the class branch from two 3x3 convs, otherwise (YOLO11) from depth-wise + 1x1 pairs; only the
    structure differs, so a pickled head of either kind runs with this forward.
    """

    def __init__(self, nc: int = 80, ch: Any = (), legacy: bool = False, reg_max: int = 16) -> None:
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = reg_max
        self.no = nc + reg_max * 4
        self.stride = torch.zeros(self.nl)
        c2, c3 = max((16, ch[0] // 4, reg_max * 4)), max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * reg_max, 1)) for x in ch)
        if legacy:
            self.cv3 = nn.ModuleList(
                nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for x in ch)
        else:
            self.cv3 = nn.ModuleList(
                nn.Sequential(nn.Sequential(DWConv(x, x, 3), Conv(x, c3, 1)),
                              nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                              nn.Conv2d(c3, nc, 1))
                for x in ch)
        self.dfl = DFL(reg_max) if reg_max > 1 else nn.Identity()

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        feats = [torch.cat((self.cv2[i](x[i]), self.cv3[i](x[i])), 1) for i in range(self.nl)]
        return feats if self.training else self.decode(feats)

    def decode(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Raw per-level maps -> (B, 4 + nc, N): DFL distances to xywh in input pixels, sigmoid scores."""
        b = feats[0].shape[0]
        nbox = 4 * self.reg_max
        x = torch.cat([f.view(b, nbox + self.nc, -1) for f in feats], 2)
        box, cls = x.split((nbox, self.nc), 1)
        points, strides = self.anchor_points(feats)
        lt, rb = self.dfl(box).chunk(2, 1)
        x1y1, x2y2 = points - lt, points + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        return torch.cat((xywh, cls.sigmoid()), 1)

    def anchor_points(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell centres (2, N) in grid units and the stride of each cell (1, N), level by level."""
        points, strides = [], []
        for i, f in enumerate(feats):
            h, w = f.shape[-2:]
            sy, sx = torch.meshgrid(torch.arange(h, device=f.device, dtype=f.dtype) + 0.5,
                                    torch.arange(w, device=f.device, dtype=f.dtype) + 0.5, indexing="ij")
            points.append(torch.stack((sx, sy), -1).view(-1, 2))
            strides.append(torch.full((h * w, 1), float(self.stride[i]), device=f.device, dtype=f.dtype))
        return torch.cat(points).transpose(0, 1), torch.cat(strides).transpose(0, 1)

    def bias_init(self) -> None:
        """Box and class priors for training from scratch (the package's ``bias_init``)."""
        for a, b, s in zip(self.cv2, self.cv3, self.stride, strict=True):
            a[-1].bias.data[:] = 1.0
            b[-1].bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)


#: Blocks whose presence makes the package build YOLO11's (non-legacy) detection head.
NON_LEGACY_BLOCKS: frozenset[type[nn.Module]] = frozenset({C3k2})

_yolo.register_block("C2f", C2f, channels=True, repeat_arg=True)
_yolo.register_block("C3k2", C3k2, channels=True, repeat_arg=True)
_yolo.register_block("C2PSA", C2PSA, channels=True, repeat_arg=True)
_yolo.register_block("DWConv", DWConv, channels=True)
for _base, _cls in ((_yolo.Detect, Detect), (SPPF_V5, SPPF), (BottleneckV5, Bottleneck)):
    _yolo.register_variant(_base, _cls, family="anchor-free")
