"""The shipped default model: loads with no argument, finds the shapes in the samples, points at them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gam_gui
from gam_gui.data.shapes import CLASS_NAMES
from gam_gui.models.gam import GAM

ROOT = Path(__file__).resolve().parents[2]


def test_default_model_loads_with_no_argument(trained_model):
    assert trained_model.names == dict(enumerate(CLASS_NAMES))
    blocks = [m for m in trained_model.modules() if isinstance(m, GAM)]
    assert len(blocks) == 3 and {b.gam_variant for b in blocks} == {"seed"}
    assert int(trained_model.meta.get("imgsz", 0)) == 384


def test_default_model_finds_shapes_in_the_samples(trained_model):
    samples = sorted((ROOT / "resources" / "samples").glob("*.jpg"))
    assert len(samples) >= 5
    found = [gam_gui.detect(trained_model, gam_gui.read_image(p), conf=0.4, imgsz=320) for p in samples]
    assert all(found), "every sample image holds shapes"
    assert len({d.cls for dets in found for d in dets}) >= 4


def test_validation_subset_and_pointing_game(trained_model):
    from gam_gui.train.evaluate import evaluate
    from gam_gui.train.pointing import pointing_game

    res = evaluate(trained_model, n_images=24, imgsz=320)
    assert res.instances > 50
    assert res.map50 > 0.6  # the README reports the full 500-image figure
    pg = pointing_game(trained_model, n_images=4, imgsz=320, methods=("hirescam", "gradcam"))
    assert pg["detections"] >= 5 and pg["hirescam"] >= 0.9
    assert 0 <= pg["gradcam"] <= 1


def test_sample_video_plays(trained_model):
    from gam_gui.sources import VideoSource

    with VideoSource(ROOT / "resources" / "sample.mp4") as src:
        assert 10 <= len(src) / src.fps <= 20
        frames = [src.read() for _ in range(3)]
    dets = gam_gui.detect(trained_model, frames[0].image, conf=0.4, imgsz=320)
    assert dets and np.isfinite([d.score for d in dets]).all()
