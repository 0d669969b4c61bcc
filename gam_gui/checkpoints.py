"""Loading and saving checkpoints without running code from the file.

Two formats are read:

* the project's own: a plain dict (model YAML dict, fp16 state_dict, class names, metadata) that
  ``torch.load(weights_only=True)`` reads with no extra globals at all;
* pickles written by the ultralytics YOLOv5 ``train.py`` and the YOLOv7 ``train.py``, which hold whole
  pickled ``nn.Module`` objects. They are read with torch's restricted ``weights_only`` unpickler and an
  explicit allowlist that maps the ultralytics class paths (``models.common.GAM``,
  ``models.yolo.DetectionModel`` ...) onto this package's classes. Any other global in the pickle
  (``os.system``, ``builtins.eval``, ``subprocess.Popen`` ...) stops the load before it is called.
"""

from __future__ import annotations

import _compat_pickle
import collections
import copy
import io
import logging
import math
import os
import pickletools
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from gam_gui.models import gam as gam_mod
from gam_gui.models.yolov5 import DetectionModel, ModelConfigError, parse_model, run_layers

LOGGER = logging.getLogger(__name__)

FORMAT = "gam-gui"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "yolov5n_gam_shapes.pt"
_MAX_BYTES = 2 * 1024**3
#: The work size a file may ask for (``meta["imgsz"]``): clamped to this range, rounded to the stride.
MIN_IMGSZ, MAX_IMGSZ = 32, 1920
#: The size activations are estimated at when the file does not say (the CLI's and ultralytics' default).
DEFAULT_RUN_SIZE = 640
#: Activations of one frame at the run size (fp32, summed over leaf layers, what a Grad-CAM forward
#: keeps) may be this much plus ``_ACTIVATION_PER_PARAM_BYTE`` times the model's fp32 weights: a
#: YOLOv7x needs 1.5 GB at 640 px for 0.28 GB of weights, a crafted 1 MB file gets no more than ~1.5 GB.
_ACTIVATION_BASE = 3 * 1024**3 // 2
_ACTIVATION_PER_PARAM_BYTE = 8
#: Above this a load logs a warning (the frame will be slow and memory-hungry, but it is legitimate).
_ACTIVATION_WARN = 1024**3
#: A model description may build at most this many layers, repeats counted (yolov5x has about 60).
_MAX_REPEATS = 2_000


