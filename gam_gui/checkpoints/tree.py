"""The structure check of a pickled model: its real attribute tables, walked without calling
anything the file could have shadowed, before torch or this package iterates the module tree."""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from gam_gui.checkpoints.errors import short_repr
from gam_gui.checkpoints.limits import non_overlapping

# Per-module dicts whose entries nn.Module calls or trusts. A pickled model's hooks are always empty
# (torch.save of a module with hooks pickles the functions, which the allowlist refuses); the entries
# of _modules, _parameters and _buffers must be what nn.Module assumes they are.
_HOOK_DICTS = (
    "_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
    "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
)
_MAX_MODULES = 100_000
#: Layer nesting depth (YOLO models nest about 6 deep), layer and tensor name length (``cv1``, ``model``,
#: ``spatial_attention``), and the places and full-name characters torch's walks of the tree may build.
MAX_DEPTH = 32
MAX_KEY = 64
MAX_PLACES = 200_000
MAX_NAME_CHARS = 8_000_000
_SHADOW_OK = frozenset({"type"})


_TABLES = ("_modules", "_parameters", "_buffers")
_TABLE_TYPES = (dict, OrderedDict)
#: Attribute values outside the module tables are walked this deep, and this many values in all.
_MAX_ATTR_DEPTH = 6
_MAX_ATTR_VALUES = 1_000_000


def check_module_tree(model: nn.Module) -> str:
    """What is wrong with the structure the pickle restored, or ``""``.

    The walk reads the real object graph (``vars()``, ``dict.items``), never methods the file could
    shadow: torch's unpickler restores each layer's ``__dict__`` as the file says, and ``eval()``,
    ``float()``, ``parameters()`` and the hooks machinery iterate ``_modules`` & co. through their
    ``items``/``values`` methods. So the tables must be exactly ``dict``/``OrderedDict`` with no
    instance attributes; hook tables empty; children layers; parameters and buffers plain dense CPU
    tensors; no stored value replacing a method (``forward``); and no layer kept anywhere but in
    ``_modules`` (where eval/float/to would not reach it). A child that is its own ancestor (endless
    recursion) is refused; a shared child is legal (tied layers).
    """
    seen: set[int] = set()
    todo: list[tuple[str, nn.Module, tuple[int, ...]]] = [("model", model, ())]
    budget = [_MAX_ATTR_VALUES]
    while todo:
        path, m, ancestors = todo.pop()
        if id(m) in ancestors:
            return f"{path} contains itself"
        if len(ancestors) > MAX_DEPTH:
            return f"{path[:200]}... nests layers more than {MAX_DEPTH} deep"
        if id(m) in seen:
            continue  # a shared submodule (legal, e.g. a tied layer)
        seen.add(id(m))
        if len(seen) > _MAX_MODULES:
            return f"more than {_MAX_MODULES} modules"
        d = vars(m)
        name = type(m).__name__
        for key in _TABLES:
            why = _table_problem(d.get(key))
            if why:
                return f"{path} ({name}) has a {key} table that {why}"
        nonpersistent = d.get("_non_persistent_buffers_set")
        if nonpersistent is not None and type(nonpersistent) is not set:
            return f"{path} ({name}) has a malformed _non_persistent_buffers_set"
        for key in _HOOK_DICTS:
            hooks = d.get(key)
            if hooks is not None and (_table_problem(hooks) or dict.__len__(hooks)):
                return f"{path} ({name}) carries {key}"
        for key, value in dict.items(d):
            if not isinstance(key, str):
                return f"{path} has a non-string attribute name"
            # a property wins over the instance dict (ultralytics stores ``nc``, ours computes it); a
            # method does not, so a stored value would replace it. ultralytics stores the layer's type
            # name as ``type``, shadowing nn.Module.type(), which nothing here calls.
            if key not in _SHADOW_OK and _is_method(type(m), key):
                return f"{path} ({name}) overrides its method {key[:40]!r} with a stored value"
            if key not in _TABLES and key.startswith("_") and key.endswith("hooks") and key not in _HOOK_DICTS:
                return f"{path} ({name}) carries {key[:40]}"
            if key not in _TABLES:
                why = _stray_module(value, budget, 0)
                if why:
                    return f"{path}.{key[:40]} ({name}) {why}"
        for kind, table in (("parameter", d["_parameters"]), ("buffer", d["_buffers"])):
            for tname, t in dict.items(table):
                if not isinstance(tname, str) or len(tname) > MAX_KEY:
                    return f"{kind} {path}.{_short(tname)} has a name longer than {MAX_KEY} characters"
                why = _tensor_problem(t, kind)
                if why:
                    return f"{kind} {path}.{_short(tname)} {why}"
        for cname, child in dict.items(d["_modules"]):
            if not isinstance(cname, str) or (child is not None and not isinstance(child, nn.Module)):
                return f"child {path}.{_short(cname)} is a {type(child).__name__}, not a layer"
            if len(cname) > MAX_KEY:
                return f"child {path}.{_short(cname)} has a name longer than {MAX_KEY} characters"
            if child is not None:
                todo.append((f"{path}.{cname[:40]}", child, (*ancestors, id(m))))
    return _names_problem(model)


