"""GAM ablation as a causal test: each mode computes what it claims, blocks always come back, and the
match table pairs detections the way a reader would."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from gam_gui.ablation import AblationMode, ablate, ablated, every_ablation, gam_layers, parse_blocks, resolve_blocks
from gam_gui.images import read_image
from gam_gui.inference import Detection
from gam_gui.matching import KEPT, LOST, NEW, match_detections, summarize
from gam_gui.models.gam import GAM

SAMPLE = Path(__file__).parents[2] / "resources" / "samples" / "shapes_01.jpg"


class _Holder(torch.nn.Module):
    """A one-layer 'model' so that ``ablated`` finds the block at layer 0."""

    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.model = torch.nn.Sequential(block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@pytest.fixture
def block_and_x():
    torch.manual_seed(3)
    block = GAM(16, 16).eval()
    for m in block.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    block.spatial_attention[0].weight.data.mul_(6)
    x = torch.randn(2, 16, 9, 11)
    return _Holder(block), block, x


def _run(holder, x, mode):
    with torch.no_grad(), ablated(holder, {0: mode}):
        return holder(x)


def test_off_returns_the_input_bit_for_bit(block_and_x):
    holder, block, x = block_and_x
    out = _run(holder, x, "off")
    assert torch.equal(out, x)


def test_channel_only_and_spatial_only_apply_one_gate(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        want_c = x * block.channel_gate(x)
        want_s = x * block.spatial_gate(x)
        full = block(x)
    assert torch.allclose(_run(holder, x, "channel-only"), want_c)
    assert torch.allclose(_run(holder, x, "spatial-only"), want_s)
    assert not torch.allclose(want_c, full) and not torch.allclose(want_s, full)


def test_on_is_the_trained_forward(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        assert torch.equal(_run(holder, x, "on"), block(x))


def test_mean_gate_keeps_the_scale_and_removes_the_where(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        y = x * block.channel_gate(x).mean((2, 3), keepdim=True)
        want = y * block.spatial_gate(y).mean((2, 3), keepdim=True)
        out = _run(holder, x, "mean-gate")
    assert torch.allclose(out, want)
    # per channel, the output is the input times a constant: no spatial pattern added by the block
    ratio = out / x
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio), rtol=1e-4, atol=1e-5)


def test_drop_top_k_zeroes_the_most_attended_channels_only(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        full = block(x)
        weights = block.channel_gate(x).mean((2, 3))
        out = _run(holder, x, "drop-top-3")
    for b in range(x.shape[0]):
        top = set(weights[b].topk(3).indices.tolist())
        for c in range(16):
            if c in top:
                assert torch.count_nonzero(out[b, c]) == 0
            else:
                assert torch.equal(out[b, c], full[b, c])


def test_blocks_are_restored_after_an_exception(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        want = block(x)
        with pytest.raises(RuntimeError, match="boom"), ablated(holder, {0: "off"}):
            assert torch.equal(holder(x), x)
            raise RuntimeError("boom")
        assert torch.equal(holder(x), want)
    assert vars(block).get("forward") is None  # nothing was patched onto the module


def test_nested_ablations_restore_the_outer_one(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad(), ablated(holder, {0: "off"}):
        with ablated(holder, {0: "channel-only"}):
            assert torch.allclose(holder(x), x * block.channel_gate(x))
        assert torch.equal(holder(x), x)


def test_another_thread_sees_the_trained_block(block_and_x):
    holder, block, x = block_and_x
    with torch.no_grad():
        want = block(x)
    entered, release = threading.Event(), threading.Event()
    seen: dict[str, torch.Tensor] = {}

    def ablating() -> None:
        with torch.no_grad(), ablated(holder, {0: "off"}):
            entered.set()
            release.wait(5)
            seen["ablated"] = holder(x)

    t = threading.Thread(target=ablating)
    t.start()
    assert entered.wait(5)
    with torch.no_grad():
        seen["other"] = holder(x)
    release.set()
    t.join(5)
    assert torch.equal(seen["other"], want)
    assert torch.equal(seen["ablated"], x)


@pytest.mark.parametrize("bad, words", [
    (["22"], "LAYER:MODE"), (["x:off"], "LAYER:MODE"), (["22:sideways"], "unknown ablation mode"),
    (["22:drop-top-0"], "k must be >= 1"),
])
def test_bad_specs_are_refused_with_the_reason(bad, words):
    with pytest.raises(ValueError, match=words):
        parse_blocks(bad)


def test_parse_accepts_the_documented_forms():
    spec = parse_blocks(["22:off", "26:Spatial-Only", "18:drop-top-k", "18:drop-top-16"])
    assert spec == {22: AblationMode("off"), 26: AblationMode("spatial-only"), 18: AblationMode("drop-top-k", 16)}
    assert AblationMode.parse("drop-top-k").k == 8


def test_a_layer_without_gam_is_refused_listing_the_blocks(tiny_model):
    with pytest.raises(ValueError, match=r"layer 17 is not a GAM block; GAM blocks: 18, 22, 26"):
        resolve_blocks(tiny_model, {17: "off"})
    assert set(gam_layers(tiny_model)) == {18, 22, 26}
    assert len(every_ablation(tiny_model)) == 3 * 5


def test_ablate_on_the_shipped_model_accounts_for_every_box(trained_model):
    frame = read_image(SAMPLE)
    res = ablate(trained_model, frame, {18: "off", 22: "off", 26: "off"}, conf=0.25, imgsz=384)
    assert res.blocks == {18: "off", 22: "off", 26: "off"}
    kept, lost, new = res.kept, res.lost, res.new
    assert len(kept) + len(lost) == len(res.before)
    assert len(kept) + len(new) == len(res.after)
    # switching every GAM block off changes the detections of a model trained with them
    assert len(res.before) >= 3
    assert [d.score for d in res.before] != [d.score for d in res.after]
    again = ablate(trained_model, frame, {22: "on"}, conf=0.25, imgsz=384)
    assert again.lost == [] and again.new == [] and all(m.delta == 0 for m in again.kept)
    assert again.summary().startswith(f"{len(again.before)} kept (mean +0.00), 0 lost, 0 new")
    assert "ablated" in res.timings and "reference" in res.timings


def _d(x1, y1, x2, y2, score, cls=0, name="circle"):
    return Detection((float(x1), float(y1), float(x2), float(y2)), score, cls, name)


def test_match_table_pairs_by_class_and_iou_greedy_by_score():
    a = [_d(0, 0, 10, 10, 0.9), _d(0, 0, 10, 10, 0.8, 1, "square"), _d(50, 50, 60, 60, 0.7)]
    # b: same box but the other class for the square; the circle's pair; an extra box
    b = [_d(1, 0, 11, 10, 0.6), _d(0, 0, 10, 10, 0.5, 2, "star"), _d(100, 100, 110, 110, 0.4)]
    m = match_detections(a, b)
    statuses = [(x.status, x.name) for x in m]
    assert statuses == [(KEPT, "circle"), (LOST, "square"), (LOST, "circle"), (NEW, "star"), (NEW, "circle")]
    assert m[0].score_a == 0.9 and m[0].score_b == 0.6 and m[0].delta == pytest.approx(-0.3)
    assert m[0].label() == "circle 0.90 -> 0.60"
    assert summarize(m) == "1 kept (mean -0.30), 2 lost, 2 new"


def test_match_iou_threshold_is_inclusive_at_one_half():
    a = [_d(0, 0, 10, 10, 0.9)]
    just_above = _d(0, 0, 10, 20 - 1e-3, 0.5)  # IoU = 100 / (200 - 0.01) > 0.5
    exactly = _d(0, 0, 20, 10, 0.5)  # IoU = 100 / 200
    just_below = _d(0, 0, 10, 20 + 1e-3, 0.5)
    assert match_detections(a, [just_above])[0].status == KEPT
    assert match_detections(a, [exactly])[0].status == KEPT
    assert [x.status for x in match_detections(a, [just_below])] == [LOST, NEW]


def test_match_ties_the_stronger_detection_chooses_first():
    # two before-boxes compete for one after-box: the stronger one gets it even if listed second
    a = [_d(0, 0, 10, 10, 0.6), _d(1, 1, 11, 11, 0.8)]
    b = [_d(0, 0, 10, 10, 0.7)]
    m = match_detections(a, b)
    assert m[0].status == KEPT and m[0].a.score == 0.8
    assert m[1].status == LOST and m[1].a.score == 0.6
    # equal IoU for two after-boxes: the stronger after-box is taken
    b2 = [_d(0, 0, 10, 10, 0.3), _d(0, 0, 10, 10, 0.5)]
    m2 = match_detections([_d(0, 0, 10, 10, 0.9)], b2)
    assert m2[0].b.score == 0.5 and m2[1].status == NEW and m2[1].b.score == 0.3


def test_match_of_empty_lists():
    assert match_detections([], []) == []
    assert [x.status for x in match_detections([_d(0, 0, 1, 1, 0.5)], [])] == [LOST]
    assert summarize([]) == "0 kept, 0 lost, 0 new"
    assert np.isclose(match_detections([], [_d(0, 0, 1, 1, 0.5)])[0].delta, 0.5)


def test_ablation_panels_replace_the_detections_panel(trained_model):
    from gam_gui.analysis import Settings, analyze_with
    from gam_gui.render import ablation_panels

    img = read_image(SAMPLE)
    s = Settings(imgsz=256)
    res = analyze_with(trained_model, img, s)
    ab = ablate(trained_model, img, {18: "off"}, imgsz=256, before=res.detections)
    ps = ablation_panels(img, res, ab, s)
    assert ps[0].title == "Ablation 18:off" and ps[0].subtitle == ab.summary()
    assert [p.key for p in ps[1:]] == ["cam", "gam_channel", "gam_spatial"]
