"""Stand-ins for the ``ultralytics`` package (YOLOv8 / YOLO11), to write real-format checkpoints in tests.

The package is not installed (and must not be needed). These classes carry its class paths
(``ultralytics.nn.tasks.DetectionModel``, ``ultralytics.nn.modules.block.C2f``, ...) and the attribute
layout its trainer pickles, checked against files written by ultralytics 8.3.253; their ``forward``
methods follow the package's code (the head caches its anchors on itself, as the package does), so a
test can compare what the package computes with what gam-gui computes after loading the pickle.

:func:`seed_weights` fills a model's state_dict from a seeded generator in key order: the package and
gam-gui build the same keys in the same order, so both get the same weights, which is how
``tests/data/v8_reference.pt`` was computed with the real package (see tests/loading/test_yolov8.py).
"""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import standins
import torch
from torch import nn

from gam_gui.models import common as gcommon
from gam_gui.models import gam as ggam
from gam_gui.models import yolov5 as gyolo
from gam_gui.models import yolov8 as gv8


def seed_weights(model: nn.Module, seed: int = 0) -> None:
    """Every floating state_dict entry from one seeded generator, in key order, with plausible ranges
    (weights +-1/sqrt(fan_in), BN scales near 1, variances in [0.5, 1.5)); the DFL's fixed bins stay."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if not v.is_floating_point() or k.endswith("dfl.conv.weight"):
                continue
            r = torch.rand(v.shape, generator=g, dtype=torch.float32)
            if k.endswith("running_var"):
                v.copy_(0.5 + r)
            elif v.ndim > 1:
                v.copy_((r - 0.5) * 2 / math.sqrt(v[0].numel()))
            elif k.endswith(".weight"):
                v.copy_(0.75 + 0.5 * r)
            else:
                v.copy_((r - 0.5) * 0.2)


def reference_input() -> torch.Tensor:
    """The seeded 64 x 96 frame the committed reference outputs were computed on."""
    return torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))


# -- the package's classes, by the paths its trainer pickles them under ----------------------------------

def _make_anchors(feats, strides, offset=0.5):
    points, stride_tensor = [], []
    for i, f in enumerate(feats):
        h, w = f.shape[2:]
        sx = torch.arange(w, dtype=f.dtype) + offset
        sy = torch.arange(h, dtype=f.dtype) + offset
        sy, sx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        stride_tensor.append(torch.full((h * w, 1), strides[i], dtype=f.dtype))
    return torch.cat(points), torch.cat(stride_tensor)


def _dist2bbox(distance, anchor_points, dim=1):
    lt, rb = distance.chunk(2, dim)
    x1y1, x2y2 = anchor_points - lt, anchor_points + rb
    return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)


def _shuffle(x, groups):
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous().view(b, -1, h, w)


class Conv(nn.Module):
    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class DWConv(Conv):
    pass


class Concat(nn.Module):
    def forward(self, x):
        return torch.cat(x, self.d)


class Bottleneck(nn.Module):
    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):
    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class C3k2(C2f):
    pass


class C3(nn.Module):
    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k(C3):
    pass


class SPPF(nn.Module):
    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Attention(nn.Module):
    def forward(self, x):
        B, C, H, W = x.shape
        N = H * W
        q, k, v = self.qkv(x).view(B, self.num_heads, self.key_dim * 2 + self.head_dim, N).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q * self.scale).transpose(-2, -1) @ k).softmax(dim=-1)
        x = (v @ attn.transpose(-2, -1)).view(B, C, H, W) + self.pe(v.reshape(B, C, H, W))
        return self.proj(x)


class PSABlock(nn.Module):
    def forward(self, x):
        x = x + self.attn(x) if self.add else self.attn(x)
        return x + self.ffn(x) if self.add else self.ffn(x)


class C2PSA(nn.Module):
    def forward(self, x):
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


class DFL(nn.Module):
    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


class Detect(nn.Module):
    """ultralytics 8.3 Detect.forward: anchors, strides and shape cached on the head."""

    dynamic = False
    export = False
    end2end = False
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)

    def forward(self, x):
        for i in range(self.nl):
            x[i] = torch.cat((self.cv2[i](x[i]), self.cv3[i](x[i])), 1)
        if self.training:
            return x
        shape = x[0].shape
        x_cat = torch.cat([xi.view(shape[0], self.no, -1) for xi in x], 2)
        if self.dynamic or self.shape != shape:
            self.anchors, self.strides = (a.transpose(0, 1) for a in _make_anchors(x, self.stride, 0.5))
            self.shape = shape
        box, cls = x_cat.split((self.reg_max * 4, self.nc), 1)
        dbox = _dist2bbox(self.dfl(box), self.anchors.unsqueeze(0), dim=1) * self.strides
        y = torch.cat((dbox, cls.sigmoid()), 1)
        return y, x


class DetectionModel(nn.Module):
    forward = standins.DetectionModel.forward  # the package's layer loop is the YOLOv5 repo's


class SeedGAM(nn.Module):
    """The blogs' ``GAM_Attention(c1, c2, group=True, rate=4)``: no channel sigmoid, shuffle."""

    def forward(self, x):
        b, c, h, w = x.shape
        att = self.channel_attention(x.permute(0, 2, 3, 1).view(b, -1, c)).view(b, h, w, c).permute(0, 3, 1, 2)
        x = x * att
        return x * _shuffle(self.spatial_attention(x).sigmoid(), 4)


