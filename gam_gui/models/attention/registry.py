"""The registry of attention blocks: what gam-gui knows about each kind, declared once.

A pickle stores a block's weights and attributes, never its ``forward``; the tutorials circulate
several forwards under one class name. So each kind is a :class:`BlockEntry`: the class names users'
files carry and the safe classes they map onto, the constructor as the tutorials register it in
``parse_model``, the structures a file's layer may have (submodule names and classes, parameter
shapes, plain attributes) each naming the forward variant it implies, the gates the block computes
(named maps with meaning and range) and its ablation modes. The loader, ``layers``, the panels and
ablation all read this table; a plugin (:mod:`gam_gui.plugins`) adds an entry, a checkpoint never does.
The registry is the allowlist: a layer whose class is not here is refused by name.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

LOGGER = logging.getLogger(__name__)

#: Gate kinds and what their maps cover.
GATE_KINDS = {
    "channel": "one weight per channel (C), or per channel and pixel (CxHxW) reduced to weights and a map",
    "spatial": "one weight per pixel (HxW), or per channel and pixel reduced over channels",
    "height": "one weight per channel and row (CxH)",
    "width": "one weight per channel and column (CxW)",
    "energy": "one weight per channel and pixel (CxHxW), reduced over channels like GAM's gates",
    "branches": "weights that mix or average the block's branches",
}
#: How a YAML row's arguments become constructor arguments (``c1`` = input channels ``ch[f]``).
YAML_STYLES = {
    "c1-c2": "args = [c1, c2, *args[1:]]; c2 = args[0] width-scaled (listed with Conv in parse_model)",
    "c1": "c2 = ch[f]; args = [c1, *args] (the row gives only the block's own options)",
    "none": "c2 = ch[f]; args as written (the block takes no channel count)",
}
#: Module paths a user's file may carry a registered class under, besides any ``ultralytics.nn.*``.
MODULE_PATHS = ("models.common", "models.attention", "models.experimental", "ultralytics.nn.modules.conv",
                "ultralytics.nn.modules.block", "ultralytics.nn.modules", "ultralytics.nn.attention",
                "ultralytics.nn.extra_modules.attention", "ultralytics.nn.modules.attention")
#: Longest / deepest class path accepted under ``ultralytics.nn`` (as for GAM).
_PACKAGE_PATH_RE = re.compile(
    rb"c(ultralytics\.nn(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,6})\n([A-Za-z_][A-Za-z0-9_]{0,63})\n")
MAX_PACKAGE_PATHS = 64

#: ``policy(gate_name, gate) -> gate or None``: what a block applies in place of each gate it computes
#: (None: skip that gate). Ablation modes are policies (:mod:`gam_gui.models.attention.base`).
Policy = Callable[[str, torch.Tensor], "torch.Tensor | None"]
#: ``run(block, x, policy) -> (output, {gate name: the gate as applied})``.
RunFn = Callable[[nn.Module, torch.Tensor, Policy], "tuple[torch.Tensor, dict[str, torch.Tensor]]"]
#: ``work(block, input_shape) -> bytes``: the memory one forward of the block holds (with gradients, as
#: a Grad-CAM frame keeps them), its output included. The loader's activation estimate adds it per block
#: (:func:`gam_gui.checkpoints.limits.inner_work_bytes`): a block's ``run`` computes its gates with
#: functional ops, so no layer output inside it shows that memory.
WorkFn = Callable[[nn.Module, tuple[int, ...]], int]
#: Input-sized copies assumed for a block whose entry declares no ``work`` (a plugin's): the largest a
#: built-in one-input block measures (SimAM, EMA, TripletAttention: about 6), rounded up.
DEFAULT_WORK_COPIES = 8.0


def copies(n: float) -> WorkFn:
    """A ``work`` estimate of ``n`` fp32 tensors the size of the block's input (measured per kind with
    the RSS peak of a real frame; tests/loading/test_attention_trainer.py holds each within 2x)."""

    def work(_block: nn.Module, shape: tuple[int, ...]) -> int:
        return int(n * math.prod(shape) * 4)
    return work


class BlockStructureError(ValueError):
    """A layer whose class is registered but whose structure fits none of the entry's structures.

    ``kind``, ``layer`` (dotted name inside the model, may be ""), ``problem`` (why, per structure)."""

    def __init__(self, kind: str, layer: str, problem: str) -> None:
        super().__init__(f"{layer or 'block'} ({kind}): {problem}")
        self.kind, self.layer, self.problem = kind, layer, problem


class RegistryError(ValueError):
    """An entry that cannot be registered (``name``: the offending class name or kind)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Gate:
    """One named map a block computes.

    ``shape``: as recorded, broadcastable to the block's input (B, C, H, W) except ``branches`` of SK
    (B, K, C, 1, 1); ``low``/``high``: its range (None = unbounded); ``mean_dims``: the dims
    ``mean-gate`` averages over (the "where" it removes)."""

    name: str
    kind: str
    shape: str
    meaning: str
    low: float | None = 0.0
    high: float | None = 1.0
    mean_dims: tuple[int, ...] = (2, 3)

    def __post_init__(self) -> None:
        if self.kind not in GATE_KINDS:
            raise RegistryError(self.name, f"gate {self.name!r}: unknown kind {self.kind!r}")


