"""``gam-gui report`` on a real ultralytics 8.4 file stacking CBAM, CoordAtt, GAM, SimAM, EMA, SE and
TripletAttention (issue 27): section 4 covers every block with its own gates, the ablation covers
every block with its own modes, and the JSON, CSV and HTML carry them (strict, escaped)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import cv2
import pytest

from gam_gui.cli import main

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "tests" / "data" / "attention_ref" / "v8_stack_best.pt"
#: the stack file's classes (nc=3) and the shapes generator's indices for them
MODEL_NAMES = ["circle", "square", "star"]
SHAPES_INDEX = {0: 0, 2: 1, 3: 2}  # circle, square, star in gam_gui.data.shapes.CLASS_NAMES
#: the blocks of the file: layer -> (kind, gates the block records)
BLOCKS = {5: ("CBAM", {"channel", "spatial"}), 8: ("CoordAtt", {"height", "width"}),
          11: ("GAM", {"channel", "spatial"}), 15: ("SimAM", {"energy"}), 19: ("EMA", {"height", "width", "spatial"}),
          23: ("SE", {"channel"}),
          27: ("TripletAttention", {"branch-hw", "branch-cw", "branch-hc"})}
#: gates with no positions (their spread over channels is reported instead of inside/outside)
CHANNEL_ONLY = {(5, "channel"), (23, "channel")}
ODD = 'stack <i>&"odd"'


def _dataset(root: Path, n: int = 4, size: int = 96) -> Path:
    """``n`` rendered images keeping only the circles, squares and stars, relabelled to the file's classes."""
    from gam_gui.data.shapes import render_sample

    img, lab = root / "images" / "val", root / "labels" / "val"
    img.mkdir(parents=True)
    lab.mkdir(parents=True)
    k = seed = 0
    while k < n:
        seed += 1
        smp = render_sample(20_000_000 + seed, size)
        rows = [f"{SHAPES_INDEX[int(c)]} {x:.6f} {y:.6f} {w:.6f} {h:.6f}" for c, x, y, w, h in smp.labels
                if int(c) in SHAPES_INDEX]
        if not rows:
            continue
        cv2.imwrite(str(img / f"{k:03d}.png"), smp.image)
        (lab / f"{k:03d}.txt").write_text("\n".join(rows) + "\n")
        k += 1
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(MODEL_NAMES))
    (root / "data.yaml").write_text("val: images/val\ntrain: images/val\nnames:\n" + names)
    return root / "data.yaml"


@pytest.fixture(scope="module")
def stack_report(tmp_path_factory):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp("stack")
        data = _dataset(root / ODD)
        out = root / "R"
        code = main(["report", "--data", str(data), "--weights", str(STACK), "--out", str(out), "--imgsz", "96",
                     "--failures", "1", "--typical", "1", "--faithfulness-images", "0", "--resamples", "20",
                     "--dpi", "50", "--workers", "0", "--no-progress"])
    finally:
        torch.set_num_threads(before)
    return code, out


def _strict(text: str) -> dict:
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def test_section_4_covers_every_block_of_the_file_with_its_gates(stack_report):
    code, out = stack_report
    assert code == 0
    att = _strict((out / "report.json").read_text(encoding="utf-8"))["attention"]
    assert att["images"] == 4 and att["figure_image"]
    seen: dict[int, set[str]] = {}
    for r in att["maps"]:
        assert BLOCKS[r["layer"]][0] == r["kind"], r
        seen.setdefault(r["layer"], set()).add(r["map"])
        assert r["boxes"] > 0 and sum(c["boxes"] for c in r["per_class"].values()) == r["boxes"]
        assert set(r["per_class"]) <= set(MODEL_NAMES)
        for key in ("inside", "outside"):
            assert isinstance(r[key], float) and math.isfinite(r[key]), (r["layer"], r["map"], key)
        lo, hi = r["range"]
        if r["map"] != "gain" and lo is not None:  # a bounded gate's means stay in its declared range
            assert lo - 1e-6 <= r["inside"] <= hi + 1e-6 and lo - 1e-6 <= r["outside"] <= hi + 1e-6, r
    for r in att["channels"]:
        seen.setdefault(r["layer"], set()).add(r["gate"])
        assert (r["layer"], r["gate"]) in CHANNEL_ONLY and r["channels"] == 16
        assert 0 <= r["min"] <= r["median"] <= r["max"] <= 1 and 0 <= r["below_middle"] <= 1
    # every block, every gate it records, and a gain for every block
    assert {k: v - {"gain"} for k, v in seen.items()} == {k: g for k, (_, g) in BLOCKS.items()}
    assert all("gain" in v for v in seen.values())
    assert {(r["layer"], r["gate"]) for r in att["channels"]} == CHANNEL_ONLY

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "What the attention blocks do" in html and "What the GAM blocks do" not in html
    sec = html[html.index("What the attention blocks do"):html.index("5. Failures")]
    for kind, gates in BLOCKS.values():  # each kind named with each of its gates (table or gate list)
        for gate in gates:
            assert f"{kind} &#x27;{gate}&#x27;" in sec or f"{kind} '{gate}'" in sec, (kind, gate)
    assert "GAM blocks: per class" in sec  # GAM keeps its own per-class detail
    assert '<i>&' not in html and "&lt;i&gt;&amp;&quot;odd&quot;" in html
    assert (out / "figures" / "attention_maps.png").stat().st_size > 0
    rows = list(csv.DictReader((out / "tables" / "attention_maps.csv").open(encoding="utf-8")))
    assert {int(r["layer"]) for r in rows} == set(BLOCKS)  # every block has a gain row at least
    tex = (out / "tables" / "attention_channels.tex").read_text(encoding="utf-8")
    assert "\\toprule" in tex and "SE" in tex and "CBAM" in tex


