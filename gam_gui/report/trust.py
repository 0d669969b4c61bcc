"""Section 6's measurement: :func:`gam_gui.faithfulness.dataset.faithfulness_on_images` on the
report's images, with its cap on the detections measured per image (the most confident first) and
progress after every detection.

One detection costs hundreds of perturbed frames (every method and both reference maps, each tied
map under several random orders), so a report on a 2-core CPU measures the few most confident
detections of each image rather than all of them; with no cap the result is ``eval --faithfulness``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from gam_gui.faithfulness.dataset import faithfulness_on_images


def faithfulness(model: nn.Module, images: Iterable[Any], imgsz: int, conf: float, methods: tuple[str, ...],
                 steps: int, baseline: str, tie_orders: int, seed: int, max_detections: int | None,
                 on_detection: Callable[[], None] | None = None,
                 on_image: Callable[[int], None] | None = None) -> dict:
    """The faithfulness result (``faithfulness_on_images``' shape, plus ``max_detections``) over the
    first ``max_detections`` detections of each image (None: all); ``on_detection()`` after each
    measured detection, ``on_image(images_done)`` after each image."""
    with torch.enable_grad():
        out = faithfulness_on_images(model, images, imgsz=imgsz, conf=conf, methods=methods, steps=steps,
                                     baseline=baseline, tie_orders=tie_orders, seed=seed,
                                     max_detections=max_detections, on_detection=on_detection,
                                     progress=None if on_image is None else lambda done, total: on_image(done))
    out["max_detections"] = max_detections
    return out
