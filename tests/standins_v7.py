"""Stand-ins for the WongKinYiu/yolov7 ``models`` package, to write real-format YOLOv7 checkpoints in tests.

The yolov7 repo is not installed (and must not be needed). These classes carry its class paths
(``models.common.RepConv``, ``models.yolo.IDetect``, ``models.yolo.Model``, ...) and attribute layout,
and their ``forward`` methods follow the YOLOv7 code: IDetect writes its decoded boxes into slices of
the sigmoid output and caches grids, activations are in place (YOLOv7's ``initialize_weights`` sets
``inplace=True`` on LeakyReLU), ``Model.forward`` returns ``(pred, raw)`` in eval mode, and
``fuse`` does what ``attempt_load`` does (Conv+BN folding, RepConv re-parameterisation, folding the
implicit layers into IDetect's convs). A test compares what YOLOv7 would compute for a file with what
gam-gui computes after loading it.

Also here: the stock YOLOv7 and YOLOv7x training model dicts, generated from their repeating
structure (ELAN blocks, MP down-sampling), for parameter-count checks of the builder.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gam_gui.models import common as gcommon
from gam_gui.models import gam as ggam
from gam_gui.models import yolov5 as gyolo
from gam_gui.models import yolov7 as gv7

# --------------------------------------------------------------------------------------------------
# models.common


def fuse_conv_and_bn(conv, bn):
    """utils/torch_utils.py of YOLOv7."""
    fusedconv = nn.Conv2d(conv.in_channels, conv.out_channels, kernel_size=conv.kernel_size, stride=conv.stride,
                          padding=conv.padding, groups=conv.groups, bias=True).requires_grad_(False)
    w_conv = conv.weight.clone().view(conv.out_channels, -1)
    w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps + bn.running_var)))
    fusedconv.weight.copy_(torch.mm(w_bn, w_conv).view(fusedconv.weight.shape))
    b_conv = torch.zeros(conv.weight.size(0)) if conv.bias is None else conv.bias
    b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(torch.sqrt(bn.running_var + bn.eps))
    fusedconv.bias.copy_(torch.mm(w_bn, b_conv.reshape(-1, 1)).reshape(-1) + b_bn)
    return fusedconv


class Conv(nn.Module):
    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def fuseforward(self, x):
        return self.act(self.conv(x))


class Concat(nn.Module):
    def forward(self, x):
        return torch.cat(x, self.d)


class MP(nn.Module):
    def forward(self, x):
        return self.m(x)


class SP(nn.Module):
    def forward(self, x):
        return self.m(x)


class SPPCSPC(nn.Module):
    def forward(self, x):
        x1 = self.cv4(self.cv3(self.cv1(x)))
        y1 = self.cv6(self.cv5(torch.cat([x1] + [m(x1) for m in self.m], 1)))
        y2 = self.cv2(x)
        return self.cv7(torch.cat((y1, y2), dim=1))


class RepConv(nn.Module):
    def forward(self, inputs):
        if hasattr(self, "rbr_reparam"):
            return self.act(self.rbr_reparam(inputs))
        if self.rbr_identity is None:
            id_out = 0
        else:
            id_out = self.rbr_identity(inputs)
        return self.act(self.rbr_dense(inputs) + self.rbr_1x1(inputs) + id_out)

    def fuse_conv_bn(self, conv, bn):
        std = (bn.running_var + bn.eps).sqrt()
        bias = bn.bias - bn.running_mean * bn.weight / std
        t = (bn.weight / std).reshape(-1, 1, 1, 1)
        weights = conv.weight * t
        conv = nn.Conv2d(in_channels=conv.in_channels, out_channels=conv.out_channels, kernel_size=conv.kernel_size,
                         stride=conv.stride, padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                         bias=True, padding_mode=conv.padding_mode)
        conv.weight = torch.nn.Parameter(weights)
        conv.bias = torch.nn.Parameter(bias)
        return conv

    def fuse_repvgg_block(self):
        if self.deploy:
            return
        self.rbr_dense = self.fuse_conv_bn(self.rbr_dense[0], self.rbr_dense[1])
        self.rbr_1x1 = self.fuse_conv_bn(self.rbr_1x1[0], self.rbr_1x1[1])
        rbr_1x1_bias = self.rbr_1x1.bias
        weight_1x1_expanded = torch.nn.functional.pad(self.rbr_1x1.weight, [1, 1, 1, 1])
        if isinstance(self.rbr_identity, nn.BatchNorm2d):
            identity_conv_1x1 = nn.Conv2d(self.in_channels, self.out_channels, kernel_size=1, stride=1, padding=0,
                                          groups=self.groups, bias=False)
            identity_conv_1x1.weight.data = identity_conv_1x1.weight.data.squeeze().squeeze()
            identity_conv_1x1.weight.data.fill_(0.0)
            identity_conv_1x1.weight.data.fill_diagonal_(1.0)
            identity_conv_1x1.weight.data = identity_conv_1x1.weight.data.unsqueeze(2).unsqueeze(3)
            identity_conv_1x1 = self.fuse_conv_bn(identity_conv_1x1, self.rbr_identity)
            bias_identity_expanded = identity_conv_1x1.bias
            weight_identity_expanded = torch.nn.functional.pad(identity_conv_1x1.weight, [1, 1, 1, 1])
        else:
            bias_identity_expanded = torch.nn.Parameter(torch.zeros_like(rbr_1x1_bias))
            weight_identity_expanded = torch.nn.Parameter(torch.zeros_like(weight_1x1_expanded))
        self.rbr_dense.weight = torch.nn.Parameter(self.rbr_dense.weight + weight_1x1_expanded
                                                   + weight_identity_expanded)
        self.rbr_dense.bias = torch.nn.Parameter(self.rbr_dense.bias + rbr_1x1_bias + bias_identity_expanded)
        self.rbr_reparam = self.rbr_dense
        self.deploy = True
        if self.rbr_identity is not None:
            del self.rbr_identity
            self.rbr_identity = None
        if self.rbr_1x1 is not None:
            del self.rbr_1x1
            self.rbr_1x1 = None
        if self.rbr_dense is not None:
            del self.rbr_dense
            self.rbr_dense = None


class ImplicitA(nn.Module):
    def forward(self, x):
        return self.implicit + x


class ImplicitM(nn.Module):
    def forward(self, x):
        return self.implicit * x


def _channel_shuffle(x, groups):
    b, c, h, w = x.shape
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class GAM(nn.Module):
    """The seed recipe's GAM forward, as a user adds it to YOLOv7's models/common.py."""

    def forward(self, x):
        b, c, h, w = x.shape
        x_permute = x.permute(0, 2, 3, 1).view(b, -1, c)
        x_att_permute = self.channel_attention(x_permute).view(b, h, w, c)
        x_channel_att = x_att_permute.permute(0, 3, 1, 2)
        x = x * x_channel_att
        x_spatial_att = self.spatial_attention(x).sigmoid()
        x_spatial_att = _channel_shuffle(x_spatial_att, 4)
        return x * x_spatial_att


# --------------------------------------------------------------------------------------------------
# models.yolo


class Detect(nn.Module):
    """YOLOv7 Detect.forward: in-place decoding into the sigmoid output, cached grids."""

    stride = None
    export = False
    end2end = False
    include_nms = False
    concat = False

    def forward(self, x):
        z = []
        self.training |= self.export
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                if self.grid[i].shape[2:4] != x[i].shape[2:4]:
                    self.grid[i] = self._make_grid(nx, ny).to(x[i].device)
                y = x[i].sigmoid()
                y[..., 0:2] = (y[..., 0:2] * 2.0 - 0.5 + self.grid[i]) * self.stride[i]
                y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * self.anchor_grid[i]
                z.append(y.view(bs, -1, self.no))
        return x if self.training else (torch.cat(z, 1), x)

    @staticmethod
    def _make_grid(nx=20, ny=20):
        yv, xv = torch.meshgrid([torch.arange(ny), torch.arange(nx)], indexing="ij")
        return torch.stack((xv, yv), 2).view((1, 1, ny, nx, 2)).float()


class IDetect(Detect):
    """YOLOv7 IDetect: ImplicitA before, ImplicitM after each conv; ``fuse`` folds them in."""

    def forward(self, x):
        z = []
        self.training |= self.export
        for i in range(self.nl):
            x[i] = self.m[i](self.ia[i](x[i]))
            x[i] = self.im[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                if self.grid[i].shape[2:4] != x[i].shape[2:4]:
                    self.grid[i] = self._make_grid(nx, ny).to(x[i].device)
                y = x[i].sigmoid()
                y[..., 0:2] = (y[..., 0:2] * 2.0 - 0.5 + self.grid[i]) * self.stride[i]
                y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * self.anchor_grid[i]
                z.append(y.view(bs, -1, self.no))
        return x if self.training else (torch.cat(z, 1), x)

    def fuseforward(self, x):
        return Detect.forward(self, x)

    def fuse(self):
        for i in range(len(self.m)):
            c1, c2, _, _ = self.m[i].weight.shape
            c1_, c2_, _, _ = self.ia[i].implicit.shape
            self.m[i].bias += torch.matmul(self.m[i].weight.reshape(c1, c2),
                                           self.ia[i].implicit.reshape(c2_, c1_)).squeeze(1)
        for i in range(len(self.m)):
            c1, c2, _, _ = self.im[i].implicit.shape
            self.m[i].bias *= self.im[i].implicit.reshape(c2)
            self.m[i].weight *= self.im[i].implicit.transpose(0, 1)


class Model(nn.Module):
    def forward(self, x, augment=False, profile=False):
        return self.forward_once(x)

    def forward_once(self, x):
        y = []
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            if not hasattr(self, "traced"):
                self.traced = False
            if self.traced and isinstance(m, (Detect, IDetect)):
                break
            x = m(x)
            y.append(x if m.i in self.save else None)
        return x

    @torch.no_grad()
    def fuse(self):
        """Model.fuse of YOLOv7, as ``attempt_load`` calls it."""
        for m in self.model.modules():
            if isinstance(m, RepConv):
                m.fuse_repvgg_block()
            elif type(m) is Conv and hasattr(m, "bn"):
                m.conv = fuse_conv_and_bn(m.conv, m.bn)
                delattr(m, "bn")
                m.forward = m.fuseforward
            elif isinstance(m, IDetect):
                m.fuse()
                m.forward = m.fuseforward
        return self


_COMMON = [Conv, Concat, MP, SP, SPPCSPC, RepConv, ImplicitA, ImplicitM, GAM]
_YOLO = [Detect, IDetect, Model]


@contextlib.contextmanager
def yolov7_modules() -> Iterator[None]:
    """Make ``models.common`` / ``models.yolo`` importable (for pickling) only inside the block."""
    saved = {k: sys.modules.get(k) for k in ("models", "models.common", "models.yolo")}
    saved_names = {cls: cls.__module__ for cls in _COMMON + _YOLO}
    pkg = types.ModuleType("models")
    pkg.__path__ = []  # type: ignore[attr-defined]
    mc, my = types.ModuleType("models.common"), types.ModuleType("models.yolo")
    for mod, classes in ((mc, _COMMON), (my, _YOLO)):
        for cls in classes:
            cls.__module__ = mod.__name__
            setattr(mod, cls.__name__, cls)
    pkg.common, pkg.yolo = mc, my  # type: ignore[attr-defined]
    sys.modules.update({"models": pkg, "models.common": mc, "models.yolo": my})
    try:
        yield
    finally:
        for cls, name in saved_names.items():
            cls.__module__ = name
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


_MAP = {
    gcommon.Conv: Conv, gcommon.Concat: Concat, gv7.MP: MP, gv7.SP: SP, gv7.SPPCSPC: SPPCSPC,
    gv7.RepConv: RepConv, gv7.ImplicitA: ImplicitA, gv7.ImplicitM: ImplicitM, ggam.GAM: GAM,
    gv7.IDetect: IDetect, gv7.DetectV7: Detect, gyolo.DetectionModel: Model,
}


def to_yolov7(model: gyolo.DetectionModel) -> nn.Module:
    """A deep copy of a gam-gui model built from a YOLOv7 YAML whose modules are the YOLOv7 stand-in
    classes, with the attributes YOLOv7's ``Model`` and ``train.py`` set."""
    m = copy.deepcopy(model)
    for mod in m.modules():
        cls = _MAP.get(type(mod))
        if cls is None and type(mod).__module__.startswith("gam_gui"):
            raise TypeError(f"no YOLOv7 stand-in for {type(mod).__name__}")
        if cls is not None:
            mod.__class__ = cls
        if isinstance(mod, Detect):
            mod.__dict__.pop("inplace", None)
            mod.grid = [torch.zeros(1)] * mod.nl
        if isinstance(mod, nn.LeakyReLU):
            mod.inplace = True  # YOLOv7's initialize_weights
        mod.__dict__.pop("variant", None)
    m.traced = False
    m.yaml_file = "yolov7-tiny_GAM.yaml"
    m.names = [m.names[i] for i in range(len(m.names))]
    m.nc = len(m.names)
    m.hyp = {"lr0": 0.01, "box": 0.05, "anchor_t": 4.0}
    m.gr = 1.0
    m.class_weights = torch.ones(m.nc)
    return m


