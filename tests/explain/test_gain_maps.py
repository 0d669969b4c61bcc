"""GAM gain maps: log2 of the feature energy after / before the block (or one branch), per pixel,
recorded from the block's own input and output; and one channel's map before and after the block."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from gam_gui.explain.attention import GamRecorder
from gam_gui.models.gam import GAM, GAM_Attention


class OneBlock(nn.Module):
    """A layer-list model holding one GAM block (what ``find_gam_blocks`` looks for)."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.model = nn.Sequential(block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def known_gates(block: GAM, channel_bias: torch.Tensor, spatial_bias: float) -> GAM:
    """Make the gates constant over pixels: the channel MLP's output is its last bias, the spatial
    branch's output its last BatchNorm's bias."""
    with torch.no_grad():
        block.channel_attention[2].weight.zero_()
        block.channel_attention[2].bias.copy_(channel_bias)
        bn = block.spatial_attention[4]
        block.spatial_attention[3].weight.zero_()
        block.spatial_attention[3].bias.zero_()
        bn.weight.zero_()
        bn.bias.fill_(spatial_bias)
    return block.eval()


def record(block: nn.Module, x: torch.Tensor):
    model = OneBlock(block).eval()
    with GamRecorder(model) as rec, torch.no_grad():
        out = model(x)
    g = rec.maps(lambda m: np.asarray(m, np.float32))[0]  # identity alignment: feature resolution
    return g, out


def test_gain_of_a_block_with_known_gates():
    torch.manual_seed(0)
    c = 8
    x = torch.randn(1, c, 6, 7)
    block = known_gates(GAM_Attention(c), torch.full((c,), 0.7), -0.4)  # paper: sigmoid on both gates
    g, out = record(block, x)
    cg, sg = torch.sigmoid(torch.tensor(0.7)).item(), torch.sigmoid(torch.tensor(-0.4)).item()
    assert np.allclose(g.gain("channel"), np.log2(cg), atol=1e-5)
    assert np.allclose(g.gain("spatial"), np.log2(sg), atol=1e-5)
    assert np.allclose(g.gain("block"), np.log2(cg * sg), atol=1e-5)
    # and it is ||out|| / ||in|| of what the block really returned
    ratio = (out[0].norm(dim=0) / x[0].norm(dim=0)).numpy()
    assert np.allclose(2.0 ** g.gain("block"), ratio, rtol=1e-4)


def test_gain_equals_energy_ratio_with_per_channel_signed_gates():
    """The seed variant: an unbounded, signed channel gate that differs per channel; the branch gains
    are the energy ratios, and they add up (in log2) to the block's."""
    torch.manual_seed(1)
    c = 16  # the seed's grouped spatial convs need c // 4 divisible by 4
    x = torch.randn(1, c, 5, 5)
    bias = torch.linspace(-2.0, 3.0, c)
    block = known_gates(GAM(c, c), bias, 1.2)
    g, out = record(block, x)
    assert g.variant == "seed" and g.channel_signed
    y = x * bias.view(1, c, 1, 1)
    expect_ch = np.log2((y[0].norm(dim=0) / x[0].norm(dim=0)).numpy())
    assert np.allclose(g.gain("channel"), expect_ch, atol=1e-4)
    expect_block = np.log2((out[0].norm(dim=0) / x[0].norm(dim=0)).numpy())
    assert np.allclose(g.gain("block"), expect_block, atol=1e-4)
    assert np.allclose(g.gain("block"), g.gain("channel") + g.gain("spatial"), atol=1e-4)
    # the channel weights of the chart are the gate itself (constant over pixels here)
    assert np.allclose(g.channel_weights, bias.numpy(), atol=1e-5)


def test_channel_feature_is_that_channel_before_and_after():
    torch.manual_seed(2)
    c = 16
    x = torch.randn(1, c, 4, 6)
    g, out = record(known_gates(GAM(c, c), torch.linspace(-1, 1, c), 0.0), x)
    for k in (0, 5):
        before, after = g.channel_feature(k)
        assert np.allclose(before, x[0, k].numpy()) and np.allclose(after, out[0, k].numpy())
    with pytest.raises(IndexError):
        g.channel_feature(c)


def test_gains_through_analyze_are_frame_sized_and_survive_pickling(tiny_model, frame):
    from gam_gui.analysis import analyze

    res = analyze(tiny_model, frame, method="none", imgsz=128, conf=0.001)
    g = res.gam_for(None)
    assert g.has_features
    gains = {k: g.gain(k) for k in ("block", "channel", "spatial")}
    assert all(m.shape == frame.shape[:2] for m in gains.values())
    small = {k: g.gain_small(k) for k in gains}
    assert np.allclose(small["block"], small["channel"] + small["spatial"], atol=1e-4)
    back = pickle.loads(pickle.dumps(g))
    assert np.array_equal(back.gain("block"), gains["block"])
    assert back.value_range("spatial") == pytest.approx(g.value_range("spatial"))