class CheckpointError(ValueError):
    """A file that cannot be loaded as a model; the message says why, for the user.

    Callers branch on the attributes, not the text: ``reason`` (a short tag such as ``"legacy"``,
    ``"call"``, ``"memory"``, ``"activations"``, ``"structure"``), ``path`` (the file, when known) and
    any figures the check produced (``declared``, ``estimate``, ``imgsz`` ...).
    """

    def __init__(self, message: str, *, reason: str = "invalid", path: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path
        self.details = details
        for k, v in details.items():
            setattr(self, k, v)


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
        "names": {int(k): str(v) for k, v in _names_dict(model.names).items()},
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
    for row, layer in zip(rows, seq):
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


#: Class names: at most this many, each cut to this length.
_MAX_NAMES = 100_000
_MAX_NAME_LEN = 200


def _names_dict(names: Any) -> dict[int, str]:
    """An index -> name table from a file's ``names`` (dict or list); names that are not strings are
    described with a budget (``str()`` of a shared structure from a file can take forever)."""
    def text(v: Any) -> str:
        return v[:_MAX_NAME_LEN] if isinstance(v, str) else _short_repr(v, _MAX_NAME_LEN)

    if type(names) in (dict, collections.OrderedDict):
        items = list(dict.items(names))[:_MAX_NAMES]
        return {k: text(v) for k, v in items if isinstance(k, int) and not isinstance(k, bool) and 0 <= k < _MAX_NAMES}
    if type(names) in (list, tuple):
        return {i: text(v) for i, v in enumerate(names[:_MAX_NAMES])}
    return {}


def _load_own(ckpt: dict[str, Any], source: str) -> DetectionModel:
    version = ckpt.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{source}: has a format version {_short_repr(version, 40)} that is not a number")
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
    meta = clean_meta(ckpt.get("meta"), 32, source)
    # at least 512 px: building runs a 256 px frame and the smoke test two cells of the largest stride
    _check_description_size(desc, state, source, size=max(run_size(meta), 512))
    try:
        model = DetectionModel(desc)
    except (ModelConfigError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as e:
        raise CheckpointError(f"{source}: its model description cannot be built: {_first_line(e)}") from e
    try:
        expected = model.state_dict()
        # A YOLOv5 v5.0 head carries a derived ``anchor_grid`` buffer that models built here do not
        # register (it is recomputed from ``anchors``); it is the one entry allowed to be left over.
        state = {k: v for k, v in state.items() if k in expected or not k.endswith("anchor_grid")}
        model.load_state_dict(state)  # copies (and casts) into the built fp32 tensors, one at a time
    except (RuntimeError, AttributeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: weights do not fit its model description: {_first_line(e)}") from e
    try:
        names = _names_dict(ckpt.get("names"))
    except (TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(f"{source}: its class names are not an index -> name table: {_first_line(e)}") from e
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


def _check_description_size(desc: dict[str, Any], state: dict[str, torch.Tensor], source: str,
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
    gd = desc.get("depth_multiple", 1.0)
    if not isinstance(gd, (int, float)) or not 0 < gd <= 16:
        raise CheckpointError(f"{source}: its model description has an implausible depth_multiple "
                              f"{_short_repr(gd, 40)}", reason="description")
    repeats = 0
    for row in rows[0] + rows[1]:
        n = row[1] if isinstance(row, (list, tuple)) and len(row) == 4 else None
        if not isinstance(n, (int, float)) or isinstance(n, bool) or not math.isfinite(n):
            raise CheckpointError(f"{source}: its model description has a malformed layer {_short_repr(row, 80)}",
                                  reason="description")
        repeats += max(round(n * gd), 1) if n > 1 else 1
    if repeats > _MAX_REPEATS:
        raise CheckpointError(f"{source}: its model description asks for {repeats} layers; refusing to build it")
    ch = desc.get("ch", 3)
    if not isinstance(ch, int) or isinstance(ch, bool) or not 0 < ch <= 64:
        raise CheckpointError(f"{source}: its model description has an implausible input channel count "
                              f"{_short_repr(ch, 40)}", reason="description")
    try:
        with torch.device("meta"):
            seq, save = parse_model(copy.deepcopy(desc), ch=[ch])
    except Exception as e:  # noqa: BLE001 - any failure to build the description is the file's fault
        raise CheckpointError(f"{source}: its model description cannot be built: {_first_line(e)}") from e
    needed = sum(t.numel() for t in (*seq.parameters(), *seq.buffers()))
    stored = sum(t.numel() for t in dict.values(state))
    if needed > 2 * stored + 1_000_000:
        raise CheckpointError(
            f"{source}: its model description needs {needed / 1e6:.1f} M values but the file holds "
            f"{stored / 1e6:.1f} M; refusing to build it"
        )
    # the budget counts what the model will hold: its weights as fp32 plus one frame's activations
    limit = _ACTIVATION_BASE + _ACTIVATION_PER_PARAM_BYTE * 4 * min(needed, stored)
    _probe_activations(_Routed(seq, save), ch, source, meta_params=False, size=size, limit=limit)


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
        return _ACTIVATION_BASE
    weights = sum(p.numel() for p in model.parameters()) * 4
    return _ACTIVATION_BASE + _ACTIVATION_PER_PARAM_BYTE * weights


def _probe_activations(model: nn.Module, ch: int, source: str, meta_params: bool = True,
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

    def count(m: nn.Module, _args: Any, out: Any) -> None:
        nonlocal total
        if not m._modules:  # leaves only: a container's output is its last child's
            total += _leaf_numel(out) * 4
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
    x = torch.empty(1, ch, size, size, device="meta")
    try:
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
    except NotImplementedError as e:  # an op without a meta kernel: the real smoke test still runs
        LOGGER.debug("meta probe skipped: %s", e)
    except Exception as e:  # noqa: BLE001 - a model that cannot run on a frame is not loadable
        raise CheckpointError(f"{source}: the model cannot run on a frame: {_first_line(e)}",
                              reason="cannot-run") from e
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    if total > _ACTIVATION_WARN:
        LOGGER.warning("%s: one %dx%d frame needs about %.1f GB of activations", source, size, size, total / 1e9)
    return WorkEstimate(size, total, limit, levels)


def estimate_work(model: nn.Module, imgsz: int, source: str = "model") -> WorkEstimate:
    """Check that one ``imgsz`` frame fits this model's activation budget before running it.

    The loader checks the size the file asks for (or 640); a caller that runs at another size (a
    ``--imgsz`` option, a GUI setting) calls this once per size, not per frame. Raises
    :class:`CheckpointError` with ``reason="activations"`` and the ``estimate``/``limit`` figures.
    """
    # the network's input channels (a Focus stem's first conv sees 4x as many: not its weight's shape)
    desc = getattr(model, "yaml", None)
    ch = int(desc.get("ch", 3)) if isinstance(desc, dict) and isinstance(desc.get("ch", 3), int) else 3
    return _probe_activations(model, ch, source, meta_params=True, size=int(imgsz))


def derive_strides(model: nn.Module, source: str, size: int = 256) -> torch.Tensor:
    """The detection head's strides computed from the layers (a shape-only forward of a ``size``
    frame, as ultralytics does at 256 px), never taken from the file. The same forward checks the
    activation budget at that size, so a caller passes the size the model will run at."""
    s = size
    est = _probe_activations(model, 3, source, meta_params=True, size=s)
    if not est.level_sizes or any(h < 1 for h, _ in est.level_sizes):
        raise CheckpointError(f"{source}: the pickled model is malformed: its detection head gets no feature maps "
                              f"from a {s}x{s} frame", reason="structure")
    strides = [s / h for h, _ in est.level_sizes]
    if any(st < 1 or st > 256 or st != int(st) for st in strides):
        raise CheckpointError(f"{source}: the pickled model is malformed: its layers give implausible detection "
                              f"strides {_short_repr(strides, 60)}", reason="stride")
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
                               "the stride %d)", source, _short_repr(raw, 30), size, MIN_IMGSZ, MAX_IMGSZ, stride)
            out["imgsz"] = size
        else:
            LOGGER.warning("%s: its stored image size %s is not a number; using the default", source,
                           _short_repr(raw, 30))
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


def _first_line(e: BaseException) -> str:
    """The gist of an exception in one line (a heading such as "Error(s) in loading ...:" takes its
    first detail along)."""
    if isinstance(e, KeyError) and e.args:  # its str() is the repr of a key that may come from the file
        return f"missing key {_short_repr(e.args[0], 80)}"
    lines = [ln.strip() for ln in str(e)[:2000].strip().splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    return (f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0])[:300]


def _read_bytes(path: Path) -> bytes:
    try:
        if not path.exists():
            raise CheckpointError(f"{path}: no such file")
        if path.is_dir():
            raise CheckpointError(f"{path}: is a folder, not a checkpoint")
        size = path.stat().st_size
        if size == 0:  # also what a FIFO or /dev/zero reports: never read those
            raise CheckpointError(f"{path}: empty file (0 bytes)")
        if size > _MAX_BYTES:
            raise CheckpointError(f"{path}: {size / 1e9:.1f} GB is too large for a detection checkpoint")
        return path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror or e})") from e


def load_model(path: str | os.PathLike | None = None, device: str | torch.device | None = None,
               gam_variant: str | None = None) -> DetectionModel:
    """Load a detector for inference: eval mode, fp32, on ``device`` (CUDA when available by default).

    ``path`` may be the project's own file, an ultralytics YOLOv5 or a YOLOv7 ``train.py`` checkpoint;
    ``None`` loads the shipped default model. ``gam_variant`` overrides the forward of every GAM block
    (see :data:`gam_gui.models.gam.VARIANTS`), for checkpoints whose GAM code is not the usual one.
    Raises :class:`CheckpointError` for anything that is not a loadable, safe checkpoint, and runs
    the model once on a small blank frame first, so a file that loads but cannot run is refused here
    rather than failing on every frame later.
    """
    if path is None:
        path = default_weights_path()
        if not Path(path).exists():
            raise CheckpointError(
                f"no default model is shipped at {path}; pass the path of a checkpoint (--weights)"
            )
    path = Path(path)
    try:
        return _load(path, device, gam_variant)
    except CheckpointError as e:
        if e.path is None:
            e.path = str(path)
        raise


def _load(path: Path, device: str | torch.device | None, gam_variant: str | None) -> DetectionModel:
    source = str(path)
    ckpt = _unpickle(_read_bytes(path), source)
    try:
        model = model_from_checkpoint(ckpt, source)
        if gam_variant is not None:
            set_gam_variant(model, gam_variant)
        model = prepare_for_inference(model, device)
        _smoke_test(model, source)
    except CheckpointError:
        raise
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to load this model") from e
    except Exception as e:  # noqa: BLE001 - the file decides what these objects hold; any failure is the file's
        raise CheckpointError(f"{source}: cannot be used as a model: {type(e).__name__}: {_first_line(e)}") from e
    return model


def _smoke_test(model: nn.Module, source: str) -> None:
    """One forward on a blank frame of two stride cells: the output must be detections in its head's
    layout, (1, N, 5 + nc) for the anchor-based heads and (1, 4 + nc, N) for the anchor-free one."""
    stride = getattr(model, "stride", None)
    s = int(stride.max()) if isinstance(stride, torch.Tensor) and stride.numel() else 32
    p = next(model.parameters(), None)
    x = torch.zeros(1, 3, 2 * s, 2 * s, device=p.device if p is not None else "cpu")
    try:
        with torch.no_grad():
            y = model(x)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - the weights and attributes come from the file
        raise CheckpointError(f"{source}: the model cannot run on a frame: {type(e).__name__}: {_first_line(e)}") \
            from e
    from gam_gui.models.yolov8 import Detect as AnchorFree

    seq = model._modules.get("model")
    head = seq[-1] if isinstance(seq, nn.Sequential) and len(seq) else None
    if isinstance(head, AnchorFree):
        ok = isinstance(y, torch.Tensor) and y.ndim == 3 and y.shape[0] == 1 and y.shape[1] == 4 + head.nc
        layout = "(1, 4 + classes, N)"
    else:
        ok = isinstance(y, torch.Tensor) and y.ndim == 3 and y.shape[0] == 1 and y.shape[2] >= 6
        layout = "(1, N, 5 + classes)"
    if not ok:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise CheckpointError(f"{source}: the model's output {shape} is not a list of detections {layout}",
                              reason="output", shape=shape)


def set_gam_variant(model: nn.Module, variant: str) -> int:
    """Force the forward variant of every GAM block; returns how many blocks were changed."""
    if variant not in gam_mod.VARIANTS:
        raise CheckpointError(f"unknown GAM variant {_short_repr(variant, 40)}; choose one of "
                              f"{', '.join(gam_mod.VARIANTS)}", reason="usage")
    n = 0
    for m in model.modules():
        if isinstance(m, gam_mod.GAM):
            m.variant = variant
            m.variant_reason = f"{type(m).__name__}: the {variant} forward, chosen by the caller (--gam-variant)"
            n += 1
    if n:
        model.variant_reason = f"all {n} GAM blocks: the {variant} forward, chosen by the caller (--gam-variant)"
    return n


def prepare_for_inference(model: nn.Module, device: str | torch.device | None = None) -> nn.Module:
    """fp32, eval mode, gradients allowed (for Grad-CAM), no in-place activations, on ``device``."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.float().eval()
    for p in model.parameters():
        p.requires_grad_(True)
    for m in model.modules():
        if hasattr(m, "inplace") and isinstance(m.inplace, bool):
            m.inplace = False
    try:
        model = model.to(device)
    except (RuntimeError, AssertionError) as e:
        raise CheckpointError(f"cannot move the model to {device}: {_first_line(e)}") from e
    return model


def _unpickle(data: bytes, source: str) -> Any:
    """The restricted unpickler; every failure becomes a CheckpointError.

    torch's allowlist says which globals may appear, not how they are used, and torch's zip reader
    finds its records by its own rules. So the archive is read once here (:func:`_read_archive`), its
    one pickle is scanned (:func:`_scan_pickle`: every call, object creation, tensor view and shared
    container checked against what the real formats do, memory counted from declared sizes), and torch
    is handed a fresh archive holding exactly the scanned pickle and the storages it names: the bytes
    torch unpickles are the bytes that were checked.
    """
    if data[:4] != b"PK\x03\x04":
        head = data[:8]
        if head[:1] == b"\x80":
            raise CheckpointError(
                f"{source}: a legacy (non-zip) torch pickle; gam-gui reads only zip-format checkpoints "
                "(torch >= 1.6) so that it never runs code from the file", reason="legacy")
        if b"PK\x03\x04" in data[:1 << 16] or zipfile.is_zipfile(io.BytesIO(data)):
            raise CheckpointError(f"{source}: refused: data in front of the zip archive (torch and a zip reader "
                                  "would see different files). Nothing from it was executed.", reason="archive")
        raise CheckpointError(f"{source}: not a PyTorch checkpoint (not a zip archive)", reason="format")
    from gam_gui.ultralytics_compat import TRAINER_DATA_PATHS, module_class_paths, package_gam_paths, safe_globals

    archive = _read_archive(data, source)
    extra = package_gam_paths(archive.pickle)  # GAM classes users pasted under ultralytics.nn, by name
    allowed = safe_globals(extra)
    scan = _scan_pickle(archive.pickle, source, _allowed_names(allowed), module_class_paths(extra),
                        record_sizes=archive.storage_sizes, inert=TRAINER_DATA_PATHS)
    try:
        clean = archive.rebuild(scan.storage_keys, source)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - a storage record with a bad CRC, a truncated entry ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt ({_first_line(e)})", reason="corrupt") \
            from e
    try:
        with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
            # a crafted PROTO or storage call makes torch warn before it fails; the CheckpointError says
            # it in one line
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated", category=UserWarning)
            return torch.load(clean, map_location="cpu", weights_only=True)
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to read this file", reason="memory") from e
    except Exception as e:  # noqa: BLE001 - whatever the unpickler raises, the user needs one message
        named = _GLOBAL_RE.search(str(e))
        raise CheckpointError(_explain_unpickling_error(e, source), reason="unpickling",
                              class_name=named.group(1) if named else None) from e


#: Small records of torch's archive layout copied into the clean archive (all optional but the version).
_META_RECORDS = (".format_version", ".storage_alignment", "byteorder", ".data/version", "version")
_KEY_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_ASCII_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _fold(raw: bytes) -> bytes:
    """A record name as torch's zip reader (miniz, flags 0) compares it: ASCII letters case-folded."""
    return raw.translate(_ASCII_FOLD)


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name bytes as stored in the directory (what miniz compares), from zipfile's decoded name."""
    try:
        return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        return info.orig_filename.encode("utf-8", "surrogateescape")


class _Archive:
    """The one view of a checkpoint archive that both the scanner and torch get.

    Built as torch's reader sees the file: the records live under the folder of the first entry, and
    a record is found by a case-insensitive name match. Any name that two records share under that
    match, a second ``data.pkl`` anywhere (a decoy), or data before the first entry is refused,
    because then two readers could disagree on which bytes are the pickle.
    """

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.zf = zipfile.ZipFile(io.BytesIO(data))
        infos = self.zf.infolist()
        if not infos:
            raise CheckpointError(f"{source}: not a PyTorch checkpoint (an empty zip archive)", reason="format")
        claimed = sum(i.file_size for i in infos)
        if claimed > _MAX_BYTES or claimed > 4 * len(data) + (1 << 20):
            raise CheckpointError(
                f"{source}: its entries claim {claimed / 1e6:.0f} MB in a {len(data) / 1e6:.1f} MB file "
                "(a zip bomb or a corrupt archive); refusing to unpack it", reason="zip-bomb")
        if infos[0].header_offset != 0 or _zip_prefix_length(data) != 0:
            raise CheckpointError(f"{source}: refused: the zip directory does not start at the file's first "
                                  "entry (data in front of the archive). Nothing from it was executed.",
                                  reason="archive")
        names = [_raw_name(i) for i in infos]
        if any(n.endswith(b"/constants.pkl") or b"/code/" in n for n in names):
            raise CheckpointError(
                f"{source}: a TorchScript archive (a compiled model that carries code); gam-gui reads "
                "checkpoints saved by YOLOv5/YOLOv7 train.py or by gam-gui itself", reason="torchscript")
        if b"/" not in names[0]:
            raise CheckpointError(f"{source}: not a PyTorch checkpoint (its first record is not in a folder)",
                                  reason="format")
        self.prefix = _fold(names[0].split(b"/", 1)[0]) + b"/"
        by_name: dict[bytes, zipfile.ZipInfo] = {}
        for raw, info in zip(names, infos):
            key = _fold(raw)
            if key in by_name:
                raise CheckpointError(f"{source}: refused: two records are named {_short_repr(info.filename, 80)} "
                                      "for torch's reader (names differ only in case, or repeat). Nothing from it "
                                      "was executed.", reason="ambiguous-archive")
            by_name[key] = info
        pkls = [k for k in by_name if k.rsplit(b"/", 1)[-1] == b"data.pkl"]
        if pkls != [self.prefix + b"data.pkl"]:
            if not pkls:
                raise CheckpointError(f"{source}: not a PyTorch checkpoint (a zip archive without data.pkl)",
                                      reason="format")
            raise CheckpointError(f"{source}: refused: the archive holds {len(pkls)} data.pkl records or one outside "
                                  "its folder, so readers could disagree on which is the model. Nothing from it "
                                  "was executed.", reason="ambiguous-archive")
        self.by_name = by_name
        self.pickle = self.zf.read(by_name[self.prefix + b"data.pkl"])
        self.storage_sizes = {k[len(self.prefix) + 5:].decode("ascii", "replace"): i.file_size
                              for k, i in by_name.items() if k.startswith(self.prefix + b"data/")}

    def rebuild(self, keys: list[str], source: str) -> io.BytesIO:
        """A fresh archive with the scanned pickle, the storages it names and torch's small records."""
        records: list[tuple[str, Any, int]] = [("archive/data.pkl", self.pickle, zlib.crc32(self.pickle))]
        for name in _META_RECORDS:
            info = self.by_name.get(self.prefix + name.encode())
            if info is not None and info.file_size <= 64:
                records.append((f"archive/{name}", self.payload(info), info.CRC))
        for key in keys:
            info = self.by_name.get(self.prefix + b"data/" + key.encode().translate(_ASCII_FOLD))
            if info is None:
                raise CheckpointError(f"{source}: the file is truncated or corrupt (storage {key!r} is missing)",
                                      reason="corrupt")
            records.append((f"archive/data/{key}", self.payload(info), info.CRC))
        return _write_stored_zip(records)

    def payload(self, info: zipfile.ZipInfo) -> Any:
        """An entry's bytes, CRC-checked: a stored entry is a view of the file (no copy), others are
        inflated by zipfile."""
        if info.compress_type != zipfile.ZIP_STORED:
            return self.zf.read(info)
        off = info.header_offset
        head = self.data[off:off + 30]
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = off + 30 + name_len + extra_len
        view = memoryview(self.data)[start:start + info.file_size]
        if len(view) != info.file_size or info.compress_size != info.file_size or zlib.crc32(view) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        return view


def _write_stored_zip(records: list[tuple[str, Any, int]]) -> io.BytesIO:
    """A zip of uncompressed ``(name, bytes, crc)`` records, laid out as torch writes its archives."""
    if len(records) > 0xFFFF:
        raise CheckpointError("too many records for one archive", reason="format")
    out = io.BytesIO()
    central = bytearray()
    for name, payload, crc in records:
        raw = name.encode("ascii")
        size, offset = len(payload), out.tell()
        if size > 0xFFFFFFFF or offset > 0xFFFFFFFF:
            raise CheckpointError("an archive record is too large", reason="format")
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, size, size, len(raw), 0) + raw)
        out.write(payload)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, size, size, len(raw),
                               0, 0, 0, 0, 0, offset) + raw
    start = out.tell()
    out.write(central)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(records), len(records), len(central), start, 0))
    out.seek(0)
    return out


