"""gam-gui: see what the GAM attention in a YOLO-GAM detector does.

The public API, Qt-free::

    import gam_gui
    model = gam_gui.load_model()                      # shipped default, or a YOLOv5/YOLOv7 best.pt
    dets = gam_gui.detect(model, bgr_image)           # list[Detection]
    res = gam_gui.analyze(model, bgr_image)           # detections + Grad-CAM + GAM maps + timings

Every public name is imported on first use (PEP 562 ``__getattr__``): ``import gam_gui`` costs
nothing, so ``gam-gui --help`` and the checks of bad arguments answer at once, and torch, OpenCV and
pytorch-grad-cam (which pulls in scikit-learn, SciPy and matplotlib) load only when a name that
needs them is used. ``from gam_gui import load_model`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "CheckpointError": "gam_gui.checkpoints",
    "load_model": "gam_gui.checkpoints",
    "save_model": "gam_gui.checkpoints",
    "ImageError": "gam_gui.images",
    "read_image": "gam_gui.images",
    "Detection": "gam_gui.inference",
    "detect": "gam_gui.inference",
    "DetectionModel": "gam_gui.models.yolov5",
    "analyze": "gam_gui.analysis",
    "analyze_with": "gam_gui.analysis",
    "list_layers": "gam_gui.analysis",
    "per_detection_cams": "gam_gui.analysis",
    "Result": "gam_gui.analysis",
    "Settings": "gam_gui.analysis",
    "GamMaps": "gam_gui.explain.attention",
    "ablate": "gam_gui.ablation",
    "ablated": "gam_gui.ablation",
    "AblationResult": "gam_gui.ablation",
    "Match": "gam_gui.matching",
    "compare": "gam_gui.compare",
    "CompareResult": "gam_gui.compare",
}

__all__ = [
    "AblationResult",
    "CheckpointError",
    "CompareResult",
    "Detection",
    "DetectionModel",
    "GamMaps",
    "ImageError",
    "Match",
    "Result",
    "Settings",
    "ablate",
    "ablated",
    "analyze",
    "analyze_with",
    "compare",
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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