def test_ablation_covers_every_block_with_its_own_modes(stack_report):
    import gam_gui.models.attention as A
    from gam_gui.checkpoints import load_model

    _, out = stack_report
    data = _strict((out / "report.json").read_text(encoding="utf-8"))
    model = load_model(STACK, device="cpu")
    want = {(f.index, m) for f in A.find_blocks(model) for m in f.entry.modes_for(f.block.__dict__.get("variant", ""))}
    got = {(r["layer"], r["mode"].split(" ")[0].replace("drop-top-8", "drop-top-k")) for r in data["ablation"]}
    assert got == want
    assert {r["kind"] for r in data["ablation"]} == {k for k, _ in BLOCKS.values()}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Each attention block × mode" in html and "GAM block ×" not in html


def test_block_stats_and_reading_follow_the_maps():
    """A spatial gate that is 0.9 on the object and 0.1 elsewhere, a channel-only gate and SK's branch
    weights: inside/outside, the channel spread and the sentences come from these numbers."""
    import numpy as np

    import gam_gui.models.attention as A
    from gam_gui.explain.blocks import GateMap
    from gam_gui.inference import Letterbox
    from gam_gui.report.attention_section import attention_reading
    from gam_gui.report.block_stats import BlockDesc, BlockSnap, BlockStats

    lb = Letterbox(1.0, (0.0, 0.0), (64, 64), (64, 64))  # an 8x8 grid of 8-pixel cells, no padding
    sp = np.full((8, 8), 0.1, np.float32)
    sp[2:4, 2:4] = 0.9  # the cells whose centres fall in the box below
    gain = np.where(sp > 0.5, 1.0, -1.0).astype(np.float32)
    w = np.array([0.1, 0.2, 0.6, 0.9], np.float32)
    snaps = [BlockSnap(BlockDesc(3, "model.3", "CBAM", "ultralytics"),
                       {"channel": GateMap(A.entry("CBAM").gate("channel"), None, w),
                        "spatial": GateMap(A.entry("CBAM").gate("spatial"), sp)}, gain),
             BlockSnap(BlockDesc(7, "model.7", "SKAttention", "sk-2"),
                       {"branches": GateMap(A.entry("SKAttention").gate("branches"), None, np.full(4, 0.5, np.float32),
                                            np.array([[0.8] * 4, [0.2] * 4], np.float32))}, None)]
    stats = BlockStats(["thing"])
    for i in range(2):
        stats.add(i, snaps, lb, np.array([[16.0, 16.0, 31.0, 31.0]]), np.array([0]))
    maps, channels = stats.map_rows(), stats.channel_rows()
    assert [(r.block.index, r.gate.name) for r in maps] == [(3, "spatial"), (3, "gain")]
    assert maps[0].inside == pytest.approx(0.9) and maps[0].outside == pytest.approx(0.1) and maps[0].boxes == 2
    assert maps[1].inside == pytest.approx(1.0) and maps[1].outside == pytest.approx(-1.0)
    assert maps[0].per_class == {"thing": (2, pytest.approx(0.9))}
    cbam, sk = channels
    assert (cbam.below_middle, cbam.minimum, cbam.maximum, cbam.channels) == (0.5, pytest.approx(0.1),
                                                                              pytest.approx(0.9), 4)
    assert sk.branches == [pytest.approx(0.8), pytest.approx(0.2)]
    text = attention_reading(maps, channels)
    assert "Of 1 gate with positions, 1 is higher inside" in text and "0.900 inside vs 0.100 outside" in text
    assert "50% are damped below 0.5" in text and "0.80, 0.20" in text
    assert stats.typical() == 0
