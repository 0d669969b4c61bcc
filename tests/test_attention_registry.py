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

REF_DIR = Path(__file__).parent / "data" / "attention_ref"
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
                if mode != "off" and not (case.endswith("no_spatial") and mode == "branch-hw-only"):
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
