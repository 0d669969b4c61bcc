"""Read checkpoints pickled by the ultralytics YOLOv5 and the YOLOv7 ``train.py`` without their code.

Those files pickle whole modules by class path (``models.yolo.DetectionModel``, ``models.common.C3``,
...). :func:`safe_globals` lists, for torch's ``weights_only`` unpickler, exactly which class paths may
appear and onto which of this package's classes each maps; the unpickler refuses everything else
before calling it. The classes here share the ultralytics attribute layout, so the restored
``__dict__`` works with this package's ``forward`` methods.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from gam_gui.models import common, gam, yolov7
from gam_gui.models import yolo as yolo_mod

LOGGER = logging.getLogger(__name__)

# Class paths in ultralytics / YOLOv7 pickles -> this package's classes.
_COMMON = {
    "Conv": common.Conv,
    "Focus": common.Focus,
    "Bottleneck": common.Bottleneck,
    "C3": common.C3,
    "SPP": common.SPP,
    "SPPF": common.SPPF,
    "Concat": common.Concat,
    "GAM": gam.GAM,
    "GAMAttention": gam.GAMAttention,
    "GAM_Attention": gam.GAM_Attention,
}
_YOLO = {
    "DetectionModel": yolo_mod.DetectionModel,
    "Model": yolo_mod.DetectionModel,
    "Detect": yolo_mod.Detect,
}
# YOLOv7's own blocks (RepConv, SPPCSPC, MP, SP, ImplicitA/M, IDetect). Its Conv, Concat, Detect and
# Model share the YOLOv5 entries above: same class paths, same pickled attributes.
_COMMON.update(yolov7.COMMON_CLASSES)
_YOLO.update(yolov7.YOLO_CLASSES)
# torch.nn layers that YOLO checkpoints contain. Only module classes: no functions, nothing callable
# with side effects.
_TORCH_NN = (
    nn.Conv2d, nn.BatchNorm2d, nn.Linear, nn.Sequential, nn.ModuleList, nn.MaxPool2d, nn.Upsample,
    nn.Identity, nn.SiLU, nn.ReLU, nn.LeakyReLU, nn.Hardswish, nn.Sigmoid, nn.Mish, nn.ReLU6, nn.GELU,
    nn.Dropout, nn.AdaptiveAvgPool2d, nn.AvgPool2d, nn.ZeroPad2d, nn.ConvTranspose2d,
)
# Module paths the classes are found under in the various releases and forks.
_COMMON_MODULES = ("models.common",)
_YOLO_MODULES = ("models.yolo",)

# Extra mappings registered at run time (YOLOv7 blocks, user-declared GAM classes).
_EXTRA: dict[str, type] = {}


def register_class(path: str, cls: type) -> None:
    """Allow ``path`` in foreign pickles and map it onto ``cls`` (used by the YOLOv7 support)."""
    _EXTRA[path] = cls


def register_gam_class(path: str, variant: str) -> type[gam.GAM]:
    """Declare a GAM-like class the table does not know, e.g. ``models.common.MyGAM``, with the
    forward variant its code uses (see :data:`gam_gui.models.gam.VARIANTS`)."""
    if variant not in gam.VARIANTS:
        raise ValueError(f"unknown GAM variant {variant!r}; choose one of {', '.join(gam.VARIANTS)}")
    cls = type(path.rsplit(".", 1)[-1], (gam.GAM,), {"default_variant": variant, "__module__": gam.__name__})
    _EXTRA[path] = cls
    return cls


def allowed_classes() -> dict[str, type]:
    """Every class path a foreign checkpoint may name, with its target class."""
    out: dict[str, type] = {}
    for mod in _COMMON_MODULES:
        out.update({f"{mod}.{k}": v for k, v in _COMMON.items()})
    for mod in _YOLO_MODULES:
        out.update({f"{mod}.{k}": v for k, v in _YOLO.items()})
    out.update(_EXTRA)
    return out


def _numpy_globals() -> list[Any]:
    """numpy's array and scalar rebuilders, under the paths numpy 1.x and 2.x pickle them.

    ``train.py`` of YOLOv5 and YOLOv7 stores ``best_fitness`` as a numpy array, and YOLOv7's
    ``strip_optimizer`` keeps it, so every YOLOv7 ``best.pt`` has one. These four names only build
    arrays, dtypes and scalars from the data that follows; anything an object array holds still goes
    through the same restricted unpickler.
    """
    import numpy as np

    multiarray = getattr(np, "_core", None) or np.core
    multiarray = multiarray.multiarray
    out: list[Any] = [(np.ndarray, "numpy.ndarray"), (np.dtype, "numpy.dtype")]
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out += [(multiarray._reconstruct, f"{mod}._reconstruct"), (multiarray.scalar, f"{mod}.scalar")]
    # The unpickler only restores state into instances of allowed types, and a dtype's type is its
    # own class (numpy.dtypes.Float64DType ...): the bool and numeric ones, no object dtype.
    out += list(dict.fromkeys(type(np.dtype(c)) for c in "?bBhHiIlLqQefdg"))
    return out


def safe_globals() -> list[Any]:
    """The allowlist for ``torch.serialization.safe_globals``: ``(class, "pickled.path")`` pairs plus
    the torch.nn layer classes under their own names and numpy's array rebuilders."""
    return [(cls, path) for path, cls in allowed_classes().items()] + list(_TORCH_NN) + _numpy_globals()


