"""The model-parameter randomisation test (Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018).

A map that explains the model must change when the model's weights are destroyed. The weights are
re-initialised *cascading* from the head down to the attention blocks (stage 1: the head; then
each attention block of the registry, GAM or another kind, and everything above it), each stage on
a deep copy made once (the loaded model is never touched), and each method's map of the trained
model's detection (the same prediction row and class, scored by the randomised copy) is compared
with the trained map by Spearman's rank correlation over the frame's pixels at the network input (a
randomised map that is constant, so has no order, counts as 0 and is counted in
``constant_maps``). A method whose map keeps a rank correlation above :data:`INSENSITIVE` once
everything down to the lowest attention block is random is flagged :data:`FLAG`: it shows the image
(edges, the objects' outline), not what the model learned.

Cost per image: one forward (graph recorded) and one batched backward per gradient method for each
stage; with three attention blocks (four stages) about 4 x the trained maps, small against the curves.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from gam_gui.explain.blocks import block_indices
from gam_gui.explain.engine import layer_list
from gam_gui.faithfulness.maps import FrameMaps, frame_maps
from gam_gui.faithfulness.summary import bootstrap_ci

INSENSITIVE = 0.5
FLAG = "insensitive to the model"


def randomized(model: nn.Module, first: int, seed: int = 0) -> nn.Module:
    """A deep copy of ``model`` whose layers ``first`` .. head have fresh weights (each submodule's
    own ``reset_parameters``, batch-norm statistics reset), drawn from ``seed``."""
    m = copy.deepcopy(model).eval()
    seq = layer_list(m)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for i in range(int(first), len(seq)):
            for sub in seq[i].modules():
                if hasattr(sub, "reset_running_stats"):
                    sub.reset_running_stats()
                if callable(getattr(sub, "reset_parameters", None)):
                    sub.reset_parameters()
    return m


def cascade(model: nn.Module, seed: int = 0) -> list[tuple[str, nn.Module]]:
    """The cascade's stages, ``(label, randomised copy)``: the head alone, then down to each
    attention block (highest first); the last stage has everything from the lowest block up random."""
    n = len(layer_list(model))
    firsts = [n - 1] + sorted((g for g in set(block_indices(model)) if 0 <= g < n - 1), reverse=True)
    return [("head" if f == n - 1 else f"layers {f}..head", randomized(model, f, seed)) for f in firsts]


def rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps' pixels (ties get their mean rank); NaN when one
    map is constant (no ranking to compare)."""
    from scipy.stats import rankdata

    ra = rankdata(np.asarray(a, np.float64).ravel())
    rb = rankdata(np.asarray(b, np.float64).ravel())
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def content(m: np.ndarray, fm: FrameMaps) -> np.ndarray:
    """The frame's pixels of an input-size map (the letterbox padding is not the frame)."""
    x1, y1, x2, y2 = fm.lb.content_box()
    return m[y1:y2, x1:x2]


def image_correlations(stages: Sequence[tuple[str, nn.Module]], image: np.ndarray, trained: FrameMaps,
                       methods: Sequence[str], imgsz: int) -> dict[str, list[list[float]]]:
    """Per method, per stage, the rank correlation of each detection's trained map with its map
    under the randomised copy (``trained``: :func:`frame_maps` of the trained model)."""
    out: dict[str, list[list[float]]] = {m: [] for m in methods}
    for _, rnd in stages:
        fm = frame_maps(rnd, image, methods, imgsz=imgsz, rows=trained.rows, classes=trained.classes)
        for m in methods:
            out[m].append([rank_corr(content(a, trained), content(b, fm))
                           for a, b in zip(trained.maps_in[m], fm.maps_in[m], strict=True)])
    return out


def summarize(per_method: dict[str, list[list[float]]], labels: Sequence[str], seed: int = 0) -> dict:
    """``{method: {rank_corr, ci95, detections, flags, cascade: [{randomized, rank_corr}]}}`` from the
    per-stage correlations (the last stage is the one flagged); ``None`` and a note without any."""
    res = {}
    for m, stages in per_method.items():
        rows = []
        for label, vals in zip(labels, stages, strict=True):
            v = np.asarray(vals, np.float64)
            constant = int((~np.isfinite(v)).sum())
            v = np.nan_to_num(v, nan=0.0)  # a constant randomised map keeps none of the trained map's order
            rows.append({"randomized": label, "rank_corr": round(float(v.mean()), 4) if len(v) else None,
                         "ci95": bootstrap_ci(v, seed=seed), "detections": int(len(v)),
                         "constant_maps": constant})
        last = rows[-1] if rows else {"rank_corr": None, "ci95": None, "detections": 0}
        entry = {"rank_corr": last["rank_corr"], "ci95": last["ci95"], "detections": last["detections"],
                 "flags": [FLAG] if last["rank_corr"] is not None and last["rank_corr"] > INSENSITIVE else [],
                 "cascade": rows}
        if last["rank_corr"] is None:
            entry["note"] = "no detection to check"
        res[m] = entry
    return res


def accumulate(into: dict[str, list[list[float]]], part: dict[str, list[list[float]]]) -> None:
    """Append one image's per-stage correlations to the running lists."""
    for m, stages in part.items():
        dst = into.setdefault(m, [[] for _ in stages])
        for d, s in zip(dst, stages, strict=True):
            d.extend(s)


def sanity_check(model: nn.Module, images: Iterable[np.ndarray], methods: Sequence[str], imgsz: int = 640,
                 conf: float = 0.25, seed: int = 0) -> dict:
    """The whole check on ``images`` (the API's entry; ``eval --faithfulness --sanity`` and the
    window's *Sanity check* button run it on their frames). Turns autograd on for its own maps, so a
    caller under ``no_grad`` (the window's worker) need not."""
    stages = cascade(model, seed)
    acc: dict[str, list[list[float]]] = {}
    with torch.enable_grad():
        for img in images:
            trained = frame_maps(model, img, methods, conf=conf, imgsz=imgsz)
            if len(trained.rows):
                accumulate(acc, image_correlations(stages, img, trained, methods, imgsz))
    if not acc:
        acc = {m: [[] for _ in stages] for m in methods}
    return summarize(acc, [s[0] for s in stages], seed)
