"""``gam-gui eval``: one model (and its ablations) on a dataset or on the shapes validation set.

The dataset is ``--data`` (a YOLO data.yaml, a COCO json, a folder) or, without it, the generated
shapes set through the same :class:`~gam_gui.datasets.Dataset` interface, so there is one path for
every data: batched forward passes (:mod:`gam_gui.evaluation.runner`), per-image scorers, the report
(:mod:`gam_gui.evaluation.report`). ``--shard i/n`` scores a part and writes a shard file that
``gam-gui merge`` combines; ``--ray`` runs the shards on a Ray cluster.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gam_gui.evaluation.report import EvalRun, ablation_table, build_report, write_outputs
from gam_gui.evaluation.runner import score_dataset
from gam_gui.jsonio import dumps
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


def run_eval(args: argparse.Namespace) -> int:
    """``gam-gui eval`` (see the module docstring); prints JSON whose ``seconds`` is the whole
    command (model loading included) and ``extra["seconds_by_part"]`` each part."""
    from gam_gui.checkpoints import load_model
    from gam_gui.datasets import ensure_usable
    from gam_gui.validate import UsageError

    t0 = getattr(args, "started", None) or time.perf_counter()
    shard = getattr(args, "shard", None)
    out = getattr(args, "out", None)
    pointing, faithful = getattr(args, "pointing", False), getattr(args, "faithfulness", False)
    if (shard or getattr(args, "ray", None)) and pointing:
        raise UsageError("--shard", "--pointing is not sharded: run it without --shard/--ray")
    if getattr(args, "ray", None) and faithful:
        raise UsageError("--ray", "--faithfulness does not run on Ray: use --shard i/n and gam-gui merge")
    if shard and not out:
        raise UsageError("--shard", "--shard needs --out (the folder the shard file is written to)")
    model = load_model(getattr(args, "weights", None), device=resolve_device(getattr(args, "device", None)))
    imgsz = model_imgsz(model, getattr(args, "imgsz", None))
    dataset = open_data(args, model)
    ablations = ablations_for(model, args)
    if getattr(args, "ray", None):
        from gam_gui.evaluation.shards import run_on_ray

        run = run_on_ray(args, dataset, imgsz, len(ablations))
    else:
        t1 = time.perf_counter()
        run = score_run(args, model, dataset, imgsz, ablations)
        run.extra["seconds_by_part"] = {"mAP": round(time.perf_counter() - t1, 1)}
    if shard:
        from gam_gui.evaluation.shards import write_shard

        extra_parts(args, model, dataset, imgsz, run.extra, run.extra["seconds_by_part"], run.indices)
        path = write_shard(out, run, shard)
        run.settings["seconds"] = round(time.perf_counter() - t0, 1)
        print(dumps({"shard": list(shard), "file": str(path), "images": len(run.scorers[0])}))
        return 0
    if dataset.kind != "shapes":
        ensure_usable(dataset, usable=len(run.scorers[0]), skipped_images=run.skipped["images"])
    parts = run.extra.setdefault("seconds_by_part", {})
    extra_parts(args, model, dataset, imgsz, run.extra, parts)
    run.settings["seconds"] = round(time.perf_counter() - t0, 1)
    return report_run(run, out, getattr(args, "dpi", 150))


def report_run(run: EvalRun, out: str | None, dpi: int = 150) -> int:
    """Print the run's JSON (and the ablation table on stderr); with ``out`` write its files."""
    report, metrics = build_report(run)
    rows = report["extra"].get("ablations")
    if rows:
        print(ablation_table(metrics[0], rows), file=sys.stderr)
    if "faithfulness" in report["extra"]:
        from gam_gui.train.pointing import faithfulness_report

        print(faithfulness_report(report["extra"]["faithfulness"]), file=sys.stderr)
    print(dumps(report))
    if out:
        write_outputs(Path(out), run, report, metrics, dpi)
    return 0


def extra_parts(args: argparse.Namespace, model: nn.Module, dataset: Any, imgsz: int, extra: dict,
                parts: dict, indices: list[int] | None = None) -> None:
    """``--pointing`` and ``--faithfulness`` on the same images (the shapes set: as they always ran).
    ``indices``: a shard's images; its faithfulness keeps the per-detection rows that ``gam-gui
    merge`` combines (``extra["faithfulness_details"]``)."""
    shapes = dataset.kind == "shapes" and indices is None

    def samples() -> Any:
        return None if shapes else (dataset[i] for i in (range(len(dataset)) if indices is None else indices))

    n = len(dataset)
    if getattr(args, "pointing", False):
        from gam_gui.train.pointing import POINTING_METHODS, pointing_game

        t1 = time.perf_counter()
        with torch.enable_grad():  # the CAMs need it, whatever the caller's mode
            extra["pointing_game"] = pointing_game(
                model, n, imgsz, methods=tuple(getattr(args, "methods", None) or POINTING_METHODS),
                progress=getattr(args, "progress", None), images=samples())
        parts["pointing_game"] = round(time.perf_counter() - t1, 1)
    if getattr(args, "faithfulness", False):
        from gam_gui.train.pointing import FAITHFULNESS_METHODS, faithfulness_eval

        t1 = time.perf_counter()
        details: dict = {}
        with torch.enable_grad():
            extra["faithfulness"] = faithfulness_eval(
                model, n, imgsz, methods=tuple(getattr(args, "methods", None) or FAITHFULNESS_METHODS),
                steps=getattr(args, "steps", 16), baseline=getattr(args, "baseline", "blur"),
                tie_orders=getattr(args, "tie_orders", 4), feather=getattr(args, "feather", 0),
                sanity=getattr(args, "sanity", False),
                progress=getattr(args, "progress", None), images=samples(), details=details)
        if indices is not None:
            extra["faithfulness_details"] = details
        parts["faithfulness"] = round(time.perf_counter() - t1, 1)
