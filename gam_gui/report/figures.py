"""The report's figures, drawn with matplotlib (Agg, no window, no pyplot state).

Each figure is saved twice: at 300 dpi under ``R/figures/<name>.png`` for a paper, and at screen
resolution for the page (a 300 dpi copy of every figure would make ``report.html`` tens of MB).
Every axis carries a label with its unit ("(0–1)" for a gate, "log2, bits" for a gain, "pixels"),
so a figure taken out of the report still says what it shows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from gam_gui.report.html import Figure
from gam_gui.report.text import clean_text

PAPER_DPI = 300
SCREEN_DPI = 100
#: matplotlib's tab10, for classes and models
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
GATE_CMAP, GAIN_CMAP, CAM_CMAP = "viridis", "RdBu_r", "jet"


def label(text: object, limit: int = 40) -> str:
    """A string from a file, safe as matplotlib text: control characters visible, ``$`` not math."""
    return clean_text(str(text), limit).replace("$", r"\$")


def new_figure(width_in: float, height_in: float) -> MplFigure:
    fig = MplFigure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: MplFigure, name: str, folder: Path, alt: str, caption: str = "", dpi: int = PAPER_DPI) -> Figure:
    """Write ``folder/<name>.png`` at ``dpi`` (300 for a paper) and return the page's copy (the same
    file when ``dpi`` is no more than the screen's)."""
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=dpi, facecolor="white")
    if dpi <= SCREEN_DPI:
        return Figure(name, (folder / f"{name}.png").read_bytes(), alt, caption, dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=SCREEN_DPI, facecolor="white")
    return Figure(name, buf.getvalue(), alt, caption, dpi)


# -- section 2 -------------------------------------------------------------------------------------
def pr_curves(recall: Sequence[float], precision: dict[str, Sequence[float]], ap50: dict[str, float]) -> MplFigure:
    """Precision against recall at IoU 0.5, one line per class (its AP50 in the legend)."""
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    r = np.asarray(recall, float)
    for i, (name, p) in enumerate(precision.items()):
        ap = ap50.get(name)
        lab = f"{label(name, 24)} (AP50 {ap:.3f})" if ap is not None and np.isfinite(ap) else label(name, 24)
        ax.plot(r, np.asarray(p, float), color=PALETTE[i % len(PALETTE)], lw=1.6, label=lab)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (fraction of ground-truth objects found, 0–1)")
    ax.set_ylabel("precision (fraction of detections correct, 0–1)")
    ax.set_title("Precision–recall at IoU 0.5")
    ax.grid(alpha=0.3)
    if precision:
        ax.legend(fontsize=7, loc="lower left", ncol=1 if len(precision) <= 8 else 2)
    return fig


def confusion(matrix: Sequence[Sequence[int]], names: Sequence[str]) -> MplFigure:
    """Counts, rows = predicted class, columns = true class, last row/column = background; each
    column normalised to its true-class total in the colours, counts written in the cells."""
    m = np.asarray(matrix, float)
    n = len(names) + 1
    labels = [label(x, 18) for x in names] + ["background"]
    size = min(9.0, 2.6 + 0.55 * n)
    fig = new_figure(size + 1.2, size)
    ax = fig.add_subplot()
    col = m / np.maximum(m.sum(0, keepdims=True), 1)
    im = ax.imshow(col, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("true class")
    ax.set_ylabel("predicted class")
    ax.set_title("Confusion matrix (score ≥ 0.25, IoU ≥ 0.45)")
    if n <= 25:
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=7,
                            color="white" if col[i, j] > 0.6 else "black")
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("fraction of the true class's objects (0–1)")
    return fig


# -- section 3 -------------------------------------------------------------------------------------
def ablation_bars(labels: Sequence[str], delta: Sequence[float], lo: Sequence[float | None],
                  hi: Sequence[float | None], metric: str = "mAP50-95") -> MplFigure:
    """Change of ``metric`` against the model as trained, per ablation, with its 95% interval."""
    k = len(labels)
    fig = new_figure(6.4, max(2.2, 0.28 * k + 1.2))
    ax = fig.add_subplot()
    y = np.arange(k)[::-1]
    d = np.asarray(delta, float)
    lo_a = np.asarray([np.nan if v is None else v for v in lo], float)
    hi_a = np.asarray([np.nan if v is None else v for v in hi], float)
    err = np.vstack((np.nan_to_num(d - lo_a), np.nan_to_num(hi_a - d)))
    colors = [PALETTE[3] if v < 0 else PALETTE[2] for v in d]
    ax.barh(y, d, color=colors, alpha=0.8)
    ax.errorbar(d, y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=2, lw=0.9)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [label(x, 48) for x in labels], fontsize=7)  # "12 TripletAttention: branch-hw-only" whole
    ax.set_xlabel(f"change in {metric} vs as trained\n(absolute, 95% paired-bootstrap interval)")
    ax.set_title("Ablation: one attention block at a time")
    ax.grid(axis="x", alpha=0.3)
    return fig


