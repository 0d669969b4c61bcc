"""Real ultralytics 8.4 *trainer* files stacking GAM with ten other attention blocks (issue 27).

``tests/data/attention_ref/v11_trainer_{best,last}.pt`` were written by the package's own trainer
(``make_trainer_stack.py`` beside them): a YOLO11 layout (C3k2, SPPF, C2PSA) with the blocks pasted into
``ultralytics.nn.modules.block`` and registered in ``parse_model`` as the tutorials tell users to.
``best.pt`` is stripped as the trainer leaves it; ``last.pt`` is the full checkpoint of the last epoch
(``model`` None, ``ema``, ``optimizer`` with momentum buffers, ``updates``, ``train_args``). The
package's own outputs for both are stored in ``v11_trainer_out.pt``, so nothing here needs ultralytics.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import gam_gui.models.attention as A
from gam_gui.checkpoints import load_model

REF_DIR = Path(__file__).parents[1] / "data" / "attention_ref"
FILES = {"best": REF_DIR / "v11_trainer_best.pt", "last": REF_DIR / "v11_trainer_last.pt"}
#: (layer, kind, variant) of every attention block, as the recipe stacks them
BLOCKS = [(3, "SimAM", "simam"), (6, "CBAM", "shared-mlp"), (9, "CoordAtt", "coordatt"),
          (12, "TripletAttention", "three-branch"), (15, "GAM", "seed"), (19, "ShuffleAttention", "sa"),
          (23, "SKAttention", "sk-2"), (24, "EMA", "ema"), (28, "ECA", "eca"), (29, "SE", "se"), (33, "NAM", "nam")]


@pytest.fixture(scope="module")
def ref() -> dict:
    return torch.load(REF_DIR / "v11_trainer_out.pt", weights_only=True)


class _Models(dict):
    """Each file loaded once per test process, on first use (xdist workers load only what they use)."""

    def __missing__(self, tag: str):
        self[tag] = load_model(FILES[tag], device="cpu")
        return self[tag]


@pytest.fixture(scope="module")
def models() -> _Models:
    return _Models()


def _first(y):
    return y[0] if isinstance(y, (list, tuple)) else y


def test_files_are_the_trainers_full_and_stripped_checkpoints() -> None:
    """What the files hold (read from the pickle as bytes, nothing unpickled): the full one has the
    optimizer's momentum buffers, the stripped one none; both name the pasted blocks' module path."""
    pickles = {}
    for tag, path in FILES.items():
        with zipfile.ZipFile(path) as z:
            pickles[tag] = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        assert path.stat().st_size < 600_000
    for raw in pickles.values():
        assert b"ultralytics.nn.modules.block" in raw and b"GAM_Attention" in raw and b"SKAttention" in raw
        assert b"C2PSA" in raw and b"C3k2" in raw
    assert b"momentum_buffer" in pickles["last"] and b"momentum_buffer" not in pickles["best"]


def test_both_load_without_ultralytics_and_equal_the_package(models, ref) -> None:
    assert "ultralytics" not in sys.modules
    for tag in FILES:
        model = models[tag]
        assert [(f.index, f.entry.kind, f.block.variant) for f in A.find_blocks(model)] == BLOCKS, tag
        assert model.names[4] == "cross" and not model.training
        with torch.no_grad():
            for x, want in zip(ref["x"], ref[tag]["y"], strict=True):
                got = _first(model(x.float()))
                assert got.shape == want.shape
                assert (got - want).abs().max().item() <= 1e-4, tag


def test_every_blocks_output_equals_the_package(models, ref) -> None:
    """Block by block on the first input (the stored outputs of each attention layer of best.pt)."""
    model, want = models["best"], ref["best"]["layers"]
    seen: dict[int, torch.Tensor] = {}
    hooks = [model.model[i].register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(i, o)) for i, _, _ in BLOCKS]
    try:
        with torch.no_grad():
            model(ref["x"][0].float())
    finally:
        for h in hooks:
            h.remove()
    assert sorted(want) == [i for i, _, _ in BLOCKS]
    for i, kind, _ in BLOCKS:
        assert (seen[i] - want[i]).abs().max().item() <= 1e-4, kind


def test_analyze_draws_every_blocks_gates_in_their_range(models) -> None:
    from gam_gui.analysis import analyze
    from gam_gui.data.shapes import render_sample

    img = render_sample(3, 96).image
    for tag in ("best",):  # the full file's blocks are checked by the ablation test
        res = analyze(models[tag], img, method="none", imgsz=96, conf=0.01)
        assert [(b.index, b.kind, b.variant) for b in res.attention] == BLOCKS, tag
        for b in res.attention:
            entry = A.entry(b.kind)
            want = {g.name for g in entry.gates} - set(entry.absent_gates.get(b.variant, ()))
            assert set(b.gates) == want, (tag, b.kind)
            for name, g in b.gates.items():
                decl = g.gate
                assert g.small is not None or g.weights is not None, (b.kind, name)
                for values in (g.small, g.weights):
                    if values is None:
                        continue
                    assert np.isfinite(values).all()
                    if decl.low is not None:
                        assert values.min() >= decl.low - 1e-5, (b.kind, name)
                    if decl.high is not None:
                        assert values.max() <= decl.high + 1e-5, (b.kind, name)
                if g.small is not None:
                    m, lo, hi = g.frame()
                    assert m.shape == img.shape[:2] and 0 <= m.min() <= m.max() <= 1 and lo <= hi
                    assert g.small.std() > 0 or decl.kind == "channel", (b.kind, name)  # trained: not flat


def test_every_block_ablates_in_every_mode_and_restores(models, ref) -> None:
    model = models["last"]  # the full checkpoint (EMA weights)
    x = ref["x"][0].float()
    with torch.no_grad():
        base = _first(model(x))
        modes_seen = 0
        for f in A.find_blocks(model):
            for mode in f.entry.modes_for(f.block.variant):
                with A.ablating({f.block: A.Mode(mode, 2)}):
                    y = _first(model(x))
                assert y.shape == base.shape and torch.isfinite(y).all()
                assert not torch.equal(y, base), (f.index, f.entry.kind, mode)
                modes_seen += 1
            assert torch.equal(_first(model(x)), base), f.entry.kind  # restored exactly
    assert modes_seen >= 2 * len(BLOCKS)


# --- YOLOv7 layout: a train.py checkpoint (models.yolo.Model, models.common.*) stacking blocks ----------

def _tutorial_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tutorial_blocks", REF_DIR / "tutorial_blocks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _randomize(m: torch.nn.Module, seed: int) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in (*m.named_parameters(), *m.named_buffers()):
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif not name.endswith("num_batches_tracked"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.5)
    return m


@pytest.mark.parametrize("stripped", [False, True])
def test_yolov7_train_checkpoint_stacking_blocks(tmp_path: Path, monkeypatch, stripped: bool) -> None:
    """YOLOv7-tiny (ELAN blocks, MP, SP pyramid, IDetect with implicit layers) with the tutorials' SE
    inside a backbone ELAN, their CBAM and CoordAtt before the head and a GAM, pickled as the YOLOv7
    repo's train.py writes it (``models.common.<Name>``), full (model, ema, optimizer, updates) and
    stripped. Reference: YOLOv7's Model.forward with the tutorials' block forwards on the file's weights."""
    import standins_v7 as v7
    from test_yolov7 import tiny_gam

    T = _tutorial_module()
    model = tiny_gam(width=0.25)
    swaps = {12: T.TutSEAttention(16, 4), 77: T.TutCBAM(32, 32, 4), 78: T.TutCoordAtt(64, 64, 8)}
    for index, block in swaps.items():
        old = model.model[index]
        _randomize(block, index)
        block.i, block.f, block.type, block.np = old.i, old.f, type(block).pickled_as, 0
        model.model[index] = block.eval()
    named = {}  # each tutorial class under the name its pickles carry, for models.common
    for cls in (T.TutSEAttention, T.TutCBAM, T.TutChannelAttention, T.TutSpatialAttention, T.TutCoordAtt,
                T.TutHSwish, T.TutHSigmoid):
        named[cls] = type(cls.pickled_as, (cls,), {})
    for m in model.modules():
        if type(m) in named:
            m.__class__ = named[type(m)]
    monkeypatch.setattr(v7, "_COMMON", [*v7._COMMON, *named.values()])
    path = tmp_path / ("best.pt" if stripped else "last.pt")
    reference = v7.write_yolov7_checkpoint(model, path, stripped=stripped)
    raw = zipfile.ZipFile(path).read(next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("data.pkl")))
    assert b"models.common\nCoordAtt" in raw and b"models.yolo\nModel" in raw and (b"param_groups" in raw) != stripped

    loaded = load_model(path, device="cpu")
    assert [(f.index, f.entry.kind, f.block.variant) for f in A.find_blocks(loaded)] == [
        (12, "SE", "se"), (77, "CBAM", "shared-mlp"), (78, "CoordAtt", "coordatt"), (79, "GAM", "seed")]
    x = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want, got = reference(x.clone())[0], _first(loaded(x))
        assert got.shape == want.shape
        assert (got - want).abs().max().item() <= 1e-4 * max(1.0, want.abs().max().item())
        for f in A.find_blocks(loaded):  # every block's modes reach the file's model
            with A.ablating({f.block: "off"}):
                assert not torch.equal(_first(loaded(x)), got), f.entry.kind


