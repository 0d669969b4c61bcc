"""The Grad-CAM family on YOLO through pytorch-grad-cam's own classes.

YOLO plugs in the way the library intends: the model already returns one prediction tensor, and
:class:`YoloTarget` is a target callable that scores the predictions a user asks about (what a row
holds is the business of the head's adapter, :mod:`gam_gui.heads`). The CAM
classes' own ``get_cam_weights`` / ``get_cam_image`` / ``compute_cam_per_layer`` /
``aggregate_multi_layers`` turn activations and gradients into maps; what gam-gui changes is only how
those activations and gradients are obtained, so that the maps stay the library's:

* :class:`LayerCapture` (a pytorch-grad-cam ``ActivationsAndGradients``) records the chosen layers
  during the detection forward itself. The forward runs without autograd up to the first chosen
  layer, whose output becomes the leaf of the graph: the graph (and later the backward) covers only
  the layers from there to the head, and no weight or input gradients are ever computed.
* :func:`layer_gradients` runs the backward with ``torch.autograd.grad`` instead of tensor hooks, so
  one call can serve many targets (``is_grads_batched``: one CAM per detection from one forward),
  and splits it at the detection head: a box predicted on the stride-8 level has a zero gradient on
  the stride-16/32 branches, so the backward only walks the branches its level depends on.
* :func:`top_component_projection` (used by :class:`FastEigenCAM` / :class:`FastEigenGradCAM`): the
  library computes a full SVD of the (H*W, C) activations (a 6400 x 6400 U at 80 x 80) to use one
  right singular vector; a QR of the tall matrix followed by the SVD of its small R gives the same
  vector, sign included, because that is exactly the path LAPACK's ``gesdd`` takes internally.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from pytorch_grad_cam import (
    EigenCAM,
    EigenGradCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    XGradCAM,
)
from pytorch_grad_cam.activations_and_gradients import ActivationsAndGradients
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from torch import nn

from gam_gui.heads import ANCHOR_LAYOUT, HeadAdapter, Location, locate

LOGGER = logging.getLogger(__name__)

_BLAS: Any = None  # numpy's BLAS libraries as threadpoolctl controllers (False: none found)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit numpy's BLAS/LAPACK to one thread for the SVDs of EigenCAM.

    OpenBLAS threads that spin next to PyTorch's OpenMP threads (or a busy neighbour process) turn a
    millisecond SVD into seconds on a 2-core machine; the matrices here are far too small to gain
    from threads anyway. The controllers are found once (that scans the loaded libraries); setting
    and restoring the thread count is then two cheap calls per library.
    """
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController().select(user_api="blas").lib_controllers or False
        except Exception:  # noqa: BLE001 - threadpoolctl is optional; the maps are the same without it
            _BLAS = False
    if not _BLAS:
        yield
        return
    saved = [c.num_threads for c in _BLAS]
    for c in _BLAS:
        c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in zip(_BLAS, saved, strict=True):
            c.set_num_threads(n)


def top_component_projection(activation_batch: np.ndarray) -> np.ndarray:
    """Same result as ``pytorch_grad_cam.utils.svd_on_activations.get_2d_projection``: the centred
    activations projected on their first principal direction.

    LAPACK's ``gesdd`` (what ``np.linalg.svd`` calls, in double precision) handles a tall M x N matrix
    with M >= 11 N / 6 by a QR factorisation first and takes the right singular vectors from the SVD
    of R, and a wide one with N >= 11 M / 6 by an LQ factorisation and the SVD of L; other shapes
    it bidiagonalises directly. Doing the same here, but without forming the M x M (full) or
    M x N (economy) U, or the N x N Q of the LQ, yields the library's vector with the library's
    sign at a fraction of the cost.
    """
    a = np.nan_to_num(np.asarray(activation_batch))
    out = []
    with single_threaded_blas():
        for act in a:
            c = act.shape[0]
            r = act.reshape(c, -1).T
            r = r - r.mean(axis=0)
            m, n = r.shape
            if m >= int(n * 11.0 / 6.0):  # tall: gesdd takes V from the SVD of R in r = Q R
                rr = np.linalg.qr(r.astype(np.float64), mode="r")
                _, _, vt = np.linalg.svd(rr, full_matrices=False)
                proj = r @ vt[0].astype(r.dtype, copy=False)
            elif n >= int(m * 11.0 / 6.0):  # wide: gesdd factors r = L Q and takes V from the SVD of L
                ll = np.linalg.qr(r.T.astype(np.float64), mode="r").T  # the LQ of r is the QR of r.T
                _, _, vt = np.linalg.svd(ll, full_matrices=False)
                proj = (ll @ vt[0]).astype(r.dtype)  # r @ (vt_L Q)[0] = L vt_L[0]: Q's rows are orthonormal
            else:  # gesdd bidiagonalises r itself
                _, _, vt = np.linalg.svd(r, full_matrices=False)
                proj = r @ vt[0].astype(r.dtype, copy=False)
            out.append(proj.reshape(act.shape[1:]))
    return np.float32(out)


