"""YOLOv7 building blocks, with the attribute layout of the WongKinYiu/yolov7 code.

A YOLOv7 ``train.py`` checkpoint pickles whole modules (``models.common.RepConv``,
``models.yolo.IDetect``, ...) by class path; unpickling restores their ``__dict__`` onto the classes
here, so attribute names (``rbr_dense``, ``rbr_reparam``, ``ia``, ``im``, ``implicit``, the
``anchor_grid`` buffer) are part of the file format. The ``forward`` methods compute what YOLOv7's
do, with two deliberate differences that do not change the numbers:

* nothing is written in place (YOLOv7's heads assign into slices of their sigmoid output, which
  breaks autograd, and Grad-CAM has to differentiate through the head);
* a head returns one (B, N, 5 + nc) tensor in eval mode, the contract of :class:`Detect`.

Importing this module registers the blocks with the YAML builder (see
:func:`gam_gui.models.yolov5.register_block`); :mod:`gam_gui.checkpoints.foreign` allows their class
paths in checkpoints. ``gam_gui.models`` imports it, so both always know them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gam_gui.models import yolov5 as _yolo
from gam_gui.models.common import Conv, activation, autopad
from gam_gui.models.yolov5 import Detect, register_block


def _activation(act: Any) -> nn.Module:
    """YOLOv7's rule: ``True`` is SiLU, an activation layer is itself, ``False``/``None`` none
    (:func:`gam_gui.models.common.activation`: anything else is refused)."""
    return activation(act)


class MP(nn.Module):
    """Max pooling with stride equal to the kernel (YOLOv7's down-sampling branch)."""

    def __init__(self, k: int = 2) -> None:
        super().__init__()
        self.m = nn.MaxPool2d(kernel_size=k, stride=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x)


class SP(nn.Module):
    """'Same' max pooling (YOLOv7-tiny's SPP branches: ``SP, [5]``, ``[9]``, ``[13]``)."""

    def __init__(self, k: int = 3, s: int = 1) -> None:
        super().__init__()
        self.m = nn.MaxPool2d(kernel_size=k, stride=s, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x)


class SPPCSPC(nn.Module):
    """CSP spatial pyramid pooling (YOLOv7 / YOLOv7x neck). ``n``, ``shortcut`` and ``g`` are unused,
    as in YOLOv7; they are in the signature because its ``parse_model`` passes the repeat count."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5,
                 k: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        c_ = int(2 * c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c1, c_, 1, 1)
        self.cv3 = Conv(c_, c_, 3, 1)
        self.cv4 = Conv(c_, c_, 1, 1)
        self.m = nn.ModuleList([nn.MaxPool2d(kernel_size=x, stride=1, padding=x // 2) for x in k])
        self.cv5 = Conv(4 * c_, c_, 1, 1)
        self.cv6 = Conv(c_, c_, 3, 1)
        self.cv7 = Conv(2 * c_, c2, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.cv4(self.cv3(self.cv1(x)))
        y1 = self.cv6(self.cv5(torch.cat([x1] + [m(x1) for m in self.m], 1)))
        y2 = self.cv2(x)
        return self.cv7(torch.cat((y1, y2), 1))


def _fold_bn(weight: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Kernel and bias of ``bn(conv(x))`` for a bias-free conv with ``weight`` (eval statistics)."""
    std = (bn.running_var + bn.eps).sqrt()
    t = (bn.weight / std).reshape(-1, 1, 1, 1)
    return weight * t, bn.bias - bn.running_mean * bn.weight / std


class RepConv(nn.Module):
    """RepVGG block (arXiv 2101.03697): 3x3 conv-BN + 1x1 conv-BN (+ BN identity) summed, then act.

    Two pickled layouts occur and both work: the training form (``rbr_dense``, ``rbr_1x1``,
    ``rbr_identity``) and the re-parameterised form (``rbr_reparam``, one 3x3 conv with bias), which
    YOLOv7's ``fuse_repvgg_block`` leaves behind with the three branches set to ``None``.
    """

    def __init__(self, c1: int, c2: int, k: int = 3, s: int = 1, p: int | None = None, g: int = 1,
                 act: Any = True, deploy: bool = False) -> None:
        super().__init__()
        if k != 3 or autopad(k, p) != 1:
            raise ValueError(f"RepConv needs a 3x3 kernel with padding 1, got k={k}, p={p}")
        self.deploy = deploy
        self.groups = g
        self.in_channels = c1
        self.out_channels = c2
        self.act = _activation(act)
        if deploy:
            self.rbr_reparam = nn.Conv2d(c1, c2, k, s, 1, groups=g, bias=True)
        else:
            self.rbr_identity = nn.BatchNorm2d(c1) if c2 == c1 and s == 1 else None
            self.rbr_dense = nn.Sequential(nn.Conv2d(c1, c2, k, s, 1, groups=g, bias=False), nn.BatchNorm2d(c2))
            self.rbr_1x1 = nn.Sequential(nn.Conv2d(c1, c2, 1, s, 0, groups=g, bias=False), nn.BatchNorm2d(c2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reparam = getattr(self, "rbr_reparam", None)
        if reparam is not None:
            return self.act(reparam(x))
        y = self.rbr_dense(x) + self.rbr_1x1(x)
        identity = getattr(self, "rbr_identity", None)
        if identity is not None:
            y = y + identity(x)
        return self.act(y)

    def equivalent_kernel_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The single 3x3 kernel and bias equal to the three branches in eval mode."""
        reparam = getattr(self, "rbr_reparam", None)
        if reparam is not None:
            return reparam.weight, reparam.bias
        k3, b3 = _fold_bn(self.rbr_dense[0].weight, self.rbr_dense[1])
        k1, b1 = _fold_bn(self.rbr_1x1[0].weight, self.rbr_1x1[1])
        kernel = k3 + nn.functional.pad(k1, [1, 1, 1, 1])
        bias = b3 + b1
        identity = getattr(self, "rbr_identity", None)
        if identity is not None:
            per_group = self.in_channels // self.groups
            kid = torch.zeros(self.in_channels, per_group, 3, 3, dtype=k3.dtype, device=k3.device)
            idx = torch.arange(self.in_channels, device=k3.device)
            kid[idx, idx % per_group, 1, 1] = 1
            kid, bid = _fold_bn(kid, identity)
            kernel, bias = kernel + kid, bias + bid
        return kernel, bias

    @torch.no_grad()
    def fuse(self) -> RepConv:
        """Switch to the re-parameterised form in place (same eval output, one conv instead of three)."""
        if getattr(self, "rbr_reparam", None) is not None:
            return self
        kernel, bias = self.equivalent_kernel_bias()
        conv = self.rbr_dense[0]
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, conv.stride, 1, groups=conv.groups, bias=True)
        fused = fused.to(kernel.device, kernel.dtype)
        fused.weight.copy_(kernel)
        fused.bias.copy_(bias)
        for name in ("rbr_dense", "rbr_1x1", "rbr_identity"):
            if name in self._modules:
                del self._modules[name]
            setattr(self, name, None)
        self.rbr_reparam = fused
        self.deploy = True
        return self


class ImplicitA(nn.Module):
    """YOLOR implicit knowledge added to a feature map: ``x + implicit`` (per channel)."""

    def __init__(self, channel: int, mean: float = 0.0, std: float = 0.02) -> None:
        super().__init__()
        self.channel = channel
        self.mean = mean
        self.std = std
        self.implicit = nn.Parameter(torch.zeros(1, channel, 1, 1))
        nn.init.normal_(self.implicit, mean=mean, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.implicit + x


class ImplicitM(nn.Module):
    """YOLOR implicit knowledge multiplied into a feature map: ``x * implicit`` (per channel)."""

    def __init__(self, channel: int, mean: float = 1.0, std: float = 0.02) -> None:
        super().__init__()
        self.channel = channel
        self.mean = mean
        self.std = std
        self.implicit = nn.Parameter(torch.ones(1, channel, 1, 1))
        nn.init.normal_(self.implicit, mean=mean, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.implicit * x


def _use_anchor_grid_buffer(head: Detect) -> None:
    """Give a head YOLOv7's ``anchor_grid`` buffer: (nl, 1, na, 1, 1, 2) anchors in pixels.

    Besides matching YOLOv7's decoding, it keeps the state_dict of a head built here identical to
    that of a pickled YOLOv7 head, so either loads into the other.
    """
    head.__dict__.pop("anchor_grid", None)  # Detect's per-level cache list
    head.register_buffer("anchor_grid", head.anchors.clone().view(head.nl, 1, -1, 1, 1, 2))


class DetectV7(Detect):
    """YOLOv7's plain ``Detect`` (deploy YAMLs): YOLOv5's head plus the ``anchor_grid`` buffer.

    A YOLOv7 YAML naming ``Detect`` builds this; a pickled ``models.yolo.Detect`` loads as
    :class:`Detect`, which decodes with the buffer when the pickle has one.
    """

    def __init__(self, nc: int = 80, anchors: Any = (), ch: Any = ()) -> None:
        super().__init__(nc, anchors, ch)
        _use_anchor_grid_buffer(self)


class IDetect(Detect):
    """YOLOv7's training head: ``ImplicitA`` before and ``ImplicitM`` after each output conv.

    YOLOv7 decodes by writing into slices of the sigmoid output; this class decodes with
    :meth:`Detect.decode` into a new tensor, so Grad-CAM can differentiate through it. YOLOv7's own
    ``fuse`` folds the implicit layers into the conv; that is the same function.
    """

    def __init__(self, nc: int = 80, anchors: Any = (), ch: Any = ()) -> None:
        super().__init__(nc, anchors, ch)
        _use_anchor_grid_buffer(self)
        self.ia = nn.ModuleList(ImplicitA(x) for x in ch)
        self.im = nn.ModuleList(ImplicitM(self.no * self.na) for _ in ch)

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        x = list(x)
        z = []
        for i in range(self.nl):
            p = self.im[i](self.m[i](self.ia[i](x[i])))
            bs, _, ny, nx = p.shape
            x[i] = p.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                z.append(self.decode(x[i], i))
        return x if self.training else torch.cat(z, 1)


def fuse_repconv(model: nn.Module) -> int:
    """Re-parameterise every training-form :class:`RepConv` of ``model``; returns how many.

    Optional: the unfused form computes the same detections. It saves two convs per block.
    """
    n = 0
    for m in model.modules():
        if isinstance(m, RepConv) and getattr(m, "rbr_reparam", None) is None:
            m.fuse()
            n += 1
    return n


#: Class paths in YOLOv7 pickles -> classes here (YOLOv7's ``models.common.Conv`` and ``Concat``
#: have YOLOv5's layout and map onto :mod:`gam_gui.models.common`, ``models.yolo.Model`` onto
#: :class:`gam_gui.models.yolov5.DetectionModel`, ``models.yolo.Detect`` onto :class:`Detect`).
COMMON_CLASSES: dict[str, type[nn.Module]] = {
    "MP": MP,
    "SP": SP,
    "SPPCSPC": SPPCSPC,
    "RepConv": RepConv,
    "ImplicitA": ImplicitA,
    "ImplicitM": ImplicitM,
}
YOLO_CLASSES: dict[str, type[nn.Module]] = {"IDetect": IDetect}

register_block("MP", MP, yolov7_only=True)
register_block("SP", SP, yolov7_only=True)
register_block("SPPCSPC", SPPCSPC, channels=True, repeat_arg=True, yolov7_only=True)
register_block("RepConv", RepConv, channels=True, yolov7_only=True)
register_block("ImplicitA", ImplicitA, input_channels=True, yolov7_only=True)
register_block("ImplicitM", ImplicitM, input_channels=True, yolov7_only=True)
register_block("IDetect", IDetect, yolov7_only=True)
_yolo.register_variant(Detect, DetectV7, family="yolov7")
