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
import copy
import io
import logging
import math
import os
import pickletools
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from gam_gui.models import gam as gam_mod
from gam_gui.models.yolo import DetectionModel, ModelConfigError, parse_model, run_layers

LOGGER = logging.getLogger(__name__)

FORMAT = "gam-gui"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "yolov5n_gam_shapes.pt"
_MAX_BYTES = 2 * 1024**3
#: A model description may build at most this many layers, repeats counted (yolov5x has about 60).
_MAX_REPEATS = 2_000
#: Activations of one 256x256 probe forward, summed over layers (yolov5s needs 2e7; 4 bytes each).
_MAX_ACTIVATIONS = 300_000_000


class CheckpointError(ValueError):
    """A file that cannot be loaded as a model; the message says why, for the user."""


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
        "yaml": _plain(model.yaml),
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


def _names_dict(names: Any) -> dict[int, str]:
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    if isinstance(names, (list, tuple)):
        return {i: str(v) for i, v in enumerate(names)}
    return {}


def _load_own(ckpt: dict[str, Any], source: str) -> DetectionModel:
    version = ckpt.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{source}: has a format version {version!r} that is not a number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{source}: written by a newer gam-gui (format {version})")
    desc = ckpt.get("yaml")
    if not isinstance(desc, dict):
        # A string here would be opened as a YAML path (/dev/zero, a FIFO ...): only an inline dict is read.
        raise CheckpointError(f"{source}: its model description is a {type(desc).__name__}, not a model dict")
    state = ckpt.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise CheckpointError(f"{source}: has no state_dict of named tensors")
    _check_description_size(desc, state, source)
    try:
        model = DetectionModel(desc)
    except (ModelConfigError, KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as e:
        raise CheckpointError(f"{source}: its model description cannot be built: {_first_line(e)}") from e
    try:
        expected = model.state_dict()
        # A YOLOv5 v5.0 head carries a derived ``anchor_grid`` buffer that models built here do not
        # register (it is recomputed from ``anchors``); it is the one entry allowed to be left over.
        state = {k: v for k, v in state.items() if k in expected or not k.endswith("anchor_grid")}
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
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
    meta = ckpt.get("meta")
    model.meta = meta if isinstance(meta, dict) else {}
    return model


def _check_description_size(desc: dict[str, Any], state: dict[str, torch.Tensor], source: str) -> None:
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
        raise CheckpointError(f"{source}: its model description has an implausible depth_multiple {gd!r}")
    repeats = 0
    for row in rows[0] + rows[1]:
        n = row[1] if isinstance(row, (list, tuple)) and len(row) == 4 else None
        if not isinstance(n, (int, float)) or isinstance(n, bool) or not math.isfinite(n):
            raise CheckpointError(f"{source}: its model description has a malformed layer {str(row)[:80]}")
        repeats += max(round(n * gd), 1) if n > 1 else 1
    if repeats > _MAX_REPEATS:
        raise CheckpointError(f"{source}: its model description asks for {repeats} layers; refusing to build it")
    ch = desc.get("ch", 3)
    if not isinstance(ch, int) or isinstance(ch, bool) or not 0 < ch <= 64:
        raise CheckpointError(f"{source}: its model description has an implausible input channel count {ch!r}")
    try:
        with torch.device("meta"):
            seq, save = parse_model(copy.deepcopy(desc), ch=[ch])
    except Exception as e:  # noqa: BLE001 - any failure to build the description is the file's fault
        raise CheckpointError(f"{source}: its model description cannot be built: {_first_line(e)}") from e
    needed = sum(t.numel() for t in (*seq.parameters(), *seq.buffers()))
    stored = sum(t.numel() for t in state.values())
    if needed > 2 * stored + 1_000_000:
        raise CheckpointError(
            f"{source}: its model description needs {needed / 1e6:.1f} M values but the file holds "
            f"{stored / 1e6:.1f} M; refusing to build it"
        )
    _probe_activations(_Routed(seq, save), ch, source, meta_params=False)


class _Routed(nn.Module):
    """A bare layer list with the YOLO ``from`` routing, for the meta-device probe."""

    def __init__(self, seq: nn.Sequential, save: list[int]) -> None:
        super().__init__()
        self.model, self.save = seq, set(save)

    def forward(self, x: torch.Tensor) -> Any:
        return run_layers(self.model, self.save, x)


def _numel(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(_numel(v) for v in x)
    return 0


def _probe_activations(model: nn.Module, ch: int, source: str, meta_params: bool = True, size: int = 256) -> None:
    """Run ``model`` once on a meta-device input and refuse it when its activations would not fit.

    Shapes come out exactly as on a real input but nothing is allocated, so a 1000x upsample or a
    padding of a million pixels is caught here instead of exhausting memory in the first real frame.
    With ``meta_params`` the real weights are swapped for meta stand-ins only for this call.
    """
    total = 0

    def count(_m: nn.Module, _args: Any, out: Any) -> None:
        nonlocal total
        total += _numel(out)
        if total > _MAX_ACTIVATIONS:
            raise _TooLargeError(total)

    hooks = [m.register_forward_hook(count) for m in model.modules()]
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
            f"{source}: one {size}x{size} frame would need more than {e.args[0] * 4 / 1e9:.1f} GB of activations "
            "(an implausible upsampling or padding); refusing it"
        ) from None
    except NotImplementedError as e:  # an op without a meta kernel: the real smoke test still runs
        LOGGER.debug("meta probe skipped: %s", e)
    except Exception as e:  # noqa: BLE001 - a model that cannot run on a frame is not loadable
        raise CheckpointError(f"{source}: the model cannot run on a frame: {_first_line(e)}") from e
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()


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
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
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
    source = str(path)
    data = _read_bytes(path)
    ckpt = _unpickle(data, source)
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
    """One forward on a blank frame of two stride cells: the output must be (1, N, 5 + nc) detections."""
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
    if not isinstance(y, torch.Tensor) or y.ndim != 3 or y.shape[0] != 1 or y.shape[2] < 6:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise CheckpointError(f"{source}: the model's output {shape} is not a list of detections (1, N, 5 + classes)")


def set_gam_variant(model: nn.Module, variant: str) -> int:
    """Force the forward variant of every GAM block; returns how many blocks were changed."""
    if variant not in gam_mod.VARIANTS:
        raise CheckpointError(f"unknown GAM variant {variant!r}; choose one of {', '.join(gam_mod.VARIANTS)}")
    n = 0
    for m in model.modules():
        if isinstance(m, gam_mod.GAM):
            m.variant = variant
            n += 1
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

    Before torch sees the file, the archive's directory and every ``data.pkl`` in it are checked
    (see :func:`_check_archive`): torch's allowlist says which globals may appear, not how they may
    be used, and an allowed class called as a function can allocate whatever memory it is asked for.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        head = data[:8]
        if head[:2] == b"\x80\x02" or head[:1] == b"\x80":
            raise CheckpointError(
                f"{source}: a legacy (non-zip) torch pickle; gam-gui reads only zip-format checkpoints "
                "(torch >= 1.6) so that it never runs code from the file"
            )
        if head[:4] == b"PK\x03\x04":
            raise CheckpointError(f"{source}: the file is truncated or corrupt (a zip archive without its directory)")
        raise CheckpointError(f"{source}: not a PyTorch checkpoint (not a zip archive)")
    from gam_gui.ultralytics_compat import safe_globals

    allowed = safe_globals()
    for pkl in _check_archive(data, source):
        _scan_pickle(pkl, source, _allowed_names(allowed))
    try:
        with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
            # a crafted PROTO or storage call makes torch warn before it fails; the CheckpointError says
            # it in one line
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated", category=UserWarning)
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to read this file") from e
    except Exception as e:  # noqa: BLE001 - whatever the unpickler raises, the user needs one message
        raise CheckpointError(_explain_unpickling_error(e, source)) from e


def _check_archive(data: bytes, source: str) -> list[bytes]:
    """The pickles of a zip checkpoint, after checking that its directory claims no more than it holds.

    torch writes its archives uncompressed, so what the entries claim to expand to is about the file
    size; a directory claiming far more is a zip bomb or a forged size, refused before anything is read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            claimed = sum(i.file_size for i in infos)
            if claimed > _MAX_BYTES or claimed > 4 * len(data) + (1 << 20):
                raise CheckpointError(
                    f"{source}: its entries claim {claimed / 1e6:.0f} MB in a {len(data) / 1e6:.1f} MB file "
                    "(a zip bomb or a corrupt archive); refusing to unpack it"
                )
            if any(i.filename.endswith("/constants.pkl") or "/code/" in i.filename for i in infos):
                raise CheckpointError(
                    f"{source}: a TorchScript archive (a compiled model that carries code); gam-gui reads "
                    "checkpoints saved by YOLOv5/YOLOv7 train.py or by gam-gui itself"
                )
            pickles = [zf.read(i) for i in infos if i.filename.rsplit("/", 1)[-1] == "data.pkl"]
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - BadZipFile, zlib.error, NotImplementedError (method), EOFError ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt ({_first_line(e)})") from e
    if not pickles:
        raise CheckpointError(f"{source}: not a PyTorch checkpoint (a zip archive without data.pkl)")
    return pickles


def _allowed_names(allowed: list[Any]) -> set[str]:
    """Pickle paths the restricted unpickler accepts: ours plus torch's defaults."""
    names = {x[1] if isinstance(x, tuple) else f"{x.__module__}.{x.__qualname__}" for x in allowed}
    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        names |= set(_get_allowed_globals())
    except (ImportError, AttributeError):  # pragma: no cover - a torch without it: messages get vaguer
        pass
    return names


class _Global:
    """A global named by the pickle, as it sits on the scanner's stack."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


#: Callables a checkpoint's pickle may *call* (REDUCE): tensor, container and numpy rebuilders.
#: Everything else the unpickler allows (module classes, torch.nn layers, numpy.ndarray, bytearray of
#: a size ...) may only be instantiated empty and filled with state, as pickling a module does.
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
_NO_ARGS = ()
_OPAQUE = object()


def _scan_pickle(data: bytes, source: str, allowed: set[str]) -> None:
    """Walk the pickle's opcodes as torch's restricted unpickler would, without building anything,
    and refuse every call (REDUCE) of a global that is not a plain rebuilder.

    The stack is tracked symbolically (globals, ints and tuples of them; everything else opaque),
    through MARKs and the memo, so a call is seen whichever way the file reaches its callable. The
    opcode set is the one torch accepts: anything else stops torch too, so the scan stops there.
    A pickle the scanner cannot follow is refused (fail closed).
    """
    stack: list[Any] = []
    marks: list[list[Any]] = []
    memo: dict[int, Any] = {}
    try:
        for op, arg, _pos in _genops(data):
            name = op.name
            if name == "GLOBAL":
                mod, _, attr = str(arg).partition(" ")
                if (mod, attr) in _compat_pickle.NAME_MAPPING:
                    mod, attr = _compat_pickle.NAME_MAPPING[(mod, attr)]
                elif mod in _compat_pickle.IMPORT_MAPPING:
                    mod = _compat_pickle.IMPORT_MAPPING[mod]
                stack.append(_Global(f"{mod}.{attr}"))
            elif name == "REDUCE":
                args = stack.pop()
                _check_call(stack[-1], args, source, allowed)
                stack[-1] = _OPAQUE
            elif name == "NEWOBJ":
                del stack[-2:]
                stack.append(_OPAQUE)
            elif name in ("BUILD", "APPEND"):
                stack.pop()
            elif name == "SETITEM":
                del stack[-2:]
            elif name in ("APPENDS", "SETITEMS"):
                stack = marks.pop()
            elif name == "MARK":
                marks.append(stack)
                stack = []
            elif name == "TUPLE":
                items = tuple(stack)
                stack = marks.pop()
                stack.append(items)
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise IndexError("stack underflow")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "EMPTY_TUPLE":
                stack.append(_NO_ARGS)
            elif name in ("BININT", "BININT1", "BININT2", "LONG1"):
                stack.append(int(arg))
            elif name in ("NONE", "NEWFALSE", "NEWTRUE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "BINFLOAT",
                          "BINUNICODE", "SHORT_BINSTRING"):
                stack.append(_OPAQUE)
            elif name == "BINPERSID":
                stack[-1] = _OPAQUE
            elif name in ("BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name in ("BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "PROTO":
                continue
            elif name == "STOP":
                return
            else:  # torch's unpickler would stop here too; say why in words
                raise CheckpointError(
                    f"{source}: refused: its pickle uses the {name} instruction, which torch.save never writes "
                    "(a pickle from another tool, or crafted). Nothing from it was executed."
                )
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - genops' ValueError, stack underflow, unknown memo key ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt (malformed pickle: {_first_line(e)})") \
            from e


def _genops(data: bytes) -> Iterator[tuple[Any, Any, int | None]]:
    """pickletools.genops without the DeprecationWarning it emits for a (crafted) STRING opcode's escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield from pickletools.genops(data)


def _check_call(func: Any, args: Any, source: str, allowed: set[str]) -> None:
    """Refuse one REDUCE unless it calls a rebuilder with arguments that cannot ask for unbounded memory."""
    if not isinstance(func, _Global):
        return  # not a global: torch's unpickler refuses to call it
    name = func.name
    if name not in _CALLABLE:
        if name in allowed:
            raise CheckpointError(
                f"{source}: refused: the file calls {name!r} directly, which a saved model never does (a call "
                "can ask for any amount of memory or read other files). Nothing from it was executed."
            )
        raise CheckpointError(_explain_global(name, source))
    args = args if isinstance(args, tuple) else ()
    if name == "builtins.bytearray" and any(isinstance(a, int) for a in args):
        raise CheckpointError(f"{source}: refused: the file asks for an empty buffer of a given size (a bytearray "
                              "call), which a saved model never does. Nothing from it was executed.")
    if name.endswith("._reconstruct") and len(args) > 1 and isinstance(args[1], tuple):
        n = math.prod(a for a in args[1] if isinstance(a, int))
        if n > 1 << 24:
            raise CheckpointError(f"{source}: refused: the file asks numpy for an array of {n} elements before "
                                  "filling it, which a saved array never does. Nothing from it was executed.")
    if name == "torch._tensor._rebuild_from_type_v2":
        ok = (len(args) == 4 and isinstance(args[0], _Global) and args[0].name in _TENSOR_REBUILDERS
              and isinstance(args[1], _Global) and args[1].name in _TENSOR_TYPES)
        if not ok:
            what = args[0].name if args and isinstance(args[0], _Global) else "something else"
            raise CheckpointError(f"{source}: refused: the file rebuilds a tensor through {what!r}, which is not "
                                  "a tensor rebuilder. Nothing from it was executed.")


_GLOBAL_RE = re.compile(r"GLOBAL\s+([A-Za-z_][\w.]*)")
_BUILD_RE = re.compile(r"but got <class '([\w.]+)'>")


def _explain_global(name: str, source: str) -> str:
    """The message for a pickle that names a global gam-gui does not allow."""
    if name == "builtins.getattr":
        return (f"{source}: refused: the file stores a method or attribute lookup (a getattr call), for "
                "example a model pickled after fuse(); re-save it unfused. Nothing from it was executed.")
    if name.startswith("models."):
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
        return _load_own(ckpt, source)
    from gam_gui.ultralytics_compat import model_from_foreign

    return model_from_foreign(ckpt, source)