class PaperGAM(nn.Module):
    """``GAM_Attention(in_channels, rate=4)``: sigmoid on the channel branch, no shuffle."""

    def forward(self, x):
        b, c, h, w = x.shape
        att = self.channel_attention(x.permute(0, 2, 3, 1).view(b, -1, c)).view(b, h, w, c).permute(0, 3, 1, 2)
        x = x * att.sigmoid()
        return x * self.spatial_attention(x).sigmoid()


class IterableSimpleNamespace(types.SimpleNamespace):
    """The trainer's ``args`` (pickled as a call of the class with no arguments, then its state)."""


class v8DetectionLoss:  # noqa: N801 - the package's class name
    """The trainer's loss object the EMA model keeps as ``criterion`` in a mid-training ``last.pt``."""


class BboxLoss(nn.Module):
    pass


class DFLoss(nn.Module):
    pass


class TaskAlignedAssigner(nn.Module):
    pass


_PATHS: dict[str, list[type]] = {
    "ultralytics.nn.tasks": [DetectionModel],
    "ultralytics.nn.modules.conv": [Conv, DWConv, Concat],
    "ultralytics.nn.modules.block": [Bottleneck, C2f, C3k2, C3, C3k, SPPF, Attention, PSABlock, C2PSA, DFL],
    "ultralytics.nn.modules.head": [Detect],
    "ultralytics.utils": [IterableSimpleNamespace],
    "ultralytics.utils.loss": [v8DetectionLoss, BboxLoss, DFLoss],
    "ultralytics.utils.tal": [TaskAlignedAssigner],
}
#: GAM naming schemes: (pickled module path, class name, forward).
SEED_BLOCK = ("ultralytics.nn.modules.block", "GAM_Attention", SeedGAM)
PAPER_EXTRA = ("ultralytics.nn.extra_modules.attention", "GAM_Attention", PaperGAM)
GAM_MODULE = ("ultralytics.nn.modules.GAM", "GAM", None)  # forward chosen by the block's structure


@contextlib.contextmanager
def package_modules(extra: dict[str, dict[str, object]] | None = None) -> Iterator[None]:
    """Make the ``ultralytics`` module paths importable (for pickling) only inside the block; ``extra``
    adds ``{module path: {name: object}}`` (GAM classes, hostile callables)."""
    table: dict[str, dict[str, object]] = {mod: {c.__name__: c for c in classes} for mod, classes in _PATHS.items()}
    for mod, objs in (extra or {}).items():
        table.setdefault(mod, {}).update(objs)
    names = set(table)
    for mod in list(names):
        parts = mod.split(".")
        names.update(".".join(parts[:i]) for i in range(1, len(parts)))
    saved = {k: sys.modules.get(k) for k in names}
    modules = {k: types.ModuleType(k) for k in sorted(names)}
    for k, m in modules.items():
        m.__path__ = []  # type: ignore[attr-defined]
        for name, obj in table.get(k, {}).items():
            if isinstance(obj, type) or callable(obj):
                obj.__module__ = k
                obj.__qualname__ = name
            setattr(m, name, obj)
    sys.modules.update(modules)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _gam_standin(scheme: tuple[str, str, type | None], structure_seed: bool) -> type:
    """A fresh class named and placed as ``scheme`` says, with the forward its structure implies."""
    _mod, name, forward_cls = scheme
    base = forward_cls or (SeedGAM if structure_seed else PaperGAM)
    return type(name, (base,), {})


_MAP = {
    gcommon.Conv: Conv, gv8.DWConv: DWConv, gcommon.Concat: Concat, gv8.Bottleneck: Bottleneck, gv8.C2f: C2f,
    gv8.C3k2: C3k2, gcommon.C3: C3, gv8.C3k: C3k, gv8.SPPF: SPPF, gv8.Attention: Attention,
    gv8.PSABlock: PSABlock, gv8.C2PSA: C2PSA, gv8.DFL: DFL, gv8.Detect: Detect, gyolo.DetectionModel: DetectionModel,
}