class ForeignCheckpointError(ValueError):
    pass


def model_from_foreign(ckpt: Any, source: str) -> yolo_mod.DetectionModel:
    """Pick the model out of an ultralytics-style checkpoint dict and make it usable here."""
    from gam_gui.checkpoints import CheckpointError

    if isinstance(ckpt, nn.Module):
        model = ckpt
    elif isinstance(ckpt, dict):
        if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            raise CheckpointError(
                f"{source}: a bare state_dict (weights without the model description); gam-gui needs a "
                "checkpoint saved by YOLOv5/YOLOv7 train.py or by gam-gui itself"
            )
        model = ckpt.get("ema") if ckpt.get("ema") is not None else ckpt.get("model")
        if model is None:
            keys = ", ".join(map(str, list(ckpt)[:8]))
            raise CheckpointError(f"{source}: no 'model' or 'ema' entry (keys: {keys}); not a YOLO checkpoint")
    else:
        raise CheckpointError(f"{source}: holds a {type(ckpt).__name__}, not a YOLO checkpoint")
    if isinstance(model, dict) and model and all(isinstance(v, torch.Tensor) for v in model.values()):
        raise CheckpointError(f"{source}: its 'model' entry is a bare state_dict without the architecture")
    if not isinstance(model, yolo_mod.DetectionModel):
        raise CheckpointError(f"{source}: its model is a {type(model).__name__}, not a YOLO detection model")
    problems = _repair(model)
    if problems:
        raise CheckpointError(f"{source}: the pickled model is incomplete: {problems}")
    return model


def _repair(model: yolo_mod.DetectionModel) -> str:
    """Fill in what older or foreign pickles lack; return a description of what cannot be fixed."""
    seq = model.__dict__.get("_modules", {}).get("model")
    if not isinstance(seq, nn.Sequential) or not len(seq):
        return "no layer list"
    for i, m in enumerate(seq):
        if not hasattr(m, "f") or not hasattr(m, "i"):
            return f"layer {i} has no 'from' index"
    if "save" not in model.__dict__:
        model.save = sorted({x % m.i for m in seq for x in ([m.f] if isinstance(m.f, int) else m.f) if x != -1})
    det = seq[-1]
    if not isinstance(det, nn.Module) or not hasattr(det, "anchors") or getattr(det, "stride", None) is None:
        return "its last layer is not a detection head with anchors and strides"
    det.stride = torch.as_tensor(det.stride, dtype=torch.float32)
    if not isinstance(model.__dict__.get("stride"), torch.Tensor):
        model.stride = det.stride
    if not isinstance(model.__dict__.get("yaml"), dict):
        model.yaml = {}
    names = model.__dict__.get("names")
    if isinstance(names, (list, tuple)):
        model.names = dict(enumerate(map(str, names)))
    elif not isinstance(names, dict):
        model.names = {i: str(i) for i in range(int(det.nc))}
    for m in model.modules():
        if isinstance(m, nn.Upsample) and not hasattr(m, "recompute_scale_factor"):
            m.recompute_scale_factor = None  # pickled by torch < 1.11
    return ""
