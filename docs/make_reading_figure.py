"""Make ``docs/reading_gates_and_gains.png``, the README's figure on reading gate and gain maps.

Row 1: the shipped model (seed variant) on a validation image: detections, channel gate, spatial gate,
block gain of layer 18. Row 2: the same weights run with the paper variant's forward (sigmoid on the
channel branch, no shuffle), to show how bounded gates read; that model is not trained for it.

    python docs/make_reading_figure.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
from PIL import Image

import gam_gui
from gam_gui import render
from gam_gui.analysis import Settings, analyze_with
from gam_gui.data.shapes import render_sample
from gam_gui.train.evaluate import VAL_SEED0

OUT = Path(__file__).with_name("reading_gates_and_gains.png")
WIDTH = 280


def row(model, image, variant: str) -> list[render.Panel]:
    s = Settings(imgsz=384, method="none", gam_layer=18)
    res = analyze_with(model, image, s)
    g = res.read_gam(18)
    det = render.panels(image, res, s, shown_width=WIDTH)[0]
    out = [det] + [render.gam_panel(image, g, shows, s, WIDTH) for shows in ("channel_gate", "spatial_gate",
                                                                             "gain_block")]
    return [dataclasses.replace(p, title=f"{variant}: {p.title}") for p in out]


def main() -> None:
    image = render_sample(VAL_SEED0 + 2, 320).image
    seed = gam_gui.load_model()
    paper = gam_gui.load_model(gam_variant="paper")
    panels = row(seed, image, "seed (shipped)") + row(paper, image, "paper forward, same weights")
    fig = render.compose_panels(panels, WIDTH, "grid", columns=4)
    # a 128-colour palette keeps the PNG small (Pillow comes with torchvision)
    Image.fromarray(cv2.cvtColor(fig, cv2.COLOR_BGR2RGB)).quantize(128, dither=Image.Dither.NONE).save(
        OUT, optimize=True)
    print(OUT, fig.shape, OUT.stat().st_size)


if __name__ == "__main__":
    main()
