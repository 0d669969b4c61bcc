"""The fast paths of analyze() give pytorch-grad-cam's maps: the split backward, the batched
per-detection CAMs, the one-accumulator aggregation, the QR-based EigenCAM projection, the lazy GAM
maps and the per-model cache. Each is compared with the stock library (or the straightforward
computation it replaces) on the same layers and targets."""

from __future__ import annotations

import gc
import pickle
import weakref

import numpy as np
import pytest
import torch
from conftest import head_input_gradients
from pytorch_grad_cam import EigenCAM, EigenGradCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, XGradCAM
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

import gam_gui
from gam_gui.analysis import analyze, per_detection_cams
from gam_gui.explain import engine as engine_mod
from gam_gui.explain.attention import GamMaps, GamRecorder
from gam_gui.explain.cams import HeadCapture, YoloTarget, cam_batch, top_component_projection
from gam_gui.heads import HeadAdapter
from gam_gui.inference import non_max_suppression, preprocess
from gam_gui.models.gam import VARIANTS, channel_shuffle

IMGSZ = 256
GAM_LAYERS = (18, 22, 26)
STOCK = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM, "hirescam": HiResCAM,
         "layercam": LayerCAM, "eigencam": EigenCAM, "eigengradcam": EigenGradCAM}
TOL = {"gradcam++": 1e-4}  # its weights use grads ** 3: more rounding than the others
LOW = 1e-4  # the untrained model's stride-8/16 scores are tiny: this keeps boxes on every level


def stock_box_cam(cls, model, frame, layers, rows, classes, mode="all", imgsz=IMGSZ):
    """pytorch-grad-cam's own call for these prediction rows, aligned to the frame and unit-scaled."""
    x, lb = preprocess(model, frame, imgsz)
    with cls(model=model, target_layers=[model.model[i] for i in layers]) as cam:
        g = cam(input_tensor=x, targets=[YoloTarget(rows, classes, mode)])[0]
    model.zero_grad(set_to_none=True)
    m = np.maximum(lb.map_to_frame(g), 0)
    return m / m.max() if m.max() > 0 else m


def detections(model, frame, conf=0.001, imgsz=IMGSZ):
    x, _ = preprocess(model, frame, imgsz)
    with torch.no_grad():
        return non_max_suppression(model(x), conf, 0.45)[0], x


def level_of_rows(model, x, rows):
    """Head level of each prediction row (rows are stored level by level)."""
    head = model.model[-1]
    sizes, s = [], 0
    for st in head.stride.tolist():
        h, w = x.shape[2] // int(st), x.shape[3] // int(st)
        s += head.na * h * w
        sizes.append(s)
    return [next(j for j, e in enumerate(sizes) if r < e) for r in rows.tolist()]


def indices_on_every_level(model, frame, per_level=1):
    det, x = detections(model, frame, LOW)
    levels = level_of_rows(model, x, det[:, 6].long())
    chosen = []
    for j in range(3):
        chosen += [i for i, lv in enumerate(levels) if lv == j][:per_level]
    assert len({levels[i] for i in chosen}) == 3, "the test frame should give boxes on all three levels"
    return chosen, det


# -- EigenCAM projection ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_top_component_projection_equals_library_on_every_svd_path(seed):
    rng = np.random.default_rng(seed)
    # tall (QR path), just under and over gesdd's 11/6 thresholds, square-ish, wide (LQ path)
    for c, h, w in [(16, 20, 30), (64, 8, 14), (64, 9, 13), (32, 6, 6), (128, 4, 5), (8, 1, 1), (3, 7, 1),
                    (256, 8, 10), (256, 10, 14), (256, 10, 13), (128, 10, 7), (64, 6, 6), (37, 2, 3)]:
        a = (rng.normal(size=(2, c, h, w)) * rng.random((1, c, 1, 1)) * 4 + rng.normal()).astype(np.float32)
        ref = get_2d_projection(a)
        got = top_component_projection(a)
        assert got.dtype == np.float32 and got.shape == ref.shape
        scale = np.abs(ref).max() + 1e-12
        assert np.abs(got - ref).max() / scale < 1e-4, (c, h, w)


