"""Stand-ins for the ultralytics YOLOv5 ``models`` package, to write real-format checkpoints in tests.

The yolov5 repo is not installed (and must not be needed). These classes carry the same class paths
(``models.common.Conv``, ``models.yolo.DetectionModel``, ...) and attribute layout, and their
``forward`` methods follow the ultralytics v7.0 code, in-place writes and all, so a test can compare
what ultralytics would compute with what gam-gui computes after loading the pickle.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from gam_gui.models import common as gcommon
from gam_gui.models import gam as ggam
from gam_gui.models import yolov5 as gyolo


def _channel_shuffle(x, groups):
    b, c, h, w = x.shape
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class Conv(nn.Module):
    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Focus(nn.Module):
    def forward(self, x):
        return self.conv(torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]), 1))


class Bottleneck(nn.Module):
    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C3(nn.Module):
    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPP(nn.Module):
    def forward(self, x):
        x = self.cv1(x)
        return self.cv2(torch.cat([x] + [m(x) for m in self.m], 1))


class SPPF(nn.Module):
    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    def forward(self, x):
        return torch.cat(x, self.d)


class GAM(nn.Module):
    """The seed recipe's forward, verbatim in behaviour."""

    def forward(self, x):
        b, c, h, w = x.shape
        x_permute = x.permute(0, 2, 3, 1).view(b, -1, c)
        x_att_permute = self.channel_attention(x_permute).view(b, h, w, c)
        x_channel_att = x_att_permute.permute(0, 3, 1, 2)
        x = x * x_channel_att
        x_spatial_att = self.spatial_attention(x).sigmoid()
        x_spatial_att = _channel_shuffle(x_spatial_att, 4)
        return x * x_spatial_att


class GAMAttention(GAM):
    pass


class GAM_Attention(nn.Module):  # noqa: N801
    """The attention collections' variant: sigmoid on the channel branch, no shuffle."""

    def forward(self, x):
        b, c, h, w = x.shape
        x_permute = x.permute(0, 2, 3, 1).view(b, -1, c)
        x_att_permute = self.channel_attention(x_permute).view(b, h, w, c)
        x_channel_att = x_att_permute.permute(0, 3, 1, 2).sigmoid()
        x = x * x_channel_att
        x_spatial_att = self.spatial_attention(x).sigmoid()
        return x * x_spatial_att


class Detect(nn.Module):
    """ultralytics v7.0 Detect.forward (in-place sigmoid split, cached grids)."""

    stride = None
    dynamic = False
    export = False

    def forward(self, x):
        z = []
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                if self.dynamic or self.grid[i].shape[2:4] != x[i].shape[2:4]:
                    self.grid[i], self.anchor_grid[i] = self._make_grid(nx, ny, i)
                xy, wh, conf = x[i].sigmoid().split((2, 2, self.nc + 1), 4)
                xy = (xy * 2 + self.grid[i]) * self.stride[i]
                wh = (wh * 2) ** 2 * self.anchor_grid[i]
                y = torch.cat((xy, wh, conf), 4)
                z.append(y.view(bs, self.na * nx * ny, self.no))
        return x if self.training else (torch.cat(z, 1), x)

    def _make_grid(self, nx=20, ny=20, i=0):
        d = self.anchors[i].device
        t = self.anchors[i].dtype
        shape = 1, self.na, ny, nx, 2
        y, x = torch.arange(ny, device=d, dtype=t), torch.arange(nx, device=d, dtype=t)
        yv, xv = torch.meshgrid(y, x, indexing="ij")
        grid = torch.stack((xv, yv), 2).expand(shape) - 0.5
        anchor_grid = (self.anchors[i] * self.stride[i]).view((1, self.na, 1, 1, 2)).expand(shape)
        return grid, anchor_grid


class DetectionModel(nn.Module):
    def forward(self, x):
        y = []
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            x = m(x)
            y.append(x if m.i in self.save else None)
        return x


class Model(DetectionModel):
    """Older releases' name for DetectionModel."""


_COMMON = [Conv, Focus, Bottleneck, C3, SPP, SPPF, Concat, GAM, GAMAttention, GAM_Attention]
_YOLO = [Detect, DetectionModel, Model]