class FastEigenCAM(EigenCAM):
    """EigenCAM with :func:`top_component_projection` (identical maps, no H*W x H*W matrix)."""

    def get_cam_image(self, input_tensor, target_layer, target_category, activations, grads, eigen_smooth):
        return top_component_projection(activations)


class FastEigenGradCAM(EigenGradCAM):
    """EigenGrad-CAM with :func:`top_component_projection`."""

    def get_cam_image(self, input_tensor, target_layer, target_category, activations, grads, eigen_smooth):
        return top_component_projection(grads * activations)


#: Method names (case-insensitive) -> pytorch-grad-cam class; ``none`` disables the CAM.
METHODS: dict[str, type[BaseCAM] | None] = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMPlusPlus,
    "xgradcam": XGradCAM,
    "hirescam": HiResCAM,
    "layercam": LayerCAM,
    "eigencam": FastEigenCAM,
    "eigengradcam": FastEigenGradCAM,
    "none": None,
}
#: ``auto``: Grad-CAM for several detections, HiResCAM for one object (:func:`resolve_method`).
AUTO = "auto"
#: Every method name a user can choose, in the order menus list them.
METHOD_CHOICES: tuple[str, ...] = (AUTO, *METHODS)
#: Methods whose map for one object lights every similar object: their weights pool the gradient
#: over the whole feature map (Grad-CAM and its variants), or ignore the target (EigenCAM). The
#: others (HiResCAM, LayerCAM, EigenGrad-CAM) weigh each position by its own gradient.
CLASS_LEVEL = frozenset({"gradcam", "gradcam++", "xgradcam", "eigencam"})
#: What ``auto`` becomes for one object and for several.
AUTO_ONE_OBJECT, AUTO_SEVERAL = "hirescam", "gradcam"
_ALIASES = {"gradcampp": "gradcam++", "gradcamplusplus": "gradcam++", "grad-cam": "gradcam", "off": "none"}
DISPLAY_NAMES = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM", "hirescam": "HiResCAM",
                 "layercam": "LayerCAM", "eigencam": "EigenCAM", "eigengradcam": "EigenGrad-CAM", "none": "none",
                 AUTO: "Auto"}


def canonical_method(name: str) -> str:
    """Normalise a method name (``auto`` included), or raise ValueError listing the valid ones."""
    key = str(name).strip().lower().replace("_", "").replace(" ", "")
    key = _ALIASES.get(key, key)
    if key not in METHOD_CHOICES:
        raise ValueError(f"unknown CAM method {name!r}; valid: {', '.join(METHOD_CHOICES)}")
    return key


def resolve_method(key: str, one_object: bool) -> str:
    """The method that runs: ``auto`` becomes HiResCAM when the target is one object (its map then
    peaks on that object, where Grad-CAM's pooled weights light every object of the class) and
    Grad-CAM otherwise; any other method stays itself."""
    key = canonical_method(key)
    if key != AUTO:
        return key
    return AUTO_ONE_OBJECT if one_object else AUTO_SEVERAL


def uses_gradients(method: str) -> bool:
    cls = METHODS.get(canonical_method(method))
    return cls is not None and cls not in (FastEigenCAM, EigenCAM)