def write_yolov7_checkpoint(model: gyolo.DetectionModel, path: Path, stripped: bool = False,
                            extra: dict | None = None, model_extra: dict | None = None) -> nn.Module:
    """Write ``path`` as YOLOv7's ``train.py`` does (fp16 model and EMA, optimizer, results text,
    numpy ``best_fitness``); with ``stripped`` as its ``strip_optimizer`` leaves it (EMA moved to
    ``model``, ``best_fitness`` kept). ``model_extra`` sets attributes on the pickled model.

    Returns the YOLOv7 stand-in model with the file's fp16 weights cast to fp32, in eval mode: the
    reference for what YOLOv7 computes from the file."""
    v7 = to_yolov7(model)
    for k, v in (model_extra or {}).items():
        setattr(v7, k, v)
    with yolov7_modules():
        half = copy.deepcopy(v7).half()
        opt = torch.optim.SGD(v7.parameters(), lr=0.01, momentum=0.937, nesterov=True)
        ckpt = {
            "epoch": 41,
            "best_fitness": np.array([0.6125]),
            "training_results": "   41/299     3.1G   0.0412   0.0213  0.00512  0.0678  ...\n",
            "model": half,
            "ema": copy.deepcopy(half),
            "updates": 12345,
            "optimizer": opt.state_dict(),
            "wandb_id": None,
        }
        if stripped:
            ckpt["model"] = ckpt["ema"]
            for k in ("optimizer", "training_results", "wandb_id", "ema", "updates"):
                ckpt[k] = None
            ckpt["epoch"] = -1
            for p in ckpt["model"].parameters():
                p.requires_grad = False
        ckpt.update(extra or {})
        torch.save(ckpt, path)
    return copy.deepcopy(half).float().eval()


