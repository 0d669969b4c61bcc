"""The README's faithfulness table, measured in chunks so that a long run can stop at any time.

Each configuration (``--config NAME:baseline:feather:tie_orders:steps[:sanity]``) is run on chunks of
``--chunk`` shapes validation images in turn (chunk 1 of every configuration, then chunk 2, ...), and
each chunk's per-detection scores are written to ``OUT/NAME/chunk_K.json``. ``--merge OUT`` then
prints each configuration's table over every finished chunk (means, 95 % bootstrap intervals, flags,
the sanity check) and the method ranking by deletion AUC.

Run: ``OMP_NUM_THREADS=1 nohup .venv/bin/python benchmarks/faithfulness_table.py --out /tmp/f_runs
--images 100 --config main:blur:0:4:16:sanity --config road:road:0:1:8 ... > /tmp/f_runs.log 2>&1 &``
With ``--data D``, the images come through ``open_dataset`` (the path ``eval --data`` takes) instead
of the generator; ``gam-gui export-dataset --images 100`` writes the same validation images there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOGGER = logging.getLogger("faithfulness_table")
METHODS = ("gradcam", "hirescam", "layercam", "eigencam", "auto")


def run(args: argparse.Namespace) -> None:
    import torch

    import gam_gui
    from gam_gui import jsonio
    from gam_gui.faithfulness.dataset import faithfulness_on_images
    from gam_gui.train.pointing import shapes_images

    torch.set_num_threads(1)
    model = gam_gui.load_model(None, device="cpu")
    dataset = None
    if args.data:
        from gam_gui.datasets import open_dataset

        dataset = open_dataset(args.data, limit=args.images, model_names=model.names)
        args.images = min(args.images, len(dataset))
    configs = [c.split(":") for c in args.config]
    for start in range(0, args.images, args.chunk):
        n = min(args.chunk, args.images - start)
        for name, baseline, feather, ties, steps, *rest in configs:
            dst = Path(args.out) / name / f"chunk_{start:04d}.json"
            if dst.exists():
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            details: dict = {}
            images = (shapes_images(n, seed0=10_000_000 + start) if dataset is None
                      else (dataset[i] for i in range(start, start + n)))
            with torch.enable_grad():
                res = faithfulness_on_images(
                    model, images, imgsz=args.imgsz, methods=METHODS,
                    steps=int(steps), baseline=baseline, tie_orders=int(ties), feather=float(feather),
                    sanity="sanity" in rest, details=details)
            res["details"] = details
            res["seconds"] = round(time.perf_counter() - t0, 1)
            dst.write_text(jsonio.dumps(res))
            LOGGER.info("%s images %d-%d: %d detections, %.0f s", name, start, start + n - 1, res["detections"],
                        res["seconds"])


def merge(out: str) -> None:
    from types import SimpleNamespace

    from gam_gui.faithfulness import sanity as san
    from gam_gui.faithfulness.core import REFERENCES
    from gam_gui.faithfulness.dataset import faithfulness_advice
    from gam_gui.faithfulness.summary import flag_rows, summary_row, table

    for d in sorted(Path(out).iterdir()):
        chunks = [json.loads(p.read_text()) for p in sorted(d.glob("chunk_*.json"))]
        if not chunks:
            continue
        scores: dict[str, list] = {}
        corr: dict[str, list[list[float]]] = {}
        for c in chunks:
            for m, rows in c["details"]["scores"].items():
                scores.setdefault(m, []).extend(SimpleNamespace(**r) for r in rows)
            san.accumulate(corr, c["details"].get("sanity") or {})
        rows = {m: summary_row(v) for m, v in scores.items()}
        flag_rows(rows, REFERENCES)
        c0 = chunks[0]
        secs = sum(c["seconds"] for c in chunks)
        dets = sum(c["detections"] for c in chunks)
        print(f"\n## {d.name}: {c0['baseline']}, feather {c0['feather']}, {c0['tie_orders']} tie orders, "
              f"{c0['steps']} steps, imgsz {c0['imgsz']}: {sum(c['images'] for c in chunks)} images, {dets} "
              f"detections, {secs:.0f} s ({secs / max(dets, 1):.1f} s per detection)")
        print(table({"methods": rows}))
        ranking = sorted((m for m in rows if m not in REFERENCES and rows[m]["deletion_auc"] is not None),
                         key=lambda m: rows[m]["deletion_auc"])
        print("ranking by deletion AUC:", " < ".join(ranking))
        ranking = sorted((m for m in rows if m not in REFERENCES and rows[m]["insertion_auc"] is not None),
                         key=lambda m: -rows[m]["insertion_auc"])
        print("ranking by insertion AUC:", " > ".join(ranking))
        print("advice:", faithfulness_advice({"methods": rows}))
        paired_differences(scores, ranking[0] if ranking else None)
        if corr:
            stages = [s["randomized"] for s in chunks[0]["sanity"][next(iter(chunks[0]["sanity"]))]["cascade"]]
            for m, r in san.summarize(corr, stages).items():
                print(f"sanity {m}: rank corr {r['rank_corr']} {r['ci95']} {r['flags']} cascade "
                      f"{[c['rank_corr'] for c in r['cascade']]}")


def paired_differences(scores: dict[str, list], best: str | None) -> None:
    """Each method's AUCs minus the best method's (by insertion), paired over the same detections,
    with a 95 % bootstrap interval over detections: whether two methods differ beyond chance (the
    per-method intervals above overlap or not, which is not that test)."""
    import numpy as np

    from gam_gui.faithfulness.summary import bootstrap_ci

    if best is None:
        return
    for m, rows in scores.items():
        if m == best:
            continue
        for key in ("deletion_auc", "insertion_auc"):
            d = np.array([getattr(r, key) for r in rows]) - np.array([getattr(r, key) for r in scores[best]])
            ci = bootstrap_ci(d)
            print(f"paired {key}: {m} - {best} = {d.mean():+.3f} {ci} over {len(d)} detections")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="/tmp/f_runs")
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--chunk", type=int, default=5)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--config", action="append", default=[])
    p.add_argument("--data", help="read the images through the dataset path (a data.yaml, e.g. from "
                                  "`gam-gui export-dataset`) instead of generating them")
    p.add_argument("--merge", action="store_true", help="print the tables of the finished chunks")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.merge:
        merge(args.out)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
