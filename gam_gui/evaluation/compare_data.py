"""``gam-gui compare --data D --b B.pt [--a A.pt]``: two models on the same dataset, with how sure the
difference is.

Both models are scored on the same images under the same protocol, each at ``--imgsz`` or else at
its own training size (both are in the JSON); ``diff`` is A - B and ``ci95``
its paired bootstrap interval over images (:mod:`gam_gui.metrics.bootstrap`). The JSON also has the
per-class rows of both, and the ground-truth objects one model finds and the other misses: found =
matched at IoU 0.5 by a detection scoring at least ``--found-conf``. With ``--out`` it writes
``compare.json`` and, for the first ``--figures`` of those objects, a panel: the image with the
object outlined in white and each model's detections beside each other.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from gam_gui.evaluation.report import EvalRun
from gam_gui.jsonio import dumps
from gam_gui.metrics.bootstrap import paired_bootstrap
from gam_gui.metrics.scorer import Scorer

LOGGER = logging.getLogger(__name__)
SUMMARY_KEYS = ("map50", "map50_95", "precision", "recall", "conf_best_f1", "images", "instances")


def found_differently(a: Scorer, b: Scorer, found_conf: float = 0.25) -> list[dict]:
    """The ground-truth objects found by exactly one of the two models (image order), each with its
    image, box, class and both models' scores (``None``: not matched at IoU 0.5)."""
    ia, ib = a.arrays(), b.arrays()
    if not np.array_equal(ia.index, ib.index) or not np.array_equal(ia.gt_cls, ib.gt_cls):
        raise ValueError("compare: the two models were not scored on the same images")
    sa = np.where(np.isnan(ia.gt_score), -1.0, ia.gt_score)
    sb = np.where(np.isnan(ib.gt_score), -1.0, ib.gt_score)
    fa, fb = sa >= found_conf, sb >= found_conf
    rows = []
    for k in np.flatnonzero(ia.gt_counted & (fa != fb)):
        img = int(ia.gt_img[k])
        rows.append({"image": ia.paths[img], "image_id": ia.image_ids[img], "index": int(ia.index[img]),
                     "box": [round(float(v), 2) for v in ia.gt_box[k]], "class": a.names[int(ia.gt_cls[k])],
                     "found_by": "a" if fa[k] else "b",
                     "score_a": float(ia.gt_score[k]) if sa[k] >= 0 else None,
                     "score_b": float(ib.gt_score[k]) if sb[k] >= 0 else None})
    return rows


def per_class_rows(ma: object, mb: object) -> list[dict]:
    rows = []
    for ra, rb in zip(ma.per_class, mb.per_class, strict=True):  # type: ignore[attr-defined]
        row = {"class": ra["class"], "instances": ra["instances"]}
        for k in ("ap50", "ap50_95", "precision", "recall"):
            row[f"{k}_a"], row[f"{k}_b"] = ra[k], rb[k]
        rows.append(row)
    return rows


def compare_report(run: EvalRun, found_conf: float = 0.25) -> tuple[dict, list[dict]]:
    """The compare JSON of a run whose scorers are [A, B], and the objects list."""
    a, b = run.scorers
    ma, mb = a.metrics(), b.metrics()
    boot = paired_bootstrap(a, b, run.settings.get("resamples", 1000), run.settings.get("seed", 0))
    objects = found_differently(a, b, found_conf)
    s = run.settings
    summary = {
        "a": {"weights": s.get("weights"), "imgsz": s.get("imgsz"), **{k: getattr(ma, k) for k in SUMMARY_KEYS}},
        "b": {"weights": s.get("weights_b"), "imgsz": s.get("imgsz_b"), **{k: getattr(mb, k) for k in SUMMARY_KEYS}},
        "diff": boot.diff, "ci95": boot.ci95, "resamples": boot.resamples, "seed": boot.seed,
        "images": boot.images, "protocol": ma.protocol, "data": s.get("data"), "skipped": run.skipped,
        "per_class": per_class_rows(ma, mb),
        "found_by_one": {"found_conf": found_conf, "a_only": sum(o["found_by"] == "a" for o in objects),
                         "b_only": sum(o["found_by"] == "b" for o in objects), "objects": objects},
        "seconds": s.get("seconds"),
    }
    return summary, objects


