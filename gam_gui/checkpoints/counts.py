"""Counts a forward takes from the model, checked against its structure before any forward runs.

A pickled layer's ``__dict__`` comes from the file, and some forwards loop or size their work on
attributes of it: an SPPF's pooling repeats ``n``, an attention layer's head count and key size, a
head's DFL bin count, a pooling or convolution kernel. A count that is not tied to the weights the
file stores can ask for endless work at no cost in bytes (a billion pooling passes over a 1x1 map).
So each count must be a small integer *and* agree with the shapes of the weights it drives: an
SPPF with ``n`` repeats concatenates ``n + 1`` maps, so its output conv has ``n + 1`` times the
input channels. Models built here from a description are checked the same way (on the meta
device), since the description's arguments become these attributes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gam_gui.models import common, yolov7
from gam_gui.models import yolov5 as yolo_mod
from gam_gui.models import yolov8 as v8
from gam_gui.text import short_repr

#: Layers allowed in an activation slot (``act``): weightless element-wise functions.
ACTIVATIONS = common.ACTIVATIONS
#: Kernel sizes of convolutions and pools (YOLO uses 1..13); a k x k kernel costs k^2 per output value.
MAX_KERNEL = 31
MAX_STRIDE = 64
MAX_DILATION = 16
#: Pooling repeats of an SPPF (3 in every ultralytics model).
MAX_SPPF_REPEATS = 8
MAX_HEADS = 64
MAX_LEVELS = 8
_PADDING_MODES = frozenset({"zeros", "reflect", "replicate", "circular"})


def _int(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _ints(v: Any, lo: int, hi: int, n: int = 2) -> bool:
    return type(v) is tuple and len(v) == n and all(_int(x, lo, hi) for x in v)


def _d(m: nn.Module, key: str, default: Any = None) -> Any:
    """An attribute as the file stored it (the instance dict, never a class default or a property)."""
    return vars(m).get(key, default)


def _child(m: nn.Module, key: str) -> Any:
    return vars(m).get("_modules", {}).get(key)


def _out_channels(m: Any) -> int | None:
    """Output channels of a Conv-like child (``Conv`` wraps ``conv``), from its weight's shape."""
    if isinstance(m, common.Conv):
        m = _child(m, "conv")
    w = vars(m).get("_parameters", {}).get("weight") if isinstance(m, nn.Conv2d) else None
    return int(w.shape[0]) if isinstance(w, torch.Tensor) and w.dim() == 4 else None


def _in_channels(m: Any) -> int | None:
    if isinstance(m, common.Conv):
        m = _child(m, "conv")
    if not isinstance(m, nn.Conv2d):
        return None
    w = vars(m).get("_parameters", {}).get("weight")
    groups = _d(m, "groups", 1)
    return int(w.shape[1]) * groups if isinstance(w, torch.Tensor) and w.dim() == 4 and _int(groups, 1, 1 << 20) \
        else None


def _conv_problem(m: nn.Conv2d) -> str:
    w = vars(m).get("_parameters", {}).get("weight")
    if not isinstance(w, torch.Tensor) or w.dim() != 4:
        return "has no 4-d weight"
    k, s, d, p, g = (_d(m, key) for key in ("kernel_size", "stride", "dilation", "padding", "groups"))
    if not (_ints(k, 1, MAX_KERNEL) and _ints(s, 1, MAX_STRIDE) and _ints(d, 1, MAX_DILATION)):
        return (f"has kernel {short_repr(k, 30)}, stride {short_repr(s, 30)} or dilation {short_repr(d, 30)} "
                f"outside 1..{MAX_KERNEL}, 1..{MAX_STRIDE}, 1..{MAX_DILATION}")
    if tuple(w.shape[2:]) != k:
        return f"says kernel {k} but its weight is {tuple(w.shape[2:])}"
    if not _int(g, 1, 1 << 20) or w.shape[0] % g:
        return f"has {short_repr(g, 30)} groups for a weight of {tuple(w.shape)}"
    in_ch, out_ch = _d(m, "in_channels"), _d(m, "out_channels")
    # a convolution's weight is (out, in / groups, k, k); a transposed one's is (in, out / groups, k, k)
    w_in, w_out = (w.shape[0], w.shape[1] * g) if isinstance(m, nn.ConvTranspose2d) else (w.shape[1] * g, w.shape[0])
    if (in_ch is not None and in_ch != w_in) or (out_ch is not None and out_ch != w_out):
        return f"says {short_repr(in_ch, 20)} -> {short_repr(out_ch, 20)} channels but its weight is {tuple(w.shape)}"
    if isinstance(p, str):
        if p not in ("same", "valid"):
            return f"has padding {short_repr(p, 30)}"
    elif (not _ints(p, 0, MAX_KERNEL * MAX_DILATION) or not len(p) == len(d) == len(k)
          or any(pi > di * (ki - 1) for pi, di, ki in zip(p, d, k, strict=True))):
        # a legitimate conv pads at most its kernel's reach: more only adds borders of nothing
        return f"pads {short_repr(p, 30)} around a {k} kernel (more than the kernel reaches)"
    mode = _d(m, "padding_mode", "zeros")
    if mode not in _PADDING_MODES:
        return f"has padding mode {short_repr(mode, 30)}"
    if isinstance(m, nn.ConvTranspose2d):
        op = _d(m, "output_padding", (0, 0))
        if not _ints(op, 0, MAX_STRIDE):
            return f"has output padding {short_repr(op, 30)}"
    return ""