# --- the loader's work estimate, per registry kind, against a measured frame ---------------------------

_MEASURE = r"""
import gc, json, sys
import torch
torch.set_num_threads(1)
from gam_gui.checkpoints import limits, load_model
from gam_gui.models import gam
from gam_gui.models.attention import cbam, coordatt, eca, ema, nam, se, shuffle, simam, sk, triplet

C, S = 32, 192
KINDS = {
    "CBAM": lambda: cbam.tutorial_cbam(C, C, 8), "SE": lambda: se.SEAttention(C, 8),
    "ECA": lambda: eca.EfficientChannelAttention(C), "CoordAtt": lambda: coordatt.CoordAtt(C, C, 8),
    "SimAM": simam.SimAM, "EMA": lambda: ema.EMA(C, factor=8), "TripletAttention": triplet.TripletAttention,
    "ShuffleAttention": lambda: shuffle.ShuffleAttention(C, 16, 8), "NAM": lambda: nam.NAMAttention(C),
    "SKAttention": lambda: sk.SKAttention(C, (1, 3, 5), 8), "GAM": lambda: gam.GAM(C, C),
}

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

def measure(m, ch, size):
    est = limits.probe_activations(m, ch, "m", meta_params=True, size=size, limit=1 << 40).activation_bytes
    x = torch.rand(1, ch, size, size, requires_grad=True)  # a layer's input inside a frame with gradients
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current size
    base = rss("VmRSS")
    y = m(x)
    peak = rss("VmHWM") - base
    del y, x
    gc.collect()
    return est, peak

gc.freeze()  # what the imports made is never collected: each gc.collect() below stays cheap
for make in KINDS.values():  # warm-up: an op's first call in a process pays one-time costs
    make().eval()(torch.rand(1, C, 32, 32, requires_grad=True))
for kind, make in KINDS.items():
    est, peak = measure(make().eval(), C, S)
    print(json.dumps({"kind": kind, "estimate": est, "measured": peak}), flush=True)
est, peak = measure(load_model(sys.argv[1], device="cpu"), 3, 416)
print(json.dumps({"kind": "trainer file", "estimate": est, "measured": peak}), flush=True)
"""
_KINDS = ["CBAM", "SE", "ECA", "CoordAtt", "SimAM", "EMA", "TripletAttention", "ShuffleAttention", "NAM",
          "SKAttention", "GAM"]