#: A structure's attribute checks: attribute name -> predicate on the stored value.
AttrCheck = Callable[[Any], bool]


@dataclass(frozen=True)
class Structure:
    """One layout a file's layer may have, and the forward it implies.

    ``modules``: dotted child name -> allowed classes (a name ending in ``?`` may be absent);
    ``params``: dotted parameter or buffer name -> shape, each dim an int or a symbol bound on first
    use and required equal after (``?`` suffix: optional); BatchNorm buffers are implied by its
    parameters. ``attrs``: plain attributes the forward reads, with their checks (``?``: optional).
    ``relation(block, symbols)`` checks what shapes alone cannot (``""`` when fine).
    """

    variant: str
    reason: str
    modules: Mapping[str, tuple[type, ...]]
    params: Mapping[str, tuple[int | str, ...]]
    attrs: Mapping[str, AttrCheck] = field(default_factory=dict)
    relation: Callable[[nn.Module, dict[str, int]], str] | None = None


@dataclass(frozen=True)
class BlockEntry:
    """Everything gam-gui knows about one kind of attention block (see the module docstring)."""

    kind: str
    classes: Mapping[str, type[nn.Module]]  # class names as pickled / named in YAMLs -> safe classes
    helpers: Mapping[str, type[nn.Module]]  # names of inner classes the block pickles with it
    signature: str  # the constructor as the tutorials write it
    yaml_style: str  # key of YAML_STYLES
    structures: tuple[Structure, ...]
    gates: tuple[Gate, ...]
    run: RunFn
    modes: tuple[str, ...] = ()  # filled by register() when empty (default_modes)
    output_channels: Callable[[nn.Module, torch.Tensor, int], torch.Tensor] | None = None
    source: str = "gam-gui"  # or the plugin that registered it
    doc: str = ""
    #: variant -> gates that variant does not compute (TripletAttention without ``hw``)
    absent_gates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the memory of one forward (see :data:`WorkFn`); None: :data:`DEFAULT_WORK_COPIES` input copies
    work: WorkFn | None = None

    def work_bytes(self, block: nn.Module, shape: tuple[int, ...]) -> int:
        """What one forward of ``block`` on an input of ``shape`` holds, in bytes (0 without a shape)."""
        if len(shape) != 4:
            return 0
        fn = self.work or copies(DEFAULT_WORK_COPIES)
        return max(int(fn(block, shape)), 0)

    def modes_for(self, variant: str) -> tuple[str, ...]:
        """The modes of a block of this variant: ``<gate>-only`` of a gate it lacks left out."""
        absent = self.absent_gates.get(variant, ())
        return tuple(m for m in self.modes if not (m.endswith("-only") and m[: -len("-only")] in absent))

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise KeyError(name)

    @property
    def channel_gate(self) -> Gate | None:
        """The gate ``drop-top-k`` ranks channels by (the first of kind ``channel``), if any."""
        return next((g for g in self.gates if g.kind == "channel"), None)


def default_modes(gates: tuple[Gate, ...]) -> tuple[str, ...]:
    """``off``; ``<gate>-only`` for each gate when there are several; ``mean-gate`` when a gate has
    extent to average; ``drop-top-k`` when a channel gate exists. A mode that equals the block as
    trained (the only gate of a one-gate block) is left out: it would be a duplicate row."""
    modes = ["off"]
    if len(gates) > 1:
        modes += [f"{g.name}-only" for g in gates]
    if any(g.mean_dims for g in gates):
        modes.append("mean-gate")
    if any(g.kind == "channel" for g in gates):
        modes.append("drop-top-k")
    return tuple(modes)


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_LISTENERS: list[Callable[[BlockEntry], None]] = []
_ENTRIES: dict[str, BlockEntry] = {}
_BY_NAME: dict[str, BlockEntry] = {}
_BY_CLASS: dict[type, BlockEntry] = {}


