"""The project's own checkpoint format: a plain dict that ``torch.load(weights_only=True)`` reads
with no extra globals (model YAML dict, fp16 state_dict, class names, GAM variants, metadata).

Loading rebuilds the model from its description, parsed as data and sized on the meta device first
(:func:`gam_gui.checkpoints.limits.check_description_size`).
"""

from __future__ import annotations

import collections
import copy
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gam_gui.checkpoints.errors import CheckpointError, first_line, names_dict, short_repr
from gam_gui.checkpoints.limits import check_description_size, clean_meta, non_overlapping, run_size
from gam_gui.models import gam as gam_mod
from gam_gui.models.yolov5 import DetectionModel, ModelConfigError

FORMAT = "gam-gui"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "yolov5n_gam_shapes.pt"


def default_weights_path() -> Path:
    env = os.environ.get("GAM_GUI_WEIGHTS")
    return Path(env) if env else DEFAULT_WEIGHTS


def save_model(model: DetectionModel, path: str | os.PathLike, **meta: Any) -> Path:
    """Write ``model`` in the project's own safe format (fp16 weights, a few MB for the n scale).

    Written to a temporary name and renamed, so a failed save never leaves half a file behind.
    """
    path = Path(path)
    state = {k: (v.half() if v.is_floating_point() else v).cpu().clone() for k, v in model.state_dict().items()}
    ckpt = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "yaml": _plain(_portable_yaml(model)),
        "names": {int(k): str(v) for k, v in names_dict(model.names).items()},
        "gam_variants": {name: m.gam_variant for name, m in model.named_modules() if isinstance(m, gam_mod.GAM)},
        "state_dict": state,
        "meta": _plain(meta),
    }
    tmp = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    return path


def _portable_yaml(model: nn.Module) -> Any:
    """The model's YAML with each GAM row naming the block this package builds with the loaded block's
    structure: a file from the ``ultralytics`` package may call a grouped (seed) block ``GAM_Attention``,
    which here is the paper's ungrouped one, or use a name only the user's ``parse_model`` knew."""
    desc = copy.deepcopy(getattr(model, "yaml", None))
    seq = model._modules.get("model")
    if not isinstance(desc, dict) or not isinstance(seq, nn.Sequential):
        return desc
    rows = [r for r in (desc.get("backbone") or []) + (desc.get("head") or [])]
    if len(rows) != len(seq):
        return desc
    for row, layer in zip(rows, seq, strict=True):
        blocks = [m for m in layer.modules() if isinstance(m, gam_mod.GAM)]
        if not blocks or not isinstance(row, list) or len(row) != 4 or not isinstance(row[3], list):
            continue
        first, linear = blocks[0].spatial_attention[0], blocks[0].channel_attention[0]
        rate = max(1, round(linear.in_features / max(1, linear.out_features)))
        if first.groups > 1:
            row[2], row[3] = "GAM", [row[3][0] if row[3] else first.in_channels, True, rate]
        else:
            row[2], row[3] = "GAM_Attention", [first.in_channels, rate]
    return desc


def _plain(x: Any) -> Any:
    """Only plain containers and scalars go into our files, so weights_only can read them."""
    if isinstance(x, dict):
        return {str(k) if not isinstance(k, int) else k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if isinstance(x, torch.Tensor):
        return x.tolist()
    return str(x)


def load_own(ckpt: dict[str, Any], source: str) -> DetectionModel:
    version = ckpt.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{source}: has a format version {short_repr(version, 40)} that is not a number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{source}: written by a newer gam-gui (format {version})")
    desc = ckpt.get("yaml")
    if not isinstance(desc, dict):
        # A string here would be opened as a YAML path (/dev/zero, a FIFO ...): only an inline dict is read.
        raise CheckpointError(f"{source}: its model description is a {type(desc).__name__}, not a model dict")
    state = ckpt.get("state_dict")
    if type(state) not in (dict, collections.OrderedDict) or not all(
            isinstance(k, str) and type(v) is torch.Tensor for k, v in dict.items(state)):
        raise CheckpointError(f"{source}: has no state_dict of named tensors", reason="format")
    for k, v in dict.items(state):
        if v.layout != torch.strided or v.is_complex() or not non_overlapping(tuple(v.shape), v.stride()):
            raise CheckpointError(f"{source}: refused: its weight {k[:80]!r} repeats its stored values (zero or "
                                  "overlapping strides) or is not a dense tensor; saved weights never do. Nothing "
                                  "from it was executed.", reason="tensor")
        if v.is_floating_point() and v.numel() and not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"{source}: its weight {k[:80]!r} holds NaN or infinite values; every frame "
                                  "would fail", reason="tensor", tensor=k[:80])
    meta = clean_meta(ckpt.get("meta"), 32, source)
    # at least 512 px: building runs a 256 px frame and the smoke test two cells of the largest stride
    check_description_size(desc, state, source, size=max(run_size(meta), 512))
    try:
        model = DetectionModel(desc)
    except (ModelConfigError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as e:
        raise CheckpointError(f"{source}: its model description cannot be built: {first_line(e)}") from e
    try:
        expected = model.state_dict()
        # A YOLOv5 v5.0 head carries a derived ``anchor_grid`` buffer that models built here do not
        # register (it is recomputed from ``anchors``); it is the one entry allowed to be left over.
        state = {k: v for k, v in state.items() if k in expected or not k.endswith("anchor_grid")}
        model.load_state_dict(state)  # copies (and casts) into the built fp32 tensors, one at a time
    except (RuntimeError, AttributeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: weights do not fit its model description: {first_line(e)}") from e
    try:
        names = names_dict(ckpt.get("names"))
    except (TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(f"{source}: its class names are not an index -> name table: {first_line(e)}") from e
    model.names = names or model.names
    variants = ckpt.get("gam_variants")
    modules = dict(model.named_modules())
    for name, variant in (variants.items() if isinstance(variants, dict) else ()):
        m = modules.get(name) if isinstance(name, str) else None
        if isinstance(m, gam_mod.GAM) and isinstance(variant, str) and variant in gam_mod.VARIANTS:
            m.variant = variant
    stride = int(model.stride.max()) if isinstance(getattr(model, "stride", None), torch.Tensor) else 32
    if "imgsz" in meta and meta["imgsz"] % stride:
        meta["imgsz"] = max(stride, meta["imgsz"] // stride * stride)
    model.meta = meta
    return model