@contextlib.contextmanager
def ultralytics_modules(extra_common: dict[str, type] | None = None) -> Iterator[None]:
    """Make ``models.common`` / ``models.yolo`` importable (for pickling) only inside the block."""
    saved = {k: sys.modules.get(k) for k in ("models", "models.common", "models.yolo")}
    pkg = types.ModuleType("models")
    pkg.__path__ = []  # type: ignore[attr-defined]
    mc, my = types.ModuleType("models.common"), types.ModuleType("models.yolo")
    for cls in _COMMON + list((extra_common or {}).values()):
        cls.__module__ = "models.common"
        cls.__qualname__ = cls.__name__  # test-local classes pickle by their plain name
        setattr(mc, cls.__name__, cls)
    for cls in _YOLO:
        cls.__module__ = "models.yolo"
        setattr(my, cls.__name__, cls)
    pkg.common, pkg.yolo = mc, my  # type: ignore[attr-defined]
    sys.modules.update({"models": pkg, "models.common": mc, "models.yolo": my})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


_MAP = {
    gcommon.Conv: Conv, gcommon.Focus: Focus, gcommon.Bottleneck: Bottleneck, gcommon.C3: C3,
    gcommon.SPP: SPP, gcommon.SPPF: SPPF, gcommon.Concat: Concat, ggam.GAM: GAM, ggam.GAMAttention: GAMAttention,
    ggam.GAM_Attention: GAM_Attention, gyolo.Detect: Detect, gyolo.DetectionModel: DetectionModel,
}


def to_ultralytics(model: gyolo.DetectionModel, legacy_name: bool = False,
                   class_override: dict[type, type] | None = None) -> nn.Module:
    """A deep copy of a gam-gui model whose modules are the ultralytics stand-in classes, with the
    attributes ultralytics sets (``grid``/``anchor_grid`` caches, ``inplace``, list ``names``)."""
    m = copy.deepcopy(model)
    mapping = dict(_MAP)
    mapping.update(class_override or {})
    if legacy_name:
        mapping[gyolo.DetectionModel] = Model
    for mod in m.modules():
        if type(mod) in mapping:
            mod.__class__ = mapping[type(mod)]
        if isinstance(mod, Detect):
            mod.inplace = True
        mod.__dict__.pop("variant", None)
    m.names = [m.names[i] for i in range(len(m.names))]
    m.nc = len(m.names)
    m.hyp = {"lr0": 0.01, "box": 0.05}
    m.class_weights = torch.ones(m.nc)
    return m


def write_yolov5_checkpoint(model: gyolo.DetectionModel, path: Path, stripped: bool = False,
                            legacy_name: bool = False, extra: dict | None = None,
                            class_override: dict[type, type] | None = None,
                            extra_common: dict[str, type] | None = None) -> nn.Module:
    """Write ``path`` as ultralytics ``train.py`` does (fp16 model and EMA, optimizer, opt, git, date);
    with ``stripped`` as ``strip_optimizer`` leaves it. Returns the fp32 stand-in model."""
    ul = to_ultralytics(model, legacy_name, class_override)
    with ultralytics_modules(extra_common):
        half = copy.deepcopy(ul).half()
        opt = torch.optim.SGD(ul.parameters(), lr=0.01, momentum=0.9)
        ckpt = {
            "epoch": -1 if stripped else 12,
            "best_fitness": None if stripped else 0.5,
            "model": half,
            "ema": None if stripped else copy.deepcopy(half),
            "updates": None if stripped else 1000,
            "optimizer": None if stripped else opt.state_dict(),
            "opt": {"weights": "", "cfg": "models/yolov5n_GAM.yaml", "epochs": 100, "imgsz": 640},
            "git": {"remote": "https://github.com/ultralytics/yolov5", "branch": "master", "commit": "abc"},
            "date": "2026-11-26T00:00:00",
        }
        if stripped:
            for p in half.parameters():
                p.requires_grad = False
        ckpt.update(extra or {})
        torch.save(ckpt, path)
    return ul.float().eval()
