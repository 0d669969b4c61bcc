"""YOLOv5 building blocks with the ultralytics attribute layout.

Attribute names (``conv``, ``bn``, ``act``, ``cv1``, ``m``, ...) match ``models/common.py`` of the
ultralytics YOLOv5 repo on purpose: a checkpoint pickled by that code restores its ``__dict__`` onto
these classes, so the names are part of the file format, not a style choice.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn


def autopad(k: int | list[int], p: int | None = None, d: int = 1) -> int | list[int]:
    """'same' padding for kernel ``k`` and dilation ``d``."""
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


#: Layers an activation slot (``act``) may hold: weightless element-wise functions.
ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.SiLU, nn.ReLU, nn.LeakyReLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Mish, nn.ReLU6, nn.GELU,
    nn.Identity, nn.Tanh, nn.ELU, nn.Softplus,
)


def activation(act: object) -> nn.Module:
    """The layer for an ``act`` argument: ``True`` is SiLU, ``False``/``None`` none, an activation itself.

    Anything else (a string, a number, a tensor, a layer with weights) is refused rather than quietly
    replaced by no activation, which would run a different forward than the model was trained with.
    """
    if act is True:
        return nn.SiLU()
    if act is False or act is None:
        return nn.Identity()
    if isinstance(act, ACTIVATIONS):
        return act
    raise ValueError(f"an activation slot holds a {type(act).__name__}, which is not an activation")


class Conv(nn.Module):
    """Conv2d + BatchNorm2d + activation (SiLU by default, any module when given one).

    One class serves the ultralytics v7.0 signature ``Conv(c1, c2, k, s, p, g, d, act)`` and the
    YOLOv7 (and YOLOv5 <= v6.2) one ``Conv(c1, c2, k, s, p, g, act)``: YOLOv7 YAMLs pass the
    activation as the 7th positional argument (``[32, 3, 2, None, 1, nn.LeakyReLU(0.1)]``), where
    the v7.0 signature has the dilation. A module or a bool there can only be an activation, so it is
    taken as one. Both code bases pickle the same ``conv``/``bn``/``act`` attributes.
    """

    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, d=1, act=True) -> None:
        super().__init__()
        if isinstance(d, (bool, nn.Module)):  # YOLOv7 argument order: (..., g, act)
            act, d = d, 1
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p, d), groups=g, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A fused checkpoint (yolov5 ``fuse()``) deletes ``bn`` and bakes it into ``conv``.
        if "bn" not in self._modules:
            return self.act(self.conv(x))
        return self.act(self.bn(self.conv(x)))


class Focus(nn.Module):
    """Space-to-depth then Conv (YOLOv5 up to v5.0)."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True) -> None:
        super().__init__()
        self.conv = Conv(c1 * 4, c2, k, s, p, g, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(
            torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]), 1)
        )


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, e=0.5) -> None:
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_, c2, 3, 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C3(nn.Module):
    """CSP bottleneck with three convolutions."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5) -> None:
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c1, c_, 1, 1)
        self.cv3 = Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, e=1.0) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPP(nn.Module):
    """Spatial pyramid pooling (YOLOv3/v5.0)."""

    def __init__(self, c1, c2, k=(5, 9, 13)) -> None:
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_ * (len(k) + 1), c2, 1, 1)
        self.m = nn.ModuleList([nn.MaxPool2d(kernel_size=x, stride=1, padding=x // 2) for x in k])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.cv2(torch.cat([x] + [m(x) for m in self.m], 1))


class SPPF(nn.Module):
    """Fast SPP, equivalent to SPP(k=(5, 9, 13)) (YOLOv5 v6.0+)."""

    def __init__(self, c1, c2, k=5) -> None:
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_ * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    def __init__(self, dimension: int = 1) -> None:
        super().__init__()
        self.d = dimension

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(x, self.d)
