"""Strict arguments (one set of rules for the CLI and the API), fast start, ``--version``, sub-command help,
``layers`` at the model's own size, ``--lang``."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from gam_gui import cli
from gam_gui import validate as V

BASE = ["export", "--source", "nowhere", "--out", "nowhere_out"]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``cli.main`` as the console script runs it: argparse's errors raise SystemExit(2)."""
    try:
        rc = cli.main(argv)
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "no error printed"
    assert not any("Traceback" in ln for ln in lines)
    return lines[-1]


# -- usage errors found by argparse, before anything loads: exit 2, argparse's one line ------------------

@pytest.mark.parametrize("args, message", [
    (["--conf", "2"], "argument --conf: must be in [0, 1], got 2"),
    (["--conf", "-1"], "argument --conf: must be in [0, 1], got -1"),
    (["--conf", "nan"], "argument --conf: must be a number, got 'nan'"),
    (["--iou", "1.5"], "argument --iou: must be in [0, 1], got 1.5"),
    (["--alpha", "2"], "argument --alpha: must be in [0, 1], got 2"),
    (["--imgsz", "0"], "argument --imgsz: must be an integer >= 1, got 0"),
    (["--imgsz", "-5"], "argument --imgsz: must be an integer >= 1, got -5"),
    (["--imgsz", "3.5"], "argument --imgsz: must be an integer >= 1, got '3.5'"),
    (["--every", "0"], "argument --every: must be an integer >= 1, got 0"),
    (["--max-frames", "0"], "argument --max-frames: must be an integer >= 1, got 0"),
    (["--method", "gradcom"], "argument --method/-m: 'gradcom' is unknown; choose one of auto, gradcam,"),
    (["--target", "best"], "argument --target/-t: 'best' is unknown; use all, class, box"),
])
def test_cli_usage_errors_exit_2_with_argparse_line(args, message, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load", lambda *a: pytest.fail("the model must not load for a usage error"))
    rc, out, err = run_cli([*BASE, *args], capsys)
    assert rc == 2 and not out
    assert error_line(err).startswith(f"gam-gui export: error: {message}")
    assert err.startswith("usage: gam-gui export")


@pytest.mark.parametrize("args, message", [
    (["train", "--iters", "0"], "gam-gui train: error: argument --iters: must be an integer >= 1, got 0"),
    (["train", "--lr", "-1"], "gam-gui train: error: argument --lr: must be a number > 0, got -1"),
    (["eval", "--images", "0"], "gam-gui eval: error: argument --images: must be an integer >= 1, got 0"),
    (["layers", "--imgsz", "-5"], "gam-gui layers: error: argument --imgsz: must be an integer >= 1, got -5"),
    (["--threads", "0"], "gam-gui gui: error: argument --threads: must be an integer >= 1, got 0"),
])
def test_other_commands_share_the_rules(args, message, capsys):
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and error_line(err) == message


# -- usage errors that need the model: exit 2 after loading, same format -------------------------------

def test_gam_layer_must_be_a_gam_block(tiny_weights, tmp_path, capsys):
    img = tmp_path / "a.png"
    import cv2

    cv2.imwrite(str(img), np.full((40, 50, 3), 90, np.uint8))
    rc, out, err = run_cli(["export", "--weights", str(tiny_weights), "--source", str(img), "--out",
                            str(tmp_path / "o"), "--method", "none", "--gam-layer", "5"], capsys)
    assert rc == 2 and not out
    assert error_line(err) == "gam-gui export: error: --gam-layer 5 is not a GAM block; GAM blocks: 18, 22, 26"
    assert err.startswith("usage: gam-gui export")
    assert not (tmp_path / "o").exists()


def test_layers_must_exist(tiny_weights, tmp_path, capsys):
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.full((40, 50, 3), 90, np.uint8))  # the source is read first
    rc, _, err = run_cli(["export", "--weights", str(tiny_weights), "--source", str(tmp_path), "--out",
                          str(tmp_path / "o"), "--layers", "18", "99"], capsys)
    assert rc == 2
    assert error_line(err) == ("gam-gui export: error: --layers: layer 99 is out of range; valid layers: 0..26 "
                               "(the head is 27)")


