"""Checkpoint loading: own format, ultralytics YOLOv5 pickles without the repo, and refusal of hostile files."""

from __future__ import annotations

import io
import os
import pickle
import sys
import zipfile

import pytest
import torch
from conftest import perturbed
from standins import GAM_Attention as UlGAMAttention
from standins import write_yolov5_checkpoint

import gam_gui
from gam_gui.checkpoints import CheckpointError, load_model, save_model
from gam_gui.models import gam as gam_mod
from gam_gui.models.yolov5 import DetectionModel


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(1)
    m = perturbed(DetectionModel("yolov5n_GAM", nc=3), 1).eval()
    m.names = {0: "circle", 1: "triangle", 2: "square"}
    return m


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / (b.abs() + 1e-3)).max())


def reference(ul: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What ultralytics computes after ``attempt_load`` (fp16 weights cast back to fp32)."""
    ref = ul.half().float().eval()
    with torch.no_grad():
        return ref(x)[0]


@pytest.mark.parametrize("stripped,legacy", [(False, False), (True, False), (False, True)])
def test_yolov5_checkpoint_round_trip(model, tmp_path, stripped, legacy):
    path = tmp_path / "best.pt"
    ul = write_yolov5_checkpoint(model, path, stripped=stripped, legacy_name=legacy)
    assert "models" not in sys.modules  # the repo is absent when loading
    loaded = load_model(path, device="cpu")
    assert "models" not in sys.modules
    assert not loaded.training and next(loaded.parameters()).dtype == torch.float32
    assert loaded.names == {0: "circle", 1: "triangle", 2: "square"}
    assert loaded.stride.tolist() == [8, 16, 32]
    x = torch.rand(1, 3, 160, 224)
    with torch.no_grad():
        y = loaded(x)
    ref = reference(ul, x)
    assert y.shape == ref.shape == (1, 3 * (20 * 28 + 10 * 14 + 5 * 7), 8)
    assert rel_err(y, ref) < 1e-3


def test_ema_is_preferred_over_model(model, tmp_path):
    other = perturbed(DetectionModel("yolov5n_GAM", nc=3), 9).eval()
    path = tmp_path / "best.pt"
    from standins import to_ultralytics, ultralytics_modules

    with ultralytics_modules():
        torch.save({"model": to_ultralytics(other).half(), "ema": to_ultralytics(model).half(), "epoch": 3}, path)
    loaded = load_model(path, device="cpu")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert rel_err(loaded(x), model.half().float()(x)) < 1e-3
    model.float()


def test_gam_attention_variant_checkpoint_uses_its_forward(tmp_path):
    torch.manual_seed(2)
    d = gam_gui.models.yolov5.load_yaml("yolov5n_GAM")
    for row in d["head"]:
        if row[2] == "GAM":
            row[2], row[3] = "GAM_Attention", []
    m = perturbed(DetectionModel(d, nc=2), 2).eval()
    path = tmp_path / "gam_attention.pt"
    ul = write_yolov5_checkpoint(m, path, class_override={gam_mod.GAM_Attention: UlGAMAttention})
    loaded = load_model(path, device="cpu")
    blocks = [b for b in loaded.modules() if isinstance(b, gam_mod.GAM)]
    assert len(blocks) == 3 and {b.gam_variant for b in blocks} == {"paper"}
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        assert rel_err(loaded(x), reference(ul, x)) < 1e-3
    # the caller can override the variant, and the output changes accordingly
    forced = load_model(path, device="cpu", gam_variant="seed")
    assert {b.gam_variant for b in forced.modules() if isinstance(b, gam_mod.GAM)} == {"seed"}
    with torch.no_grad():
        assert rel_err(forced(x), reference(ul, x)) > 1e-3


def test_unknown_gam_class_can_be_declared(model, tmp_path):
    import standins

    class MyGAM(standins.GAM):
        pass

    path = tmp_path / "mygam.pt"
    ul = write_yolov5_checkpoint(model, path, class_override={gam_mod.GAM: MyGAM}, extra_common={"MyGAM": MyGAM})
    with pytest.raises(CheckpointError, match="MyGAM"):
        load_model(path, device="cpu")
    from gam_gui.checkpoints import register_gam_class

    register_gam_class("models.common.MyGAM", "seed")
    loaded = load_model(path, device="cpu")
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        assert rel_err(loaded(x), reference(ul, x)) < 1e-3


def test_own_format_round_trip(model, tmp_path):
    path = save_model(model, tmp_path / "own.pt", imgsz=320)
    raw = torch.load(path, weights_only=True)  # readable with no extra globals at all
    assert raw["format"] == "gam-gui" and raw["meta"]["imgsz"] == 320
    loaded = load_model(path, device="cpu")
    x = torch.rand(1, 3, 128, 96)
    with torch.no_grad():
        assert rel_err(loaded(x), model.half().float()(x)) < 1e-3
    model.float()
    assert loaded.names == model.names and loaded.meta["imgsz"] == 320
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_default_model_missing_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GAM_GUI_WEIGHTS", str(tmp_path / "nothing.pt"))
    with pytest.raises(CheckpointError, match="no default model"):
        load_model()


class Payload:
    """Pickles as a call of ``fn(*args)``: what a malicious checkpoint does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _save(obj, path):
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("kind", ["os.system", "subprocess", "eval", "exec", "getattr", "import"])
def test_hostile_pickles_are_refused_and_not_run(model, tmp_path, kind):
    marker = tmp_path / f"ran_{kind.replace('.', '_')}"
    cmd = f"touch {marker}"
    import builtins
    import subprocess

    payload = {
        "os.system": Payload(os.system, cmd),
        "subprocess": Payload(subprocess.call, ["touch", str(marker)]),
        "eval": Payload(builtins.eval, f"open({str(marker)!r}, 'w')"),
        "exec": Payload(builtins.exec, f"open({str(marker)!r}, 'w')"),
        "getattr": Payload(builtins.getattr, Payload(builtins.__import__, "os"), "system"),
        "import": Payload(builtins.__import__, "os"),
    }[kind]
    path = _save({"model": payload, "epoch": 1}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused|not part of a model"):
        load_model(path, device="cpu")
    assert not marker.exists()


def test_payload_nested_in_opt_of_valid_checkpoint(model, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil_opt.pt"
    write_yolov5_checkpoint(model, path, extra={"opt": {"hyp": Payload(os.system, f"touch {marker}")}})
    with pytest.raises(CheckpointError, match="os.system|posix.system|refused"):
        load_model(path, device="cpu")
    assert not marker.exists()


def test_legacy_non_zip_pickle_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "legacy.pt"
    with open(path, "wb") as fh:
        pickle.dump({"model": Payload(os.system, f"touch {marker}")}, fh, protocol=2)
    with pytest.raises(CheckpointError, match="legacy"):
        load_model(path)
    assert not marker.exists()


def test_corrupt_truncated_and_wrong_files(model, tmp_path):
    good = tmp_path / "good.pt"
    write_yolov5_checkpoint(model, good)
    data = good.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "image.pt").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(buf, "w") as zout:
        for item in zin.infolist():
            blob = zin.read(item.filename)
            if item.filename.endswith("data.pkl"):
                blob = blob[:20] + b"\x00garbage" + blob[40:]
            zout.writestr(item, blob)
    (tmp_path / "badpkl.pt").write_bytes(buf.getvalue())
    for name in ("trunc.pt", "empty.pt", "image.pt", "badpkl.pt", "missing.pt"):
        with pytest.raises(CheckpointError) as ei:
            load_model(tmp_path / name, device="cpu")
        assert name in str(ei.value)
    with pytest.raises(CheckpointError, match="folder"):
        load_model(tmp_path)


def test_state_dict_of_another_architecture(tmp_path):
    sd = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).state_dict()
    with pytest.raises(CheckpointError, match="state_dict"):
        load_model(_save(sd, tmp_path / "sd.pt"))
    with pytest.raises(CheckpointError, match="state_dict"):
        load_model(_save({"model": sd}, tmp_path / "sd2.pt"))
    with pytest.raises(CheckpointError):
        load_model(_save({"format": "gam-gui", "version": 1, "yaml": {"backbone": []}, "state_dict": sd},
                         tmp_path / "own_bad.pt"))


def test_unknown_custom_block_is_named(model, tmp_path):
    from standins import Conv as UlConv

    class BiFPN(UlConv):  # a block the attention registry does not have (CBAM is in it since issue 27)
        pass

    m = DetectionModel("yolov5n_GAM", nc=3)
    path = tmp_path / "bifpn.pt"
    write_yolov5_checkpoint(m, path, class_override={type(m.model[1]): BiFPN}, extra_common={"BiFPN": BiFPN})
    with pytest.raises(CheckpointError, match="layer 0: the custom block 'models.common.BiFPN'.*--plugin") as ei:
        load_model(path)  # every Conv became a BiFPN: the first is inside layer 0 (Focus)
    assert ei.value.layer == 0 and ei.value.reason == "global"
