"""YOLOv8 / YOLO11 (the ``ultralytics`` package): YAML builder, agreement with the package's forward, and
checkpoints written by its trainer, read without the package (stand-ins in tests/standins_v8.py).

``tests/data/v8_reference.pt`` holds the eval output of the REAL package (ultralytics 8.3.253) for
yolov8n-GAM and yolo11n-GAM at nc=3 with weights from :func:`standins_v8.seed_weights` on
:func:`standins_v8.reference_input`: the package built the same YAMLs (its GAM classes registered in its
``parse_model``), got the same seeded weights (identical state_dict keys and order), and ran once.
"""

from __future__ import annotations

import copy
import io
import os
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import standins_v8 as sv8
import torch
from torch import nn

from gam_gui.checkpoints import CheckpointError, load_model, save_model
from gam_gui.checkpoints.foreign import TrainerData
from gam_gui.models import gam as ggam
from gam_gui.models import yolov8 as v8
from gam_gui.models.yolov5 import CFG_DIR, DetectionModel, ModelConfigError, guess_scale, load_yaml, model_scale

REFERENCE = Path(__file__).parents[1] / "data" / "v8_reference.pt"


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def tiny(cfg: str, nc: int = 3, **changes) -> dict:
    """A shipped YAML at a tiny width (channels 8..64), so a model builds and loads in milliseconds."""
    d = load_yaml(cfg)
    d.update(scales={"t": [0.33, 0.0625, 1024]}, scale="t", nc=nc, **changes)
    return d


# -- the YAML builder ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cfg", "params"), [("yolov8n", 3_157_200), ("yolo11n", 2_624_080)])
def test_stock_parameter_counts_equal_the_package(cfg, params):
    # the figures ultralytics' model.info() prints for the unfused models at nc=80
    m = DetectionModel(cfg)
    assert n_params(m) == params
    assert m.stride.tolist() == [8.0, 16.0, 32.0]
    assert isinstance(m.detect, v8.Detect) and m.detect.reg_max == 16 and m.detect.no == 80 + 64


def test_head_kind_follows_the_package_rule():
    # YOLOv8's class branch is two 3x3 convs; a YAML with C3k2 (YOLO11) gets the depth-wise branch
    v8_head, v11_head = DetectionModel(tiny("yolov8n")).detect, DetectionModel(tiny("yolo11n")).detect
    assert isinstance(v8_head.cv3[0][0], nn.Module) and type(v8_head.cv3[0][0]).__name__ == "Conv"
    assert isinstance(v11_head.cv3[0][0], nn.Sequential) and isinstance(v11_head.cv3[0][0][0], v8.DWConv)


def test_scale_from_file_name_key_or_first_row(tmp_path, caplog):
    assert guess_scale("yolov8n-GAM.yaml") == "n" and guess_scale("yolo11s.yaml") == "s"
    assert guess_scale("my_model.yaml") == ""
    text = (CFG_DIR / "yolov8n.yaml").read_text()
    (tmp_path / "yolov8s-GAM.yaml").write_text(text + "scale: n\n")  # the file name wins, as in the package
    assert model_scale(load_yaml(tmp_path / "yolov8s-GAM.yaml"))[:3] == ("s", 0.33, 0.5)
    (tmp_path / "custom.yaml").write_text(text + "scale: m\n")
    assert model_scale(load_yaml(tmp_path / "custom.yaml"))[:4] == ("m", 0.67, 0.75, 768)
    (tmp_path / "plain.yaml").write_text(text)
    assert model_scale(load_yaml(tmp_path / "plain.yaml"))[0] == "n"  # first row, with a warning
    assert "names no scale" in caplog.text


def test_max_channels_caps_before_width():
    # make_divisible(min(c2, max_channels) * width, 8): 1024 * 0.25 = 256 uncapped, min(1024, 128) * 0.25 = 32
    d = load_yaml("yolov8n")
    d.update(scales={"c": [0.33, 0.25, 128]}, scale="c", nc=3)
    m = DetectionModel(d)
    assert m.model[7].conv.out_channels == 32 and m.model[1].conv.out_channels == 32  # 128 * 0.25
    assert DetectionModel("yolov8n", nc=3).model[7].conv.out_channels == 256


def test_c3k_blocks_from_the_m_scale_up():
    d = tiny("yolo11n")
    d["scales"] = {"m": [0.5, 0.0625, 512]}
    d["scale"] = "m"
    blocks = [b for b in DetectionModel(d).model[2].m]
    assert all(isinstance(b, v8.C3k) for b in blocks)
    assert not any(isinstance(b, v8.C3k) for b in DetectionModel(tiny("yolo11n")).model[2].m)


