"""The README figure of one model's attention blocks side by side (issue 27), from a trained file.

Loads ``tests/data/attention_ref/v11_trainer_best.pt`` (a real best.pt of the ultralytics 8.4 trainer:
YOLO11 layout with GAM and ten other blocks, trained on the 40 images of ``tests/data/ultralytics_ref``;
see ``make_trainer_stack.py`` there), runs :func:`gam_gui.analyze` on one of those images and draws
every gate of every block from ``Result.attention``, in layer order: the gate over the frame where it
has positions (on the greyed image, ground-truth boxes outlined), per-channel bars where it has only
channels (SE, ECA), and SK's branch weights as a kernel x channel map. Each panel is titled with the
layer, the kind and the gate, and its colour bar (or axis) spans the values the gate took; the title
says the range the gate is declared to have.

Usage: ``python benchmarks/attention_figure.py [out.png] [--weights FILE] [--image FILE]``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gam_gui.analysis import analyze  # noqa: E402
from gam_gui.checkpoints import load_model  # noqa: E402
from gam_gui.images import read_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "tests/data/attention_ref/v11_trainer_best.pt"
IMAGE = ROOT / "tests/data/ultralytics_ref/images/val/200036.jpg"
IMGSZ = 128
COLS = 6
DPI = 110
CMAP = "inferno"
LOGGER = logging.getLogger(__name__)


def _declared(gate) -> str:
    if gate.low is None and gate.high is None:
        return "(unbounded)"
    lo = "-inf" if gate.low is None else f"{gate.low:g}"
    hi = "inf" if gate.high is None else f"{gate.high:g}"
    return f"[{lo}, {hi}]"


def _boxes(image: Path, shape: tuple[int, int]) -> np.ndarray:
    """Ground-truth boxes (pixel xyxy) from the YOLO label file beside the image's folder."""
    label = image.parents[2] / "labels" / image.parent.name / (image.stem + ".txt")
    if not label.exists():
        return np.zeros((0, 4))
    rows = np.loadtxt(label, ndmin=2)
    h, w = shape
    cx, cy, bw, bh = rows[:, 1] * w, rows[:, 2] * h, rows[:, 3] * w, rows[:, 4] * h
    return np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)


def _outline(ax, boxes: np.ndarray) -> None:
    for x0, y0, x1, y1 in boxes:
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=0.7, ec="cyan"))


def draw(weights: Path, image: Path, out: Path) -> None:
    model = load_model(weights, device="cpu")
    img = read_image(image)
    res = analyze(model, img, method="none", imgsz=IMGSZ, conf=0.25)
    boxes = _boxes(image, img.shape[:2])
    grey = img[..., ::-1].mean(2)
    panels = [(b, name, b.gates[name]) for b in res.attention for name in b.gate_order]
    rows = -(-(len(panels) + 1) // COLS)
    fig, axes = plt.subplots(rows, COLS, figsize=(2.35 * COLS, 2.25 * rows), dpi=DPI)
    axes = axes.ravel()
    axes[0].imshow(img[..., ::-1])
    _outline(axes[0], boxes)
    axes[0].set_title(f"input {img.shape[1]}x{img.shape[0]}\n(run at {IMGSZ} px)", fontsize=8)
    for ax, (block, name, g) in zip(axes[1:], panels, strict=False):
        title = f"layer {block.index}: {block.kind}\n{name} {_declared(g.gate)}"
        framed = g.frame()
        if framed is not None:
            m, lo, hi = framed
            ax.imshow(grey, cmap="gray", alpha=1.0)
            im = ax.imshow(lo + m * (hi - lo), cmap=CMAP, alpha=0.75, vmin=lo, vmax=hi)
            _outline(ax, boxes)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)
        elif g.branch_weights is not None:  # SK: which kernel each channel takes
            bw = g.branch_weights
            im = ax.imshow(bw, cmap=CMAP, aspect="auto", vmin=float(bw.min()), vmax=float(bw.max()))
            ax.set_ylabel("kernel branch", fontsize=7)
            ax.set_xlabel("channel", fontsize=7)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=6)
        elif g.weights is not None:  # a gate with channels only: its value per channel
            w = g.weights
            ax.bar(range(len(w)), w, width=0.9, color=plt.get_cmap(CMAP)(0.55))
            spread = float(w.max() - w.min())
            if spread < 1e-3:  # a gate the training left constant (a dead MLP gives sigmoid(0) = 0.5)
                ax.set_ylim(float(w.mean()) - 0.01, float(w.mean()) + 0.01)
                ax.text(0.5, 0.8, f"constant {float(w.mean()):.3f}", transform=ax.transAxes, ha="center",
                        fontsize=7)
            else:
                ax.set_ylim(float(w.min()) - 0.05 * spread, float(w.max()) + 0.05 * spread)
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_xlabel("channel", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_title(title, fontsize=8)
            continue
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([] if g.branch_weights is None else range(g.branch_weights.shape[0]))
        ax.tick_params(labelsize=6)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    for ax in axes[len(panels) + 1:]:
        ax.axis("off")
    fig.suptitle(f"Every gate of every attention block: {weights.name} (ultralytics 8.4 trainer, YOLO11 layout)",
                 fontsize=10)
    fig.tight_layout()
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    # a 256-colour palette keeps the PNG a few hundred KB (the maps are smooth; nothing visible is lost)
    Image.fromarray(rgba[..., :3]).quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    LOGGER.info("wrote %s (%d panels, %d bytes)", out, len(panels), out.stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs" / "attention_blocks.png")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--image", type=Path, default=IMAGE)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    draw(args.weights, args.image, args.out)


if __name__ == "__main__":
    main()
