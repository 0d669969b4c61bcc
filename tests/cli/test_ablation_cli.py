"""``gam-gui ablate``, ``gam-gui compare`` and ``gam-gui eval --ablate/--ablate-each`` end to end, on
the tiny test checkpoint (the causal effect itself is tested on the shipped model in test_ablation)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gam_gui import cli

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "resources" / "samples"
VIDEO = ROOT / "resources" / "sample.mp4"


def _rc(argv: list[str]) -> int:
    """cli.main's exit code, whether it returns it or argparse raises SystemExit."""
    try:
        return cli.main(argv)
    except SystemExit as e:
        return int(e.code)


def test_ablate_writes_overlay_panels_and_match_tables(tiny_weights, tmp_path, capsys):
    out = tmp_path / "abl"
    rc = cli.main(["ablate", "--source", str(SAMPLES), "--out", str(out), "--weights", str(tiny_weights),
                   "--blocks", "22:off", "26:drop-top-4", "--max-frames", "2", "--conf", "0.0001", "--method", "none"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*_panels.png")) == ["shapes_01_panels.png", "shapes_02_panels.png"]
    data = json.loads((out / "ablation.json").read_text())
    assert [f["ablation"]["blocks"] for f in data["frames"]] == [{"22": "off", "26": "drop-top-4"}] * 2
    n_matches = sum(len(f["ablation"]["matches"]) for f in data["frames"])
    with open(out / "ablation.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n_matches > 0
    assert {r["status"] for r in rows} <= {"kept", "lost", "new"}
    for f in data["frames"]:  # every box of both sides is in the table exactly once
        ab = f["ablation"]
        assert sum(m["status"] != "new" for m in ab["matches"]) == len(ab["before"])
        assert sum(m["status"] != "lost" for m in ab["matches"]) == len(ab["after"])
    assert not (out / "detections.json").exists()


@pytest.mark.parametrize("blocks, words", [(["17:off"], "layer 17 is not a GAM block; GAM blocks: 18, 22, 26"),
                                            (["22:sideways"], "unknown ablation mode")])
def test_ablate_usage_errors_exit_2(tiny_weights, tmp_path, capsys, blocks, words):
    rc = _rc(["ablate", "--source", str(SAMPLES), "--out", str(tmp_path / "o"), "--weights", str(tiny_weights),
              "--blocks", *blocks])
    assert rc == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_compare_two_checkpoints_on_the_video(tiny_weights, tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = cli.main(["compare", "--b", str(tiny_weights), "--source", str(VIDEO), "--out", str(out),
                   "--max-frames", "2", "--every", "5", "--imgsz", "128"])
    assert rc == 0, capsys.readouterr().err
    assert len(list(out.glob("*_panels.png"))) == 2
    data = json.loads((out / "compare.json").read_text())
    assert data["frames"][0]["models"] == {"a": "yolov5n_gam_shapes", "b": "tiny"}
    cmp = data["frames"][0]["compare"]
    assert {m["status"] for m in cmp["matches"]} <= {"both", "a_only", "b_only"}
    assert sum(m["status"] != "b_only" for m in cmp["matches"]) == len(cmp["a"]) > 0
    assert (out / "compare.csv").read_text().startswith("frame,name,status,")


def test_eval_ablate_and_ablate_each(tiny_weights, capsys):
    rc = cli.main(["eval", "--weights", str(tiny_weights), "--images", "2", "--imgsz", "64",
                   "--ablate", "18:off,22:off", "--ablate-each", "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    res = json.loads(captured.out)
    names = [r["ablation"] for r in res["extra"]["ablations"]]
    assert names[0] == "18:off 22:off" and len(names) == 1 + 3 * 5
    assert "22:mean-gate" in names and "26:drop-top-8" in names
    assert "| ablation | mAP@0.5 |" in captured.err and "| 18:off 22:off |" in captured.err


def test_eval_ablate_refuses_a_layer_without_gam(tiny_weights, capsys):
    assert _rc(["eval", "--weights", str(tiny_weights), "--images", "1", "--ablate", "5:off"]) == 2
    assert "layer 5 is not a GAM block" in capsys.readouterr().err


def test_eval_in_process_leaves_autograd_as_it_was(tiny_weights, capsys):
    import torch

    assert torch.is_grad_enabled()
    assert cli.main(["eval", "--weights", str(tiny_weights), "--images", "1", "--imgsz", "64", "--no-progress"]) == 0
    assert torch.is_grad_enabled()


def test_layers_lists_each_blocks_own_ablation_modes_and_ablate_takes_them(tmp_path, capsys):
    stack = ROOT / "tests" / "data" / "attention_ref" / "v8_stack_best.pt"
    assert cli.main(["layers", "--weights", str(stack)]) == 0
    out = capsys.readouterr().out
    modes = {}
    for line in out.split("ablation modes", 1)[1].splitlines()[1:]:
        index, kind, rest = line.split(None, 2)
        modes[int(index)] = (kind, rest.split(", "))
    assert modes[8] == ("CoordAtt", ["off", "height-only", "width-only", "mean-gate"])
    assert modes[23] == ("SE", ["off", "drop-top-k"])
    assert {k for k, _ in modes.values()} == {"CBAM", "CoordAtt", "GAM", "SimAM", "EMA", "SE", "TripletAttention"}
    rc = cli.main(["ablate", "--source", str(SAMPLES / "shapes_01.jpg"), "--out", str(tmp_path / "a"),
                   "--weights", str(stack), "--blocks", "8:width-only", "27:branch-cw-only", "--imgsz", "96",
                   "--conf", "0.0001", "--method", "none"])
    assert rc == 0, capsys.readouterr().err
    data = json.loads((tmp_path / "a" / "ablation.json").read_text())
    assert data["frames"][0]["ablation"]["blocks"] == {"8": "width-only", "27": "branch-cw-only"}
    assert _rc(["ablate", "--source", str(SAMPLES / "shapes_01.jpg"), "--out", str(tmp_path / "b"),
                "--weights", str(stack), "--blocks", "23:height-only"]) == 2  # SE has no height gate
    assert "23" in capsys.readouterr().err


def test_export_gate_the_shown_block_lacks_is_a_usage_error_naming_its_gates(tmp_path, capsys):
    stack = ROOT / "tests" / "data" / "attention_ref" / "v8_stack_best.pt"
    out = tmp_path / "x"
    rc = _rc(["export", "--source", str(SAMPLES / "shapes_01.jpg"), "--out", str(out), "--weights", str(stack),
              "--gam-layer", "19", "--gate", "channel"])
    err = capsys.readouterr().err
    assert rc == 2 and "--gate channel" in err and "EMA block at layer 19 has: height, width, spatial" in err
    assert not out.exists()  # refused before any work: no empty folder left
