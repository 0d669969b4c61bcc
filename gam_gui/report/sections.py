"""The report's sections 1–4 and 6, each made from numbers already computed: a Section (HTML
fragments), the tables it writes under ``R/tables/`` and the figures under ``R/figures/``.

Sentences that read the numbers (the summary, the ablation's one-line reading) are generated here
from the values and their intervals, never written by hand, so they cannot disagree with the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gam_gui.report import figures as F
from gam_gui.report.gam_stats import GamRow
from gam_gui.report.html import Figure, Section
from gam_gui.report.tables import Column, Table, interval_text
from gam_gui.report.text import plural

if TYPE_CHECKING:
    from gam_gui.metrics.bootstrap import BootstrapResult
    from gam_gui.metrics.scorer import Metrics

SEED_NOTE = ("What one training seed cannot tell: the interval covers which images were drawn, not how the "
             "models would vary if trained again with another seed; with one trained model per configuration, "
             "a difference this size may still come from the training run.")


@dataclass
class Context:
    """What every section needs to know: where to write, and what was run on what."""

    out: Path
    names: list[str]
    model_a: str
    model_b: str | None
    data_text: str
    protocol: str
    conf: float
    resamples: int
    seed: int
    dpi: int = F.PAPER_DPI
    tables: list[Table] = field(default_factory=list)

    def save(self, fig: F.MplFigure, name: str, alt: str, caption: str = "") -> Figure:
        """Write ``figures/<name>.png`` at the report's dpi; the page's copy for the HTML."""
        return F.save(fig, name, self.figures, alt, caption, dpi=self.dpi)

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    def keep(self, t: Table) -> Table:
        self.tables.append(t)
        return t


def _num(v: float | None, fmt: str = "{:.3f}") -> str:
    return "—" if v is None or not math.isfinite(float(v)) else fmt.format(v).replace("-", "−")


def ci_pair(ci: list[float] | tuple | None) -> tuple[float | None, float | None]:
    if not ci or ci[0] is None or not all(math.isfinite(float(v)) for v in ci):
        return (None, None)
    return (float(ci[0]), float(ci[1]))


def excludes_zero(ci: tuple[float | None, float | None]) -> bool | None:
    lo, hi = ci
    if lo is None or hi is None:
        return None
    return lo > 0 or hi < 0


# -- 1 ---------------------------------------------------------------------------------------------
def summary(ctx: Context, m_a: Metrics, m_b: Metrics | None = None, boot: BootstrapResult | None = None,
            skipped: dict | None = None) -> Section:
    """Plain words: the model, the data, the protocol, mAP50 and mAP50-95; with a baseline, the
    difference, its 95% paired-bootstrap interval and whether the interval excludes 0."""
    s = Section("summary", "Summary")
    s.para(f"Model {ctx.model_a} was evaluated on {ctx.data_text}: {plural(m_a.images, 'image')}, "
           f"{plural(m_a.instances, 'object')} in {plural(len(ctx.names), 'class', 'classes')} "
           f"({', '.join(ctx.names[:12])}{', …' if len(ctx.names) > 12 else ''}). Protocol: {ctx.protocol} "
           f"(mAP averaged over the classes that have objects).")
    s.para(f"mAP50 = {_num(m_a.map50)}, mAP50-95 = {_num(m_a.map50_95)} (precision {_num(m_a.precision)}, "
           f"recall {_num(m_a.recall)} at the confidence with the best F1).", "key")
    if skipped and (skipped.get("images") or skipped.get("label_rows")):
        s.para(f"Skipped as unusable: {plural(int(skipped.get('images', 0)), 'image')} and "
               f"{plural(int(skipped.get('label_rows', 0)), 'label row')} (each named on stderr).", "warn")
    t = ctx.keep(Table("summary", "Summary", [Column("model", text=True), Column("images", "{:d}"),
                                               Column("objects", "{:d}"), Column("mAP50"), Column("mAP50-95"),
                                               Column("precision"), Column("recall")],
                       caption=f"{ctx.data_text}, protocol {ctx.protocol}."))
    t.add(ctx.model_a, m_a.images, m_a.instances, m_a.map50, m_a.map50_95, m_a.precision, m_a.recall)
    if m_b is not None and boot is not None:
        t.add(ctx.model_b, m_b.images, m_b.instances, m_b.map50, m_b.map50_95, m_b.precision, m_b.recall)
        ci50, ci95 = ci_pair(boot.ci95.get("map50")), ci_pair(boot.ci95.get("map50_95"))
        d50, d95 = boot.diff["map50"], boot.diff["map50_95"]
        ex = excludes_zero(ci95)
        verdict = ("the interval excludes 0: on these images the difference is not down to which images were "
                   "drawn" if ex else "the interval includes 0: these images do not show a difference beyond "
                   "chance" if ex is not None else "no interval could be computed")
        s.para(f"Against the baseline {ctx.model_b}: mAP50-95 differs by {_num(d95, '{:+.3f}')} "
               f"(95% paired-bootstrap interval {interval_text(*ci95)}, {ctx.resamples:,} resamples of the "
               f"images); mAP50 by {_num(d50, '{:+.3f}')} ({interval_text(*ci50)}). For mAP50-95, {verdict}.", "key")
        s.para(SEED_NOTE, "note")
        bt = ctx.keep(Table("baseline", "Model vs baseline (paired bootstrap over images)",
                            [Column("metric", text=True), Column(ctx.model_a or "A"), Column(ctx.model_b or "B"),
                             Column("difference (A − B)", "{:+.3f}"), Column("95% interval", "{:+.3f}"),
                             Column("excludes 0", text=True)],
                            caption=f"{ctx.resamples:,} paired resamples of the images, seed {ctx.seed}."))
        for key, lab in (("map50", "mAP50"), ("map50_95", "mAP50-95")):
            ci = ci_pair(boot.ci95.get(key))
            bt.add(lab, getattr(m_a, key), getattr(m_b, key), boot.diff[key], ci,
                   {True: "yes", False: "no", None: "—"}[excludes_zero(ci)])
    s.table(t)
    if m_b is not None and boot is not None:
        s.table(bt)
    return s


# -- 2 ---------------------------------------------------------------------------------------------
def per_class(ctx: Context, m_a: Metrics, m_b: Metrics | None = None) -> Section:
    s = Section("per-class", "Per class")
    cols = [Column("class", text=True), Column("AP50"), Column("AP50-95"), Column("P"), Column("R"),
            Column("n (objects)", "{:d}")]
    if m_b is not None:
        cols += [Column(f"AP50-95 {ctx.model_b}"), Column("change", "{:+.3f}")]
    t = ctx.keep(Table("per_class", "Per-class scores", cols,
                       caption="AP at IoU 0.5 and averaged over IoU 0.5:0.95; P and R at the best-F1 confidence; "
                               "n = ground-truth objects."))
    rows_b = {r["class"]: r for r in m_b.per_class} if m_b is not None else {}
    for r in m_a.per_class:
        cells = [r["class"], r["ap50"], r["ap50_95"], r["precision"], r["recall"], int(r["instances"])]
        if m_b is not None:
            rb = rows_b.get(r["class"], {})
            vb = rb.get("ap50_95")
            cells += [vb, (r["ap50_95"] - vb) if vb is not None and r["ap50_95"] is not None
                      and math.isfinite(vb) and math.isfinite(r["ap50_95"]) else None]
        t.add(*cells)
    s.table(t)
    pr = m_a.pr_curve or {}
    if pr.get("precision"):
        s.figure(ctx.save(F.pr_curves(pr["recall"], pr["precision"], {r["class"]: r["ap50"] for r in m_a.per_class}),
                        "pr_curve", "precision-recall curves per class",
                        "Precision against recall at IoU 0.5, one curve per class (interpolated envelope)."))
    if m_a.confusion:
        s.figure(ctx.save(F.confusion(m_a.confusion, ctx.names), "confusion_matrix", "confusion matrix",
                        "Rows: predicted class; columns: true class; 'background' = no object / no detection. "
                        "Colours are fractions of each true class, numbers are counts."))
    return s


# -- 3 ---------------------------------------------------------------------------------------------
@dataclass
class AblationRow:
    label: str
    layer: int
    mode: str
    map50: float
    map50_95: float
    d50: float
    d95: float
    ci50: tuple
    ci95: tuple
    #: the block's kind (GAM, CBAM, SE, ...), "" when unknown
    kind: str = ""

    @property
    def who(self) -> str:
        return f"layer {self.layer}" + (f" ({self.kind})" if self.kind else "")


def ablation_reading(rows: list[AblationRow]) -> str:
    """One line from the numbers: the block whose removal (``off``) costs most, and the blocks that
    can be removed at a cost inside the interval (the interval of the change includes 0)."""
    off = [r for r in rows if r.mode == "off"]
    if not off:
        return "No 'off' ablation was run, so no block can be ranked."
    worst = min(off, key=lambda r: r.d95)
    parts = [f"{worst.who[:1].upper()}{worst.who[1:]} carries the most: switching it off changes mAP50-95 by "
             f"{_num(worst.d95, '{:+.3f}')} ({interval_text(*worst.ci95)})."]
    # a loss not established: the interval of the change reaches 0 or above
    free = [r for r in off if r.ci95[1] is not None and r.ci95[1] >= 0]
    if free:
        parts.append("Removable at a cost within the interval: " + ", ".join(
            f"{r.who} ({_num(r.d95, '{:+.3f}')}, {interval_text(*r.ci95)})" for r in free) + ".")
    else:
        parts.append("No block can be switched off at a cost within its interval.")
    return " ".join(parts)


def ablation(ctx: Context, m_a: Metrics, rows: list[AblationRow], skipped_because: str = "") -> Section:
    s = Section("ablation", "Ablation")
    if not rows:
        s.para(f"Not run: {skipped_because or 'the model has no attention blocks'}.", "note")
        return s
    s.para(ablation_reading(rows), "key")
    t = ctx.keep(Table("ablation", "Each attention block × mode (one block at a time)",
                       [Column("layer", "{:d}"), Column("block", text=True), Column("mode", text=True),
                        Column("mAP50"),
                        Column("Δ mAP50", "{:+.3f}"), Column("95% interval", "{:+.3f}"), Column("mAP50-95"),
                        Column("Δ mAP50-95", "{:+.3f}"), Column("95% interval ", "{:+.3f}")],
                       caption="Δ = ablated − as trained on the same images; intervals: paired bootstrap over images "
                               f"({ctx.resamples:,} resamples). Each block has its own modes: off: the block "
                               "returns its input; <gate>-only: only that gate applied, the block's others skipped; "
                               "mean-gate: each gate replaced by its mean over its extent (the scale stays, the "
                               "'where' goes); drop-top-k: the k channels with the largest channel gate zeroed."))
    t.add("—", "—", "as trained", m_a.map50, None, None, m_a.map50_95, None, None)
    t.bold_rows.add(0)
    t.rules_after.add(0)
    last = None
    for r in rows:
        if last is not None and r.layer != last:
            t.rules_after.add(len(t.rows) - 1)
        t.add(r.layer, r.kind or "—", r.mode, r.map50, r.d50, r.ci50, r.map50_95, r.d95, r.ci95)
        last = r.layer
    s.table(t)
    s.figure(ctx.save(F.ablation_bars([f"{r.layer} {r.kind}: {r.mode}" if r.kind else r.label for r in rows],
                                      [r.d95 for r in rows], [r.ci95[0] for r in rows],
                                    [r.ci95[1] for r in rows]), "ablation", "ablation changes",
                    "Change in mAP50-95 per ablation with its 95% paired-bootstrap interval (red: a loss)."))
    return s


# -- 4 ---------------------------------------------------------------------------------------------
def gam_content(ctx: Context, s: Section, rows: list[GamRow], grid: F.MplFigure | None, n_images: int) -> None:
    """GAM's own detail in section 4 (per block and class: spatial gate, gain, top channels; bars and
    typical maps), appended to ``s`` below the section's every-block tables."""
    s.para(f"Per GAM block and class, over the ground-truth boxes of {plural(n_images, 'image')}: the spatial gate "
           "(sigmoid, mean over channels, 0–1) and the block gain (bits) inside each class's boxes against the "
           "background, and the channels the channel attention weighs most inside each class's boxes.")
    blocks = sorted({r.block.index for r in rows})
    s.para(gam_reading(rows), "key")
    t = ctx.keep(Table("gam_blocks", "GAM gates and gains per class, inside vs outside the objects",
                       [Column("layer", "{:d}"), Column("class", text=True), Column("boxes", "{:d}"),
                        Column("gate inside", "{:.3f}"), Column("± (95%)", "{:.3f}"), Column("gate outside"),
                        Column("gain inside (bits)", "{:+.2f}"), Column("± (95%) ", "{:.2f}"),
                        Column("gain outside (bits)", "{:+.2f}"),
                        Column("top channels (mean channel gate)", text=True, wrap=True)],
                       caption="Gate: spatial attention 0–1; gain: log2(||out|| / ||in||) per feature cell; "
                               "± is a normal-approximation 95% half-width over boxes; top channels: the largest mean "
                               "channel-attention values inside the class's boxes" + (
                                   " (the seed GAM variant has no sigmoid on its channel branch: values are not "
                                   "bounded to 0–1)." if any(r.block.variant == "seed" for r in rows) else ".")))
    last = None
    for r in rows:
        if last is not None and r.block.index != last:
            t.rules_after.add(len(t.rows) - 1)
        last = r.block.index
        top = ", ".join(f"#{c} {v:.2f}" for c, v in r.top_channels)
        t.add(r.block.index, r.name, r.boxes, r.spatial_in, r.spatial_in_hw, r.spatial_out, r.gain_in, r.gain_in_hw,
              r.gain_out, top)
    s.table(t)
    classes = ctx.names
    for key, quantity, unit, fname in (("spatial", "spatial gate", "0–1", "gam_gate_bars"),
                                       ("gain", "block gain", "log2, bits", "gam_gain_bars")):
        inside = np.full((len(blocks), len(classes)), np.nan)
        outside = np.full(len(blocks), np.nan)
        for r in rows:
            b = blocks.index(r.block.index)
            inside[b, r.cls] = r.spatial_in if key == "spatial" else r.gain_in
            outside[b] = r.spatial_out if key == "spatial" else r.gain_out
        s.figure(ctx.save(F.inside_outside_bars([f"layer {b}" for b in blocks], classes, np.nan_to_num(inside),
                                              np.nan_to_num(outside), quantity, unit), fname,
                        f"{quantity} inside vs outside per class",
                        f"Mean {quantity} inside each class's boxes (coloured) and outside all boxes (grey)."))
    if grid is not None:
        s.figure(ctx.save(grid, "gam_typical_maps", "typical GAM maps",
                        "Typical images (object/background contrast nearest the median): ground truth in green, "
                        "then each GAM block's spatial gate and block gain over the frame."))


