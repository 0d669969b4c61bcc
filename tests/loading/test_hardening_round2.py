"""Hardening, round 2 (issue 26): each mechanism, built the way the issue describes, refused or
handled within bounded time and memory.

The hostile files are written here (with the ultralytics stand-in classes) and loaded in one child
process whose address space is capped at what it holds after importing torch plus 2.5 GB, with a
timeout: a check that fails shows up as a MemoryError, a timeout or the wrong refusal reason, not as
a machine that swaps. The work estimate is compared with the peak memory of a measured frame, block
kind by block kind, in another capped child.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import standins_v8 as sv8
import torch
from standins import to_ultralytics, ultralytics_modules
from torch import nn

from gam_gui import cli
from gam_gui import validate as V
from gam_gui.checkpoints import CheckpointError, escape_text, estimate_work, load_model, save_model
from gam_gui.checkpoints import loader as loader_mod
from gam_gui.export import table_csv
from gam_gui.models import gam as ggam
from gam_gui.models.yolov5 import DetectionModel, ModelConfigError, parse_model
from gam_gui.pipeline import NORMAL

REPO = Path(__file__).resolve().parents[2]
CAP = int(2.5 * 1024**3)

#: A small YOLOv5-style model with GAM.
V5 = {"nc": 2, "depth_multiple": 0.33, "width_multiple": 0.125, "anchors": [[10, 13, 16, 30, 33, 23]],
      "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "C3", [128]],
                   [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "GAM", [128]]],
      "head": [[[4], 1, "Detect", ["nc", "anchors"]]]}
#: A small anchor-free (YOLOv8 / YOLO11) model with the blocks whose forwards take counts from a file.
V8 = {"nc": 2, "scales": {"n": [0.33, 0.25, 1024]}, "scale": "n",
      "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "C2f", [128, True]],
                   [-1, 1, "Conv", [256, 3, 2]], [-1, 1, "SPPF", [256, 5]], [-1, 1, "C2PSA", [256]]],
      "head": [[[5], 1, "Detect", ["nc"]]]}


def clean(text: str) -> bool:
    """No C0 (but newline), DEL or C1 control character."""
    return not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)


# --- building the hostile files ------------------------------------------------------------------------

def v5_file(model: DetectionModel, edit) -> bytes:
    ul = to_ultralytics(model).half()
    edit(ul)
    buf = io.BytesIO()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # pickling a deep chain recurses once per level
    try:
        with ultralytics_modules():
            torch.save({"epoch": 3, "model": ul}, buf)
    finally:
        sys.setrecursionlimit(limit)
    return buf.getvalue()


def v8_file(model: DetectionModel, edit) -> bytes:
    pkg = sv8.to_package(model, None)
    edit(pkg)
    buf = io.BytesIO()
    with sv8.package_modules():
        torch.save({"model": copy.deepcopy(pkg).half()}, buf)
    return buf.getvalue()


def own_file(model: DetectionModel, tmp: Path, edit=None, name: str = "own.pt") -> bytes:
    path = save_model(model, tmp / name)
    ckpt = torch.load(path, weights_only=True)
    if edit:
        edit(ckpt)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    return buf.getvalue()


def first(model: nn.Module, cls: type) -> nn.Module:
    return next(m for m in model.modules() if isinstance(m, cls))


def _set(cls: type, **attrs):
    def edit(m: nn.Module) -> None:
        vars(first(m, cls)).update(attrs)
    return edit


def _sppf_on_a_1x1_branch(m: nn.Module) -> None:
    vars(first(m, sv8.SPPF))["n"] = 10**9  # ultralytics 8.4's repeat count, as a loop bound


def _huge_pool(m: nn.Module) -> None:
    pool = first(m, sv8.SPPF).m
    pool.kernel_size, pool.padding = 1001, 500


def _replicate_pad(m: nn.Module) -> None:
    conv = first(m, nn.Conv2d)
    conv.padding_mode, conv.padding, conv.stride = "replicate", (20000, 20000), (20000, 20000)
    conv._reversed_padding_repeated_twice = [20000] * 4


def _parameter_act(m: nn.Module) -> None:
    conv = first(m, sv8.Conv)
    del conv._modules["act"]
    conv._parameters["act"] = nn.Parameter(torch.ones(1, dtype=torch.half))


def _nan_weight(m: nn.Module) -> None:
    first(m, nn.Conv2d).weight.data[0, 0, 0, 0] = float("nan")


def _end2end(m: nn.Module) -> None:
    head = first(m, sv8.Detect)
    head.one2one_cv2, head.one2one_cv3 = copy.deepcopy(head.cv2), copy.deepcopy(head.cv3)
    head.end2end = True


def _chain(key: str, depth: int):
    """``depth`` nested layers under one (memoized) key: torch's full names cost depth^2 * len(key) / 2."""
    def edit(m: nn.Module) -> None:
        top = node = nn.Sequential()
        for _ in range(depth):
            child = nn.Sequential()
            node._modules[key] = child
            node = child
        m.model[0]._modules[key] = top
    return edit