def register(entry: BlockEntry, *, replace: bool = False) -> BlockEntry:
    """Add ``entry`` to the registry (returned with its modes filled in). A class name already
    claimed by another kind is refused unless ``replace``: a plugin must say it overrides gam-gui."""
    if not _NAME_RE.fullmatch(entry.kind):
        raise RegistryError(entry.kind, f"block kind {entry.kind[:64]!r} is not an identifier")
    if not entry.classes or not entry.structures or not entry.gates:
        raise RegistryError(entry.kind, f"{entry.kind}: an entry needs classes, structures and gates")
    if entry.yaml_style not in YAML_STYLES:
        raise RegistryError(entry.kind, f"{entry.kind}: unknown YAML style {entry.yaml_style!r}")
    for name, cls in {**entry.classes, **entry.helpers}.items():
        if not _NAME_RE.fullmatch(name):
            raise RegistryError(name, f"{entry.kind}: class name {name[:64]!r} is not an identifier")
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise RegistryError(name, f"{entry.kind}: {name} must map onto an nn.Module class")
        owner = _BY_NAME.get(name)
        if owner is not None and owner.kind != entry.kind and not replace:
            raise RegistryError(name, f"{entry.kind}: class name {name} is already registered by {owner.kind}; "
                                      "pass replace=True to override it")
    names = [g.name for g in entry.gates]
    if len(set(names)) != len(names):
        raise RegistryError(entry.kind, f"{entry.kind}: gate names repeat")
    if not entry.modes:
        entry = BlockEntry(**{**entry.__dict__, "modes": default_modes(entry.gates)})
    old = _ENTRIES.get(entry.kind)
    if old is not None:
        if not replace:
            raise RegistryError(entry.kind, f"block kind {entry.kind} is already registered")
        for name in (*old.classes, *old.helpers):
            _BY_NAME.pop(name, None)
        for cls in old.classes.values():
            _BY_CLASS.pop(cls, None)
    _ENTRIES[entry.kind] = entry
    for name in (*entry.classes, *entry.helpers):
        _BY_NAME[name] = entry
    for cls in entry.classes.values():
        _BY_CLASS.setdefault(cls, entry)
    for listener in _LISTENERS:
        listener(entry)
    return entry


def on_register(listener: Callable[[BlockEntry], None]) -> None:
    """Call ``listener(entry)`` for every entry registered from now on (the YAML builder's table)."""
    _LISTENERS.append(listener)


def unregister(kind: str) -> None:
    """Remove a kind (tests, and a plugin replacing its own entry)."""
    old = _ENTRIES.pop(kind, None)
    if old is None:
        return
    for name in (*old.classes, *old.helpers):
        if _BY_NAME.get(name) is old:
            del _BY_NAME[name]
    for cls in old.classes.values():
        if _BY_CLASS.get(cls) is old:
            del _BY_CLASS[cls]


def entries() -> tuple[BlockEntry, ...]:
    """Every registered kind, in registration order."""
    return tuple(_ENTRIES.values())


def entry(kind: str) -> BlockEntry:
    return _ENTRIES[kind]


def entry_for_name(class_name: str) -> BlockEntry | None:
    """The entry that owns ``class_name`` (a block or one of its inner classes), if any."""
    return _BY_NAME.get(class_name)


def entry_of(module: nn.Module) -> BlockEntry | None:
    """The entry of a block instance (by its class, then its bases), or None for any other layer."""
    for cls in type(module).__mro__:
        e = _BY_CLASS.get(cls)
        if e is not None:
            return e
    return None


#: Kinds whose class paths the loader maps itself (GAM: the package's GAM names become PackageGAM,
#: whose variant is decided from structure).
LOADER_MAPPED = frozenset({"GAM"})


def class_paths() -> dict[str, type[nn.Module]]:
    """Every fixed ``module.Name`` path a foreign pickle may name for a registered class."""
    out: dict[str, type[nn.Module]] = {}
    for e in _ENTRIES.values():
        if e.kind in LOADER_MAPPED:
            continue
        for name, cls in {**e.helpers, **e.classes}.items():
            for mod in MODULE_PATHS:
                out[f"{mod}.{name}"] = cls
    return out