def _zip_prefix_length(data: bytes) -> int:
    """How many bytes come before the archive by its end record (zipfile allows and skips them;
    torch's reader does not)."""
    try:
        end = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
        if end is None:
            return 0
        concat = end[zipfile._ECD_LOCATION] - end[zipfile._ECD_SIZE] - end[zipfile._ECD_OFFSET]  # type: ignore
        if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
            concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
        return int(concat)
    except (AttributeError, IndexError, TypeError, OSError, struct.error):  # pragma: no cover - private API moved
        return 0


def _read_archive(data: bytes, source: str) -> _Archive:
    try:
        return _Archive(data, source)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - BadZipFile, zlib.error, NotImplementedError (method), EOFError ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt ({_first_line(e)})", reason="corrupt") \
            from e


def _allowed_names(allowed: list[Any]) -> set[str]:
    """Pickle paths the restricted unpickler accepts: ours plus torch's defaults."""
    names = {x[1] if isinstance(x, tuple) else f"{x.__module__}.{x.__qualname__}" for x in allowed}
    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        names |= set(_get_allowed_globals())
    except (ImportError, AttributeError):  # pragma: no cover - a torch without it: messages get vaguer
        pass
    return names


# ---------------------------------------------------------------------------------------------------
# The pickle scanner. Values on its stack are symbols: plain ints, floats, strings and bools as they
# are, and these classes for what matters (globals, containers with their expanded size, objects made
# by NEWOBJ, storages and tensor views with their declared sizes).

