"""``--ray``: the shards of a run as Ray tasks, merged into exactly the serial run's result (Ray does
the scheduling; nothing here queues or retries work itself)."""

from __future__ import annotations

import argparse

from gam_gui.evaluation.report import EvalRun
from gam_gui.evaluation.shards import ShardError, merge_runs, run_from_state, run_state


def shard_task(spec: dict, i: int, n: int) -> tuple[dict, dict]:
    """One shard, start to end, in a Ray worker: load the model, open the data, score, return the
    shard's state. ``spec``: the eval options as a plain dict."""
    import torch

    from gam_gui.checkpoints import load_model
    from gam_gui.evaluation.scoring import (
        ablations_for,
        model_imgsz,
        open_data,
        resolve_device,
        score_run,
    )

    torch.set_num_threads(max(1, int(spec.pop("threads", 1))))
    args = argparse.Namespace(**spec)
    args.shard, args.workers, args.progress = (i, n), 0, False
    model = load_model(args.weights, device=resolve_device(args.device))
    dataset = open_data(args, model)
    run = score_run(args, model, dataset, model_imgsz(model, args.imgsz), ablations_for(model, args))
    return run_state(run, (i, n))


def run_on_ray(args: argparse.Namespace, dataset: object, imgsz: int) -> EvalRun:
    """Fan the run out over Ray (``args.ray``: a cluster address, or ``local`` for a local instance)
    as ``--ray-shards`` tasks, and merge their results."""
    try:
        import ray
    except ImportError:
        raise ShardError("--ray needs Ray: pip install 'gam-gui[cluster]'", field="ray") from None
    address = None if args.ray == "local" else args.ray
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({"num_cpus": getattr(args, "ray_cpus", None)} if address is None and getattr(args, "ray_cpus", None)
                    else {}))
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = max(1, min(getattr(args, "ray_shards", None) or cpus, len(dataset)))  # type: ignore[arg-type]
        keys = ("weights", "data", "split", "images", "protocol", "batch", "device", "imgsz", "ablate",
                "ablate_each", "hard", "resamples", "seed")
        spec = {k: getattr(args, k, None) for k in keys}
        spec["ablate"] = spec["ablate"] or []
        task = ray.remote(num_cpus=1)(shard_task)
        refs = [task.remote(dict(spec), i, n) for i in range(n)]
        parts = [run_from_state(*ray.get(r)) for r in refs]
    finally:
        if started_here:
            ray.shutdown()
    run = merge_runs(parts)
    run.settings["ray"] = {"address": args.ray, "shards": n}
    return run