def _shared_dag(depth: int):
    """Each level uses the next one twice: state_dict() and _apply() would visit 2^depth places."""
    def edit(m: nn.Module) -> None:
        node = nn.Sequential()
        for _ in range(depth):
            parent = nn.Sequential()
            parent._modules["a"] = parent._modules["b"] = node
            node = parent
        m.model[0]._modules["dag"] = node
    return edit


def _stored_reason(m: nn.Module) -> None:
    """Every GAM block (the model's and 60 more beside it) keeps one memoized 300 KB string."""
    text = "X" * 300_000
    extra = nn.Sequential(*(ggam.GAM(16, 16, False) for _ in range(60))).half()
    m.model[0]._modules["more"] = to_ultralytics_gam(extra)
    for block in m.modules():
        if type(block).__name__ == "GAM":
            block.variant_reason = text
            block.variant = text


def to_ultralytics_gam(seq: nn.Sequential) -> nn.Sequential:
    import standins

    for block in seq:
        block.__class__ = standins.GAM
        block.__dict__.pop("variant", None)
    return seq


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """case -> (file, the refusal reasons that show the right check fired; () for a file that loads)."""
    tmp = tmp_path_factory.mktemp("round2")
    torch.manual_seed(0)
    v5 = DetectionModel(copy.deepcopy(V5)).eval()
    v8 = DetectionModel(copy.deepcopy(V8)).eval()
    c2psa_stride4 = copy.deepcopy(V8)
    c2psa_stride4["backbone"][2] = [-1, 1, "C2PSA", [128]]  # self-attention over a stride-4 map
    many_classes = dict(copy.deepcopy(V8), nc=40_000)
    scales_beside_anchors = dict(copy.deepcopy(V5), scales={"n": [3000, 0.25, 1024]}, scale="n")
    scales_beside_anchors["backbone"][2] = [-1, 3, "C3", [128]]  # 3 repeats at depth 3000: 9000 layers

    def with_yaml(desc):
        def edit(ckpt):
            ckpt["yaml"] = desc
        return edit

    def with_names(ckpt):
        ckpt["names"] = {0: "\x1b]0;pwned\x07\x1b[2J", 1: "red\x9b31m"}

    cases = {
        "sppf_repeats": (v8_file(v8, _sppf_on_a_1x1_branch), ("counts",)),
        "attention_heads": (v8_file(v8, _set(sv8.Attention, num_heads=4096)), ("counts",)),
        "dfl_bins": (v8_file(v8, _set(sv8.Detect, reg_max=64)), ("counts",)),
        "pool_kernel": (v8_file(v8, _huge_pool), ("counts",)),
        "replicate_padding": (v8_file(v8, _replicate_pad), ("counts",)),
        "parameter_as_act": (v8_file(v8, _parameter_act), ("counts",)),
        "nan_weight": (v8_file(v8, _nan_weight), ("structure",)),
        "end2end_head": (v8_file(v8, _end2end), ("end2end",)),
        "long_key_chain": (v5_file(v5, _chain("k" * 20_000, 400)), ("structure",)),
        "deep_chain": (v5_file(v5, _chain("m", 400)), ("structure",)),
        "shared_dag": (v5_file(v5, _shared_dag(25)), ("structure", "shared-structure")),
        "stored_reason": (v5_file(v5, _stored_reason), ()),
        "c2psa_stride4": (own_file(v8, tmp, with_yaml(c2psa_stride4), "a.pt"), ("activations", "description")),
        "head_40000_classes": (own_file(DetectionModel(many_classes), tmp, name="b.pt"), ("activations",)),
        "scales_beside_anchors": (own_file(v5, tmp, with_yaml(scales_beside_anchors), "c.pt"), ("description",)),
        "own_nan_weight": (own_file(v5, tmp, lambda c: c["state_dict"]["model.0.conv.weight"].view(-1)
                                    .__setitem__(0, float("nan")), "d.pt"), ("tensor",)),
        "escape_names": (own_file(v5, tmp, with_names, "e.pt"), ()),
    }
    out = {}
    for name, (data, reasons) in cases.items():
        path = tmp / f"{name}.pt"
        path.write_bytes(data)
        out[name] = (path, reasons)
    return out


