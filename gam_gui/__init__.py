"""gam-gui: see what the GAM attention in a YOLO-GAM detector does.

The public API, Qt-free::

    import gam_gui
    model = gam_gui.load_model()                      # shipped default, or a YOLOv5/YOLOv7 best.pt
    dets = gam_gui.detect(model, bgr_image)           # list[Detection]
    res = gam_gui.analyze(model, bgr_image)           # detections + Grad-CAM + GAM maps + timings
"""

from __future__ import annotations

from gam_gui.checkpoints import CheckpointError, load_model, save_model
from gam_gui.images import ImageError, read_image
from gam_gui.inference import Detection, detect
from gam_gui.models.yolo import DetectionModel

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "Detection",
    "DetectionModel",
    "ImageError",
    "detect",
    "load_model",
    "read_image",
    "save_model",
]
