"""Read checkpoints pickled by the ultralytics YOLOv5 and the YOLOv7 ``train.py``, and by the trainer of
the ``ultralytics`` package (YOLOv8, YOLO11), without their code.

Those files pickle whole modules by class path (``models.yolo.DetectionModel``, ``models.common.C3``,
``ultralytics.nn.modules.block.C2f``, ...). :func:`safe_globals` lists, for torch's ``weights_only``
unpickler, exactly which class paths may appear and onto which of this package's classes each maps; the
unpickler refuses everything else before calling it. The classes here share the ultralytics attribute
layout, so the restored ``__dict__`` works with this package's ``forward`` methods.
"""

from __future__ import annotations

import argparse
import functools
import logging
import re
from typing import Any

import torch
from torch import nn

from gam_gui.checkpoints.counts import check_counts
from gam_gui.checkpoints.errors import CheckpointError, names_dict, short_repr
from gam_gui.checkpoints.limits import DEFAULT_RUN_SIZE, clean_meta, derive_strides
from gam_gui.checkpoints.tree import check_module_tree
from gam_gui.models import attention, common, gam, yolov7
from gam_gui.models import yolov5 as yolo_mod
from gam_gui.models import yolov8 as v8

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
    # inside the registry's attention blocks (ECA, CBAM, EMA, ShuffleAttention, SKAttention)
    nn.Conv1d, nn.AdaptiveMaxPool2d, nn.GroupNorm, nn.Softmax,
)
# Module paths the classes are found under in the various releases and forks.
_COMMON_MODULES = ("models.common",)
_YOLO_MODULES = ("models.yolo",)

# The ``ultralytics`` package (8.x): its DetectionModel and the blocks of the YOLOv8 / YOLO11 detection
# YAMLs, under the module paths its releases pickle them with (8.0.x had one ``ultralytics.nn.modules``).
_PACKAGE_BLOCKS: dict[str, type] = {
    "Conv": common.Conv, "DWConv": v8.DWConv, "Concat": common.Concat, "Bottleneck": v8.Bottleneck,
    "C2f": v8.C2f, "C3": common.C3, "C3k": v8.C3k, "C3k2": v8.C3k2, "SPPF": v8.SPPF, "C2PSA": v8.C2PSA,
    "PSABlock": v8.PSABlock, "Attention": v8.Attention, "DFL": v8.DFL, "Detect": v8.Detect,
}
_PACKAGE_MODULES = {"conv": ("Conv", "DWConv", "Concat"),
                    "block": ("Bottleneck", "C2f", "C3", "C3k", "C3k2", "SPPF", "C2PSA", "PSABlock", "Attention",
                              "DFL"),
                    "head": ("Detect",)}
_PACKAGE: dict[str, type] = {"ultralytics.nn.tasks.DetectionModel": yolo_mod.DetectionModel}
for _mod, _names in _PACKAGE_MODULES.items():
    for _name in _names:
        _PACKAGE[f"ultralytics.nn.modules.{_mod}.{_name}"] = _PACKAGE_BLOCKS[_name]
        _PACKAGE[f"ultralytics.nn.modules.{_name}"] = _PACKAGE_BLOCKS[_name]


class TrainerData:
    """What the package's trainer pickles beside the weights and gam-gui never uses: the model's
    ``args`` (an ``IterableSimpleNamespace``) and ``criterion`` (the loss object with its assigner).

    Restored only as an empty placeholder: the unpickler may create one (with no arguments) and hands
    it its state, which is dropped unread; it has no behaviour, and the loader removes it from the model.
    """

    def __setstate__(self, state: Any) -> None:
        """Drop the state: nothing in it is needed, so nothing in it is kept."""


#: Exact class paths restored as :class:`TrainerData` (found in real ``last.pt`` files of ultralytics
#: 8.3: the EMA model keeps the trainer's ``args`` and ``criterion``). Nothing else under
#: ``ultralytics.utils`` is accepted.
TRAINER_DATA_PATHS: frozenset[str] = frozenset({
    "ultralytics.utils.IterableSimpleNamespace", "ultralytics.utils.loss.v8DetectionLoss",
    "ultralytics.utils.loss.BboxLoss", "ultralytics.utils.loss.DFLoss", "ultralytics.utils.tal.TaskAlignedAssigner",
    "torch.nn.modules.loss.BCEWithLogitsLoss",
})
_TRAINER_DATA: dict[str, type] = {
    path: type(path.rsplit(".", 1)[-1], (TrainerData,), {"__module__": __name__}) for path in sorted(TRAINER_DATA_PATHS)
}

