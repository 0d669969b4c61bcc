"""The explanation engine: one object per model that owns the CAM objects, the hooks and the fast paths.

:func:`explainer` gives a model's :class:`Explainer`, built once and cached weakly: what does not
depend on the frame (the head's adapter, the GAM blocks, the default layers, the pytorch-grad-cam
objects) is found once, as walking the model's ~300 modules per frame costs more than the whole
analysis outside the forward. :meth:`Explainer.run` opens one frame's :class:`CamRun`: it plugs the
hooks in (:class:`~gam_gui.explain.cams.LayerCapture` on the chosen layers, a
:class:`~gam_gui.explain.cams.HeadCapture` on the head), runs the one forward that serves detection
and explanation alike, makes CAMs from it (one summed target, or one per detection from batched
backward passes) and takes every hook out again when the block ends, whatever happens.

pytorch-grad-cam's classes make the maps (``get_cam_weights`` / ``get_cam_image``); the engine only
feeds them activations and gradients obtained more cheaply than the library's own call does (see
:mod:`gam_gui.explain.cams`). The CAM objects are used for that alone: their own recorder is
released at construction and the model reference dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

from gam_gui import validate as V
from gam_gui.explain.attention import find_gam_blocks
from gam_gui.explain.cams import (
    METHODS,
    CamBatch,
    HeadCapture,
    LayerCapture,
    YoloTarget,
    cam_batch,
    head_gradients,
    target_gradients,
    uses_gradients,
)
from gam_gui.heads import HeadAdapter, adapter_for

LOGGER = logging.getLogger(__name__)
#: Targets per batched backward: bounds the memory of per-detection CAMs (K gradients per layer).
BOX_CHUNK = 16


def layer_list(model: nn.Module) -> nn.Sequential:
    """The model's layer list (``model.model``), or TypeError for a model that has none."""
    seq = getattr(model, "model", None)
    if not isinstance(seq, nn.Sequential):
        raise TypeError("not a YOLO layer-list model (no .model Sequential)")
    return seq


def gam_layers(model: nn.Module) -> tuple[int, ...]:
    """Indices of the model's GAM blocks, in layer order."""
    return tuple(i for i, _, _ in find_gam_blocks(model) if i >= 0)


def default_layers(model: nn.Module) -> tuple[int, ...]:
    """The GAM blocks when there are any, else the layers that feed the detection head."""
    gam = gam_layers(model)
    if gam:
        return gam
    seq = layer_list(model)
    f = getattr(seq[-1], "f", -1)
    return tuple(f) if isinstance(f, (list, tuple)) else (len(seq) - 2,)