def gam_reading(rows: list[GamRow]) -> str:
    """Two sentences from the numbers: in how many blocks the gate and the gain are higher inside
    the objects than outside (averaged over classes), and where the contrast is largest."""
    blocks = sorted({r.block.index for r in rows})
    parts = []
    for key, what, unit in (("spatial", "spatial gate", ""), ("gain", "block gain", " bits")):
        ins = {b: np.mean([getattr(r, f"{key}_in") for r in rows if r.block.index == b]) for b in blocks}
        outs = {b: next(getattr(r, f"{key}_out") for r in rows if r.block.index == b) for b in blocks}
        up = [b for b in blocks if ins[b] > outs[b]]
        best = max(rows, key=lambda r: getattr(r, f"{key}_in") - getattr(r, f"{key}_out"))
        fmt = "{:.3f}" if key == "spatial" else "{:+.2f}"
        parts.append(f"The GAM {what} is higher inside the objects than outside in {len(up)} of {len(blocks)} "
                     f"GAM blocks"
                     f"{' (layer ' + ', '.join(map(str, up)) + ')' if up and len(up) < len(blocks) else ''}; "
                     f"largest inside − outside difference: layer {best.block.index} on '{best.name}', "
                     f"{_num(getattr(best, f'{key}_in'), fmt)} inside vs {_num(getattr(best, f'{key}_out'), fmt)}"
                     f" outside{unit}.")
    return " ".join(parts)