def test_top_component_projection_handles_nan():
    a = np.random.default_rng(1).normal(size=(1, 8, 10, 10)).astype(np.float32)
    a[0, 2, 3, 4] = np.nan
    np.testing.assert_allclose(top_component_projection(a), get_2d_projection(a), atol=1e-4)


@pytest.mark.parametrize("method,layers", [("eigencam", GAM_LAYERS), ("eigengradcam", (22,)),
                                           ("eigengradcam", GAM_LAYERS)])
def test_fast_eigen_methods_equal_library(tiny_model, frame, method, layers):
    det, _ = detections(tiny_model, frame)
    res = analyze(tiny_model, frame, method, layers=layers, conf=0.001, imgsz=IMGSZ)
    ref = stock_box_cam(STOCK[method], tiny_model, frame, layers, det[:, 6].long(), det[:, 5].long())
    assert np.abs(res.cam - ref).max() < 1e-4


# -- one CAM, split backward --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "xgradcam", "hirescam", "layercam"])
@pytest.mark.parametrize("mode", ["all", "box"])
def test_all_targets_cam_equals_library(tiny_model, frame, method, mode):
    det, _ = detections(tiny_model, frame, LOW)  # boxes on all three levels
    res = analyze(tiny_model, frame, method, target=mode, conf=LOW, imgsz=IMGSZ)
    ref = stock_box_cam(STOCK[method], tiny_model, frame, GAM_LAYERS, det[:, 6].long(), det[:, 5].long(), mode)
    assert np.abs(res.cam - ref).max() < TOL.get(method, 1e-5)


def test_generic_backward_equals_head_split(tiny_model, frame, monkeypatch):
    fast = analyze(tiny_model, frame, "gradcam", conf=LOW, imgsz=IMGSZ).cam
    monkeypatch.setattr(HeadCapture, "locate", lambda self, out, rows: None)  # an unknown head
    generic = analyze(tiny_model, frame, "gradcam", conf=LOW, imgsz=IMGSZ).cam
    monkeypatch.setattr(engine_mod, "adapter_for", lambda model: HeadAdapter())  # no head structure at all
    engine_mod._ENGINES.clear()
    plain = analyze(tiny_model, frame, "gradcam", conf=LOW, imgsz=IMGSZ).cam
    engine_mod._ENGINES.clear()
    assert np.abs(fast - generic).max() < 1e-5 and np.abs(fast - plain).max() < 1e-5


def test_inference_prefix_fallback_for_a_single_late_layer(tiny_model, frame):
    """With only layer 26 chosen, the head's stride-8 conv would save an inference-mode tensor:
    the forward is redone under no_grad once, and the choice remembered."""
    det, _ = detections(tiny_model, frame)
    plan = engine_mod.explainer(tiny_model)
    plan.no_inference_prefix.discard((26,))
    res = analyze(tiny_model, frame, "gradcam", layers=[26], conf=0.001, imgsz=IMGSZ)
    assert (26,) in plan.no_inference_prefix
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    again = analyze(tiny_model, frame, "gradcam", layers=[26], conf=0.001, imgsz=IMGSZ)
    ref = stock_box_cam(GradCAM, tiny_model, frame, (26,), det[:, 6].long(), det[:, 5].long())
    assert np.abs(res.cam - ref).max() < 1e-5 and np.array_equal(res.cam, again.cam)
    assert res.detections == again.detections == gam_gui.detect(tiny_model, frame, conf=0.001, imgsz=IMGSZ)


@pytest.mark.parametrize("imgsz", [96, 512])  # a network input smaller, and larger, than the frame
def test_frame_cam_is_unit_scaled_without_negative_zeros(trained_model, frame, imgsz):
    res = analyze(trained_model, frame, "gradcam", conf=0.01, imgsz=imgsz)
    assert res.cam.shape == frame.shape[:2] and res.cam.max() == 1.0
    assert res.cam.min() >= 0 and not np.signbit(res.cam).any()


