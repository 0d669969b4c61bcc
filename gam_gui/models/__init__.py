"""Model code: YOLOv5 blocks (``common``), GAM (``gam``), the YAML builder (``yolo``) and YOLOv7 blocks.

``yolov7`` is imported here because it registers its blocks with the builder on import: whoever
builds or loads a model goes through this package, so YOLOv7 YAMLs always build.
"""

from gam_gui.models import yolov7 as yolov7  # noqa: F401 - registers the YOLOv7 blocks