class Explainer:
    """What explaining one model needs, found once; :meth:`run` explains a frame.

    Holds no reference to the model itself (only to submodules), so the weak cache entry goes away
    with the model. ``lock`` serialises the runs on one model: the hooks are per model.
    """

    def __init__(self, model: nn.Module) -> None:
        seq = layer_list(model)
        self.key = tuple(map(id, seq))
        self.adapter: HeadAdapter = adapter_for(model)
        self.gam_blocks = find_gam_blocks(model)
        self.default_layers = default_layers(model)
        self.num_layers = len(seq)
        #: the layer indices of the GAM blocks (what ``Settings.gam_layer`` may name)
        self.gam_indices = tuple(i for i, _, _ in self.gam_blocks if i >= 0)
        self._chosen: dict[tuple, tuple[int, ...]] = {}
        self.cams: dict[tuple[str, tuple[int, ...]], BaseCAM] = {}
        #: layer choices whose graph cannot start in inference mode (see :meth:`CamRun.forward`)
        self.no_inference_prefix: set[tuple[int, ...]] = set()
        self.lock = threading.RLock()

    def layers(self, chosen: object, name: str = "layers") -> tuple[int, ...]:
        """The CAM layers of a choice: the default ones for ``None`` or empty, else the indices checked
        against this model (negative ones count from the end; ``ValueError`` naming the valid range).
        Each choice is resolved once: the analysis of every later frame looks it up."""
        if chosen is None or (isinstance(chosen, (tuple, list)) and not chosen):
            return self.default_layers
        if isinstance(chosen, (int, np.integer)):
            chosen = (int(chosen),)
        try:
            key = (tuple(chosen), name)  # type: ignore[arg-type]
            hash(key)
        except TypeError:
            return V.check_layer_indices(chosen, self.num_layers, name)  # type: ignore[arg-type]
        got = self._chosen.get(key)
        if got is None:
            got = self._chosen[key] = V.check_layer_indices(key[0], self.num_layers, name)
        return got

    def cam(self, model: nn.Module, key: str, layers: tuple[int, ...]) -> BaseCAM:
        """The method's pytorch-grad-cam object for these layers, built once (its constructor walks
        the whole model for ``model.eval()``); its own recorder is released at once."""
        cam = self.cams.get((key, layers))
        if cam is None:
            seq = layer_list(model)
            cam = METHODS[key](model=model, target_layers=[seq[i] for i in layers])
            cam.activations_and_grads.release()
            cam.activations_and_grads.model = None
            cam.model = None  # never used after construction: the forward is gam-gui's
            self.cams[(key, layers)] = cam
        return cam

    @contextlib.contextmanager
    def run(self, model: nn.Module, layers: tuple[int, ...] | None, gradients: bool) -> Iterator[CamRun]:
        """One frame's explanation with the hooks plugged in for the block's duration.

        ``layers``: the CAM layers in execution order, or None for a run without CAM (the forward
        alone); ``gradients``: whether a method that needs gradients will run (the forward then
        records the graph from the first chosen layer on).
        """
        with self.lock:
            r = CamRun(self, model, layers, gradients)
            try:
                yield r
            finally:
                r.release()


_ENGINES: weakref.WeakKeyDictionary[nn.Module, Explainer] = weakref.WeakKeyDictionary()
_ENGINES_LOCK = threading.Lock()


def explainer(model: nn.Module) -> Explainer:
    """The cached :class:`Explainer` of ``model``, rebuilt when its layer list was changed."""
    key = tuple(map(id, layer_list(model)))
    with _ENGINES_LOCK:
        e = _ENGINES.get(model)
        if e is None or e.key != key:
            e = _ENGINES[model] = Explainer(model)
        return e


def _numpy(ts: Sequence[torch.Tensor | None]) -> list[np.ndarray | None]:
    return [None if t is None else t.detach().cpu().numpy() for t in ts]


