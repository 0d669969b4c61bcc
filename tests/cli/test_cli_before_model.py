"""Bad input on the command line is reported before the model loads, in one line of ours (no FFmpeg or
OpenCV lines), and a failed run leaves no output folder behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from moving_scene import write_video

from gam_gui import cli


@pytest.fixture(scope="module")
def bad_media(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    img = np.random.default_rng(1).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    ok, jpg = cv2.imencode(".jpg", img)
    assert ok
    (d / "notes.jpg").write_text("this is a text file renamed .jpg\n" * 20)
    (d / "half.jpg").write_bytes(jpg.tobytes()[: len(jpg) // 2])
    video = write_video(d / "clip.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(video[: len(video) // 3])
    return d


@pytest.mark.parametrize("name,message", [
    ("notes.jpg", "not a readable image"),
    ("half.jpg", "not a readable image"),
    ("truncated.mp4", "not a readable video"),
])
def test_bad_media_is_reported_before_the_model_in_one_line(bad_media, tmp_path, name, message):
    """In a fresh process, as a user runs it (FFmpeg's log level is set before its first use). The
    weights are junk: had the model been loaded first, the message would be the checkpoint's."""
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint" * 8)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    proc = subprocess.run([sys.executable, "-m", "gam_gui.cli", "export", "--weights", str(junk), "--source",
                           str(bad_media / name), "--out", str(out)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2], env=env)
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(err) == 1 and err[0].startswith("gam-gui: error: ") and message in err[0], err  # no FFmpeg lines
    assert name in err[0] and not out.exists()


def test_a_target_the_frame_lacks_names_the_detections_it_has(tiny_weights, tmp_path, capsys):
    img = tmp_path / "one.png"
    assert cv2.imwrite(str(img), np.full((64, 64, 3), 200, np.uint8))
    out = tmp_path / "made" / "out"
    rc = cli.main(["export", "--weights", str(tiny_weights), "--source", str(img), "--out", str(out),
                   "--target", "99", "--method", "none", "--imgsz", "64", "--conf", "1", "--device", "cpu"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1, err
    assert err[0] == "gam-gui: error: nothing was exported: one.png: target 99: the frame has no detections"
    assert "ValueError" not in err[0] and not (tmp_path / "made").exists()  # no empty folders after a failure