# -- section 4 -------------------------------------------------------------------------------------
def inside_outside_bars(blocks: Sequence[str], classes: Sequence[str], inside: np.ndarray, outside: np.ndarray,
                        quantity: str, unit: str) -> MplFigure:
    """``inside[b, c]`` (mean over class c's boxes) beside ``outside[b]`` (background), per block."""
    nb, nc = inside.shape
    fig = new_figure(min(11.0, max(6.4, 2.0 + 0.5 * nb * (nc + 1))), 3.6)
    ax = fig.add_subplot()
    width = 0.8 / (nc + 1)
    x = np.arange(nb)
    for c in range(nc):
        ax.bar(x + (c - nc / 2) * width, inside[:, c], width, color=PALETTE[c % len(PALETTE)],
               label=f"inside {label(classes[c], 18)}")
    ax.bar(x + (nc - nc / 2) * width, outside, width, color="#bbbbbb", hatch="//", edgecolor="#666666",
           label="outside all objects")
    ax.set_xticks(x, [label(b, 20) for b in blocks])
    ax.set_xlabel("GAM block (layer index)")
    ax.set_ylabel(f"{quantity} ({unit})")
    ax.axhline(0, color="black", lw=0.6)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=min(4, nc + 1), loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    ax.set_title(f"{quantity}: inside the ground-truth boxes of each class vs outside every box")
    return fig


def map_grid(images: Sequence[np.ndarray], boxes: Sequence[np.ndarray], row_titles: Sequence[str],
             columns: Sequence[str], maps: Sequence[Sequence[np.ndarray | None]], kinds: Sequence[str]) -> MplFigure:
    """Rows of panels: the image with its ground truth, then one map per column (``kinds[j]``:
    ``gate`` in 0–1, ``gain`` in log2 around 0), with one colour bar per kind."""
    rows, cols = len(images), len(columns) + 1
    fig = new_figure(1.9 * cols + 1.0, 1.75 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    gains = [m for r in maps for m, k in zip(r, kinds, strict=True) if m is not None and k == "gain"]
    gates = [m for r in maps for m, k in zip(r, kinds, strict=True) if m is not None and k == "gate"]
    lim = max([float(np.nanpercentile(np.abs(m), 99.5)) for m in gains] or [1.0]) or 1.0
    # the gates of a trained block span a narrow part of 0-1: a shared robust range shows their pattern
    g_lo = min([float(np.nanpercentile(m, 1)) for m in gates] or [0.0])
    g_hi = max([float(np.nanpercentile(m, 99)) for m in gates] or [1.0])
    if not g_hi > g_lo:
        g_lo, g_hi = 0.0, 1.0
    handles = {}
    for i in range(rows):
        ax = axes[i][0]
        ax.imshow(images[i][:, :, ::-1])
        for b in boxes[i]:
            ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, ec="lime", lw=1))
        ax.set_title(label(row_titles[i], 28), fontsize=7)
        for j, (m, k) in enumerate(zip(maps[i], kinds, strict=True)):
            a = axes[i][j + 1]
            if m is not None:
                if k == "gain":
                    handles[k] = a.imshow(m, cmap=GAIN_CMAP, norm=TwoSlopeNorm(0, -lim, lim))
                else:
                    handles[k] = a.imshow(m, cmap=GATE_CMAP, vmin=g_lo, vmax=g_hi)
            if i == 0:
                a.set_title(label(columns[j], 28), fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if "gate" in handles:
        fig.colorbar(handles["gate"], ax=axes, shrink=0.6, pad=0.01).set_label(
            f"spatial gate (sigmoid; colours span {g_lo:.2f}–{g_hi:.2f} of 0–1)", fontsize=7)
    if "gain" in handles:
        fig.colorbar(handles["gain"], ax=axes, shrink=0.6, pad=0.01).set_label("block gain (log2, bits)",
                                                                               fontsize=7)
    return fig


def _boxes_on(ax, boxes: np.ndarray, colour: str, lw: float = 0.8, dashed: bool = False) -> None:
    for b in boxes:
        ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, ec=colour, lw=lw,
                               ls="--" if dashed else "-"))


