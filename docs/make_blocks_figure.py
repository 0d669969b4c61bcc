"""The README figure of one model's attention blocks side by side (issue 27).

Loads ``tests/data/attention_ref/v8_stack_best.pt`` (a real ultralytics 8.4 file stacking CBAM,
CoordAtt, GAM, SimAM, EMA, SE and TripletAttention; random weights, so the maps show what each gate
covers, not learned attention), runs ``analyze`` on a generated shapes image and draws every gate of
every block from ``Result.attention``: maps over the frame where the gate has positions, per-channel
bars where it has only channels. Usage: ``python docs/make_blocks_figure.py [out.png]``.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gam_gui.analysis import analyze  # noqa: E402
from gam_gui.checkpoints import load_model  # noqa: E402
from gam_gui.data.shapes import render_sample  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(out: Path) -> None:
    model = load_model(ROOT / "tests/data/attention_ref/v8_stack_best.pt", device="cpu")
    img = render_sample(3, 256).image
    res = analyze(model, img, method="none", imgsz=256, conf=0.01)
    cols = max(len(b.gates) for b in res.attention) + 1
    fig, axes = plt.subplots(len(res.attention), cols, figsize=(2.2 * cols, 2.0 * len(res.attention)))
    for row, block in zip(axes, res.attention, strict=True):
        row[0].imshow(img[..., ::-1])
        row[0].set_title(f"layer {block.index}: {block.kind}\n{block.variant}", fontsize=8)
        for ax, (name, g) in zip(row[1:], block.gates.items(), strict=False):
            framed = g.frame()
            if framed is not None:
                m, lo, hi = framed
                ax.imshow(m, cmap="jet")
                ax.set_title(f"{name} [{lo:.2f}, {hi:.2f}]", fontsize=8)
            elif g.weights is not None:
                ax.bar(range(len(g.weights)), g.weights, width=1.0)
                ax.set_title(f"{name} (per channel)", fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row[1 + len(block.gates):]:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "attention_blocks.png")
