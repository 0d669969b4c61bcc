"""``gam-gui report``: load the models, open the dataset, run the one pass, then write each section.

Order of work: the pass over the data (A, its ablations, B), then sections 1–7 in the page's order.
Each part is timed (section 7 lists the wall times) and reports to a :class:`~gam_gui.report.plan.Plan`
(one line per section on stderr, with the time left). Outputs: ``R/report.html`` (self-contained),
``R/report.json`` (strict JSON: the numbers of every table), ``R/tables/*.csv|tex``,
``R/figures/*.png`` (300 dpi).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gam_gui import jsonio
from gam_gui.report import figures as F
from gam_gui.report import sections as S
from gam_gui.report.attention_section import attention_blocks, attention_json
from gam_gui.report.block_stats import detect_all_blocks, frame_panels
from gam_gui.report.collect import ModelRun, PassOutput, run_pass
from gam_gui.report.failure_section import failures_section
from gam_gui.report.html import Section, document
from gam_gui.report.options import command_line
from gam_gui.report.plan import Plan
from gam_gui.report.repro import input_files
from gam_gui.report.repro import section as repro_section
from gam_gui.report.text import plural, seconds_text

LOGGER = logging.getLogger("gam_gui.report")
TITLES = {"pass": "running the models over the data", "summary": "1 Summary", "per_class": "2 Per class",
          "ablation": "3 Ablation", "gam": "4 What the attention blocks do", "failures": "5 Failures",
          "trust": "6 Trust", "repro": "7 Reproducibility"}
#: cost guesses relative to one forward of one image (see gam_gui.report.plan); measured on a 2-core CPU
HOOKED_FORWARD, BATCHED_FORWARD, EXPLAIN_AT, FRAME_IN_BATCH = 1.2, 0.7, 4.0, 0.55


def _model_run(path: str | None, device: str | None, imgsz: int | None) -> ModelRun:
    from gam_gui.checkpoints import default_weights_path, load_model
    from gam_gui.inference import model_stride
    from gam_gui.validate import round_imgsz

    model = load_model(path, device=device)
    model.eval()
    size = imgsz or int(getattr(model, "meta", {}).get("imgsz", 640) or 640)
    p = str(path or default_weights_path())
    return ModelRun(model, Path(p).stem, p, round_imgsz(size, model_stride(model), "--imgsz"))


def _calibrate(a: ModelRun, image: np.ndarray, dpi: int) -> tuple[float, float]:
    """(seconds per forward of A, seconds per figure at ``dpi``) on this machine: medians of three,
    so that one busy moment of a shared machine does not skew the plan."""
    with torch.no_grad():
        detect_all_blocks(a.model, image, 0.25, 0.45, a.imgsz)  # warm-up
        fwd = []
        for _ in range(3):
            t0 = time.perf_counter()
            detect_all_blocks(a.model, image, 0.25, 0.45, a.imgsz)
            fwd.append(time.perf_counter() - t0)
    figs = []
    for _ in range(3):
        t0 = time.perf_counter()
        fig = F.new_figure(6.4, 4.2)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        fig.savefig(io.BytesIO(), format="png", dpi=dpi)
        figs.append(time.perf_counter() - t0)
    return float(np.median(fwd)), 3.0 * float(np.median(figs))


def _capped(detections: int, args: argparse.Namespace) -> int:
    k = args.faithfulness_detections
    return min(detections, k) if k else detections


@dataclass
class TrustCost:
    """What one image of the trust section costs here, measured once on the first image: its maps
    (seconds), one detection's curves for every method and reference (seconds), its detections."""

    maps: float
    per_detection: float
    detections: int

    def total(self, images: int, detections: float) -> float:
        return images * self.maps + detections * self.per_detection