@dataclass(frozen=True)
class TargetSpec:
    """What the CAM explains.

    ``mode``: ``all`` (objectness x class score), ``class`` (class score), ``box`` (box outputs);
    ``index``: one detection (its position in the detection list); ``cls``: every detection of a class.
    """

    mode: str = "all"
    index: int | None = None
    cls: int | None = None

    @staticmethod
    def parse(target: str | int | TargetSpec) -> TargetSpec:
        if isinstance(target, TargetSpec):
            return target
        if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
            if target < 0:
                raise ValueError(f"detection index must be >= 0, got {target}")
            return TargetSpec("all", index=int(target))
        t = str(target).strip().lower()
        if t in ("all", "class", "box"):
            return TargetSpec(t)
        if t.isdigit():
            return TargetSpec("all", index=int(t))
        if t.startswith("cls:") and t[4:].strip().isdigit():
            return TargetSpec("all", cls=int(t[4:]))
        raise ValueError(f"unknown CAM target {target!r}; use all, class, box, a detection index or cls:<id>")

    @property
    def setting(self) -> str | int:
        """The same target as :attr:`gam_gui.analysis.Settings.target` writes it (an index, ``cls:3``, a mode)."""
        if self.index is not None:
            return self.index
        if self.cls is not None:
            return f"cls:{self.cls}"
        return self.mode

    def label(self, names: dict[int, str] | None = None) -> str:
        if self.index is not None:
            return f"detection #{self.index}"
        if self.cls is not None:
            return f"class {(names or {}).get(self.cls, self.cls)}"
        return {"all": "all detections", "class": "class scores", "box": "box outputs"}[self.mode]


class TargetMissingError(ValueError):
    """The target names a detection the frame does not have. ``index``: the detection asked for;
    ``count``: how many the frame has. A caller that follows objects across frames branches on this
    type (explain all detections instead), never on the message."""

    def __init__(self, index: int, count: int) -> None:
        self.index, self.count = int(index), int(count)
        if count <= 0:
            have = "no detections"
        elif count == 1:
            have = "1 detection (0)"
        else:
            have = f"{count} detections (0-{count - 1})"
        super().__init__(f"target {self.index}: the frame has {have}")


class YoloTarget:
    """pytorch-grad-cam target: a scalar score of chosen rows of one image's predictions.

    ``rows`` are prediction indices (anchor positions) and ``classes`` their classes, as kept by NMS;
    ``adapter`` (:func:`gam_gui.heads.adapter_for`) says what the rows hold and which score a mode
    differentiates (default: the YOLOv5 layout).
    """

    def __init__(self, rows: torch.Tensor, classes: torch.Tensor, mode: str = "all",
                 adapter: HeadAdapter | None = None) -> None:
        self.rows, self.classes, self.mode = rows.long(), classes.long(), mode
        self.adapter = adapter if adapter is not None else ANCHOR_LAYOUT

    def scores(self, rows: torch.Tensor) -> torch.Tensor:
        """One score per target from one image's prediction rows (N, C): what a batched backward
        differentiates, one target per row."""
        return self.adapter.target_scores(rows[self.rows], self.classes, self.mode)

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        """The summed score from one image's model output, as pytorch-grad-cam calls a target."""
        return self.scores(self.adapter.image_rows(output)).sum()


