"""The frame pipeline without Qt: which view wins, what is cached, the CAM cadence, following a
clicked object, and checking a view once when it is made."""

from __future__ import annotations

import numpy as np
import pytest

from gam_gui import pipeline as pipeline_mod
from gam_gui.ablation_modes import AblationSpecError
from gam_gui.analysis import Result, Settings
from gam_gui.data.shapes import render_sample
from gam_gui.explain.cams import TargetMissingError, TargetSpec
from gam_gui.inference import Detection
from gam_gui.pipeline import ABLATION, COMPARE, NORMAL, Click, FramePipeline, ModelB, ViewState
from gam_gui.sources import Frame

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def det(x1, y1, x2, y2, score=0.9, cls=0):
    return Detection((float(x1), float(y1), float(x2), float(y2)), score, cls, str(cls))


def frame(i: int, t: float | None = None) -> Frame:
    return Frame(np.zeros((64, 96, 3), np.uint8), i, i * 0.2 if t is None else t, f"f{i}")


class FakeAnalysis:
    """``analyze_with`` on scripted detections (frame index -> list), counting its calls; a target
    index the frame lacks raises :class:`TargetMissingError` as the real one does."""

    def __init__(self, script: dict[int, list[Detection]]) -> None:
        self.script, self.calls = script, []

    def __call__(self, model, image, s: Settings) -> Result:
        i = int(image[0, 0, 0])  # the frame index is painted into the first pixel
        dets = self.script[i]
        spec = TargetSpec.parse(s.target)
        self.calls.append((i, s.target))
        if spec.index is not None and spec.index >= len(dets):
            raise TargetMissingError(spec.index, len(dets))
        cam = None if s.method == "none" else np.full(image.shape[:2], len(self.calls), np.float32)
        return Result(list(dets), cam, [], {}, s.method, (), spec.label())


def scripted(monkeypatch, script: dict[int, list[Detection]]) -> FakeAnalysis:
    fake = FakeAnalysis(script)
    monkeypatch.setattr(pipeline_mod, "analyze_with", fake)
    monkeypatch.setattr(pipeline_mod, "explainer", lambda model: type("E", (), {"gam_indices": ()})())
    return fake


def painted(i: int, t: float | None = None) -> Frame:
    f = frame(i, t)
    f.image[0, 0, 0] = i
    return f


# -- checking a view once, where it is made ----------------------------------------------------------

def test_view_state_is_checked_when_made_and_its_target_is_typed():
    with pytest.raises(ValueError, match="panel 'chart' is unknown"):
        ViewState(panels=("detections", "chart"))
    with pytest.raises(AblationSpecError):
        ViewState(ablation={22: "sideways"})
    with pytest.raises(ValueError, match="cam_every"):
        ViewState(cam_every=0)
    v = ViewState(Settings(target="cls:3"), ablation={22: "Drop-Top-16"})
    assert v.target == TargetSpec("all", cls=3) and v.ablation == {22: "drop-top-16"}
    v = v.updated(target=TargetSpec(index=2))  # a typed target is the settings' target too
    assert v.settings.target == 2 and v.target.index == 2
    assert v.updated(settings=Settings(target="all")).target == TargetSpec("all")


def test_analysis_key_comes_from_the_settings_fields():
    s = Settings()
    for render_only in ({"colormap": "bone"}, {"alpha": 0.2}, {"gam_layer": 3}, {"scale": "fixed"},
                        {"gam_view": "gain"}):
        assert s.updated(**render_only).analysis_key() == s.analysis_key(), render_only
    for analysis in ({"conf": 0.5}, {"iou": 0.3}, {"imgsz": 320}, {"method": "hirescam"}, {"target": 1},
                     {"layers": (4,)}, {"reduction": "max"}, {"renorm_boxes": True}):
        assert s.updated(**analysis).analysis_key() != s.analysis_key(), analysis


# -- precedence and caching on the real model ---------------------------------------------------------

@pytest.fixture(scope="module")
def sample() -> Frame:
    return Frame(render_sample(3, (128, 160)).image, 0, 0.0, "sample")


