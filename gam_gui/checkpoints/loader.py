"""Loading a checkpoint: read, scan, unpickle, build, check, smoke-test (see SECURITY.md)."""

from __future__ import annotations

import io
import logging
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gam_gui.checkpoints.archive import read_archive
from gam_gui.checkpoints.errors import CheckpointError, first_line, short_repr
from gam_gui.checkpoints.foreign import (
    TRAINER_DATA_PATHS,
    check_attention_blocks,
    model_from_foreign,
    module_class_paths,
    package_gam_paths,
    record_gam_variants,
    safe_globals,
)
from gam_gui.checkpoints.limits import MAX_BYTES
from gam_gui.checkpoints.own_format import FORMAT, default_weights_path, load_own
from gam_gui.checkpoints.pickle_scan import GLOBAL_RE, allowed_names, explain_unpickling_error, scan_pickle
from gam_gui.heads import adapter_for
from gam_gui.models import attention
from gam_gui.models import gam as gam_mod
from gam_gui.models.yolov5 import DetectionModel

LOGGER = logging.getLogger(__name__)


def _read_bytes(path: Path) -> bytes:
    try:
        if not path.exists():
            raise CheckpointError(f"{path}: no such file")
        if path.is_dir():
            raise CheckpointError(f"{path}: is a folder, not a checkpoint")
        size = path.stat().st_size
        if size == 0:  # also what a FIFO or /dev/zero reports: never read those
            raise CheckpointError(f"{path}: empty file (0 bytes)")
        if size > MAX_BYTES:
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
    except MemoryError as e:  # reading, scanning or unpickling: memory, whatever step ran out
        raise CheckpointError(f"{path}: not enough memory to load this file", reason="memory",
                              path=str(path)) from e


def _load(path: Path, device: str | torch.device | None, gam_variant: str | None) -> DetectionModel:
    source = str(path)
    ckpt = unpickle(_read_bytes(path), source)
    try:
        model = model_from_checkpoint(ckpt, source)
        if gam_variant is not None:
            set_gam_variant(model, gam_variant)
        model = prepare_for_inference(model, device)
        smoke_test(model, source)
    except CheckpointError:
        raise
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to load this model", reason="memory") from e
    except RecursionError as e:
        raise CheckpointError(f"{source}: the model nests too deeply to be used", reason="structure") from e
    except Exception as e:  # noqa: BLE001 - the file decides what these objects hold; any failure is the file's
        raise CheckpointError(f"{source}: cannot be used as a model: {type(e).__name__}: {first_line(e)}") from e
    return model


def smoke_test(model: nn.Module, source: str) -> None:
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
    except MemoryError as e:
        raise CheckpointError(f"{source}: not enough memory to run the model on a small frame", reason="memory") \
            from e
    except Exception as e:  # noqa: BLE001 - the weights and attributes come from the file
        raise CheckpointError(f"{source}: the model cannot run on a frame: {type(e).__name__}: {first_line(e)}") \
            from e
    adapter = adapter_for(model)  # the one place that knows each head's output layout
    ok, layout = adapter.output_ok(y), adapter.output_layout
    if not ok:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise CheckpointError(f"{source}: the model's output {shape} is not a list of detections {layout}",
                              reason="output", shape=shape)


def set_gam_variant(model: nn.Module, variant: str) -> int:
    """Force the forward variant of every GAM block; returns how many blocks were changed."""
    if variant not in gam_mod.VARIANTS:
        raise CheckpointError(f"unknown GAM variant {short_repr(variant, 40)}; choose one of "
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
        raise CheckpointError(f"cannot move the model to {device}: {first_line(e)}") from e
    return model


def unpickle(data: bytes, source: str) -> Any:
    """The restricted unpickler; every failure becomes a CheckpointError.

    torch's allowlist says which globals may appear, not how they are used, and torch's zip reader
    finds its records by its own rules. So the archive is read once here (:func:`read_archive`), its
    one pickle is scanned (:func:`scan_pickle`: every call, object creation, tensor view and shared
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
    archive = read_archive(data, source)
    # GAM and the registry's attention blocks pasted by users anywhere under ultralytics.nn, by name
    extra = {**attention.package_paths(archive.pickle), **package_gam_paths(archive.pickle)}
    allowed = safe_globals(extra)
    scan = scan_pickle(archive.pickle, source, allowed_names(allowed), module_class_paths(extra),
                        record_sizes=archive.storage_sizes, inert=TRAINER_DATA_PATHS)
    try:
        clean = archive.rebuild(scan.storage_keys, source)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - a storage record with a bad CRC, a truncated entry ...
        raise CheckpointError(f"{source}: the file is truncated or corrupt ({first_line(e)})", reason="corrupt") \
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
        named = GLOBAL_RE.search(str(e))
        raise CheckpointError(explain_unpickling_error(e, source), reason="unpickling",
                              class_name=named.group(1) if named else None) from e



def model_from_checkpoint(ckpt: Any, source: str = "checkpoint") -> DetectionModel:
    """A model from an unpickled checkpoint of any supported format."""
    if isinstance(ckpt, dict) and ckpt.get("format") == FORMAT:
        model = load_own(ckpt, source)
        record_gam_variants(model)
        check_attention_blocks(model, source)  # built from the YAML: records each block's variant
        return model
    return model_from_foreign(ckpt, source)