def renormalize_in_boxes(cam: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Normalise the CAM inside each box separately and zero it outside (EigenCAM-tutorial style),
    so every detected object shows its own hot spot."""
    if not boxes:
        return cam
    out = np.zeros_like(cam)
    h, w = cam.shape
    for x1, y1, x2, y2 in boxes:
        a, b = int(max(0, np.floor(x1))), int(min(w, np.ceil(x2)))
        c, d = int(max(0, np.floor(y1))), int(min(h, np.ceil(y2)))
        if b <= a or d <= c:
            continue
        roi = cam[c:d, a:b]
        lo, hi = float(roi.min()), float(roi.max())
        norm = (roi - lo) / (hi - lo) if hi > lo else np.zeros_like(roi)
        out[c:d, a:b] = np.maximum(out[c:d, a:b], norm)
    mx = float(out.max())
    return out / mx if mx > 0 else out


class LayerCapture(ActivationsAndGradients):
    """pytorch-grad-cam's activation recorder, adapted to a forward that also serves detection.

    With ``track=True`` the forward is meant to run without autograd (``torch.inference_mode()`` or
    ``torch.no_grad()``): the first chosen layer to run replaces its output by a leaf that requires
    grad and switches recording on (leaving inference mode if it was on), so the graph covers only
    the chosen layers and what lies between them and the head. The caller must call
    :meth:`end_forward` right after the forward, inside its own context, to undo that switch.

    ``outputs`` keeps those graph-attached outputs for :func:`layer_gradients`; ``activations`` holds
    the detached copies the library's CAM code reads, as the stock recorder does. ``gradients`` is
    filled by the caller rather than by tensor hooks: a hook cannot tell the targets of a batched
    backward apart. Hooks are registered in the constructor; call :meth:`release`.
    """

    def __init__(self, model: nn.Module, target_layers: Sequence[nn.Module], track: bool = True) -> None:
        self.track = track
        self.outputs: list[torch.Tensor] = []
        self._mode: contextlib.AbstractContextManager | None = None
        super().__init__(model, list(target_layers), None, detach=True)

    def save_activation(self, module: nn.Module, input: Any, output: torch.Tensor) -> torch.Tensor | None:
        if self.track:
            if not output.requires_grad:
                if torch.is_inference_mode_enabled() and self._mode is None:
                    self._mode = torch.inference_mode(False)
                    self._mode.__enter__()
                torch.set_grad_enabled(True)
                # an inference tensor cannot become a leaf: clone it (outside inference mode) first
                output = (output.clone() if output.is_inference() else output.detach()).requires_grad_(True)
            self.outputs.append(output)
        super().save_activation(module, input, output)
        return output if self.track else None

    def save_gradient(self, module: nn.Module, input: Any, output: torch.Tensor) -> None:
        return None

    def end_forward(self) -> None:
        """Return to the autograd mode of the caller's context (call inside that context)."""
        if self._mode is not None:
            mode, self._mode = self._mode, None
            mode.__exit__(None, None, None)

    def clear(self) -> None:
        super().clear()
        self.outputs.clear()

    def release(self) -> None:
        self.end_forward()
        super().release()
        self.outputs.clear()


class HeadCapture:
    """Forward hooks on the head's score convs and the other per-level convs its adapter names
    (:class:`~gam_gui.heads.HeadAdapter`): their inputs and outputs, graph attached, for
    :func:`layer_gradients` and :func:`target_gradients`. ``inputs``/``outputs`` are per level (the
    score convs); ``extra`` holds the other convs' outputs (the anchor-free box branch)."""

    def __init__(self, adapter: HeadAdapter) -> None:
        self.adapter = adapter
        self.convs = list(adapter.score_convs)
        self.inputs: list[torch.Tensor | None] = [None] * len(self.convs)
        self.outputs: list[torch.Tensor | None] = [None] * len(self.convs)
        self.extra: list[tuple[int, torch.Tensor | None]] = [(j, None) for j, _ in adapter.extra_convs]
        self._handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(self.convs)]
        self._handles += [m.register_forward_hook(self._extra_hook(i)) for i, (_, m) in enumerate(adapter.extra_convs)]

    @property
    def logit_scales(self) -> list[torch.Tensor | None] | None:
        return self.adapter.logit_scales

    def _hook(self, i: int):
        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            x = args[0] if args else None
            self.inputs[i] = x if isinstance(x, torch.Tensor) else None
            self.outputs[i] = out if isinstance(out, torch.Tensor) else None

        return hook

    def _extra_hook(self, i: int):
        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            self.extra[i] = (self.extra[i][0], out if isinstance(out, torch.Tensor) else None)

        return hook

    def locate(self, pred: torch.Tensor, rows: torch.Tensor) -> list[Location] | None:
        """(level, anchor, y, x) of each prediction row of ``pred`` (B, N, C), or None when the
        head is not laid out as its adapter says (:func:`gam_gui.heads.locate`)."""
        if any(x is None for x in self.inputs):
            return None
        return locate(self.adapter, self.outputs, int(pred.shape[1]), int(pred.shape[2]), rows.tolist())

    def level_tensors(self, levels: Sequence[int] | None = None) -> list[torch.Tensor]:
        """The graph-attached per-level head tensors of ``levels`` (default: all) through which the
        predictions depend on the feature maps: where :func:`layer_gradients` splits the backward."""
        chosen = range(len(self.outputs)) if levels is None else levels
        out = [self.outputs[j] for j in chosen]
        out += [t for j, t in self.extra if j in chosen]
        return [t for t in out if t is not None and t.requires_grad]

    def release(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.inputs = [None] * len(self.convs)
        self.outputs = [None] * len(self.convs)
        self.extra = [(j, None) for j, _ in self.extra]


def _nonzero(t: torch.Tensor) -> bool:
    return bool(t.abs().amax() > 0)


def _vjp(outputs: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor], cotangents: Sequence[torch.Tensor],
         batched: bool) -> tuple[torch.Tensor | None, ...]:
    """``torch.autograd.grad`` that keeps the graph, tolerates unused inputs, and falls back from a
    vmapped (``is_grads_batched``) backward to a loop when some op has no batching rule."""
    if not batched:
        return torch.autograd.grad(outputs, inputs, cotangents, retain_graph=True, allow_unused=True)
    n = cotangents[0].shape[0]
    if n == 1:
        g = torch.autograd.grad(outputs, inputs, [c[0] for c in cotangents], retain_graph=True, allow_unused=True)
        return tuple(None if x is None else x.unsqueeze(0) for x in g)
    try:
        return torch.autograd.grad(outputs, inputs, cotangents, retain_graph=True, allow_unused=True,
                                   is_grads_batched=True)
    except RuntimeError as e:  # an op without a vmap rule: same gradients, one backward per target
        LOGGER.debug("batched backward unavailable (%s); one backward per target", e)
        per = [torch.autograd.grad(outputs, inputs, [c[k] for c in cotangents], retain_graph=True,
                                   allow_unused=True) for k in range(n)]
        return tuple(None if per[0][i] is None else torch.stack([p[i] for p in per])
                     for i in range(len(inputs)))