def test_compare_wins_over_ablation_which_wins_over_normal(trained_model, sample):
    p = FramePipeline(trained_model)
    s = Settings(method="none", imgsz=160)
    gam = min(pipeline_mod.explainer(trained_model).gam_indices)
    both = ViewState(s, ablation={gam: "off"}, model_b=ModelB(trained_model, "same"), name_a="ours")
    out = p.step(sample, both)
    assert both.mode == out.mode == COMPARE and out.ablation is None and out.compare is not None
    assert out.names == ("ours", "same") and set(out.fields()) == {"models", "compare"}
    assert out.figure().shape[1] > 2 * out.frame.image.shape[1]  # three panels to a row
    out = p.step(sample, both.updated(model_b=None))
    assert out.mode == ABLATION and out.ablation is not None and out.ablation.blocks == {gam: "off"}
    assert out.ablation.before == out.result.detections and "ablation" in out.fields()
    out = p.step(sample, both.updated(model_b=None, ablation={}))
    assert out.mode == NORMAL and out.ablation is None and out.compare is None
    assert [k.key for k in out.panels()] == ["detections", "cam", "gam_channel", "gam_spatial"]


def test_a_render_change_reuses_the_analysis_and_the_ablation(trained_model, sample):
    p = FramePipeline(trained_model)
    gam = min(pipeline_mod.explainer(trained_model).gam_indices)
    v = ViewState(Settings(method="none", imgsz=160), ablation={gam: "off"})
    first = p.step(sample, v)
    assert p.analyzed == 1
    again = p.step(sample, v.updated(settings=v.settings.updated(colormap="bone", alpha=0.2)))
    assert p.analyzed == 1 and again.result is first.result and again.ablation is first.ablation
    changed = p.step(sample, v.updated(settings=v.settings.updated(conf=0.6)))
    assert p.analyzed == 2 and changed.result is not first.result and changed.ablation is not first.ablation
    p.step(Frame(sample.image, 1, 0.1, "next"), v)  # a new frame is analysed again
    assert p.analyzed == 3


def test_hidden_panels_are_left_out_of_the_figure(trained_model, sample):
    p = FramePipeline(trained_model)
    v = ViewState(Settings(method="none", imgsz=160))
    full = p.step(sample, v).figure()
    two = p.step(sample, v.updated(panels=("detections", "gam_spatial"))).figure()
    assert two.shape[0] == full.shape[0] and two.shape[1] < full.shape[1] * 0.6


# -- CAM cadence and following (scripted analyses: no model) -------------------------------------------

def test_cam_every_n_frames_only_while_frames_flow(monkeypatch):
    fake = scripted(monkeypatch, {i: [det(0, 0, 10, 10)] for i in range(6)})
    p = FramePipeline(object(), lenient=True)
    v = ViewState(Settings(method="gradcam"), cam_every=3)
    notes = [p.step(painted(i), v, moving=True).result.note for i in range(6)]
    assert notes == ["", "CAM every 3 frames", "CAM every 3 frames"] * 2
    assert [c[1] for c in fake.calls] == ["all"] * 6  # the reused frames were analysed without a CAM
    assert p.step(painted(0), v, moving=False).result.note == ""  # a still frame: its own CAM


def test_a_clicked_object_is_followed_when_its_index_changes(monkeypatch):
    a0, a1, b = det(10, 10, 30, 30, 0.8), det(14, 10, 34, 30, 0.7), det(60, 10, 90, 40, 0.99)
    scripted(monkeypatch, {0: [a0], 1: [b, a1], 2: [b, a1]})
    p = FramePipeline(object(), sequential=True, lenient=True)
    v = ViewState(Settings(method="none", target=0), click=Click(a0, 0.0))
    assert p.step(painted(0), v).target.index == 0
    f1 = painted(1)
    out = p.step(f1, v)
    assert out.target.index == 1 and out.highlight == 1 and out.result.detections[1] is a1
    assert out.settings.target == 1 and v.settings.target == 0  # shown vs chosen
    again = p.step(f1, v.updated(settings=v.settings.updated(colormap="bone")))
    assert again.target.index == 1 and again.result is out.result  # the same frame: no second guess