def test_layer_order_does_not_matter(tiny_model, frame):
    a = analyze(tiny_model, frame, "gradcam", layers=[26, 18], conf=0.001, imgsz=IMGSZ)
    b = analyze(tiny_model, frame, "gradcam", layers=[18, 26], conf=0.001, imgsz=IMGSZ)
    assert a.layers == (26, 18) and np.abs(a.cam - b.cam).max() < 1e-6


@pytest.mark.parametrize("mode", ["all", "class"])
def test_closed_form_head_gradient_equals_autograd(tiny_model, frame, mode):
    det, x = detections(tiny_model, frame, LOW)
    rows, classes = det[:, 6].long(), det[:, 5].long()
    assert len(set(level_of_rows(tiny_model, x, rows))) == 3
    # a repeated row (the strongest raw prediction chosen twice) must add up, as autograd's sum does
    rows, classes = torch.cat((rows, rows[:1])), torch.cat((classes, (classes[:1] + 1) % 5))
    auto, closed = head_input_gradients(tiny_model, x, YoloTarget(rows, classes, mode))
    for a, c in zip(auto, closed, strict=True):
        assert float(a.abs().max()) > 0
        assert torch.allclose(a, c, rtol=1e-5, atol=1e-6 * float(a.abs().max()))  # float64 vs float32 sums
    from gam_gui.explain.cams import _input_seeds

    assert _input_seeds(YoloTarget(rows, classes, "box"), tiny_model(x), [], HeadCapture(HeadAdapter())) is None


@pytest.mark.parametrize("mode", ["all", "class", 2])
def test_closed_form_head_cams_equal_the_autograd_route(tiny_model, frame, mode, monkeypatch):
    plan = engine_mod.explainer(tiny_model)
    assert plan.adapter.closed_form  # the project's Detect is a known sigmoid head
    kw = dict(target=mode, conf=LOW, imgsz=IMGSZ, per_detection=[0, 3, 5])
    fast = analyze(tiny_model, frame, "gradcam", **kw)
    monkeypatch.setattr(plan.adapter, "logit_scales", None)
    slow = analyze(tiny_model, frame, "gradcam", **kw)
    assert np.abs(fast.cam - slow.cam).max() < 1e-5
    assert len(fast.detection_cams) > 0  # the loop below must compare something
    for a, b in zip(fast.detection_cams, slow.detection_cams, strict=True):
        assert np.abs(a - b).max() < 1e-5


# -- per-detection CAMs -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigengradcam"])
def test_per_detection_cams_equal_library_per_box(tiny_model, frame, method):
    idx, det = indices_on_every_level(tiny_model, frame)
    maps = per_detection_cams(tiny_model, frame, idx, method, conf=LOW, imgsz=IMGSZ)
    assert len(maps) == len(idx)
    for k, m in zip(idx, maps, strict=True):
        ref = stock_box_cam(STOCK[method], tiny_model, frame, GAM_LAYERS, det[k : k + 1, 6].long(),
                            det[k : k + 1, 5].long())
        assert m.shape == frame.shape[:2] and m.dtype == np.float32
        assert np.abs(m - ref).max() < TOL.get(method, 1e-5), (method, k)


def test_per_detection_cams_equal_analyze_with_that_target(trained_model, frame):
    n = min(6, len(gam_gui.detect(trained_model, frame, conf=0.01, imgsz=IMGSZ)))
    maps = per_detection_cams(trained_model, frame, None, "gradcam", conf=0.01, imgsz=IMGSZ)
    assert len(maps) >= n
    for k in range(n):
        single = analyze(trained_model, frame, "gradcam", target=k, conf=0.01, imgsz=IMGSZ).cam
        assert np.abs(maps[k] - single).max() < 1e-5


