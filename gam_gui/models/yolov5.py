"""YOLO detection model assembled from a YAML description, the ultralytics way, without ``eval``.

``parse_model`` mirrors ultralytics YOLOv5's builder (same channel and depth scaling, same layer
attributes ``i``, ``f``, ``type``, ``np``) so that a user's YAML builds unchanged and a pickled
ultralytics model maps onto these classes. Module names are looked up in :data:`MODULES` and
``torch.nn``; arguments are YAML literals plus the names ``nc`` and ``anchors``. A model file is user
input, so nothing in it is ever evaluated as code.
"""

from __future__ import annotations

import ast
import copy
import logging
import math
import re
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from gam_gui.models.common import C3, SPP, SPPF, Bottleneck, Concat, Conv, Focus
from gam_gui.models.gam import GAM, GAM_Attention, GAMAttention
from gam_gui.text import short_repr

LOGGER = logging.getLogger(__name__)
CFG_DIR = Path(__file__).parent / "cfg"


class ModelConfigError(ValueError):
    """A model YAML that cannot be built (unknown block, bad argument)."""


class Detect(nn.Module):
    """YOLOv5 detection head.

    In eval mode it returns one tensor (B, N, 5 + nc): xywh in input pixels, objectness and class
    scores after sigmoid, exactly ``model(x)[0]`` of ultralytics. Unlike ultralytics it never writes
    into its outputs in place and recomputes its grid each call, so Grad-CAM can differentiate
    through it and a pickled head's stale grid caches are irrelevant.
    """

    stride: torch.Tensor | None = None

    def __init__(self, nc: int = 80, anchors: Any = (), ch: Any = (), inplace: bool = False) -> None:
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.grid = [torch.empty(0) for _ in range(self.nl)]
        self.anchor_grid = [torch.empty(0) for _ in range(self.nl)]
        self.register_buffer("anchors", torch.tensor(anchors).float().view(self.nl, -1, 2))
        self.m = nn.ModuleList(nn.Conv2d(x, self.no * self.na, 1) for x in ch)
        self.inplace = inplace

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        x = list(x)
        z = []
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                z.append(self.decode(x[i], i))
        return x if self.training else torch.cat(z, 1)

    def decode(self, p: torch.Tensor, i: int) -> torch.Tensor:
        """Raw level-``i`` map (B, na, ny, nx, no) -> (B, na*ny*nx, no) boxes in input pixels."""
        bs, na, ny, nx, _ = p.shape
        stride = float(self.stride[i])
        yv, xv = torch.meshgrid(
            torch.arange(ny, device=p.device, dtype=p.dtype),
            torch.arange(nx, device=p.device, dtype=p.dtype),
            indexing="ij",
        )
        grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2) - 0.5
        ag = self._buffers.get("anchor_grid")
        if ag is not None and ag.dim() == 6:
            # YOLOv7 (and YOLOv5 v5.0) keep pixel anchors in an (nl, 1, na, 1, 1, 2) buffer and decode
            # with it; autoanchor updates it, and in an fp16 file it is rounded differently from
            # anchors * stride, so it is the one to use when it is there.
            anchor_grid = ag[i].to(p.dtype)
        else:
            anchor_grid = (self.anchors[i] * stride).view(1, na, 1, 1, 2).to(p.dtype)
        xy, wh, conf = p.sigmoid().split((2, 2, self.nc + 1), 4)
        xy = (xy * 2 + grid) * stride
        wh = (wh * 2) ** 2 * anchor_grid
        return torch.cat((xy, wh, conf), 4).view(bs, na * ny * nx, self.no)


#: Blocks a YAML may name, by the names ultralytics and the GAM recipes use.
MODULES: dict[str, type[nn.Module]] = {
    "Conv": Conv,
    "Focus": Focus,
    "Bottleneck": Bottleneck,
    "C3": C3,
    "SPP": SPP,
    "SPPF": SPPF,
    "Concat": Concat,
    "Detect": Detect,
    "GAM": GAM,
    "GAMAttention": GAMAttention,
    "GAM_Attention": GAM_Attention,
}

