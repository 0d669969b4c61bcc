"""The attention-block registry (issue 27): every entry against the tutorial code's forward (restated
in tests/data/attention_ref/tutorial_blocks.py) and ultralytics' own CBAM (stored outputs), the
structure checks a file's layer must pass, gates, ablation modes, and plugins."""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

import gam_gui.models.attention as A
from gam_gui import plugins
from gam_gui.models import gam
from gam_gui.models.attention import cbam

REF_DIR = Path(__file__).parents[1] / "data" / "attention_ref"
_spec = importlib.util.spec_from_file_location("tutorial_blocks", REF_DIR / "tutorial_blocks.py")
T = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(T)


def randomize(m: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights and BN statistics, so that every tensor matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.5)
    return m.eval()


def transplant(ref: nn.Module) -> nn.Module:
    """What the loader's unpickler does with a file pickled from ``ref``: an empty instance of the
    registry's class for each class name, filled with the pickled ``__dict__`` (torch layers stay)."""
    name = getattr(type(ref), "pickled_as", None)
    if name is None:
        cls = type(ref)
        assert cls.__module__.startswith("torch."), cls
    else:
        e = A.entry_for_name(name)
        assert e is not None, name
        cls = e.classes.get(name) or e.helpers[name]
    new = cls.__new__(cls)
    state = dict(ref.__dict__)
    state["_modules"] = OrderedDict((k, None if v is None else transplant(v)) for k, v in ref._modules.items())
    state.pop("layout", None)  # the restatement's own switch, not part of a pickle
    new.__dict__.update(state)
    return new


X = torch.randn(2, 32, 9, 11, generator=torch.Generator().manual_seed(1))

