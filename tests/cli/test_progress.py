"""The progress helper and its use by export and eval: on stderr, silent unless a terminal or asked."""

from __future__ import annotations

import argparse
import json
import re

import cv2
import numpy as np
import pytest

from gam_gui import cli
from gam_gui.progress import ENV, Progress, enabled


def test_enabled_follows_flag_then_env_then_terminal(monkeypatch, capsys):
    monkeypatch.delenv(ENV, raising=False)
    assert enabled() is False  # pytest's captured stderr is not a terminal
    monkeypatch.setenv(ENV, "1")
    assert enabled() is True and enabled(False) is False
    monkeypatch.setenv(ENV, "0")
    assert enabled() is False and enabled(True) is True


def test_silent_bar_writes_nothing(capsys):
    with Progress(5, desc="quiet", force=False) as bar:
        for _ in range(5):
            bar.update()
        bar.finish()
    assert capsys.readouterr().err == ""


def test_bar_ends_at_total_when_finished(capsys):
    with Progress(desc="job", unit="frame", force=True) as bar:
        bar.set(3, 6)
        bar.set(5, 6)  # the last report of a job whose final steps are never reported
        bar.finish()
    err = capsys.readouterr().err
    assert "6/6" in err and "job" in err


def test_no_bar_before_the_first_step(capsys):
    with Progress(10, desc="never", force=True):
        pass
    assert capsys.readouterr().err == ""


@pytest.fixture()
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(6):
        w.write(np.full((48, 64, 3), 40 * i, np.uint8))
    w.release()
    return path


def test_export_bar_ends_at_n_of_n(tiny_weights, clip, tmp_path, capsys, monkeypatch):
    """--every 2 on 6 frames exports frames 0, 2, 4: frame 5 is never reported, the bar still ends at 6/6."""
    monkeypatch.setenv(ENV, "1")
    rc = cli.main(["export", "--weights", str(tiny_weights), "--source", str(clip), "--out", str(tmp_path / "o"),
                   "--method", "none", "--every", "2"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert re.search(r"wrote 3 frame\(s\) to .* in \d+\.\d s", out)
    states = re.findall(r"export:.*?(\d+)/(\d+)", err)
    assert states and states[-1] == ("6", "6")
    # --no-progress wins over the environment
    rc = cli.main(["export", "--weights", str(tiny_weights), "--source", str(clip), "--out", str(tmp_path / "o2"),
                   "--method", "none", "--no-progress"])
    assert rc == 0 and "export:" not in capsys.readouterr().err


def test_eval_names_each_part_and_reports_total_seconds(tiny_weights, capsys):
    from gam_gui.train.evaluate import run

    args = argparse.Namespace(weights=str(tiny_weights), images=2, imgsz=64, pointing=True, progress=True)
    assert run(args) == 0
    out, err = capsys.readouterr()
    res = json.loads(out)
    assert re.search(r"mAP: 100%.*2/2", err)
    assert re.search(r"pointing game \(gradcam, hirescam, layercam\): 100%.*2/2", err)
    parts = res["extra"]["seconds_by_part"]
    assert set(parts) == {"mAP", "pointing_game"}
    assert res["seconds"] >= sum(parts.values()) - 0.1  # the whole command, every part


def test_eta_is_a_moving_average_over_items_and_stays_steady():
    """Issue 25.8: items of very different cost (images with 1 or 12 objects) made tqdm's ETA,
    weighted to the last updates, swing from 1 to 15 minutes. Once a tenth is done, the predicted
    total time (elapsed + ETA) of the moving average stays within a factor 2."""
    from gam_gui.progress import Eta

    rng = np.random.default_rng(0)
    costs = rng.choice([0.3, 0.6, 4.0], size=200, p=[0.5, 0.3, 0.2])  # seconds per image
    eta = Eta(len(costs))
    t = 0.0
    eta.start(now=t)
    predicted = []
    for k, c in enumerate(costs, 1):
        t += c
        eta.step(now=t)
        if k >= len(costs) // 10:
            predicted.append(t + eta.remaining())
    assert max(predicted) / min(predicted) < 2.0
    assert eta.remaining() == 0.0
    # one item 30 times slower than the others, 60 items in (the window: the last 30), moves it by its share
    eta = Eta(100)
    eta.start(now=0.0)
    for k in range(1, 61):
        eta.step(now=float(k))
    before = eta.remaining()
    eta.step(now=60.0 + 30.0)
    assert before < eta.remaining() < 2.5 * before


def test_the_bar_shows_the_moving_average_rate(capsys):
    with Progress(50, desc="eta", force=True) as bar:
        for _ in range(12):
            bar.update()
        assert bar.bar.format_dict["rate"] == pytest.approx(bar.eta.rate())
        assert bar.eta.window == 10 and bar.eta.n == 12