# Blocks whose first argument is the output channel count, scaled by width_multiple.
_CHANNEL_BLOCKS = {Conv, Focus, Bottleneck, C3, SPP, SPPF, GAM, GAMAttention}
# Blocks that take the (depth-scaled) repeat count as their third argument instead of being stacked.
_REPEAT_ARG_BLOCKS = {C3}
# Blocks whose only argument is the input channel count, filled in when the YAML leaves it out.
_INPUT_CHANNEL_BLOCKS: set[type[nn.Module]] = set()
# Blocks built as ``cls(c1, *args)`` with ``c2 = c1`` (the attention blocks the tutorials register with
# ``c2 = ch[f]; args = [c2, *args]``; gam_gui.models.attention fills this in).
_PREPEND_INPUT_BLOCKS: set[type[nn.Module]] = set()
# Blocks that, when the registered way fails, are built with the row's arguments as written (what the
# ultralytics package's parse_model does for a block it does not list); the attention blocks.
_AS_WRITTEN_FALLBACK: set[type[nn.Module]] = set()
# YOLOv7 YAMLs are recognised by blocks only they use; in them a bare nn.Conv2d is channel-scaled too
# (YOLOv7's parse_model lists it with Conv) and some blocks are built as their YOLOv7 variant.
# gam_gui.models.yolov7 fills these in.
_V7_MARKERS: set[type[nn.Module]] = set()
_V7_CHANNEL_BLOCKS: set[type[nn.Module]] = {nn.Conv2d}
_V7_REPLACE: dict[type[nn.Module], type[nn.Module]] = {}
# YAMLs without ``anchors`` (YOLOv8, YOLO11) build some blocks as the ultralytics-package classes of the
# same names (gam_gui.models.yolov8 fills this in): the anchor-free Detect, Bottleneck with kernel sizes.
_ANCHOR_FREE_REPLACE: dict[type[nn.Module], type[nn.Module]] = {}
#: A ``scales:`` table may have this many rows (ultralytics ships n/s/m/l/x).
MAX_SCALES = 16
_SCALE_RE = re.compile(r"yolo(e-)?v?\d+([nslmx])")
# Blocks that take the activation as a constructor argument (YOLOv7 style ``nn.LeakyReLU(0.1)``).
_CALL_RE = re.compile(r"^\s*(nn\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")


def register_block(name: str, cls: type[nn.Module], *, channels: bool = False, repeat_arg: bool = False,
                   input_channels: bool = False, yolov7_only: bool = False, prepend_input: bool = False,
                   as_written_fallback: bool = False) -> None:
    """Let YAMLs name ``cls`` as ``name`` and tell ``parse_model`` how to fill in its arguments.

    ``channels``: the first argument is the output channel count (width-scaled, input prepended);
    ``repeat_arg``: the depth-scaled repeat count is passed as the third argument; ``input_channels``:
    the single argument is the input channel count; ``yolov7_only``: its presence marks a YOLOv7 YAML;
    ``prepend_input``: built as ``cls(c1, *args)``, output channels = input channels;
    ``as_written_fallback``: when that fails, built with the row's arguments as written (the package's way).
    Extension modules (``gam_gui.models.yolov7``) call this at import instead of editing the builder.
    """
    MODULES[name] = cls
    for flag, table in ((channels, _CHANNEL_BLOCKS), (repeat_arg, _REPEAT_ARG_BLOCKS),
                        (input_channels, _INPUT_CHANNEL_BLOCKS), (yolov7_only, _V7_MARKERS),
                        (prepend_input, _PREPEND_INPUT_BLOCKS), (as_written_fallback, _AS_WRITTEN_FALLBACK)):
        if flag:
            table.add(cls)


def register_variant(base: type[nn.Module], cls: type[nn.Module], *, family: str) -> None:
    """Build ``cls`` wherever a YAML of ``family`` (``"yolov7"`` or ``"anchor-free"``) names ``base``:
    the same block name means another layout there (YOLOv7's ``Detect`` keeps an ``anchor_grid``
    buffer, the anchor-free family's ``SPPF`` has a repeat count ...)."""
    {"yolov7": _V7_REPLACE, "anchor-free": _ANCHOR_FREE_REPLACE}[family][base] = cls


