"""The model builder: the seed's YAML builds like the ultralytics builder; YAML args are data, not code."""

from __future__ import annotations

import pytest
import torch

from gam_gui.models.gam import GAM, GAM_Attention, channel_shuffle
from gam_gui.models.yolov5 import DetectionModel, ModelConfigError, load_yaml, parse_arg


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    "cfg,nc,expected",
    [("yolov5n_GAM", 3, 2_350_440), ("yolov5n_GAM", 80, 2_454_621), ("yolov5s_GAM", 80, 9_560_509)],
)
def test_parameter_counts_match_ultralytics(cfg, nc, expected):
    m = DetectionModel(cfg, nc=nc)
    assert n_params(m) == expected
    assert m.stride.tolist() == [8.0, 16.0, 32.0]


def test_gam_layers_sit_after_neck_c3_and_feed_detect():
    m = DetectionModel("yolov5n_GAM", nc=5)
    types = [type(layer).__name__ for layer in m.model]
    assert [i for i, t in enumerate(types) if t == "GAM"] == [18, 22, 26]
    assert m.model[-1].f == [18, 22, 26]


def test_depth_multiple_stacks_gam_blocks_in_sequential():
    d = load_yaml("yolov5n_GAM")
    d["depth_multiple"] = 0.67  # n=3 -> round(2.01) = 2 GAM blocks per layer, as ultralytics does
    m = DetectionModel(d, nc=2)
    layer = m.model[18]
    assert isinstance(layer, torch.nn.Sequential) and len(layer) == 2
    assert all(isinstance(b, GAM) for b in layer)
    m.eval()
    with torch.no_grad():
        assert m(torch.zeros(1, 3, 64, 64)).shape == (1, 3 * (8 * 8 + 4 * 4 + 2 * 2), 7)


def test_eval_output_contract():
    m = DetectionModel("yolov5n_GAM", nc=5).eval()
    with torch.no_grad():
        y = m(torch.rand(2, 3, 96, 128))
    assert y.shape == (2, 3 * (12 * 16 + 6 * 8 + 3 * 4), 10)
    assert float(y[..., 4:].min()) >= 0 and float(y[..., 4:].max()) <= 1  # after sigmoid
    assert float(y[..., 0].max()) <= 128 + 64  # centres in input pixels (may sit a bit outside)


def test_gam_seed_forward_matches_recipe():
    torch.manual_seed(0)
    g = GAM(16, 16).eval()
    x = torch.randn(2, 16, 5, 7)
    b, c, h, w = x.shape
    ca = g.channel_attention(x.permute(0, 2, 3, 1).reshape(b, -1, c)).view(b, h, w, c).permute(0, 3, 1, 2)
    y = x * ca
    sa = channel_shuffle(g.spatial_attention(y).sigmoid(), 4)
    assert torch.allclose(g(x), y * sa, atol=1e-6)
    # grouped spatial convs in the seed's block
    assert g.spatial_attention[0].groups == 4 and g.spatial_attention[3].groups == 4


def test_gam_attention_variant_has_channel_sigmoid_and_no_groups():
    g = GAM_Attention(16)
    assert g.gam_variant == "paper"
    assert g.spatial_attention[0].groups == 1
    x = torch.randn(1, 16, 4, 4)
    b, c, h, w = x.shape
    ca = g.channel_attention(x.permute(0, 2, 3, 1).reshape(b, -1, c)).view(b, h, w, c).permute(0, 3, 1, 2)
    y = x * ca.sigmoid()
    assert torch.allclose(g.eval()(x), y * g.spatial_attention(y).sigmoid(), atol=1e-6)


def test_channel_shuffle_is_shufflenet_interleave():
    x = torch.arange(8.0).view(1, 8, 1, 1)
    assert channel_shuffle(x, 4).flatten().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def test_yaml_strings_are_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    assert parse_arg(payload, {}) == payload  # stays an inert string
    d = load_yaml("yolov5n_GAM")
    d["backbone"][0][2] = "__import__('os').system"
    with pytest.raises(ModelConfigError, match="unknown block"):
        DetectionModel(d)
    d = load_yaml("yolov5n_GAM")
    d["head"][1][3] = [payload, 2, "nearest"]
    with pytest.raises(ModelConfigError):
        DetectionModel(d)
    assert not marker.exists()


def test_parse_arg_literals_names_and_nn_calls():
    assert parse_arg("None", {}) is None
    assert parse_arg("nearest", {}) == "nearest"
    assert parse_arg("nc", {"nc": 7}) == 7
    act = parse_arg("nn.LeakyReLU(0.1)", {})
    assert isinstance(act, torch.nn.LeakyReLU) and act.negative_slope == pytest.approx(0.1)
    with pytest.raises(ModelConfigError):
        parse_arg("nn.LeakyReLU(__import__('os'))", {})