class _Global:
    """A global named by the pickle."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Node:
    """A container or object: ``nodes`` is its size with every shared reference expanded (what a
    ``hash()``, ``repr()`` or ``deepcopy`` of it would walk); ``used`` once it went into another value."""

    __slots__ = ("kind", "nodes", "count", "items", "used", "built", "name")

    def __init__(self, kind: str, items: tuple = (), nodes: int = 1, name: str = "") -> None:
        self.kind, self.items, self.nodes, self.count = kind, items, nodes, len(items)
        self.used = self.built = False
        self.name = name


class _Storage:
    __slots__ = ("key", "itemsize", "numel")

    def __init__(self, key: str, itemsize: int, numel: int) -> None:
        self.key, self.itemsize, self.numel = key, itemsize, numel


class _TensorSym:
    __slots__ = ("numel", "dense", "hooks")

    def __init__(self, numel: int, dense: bool) -> None:
        self.numel, self.dense, self.hooks = numel, dense, False


@dataclass
class ScanResult:
    """What a scan found: the storages the pickle names and the memory its tensors declare."""

    storage_keys: list[str]
    storage_bytes: int
    tensor_bytes: int
    nodes: int


#: Callables a checkpoint's pickle may *call* (REDUCE): tensor, container and numpy rebuilders.
#: Everything else the unpickler allows (module classes, torch.nn layers, numpy.ndarray, tensor types,
#: bytearray of a size ...) may only be created empty by NEWOBJ and filled with state, as pickling a
#: module does.
_CALLABLE = frozenset({
    "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    "torch._tensor._rebuild_from_type_v2", "collections.OrderedDict", "builtins.set", "builtins.complex",
    "builtins.bytearray", "_codecs.encode", "torch.device", "torch.Size", "torch.serialization._get_layout",
    "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
})
_TENSOR_REBUILDERS = frozenset({
    "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
})
_TENSOR_TYPES = frozenset({"torch.Tensor", "torch.nn.parameter.Parameter"})
#: A value (the whole checkpoint included) may expand to this many nodes when every shared reference is
#: followed (a YOLOv7x training checkpoint has about 10^5); and the scan as a whole may place at most
#: this many nodes into containers. Both bound what hash(), repr() and copies of the result can cost.
_MAX_NODES = 3_000_000
_MAX_WORK = 12_000_000
#: A tensor that views its storage with zero or overlapping strides may have at most this many
#: elements (YOLOv5's cached ``anchor_grid`` is an expanded view); weights never do (checked later).
_MAX_OVERLAPPING_NUMEL = 1 << 22
#: Tensors may declare at most twice their storages' bytes (fp16 counted as the fp32 it becomes) plus this.
_TENSOR_SLACK = 256 * 1024**2
_MAX_DIMS = 8
_SCALAR_OPS = frozenset({"BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "SHORT_BINSTRING"})
_CONSTANT_OPS = {"NONE": None, "NEWFALSE": False, "NEWTRUE": True}


def _storage_itemsize(name: str) -> int | None:
    """Bytes per element of a pickled storage type (``torch.HalfStorage``), or None if not one."""
    if name == "torch.UntypedStorage":
        return 1
    if not name.startswith("torch.") or not name.endswith("Storage"):
        return None
    try:
        return torch.serialization.StorageType(name[6:]).dtype.itemsize
    except (AttributeError, RuntimeError, TypeError, KeyError, ValueError):
        return None


def _dtype_itemsize(name: str) -> int | None:
    dt = getattr(torch, name[6:], None) if name.startswith("torch.") else None
    return dt.itemsize if isinstance(dt, torch.dtype) else None


def non_overlapping(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether a view with ``size`` and ``stride`` gives every element its own memory (no zero or
    overlapping strides): a copy of it costs no more than the storage it reads."""
    dims = sorted((st, sz) for sz, st in zip(size, stride) if sz != 1)
    if any(sz == 0 for sz in size):
        return True
    reach = 0  # the largest offset reached by the dimensions with smaller strides
    for st, sz in dims:
        if st <= reach:
            return False
        reach += (sz - 1) * st
    return True