#: The names users give the GAM class they paste into the package (anywhere under ``ultralytics.nn``).
PACKAGE_GAM_NAMES = ("GAM", "GAM_Attention", "GAMAttention")
_PACKAGE_GAM_RE = re.compile(rb"c(ultralytics\.nn(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,6})\n(" +
                             b"|".join(n.encode() for n in PACKAGE_GAM_NAMES) + rb")\n")


class PackageGAM(gam.GAM):
    """A GAM block pasted into the ``ultralytics`` package. The same names mean different forwards there
    (``GAM_Attention(c1, c2, group=True, rate=4)`` of the blogs is the seed's, ``GAM_Attention(in_channels,
    rate=4)`` the paper's), so the loader decides the variant from the block's structure
    (:func:`infer_package_gam_variant`) instead of from the name."""


@functools.lru_cache(maxsize=64)
def _package_gam_class(name: str) -> type[PackageGAM]:
    return type(name, (PackageGAM,), {"__module__": __name__})


def package_gam_paths(pickle: bytes) -> dict[str, type]:
    """The GAM classes a pickle names under ``ultralytics.nn`` (GLOBAL opcodes with one of the known
    names), each mapped onto a :class:`PackageGAM`. Matching the opcode pattern anywhere in the bytes can
    only add a mapping onto this inert layer class, which the scanner still only lets the file create
    empty and fill with state."""
    out: dict[str, type] = {}
    for m in _PACKAGE_GAM_RE.finditer(pickle):
        if len(out) >= 16:
            break
        module, name = m.group(1).decode("ascii"), m.group(2).decode("ascii")
        out[f"{module}.{name}"] = _package_gam_class(name)
    return out


def infer_package_gam_variant(block: gam.GAM) -> tuple[str, str]:
    """(variant, reason) of a package GAM block from its structure: grouped 7x7 spatial convs are the
    seed's recipe (no channel sigmoid, channel shuffle), ungrouped ones the paper's (sigmoid, no shuffle)."""
    spatial = block._modules.get("spatial_attention")
    first = spatial[0] if isinstance(spatial, nn.Sequential) and len(spatial) else None
    name = type(block).__name__
    if not isinstance(first, nn.Conv2d):
        return "paper", f"{name}: its spatial branch does not start with a conv; assumed the paper's forward"
    if first.groups > 1:
        return "seed", (f"{name}: grouped 7x7 spatial convs (groups={first.groups}) are the seed's recipe: "
                        "no sigmoid on the channel branch, channel shuffle")
    return "paper", f"{name}: ungrouped spatial convs are the paper's GAM: sigmoid on the channel branch, no shuffle"


# Extra mappings registered at run time (user-declared GAM classes).
_EXTRA: dict[str, type] = {}


def register_gam_class(path: str, variant: str) -> type[gam.GAM]:
    """Declare a GAM-like class the table does not know, e.g. ``models.common.MyGAM``, with the
    forward variant its code uses (see :data:`gam_gui.models.gam.VARIANTS`)."""
    if variant not in gam.VARIANTS:
        raise ValueError(f"unknown GAM variant {variant!r}; choose one of {', '.join(gam.VARIANTS)}")
    cls = type(path.rsplit(".", 1)[-1], (gam.GAM,), {"default_variant": variant, "__module__": gam.__name__})
    _EXTRA[path] = cls
    return cls


def allowed_classes(extra: dict[str, type] | None = None) -> dict[str, type]:
    """Every class path a foreign checkpoint may name, with its target class; ``extra`` adds the
    per-file ones (:func:`package_gam_paths`)."""
    out: dict[str, type] = {}
    for mod in _COMMON_MODULES:
        out.update({f"{mod}.{k}": v for k, v in _COMMON.items()})
    for mod in _YOLO_MODULES:
        out.update({f"{mod}.{k}": v for k, v in _YOLO.items()})
    out.update(_PACKAGE)
    # the attention registry is the allowlist for attention blocks (gam_gui.models.attention)
    out.update({k: v for k, v in attention.class_paths().items() if k not in out})
    out.update(_TRAINER_DATA)
    out.update(_EXTRA)
    out.update(extra or {})
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


