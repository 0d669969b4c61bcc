"""The two figures ``eval --out`` writes: the precision-recall curves and the confusion matrix.

matplotlib with the Agg backend (no display needed, nothing opened on screen); axes labelled with
their units; ``dpi`` 150 for a screen, 300 for a paper.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gam_gui.metrics.scorer import Metrics


def _pyplot():  # noqa: ANN202 - matplotlib's module
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_pr_curve(metrics: Metrics, path: str | Path, dpi: int = 150) -> Path:
    """Each class's interpolated precision against recall at IoU 0.5 (thin lines, AP50 in the
    legend) and their mean (thick line, mAP@0.5)."""
    plt = _pyplot()
    path = Path(path)
    curves = metrics.pr_curve.get("precision", {})
    recall = np.asarray(metrics.pr_curve.get("recall", np.linspace(0, 1, 101)))
    ap50 = {row["class"]: row["ap50"] for row in metrics.per_class}
    fig, ax = plt.subplots(figsize=(6.4, 4.8), constrained_layout=True)
    try:
        many = len(curves) > 20
        for name, prec in curves.items():
            label = None if many else f"{name} AP@0.5 {ap50.get(name, float('nan')):.3f}"
            ax.plot(recall, prec, linewidth=1, alpha=0.6 if many else 0.9, label=label)
        if curves:
            mean = np.mean(np.array(list(curves.values())), 0)
            ax.plot(recall, mean, color="black", linewidth=2.5, label=f"all classes mAP@0.5 {metrics.map50:.3f}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall (fraction of ground-truth objects found)")
        ax.set_ylabel("precision (fraction of detections correct)")
        ax.set_title(f"Precision-recall at IoU 0.5 ({metrics.protocol} protocol, {metrics.images} images)")
        ax.grid(alpha=0.3)
        if curves:
            ax.legend(loc="lower left", fontsize=7 if len(curves) > 8 else 8)
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
    return path


def plot_confusion_matrix(metrics: Metrics, names: list[str], path: str | Path, dpi: int = 150,
                          normalize: bool = True) -> Path:
    """The (classes + background) confusion matrix, true class in columns, predicted in rows;
    ``normalize``: each column as fractions of its true objects (counts otherwise)."""
    plt = _pyplot()
    path = Path(path)
    m = np.asarray(metrics.confusion, np.float64)
    labels = [*names, "background"]
    shown = m / np.maximum(m.sum(0, keepdims=True), 1) if normalize else m
    n = len(labels)
    side = min(3.0 + 0.45 * n, 16.0)
    fig, ax = plt.subplots(figsize=(side, side * 0.85), constrained_layout=True)
    try:
        im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
        cb = fig.colorbar(im, ax=ax, shrink=0.8)
        cb.set_label("fraction of the column's true objects" if normalize else "objects (count)")
        if n <= 30:
            ax.set_xticks(range(n), labels, rotation=90)
            ax.set_yticks(range(n), labels)
            for i in range(n):
                for j in range(n):
                    if m[i, j]:
                        v = f"{shown[i, j]:.2f}" if normalize else f"{int(m[i, j])}"
                        ax.text(j, i, v, ha="center", va="center", fontsize=7,
                                color="white" if shown[i, j] > 0.6 * (shown.max() or 1) else "black")
        ax.set_xlabel("true class")
        ax.set_ylabel("predicted class")
        ax.set_title(f"Confusion matrix ({metrics.images} images; conf >= 0.25, IoU >= 0.45)")
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
    return path