class _Scanner:
    """Walk the pickle's opcodes as torch's restricted unpickler would, without building anything.

    Refused: every call (REDUCE) of a global that is not a plain rebuilder, every NEWOBJ except an
    empty allow-listed layer, every BUILD except state into such a layer (or a numpy dtype/array), a
    tensor view outside its storage or larger than it (zero/overlapping strides beyond a small cache),
    a storage whose record is not the size it claims, tensors declaring more memory than the file can
    back, a container changed after it was used, and values that expand beyond ``_MAX_NODES`` when
    every shared reference is followed (hash/repr bombs). A pickle the scanner cannot follow is
    refused (fail closed).
    """

    def __init__(self, source: str, allowed: set[str], modules: frozenset[str], record_sizes: dict[str, int],
                 pickle_len: int, inert: frozenset[str] = frozenset()) -> None:
        self.source, self.allowed, self.modules, self.record_sizes = source, allowed, modules, record_sizes
        self.inert = inert & modules
        self.storages: dict[str, _Storage] = {}
        self.tensor_bytes = 0
        self.work = 0
        self.encoded = 0
        self.encode_budget = 2 * pickle_len + (1 << 20)

    def refuse(self, what: str, reason: str = "pickle") -> CheckpointError:
        return CheckpointError(f"{self.source}: refused: {what}. Nothing from it was executed.", reason=reason)

    # -- sizes ------------------------------------------------------------------------------------
    def take(self, v: Any, into: _Node | None = None) -> int:
        """Account for ``v`` going into a container, call or state; returns its expanded size."""
        if isinstance(v, _Node):
            if v is into:
                raise CheckpointError(f"{self.source}: the pickled model is malformed: a value contains itself "
                                  "(refused before loading)", reason="structure")
            v.used = True
            n = v.nodes
        else:
            n = 1
        self.work += n
        if self.work > _MAX_WORK:
            raise self.refuse(f"its pickle references shared containers so often that reading it would walk "
                              f"more than {_MAX_WORK} values (a hash/repr bomb)", "shared-structure")
        return n

    def grow(self, node: _Node, added: int, count: int) -> None:
        if node.used:
            raise CheckpointError(f"{self.source}: the pickled model is malformed: a layer or container "
                                  "contains itself, or is changed after it was used (refused before loading)",
                                  reason="structure")
        node.nodes += added
        node.count += count
        if node.nodes > _MAX_NODES:
            raise self.refuse(f"one of its values expands to more than {_MAX_NODES} entries when its shared "
                              "references are followed (a hash/repr bomb)", "shared-structure")

    def node(self, kind: str, items: tuple = (), name: str = "") -> _Node:
        nodes = 1
        for v in items:  # take() inlined: this runs for every tuple in the file
            if type(v) is _Node:
                v.used = True
                nodes += v.nodes
            else:
                nodes += 1
        self.work += nodes - 1
        if self.work > _MAX_WORK:
            raise self.refuse(f"its pickle references shared containers so often that reading it would walk "
                              f"more than {_MAX_WORK} values (a hash/repr bomb)", "shared-structure")
        if nodes > _MAX_NODES:
            raise self.refuse(f"one of its values expands to more than {_MAX_NODES} entries when its shared "
                              "references are followed (a hash/repr bomb)", "shared-structure")
        return _Node(kind, items, nodes, name)

    # -- the walk ---------------------------------------------------------------------------------
    def run(self, data: bytes) -> ScanResult:
        stack: list[Any] = []
        marks: list[list[Any]] = []
        memo: dict[int, Any] = {}
        for name, arg, _pos in _genops(data):
            if name in ("BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name in _SCALAR_OPS:
                stack.append(arg)
            elif name == "MARK":
                marks.append(stack)
                stack = []
            elif name == "TUPLE":
                items = tuple(stack)
                stack = marks.pop()
                stack.append(self.node("tuple", items))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise IndexError("stack underflow")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(self.node("tuple", items))
            elif name in _CONSTANT_OPS:
                stack.append(_CONSTANT_OPS[name])
            elif name == "REDUCE":
                args = stack.pop()
                stack[-1] = self.call(stack[-1], args)
            elif name == "SETITEMS":
                items = stack
                stack = marks.pop()
                if len(items) % 2:
                    raise IndexError("odd number of items for SETITEMS")
                self.add(stack[-1], ("dict", "odict"), tuple(items))
            elif name == "EMPTY_TUPLE":
                stack.append(self.node("tuple"))
            elif name == "EMPTY_DICT":
                stack.append(self.node("dict"))
            elif name == "BINPERSID":
                stack[-1] = self.storage(stack[-1])
            elif name == "GLOBAL":
                mod, _, attr = str(arg).partition(" ")
                if len(mod) + len(attr) > 300:
                    raise self.refuse("its pickle names a global hundreds of characters long", "global")
                if (mod, attr) in _compat_pickle.NAME_MAPPING:
                    mod, attr = _compat_pickle.NAME_MAPPING[(mod, attr)]
                elif mod in _compat_pickle.IMPORT_MAPPING:
                    mod = _compat_pickle.IMPORT_MAPPING[mod]
                stack.append(_Global(f"{mod}.{attr}"))
            elif name == "NEWOBJ":
                args = stack.pop()
                stack[-1] = self.newobj(stack[-1], args)
            elif name == "BUILD":
                state = stack.pop()
                self.build(stack[-1], state)
            elif name == "APPEND":
                item = stack.pop()
                self.add(stack[-1], ("list",), (item,))
            elif name == "APPENDS":
                items = stack
                stack = marks.pop()
                self.add(stack[-1], ("list",), tuple(items))
            elif name == "SETITEM":
                v = stack.pop()
                k = stack.pop()
                self.add(stack[-1], ("dict", "odict"), (k, v))
            elif name == "EMPTY_LIST":
                stack.append(self.node("list"))
            elif name == "EMPTY_SET":
                stack.append(self.node("set"))
            elif name == "PROTO":
                continue
            elif name == "STOP":
                return self.finish(stack.pop())
            else:  # torch's unpickler would stop here too; say why in words
                raise CheckpointError(
                    f"{self.source}: refused: its pickle uses the {name} instruction, which torch.save never "
                    "writes (a pickle from another tool, or crafted). Nothing from it was executed.",
                    reason="pickle")
        raise EOFError("no STOP")

    def add(self, target: Any, kinds: tuple[str, ...], items: tuple) -> None:
        if not isinstance(target, _Node) or target.kind not in kinds:
            raise TypeError("items added to something that is not a list or dict")
        added = 0
        for v in items:  # take() inlined: this runs for every dict and list entry in the file
            if type(v) is _Node:
                if v is target:
                    self.take(v, target)  # raises
                v.used = True
                added += v.nodes
            else:
                added += 1
        self.work += added
        if self.work > _MAX_WORK:
            self.take(None)  # raises
        self.grow(target, added, len(items))
        if target.kind != "list" and len(target.items) < 32:
            target.items += items[0::2]  # a dict keeps its first keys, for the BUILD check below

    def finish(self, root: Any) -> ScanResult:
        storage_bytes = sum(s.numel * s.itemsize for s in self.storages.values())
        if self.tensor_bytes > 2 * storage_bytes + _TENSOR_SLACK:
            raise CheckpointError(
                f"{self.source}: refused: its tensors declare {self.tensor_bytes / 1e9:.2f} GB (as fp32) from "
                f"{storage_bytes / 1e6:.1f} MB of stored data (views of the same values many times over). "
                "Nothing from it was executed.", reason="memory", declared=self.tensor_bytes)
        return ScanResult(sorted(self.storages), storage_bytes, self.tensor_bytes,
                          root.nodes if isinstance(root, _Node) else 1)

    # -- what the opcodes do ----------------------------------------------------------------------
    def storage(self, pid: Any) -> _Storage:
        items = pid.items if isinstance(pid, _Node) and pid.kind == "tuple" else None
        if items is None or len(items) != 5 or items[0] != "storage" or not isinstance(items[1], _Global):
            raise self.refuse("its pickle asks for an object that is not a storage from the archive")
        _, stype, key, _location, numel = items
        itemsize = _storage_itemsize(stype.name)
        if itemsize is None:
            raise self.refuse(f"its storage type {_short_repr(stype.name, 60)} is not a tensor storage")
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or not isinstance(_location, str) \
                or not _index(numel) or numel < 0:
            raise CheckpointError(f"{self.source}: the file is truncated or corrupt (a malformed storage "
                                  "reference)", reason="corrupt")
        known = self.storages.get(key)
        if known is not None:
            if (known.itemsize, known.numel) != (itemsize, numel):
                raise self.refuse(f"storage {key!r} is declared with two different sizes", "storage")
            return known
        record = self.record_sizes.get(key.lower())
        if record is None:
            raise CheckpointError(f"{self.source}: the file is truncated or corrupt (storage {key!r} is missing)",
                                  reason="corrupt")
        if record != numel * itemsize:
            raise CheckpointError(f"{self.source}: cannot be read as a checkpoint: record size of storage {key!r} "
                                  f"is {record} bytes but it claims {numel * itemsize}", reason="storage")
        self.storages[key] = s = _Storage(key, itemsize, numel)
        return s

    def newobj(self, cls: Any, args: Any) -> _Node:
        if not isinstance(cls, _Global):
            raise TypeError("NEWOBJ of something that is not a class")
        if cls.name not in self.allowed:
            raise CheckpointError(_explain_global(cls.name, self.source), reason="global", class_name=cls.name)
        if cls.name not in self.modules:
            raise self.refuse(f"the file creates a {cls.name!r} object directly, which a saved model never does "
                              "(it can ask for any amount of memory)", "call")
        if not (isinstance(args, _Node) and args.kind == "tuple" and not args.items):
            raise self.refuse(f"the file creates {cls.name!r} with constructor arguments, which a saved model "
                              "never does (layers are restored from their state)", "call")
        self.take(args)
        return _Node("object", name=cls.name)

    def build(self, inst: Any, state: Any) -> None:
        if isinstance(inst, _Node) and inst.kind in ("object", "numpy") and not inst.built:
            if inst.kind == "object" and not (isinstance(state, _Node) and state.kind == "dict"):
                raise self.refuse(f"the state given to a {inst.name!r} layer is not an attribute table", "build")
            inst.built = True
            self.grow(inst, self.take(state, inst), 1)
            return
        if isinstance(inst, _Node) and inst.kind == "odict" and not inst.built and isinstance(state, _Node) \
                and state.kind == "dict" and state.items == ("_metadata",):
            inst.built = True  # a state_dict's version table, restored as an attribute: the one BUILD torch writes
            self.grow(inst, self.take(state, inst), 1)
            return
        what = inst.name if isinstance(inst, _Global) else type(inst).__name__
        if isinstance(inst, _Node):
            what = "an ordered dict" if inst.kind == "odict" else f"a {inst.kind} {inst.name}".strip()
        raise self.refuse(f"the file sets the state of {_short_repr(what, 80)} (BUILD), which a saved model "
                          "never does", "build")

    def call(self, func: Any, args: Any) -> Any:
        if not isinstance(func, _Global):
            raise TypeError("REDUCE of something that is not a global")
        name = func.name
        if name in self.inert:  # SimpleNamespace pickles as a call of its class with no arguments
            if not (isinstance(args, _Node) and args.kind == "tuple" and not args.items):
                raise CheckpointError(f"{self.source}: refused: the file creates {name!r} with arguments, which the "
                                      "trainer never does. Nothing from it was executed.", reason="call",
                                      class_name=name)
            self.take(args)
            return _Node("object", name=name)
        if name not in _CALLABLE:
            if name in self.allowed:
                raise CheckpointError(f"{self.source}: refused: the file calls {name!r} directly, which a saved model "
                                      "never does (a call can ask for any amount of memory or read other files). "
                                      "Nothing from it was executed.", reason="call", class_name=name)
            raise CheckpointError(_explain_global(name, self.source), reason="global", class_name=name)
        if not (isinstance(args, _Node) and args.kind == "tuple"):
            raise TypeError("call arguments are not a tuple")
        a = args.items
        nodes = self.take(args)
        if name in _TENSOR_REBUILDERS or name == "torch._tensor._rebuild_from_type_v2":
            return self.tensor(name, a)
        if name == "collections.OrderedDict":
            if a:
                raise self.refuse("the file builds an ordered dict from arguments, which torch.save never does",
                                  "call")
            return _Node("odict")
        if name == "torch.Size":
            if len(a) != 1 or not isinstance(a[0], _Node) or a[0].kind != "tuple":
                raise self.refuse("the file builds a torch.Size from something that is not a tuple", "call")
            return a[0]
        if name == "builtins.bytearray" and any(isinstance(x, int) for x in a):
            raise self.refuse("the file asks for an empty buffer of a given size (a bytearray call), which a "
                              "saved model never does", "call")
        if name in ("_codecs.encode", "builtins.bytearray"):
            self.encoded += sum(len(x) for x in a if isinstance(x, (str, bytes)))
            if self.encoded > self.encode_budget:
                raise self.refuse("the file encodes the same text into bytes many times over", "memory")
        if name.endswith("._reconstruct"):
            shape = a[1].items if len(a) > 1 and isinstance(a[1], _Node) and a[1].kind == "tuple" else ()
            n = math.prod(x for x in shape if isinstance(x, int))
            if n > 1 << 24:
                raise self.refuse(f"the file asks numpy for an array of {n} elements before filling it, which a "
                                  "saved array never does", "call")
            return _Node("numpy", nodes=nodes, name="ndarray")
        if name == "numpy.dtype":
            return _Node("numpy", nodes=nodes, name="dtype")
        if name == "builtins.set":
            return _Node("set", nodes=nodes)
        return _Node("value", nodes=nodes, name=name)

    def tensor(self, name: str, a: tuple) -> _TensorSym:
        if name == "torch._tensor._rebuild_from_type_v2":
            ok = (len(a) == 4 and isinstance(a[0], _Global) and a[0].name in _TENSOR_REBUILDERS
                  and isinstance(a[1], _Global) and a[1].name in _TENSOR_TYPES
                  and isinstance(a[2], _Node) and a[2].kind == "tuple" and _empty_state(a[3]))
            if not ok:
                what = a[0].name if a and isinstance(a[0], _Global) else "something else"
                raise self.refuse(f"the file rebuilds a tensor through {what!r} with extra state, or through "
                                  "something that is not a tensor rebuilder", "call")
            return self.tensor(a[0].name, a[2].items)
        if name in ("torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"):
            if len(a) not in (3, 4) or not isinstance(a[0], _TensorSym):
                raise self.refuse("the file makes a parameter of something that is not a tensor", "call")
            if len(a) == 4 and not _empty_state(a[3]):
                raise self.refuse("the file attaches attributes to a parameter, which a saved model never does",
                                  "call")
            self.check_hooks(a[2])
            return a[0]
        # _rebuild_tensor(storage, offset, size, stride), _v2(..., requires_grad, hooks[, metadata]),
        # _v3(..., requires_grad, hooks, dtype[, metadata])
        if len(a) < 4 or not isinstance(a[0], _Storage):
            raise self.refuse("the file rebuilds a tensor without a storage from the archive", "tensor")
        storage, offset, size, stride = a[:4]
        size = size.items if isinstance(size, _Node) and size.kind == "tuple" else None
        stride = stride.items if isinstance(stride, _Node) and stride.kind == "tuple" else None
        itemsize = storage.itemsize
        if name.endswith("_v3"):
            itemsize = _dtype_itemsize(a[6].name) if len(a) > 6 and isinstance(a[6], _Global) else None
            if itemsize is None:
                raise self.refuse("the file rebuilds a tensor of an unknown element type", "tensor")
        if name.endswith(("_v2", "_v3")):
            if len(a) > 5:
                self.check_hooks(a[5])
            meta = a[7] if name.endswith("_v3") and len(a) > 7 else a[6] if name.endswith("_v2") and len(a) > 6 \
                else None
            if not _empty_state(meta):
                raise self.refuse("the file attaches metadata to a tensor, which YOLO checkpoints never do", "tensor")
        ints = (size or ()) + (stride or ()) + (offset,)
        if size is None or stride is None or len(size) != len(stride) or len(size) > _MAX_DIMS \
                or not all(_index(x) and 0 <= x < 1 << 48 for x in ints):
            raise self.refuse("the file rebuilds a tensor with a malformed size, stride or offset", "tensor")
        numel = math.prod(size)
        capacity = storage.numel * storage.itemsize // itemsize
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if numel else offset - 1
        if last >= capacity or offset > capacity:
            raise self.refuse(f"a tensor of {numel} elements reaches past the end of its storage "
                              f"({capacity} elements)", "tensor")
        dense = non_overlapping(size, stride)
        if not dense and numel > _MAX_OVERLAPPING_NUMEL:
            raise self.refuse(f"a tensor repeats its stored values (zero or overlapping strides) to {numel} "
                              "elements", "tensor")
        self.tensor_bytes += numel * max(4, itemsize)  # fp16/bf16 weights become fp32 (.float())
        return _TensorSym(numel, dense)

    def check_hooks(self, hooks: Any) -> None:
        if not _empty_state(hooks):
            raise CheckpointError(f"{self.source}: the pickled model is malformed: a tensor carries gradient hooks "
                                  "(refused before loading)", reason="hooks")


def _empty_state(x: Any) -> bool:
    """None, or an empty dict / ordered dict / tuple: the only extra state the real formats pickle."""
    return x is None or (isinstance(x, _Node) and x.kind in ("dict", "odict", "tuple") and x.count == 0)


def _index(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _scan_pickle(data: bytes, source: str, allowed: set[str], modules: frozenset[str] = frozenset(),
                 record_sizes: dict[str, int] | None = None, inert: frozenset[str] = frozenset()) -> ScanResult:
    """Scan one pickle (see :class:`_Scanner`); ``record_sizes`` maps storage keys to their record sizes;
    ``inert`` are the placeholder classes a pickle may also create by calling them with no arguments."""
    try:
        return _Scanner(source, allowed, modules, {k.lower(): v for k, v in (record_sizes or {}).items()},
                        len(data), inert).run(data)
    except CheckpointError:
        raise
    except RecursionError as e:
        raise CheckpointError(f"{source}: the file is truncated or corrupt (malformed pickle: too deep)",
                              reason="corrupt") from e
    except Exception as e:  # noqa: BLE001 - genops' ValueError, stack underflow, unknown memo key ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt (malformed pickle: {_first_line(e)})",
                              reason="corrupt") from e


#: The opcodes torch's restricted unpickler accepts: byte -> (name, argument reader). The scanner reads
#: arguments exactly as that unpickler does (little-endian ints, UTF-8 text ...), so both see one pickle.
_OPS: dict[int, tuple[str, str]] = {
    ord(k): v for k, v in {
        "\x80": ("PROTO", "u1"), "c": ("GLOBAL", "lines"), "J": ("BININT", "i4"), "K": ("BININT1", "u1"),
        "M": ("BININT2", "u2"), "\x8a": ("LONG1", "long1"), "G": ("BINFLOAT", "f8"), "X": ("BINUNICODE", "text4"),
        "U": ("SHORT_BINSTRING", "bytes1"), "Q": ("BINPERSID", ""), "R": ("REDUCE", ""), "\x81": ("NEWOBJ", ""),
        "b": ("BUILD", ""), "a": ("APPEND", ""), "e": ("APPENDS", ""), "s": ("SETITEM", ""), "u": ("SETITEMS", ""),
        "(": ("MARK", ""), "t": ("TUPLE", ""), "\x85": ("TUPLE1", ""), "\x86": ("TUPLE2", ""),
        "\x87": ("TUPLE3", ""), "N": ("NONE", ""), "\x89": ("NEWFALSE", ""), "\x88": ("NEWTRUE", ""),
        ")": ("EMPTY_TUPLE", ""), "]": ("EMPTY_LIST", ""), "}": ("EMPTY_DICT", ""), "\x8f": ("EMPTY_SET", ""),
        "h": ("BINGET", "u1"), "j": ("LONG_BINGET", "u4"), "q": ("BINPUT", "u1"), "r": ("LONG_BINPUT", "u4"),
        ".": ("STOP", ""),
    }.items()
}


def _genops(data: bytes) -> Iterator[tuple[str, Any, int]]:
    """(opcode name, argument, position) for each instruction, read the way torch's restricted
    unpickler reads them; an instruction it does not accept is yielded with its pickle name and
    ends the walk (the scanner refuses it)."""
    pos, n = 0, len(data)
    unpack_from = struct.unpack_from
    while pos < n:
        code = data[pos]
        start = pos
        pos += 1
        op = _OPS.get(code)
        if op is None:
            info = pickletools.code2op.get(chr(code))
            yield (info.name if info else f"byte 0x{code:02x}"), None, start
            return
        name, kind = op
        if not kind:
            arg = None
        elif kind == "u1":
            arg = data[pos]
            pos += 1
        elif kind == "u4":
            arg = unpack_from("<I", data, pos)[0]
            pos += 4
        elif kind == "text4":
            size = unpack_from("<I", data, pos)[0]
            raw = data[pos + 4:pos + 4 + size]
            if len(raw) != size:
                raise ValueError("truncated text")
            arg = raw.decode("utf-8", "surrogatepass")
            pos += 4 + size
        elif kind == "i4":
            arg = unpack_from("<i", data, pos)[0]
            pos += 4
        elif kind == "u2":
            arg = unpack_from("<H", data, pos)[0]
            pos += 2
        elif kind == "f8":
            arg = unpack_from(">d", data, pos)[0]
            pos += 8
        elif kind == "bytes1":
            size = data[pos]
            raw = data[pos + 1:pos + 1 + size]
            if len(raw) != size:
                raise ValueError("truncated string")
            arg = raw.decode("ascii")
            pos += 1 + size
        elif kind == "long1":
            size = data[pos]
            raw = data[pos + 1:pos + 1 + size]
            if len(raw) != size:
                raise ValueError("truncated integer")
            arg = int.from_bytes(raw, "little", signed=True)
            pos += 1 + size
        else:  # "lines": GLOBAL module\nname\n
            end1 = data.find(b"\n", pos)
            end2 = data.find(b"\n", end1 + 1) if end1 >= 0 else -1
            if end2 < 0:
                raise ValueError("truncated GLOBAL")
            arg = data[pos:end1].decode("utf-8") + " " + data[end1 + 1:end2].decode("utf-8")
            pos = end2 + 1
        yield name, arg, start
    raise ValueError("pickle exhausted before STOP")


def _short_repr(x: Any, limit: int = 80) -> str:
    """``repr(x)`` cut to ``limit`` characters, computed with a budget: a file's nested or shared
    structures (a DAG of tuples) would make the plain ``repr`` take exponential time and memory."""
    out: list[str] = []
    budget = [limit + 1]

    def emit(s: str) -> bool:
        out.append(s[: budget[0]])
        budget[0] -= len(s)
        return budget[0] > 0

    def walk(v: Any, depth: int) -> bool:
        if isinstance(v, (str, bytes)):
            return emit(repr(v[: budget[0] + 2]))
        if isinstance(v, (bool, int, float)) or v is None:
            if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
                return emit(f"<int of {v.bit_length()} bits>")
            return emit(repr(v))
        if isinstance(v, torch.Tensor):
            return emit(f"tensor{tuple(v.shape)}")
        if isinstance(v, (list, tuple, set, frozenset, dict)) and depth < 6:
            o, c = {list: "[]", tuple: "()", dict: "{}"}.get(type(v), "{}")
            if not emit(o):
                return False
            seq = dict.items(v) if isinstance(v, dict) else v
            for i, item in enumerate(seq):
                if i and not emit(", "):
                    return False
                if isinstance(v, dict):
                    if not (walk(item[0], depth + 1) and emit(": ") and walk(item[1], depth + 1)):
                        return False
                elif not walk(item, depth + 1):
                    return False
            return emit(c)
        return emit(f"<{type(v).__name__}>")

    walk(x, 0)
    s = "".join(out)
    return s if len(s) <= limit else s[: max(0, limit - 3)] + "..."


_GLOBAL_RE = re.compile(r"GLOBAL\s+([A-Za-z_][\w.]*)")
_BUILD_RE = re.compile(r"but got <class '([\w.]+)'>")


def _explain_global(name: str, source: str) -> str:
    """The message for a pickle that names a global gam-gui does not allow."""
    if name == "builtins.getattr":
        return (f"{source}: refused: the file stores a method or attribute lookup (a getattr call), for "
                "example a model pickled after fuse(); re-save it unfused. Nothing from it was executed.")
    if name.startswith(("models.", "ultralytics.nn.")):
        return (f"{source}: uses the custom block {name!r}, which gam-gui does not know; "
                "it was not loaded (no code from the file is run)")
    return (f"{source}: refused: the file asks to run or build {name!r}, which is not part of a "
            "model checkpoint. Nothing from it was executed.")


def _explain_unpickling_error(e: BaseException, source: str) -> str:
    msg = str(e)
    m = _GLOBAL_RE.search(msg)
    if m:
        return _explain_global(m.group(1), source)
    m = _BUILD_RE.search(msg)
    if m:
        what = "a numpy object array" if m.group(1).endswith("ObjectDType") else f"a {m.group(1)} object"
        return (f"{source}: refused: the file holds {what} ({m.group(1)}), which is not part of a model "
                "checkpoint. Nothing from it was executed.")
    if "truncated" in msg.lower() or "unexpected end" in msg.lower() or "failed finding central directory" in msg:
        return f"{source}: the file is truncated or corrupt"
    # torch wraps the reason in a long explanation; the line after "WeightsUnpickler error:" is the reason
    reason = msg.split("WeightsUnpickler error:", 1)[-1] if "WeightsUnpickler error:" in msg else msg
    lines = [ln.strip() for ln in reason.strip().splitlines() if ln.strip()]
    return f"{source}: cannot be read as a checkpoint: {lines[0][:300] if lines else type(e).__name__}"


def model_from_checkpoint(ckpt: Any, source: str = "checkpoint") -> DetectionModel:
    """A model from an unpickled checkpoint of any supported format."""
    if isinstance(ckpt, dict) and ckpt.get("format") == FORMAT:
        from gam_gui.ultralytics_compat import record_gam_variants

        model = _load_own(ckpt, source)
        record_gam_variants(model)
        return model
    from gam_gui.ultralytics_compat import model_from_foreign

    return model_from_foreign(ckpt, source)