def module_class_paths(extra: dict[str, type] | None = None) -> frozenset[str]:
    """Pickle paths of the layer classes a checkpoint may create (empty, by NEWOBJ) and fill with state."""
    paths = set(allowed_classes(extra)) | {f"{cls.__module__}.{cls.__qualname__}" for cls in _TORCH_NN}
    return frozenset(paths)


def safe_globals(extra: dict[str, type] | None = None) -> list[Any]:
    """The allowlist for ``torch.serialization.safe_globals``: ``(class, "pickled.path")`` pairs plus
    the torch.nn layer classes under their own names and numpy's array rebuilders."""
    return [(cls, path) for path, cls in allowed_classes(extra).items()] + list(_TORCH_NN) + _numpy_globals()


def model_from_foreign(ckpt: Any, source: str) -> yolo_mod.DetectionModel:
    """Pick the model out of an ultralytics-style checkpoint dict and make it usable here."""
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
            keys = ", ".join(k[:40] if isinstance(k, str) else f"<{type(k).__name__}>" for k in list(ckpt)[:8])
            raise CheckpointError(f"{source}: no 'model' or 'ema' entry (keys: {keys}); not a YOLO checkpoint")
    else:
        raise CheckpointError(f"{source}: holds a {type(ckpt).__name__}, not a YOLO checkpoint")
    if isinstance(model, dict) and model and all(isinstance(v, torch.Tensor) for v in model.values()):
        raise CheckpointError(f"{source}: its 'model' entry is a bare state_dict without the architecture")
    if not isinstance(model, yolo_mod.DetectionModel):
        raise CheckpointError(f"{source}: its model is a {type(model).__name__}, not a YOLO detection model")
    for key, value in list(dict.items(model.__dict__)):
        if isinstance(value, TrainerData):  # the package trainer's args / criterion: never used here
            del model.__dict__[key]
    problem = check_module_tree(model)
    if problem:
        raise CheckpointError(f"{source}: the pickled model is malformed: {problem}", reason="structure")
    problems = _repair(model)
    if problems:
        raise CheckpointError(f"{source}: the pickled model is incomplete: {problems}", reason="structure")
    head = model.model[-1]
    if vars(head).get("end2end") or any(str(k).startswith("one2one") for k in dict.keys(vars(head)["_modules"])):
        raise CheckpointError(
            f"{source}: its detection head is end-to-end (one-to-one branches, no NMS, as in YOLOv10/YOLO26); "
            "gam-gui runs only one-to-many heads with NMS, which would give other detections than the model "
            "was trained to give", reason="end2end")
    problem = check_counts(model)  # before any forward: counts the forwards loop over must fit the weights
    if problem:
        raise CheckpointError(f"{source}: the pickled model is malformed: {problem}", reason="counts")
    # The strides come from the layers, not the file: a stored [8, 16, 4096] would choose the work size.
    det = model.model[-1]
    record_gam_variants(model)  # before the first forward: a GAM block runs the variant decided here
    check_attention_blocks(model, source)  # every registered block's tensors fit a declared structure
    strides = derive_strides(model, source, size=DEFAULT_RUN_SIZE)  # also the activation check at that size
    stored = det.stride
    if stored.shape != strides.shape or not torch.equal(stored, strides):
        raise CheckpointError(
            f"{source}: the pickled model is malformed: its detection head's strides {stored.tolist()[:8]} do not "
            f"match its layers ({strides.tolist()})", reason="stride", stored=stored.tolist()[:8],
            derived=strides.tolist())
    det.stride = strides
    model.stride = strides
    model.meta = clean_meta({"imgsz": training_size(ckpt)}, int(strides.max()), source) if training_size(ckpt) else {}
    return model