class CamRun:
    """One frame: the forward (:meth:`forward`), then any number of CAMs from it (:meth:`cam`,
    :meth:`box_cams`). Made by :meth:`Explainer.run`, which releases it."""

    def __init__(self, engine: Explainer, model: nn.Module, layers: tuple[int, ...] | None, gradients: bool) -> None:
        self.engine, self.model, self.layers = engine, model, layers
        self.gradients = gradients and layers is not None
        seq = layer_list(model)
        self.cap = LayerCapture(model, [seq[i] for i in layers], track=self.gradients) if layers is not None else None
        self.head = HeadCapture(engine.adapter) if self.gradients and engine.adapter.score_convs else None
        self.x: torch.Tensor | None = None
        self.pred: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, recorder: contextlib.AbstractContextManager | None = None) -> torch.Tensor:
        """The one forward, as prediction rows (B, N, C) (:meth:`HeadAdapter.rows`), graph attached
        from the first chosen layer on when gradients will be needed. ``recorder``: a context
        (the GAM maps' hooks) that rides along.

        It runs in inference mode up to the first chosen layer (about 5 % faster than ``no_grad``
        on this model). A layer choice whose graph would have to keep a tensor made in inference
        mode (e.g. a head input from before the first chosen layer, which the head's conv would
        save for its weight gradient) makes PyTorch refuse; the forward is then redone under
        ``no_grad`` and the choice remembered, so that it costs one extra forward once.
        """
        self.x = x
        out = self._forward(x, recorder or contextlib.nullcontext())
        self.pred = self.engine.adapter.rows(out)
        return self.pred

    def _forward(self, x: torch.Tensor, recorder: contextlib.AbstractContextManager) -> torch.Tensor:
        cap, model = self.cap, self.model
        if self.gradients and self.layers in self.engine.no_inference_prefix:
            with recorder, torch.no_grad():
                try:
                    return model(x)
                finally:
                    cap.end_forward()
        try:
            with recorder, torch.inference_mode():
                try:
                    return model(x)
                finally:
                    if cap is not None:
                        cap.end_forward()
        except RuntimeError as e:
            if not self.gradients or "nference tensor" not in str(e):
                raise
            LOGGER.debug("layers %s: inference-mode prefix refused (%s); using no_grad", self.layers, e)
            self.engine.no_inference_prefix.add(self.layers)
            cap.clear()
            return self._forward(x, recorder)

    def target(self, rows: torch.Tensor, classes: torch.Tensor, mode: str) -> YoloTarget:
        """A CAM target on this model's prediction rows."""
        return YoloTarget(rows, classes, mode, self.engine.adapter)

    def _cam_object(self, key: str) -> BaseCAM:
        if self.cap is None or METHODS.get(key) is None:
            raise ValueError(f"{key!r} makes no CAM")
        if uses_gradients(key) and not self.gradients:
            raise ValueError(f"{key!r} needs gradients: open the run with gradients=True")
        return self.engine.cam(self.model, key, self.layers)

    def cam(self, key: str, target: YoloTarget) -> CamBatch:
        """The CAM of one (summed) target at input size, before its final normalisation."""
        cam = self._cam_object(key)
        grads: list[np.ndarray | None] = []
        if cam.uses_gradients:
            grads = _numpy(head_gradients(target, self.pred[0:1], self.cap.outputs, self.head))
        return cam_batch(cam, self.x, [target], _numpy(self.cap.activations), grads, 1)

    def box_cams(self, key: str, rows: torch.Tensor, classes: torch.Tensor, mode: str) -> list[CamBatch]:
        """One CAM per target row (repeats computed once), each a one-map :class:`CamBatch` at input
        size, from batched backward passes of at most :data:`BOX_CHUNK` targets."""
        cam = self._cam_object(key)
        n = int(rows.numel())
        if not n:
            return []
        acts = _numpy(self.cap.activations)
        pairs = list(zip(rows.tolist(), classes.tolist(), strict=True))
        unique = list(dict.fromkeys(pairs))
        if not cam.uses_gradients:  # EigenCAM: the map does not depend on the target; compute it once
            one = cam_batch(cam, self.x, [self.target(rows[:1], classes[:1], mode)], acts, [], 1)
            return [one] + [CamBatch(one.maps.copy(), one.lo, one.hi) for _ in range(n - 1)]
        done: dict[tuple[int, int], CamBatch] = {}
        for s in range(0, len(unique), BOX_CHUNK):
            chunk = unique[s : s + BOX_CHUNK]
            t = self.target(torch.tensor([r for r, _ in chunk]), torch.tensor([c for _, c in chunk]), mode)
            for members, grads in target_gradients(t, self.pred[0:1], self.cap.outputs, self.head):
                if not members:
                    continue
                b = cam_batch(cam, self.x, [t], acts, _numpy(grads), len(members))
                for i, m in enumerate(members):
                    done[chunk[m]] = CamBatch(b.maps[i : i + 1], b.lo[i : i + 1], b.hi[i : i + 1])
        seen: set[tuple[int, int]] = set()
        out = []
        for p in pairs:  # a repeated target gets its own copy of the map
            b = done[p]
            out.append(b if p not in seen else CamBatch(b.maps.copy(), b.lo, b.hi))
            seen.add(p)
        return out

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap.model = None
        if self.head is not None:
            self.head.release()
        self.x = self.pred = None