def layer_gradients(scores: torch.Tensor, layer_outputs: Sequence[torch.Tensor],
                    level_outputs: Sequence[torch.Tensor | None] | None = None) -> list[torch.Tensor | None]:
    """Gradients of CAM target ``scores`` with respect to ``layer_outputs`` (each (1, C, H, W)); None
    stands for a zero gradient (a layer the targets do not depend on).

    A scalar ``scores`` (one target) gives one (1, C, H, W) gradient per layer, what
    ``loss.backward()`` leaves in the library's gradient hooks. A vector of K scores gives (K, C, H, W)
    per layer, row k being the gradient of ``scores[k]`` alone, from batched backward passes.

    ``level_outputs``: the head's per-level tensors (:func:`head_levels`). The gradients are first
    taken with respect to them (a cheap backward through the box decoding only), then pushed down
    the branches of the levels the targets touch; the other branches would only carry zeros. This is
    the generic path; :func:`head_gradients` is faster when the head's layout is known.
    """
    ins = list(layer_outputs)
    batched = scores.dim() == 1
    k = scores.numel() if batched else 1
    shapes = [(k,) + tuple(o.shape[1:]) for o in ins]
    levels = [t for t in (level_outputs or []) if t is not None and t.requires_grad]
    seeds = [torch.eye(k, dtype=scores.dtype, device=scores.device)] if batched else [torch.ones_like(scores)]
    if not levels:
        grads = _vjp([scores], ins, seeds, batched)
        return [None if g is None else g.reshape(sh) for g, sh in zip(grads, shapes, strict=True)]
    level_grads = _vjp([scores], levels, seeds, batched)
    if not batched:
        pairs = [(t, g) for t, g in zip(levels, level_grads, strict=True) if g is not None and _nonzero(g)]
        if not pairs:
            return [None] * len(ins)
        grads = _vjp([t for t, _ in pairs], ins, [g for _, g in pairs], False)
        return list(grads)
    out: list[torch.Tensor | None] = [None] * len(ins)
    for t, g in zip(levels, level_grads, strict=True):
        if g is None:
            continue
        sel = (g.reshape(k, -1).abs().amax(1) > 0).nonzero()[:, 0]
        if not len(sel):
            continue
        grads = _vjp([t], ins, [g[sel]], True)
        for i, gi in enumerate(grads):
            if gi is None:
                continue
            if out[i] is None:
                out[i] = torch.zeros(shapes[i], dtype=gi.dtype, device=gi.device)
            out[i][sel] += gi.reshape((len(sel),) + shapes[i][1:])
    return out


