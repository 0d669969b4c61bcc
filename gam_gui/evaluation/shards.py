"""Shards: ``eval --shard i/n`` writes one part's scorers to a file, ``gam-gui merge`` combines the
parts into exactly the single run's result, and ``--ray`` runs the parts on a Ray cluster.

A shard file (``shard-<i>-of-<n>.npz``) holds the run's settings, what was skipped, and each
configuration's :class:`~gam_gui.metrics.scorer.Scorer` state (per-image arrays, no image). The
parts are contiguous ranges of the dataset's images; merged scorers order images by their dataset
index, so the merge order does not matter and the numbers are the single run's to the last digit.
Scheduling on a cluster is Ray's (``ray.remote`` tasks, one per shard), nothing home-made.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from gam_gui.evaluation.report import EvalRun
from gam_gui.metrics.scorer import Scorer, ScorerFormatError

LOGGER = logging.getLogger(__name__)
SHARD_FORMAT = "gam-gui-shard"
SHARD_VERSION = 1
#: settings every shard of one run must share (the rest, timings, may differ)
RUN_KEYS = ("command", "weights", "protocol", "imgsz", "data", "dataset_images", "configs", "category_ids",
            "resamples", "seed", "slice")


class ShardError(ValueError):
    """Shard files that cannot be merged; ``path`` and ``field`` say which and why."""

    def __init__(self, message: str, path: str = "", field: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.field = field


def run_state(run: EvalRun, shard: tuple[int, int]) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a run's part: what a shard file or a Ray task carries."""
    meta = {"format": SHARD_FORMAT, "version": SHARD_VERSION, "shard": list(shard), "settings": run.settings,
            "skipped": run.skipped, "extra": run.extra, "scorers": []}
    arrays: dict[str, np.ndarray] = {}
    for k, sc in enumerate(run.scorers):
        m, a = sc.state()
        meta["scorers"].append(m)
        arrays.update({f"s{k}__{name}": v for name, v in a.items()})
    return meta, arrays


def run_from_state(meta: dict, arrays: dict, path: str = "") -> tuple[EvalRun, tuple[int, int]]:
    if not isinstance(meta, dict) or meta.get("format") != SHARD_FORMAT:
        raise ShardError("not a gam-gui shard file", path, "format")
    if meta.get("version") != SHARD_VERSION:
        raise ShardError(f"shard format version {meta.get('version')} (this gam-gui reads {SHARD_VERSION})",
                         path, "version")
    try:
        scorers = []
        for k, m in enumerate(meta["scorers"]):
            pre = f"s{k}__"
            scorers.append(Scorer.from_state(m, {n[len(pre):]: v for n, v in arrays.items() if n.startswith(pre)},
                                             path))
        i, n = (int(v) for v in meta["shard"])
        return EvalRun(dict(meta["settings"]), scorers, dict(meta["skipped"]), dict(meta.get("extra") or {})), (i, n)
    except ScorerFormatError as e:
        raise ShardError(str(e), path, e.field) from None
    except (KeyError, TypeError, ValueError) as e:
        raise ShardError(f"malformed shard file ({type(e).__name__})", path, "settings") from None


def write_shard(out_dir: str | Path, run: EvalRun, shard: tuple[int, int]) -> Path:
    """``out_dir/shard-<i>-of-<n>.npz``; returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"shard-{shard[0]}-of-{shard[1]}.npz"
    meta, arrays = run_state(run, shard)
    from gam_gui.jsonio import dumps

    np.savez_compressed(path, meta=np.array(dumps(meta, indent=None)), **arrays)
    LOGGER.info("wrote %s (%d images)", path, len(run.scorers[0]))
    return path


def read_shard(path: str | Path) -> tuple[EvalRun, tuple[int, int]]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except ShardError:
        raise
    except (OSError, ValueError, KeyError) as e:
        raise ShardError(f"cannot read a shard file ({type(e).__name__})", str(path), "file") from None
    return run_from_state(meta, arrays, str(path))


def merge_runs(parts: list[tuple[EvalRun, tuple[int, int]]], paths: list[str] | None = None) -> EvalRun:
    """One :class:`EvalRun` from every shard of a run (each exactly once, the same settings)."""
    if not parts:
        raise ShardError("no shard to merge", field="shards")
    paths = paths or [""] * len(parts)
    first, (_, n) = parts[0]
    seen: dict[int, str] = {}
    for (run, (i, k)), p in zip(parts, paths, strict=True):
        if k != n:
            raise ShardError(f"part of a run in {k} shards, the first file's has {n}", p, "shard")
        if i in seen:
            raise ShardError(f"shard {i}/{n} given twice (also {seen[i]})", p, "shard")
        seen[i] = p
        for key in RUN_KEYS:
            if run.settings.get(key) != first.settings.get(key):
                raise ShardError(f"shard of another run ({key} differs)", p, key)
    missing = sorted(set(range(n)) - set(seen))
    if missing:
        raise ShardError(f"missing shard(s) {', '.join(f'{i}/{n}' for i in missing)}", field="shard")
    ordered = sorted(parts, key=lambda pr: pr[1][0])
    scorers = [Scorer.from_state(*s.state()) for s in ordered[0][0].scorers]
    skipped = dict(ordered[0][0].skipped)
    for run, _ in ordered[1:]:
        for a, b in zip(scorers, run.scorers, strict=True):
            a.merge(b)
        skipped = {k: skipped.get(k, 0) + run.skipped.get(k, 0) for k in set(skipped) | set(run.skipped)}
    extra = {"seconds_by_part": {"mAP": round(sum(
        r.extra.get("seconds_by_part", {}).get("mAP", 0.0) for r, _ in parts), 1)}}
    runs = [r for r, _ in ordered]
    if all("faithfulness_details" in r.extra for r in runs):
        extra["faithfulness"] = merge_faithfulness(runs)
        extra["seconds_by_part"]["faithfulness"] = round(sum(
            r.extra.get("seconds_by_part", {}).get("faithfulness", 0.0) for r in runs), 1)
    settings = dict(first.settings)
    settings["forward_seconds"] = round(sum(r.settings.get("forward_seconds", 0.0) for r, _ in parts), 3)
    settings["shards"] = n
    return EvalRun(settings, scorers, skipped, extra)


def merge_faithfulness(runs: list[EvalRun]) -> dict:
    """The faithfulness result of the shards' runs (in image order) as one run computes it: their
    per-detection rows concatenated, then summarised once
    (:func:`gam_gui.faithfulness.dataset.faithfulness_from_details`)."""
    from gam_gui.faithfulness.dataset import faithfulness_from_details

    details: dict = {"scores": {}, "sanity": {}, "ms": [], "images": 0, "sanity_seconds": 0.0}
    for r in runs:
        d = r.extra["faithfulness_details"]
        for name, rows in d.get("scores", {}).items():
            details["scores"].setdefault(name, []).extend(rows)
        for method, stages in (d.get("sanity") or {}).items():
            into = details["sanity"].setdefault(method, [[] for _ in stages])
            for acc, part in zip(into, stages, strict=True):
                acc.extend(part)
        details["ms"].extend(d.get("ms") or [])
        details["images"] += int(d.get("images", 0))
        details["sanity_seconds"] += float(d.get("sanity_seconds", 0.0))
        details.setdefault("sanity_stages", d.get("sanity_stages"))
    if not details["sanity"]:
        details.pop("sanity")
    f = runs[0].extra["faithfulness"]
    return faithfulness_from_details(details, f["imgsz"], f["conf"], f["steps"], f["baseline"], f["tie_orders"],
                                     f["feather"], "sanity" in f)