def _trust_calibration(a: ModelRun, image: np.ndarray, args: argparse.Namespace, methods: tuple,
                       fwd: float) -> TrustCost:
    """Measure the trust section's unit costs with its own code on one detection (a few percent of
    the section's work): its cost per detection depends on how many of each map's pixels are tied,
    which no formula knows, and it is most of a report's time."""
    from gam_gui.faithfulness import measure_maps, reference_maps
    from gam_gui.faithfulness.maps import frame_maps

    with torch.enable_grad():
        frame_maps(a.model, image, methods, conf=args.conf, imgsz=a.imgsz)  # builds the CAM objects once
        t0 = time.perf_counter()
        fm = frame_maps(a.model, image, methods, conf=args.conf, imgsz=a.imgsz)
    t_maps = time.perf_counter() - t0
    if not fm.detections:  # nothing to measure on: a rough count of the perturbed frames instead
        frames = (len(methods) + 2) * 2 * args.steps * (1 + 0.5 * (args.tie_orders - 1))
        return TrustCost(t_maps, frames * fwd * FRAME_IN_BATCH, 0)
    det = fm.detections[0]
    maps = {m: fm.frame_map(m, 0) for m in methods}
    maps.update(reference_maps(image.shape[:2], det.xyxy, args.seed))
    t0 = time.perf_counter()
    measure_maps(a.model, image, maps, det, steps=args.steps, baseline=args.fill, imgsz=a.imgsz,
                 tie_orders=args.tie_orders, seed=args.seed)
    return TrustCost(t_maps, time.perf_counter() - t0, len(fm.detections))


def run(args: argparse.Namespace) -> int:
    """The command (see the module docstring); returns the exit code."""
    from gam_gui.ablation import every_ablation
    from gam_gui.datasets import open_dataset
    from gam_gui.faithfulness.dataset import FAITHFULNESS_METHODS
    from gam_gui.metrics import get_protocol

    started_at = dt.datetime.now().astimezone()
    t_start = getattr(args, "started", None) or time.perf_counter()
    out = Path(args.out)
    try:  # a bad --out is reported now, not after the work
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"--out {out}: {e.strerror or e}") from None
    a = _model_run(args.weights, args.device, args.imgsz)
    b = _model_run(args.baseline, args.device, args.imgsz) if args.baseline else None
    raw_names = a.model.names
    names_a = [raw_names[k] for k in sorted(raw_names)] if isinstance(raw_names, dict) else list(raw_names)
    dataset = open_dataset(args.data, args.split, args.images, names_a)
    protocol = get_protocol(args.protocol)
    ablations = [] if args.no_ablation else every_ablation(a.model)
    methods = tuple(args.methods or FAITHFULNESS_METHODS)
    n = len(dataset)
    if n == 0:
        from gam_gui.datasets import DatasetError

        raise DatasetError(f"{args.data}: split {args.split} has no images", field=args.split, path=args.data)
    LOGGER.info("report: %s, %s: timing one forward, one figure%s to plan the work ...", a.label, plural(n, "image"),
                " and one faithfulness measurement" if args.faithfulness_images else "")
    first = next((s.image for s in (dataset[i] for i in range(min(n, 5))) if s.image is not None), None)
    fwd, fig_s = _calibrate(a, first, args.dpi) if first is not None else (0.05, 1.0)
    n_faith = min(args.faithfulness_images, n)
    trust = _trust_calibration(a, first, args, methods, fwd) if n_faith and first is not None else None
    from gam_gui.models import attention

    n_blocks = len(attention.find_blocks(a.model))
    n_gam = sum(f.entry.kind == "GAM" for f in attention.find_blocks(a.model))
    est = {"pass": n * fwd * (BATCHED_FORWARD * (1 + len(ablations) + (b is not None)) + HOOKED_FORWARD),
           "summary": 0.2 + (2 * fwd * n if b else 0.0), "per_class": 2.5 * fig_s,
           "ablation": (fig_s + 0.3 * len(ablations) + 0.05 * n * len(ablations) / 10) if ablations else 0.01,
           "gam": (0.25 * fig_s * (1 + 4 * n_blocks) + fwd
                   + ((2 * fig_s + 0.7 * fig_s * (1 + 2 * n_gam) * min(1, args.typical) + args.typical * fwd * 2)
                      if n_gam else 0.0)) if n_blocks else 0.01,
           "failures": (args.failures * 2 * (EXPLAIN_AT * fwd * (2 if b else 1)) + 2.5 * fig_s * (1 + (b is not None)))
           if args.failures else 0.01,
           "trust": trust.total(n_faith, _capped(trust.detections, args) * n_faith) + fig_s if trust else 0.01,
           "repro": 0.3}
    plan = Plan(est, TITLES, force=args.progress)
    LOGGER.info("report: %s on %s, about %s of work (1 forward = %.0f ms, 1 figure = %.1f s%s)",
                a.label, plural(n, "image"), seconds_text(sum(est.values())), fwd * 1000, fig_s,
                f", faithfulness of 1 detection = {trust.per_detection:.1f} s" if trust else "")
    timings: dict[str, float] = {}
    try:
        res = _pass(plan, dataset, a, b, ablations, protocol, args, fwd, timings, trust, fig_s)
        ctx = S.Context(out, list(dataset.names), a.label, b.label if b else None, _data_text(dataset, args),
                        protocol.name, args.conf, args.resamples, args.seed, args.dpi)
        sections, data = _sections(plan, ctx, res, a, b, dataset, args, methods, timings, fwd, trust)
        plan.begin("repro")
        t0 = time.perf_counter()
        files = input_files([("model A", a.path)] + ([("baseline B", b.path)] if b else []), args.data)
        order = ["summary", "per_class", "ablation", "gam", "failures", "trust"]  # each with its share of the pass
        rows = [(TITLES[k], timings.get(k, 0.0)) for k in order]
        total = time.perf_counter() - t_start
        sec, wt = repro_section(command_line(args), files, rows, started_at, total)
        ctx.keep(wt)
        sections.append(sec)
        timings["repro"] = time.perf_counter() - t0
        data["reproducibility"] = {"command": command_line(args), "files": files, "seconds": dict(rows),
                                   "started": started_at.isoformat(timespec="seconds")}
        _write(out, ctx, sections, data, a, dataset)
        plan.end("repro")
    finally:
        plan.close()
    LOGGER.info("report: wrote %s in %.1f s", out / "report.html", time.perf_counter() - t_start)
    print(f"wrote {out / 'report.html'} ({len(sections)} sections, {len(ctx.tables)} tables) in "
          f"{time.perf_counter() - t_start:.1f} s")
    return 0


