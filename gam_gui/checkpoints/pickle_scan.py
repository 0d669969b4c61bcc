"""The pickle scanner: a checkpoint's pickle walked as torch's restricted unpickler would walk it,
without building anything, so that calls, tensor views and shared structures are checked first.
"""

from __future__ import annotations

import _compat_pickle
import math
import pickletools
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from gam_gui.checkpoints.archive import STORAGE_KEY_RE
from gam_gui.checkpoints.errors import CheckpointError, first_line, short_repr
from gam_gui.checkpoints.limits import non_overlapping


def allowed_names(allowed: list[Any]) -> set[str]:
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
                cls = stack[-1]
                if isinstance(cls, _Global) and cls.name not in self.allowed:  # say which layer it is
                    layer = layer_index([*marks, stack])
                    raise CheckpointError(_explain_global(cls.name, self.source, layer), reason="global",
                                          class_name=cls.name, layer=layer)
                stack[-1] = self.newobj(cls, args)
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
            raise self.refuse(f"its storage type {short_repr(stype.name, 60)} is not a tensor storage")
        if not isinstance(key, str) or not STORAGE_KEY_RE.fullmatch(key) or not isinstance(_location, str) \
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
        raise self.refuse(f"the file sets the state of {short_repr(what, 80)} (BUILD), which a saved model "
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
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) if numel else offset - 1
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


def scan_pickle(data: bytes, source: str, allowed: set[str], modules: frozenset[str] = frozenset(),
                 record_sizes: dict[str, int] | None = None, inert: frozenset[str] = frozenset()) -> ScanResult:
    """Scan one pickle (see :class:`_Scanner`); ``record_sizes`` maps storage keys to their record sizes;
    ``inert`` are the placeholder classes a pickle may also create by calling them with no arguments."""
    try:
        return _Scanner(source, allowed, modules, {k.lower(): v for k, v in (record_sizes or {}).items()},
                        len(data), inert).run(data)
    except CheckpointError:
        raise
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to scan this file", reason="memory") from e
    except RecursionError as e:
        raise CheckpointError(f"{source}: the file is truncated or corrupt (malformed pickle: too deep)",
                              reason="corrupt") from e
    except Exception as e:  # noqa: BLE001 - genops' ValueError, stack underflow, unknown memo key ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt (malformed pickle: {first_line(e)})",
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




GLOBAL_RE = re.compile(r"GLOBAL\s+([A-Za-z_][\w.]*)")
_BUILD_RE = re.compile(r"but got <class '([\w.]+)'>")


def layer_index(frames: list[list[Any]]) -> int | None:
    """The layer (position in the model's layer list) an object being created belongs to, read from
    the unpickler's stack frames: after the frame keyed ``'model'`` (the checkpoint's or the
    DetectionModel's), the first frame whose open key is a number is the layer list's. A frame that
    fills a dict holds ``key, value, key, value ...``: its open key is the last string at an even place
    (the value being built may have pushed its state after it)."""
    seen_model = False
    for f in frames:
        last = (len(f) - 1) // 2 * 2
        key = next((f[i] for i in range(last, max(last - 4, -1), -2) if isinstance(f[i], str)), None)
        if not seen_model:
            seen_model = key == "model"
        elif isinstance(key, str) and key.isdigit() and len(key) <= 6:
            return int(key)
    return None


def _explain_global(name: str, source: str, layer: int | None = None) -> str:
    """The message for a pickle that names a global gam-gui does not allow."""
    if name == "builtins.getattr":
        return (f"{source}: refused: the file stores a method or attribute lookup (a getattr call), for "
                "example a model pickled after fuse(); re-save it unfused. Nothing from it was executed.")
    if name.startswith(("models.", "ultralytics.nn.")):
        where = f"layer {layer}: " if layer is not None else ""
        return (f"{source}: {where}the custom block {name!r} is not one gam-gui knows, so the file was "
                "not loaded (no code from it is run); add the block with a plugin (--plugin my_blocks.py) or "
                "a pull request, see CONTRIBUTING.md")
    return (f"{source}: refused: the file asks to run or build {name!r}, which is not part of a "
            "model checkpoint. Nothing from it was executed.")


def explain_unpickling_error(e: BaseException, source: str) -> str:
    msg = str(e)
    m = GLOBAL_RE.search(msg)
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