# -- 6 ---------------------------------------------------------------------------------------------
def trust(ctx: Context, res: dict | None, asked: int) -> Section:
    s = Section("trust", "Trust: which heatmap to believe")
    if not res:
        s.para("Not run (--faithfulness-images 0).", "note")
        return s
    cap = res.get("max_detections")
    per = f" (at most the {cap} most confident per image)" if cap else ""
    s.para(f"Faithfulness of each CAM method on {plural(int(res.get('detections', 0)), 'detection')}{per} of the "
           f"first {plural(int(res.get('images', 0)), 'image')} (asked: {asked}): deletion AUC (remove the map's "
           "top pixels first; lower = the map found what the detector needs), insertion AUC (higher is better), "
           "pointing and "
           "energy in box. Two reference rows are yardsticks: 'random' (a map that knows nothing) and 'box' "
           "(a map that only knows the detection's box).")
    if res.get("advice"):
        s.para(f"Advice: {res['advice']}.", "key")
    t = ctx.keep(Table("faithfulness", "Faithfulness per method",
                       [Column("method", text=True), Column("pointing"), Column("energy in box"),
                        Column("deletion AUC ↓"), Column("95% interval"), Column("insertion AUC ↑"),
                        Column("95% interval "), Column("tied pixels"), Column("flags", text=True, wrap=True)],
                       caption=f"Intervals: bootstrap over detections. Steps {res.get('steps')}, fill "
                               f"{res.get('baseline')}, {res.get('tie_orders')} random orders of tied pixels."))
    methods = list(res.get("methods", {}))
    refs = [m for m in methods if m in ("random", "box")]
    order = [m for m in methods if m not in refs] + refs
    for m in order:
        r = res["methods"][m]
        ci = r.get("ci95") or {}
        t.add(m if m not in refs else f"{m} (reference)", r.get("pointing"), r.get("energy_in_box"),
              r.get("deletion_auc"), ci_pair(ci.get("deletion_auc")), r.get("insertion_auc"),
              ci_pair(ci.get("insertion_auc")), r.get("tied_fraction"),
              "; ".join(r.get("flags") or []) or r.get("note", ""))
    if refs:
        t.rules_after.add(len(order) - len(refs) - 1)
    s.table(t)
    vals = {"deletion_auc": [res["methods"][m].get("deletion_auc") for m in order],
            "insertion_auc": [res["methods"][m].get("insertion_auc") for m in order]}
    ivs = {k: [ci_pair((res["methods"][m].get("ci95") or {}).get(k)) for m in order] for k in vals}
    if any(v is not None for v in vals["deletion_auc"]):
        s.figure(ctx.save(F.faithfulness_bars(order, vals, ivs), "faithfulness", "faithfulness per method",
                        "Deletion and insertion AUC per method with 95% intervals (area under the detection's "
                        "tracked score against the fraction of pixels removed or inserted, both 0–1); grey bars are "
                        "the reference maps."))
    return s