def test_per_detection_single_layer_box_mode_and_generic_paths(tiny_model, frame, monkeypatch):
    idx, det = indices_on_every_level(tiny_model, frame)
    fast = per_detection_cams(tiny_model, frame, idx, "gradcam", layers=[22], mode="box", conf=LOW, imgsz=IMGSZ)
    for k, m in zip(idx, fast, strict=True):
        ref = stock_box_cam(GradCAM, tiny_model, frame, (22,), det[k : k + 1, 6].long(), det[k : k + 1, 5].long(),
                            "box")
        # a stride-8 box does not reach layer 22: the library's map is zero there, and so is ours
        assert np.abs(m - ref).max() < 1e-5
    # the generic backward (vmapped through the box decoding), and its loop fallback, agree
    monkeypatch.setattr(HeadCapture, "locate", lambda self, out, rows: None)
    generic = per_detection_cams(tiny_model, frame, idx, "gradcam", layers=[22], mode="box", conf=LOW,
                                 imgsz=IMGSZ)
    real_grad = torch.autograd.grad

    def no_vmap(*args, **kwargs):
        if kwargs.get("is_grads_batched"):
            raise RuntimeError("no batching rule (simulated)")
        return real_grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", no_vmap)
    looped = per_detection_cams(tiny_model, frame, idx, "gradcam", layers=[22], mode="box", conf=LOW,
                                imgsz=IMGSZ)
    assert len(fast) > 0
    for a, b, c in zip(fast, generic, looped, strict=True):
        assert np.abs(a - b).max() < 1e-5 and np.abs(a - c).max() < 1e-5


def test_per_detection_repeats_eigencam_and_errors(tiny_model, frame):
    maps = per_detection_cams(tiny_model, frame, [3, 0, 3], "gradcam", conf=0.001, imgsz=IMGSZ)
    assert np.array_equal(maps[0], maps[2]) and maps[0] is not maps[2]
    eig = per_detection_cams(tiny_model, frame, [0, 1], "eigencam", conf=0.001, imgsz=IMGSZ)
    assert np.array_equal(eig[0], eig[1])  # EigenCAM does not depend on the target
    assert per_detection_cams(tiny_model, frame, [], "gradcam", conf=0.001, imgsz=IMGSZ) == []
    assert per_detection_cams(tiny_model, frame, None, "none", conf=0.001, imgsz=IMGSZ) == []
    with pytest.raises(ValueError, match="the frame has"):
        per_detection_cams(tiny_model, frame, [10_000], conf=0.001, imgsz=IMGSZ)
    with pytest.raises(ValueError, match="mode"):
        per_detection_cams(tiny_model, frame, mode="biggest", imgsz=IMGSZ)


def test_analyze_per_detection_field(tiny_model, frame):
    res = analyze(tiny_model, frame, "gradcam", conf=0.001, imgsz=IMGSZ, per_detection=[1, 0])
    assert res.cam is not None and res.extra["detection_indices"] == [1, 0]
    assert len(res.detection_cams) == 2
    one = analyze(tiny_model, frame, "gradcam", target=1, conf=0.001, imgsz=IMGSZ).cam
    assert np.abs(res.detection_cams[0] - one).max() < 1e-5
    assert analyze(tiny_model, frame, "gradcam", conf=0.001, imgsz=IMGSZ).detection_cams is None


def test_per_detection_on_a_yolov7_head():
    from conftest import perturbed

    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.data.shapes import render_sample
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    model = prepare_for_inference(perturbed(DetectionModel("yolov7-tiny_GAM", nc=3)), "cpu")
    img = render_sample(5, (120, 160)).image
    layers = gam_gui.analysis.default_layers(model)
    x, _ = preprocess(model, img, 128)
    with torch.no_grad():
        det = non_max_suppression(model(x), 0.001, 0.45)[0]
    idx = list(range(min(4, len(det))))
    maps = per_detection_cams(model, img, idx, "gradcam", conf=0.001, imgsz=128)
    for k, m in zip(idx, maps, strict=True):
        ref = stock_box_cam(GradCAM, model, img, layers, det[k : k + 1, 6].long(), det[k : k + 1, 5].long(),
                            imgsz=128)
        assert np.abs(m - ref).max() < 1e-5