def _measure() -> dict[str, dict]:
    import json
    import os
    import subprocess

    repo = Path(__file__).parents[2]
    # every allocation above 128 KB is its own mapping, returned on free: a frame's peak RSS is what it
    # allocated, not what an earlier frame left in the heap
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(repo), MALLOC_MMAP_THRESHOLD_="131072")
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(FILES["best"])], capture_output=True, text=True,
                          timeout=120, env=env, cwd=repo)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["kind"]: r for r in rows}


def test_every_registry_kind_declares_its_own_work() -> None:
    for e in A.entries():
        if e.source == "gam-gui":
            assert e.work is not None, e.kind


def test_work_estimates_are_within_2x_of_measured_forwards() -> None:
    """Each kind alone on a 32x192x192 input that needs gradients (as inside a Grad-CAM frame): a kind
    whose ``work`` were missing or wrong by more than 2x fails here; then the 11-block trainer file on
    a 416 px frame. One child process (a fresh heap), one test, so xdist runs the child once."""
    measured = _measure()
    for kind in _KINDS:
        row = measured[kind]
        assert row["measured"] > 3e6, row  # one copy of the input is 4.7 MB: large enough for RSS to measure
        assert 0.5 <= row["estimate"] / row["measured"] <= 2.0, row
    row = measured["trainer file"]
    assert row["measured"] > 20e6, row
    assert 0.5 <= row["estimate"] / row["measured"] <= 2.0, row