def test_a_lost_object_is_reported_once_then_all_detections_are_explained(monkeypatch):
    a, other = det(10, 10, 30, 30), det(60, 10, 90, 40, cls=1)
    scripted(monkeypatch, {0: [a], 1: [other], 2: [other], 3: [other]})
    p = FramePipeline(object(), sequential=True, lenient=True)
    v = ViewState(Settings(method="none", target=0))
    p.step(painted(0, 0.0), v)  # the index exists here: followed from this frame on
    missing = p.step(painted(1, 0.5), v)
    assert missing.target.index is None and missing.lost_s is None and "not in this frame" in missing.result.note
    lost = p.step(painted(2, 1.2), v)
    assert lost.lost_s == pytest.approx(1.2) and lost.result.note == "the followed object was lost"
    after = p.step(painted(3, 1.4), v)
    assert after.lost_s is None and after.target == TargetSpec("all")


def test_strict_raises_a_missing_target_and_lenient_explains_all(monkeypatch):
    scripted(monkeypatch, {0: [det(0, 0, 10, 10)] * 4})
    v = ViewState(Settings(method="none", target=9))
    with pytest.raises(TargetMissingError) as ei:
        FramePipeline(object()).step(painted(0), v)
    assert (ei.value.index, ei.value.count) == (9, 4)
    assert str(ei.value) == "target 9: the frame has 4 detections (0-3)"
    out = FramePipeline(object(), lenient=True).step(painted(0), v)
    assert out.result.note == "detection #9 is not in this frame" and out.highlight is None


def test_images_keep_the_index_as_it_is(monkeypatch):
    a, b = det(10, 10, 30, 30, 0.8), det(60, 10, 90, 40, 0.99)
    scripted(monkeypatch, {0: [a, b], 1: [b, a]})
    p = FramePipeline(object(), sequential=False)
    v = ViewState(Settings(method="none", target=0), click=Click(a, 0.0))
    assert p.step(painted(0), v).target.index == 0
    assert p.step(painted(1), v).target.index == 0  # unrelated frames: no following


def test_the_measured_detection_is_the_target_else_the_strongest_of_its_class(monkeypatch):
    scripted(monkeypatch, {0: [det(0, 0, 9, 9, cls=2), det(20, 0, 29, 9, cls=1), det(40, 0, 49, 9, cls=1)]})
    p = FramePipeline(object())
    for target, want in (("all", 0), (2, 2), ("cls:1", 1)):
        assert p.measure_target(p.step(painted(0), ViewState(Settings(method="none", target=target)))) == want


def test_the_ablation_view_can_show_the_ablated_models_maps(trained_model, sample):
    p = FramePipeline(trained_model)
    gam = pipeline_mod.explainer(trained_model).gam_indices
    v = ViewState(Settings(method="gradcam", imgsz=160), ablation={k: "off" for k in gam})
    trained = p.step(sample, v)
    assert trained.maps is None and trained.maps_of == "trained"
    out = p.step(sample, v.updated(maps_of="ablated"))
    assert out.maps_of == "ablated" and out.result is trained.result  # the trained analysis is reused
    assert out.maps.detections == out.ablation.after  # the maps are the ablated model's
    assert not np.array_equal(out.maps.cam, trained.result.cam)
    assert out.fields()["maps"]["of"] == "ablated"
    with pytest.raises(ValueError, match="maps_of"):
        ViewState(maps_of="both")


def test_a_strict_pipeline_follows_an_object_through_frames_with_fewer_detections(monkeypatch):
    a, b = det(10, 10, 30, 30, 0.8), det(60, 10, 90, 40, 0.99)
    scripted(monkeypatch, {0: [b, a], 1: [b], 2: [b, det(12, 10, 32, 30)]})
    p = FramePipeline(object(), sequential=True)  # the export's: no lenient fallbacks
    v = ViewState(Settings(method="none", target=1))
    assert p.step(painted(0, 0.0), v).target.index == 1
    gone = p.step(painted(1, 0.2), v)  # the guess (index 1) is not in this frame: no error, all detections
    assert gone.target == TargetSpec("all") and "not in this frame" in gone.result.note
    assert p.step(painted(2, 0.4), v).target.index == 1  # back, under its index on this frame