def package_paths(pickle: bytes) -> dict[str, type[nn.Module]]:
    """Registered classes a pickle names anywhere under ``ultralytics.nn`` (users paste blocks into
    files of their own, ``ultralytics/nn/extra_modules/attention.py`` ...). Only names the registry
    owns are mapped; everything else stays refused by the allowlist."""
    out: dict[str, type[nn.Module]] = {}
    for m in _PACKAGE_PATH_RE.finditer(pickle):
        if len(out) >= MAX_PACKAGE_PATHS:
            break
        module, name = m.group(1).decode("ascii"), m.group(2).decode("ascii")
        e = _BY_NAME.get(name)
        if e is not None and e.kind not in LOADER_MAPPED:
            out[f"{module}.{name}"] = e.classes.get(name) or e.helpers[name]
    return out


def how_to_add(name: str, module: str, index: int | None) -> str:
    """The one-line refusal for a class the registry does not know."""
    where = f"layer {index}: " if index is not None else ""
    return (f"{where}{module}.{name} is not a block gam-gui knows; add it with a plugin "
            f"(--plugin my_blocks.py, see CONTRIBUTING.md) or a pull request to gam_gui/models/attention/")


# --- structure matching ------------------------------------------------------------------------------

_BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _bind(symbols: dict[str, int], name: str, want: tuple[int | str, ...], got: tuple[int, ...]) -> str:
    if len(want) != len(got):
        return f"{name} has shape {list(got)}, expected {len(want)} dimensions"
    for w, g in zip(want, got, strict=True):
        if isinstance(w, int):
            if w != g:
                return f"{name} has shape {list(got)}, expected {list(want)}"
        elif symbols.setdefault(w, g) != g:
            return f"{name} has shape {list(got)}: its {w} = {g} disagrees with {symbols[w]} elsewhere"
    return ""


#: Layer attributes the YOLO builders set on every layer (``type`` shadows ``nn.Module.type``, which
#: nothing in gam-gui calls; the loader's tree check allows it too).
_SHADOW_OK = frozenset({"type"})


def _shadowing(m: nn.Module) -> str:
    """A stored value that replaces a method or property of the class (``forward`` ...)."""
    for key in dict.keys(vars(m)):
        if key in _SHADOW_OK:
            continue
        attr = getattr(type(m), key, None)
        if callable(attr) or isinstance(attr, property):
            return f"stores a value named {str(key)[:40]!r} that would replace its method"
    return ""