# -- bad input files: exit 1, one line, before any model loads ----------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["export", "--source", "/nonexistent/clip.mp4", "--out", "o"], "/nonexistent/clip.mp4: no such file or folder"),
    (["export", "--source", "x.png", "--out", "o", "--weights", "/nonexistent/best.pt"],
     "/nonexistent/best.pt: no such checkpoint"),
    (["/nonexistent/photo.jpg"], "/nonexistent/photo.jpg: no such file or folder"),  # the window's path
    (["layers", "--weights", "/nonexistent/best.pt"], "/nonexistent/best.pt: no such checkpoint"),
    (["eval", "--weights", "/nonexistent/best.pt"], "/nonexistent/best.pt: no such checkpoint"),
    (["compare", "--source", "x.png", "--out", "o", "--b", "/nonexistent/b.pt"],
     "/nonexistent/b.pt: no such checkpoint"),
])
def test_missing_files_exit_1_before_the_model_loads(argv, message, capsys, monkeypatch):
    import gam_gui.checkpoints

    monkeypatch.setattr(gam_gui.checkpoints, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    rc, out, err = run_cli(argv, capsys)
    assert rc == 1 and not out
    assert err.strip() == f"gam-gui: error: {message}"


def test_streams_and_cameras_are_not_taken_for_paths():
    for spec in ("camera:0", "rtsp://host/stream", "HTTP://host/v.mp4", 0):
        V.check_source(spec)  # left to the source readers
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        V.check_source("/nonexistent/dir/")


# -- the API: the same rules as ValueError with the same words -----------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"conf": 2}, "conf must be in [0, 1], got 2"),
    ({"conf": -1}, "conf must be in [0, 1], got -1"),
    ({"iou": 1.5}, "iou must be in [0, 1], got 1.5"),
    ({"alpha": -0.1}, "alpha must be in [0, 1], got -0.1"),
    ({"imgsz": 0}, "imgsz must be an integer >= 1, got 0"),
    ({"imgsz": -5}, "imgsz must be an integer >= 1, got -5"),
    ({"method": "gradcom"}, "method 'gradcom' is unknown"),
    ({"target": "best"}, "target 'best' is unknown"),
    ({"gam_layer": -2}, "gam_layer must be an integer >= 0, got -2"),
    ({"colormap": "rainbow"}, "colormap 'rainbow' is unknown"),
])
def test_settings_refuse_what_the_cli_refuses(kw, message):
    from gam_gui.analysis import Settings

    with pytest.raises(ValueError) as e:
        Settings(**kw)
    assert str(e.value).startswith(message)
    with pytest.raises(ValueError):
        Settings().updated(**kw)


@pytest.mark.parametrize("kw, message", [
    ({"conf": 2}, "conf must be in [0, 1], got 2"),
    ({"iou": -0.5}, "iou must be in [0, 1], got -0.5"),
    ({"imgsz": 0}, "imgsz must be an integer >= 1, got 0"),
    ({"imgsz": -5}, "imgsz must be an integer >= 1, got -5"),
])
def test_detect_and_analyze_refuse_bad_values(tiny_loaded, kw, message):
    from gam_gui import analyze, detect

    img = np.zeros((40, 60, 3), np.uint8)
    for fn in (detect, analyze):
        with pytest.raises(ValueError) as e:
            fn(tiny_loaded, img, **kw)
        assert str(e.value) == message  # not an OpenCV assertion from the letterbox


def test_analyze_with_checks_the_gam_layer_and_layers(tiny_loaded):
    from gam_gui import Settings, analyze, analyze_with

    img = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(ValueError, match=r"^gam_layer 5 is not a GAM block; GAM blocks: 18, 22, 26$"):
        analyze_with(tiny_loaded, img, Settings(method="none", imgsz=64, gam_layer=5))
    bad_layer = r"^layers: layer 40 is out of range; valid layers: 0\.\.26 \(the head is 27\)$"
    with pytest.raises(ValueError, match=bad_layer):
        analyze(tiny_loaded, img, method="gradcam", layers=(18, 40), imgsz=64)
    res = analyze_with(tiny_loaded, img, Settings(method="none", imgsz=64, gam_layer=22))
    assert res.read_gam(22).index == 22


def test_imgsz_is_rounded_up_to_the_stride_with_one_notice(tiny_loaded, frame, caplog):
    from gam_gui import analyze, detect

    V._NOTICED.discard((70, 32))
    with caplog.at_level(logging.WARNING, logger="gam_gui.validate"):
        a = detect(tiny_loaded, frame, conf=0.01, imgsz=70)
        b = detect(tiny_loaded, frame, conf=0.01, imgsz=70)
    notices = [r.getMessage() for r in caplog.records if "stride" in r.getMessage()]
    assert notices == ["imgsz 70 is not a multiple of the model's stride 32: using 96"]
    assert a == b == detect(tiny_loaded, frame, conf=0.01, imgsz=96)
    assert analyze(tiny_loaded, frame, "none", conf=0.01, imgsz=70).detections == a