def _pool_problem(m: nn.Module) -> str:
    k, s, p = _d(m, "kernel_size"), _d(m, "stride"), _d(m, "padding", 0)
    k = (k, k) if _int(k, 0, 1 << 31) else k
    s = (s, s) if _int(s, 0, 1 << 31) else k if s is None else s
    p = (p, p) if _int(p, 0, 1 << 31) else p
    if not (_ints(tuple(k) if type(k) is list else k, 1, MAX_KERNEL)
            and _ints(tuple(s) if type(s) is list else s, 1, MAX_STRIDE)
            and _ints(tuple(p) if type(p) is list else p, 0, MAX_KERNEL)):
        return (f"has kernel {short_repr(k, 30)}, stride {short_repr(s, 30)} or padding {short_repr(p, 30)} "
                f"outside 1..{MAX_KERNEL}, 1..{MAX_STRIDE}, 0..{MAX_KERNEL}")
    if isinstance(m, nn.MaxPool2d):
        d = _d(m, "dilation", 1)
        if not (_int(d, 1, 1) or _ints(d, 1, 1)):
            return f"has dilation {short_repr(d, 30)}"
    return ""


def _sppf_problem(m: nn.Module) -> str:
    n = _d(m, "n", 3)
    if not _int(n, 1, MAX_SPPF_REPEATS):
        return f"repeats its pooling {short_repr(n, 30)} times (at most {MAX_SPPF_REPEATS})"
    if not isinstance(_d(m, "add", False), bool):
        return "has a residual flag that is not a bool"
    c1, c2 = _out_channels(_child(m, "cv1")), _in_channels(_child(m, "cv2"))
    reps = n if isinstance(m, v8.SPPF) else 3
    if c1 is None or c2 is None or c2 != (reps + 1) * c1:
        return (f"concatenates {reps + 1} maps of {c1} channels, but its output conv reads {c2} channels "
                "(the repeat count does not match the weights)")
    return ""


def _attention_problem(m: v8.Attention) -> str:
    heads, key_dim, head_dim, scale = (_d(m, k) for k in ("num_heads", "key_dim", "head_dim", "scale"))
    if not (_int(heads, 1, MAX_HEADS) and _int(key_dim, 1, 1 << 16) and _int(head_dim, 1, 1 << 16)):
        return (f"has {short_repr(heads, 20)} heads of key size {short_repr(key_dim, 20)} and value size "
                f"{short_repr(head_dim, 20)}")
    if not (isinstance(scale, float) and math.isfinite(scale) and 0 < scale <= 1e3):
        return f"has an attention scale {short_repr(scale, 30)}"
    qkv, proj = _out_channels(_child(m, "qkv")), _in_channels(_child(m, "proj"))
    if qkv != heads * (2 * key_dim + head_dim) or proj != heads * head_dim:
        return (f"splits {qkv} query/key/value channels into {heads} heads of {key_dim}+{key_dim}+{head_dim} "
                f"for {proj} output channels (the head counts do not match the weights)")
    return ""