def is_yolov7_yaml(d: dict[str, Any]) -> bool:
    """Whether a model dict follows YOLOv7's conventions (it names a block only YOLOv7 has)."""
    layers = (d.get("backbone") or []) + (d.get("head") or [])
    return any(
        isinstance(row, (list, tuple)) and len(row) == 4 and isinstance(row[2], str)
        and MODULES.get(row[2]) in _V7_MARKERS
        for row in layers
    )


def make_divisible(x: float, divisor: int) -> int:
    return int(math.ceil(x / divisor) * divisor)


def resolve_module(name: Any) -> type[nn.Module]:
    """Map a YAML module name to a class: the registry first, then ``nn.X`` from torch.nn."""
    if not isinstance(name, str):
        raise ModelConfigError(f"module name must be a string, got {_describe(name)}")
    if name in MODULES:
        return MODULES[name]
    base = name[3:] if name.startswith("nn.") else None
    if base is not None:
        cls = getattr(nn, base, None)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            return cls
    known = ", ".join(sorted(MODULES))
    raise ModelConfigError(f"unknown block {name[:80]!r} in the model YAML (known: {known}, and nn.* layers); "
                           "add it with a plugin (--plugin my_blocks.py) or a pull request, see CONTRIBUTING.md")


#: Caps on what a model description may hold (user YAMLs and the dicts inside checkpoints alike): a
#: few dozen rows in real YOLOs, a handful of arguments per block, short lists (anchors: 3-4 levels of
#: 3 pairs; SPP kernel sizes: 3). Without them a small file asks for a 30-million-entry anchor list or
#: an SPP with 10,000 pooling layers before any size check sees it.
MAX_ROWS = 1000
MAX_ARGS = 16
MAX_LIST = 64
MAX_TEXT = 200
MAX_ANCHOR_LEVELS = 8
MAX_ANCHORS_PER_LEVEL = 16
MAX_CLASSES = 100_000
_MAX_VALUES = 200_000
#: Layers a YAML argument may construct (``nn.LeakyReLU(0.1)``): activations without weights, so an
#: argument that a block ignores cannot allocate anything.
ARG_LAYERS = frozenset({"LeakyReLU", "ReLU", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "Tanh",
                        "Identity", "Mish", "GELU", "ELU", "Softplus"})


def _describe(x: Any, limit: int = 60) -> str:
    """A short, budgeted description of a YAML value for messages (never a full ``repr``)."""
    return short_repr(x, limit)


