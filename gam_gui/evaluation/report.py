"""From scorers to what ``gam-gui eval`` prints and writes: the JSON (the keys it has always had, plus
precision, recall, per-class rows, skipped, protocol and data), the ablation rows with their paired
bootstrap intervals, and with ``--out`` the files: ``predictions.json`` (COCO results),
``images.json``, ``metrics.json``, ``pr_curve.png`` and ``confusion_matrix.png``.

One :class:`EvalRun` holds everything a run produced before reporting, whether it came from one
process or from merged shards, so both report through the same code and give the same numbers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gam_gui.jsonio import dumps
from gam_gui.metrics.bootstrap import bootstrap_against
from gam_gui.metrics.scorer import Metrics, Scorer

LOGGER = logging.getLogger(__name__)


@dataclass
class EvalRun:
    """A run's scorers (``scorers[0]``: the model as trained; then one per ablation in
    ``settings["configs"]``), what was skipped, and the parts that are not mAP (``extra``)."""

    settings: dict
    scorers: list[Scorer]
    skipped: dict = field(default_factory=lambda: {"images": 0, "label_rows": 0})
    extra: dict = field(default_factory=dict)
    #: the dataset indices scored (a shard's part), when known
    indices: list[int] | None = None


def ablation_rows(run: EvalRun, metrics: list[Metrics]) -> list[dict]:
    """One row per ablation: its mAPs, the change from "as trained" and that change's paired
    bootstrap 95 % interval (the same resampled images score both)."""
    if len(run.scorers) < 2:
        return []
    boots = bootstrap_against(run.scorers[0], run.scorers[1:], run.settings.get("resamples", 1000),
                              run.settings.get("seed", 0))
    ref = metrics[0]
    rows = []
    for desc, m, b in zip(run.settings["configs"][1:], metrics[1:], boots, strict=True):
        rows.append({"ablation": desc, "map50": m.map50, "map50_95": m.map50_95,
                     "delta_map50": m.map50 - ref.map50, "delta_map50_95": m.map50_95 - ref.map50_95,
                     "ci95": b.ci95, "resamples": b.resamples, "per_class_ap50": m.per_class_ap50})
    return rows


def ablation_table(ref: Metrics | object, rows: list[dict]) -> str:
    """A markdown table: what each ablation costs in mAP against the model as trained (with the
    change's 95 % interval when there is one)."""
    lines = ["| ablation | mAP@0.5 | change [95% CI] | mAP@0.5:0.95 | change [95% CI] |", "|---|---|---|---|---|",
             f"| none (as trained) | {ref.map50:.3f} | | {ref.map50_95:.3f} | |"]

    def change(r: dict, key: str) -> str:
        ci = (r.get("ci95") or {}).get(key)
        txt = f"{r['delta_' + key]:+.3f}"
        if ci and None not in ci and all(np.isfinite(ci)):
            txt += f" [{ci[0]:+.3f}, {ci[1]:+.3f}]"
        return txt

    for r in rows:
        lines.append(f"| {r['ablation']} | {r['map50']:.3f} | {change(r, 'map50')} | {r['map50_95']:.3f} | "
                     f"{change(r, 'map50_95')} |")
    return "\n".join(lines)


def build_report(run: EvalRun) -> tuple[dict, list[Metrics]]:
    """The eval JSON (see the module docstring) and each configuration's :class:`Metrics`."""
    metrics = [s.metrics() for s in run.scorers]
    m = metrics[0]
    s = run.settings
    extra = dict(run.extra)
    if s.get("slice"):
        extra["slice"] = s["slice"]
    rows = ablation_rows(run, metrics)
    if rows:
        extra["ablations"] = rows
    out = {"map50": m.map50, "map50_95": m.map50_95, "per_class_ap50": m.per_class_ap50, "images": m.images,
           "instances": m.instances, "imgsz": s.get("imgsz"), "seconds": s.get("seconds", 0.0),
           "precision": m.precision, "recall": m.recall, "conf_best_f1": m.conf_best_f1, "per_class": m.per_class,
           "skipped": dict(run.skipped), "protocol": m.protocol, "data": s.get("data"), "extra": extra}
    return out, metrics


def write_predictions(path: Path, scorer: Scorer, category_ids: list) -> int:
    """COCO results: one ``{image_id, category_id, bbox [x, y, w, h] px, score}`` per kept
    prediction, image by image; returns how many were written."""
    a = scorer.arrays()
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for k in range(len(a.pred_cls)):
            cid = category_ids[a.pred_cls[k]] if 0 <= a.pred_cls[k] < len(category_ids) else None
            x1, y1, x2, y2 = (float(v) for v in a.pred_box[k])
            score = float(a.pred_score[k])
            if cid is None or not np.isfinite([x1, y1, x2, y2, score]).all():
                continue
            iid = json.dumps(a.image_ids[a.pred_img[k]])
            f.write(("," if n else "") + f'\n{{"image_id": {iid}, "category_id": {int(cid)}, "bbox": '
                    f"[{round(x1, 3)}, {round(y1, 3)}, {round(x2 - x1, 3)}, {round(y2 - y1, 3)}], "
                    f'"score": {round(score, 6)}}}')
            n += 1
        f.write("\n]\n")
    return n


def write_outputs(out_dir: str | Path, run: EvalRun, report: dict, metrics: list[Metrics], dpi: int = 150) -> Path:
    """``predictions.json``, ``images.json``, ``metrics.json``, ``pr_curve.png`` and
    ``confusion_matrix.png`` of the model as trained, in ``out_dir`` (created)."""
    from gam_gui.metrics.plots import plot_confusion_matrix, plot_pr_curve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sc, m = run.scorers[0], metrics[0]
    names = sc.names
    cats = run.settings.get("category_ids") or list(range(len(names)))
    n = write_predictions(out / "predictions.json", sc, cats)
    a = sc.arrays()
    images = [{"id": iid, "file_name": p, "width": int(w), "height": int(h)}
              for iid, p, (w, h) in zip(a.image_ids, a.paths, a.sizes, strict=True)]
    (out / "images.json").write_text(dumps(images, indent=None) + "\n", encoding="utf-8")
    full = dict(report)
    full["categories"] = [{"id": c, "name": nm} for c, nm in zip(cats, names, strict=True)]
    full["confusion_matrix"] = {"matrix": m.confusion, "rows": "predicted", "columns": "true",
                                "labels": [*names, "background"], "conf": sc.confusion_conf,
                                "iou": sc.confusion_iou}
    full["pr_curve"] = m.pr_curve
    full["predictions"] = n
    (out / "metrics.json").write_text(dumps(full) + "\n", encoding="utf-8")
    plot_pr_curve(m, out / "pr_curve.png", dpi)
    plot_confusion_matrix(m, names, out / "confusion_matrix.png", dpi)
    LOGGER.info("wrote predictions.json (%d detections), images.json, metrics.json, pr_curve.png and "
                "confusion_matrix.png to %s", n, out)
    return out
