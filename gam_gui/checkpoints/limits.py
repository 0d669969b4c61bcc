"""Budgets and work-size estimates: what one file may make the loader and one frame cost.

A model description is sized on torch's ``meta`` device before anything is built, and a model's
activations for one frame are estimated the same way (shapes only, nothing allocated), so a file
that asks for too much is refused with figures instead of exhausting memory.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from gam_gui.checkpoints.counts import check_counts
from gam_gui.checkpoints.errors import CheckpointError, first_line, short_repr
from gam_gui.models import attention, common, yolov7
from gam_gui.models import yolov5 as yolo_mod
from gam_gui.models import yolov8 as v8
from gam_gui.models.yolov5 import ModelConfigError, check_model_dict, parse_model, run_layers

LOGGER = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024**3
#: The work size a file may ask for (``meta["imgsz"]``): clamped to this range, rounded to the stride.
MIN_IMGSZ, MAX_IMGSZ = 32, 1920
#: The size activations are estimated at when the file does not say (the CLI's and ultralytics' default).
DEFAULT_RUN_SIZE = 640
#: Activations of one frame at the run size (fp32, summed over leaf layers, what a Grad-CAM forward
#: keeps) may be this much plus ``ACTIVATION_PER_PARAM_BYTE`` times the model's fp32 weights: a
#: YOLOv7x needs 1.5 GB at 640 px for 0.28 GB of weights, a crafted 1 MB file gets no more than ~1.5 GB.
ACTIVATION_BASE = 3 * 1024**3 // 2
ACTIVATION_PER_PARAM_BYTE = 8
#: Above this a load logs a warning (the frame will be slow and memory-hungry, but it is legitimate).
ACTIVATION_WARN = 1024**3
#: The largest frame side :func:`estimate_work` sizes (the CLI and the window ask for at most 1920).
MAX_PROBE_SIZE = 1 << 15
#: A model description may build at most this many layers, repeats counted (yolov5x has about 60).
MAX_REPEATS = 2_000


def check_description_size(desc: dict[str, Any], state: dict[str, torch.Tensor], source: str,
                            size: int = DEFAULT_RUN_SIZE) -> None:
    """Refuse a model description that asks for far more memory than the file's weights could fill.

    The description is ours to build, so a hostile one could ask for a 100 GB layer, a million
    repeats or a 1000x upsampling before any weight is checked. It is built first on torch's "meta"
    device (shapes only, no memory) and run once on a meta input, and only built for real when its
    parameters match what the file holds and its activations stay bounded.
    """
    rows = desc.get("backbone"), desc.get("head")
    if not all(isinstance(r, list) for r in rows):
        raise CheckpointError(f"{source}: its model description has no 'backbone' and 'head' layer lists")
    gd = _build_depth(desc)
    if not isinstance(gd, (int, float)) or isinstance(gd, bool) or not math.isfinite(gd) or not 0 < gd <= 1e6:
        raise CheckpointError(f"{source}: its model description has an implausible depth "
                              f"{short_repr(gd, 40)}", reason="description")
    repeats = 0
    for row in rows[0] + rows[1]:
        n = row[1] if isinstance(row, (list, tuple)) and len(row) == 4 else None
        if not isinstance(n, (int, float)) or isinstance(n, bool) or not math.isfinite(n):
            raise CheckpointError(f"{source}: its model description has a malformed layer {short_repr(row, 80)}",
                                  reason="description")
        repeats += max(round(n * gd), 1) if n > 1 else 1
    if repeats > MAX_REPEATS:
        raise CheckpointError(f"{source}: its model description asks for {repeats} layers; refusing to build it",
                              reason="description", layers=repeats)
    try:
        check_model_dict(desc)  # the scales table too, whether or not the description has anchors
    except ModelConfigError as e:
        raise CheckpointError(f"{source}: its model description cannot be built: {first_line(e)}",
                              reason="description") from e
    ch = desc.get("ch", 3)
    if not isinstance(ch, int) or isinstance(ch, bool) or not 0 < ch <= 64:
        raise CheckpointError(f"{source}: its model description has an implausible input channel count "
                              f"{short_repr(ch, 40)}", reason="description")
    try:
        with torch.device("meta"):
            seq, save = parse_model(copy.deepcopy(desc), ch=[ch])
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to build its model description", reason="memory") from e
    except Exception as e:  # noqa: BLE001 - any failure to build the description is the file's fault
        raise CheckpointError(f"{source}: its model description cannot be built: {first_line(e)}",
                              reason="description") from e
    problem = check_counts(seq)  # before the probe forward: the counts its layers loop over
    if problem:
        raise CheckpointError(f"{source}: its model description is malformed: {problem}", reason="counts")
    needed = sum(t.numel() for t in (*seq.parameters(), *seq.buffers()))
    stored = sum(t.numel() for t in dict.values(state))
    if needed > 2 * stored + 1_000_000:
        raise CheckpointError(
            f"{source}: its model description needs {needed / 1e6:.1f} M values but the file holds "
            f"{stored / 1e6:.1f} M; refusing to build it"
        )
    # the budget counts what the model will hold: its weights as fp32 plus one frame's activations
    limit = ACTIVATION_BASE + ACTIVATION_PER_PARAM_BYTE * 4 * min(needed, stored)
    probe_activations(_Routed(seq, save), ch, source, meta_params=False, size=size, limit=limit)


def _build_depth(desc: dict[str, Any]) -> Any:
    """The depth multiple the builder will use: the row of its ``scales`` table it picks (the named
    ``scale``, else the first), whether or not the description also has anchors; else depth_multiple."""
    scales = desc.get("scales")
    if type(scales) is dict and scales:
        row = scales.get(desc.get("scale")) if desc.get("scale") else next(iter(dict.values(scales)))
        return row[0] if type(row) is list and row else None
    return desc.get("depth_multiple", 1.0)


class _Routed(nn.Module):
    """A bare layer list with the YOLO ``from`` routing, for the meta-device probe."""

    def __init__(self, seq: nn.Sequential, save: list[int]) -> None:
        super().__init__()
        self.model, self.save = seq, set(save)

    def forward(self, x: torch.Tensor) -> Any:
        return run_layers(self.model, self.save, x)


@dataclass
class WorkEstimate:
    """What one frame at ``imgsz`` costs a model, from a shape-only (meta device) forward."""

    imgsz: int
    activation_bytes: int
    limit_bytes: int
    level_sizes: list[tuple[int, int]]


def _leaf_numel(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(_leaf_numel(v) for v in x)
    return 0


def _activation_limit(model: nn.Module, meta_params: bool) -> int:
    if not meta_params:
        return ACTIVATION_BASE
    weights = sum(p.numel() for p in model.parameters()) * 4
    return ACTIVATION_BASE + ACTIVATION_PER_PARAM_BYTE * weights


def probe_activations(model: nn.Module, ch: int, source: str, meta_params: bool = True,
                       size: int = DEFAULT_RUN_SIZE, limit: int | None = None) -> WorkEstimate:
    """Run ``model`` once on a ``size`` x ``size`` meta-device input and refuse it when its activations
    would not fit; returns the estimate and the feature sizes entering the detection head.

    Shapes come out exactly as on a real input but nothing is allocated (and the cost does not grow
    with ``size``), so a 1000x upsample or a padding of a million pixels is caught here instead of
    exhausting memory in the first real frame. With ``meta_params`` the real weights are swapped for
    meta stand-ins only for this call.
    """
    limit = _activation_limit(model, meta_params) if limit is None else limit
    total = 0
    levels: list[tuple[int, int]] = []

    def count(m: nn.Module, args: Any, out: Any) -> None:
        nonlocal total
        if not m._modules:  # leaves only: a container's output is its last child's
            total += _leaf_numel(out) * 4
        total += inner_work_bytes(m, args, out)
        if total > limit:
            raise _TooLargeError(total)

    def head_input(_m: nn.Module, args: Any) -> None:
        x = args[0] if args else None
        if isinstance(x, (list, tuple)):
            levels.extend((int(t.shape[-2]), int(t.shape[-1])) for t in x if isinstance(t, torch.Tensor))

    modules = list(model.modules())
    hooks = [m.register_forward_hook(count) for m in modules]
    head = getattr(model, "model", None)
    if isinstance(head, nn.Sequential) and len(head):
        hooks.append(head[-1].register_forward_pre_hook(head_input))
    was_training = model.training
    model.train()  # the heads' training path only reshapes: no grid, stride or anchor arithmetic
    try:
        x = torch.empty(1, ch, size, size, device="meta")  # inside: a negative ch or a huge size is the file's
        with _ShapesOnly():
            if meta_params:
                swap = {k: torch.empty_like(v, device="meta", dtype=torch.float32 if v.is_floating_point() else v.dtype)
                        for k, v in (*model.named_parameters(), *model.named_buffers())}
                torch.func.functional_call(model, swap, (x,), strict=False)
            else:
                model(x)
    except _TooLargeError as e:
        raise CheckpointError(
            f"{source}: one {size}x{size} frame would need more than {e.args[0] / 1e9:.1f} GB of activations "
            f"(the limit for this model is {limit / 1e9:.1f} GB: an implausible upsampling, padding or width); "
            "refusing it", reason="activations", estimate=int(e.args[0]), limit=limit, imgsz=size) from None
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to size one {size}x{size} frame", reason="memory",
                              imgsz=size) from e
    except NotImplementedError as e:  # an op without a meta kernel: the real smoke test still runs
        LOGGER.debug("meta probe skipped: %s", e)
    except Exception as e:  # noqa: BLE001 - a model that cannot run on a frame is not loadable
        raise CheckpointError(f"{source}: the model cannot run on a frame: {first_line(e)}",
                              reason="cannot-run") from e
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    if total > ACTIVATION_WARN:
        LOGGER.warning("%s: one %dx%d frame needs about %.1f GB of activations", source, size, size, total / 1e9)
    return WorkEstimate(size, total, limit, levels)


#: Copies of its feature maps a head's decode makes beyond its convs' outputs (the concatenated maps,
#: the sigmoid scores, the decoded boxes and the final concatenation), measured on both head kinds.
_HEAD_COPIES = 4
#: Blocks that concatenate maps inside their forward, with the convs that read each concatenation.
_CAT_READERS: dict[type, tuple[str, ...]] = {
    common.C3: ("cv3",), common.SPP: ("cv2",), common.SPPF: ("cv2",), v8.C2f: ("cv2",), v8.C2PSA: ("cv2",),
    yolov7.SPPCSPC: ("cv5", "cv7"),
}


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else ()


def _conv_in(m: Any) -> int:
    conv = m._modules.get("conv") if isinstance(m, common.Conv) else m
    w = conv._parameters.get("weight") if isinstance(conv, nn.Conv2d) else None
    return int(w.shape[1]) * int(conv.groups) if isinstance(w, torch.Tensor) and w.dim() == 4 else 0


def inner_work_bytes(m: nn.Module, args: Any, out: Any) -> int:
    """Memory a layer's forward allocates beyond its children's outputs, from the shapes a probe sees.

    The leaf outputs are most of a frame's cost, but some blocks compute large tensors inside one
    forward that no leaf returns: the HW x HW matrices of self-attention (one before and one after
    the softmax), the padded copy a convolution with ``padding_mode='replicate'`` (or reflect,
    circular) makes of its input, a head's decode copies of its maps (``4 + classes`` rows per cell:
    large with many classes), an attention block's gates and copies (each registry kind declares its
    own, ``BlockEntry.work``) and the concatenations inside CSP blocks.
    """
    x = args[0] if args else None
    if isinstance(m, v8.Attention):
        b, _, h, w = _shape(x) or (1, 0, 0, 0)
        return 2 * b * int(m.num_heads) * (h * w) ** 2 * 4
    if isinstance(m, nn.Conv2d) and m.padding_mode != "zeros" and len(_shape(x)) == 4:
        b, c, h, w = _shape(x)
        ph, pw = m.padding if isinstance(m.padding, tuple) else (0, 0)
        return b * c * (h + 2 * ph) * (w + 2 * pw) * 4
    if isinstance(m, v8.Detect | yolo_mod.Detect) and isinstance(out, (list, tuple)):
        return _HEAD_COPIES * _leaf_numel(out) * 4  # the training path the probe runs returns the raw maps
    block = attention.entry_of(m)
    if block is not None:  # every registry kind declares its own (GAM: its gates, shuffle and output)
        return block.work_bytes(m, _shape(x))
    for cls, readers in _CAT_READERS.items():
        if isinstance(m, cls):
            b, _, h, w = _shape(out) or (1, 0, 0, 0)
            return sum(b * _conv_in(m._modules.get(r)) * h * w * 4 for r in readers)
    return 0


def estimate_work(model: nn.Module, imgsz: int, source: str = "model") -> WorkEstimate:
    """Check that one ``imgsz`` frame fits this model's activation budget before running it.

    The loader checks the size the file asks for (or 640); a caller that runs at another size (a
    ``--imgsz`` option, a GUI setting) calls this once per size, not per frame. Raises
    :class:`CheckpointError` with ``reason="activations"`` and the ``estimate``/``limit`` figures.
    """
    # the network's input channels (a Focus stem's first conv sees 4x as many: not its weight's shape)
    desc = getattr(model, "yaml", None)
    ch = int(desc.get("ch", 3)) if isinstance(desc, dict) and isinstance(desc.get("ch", 3), int) else 3
    if not isinstance(imgsz, int) or isinstance(imgsz, bool) or not 1 <= imgsz <= MAX_PROBE_SIZE:
        raise CheckpointError(f"{source}: an image size of {short_repr(imgsz, 30)} px is not one a frame can have "
                              f"(1..{MAX_PROBE_SIZE})", reason="imgsz", imgsz=imgsz)
    return probe_activations(model, ch, source, meta_params=True, size=imgsz)


def derive_strides(model: nn.Module, source: str, size: int = 256) -> torch.Tensor:
    """The detection head's strides computed from the layers (a shape-only forward of a ``size``
    frame, as ultralytics does at 256 px), never taken from the file. The same forward checks the
    activation budget at that size, so a caller passes the size the model will run at."""
    s = size
    est = probe_activations(model, 3, source, meta_params=True, size=s)
    if not est.level_sizes or any(h < 1 for h, _ in est.level_sizes):
        raise CheckpointError(f"{source}: the pickled model is malformed: its detection head gets no feature maps "
                              f"from a {s}x{s} frame", reason="structure")
    strides = [s / h for h, _ in est.level_sizes]
    if any(st < 1 or st > 256 or st != int(st) for st in strides):
        raise CheckpointError(f"{source}: the pickled model is malformed: its layers give implausible detection "
                              f"strides {short_repr(strides, 60)}", reason="stride")
    return torch.tensor(strides, dtype=torch.float32)


def clean_meta(meta: Any, stride: int, source: str) -> dict[str, Any]:
    """The file's metadata as plain, short values, with ``imgsz`` clamped to a size worth running.

    A stored ``imgsz`` of 20000, ``inf`` or a string would otherwise choose the work size of every
    caller; it is rounded to the model's stride and clamped to ``MIN_IMGSZ``..``MAX_IMGSZ`` (with a
    logged notice), and dropped when it is not a finite number.
    """
    out: dict[str, Any] = {}
    if not isinstance(meta, dict):
        return out
    for k, v in list(dict.items(meta))[:64]:
        if not isinstance(k, str) or len(k) > 64:
            continue
        if isinstance(v, (bool, int)) and (isinstance(v, bool) or abs(v) < 1 << 63):
            out[k] = v
        elif isinstance(v, float) and math.isfinite(v) or v is None:
            out[k] = v
        elif isinstance(v, str) and len(v) <= 1000:
            out[k] = v
    if "imgsz" in dict(meta):
        raw = dict.get(meta, "imgsz")
        if isinstance(raw, (list, tuple)) and raw and len(raw) <= 2:
            raw = raw[0] if len(raw) == 1 or raw[0] == raw[1] else max(raw, key=lambda v: v if _is_number(v) else -1)
        out.pop("imgsz", None)
        if _is_number(raw) and math.isfinite(raw) and raw > 0:
            stride = max(1, int(stride))
            size = int(min(max(raw, MIN_IMGSZ), MAX_IMGSZ))
            size = max(stride, size // stride * stride) if size % stride else size
            if size != raw:
                LOGGER.warning("%s: its stored image size %s is used as %d (sizes are kept to %d..%d, multiples of "
                               "the stride %d)", source, short_repr(raw, 30), size, MIN_IMGSZ, MAX_IMGSZ, stride)
            out["imgsz"] = size
        else:
            LOGGER.warning("%s: its stored image size %s is not a number; using the default", source,
                           short_repr(raw, 30))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def run_size(meta: dict[str, Any]) -> int:
    """The size a loaded model will run at unless the caller says otherwise."""
    v = meta.get("imgsz")
    return v if isinstance(v, int) and MIN_IMGSZ <= v <= MAX_IMGSZ else DEFAULT_RUN_SIZE


class _TooLargeError(Exception):
    """Raised from inside the probe forward to stop it at the first layer over the budget."""


class _ShapesOnly(TorchFunctionMode):
    """Batch norm keeps shapes, and on the meta device it runs through slow Python decompositions
    (~5 ms a layer): the probe passes its input through instead, which makes it ~8x faster."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func is F.batch_norm:
            return args[0]
        return func(*args, **(kwargs or {}))


def non_overlapping(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether a view with ``size`` and ``stride`` gives every element its own memory (no zero or
    overlapping strides): a copy of it costs no more than the storage it reads."""
    dims = sorted((st, sz) for sz, st in zip(size, stride, strict=True) if sz != 1)
    if any(sz == 0 for sz in size):
        return True
    reach = 0  # the largest offset reached by the dimensions with smaller strides
    for st, sz in dims:
        if st <= reach:
            return False
        reach += (sz - 1) * st
    return True