def _by_level(where: list[Location]) -> dict[int, list[int]]:
    """Target indices grouped by the head level their prediction lies on (levels in order)."""
    groups: dict[int, list[int]] = {}
    for i, w in enumerate(where):
        groups.setdefault(w[0], []).append(i)
    return dict(sorted(groups.items()))


def _pixel_gradients(target: YoloTarget, pred: torch.Tensor, where: list[Location], head: HeadCapture,
                     levels: dict[int, list[int]]) -> dict[int, np.ndarray]:
    """Per level, (n, k) float64: each target's gradient at the head's score conv output, over the
    ``k`` channels of its own anchor at its own pixel (the only place it is non-zero).

    In closed form (:meth:`~gam_gui.heads.HeadAdapter.logit_gradients`) when the adapter knows the
    scores are sigmoids of that conv; otherwise from one small backward of the summed score through
    the box decoding (the scores of distinct rows do not interact, so each target's share can be
    read off the sum's gradient). These are a few values per detection: numpy handles them in
    microseconds, where each torch call costs tens.
    """
    adapter = head.adapter
    k = adapter.block(int(pred.shape[-1]))
    live = {j: m for j, m in levels.items() if head.outputs[j] is not None and head.outputs[j].requires_grad}
    g = None
    if adapter.closed_form:
        p = pred[0].detach().cpu().numpy()[target.rows.cpu().numpy()].astype(np.float64)
        g = adapter.logit_gradients(p, target.classes.cpu().numpy(), target.mode)
    result: dict[int, np.ndarray] = {}
    if g is not None:
        g = g[:, adapter.logit_columns]
        for j, members in live.items():
            gj = g[members]
            scale = adapter.logit_scales[j]
            if scale is not None:  # IDetect: logits = conv output * ImplicitM
                anchors = [where[i][1] for i in members]
                gj = gj * scale.detach().cpu().double().numpy().reshape(-1, k)[anchors]
            result[j] = gj
        return result
    if not live:
        return result
    with torch.enable_grad():
        score = target.scores(pred[0]).sum()
    outs = [head.outputs[j] for j in live]
    grads = torch.autograd.grad(score, outs, retain_graph=True, allow_unused=True) if score.requires_grad else ()
    for (j, members), gl in zip(live.items(), grads, strict=True):
        if gl is None:
            continue
        a, y, x = (np.array(v) for v in zip(*(where[i][1:] for i in members), strict=True))
        result[j] = gl[0].detach().cpu().double().numpy().reshape(-1, k, gl.shape[2], gl.shape[3])[a, :, y, x]
    return result


def _input_vectors(target: YoloTarget, pred: torch.Tensor, where: list[Location],
                   head: HeadCapture) -> list[tuple[int, list[int], np.ndarray, np.ndarray, np.ndarray]]:
    """Per level whose score conv input is in the graph: ``(level, targets, y, x, v)``, ``v`` (n, C)
    being each target's gradient at its own pixel ``(y, x)`` of the 1x1 conv's input: ``W^T g`` of
    its gradient at the conv output (:func:`_pixel_gradients`), the only pixel where it is non-zero."""
    levels = _by_level(where)
    live = {j: m for j, m in levels.items() if head.inputs[j] is not None and head.inputs[j].requires_grad}
    result = []
    for j, gsel in _pixel_gradients(target, pred, where, head, live).items():
        members = live[j]
        c, k = head.inputs[j].shape[1], gsel.shape[1]
        a, y, x = (np.array(v) for v in zip(*(where[i][1:] for i in members), strict=True))
        w = head.convs[j].weight.detach().cpu().double().numpy().reshape(-1, k, c)  # (na, k, C)
        result.append((j, members, y, x, np.einsum("nk,nkc->nc", gsel, w[a])))
    return result


def _pixel_route(target: YoloTarget, head: HeadCapture) -> bool:
    """Whether the targets' scores depend on the features only through the score convs (so that
    one pixel of a score conv carries a target's whole gradient)."""
    return not head.adapter.extra_convs or target.mode != "box"


