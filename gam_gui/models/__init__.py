"""Model code: YOLOv5 blocks (``common``), GAM (``gam``), the YAML builder and YOLOv5 head (``yolov5``), YOLOv7 blocks
(``yolov7``) and the ultralytics-package YOLOv8 / YOLO11 blocks (``yolov8``).

``yolov7`` and ``yolov8`` are imported here because they register their blocks with the builder on import:
whoever builds or loads a model goes through this package, so their YAMLs always build.
"""

from gam_gui.models import attention as attention  # noqa: F401 - registers the attention blocks (issue 27)
from gam_gui.models import yolov7 as yolov7  # noqa: F401 - registers the YOLOv7 blocks
from gam_gui.models import yolov8 as yolov8  # noqa: F401 - registers the YOLOv8 / YOLO11 blocks