# -- aggregation -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(STOCK))
def test_cam_images_equal_library_aggregation(tiny_model, method):
    """cam_images (one accumulator, n targets at once) against compute_cam_per_layer +
    aggregate_multi_layers fed the same arrays, target by target."""
    rng = np.random.default_rng(0)
    layers = [tiny_model.model[i] for i in GAM_LAYERS]
    cam = STOCK[method](model=tiny_model, target_layers=layers)
    cam.activations_and_grads.release()
    x = torch.zeros(1, 3, 64, 96)
    acts = [rng.normal(size=(1, c, h, w)).astype(np.float32) for c, h, w in [(8, 8, 12), (16, 4, 6), (32, 2, 3)]]
    grads = [rng.normal(size=(3,) + a.shape[1:]).astype(np.float32) for a in acts]
    grads[1][1] = 0  # a zero gradient...
    zero_layer = method != "eigencam"  # ... and None, which stands for one (a layer a box does not reach)
    got = cam_batch(cam, x, [], acts, [grads[0], None, grads[2]] if zero_layer else grads, 3).maps
    for k in range(3):
        cam.activations_and_grads.activations = [torch.from_numpy(a) for a in acts]
        g = [torch.from_numpy(gr[k : k + 1]) for gr in grads]
        if zero_layer:
            g[1] = torch.zeros_like(g[1])
        cam.activations_and_grads.gradients = g
        ref = cam.aggregate_multi_layers(cam.compute_cam_per_layer(x, [], False))[0]
        mine = got[k] - got[k].min()
        mine = mine / (1e-7 + mine.max())
        assert np.abs(mine - ref).max() < TOL.get(method, 1e-5), k


# -- GAM maps --------------------------------------------------------------------------------------------
def reference_gam_maps(rec, blocks, align, reduction):
    """The straightforward computation: full sigmoid, shuffle, reduce, align, normalise."""
    out = []
    for _, name, m in blocks:
        r = rec[name]
        h, w = r["spatial"].shape[-2:]
        c = r["channel"].shape[-1]
        sig_ch, shuffle = VARIANTS.get(m.gam_variant, VARIANTS["seed"])
        ch = r["channel"][0].float().view(h, w, c).permute(2, 0, 1)
        if sig_ch:
            ch = ch.sigmoid()
        sp = r["spatial"][0:1].float().sigmoid()
        if shuffle and sp.shape[1] % 4 == 0:
            sp = channel_shuffle(sp, 4)
        red = (lambda t: t.mean(0)) if reduction == "mean" else (lambda t: t.amax(0))

        def norm(a):
            a = np.nan_to_num(align(a).astype(np.float32))
            lo, hi = a.min(), a.max()
            return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)

        out.append((norm(red(ch).numpy()), norm(red(sp[0]).numpy()), ch.mean((1, 2)).numpy()))
    return out


@pytest.mark.parametrize("variant", ["seed", "paper"])
@pytest.mark.parametrize("reduction", ["mean", "max"])
def test_lazy_gam_maps_equal_reference(trained_model, frame, variant, reduction):
    blocks = gam_gui.explain.attention.find_gam_blocks(trained_model)
    saved = [m.gam_variant for _, _, m in blocks]
    try:
        for _, _, m in blocks:
            m.variant = variant
        x, lb = preprocess(trained_model, frame, IMGSZ)
        rec = GamRecorder(trained_model)
        with rec, torch.no_grad():
            trained_model(x)
        ref = reference_gam_maps(rec.records, blocks, lb.map_to_frame, reduction)
        maps = rec.maps(lb.map_to_frame, reduction)
        assert not maps[0].materialized
        for g, (ch, sp, wts) in zip(maps, ref, strict=True):
            assert np.abs(g.channel - ch).max() < 1e-5 and np.abs(g.spatial - sp).max() < 1e-5
            np.testing.assert_allclose(g.channel_weights, wts, rtol=1e-5, atol=1e-6)
            assert g.channel.max() <= 1 and g.spatial.min() >= 0
        assert maps[0].materialized
    finally:
        for (_, _, m), v in zip(blocks, saved, strict=True):
            m.variant = v