def _data_text(dataset, args: argparse.Namespace) -> str:
    return f"the {dataset.split} split of {dataset_name(dataset.source)} ({dataset.kind} layout)"


def dataset_name(source: str) -> str:
    """``voc/data.yaml`` rather than a bare ``data.yaml``: the folder says which dataset it is."""
    p = Path(source)
    return f"{p.parent.name}/{p.name}" if p.is_file() and p.parent.name else p.name or str(p)


def _pass(plan: Plan, dataset, a: ModelRun, b: ModelRun | None, ablations: list, protocol, args, fwd: float,
          timings: dict[str, float], trust: TrustCost | None, fig_s: float) -> PassOutput:
    plan.begin("pass")
    last = [time.perf_counter()]
    share = 1.0 / (1 + len(ablations))  # A's batches run every configuration: split their time

    def tick(part: str, units: float) -> None:
        now = time.perf_counter()
        dt_s = now - last[0]
        last[0] = now
        if part == "a":
            timings["summary"] = timings.get("summary", 0.0) + dt_s * share
            timings["ablation"] = timings.get("ablation", 0.0) + dt_s * (1 - share)
        else:
            key = {"baseline": "summary", "gam": "gam"}.get(part, "summary")
            timings[key] = timings.get(key, 0.0) + dt_s
        plan.advance("pass", units * fwd * (HOOKED_FORWARD if part == "gam" else BATCHED_FORWARD))

    res = run_pass(dataset, a, b, ablations, protocol, args.conf, True, tick, args.batch, args.workers)
    n_faith = min(args.faithfulness_images, len(res.images))
    if n_faith and trust is not None:  # the detections of the trust images are known now
        dets = float(sum(_capped(res.det_counts.get(im.index, 0), args) for im in res.images[:n_faith]))
        plan.revise("trust", trust.total(n_faith, dets) + fig_s)
    plan.end("pass")
    return res