def _input_seeds(target: YoloTarget, pred: torch.Tensor, where: list[Location],
                 head: HeadCapture) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """(score conv input, its cotangent) per level for the summed score of ``target``, in closed
    form, or None when the adapter has no closed form or the mode is ``box``.

    A target's gradient at its level's 1x1 score conv output is ``k`` values at one pixel, so at
    the conv's input it is ``W^T g`` at that pixel (:func:`_input_vectors`): the backward can start
    at the conv inputs (on the GAM recipe, the GAM blocks' own outputs) and the head's score convs
    are never differentiated.
    """
    if not head.adapter.closed_form or target.mode not in ("all", "class"):
        return None
    seeds = []
    for j, _, y, x, v in _input_vectors(target, pred, where, head):
        xin = head.inputs[j]
        cot = torch.zeros(tuple(xin.shape), dtype=xin.dtype)
        cn = cot.numpy()[0]
        for i in range(len(v)):  # repeated pixels add up, as in the summed score's gradient
            cn[:, y[i], x[i]] += v[i]
        seeds.append((xin, cot.to(xin.device)))
    return seeds


def _head_cotangents(target: YoloTarget, pred: torch.Tensor, where: list[Location],
                     head: HeadCapture) -> list[tuple[int, list[int], torch.Tensor]]:
    """Per-target gradients at the inputs of the head's score convs, per level: ``(level, targets,
    cotangent (n, 1, C, H, W))``, each target's non-zero at its own pixel only (:func:`_input_vectors`)."""
    result = []
    for j, members, y, x, v in _input_vectors(target, pred, where, head):
        xin = head.inputs[j]
        cot = torch.zeros((len(members),) + tuple(xin.shape), dtype=xin.dtype)
        cot.numpy()[np.arange(len(members)), 0, :, y, x] = v
        result.append((j, members, cot.to(xin.device)))
    return result


def head_gradients(target: YoloTarget, pred: torch.Tensor, layer_outputs: Sequence[torch.Tensor],
                   head: HeadCapture | None) -> list[torch.Tensor | None]:
    """Gradients of ``target``'s summed score (over ``pred[0]``, the rows (1, N, C) of one image)
    with respect to ``layer_outputs``, as :func:`layer_gradients` gives them, by the cheapest route.

    With a closed form (:attr:`~gam_gui.heads.HeadAdapter.closed_form`) the backward starts at the
    score convs' inputs, from cotangents made in closed form (:func:`_input_seeds`): no backward
    through the box decoding of all predictions or through the score convs, and the branches of
    levels without a target are never walked. Otherwise, when the rows touch only some levels
    (small objects: the stride-8 level alone), the backward starts at those levels' head tensors
    (on this model that halves it); when they touch all of them, one plain backward from the score
    is cheapest. The levels come from :meth:`HeadCapture.locate`, without a backward.
    """
    ins = list(layer_outputs)
    where = head.locate(pred, target.rows) if head is not None else None
    if where is not None and _pixel_route(target, head):
        seeds = _input_seeds(target, pred, where, head)
        if seeds is not None:
            if not seeds:
                return [None] * len(ins)
            return list(torch.autograd.grad([t for t, _ in seeds], ins, [c for _, c in seeds], retain_graph=True,
                                            allow_unused=True))
    with torch.enable_grad():
        score = target.scores(pred[0]).sum()
    if where is not None:
        feeding = [j for j, t in enumerate(head.outputs) if t is not None and t.requires_grad]
        touched = sorted({w[0] for w in where} & set(feeding))
        if not touched:
            return [None] * len(ins)
        if len(touched) < len(feeding):
            return layer_gradients(score, ins, head.level_tensors(touched))
    return list(torch.autograd.grad(score, ins, retain_graph=True, allow_unused=True))


