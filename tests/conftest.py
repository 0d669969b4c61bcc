"""Shared fixtures: small models the tests build themselves (nothing is downloaded)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))  # for tests/standins*.py
# Tests are grouped by area (loading/, explain/, ui/, cli/, evaluation/, core/); a few reuse fixtures or
# tiny models from a test module of another area (test_gui, test_yolov8), also when run alone.
sys.path[1:1] = [str(d) for d in sorted(Path(__file__).parent.iterdir()) if d.is_dir() and d.name != "data"]

# Under pytest-xdist (the README's `-n 2`) each worker process has a core of its own: one torch thread each.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else max(1, min(2, torch.get_num_threads())))


def perturbed(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give BatchNorm layers non-trivial statistics so that they matter in comparisons."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    # Fresh GAM spatial branches give a near-constant sigmoid; sharpen them so maps follow content.
    for name, m in model.named_modules():
        if name.endswith("spatial_attention"):
            for conv in (m[0], m[3]):
                conv.weight.data.mul_(8)
    return model


def head_input_gradients(model: torch.nn.Module, x: torch.Tensor, target) -> tuple[list, list]:
    """Gradients of CAM ``target``'s summed score at the inputs of the head's per-level convs (the
    GAM blocks' outputs on the recipe), for one forward: by autograd through the head, and by
    ``cams.head_gradients``, which starts the backward from cotangents written in closed form."""
    from gam_gui.explain.cams import HeadCapture, head_gradients
    from gam_gui.heads import adapter_for

    head = HeadCapture(adapter_for(model))
    assert head.logit_scales is not None, "not a sigmoid head: head_gradients would fall back to autograd"
    try:
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)  # so that every level's conv input is in the graph
            out = model(x)
            auto = torch.autograd.grad(target(out[0]), head.inputs, retain_graph=True)
        closed = head_gradients(target, out, head.inputs, head)
        return list(auto), [torch.zeros_like(a) if c is None else c for a, c in zip(auto, closed, strict=True)]
    finally:
        head.release()
        model.zero_grad(set_to_none=True)


@pytest.fixture
def one_torch_thread():
    """One torch thread for a test that times nothing: on a busy 2-core machine a second thread
    spins at every barrier (100 ms forwards become seconds)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained YOLOv5n-GAM with 5 classes, ready for inference."""
    from gam_gui.checkpoints import prepare_for_inference
    from gam_gui.data.shapes import CLASS_NAMES
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    m = DetectionModel("yolov5n_GAM", nc=5)
    m.names = dict(enumerate(CLASS_NAMES))
    return prepare_for_inference(perturbed(m), "cpu")


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """An untrained YOLOv5n-GAM (5 classes) saved as a gam-gui checkpoint with imgsz 64: for tests of
    the plumbing around the model (sources, export, faults), where analysis must stay cheap."""
    from gam_gui.checkpoints import save_model
    from gam_gui.models.yolov5 import DetectionModel

    torch.manual_seed(0)
    return save_model(DetectionModel("yolov5n_GAM", nc=5), tmp_path_factory.mktemp("w") / "tiny.pt", imgsz=64)


@pytest.fixture(scope="session")
def tiny_loaded(tiny_weights):
    """:func:`tiny_weights` loaded back through ``gam_gui.load_model``, as the app loads a file."""
    from gam_gui.checkpoints import load_model

    return load_model(tiny_weights, device="cpu")


@pytest.fixture(scope="session")
def frame() -> np.ndarray:
    from gam_gui.data.shapes import render_sample

    return render_sample(7, (180, 260)).image


@pytest.fixture(scope="session")
def trained_model():
    """The shipped default model: real detections and content-dependent attention."""
    from gam_gui.checkpoints import default_weights_path, load_model

    path = default_weights_path()
    return load_model(path, device="cpu")