def check_model_dict(d: Any) -> None:
    """Refuse a model description whose sizes are implausible before anything is built from it.

    Every row, argument and list is walked once with a budget (shared sub-lists count each time
    they appear, as the builder would use them), so the check itself is bounded.
    """
    if not isinstance(d, dict):
        raise ModelConfigError(f"a model description must be a dict, got {type(d).__name__}")
    rows = d.get("backbone"), d.get("head")
    if not all(type(r) is list for r in rows):
        raise ModelConfigError("a model description needs 'backbone' and 'head' layer lists")
    if len(rows[0]) + len(rows[1]) > MAX_ROWS:
        raise ModelConfigError(f"the model description has {len(rows[0]) + len(rows[1])} layers (at most {MAX_ROWS})")
    nc = d.get("nc")
    if not isinstance(nc, int) or isinstance(nc, bool) or not 0 < nc <= MAX_CLASSES:
        raise ModelConfigError(f"the model description has an implausible class count {_describe(nc)}")
    anchors = d.get("anchors")
    # the builder uses a scales table whenever there is one (anchors or not), so it is always checked
    _check_scales(d, anchor_free="anchors" not in d)
    if anchors is None and "anchors" not in d:
        pass  # anchor-free (YOLOv8 / YOLO11): sizes come from the scales table
    elif isinstance(anchors, int) and not isinstance(anchors, bool):
        if not 0 < anchors <= MAX_ANCHORS_PER_LEVEL:
            raise ModelConfigError(f"the model description asks for {_describe(anchors)} anchors per level "
                                   f"(at most {MAX_ANCHORS_PER_LEVEL})")
    elif not (type(anchors) is list and 0 < len(anchors) <= MAX_ANCHOR_LEVELS
              and all(type(a) is list and 0 < len(a) <= 2 * MAX_ANCHORS_PER_LEVEL and len(a) % 2 == 0
                      and all(_finite(v) for v in a) for a in anchors)):
        raise ModelConfigError(f"the model description's anchors {_describe(anchors)} are not up to "
                               f"{MAX_ANCHOR_LEVELS} lists of up to {MAX_ANCHORS_PER_LEVEL} (w, h) pairs")
    for key, most in (("depth_multiple", 16), ("width_multiple", 1e6)):  # width is bounded by the size estimate
        v = d.get(key, 1.0)
        if not _finite(v) or not 0 < v <= most:
            raise ModelConfigError(f"the model description has an implausible {key} {_describe(v)}")
    budget = [_MAX_VALUES]
    for i, row in enumerate(rows[0] + rows[1]):
        if type(row) not in (list, tuple) or len(row) != 4:
            raise ModelConfigError(f"layer {i} is not a [from, number, module, args] row: {_describe(row)}")
        f, n, m, args = row
        if not (_small_int(f) or (type(f) in (list, tuple) and 0 < len(f) <= MAX_LIST and all(map(_small_int, f)))):
            raise ModelConfigError(f"layer {i} has a malformed 'from' {_describe(f)}")
        if not _finite(n) or not 0 < n <= MAX_ROWS:
            raise ModelConfigError(f"layer {i} has an implausible repeat count {_describe(n)}")
        if not isinstance(m, str) or len(m) > MAX_TEXT:
            raise ModelConfigError(f"layer {i} names its block with {_describe(m)}, not a short name")
        if type(args) not in (list, tuple) or len(args) > MAX_ARGS:
            raise ModelConfigError(f"layer {i} has arguments {_describe(args)}, not a list of at most {MAX_ARGS}")
        for a in args:
            _check_value(a, i, 0, budget)


def _check_scales(d: dict[str, Any], anchor_free: bool = True) -> None:
    """A ``scales:`` table is up to MAX_SCALES rows ``name: [depth, width, max_channels]`` of plausible
    numbers, and ``scale:`` (when given) one of its names; an anchor-free head's ``reg_max`` is 1..64."""
    reg_max = d.get("reg_max", 16)
    if anchor_free and (not isinstance(reg_max, int) or isinstance(reg_max, bool) or not 1 <= reg_max <= 64):
        raise ModelConfigError(f"the model description has an implausible reg_max {_describe(reg_max)}")
    scales = d.get("scales")
    if scales is None or (not scales and type(scales) in (dict, list)):
        return  # model_scale() falls back to depth_multiple / width_multiple for an empty table
    if type(scales) is not dict or not 0 < len(scales) <= MAX_SCALES:
        raise ModelConfigError(f"the model description's scales {_describe(scales)} are not a table of up to "
                               f"{MAX_SCALES} rows")
    for name, row in dict.items(scales):
        if not (isinstance(name, str) and len(name) <= MAX_TEXT and type(row) is list and len(row) == 3
                and all(_finite(v) for v in row) and 0 < row[0] <= 16 and 0 < row[1] <= 1e6 and 0 < row[2]):
            raise ModelConfigError(f"the model description's scale {_describe(name)} is not [depth, width, "
                                   f"max_channels] with plausible values: {_describe(row)}")
    scale = d.get("scale")
    if scale not in (None, "") and scale not in scales:
        raise ModelConfigError(f"the model description asks for scale {_describe(scale)}, which its scales "
                               f"table ({', '.join(map(str, scales))}) does not have")


def guess_scale(path: str | Path) -> str:
    """The scale letter in a model file name, as ultralytics reads it: ``yolov8n-GAM.yaml`` -> ``n``,
    ``yolo11s.yaml`` -> ``s``; ``""`` when the name has none."""
    m = _SCALE_RE.search(Path(path).stem)
    return m.group(2) if m else ""