def _names_problem(model: nn.Module) -> str:
    """Whether torch's own walks of the tree would build too many or too long names.

    ``named_modules()``, ``state_dict()`` and ``_apply()`` (behind ``float()``, ``eval()``, ``to()``) build
    the full dotted name of every layer and tensor, and ``state_dict()`` visits a shared layer once per
    place it is used. A pickle can chain deep layers under one long memoized key (the names then cost
    depth squared times the key) or share one layer many times over (each use counts). So the number
    of places and the characters of their full names are counted here, once per distinct layer with
    a memo (``places * name length`` per child edge), and bounded before any of those walks runs.
    """
    count: dict[int, int] = {}  # id -> places in its expanded subtree (itself, layers and tensors)
    chars: dict[int, int] = {}  # id -> characters of the names below it, relative to it
    cap = MAX_PLACES + 1
    stack: list[tuple[nn.Module, bool]] = [(model, False)]
    while stack:  # post-order: a layer's children are counted before it (the tree check refused cycles)
        m, children_done = stack.pop()
        if id(m) in count:
            continue
        d = vars(m)
        if not children_done:
            stack.append((m, True))
            stack.extend((c, False) for c in dict.values(d["_modules"]) if c is not None and id(c) not in count)
            continue
        n, total = 1, 0
        for table in ("_parameters", "_buffers"):
            for tname in dict.keys(d[table]):
                n += 1
                total += len(tname) + 1
        for cname, child in dict.items(d["_modules"]):
            if child is not None:
                c_n = count[id(child)]
                n += c_n
                total += chars[id(child)] + c_n * (len(cname) + 1)
        count[id(m)], chars[id(m)] = min(n, cap), min(total, MAX_NAME_CHARS + 1)
    if count[id(model)] > MAX_PLACES:
        return (f"its layers and tensors appear in more than {MAX_PLACES} places once shared layers are counted "
                "where they are used")
    if chars[id(model)] > MAX_NAME_CHARS:
        return (f"the full names of its layers and tensors would take more than {MAX_NAME_CHARS // 1_000_000} M "
                "characters (long or deeply nested names)")
    return ""


def _table_problem(table: Any) -> str:
    """Why ``table`` is not a plain dict that nn.Module can iterate safely, or ``""``."""
    if type(table) not in _TABLE_TYPES:
        return f"is a {type(table).__name__}, not a dict"
    if vars(table) if hasattr(table, "__dict__") else False:
        return "carries attributes of its own (they could hide entries from items()/values())"
    return ""


def _stray_module(value: Any, budget: list[int], depth: int) -> str:
    """Whether an attribute value holds a layer (outside ``_modules``, where eval/float/to never go)."""
    budget[0] -= 1
    if budget[0] < 0:
        return "holds too many values"
    if isinstance(value, nn.Module):
        return f"holds a {type(value).__name__} layer outside the module tree"
    if depth >= _MAX_ATTR_DEPTH:
        return ""
    if type(value) in (list, tuple, set):
        items = value
    elif type(value) in _TABLE_TYPES:
        items = dict.values(value)
    else:
        return ""
    for v in items:
        why = _stray_module(v, budget, depth + 1)
        if why:
            return why
    return ""


@functools.lru_cache(maxsize=4096)
def _is_method(cls: type, key: str) -> bool:
    """Whether ``cls.key`` is something callable that an instance attribute would replace."""
    return callable(getattr(cls, key, None)) and not isinstance(inspect.getattr_static(cls, key, None), property)


def _tensor_problem(t: Any, kind: str = "parameter") -> str:
    """Why ``t`` is not what checkpoint weights are (a dense CPU tensor of a real dtype whose elements
    each have their own memory, no hooks, no attributes), or ``""``."""
    if t is None:
        return ""
    want = nn.Parameter if kind == "parameter" else torch.Tensor
    if type(t) is not want and not (kind == "parameter" and type(t) is torch.Tensor):
        return f"is a {type(t).__name__}, not a tensor"
    if t.layout != torch.strided or t.device.type != "cpu" or t.is_complex():
        return f"is a {t.layout} {t.dtype} tensor on {t.device}, not dense weights"
    if getattr(t, "_backward_hooks", None) or getattr(t, "_post_accumulate_grad_hooks", None):
        return "carries gradient hooks"
    if vars(t):
        return "carries attributes"
    if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
        return "holds NaN or infinite values (every frame would fail)"
    if not non_overlapping(tuple(t.shape), t.stride()):
        return "repeats its values (zero or overlapping strides), which weights never do"
    return ""


def _short(x: Any) -> str:
    return short_repr(x, 40)