def target_gradients(target: YoloTarget, pred: torch.Tensor, layer_outputs: Sequence[torch.Tensor],
                     head: HeadCapture | None) -> list[tuple[list[int], list[torch.Tensor | None]]]:
    """Per-target gradients for the K targets of ``target`` (each the score of prediction
    ``target.rows[k]`` of ``pred[0]``): groups ``(target indices, [(n, C, H, W) gradient or None
    (zero) per layer])``.

    With a known head layout (:meth:`HeadCapture.locate`) and distinct rows, a target's gradient at
    its level's score conv is one pixel (:func:`_pixel_gradients`), the 1x1 conv's backward at that
    pixel is a matrix-vector product, and each level's targets then go down their own branch in one
    batched backward (``is_grads_batched``) starting at the conv's input. A stride-8 prediction
    needs no backward through the neck at all. Otherwise (another head, repeated rows, the
    anchor-free box outputs): :func:`layer_gradients` for all targets at once.
    """
    ins = list(layer_outputs)
    rows = target.rows
    k = rows.numel()
    where = head.locate(pred, rows) if head is not None else None
    if where is None or len(set(rows.tolist())) != k or not _pixel_route(target, head):
        with torch.enable_grad():
            scores = target.scores(pred[0])
        return [(list(range(k)), layer_gradients(scores, ins, head.level_tensors() if head is not None else None))]
    groups = []
    covered: set[int] = set()
    for j, members, cot in _head_cotangents(target, pred, where, head):
        grads = _vjp([head.inputs[j]], ins, [cot], True)
        groups.append((members, [None if t is None else t.reshape((len(members),) + tuple(o.shape[1:]))
                                 for t, o in zip(grads, ins, strict=True)]))
        covered.update(members)
    rest = [i for i in range(k) if i not in covered]  # on a level the chosen layers do not feed
    if rest:
        groups.append((rest, [None] * len(ins)))
    return groups


@dataclass
class CamBatch:
    """``n`` CAMs at input size (:func:`cam_batch`) and, per map, the range of the method's own maps
    before any normalisation: ``lo``/``hi`` (n,), the min and max over the chosen layers of each
    layer's map after the method's ReLU and before pytorch-grad-cam's ``scale_cam_image``."""

    maps: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def range(self, i: int = 0) -> tuple[float, float]:
        return float(self.lo[i]), float(self.hi[i])


def cam_batch(cam: BaseCAM, input_tensor: torch.Tensor, targets: list[Any], activations: Sequence[np.ndarray],
              grads: Sequence[np.ndarray | None], n: int = 1) -> CamBatch:
    """``n`` CAMs at input size from the layers' activations (each (1, C, H, W)) and gradients (each
    (n, C, H, W), or None for a gradient that is zero), through the CAM object's own
    ``get_cam_image`` (hence its ``get_cam_weights``): what ``compute_cam_per_layer`` followed by
    ``aggregate_multi_layers`` compute, less their last normalisation. A layer whose gradient is
    None contributes a zero map and is not computed.

    The maps are the per-layer mean of the min-max normalised, resized layer maps, *before* the
    final ``scale_cam_image``: callers normalise once more anyway (to the frame, to a maximum of 1),
    and ``(m - min) / max`` commutes with that up to rounding. The library's version stacks all
    layers at input size, clips, averages and rescales: four (n, L, H, W) passes; here each layer
    map is resized into one accumulator.
    """
    width, height = cam.get_target_width_height(input_tensor)
    acc = np.zeros((n, height, width), np.float32)
    lo, hi = np.full(n, np.inf, np.float32), np.full(n, -np.inf, np.float32)
    first = True
    for li, (layer, a) in enumerate(zip(cam.target_layers, activations, strict=True)):
        g = grads[li] if li < len(grads) else None
        if g is None and cam.uses_gradients:
            # A zero gradient gives a zero map in every gradient method here (zero weights, or
            # zero grads times activations), and a zero layer adds nothing to the mean: skip it.
            np.minimum(lo, 0, out=lo)
            np.maximum(hi, 0, out=hi)
            continue
        a_n = np.broadcast_to(a, (n,) + tuple(a.shape[1:]))
        c = np.maximum(cam.get_cam_image(input_tensor, layer, targets, a_n, g, False), 0)
        flat = c.reshape(len(c), -1)
        np.minimum(lo, flat.min(1), out=lo)
        np.maximum(hi, flat.max(1), out=hi)
        c = scale_cam_image(c)  # per map (img - min) / (1e-7 + max), at layer resolution
        for i in range(n):
            if first:
                cv2.resize(c[i], (width, height), dst=acc[i])
            else:
                acc[i] += cv2.resize(c[i], (width, height))
        first = False
    if len(activations) > 1:
        acc /= len(activations)
    if not np.isfinite(lo).all():  # no layer at all
        lo, hi = np.zeros(n, np.float32), np.zeros(n, np.float32)
    return CamBatch(acc, lo, hi)