def _anchor_free_problem(m: v8.Detect) -> str:
    nc, reg_max, nl = _d(m, "nc"), _d(m, "reg_max", 16), _d(m, "nl")
    cv2, cv3 = _child(m, "cv2"), _child(m, "cv3")
    if not (_int(nc, 1, yolo_mod.MAX_CLASSES) and _int(reg_max, 1, 64)):
        return f"has {short_repr(nc, 20)} classes and {short_repr(reg_max, 20)} DFL bins"
    if not (isinstance(cv2, nn.ModuleList) and isinstance(cv3, nn.ModuleList) and _int(nl, 1, MAX_LEVELS)
            and len(cv2) == len(cv3) == nl):
        return f"has {short_repr(nl, 20)} levels but not one box and one class branch per level"
    for i in range(nl):
        box = cv2[i][-1] if isinstance(cv2[i], nn.Sequential) and len(cv2[i]) else None
        cls = cv3[i][-1] if isinstance(cv3[i], nn.Sequential) and len(cv3[i]) else None
        if _out_channels(box) != 4 * reg_max or _out_channels(cls) != nc:
            return (f"level {i} predicts {_out_channels(box)} box and {_out_channels(cls)} class values, not "
                    f"4 x {reg_max} DFL bins and {nc} classes")
    dfl = _child(m, "dfl")
    if isinstance(dfl, v8.DFL) and (_d(dfl, "c1") != reg_max or _in_channels(_child(dfl, "conv")) != reg_max):
        return f"has a DFL layer of {short_repr(_d(dfl, 'c1'), 20)} bins for {reg_max}"
    return ""


def _anchor_head_problem(m: yolo_mod.Detect) -> str:
    nc, nl, na, no = (_d(m, k) for k in ("nc", "nl", "na", "no"))
    heads = _child(m, "m")
    if not (_int(nc, 1, yolo_mod.MAX_CLASSES) and _int(nl, 1, MAX_LEVELS) and _int(na, 1, 64) and no == nc + 5):
        return f"has {short_repr(nl, 20)} levels of {short_repr(na, 20)} anchors for {short_repr(nc, 20)} classes"
    if not isinstance(heads, nn.ModuleList) or len(heads) != nl:
        return f"has {nl} levels but not one output conv per level"
    if any(_out_channels(c) != na * no for c in heads):
        return f"has output convs that do not predict {na} anchors x {no} values"
    for key in ("ia", "im"):
        extra = _child(m, key)
        if extra is not None and (not isinstance(extra, nn.ModuleList) or len(extra) != nl):
            return f"has {key} layers that are not one per level"
    return ""


def _activation_problem(m: nn.Module) -> str:
    """An ``act`` slot must hold an activation layer: a Parameter or any other layer there is not one."""
    d = vars(m)
    for table in ("_parameters", "_buffers"):
        if "act" in d.get(table, {}):
            return "keeps a tensor in its activation slot"
    if "act" in d and not isinstance(d["act"], ACTIVATIONS):
        return f"keeps a {type(d['act']).__name__} in its activation slot"
    act = d.get("_modules", {}).get("act", nn.Identity())
    if not isinstance(act, ACTIVATIONS):
        return f"has a {type(act).__name__} in its activation slot, which is not an activation"
    return ""


def check_counts(model: nn.Module) -> str:
    """What count of ``model`` is implausible or disagrees with its weights, or ``""``.

    Runs on the loaded (or meta-built) module tree before any forward: every convolution's kernel,
    stride, dilation, groups and padding against its weight; every pool's kernel; SPPF repeats,
    attention heads and the heads' level, anchor, class and DFL-bin counts against the layers they
    drive; and every activation slot.
    """
    for name, m in model.named_modules():
        why = ""
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            why = _conv_problem(m)
        elif isinstance(m, nn.MaxPool2d | nn.AvgPool2d):
            why = _pool_problem(m)
        elif isinstance(m, common.SPPF):
            why = _sppf_problem(m)
        elif isinstance(m, v8.Attention):
            why = _attention_problem(m)
        elif isinstance(m, v8.Detect):
            why = _anchor_free_problem(m)
        elif isinstance(m, yolo_mod.Detect):
            why = _anchor_head_problem(m)
        elif isinstance(m, common.Concat) and _d(m, "d", 1) != 1:
            why = f"concatenates along dimension {short_repr(_d(m, 'd'), 20)} instead of the channels"
        elif isinstance(m, yolov7.MP | yolov7.SP) and not isinstance(_child(m, "m"), nn.MaxPool2d):
            why = "has no pooling layer"
        if not why and isinstance(m, common.Conv | yolov7.RepConv):
            why = _activation_problem(m)
        if why:
            return f"layer {name[:80] or 'model'} ({type(m).__name__}) {why}"
    return ""
