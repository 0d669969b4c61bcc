"""What the analysis worker sends the window: plain data (numpy panels, no Qt objects but a translated
caption), made on the worker's thread and painted on the GUI thread."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PyQt5.QtCore import QCoreApplication

from gam_gui import render
from gam_gui.ablation import AblationResult
from gam_gui.analysis import LayerInfo, Result, Settings, default_layers, list_layers
from gam_gui.compare import CompareResult
from gam_gui.explain.blocks import block_list
from gam_gui.pipeline import FrameOutput
from gam_gui.sources import Frame

NO_MODEL_TEXT = "no model loaded: File > Open weights"
#: Panels are sent to the GUI at most this large (long side): painting a 4K frame four times per
#: frame would make the GUI thread the bottleneck. Exports re-render at full resolution.
DISPLAY_MAX = 1280


@dataclass
class ModelInfo:
    """What the controls need to know about a loaded model (the model itself stays in the worker)."""

    path: str
    name: str
    names: dict[int, str]
    layers: list[LayerInfo]
    gam_layers: tuple[int, ...]
    default_layers: tuple[int, ...]
    imgsz: int | None
    device: str
    gam_variant: str = ""  # which GAM forward the loader inferred for each block, and why
    #: every attention block (GAM and the registry's other kinds) as (layer index, kind, variant)
    blocks: tuple[tuple[int, str, str], ...] = ()

    @classmethod
    def of(cls, model: Any, path: str) -> ModelInfo:
        """A loaded model's description (its layers are probed at its own input size, else 320)."""
        meta = getattr(model, "meta", {}) or {}
        imgsz = int(meta.get("imgsz") or 0) or None
        layers = list_layers(model, imgsz or 320)
        return cls(path=path, name=Path(path).stem, names=dict(getattr(model, "names", {}) or {}), layers=layers,
                   gam_layers=tuple(x.index for x in layers if x.is_gam), default_layers=default_layers(model),
                   imgsz=imgsz, device=str(next(model.parameters()).device),
                   gam_variant=str(getattr(model, "variant_reason", "") or ""), blocks=block_list(model))


@dataclass
class SourceInfo:
    label: str
    kind: str
    live: bool
    count: int | None
    fps: float | None
    spec: str


@dataclass
class FrameResult:
    """One analysed (or, without a model, raw) frame, ready to paint; ``output`` is the pipeline's
    answer, whose :meth:`~gam_gui.pipeline.FrameOutput.figure` is what Save and Record write."""

    frame: Frame
    result: Result | None
    settings: Settings
    panels: list[render.Panel]  # display copies, at most DISPLAY_MAX on the long side
    highlight: int | None
    source: SourceInfo | None
    position: int  # the source's next frame
    latest_index: int  # newest frame index the source had produced when this was emitted
    produced: int  # frames the source produced so far (live) or frame index + 1 (files)
    analyzed: int  # frames the model analysed so far on this source
    dropped: int  # frames skipped to keep up
    playing: bool
    fps: float  # analysed frames per second over the last few frames (0 when not playing)
    extra: dict = field(default_factory=dict)
    ablation: AblationResult | None = None  # the ablation shown on this frame (its match table)
    compare: CompareResult | None = None  # the A/B comparison shown instead of the normal panels
    names: tuple[str, str] = ("A", "B")  # the two models' names in a comparison
    output: FrameOutput | None = None  # None without a model or when the analysis failed
    maps_of: str = "trained"  # which model the CAM and GAM panels show in the ablation view



def display_copy(panel: render.Panel) -> render.Panel:
    h, w = panel.image.shape[:2]
    scale = DISPLAY_MAX / max(h, w)
    if scale >= 1:
        return panel
    img = cv2.resize(panel.image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return dataclasses.replace(panel, image=img)


def raw_panels(frame: Frame, text: str) -> list[render.Panel]:
    """The frame alone, for when there is nothing to analyse it with."""
    img = frame.image
    dim = render.message_panel(img, text)
    return [render.Panel("detections", img, "Frame", text), render.Panel("cam", dim, "Grad-CAM", "-"),
            render.Panel("gam_channel", dim, "GAM channel", "-"), render.Panel("gam_spatial", dim, "GAM spatial", "-")]


def channel_weights(fr: FrameResult | None, gam_layer: int | None) -> tuple[np.ndarray | None, str]:
    """The per-channel attention the bar chart shows (the shown block's channel gate, one mean weight
    per channel), and its caption; None with the reason where the block has no channel gate."""
    translate = QCoreApplication.translate
    if fr is None or fr.result is None:
        return None, translate("ChannelBarChart", "Channel attention")
    b = fr.result.block_for(gam_layer)
    if b is None and fr.result.gam_for(gam_layer) is None:
        return None, translate("ChannelBarChart", "Channel attention: {0}").format(
            translate("render", render.NO_GAM_TEXT))
    if b is None or b.gam is not None:
        g = fr.result.gam_for(gam_layer)
        text = translate("ChannelBarChart", "Channel attention, GAM layer {0} ({1} channels)")
        return g.channel_weights, text.format(g.index, len(g.channel_weights))
    gm = next((m for m in b.gates.values() if m.gate.kind == "channel" and m.weights is not None), None)
    if gm is None:
        return None, translate(
            "ChannelBarChart", "Channel attention: {0} at layer {1} has no channel gate (its gates: {2}); the "
            "attention panels show them").format(b.kind, b.index, ", ".join(b.gate_order))
    return gm.weights, translate(
        "ChannelBarChart", "Channel attention, {0} {1} gate at layer {2} ({3} channels)").format(
        b.kind, gm.gate.name, b.index, len(gm.weights))