def to_package(model: gyolo.DetectionModel, gam_cls: type | None) -> nn.Module:
    """A deep copy of a gam-gui model whose modules are the package stand-ins, with the attributes the
    package's trainer leaves on them (names, args, end2end; the head's caches after one eval forward)."""
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, ggam.GAM):
            mod.__class__ = gam_cls
            mod.__dict__.pop("variant", None)
        elif type(mod) in _MAP:
            mod.__class__ = _MAP[type(mod)]
    for mod in m.modules():
        mod.__dict__.pop("variant_reason", None)
    m.__dict__.pop("variant_reason", None)
    m.names = {i: f"class{i}" for i in range(m.model[-1].nc)}
    m.nc = m.model[-1].nc
    m.end2end = False
    m.args = {"imgsz": 64, "task": "detect"}
    m.yaml = copy.deepcopy(dict(m.yaml, yaml_file="yolov8n-GAM.yaml"))
    for row in m.yaml["backbone"] + m.yaml["head"]:  # the user's YAML names their class
        if row[2] in ("GAM", "GAM_Attention", "GAMAttention"):
            row[2] = gam_cls.__name__
    m.eval()
    with torch.no_grad():
        m(torch.zeros(1, 3, 64, 64))  # fills the head's anchors/strides/shape caches, as validation does
    return m


def write_package_checkpoint(model: gyolo.DetectionModel, path: Path, *, stripped: bool = False,
                             gam: tuple[str, str, type | None] = SEED_BLOCK, extra: dict | None = None,
                             extra_modules: dict[str, dict[str, object]] | None = None) -> nn.Module:
    """Write ``path`` as the ultralytics 8.3 trainer does: mid-training (``ema`` holds the fp16 model with
    the trainer's ``args`` namespace and ``criterion``; optimizer, metrics, results) or, with ``stripped``,
    as ``strip_optimizer`` leaves it (fp16 ``model``, ``ema`` None, no gradients). Returns the fp32
    stand-in model, whose forward is the package's."""
    import numpy as np

    is_seed = any(m.spatial_attention[0].groups > 1 for m in model.modules() if isinstance(m, ggam.GAM))
    gam_cls = _gam_standin(gam, is_seed)
    mods = {gam[0]: {gam[1]: gam_cls}}
    for mod, objs in (extra_modules or {}).items():
        mods.setdefault(mod, {}).update(objs)
    pkg = to_package(model, gam_cls)
    with package_modules(mods):
        half = copy.deepcopy(pkg).half()
        meta = {"date": "2026-11-30T21:14:00", "version": "8.3.253", "license": "AGPL-3.0 License",
                "docs": "https://docs.ultralytics.com",
                "git": {"root": None, "branch": None, "commit": None, "origin": None}}
        train_args = {"task": "detect", "mode": "train", "model": "yolov8n-GAM.yaml", "epochs": 2, "imgsz": 64,
                      "device": "cpu", "amp": False, "lr0": 0.01, "save_period": -1, "plots": False}
        metrics = {"metrics/precision(B)": 0.0, "metrics/mAP50(B)": np.float64(0.0), "val/box_loss": 6.94421,
                   "fitness": 0.0}
        results = {"epoch": [1.0], "time": [3.2], "train/box_loss": [7.1]}
        if stripped:
            for p in half.parameters():
                p.requires_grad = False
            half.criterion = None
            ckpt = {**meta, "epoch": 1, "best_fitness": None, "model": half, "ema": None, "updates": None,
                    "optimizer": None, "scaler": None, "train_args": train_args, "train_metrics": metrics,
                    "train_results": results}
        else:
            half.args = IterableSimpleNamespace(**train_args)
            crit = v8DetectionLoss()
            crit.bce = nn.BCEWithLogitsLoss(reduction="none")
            crit.hyp = half.args
            crit.stride = half.stride
            crit.device = torch.device("cpu")
            crit.assigner = TaskAlignedAssigner()
            crit.bbox_loss = BboxLoss()
            crit.bbox_loss.dfl_loss = DFLoss()
            crit.proj = torch.arange(16, dtype=torch.float)
            half.criterion = crit
            opt = torch.optim.SGD(pkg.parameters(), lr=0.01, momentum=0.9)
            ckpt = {"epoch": 0, "best_fitness": 0.0, "model": None, "ema": half, "updates": 2,
                    "optimizer": opt.state_dict(), "scaler": {"scale": 65536.0}, "train_args": train_args,
                    "train_metrics": metrics, "train_results": results, **meta}
        ckpt.update(extra or {})
        torch.save(ckpt, path)
    return pkg.float().eval()
