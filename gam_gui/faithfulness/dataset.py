"""Faithfulness over a set of images: every detection, every method, the two reference maps.

The images come from any iterable: bare BGR arrays, ``(image, gt boxes, classes)`` tuples, or
dataset samples (:class:`gam_gui.datasets.Sample`, whose unreadable images are skipped), so the
shapes validation set and a user's dataset go through the same code. Ground truth is not used:
every score is about a detection and its own map.

Per image: one forward for all the methods' per-detection maps (:func:`frame_maps`), then per
detection one :func:`measure_maps` call that runs the distinct perturbed frames of every method and
of the ``random`` and ``box`` references together (equal maps, such as ``auto`` and HiResCAM, cost
one). With ``sanity``, the randomised copies' maps of the same detections
(:mod:`gam_gui.faithfulness.sanity`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from torch import nn

from gam_gui.faithfulness import sanity as san
from gam_gui.faithfulness.core import (
    DEFAULT_STEPS,
    DEFAULT_TIE_ORDERS,
    FLAG_BOX,
    FLAG_RANDOM,
    REFERENCES,
    measure_maps,
    reference_maps,
)
from gam_gui.faithfulness.maps import frame_maps
from gam_gui.faithfulness.summary import COLUMNS, flag_rows, summary_row

LOGGER = logging.getLogger(__name__)

#: What ``gam-gui eval --faithfulness`` compares when no ``--methods`` are given.
FAITHFULNESS_METHODS = ("gradcam", "hirescam", "layercam", "eigencam")


def sample_image(item: Any) -> np.ndarray | None:
    """The BGR image of one item of an image iterable (array, tuple or dataset sample); None to skip."""
    if isinstance(item, np.ndarray):
        return item
    if isinstance(item, (tuple, list)):
        return item[0]
    return getattr(item, "image", None)


def sample_index(item: Any, position: int) -> int:
    """The item's index in its dataset (a sample's ``index``), else its position in the iterable:
    the per-detection seeds hang on it, so a shard of a dataset draws what a whole run draws."""
    idx = getattr(item, "index", None)
    return int(idx) if isinstance(idx, (int, np.integer)) else position


def faithfulness_on_images(model: nn.Module, images: Iterable[Any], imgsz: int = 640, conf: float = 0.25,
                           methods: Sequence[str] = FAITHFULNESS_METHODS, steps: int = DEFAULT_STEPS,
                           baseline: str = "blur", tie_orders: int = DEFAULT_TIE_ORDERS, feather: float = 0.0,
                           sanity: bool = False, seed: int = 0,
                           progress: Callable[[int, int | None], None] | None = None,
                           total: int | None = None, details: dict | None = None,
                           max_detections: int | None = None,
                           on_detection: Callable[[], None] | None = None) -> dict:
    """Per method and per reference map, the mean over every detection (at ``conf``) of pointing,
    energy in box and the deletion and insertion AUCs, with 95 % bootstrap intervals of the AUCs,
    the mean tied fraction and the flags against the references; with ``sanity`` the rank
    correlations of the randomisation check under ``sanity``. ``progress(done, total)`` after each
    image. ``details``: a dict that receives the per-detection rows in image order (see
    :func:`faithfulness_from_details`, which turns shards' concatenated rows into the same
    result). Detection ``i`` of the image with index ``k`` draws its tie orders and random map from
    ``seed + 1000 * k + i``. ``max_detections``: only the first (most confident) detections of each
    image (None: all), the report's cap on a costly part; ``on_detection()`` after each measured one.
    Needs autograd enabled (the maps' backward)."""
    methods = tuple(dict.fromkeys(methods))
    if any(m in REFERENCES for m in methods):
        raise ValueError(f"{', '.join(REFERENCES)} are reference maps, always scored; not methods")
    d = details if details is not None else {}
    d.update({"scores": {m: [] for m in (*methods, *REFERENCES)}, "sanity": {}, "ms": [], "images": 0,
              "sanity_seconds": 0.0})
    stages = san.cascade(model, seed) if sanity else []
    d["sanity_stages"] = [s[0] for s in stages]
    for position, item in enumerate(images):
        img = sample_image(item)
        if img is None:
            continue
        base = seed + 1000 * sample_index(item, position)
        d["images"] += 1
        fm = frame_maps(model, img, methods, conf=conf, imgsz=imgsz)
        for i, det in enumerate(fm.detections[:max_detections] if max_detections else fm.detections):
            maps = {m: fm.frame_map(m, i) for m in methods}
            maps.update(reference_maps(img.shape[:2], det.xyxy, base + i))
            res = measure_maps(model, img, maps, det, steps=steps, baseline=baseline, imgsz=imgsz,
                               tie_orders=tie_orders, feather=feather, seed=base + i)
            for name, sc in res.items():
                d["scores"][name].append({c: float(getattr(sc, c)) for c in (*COLUMNS, "tied_fraction")})
            d["ms"].append(round(next(iter(res.values())).ms, 1))
            if on_detection is not None:
                on_detection()
        if stages and fm.detections:
            t0 = time.perf_counter()
            san.accumulate(d["sanity"], san.image_correlations(stages, img, fm, methods, imgsz))
            d["sanity_seconds"] += time.perf_counter() - t0
        if progress is not None:
            progress(d["images"], total)
    return faithfulness_from_details(d, imgsz=imgsz, conf=conf, steps=steps, baseline=baseline,
                                     tie_orders=tie_orders, feather=feather, sanity=sanity, seed=seed)


def faithfulness_from_details(details: dict, imgsz: int, conf: float, steps: int, baseline: str, tie_orders: int,
                              feather: float, sanity: bool, seed: int = 0) -> dict:
    """The result of :func:`faithfulness_on_images` from its ``details`` (or from several shards'
    details whose ``scores`` and ``sanity`` lists were concatenated in image order and whose
    ``images`` were summed): the same means, intervals and flags as one run."""
    scores = details["scores"]
    rows = {name: summary_row(v, seed) for name, v in scores.items()}
    flag_rows(rows, REFERENCES)
    n_dets = len(next(iter(scores.values()), []))
    ms = details.get("ms") or []
    out: dict = {"images": details.get("images", 0), "detections": n_dets, "imgsz": imgsz, "conf": conf,
                 "steps": steps, "baseline": baseline, "feather": feather, "tie_orders": tie_orders,
                 "ms_per_detection": round(float(np.median(ms)), 1) if ms else None,
                 "methods": rows, "advice": faithfulness_advice({"methods": rows})}
    if sanity:
        labels = details.get("sanity_stages") or []
        corr = details.get("sanity") or {m: [[] for _ in labels] for m in scores if m not in REFERENCES}
        out["sanity"] = san.summarize(corr, labels, seed)
        out["sanity_seconds"] = round(float(details.get("sanity_seconds", 0.0)), 1)
    for name, row in rows.items():
        LOGGER.info("faithfulness %s: %s", name, {k: row[k] for k in ("deletion_auc", "insertion_auc")})
    return out


def faithfulness_advice(result: dict) -> str:
    """One line on which map to trust for this model, from a :func:`faithfulness_on_images` result:
    the method with the lowest deletion AUC among those not flagged against the references, or why
    there is none."""
    rows = {m: r for m, r in result.get("methods", {}).items()
            if m not in REFERENCES and r.get("deletion_auc") is not None}
    if not rows:
        return "no detection was scored: nothing to advise"
    clean = {m: r for m, r in rows.items() if not r.get("flags")}
    if clean:
        best = min(clean, key=lambda m: (clean[m]["deletion_auc"], -clean[m]["insertion_auc"]))
        return (f"use {best} for this model: lowest deletion AUC among the maps that beat both the random "
                "and the box map")
    beat_random = {m: r for m, r in rows.items() if FLAG_RANDOM not in (r.get("flags") or [])}
    if beat_random:
        best = min(beat_random, key=lambda m: beat_random[m]["deletion_auc"])
        return (f"{best} beats a random map but no method beats the box map on both curves: "
                f"the maps say little beyond where the box is ({FLAG_BOX})")
    return f"no method beats a random map on both curves ({FLAG_RANDOM}): do not trust these maps for this model"