def yolov7_fused(reference: nn.Module) -> nn.Module:
    """What YOLOv7's ``attempt_load`` makes of the file: fused, eval mode (a copy)."""
    return copy.deepcopy(reference).fuse().eval()


# --------------------------------------------------------------------------------------------------
# Stock YOLOv7 / YOLOv7x model dicts (cfg/training/yolov7.yaml, yolov7x.yaml), generated.

_ANCHORS_V7 = [[12, 16, 19, 36, 40, 28], [36, 75, 76, 55, 72, 146], [142, 110, 192, 243, 459, 401]]


def _conv(f, c, k=1, s=1):
    return [f, 1, "Conv", [c, k, s]]


def _elan(c_, out, n3, cat):
    """Two 1x1 branches, a chain of ``n3`` 3x3 convs, concat of ``cat``, 1x1 out."""
    return [_conv(-1, c_), _conv(-2, c_)] + [_conv(-1, c_, 3)] * n3 + [[cat, 1, "Concat", [1]], _conv(-1, out)]


def _elan_head(c1, c2, out, n3, cat):
    return [_conv(-1, c1), _conv(-2, c1)] + [_conv(-1, c2, 3)] * n3 + [[cat, 1, "Concat", [1]], _conv(-1, out)]


def _mp(c, extra=()):
    return [[-1, 1, "MP", []], _conv(-1, c), _conv(-3, c), _conv(-1, c, 3, 2), [[-1, -3, *extra], 1, "Concat", [1]]]


