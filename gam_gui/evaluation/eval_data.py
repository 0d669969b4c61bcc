"""``gam-gui eval``: one model (and its ablations) on a dataset or on the shapes validation set.

The dataset is ``--data`` (a YOLO data.yaml, a COCO json, a folder) or, without it, the generated
shapes set through the same :class:`~gam_gui.datasets.Dataset` interface, so there is one path for
every data: batched forward passes (:mod:`gam_gui.evaluation.runner`), per-image scorers, the report
(:mod:`gam_gui.evaluation.report`). ``--shard i/n`` scores a part and writes a shard file that
``gam-gui merge`` combines; ``--ray`` runs the shards on a Ray cluster.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gam_gui.evaluation.report import EvalRun, ablation_table, build_report, write_outputs
from gam_gui.evaluation.scoring import (  # noqa: F401 - re-exported: the building blocks' old home
    SHAPES_DEFAULT_IMAGES,
    ablations_for,
    class_names,
    model_imgsz,
    open_data,
    resolve_device,
    score_run,
    settings_for,
)
from gam_gui.jsonio import dumps


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
        from gam_gui.evaluation.cluster import run_on_ray

        run = run_on_ray(args, dataset, imgsz)
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