@pytest.mark.parametrize("bad", [{"scales": {"n": [0.33, 0.25]}}, {"scales": {"n": [0.33, -1, 1024]}},
                                 {"scales": ["n"]}, {"scale": "q"}, {"reg_max": 0}, {"reg_max": 10**6}])
def test_implausible_scales_are_refused(bad):
    d = load_yaml("yolov8n")
    d.update(bad)
    with pytest.raises(ModelConfigError):
        DetectionModel(d)


@pytest.mark.parametrize("cfg", ["yolov8n-GAM", "yolo11n-GAM"])
def test_forward_equals_the_package(cfg):
    ref = torch.load(REFERENCE, weights_only=True)[cfg]
    m = DetectionModel(cfg, nc=3)
    sv8.seed_weights(m)
    with torch.no_grad():
        y = m.eval()(sv8.reference_input())
    assert y.shape == ref.shape == (1, 4 + 3, 8 * 12 + 4 * 6 + 2 * 3)
    assert float(ref[:, 4:].std()) > 1e-3  # the scores vary: the comparison is not of saturated values
    torch.testing.assert_close(y, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()))


def test_gam_blocks_and_variants_built_from_the_yamls():
    v8m, v11m = DetectionModel(tiny("yolov8n-GAM")), DetectionModel(tiny("yolo11n-GAM"))
    assert [i for i, m in enumerate(v8m.model) if isinstance(m, ggam.GAM)] == [16, 20, 24]
    assert [i for i, m in enumerate(v11m.model) if isinstance(m, ggam.GAM)] == [17, 21, 25]
    assert {m.gam_variant for m in v8m.modules() if isinstance(m, ggam.GAM)} == {"seed"}
    assert {m.gam_variant for m in v11m.modules() if isinstance(m, ggam.GAM)} == {"paper"}


# -- checkpoints of the package's trainer ------------------------------------------------------------------

def _trained(cfg: str) -> DetectionModel:
    m = DetectionModel(tiny(cfg))
    sv8.seed_weights(m, seed=7)
    return m.eval()


@pytest.fixture(scope="module")
def models() -> dict[str, DetectionModel]:
    return {"v8": _trained("yolov8n-GAM"), "v11": _trained("yolo11n-GAM")}


FRAME = torch.rand(1, 3, 96, 64, generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("stripped", [False, True], ids=["mid-training", "stripped"])
@pytest.mark.parametrize("kind", ["v8", "v11"])
def test_trainer_checkpoints_load_and_match_the_package_forward(tmp_path, models, kind, stripped):
    scheme = sv8.SEED_BLOCK if kind == "v8" else sv8.PAPER_EXTRA
    path = tmp_path / "w.pt"
    pkg = sv8.write_package_checkpoint(models[kind], path, stripped=stripped, gam=scheme)
    loaded = load_model(path, device="cpu")
    with torch.no_grad():
        want = pkg.half().float()(FRAME.clone())[0]  # the file's fp16 weights, as the package runs them
        got = loaded(FRAME)
    assert got.shape == want.shape == (1, 4 + 3, 12 * 8 + 6 * 4 + 3 * 2)
    torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-3 * float(want.abs().max()))
    # the trainer's args namespace and loss object (mid-training) are dropped; the stripped file's are plain
    assert not any(isinstance(v, TrainerData) for v in vars(loaded).values())
    assert "criterion" not in vars(loaded) if not stripped else vars(loaded)["criterion"] is None
    assert loaded.names == {0: "class0", 1: "class1", 2: "class2"}
    assert loaded.stride.tolist() == [8.0, 16.0, 32.0]
    for key in ("anchors", "strides", "shape"):  # the package's caches are not trusted
        assert key not in vars(loaded.detect)


@pytest.mark.parametrize(("scheme", "seed_structure", "variant"), [
    (sv8.SEED_BLOCK, True, "seed"),         # GAM_Attention(c1, c2, group=True): grouped -> seed
    (sv8.PAPER_EXTRA, False, "paper"),      # GAM_Attention(in_channels): ungrouped -> paper
    (sv8.GAM_MODULE, False, "paper"),       # the name GAM alone does not decide: the structure does
    (sv8.GAM_MODULE, True, "seed"),
])
def test_gam_variant_is_inferred_from_structure(tmp_path, scheme, seed_structure, variant):
    model = _trained("yolov8n-GAM" if seed_structure else "yolo11n-GAM")
    path = tmp_path / "w.pt"
    pkg = sv8.write_package_checkpoint(model, path, stripped=True, gam=scheme)
    loaded = load_model(path, device="cpu")
    blocks = [m for m in loaded.modules() if isinstance(m, ggam.GAM)]
    assert len(blocks) == 3 and {b.gam_variant for b in blocks} == {variant}
    assert {type(b).__name__ for b in blocks} == {scheme[1]}
    reason = blocks[0].variant_reason
    assert ("grouped 7x7" in reason) == seed_structure and ("ungrouped" in reason) == (not seed_structure)
    assert loaded.variant_reason.count(f": {variant} (") == 3
    with torch.no_grad():
        want = pkg.half().float()(FRAME.clone())[0]
        torch.testing.assert_close(loaded(FRAME), want, rtol=1e-3, atol=1e-3 * float(want.abs().max()))