def _layer_problem(name: str, m: nn.Module) -> str:
    """Attributes of torch layers inside a block that its forward relies on."""
    if isinstance(m, nn.Conv1d | nn.Conv2d):
        k = m.weight.shape[2:] if isinstance(m.__dict__.get("_parameters", {}).get("weight"), torch.Tensor) else ()
        pad = getattr(m, "padding", None)
        if (getattr(m, "padding_mode", None) != "zeros" or tuple(getattr(m, "stride", ())) != (1,) * len(k)
                or tuple(getattr(m, "dilation", ())) != (1,) * len(k)
                or not isinstance(pad, tuple) or tuple(pad) != tuple(s // 2 for s in k)):
            return f"{name} is not a same-size convolution (stride 1, no dilation, zero padding k//2)"
    elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
        eps = m.__dict__.get("eps")
        if not isinstance(eps, float) or not 0 < eps < 1 or m.__dict__.get("track_running_stats") is not True:
            return f"{name} is a batch norm without sane eps or running statistics"
    elif isinstance(m, nn.GroupNorm):
        g, c, eps = m.__dict__.get("num_groups"), m.__dict__.get("num_channels"), m.__dict__.get("eps")
        if not (isinstance(g, int) and isinstance(c, int) and 0 < g <= c and c % g == 0
                and isinstance(eps, float) and 0 < eps < 1):
            return f"{name} is a group norm with bad group count or eps"
    elif isinstance(m, nn.Softmax):
        if m.__dict__.get("dim") not in (-1, 0, 1, 2, 3):
            return f"{name} is a softmax over an unexpected dimension"
    elif isinstance(m, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        if m.__dict__.get("output_size") not in (1, (1, 1), (None, 1), (1, None)):
            return f"{name} pools to {str(m.__dict__.get('output_size'))[:20]}, not to a row, a column or a point"
    return ""


def _match(block: nn.Module, s: Structure) -> tuple[str, dict[str, int]]:
    """Why ``block`` does not have structure ``s`` (``""`` when it has it), and the bound symbols."""
    found = dict(block.named_modules())
    found.pop("", None)
    declared = {k.rstrip("?"): v for k, v in s.modules.items()}
    extra = sorted(set(found) - set(declared))
    if extra:
        return f"has a submodule {extra[0][:64]!r} its structure does not have", {}
    for key, classes in s.modules.items():
        name = key.rstrip("?")
        m = found.get(name)
        if m is None:
            if not key.endswith("?"):
                return f"lacks its submodule {name!r}", {}
            continue
        if type(m) not in classes:
            return f"its {name!r} is a {type(m).__name__}, expected {' or '.join(c.__name__ for c in classes)}", {}
    for name, m in [("", block), *found.items()]:
        why = _shadowing(m) or _layer_problem(name or "block", m)
        if why:
            return (f"{name or 'the block'} {why}" if why.startswith("stores") else why), {}
    tensors = dict(block.named_parameters(recurse=True))
    wanted = {k.rstrip("?"): v for k, v in s.params.items()}
    for mname, m in found.items():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) and f"{mname}.weight" in wanted:
            shape = wanted[f"{mname}.weight"]
            wanted.update({f"{mname}.running_mean": shape, f"{mname}.running_var": shape,
                           f"{mname}.num_batches_tracked": ()})
    buffers = dict(block.named_buffers(recurse=True))
    tensors.update(buffers)
    extra = sorted(set(tensors) - set(wanted))
    if extra:
        return f"has a tensor {extra[0][:64]!r} its structure does not have", {}
    symbols: dict[str, int] = {}
    optional = {k.rstrip("?") for k in s.params if k.endswith("?")} | {
        k for k in wanted if k.endswith("num_batches_tracked")}
    for name, shape in wanted.items():
        t = tensors.get(name)
        if t is None:
            if name in optional:
                continue
            return f"lacks its tensor {name!r}", {}
        why = _bind(symbols, name, shape, tuple(t.shape))
        if why:
            return why, {}
    for key, check in s.attrs.items():
        name = key.rstrip("?")
        if name not in vars(block):
            if key.endswith("?"):
                continue
            return f"lacks its attribute {name!r}", {}
        try:
            ok = bool(check(vars(block)[name]))
        except (TypeError, ValueError, ArithmeticError):
            ok = False
        if not ok:
            return f"its attribute {name!r} = {str(vars(block)[name])[:40]} is not what its structure needs", {}
    if s.relation is not None:
        why = s.relation(block, symbols)
        if why:
            return why, {}
    return "", symbols


#: A structure's ``variant`` meaning "the variant the block already runs" (GAM: decided at load).
KEEP_VARIANT = "*"


@dataclass(frozen=True)
class Identified:
    """A block recognised by its structure: the entry, the variant and why (gam-gui's own words)."""

    entry: BlockEntry
    variant: str
    reason: str
    symbols: Mapping[str, int]


def identify(block: nn.Module, layer: str = "") -> Identified:
    """The entry and variant of ``block`` from its structure; :class:`BlockStructureError` when its
    class is registered but its tensors fit none of the declared structures (or it is not registered)."""
    e = entry_of(block)
    if e is None:
        raise BlockStructureError(type(block).__name__, layer, "is not a registered attention block")
    problems = []
    for s in e.structures:
        why, symbols = _match(block, s)
        if not why:
            if s.variant == KEEP_VARIANT:  # GAM: the loader decided it (name or structure); keep it
                variant = str(getattr(block, "gam_variant", "") or "")
                reason = vars(block).get("variant_reason")
                return Identified(e, variant, reason if isinstance(reason, str) else
                                  f"{type(block).__name__}: the {variant} forward", symbols)
            return Identified(e, s.variant, f"{type(block).__name__}: {s.reason}", symbols)
        problems.append(f"as {s.variant}: {why}")
    raise BlockStructureError(e.kind, layer, "; ".join(problems[:4]))


def check_block(block: nn.Module, layer: str = "") -> Identified:
    """:func:`identify`, then record ``variant`` and ``variant_reason`` on the block (computed here,
    never the file's strings)."""
    found = identify(block, layer)
    if any(s.variant == KEEP_VARIANT for s in found.entry.structures):
        return found  # GAM blocks: variant and reason set by the loader (record_gam_variants)
    block.__dict__["variant"] = found.variant
    block.__dict__["variant_reason"] = found.reason
    return found


# --- small attribute predicates for structures ---------------------------------------------------------

def small_int(lo: int = 1, hi: int = 4096) -> AttrCheck:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def small_float(lo: float, hi: float) -> AttrCheck:
    return lambda v: isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v) and lo < v <= hi


def is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def is_none(v: Any) -> bool:
    return v is None
