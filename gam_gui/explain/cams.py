"""The Grad-CAM family on YOLO through pytorch-grad-cam's own classes.

YOLO plugs in the way the library intends: the model already returns one (B, N, 5 + nc) tensor, and
:class:`YoloTarget` is a target callable that scores the predictions a user asks about. The CAM
classes are used unmodified except for two drop-in speed-ups that give the same maps:

* ``gradient_from``: weights and the input do not require gradients during a CAM call, and the first
  chosen layer's output becomes the leaf of the graph. The backward then runs only from the head
  down to the chosen layers, with no weight gradients: the gradients the CAM reads are the same,
  at a fraction of the cost.
* :class:`FastEigenCAM` / :class:`FastEigenGradCAM`: the library computes a full SVD of the
  (H*W, C) activations (a 6400 x 6400 U at 80 x 80) to use one right singular vector; the economy
  SVD gives the same vector without that matrix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

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
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn


def top_component_projection(activation_batch: np.ndarray) -> np.ndarray:
    """Same result as ``pytorch_grad_cam.utils.svd_on_activations.get_2d_projection``: the centred
    activations projected on their first principal direction, by the economy SVD."""
    a = np.nan_to_num(activation_batch)
    out = []
    for act in a:
        c = act.shape[0]
        r = act.reshape(c, -1).T
        r = r - r.mean(axis=0)
        # Same LAPACK routine as the library's call, so the singular vector's sign matches too.
        _, _, vt = np.linalg.svd(r, full_matrices=False)
        out.append((r @ vt[0]).reshape(act.shape[1:]))
    return np.float32(out)


class FastEigenCAM(EigenCAM):
    """EigenCAM with the economy SVD (identical maps, no H*W x H*W matrix)."""

    def get_cam_image(self, input_tensor, target_layer, target_category, activations, grads, eigen_smooth):
        return top_component_projection(activations)


class FastEigenGradCAM(EigenGradCAM):
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
_ALIASES = {"gradcampp": "gradcam++", "gradcamplusplus": "gradcam++", "grad-cam": "gradcam", "off": "none"}
#: The stock library classes, for comparisons and benchmarks.
STOCK_METHODS: dict[str, type[BaseCAM]] = {
    "gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM, "hirescam": HiResCAM,
    "layercam": LayerCAM, "eigencam": EigenCAM, "eigengradcam": EigenGradCAM,
}
DISPLAY_NAMES = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM", "hirescam": "HiResCAM",
                 "layercam": "LayerCAM", "eigencam": "EigenCAM", "eigengradcam": "EigenGrad-CAM", "none": "none"}


def canonical_method(name: str) -> str:
    """Normalise a method name, or raise ValueError listing the valid ones."""
    key = str(name).strip().lower().replace("_", "").replace(" ", "")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise ValueError(f"unknown CAM method {name!r}; valid: {', '.join(METHODS)}")
    return key


def uses_gradients(method: str) -> bool:
    cls = METHODS[canonical_method(method)]
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

    def label(self, names: dict[int, str] | None = None) -> str:
        if self.index is not None:
            return f"detection #{self.index}"
        if self.cls is not None:
            return f"class {(names or {}).get(self.cls, self.cls)}"
        return {"all": "all detections", "class": "class scores", "box": "box outputs"}[self.mode]


class YoloTarget:
    """pytorch-grad-cam target: a scalar score of chosen rows of one image's (N, 5 + nc) output.

    ``rows`` are prediction indices (anchor positions) and ``classes`` their classes, as kept by NMS.
    """

    def __init__(self, rows: torch.Tensor, classes: torch.Tensor, mode: str = "all") -> None:
        self.rows, self.classes, self.mode = rows.long(), classes.long(), mode

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        p = output[self.rows]
        if self.mode == "box":
            return p[:, :4].sum()
        cls_score = p[:, 5:].gather(1, (self.classes[:, None])) if p.shape[1] > 5 else torch.ones_like(p[:, 4:5])
        if self.mode == "class":
            return cls_score.sum()
        return (p[:, 4:5] * cls_score).sum()


@contextlib.contextmanager
def gradient_from(model: nn.Module, layers: list[nn.Module]) -> Iterator[None]:
    """Build the autograd graph only from ``layers`` to the output (see the module docstring).

    Must be entered before the CAM object registers its own hooks, so the leaf exists when the
    library's gradient hook looks at the layer output.
    """
    saved = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)

    def make_leaf(mod, args, out):
        if isinstance(out, torch.Tensor) and not out.requires_grad:
            return out.detach().requires_grad_(True)
        return None

    handles = [m.register_forward_hook(make_leaf) for m in layers]
    try:
        with torch.enable_grad():
            yield
    finally:
        for h in handles:
            h.remove()
        for p, rg in saved:
            p.requires_grad_(rg)


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