def test_read_gam_makes_and_times_only_the_shown_block(trained_model, frame):
    res = analyze(trained_model, frame, "none", imgsz=IMGSZ)
    before = dict(res.timings)
    g = res.read_gam(22)
    assert g.index == 22 and g.materialized and not res.gam[0].materialized
    assert res.timings["gam"] > before["gam"] and res.timings["total"] > before["total"]
    assert res.timings["total"] - before["total"] == pytest.approx(res.timings["gam"] - before["gam"], abs=0.02)
    counted = dict(res.timings)
    assert res.read_gam(22) is g and res.timings == counted  # made and counted once


def test_gam_maps_pickle_and_constructor():
    g = GamMaps(1, "model.1", "seed", channel_small=np.arange(6, dtype=np.float32).reshape(2, 3),
                spatial_small=np.ones((2, 3), np.float32), channel_weights=np.ones(4, np.float32),
                align=lambda m: np.repeat(np.repeat(m, 2, 0), 2, 1))
    h = pickle.loads(pickle.dumps(g))
    assert h.channel.shape == (4, 6) and h.channel.max() == 1 and not h.spatial.any()
    eager = GamMaps(2, "model.2", "paper", channel=np.zeros((2, 2), np.float32), spatial=np.ones((2, 2), np.float32))
    assert eager.materialized and eager.channel_weights.size == 0
    with pytest.raises(TypeError):
        GamMaps(3, "x", "seed", channel_small=np.zeros((2, 2)), spatial_small=np.zeros((2, 2)))


# -- no leaks -------------------------------------------------------------------------------------------
def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def test_nothing_leaks_and_state_is_restored(tiny_model, frame):
    tiny_model.zero_grad(set_to_none=True)
    before = hook_count(tiny_model)
    assert torch.is_grad_enabled()
    for method in ("gradcam", "eigencam", "none", "layercam"):
        analyze(tiny_model, frame, method, conf=0.01, imgsz=IMGSZ)
    per_detection_cams(tiny_model, frame, [0, 1], conf=0.001, imgsz=IMGSZ)
    with pytest.raises(ValueError):
        per_detection_cams(tiny_model, frame, [999], conf=0.001, imgsz=IMGSZ)  # fails after the forward
    assert hook_count(tiny_model) == before
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    assert all(p.grad is None and p.requires_grad for p in tiny_model.parameters())
    res = analyze(tiny_model, frame, "gradcam", conf=0.01, imgsz=IMGSZ)
    assert not any(isinstance(v, torch.Tensor) and v.requires_grad for v in vars(res).values())


def test_plan_cache_lets_the_model_go_and_follows_layer_changes(frame):
    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.explain.engine import _ENGINES as _PLANS
    from gam_gui.models.yolov5 import DetectionModel

    model = prepare_for_inference(DetectionModel("yolov5n_GAM", nc=2), "cpu")
    analyze(model, frame, "gradcam", imgsz=128, conf=0.001)
    plan = _PLANS[model]
    assert plan.cams  # the CAM object is kept for the next frame...
    assert all(c.model is None for c in plan.cams.values())  # ...without a reference to the model
    model.model[17] = model.model[17]  # same layer object: same plan
    analyze(model, frame, "none", imgsz=128)
    assert _PLANS[model] is plan
    ref = weakref.ref(model)
    del model, plan
    gc.collect()
    assert ref() is None