def training_size(ckpt: Any) -> Any:
    """The image size the file's trainer used, where it says: ultralytics' ``train_args.imgsz``,
    YOLOv5's ``opt.imgsz``, YOLOv7's ``opt.img_size`` (a [train, test] pair: the test size). ``yolo val``
    validates at that size, so eval runs at it too unless ``--imgsz`` says otherwise. Only a number (or
    a short list of numbers) is taken; :func:`clean_meta` bounds and rounds it."""
    if not isinstance(ckpt, dict):
        return None
    for key, field in (("train_args", "imgsz"), ("opt", "imgsz"), ("opt", "img_size")):
        args = ckpt.get(key)
        if isinstance(args, argparse.Namespace):
            args = vars(args)
        if isinstance(args, dict) and field in args:
            v = args[field]
            if isinstance(v, (list, tuple)) and 1 <= len(v) <= 2:
                v = v[-1]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return v
    return None


#: ``variant_reason`` of a model lists this many GAM blocks, then says how many more there are.
MAX_REASON_BLOCKS = 32


def record_gam_variants(model: nn.Module) -> None:
    """Give every GAM block a ``variant_reason`` (why it runs the forward it runs) and the model a
    one-line ``variant_reason`` summary, deciding the variant of package GAM blocks from their structure.

    Blocks of the YOLOv5-era class paths keep the variant their class name implies (the name is not
    ambiguous there); a saved gam-gui file keeps the variant it recorded when it is one gam-gui knows.
    Every text kept is computed here from gam-gui's own words and bounded names: a file's own
    ``variant``/``variant_reason`` strings are never kept (one memoized string shared by many blocks
    would otherwise be joined into gigabytes).
    """
    lines: list[str] = []
    n = 0
    for name, m in model.named_modules():
        if not isinstance(m, gam.GAM):
            continue
        n += 1
        stored = m.__dict__.pop("variant", None)
        m.__dict__.pop("variant_reason", None)
        if isinstance(m, PackageGAM):
            m.variant, m.variant_reason = infer_package_gam_variant(m)
        elif isinstance(stored, str) and stored in gam.VARIANTS:
            m.variant = next(v for v in gam.VARIANTS if v == stored)  # gam-gui's own string, not the file's
            m.variant_reason = f"{type(m).__name__}: the {m.variant} forward recorded in the file"
        else:
            m.variant = type(m).default_variant
            m.variant_reason = f"{type(m).__name__}: the {m.variant} forward of this class name" + (
                "" if stored is None else " (the file names a variant gam-gui does not know)")
        if len(lines) < MAX_REASON_BLOCKS:
            lines.append(f"{name}: {m.variant} ({m.variant_reason})")
    if n > len(lines):
        lines.append(f"and {n - len(lines)} more GAM blocks")
    model.variant_reason = "; ".join(lines)



def check_attention_blocks(model: nn.Module, source: str) -> None:
    """Check every attention block of the registry against its declared structures (submodules,
    tensor shapes, attributes) and record its variant; a block that fits none is refused, naming its
    layer. Runs before any forward."""
    for name, m in model.named_modules():
        if attention.entry_of(m) is None:
            continue
        try:
            attention.check_block(m, name)
        except attention.BlockStructureError as e:
            parts = name.split(".")
            layer = int(parts[1]) if len(parts) > 1 and parts[0] == "model" and parts[1].isdigit() else None
            where = f"layer {layer} " if layer is not None else ""
            raise CheckpointError(f"{source}: {where}({e.kind}, {name[:80]}) does not have a structure gam-gui "
                                  f"knows for it: {e.problem}", reason="structure", layer=layer,
                                  kind=e.kind) from e


def _short(x: Any) -> str:
    return short_repr(x, 40)


