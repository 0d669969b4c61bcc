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

import io
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gam_gui.models import gam as gam_mod
from gam_gui.models.yolo import DetectionModel, ModelConfigError

LOGGER = logging.getLogger(__name__)

FORMAT = "gam-gui"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "yolov5n_gam_shapes.pt"
_MAX_BYTES = 2 * 1024**3


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
    if ckpt.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{source}: written by a newer gam-gui (format {ckpt.get('version')})")
    try:
        model = DetectionModel(ckpt["yaml"])
    except (ModelConfigError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: its model description cannot be built: {e}") from e
    state = ckpt.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError(f"{source}: has no state_dict")
    try:
        expected = model.state_dict()
        # A YOLOv5 v5.0 head carries a derived ``anchor_grid`` buffer that models built here do not
        # register (it is recomputed from ``anchors``); it is the one entry allowed to be left over.
        state = {k: v for k, v in state.items() if k in expected or not k.endswith("anchor_grid")}
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{source}: weights do not fit its model description: {_first_line(e)}") from e
    model.names = _names_dict(ckpt.get("names")) or model.names
    for name, variant in (ckpt.get("gam_variants") or {}).items():
        m = dict(model.named_modules()).get(name)
        if isinstance(m, gam_mod.GAM) and variant in gam_mod.VARIANTS:
            m.variant = variant
    model.meta = ckpt.get("meta") or {}
    return model


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes)")
    if size > _MAX_BYTES:
        raise CheckpointError(f"{path}: {size / 1e9:.1f} GB is too large for a detection checkpoint")
    return path.read_bytes()


def load_model(path: str | os.PathLike | None = None, device: str | torch.device | None = None,
               gam_variant: str | None = None) -> DetectionModel:
    """Load a detector for inference: eval mode, fp32, on ``device`` (CUDA when available by default).

    ``path`` may be the project's own file, an ultralytics YOLOv5 or a YOLOv7 ``train.py`` checkpoint;
    ``None`` loads the shipped default model. ``gam_variant`` overrides the forward of every GAM block
    (see :data:`gam_gui.models.gam.VARIANTS`), for checkpoints whose GAM code is not the usual one.
    Raises :class:`CheckpointError` for anything that is not a loadable, safe checkpoint.
    """
    if path is None:
        path = default_weights_path()
        if not Path(path).exists():
            raise CheckpointError(
                f"no default model is shipped at {path}; pass the path of a checkpoint (--weights)"
            )
    path = Path(path)
    data = _read_bytes(path)
    ckpt = _unpickle(data, str(path))
    model = model_from_checkpoint(ckpt, str(path))
    if gam_variant is not None:
        set_gam_variant(model, gam_variant)
    return prepare_for_inference(model, device)


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
    """The restricted unpickler; every failure becomes a CheckpointError."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        head = data[:8]
        if head[:2] == b"\x80\x02" or head[:1] == b"\x80":
            raise CheckpointError(
                f"{source}: a legacy (non-zip) torch pickle; gam-gui reads only zip-format checkpoints "
                "(torch >= 1.6) so that it never runs code from the file"
            )
        raise CheckpointError(f"{source}: not a PyTorch checkpoint (not a zip archive)")
    from gam_gui.ultralytics_compat import safe_globals

    try:
        with torch.serialization.safe_globals(safe_globals()):
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - whatever the unpickler raises, the user needs one message
        raise CheckpointError(_explain_unpickling_error(e, source)) from e


_GLOBAL_RE = re.compile(r"GLOBAL\s+([A-Za-z_][\w.]*)")


def _explain_unpickling_error(e: BaseException, source: str) -> str:
    msg = str(e)
    m = _GLOBAL_RE.search(msg)
    if m:
        name = m.group(1)
        if name == "builtins.getattr":
            return (f"{source}: refused: the file stores a method or attribute lookup (a getattr call), for "
                    "example a model pickled after fuse(); re-save it unfused. Nothing from it was executed.")
        if name.startswith("models."):
            return (f"{source}: uses the custom block {name!r}, which gam-gui does not know; "
                    "it was not loaded (no code from the file is run)")
        return (f"{source}: refused: the file asks to run or build {name!r}, which is not part of a "
                "model checkpoint. Nothing from it was executed.")
    if "truncated" in msg.lower() or "unexpected end" in msg.lower() or "failed finding central directory" in msg:
        return f"{source}: the file is truncated or corrupt"
    return f"{source}: cannot be read as a checkpoint: {_first_line(e)}"


def model_from_checkpoint(ckpt: Any, source: str = "checkpoint") -> DetectionModel:
    """A model from an unpickled checkpoint of any supported format."""
    if isinstance(ckpt, dict) and ckpt.get("format") == FORMAT:
        return _load_own(ckpt, source)
    from gam_gui.ultralytics_compat import model_from_foreign

    return model_from_foreign(ckpt, source)
