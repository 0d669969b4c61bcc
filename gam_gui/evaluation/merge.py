"""``gam-gui merge``: combine shard files into the single run's output (eval or compare)."""

from __future__ import annotations

import argparse
import time

from gam_gui.evaluation.shards import merge_runs, read_shard


def run_merge(args: argparse.Namespace) -> int:
    """``gam-gui merge SHARD...``: print the merged run's JSON (and write its files with ``--out``)."""
    from gam_gui.evaluation.eval_data import report_run

    t0 = getattr(args, "started", None) or time.perf_counter()
    parts = [read_shard(p) for p in args.shards]
    run = merge_runs(parts, [str(p) for p in args.shards])
    if run.settings.get("command") == "compare":
        from gam_gui.evaluation.compare_data import report_compare

        run.settings["seconds"] = round(time.perf_counter() - t0, 1)
        return report_compare(run, args.out, getattr(args, "figures", 8))
    run.settings["seconds"] = round(time.perf_counter() - t0, 1)
    return report_run(run, args.out, getattr(args, "dpi", 150))