def yolov7_dict(nc: int = 80, head: str = "IDetect") -> dict:
    """cfg/training/yolov7.yaml (``head="Detect"``: cfg/deploy/yolov7.yaml)."""
    cat = [-1, -3, -5, -6]
    cat_h = [-1, -2, -3, -4, -5, -6]
    backbone = [_conv(-1, 32, 3), _conv(-1, 64, 3, 2), _conv(-1, 64, 3), _conv(-1, 128, 3, 2)]
    backbone += _elan(64, 256, 4, cat)  # 11
    backbone += _mp(128) + _elan(128, 512, 4, cat)  # 24
    backbone += _mp(256) + _elan(256, 1024, 4, cat)  # 37
    backbone += _mp(512) + _elan(256, 1024, 4, cat)  # 50
    up = [-1, 1, "nn.Upsample", [None, 2, "nearest"]]
    h = [[-1, 1, "SPPCSPC", [512]]]  # 51
    h += [_conv(-1, 256), up, _conv(37, 256), [[-1, -2], 1, "Concat", [1]]] + _elan_head(256, 128, 256, 4, cat_h)
    h += [_conv(-1, 128), up, _conv(24, 128), [[-1, -2], 1, "Concat", [1]]] + _elan_head(128, 64, 128, 4, cat_h)
    h += _mp(128, (63,)) + _elan_head(256, 128, 256, 4, cat_h)  # 88
    h += _mp(256, (51,)) + _elan_head(512, 256, 512, 4, cat_h)  # 101
    h += [[75, 1, "RepConv", [256, 3, 1]], [88, 1, "RepConv", [512, 3, 1]], [101, 1, "RepConv", [1024, 3, 1]]]
    h += [[[102, 103, 104], 1, head, ["nc", "anchors"]]]
    return {"nc": nc, "depth_multiple": 1.0, "width_multiple": 1.0, "anchors": _ANCHORS_V7,
            "backbone": backbone, "head": h}