_LOAD_ALL = r"""
import gam_gui.checkpoints as ck
for path in json.loads(sys.argv[2])["paths"]:
    t0 = time.monotonic()
    row = {"path": path}
    try:
        m = ck.load_model(path, device="cpu")
        reasons = [b.variant_reason for b in m.modules() if hasattr(b, "gam_variant")]
        row.update(reason=None, summary=len(m.variant_reason), longest=max(map(len, reasons), default=0),
                   names=list(m.names.values())[:2])
    except ck.CheckpointError as e:
        row.update(reason=e.reason, message=str(e))
    except BaseException as e:
        row.update(reason="escaped:" + type(e).__name__, message=str(e)[:300])
    row["seconds"] = time.monotonic() - t0
    print(json.dumps(row), flush=True)
"""


_PRELUDE = r"""
import gc, json, resource, sys, time
import torch
from torch import nn
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + int(sys.argv[1]), resource.RLIM_INFINITY))
"""


def capped(script: str, *args: str, timeout: float = 120) -> list[dict]:
    # every allocation above 128 KB is its own mapping, returned on free: the peak RSS of one frame is
    # then what that frame allocated, not what an earlier one left in the heap
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), MALLOC_MMAP_THRESHOLD_="131072")
    proc = subprocess.run([sys.executable, "-c", script, str(CAP), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def child(hostile_files) -> list[dict]:
    """One capped child (one torch import): the measured frames first (a fresh heap), then the loads."""
    job = {"kinds": KINDS, "paths": [str(p) for p, _ in hostile_files.values()]}
    return capped(_PRELUDE + _MEASURE + _LOAD_ALL, json.dumps(job))


@pytest.fixture(scope="module")
def loaded(hostile_files, child) -> dict[str, dict]:
    by_path = {r["path"]: r for r in child if "path" in r}
    return {name: by_path[str(p)] for name, (p, _) in hostile_files.items()}


CASES = ["sppf_repeats", "attention_heads", "dfl_bins", "pool_kernel", "replicate_padding", "parameter_as_act",
         "nan_weight", "end2end_head", "long_key_chain", "deep_chain", "shared_dag", "c2psa_stride4",
         "head_40000_classes", "scales_beside_anchors", "own_nan_weight"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_file_is_refused_by_its_check_under_a_memory_cap(hostile_files, loaded, case):
    row, (_, reasons) = loaded[case], hostile_files[case]
    assert row["reason"] in reasons, row
    assert row["seconds"] < 10, row
    assert "\n" not in row["message"] and clean(row["message"]), row


def test_counts_and_tensors_are_named_in_the_refusal(loaded):
    assert "repeats its pooling 1000000000 times" in loaded["sppf_repeats"]["message"]
    assert "activation slot" in loaded["parameter_as_act"]["message"]
    assert "NaN or infinite" in loaded["nan_weight"]["message"] and "weight" in loaded["nan_weight"]["message"]
    assert "'model.0.conv.weight'" in loaded["own_nan_weight"]["message"]
    assert "end-to-end" in loaded["end2end_head"]["message"]
    assert "asks for" in loaded["scales_beside_anchors"]["message"]


def test_file_text_is_never_kept_and_the_summary_is_budgeted(loaded):
    row = loaded["stored_reason"]
    assert row["reason"] is None, row
    assert row["summary"] < 10_000 and row["longest"] < 500, row


def test_class_names_and_keys_are_escaped_in_layers_and_errors(hostile_files, loaded, tmp_path, capsys):
    assert loaded["escape_names"]["reason"] is None
    rc = cli.main(["layers", "--weights", str(hostile_files["escape_names"][0]), "--imgsz", "64"])
    out, err = capsys.readouterr()
    assert rc == 0 and "\\x1b]0;pwned\\x07" in out and "\\x9b31m" in out
    assert clean(out) and clean(err)
    bad = tmp_path / "keys.pt"
    torch.save({"\x1b[2J\x1b]0;title\x07": 1, "x\x9b": 2}, bad)
    rc = cli.main(["layers", "--weights", str(bad)])
    out, err = capsys.readouterr()
    assert rc == 1 and "no 'model' or 'ema' entry" in err and "\\x1b[2J" in err
    assert clean(err) and not out


def test_csv_class_names_are_escaped():
    records = [{"frame": 0, "name": "a.png", "detections": [
        {"xyxy": [1, 2, 3, 4], "score": 0.5, "cls": 0, "name": "\x1b[31mred\x07\x9b"}]}]
    text = table_csv(NORMAL, records).decode("utf-8")
    assert "\\x1b[31mred\\x07\\x9b" in text and clean(text.replace("\r\n", "\n"))


def test_escape_text_covers_c0_c1_del_and_bidi():
    assert escape_text("a\x00b\x1b\x7f\x85\x9b\u202e\u2028c") == "a\\x00b\\x1b\\x7f\\x85\\x9b\\u202e\\u2028c"
    assert escape_text("Straße 東京 C:\\dir") == "Straße 東京 C:\\dir"
    assert escape_text("a\nb", keep_newlines=True) == "a\nb" and escape_text("a\nb") == "a\\x0ab"


# --- the work estimate against a measured frame, block kind by block kind -------------------------------

_MEASURE = r"""
from gam_gui.checkpoints import limits
from gam_gui.models import common, gam, yolov8 as v8
torch.set_num_threads(1)

class Head(nn.Module):
    def __init__(self, nc):
        super().__init__()
        self.stem = common.Conv(3, 16, 8, 8, 0)
        self.det = v8.Detect(nc, (16,))
        self.det.stride = torch.tensor([8.0])
    def forward(self, x):
        return self.det([self.stem(x)])

KINDS = {
    "attention": (lambda: nn.Sequential(common.Conv(3, 64, 4, 4, 0), v8.C2PSA(64, 64, 1)), 256),
    "replicate_padding": (lambda: nn.Sequential(common.Conv(3, 32, 1, 1),
                                                nn.Conv2d(32, 8, 3, 8, 2, padding_mode="replicate")), 512),
    "head_decode": (lambda: Head(2000), 320),
    "gam": (lambda: nn.Sequential(common.Conv(3, 64, 2, 2, 0), gam.GAM(64, 64)), 256),
    "csp_concat": (lambda: nn.Sequential(common.Conv(3, 32, 2, 2, 0), v8.C2f(32, 32, 3)), 256),
}

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

for kind in json.loads(sys.argv[2])["kinds"]:
    make, px = KINDS[kind]
    m = make().eval()
    x = torch.zeros(1, 3, px, px)
    est = limits.probe_activations(m, 3, kind, meta_params=True, size=px, limit=1 << 40).activation_bytes
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current size
    base = rss("VmRSS")
    y = m(x)  # with gradients, as a Grad-CAM frame keeps them
    peak = rss("VmHWM") - base
    del y, m, x
    gc.collect()
    print(json.dumps({"kind": kind, "estimate": est, "measured": peak}), flush=True)
"""

KINDS = ["attention", "replicate_padding", "head_decode", "gam", "csp_concat"]


@pytest.fixture(scope="module")
def measured(child) -> dict[str, dict]:
    return {r["kind"]: r for r in child if "kind" in r}


@pytest.mark.parametrize("kind", KINDS)
def test_work_estimate_is_within_2x_of_a_measured_frame(measured, kind):
    row = measured[kind]
    assert row["measured"] > 20e6, row  # large enough for RSS to measure it
    assert 0.5 <= row["estimate"] / row["measured"] <= 2.0, row


# --- smaller slips -----------------------------------------------------------------------------------------

def test_estimate_work_refuses_bad_sizes_and_channels_as_checkpoint_errors():
    model = DetectionModel(copy.deepcopy(V5)).eval()
    with pytest.raises(CheckpointError) as ei:
        estimate_work(model, 999_999_999_999)
    assert ei.value.reason == "imgsz"
    model.yaml = dict(model.yaml, ch=-3)  # a stored YAML of a foreign file
    with pytest.raises(CheckpointError):
        estimate_work(model, 320)


def test_memory_error_in_the_loader_is_reported_as_memory(monkeypatch, tmp_path):
    model = DetectionModel(copy.deepcopy(V5)).eval()
    path = save_model(model, tmp_path / "m.pt")

    def out_of_memory(*_a, **_k):
        raise MemoryError

    monkeypatch.setattr(loader_mod, "model_from_checkpoint", out_of_memory)
    with pytest.raises(CheckpointError) as ei:
        load_model(path, device="cpu")
    assert ei.value.reason == "memory" and "memory" in str(ei.value)


@pytest.mark.parametrize("act", ["nn.Parameter", "'relu'", 0.5])
def test_anything_but_an_activation_in_an_activation_slot_is_refused(act):
    desc = copy.deepcopy(V5)
    desc["backbone"][0] = [-1, 1, "Conv", [64, 3, 2, None, 1, 1, act]]
    with pytest.raises(ModelConfigError, match="not an activation"):
        parse_model(desc, ch=[3])
    desc["backbone"][0] = [-1, 1, "Conv", [64, 3, 2, None, 1, 1, "nn.LeakyReLU(0.1)"]]
    parse_model(desc, ch=[3])  # a real activation still builds


def test_target_class_is_bounded_by_the_model(tmp_path, capsys):
    assert V.check_target("cls:2", nc=3) == "cls:2"
    for bad in ("cls:3", "cls:" + "9" * 5000):
        with pytest.raises(ValueError):
            V.check_target(bad, nc=3)
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), np.zeros((64, 64, 3), np.uint8))
    rc = cli.main(["export", "--source", str(img), "--out", str(tmp_path / "o"), "--target", "cls:99999"])
    _, err = capsys.readouterr()
    assert rc == 2 and "--target" in err and "classes" in err
