"""Dataset generator, loss and trainer smoke run (tiny: never real training); the mAP code is tested in
test_metrics.py."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

from gam_gui.data.shapes import CLASS_NAMES, render_sample, write_dataset


def test_generator_is_deterministic_and_labels_are_sane():
    a, b = render_sample(123, (200, 300)), render_sample(123, (200, 300))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert a.image.shape == (200, 300, 3) and a.image.dtype == np.uint8
    counts, sizes = [], []
    for s in range(60):
        smp = render_sample(1000 + s, 256)
        lb = smp.labels
        counts.append(len(lb))
        assert lb.shape[1] == 5 and set(lb[:, 0].astype(int)) <= set(range(len(CLASS_NAMES)))
        assert (lb[:, 1:] >= 0).all() and (lb[:, 1:] <= 1).all()
        sizes += list(np.maximum(lb[:, 3], lb[:, 4]))
    assert min(counts) == 0 and max(counts) <= 8 and np.mean(counts) > 2
    assert min(sizes) < 0.08 and max(sizes) > 0.35  # small and large objects
    assert not np.array_equal(render_sample(1, 64).image, render_sample(2, 64).image)


def test_write_dataset_yolo_format(tmp_path):
    out = write_dataset(tmp_path / "ds", 3, seed=5, size=128)
    rows = (out / "labels" / "000000.txt").read_text().split("\n")
    smp = render_sample(5, 128)
    assert len([r for r in rows if r]) == len(smp.labels)
    assert "circle" in (out / "data.yaml").read_text()


def test_loss_decreases_on_a_fixed_batch():
    from gam_gui.models.yolov5 import DetectionModel
    from gam_gui.train.loss import YoloLoss
    from gam_gui.train.trainer import Batcher, build_pool, make_optimizer

    torch.manual_seed(0)
    model = DetectionModel("yolov5n_GAM", nc=5).train()
    images, labels = build_pool(4, 128, 0, 1)
    x, t = Batcher(images, labels, 128).batch(4, np.random.default_rng(0))
    loss_fn = YoloLoss(model, 128)
    opt = make_optimizer(model, 2e-3, 0.0)
    first = None
    for _ in range(8):
        loss, parts = loss_fn(model(x), t)
        assert torch.isfinite(loss) and parts.shape == (3,)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < first


def test_trainer_smoke_run_and_resume(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "gam_gui.cli", "train", "--out", str(out), "--batch", "2",
           "--imgsz", "96", "--render-size", "96", "--pool", "6", "--workers", "1", "--save-every", "1",
           "--eval-every", "2", "--eval-images", "2", "--final-eval-images", "2", "--threads", "1",
           "--log-every", "1", "--iters"]
    r = subprocess.run(cmd + ["2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out / "last.pt").exists() and (out / "best.pt").exists()
    assert "eval it 2" in r.stderr
    r2 = subprocess.run(cmd + ["3", "--resume"], capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert "resumed from" in r2.stderr and "it 3/3" in r2.stderr
    from gam_gui.checkpoints import load_model

    m = load_model(out / "best.pt", device="cpu")
    assert m.names[0] == "circle"
    ev = subprocess.run([sys.executable, "-m", "gam_gui.cli", "eval", "--weights", str(out / "best.pt"),
                         "--images", "2", "--imgsz", "96"], capture_output=True, text=True, timeout=300)
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert set(json.loads(ev.stdout)) >= {"map50", "map50_95", "per_class_ap50"}
