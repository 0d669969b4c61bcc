"""Section 6's measurement: F's faithfulness evaluation on the report's images, with two things the
report needs that a whole ``eval --faithfulness`` run does not: a cap on the detections measured per
image (the most confident first) and progress after every detection.

One detection costs hundreds of perturbed frames (every method and both reference maps, each tied
map under several random orders), so a report on a 2-core CPU measures the few most confident
detections of each image rather than all of them. The per-detection work is F's own
(:func:`gam_gui.faithfulness.maps.frame_maps`, :func:`gam_gui.faithfulness.measure_maps`, the
reference maps, seeds drawn as :func:`gam_gui.faithfulness.dataset.faithfulness_on_images` draws
them), and the summary, intervals, flags and advice come from
:func:`gam_gui.faithfulness.dataset.faithfulness_from_details`: with no cap, the result equals
``faithfulness_on_images``'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from gam_gui.faithfulness import REFERENCES, measure_maps, reference_maps
from gam_gui.faithfulness.dataset import faithfulness_from_details, sample_image, sample_index
from gam_gui.faithfulness.maps import frame_maps
from gam_gui.faithfulness.summary import COLUMNS


def faithfulness(model: nn.Module, images: Iterable[Any], imgsz: int, conf: float, methods: tuple[str, ...],
                 steps: int, baseline: str, tie_orders: int, seed: int, max_detections: int | None,
                 on_detection: Callable[[], None] | None = None,
                 on_image: Callable[[int], None] | None = None) -> dict:
    """The faithfulness result (``faithfulness_on_images``' shape, plus ``max_detections``) over the
    first ``max_detections`` detections of each image (None: all); ``on_detection()`` after each
    measured detection, ``on_image(n_measured)`` after each image."""
    methods = tuple(dict.fromkeys(methods))
    d: dict = {"scores": {m: [] for m in (*methods, *REFERENCES)}, "sanity": {}, "ms": [], "images": 0,
               "sanity_seconds": 0.0, "sanity_stages": []}
    with torch.enable_grad():
        for position, item in enumerate(images):
            img = sample_image(item)
            if img is None:
                continue
            base = seed + 1000 * sample_index(item, position)
            d["images"] += 1
            fm = frame_maps(model, img, methods, conf=conf, imgsz=imgsz)
            dets = fm.detections[:max_detections] if max_detections else fm.detections
            for i, det in enumerate(dets):
                maps = {m: fm.frame_map(m, i) for m in methods}
                maps.update(reference_maps(img.shape[:2], det.xyxy, base + i))
                res = measure_maps(model, img, maps, det, steps=steps, baseline=baseline, imgsz=imgsz,
                                   tie_orders=tie_orders, seed=base + i)
                for name, sc in res.items():
                    d["scores"][name].append({c: float(getattr(sc, c)) for c in (*COLUMNS, "tied_fraction")})
                d["ms"].append(round(next(iter(res.values())).ms, 1))
                if on_detection is not None:
                    on_detection()
            if on_image is not None:
                on_image(len(dets))
    out = faithfulness_from_details(d, imgsz=imgsz, conf=conf, steps=steps, baseline=baseline, tie_orders=tie_orders,
                                    feather=0.0, sanity=False, seed=seed)
    out["max_detections"] = max_detections
    return out
