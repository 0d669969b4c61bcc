"""The building blocks of a dataset run, shared by ``eval``, ``compare``, the Ray tasks and the window's
dataset browser: the device, the model's size and class names, the dataset, the ablations, and one
scored run (:func:`score_run`). Kept apart from the commands so that the shard and cluster modules can
call them without importing the commands that call them back.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import torch
from torch import nn

from gam_gui.evaluation.report import EvalRun
from gam_gui.evaluation.runner import score_dataset
from gam_gui.progress import Progress

LOGGER = logging.getLogger(__name__)
#: images scored on the shapes set when --images is not given
SHAPES_DEFAULT_IMAGES = 500


def resolve_device(device: str | None) -> str:
    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def model_imgsz(model: nn.Module, imgsz: int | None) -> int:
    """``--imgsz``, else the checkpoint's own (320 when it has none), rounded up to the stride."""
    from gam_gui.inference import model_stride
    from gam_gui.validate import round_imgsz

    return round_imgsz(imgsz or int(getattr(model, "meta", {}).get("imgsz", 320) or 320), model_stride(model),
                       "--imgsz")


def class_names(model: nn.Module) -> list[str]:
    from gam_gui.inference import model_names

    names = model_names(model)
    return [names[k] for k in sorted(names)]


def open_data(args: argparse.Namespace, model: nn.Module) -> Any:
    """The dataset ``args`` name: ``--data`` at ``--split`` (first ``--images``), else the shapes
    validation set (``--hard``: the hard slice)."""
    from gam_gui.datasets import open_dataset, shapes_dataset

    data = getattr(args, "data", None)
    if data is not None:
        return open_dataset(data, getattr(args, "split", "val"), getattr(args, "images", None),
                            model_names=class_names(model))
    from gam_gui.data.shapes import HARD, NORMAL

    return shapes_dataset(getattr(args, "images", None) or SHAPES_DEFAULT_IMAGES,
                          HARD if getattr(args, "hard", False) else NORMAL)


def ablations_for(model: nn.Module, args: argparse.Namespace) -> list[dict]:
    """The ablations asked for (``--ablate``, then ``--ablate-each``), checked against the model."""
    from gam_gui.ablation import every_ablation, resolve_blocks
    from gam_gui.validate import UsageError

    out = []
    for specs in getattr(args, "ablate", None) or []:
        try:
            out.append(resolve_blocks(model, specs))
        except ValueError as e:
            raise UsageError("--ablate", str(e)) from None
    if getattr(args, "ablate_each", False):
        if not out and not every_ablation(model):
            raise UsageError("--ablate-each", "this model has no GAM blocks to ablate")
        out += every_ablation(model)
    return out


def settings_for(args: argparse.Namespace, dataset: Any, imgsz: int, configs: list[str]) -> dict:
    """What defines a run (shards must agree on all of it to merge)."""
    return {"command": "eval", "weights": str(getattr(args, "weights", None) or "default"),
            "protocol": getattr(args, "protocol", "coco"), "imgsz": imgsz, "data": dataset.describe(),
            "dataset_images": len(dataset), "configs": configs, "category_ids": list(dataset.category_ids),
            "resamples": getattr(args, "resamples", 1000), "seed": getattr(args, "seed", 0),
            "slice": None if dataset.kind != "shapes" else ("hard" if getattr(args, "hard", False) else "validation")}


def score_run(args: argparse.Namespace, model: nn.Module, dataset: Any, imgsz: int, ablations: list[dict]) -> EvalRun:
    """Score ``dataset`` (or ``args.shard`` of it) under every configuration; the run's :class:`EvalRun`."""
    from gam_gui.ablation import describe

    configs = [None, *ablations]
    desc = "mAP" if len(configs) == 1 else f"mAP x {len(configs)} configurations"
    shard = getattr(args, "shard", None)
    with Progress(None, desc=desc, unit="img", force=getattr(args, "progress", None)) as bar:
        score = score_dataset(model, dataset, getattr(args, "protocol", "coco"), imgsz, configs,
                              batch=getattr(args, "batch", None), workers=getattr(args, "workers", None),
                              shard=shard, progress=lambda done, tot: bar.set(done, tot))
    skipped = score.skipped
    if not shard or shard[0] == 0:  # rows attached to no image: counted once per run
        skipped.add_dataset(dataset)
    settings = settings_for(args, dataset, imgsz, ["as trained", *(describe(a) for a in ablations)])
    settings["forward_seconds"] = round(score.forward_seconds, 3)
    return EvalRun(settings, score.scorers, skipped.to_json(), {}, score.indices)