def _sections(plan: Plan, ctx: S.Context, res: PassOutput, a: ModelRun, b: ModelRun | None, dataset,
              args: argparse.Namespace, methods: tuple, timings: dict[str, float], fwd: float,
              trust: TrustCost | None) -> tuple[list[Section], dict]:
    from gam_gui.metrics.bootstrap import paired_bootstrap

    def timed(key: str):
        plan.begin(key)
        return time.perf_counter()

    def done(key: str, t0: float) -> None:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
        plan.end(key)

    sections: list[Section] = []
    t0 = timed("summary")
    m_a = res.scorer_a.metrics()
    m_b = res.scorer_b.metrics() if res.scorer_b is not None else None
    boot = paired_bootstrap(res.scorer_a, res.scorer_b, args.resamples, args.seed) if res.scorer_b is not None else None
    sections.append(S.summary(ctx, m_a, m_b, boot, res.skipped.to_json()))
    data: dict = {"data": dataset.describe(), "protocol": ctx.protocol, "model": a.path,
                  "baseline": b.path if b else None,
                  "skipped": res.skipped.to_json(), "metrics": m_a.summary(),
                  "baseline_metrics": m_b.summary() if m_b else None, "compare": boot.to_dict() if boot else None}
    done("summary", t0)

    t0 = timed("per_class")
    sections.append(S.per_class(ctx, m_a, m_b))
    done("per_class", t0)

    t0 = timed("ablation")
    from gam_gui.models import attention

    kinds = {f.index: f.entry.kind for f in attention.find_blocks(a.model)}
    rows = []
    for label, spec, scorer in res.ablations:
        bt = paired_bootstrap(scorer, res.scorer_a, args.resamples, args.seed)
        (layer, mode), = spec.items()
        rows.append(S.AblationRow(label, int(layer), mode.label, bt.a["map50"], bt.a["map50_95"], bt.diff["map50"],
                                  bt.diff["map50_95"], S.ci_pair(bt.ci95["map50"]), S.ci_pair(bt.ci95["map50_95"]),
                                  kinds.get(int(layer), "")))
        plan.advance("ablation", 0.3)
    sections.append(S.ablation(ctx, m_a, rows, "--no-ablation" if args.no_ablation
                               else "the model has no attention blocks"))
    data["ablation"] = [{"ablation": r.label, "layer": r.layer, "kind": r.kind, "mode": r.mode, "map50": r.map50,
                         "map50_95": r.map50_95, "delta_map50": r.d50, "delta_map50_95": r.d95,
                         "ci95": {"map50": list(r.ci50), "map50_95": list(r.ci95)}} for r in rows]
    done("ablation", t0)

    t0 = timed("gam")
    gam_rows = res.gam.rows() if res.gam is not None else []
    grid = _typical_grid(a, dataset, res, args.typical) if gam_rows and args.typical else None
    maps = res.blocks.map_rows() if res.blocks is not None else []
    channels = res.blocks.channel_rows() if res.blocks is not None else []
    fig, fig_image = _blocks_figure(a, dataset, res) if maps or channels else (None, None)
    sections.append(attention_blocks(ctx, maps, channels, len(res.images), fig, fig_image or "", gam_rows, grid))
    data["attention"] = attention_json(maps, channels, len(res.images), fig_image)
    data["gam"] = [{"layer": r.block.index, "class": r.name, "boxes": r.boxes, "gate_inside": r.spatial_in,
                    "gate_outside": r.spatial_out, "gain_inside": r.gain_in, "gain_outside": r.gain_out,
                    "top_channels": r.top_channels} for r in gam_rows]
    done("gam", t0)

    t0 = timed("failures")
    off = [r for r in rows if r.mode == "off"]
    carry = min(off, key=lambda r: r.d95).layer if off else None  # the block shown: the one that carries most
    sec, fdata = failures_section(ctx, res, a, b, dataset, args.failures, args.conf, carry,
                                  lambda s: plan.advance("failures", s), EXPLAIN_AT * fwd)
    sections.append(sec)
    data["failures"] = fdata
    done("failures", t0)

    t0 = timed("trust")
    fa = None
    n_faith = min(args.faithfulness_images, len(res.images))
    if n_faith and trust is not None:
        from gam_gui.report.trust import faithfulness

        idx = [im.index for im in res.images[:n_faith]]
        fa = faithfulness(a.model, (dataset[i] for i in idx), a.imgsz, args.conf, methods, args.steps, args.fill,
                          args.tie_orders, args.seed, args.faithfulness_detections or None,
                          on_detection=lambda: plan.advance("trust", trust.per_detection),
                          on_image=lambda k: plan.advance("trust", trust.maps))
    sections.append(S.trust(ctx, fa, args.faithfulness_images))
    data["faithfulness"] = fa
    done("trust", t0)
    data["tables"] = {t.name: {"columns": [c.header for c in t.columns], "rows": t.rows} for t in ctx.tables}
    return sections, data


