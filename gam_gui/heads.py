"""One adapter per detection-head type: the only code that knows how a head lays out its predictions.

Three head families reach gam-gui, with two output contracts:

* YOLOv5 ``Detect`` and YOLOv7 ``Detect``/``IDetect`` (anchor-based): ``model(x)`` is (B, N, 5 + nc),
  xywh in input pixels, then objectness, then class scores, all after a sigmoid of the level's 1x1
  conv output; rows level by level, each level (anchor, y, x) with anchor-major groups of ``no``
  conv channels. A detection's confidence is objectness x class.
* The anchor-free ultralytics ``Detect`` (YOLOv8, YOLO11): ``model(x)`` is (B, 4 + nc, N) (DFL box
  regression, no objectness); rows level by level, y then x, one per cell; the class scores are the
  sigmoid of the last conv of the class branch (``cv3[i][-1]``). A detection's confidence is its
  class score.

Everything above the model (inference, NMS, CAM targets, the closed-form start of the backward)
asks the adapter of :func:`adapter_for` instead of indexing columns itself. The detection tensor
that NMS returns, (n, 7) = xyxy, score, class, prediction row, is gam-gui's own: its columns are
named here (:data:`DET_SCORE`, :func:`det_rows`, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from gam_gui.models.yolov5 import Detect
from gam_gui.models.yolov7 import DetectV7, IDetect

LOGGER = logging.getLogger(__name__)

#: Columns of a detection row (n, 7) as :func:`gam_gui.inference.non_max_suppression` returns it.
DET_SCORE, DET_CLS, DET_ROW = 4, 5, 6


def det_classes(det: torch.Tensor) -> torch.Tensor:
    return det[..., DET_CLS].long()


def det_rows(det: torch.Tensor) -> torch.Tensor:
    """The prediction row (anchor index) each detection came from: what a CAM target differentiates."""
    return det[..., DET_ROW].long()


#: (level, anchor, y, x) of one prediction row.
Location = tuple[int, int, int, int]


class HeadAdapter:
    """The output contract of one head type.

    Prediction layout: :meth:`rows` turns the model's output into rows (B, N, C) whose first four
    columns are the xywh box; :meth:`confidences` gives per-class confidences, :meth:`target_scores`
    the score a CAM target differentiates, :meth:`logit_gradients` its derivative in closed form.

    Head structure (for the fast backward): ``score_convs`` are the per-level 1x1 convs whose output
    channels, after a sigmoid (and ``logit_scales``, YOLOv7's ``ImplicitM``), give the score
    columns ``logit_columns`` of a row; each level's channels come in one block of
    :meth:`block` channels per anchor. ``extra_convs`` are the other per-level outputs a row depends
    on (the anchor-free box branch). ``logit_scales`` is None when the closed form does not apply
    (a head of unknown kind: autograd then starts from the scores).

    This base class is the fallback for a head it does not know: the YOLOv5 layout, no structure.
    """

    kind = "unknown"
    #: whether rows carry an objectness column (confidence = objectness x class)
    objectness = True
    #: which row columns the score conv's per-anchor block of channels produces
    logit_columns = slice(None)

    def __init__(self, head: nn.Module | None = None) -> None:
        self.head = head
        self.score_convs: list[nn.Module] = []
        self.extra_convs: list[tuple[int, nn.Module]] = []  # (level, conv)
        self.logit_scales: list[torch.Tensor | None] | None = None

    # -- prediction layout -------------------------------------------------------------------------
    def rows(self, out: torch.Tensor) -> torch.Tensor:
        """The model's eval output -> prediction rows (B, N, C): xywh, then the score columns."""
        return out

    def image_rows(self, out_i: torch.Tensor) -> torch.Tensor:
        """One image's slice of the model's output (what pytorch-grad-cam hands a target) -> (N, C)."""
        return out_i

    #: the model's eval output for one image, as a message names it
    output_layout = "(1, N, 5 + classes)"

    def output_ok(self, out: Any) -> bool:
        """Whether ``out`` (the eval output of a one-image batch) is a list of detections in this
        head's layout: what the loader's smoke test asks of a model before it is used."""
        if not (isinstance(out, torch.Tensor) and out.ndim == 3 and out.shape[0] == 1):
            return False
        return int(self.rows(out).shape[2]) >= (6 if self.objectness else 5)

    def boxes_xyxy(self, rows: Any) -> Any:
        """(n, C) rows (numpy or torch) -> (n, 4) corner boxes x1, y1, x2, y2 in input pixels (the rows
        hold centre and size): the one place that knows where a row keeps its box."""
        xy, wh = rows[:, :2], rows[:, 2:4] / 2
        if isinstance(rows, torch.Tensor):
            return torch.cat((xy - wh, xy + wh), 1)
        return np.concatenate((xy - wh, xy + wh), 1)

    def num_classes(self, rows: torch.Tensor | np.ndarray) -> int:
        return int(rows.shape[-1]) - (5 if self.objectness else 4)

    def confidences(self, rows: Any) -> Any:
        """(n, C) rows (numpy or torch) -> (n, max(nc, 1)) per-class confidences (a model without
        class columns has one: its objectness)."""
        if not self.objectness:
            return rows[:, 4:]
        return rows[:, 5:] * rows[:, 4:5] if rows.shape[1] > 5 else rows[:, 4:5]

    def candidates(self, a: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of one image's (N, C) float32 predictions that NMS considers: (indices, best
        confidence, its class), confidence above ``conf``."""
        if self.objectness:
            idx = np.flatnonzero(a[:, 4] > conf)  # obj x cls <= obj: a cheap first cut
            rows = a[idx]
        else:
            idx, rows = np.arange(len(a)), a
        scores = self.confidences(rows)
        c = scores.argmax(1)
        score = scores[np.arange(len(c)), c]
        keep = score > conf
        return idx[keep], score[keep], c[keep].astype(np.int64)

    def target_scores(self, p: torch.Tensor, classes: torch.Tensor, mode: str) -> torch.Tensor:
        """(n,) differentiable scores of rows ``p`` (n, C) for a CAM target: ``box`` sums the box
        outputs, ``class`` is the class score, ``all`` the confidence NMS ranks by (objectness x
        class for an objectness head, the class score otherwise)."""
        if mode == "box":
            return p[:, :4].sum(1)
        first = 5 if self.objectness else 4
        if p.shape[1] > first:
            cls_score = p[:, first:].gather(1, classes[:, None])
        else:
            cls_score = torch.ones_like(p[:, :1])
        if mode == "class" or not self.objectness:
            return cls_score[:, 0]
        return (p[:, 4:5] * cls_score)[:, 0]

    def logit_gradients(self, p: np.ndarray, classes: np.ndarray, mode: str) -> np.ndarray | None:
        """(n, C) float64: row k is the derivative of ``target_scores`` of row ``p[k]`` with respect
        to the logits behind its sigmoid columns (``p = sigmoid(z)`` gives ``dp/dz = p (1 - p)``),
        or None for the ``box`` mode (whose decoding also involves the grid and anchors)."""
        if mode not in ("all", "class"):
            return None
        g = np.zeros_like(p)
        n = np.arange(len(p))
        if not self.objectness:
            col = 4 + classes
            cls = p[n, col]
            g[n, col] = cls * (1 - cls)
            return g
        obj = p[:, 4]
        if p.shape[1] > 5:
            col = 5 + classes
            cls = p[n, col]
            if mode == "all":
                g[:, 4] = obj * (1 - obj) * cls
                g[n, col] = cls * (1 - cls) * obj
            else:
                g[n, col] = cls * (1 - cls)
        elif mode == "all":  # no class columns: the score is the objectness
            g[:, 4] = obj * (1 - obj)
        return g

    # -- head structure ----------------------------------------------------------------------------
    def block(self, num_columns: int) -> int:
        """Score-conv channels per anchor for rows of ``num_columns`` columns."""
        return len(range(num_columns)[self.logit_columns])

    @property
    def closed_form(self) -> bool:
        """Whether a target's gradient at the score convs comes in closed form (:meth:`logit_gradients`)."""
        return self.logit_scales is not None


class AnchorAdapter(HeadAdapter):
    """YOLOv5 ``Detect``, YOLOv7 ``Detect`` and ``IDetect`` (and heads laid out like them)."""

    kind = "anchor"

    def __init__(self, head: nn.Module, logit_scales: list[torch.Tensor | None] | None) -> None:
        super().__init__(head)
        self.kind = "yolov7" if isinstance(head, (IDetect, DetectV7)) else "yolov5"
        self.score_convs = list(head.m)
        self.logit_scales = logit_scales


class AnchorFreeAdapter(HeadAdapter):
    """The ultralytics anchor-free ``Detect`` (YOLOv8, YOLO11): DFL boxes, class scores without objectness."""

    kind = "anchor-free"
    objectness = False
    logit_columns = slice(4, None)

    def __init__(self, head: nn.Module) -> None:
        super().__init__(head)
        self.score_convs = [branch[-1] for branch in head.cv3]
        self.extra_convs = [(j, branch[-1]) for j, branch in enumerate(head.cv2)]
        self.logit_scales = [None] * len(self.score_convs)

    output_layout = "(1, 4 + classes, N)"

    def rows(self, out: torch.Tensor) -> torch.Tensor:
        return out.transpose(1, 2)

    def output_ok(self, out: Any) -> bool:
        nc = int(getattr(self.head, "nc", -1))
        return (isinstance(out, torch.Tensor) and out.ndim == 3 and out.shape[0] == 1
                and int(out.shape[1]) == 4 + nc)

    def image_rows(self, out_i: torch.Tensor) -> torch.Tensor:
        return out_i.transpose(0, 1)


def _last_conv(branch: Any) -> bool:
    return isinstance(branch, nn.Sequential) and len(branch) > 0 and isinstance(branch[-1], nn.Conv2d)


def _is_anchor_free(head: nn.Module) -> bool:
    cv2, cv3 = getattr(head, "cv2", None), getattr(head, "cv3", None)
    nl = getattr(head, "nl", None)
    return (isinstance(cv2, nn.ModuleList) and isinstance(cv3, nn.ModuleList) and hasattr(head, "reg_max")
            and isinstance(nl, int) and len(cv2) == len(cv3) == nl and all(map(_last_conv, cv2))
            and all(map(_last_conv, cv3)))


def _anchor_logit_scales(head: nn.Module) -> list[torch.Tensor | None] | None:
    """How the level convs' outputs become the logits of the sigmoid columns: unchanged for the
    YOLOv5/YOLOv7 ``Detect`` (entries None), times ``ImplicitM`` for ``IDetect`` (its (1, C, 1, 1)
    multiplier); None for a head of another kind."""
    if type(head) in (Detect, DetectV7):
        return [None] * int(head.nl)
    if type(head) is IDetect:
        scales = [getattr(im, "implicit", None) for im in head.im]
        if all(isinstance(t, torch.Tensor) and t.dim() == 4 and t.shape[0] == 1 for t in scales):
            return scales
    return None


def adapter_for(model: nn.Module) -> HeadAdapter:
    """The adapter of ``model``'s detection head (its last layer)."""
    seq = getattr(model, "model", None)
    head = seq[-1] if isinstance(seq, nn.Sequential) and len(seq) else None
    if head is None:
        return HeadAdapter()
    if _is_anchor_free(head):
        return AnchorFreeAdapter(head)
    convs = getattr(head, "m", None)
    if isinstance(convs, nn.ModuleList) and len(convs) and len(convs) == int(getattr(head, "nl", len(convs))):
        return AnchorAdapter(head, _anchor_logit_scales(head))
    return HeadAdapter(head)


#: The layout of the project's own YOLOv5 head: for callers holding predictions but no model.
ANCHOR_LAYOUT = HeadAdapter()


def locate(adapter: HeadAdapter, outputs: Sequence[torch.Tensor | None], num_rows: int, num_columns: int,
           rows: Sequence[int]) -> list[Location] | None:
    """(level, anchor, y, x) of each prediction row, from the score convs' outputs of one forward,
    or None when the head is not laid out as the adapter says (rows level by level, each level
    (anchor, y, x) of a 1x1 conv whose channels are anchor-major blocks of :meth:`HeadAdapter.block`)."""
    k = adapter.block(num_columns)
    if not adapter.score_convs or k <= 0:
        return None
    offsets, total = [], 0
    for conv, y in zip(adapter.score_convs, outputs, strict=True):
        if y is None or not isinstance(conv, nn.Conv2d) or y.dim() != 4 or y.shape[1] % k:
            return None
        if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.groups != 1 or conv.padding != (0, 0):
            return None
        offsets.append(total)
        total += (y.shape[1] // k) * y.shape[2] * y.shape[3]
    if total != num_rows:
        return None
    found = []
    for r in rows:
        j = max(i for i, o in enumerate(offsets) if o <= r)
        h, w = outputs[j].shape[2:]
        a, rest = divmod(r - offsets[j], h * w)
        found.append((j, a, rest // w, rest % w))
    return found
