"""YOLOv7 support: the stock YAMLs build like YOLOv7's builder, YOLOv7 ``train.py`` checkpoints load without
the repo and compute what YOLOv7 computes, hostile ones are refused, and detect / analyze / export work.

The checkpoints are written by the stand-ins in ``standins_v7.py`` (YOLOv7's class paths, attribute
layout and forward, in-place IDetect included) from a YOLOv7-tiny-GAM at a quarter of the width.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import zipfile

import cv2
import numpy as np
import pytest
import torch
from standins_v7 import SPPCSPC as V7SPPCSPC
from standins_v7 import RepConv as V7RepConv
from standins_v7 import (
    to_yolov7,
    write_yolov7_checkpoint,
    yolov7_dict,
    yolov7_fused,
    yolov7_modules,
    yolov7x_dict,
)

import gam_gui
from gam_gui.analysis import analyze
from gam_gui.checkpoints import CheckpointError, load_model, save_model
from gam_gui.explain.cams import METHODS, YoloTarget
from gam_gui.inference import non_max_suppression
from gam_gui.models.common import Conv
from gam_gui.models.gam import GAM
from gam_gui.models.yolov5 import Detect, DetectionModel, load_yaml, parse_model
from gam_gui.models.yolov7 import MP, SP, SPPCSPC, DetectV7, IDetect, ImplicitA, ImplicitM, RepConv, fuse_repconv

NAMES = {0: "circle", 1: "triangle", 2: "square"}
IMGSZ = 128

# A small YOLOv7-style model with the blocks the tiny model lacks: RepConv (with and without the
# identity branch), SPPCSPC, MP, SP, a plain Detect, GAM in the head.
MINI_V7 = {
    "nc": 3, "depth_multiple": 1.0, "width_multiple": 1.0,
    "anchors": [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]],
    "backbone": [
        [-1, 1, "Conv", [16, 3, 2]],  # 0 P1/2
        [-1, 1, "Conv", [32, 3, 2]],  # 1 P2/4
        [-1, 1, "MP", []],  # 2 P3/8
        [-1, 1, "Conv", [32, 1, 1]],  # 3
        [-3, 1, "Conv", [32, 3, 2]],  # 4
        [[-1, -2], 1, "Concat", [1]],  # 5
        [-1, 1, "RepConv", [64, 3, 1]],  # 6 identity branch
        [-1, 1, "Conv", [64, 3, 2]],  # 7 P4/16
        [-1, 1, "RepConv", [96, 3, 1]],  # 8
        [-1, 1, "MP", []],  # 9 P5/32
        [-1, 1, "SPPCSPC", [64]],  # 10
    ],
    "head": [
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],  # 11
        [[-1, 8], 1, "Concat", [1]],  # 12
        [-1, 1, "Conv", [64, 1, 1, None, 1, "nn.LeakyReLU(0.1)"]],  # 13
        [-1, 1, "SP", [5]],  # 14
        [6, 1, "RepConv", [32, 3, 1]],  # 15
        [14, 1, "RepConv", [64, 3, 1]],  # 16 identity branch
        [10, 1, "RepConv", [128, 3, 1]],  # 17
        [15, 1, "GAM", [32, 32]],  # 18
        [[18, 16, 17], 1, "Detect", ["nc", "anchors"]],  # 19
    ],
}


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / (b.abs() + 1e-3)).max())


def randomized(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial BatchNorm statistics and affine terms and implicit layers, so they all matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)
            elif isinstance(m, ImplicitA):
                m.implicit.copy_(torch.randn(m.implicit.shape, generator=g) * 0.2)
            elif isinstance(m, ImplicitM):
                m.implicit.copy_(1 + torch.randn(m.implicit.shape, generator=g) * 0.2)
    return model


def tiny_gam(width: float = 0.25, nc: int = 3, seed: int = 0) -> DetectionModel:
    d = load_yaml("yolov7-tiny_GAM")
    d["width_multiple"] = width
    torch.manual_seed(seed)
    m = randomized(DetectionModel(d, nc=nc), seed).eval()
    with torch.no_grad():  # a confident untrained model, so that there are boxes to explain
        for conv in m.model[-1].m:
            conv.bias.view(m.model[-1].na, -1)[:, 4] += 6
    m.names = dict(NAMES)
    return m


def stock_tiny(nc: int = 80, head: str = "IDetect") -> dict:
    """YOLOv7-tiny (cfg/training/yolov7-tiny.yaml): the shipped YAML without its three GAM layers."""
    d = load_yaml("yolov7-tiny_GAM")
    d["nc"] = nc
    d["head"] = [row for row in d["head"] if row[2] != "GAM"]
    d["head"][-1] = [[74, 75, 76], 1, head, ["nc", "anchors"]]
    return d


def built_params(d: dict) -> int:
    seq, _ = parse_model(copy.deepcopy(d), [3])
    return n_params(seq)


@pytest.fixture(scope="module")
def model() -> DetectionModel:
    return tiny_gam()


@pytest.fixture(scope="module")
def ckpt(model, tmp_path_factory):
    """A full YOLOv7 train.py checkpoint of the tiny GAM model and the YOLOv7 reference model."""
    path = tmp_path_factory.mktemp("v7") / "last.pt"
    return path, write_yolov7_checkpoint(model, path)


@pytest.fixture(scope="module")
def loaded(ckpt):
    return load_model(ckpt[0], device="cpu")


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    from gam_gui.data.shapes import render_sample

    return render_sample(7, (150, 200)).image


# ---------------------------------------------------------------------------------------------------
# Building


def test_stock_parameter_counts():
    # Numbers YOLOv7's own builder printed (WongKinYiu/yolov7 issues 504, 1085 and 958).
    assert built_params(yolov7_dict(80, "Detect")) == 37_620_125  # cfg/deploy/yolov7.yaml
    assert built_params(yolov7_dict(16, "IDetect")) == 37_277_466  # cfg/training/yolov7.yaml, nc=16
    assert built_params(yolov7_dict(16, "Detect")) == 37_275_485
    assert built_params(stock_tiny(4, "Detect")) == 6_022_129  # yolov7-tiny layers, 4 classes, Detect
    # The README's rounded sizes for the COCO (nc=80) models.
    assert round(built_params(stock_tiny(80)) / 1e6, 1) == 6.2
    assert round(built_params(yolov7x_dict(80)) / 1e6, 1) == 71.3


def test_tiny_gam_yaml_builds_with_gam_feeding_idetect():
    m = DetectionModel("yolov7-tiny_GAM", nc=80)
    assert [i for i, layer in enumerate(m.model) if isinstance(layer, GAM)] == [77, 78, 79]
    head = m.model[-1]
    assert type(head) is IDetect and head.f == [77, 78, 79]
    assert n_params(m) == built_params(stock_tiny(80)) + sum(n_params(m.model[i]) for i in (77, 78, 79))
    assert m.stride.tolist() == [8.0, 16.0, 32.0]
    # YOLOv7 layout: anchors in grid units, anchor_grid buffer in pixels
    assert head.anchor_grid.shape == (3, 1, 3, 1, 1, 2)
    assert head.anchor_grid.view(-1).tolist()[:6] == [10, 13, 16, 30, 33, 23]
    assert torch.allclose(head.anchors * m.stride.view(-1, 1, 1), head.anchor_grid.view(3, 3, 2))
    convs = [c for c in m.modules() if isinstance(c, Conv)]
    assert all(isinstance(c.act, torch.nn.LeakyReLU) and c.act.negative_slope == 0.1 for c in convs)
    assert all(c.conv.dilation == (1, 1) for c in convs)
    assert isinstance(m.model[8], MP) and isinstance(m.model[31], SP)
    m.eval()
    with torch.no_grad():
        y = m(torch.rand(2, 3, 96, 128))
    assert y.shape == (2, 3 * (12 * 16 + 6 * 8 + 3 * 4), 85)
    assert float(y[..., 4:].min()) >= 0 and float(y[..., 4:].max()) <= 1
    m.train()
    raw = m(torch.rand(1, 3, 64, 64))
    assert [tuple(r.shape) for r in raw] == [(1, 3, 8, 8, 85), (1, 3, 4, 4, 85), (1, 3, 2, 2, 85)]


def test_mini_v7_yaml_builds_every_block():
    m = DetectionModel(copy.deepcopy(MINI_V7))
    kinds = {type(layer) for layer in m.model}
    assert {MP, SP, SPPCSPC, RepConv, GAM, DetectV7} <= kinds
    assert m.model[6].rbr_identity is not None and m.model[8].rbr_identity is None
    assert type(m.model[-1]) is DetectV7 and m.model[-1].anchor_grid.shape == (3, 1, 3, 1, 1, 2)


def test_bare_conv2d_is_channel_scaled_only_in_yolov7_yamls():
    anchors = [[10, 13, 16, 30, 33, 23]]
    v7 = {"nc": 1, "anchors": anchors, "width_multiple": 0.5, "depth_multiple": 1.0,
          "backbone": [[-1, 1, "Conv", [32, 3, 2]], [-1, 1, "nn.Conv2d", [64, 3, 2, 1]], [-1, 1, "MP", []]],
          "head": [[[-1], 1, "IDetect", ["nc", "anchors"]]]}
    seq, _ = parse_model(copy.deepcopy(v7), [3])
    conv = seq[1]
    assert (conv.in_channels, conv.out_channels, conv.stride, conv.padding) == (16, 32, (2, 2), (1, 1))
    v5 = copy.deepcopy(v7)  # ultralytics' parse_model passes a bare nn.Conv2d its arguments as written
    v5["backbone"] = [[-1, 1, "Conv", [32, 3, 2]], [-1, 1, "nn.Conv2d", [16, 24, 3, 2, 1]]]
    v5["head"] = [[[-1], 1, "Detect", ["nc", "anchors"]]]
    seq, _ = parse_model(v5, [3])
    assert (seq[1].in_channels, seq[1].out_channels) == (16, 24) and type(seq[-1]) is Detect


def test_conv_takes_yolov7_and_ultralytics_argument_orders():
    c = Conv(3, 8, 3, 2, None, 1, torch.nn.LeakyReLU(0.1))  # YOLOv7: (..., g, act)
    assert isinstance(c.act, torch.nn.LeakyReLU) and c.conv.dilation == (1, 1)
    assert isinstance(Conv(3, 8, 1, 1, None, 1, False).act, torch.nn.Identity)
    assert isinstance(Conv(3, 8, 1, 1, None, 1, True).act, torch.nn.SiLU)
    c = Conv(3, 8, 3, 1, None, 1, 2)  # ultralytics v7.0: (..., g, d, act)
    assert c.conv.dilation == (2, 2) and c.conv.padding == (2, 2) and isinstance(c.act, torch.nn.SiLU)


def test_yolov5_yaml_is_not_treated_as_yolov7():
    d = load_yaml("yolov5n_GAM")
    m = DetectionModel(d, nc=3)
    assert type(m.model[-1]) is Detect and "anchor_grid" not in m.model[-1]._buffers


@pytest.mark.parametrize("c1,c2,s", [(8, 8, 1), (8, 16, 1), (8, 16, 2)])
def test_repconv_fused_equals_training_form(c1, c2, s):
    torch.manual_seed(c2 + s)
    block = randomized(RepConv(c1, c2, 3, s, act=torch.nn.LeakyReLU(0.1)), c2).eval()
    assert (block.rbr_identity is not None) == (c1 == c2 and s == 1)
    x = torch.randn(2, c1, 12, 10)
    with torch.no_grad():
        y = block(x)
        # YOLOv7's own fuse_repvgg_block on the same weights
        v7 = copy.deepcopy(block)
        v7.__class__ = V7RepConv
        v7.fuse_repvgg_block()
        fused = block.fuse()
        assert fused is block and block.deploy and block.rbr_dense is None and block.rbr_1x1 is None
        torch.testing.assert_close(block(x), y, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(block.rbr_reparam.weight, v7.rbr_reparam.weight, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(block.rbr_reparam.bias, v7.rbr_reparam.bias, rtol=1e-5, atol=1e-6)
    deploy = RepConv(c1, c2, 3, s, deploy=True)
    assert set(deploy.state_dict()) == set(block.state_dict()) == {"rbr_reparam.weight", "rbr_reparam.bias"}


def test_sppcspc_matches_yolov7_forward():
    torch.manual_seed(3)
    block = randomized(SPPCSPC(32, 16), 3).eval()
    ref = copy.deepcopy(block)
    ref.__class__ = V7SPPCSPC
    x = torch.randn(1, 32, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(block(x), ref(x))


# ---------------------------------------------------------------------------------------------------
# Checkpoints


def check_against_yolov7(net: torch.nn.Module, reference: torch.nn.Module, shape=(1, 3, 128, 160)) -> None:
    """``net`` agrees with YOLOv7's forward of the same file, unfused and fused (attempt_load)."""
    torch.manual_seed(5)
    x = torch.rand(*shape)
    with torch.no_grad():
        y = net(x)
        ref = reference(x.clone())[0]
        fused = yolov7_fused(reference)(x.clone())[0]
    h, w = shape[2:]
    assert y.shape == ref.shape == (1, 3 * (h * w // 64 + h * w // 256 + h * w // 1024), 5 + len(NAMES))
    assert rel_err(y, ref) < 1e-3
    assert rel_err(y, fused) < 1e-3


@pytest.mark.parametrize("stripped", [False, True])
def test_yolov7_checkpoint_round_trip(model, tmp_path, stripped):
    path = tmp_path / "best.pt"
    reference = write_yolov7_checkpoint(model, path, stripped=stripped)
    raw = zipfile.ZipFile(path).read(next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("data.pkl")))
    assert b"models.yolo" in raw and b"IDetect" in raw and b"ImplicitA" in raw
    assert "models" not in sys.modules  # the repo is absent when loading
    net = load_model(path, device="cpu")
    assert "models" not in sys.modules
    assert not net.training and next(net.parameters()).dtype == torch.float32
    assert net.names == NAMES and net.nc == 3
    assert net.stride.tolist() == [8, 16, 32]
    assert type(net.model[-1]) is IDetect
    assert sum(isinstance(b, GAM) for b in net.modules()) == 3
    assert all(not m.inplace for m in net.modules() if isinstance(m, torch.nn.LeakyReLU))
    check_against_yolov7(net, reference)


def test_loaded_model_matches_the_gam_gui_model(model, loaded):
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        assert rel_err(loaded(x), copy.deepcopy(model).half().float()(x)) < 1e-3


def test_repconv_sppcspc_detect_checkpoint_unfused_and_fused(tmp_path):
    torch.manual_seed(4)
    m = randomized(DetectionModel(copy.deepcopy(MINI_V7)), 4).eval()
    m.names = dict(NAMES)
    for fused in (False, True):
        path = tmp_path / f"mini_{fused}.pt"
        src = copy.deepcopy(m)
        if fused:  # the re-parameterised layout YOLOv7's fuse_repvgg_block pickles
            assert fuse_repconv(src) == 5
        reference = write_yolov7_checkpoint(src, path)
        net = load_model(path, device="cpu")
        reps = [b for b in net.modules() if isinstance(b, RepConv)]
        assert len(reps) == 5
        assert all((getattr(b, "rbr_reparam", None) is not None) == fused for b in reps)
        assert type(net.model[-1]) is Detect and net.model[-1]._buffers["anchor_grid"].dim() == 6
        check_against_yolov7(net, reference, (1, 3, 96, 128))
    # the unfused and fused files compute the same thing
    a, b = load_model(tmp_path / "mini_False.pt", device="cpu"), load_model(tmp_path / "mini_True.pt", device="cpu")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert rel_err(a(x), b(x)) < 1e-3


def test_decoding_uses_the_anchor_grid_buffer(model, tmp_path):
    """YOLOv7 decodes with ``anchor_grid`` (updated by autoanchor), not ``anchors * stride``."""
    path = tmp_path / "autoanchor.pt"
    src = copy.deepcopy(model)
    head = src.model[-1]
    with torch.no_grad():
        head.anchor_grid.mul_(1.37)  # what check_anchors writes after k-means ...
        head.anchors.copy_(head.anchor_grid.view(3, 3, 2) / head.stride.view(-1, 1, 1))  # ... and this
        head.anchors.add_(0.01)  # an fp16 rounding-like disagreement: anchor_grid must win
    reference = write_yolov7_checkpoint(src, path, stripped=True)
    check_against_yolov7(load_model(path, device="cpu"), reference)


def test_own_format_round_trip_of_a_yolov7_model(loaded, tmp_path):
    path = save_model(loaded, tmp_path / "own.pt", imgsz=IMGSZ)
    again = load_model(path, device="cpu")
    assert type(again.model[-1]) is IDetect and again.names == NAMES
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        assert rel_err(again(x), loaded(x)) < 1e-3


def test_numpy_1x_best_fitness_names_are_accepted(ckpt, tmp_path):
    """Files written under numpy 1.x name ``numpy.core.multiarray``; numpy 2 ``numpy._core``."""
    out = io.BytesIO()
    with zipfile.ZipFile(ckpt[0]) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            blob = zin.read(item.filename)
            if item.filename.endswith("data.pkl"):
                assert b"numpy._core.multiarray" in blob
                blob = blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
            zout.writestr(item, blob)
    path = tmp_path / "np1.pt"
    path.write_bytes(out.getvalue())
    net = load_model(path, device="cpu")
    assert type(net.model[-1]) is IDetect


class Payload:
    """Pickles as a call of ``fn(*args)``: what a malicious checkpoint does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args

    def __deepcopy__(self, memo):  # copying the model while writing must not run it either
        return self


@pytest.mark.parametrize("where", ["model.hyp", "model.idetect", "training_results", "best_fitness"])
def test_hostile_payload_nested_in_yolov7_checkpoint_is_refused(model, tmp_path, where):
    marker = tmp_path / "ran"
    payload = Payload(os.system, f"touch {marker}")
    path = tmp_path / "evil.pt"
    src = copy.deepcopy(model)
    model_extra, extra = {}, {}
    if where == "model.hyp":
        model_extra = {"hyp": {"lr0": 0.01, "fl_gamma": payload}}
    elif where == "model.idetect":
        src.model[-1].grid_cache = [payload]
    elif where == "training_results":
        extra = {"training_results": payload}
    else:
        extra = {"best_fitness": np.array([payload], dtype=object)}
    write_yolov7_checkpoint(src, path, extra=extra, model_extra=model_extra)
    assert not marker.exists()
    with pytest.raises(CheckpointError) as ei:
        load_model(path, device="cpu")
    assert not marker.exists()
    if where != "best_fitness":  # an object array is refused at its dtype, before the payload is read
        assert "system" in str(ei.value) and "Nothing from it was executed" in str(ei.value)


def test_unknown_yolov7_block_is_named(model, tmp_path):
    class DownC(torch.nn.Module):  # a YOLOv7-E6 block gam-gui does not know
        def forward(self, x):
            return x

    path = tmp_path / "downc.pt"
    v7 = to_yolov7(model)
    v7.model[8].__class__ = DownC  # an MP layer pickled as DownC
    with yolov7_modules():
        sys.modules["models.common"].DownC = DownC
        DownC.__module__, DownC.__qualname__ = "models.common", "DownC"
        torch.save({"model": v7.half(), "epoch": -1}, path)
    with pytest.raises(CheckpointError) as ei:
        load_model(path, device="cpu")
    # named when the core's message parser finds the global's name; refused either way
    assert "DownC" in str(ei.value) or "refused" in str(ei.value)


# ---------------------------------------------------------------------------------------------------
# Downstream: detect, analyze, export


def test_gradients_flow_through_idetect(loaded):
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    y = loaded(x)
    (y[0, :, 4] * y[0, :, 5]).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    loaded.zero_grad(set_to_none=True)


def test_detect_agrees_with_yolov7_nms(loaded, ckpt, frame):
    dets = gam_gui.detect(loaded, frame, conf=0.02, imgsz=IMGSZ)
    assert dets, "the randomised model should give some boxes at conf=0.02"
    from gam_gui.inference import preprocess

    x, _ = preprocess(loaded, frame, IMGSZ)
    with torch.no_grad():
        ref = non_max_suppression(ckpt[1](x.clone())[0], 0.02, 0.45)[0]
    assert len(ref) == len(dets)
    assert [d.cls for d in dets] == ref[:, 5].long().tolist()
    np.testing.assert_allclose([d.score for d in dets], ref[:, 4].tolist(), rtol=1e-3)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_analyze_every_cam_method(loaded, frame, method):
    res = analyze(loaded, frame, method=method, conf=0.02, imgsz=IMGSZ)
    assert res.layers == (77, 78, 79)  # the GAM blocks by default
    assert [g.index for g in res.gam] == [77, 78, 79]
    for g in res.gam:
        assert g.channel.shape == g.spatial.shape == frame.shape[:2]
    if method == "none":
        assert res.cam is None
    else:
        assert res.cam is not None and res.cam.shape == frame.shape[:2]
        assert res.cam.dtype == np.float32 and 0 <= res.cam.min() and res.cam.max() <= 1
        assert np.isfinite(res.cam).all()


@pytest.mark.parametrize("target", ["all", "class", "box", 0, 1, "cls:2"])
def test_analyze_targets_and_layers(loaded, frame, target):
    res = analyze(loaded, frame, method="gradcam", target=target, conf=0.02, imgsz=IMGSZ, layers=(76, 79))
    assert res.layers == (76, 79) and res.cam.shape == frame.shape[:2]
    dets = gam_gui.detect(loaded, frame, conf=0.02, imgsz=IMGSZ)
    assert [d.cls for d in res.detections] == [d.cls for d in dets]
    np.testing.assert_allclose([d.score for d in res.detections], [d.score for d in dets], rtol=1e-5)
    if isinstance(target, int):
        assert res.target == f"detection #{target}"


@pytest.mark.parametrize("mode", ["all", "class"])
def test_closed_form_head_gradient_through_implicit_m(loaded, frame, mode):
    """IDetect multiplies the conv output by ImplicitM before the sigmoid: the closed-form start of
    the backward (what analyze uses for all/class targets) scales by it and equals autograd."""
    from conftest import head_input_gradients

    from gam_gui.heads import adapter_for
    from gam_gui.inference import preprocess

    scales = adapter_for(loaded).logit_scales
    assert scales is not None and all(s is not None and s.shape[1] == loaded.model[-1].no * 3 for s in scales)
    assert any(float((s.detach() - 1).abs().max()) > 1e-3 for s in scales)  # the multiplier really matters
    x, _ = preprocess(loaded, frame, IMGSZ)
    with torch.no_grad():
        det = non_max_suppression(loaded(x), 0.001, 0.45)[0][:40]
    auto, closed = head_input_gradients(loaded, x, YoloTarget(det[:, 6].long(), det[:, 5].long(), mode))
    assert sum(float(a.abs().max() > 0) for a in auto) >= 2
    for a, c in zip(auto, closed, strict=True):
        assert torch.allclose(a, c, rtol=1e-5, atol=1e-6 * float(a.abs().max()))  # float64 vs float32 sums


def test_analyze_rejects_a_missing_detection_index(loaded, frame):
    with pytest.raises(ValueError, match="the frame has"):
        analyze(loaded, frame, target=10_000, conf=0.02, imgsz=IMGSZ)


def test_export_cli_with_yolov7_weights(ckpt, frame, tmp_path, capsys):
    from gam_gui.cli import main

    img = tmp_path / "shapes.png"
    cv2.imwrite(str(img), frame)
    out = tmp_path / "out"
    rc = main(["export", "--source", str(img), "--out", str(out), "--weights", str(ckpt[0]), "--imgsz", str(IMGSZ),
               "--conf", "0.02", "--device", "cpu", "--method", "eigencam"])
    assert rc == 0, capsys.readouterr().err
    assert (out / "shapes_panels.png").exists() and (out / "detections.csv").exists()
    meta = json.loads((out / "detections.json").read_text())
    assert meta["frames"][0]["method"] == "EigenCAM"
    panels = cv2.imread(str(out / "shapes_panels.png"))
    assert panels is not None and panels.shape[0] >= frame.shape[0]
    assert main(["layers", "--weights", str(ckpt[0]), "--imgsz", "64"]) == 0
    listing = capsys.readouterr().out
    assert "IDetect" in listing and "[GAM]" in listing