def _blocks_figure(a: ModelRun, dataset, res: PassOutput) -> tuple[F.MplFigure | None, str | None]:
    """Every block's maps on the typical image (see :meth:`BlockStats.typical`), and its file name."""
    i = res.blocks.typical() if res.blocks is not None else None
    if i is None:
        return None, None
    s = dataset[i]
    if s.image is None:
        return None, None
    with torch.no_grad():
        _dets, _recs, snaps, lb = detect_all_blocks(a.model, s.image, 0.25, 0.45, a.imgsz)
    name = Path(s.path).name
    return F.block_maps(s.image, np.asarray(s.boxes), name, frame_panels(snaps, lb)), name


def _typical_grid(a: ModelRun, dataset, res: PassOutput, k: int):
    """Rows of typical images: the image with its boxes, then each block's spatial gate and gain."""
    idx = res.gam.typical(k) if res.gam is not None else []
    if not idx:
        return None
    from gam_gui.explain.attention import GamRecorder
    from gam_gui.explain.engine import explainer
    from gam_gui.inference import preprocess

    images, boxes, titles, maps = [], [], [], []
    columns: list[str] = []
    kinds: list[str] = []
    eng = explainer(a.model)
    for i in idx:
        s = dataset[i]
        if s.image is None:
            continue
        x, lb = preprocess(a.model, s.image, a.imgsz)
        rec = GamRecorder(a.model, eng.gam_blocks)
        with torch.no_grad(), eng.run(a.model, None, False) as run:
            run.forward(x, rec)
        gms = rec.maps(lb.map_to_frame)
        row, cols, ks = [], [], []
        for g in gms:
            row += [g.raw("spatial"), g.gain("block")]
            cols += [f"layer {g.index}: spatial gate", f"layer {g.index}: block gain"]
            ks += ["gate", "gain"]
        images.append(s.image)
        boxes.append(s.boxes)
        titles.append(Path(s.path).name)
        maps.append(row)
        columns, kinds = cols, ks
    return F.map_grid(images, boxes, titles, columns, maps, kinds) if images else None


def _write(out: Path, ctx: S.Context, sections: list[Section], data: dict, a: ModelRun, dataset) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for t in ctx.tables:
        t.write(out / "tables")
    title = f"gam-gui report: {a.label} on {dataset_name(dataset.source)}"
    sub = f"{ctx.data_text}; protocol {ctx.protocol}; written {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    (out / "report.html").write_text(document(title, sub, sections), encoding="utf-8")
    (out / "report.json").write_text(jsonio.dumps(data) + "\n", encoding="utf-8")