CASES = {
    "CBAM f1/f2": (lambda: T.TutCBAM(32, 32, 8), "CBAM", "shared-mlp"),
    "CBAM sharedMLP": (lambda: T.TutCBAM(32, 32, 4, 3, layout="seq"), "CBAM", "shared-mlp"),
    "SEAttention": (lambda: T.TutSEAttention(32, 8), "SE", "se"),
    "SE l1/l2": (lambda: T.TutSE(32, 32, 4), "SE", "se"),
    "EfficientChannelAttention": (lambda: T.TutECA(32), "ECA", "eca"),
    "ECAAttention": (lambda: T.TutECAAttention(5), "ECA", "eca"),
    "CoordAtt": (lambda: T.TutCoordAtt(32, 32, 4), "CoordAtt", "coordatt"),
    "SimAM": (lambda: T.TutSimAM(1e-3), "SimAM", "simam"),
    "EMA": (lambda: T.TutEMA(32, 4), "EMA", "ema"),
    "TripletAttention": (lambda: T.TutTripletAttention(), "TripletAttention", "three-branch"),
    "TripletAttention no_spatial": (lambda: T.TutTripletAttention(True), "TripletAttention", "no-spatial"),
    "ShuffleAttention": (lambda: T.TutShuffleAttention(32, G=4), "ShuffleAttention", "sa"),
    "NAMAttention": (lambda: T.TutNAMAttention(32), "NAM", "nam"),
    "SKAttention": (lambda: T.TutSKAttention(32), "SKAttention", "sk-3"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tutorial_forward_equals_registry(case: str) -> None:
    make, kind, variant = CASES[case]
    ref = randomize(make(), seed=len(case))
    mine = transplant(ref)
    found = A.check_block(mine)
    assert (found.entry.kind, found.variant) == (kind, variant)
    assert mine.variant == variant and case.split()[0] in mine.variant_reason or mine.variant_reason
    with torch.no_grad():
        want, got = ref(X), mine(X)
    assert got.shape == want.shape
    assert (got - want).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", ["CBAM", "ChannelAttention", "SpatialAttention"])
def test_ultralytics_cbam_matches_stored_outputs(name: str) -> None:
    ref = torch.load(REF_DIR / "ultralytics_cbam.pt", weights_only=True)
    mine = {"CBAM": cbam.CBAM(16, 7), "ChannelAttention": cbam.ChannelAttention(16),
            "SpatialAttention": cbam.SpatialAttention(3)}[name]
    mine.load_state_dict(ref[name]["state"])
    found = A.check_block(mine.eval())
    assert found.entry.kind == name and found.variant in ("ultralytics", "any")
    with torch.no_grad():
        assert (mine(ref["x"]) - ref[name]["y"]).abs().max().item() <= 1e-5


def test_the_two_cbams_differ_and_are_told_apart() -> None:
    ultra, tut = randomize(cbam.CBAM(32)), randomize(cbam.tutorial_cbam(32, 32, 8))
    assert A.identify(ultra).variant == "ultralytics" and A.identify(tut).variant == "shared-mlp"
    # ultralytics' CBAM has GAM's child names; the registry does not take it for a GAM
    assert A.entry_of(ultra).kind == "CBAM"


@pytest.mark.parametrize("cls_name", ["GAM", "GAM_Attention"])
def test_gam_entry_keeps_gam_behaviour(cls_name: str) -> None:
    from gam_gui.ablation import apply_mode as gam_apply
    from gam_gui.ablation_modes import AblationMode

    block = randomize(gam.GAM(32, 32) if cls_name == "GAM" else gam.GAM_Attention(32))
    found = A.check_block(block)
    assert found.entry.kind == "GAM" and found.variant == block.gam_variant
    with torch.no_grad():
        for mode in found.entry.modes:
            m = AblationMode.parse(mode if mode != "drop-top-k" else "drop-top-4")
            assert torch.allclose(A.apply_mode(block, X, m), gam_apply(m, block, X), atol=1e-6), mode
        out, gates = found.entry.run(block, X, A.keep)
        assert torch.equal(out, block(X)) and set(gates) == {"channel", "spatial"}


def _all_blocks() -> list[tuple[str, nn.Module]]:
    return [(case, transplant(randomize(make(), 3))) for case, (make, _, _) in CASES.items()] + [
        ("GAM", randomize(gam.GAM(32, 32))), ("ultralytics CBAM", randomize(cbam.CBAM(32)))]


def test_gates_are_recorded_in_their_declared_range_and_modes_differ() -> None:
    for case, block in _all_blocks():
        e = A.check_block(block).entry
        seen: dict[str, torch.Tensor] = {}
        with A.recording({id(block): lambda b, x, gates, out, seen=seen: seen.update(gates)}), torch.no_grad():
            out = block(X) if isinstance(block, A.AttentionBlock) else e.run(block, X, A.keep)[0]
        if not isinstance(block, A.AttentionBlock):
            seen = e.run(block, X, A.keep)[1]
        declared = {g.name for g in e.gates}
        assert set(seen) <= declared and seen, case
        for name, t in seen.items():
            g = e.gate(name)
            assert torch.isfinite(t).all()
            if g.low is not None:
                assert t.min().item() >= g.low - 1e-6, (case, name)
            if g.high is not None:
                assert t.max().item() <= g.high + 1e-6, (case, name)
        with torch.no_grad():
            assert torch.equal(A.apply_mode(block, X, "off"), X)
            for mode in e.modes:
                y = A.apply_mode(block, X, A.Mode(mode, 4))
                assert y.shape == out.shape
                if mode != "off" and mode in e.modes_for(block.variant):
                    assert not torch.allclose(y, out), (case, mode)
                if mode == "drop-top-k":  # four output channels zeroed, the rest as trained
                    zero = (y.abs().amax((2, 3)) == 0).sum(1)
                    assert (zero >= 4).all(), case


def test_ablating_context_reaches_every_kind_and_restores() -> None:
    block = transplant(randomize(T.TutCoordAtt(32, 32, 4)))
    A.check_block(block)
    with torch.no_grad():
        before = block(X)
        with A.ablating({block: "off"}):
            assert torch.equal(block(X), X)
        assert torch.equal(block(X), before)
        with pytest.raises(ValueError):
            with A.ablating({block: "drop-top-k"}):  # CoordAtt has no channel gate
                pass


def _hostile(kind: str) -> nn.Module:
    block = transplant(randomize(T.TutCBAM(32, 32, 8)))
    if kind == "forward":
        block.__dict__["forward"] = nn.Identity()
    elif kind == "extra":
        block.channel_attention._modules["extra"] = nn.Conv2d(32, 32, 1)
    elif kind == "shape":
        block.channel_attention.f2.weight = nn.Parameter(torch.zeros(16, 4, 1, 1))
    elif kind == "kernel":
        block.spatial_attention.conv.weight = nn.Parameter(torch.zeros(1, 3, 7, 7))
    elif kind == "padding":
        block.spatial_attention.conv.padding = (9, 9)
    elif kind == "tensor":
        block.channel_attention.f1.register_buffer("stash", torch.zeros(3))
    return block


@pytest.mark.parametrize("kind", ["forward", "extra", "shape", "kernel", "padding", "tensor"])
def test_hostile_layers_are_refused(kind: str) -> None:
    with pytest.raises(A.BlockStructureError) as info:
        A.check_block(_hostile(kind), "model.9")
    assert info.value.kind == "CBAM" and info.value.layer == "model.9" and info.value.problem


def test_hostile_attributes_are_refused() -> None:
    simam = transplant(T.TutSimAM())
    simam.e_lambda = float("nan")
    ema = transplant(randomize(T.TutEMA(32, 4)))
    ema.groups = 10**9
    sa = transplant(randomize(T.TutShuffleAttention(32, G=4)))
    sa.G = 3
    for block in (simam, ema, sa):
        with pytest.raises(A.BlockStructureError):
            A.check_block(block)


def test_find_blocks_takes_outermost_and_every_entry_has_paths() -> None:
    layers = nn.Sequential(randomize(gam.GAM(32, 32)), transplant(randomize(T.TutCBAM(32, 32, 8))),
                           nn.Sequential(transplant(randomize(T.TutCoordAtt(32, 32, 4)))))
    model = nn.Module()
    model.model = layers
    found = A.find_blocks(model)
    assert [(f.index, f.entry.kind) for f in found] == [(0, "GAM"), (1, "CBAM"), (2, "CoordAtt")]
    paths = A.class_paths()
    for e in A.entries():
        if e.kind == "GAM":  # the loader maps GAM's names itself (PackageGAM, variant from structure)
            continue
        for name in (*e.classes, *e.helpers):
            assert f"models.common.{name}" in paths and f"ultralytics.nn.modules.conv.{name}" in paths
    blob = b"\x80\x02cultralytics.nn.extra_modules.attention\nCoordAtt\nq\x00cultralytics.nn.x\nEvil\nq\x01"
    assert list(A.package_paths(blob)) == ["ultralytics.nn.extra_modules.attention.CoordAtt"]
    msg = A.how_to_add("A2C2f", "ultralytics.nn.modules.block", 7)
    assert "A2C2f" in msg and "layer 7" in msg and "--plugin" in msg


PLUGIN = '''
import torch
from torch import nn
from gam_gui.models.attention import AttentionBlock, BlockEntry, Gate, Structure, register


class ScaleGate(AttentionBlock):
    def __init__(self, c):
        super().__init__()
        self.w = nn.Conv2d(c, 1, 1)


def run(block, x, policy):
    seen = {}
    g = policy("spatial", torch.sigmoid(block.w(x)))
    if g is not None:
        seen["spatial"] = g
    return (x if g is None else x * g), seen


GAM_GUI_BLOCKS = [BlockEntry(
    kind="ScaleGate", classes={"ScaleGate": ScaleGate}, helpers={}, signature="ScaleGate(c)", yaml_style="c1",
    structures=(Structure("one", "a 1x1 conv to one map", {"w": (nn.Conv2d,)}, {"w.weight": (1, "C", 1, 1),
                                                                             "w.bias": (1,)}),),
    gates=(Gate("spatial", "spatial", "HxW", "a learned per-pixel scale"),), run=run)]
'''


def test_plugin_file_registers_a_block(tmp_path: Path) -> None:
    path = tmp_path / "my_blocks.py"
    path.write_text(PLUGIN)
    try:
        kinds = plugins.load_plugin(path)
        assert kinds == ["ScaleGate"]
        e = A.entry("ScaleGate")
        assert e.source == str(path) and e.modes == ("off", "mean-gate")
        block = e.classes["ScaleGate"](32).eval()
        assert A.check_block(block).variant == "one"
        with torch.no_grad():
            assert block(X).shape == X.shape
        with pytest.raises(plugins.PluginError):  # the same kind again: refused, not silently replaced
            plugins.load_plugin(path)
    finally:
        A.unregister("ScaleGate")


def test_plugin_errors_carry_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    clash = tmp_path / "clash.py"
    clash.write_text(PLUGIN.replace('classes={"ScaleGate": ScaleGate}', 'classes={"CBAM": ScaleGate}'))
    for path in (bad, empty, clash, tmp_path / "missing.py"):
        with pytest.raises(plugins.PluginError) as info:
            plugins.load_plugin(path)
        assert info.value.path == str(path)
    assert A.entry_for_name("CBAM").kind == "CBAM"


# --- whole files: the loader with the registry as its allowlist ----------------------------------------

STACK = REF_DIR / "v8_stack_best.pt"


@pytest.fixture(scope="module")
def stack_model():
    from gam_gui.checkpoints import load_model

    return load_model(STACK, device="cpu")


def test_real_ultralytics_file_stacking_blocks_loads_and_matches(stack_model) -> None:
    """ultralytics 8.4's DetectionModel with its own CBAM, the tutorial blocks under
    ultralytics.nn.extra_modules.attention and a pasted GAM_Attention: same output as the package's."""
    ref = torch.load(REF_DIR / "v8_stack_out.pt", weights_only=True)
    with torch.no_grad():
        y = stack_model(ref["x"].float())
    y = y[0] if isinstance(y, (list, tuple)) else y
    assert y.shape == ref["y"].shape and (y - ref["y"]).abs().max().item() <= 1e-4
    kinds = [(f.index, f.entry.kind, f.block.variant) for f in A.find_blocks(stack_model)]
    assert kinds == [(5, "CBAM", "ultralytics"), (8, "CoordAtt", "coordatt"), (11, "GAM", "seed"),
                     (15, "SimAM", "simam"), (19, "EMA", "ema"), (23, "SE", "se"),
                     (27, "TripletAttention", "three-branch")]


def test_every_block_of_the_file_draws_gates_and_ablates(stack_model) -> None:
    x = torch.load(REF_DIR / "v8_stack_out.pt", weights_only=True)["x"].float()
    found = A.find_blocks(stack_model)
    seen: dict[int, dict] = {}
    calls = {id(f.block): (lambda b, inp, gates, out, i=f.index: seen.__setitem__(i, gates)) for f in found}
    with torch.no_grad():
        with A.recording(calls):
            base = stack_model(x)
        for f in found:
            if isinstance(f.block, A.AttentionBlock):
                assert set(seen[f.index]) == {g.name for g in f.entry.gates} or f.entry.kind == "TripletAttention"
            for mode in f.entry.modes:
                with A.ablating({f.block: A.Mode(mode, 2)}):
                    y = stack_model(x)
                assert y.shape == base.shape and torch.isfinite(y).all()
                if mode == "off":
                    assert not torch.equal(y, base), f.entry.kind
    from gam_gui.analysis import list_layers

    infos = {i.index: i for i in list_layers(stack_model, 64)}
    assert infos[8].blocks == ("CoordAtt coordatt",) and infos[8].suggested and infos[11].is_gam
    assert infos[19].suggested and not infos[12].suggested and "[CBAM ultralytics]" in infos[5].label()


def _subclass(cls: type, name: str) -> type:
    """A class named as the tutorials name it, pickled as models.common.<name> and mapped back."""
    return type(name, (cls,), {})


def _yolov5_stack(tmp_path: Path, mutate=None, stripped: bool = True) -> tuple[Path, nn.Module]:
    from conftest import perturbed
    from standins import write_yolov5_checkpoint

    from gam_gui.models.attention import coordatt
    from gam_gui.models.yolov5 import DetectionModel

    m = perturbed(DetectionModel("yolov5n_GAM", nc=3)).eval()
    for index, block in ((18, cbam.tutorial_cbam(64, 64, 8)), (22, coordatt.CoordAtt(128, 128, 32))):
        old = m.model[index]
        randomize(block, index)
        block.i, block.f, block.type, block.np = old.i, old.f, type(block).__name__, 0
        m.model[index] = block
    if mutate:
        mutate(m)
    names = {"CBAM": cbam.CBAM, "ChannelAttention": cbam.ChannelAttention, "SpatialAttention": cbam.SpatialAttention,
             "CoordAtt": coordatt.CoordAtt, "h_swish": coordatt.h_swish, "h_sigmoid": coordatt.h_sigmoid}
    subs = {cls: _subclass(cls, name) for name, cls in names.items()}
    path = tmp_path / "v5_stack.pt"
    write_yolov5_checkpoint(m, path, stripped=stripped, class_override=subs,
                            extra_common={c.__name__: c for c in subs.values()})
    return path, m


@pytest.mark.parametrize("stripped", [True, False])
def test_yolov5_layout_file_stacking_blocks(tmp_path: Path, stripped: bool) -> None:
    """YOLOv5's train.py file: stripped (best.pt) and full (model, ema, optimizer, updates)."""
    from gam_gui.checkpoints import load_model

    path, m = _yolov5_stack(tmp_path, stripped=stripped)
    loaded = load_model(path, device="cpu")
    assert [(f.index, f.entry.kind, f.block.variant) for f in A.find_blocks(loaded)] == [
        (18, "CBAM", "shared-mlp"), (22, "CoordAtt", "coordatt"), (26, "GAM", "seed")]
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        want = m.half().float()(x)
        got = loaded(x)
    want, got = (t[0] if isinstance(t, (list, tuple)) else t for t in (want, got))
    assert (want - got).abs().max().item() <= 1e-4


@pytest.mark.parametrize("kind", ["extra", "shape", "forward"])
def test_hostile_block_in_a_file_is_refused(tmp_path: Path, kind: str) -> None:
    from gam_gui.checkpoints import CheckpointError, load_model

    def mutate(m: nn.Module) -> None:
        block = m.model[18]
        if kind == "extra":
            block.channel_attention._modules["extra"] = nn.Conv2d(64, 64, 1)
        elif kind == "shape":
            block.channel_attention.f2 = nn.Conv2d(8, 32, 1, bias=False)  # a consistent conv of the wrong size
        else:
            block.__dict__["forward"] = nn.Identity()

    path, _ = _yolov5_stack(tmp_path, mutate)
    with pytest.raises(CheckpointError) as info:
        load_model(path, device="cpu")
    if kind != "forward":  # a stored forward is refused earlier, by the tree check
        assert info.value.reason == "structure" and info.value.layer == 18 and info.value.kind == "CBAM"


YAML_STACK = {
    "nc": 3, "depth_multiple": 0.33, "width_multiple": 0.125,
    "anchors": [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]],
    "backbone": [[-1, 1, "Conv", [64, 6, 2, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "CBAM", [7]],
                 [-1, 1, "Conv", [256, 3, 2]], [-1, 1, "CoordAtt", [256, 8]], [-1, 1, "Conv", [512, 3, 2]],
                 [-1, 1, "SimAM", []], [-1, 1, "EMA", [4]], [-1, 1, "SEAttention", [4]],
                 [-1, 1, "TripletAttention", []], [-1, 1, "ECA", []], [-1, 1, "ShuffleAttention", [16, 2]],
                 [-1, 1, "NAMAttention", []], [-1, 1, "SKAttention", [[1, 3], 4, 1, 8]], [-1, 1, "GAM", [512]]],
    "head": [[[4, 6, 14], 1, "Detect", ["nc", "anchors"]]],
}


def test_yaml_builder_builds_every_block_and_own_format_round_trips(tmp_path: Path) -> None:
    from gam_gui.checkpoints import load_model, save_model
    from gam_gui.models.yolov5 import DetectionModel, ModelConfigError

    m = DetectionModel(YAML_STACK).eval()
    kinds = [f.entry.kind for f in A.find_blocks(m)]
    assert kinds == ["CBAM", "CoordAtt", "SimAM", "EMA", "SE", "TripletAttention", "ECA", "ShuffleAttention",
                     "NAM", "SKAttention", "GAM"]
    randomize(m, 7)
    save_model(m, tmp_path / "own.pt")
    loaded = load_model(tmp_path / "own.pt", device="cpu")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        a, b = m.half().float()(x), loaded(x)
    a, b = (t[0] if isinstance(t, (list, tuple)) else t for t in (a, b))
    assert (a - b).abs().max().item() <= 1e-4
    assert loaded.model[2].variant == "ultralytics" and loaded.model[13].variant == "sk-2"
    with pytest.raises(ModelConfigError, match="'A2C2f'.*--plugin"):
        DetectionModel({**YAML_STACK, "backbone": [[-1, 1, "A2C2f", [64]]]})


def test_analyze_returns_every_blocks_gates_and_ablation_cli_rules(stack_model) -> None:
    import numpy as np

    from gam_gui.ablation import ablate, every_ablation, resolve_blocks
    from gam_gui.analysis import analyze

    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    res = analyze(stack_model, img, method="none", imgsz=64, conf=0.01)
    got = {(b.index, b.kind): set(b.gates) for b in res.attention}
    assert got == {(5, "CBAM"): {"channel", "spatial"}, (8, "CoordAtt"): {"height", "width"},
                   (11, "GAM"): {"channel", "spatial"}, (15, "SimAM"): {"energy"},
                   (19, "EMA"): {"height", "width", "spatial"}, (23, "SE"): {"channel"},
                   (27, "TripletAttention"): {"branch-hw", "branch-cw", "branch-hc"}}
    for b in res.attention:
        for name, g in b.gates.items():
            if g.small is not None:
                m, lo, hi = g.frame()
                assert m.shape == (64, 64) and 0 <= m.min() and m.max() <= 1 and lo <= hi
                if g.gate.low is not None:
                    assert lo >= g.gate.low - 1e-5 and hi <= g.gate.high + 1e-5, (b.kind, name)
            assert g.small is not None or g.weights is not None
    assert res.attention[2].gam is res.gam[0]
    runs = every_ablation(stack_model)
    assert {(next(iter(r)), next(iter(r.values())).label) for r in runs} >= {(8, "height-only"), (27, "branch-cw-only"),
                                                                            (23, "drop-top-8"), (11, "spatial-only")}
    with pytest.raises(ValueError, match=r"layer 8 \(CoordAtt\) has no ablation mode 'channel-only'"):
        resolve_blocks(stack_model, ["8:channel-only"])
    with pytest.raises(ValueError, match="layer 12 is not an attention block"):
        resolve_blocks(stack_model, ["12:off"])
    r = ablate(stack_model, img, ["8:off", "27:branch-hw-only"], conf=0.01, imgsz=64)
    assert r.blocks == {8: "off", 27: "branch-hw-only"}


def test_cli_plugin_flag_and_layers_marks(tmp_path: Path, capsys) -> None:
    from gam_gui.cli import main

    path = tmp_path / "my_blocks.py"
    path.write_text(PLUGIN)
    try:
        assert main(["layers", "--plugin", str(path), "--weights", str(STACK), "--imgsz", "64"]) == 0
        out = capsys.readouterr().out
        assert A.entry("ScaleGate").source == str(path)
        assert " 8  CoordAtt       16x4x4  (suggested for CAM)  [CoordAtt coordatt]" in out
        assert "[GAM]" in out and "TripletAttention three-branch" in out
    finally:
        A.unregister("ScaleGate")
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    assert main(["--plugin", str(bad), "layers", "--weights", str(STACK)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.py" in err[0] and "boom" in err[0]


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_variants_of_every_entry_are_refused(case: str) -> None:
    """For every block: an extra submodule, an extra tensor, a stored forward and a parameter of the
    wrong shape are each refused by the structure check."""
    make = CASES[case][0]

    def fresh() -> nn.Module:
        return transplant(randomize(make()))

    extra = fresh()
    extra._modules["smuggled"] = nn.Conv2d(2, 2, 1)
    stash = fresh()
    stash.register_buffer("stash", torch.zeros(4))
    shadow = fresh()
    shadow.__dict__["forward"] = nn.Identity()
    hostile = [extra, stash, shadow]
    shaped = fresh()
    params = list(shaped.named_parameters())
    if params:  # SimAM has none
        name, p = params[-1]
        owner = shaped.get_submodule(name.rpartition(".")[0]) if "." in name else shaped
        owner._parameters[name.rpartition(".")[2]] = nn.Parameter(torch.zeros(*p.shape[:-1], p.shape[-1] + 1)
                                                                  if p.dim() else torch.zeros(2))
        hostile.append(shaped)
    for block in hostile:
        with pytest.raises(A.BlockStructureError):
            A.check_block(block)


def test_foreign_stack_saved_in_own_format_round_trips(stack_model, tmp_path: Path) -> None:
    """The package's YAML passes unlisted blocks their arguments as written; the builder falls back to
    that when the tutorials' registration does not fit, so a loaded file can be saved and reopened."""
    from gam_gui.checkpoints import load_model, save_model

    save_model(stack_model, tmp_path / "own.pt")
    again = load_model(tmp_path / "own.pt", device="cpu")
    x = torch.load(REF_DIR / "v8_stack_out.pt", weights_only=True)["x"].float()
    with torch.no_grad():
        a, b = stack_model(x), again(x)
    a, b = (t[0] if isinstance(t, (list, tuple)) else t for t in (a, b))
    assert (a - b).abs().max().item() <= 1e-4
    assert [f.entry.kind for f in A.find_blocks(again)] == [f.entry.kind for f in A.find_blocks(stack_model)]