def object_panel(image: np.ndarray, obj: dict, a: Scorer, b: Scorer, names: list[str], found_conf: float,
                 width: int = 480) -> np.ndarray:
    """The object outlined in white on the image, A's detections (at ``found_conf``) on the left and
    B's on the right."""
    import cv2

    from gam_gui.inference import Detection
    from gam_gui.render import Panel, compose_panels, draw_detections

    tiles = []
    for tag, sc in (("A", a), ("B", b)):
        arr = sc.arrays()
        img_pos = int(np.flatnonzero(arr.index == obj["index"])[0])
        sel = np.flatnonzero((arr.pred_img == img_pos) & (arr.pred_score >= found_conf))
        dets = [Detection(tuple(float(v) for v in arr.pred_box[k]), float(arr.pred_score[k]), int(arr.pred_cls[k]),
                          names[int(arr.pred_cls[k])]) for k in sel]
        pic = draw_detections(image, dets)
        x1, y1, x2, y2 = (int(round(v)) for v in obj["box"])
        lw = max(2, int(round(max(image.shape[:2]) / 200)))
        cv2.rectangle(pic, (x1, y1), (x2, y2), (255, 255, 255), lw, cv2.LINE_AA)
        score = obj[f"score_{tag.lower()}"]
        found = score is not None and score >= found_conf
        sub = f"{obj['class']}: {'found' if found else 'missed'}"
        if score is not None:
            sub += f" (score {score:.2f})"
        tiles.append(Panel(f"model_{tag.lower()}", pic, f"model {tag}", sub))
    return compose_panels(tiles, width)


def write_compare_outputs(out: Path, report: dict, objects: list[dict], run: EvalRun, figures: int,
                          found_conf: float, dataset: object = None) -> None:
    """``compare.json`` and the first ``figures`` object panels (images from ``dataset`` when given,
    else read from their paths, as after a merge)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(dumps(report) + "\n", encoding="utf-8")
    if not figures or not objects:
        return
    import cv2

    from gam_gui.datasets.core import load_image

    a, b = run.scorers
    fig_dir = out / "objects"
    fig_dir.mkdir(exist_ok=True)
    for k, obj in enumerate(objects[:figures]):
        image = dataset[obj["index"]].image if dataset is not None else load_image(obj["image"])[0]
        if image is None:
            LOGGER.warning("%s: cannot read the image for its panel", obj["image"])
            continue
        panel = object_panel(image, obj, a, b, a.names, found_conf)
        cv2.imwrite(str(fig_dir / f"{k:03d}_{obj['found_by']}_only_{obj['class']}.png"), panel)


def report_compare(run: EvalRun, out: str | None, figures: int = 0, found_conf: float | None = None,
                   dataset: object = None) -> int:
    """Print the compare JSON; with ``out`` write compare.json and the panels."""
    found_conf = run.settings.get("found_conf", 0.25) if found_conf is None else found_conf
    report, objects = compare_report(run, found_conf)
    print(dumps(report))
    if out:
        write_compare_outputs(Path(out), report, objects, run, figures, found_conf, dataset)
    return 0


def run(args: argparse.Namespace) -> int:
    """``gam-gui compare --data``: score A and B on the data, print the compare JSON."""
    from gam_gui.checkpoints import load_model
    from gam_gui.datasets import ensure_usable
    from gam_gui.evaluation.scoring import class_names, model_imgsz, open_data, resolve_device, score_run
    from gam_gui.validate import UsageError

    t0 = getattr(args, "started", None) or time.perf_counter()
    shard = getattr(args, "shard", None)
    if shard and not args.out:
        raise UsageError("--shard", "--shard needs --out (the folder the shard file is written to)")
    if getattr(args, "ray", None):
        raise UsageError("--ray", "compare does not run on Ray yet: use --shard i/n and gam-gui merge")
    device = resolve_device(args.device)
    model_a = load_model(args.weights, device=device)
    model_b = load_model(args.weights_b, device=device)
    if class_names(model_a) != class_names(model_b):
        raise ValueError(f"compare: the models have different classes ({', '.join(class_names(model_a))} vs "
                         f"{', '.join(class_names(model_b))})")
    dataset = open_data(args, model_a)
    runs = [score_run(args, m, dataset, model_imgsz(m, args.imgsz), []) for m in (model_a, model_b)]
    settings = dict(runs[0].settings)
    settings.update(command="compare", weights_b=str(args.weights_b), imgsz_b=runs[1].settings["imgsz"],
                    found_conf=args.found_conf, configs=["a", "b"])
    both = EvalRun(settings, [runs[0].scorers[0], runs[1].scorers[0]], runs[0].skipped, {})
    if shard:
        from gam_gui.evaluation.shards import write_shard

        path = write_shard(args.out, both, shard)
        print(dumps({"shard": list(shard), "file": str(path), "images": len(both.scorers[0])}))
        return 0
    ensure_usable(dataset, usable=len(both.scorers[0]), skipped_images=both.skipped["images"])
    both.settings["seconds"] = round(time.perf_counter() - t0, 1)
    return report_compare(both, args.out, args.figures, args.found_conf, dataset)
