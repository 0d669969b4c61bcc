"""Section 5: the worst false negatives and false positives, and (with a baseline) the objects one
model finds and the other misses, each as a row of panels (see :mod:`gam_gui.report.failures`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gam_gui.datasets import Dataset
from gam_gui.report import figures as F
from gam_gui.report.collect import ModelRun, PassOutput
from gam_gui.report.failures import (
    FN_COLOUR,
    FP_COLOUR,
    Failure,
    crop_window,
    explain_at,
    find_failures,
    found_by_one,
    panels_for,
)
from gam_gui.report.html import Section
from gam_gui.report.sections import Context
from gam_gui.report.tables import Column, Table
from gam_gui.report.text import plural


def _name(names: list[str], c: int) -> str:
    return names[c] if 0 <= c < len(names) else str(c)


def _describe(f: Failure, names: list[str]) -> str:
    n = _name(names, f.cls)
    if f.kind == "FN":
        how = (f"best '{n}' score on it {f.score:.2f}" if f.score > 0 else f"no '{n}' prediction overlaps it")
        return f"missed {n}: {how}"
    if f.kind == "FP":
        what = (f"IoU {f.iou:.2f} with a {_name(names, f.other_cls)}" if f.other_cls >= 0 else "on background")
        return f"false {n} ({f.score:.2f}): {what}"
    other = "B" if f.kind == "A only" else "A"
    return (f"{n} found by {f.kind[0]} ({f.score:.2f}); {other}'s best '{n}' score on it "
            f"{f.other:.2f}, best IoU {f.iou:.2f}")


def _rows(ctx: Context, items: list[Failure], a: ModelRun, b: ModelRun | None, dataset: Dataset, conf: float,
          block: int | None, both: bool, advance: Callable[[float], None], cost: float) -> list[dict]:
    rows = []
    for f in items:
        s = dataset[f.index]
        if s.image is None:
            continue
        win = crop_window(f.box, s.image.shape[:2])
        colour = FP_COLOUR if f.kind == "FP" else FN_COLOUR
        cls_name = _name(ctx.names, f.cls)
        va = explain_at(a.model, s.image, a.imgsz, f.box, f.cls, conf, block)
        panels = panels_for(va, s.image, win, s.boxes, s.classes, ctx.names, f.box, conf, "A", cls_name,
                            with_gam=not both, focus_color=colour)
        if both and b is not None:
            vb = explain_at(b.model, s.image, b.imgsz, f.box, f.cls, conf, None)
            panels += panels_for(vb, s.image, win, s.boxes, s.classes, ctx.names, f.box, conf, "B",
                                 cls_name, with_gam=False, focus_color=colour)
        rows.append({"label": f"{f.kind} · {Path(f.path).name}", "panels": panels})
        advance(cost)
    return rows


CAPTIONS = {"failures_fn": "score: the best score of a same-class prediction on the object at IoU ≥ 0.5 (any score); "
                           "IoU: the best overlap of a same-class detection above the threshold.",
            "failures_fp": "score: the detection's; IoU: its best overlap with any ground-truth object.",
            "found_by_a_only": "score: the finder's; IoU: the best overlap of the other model's same-class prediction.",
            "found_by_b_only": "score: the finder's; IoU: the best overlap of the other model's same-class prediction."}


def _table(name: str, title: str, items: list[Failure], names: list[str]) -> Table:
    t = Table(name, title, [Column("#", "{:d}"), Column("image", text=True), Column("class", text=True),
                            Column("box (x1, y1, x2, y2, pixels)", text=True), Column("score"), Column("IoU"),
                            Column("what happened", text=True, wrap=True)],
              caption=CAPTIONS.get(name, ""))
    for k, f in enumerate(items, 1):
        t.add(k, Path(f.path).name, _name(names, f.cls), ", ".join(f"{v:.0f}" for v in f.box), f.score, f.iou,
              _describe(f, names))
    return t


def failures_section(ctx: Context, res: PassOutput, a: ModelRun, b: ModelRun | None, dataset: Dataset, n: int,
                     conf: float,
                     block: int | None, advance: Callable[[float], None], row_cost: float = 0.0
                     ) -> tuple[Section, dict]:
    """The section and its JSON; ``advance(estimated seconds)`` after each row (``row_cost`` each)."""
    s = Section("failures", "Failures")
    if not n:
        s.para("Not run (--failures 0).", "note")
        return s, {}
    fns, fps = find_failures(res.images, conf)
    shown = (f"layer {block}, the attention block whose removal costs the most" if block is not None
             else "the first attention block")
    who = f"A = {ctx.model_a}" + (f", B = {ctx.model_b}." if ctx.model_b else ".")
    s.para(f"{who} At score ≥ {conf:g}: {plural(len(fns), 'missed object')} (false negatives) and "
           f"{plural(len(fps), 'false detection')} (false positives). The worst {n} of each are shown: misses the "
           "model barely sees (lowest same-class score on the object), then the most confident false alarms. "
           "Each row is cropped around the object: ground truth dashed green, the failure dashed orange (miss) or "
           "red (false alarm), detections in blue; then the CAM for that class at that place (HiResCAM on the "
           f"prediction that best covers the box), and the gate (its spatial gate where it has one) and block gain "
           f"of {shown}.")
    data: dict = {"false_negatives": len(fns), "false_positives": len(fps)}
    cost = row_cost
    for kind, items, fname in (("false negatives", fns[:n], "failures_fn"),
                               ("false positives", fps[:n], "failures_fp")):
        if not items:
            s.para(f"No {kind} at this threshold.", "note")
            continue
        t = ctx.keep(_table(fname, f"Worst {kind}", items, ctx.names))
        s.table(t)
        rows = _rows(ctx, items, a, b, dataset, conf, block, False, advance, cost)
        if rows:
            s.figure(ctx.save(F.failure_rows(rows), fname, f"worst {kind}",
                            f"Worst {kind}, one row each (left to right: detections + ground truth, CAM, the "
                            "attention block's gate, block gain)."))
        data[fname] = [{"image": f.path, "class": _name(ctx.names, f.cls), "box": f.box, "score": f.score,
                        "iou": f.iou} for f in items]
    if b is not None:
        a_only, b_only = found_by_one(res.images, conf)
        s.heading("One model finds it, the other misses it")
        s.para(f"{plural(len(a_only), 'object')} found by {ctx.model_a} only and {plural(len(b_only), 'object')} "
               f"by {ctx.model_b} only (score ≥ {conf:g}, IoU ≥ 0.5). Each row: A's detections and CAM, then B's.")
        for who, items, fname in ((ctx.model_a, a_only[:n], "found_by_a_only"), (ctx.model_b, b_only[:n],
                                                                                  "found_by_b_only")):
            if not items:
                continue
            t = ctx.keep(_table(fname, f"Found by {who} only", items, ctx.names))
            s.table(t)
            rows = _rows(ctx, items, a, b, dataset, conf, block, True, advance, 2 * cost)
            if rows:
                s.figure(ctx.save(F.failure_rows(rows), fname, f"found by {who} only",
                                f"Objects found by {who} only: detections and CAM of each model."))
            data[fname] = [{"image": f.path, "class": _name(ctx.names, f.cls), "box": f.box, "score": f.score}
                           for f in items]
        data["found_by_a_only_count"], data["found_by_b_only_count"] = len(a_only), len(b_only)
    return s, data