def model_scale(d: dict[str, Any]) -> tuple[str, float, float, float]:
    """(scale, depth, width, max_channels) a model dict builds with: its ``scales`` row for ``scale``
    (ultralytics takes the first row when none is named), else depth_multiple and width_multiple
    uncapped."""
    scales = d.get("scales")
    if scales:
        scale = d.get("scale") or next(iter(scales))
        if not d.get("scale"):
            LOGGER.warning("the model description names no scale; using %r (the first of its scales)", scale)
        depth, width, max_channels = scales[scale]
        return str(scale), depth, width, max_channels
    return "", d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), math.inf


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _small_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -MAX_ROWS <= v < MAX_ROWS


def _check_value(a: Any, row: int, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ModelConfigError(f"the model description holds more than {_MAX_VALUES} argument values")
    if a is None or isinstance(a, bool):
        return
    if isinstance(a, int):
        if abs(a) > 1 << 31:
            raise ModelConfigError(f"layer {row} has an implausible argument {_describe(a)}")
        return
    if isinstance(a, float):
        if not math.isfinite(a) or abs(a) > 1 << 31:
            raise ModelConfigError(f"layer {row} has an implausible argument {_describe(a)}")
        return
    if isinstance(a, str):
        if len(a) > MAX_TEXT:
            raise ModelConfigError(f"layer {row} has an argument of {len(a)} characters (at most {MAX_TEXT})")
        return
    if type(a) in (list, tuple):
        if len(a) > MAX_LIST or depth >= 3:
            raise ModelConfigError(f"layer {row} has an argument list {_describe(a)} longer than {MAX_LIST} "
                                   "or nested deeper than 3")
        for v in a:
            _check_value(v, row, depth + 1, budget)
        return
    raise ModelConfigError(f"layer {row} has an argument of type {type(a).__name__}, not a YAML literal")


def parse_arg(a: Any, names: dict[str, Any]) -> Any:
    """Turn one YAML argument into a value without evaluating code.

    Strings may be Python literals (``None``, ``'nearest'``), a name from ``names`` (``nc``,
    ``anchors``), or a constructor call of a torch.nn layer with literal arguments
    (``nn.LeakyReLU(0.1)``, as YOLOv7 YAMLs write activations). Anything else stays a string.
    """
    if not isinstance(a, str):
        return a
    if a in names:
        return names[a]
    if len(a) > MAX_TEXT:
        raise ModelConfigError(f"an argument of {len(a)} characters (at most {MAX_TEXT})")
    try:
        value = ast.literal_eval(a)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    else:
        _check_value(value, -1, 0, [_MAX_VALUES])
        return value
    call = _CALL_RE.match(a)
    if call and call.group(1):
        if call.group(2) not in ARG_LAYERS:
            raise ModelConfigError(f"argument {a!r} builds a {call.group(2)}; an argument may only be an activation "
                                   f"({', '.join(sorted(ARG_LAYERS))})")
        cls = resolve_module("nn." + call.group(2))
        try:
            call_args = ast.literal_eval(f"({call.group(3)},)") if call.group(3).strip() else ()
        except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
            raise ModelConfigError(f"arguments of {a!r} are not literals") from e
        if len(call_args) > 4 or not all(isinstance(v, (int, float, bool)) for v in call_args):
            raise ModelConfigError(f"arguments of {a!r} are not a few numbers")
        return cls(*call_args)
    return a


def parse_model(d: dict[str, Any], ch: list[int]) -> tuple[nn.Sequential, list[int]]:
    """Build the layer list from a model dict, as ultralytics ``parse_model`` does (after
    :func:`check_model_dict` has bounded its sizes)."""
    check_model_dict(d)
    anchors, nc = d.get("anchors"), d["nc"]
    anchor_free = "anchors" not in d
    scale, gd, gw, max_channels = model_scale(d)
    if anchor_free:
        no = None  # the package scales every channel count, the head's included
    else:
        na = (len(anchors[0]) // 2) if isinstance(anchors, list) else anchors
        no = na * (nc + 5)
    names = {"nc": nc, "anchors": anchors}
    v7 = is_yolov7_yaml(d)
    channel_blocks = _CHANNEL_BLOCKS | _V7_CHANNEL_BLOCKS if v7 else _CHANNEL_BLOCKS
    # the package builds YOLO11's head (depth-wise class branch) once a C3k2 has been built before it
    legacy = True
    layers, save, c2 = [], [], ch[-1]
    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):
        base = resolve_module(m)
        mcls = base
        if v7:
            mcls = _V7_REPLACE.get(mcls, mcls)
        if anchor_free:
            mcls = _ANCHOR_FREE_REPLACE.get(mcls, mcls)
        args = [parse_arg(a, names) for a in args]
        written = list(args)  # as the row has them, for an attention block built the package's way
        n = max(round(n * gd), 1) if n > 1 else n
        kwargs: dict[str, Any] = {}
        if base in channel_blocks:
            c1, c2 = ch[f], args[0]
            if c2 != no:
                c2 = make_divisible(min(c2, max_channels) * gw, 8)
            args = [c1, c2, *args[1:]]
            if base in _REPEAT_ARG_BLOCKS:
                args.insert(2, n)
                n = 1
            if base.__name__ == "C3k2":
                legacy = False
                if scale in ("m", "l", "x"):  # the package's rule: C3k blocks from the m scale up
                    args[3:4] = [True]
        elif mcls is GAM_Attention:
            c2 = ch[f]
            args = [c2, *args[1:]]
        elif mcls is nn.BatchNorm2d:
            args = [ch[f]]
        elif mcls is Concat:
            c2 = sum(ch[x] for x in f)
        elif mcls in _INPUT_CHANNEL_BLOCKS:
            c2 = ch[f]
            args = args or [c2]
        elif mcls in _PREPEND_INPUT_BLOCKS:
            c2 = ch[f]
            args = [c2, *args]
        elif issubclass(mcls, Detect):
            args.append([ch[x] for x in f])
            if isinstance(args[1], int):
                args[1] = [list(range(args[1] * 2))] * len(f)
        elif anchor_free and base is Detect:
            args = [args[0] if args else nc, [ch[x] for x in f]]
            kwargs = {"legacy": legacy, "reg_max": d.get("reg_max", 16)}
        else:
            c2 = ch[f]
        try:
            m_ = nn.Sequential(*(mcls(*args, **kwargs) for _ in range(n))) if n > 1 else mcls(*args, **kwargs)
        except (TypeError, ValueError, RuntimeError) as e:
            m_ = None
            if base in _AS_WRITTEN_FALLBACK:
                # the ultralytics package's own parse_model builds a block it does not list with the
                # row's arguments as written (c2 = ch[f]): a YAML written for it (and pickled with it)
                try:
                    m_ = nn.Sequential(*(mcls(*written) for _ in range(n))) if n > 1 else mcls(*written)
                    c2 = ch[f]
                except (TypeError, ValueError, RuntimeError):
                    m_ = None
            if m_ is None:
                raise ModelConfigError(f"layer {i} ({m} {_describe(args)}): {str(e)[:200]}") from e
        m_.i, m_.f, m_.type = i, f, m if isinstance(m, str) else mcls.__name__
        m_.np = sum(x.numel() for x in m_.parameters())
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


def load_yaml(cfg: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A model dict from a dict, a YAML path, or the name of a shipped config (``yolov5n_GAM``)."""
    if isinstance(cfg, dict):
        return copy.deepcopy(cfg)
    path = Path(cfg)
    if not path.exists() and (CFG_DIR / f"{path.stem}.yaml").exists():
        path = CFG_DIR / f"{path.stem}.yaml"
    with open(path, encoding="utf-8") as fh:
        d = yaml.safe_load(fh)
    if not isinstance(d, dict) or "backbone" not in d or "head" not in d:
        raise ModelConfigError(f"{path} is not a YOLO model YAML (needs 'backbone' and 'head')")
    d.setdefault("yaml_file", path.name)
    if d.get("scales") and guess_scale(path):
        d["scale"] = guess_scale(path)  # the file name wins over a scale: key, as in ultralytics
    return d


def run_layers(layers: nn.Sequential, save: Any, x: Any) -> Any:
    """Run a layer list with the YOLO ``from`` routing: each layer reads the previous output or the
    kept outputs of the layers its ``f`` names; only outputs listed in ``save`` are kept."""
    y: list[Any] = []
    for m in layers:
        if m.f != -1:
            x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
        x = m(x)
        y.append(x if m.i in save else None)
    return x


def check_anchor_order(m: Detect) -> None:
    """Flip the anchor order when it disagrees with the stride order (as ultralytics does)."""
    a = m.anchors.prod(-1).mean(-1).view(-1)
    da = a[-1] - a[0]
    ds = m.stride[-1] - m.stride[0]
    if da and (da.sign() != ds.sign()):
        m.anchors[:] = m.anchors.flip(0)
        ag = m._buffers.get("anchor_grid")
        if ag is not None:  # YOLOv7 layout: the pixel anchors the head decodes with
            ag[:] = ag.flip(0)


class DetectionModel(nn.Module):
    """A YOLO detector; attribute layout as ultralytics ``models.yolo.DetectionModel`` (YOLOv5) and
    ``ultralytics.nn.tasks.DetectionModel`` (the package: YOLOv8, YOLO11).

    ``forward`` returns the decoded predictions in eval mode, in the layout of the model's head: (B, N,
    5 + nc) for the anchor-based YOLOv5/YOLOv7 heads, (B, 4 + nc, N) for the anchor-free head of
    :mod:`gam_gui.models.yolov8`; and the raw per-level maps in training mode.
    """

    def __init__(self, cfg: str | Path | dict[str, Any] = "yolov5n_GAM", ch: int = 3, nc: int | None = None,
                 anchors: Any = None) -> None:
        super().__init__()
        self.yaml = load_yaml(cfg)
        ch = self.yaml["ch"] = self.yaml.get("ch", ch)
        if nc and nc != self.yaml.get("nc"):
            self.yaml["nc"] = nc
        if anchors:
            self.yaml["anchors"] = round(anchors)
        self.model, self.save = parse_model(copy.deepcopy(self.yaml), ch=[ch])
        self.names = {i: str(i) for i in range(self.yaml["nc"])}
        self.inplace = False
        m = self.model[-1]
        anchor_free = _ANCHOR_FREE_REPLACE.get(Detect)
        is_anchor_free = anchor_free is not None and isinstance(m, anchor_free)
        if is_anchor_free or isinstance(m, Detect):
            s = 256  # one probe forward gives each level's stride
            try:
                probe = self._forward_layers(torch.zeros(1, ch, s, s))
            except (RuntimeError, ValueError, TypeError, IndexError) as e:
                raise ModelConfigError(f"the model YAML builds but cannot run: {e}") from e
            m.stride = torch.tensor([s / x.shape[-2] for x in probe])
            self.stride = m.stride
        if is_anchor_free:
            m.bias_init()
        elif isinstance(m, Detect):
            check_anchor_order(m)
            m.anchors /= m.stride.view(-1, 1, 1)
            self._initialize_biases()
        initialize_weights(self)

    def _forward_layers(self, x: torch.Tensor) -> Any:
        return run_layers(self.model, self.save, x)

    def forward(self, x: torch.Tensor) -> Any:
        out = self._forward_layers(x)
        # A head from elsewhere (for example a pickled ultralytics Detect mapped onto ours) is
        # ours, but be tolerant of a (pred, raw) tuple from any other head.
        if not self.training and isinstance(out, tuple):
            out = out[0]
        return out

    @property
    def detect(self) -> Detect:
        return self.model[-1]

    @property
    def nc(self) -> int:
        return int(self.detect.nc)

    def _initialize_biases(self) -> None:
        """Objectness and class priors for training from scratch (ultralytics, arXiv 1708.02002)."""
        m = self.detect
        for mi, s in zip(m.m, m.stride, strict=True):
            b = mi.bias.view(m.na, -1)
            b.data[:, 4] += math.log(8 / (640 / s) ** 2)
            b.data[:, 5 : 5 + m.nc] += math.log(0.6 / (m.nc - 0.99999))
            mi.bias = nn.Parameter(b.view(-1), requires_grad=True)


# The pickles of older ultralytics releases name the class ``Model``.
Model = DetectionModel


def initialize_weights(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-3
            m.momentum = 0.03