def _index(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _repair(model: yolo_mod.DetectionModel) -> str:
    """Fill in what older or foreign pickles lack; return a description of what cannot be fixed."""
    seq = model.__dict__.get("_modules", {}).get("model")
    if not isinstance(seq, nn.Sequential) or not len(seq):
        return "no layer list"
    for i, m in enumerate(seq):
        if not hasattr(m, "f") or not hasattr(m, "i"):
            return f"layer {i} has no 'from' index"
        # ``from`` names earlier layers (or -1, the previous one); ``i`` is the layer's own position
        f = m.f
        refs = [f] if _index(f) else list(f) if isinstance(f, (list, tuple)) else None
        if m.i != i or not refs or not all(_index(x) and (x == -1 or -i <= x < i) for x in refs):
            return f"layer {i} has a bad 'from' {_short(f)} or position {_short(m.i)}"
    if "save" not in model.__dict__:
        model.save = sorted({x % m.i for m in seq for x in ([m.f] if isinstance(m.f, int) else m.f) if x != -1})
    elif not isinstance(model.save, (list, tuple, set)) or not all(_index(x) for x in model.save):
        return "its list of saved layers is malformed"
    det = seq[-1]
    if isinstance(det, v8.Detect):
        return _repair_anchor_free(model, det)
    if not isinstance(det, nn.Module) or not hasattr(det, "anchors") or getattr(det, "stride", None) is None:
        return "its last layer is not a detection head with anchors and strides"
    try:
        det.stride = torch.as_tensor(det.stride, dtype=torch.float32).flatten()
    except (TypeError, ValueError, RuntimeError):
        return f"its detection head's strides {_short(det.stride)} are not numbers"
    if not det.stride.numel() or not bool(((det.stride >= 1) & (det.stride <= 256)).all()):
        return f"its detection head's strides {det.stride.tolist()[:8]} are implausible"
    nc = getattr(det, "nc", None)
    if not _index(nc) or not 0 < nc <= 100_000:
        return f"its detection head's class count {_short(nc)} is implausible"
    if not isinstance(det.anchors, torch.Tensor):
        return "its detection head's anchors are not a tensor"
    if not isinstance(model.__dict__.get("stride"), torch.Tensor):
        model.stride = det.stride
    if not isinstance(model.__dict__.get("yaml"), dict):
        model.yaml = {}
    model.names = names_dict(model.__dict__.get("names")) or {i: str(i) for i in range(nc)}
    for m in model.modules():
        if isinstance(m, yolo_mod.Detect):
            # cached decoding grids (YOLOv5 pickles expanded views of them); the head rebuilds its own
            nl = len(m.m) if isinstance(m.__dict__.get("_modules", {}).get("m"), nn.ModuleList) else 0
            for key in ("grid", "anchor_grid"):
                if key in m.__dict__:
                    m.__dict__[key] = [torch.empty(0) for _ in range(nl)]
    _repair_upsample(model)
    return ""


def _repair_upsample(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Upsample) and not hasattr(m, "recompute_scale_factor"):
            m.recompute_scale_factor = None  # pickled by torch < 1.11


def _repair_anchor_free(model: yolo_mod.DetectionModel, det: v8.Detect) -> str:
    """The anchor-free head's checks: class count, DFL bins, one box and one class branch per level."""
    nc, reg_max = det.__dict__.get("nc"), det.__dict__.get("reg_max", 16)
    if not _index(nc) or not 0 < nc <= 100_000:
        return f"its detection head's class count {_short(nc)} is implausible"
    if not _index(reg_max) or not 1 <= reg_max <= 64:
        return f"its detection head's DFL bin count {_short(reg_max)} is implausible"
    mods = det.__dict__.get("_modules", {})
    cv2, cv3 = mods.get("cv2"), mods.get("cv3")
    if not (isinstance(cv2, nn.ModuleList) and isinstance(cv3, nn.ModuleList) and 0 < len(cv2) == len(cv3) <= 8):
        return "its detection head has no matching box and class branches per level"
    if not isinstance(mods.get("dfl"), (v8.DFL, nn.Identity)) or (reg_max > 1) != isinstance(mods.get("dfl"), v8.DFL):
        return "its detection head's DFL layer does not match its bin count"
    det.nl = len(cv2)
    det.no = nc + 4 * reg_max
    try:
        det.stride = torch.as_tensor(det.stride, dtype=torch.float32).flatten()
    except (TypeError, ValueError, RuntimeError):
        return f"its detection head's strides {_short(det.stride)} are not numbers"
    if det.stride.numel() != det.nl:
        return f"its detection head has {det.nl} levels but {det.stride.numel()} strides"
    for key in ("anchors", "strides", "shape"):  # the package's decoding caches; this head makes its own
        det.__dict__.pop(key, None)
    if not isinstance(model.__dict__.get("stride"), torch.Tensor):
        model.stride = det.stride
    if not isinstance(model.__dict__.get("yaml"), dict):
        model.yaml = {}
    model.names = names_dict(model.__dict__.get("names")) or {i: str(i) for i in range(nc)}
    _repair_upsample(model)
    return ""
