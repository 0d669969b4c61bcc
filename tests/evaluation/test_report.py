"""``gam-gui report``: one run on a tiny YOLO-layout dataset (shipped GAM model and its baseline),
then checks of what it wrote: a self-contained page (no script, no http(s) resource, every file
string escaped), tables that parse as CSV and as booktabs LaTeX, strict JSON, and the page rendered
in headless Chromium (skipped, with the reason, where Chromium is absent)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from gam_gui.cli import main
from gam_gui.report.options import command_line
from gam_gui.report.sections import AblationRow, ablation_reading
from gam_gui.report.tables import Column, Table, csv_cell, latex_escape
from gam_gui.report.text import clean_text, html_text

ROOT = Path(__file__).resolve().parents[2]
GAM = ROOT / "weights" / "yolov5n_gam_shapes.pt"
BASE = ROOT / "weights" / "yolov5n_shapes.pt"
NAMES = ["circle", "triangle", "square", "star", "cross"]
#: a dataset folder whose name an HTML page must escape
ODD = 'shapes <b>&"odd"'


def _write_dataset(root: Path, n: int = 6, size: int = 160) -> Path:
    """A YOLO-layout dataset of rendered validation shapes: one background image (no label file),
    one label file with a malformed row (warned, skipped, counted)."""
    from gam_gui.data.shapes import render_sample

    img_dir, lab_dir = root / "images" / "val", root / "labels" / "val"
    img_dir.mkdir(parents=True)
    lab_dir.mkdir(parents=True)
    for k in range(n):
        smp = render_sample(10_000_000 + k, size)
        cv2.imwrite(str(img_dir / f"{k:06d}.png"), smp.image)
        if k == n - 1:
            continue  # a background image
        rows = [f"{int(c)} {x:.6f} {y:.6f} {w:.6f} {h:.6f}" for c, x, y, w, h in smp.labels]
        if k == 1:
            rows.append("7 0.5 0.5")  # malformed: too few fields
        (lab_dir / f"{k:06d}.txt").write_text("\n".join(rows) + "\n")
    yaml = root / "data.yaml"
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(NAMES))
    yaml.write_text("val: images/val\ntrain: images/val\nnames:\n" + names)
    return yaml


@pytest.fixture(scope="module")
def report(tmp_path_factory, one_torch_thread_module):
    root = tmp_path_factory.mktemp("report")
    data = _write_dataset(root / ODD)
    out = root / "R"
    argv = ["report", "--data", str(data), "--weights", str(GAM), "--baseline", str(BASE), "--out", str(out),
            "--imgsz", "160", "--failures", "1", "--typical", "1", "--faithfulness-images", "1", "--methods",
            "hirescam", "--steps", "4", "--tie-orders", "1", "--resamples", "50", "--dpi", "60", "--workers", "0",
            "--faithfulness-detections", "0", "--no-progress"]
    code = main(argv)
    return code, out, argv, data


@pytest.fixture(scope="module")
def one_torch_thread_module():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_report_writes_page_tables_figures_and_json(report):
    code, out, _, _ = report
    assert code == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    for title in ("Summary", "Per class", "Ablation", "What the attention blocks do", "Failures", "Trust",
                  "Reproducibility"):
        assert f"{title}" in html
    assert html.index("1. Summary") < html.index("2. Per class") < html.index("3. Ablation") < \
        html.index("7. Reproducibility")
    data = json.loads((out / "report.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-strict {c}"))
    assert data["metrics"]["images"] == 6 and data["skipped"]["label_rows"] == 1
    assert 0 <= data["metrics"]["map50_95"] <= data["metrics"]["map50"] <= 1
    assert len(data["ablation"]) == 15 and all(r["ci95"]["map50_95"][0] <= r["ci95"]["map50_95"][1]
                                               for r in data["ablation"])
    assert {r["kind"] for r in data["ablation"]} == {"GAM"}
    # section 4: the three GAM blocks in the every-block table (gates and gain), and GAM's own per-class rows
    att = data["attention"]
    assert {(r["layer"], r["map"]) for r in att["maps"]} == {(i, m) for i in {r["layer"] for r in data["gam"]}
                                                             for m in ("channel", "spatial", "gain")}
    assert len({r["layer"] for r in data["gam"]}) == 3 and att["channels"] == []
    for r in att["maps"]:
        if r["map"] == "spatial":  # the GAM spatial gate of the every-block table is the per-class table's, pooled
            per = [g for g in data["gam"] if g["layer"] == r["layer"]]
            assert r["outside"] == pytest.approx(per[0]["gate_outside"], abs=1e-6)
            assert r["inside"] == pytest.approx(sum(g["gate_inside"] * g["boxes"] for g in per) /
                                                sum(g["boxes"] for g in per), abs=1e-6)
    lo, hi = data["compare"]["ci95"]["map50_95"]
    assert lo <= data["compare"]["diff"]["map50_95"] <= hi
    assert {"random", "box", "hirescam"} <= set(data["faithfulness"]["methods"])
    assert len(data["reproducibility"]["files"]) == 3 and all(len(f[2]) == 64 for f in data["reproducibility"]["files"])
    figs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert {"pr_curve.png", "confusion_matrix.png", "ablation.png", "gam_gate_bars.png", "faithfulness.png",
            "gam_typical_maps.png", "failures_fn.png", "attention_maps.png"} <= set(figs)


def test_tables_parse_as_csv_and_booktabs(report):
    _, out, _, _ = report
    for name in ("summary", "per_class", "ablation", "baseline"):
        rows = list(csv.reader((out / "tables" / f"{name}.csv").open(encoding="utf-8")))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), name
        tex = (out / "tables" / f"{name}.tex").read_text(encoding="utf-8")
        for macro in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}", "\\end{tabular}"):
            assert tex.count(macro) >= 1, (name, macro)
        ncols = len(re.search(r"\\begin\{tabular\}\{([lr]+)\}", tex).group(1))
        body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
        for line in body.strip().splitlines():
            if line.strip() != "\\midrule":
                assert line.count(" & ") == ncols - 1 and line.endswith("\\\\"), (name, line)
        assert tex.count("{") == tex.count("}") + tex.count("\\{") - tex.count("\\}")
    per_class = list(csv.DictReader((out / "tables" / "per_class.csv").open(encoding="utf-8")))
    assert [r["class"] for r in per_class] == NAMES
    assert sum(int(r["n (objects)"]) for r in per_class) > 0


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action", "data", "poster")]


def test_page_is_self_contained_and_escaped(report):
    _, out, _, _ = report
    html = (out / "report.html").read_text(encoding="utf-8")
    p = _Resources()
    p.feed(html)
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(p.tags)
    assert p.urls and all(u.startswith(("data:image/png;base64,", "#")) for u in p.urls)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"https?://", text) and "url(" not in text and "@import" not in text
    assert "<b>&" not in html and "&lt;b&gt;&amp;&quot;odd&quot;" in html  # the folder name, escaped


def test_page_renders_in_headless_chromium(report, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium): the browser check did not run")
    _, out, _, _ = report
    shot = tmp_path / "report.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
           (out / "report.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=90, check=False)
    img = cv2.imread(str(shot))
    assert img is not None, "Chromium wrote no screenshot"
    assert img.shape[:2] == (2000, 1280)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert (gray < 200).mean() > 0.02 and gray.std() > 20  # text, tables and a figure: not a blank page
    # the page's first screen shows the summary's numbers at the top (text is dark on the left column)
    assert (gray[:400, :700] < 128).mean() > 0.01


def test_empty_split_exits_1(tmp_path, capsys):
    root = tmp_path / "empty"
    (root / "images" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text("val: images/val\nnames: [circle, triangle, square, star, cross]\n")
    code = main(["report", "--data", str(root / "data.yaml"), "--out", str(tmp_path / "R"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and err.strip().startswith("gam-gui: error:") and "Traceback" not in err
    assert not (tmp_path / "R" / "report.html").exists()


def test_missing_data_is_one_line_exit_1(tmp_path, capsys):
    code = main(["report", "--data", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "R")])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1


def test_command_line_reparses_to_the_same_options(report):
    from gam_gui.cli import build_parser

    _, _, argv, _ = report
    args = build_parser().parse_args(argv)
    again = build_parser().parse_args(__import__("shlex").split(command_line(args))[1:])
    ignore = {"_parser": None, "progress": None}  # how progress is shown does not change the report
    assert vars(again) | ignore == vars(args) | ignore


def test_text_from_files_is_escaped_everywhere():
    evil = "a\x1b[31m<script>&$\\_{}%\u202e"
    assert "\x1b" not in clean_text(evil) and "\\x1b" in clean_text(evil) and "\\u202e" in clean_text(evil)
    assert "<" not in html_text(evil) and "&lt;script&gt;&amp;" in html_text(evil)
    tex = latex_escape(evil)
    assert "\\$" in tex and "\\_" in tex and "\\{" in tex and "\\%" in tex and "\\textbackslash{}" in tex
    assert csv_cell("=cmd()") == "'=cmd()" and csv_cell(-0.5) == "-0.5" and csv_cell(float("nan")) == ""
    t = Table("t", "T", [Column("name", text=True), Column("v")])
    t.add(evil, float("nan"))
    assert "—" in t.to_html() and "<script>" not in t.to_html()


def _row(layer: int, d95: float, lo: float, hi: float, mode: str = "off") -> AblationRow:
    return AblationRow(f"{layer}:{mode}", layer, mode, 0.5, 0.4, d95, d95, (lo, hi), (lo, hi))


def test_ablation_reading_follows_the_numbers():
    text = ablation_reading([_row(18, -0.30, -0.35, -0.25), _row(22, -0.01, -0.03, 0.01), _row(26, -0.05, -0.08, -0.02),
                             _row(18, -0.9, -1.0, -0.8, "channel-only")])
    assert text.startswith("Layer 18 carries the most") and "layer 22" in text and "layer 26 (" not in text
    assert "No block can be switched off" in ablation_reading([_row(18, -0.3, -0.4, -0.2)])


def test_report_help_does_not_import_torch():
    import sys

    code = subprocess.run([sys.executable, "-c", "import sys; from gam_gui.cli import build_parser; "
                           "build_parser().parse_args(['report', '--help'])\n"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert code.returncode == 0 and "--faithfulness-images" in code.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys; from gam_gui.cli import build_parser; build_parser(); "
                            "print('torch' in sys.modules, 'matplotlib' in sys.modules)"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert probe.stdout.split() == ["False", "False"]


def test_gam_stats_count_inside_and_outside_cells():
    from gam_gui.inference import Letterbox
    from gam_gui.report.gam_stats import box_cells, cell_centres

    lb = Letterbox(0.5, (0.0, 16.0), (64, 128), (64, 64))  # a 128x64 frame in a 64x64 input, padded top/bottom
    fx, fy, content = cell_centres(lb, (8, 8))
    assert content.sum() == 32  # the 4 middle rows hold the frame, the others are padding
    m = box_cells(fx, fy, np.array([0, 0, 40, 40]))
    assert m.sum() == 9 and content[m].all()
    tiny = box_cells(fx, fy, np.array([60, 30, 61, 31]))
    assert tiny.sum() == 1  # smaller than a cell: the cell under its centre


def test_trust_section_equals_fs_faithfulness_evaluation(report):
    """Without a cap, the report's per-detection loop gives F's faithfulness_on_images result exactly."""
    import torch

    from gam_gui.checkpoints import load_model
    from gam_gui.datasets import open_dataset
    from gam_gui.faithfulness.dataset import faithfulness_on_images

    _, out, _, data = report
    mine = json.loads((out / "report.json").read_text())["faithfulness"]
    model = load_model(str(GAM))
    ds = open_dataset(str(data), "val", 1, NAMES)
    with torch.enable_grad():
        ref = faithfulness_on_images(model, [ds[0]], imgsz=160, methods=("hirescam",), steps=4, tie_orders=1, seed=0)
    assert mine["detections"] == ref["detections"] > 0
    for m in ("hirescam", "random", "box"):
        for k in ("deletion_auc", "insertion_auc", "pointing", "energy_in_box"):
            assert mine["methods"][m][k] == pytest.approx(ref["methods"][m][k], abs=1e-9), (m, k)


def test_an_interval_bound_that_is_not_zero_never_prints_as_zero():
    """"Excludes 0: yes" beside "[+0.000, +0.026]" would contradict itself: such a bound gets more digits."""
    from gam_gui.report.tables import interval_text

    assert interval_text(0.00017, 0.026) == "[+0.0002, +0.026]"
    assert interval_text(-0.0004, 0.002) == "[−0.0004, +0.002]"
    assert interval_text(0.0, 0.01) == "[+0.000, +0.010]"