def yolov7x_dict(nc: int = 80) -> dict:
    """cfg/training/yolov7x.yaml."""
    cat = [-1, -3, -5, -7, -8]
    backbone = [_conv(-1, 40, 3), _conv(-1, 80, 3, 2), _conv(-1, 80, 3), _conv(-1, 160, 3, 2)]
    backbone += _elan(64, 320, 6, cat)  # 13
    backbone += _mp(160) + _elan(128, 640, 6, cat)  # 28
    backbone += _mp(320) + _elan(256, 1280, 6, cat)  # 43
    backbone += _mp(640) + _elan(256, 1280, 6, cat)  # 58
    up = [-1, 1, "nn.Upsample", [None, 2, "nearest"]]
    h = [[-1, 1, "SPPCSPC", [640]]]  # 59
    h += [_conv(-1, 320), up, _conv(43, 320), [[-1, -2], 1, "Concat", [1]]] + _elan_head(256, 256, 320, 6, cat)
    h += [_conv(-1, 160), up, _conv(28, 160), [[-1, -2], 1, "Concat", [1]]] + _elan_head(128, 128, 160, 6, cat)
    h += _mp(160, (73,)) + _elan_head(256, 256, 320, 6, cat)  # 102
    h += _mp(320, (59,)) + _elan_head(512, 512, 640, 6, cat)  # 117
    h += [_conv(87, 320, 3), _conv(102, 640, 3), _conv(117, 1280, 3)]
    h += [[[118, 119, 120], 1, "IDetect", ["nc", "anchors"]]]
    return {"nc": nc, "depth_multiple": 1.0, "width_multiple": 1.0, "anchors": _ANCHORS_V7,
            "backbone": backbone, "head": h}
