"""Detection metrics on a user's own data: per-image records, protocols (``coco`` = pycocotools,
``ultralytics`` = ``ultralytics val``), a mergeable scorer and the paired bootstrap.

Import what you need from the submodules; this package exposes the contract shared with the
dataset and evaluation code (:class:`ImageRecord`, :class:`Protocol`, :func:`get_protocol`).
"""

from gam_gui.metrics.protocols import (
    IOU_THRESHOLDS,
    PROTOCOL_NAMES,
    ImageMatch,
    ImageRecord,
    Protocol,
    UnknownProtocolError,
    box_iou,
    get_protocol,
    register_protocol,
)

__all__ = ["IOU_THRESHOLDS", "PROTOCOL_NAMES", "ImageMatch", "ImageRecord", "Protocol", "UnknownProtocolError",
           "box_iou", "get_protocol", "register_protocol"]