def test_gam_variant_option_still_overrides(tmp_path, models):
    path = tmp_path / "w.pt"
    sv8.write_package_checkpoint(models["v8"], path, stripped=True)
    loaded = load_model(path, device="cpu", gam_variant="paper")
    blocks = [m for m in loaded.modules() if isinstance(m, ggam.GAM)]
    assert {b.gam_variant for b in blocks} == {"paper"}
    assert all("--gam-variant" in b.variant_reason for b in blocks) and "--gam-variant" in loaded.variant_reason


def test_saved_in_gam_gui_format_keeps_the_inferred_variant(tmp_path, models):
    src = tmp_path / "w.pt"
    sv8.write_package_checkpoint(models["v8"], src, stripped=True)
    ours = save_model(load_model(src, device="cpu"), tmp_path / "ours.pt")
    again = load_model(ours, device="cpu")
    assert {m.gam_variant for m in again.modules() if isinstance(m, ggam.GAM)} == {"seed"}


def test_layers_command_marks_the_gam_blocks(tmp_path, models):
    from gam_gui.cli import main

    path = tmp_path / "w.pt"
    sv8.write_package_checkpoint(models["v11"], path, stripped=False, gam=sv8.PAPER_EXTRA)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["layers", "--weights", str(path), "--imgsz", "64"]) == 0
    lines = out.getvalue().splitlines()
    gam_lines = [ln for ln in lines if ln.endswith("[GAM]")]
    assert [int(ln.split()[0]) for ln in gam_lines] == [17, 21, 25]
    assert any("Detect" in ln and ln.split()[0] == "26" for ln in lines)
    assert any("paper" in ln and "ungrouped" in ln for ln in lines)  # the inferred variant and why


# -- hostile payloads inside a package-format checkpoint ---------------------------------------------------

class _Call:
    """Pickles as a call of ``fn(*args)``: what a crafted file uses to run code when unpickled."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _refusal(tmp_path, model, **kw) -> CheckpointError:
    path = tmp_path / "evil.pt"
    sv8.write_package_checkpoint(model, path, **kw)
    with pytest.raises(CheckpointError) as info:
        load_model(path, device="cpu")
    return info.value


def test_os_system_in_train_args_is_refused(tmp_path, models):
    marker = tmp_path / "pwned"
    err = _refusal(tmp_path, models["v8"], extra={"train_args": {"x": _Call(os.system, f"touch {marker}")}})
    assert err.class_name == f"{os.system.__module__}.system" and not marker.exists()


def test_ultralytics_utils_callable_is_refused(tmp_path, models):
    called = []

    def check_requirements(*a):
        called.append(a)

    err = _refusal(tmp_path, models["v8"], stripped=True,
                   extra={"train_results": _Call(check_requirements, "evil")},
                   extra_modules={"ultralytics.utils.checks": {"check_requirements": check_requirements}})
    assert err.class_name == "ultralytics.utils.checks.check_requirements" and not called


@pytest.mark.parametrize("scheme", [("ultralytics.nn.modules.block", "GAMBlock", None),  # unknown name
                                    ("ultralytics.utils", "GAM", None),                   # outside ultralytics.nn
                                    ("ultralytics.nn.modules.block", "Evil", None)])
def test_unknown_blocks_are_refused_by_name(tmp_path, models, scheme):
    err = _refusal(tmp_path, models["v8"], stripped=True, gam=scheme)
    assert err.class_name == f"{scheme[0]}.{scheme[1]}"
    assert scheme[1] in str(err)


def test_trainer_namespace_built_with_arguments_is_refused(tmp_path, models):
    err = _refusal(tmp_path, models["v8"], extra={"train_args": _Call(sv8.IterableSimpleNamespace, 10**9)})
    assert err.reason == "call" and err.class_name == "ultralytics.utils.IterableSimpleNamespace"


def test_a_layer_hidden_in_the_trainer_data_is_dropped_not_run(tmp_path, models):
    # the criterion placeholder keeps nothing of its state, whatever the file puts in it
    path = tmp_path / "w.pt"
    model = copy.deepcopy(models["v8"])
    sv8.write_package_checkpoint(model, path)
    loaded = load_model(path, device="cpu")
    assert not any(type(m).__module__.startswith("ultralytics") for m in loaded.modules())