def tick_labels(values: Sequence[float]) -> list[str]:
    """Colour-bar ends with just enough decimals to tell them apart (no offset text)."""
    vals = [float(v) for v in values]
    span = max(vals) - min(vals)
    digits = 2 if not span > 0 else int(min(6, max(2, np.ceil(-np.log10(span)) + 1)))
    return [f"{v:.{digits}f}".replace("-", "−") for v in vals]


def block_maps(image: np.ndarray, boxes: np.ndarray, title: str, blocks: Sequence[dict]) -> MplFigure:
    """Every attention block's maps on one image, one row per block: the image with its ground truth,
    then each gate (with positions: a map over the frame; without: its channel weights, sorted) and
    the block gain. Each panel has its own colour bar (a gate's ticks: its min and max on this image;
    its label: the declared range), because the blocks' gates span different parts of their ranges.
    ``blocks``: from :func:`gam_gui.report.block_stats.frame_panels`."""
    rows = len(blocks)
    cols = 1 + max([len(b["maps"]) for b in blocks] or [0])
    fig = new_figure(2.3 * cols + 0.5, 2.3 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, b in enumerate(blocks):
        ax = axes[i][0]
        ax.imshow(image[:, :, ::-1])
        _boxes_on(ax, boxes, "lime", 1.0)
        if i == 0:
            ax.set_title(label(title, 30), fontsize=6.5)
        ax.set_ylabel("\n".join(label(x, 24) for x in b.get("lines") or [b["label"]]), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        for j in range(1, cols):
            a = axes[i][j]
            if j - 1 >= len(b["maps"]):
                a.axis("off")
                continue
            name, kind, m, info = b["maps"][j - 1]
            if kind == "weights":
                w = np.sort(np.asarray(m, float))[::-1]
                a.bar(np.arange(len(w)), w, width=1.0, color=PALETTE[0])
                a.xaxis.set_major_locator(MaxNLocator(integer=True))
                lo = info.low if info.low is not None else min(0.0, float(w.min()))
                hi = info.high if info.high is not None else float(w.max())
                a.set_ylim(lo, hi)
                if info.middle is not None:
                    a.axhline(info.middle, color="black", lw=0.6, ls="--")
                a.set_title(label(f"{name} gate (no positions)", 34), fontsize=7.5)
                a.set_xlabel("channels, largest first", fontsize=6.5)
                a.set_ylabel(f"weight ({info.range_text})", fontsize=6.5)
                a.tick_params(labelsize=6.5)
                continue
            a.set_xticks([])
            a.set_yticks([])
            mn, mx = float(np.nanmin(m)), float(np.nanmax(m))
            if not mx > mn:
                mx = mn + 1e-6
            if kind == "gain":
                # white is 0 (unchanged) only when the map crosses it; otherwise one side of the scale
                cmap, norm = (GAIN_CMAP, TwoSlopeNorm(0, mn, mx)) if mn < 0 < mx else \
                    ("Blues_r" if mx <= 0 else "Reds", Normalize(mn, mx))
                h = a.imshow(m, cmap=cmap, norm=norm)
                a.set_title(label("block gain", 34), fontsize=7.5)
                ticks = [mn, 0.0, mx] if mn < 0 < mx else [mn, mx]
                unit = ("bits (0 = unchanged)" if mn < 0 < mx else "bits, all < 0 here: energy removed" if mx <= 0
                        else "bits, all > 0 here: energy added")
            else:
                h = a.imshow(m, cmap=GATE_CMAP, vmin=mn, vmax=mx)
                width = (info.high - info.low) if info.middle is not None else max(abs(mn), abs(mx), 1e-12)
                flat = " (nearly flat)" if (mx - mn) < 0.01 * width else ""
                a.set_title(label(f"{name} gate{flat}", 34), fontsize=7.5)
                ticks, unit = [mn, mx], f"this map's min–max; range {info.range_text}"
            cb = fig.colorbar(h, ax=a, location="bottom", shrink=0.85, pad=0.02, aspect=14)
            cb.set_ticks(ticks, labels=tick_labels(ticks))
            cb.set_label(unit, fontsize=6.5)
            cb.ax.tick_params(labelsize=6.5)
            _boxes_on(a, boxes, "black" if kind == "gain" else "white", 0.7, dashed=True)
            a.set_xlim(-0.5, m.shape[1] - 0.5)
            a.set_ylim(m.shape[0] - 0.5, -0.5)
    return fig


# -- section 5 -------------------------------------------------------------------------------------
def failure_rows(rows: Sequence[dict]) -> MplFigure:
    """One row per failure: panels ``{"title", "image", "kind" ("image"|"cam"|"gate"|"gain"),
    "map", "boxes": [(xyxy, colour, dashed, text)]}`` cropped around the object."""
    n = len(rows)
    cols = max(len(r["panels"]) for r in rows)
    fig = new_figure(2.1 * cols + 1.0, 2.0 * n + 0.4)
    axes = fig.subplots(n, cols, squeeze=False)
    handles = {}
    gates = [p["map"] for r in rows for p in r["panels"] if p.get("kind") == "gate" and p.get("map") is not None]
    g_lo = min([float(np.nanpercentile(m, 1)) for m in gates] or [0.0])
    g_hi = max([float(np.nanpercentile(m, 99)) for m in gates] or [1.0])
    if not g_hi > g_lo:
        g_lo, g_hi = 0.0, 1.0
    for i, r in enumerate(rows):
        for j in range(cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(r["panels"]):
                ax.axis("off")
                continue
            p = r["panels"][j]
            ih, iw = p["image"].shape[:2]
            ax.imshow(p["image"][:, :, ::-1])
            if p.get("map") is not None:
                kind = p["kind"]
                if kind == "gain":
                    lim = max(float(np.nanmax(np.abs(p["map"]))), 1e-6)
                    handles[kind] = ax.imshow(p["map"], cmap=GAIN_CMAP, norm=TwoSlopeNorm(0, -lim, lim), alpha=0.6)
                else:
                    lo, hi = (0.0, 1.0) if kind == "cam" else (g_lo, g_hi)
                    handles[kind] = ax.imshow(p["map"], cmap=CAM_CMAP if kind == "cam" else GATE_CMAP,
                                              vmin=lo, vmax=hi, alpha=0.55)
            for xyxy, colour, dashed, text in p.get("boxes", []):
                if xyxy[2] < 0 or xyxy[3] < 0 or xyxy[0] > iw or xyxy[1] > ih:
                    continue  # outside the crop
                ax.add_patch(Rectangle((xyxy[0], xyxy[1]), xyxy[2] - xyxy[0], xyxy[3] - xyxy[1], fill=False,
                                       ec=colour, lw=1.3, ls="--" if dashed else "-"))
                if text and 0 <= xyxy[0] < iw and 0 <= xyxy[1] < ih:
                    ax.text(xyxy[0], xyxy[1], label(text, 24), fontsize=5, color="white", va="bottom", clip_on=True,
                            bbox={"facecolor": colour, "pad": 0.5, "lw": 0, "alpha": 0.8})
            ax.set_xlim(-0.5, iw - 0.5)
            ax.set_ylim(ih - 0.5, -0.5)
            ax.set_title(label(p["title"], 30), fontsize=6.5)
            if j == 0:
                ax.set_ylabel(label(r["label"], 34), fontsize=6.5)
    names = {"cam": "CAM (0–1, of its max)", "gate": "attention gate ({}–{})".format(*tick_labels([g_lo, g_hi])),
             "gain": "block gain (log2, bits)"}
    for kind, h in handles.items():
        fig.colorbar(h, ax=axes, shrink=0.5, pad=0.01).set_label(names[kind], fontsize=7)
    return fig


# -- section 6 -------------------------------------------------------------------------------------
def faithfulness_bars(methods: Sequence[str], values: dict[str, Sequence[float | None]],
                      intervals: dict[str, Sequence[tuple[float | None, float | None]]]) -> MplFigure:
    """Deletion and insertion AUC per method (reference rows included), with 95% intervals."""
    fig = new_figure(7.0, 3.2)
    axes = fig.subplots(1, len(values), squeeze=False)[0]
    for ax, (metric, vals) in zip(axes, values.items(), strict=True):
        v = np.asarray([np.nan if x is None else x for x in vals], float)
        iv = intervals.get(metric, [(None, None)] * len(v))
        lo = np.asarray([np.nan if a is None else a for a, _ in iv], float)
        hi = np.asarray([np.nan if b is None else b for _, b in iv], float)
        y = np.arange(len(methods))[::-1]
        colors = ["#999999" if m in ("random", "box") else PALETTE[0] for m in methods]
        ax.barh(y, np.nan_to_num(v), color=colors)
        err = np.vstack((np.nan_to_num(v - lo), np.nan_to_num(hi - v)))
        ax.errorbar(np.nan_to_num(v), y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=2, lw=0.8)
        ax.set_yticks(y, [label(m, 16) for m in methods], fontsize=7)
        better = "lower" if "deletion" in metric else "higher"
        ax.set_xlabel(f"{metric.replace('_auc', ' AUC')} (0–1, {better} is better)", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Faithfulness per method (grey: reference maps)", fontsize=9)
    return fig