def test_the_light_name_lists_match_their_owners():
    from gam_gui.explain.cams import METHOD_CHOICES, TargetSpec, canonical_method
    from gam_gui.models.gam import VARIANTS
    from gam_gui.render import COLORMAPS
    from gam_gui.sources import STREAM_PREFIXES

    assert V.METHOD_NAMES == METHOD_CHOICES
    for alias, key in V.METHOD_ALIASES.items():
        assert canonical_method(alias) == key == V.check_method(alias)
    assert V.COLORMAP_NAMES == tuple(COLORMAPS)
    assert V.GAM_VARIANTS == tuple(VARIANTS)
    assert V.STREAM_PREFIXES == STREAM_PREFIXES
    for t in ("all", "Class", " box ", "0", "12", "cls:3", "cls: 3", "best", "-1", "cls:", "cls:x", "1.5", ""):
        try:
            TargetSpec.parse(t)
            ok = True
        except ValueError:
            ok = False
        try:
            V.check_target(t)
            light = True
        except ValueError:
            light = False
        assert ok == light, t


# -- help, version, layers, lang ------------------------------------------------------------------------

@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_subcommand_help_names_itself_and_every_option(command, capsys):
    rc, out, _ = run_cli([command, "--help"], capsys)
    assert rc == 0 and out.startswith(f"usage: gam-gui {command} [-h]")
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, cli.argparse._SubParsersAction))
    for action in sub.choices[command]._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help text"


def test_standalone_train_and_eval_parsers_are_the_subcommands():
    assert cli.train_parser().format_usage().startswith("usage: gam-gui train [-h]")
    assert cli.eval_parser().format_usage().startswith("usage: gam-gui eval [-h]")


def test_version(capsys):
    import torch

    rc, out, _ = run_cli(["--version"], capsys)
    assert rc == 0
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    assert out.strip().startswith(f"gam-gui 0.1.0 (torch {torch.__version__.split('+')[0]}, Qt 5.")
    assert out.strip().endswith(f", device {dev})")


def test_layers_uses_the_models_own_size(tiny_weights, capsys):
    rc, out, _ = run_cli(["layers", "--weights", str(tiny_weights)], capsys)
    assert rc == 0
    assert "output shapes at 64x64:" in out  # tiny_weights stores imgsz 64
    first = next(ln for ln in out.splitlines() if ln.strip().startswith("0 "))
    assert first.split()[-1] == "16x32x32"  # layer 0: stride 2 on a 64 px input
    rc, out, _ = run_cli(["layers", "--weights", str(tiny_weights), "--imgsz", "100"], capsys)
    assert "output shapes at 128x128:" in out  # rounded up to the stride


def test_gui_options_reach_run(monkeypatch, tmp_path):
    import gam_gui.ui.app

    calls = []
    monkeypatch.setattr(gam_gui.ui.app, "run", lambda **kw: calls.append(kw) or 0)
    assert cli.main(["--lang", "zh_CN", str(tmp_path), "--threads", "1"]) == 0
    assert calls[-1]["lang"] == "zh_CN" and calls[-1]["path"] == str(tmp_path) and calls[-1]["threads"] == 1
    assert cli.main(["--log-level", "ERROR", str(tmp_path)]) == 0
    assert calls[-1]["path"] == str(tmp_path) and calls[-1]["lang"] is None


def test_help_builds_without_heavy_imports():
    """The parsers (every --help) and the path checks import neither torch, cv2, numpy nor Qt."""
    code = ("import argparse, sys\nfrom gam_gui import cli\nap = cli.build_parser()\nap.format_help()\n"
            "sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))\n"
            "assert all(p.format_help() for p in sub.choices.values())\n"
            "assert cli.main(['export', '--source', '/nonexistent', '--out', 'o']) == 1\n"
            "heavy = sorted(m for m in ('torch', 'cv2', 'numpy', 'PyQt5', 'tqdm') if m in sys.modules)\n"
            "print(heavy)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_an_asked_size_is_checked_once_against_the_activation_budget(capsys):
    """The shipped model (a Focus stem: its first conv sees 12 channels) runs at a plausible size,
    and a size whose activations exceed the budget is refused before any frame is analysed."""
    assert cli.main(["layers", "--imgsz", "640"]) == 0
    assert "output shapes at 640x640" in capsys.readouterr().out
    assert cli.main(["layers", "--imgsz", "20000"]) == 1
    assert "activations" in capsys.readouterr().err
