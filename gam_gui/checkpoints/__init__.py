"""Loading and saving checkpoints without running code from the file.

Two formats are read:

* the project's own (:mod:`.own_format`): a plain dict (model YAML dict, fp16 state_dict, class names,
  metadata) that ``torch.load(weights_only=True)`` reads with no extra globals at all;
* pickles written by the ultralytics YOLOv5 ``train.py``, the YOLOv7 ``train.py`` and the ``ultralytics``
  package (:mod:`.foreign`), which hold whole pickled ``nn.Module`` objects. They are read with torch's
  restricted ``weights_only`` unpickler and an explicit allowlist that maps their class paths onto this
  package's classes, after the archive (:mod:`.archive`) and the pickle (:mod:`.pickle_scan`) were
  checked, and the model's structure (:mod:`.tree`) and work size (:mod:`.limits`) are checked after.

Every failure is one :class:`CheckpointError` (:mod:`.errors`). SECURITY.md says what is promised.
"""

from gam_gui.checkpoints.errors import CheckpointError, escape_text, names_dict, short_repr
from gam_gui.checkpoints.foreign import register_gam_class
from gam_gui.checkpoints.limits import (
    DEFAULT_RUN_SIZE,
    MAX_IMGSZ,
    MIN_IMGSZ,
    WorkEstimate,
    clean_meta,
    derive_strides,
    estimate_work,
    non_overlapping,
    run_size,
)
from gam_gui.checkpoints.loader import (
    load_model,
    model_from_checkpoint,
    prepare_for_inference,
    set_gam_variant,
    smoke_test,
)
from gam_gui.checkpoints.own_format import DEFAULT_WEIGHTS, FORMAT, FORMAT_VERSION, default_weights_path, save_model

__all__ = [
    "DEFAULT_RUN_SIZE", "DEFAULT_WEIGHTS", "FORMAT", "FORMAT_VERSION", "MAX_IMGSZ", "MIN_IMGSZ", "CheckpointError",
    "WorkEstimate", "clean_meta", "default_weights_path", "derive_strides", "escape_text", "estimate_work",
    "load_model", "model_from_checkpoint", "names_dict", "non_overlapping", "prepare_for_inference",
    "register_gam_class", "run_size", "save_model", "set_gam_variant", "short_repr", "smoke_test",
]
