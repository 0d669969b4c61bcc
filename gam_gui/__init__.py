"""gam-gui: see what the GAM attention in a YOLO-GAM detector does.

The public API, Qt-free::

    import gam_gui
    model = gam_gui.load_model()                      # shipped default, or a YOLOv5/YOLOv7 best.pt
    dets = gam_gui.detect(model, bgr_image)           # list[Detection]
    res = gam_gui.analyze(model, bgr_image)           # detections + Grad-CAM + GAM maps + timings

The explanation names are imported on first use: pytorch-grad-cam pulls in scikit-learn, SciPy and
matplotlib, which detection-only users (and ``gam-gui --help``) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import Any

from gam_gui.checkpoints import CheckpointError, load_model, save_model
from gam_gui.images import ImageError, read_image
from gam_gui.inference import Detection, detect
from gam_gui.models.yolo import DetectionModel

__version__ = "0.1.0"

_LAZY = {
    "analyze": "gam_gui.analysis",
    "analyze_with": "gam_gui.analysis",
    "list_layers": "gam_gui.analysis",
    "per_detection_cams": "gam_gui.analysis",
    "Result": "gam_gui.analysis",
    "Settings": "gam_gui.analysis",
    "GamMaps": "gam_gui.explain.attention",
}

__all__ = [
    "CheckpointError",
    "Detection",
    "DetectionModel",
    "GamMaps",
    "ImageError",
    "Result",
    "Settings",
    "analyze",
    "analyze_with",
    "detect",
    "list_layers",
    "load_model",
    "per_detection_cams",
    "read_image",
    "save_model",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gam_gui' has no attribute {name!r}")
